import { defineConfig } from 'vite';

// The built files (dist/) are compiled into the suanli binary, which serves
// them at "/" and answers every other non-API path with index.html.
export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2020',
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: {
    // `npm run dev` against a running `suanli serve` (SUANLI_API, default port 8080).
    proxy: {
      '/api': process.env.SUANLI_API ?? 'http://127.0.0.1:8080',
      '/metrics': process.env.SUANLI_API ?? 'http://127.0.0.1:8080',
    },
  },
});
