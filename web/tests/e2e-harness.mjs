// The shared harness of the dashboard's end-to-end test (e2e.mjs): its
// options, the reporting (ok/fail/assert), the server (start, stop, apiCall),
// the browser's start, the cleanup that undoes it all, and the helpers that
// wait on the page and take screenshots. The checks are in e2e-views.mjs and
// e2e-jobs.mjs.

import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '..', '..');

// --- options ---------------------------------------------------------------

const argv = process.argv.slice(2);
function flag(name) {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}
export const binary = flag('--binary') ?? process.env.SUANLI_BINARY;
export const chromiumPath = process.env.SUANLI_CHROMIUM || '/usr/bin/chromium';
export const outDir = path.resolve(flag('--out') ?? process.env.SUANLI_E2E_OUT ?? 'dashboard-e2e');
export const writeDocs = argv.includes('--docs') || process.env.SUANLI_E2E_DOCS === '1';
export const totalTimeoutMs = Number(process.env.SUANLI_E2E_TIMEOUT_S || 270) * 1000;
export const headed = process.env.SUANLI_E2E_HEADED === '1';
export const network = process.env.SUANLI_E2E_NETWORK ?? '';

// Generous: under AddressSanitizer the server is several times slower, and
// the test shares the machine with the rest of the suite.
export const T = {
  health: 120_000,
  ui: 30_000,
  jobDone: 150_000,
  refresh: 20_000,
};

// --- reporting -------------------------------------------------------------

export let checks = 0;
export function ok(what) {
  checks++;
  console.log(`ok ${checks} - ${what}`);
}
export class CheckFailed extends Error {}
export function fail(what) {
  throw new CheckFailed(what);
}
export function assert(cond, what) {
  if (!cond) fail(what);
}

// --- state that cleanup undoes ----------------------------------------------

export let server = null; // ChildProcess
export let serverExit = null; // {code, signal} once it exited
export let serverLogPath = '';
let browser = null;
let tmpRoot = ''; // the server's data directory and config, removed at the end
let dataDir = '';
export let base = '';
export let token = '';
let cleanedUp = false;

export async function cleanup() {
  if (cleanedUp) return;
  cleanedUp = true;
  if (browser) {
    await Promise.race([browser.close().catch(() => {}), sleep(10_000)]);
    browser = null;
  }
  if (server && !serverExit && base && token) {
    // Jobs run by the local backend outlive the server: end ours first.
    try {
      const active = await apiCall('GET', '/api/v1/jobs?state=pending,running&limit=1000', undefined, 5_000);
      for (const j of active.body?.jobs ?? []) await apiCall('POST', `/api/v1/jobs/${j.id}/cancel`, undefined, 5_000).catch(() => {});
      // A running job's cancel is carried out by a later pass: wait for it,
      // or its processes outlive the server.
      const until = Date.now() + 15_000;
      while (Date.now() < until) {
        const left = await apiCall('GET', '/api/v1/jobs?state=running&limit=1', undefined, 5_000);
        if (!(left.body?.jobs?.length > 0)) break;
        await sleep(200);
      }
    } catch {
      // the server may be gone already
    }
  }
  if (server && !serverExit) {
    server.kill('SIGTERM');
    const exited = await Promise.race([serverExited(), sleep(30_000).then(() => false)]);
    if (!exited) {
      console.log('# the server did not stop within 30 s of SIGTERM: killing it');
      server.kill('SIGKILL');
      await Promise.race([serverExited(), sleep(5_000)]);
    }
  }
  if (tmpRoot) {
    fs.rmSync(tmpRoot, { recursive: true, force: true, maxRetries: 3 });
    tmpRoot = '';
  }
}

let exitWaiters = [];
function serverExited() {
  if (serverExit) return Promise.resolve(true);
  return new Promise((resolve) => exitWaiters.push(() => resolve(true)));
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// --- server ----------------------------------------------------------------

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export async function apiCall(method, p, body, timeoutMs = 10_000) {
  const headers = { Authorization: `Bearer ${token}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(base + p, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let parsed = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body: parsed, text };
}

export function serverLogTail(lines = 40) {
  try {
    const all = fs.readFileSync(serverLogPath, 'utf8').trimEnd().split('\n');
    return all.slice(-lines).join('\n');
  } catch {
    return '(no server log)';
  }
}

export async function startServer() {
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const log = fs.openSync(serverLogPath, 'a');
    serverExit = null;
    exitWaiters = [];
    const args = ['serve', '--listen', `127.0.0.1:${port}`, '--data', dataDir];
    if (network) args.push('--config', path.join(tmpRoot, 'server.yaml'));
    server = spawn(binary, args, {
      env: { ...process.env, SUANLI_ADMIN_TOKEN: token },
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    server.on('exit', (code, signal) => {
      serverExit = { code, signal };
      for (const w of exitWaiters) w();
      exitWaiters = [];
    });
    server.on('error', (e) => {
      serverExit = { code: null, signal: null, error: e.message };
      for (const w of exitWaiters) w();
      exitWaiters = [];
    });
    const deadline = Date.now() + T.health;
    while (Date.now() < deadline) {
      if (serverExit) break;
      try {
        const res = await fetch(`${base}/api/v1/health`, { signal: AbortSignal.timeout(2_000) });
        if (res.ok) {
          const h = await res.json();
          assert(h.ok === true, `/api/v1/health answered ${JSON.stringify(h)}`);
          ok(`server started on ${base} (version ${h.version ?? '?'}) and answers /api/v1/health`);
          return;
        }
      } catch (e) {
        if (e instanceof CheckFailed) throw e;
      }
      await sleep(250);
    }
    if (serverExit) {
      const tail = serverLogTail();
      // Someone took the port between the probe and the bind: try another.
      if (/address already in use|bind/i.test(tail) && attempt < 3) {
        console.log(`# port ${port} was taken, trying another`);
        continue;
      }
      fail(`the server exited (${JSON.stringify(serverExit)}) before answering /api/v1/health; its log:\n${tail}`);
    }
    fail(`the server did not answer /api/v1/health within ${T.health / 1000} s; its log:\n${serverLogTail()}`);
  }
}

