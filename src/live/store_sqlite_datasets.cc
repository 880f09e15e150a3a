// The store's registry of datasets (store.h): the datasets table, written by
// the group-committing writer like every other change, read on the pool's
// connections.
#include <sqlite3.h>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "live/store_sqlite_internal.h"

namespace suanli::live::sqlite_detail {

namespace {

constexpr const char* kDatasetColumns = "tenant, name, center, size_bytes, created_ms, copies";

std::string CopiesJson(const std::vector<Dataset::Copy>& copies) {
  json a = json::array();
  for (const Dataset::Copy& c : copies) a.push_back(json{{"center", c.center}, {"staged_ms", c.staged_ms.ms()}});
  return a.dump();
}

Dataset DatasetRow(sqlite3_stmt* s) {
  Dataset d;
  d.tenant = ColText(s, 0);
  d.name = ColText(s, 1);
  d.center = ColText(s, 2);
  d.size_bytes = sqlite3_column_int64(s, 3);
  d.created_ms = WallMs(sqlite3_column_int64(s, 4));
  // Written by CopiesJson alone; a row that does not parse keeps no copies
  // (they are remade by the next staging).
  json a = json::parse(ColText(s, 5), nullptr, false);
  if (a.is_array())
    for (const json& c : a)
      if (c.is_object() && c.value("center", json()).is_string() && c.value("staged_ms", json()).is_number_integer())
        d.copies.push_back({c["center"].get<std::string>(), WallMs(c["staged_ms"].get<int64_t>())});
  return d;
}

}  // namespace

Status SqliteStore::PutDataset(const Dataset& d) {
  if (d.tenant.empty() || d.name.empty())
    return InvalidArgument("store {}: PutDataset: a dataset needs a tenant and a name", path_);
  WriteOp op;
  op.kind = WriteOp::kPutDataset;
  op.dataset = &d;
  return Submit(&op);
}

Result<bool> SqliteStore::DeleteDataset(const std::string& tenant, const std::string& name) {
  Dataset key;
  key.tenant = tenant;
  key.name = name;
  WriteOp op;
  op.kind = WriteOp::kDeleteDataset;
  op.dataset = &key;
  SUANLI_RETURN_IF_ERROR(Submit(&op));
  return op.id != 0;
}

Status SqliteStore::WriteDataset(WriteOp* op) {
  sqlite3* db = writer_->db;
  const Dataset& d = *op->dataset;
  if (op->kind == WriteOp::kDeleteDataset) {
    SUANLI_ASSIGN_OR_RETURN(sqlite3_stmt * s,
                            Prepare(*writer_, "DELETE FROM datasets WHERE tenant = ?1 AND name = ?2"));
    StmtReset reset(s);
    BindText(s, 1, d.tenant);
    BindText(s, 2, d.name);
    int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE)
      return SqlError(path_, db, rc, fmt::format("deleting dataset '{}' of '{}'", d.name, d.tenant));
    op->id = sqlite3_changes(db);
    return Status::Ok();
  }
  SUANLI_ASSIGN_OR_RETURN(
      sqlite3_stmt * s,
      Prepare(*writer_,
              fmt::format("INSERT OR REPLACE INTO datasets ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", kDatasetColumns)));
  StmtReset reset(s);
  BindText(s, 1, d.tenant);
  BindText(s, 2, d.name);
  BindText(s, 3, d.center);
  sqlite3_bind_int64(s, 4, d.size_bytes);
  sqlite3_bind_int64(s, 5, d.created_ms.ms());
  BindText(s, 6, CopiesJson(d.copies));
  int rc = sqlite3_step(s);
  if (rc != SQLITE_DONE) return SqlError(path_, db, rc, fmt::format("storing dataset '{}' of '{}'", d.name, d.tenant));
  return Status::Ok();
}

Result<std::optional<Dataset>> SqliteStore::GetDataset(const std::string& tenant, const std::string& name) {
  auto lease = Lease();
  if (!lease.ok()) return lease.status();
  Reader r(this, std::move(*lease));
  SUANLI_ASSIGN_OR_RETURN(
      sqlite3_stmt * s,
      Prepare(*r.conn, fmt::format("SELECT {} FROM datasets WHERE tenant = ?1 AND name = ?2", kDatasetColumns)));
  StmtReset reset(s);
  BindText(s, 1, tenant);
  BindText(s, 2, name);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) return std::optional<Dataset>();
  if (rc != SQLITE_ROW) return SqlError(path_, r.conn->db, rc, fmt::format("reading dataset '{}'", name));
  return std::optional<Dataset>(DatasetRow(s));
}

Result<std::vector<Dataset>> SqliteStore::ListDatasets(const std::string& tenant) {
  auto lease = Lease();
  if (!lease.ok()) return lease.status();
  Reader r(this, std::move(*lease));
  SUANLI_ASSIGN_OR_RETURN(
      sqlite3_stmt * s,
      Prepare(*r.conn, fmt::format("SELECT {} FROM datasets WHERE ?1 = '' OR tenant = ?1 ORDER BY tenant, name",
                                   kDatasetColumns)));
  StmtReset reset(s);
  BindText(s, 1, tenant);
  std::vector<Dataset> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) out.push_back(DatasetRow(s));
  if (rc != SQLITE_DONE) return SqlError(path_, r.conn->db, rc, "listing datasets");
  return out;
}

}  // namespace suanli::live::sqlite_detail
