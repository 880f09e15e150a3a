// The store's high-water marks file (live/store_marks.h).
#include "live/store_marks.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <vector>

#include <fmt/format.h>

namespace suanli::live {
namespace {

constexpr std::string_view kMagic = "suanli-marks 1";

// FNV-1a, 64 bits: catches a torn or damaged slot (not an adversary: whoever
// can write the file can write a matching checksum).
uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

std::string Body(const StoreMarks& m) {
  return fmt::format("{} seq={} reserved={} last_id={} commits={} clean={}", kMagic, m.seq, m.reserved_id, m.last_id,
                     m.commits, m.clean ? 1 : 0);
}

// "key=DIGITS" at the front of `s` (then a space or the end); moves past it.
bool Field(std::string_view* s, std::string_view key, int64_t* out, std::string* error) {
  if (s->substr(0, key.size()) != key || s->size() == key.size() || (*s)[key.size()] != '=') {
    *error = fmt::format("expected '{}='", key);
    return false;
  }
  s->remove_prefix(key.size() + 1);
  size_t n = 0;
  while (n < s->size() && (*s)[n] >= '0' && (*s)[n] <= '9') ++n;
  if (n == 0 || n > 19 || ((*s)[0] == '0' && n > 1)) {
    *error = fmt::format("{}: expected a whole number", key);
    return false;
  }
  auto [p, ec] = std::from_chars(s->data(), s->data() + n, *out);
  if (ec != std::errc() || p != s->data() + n) {
    *error = fmt::format("{}: number out of range", key);
    return false;
  }
  s->remove_prefix(n);
  if (!s->empty()) {
    if ((*s)[0] != ' ') {
      *error = fmt::format("{}: expected a space after the number", key);
      return false;
    }
    s->remove_prefix(1);
  }
  return true;
}

Status Errno(const std::string& path, std::string_view what) {
  return IoError("marks file {}: {}: {}", path, what, std::strerror(errno));
}

Status WriteAll(int fd, const std::string& data, off_t offset, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = pwrite(fd, data.data() + done, data.size() - done, offset + static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Errno(path, "writing");
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status SyncDir(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno(path, "opening its folder to sync it");
  int rc = fsync(fd);
  int saved = errno;
  close(fd);
  errno = saved;
  if (rc != 0) return Errno(path, "syncing its folder");
  return Status::Ok();
}

}  // namespace

std::string FormatMarksSlot(const StoreMarks& m) {
  std::string body = Body(m);
  std::string line = fmt::format("{} check={:016x}", body, Fnv1a(body));
  line.resize(kMarksSlotBytes - 1, ' ');
  line.push_back('\n');
  return line;
}

Result<StoreMarks> ParseMarksSlot(std::string_view slot) {
  auto bad = [](std::string_view why) { return ParseError("{}", why); };
  if (slot.size() != kMarksSlotBytes) return bad(fmt::format("{} bytes, expected {}", slot.size(), kMarksSlotBytes));
  if (slot.back() != '\n') return bad("does not end with a newline");
  std::string_view line = slot.substr(0, slot.size() - 1);
  while (!line.empty() && line.back() == ' ') line.remove_suffix(1);
  size_t check_at = line.rfind(" check=");
  if (check_at == std::string_view::npos) return bad("no checksum");
  std::string_view body = line.substr(0, check_at);
  std::string_view hex = line.substr(check_at + 7);
  uint64_t want = 0;
  auto [p, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), want, 16);
  if (hex.size() != 16 || ec != std::errc() || p != hex.data() + hex.size()) return bad("malformed checksum");
  if (Fnv1a(body) != want) return bad("checksum mismatch (a damaged or half-written copy)");
  if (body.substr(0, kMagic.size()) != kMagic || body.size() == kMagic.size() || body[kMagic.size()] != ' ')
    return bad(fmt::format("does not start with '{}'", kMagic));
  std::string_view rest = body.substr(kMagic.size() + 1);
  StoreMarks m;
  int64_t clean = 0;
  std::string error;
  if (!Field(&rest, "seq", &m.seq, &error) || !Field(&rest, "reserved", &m.reserved_id, &error) ||
      !Field(&rest, "last_id", &m.last_id, &error) || !Field(&rest, "commits", &m.commits, &error) ||
      !Field(&rest, "clean", &clean, &error)) {
    return bad(error);
  }
  if (!rest.empty()) return bad("unexpected text after clean=");
  if (clean > 1) return bad("clean: expected 0 or 1");
  m.clean = clean == 1;
  if (m.last_id > m.reserved_id) return bad("last_id is above reserved");
  return m;
}

Result<StoreMarks> ParseMarksFile(std::string_view bytes, const std::string& path) {
  if (bytes.size() != kMarksFileBytes) {
    return ParseError("marks file {}: {} bytes, expected {} (two copies of {})", path, bytes.size(), kMarksFileBytes,
                      kMarksSlotBytes);
  }
  auto a = ParseMarksSlot(bytes.substr(0, kMarksSlotBytes));
  auto b = ParseMarksSlot(bytes.substr(kMarksSlotBytes));
  if (a.ok() && b.ok()) return a->seq >= b->seq ? *a : *b;
  if (a.ok()) return *a;
  if (b.ok()) return *b;
  return ParseError("marks file {}: neither copy is readable (first: {}; second: {})", path, a.status().message(),
                    b.status().message());
}

std::string LostWork(const StoreMarks& m, int64_t db_max_id, int64_t db_commits, const std::string& db_name,
                     const std::string& marks_name, bool wal_present) {
  const bool ids = m.last_id > db_max_id, commits = m.commits > db_commits;
  if (!ids && !commits) return {};
  std::string what;
  if (ids) {
    what = m.last_id == db_max_id + 1
               ? fmt::format("job {} was acknowledged but is missing", m.last_id)
               : fmt::format("jobs {}-{} were acknowledged but are missing", db_max_id + 1, m.last_id);
    if (commits)
      what += fmt::format(", with {} of the commits that recorded them and later changes", m.commits - db_commits);
  } else {
    what = fmt::format("{} acknowledged commits (job state changes, tenants or settings) are missing",
                       m.commits - db_commits);
  }
  std::string cause;
  if (m.clean) {
    cause =
        fmt::format("{} was replaced by an older copy after the last clean stop (a restore from a backup?)", db_name);
  } else if (!wal_present) {
    cause = fmt::format(
        "the write-ahead log {}-wal was deleted after a crash (it is missing), or {} was replaced by an older copy",
        db_name, db_name);
  } else {
    cause = fmt::format(
        "the write-ahead log {}-wal was truncated or damaged after a crash (SQLite ignores it from its first bad "
        "frame on), or {} was replaced by an older copy",
        db_name, db_name);
  }
  return fmt::format(
      "{}: {} holds {} commits and jobs up to id {}, but {} records {} commits and jobs up to id {}; "
      "most likely {}",
      what, db_name, db_commits, db_max_id, marks_name, m.commits, m.last_id, cause);
}

MarksFile::~MarksFile() {
  if (fd_ >= 0) close(fd_);
}

Result<std::optional<StoreMarks>> MarksFile::Read(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<StoreMarks>();
    return Errno(path, "opening");
  }
  std::string bytes;
  char buf[1024];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int saved = errno;
      close(fd);
      errno = saved;
      return Errno(path, "reading");
    }
    if (n == 0) break;
    bytes.append(buf, static_cast<size_t>(n));
    if (bytes.size() > kMarksFileBytes) break;  // too long: reported below
  }
  close(fd);
  SUANLI_ASSIGN_OR_RETURN(StoreMarks m, ParseMarksFile(bytes, path));
  return std::optional<StoreMarks>(m);
}