// --- setting up --------------------------------------------------------------

// Checks the prerequisites, makes the output and data directories and the
// admin token; returns Playwright's chromium.
export async function prepare() {
  assert(binary, 'SUANLI_BINARY (or --binary) must name the suanli binary');
  assert(fs.existsSync(binary), `SUANLI_BINARY=${binary} does not exist`);
  assert(fs.existsSync(chromiumPath), `Chromium is not at ${chromiumPath} (scripts/install-deps.sh installs it; SUANLI_CHROMIUM names another)`);
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (e) {
    fail(`playwright-core is not installed in web/node_modules (run scripts/build-web.sh): ${e.message}`);
  }

  fs.mkdirSync(outDir, { recursive: true });
  tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'suanli-e2e-'));
  dataDir = path.join(tmpRoot, 'data');
  if (network) {
    // The network's centers are simulated; `local` runs processes here.
    fs.writeFileSync(path.join(tmpRoot, 'server.yaml'), `network: ${JSON.stringify(network)}\ncenters:\n  - name: local\n    backend: local\n`);
  }
  serverLogPath = path.join(outDir, 'server.log');
  fs.writeFileSync(serverLogPath, '');
  token = `e2e-${crypto.randomBytes(18).toString('hex')}`;
  console.log(`# binary ${binary}\n# output ${outDir}`);
  return chromium;
}

// Starts Chromium (closed by cleanup) with one page; the page's uncaught
// errors are collected in pageErrors.
export async function launchBrowser(chromium) {
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: !headed,
    timeout: 60_000,
    args: [
      ...(headed ? [] : ['--headless']),
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 820 }, colorScheme: 'light', locale: 'en-US' });
  const page = await context.newPage();
  page.setDefaultTimeout(T.ui);
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('dialog', (d) => void d.accept());
  ok(`Chromium ${browser.version()} started`);
  return { page, pageErrors };
}

// --- browser helpers ---------------------------------------------------------

export const tid = (id) => `[data-testid="${id}"]`;

// Waits until `locator`'s text satisfies `pred`; fails with what it saw.
export async function waitText(locator, pred, what, timeout = T.ui) {
  const deadline = Date.now() + timeout;
  let seen = '(nothing)';
  while (Date.now() < deadline) {
    try {
      if ((await locator.count()) > 0) {
        seen = (await locator.first().textContent({ timeout: 2_000 })) ?? '';
        if (pred(seen)) return seen;
      }
    } catch {
      // detached while re-rendering: look again
    }
    await sleep(200);
  }
  fail(`${what}: waited ${timeout / 1000} s, last saw ${JSON.stringify(seen.slice(0, 500))}`);
}

export async function visible(page, selector, what, timeout = T.ui) {
  try {
    await page.locator(selector).first().waitFor({ state: 'visible', timeout });
  } catch {
    const banner = await page.locator(tid('error-banner')).textContent().catch(() => '');
    fail(`${what}: ${selector} did not appear within ${timeout / 1000} s${banner ? `; the dashboard shows: ${banner}` : ''}`);
  }
}

export async function shot(page, name) {
  const file = path.join(outDir, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

export async function goTo(page, nav, view) {
  await page.locator(tid(`nav-${nav}`)).click();
  await visible(page, tid(`view-${view}`), `the ${view} view`);
}

export const jobRow = (id) => `${tid('job-row')}[data-job-id="${id}"]`;
export const datasetRow = (name) => `${tid('dataset-row')}[data-tenant="admin"][data-name="${name}"]`;
export const serviceRow = (id) => `${tid('service-row')}[data-service="${id}"]`;

// Waits until `selector` is in the page (attached, visible or not: options).
export async function attached(page, selector, what, timeout = T.ui) {
  try {
    await page.locator(selector).first().waitFor({ state: 'attached', timeout });
  } catch {
    fail(`${what}: ${selector} did not appear within ${timeout / 1000} s`);
  }
}

export async function gone(page, selector, what, timeout = T.refresh) {
  try {
    await page.locator(selector).first().waitFor({ state: 'detached', timeout });
  } catch {
    const banner = await page.locator(tid('error-banner')).textContent().catch(() => '');
    fail(`${what}: ${selector} is still there after ${timeout / 1000} s${banner ? `; the dashboard shows: ${banner}` : ''}`);
  }
}
