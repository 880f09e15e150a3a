// The SQLite store's schema (applied by live/store_sqlite_open.cc): entry i
// of Migrations() takes a database from PRAGMA user_version i to i + 1. A
// released entry is never edited; a change adds one (docs/store.md lists them).
#pragma once

#include <span>

namespace suanli::store_schema {

std::span<const char* const> Migrations();
inline int Version() { return static_cast<int>(Migrations().size()); }

}  // namespace suanli::store_schema
