// Store::Open (live/store.h) on SQLite: makes the database file and its WAL
// owner-only, creates or migrates the schema (live/store_schema.h), then
// starts the store (live/store_sqlite_internal.h).
#include <sqlite3.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "live/store_schema.h"
#include "live/store_sqlite_internal.h"

namespace suanli::live {
namespace sqlite_detail {
namespace {

// Creates or migrates the schema on a fresh writer connection.
Status PrepareDatabase(const std::string& path) {
  sqlite3* db = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  struct Closer {
    sqlite3* db;
    ~Closer() { sqlite3_close_v2(db); }
  } closer{db};
  if (rc != SQLITE_OK) return SqlError(path, db, rc, "cannot open the database");
  sqlite3_busy_timeout(db, kBusyTimeoutMs);

  // The first read of the file: "file is not a database" shows here.
  sqlite3_stmt* s = nullptr;
  rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &s, nullptr);
  std::string mode;
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) mode = ColText(s, 0);
    sqlite3_finalize(s);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE) rc = SQLITE_OK;
  }
  if (rc != SQLITE_OK) return SqlError(path, db, rc, "cannot use the file as a database");
  if (mode != "wal") {
    return IoError("store {}: cannot switch to write-ahead logging (journal mode is '{}')", path, mode);
  }

  SUANLI_RETURN_IF_ERROR(Exec(path, db, "BEGIN IMMEDIATE", "locking the database to check its schema"));
  auto rollback = [&](Status st) {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return st;
  };
  int version = -1;
  rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, nullptr);
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) version = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    if (rc == SQLITE_ROW) rc = SQLITE_OK;
  }
  if (rc != SQLITE_OK) return rollback(SqlError(path, db, rc, "reading the schema version"));
  if (version > store_schema::Version()) {
    return rollback(IoError("store {}: schema version {} is newer than this program supports ({}); use a newer suanli",
                            path, version, store_schema::Version()));
  }
  if (version == 0) {
    // A fresh store must be empty: refuse another program's database.
    rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_schema", -1, &s, nullptr);
    int64_t objects = 0;
    if (rc == SQLITE_OK) {
      rc = sqlite3_step(s);
      if (rc == SQLITE_ROW) objects = sqlite3_column_int64(s, 0);
      sqlite3_finalize(s);
      if (rc == SQLITE_ROW) rc = SQLITE_OK;
    }
    if (rc != SQLITE_OK) return rollback(SqlError(path, db, rc, "reading the schema"));
    if (objects > 0) {
      return rollback(
          IoError("store {}: the database has {} tables or indexes but no suanli schema version; "
                  "it belongs to another program",
                  path, objects));
    }
  }
  for (int v = version; v < store_schema::Version(); ++v) {
    Status st = Exec(path, db, store_schema::Migrations()[static_cast<size_t>(v)],
                     fmt::format("migrating the schema from version {} to {}", v, v + 1));
    if (!st.ok()) return rollback(st);
    st = Exec(path, db, fmt::format("PRAGMA user_version = {}", v + 1).c_str(), "setting the schema version");
    if (!st.ok()) return rollback(st);
  }
  return Exec(path, db, "COMMIT", "committing the schema");
}

}  // namespace
}  // namespace sqlite_detail

using sqlite_detail::PrepareDatabase;
using sqlite_detail::SqliteStore;

Result<std::unique_ptr<Store>> Store::Open(const std::string& path, const StoreOptions& options) {
  if (path.empty()) return InvalidArgument("store: the database path is empty");
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      return IoError("store {}: cannot create the directory {}: {}", path, parent.string(), ec.message());
    }
  }
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return IoError("store {}: is a directory, not a database file", path);

  // Owner-only: the database and its -wal and -shm files (SQLite creates
  // those with the database file's mode).
  {
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return IoError("store {}: cannot open the database file: {}", path, std::strerror(errno));
    struct stat db_st {};
    int rc = fstat(fd, &db_st);
    if (rc == 0 && (db_st.st_mode & 077) != 0) rc = fchmod(fd, 0600);
    int saved = errno;
    close(fd);
    if (rc != 0) return IoError("store {}: cannot make the file owner-only: {}", path, std::strerror(saved));
    for (const char* suffix : {"-wal", "-shm"}) {
      std::string f = path + suffix;
      struct stat st {};
      if (lstat(f.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077) != 0 && chmod(f.c_str(), 0600) != 0) {
        return IoError("store {}: cannot make {} owner-only: {}", path, f, std::strerror(errno));
      }
    }
  }
  const bool wal_present = std::filesystem::exists(path + "-wal", ec);
  SUANLI_RETURN_IF_ERROR(PrepareDatabase(path));
  auto store = std::make_unique<SqliteStore>(path, options);
  SUANLI_RETURN_IF_ERROR(store->Init(wal_present));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace suanli::live