Status MarksFile::Open(const std::string& path, const StoreMarks& initial) {
  path_ = path;
  fd_ = open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd_ >= 0) {
    SUANLI_ASSIGN_OR_RETURN(auto existing, Read(path));
    if (!existing) return IoError("marks file {}: vanished while opening", path);
    current_ = *existing;
    if (fchmod(fd_, 0600) != 0) return Errno(path, "making it owner-only");
    return Status::Ok();
  }
  if (errno != ENOENT) return Errno(path, "opening");
  // Created whole under a temporary name, then renamed: a crash leaves either
  // no file or a complete one.
  const std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Errno(tmp, "creating");
  StoreMarks m = initial;  // slot i holds the seqs with seq % 2 == i
  m.seq = 0;
  StoreMarks m2 = initial;
  m2.seq = 1;
  Status st = WriteAll(fd, FormatMarksSlot(m) + FormatMarksSlot(m2), 0, tmp);
  if (st.ok() && fsync(fd) != 0) st = Errno(tmp, "syncing");
  close(fd);
  if (st.ok() && rename(tmp.c_str(), path.c_str()) != 0) st = Errno(path, "renaming the new file into place");
  if (st.ok()) st = SyncDir(path);
  if (!st.ok()) {
    unlink(tmp.c_str());
    return st;
  }
  fd_ = open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd_ < 0) return Errno(path, "opening");
  current_ = m2;
  return Status::Ok();
}

Status MarksFile::Write(StoreMarks m, bool sync) {
  if (fd_ < 0) return IoError("marks file {}: not open", path_);
  m.seq = current_.seq + 1;
  const off_t offset = static_cast<off_t>((m.seq % 2) * kMarksSlotBytes);
  SUANLI_RETURN_IF_ERROR(WriteAll(fd_, FormatMarksSlot(m), offset, path_));
  current_ = m;
  return sync ? Sync() : Status::Ok();
}

Status MarksFile::Sync() {
  if (fd_ < 0) return IoError("marks file {}: not open", path_);
  if (fdatasync(fd_) != 0) return Errno(path_, "syncing");
  return Status::Ok();
}

}  // namespace suanli::live
