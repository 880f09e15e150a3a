#include "io/line_reader.h"

#include <zlib.h>

#include <cstring>
#include <vector>

namespace suanli {
namespace {

class GzLineReader : public LineReader {
 public:
  GzLineReader(gzFile f, std::string name) : f_(f) {
    name_ = std::move(name);
    buf_.resize(1 << 16);
    gzbuffer(f_, 1 << 17);
  }
  ~GzLineReader() override { gzclose(f_); }

  bool Next(std::string_view* line) override {
    line_buf_.clear();
    while (true) {
      if (pos_ == end_) {
        if (eof_) break;
        int n = gzread(f_, buf_.data(), static_cast<unsigned>(buf_.size()));
        if (n < 0) {
          int err = 0;
          const char* msg = gzerror(f_, &err);
          status_ = IoError("{}: read error after line {}: {}", name_, line_, msg ? msg : "?");
          eof_ = true;
          break;
        }
        if (n == 0) {
          eof_ = true;
          // zlib reports a truncated stream (Z_BUF_ERROR) only after it has
          // set end-of-file, so check the error whatever gzeof says.
          int err = 0;
          const char* msg = gzerror(f_, &err);
          if (err != Z_OK && err != Z_STREAM_END)
            status_ =
                IoError("{}: read error after line {}: {} (truncated or corrupt gzip?)", name_, line_, msg ? msg : "?");
          break;
        }
        pos_ = 0;
        end_ = static_cast<size_t>(n);
      }
      const char* start = buf_.data() + pos_;
      const void* nl = std::memchr(start, '\n', end_ - pos_);
      if (nl) {
        size_t len = static_cast<const char*>(nl) - start;
        line_buf_.append(start, len);
        pos_ += len + 1;
        return Emit(line);
      }
      line_buf_.append(start, end_ - pos_);
      pos_ = end_;
    }
    if (line_buf_.empty()) return false;
    return Emit(line);
  }
  Status status() const override { return status_; }

 private:
  bool Emit(std::string_view* line) {
    ++line_;
    if (!line_buf_.empty() && line_buf_.back() == '\r') line_buf_.pop_back();
    *line = line_buf_;
    return true;
  }
  gzFile f_;
  std::vector<char> buf_;
  size_t pos_ = 0, end_ = 0;
  bool eof_ = false;
  std::string line_buf_;
  Status status_;
};

class StringLineReader : public LineReader {
 public:
  StringLineReader(std::string data, std::string name) : data_(std::move(data)) { name_ = std::move(name); }
  bool Next(std::string_view* line) override {
    if (pos_ >= data_.size()) return false;
    size_t nl = data_.find('\n', pos_);
    size_t end = nl == std::string::npos ? data_.size() : nl;
    std::string_view l(data_.data() + pos_, end - pos_);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    pos_ = end + 1;
    ++line_;
    *line = l;
    return true;
  }

 private:
  std::string data_;
  size_t pos_ = 0;
};

}  // namespace

std::string LineReader::Where() const { return name_ + ":" + std::to_string(line_); }

Result<std::unique_ptr<LineReader>> LineReader::Open(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) return IoError("cannot open '{}': {}", path, std::strerror(errno));
  return std::unique_ptr<LineReader>(new GzLineReader(f, path));
}

std::unique_ptr<LineReader> LineReader::FromString(std::string data, std::string name) {
  return std::make_unique<StringLineReader>(std::move(data), std::move(name));
}

Result<std::string> MaybeGunzip(std::string_view data, const std::string& name, size_t max_bytes) {
  if (data.size() < 2 || static_cast<unsigned char>(data[0]) != 0x1f || static_cast<unsigned char>(data[1]) != 0x8b)
    return std::string(data);
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return IoError("{}: cannot start gzip decoder", name);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  std::string out;
  std::vector<char> buf(1 << 16);
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(buf.data());
    zs.avail_out = static_cast<uInt>(buf.size());
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      return IoError("{}: corrupt gzip data", name);
    }
    out.append(buf.data(), buf.size() - zs.avail_out);
    if (out.size() > max_bytes) {
      inflateEnd(&zs);
      return IoError("{}: more than {} MiB when unpacked", name, max_bytes >> 20);
    }
    if (rc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) {
      inflateEnd(&zs);
      return IoError("{}: truncated gzip data", name);
    }
  }
  inflateEnd(&zs);
  return out;
}

Result<std::string> ReadFileMaybeGz(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) return IoError("cannot open '{}': {}", path, std::strerror(errno));
  std::string out;
  std::vector<char> buf(1 << 16);
  while (true) {
    int n = gzread(f, buf.data(), static_cast<unsigned>(buf.size()));
    if (n < 0) {
      int err = 0;
      std::string msg = gzerror(f, &err);
      gzclose(f);
      return IoError("{}: read error: {}", path, msg);
    }
    if (n == 0) {
      int err = 0;
      std::string msg = gzerror(f, &err);
      if (err != Z_OK && err != Z_STREAM_END) {
        gzclose(f);
        return IoError("{}: read error: {} (truncated or corrupt gzip?)", path, msg);
      }
      break;
    }
    out.append(buf.data(), static_cast<size_t>(n));
  }
  gzclose(f);
  return out;
}

}  // namespace suanli
