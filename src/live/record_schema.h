// The API's records described once: a table of fields per record, each with
// its JSON name, its member of the C++ struct, its type and limits, a
// one-line description, flags and its column in the store. Generic code
// reads and writes the struct through the member pointers: the check of a
// record's fields (CheckFields; ValidateSpec adds what needs the catalog),
// the JSON codec (server/json_codec*.cc), the OpenAPI document's schemas
// (server/openapi_schema.cc, written to data/api/openapi.json by
// scripts/gen-openapi.sh) and the store's jobs columns of a spec (their DDL
// in store_schema.cc is held to the table by a test; store_sqlite_read.cc and
// store_sqlite_write.cc read and bind them through it). A default is the
// default-constructed struct's value.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/status.h"
#include "live/live_job.h"

namespace suanli::live {
struct UsageSum;
}

namespace suanli::live::schema {

enum Flag : uint32_t {
  kRequired = 1u << 0,     // JSON: must be given
  kOneLine = 1u << 1,      // strings: no control characters (C0 and DEL)
  kOmitDefault = 1u << 2,  // JSON encode: left out when equal to the default
  kNonEmpty = 1u << 3,     // lists: at least one item, and the first one not empty
};

template <class R>
using Member =
    std::variant<std::string R::*, std::vector<std::string> R::*, std::map<std::string, std::string> R::*, int64_t R::*,
                 int32_t R::*, uint32_t R::*, bool R::*, double R::*, WallMs R::*, std::vector<int> R::*, Gpus R::*>;

// Which alternative of Member a field is (the same order).
enum class Type : uint8_t {
  kString,
  kStringList,
  kStringMap,
  kInt64,
  kInt32,
  kUint32,
  kBool,
  kDouble,
  kWallMs,
  kIntList,
  kGpus  // a number in thousandths (live_job.h); limits: whole devices
};

struct Limits {
  int64_t min = 0;  // integers: the least value
  // Integers: the greatest value; strings: bytes; lists: items; maps:
  // entries. Both 0 in an answer's field: not stated.
  int64_t max = 0;
  size_t item_bytes = 0;     // lists: bytes of one item; maps: bytes of one value
  size_t total_bytes = 0;    // lists and maps: bytes in all, keys and values (0: no limit)
  std::string_view range{};  // integers: the words before the range in errors ("must be")
  std::string_view unit{};   // integers: the words after it (" seconds")
};

template <class R>
struct Field {
  std::string_view json{};  // the JSON key
  Member<R> member{};
  Limits limits{};
  uint32_t flags = 0;
  std::string_view description{};               // one line, for the OpenAPI document
  std::string_view column{};                    // the store's column ("" = not stored)
  std::string_view sql{};                       // the column's type and default ("TEXT NOT NULL DEFAULT ''")
  bool (*key_ok)(std::string_view) = nullptr;   // maps: a valid key
  std::string_view key_rule{};                  // maps: what a valid key is, for errors
  std::span<const std::string_view> choices{};  // strings: the values an answer may hold (OpenAPI enum)

  Type type() const { return static_cast<Type>(member.index()); }
  bool has(Flag f) const { return (flags & f) != 0; }
};

// The job spec's fields (a job spec as submitted: the body of POST /jobs and
// `suanli submit`'s job file).
std::span<const Field<JobSpec>> JobSpecFields();
// The answers' records (record_schema_records.cc): a tenant as the API shows
// it (not its token's hash), one row of usage, and one ended run of a job.
std::span<const Field<Tenant>> TenantFields();
std::span<const Field<UsageSum>> UsageFields();
std::span<const Field<JobAttempt>> AttemptFields();
// One event of a job's history.
std::span<const Field<JobEvent>> EventFields();
// A job's own fields as the API shows them; its JSON adds its spec's fields
// (each one, defaults included), its state, where it runs (center), the
// center it asked for (requested_center) and its attempts.
std::span<const Field<JobRecord>> JobFields();

// The one check of an integer against its field's range, and of a whole
// record's fields against their limits (lengths, counts, ranges, NUL and
// control characters, map keys). Errors name the field (Status::field()).
Status CheckInt(std::string_view json, const Limits& l, int64_t v);
Status CheckString(std::string_view json, const Limits& l, uint32_t flags, const std::string& s);
// A string field that lists its values (Field::choices) holds one of them.
Status CheckChoice(std::string_view json, std::span<const std::string_view> choices, const std::string& s);
Status CheckStringList(std::string_view json, const Limits& l, uint32_t flags, const std::vector<std::string>& v);
Status CheckStringMap(std::string_view json, const Limits& l, bool (*key_ok)(std::string_view),
                      std::string_view key_rule, const std::map<std::string, std::string>& m);
// Whole devices in the limits' range, or a share of one device (0.001 ..
// 0.999).
Status CheckGpus(std::string_view json, const Limits& l, Gpus g);

template <class R>
Status CheckField(const Field<R>& f, const R& r) {
  return std::visit(
      [&](auto m) -> Status {
        using T = std::remove_cvref_t<decltype(r.*m)>;
        if constexpr (std::is_same_v<T, std::string>) {
          SUANLI_RETURN_IF_ERROR(CheckString(f.json, f.limits, f.flags, r.*m));
          return CheckChoice(f.json, f.choices, r.*m);
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          return CheckStringList(f.json, f.limits, f.flags, r.*m);
        } else if constexpr (std::is_same_v<T, std::map<std::string, std::string>>) {
          return CheckStringMap(f.json, f.limits, f.key_ok, f.key_rule, r.*m);
        } else if constexpr (std::is_same_v<T, Gpus>) {
          return CheckGpus(f.json, f.limits, r.*m);
        } else if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, double> || std::is_same_v<T, WallMs> ||
                             std::is_same_v<T, std::vector<int>>) {
          return Status::Ok();  // a response's value: no limits
        } else {
          return CheckInt(f.json, f.limits, static_cast<int64_t>(r.*m));
        }
      },
      f.member);
}

template <class R>
Status CheckFields(std::span<const Field<R>> fields, const R& r) {
  for (const auto& f : fields) SUANLI_RETURN_IF_ERROR(CheckField(f, r));
  return Status::Ok();
}

// A spec's checks that need nothing but the spec: its fields (CheckFields)
// and a workdir that is an absolute path. ValidateSpec runs it first; the
// JSON decode of a spec runs it too.
Status CheckSpecFields(const JobSpec& spec);

// The store's columns of a table's fields, one line each, as in the jobs
// table's DDL ("  name           TEXT    NOT NULL DEFAULT '',").
template <class R>
std::string ColumnsDdl(std::span<const Field<R>> fields);
std::string ColumnLine(std::string_view column, std::string_view sql);

template <class R>
std::string ColumnsDdl(std::span<const Field<R>> fields) {
  std::string out;
  for (const auto& f : fields)
    if (!f.column.empty()) out += ColumnLine(f.column, f.sql);
  return out;
}

}  // namespace suanli::live::schema
