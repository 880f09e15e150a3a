// The store's high-water marks, kept in a small file beside the database
// (`suanli.marks` beside `suanli.db`) and never inside it, so that they
// survive what the database may lose: a deleted, truncated or corrupt
// write-ahead log after a crash, or a restore from an older backup.
//
//   * reserved_id: every job id ever handed out is <= this. The writer
//     reserves ids in blocks (one fsync per block, not per insert) and new
//     ids always start above max(reserved_id, the database's own ids), so
//     no id is ever given twice.
//   * last_id, commits: the highest job id committed and the database's
//     commit counter after the last commit, written (and fsync'd) after each
//     commit and before its writes are acknowledged. A database that holds
//     less than this lost acknowledged work; the store refuses to open it
//     unless told to accept the loss.
//
// The file holds two copies (slots) of 256 bytes, written in turn with one
// pwrite + fdatasync each: a write cut short damages only the slot being
// written, and the reader takes the valid slot with the higher sequence
// number. Each slot is one line of text with a checksum, e.g.
//   suanli-marks 1 seq=7 reserved=2000 last_id=1530 commits=912 clean=0 check=9f0c...
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace suanli::live {

struct StoreMarks {
  int64_t seq = 0;          // write counter: the newer of the two slots
  int64_t reserved_id = 0;  // every id handed out is <= this
  int64_t last_id = 0;      // highest job id committed
  int64_t commits = 0;      // the database's commit counter after the last commit
  bool clean = false;       // written by a clean close

  bool operator==(const StoreMarks&) const = default;
};

constexpr size_t kMarksSlotBytes = 256;
constexpr size_t kMarksFileBytes = 2 * kMarksSlotBytes;

// One slot: exactly kMarksSlotBytes bytes (the line padded with spaces, then
// '\n'). Values must be >= 0.
std::string FormatMarksSlot(const StoreMarks& m);
// Parses one slot (exactly as FormatMarksSlot writes it; anything else, a
// bad checksum included, is an error saying what is wrong).
Result<StoreMarks> ParseMarksSlot(std::string_view slot);
// The whole file: the valid slot with the higher seq; an error naming `path`
// when neither slot is valid or the size is wrong.
Result<StoreMarks> ParseMarksFile(std::string_view bytes, const std::string& path);

// What a database holding jobs up to `db_max_id` and `db_commits` commits
// lacks of what `marks` say was committed, as a sentence naming the missing
// job ids and commits and the likeliest cause (`wal_present`: whether the
// write-ahead log was there before the database was opened); empty when
// nothing is missing.
std::string LostWork(const StoreMarks& marks, int64_t db_max_id, int64_t db_commits, const std::string& db_name,
                     const std::string& marks_name, bool wal_present);

// The file on disk. Not thread-safe (the store's writer thread owns it).
class MarksFile {
 public:
  MarksFile() = default;
  MarksFile(const MarksFile&) = delete;
  MarksFile& operator=(const MarksFile&) = delete;
  ~MarksFile();

  // Reads the file; nullopt when it does not exist. Creates nothing.
  static Result<std::optional<StoreMarks>> Read(const std::string& path);

  // Opens the file for writing, creating it (mode 0600, written in full and
  // fsync'd, its folder fsync'd) with `initial` in both slots when missing.
  Status Open(const std::string& path, const StoreMarks& initial);
  // Writes `m` with seq = last seq + 1 into the older slot, then fdatasync
  // unless `sync` is false (the write is then in the page cache, which a
  // killed process does not lose; Sync() makes it durable on power cut).
  Status Write(StoreMarks m, bool sync = true);
  // fdatasync. Safe to call from another thread than Write's.
  Status Sync();
  const StoreMarks& current() const { return current_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
  StoreMarks current_;
};

}  // namespace suanli::live
