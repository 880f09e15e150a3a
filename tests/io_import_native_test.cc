// Native workload format: reader, writer, round trips; and the format registry.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <sstream>

#include "io/model_loader.h"
#include "io/native_format.h"
#include "io/trace.h"

namespace suanli {
namespace {

using ::testing::HasSubstr;

std::string TracePath(const std::string& rel) { return std::string(SUANLI_SOURCE_DIR) + "/data/traces/" + rel; }

Result<Workload> ParseNativeText(std::string text, const ImportOptions& opts = {}, ImportReport* report = nullptr) {
  auto reader = LineReader::FromString(std::move(text), "w.csv");
  Workload w;
  ImportReport local;
  Status st = FindTraceFormat("native")->parse(*reader, BuiltinCatalog(), opts, &w, report ? report : &local);
  if (!st.ok()) return st;
  return w;
}

// Same jobs: every field, names, tenant/user names and resolved overrides.
void ExpectSameJobs(const Workload& a, const Workload& b) {
  ASSERT_EQ(a.jobs.size(), b.jobs.size());
  for (size_t i = 0; i < a.jobs.size(); ++i) {
    const Job& x = a.jobs.vec()[i];
    const Job& y = b.jobs.vec()[i];
    SCOPED_TRACE(::testing::Message() << "job " << i << " " << a.JobName(static_cast<JobId>(i)));
    EXPECT_EQ(x.id, y.id);
    EXPECT_EQ(a.JobName(x.id), b.JobName(y.id));
    EXPECT_EQ(a.tenants.Name(x.tenant), b.tenants.Name(y.tenant));
    EXPECT_EQ(a.users.Name(x.user), b.users.Name(y.user));
    EXPECT_EQ(x.submit, y.submit);
    EXPECT_EQ(x.num_gpus, y.num_gpus);
    EXPECT_EQ(x.gpu_milli, y.gpu_milli);
    EXPECT_EQ(x.cpu_milli, y.cpu_milli);
    EXPECT_EQ(x.mem_mib, y.mem_mib);
    EXPECT_EQ(x.models, y.models);
    EXPECT_EQ(x.stacks, y.stacks);
    EXPECT_EQ(x.cls, y.cls);
    EXPECT_EQ(x.work, y.work);  // exact: doubles are written in shortest round-trip form
    EXPECT_EQ(x.estimate, y.estimate);
    EXPECT_EQ(x.priority, y.priority);
    EXPECT_EQ(x.speed_override, y.speed_override);
    if (x.speed_override != kNoOverride && y.speed_override != kNoOverride) {
      EXPECT_EQ(a.overrides[x.speed_override].seconds, b.overrides[y.speed_override].seconds);
    }
    // Network fields: places by name, the rest exactly.
    auto place = [](const Workload& w, uint16_t p) { return p == kNoPlace ? std::string("<none>") : w.places.Name(p); };
    EXPECT_EQ(place(a, x.home), place(b, y.home));
    EXPECT_EQ(place(a, x.data_at), place(b, y.data_at));
    EXPECT_EQ(place(a, x.region), place(b, y.region));
    EXPECT_EQ(x.data_gb, y.data_gb);
    EXPECT_EQ(x.latency_ms, y.latency_ms);
    EXPECT_EQ(x.service, y.service);
    EXPECT_EQ(x.deadline, y.deadline);
    EXPECT_EQ(x.checkpoint, y.checkpoint);
  }
}

Workload RoundTrip(const Workload& w) {
  std::string text = NativeWorkloadString(w, BuiltinCatalog());
  auto back = ParseNativeText(text);
  EXPECT_TRUE(back.ok()) << back.status().message();
  return back.ok() ? std::move(back).value() : Workload{};
}

TEST(NativeImport, RoundTripGavelWithOverrides) {
  ImportOptions opts;
  opts.skip_invalid = true;
  auto w = ImportWorkload(TracePath("gavel-philly-vc/msr/seed=0/0e4a51.trace.gz"), "", BuiltinCatalog(), opts, nullptr);
  ASSERT_TRUE(w.ok()) << w.status().message();
  ASSERT_GT(w->overrides.size(), 900u);
  Workload back = RoundTrip(*w);
  ExpectSameJobs(*w, back);
  EXPECT_EQ(back.overrides.size(), w->overrides.size());
}

TEST(NativeImport, RoundTripOpenbSharesAndMasks) {
  auto w = ImportWorkload(TracePath("alibaba-gpu-v2023-openb/csv/openb_pod_list_gpuspec33.csv.gz"), "",
                          BuiltinCatalog(), {}, nullptr);
  ASSERT_TRUE(w.ok()) << w.status().message();
  ExpectSameJobs(*w, RoundTrip(*w));
}

TEST(NativeImport, RoundTripEveryFieldThroughFilesAndStreams) {
  const auto& cat = BuiltinCatalog();
  Workload w;
  w.name = "handmade";
  auto add = [&](std::string name, const std::string& tenant, const std::string& user) -> Job& {
    Job j;
    j.id = static_cast<JobId>(w.jobs.size());
    j.tenant = w.tenants.Intern(tenant);
    j.user = w.users.Intern(user);
    w.jobs.push_back(j);
    w.names.push_back(std::move(name));
    return w.jobs.back();
  };
  Job& a = add("plain", "t1", "u1");
  a.submit = 1;  // one microsecond
  a.num_gpus = 1;
  a.gpu_milli = 250;
  a.cpu_milli = 1500;
  a.mem_mib = 2048;
  a.models = (ModelMask{1} << *cat.Find("T4")) | (ModelMask{1} << *cat.Find("A10"));
  a.cls = WorkloadClass::kRl;
  a.work = 0.1 + 0.2;  // not exactly representable in decimal
  a.estimate = 1e-7;
  a.priority = -3;
  Job& b = add("needs, \"quotes\"", "tenant with, comma", " spaced ");
  b.submit = Seconds(3) + 123456;
  b.num_gpus = 64;
  b.cls = WorkloadClass::kScience;
  b.work = 1e9 / 3;
  b.priority = 7;
  if (!cat.stacks().empty()) b.stacks = 1;
  Job& c = add("#not-a-comment", "t1", "u1");
  c.submit = Seconds(5);
  c.num_gpus = 0;
  c.cpu_milli = 4000;
  c.work = 12;
  Job& d = add("with-override", "t2", "u2");
  d.submit = Seconds(6);
  d.num_gpus = 2;
  d.cls = WorkloadClass::kTransformer;
  d.work = 100;
  d.speed_override = 0;
  w.overrides.push_back({{{*cat.Find("V100"), 250.5}, {*cat.Find("K80"), 1000.25}}});

  ExpectSameJobs(w, RoundTrip(w));

  std::ostringstream os;
  ASSERT_TRUE(WriteNativeWorkload(w, cat, os).ok());
  EXPECT_EQ(os.str(), NativeWorkloadString(w, cat));
  EXPECT_EQ(os.str().rfind("# suanli workload v1\nid,tenant,user,submit_s,", 0), 0u);

  for (std::string ext : {".csv", ".csv.gz"}) {
    std::string path = ::testing::TempDir() + "/native_" + std::to_string(::getpid()) + ext;
    ASSERT_TRUE(WriteNativeWorkload(w, cat, path).ok());
    ImportReport report;
    auto back = ImportWorkload(path, "", cat, {}, &report);  // guessed from the first line
    ASSERT_TRUE(back.ok()) << back.status().message();
    ExpectSameJobs(w, *back);
    EXPECT_EQ(report.imported, 4u);
    std::remove(path.c_str());
  }
  EXPECT_FALSE(WriteNativeWorkload(w, cat, "/nonexistent-dir/x.csv").ok());
}

// Every network column: places, fractional sizes, a service, a deadline, a
// checkpoint interval; jobs without them keep the defaults.
TEST(NativeImport, RoundTripNetworkColumns) {
  const auto& cat = BuiltinCatalog();
  Workload w;
  w.name = "network";
  auto add = [&](std::string name) -> Job& {
    Job j;
    j.tenant = w.tenants.Intern("t");
    j.user = w.users.Intern("u");
    j.num_gpus = 1;
    j.work = 100;
    return w.jobs[w.Add(j, std::move(name))];
  };
  const uint16_t wuhan = static_cast<uint16_t>(w.places.Intern("wuhan"));
  const uint16_t yaan = static_cast<uint16_t>(w.places.Intern("yaan"));
  const uint16_t east = static_cast<uint16_t>(w.places.Intern("east"));
  const uint16_t odd = static_cast<uint16_t>(w.places.Intern("odd, \"quoted\" place"));
  Job& a = add("train");
  a.submit = Seconds(10) + 1;
  a.home = wuhan;
  a.data_at = yaan;
  a.data_gb = 0.1f + 0.2f;  // not exactly representable in decimal
  a.deadline = Seconds(10) + 1 + 6 * kHour + 7;
  a.checkpoint = 90 * kMinute + 250;
  Job& b = add("svc");
  b.submit = Seconds(11);
  b.home = wuhan;
  b.region = east;
  b.latency_ms = 37.25f;
  b.service = true;
  b.data_gb = 12345.6f;
  Job& c = add("plain");  // no network field
  c.submit = Seconds(12);
  Job& d = add("edge");
  d.submit = Seconds(13);
  d.home = odd;
  d.deadline = Seconds(13);  // a deadline equal to the submit time is allowed
  d.data_gb = 3e9f;

  const std::string text = NativeWorkloadString(w, cat);
  EXPECT_EQ(text.rfind(std::string("# suanli workload v1\n") + NativeHeaderLine(true) + "\n", 0), 0u);
  EXPECT_NE(text.find("\nplain,t,u,12,1,1000,0,0,,,other,100,0,0,,,,,,,,,\n"), std::string::npos) << text;
  Workload back = RoundTrip(w);
  ExpectSameJobs(w, back);
  EXPECT_FALSE(back.jobs[JobId{2}].Deferrable());
  EXPECT_EQ(back.jobs[JobId{2}].home, kNoPlace);
  EXPECT_TRUE(back.jobs[JobId{3}].Deferrable());

  // Without any network field the writer keeps the old 15 columns, byte for byte;
  // asked for, it writes the network columns empty, and both read back the same.
  Workload old = w;
  for (Job& j : old.jobs) {
    j.home = j.data_at = j.region = kNoPlace;
    j.data_gb = j.latency_ms = 0;
    j.service = false;
    j.deadline = kNever;
    j.checkpoint = 0;
  }
  const std::string base = NativeWorkloadString(old, cat);
  EXPECT_EQ(base.rfind(std::string("# suanli workload v1\n") + std::string(kNativeHeader) + "\n", 0), 0u);
  EXPECT_EQ(base, NativeWorkloadString(old, cat, NativeColumns::kBase));
  const std::string wide = NativeWorkloadString(old, cat, NativeColumns::kNetwork);
  EXPECT_NE(base, wide);
  auto from_wide = ParseNativeText(wide);
  ASSERT_TRUE(from_wide.ok()) << from_wide.status().message();
  ExpectSameJobs(old, *from_wide);
  ExpectSameJobs(old, RoundTrip(old));

  // Through a gzip file too.
  std::string path = ::testing::TempDir() + "/native_net_" + std::to_string(::getpid()) + ".csv.gz";
  ASSERT_TRUE(WriteNativeWorkload(w, cat, path).ok());
  auto from_file = ImportWorkload(path, "", cat, {}, nullptr);
  ASSERT_TRUE(from_file.ok()) << from_file.status().message();
  ExpectSameJobs(w, *from_file);
  std::remove(path.c_str());
}

// The network columns may come in any order, and a file may have only some.
TEST(NativeImport, SomeNetworkColumnsInAnyOrder) {
  auto w = ParseNativeText(
      "id,tenant,user,submit_s,gpus,gpu_milli,cpu_milli,mem_mib,models,stacks,class,work_s,"
      "estimate_s,priority,durations,service,region,latency_ms\n"
      "s1,inf,u,5,1,,,,,,,86400,,,,1,north,30\n"
      "j2,lab,u,6,8,,,,,,,60,,,,0,,\n");
  ASSERT_TRUE(w.ok()) << w.status().message();
  ASSERT_EQ(w->jobs.size(), 2u);
  EXPECT_TRUE(w->jobs[JobId{0}].service);
  EXPECT_EQ(w->places.Name(w->jobs[JobId{0}].region), "north");
  EXPECT_EQ(w->jobs[JobId{0}].latency_ms, 30.0f);
  EXPECT_EQ(w->jobs[JobId{0}].home, kNoPlace);
  EXPECT_EQ(w->jobs[JobId{0}].deadline, kNever);
  EXPECT_FALSE(w->jobs[JobId{1}].service);
  EXPECT_EQ(w->jobs[JobId{1}].region, kNoPlace);
  EXPECT_EQ(w->places.size(), 1u);
}

TEST(NativeImport, MalformedNetworkFields) {
  const std::string header = std::string(kNativeHeader) + "," + std::string(kNativeNetworkColumns) + "\n";
  const std::string ok = "ok,t,u,10,1,,0,0,,,,1,,,,wuhan,yaan,5,east,30,1,20,60\n";
  struct Case {
    std::string row, message;
  };
  const Case cases[] = {
      {"j,t,u,10,1,,0,0,,,,1,,,,wuhan,wuhan,-5,,,,,",
       "w.csv:3: field 'data_gb' (column 18): expected a number >= 0, got '-5'"},
      {"j,t,u,10,1,,0,0,,,,1,,,,wuhan,wuhan,lots,,,,,",
       "w.csv:3: field 'data_gb' (column 18): expected a number >= 0, got 'lots'"},
      {"j,t,u,10,1,,0,0,,,,1,,,,,,,east,-1,1,,",
       "w.csv:3: field 'latency_ms' (column 20): expected a number >= 0, got '-1'"},
      {"j,t,u,10,1,,0,0,,,,1,,,,,,,east,20,2,,",
       "w.csv:3: field 'service' (column 21): expected an integer between 0 and 1, got '2'"},
      {"j,t,u,10,1,,0,0,,,,1,,,,,,,,,,9.5,",
       "w.csv:3: field 'deadline_s' (column 22): expected seconds >= submit_s (10), up to 6 "
       "decimals, got '9.5'"},
      {"j,t,u,10,1,,0,0,,,,1,,,,,,,,,,soon,",
       "w.csv:3: field 'deadline_s' (column 22): expected seconds >= submit_s (10), up to 6 "
       "decimals, got 'soon'"},
      {"j,t,u,10,1,,0,0,,,,1,,,,,,,,,,,-60",
       "w.csv:3: field 'checkpoint_s' (column 23): expected seconds >= 0 (up to 6 decimals), got "
       "'-60'"},
      {"j,t,u,10,1,,0,0,,,,1,,,,,,,,,,", "w.csv:3: expected 23 fields, got 22"},
  };
  for (const auto& c : cases) {
    auto w = ParseNativeText(header + ok + c.row + "\n");
    ASSERT_FALSE(w.ok()) << c.row;
    EXPECT_EQ(w.status().message(), c.message);
  }
  // A skipped row leaves no place name behind.
  ImportOptions skip;
  skip.skip_invalid = true;
  ImportReport report;
  auto w = ParseNativeText(header + "bad,t,u,10,1,,0,0,,,,1,,,,nowhere,,-1,,,,,\n" + ok, skip, &report);
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(report.skipped, 1u);
  ASSERT_EQ(w->jobs.size(), 1u);
  EXPECT_FALSE(w->places.Find("nowhere").has_value());
  EXPECT_EQ(w->places.Name(w->jobs[JobId{0}].data_at), "yaan");
  EXPECT_EQ(w->jobs[JobId{0}].deadline, Seconds(20));
  EXPECT_EQ(w->jobs[JobId{0}].checkpoint, Seconds(60));
}

// A gang's nodes: the ninth network column, written only when a job has it,
// read back; refused when it does not divide whole devices.
TEST(NativeImport, GangNodesColumn) {
  const std::string header = std::string(kNativeHeader) + "," + std::string(kNativeNetworkColumns) + ",nodes\n";
  auto w = ParseNativeText(header + "g,t,u,0,16,,0,0,,,,1,,,,,,,,,,,,2\ns,t,u,1,1,,0,0,,,,1,,,,,,,,,,,,\n");
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(w->jobs[JobId{0}].nodes, 2);
  EXPECT_EQ(w->jobs[JobId{1}].nodes, 0);
  const std::string text = NativeWorkloadString(*w, BuiltinCatalog());
  EXPECT_NE(text.find(NativeHeaderLine(true, true) + "\ng,t,u,0,16,1000,0,0,,,other,1,0,0,,,,,,,,,,2\n"),
            std::string::npos)
      << text;
  w->jobs[JobId{0}].nodes = 0;  // no gang: no column, as before it existed
  EXPECT_EQ(NativeWorkloadString(*w, BuiltinCatalog()).find("nodes"), std::string::npos);
  for (const char* bad : {"16,,0,0,,,,1,,,,,,,,,,,,3", "1,250,0,0,,,,1,,,,,,,,,,,,2", "1,,0,0,,,,1,,,,,,,,,,,,2",
                          "8,,0,0,,,,1,,,,,,,,,,,,0"}) {
    auto b = ParseNativeText(header + "j,t,u,0," + bad + "\n");
    ASSERT_FALSE(b.ok()) << bad;
    EXPECT_NE(b.status().message().find("field 'nodes' (column 24)"), std::string::npos) << b.status().message();
  }
}

const char kHeader[] =
    "id,tenant,user,submit_s,gpus,gpu_milli,cpu_milli,mem_mib,models,stacks,class,work_s,estimate_"
    "s,priority,"
    "durations\n";

TEST(NativeImport, HandWrittenFile) {
  auto w = ParseNativeText(std::string("# suanli workload v1\n# a comment\n") + kHeader +
                           "j1,,,0.5,1,,,,,,,10,,,\n"
                           "j2,research,alice,2,4,1000,32000,65536,V100M16|V100M32,,cnn,3600,7200,2,"
                           "V100M16=4000;V100M32=3900\n");
  ASSERT_TRUE(w.ok()) << w.status().message();
  ASSERT_EQ(w->jobs.size(), 2u);
  EXPECT_EQ(w->jobs[JobId{0}].submit, 500000);
  EXPECT_EQ(w->jobs[JobId{0}].gpu_milli, kWholeDevice);
  EXPECT_EQ(w->tenants.Name(w->jobs[JobId{0}].tenant), "default");
  EXPECT_EQ(w->jobs[JobId{0}].cls, WorkloadClass::kOther);
  const Job& j2 = w->jobs[JobId{1}];
  EXPECT_EQ(w->users.Name(j2.user), "alice");
  EXPECT_EQ(j2.estimate, 7200);
  EXPECT_EQ(j2.priority, 2);
  ASSERT_NE(j2.speed_override, kNoOverride);
  EXPECT_EQ(w->overrides[j2.speed_override].seconds.size(), 2u);
  EXPECT_NEAR(ToSeconds(RunTime(j2, j2.work, *BuiltinCatalog().Find("V100M32"), BuiltinCatalog(), *w)), 3900, 1e-6);
}

TEST(NativeImport, MalformedRows) {
  struct Case {
    std::string row, message;
  };
  const Case cases[] = {
      {"j,t,u,0,2,500,0,0,,,,1,,,",
       "w.csv:3: field 'gpu_milli' (column 6): expected 1000 when gpus > 1 (only a single-GPU job "
       "may ask for a share), got '500'"},
      {"j,t,u,0,1,0,0,0,,,,1,,,",
       "w.csv:3: field 'gpu_milli' (column 6): expected an integer between 1 and 1000, got '0'"},
      {"j,t,u,0,1,1001,0,0,,,,1,,,",
       "w.csv:3: field 'gpu_milli' (column 6): expected an integer between 1 and 1000, got '1001'"},
      {"j,t,u,0,1,,0,0,,,,-1,,,", "w.csv:3: field 'work_s' (column 12): expected a number >= 0, got '-1'"},
      {"j,t,u,-1,1,,0,0,,,,1,,,",
       "w.csv:3: field 'submit_s' (column 4): expected seconds >= 0 (up to 6 decimals), got '-1'"},
      {"j,t,u,0,1,,0,0,Z80,,,1,,,", "w.csv:3: field 'models' (column 9): unknown GPU type 'Z80'"},
      {"j,t,u,0,1,,0,0,,nostack,,1,,,", "w.csv:3: field 'stacks' (column 10): unknown software stack 'nostack'"},
      {"j,t,u,0,1,,0,0,,,vision,1,,,",
       "w.csv:3: field 'class' (column 11): expected one of cnn, transformer, rl, science, other, "
       "got 'vision'"},
      {"j,t,u,0,1,,0,0,,,,1,,,V100=", "w.csv:3: field 'durations' (column 15): expected seconds >= 0 in 'V100='"},
      {"j,t,u,0,1,,0,0,,,,1,,,V100=5;V100=6", "w.csv:3: field 'durations' (column 15): model listed twice in 'V100=6'"},
      {"j,t,u,0,1,,0,0,,,,1,,,Z80=5", "w.csv:3: field 'durations' (column 15): unknown GPU type in 'Z80=5'"},
      {"j,t,u,0,1,,0,0,,,,1", "w.csv:3: expected 15 fields, got 12"},
      {"j,\"t,u,0", "w.csv:3: unterminated quote"},
  };
  for (const auto& c : cases) {
    auto w = ParseNativeText(std::string(kHeader) + "ok,t,u,0,1,,0,0,,,,1,,,\n" + c.row + "\n");
    ASSERT_FALSE(w.ok()) << c.row;
    EXPECT_EQ(w.status().message(), c.message);
  }
  auto no_header = ParseNativeText("# suanli workload v1\n");
  ASSERT_FALSE(no_header.ok());
  EXPECT_THAT(no_header.status().message(), HasSubstr("empty input"));
  auto wrong_header = ParseNativeText("id,tenant\n");
  ASSERT_FALSE(wrong_header.ok());
  EXPECT_THAT(wrong_header.status().message(), HasSubstr("w.csv:1: header: missing column 'user'"));
  ImportOptions skip;
  skip.skip_invalid = true;
  ImportReport report;
  auto w = ParseNativeText(std::string(kHeader) + "a,t,u,0,1,0,0,0,,,,1,,,\nb,t,u,0,1,,0,0,,,,1,,,\n", skip, &report);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(report.skipped, 1u);
  EXPECT_EQ(w->jobs.size(), 1u);
}

// ---------------------------------------------------------------------------
// Registry and guessing

TEST(TraceRegistry, NamesAndDescriptions) {
  std::vector<std::string> names;
  for (const auto& f : TraceFormats()) {
    names.push_back(f.name);
    EXPECT_FALSE(f.description.empty()) << f.name;
    EXPECT_NE(f.parse, nullptr);
    EXPECT_EQ(FindTraceFormat(f.name), &f);
  }
  EXPECT_THAT(names, ::testing::ElementsAre("native", "openb", "gavel", "tiresias", "synergy", "swf", "pai", "helios",
                                            "acme", "philly", "dlrm"));
  std::vector<std::string> clusters;
  for (const auto& f : ClusterFormats()) {
    clusters.push_back(f.name);
    EXPECT_FALSE(f.description.empty());
    EXPECT_EQ(FindClusterFormat(f.name), &f);
  }
  EXPECT_THAT(clusters, ::testing::ElementsAre("openb-nodes", "tiresias-cluster", "pai-machines", "philly-machines",
                                               "spot-nodes"));
  EXPECT_EQ(FindTraceFormat("nope"), nullptr);
  EXPECT_EQ(FindClusterFormat("nope"), nullptr);
}

TEST(TraceRegistry, GuessesBundledFiles) {
  const std::pair<const char*, const char*> traces[] = {
      {"alibaba-gpu-v2023-openb/csv/openb_pod_list_default.csv.gz", "openb"},
      {"alibaba-gpu-v2023-openb/csv/openb_pod_list_multigpu20.csv.gz", "openb"},
      {"gavel-philly-vc/msr/seed=0/0e4a51.trace.gz", "gavel"},
      {"gavel-philly-vc/physical_cluster/small_test.trace.gz", "gavel"},
      {"tiresias/60_job.csv.gz", "tiresias"},
      {"tiresias/tf_job.csv.gz", "tiresias"},
      {"synergy/test_trace.csv.gz", "synergy"},
      {"synergy/static_100job_6_3_1100.0.csv.gz", "synergy"},
      {"pwa-nasa-ipsc-1993/NASA-iPSC-1993-3.1-cln.swf.gz", "swf"},
      {"alibaba-gpu-v2025-dlrm/disaggregated_DLRM_trace.csv.gz", "dlrm"},
      {"samples/helios-cluster_log-sample.csv", "helios"},
      {"samples/acme-trace_seren-sample.csv", "acme"},
      {"samples/acme-trace_kalos-sample.csv", "acme"},
  };
  for (const auto& [path, format] : traces) EXPECT_EQ(GuessTraceFormat(TracePath(path)), format) << path;
  const std::pair<const char*, const char*> clusters[] = {
      {"alibaba-gpu-v2023-openb/csv/openb_node_list_all_node.csv.gz", "openb-nodes"},
      {"tiresias/n32g4.csv.gz", "tiresias-cluster"},
      {"alibaba-pai-gpu-v2020/pai_machine_spec.csv.gz", "pai-machines"},
      {"philly/cluster_machine_list.csv.gz", "philly-machines"},
      {"philly/revised_machine_list.csv.gz", "philly-machines"},
      {"alibaba-spot-gpu-v2026/node_info_df.csv.gz", "spot-nodes"},
  };
  for (const auto& [path, format] : clusters) EXPECT_EQ(GuessClusterFormat(TracePath(path)), format) << path;
  EXPECT_EQ(GuessTraceFormat(TracePath("README.md")), "");
}

TEST(TraceRegistry, ImportErrors) {
  auto unknown = ImportWorkload(TracePath("README.md"), "", BuiltinCatalog(), {}, nullptr);
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.status().message(), HasSubstr("cannot tell the trace format"));
  auto bad_name = ImportWorkload(TracePath("tiresias/60_job.csv.gz"), "csv", BuiltinCatalog(), {}, nullptr);
  ASSERT_FALSE(bad_name.ok());
  EXPECT_THAT(bad_name.status().message(), HasSubstr("unknown trace format 'csv'"));
  auto missing = ImportWorkload("/nonexistent/trace.csv", "openb", BuiltinCatalog(), {}, nullptr);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("/nonexistent/trace.csv"));
  auto cluster = ImportCluster(TracePath("README.md"), "", BuiltinCatalog(), {});
  EXPECT_FALSE(cluster.ok());
  // The wrong parser for a file fails on its header or first row, naming the file.
  auto wrong = ImportWorkload(TracePath("tiresias/60_job.csv.gz"), "openb", BuiltinCatalog(), {}, nullptr);
  ASSERT_FALSE(wrong.ok());
  EXPECT_THAT(wrong.status().message(), HasSubstr("60_job.csv.gz:1: header: missing column 'name'"));
}

}  // namespace
}  // namespace suanli
