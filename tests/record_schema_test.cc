// The job spec's table of fields (live/record_schema.h) drives its JSON
// decode and encode, its check, its OpenAPI schema and its store columns:
// each test here fails when one of them stops following the table.
#include "live/record_schema.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "io/model_loader.h"
#include "live/store.h"
#include "live/store_schema.h"
#include "live/store_sqlite_internal.h"
#include "server/json_codec.h"
#include "server/openapi_schema.h"
#include "support/cli.h"

namespace suanli {
namespace {

using live::JobSpec;
using nlohmann::json;
namespace schema = live::schema;

// A spec with every field away from its default.
JobSpec Full() {
  JobSpec s;
  s.name = "n";
  s.command = {"/bin/echo", "hi"};
  s.env = {{"A", "1"}};
  s.workdir = "/tmp";
  s.gpus = 2;
  s.cpu_milli = 2000;
  s.mem_mib = 4096;
  s.models = {"a100"};
  s.stacks = {"cuda"};
  s.workload_class = "training";
  s.time_limit_s = 60;
  s.duration_s = 30;
  s.priority = -5;
  s.center = "east";
  s.checkpoint_s = 600;
  s.grace_s = 30;
  s.stop_signal = "USR2";
  s.deadline = "2026-12-05T06:00:00+08:00";
  s.nodes = 2;
  s.dataset = "imagenet-1k";
  s.replicas = 2;  // (the server refuses a service with a deadline: ValidateSpec)
  s.region = "shanghai";
  s.latency_ms = 10;
  return s;
}

TEST(RecordSchema, JobSpecFieldsAreUniqueAndDescribed) {
  std::set<std::string_view> keys, columns;
  for (const auto& f : schema::JobSpecFields()) {
    EXPECT_TRUE(keys.insert(f.json).second) << f.json;
    EXPECT_TRUE(columns.insert(f.column).second) << f.column;
    EXPECT_FALSE(f.description.empty()) << f.json;
  }
  EXPECT_EQ(keys.size(), 23u);
}

TEST(RecordSchema, EveryJobSpecFieldSurvivesEncodeAndDecode) {
  const JobSpec full = Full();
  json j = server::JobSpecToJson(full);
  for (const auto& f : schema::JobSpecFields()) EXPECT_TRUE(j.contains(std::string(f.json))) << f.json;
  EXPECT_EQ(j.size(), schema::JobSpecFields().size());
  JobSpec back;
  server::ApiError err;
  ASSERT_TRUE(server::JobSpecFromJson(j, &back, &err)) << err.message;
  EXPECT_EQ(back, full);
  // Each field alone away from its default changes the decoded spec.
  JobSpec bare;
  bare.command = full.command;
  for (const auto& f : schema::JobSpecFields()) {
    JobSpec one;
    json k = {{"command", full.command}, {std::string(f.json), j[std::string(f.json)]}};
    if (f.json == "nodes") k["gpus"] = j["gpus"];  // nodes share its accelerators
    ASSERT_TRUE(server::JobSpecFromJson(k, &one, &err)) << f.json << ": " << err.message;
    EXPECT_TRUE(f.json == "command" || !(one == bare)) << f.json;
  }
}

TEST(RecordSchema, EncodeLeavesOutDefaultsOnlyWhereFlagged) {
  JobSpec s;
  s.command = {"true"};
  json j = server::JobSpecToJson(s);
  for (const auto& f : schema::JobSpecFields())
    EXPECT_EQ(j.contains(std::string(f.json)), !f.has(schema::kOmitDefault)) << f.json;
}

// A value just past a field's limit: the table's check, the JSON decode (the
// CLI's and the server's) and ValidateSpec's all refuse it, naming the
// field, with the same words; the OpenAPI schema states the same limit.
TEST(RecordSchema, OneLimitPerFieldForCheckDecodeAndOpenApi) {
  const json props = server::GeneratedSchemas()["JobSpec"]["properties"];
  int checked = 0;
  for (const auto& f : schema::JobSpecFields()) {
    JobSpec s;
    s.command = {"true"};
    json body = {{"command", {"true"}}};
    const std::string key(f.json);
    const json& p = props[key];
    switch (f.type()) {
      case schema::Type::kString:
        EXPECT_EQ(p["maxLength"], f.limits.max) << key;
        s.*std::get<std::string JobSpec::*>(f.member) = std::string(f.limits.max + 1, 'x');
        body[key] = std::string(f.limits.max + 1, 'x');
        break;
      case schema::Type::kStringList:
        EXPECT_EQ(p["maxItems"], f.limits.max) << key;
        EXPECT_EQ(p["items"]["maxLength"], f.limits.item_bytes) << key;
        s.*std::get<std::vector<std::string> JobSpec::*>(f.member) = std::vector<std::string>(f.limits.max + 1, "x");
        body[key] = std::vector<std::string>(f.limits.max + 1, "x");
        break;
      case schema::Type::kStringMap:
        EXPECT_EQ(p["maxProperties"], f.limits.max) << key;
        EXPECT_EQ(p["additionalProperties"]["maxLength"], f.limits.item_bytes) << key;
        for (int64_t i = 0; i <= f.limits.max; ++i) {
          (s.*std::get<std::map<std::string, std::string> JobSpec::*>(f.member))["V" + std::to_string(i)] = "x";
          body[key]["V" + std::to_string(i)] = "x";
        }
        break;
      case schema::Type::kInt64:
      case schema::Type::kUint32:
        EXPECT_EQ(p["minimum"], f.limits.min) << key;
        EXPECT_EQ(p["maximum"], f.limits.max) << key;
        if (f.type() == schema::Type::kInt64) {
          s.*std::get<int64_t JobSpec::*>(f.member) = f.limits.max + 1;
        } else {
          s.*std::get<uint32_t JobSpec::*>(f.member) = static_cast<uint32_t>(f.limits.max + 1);
        }
        body[key] = f.limits.max + 1;
        break;
      case schema::Type::kGpus:
        EXPECT_EQ(p["minimum"], f.limits.min) << key;
        EXPECT_EQ(p["maximum"], f.limits.max) << key;
        s.*std::get<live::Gpus JobSpec::*>(f.member) = static_cast<uint32_t>(f.limits.max + 1);
        body[key] = f.limits.max + 1;
        break;
      default: continue;  // int32 priority: its range is the type's
    }
    ++checked;
    Status table = schema::CheckSpecFields(s);
    ASSERT_FALSE(table.ok()) << key;
    EXPECT_EQ(table.field(), key);
    Status validate = live::ValidateSpec(s, BuiltinCatalog(), nullptr);
    EXPECT_EQ(validate.message(), table.message()) << key;
    JobSpec decoded;
    server::ApiError err;
    ASSERT_FALSE(server::JobSpecFromJson(body, &decoded, &err)) << key;
    EXPECT_EQ(err.field, key);
    EXPECT_EQ(err.message, table.message()) << key;
  }
  EXPECT_EQ(checked, 22);
}

// A gang's nodes share its accelerators evenly: the table's check, the JSON
// decode and ValidateSpec refuse gpus that are not a multiple of nodes.
TEST(RecordSchema, NodesSplitTheGpusEvenly) {
  for (auto [gpus, nodes, ok] : {std::tuple{8u, 2u, true}, std::tuple{16u, 4u, true}, std::tuple{0u, 1u, true},
                                 std::tuple{6u, 4u, false}, std::tuple{1u, 2u, false}, std::tuple{0u, 2u, false}}) {
    JobSpec s;
    s.command = {"true"};
    s.gpus = gpus;
    s.nodes = nodes;
    Status table = schema::CheckSpecFields(s);
    EXPECT_EQ(table.ok(), ok) << gpus << " over " << nodes;
    JobSpec decoded;
    server::ApiError err;
    json body = {{"command", {"true"}}, {"gpus", gpus}, {"nodes", nodes}};
    EXPECT_EQ(server::JobSpecFromJson(body, &decoded, &err), ok) << gpus << " over " << nodes;
    if (ok) continue;
    EXPECT_EQ(table.field(), "nodes");
    EXPECT_EQ(err.field, "nodes");
    EXPECT_EQ(live::ValidateSpec(s, BuiltinCatalog(), nullptr).message(), table.message());
  }
}

// A string field that lists its values takes only those, in the table's
// check, the JSON decode and ValidateSpec alike.
TEST(RecordSchema, AStopSignalIsOneOfTheListed) {
  JobSpec s;
  s.command = {"true"};
  s.stop_signal = "KILL";
  Status table = schema::CheckSpecFields(s);
  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.field(), "stop_signal");
  EXPECT_NE(table.message().find("must be one of USR1, USR2"), std::string::npos) << table.message();
  JobSpec decoded;
  server::ApiError err;
  EXPECT_FALSE(server::JobSpecFromJson(json{{"command", {"true"}}, {"stop_signal", "KILL"}}, &decoded, &err));
  EXPECT_EQ(err.field, "stop_signal");
  for (std::string_view ok : live::kStopSignals) {
    s.stop_signal = std::string(ok);
    EXPECT_TRUE(live::ValidateSpec(s, BuiltinCatalog(), nullptr).ok()) << ok;
  }
}

// A deadline is an RFC 3339 time: any other text is refused, naming the
// field, by the table's check, the JSON decode and ValidateSpec alike.
TEST(RecordSchema, ADeadlineIsAnRfc3339Time) {
  JobSpec s;
  s.command = {"true"};
  for (const char* bad : {"12h", "2026-12-05", "2026-12-05T06:00:00", "tomorrow", "2026-02-30T00:00:00Z"}) {
    s.deadline = bad;
    Status table = schema::CheckSpecFields(s);
    ASSERT_FALSE(table.ok()) << bad;
    EXPECT_EQ(table.field(), "deadline");
    EXPECT_NE(table.message().find("must be an RFC 3339 time"), std::string::npos) << table.message();
    EXPECT_EQ(live::ValidateSpec(s, BuiltinCatalog(), nullptr).message(), table.message());
    JobSpec decoded;
    server::ApiError err;
    EXPECT_FALSE(server::JobSpecFromJson(json{{"command", {"true"}}, {"deadline", bad}}, &decoded, &err)) << bad;
    EXPECT_EQ(err.field, "deadline");
  }
  for (const char* ok : {"2026-12-05T06:00:00+08:00", "2026-12-04T22:00:00Z", "2026-12-04T22:00:00.5Z"}) {
    s.deadline = ok;
    EXPECT_TRUE(live::ValidateSpec(s, BuiltinCatalog(), nullptr).ok()) << ok;
  }
}

// The answers' records: every field of the table in the JSON, and the CLI's
// reading of it gives the record back.
TEST(RecordSchema, TenantAndUsageAnswersFollowTheirTables) {
  live::Tenant t{"alice", "", true, 4, 9, WallMs{123}, 77, "east"};
  json tj = server::TenantToJson(t);
  EXPECT_EQ(tj.size(), schema::TenantFields().size());
  for (const auto& f : schema::TenantFields()) EXPECT_TRUE(tj.contains(std::string(f.json))) << f.json;
  auto tb = server::TenantFromJson(tj);
  ASSERT_TRUE(tb.ok()) << tb.status().message();
  EXPECT_EQ(tb->name, t.name);
  EXPECT_EQ(tb->admin, t.admin);
  EXPECT_EQ(tb->max_gpus_per_job, t.max_gpus_per_job);
  EXPECT_EQ(tb->max_active_jobs, t.max_active_jobs);
  EXPECT_EQ(tb->max_priority, t.max_priority);
  EXPECT_EQ(tb->home, t.home);
  EXPECT_EQ(tb->created_ms, t.created_ms);

  live::UsageSum u{"alice", "east", "a100", 3, 1.5, 2.5, 3.5, 4.5};
  json uj = server::UsageToJson(u);
  EXPECT_EQ(uj.size(), schema::UsageFields().size());
  for (const auto& f : schema::UsageFields()) EXPECT_TRUE(uj.contains(std::string(f.json))) << f.json;
  auto ub = server::UsageFromJson(uj);
  ASSERT_TRUE(ub.ok()) << ub.status().message();
  EXPECT_EQ(ub->tenant, u.tenant);
  EXPECT_EQ(ub->center, u.center);
  EXPECT_EQ(ub->model, u.model);
  EXPECT_EQ(ub->jobs, u.jobs);
  EXPECT_EQ(ub->gpu_seconds, u.gpu_seconds);
  EXPECT_EQ(ub->energy_kwh, u.energy_kwh);
  EXPECT_EQ(ub->cost, u.cost);
  EXPECT_EQ(ub->carbon_kg, u.carbon_kg);
  // JSON has no NaN: a metering that is not a number is shown as 0.
  u.cost = std::nan("");
  EXPECT_EQ(server::UsageToJson(u)["cost"], 0.0);
}

TEST(RecordSchema, AJobsAttemptsFollowTheirTable) {
  live::JobRecord r;
  r.id = 1;
  r.spec.command = {"true"};
  live::JobAttempt a;
  a.n = 2;
  a.center = "east";
  a.node = "n1";
  a.model = "a100";
  a.devices = {0, 3};
  a.start_ms = WallMs{10};
  a.end_ms = WallMs{20};
  a.outcome = "preempted";
  a.reason = "r";
  a.gpu_seconds = 1;
  a.energy_kwh = 2;
  a.cost = std::numeric_limits<double>::infinity();
  a.carbon_kg = 4;
  r.attempts.push_back(a);
  json j = server::JobToJson(r)["attempts"][0];
  EXPECT_EQ(j.size(), schema::AttemptFields().size());
  for (const auto& f : schema::AttemptFields()) EXPECT_TRUE(j.contains(std::string(f.json))) << f.json;
  EXPECT_EQ(j["devices"], json({0, 3}));
  EXPECT_EQ(j["start_ms"], 10);
  EXPECT_EQ(j["cost"], 0);
  EXPECT_EQ(j["outcome"], "preempted");
  const json s = server::GeneratedSchemas()["Attempt"]["properties"]["outcome"];
  EXPECT_EQ(s["enum"].size(), 6u);
}

// A job's JSON: its own table's fields, every field of its spec's (defaults
// included), and the four it adds; the schema lists the same keys.
TEST(RecordSchema, AJobFollowsItsTableAndItsSpecs) {
  live::JobRecord r;
  r.id = 7;
  r.spec.command = {"true"};
  r.spec.center = "east";
  json j = server::JobToJson(r);
  std::set<std::string> keys;
  for (const auto& f : schema::JobFields()) keys.insert(std::string(f.json));
  for (const auto& f : schema::JobSpecFields()) keys.insert(std::string(f.json));
  keys.insert({"state", "center", "requested_center", "attempts", "events"});
  std::set<std::string> got, described;
  for (auto it = j.begin(); it != j.end(); ++it) got.insert(it.key());
  EXPECT_EQ(got, keys);
  const json props = server::GeneratedSchemas()["Job"]["properties"];
  for (auto it = props.begin(); it != props.end(); ++it) described.insert(it.key());
  EXPECT_EQ(described, keys);
  EXPECT_EQ(j["id"], 7);
  EXPECT_EQ(j["state"], "pending");
  EXPECT_EQ(j["center"], "east");  // undecided: the one asked for
  EXPECT_EQ(j["duration_s"], 0);   // a spec default the spec's own JSON leaves out
  r.center = "west";
  EXPECT_EQ(server::JobToJson(r)["center"], "west");
  EXPECT_EQ(server::JobToJson(r)["requested_center"], "east");
  // Each event with every field of its table.
  r.events.push_back({WallMs{5}, "submitted", "submitted by alice"});
  const json ev = server::JobToJson(r)["events"];
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].size(), schema::EventFields().size());
  EXPECT_EQ(ev[0], json({{"time_ms", 5}, {"kind", "submitted"}, {"message", "submitted by alice"}}));
}

