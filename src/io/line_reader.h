// Reads text line by line from a plain or gzip-compressed file (zlib detects
// which), or from a memory buffer, keeping the line number for error messages.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace suanli {

class LineReader {
 public:
  static Result<std::unique_ptr<LineReader>> Open(const std::string& path);
  // Reads from memory (for tests, fuzzing and embedded data); `name` is used in messages.
  static std::unique_ptr<LineReader> FromString(std::string data, std::string name);
  virtual ~LineReader() = default;

  // Next line without its '\n' (and without a trailing '\r'). False at end of input.
  virtual bool Next(std::string_view* line) = 0;
  // A read error, if reading stopped because of one (e.g. a truncated gzip).
  virtual Status status() const { return Status::Ok(); }
  size_t line_number() const { return line_; }
  const std::string& name() const { return name_; }
  // "file:line" for messages.
  std::string Where() const;

 protected:
  std::string name_;
  size_t line_ = 0;
};

// Decompresses gzip data (returned as is when it is not gzip): the one
// in-memory gzip reader. More than `max_bytes` unpacked (a gzip bomb) is an
// error, as are corrupt and truncated data.
inline constexpr size_t kMaxGunzipBytes = size_t{512} << 20;
Result<std::string> MaybeGunzip(std::string_view data, const std::string& name, size_t max_bytes = kMaxGunzipBytes);

// Reads a whole plain or gzip file into memory.
Result<std::string> ReadFileMaybeGz(const std::string& path);

}  // namespace suanli
