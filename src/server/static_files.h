// The dashboard's files (web/dist, compiled in; see web_files.h) as the server
// serves them at /: content types by extension, index.html for client-side
// routes, and a page that says how to build the dashboard when it was not.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "io/embedded.h"

namespace suanli::server {

struct StaticFile {
  std::string_view data;
  std::string content_type;
  bool immutable = false;  // a content-hashed asset (assets/...): cached for long
};

class StaticFiles {
 public:
  // From the embedded dashboard (EmbeddedWebFiles()).
  StaticFiles();
  // From any table (tests).
  explicit StaticFiles(const std::vector<EmbeddedFileEntry>& files);

  bool built() const { return !files_.empty(); }
  // The file for a request path ("/", "/assets/x.js", "/jobs/17"): the file
  // itself, else index.html (client-side routes), else the "not built" page.
  // Returns nullptr for a path that must not be served (a ".." segment, NUL
  // or backslash): the caller answers 400.
  const StaticFile* Find(std::string_view path) const;

 private:
  std::unordered_map<std::string, StaticFile> files_;
  StaticFile not_built_;
};

// "text/html; charset=utf-8" for "index.html", etc.; application/octet-stream
// for unknown extensions.
std::string ContentTypeFor(std::string_view path);

// True for paths with a ".." segment, a backslash or a NUL.
bool IsTraversal(std::string_view path);

}  // namespace suanli::server
