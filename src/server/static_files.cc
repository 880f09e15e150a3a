#include "server/static_files.h"

#include "server/web_files.h"

namespace suanli::server {
namespace {

constexpr std::string_view kNotBuilt = R"(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Suanli</title>
<style>body{font-family:sans-serif;max-width:40em;margin:4em auto;line-height:1.5}code,pre{background:#f3f3f3;padding:.1em .3em}</style>
</head><body>
<h1>Suanli</h1>
<p>The server is running, but this build has no web dashboard: it was built
before the dashboard's files (<code>web/dist</code>) existed.</p>
<p>Build the dashboard, then the server again:</p>
<pre>bash scripts/build-web.sh     # npm ci and npm run build in web/
bash scripts/build.sh         # or both at once: the dashboard, then the server</pre>
<p>The API answers meanwhile: <a href="/api/v1/health">/api/v1/health</a>,
<a href="/api/v1/openapi.json">/api/v1/openapi.json</a>, <a href="/metrics">/metrics</a>.</p>
</body></html>
)";

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

std::string ContentTypeFor(std::string_view path) {
  size_t dot = path.rfind('.');
  size_t slash = path.rfind('/');
  if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash)) {
    return "application/octet-stream";
  }
  std::string_view ext = path.substr(dot + 1);
  struct Type {
    std::string_view ext, type;
  };
  static constexpr Type kTypes[] = {
      {"html", "text/html; charset=utf-8"},
      {"htm", "text/html; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"},
      {"mjs", "text/javascript; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},
      {"json", "application/json"},
      {"map", "application/json"},
      {"svg", "image/svg+xml"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"webp", "image/webp"},
      {"ico", "image/x-icon"},
      {"woff", "font/woff"},
      {"woff2", "font/woff2"},
      {"ttf", "font/ttf"},
      {"txt", "text/plain; charset=utf-8"},
      {"webmanifest", "application/manifest+json"},
      {"wasm", "application/wasm"},
  };
  for (const auto& t : kTypes) {
    if (t.ext == ext) return std::string(t.type);
  }
  return "application/octet-stream";
}

bool IsTraversal(std::string_view path) {
  if (path.find('\0') != std::string_view::npos || path.find('\\') != std::string_view::npos) return true;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    std::string_view seg = path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (seg == "..") return true;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return false;
}

StaticFiles::StaticFiles() : StaticFiles(EmbeddedWebFiles()) {}

StaticFiles::StaticFiles(const std::vector<EmbeddedFileEntry>& files) {
  for (const auto& f : files) {
    StaticFile s;
    s.data = f.data;
    s.content_type = ContentTypeFor(f.path);
    s.immutable = f.path.substr(0, 7) == "assets/";
    files_.emplace(std::string(f.path), s);
  }
  not_built_.data = kNotBuilt;
  not_built_.content_type = "text/html; charset=utf-8";
}

const StaticFile* StaticFiles::Find(std::string_view path) const {
  if (IsTraversal(path)) return nullptr;
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (files_.empty()) return &not_built_;
  if (!path.empty()) {
    auto it = files_.find(std::string(path));
    if (it != files_.end()) return &it->second;
    if (EndsWith(path, "/")) {
      it = files_.find(std::string(path) + "index.html");
      if (it != files_.end()) return &it->second;
    }
  }
  auto index = files_.find("index.html");
  if (index != files_.end()) return &index->second;
  return &not_built_;
}

}  // namespace suanli::server
