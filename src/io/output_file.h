// A file written as a stream: plain, or gzip when its name ends in ".gz".
// The one writer of (possibly) compressed text: generated and exported
// workloads.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "base/status.h"

namespace suanli {

// Open(path, level): gzip level 1 (fastest) .. 9 (smallest). Write appends;
// Close (also run by the destructor, which drops its error) flushes.
class OutputFile {
 public:
  static Result<OutputFile> Open(const std::string& path, int gz_level = 6) {
    OutputFile s;
    s.path_ = path;
    s.gz_ = path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
    if (s.gz_) {
      s.gzf_ = gzopen(path.c_str(), fmt::format("wb{}", std::clamp(gz_level, 1, 9)).c_str());
      if (!s.gzf_) return IoError("cannot create '{}': {}", path, std::strerror(errno));
      gzbuffer(s.gzf_, 1 << 20);
    } else {
      s.f_ = std::fopen(path.c_str(), "wb");
      if (!s.f_) return IoError("cannot create '{}': {}", path, std::strerror(errno));
    }
    return s;
  }
  OutputFile(OutputFile&& o) noexcept { *this = std::move(o); }
  OutputFile& operator=(OutputFile&& o) noexcept {
    std::swap(path_, o.path_);
    std::swap(gz_, o.gz_);
    std::swap(f_, o.f_);
    std::swap(gzf_, o.gzf_);
    return *this;
  }
  ~OutputFile() { (void)Close(); }
  Status Write(std::string_view s) {
    bool ok = gz_ ? gzwrite(gzf_, s.data(), static_cast<unsigned>(s.size())) == static_cast<int>(s.size())
                  : std::fwrite(s.data(), 1, s.size(), f_) == s.size();
    if (!ok) return IoError("writing '{}' failed: {}", path_, std::strerror(errno));
    return Status::Ok();
  }
  Status Close() {
    bool ok = true;
    if (gzf_) ok = gzclose(gzf_) == Z_OK;
    if (f_) ok = std::fclose(f_) == 0;
    gzf_ = nullptr;
    f_ = nullptr;
    if (!ok) return IoError("writing '{}' failed", path_);
    return Status::Ok();
  }

 private:
  OutputFile() = default;
  std::string path_;
  bool gz_ = false;
  FILE* f_ = nullptr;
  gzFile gzf_ = nullptr;
};

}  // namespace suanli