// The CLI's reading of a job's JSON gives back every field of its spec.
TEST(RecordSchema, TheClientReadsBackEverySpecFieldOfAJob) {
  live::JobRecord r;
  r.id = 9;
  r.spec = Full();
  r.service = 9;
  auto back = server::JobFromJson(server::JobToJson(r));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->spec, r.spec);
  EXPECT_EQ(back->id, 9);
  EXPECT_EQ(back->service, 9);
}

TEST(RecordSchema, TheCommittedOpenApiDocumentHasTheGeneratedSchemas) {
  std::ifstream in(testing::Source("data/api/openapi.json"));
  auto doc = json::parse(in, nullptr, false);
  ASSERT_TRUE(doc.is_object());
  const json generated = server::GeneratedSchemas();
  for (auto it = generated.begin(); it != generated.end(); ++it) {
    EXPECT_EQ(doc["components"]["schemas"][it.key()], it.value())
        << "data/api/openapi.json's " << it.key()
        << " schema differs from its table (live/record_schema.cc): run scripts/gen-openapi.sh, then "
           "scripts/build-web.sh";
  }
}

TEST(RecordSchema, TheStoreCreatesTheSpecColumnsOfTheTable) {
  // The first version's jobs table holds the spec's first columns as the
  // table writes them; each later one is added by a migration, in order.
  const std::string ddl = store_schema::Migrations()[0];
  const auto fields = schema::JobSpecFields();
  const size_t first = 14;  // name .. spec_center
  ASSERT_GE(fields.size(), first);
  const std::string columns = schema::ColumnsDdl(fields.subspan(0, first));
  EXPECT_NE(ddl.find(columns), std::string::npos) << "the jobs table's spec columns, from the table:\n" << columns;
  std::string later;
  for (const char* m : store_schema::Migrations().subspan(1)) later += m;
  size_t at = 0;
  for (const auto& f : fields.subspan(first)) {
    const std::string line = fmt::format("ALTER TABLE jobs ADD COLUMN {} {};", f.column, f.sql);
    const size_t found = later.find(line, at);
    EXPECT_NE(found, std::string::npos) << "no migration adds, in the table's order: " << line;
    if (found != std::string::npos) at = found;
  }
  // The store reads and binds them from column kFirstSpecColumn on, after
  // the record's own columns.
  std::string names = live::sqlite_detail::kJobOwnColumns;
  for (const auto& f : fields) names += fmt::format(", {}", f.column);
  EXPECT_EQ(live::sqlite_detail::JobColumns(), names);
  size_t own = 1;
  for (char c : std::string_view(live::sqlite_detail::kJobOwnColumns)) own += c == ',';
  EXPECT_EQ(own, static_cast<size_t>(live::sqlite_detail::kFirstSpecColumn));
  EXPECT_EQ(live::sqlite_detail::UpdateJobSql().substr(0, 41), "UPDATE jobs SET tenant = ?2, state = ?3, ");
}

}  // namespace
}  // namespace suanli
