// Opening live stores and changing their databases behind their back, for
// the store's tests.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <memory>
#include <string>

#include "live/store.h"

namespace suanli::testing {

inline std::unique_ptr<live::Store> OpenOrDie(const std::string& path, live::StoreOptions opt = {}) {
  auto s = live::Store::Open(path, opt);
  EXPECT_TRUE(s.ok()) << s.status().message();
  return s.ok() ? std::move(*s) : nullptr;
}

// No fsync per commit: for tests that do not kill the process.
inline live::StoreOptions Fast() {
  live::StoreOptions o;
  o.synchronous_full = false;
  return o;
}

// Runs SQL on the database file directly.
inline void RawExec(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

}  // namespace suanli::testing
