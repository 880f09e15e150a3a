// The live control plane (ControlPlane): the scheduling loop with a real
// store and real backends (local processes, simulated centers), the server
// config file, and Scheduler::Adopt, which re-adoption after a restart uses.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "core/model/energy.h"
#include "core/scheduler/scheduler.h"
#include "io/model_loader.h"
#include "live/control.h"
#include "live/store.h"
#include "support/fixtures.h"

namespace suanli::live {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// A fresh directory of this test, removed at the end.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = (fs::temp_directory_path() / "suanli-control-test.XXXXXX").string();
    if (char* d = ::mkdtemp(tmpl.data())) path_ = d;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

Tenant Named(const std::string& name) {
  Tenant t;
  t.name = name;
  return t;
}

const Caller kAdmin{"admin", true};
const Caller kAlice{"alice", false};
const Caller kBob{"bob", false};

ServerConfig LocalConfig(const std::string& data, int slots) {
  ServerConfig c;
  c.data_dir = data;
  CenterConfig local;
  local.name = "local";
  local.backend.kind = "local";
  local.backend.slots = slots;
  local.backend.detect_gpus = false;
  local.backend.grace_s = 1;
  c.centers.push_back(local);
  c.pass_interval_ms = 100;
  return c;
}

ServerConfig SimulatedConfig(const std::string& data, const std::string& network) {
  ServerConfig c;
  c.data_dir = data;
  c.network = network;
  c.pass_interval_ms = 100;
  return c;
}

std::unique_ptr<ControlPlane> StartOrDie(const ServerConfig& config) {
  auto cp = ControlPlane::Start(config);
  EXPECT_TRUE(cp.ok()) << cp.status().message();
  return cp.ok() ? std::move(cp).value() : nullptr;
}

JobSpec Command(std::vector<std::string> argv) {
  JobSpec s;
  s.command = std::move(argv);
  s.time_limit_s = 120;
  return s;
}

JobSpec Sh(const std::string& script) { return Command({"sh", "-c", script}); }

// A job that writes where the test reads: local jobs are sandboxed, and write
// only their own directory and their declared working directory, `out`
// (created open to the job's uid).
JobSpec ShIn(const std::string& out, const std::string& script) {
  fs::create_directories(out);
  fs::permissions(out, fs::perms::all);
  JobSpec s = Sh(script);
  s.workdir = out;
  return s;
}

JobSpec Gpu(uint32_t gpus, int64_t duration_s) {
  JobSpec s = Command({"train"});
  s.gpus = gpus;
  s.cpu_milli = 1000;
  s.mem_mib = 1024;
  s.duration_s = duration_s;
  s.time_limit_s = 600;
  return s;
}

// Waits until `done` holds, running passes meanwhile; false on time-out.
bool WaitFor(ControlPlane& cp, const std::function<bool()>& done, double seconds = 20) {
  auto end = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  while (Clock::now() < end) {
    cp.PassNow();
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

JobState StateOf(ControlPlane& cp, int64_t id) {
  auto r = cp.Get(kAdmin, id);
  return r.ok() ? r->state : JobState::kPending;
}

bool AllEnded(ControlPlane& cp, const std::vector<int64_t>& ids) {
  for (int64_t id : ids)
    if (!IsTerminal(StateOf(cp, id))) return false;
  return true;
}

// ------------------------------------------------------------------ config

TEST(LiveControlConfig, LoadsEveryKeyAndResolvesPathsNextToTheFile) {
  ScratchDir dir;
  WriteText(dir / "server.yaml", R"(
listen: 0.0.0.0:9090
data: state
network: tiny
centers:
  - {name: east, backend: simulated}
  - {name: here, backend: local, slots: 3, detect_gpus: false, grace_s: 5}
  - {name: hpc, backend: slurm, slurm_conf: etc/slurm.conf, partition: gpu, command_timeout_s: 4}
policy: sjf+easy
dispatch: cost-aware:time=0.5
pass_interval_ms: 500
center_timeout_s: 7
max_body_bytes: 4096
http_threads: 8
tls_cert: cert.pem
tls_key: key.pem
admin_token: secret-admin-token-0123
durable: false
)");
  auto c = LoadServerConfig(dir / "server.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->listen, "0.0.0.0:9090");
  EXPECT_EQ(c->data_dir, dir / "state");
  EXPECT_EQ(c->network, "tiny");
  ASSERT_EQ(c->centers.size(), 3u);
  EXPECT_EQ(c->centers[0].backend.kind, "simulated");
  EXPECT_EQ(c->centers[1].backend.slots, 3);
  EXPECT_FALSE(c->centers[1].backend.detect_gpus);
  EXPECT_EQ(c->centers[1].backend.grace_s, 5);
  EXPECT_EQ(c->centers[2].backend.slurm_conf, dir / "etc/slurm.conf");
  EXPECT_EQ(c->centers[2].backend.partition, "gpu");
  EXPECT_EQ(c->centers[2].backend.command_timeout_s, 4);
  EXPECT_EQ(c->policy, "sjf+easy");
  EXPECT_EQ(c->dispatch, "cost-aware:time=0.5");
  EXPECT_EQ(c->pass_interval_ms, 500);
  EXPECT_EQ(c->center_timeout_s, 7);
  EXPECT_EQ(c->max_body_bytes, 4096);
  EXPECT_EQ(c->http_threads, 8);
  EXPECT_EQ(c->tls_cert, dir / "cert.pem");
  EXPECT_EQ(c->tls_key, dir / "key.pem");
  EXPECT_EQ(c->admin_token, "secret-admin-token-0123");
  EXPECT_FALSE(c->durable);

  // An empty file is every default.
  WriteText(dir / "empty.yaml", "");
  auto e = LoadServerConfig(dir / "empty.yaml");
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->listen, "127.0.0.1:8080");
  EXPECT_TRUE(e->centers.empty());
}

TEST(LiveControlConfig, ErrorsNameTheFileAndTheKey) {
  ScratchDir dir;
  struct Case {
    std::string yaml, want1, want2;
  };
  const std::vector<Case> cases = {
      {"listne: 1.2.3.4:80\n", "listne", "did you mean 'listen'"},
      {"listen: localhost\n", "listen", "HOST:PORT"},
      {"listen: 127.0.0.1:70000\n", "listen", "0..65535"},
      {"pass_interval_ms: often\n", "pass_interval_ms", "whole number"},
      {"pass_interval_ms: 0\n", "pass_interval_ms", "from 1"},
      {"center_timeout_s: -3\n", "center_timeout_s", "from 1"},
      {"durable: maybe\n", "durable", "true or false"},
      {"policy: fifo+bogus\n", "policy", "unknown part 'bogus'"},
      {"dispatch: fastest\n", "dispatch", "unknown dispatch policy"},
      {"tls_cert: c.pem\n", "tls_cert", "both"},
      {"centers: [{name: a, backend: cloud}]\n", "backend", "unknown backend 'cloud'"},
      {"centers: [{name: a, backend: local}, {name: a, backend: local}]\n", "centers[1]", "named twice"},
      {"centers: [{name: a, backend: local, partition: x}]\n", "partition", "only for backend slurm"},
      {"centers: [{name: a, backend: local, slots: lots}]\n", "slots", "whole number"},
      {"centers: [{backend: local}]\n", "name", "missing required field"},
      {"centers: {name: a}\n", "centers", "expected a list"},
      {"centers: [{name: a, backend: simulated}]\n", "simulated", "network"},
      {"http_threads: [1, 2]\n", "http_threads", "whole number"},
      {"listen: [\n", "YAML syntax error", "bad.yaml"},
  };
  for (const auto& c : cases) {
    WriteText(dir / "bad.yaml", c.yaml);
    auto r = LoadServerConfig(dir / "bad.yaml");
    ASSERT_FALSE(r.ok()) << c.yaml;
    const std::string& m = r.status().message();
    EXPECT_NE(m.find("bad.yaml"), std::string::npos) << m;
    EXPECT_NE(m.find(c.want1), std::string::npos) << c.yaml << " -> " << m;
    EXPECT_NE(m.find(c.want2), std::string::npos) << c.yaml << " -> " << m;
  }
  auto missing = LoadServerConfig(dir / "nope.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("nope.yaml"), std::string::npos);
}

TEST(LiveControlConfig, ValidateChecksValuesSetInCode) {
  ServerConfig c;
  EXPECT_TRUE(ValidateServerConfig(c).ok());
  auto expect_bad = [](ServerConfig c, const std::string& key) {
    Status st = ValidateServerConfig(c);
    ASSERT_FALSE(st.ok()) << key;
    EXPECT_EQ(st.message().rfind(key, 0), 0u) << st.message();
  };
  ServerConfig x = c;
  x.listen = "nohost";
  expect_bad(x, "listen");
  x = c;
  x.policy = "nope";
  expect_bad(x, "policy");
  x = c;
  x.dispatch = "";
  expect_bad(x, "dispatch");
  x = c;
  x.pass_interval_ms = 0;
  expect_bad(x, "pass_interval_ms");
  x = c;
  x.center_timeout_s = 0;
  expect_bad(x, "center_timeout_s");
  x = c;
  x.tls_key = "k.pem";
  expect_bad(x, "tls_key");
  x = c;
  x.centers.push_back({"a", BackendConfig{}});
  x.centers.back().backend.kind = "cloud";
  expect_bad(x, "centers[0]");
  x = c;
  x.centers.push_back({"a", BackendConfig{}});
  x.centers.back().backend.kind = "local";
  x.centers.push_back(x.centers.back());
  expect_bad(x, "centers[1]");
  x = c;
  x.listen = "[::1]:8080";
  EXPECT_TRUE(ValidateServerConfig(x).ok());
}

// ------------------------------------------------------------------ jobs on a local center

TEST(LiveControl, LocalCpuJobRunsToSucceededWithItsLogAndUsage) {
  ScratchDir dir;
  auto cp = StartOrDie(LocalConfig(dir / "data", 2));
  ASSERT_TRUE(cp);
  JobSpec spec = Sh("echo hi; echo oops >&2");
  spec.name = "hello";
  auto sub = cp->Submit(kAlice, spec);
  ASSERT_TRUE(sub.ok()) << sub.status().message();
  EXPECT_GT(sub->id, 0);
  EXPECT_EQ(sub->state, JobState::kPending);
  EXPECT_EQ(sub->tenant, "alice");
  ASSERT_TRUE(WaitFor(*cp, [&] { return IsTerminal(StateOf(*cp, sub->id)); }));
  auto r = cp->Get(kAlice, sub->id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->state, JobState::kSucceeded) << r->reason;
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(r->center, "local");
  EXPECT_FALSE(r->node.empty());
  EXPECT_TRUE(r->devices.empty());
  EXPECT_TRUE(r->model.empty());
  EXPECT_FALSE(r->backend_id.empty());
  EXPECT_GE(r->start_ms, r->submit_ms);
  EXPECT_GE(r->end_ms, r->start_ms);
  // CPU-only: no accelerator time, no accelerator energy.
  EXPECT_EQ(r->gpu_seconds, 0);
  EXPECT_EQ(r->energy_kwh, 0);
  auto out = cp->LogPath(kAlice, sub->id, "stdout");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(ReadText(*out), "hi\n");
  auto err = cp->LogPath(kAlice, sub->id, "stderr");
  ASSERT_TRUE(err.ok());
  EXPECT_EQ(ReadText(*err), "oops\n");
  EXPECT_EQ(cp->LogPath(kAlice, sub->id, "stdin").status().code(), StatusCode::kInvalidArgument);
  auto usage = cp->Usage(kAlice, 0, 0);
  ASSERT_TRUE(usage.ok()) << usage.status().message();
  ASSERT_EQ(usage->size(), 1u);
  EXPECT_EQ((*usage)[0].tenant, "alice");
  EXPECT_EQ((*usage)[0].center, "local");
  EXPECT_EQ((*usage)[0].jobs, 1);
  PassStats st = cp->Stats();
  EXPECT_GT(st.passes, 0);
  EXPECT_EQ(st.submissions, 1);
  EXPECT_EQ(st.successes, 1);
  ASSERT_EQ(st.pass_ms_buckets_le.size(), 10u);
  EXPECT_EQ(st.pass_ms_counts.back(), st.passes - (st.last_pass_ms > 1000 ? 1 : 0));
  // Its start was committed, then launched: a pass acted on, in some time.
  EXPECT_GT(st.acted, 0);
  EXPECT_GT(st.last_decision_to_launch_ms, 0);
  // A failing command fails with its exit code.
  auto bad = cp->Submit(kAlice, Sh("exit 3"));
  ASSERT_TRUE(bad.ok());
  ASSERT_TRUE(WaitFor(*cp, [&] { return IsTerminal(StateOf(*cp, bad->id)); }));
  auto b = cp->Get(kAlice, bad->id);
  EXPECT_EQ(b->state, JobState::kFailed);
  EXPECT_EQ(b->exit_code, 3);
  cp->Stop();
}

TEST(LiveControl, GpuRequestOnAMachineWithoutGpusIsRefusedWithTheReason) {
  ScratchDir dir;
  auto cp = StartOrDie(LocalConfig(dir / "data", 2));
  ASSERT_TRUE(cp);
  JobSpec s = Sh("nvidia-smi");
  s.gpus = 1;
  auto r = cp->Submit(kAlice, s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message().rfind("gpus: ", 0), 0u) << r.status().message();
  EXPECT_NE(r.status().message().find("no center has any"), std::string::npos) << r.status().message();
  // More CPU than the center has: refused too, with what it has.
  JobSpec big = Sh("true");
  big.cpu_milli = 1'000'000;
  auto r2 = cp->Submit(kAlice, big);
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.status().message().find("no center can ever run"), std::string::npos) << r2.status().message();
  EXPECT_NE(r2.status().message().find("1000000 mCPU"), std::string::npos) << r2.status().message();
  // Nothing reached the store.
  auto list = cp->List(kAdmin, JobFilter{});
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());
  cp->Stop();
}

TEST(LiveControl, SpecErrorsNameTheField) {
  ScratchDir dir;
  auto cp = StartOrDie(SimulatedConfig(dir / "data", "tiny"));
  ASSERT_TRUE(cp);
  struct Case {
    std::function<void(JobSpec*)> edit;
    std::string prefix;
  };
  const std::vector<Case> cases = {
      {[](JobSpec* s) { s->command.clear(); }, "command: must not be empty"},
      {[](JobSpec* s) { s->command.assign(300, "x"); }, "command: at most 256"},
      {[](JobSpec* s) { s->gpus = 5000; }, "gpus: must be an integer 0..4096"},
      {[](JobSpec* s) { s->models = {"H9000"}; }, "models: unknown model 'H9000' (see `suanli network models`)"},
      {[](JobSpec* s) { s->stacks = {"rocm"}; }, "stacks: unknown software stack 'rocm'"},
      {[](JobSpec* s) { s->time_limit_s = 0; }, "time_limit_s: must be 1..2678400"},
      {[](JobSpec* s) { s->time_limit_s = 32 * 86400; }, "time_limit_s: "},
      {[](JobSpec* s) { s->workload_class = "gaming"; }, "class: unknown class 'gaming'"},
      {[](JobSpec* s) { s->env["1BAD"] = "x"; }, "env: '1BAD' is not a variable name"},
      {[](JobSpec* s) { s->name = std::string(300, 'n'); }, "name: at most 256"},
      {[](JobSpec* s) { s->center = "mars"; }, "center: unknown center 'mars' (centers: east, west)"},
      {[](JobSpec* s) { s->workdir = "relative/dir"; }, "workdir: must be an absolute path"},
      // A newline would forge a line of the server's log; an escape sequence
      // would reach the terminals that show it. Shown escaped in the message.
      {[](JobSpec* s) { s->workdir = "/tmp\n2026-12-04T00:00:00.000+0000 info admin granted"; },
       "workdir: must not contain control characters (newline, tab, escape...), got '/tmp\\x0a2026-"},
      {[](JobSpec* s) { s->name = "x\x1b]0;owned\x07"; },
       "name: must not contain control characters (newline, tab, escape...), got 'x\\x1b]0;owned\\x07'"},
      {[](JobSpec* s) { s->cpu_milli = -1; }, "cpu_milli: "},
      {[](JobSpec* s) {
         s->gpus = 2;
         s->models = {"V100-32GB"};
         s->center = "east";
       },
       "gpus: no center can ever run this job (east: "},
  };
  for (const auto& c : cases) {
    JobSpec s = Gpu(1, 1);
    c.edit(&s);
    auto r = cp->Submit(kAlice, s);
    ASSERT_FALSE(r.ok()) << c.prefix;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message().rfind(c.prefix, 0), 0u) << r.status().message();
  }
  // Aliases of catalog models are accepted.
  JobSpec ok = Gpu(1, 1);
  ok.models = {"a100"};
  ok.workload_class = "training";
  auto r = cp->Submit(kAlice, ok);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_TRUE(WaitFor(*cp, [&] { return IsTerminal(StateOf(*cp, r->id)); }));
  auto done = cp->Get(kAlice, r->id);
  EXPECT_EQ(done->state, JobState::kSucceeded) << done->reason;
  EXPECT_EQ(done->model, "A100-80GB");
  EXPECT_EQ(done->center, "east");
  cp->Stop();
}

// ------------------------------------------------------------------ a simulated network

TEST(LiveControl, SimulatedNetworkDispatchesToSeveralCentersAndMeters) {
  ScratchDir dir;
  auto cp = StartOrDie(SimulatedConfig(dir / "data", "tiny"));
  ASSERT_TRUE(cp);
  auto centers = cp->Centers();
  ASSERT_EQ(centers.size(), 2u);
  EXPECT_EQ(centers[0].name, "east");
  EXPECT_EQ(centers[0].backend, "simulated");
  EXPECT_EQ(centers[0].devices, 32);
  EXPECT_EQ(centers[1].devices, 16);
  // 48 accelerators in all; six 8-GPU jobs fill both centers at once.
  std::vector<int64_t> ids;
  for (int i = 0; i < 6; ++i) {
    auto r = cp->Submit(kAlice, Gpu(8, 2));
    ASSERT_TRUE(r.ok()) << r.status().message();
    ids.push_back(r->id);
  }
  ASSERT_TRUE(WaitFor(*cp, [&] {
    for (int64_t id : ids)
      if (StateOf(*cp, id) == JobState::kPending) return false;
    return true;
  }));
  // All running now: the view shows them busy, drawing power at the center's PUE.
  centers = cp->Centers();
  double busy = 0, running = 0;
  const Catalog& cat = BuiltinCatalog();
  for (const auto& c : centers) {
    busy += c.busy_devices;
    running += c.running;
    double want_kw = 0;
    for (const auto& m : c.models) want_kw += m.busy * cat.model(*cat.Find(m.model)).power_w * c.pue / 1000.0;
    EXPECT_NEAR(c.power_kw, want_kw, 1e-9);
    EXPECT_GT(c.power_kw, 0) << c.name;
    EXPECT_GT(c.price_now, 0);
    EXPECT_GT(c.carbon_now, 0);
  }
  EXPECT_EQ(busy, 48);
  EXPECT_EQ(running, 6);
  ASSERT_TRUE(WaitFor(*cp, [&] { return AllEnded(*cp, ids); }));
  std::set<std::string> used;
  auto net = LoadNetwork("tiny", cat);
  ASSERT_TRUE(net.ok());
  for (int64_t id : ids) {
    auto r = cp->Get(kAlice, id);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->state, JobState::kSucceeded) << r->reason;
    used.insert(r->center);
    EXPECT_EQ(r->devices.size(), 8u);
    // Metering: 8 accelerators over the run, energy at the center's PUE and tariff.
    const double secs = static_cast<double>(r->end_ms - r->start_ms) / 1000.0;
    EXPECT_GE(secs, 1.9);
    EXPECT_NEAR(r->gpu_seconds, 8 * secs, 1e-6);
    const Center& center = net->centers[*net->FindCenter(r->center)];
    const double kwh = 8 * cat.model(*cat.Find(r->model)).power_w * center.pue / 1000.0 * secs / 3600.0;
    EXPECT_NEAR(r->energy_kwh, kwh, 1e-9);
    EXPECT_GT(r->cost, 0);
    EXPECT_GT(r->carbon_kg, 0);
  }
  EXPECT_EQ(used, (std::set<std::string>{"east", "west"}));
  auto usage = cp->Usage(kAdmin, 0, 0);
  ASSERT_TRUE(usage.ok());
  int64_t jobs = 0;
  for (const auto& u : *usage) jobs += u.jobs;
  EXPECT_EQ(jobs, 6);
  cp->Stop();
}

// The simulator's heterogeneity-aware dispatcher (its allocation LP solved
// by GLPK) runs live on the server's own loop thread: no pass is asked for
// here, the loop decides on its own.
TEST(LiveControl, HeterogeneityAwareDispatchRunsOnTheLoopThread) {
  ScratchDir dir;
  ServerConfig cfg = SimulatedConfig(dir / "data", "tiny");
  cfg.dispatch = "heterogeneity-aware";
  auto cp = StartOrDie(cfg);
  ASSERT_TRUE(cp);
  std::vector<int64_t> ids;
  for (int i = 0; i < 8; ++i) {
    auto r = cp->Submit(kAlice, Gpu(i % 2 ? 8 : 2, 1));
    ASSERT_TRUE(r.ok()) << r.status().message();
    ids.push_back(r->id);
  }
  const auto end = Clock::now() + std::chrono::seconds(30);
  while (Clock::now() < end && !AllEnded(*cp, ids)) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  for (int64_t id : ids) {
    auto r = cp->Get(kAlice, id);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->state, JobState::kSucceeded) << r->reason;
    EXPECT_FALSE(r->model.empty());
  }
  EXPECT_GT(cp->Stats().passes, 0);
  cp->Stop();
}

// Six identical 8-accelerator jobs at once on three centers of one 8-A100
// node each: the LP of the first arrival gives the type one pool; the others
// must not queue there while two pools stand idle (each center runs one and
// queues one). On tiny, a job the dispatcher holds to one model shows it
// while it waits.
TEST(LiveControl, HeterogeneityAwareSpreadsABurstAndShowsTheHeldModel) {
  ScratchDir dir;
  std::string net = "name: trio\ncenters:\n";
  for (const char* c : {"a", "b", "c"}) {
    net += fmt::format(
        "  - name: {0}\n    region: r\n    lat: 31.2\n    lon: 121.5\n    pue: 1.2\n    price_per_kwh: 0.5\n"
        "    carbon_g_per_kwh: 500\n    pools:\n      - name: p\n        nodes:\n"
        "          - {{count: 1, prefix: {0}-n, accelerator: A100-80GB, devices: 8, cpu: 64, memory_gib: 512}}\n",
        c);
  }
  WriteText(dir / "trio.yaml", net);
  ServerConfig trio = SimulatedConfig(dir / "trio-data", dir / "trio.yaml");
  trio.dispatch = "heterogeneity-aware";
  auto burst = StartOrDie(trio);
  ASSERT_TRUE(burst);
  std::vector<int64_t> ids;
  for (int i = 0; i < 6; ++i) {
    auto r = burst->Submit(kAlice, Gpu(8, 300));
    ASSERT_TRUE(r.ok()) << r.status().message();
    ids.push_back(r->id);
  }
  auto running = [&] {
    int n = 0;
    for (int64_t id : ids) n += StateOf(*burst, id) == JobState::kRunning;
    return n;
  };
  ASSERT_TRUE(WaitFor(*burst, [&] { return running() == 3; })) << running() << " of 6 running";
  std::map<std::string, int> at;
  ASSERT_TRUE(WaitFor(*burst,
                      [&] {
                        at.clear();
                        for (int64_t id : ids) ++at[burst->Get(kAlice, id)->center];
                        return at.size() == 3;
                      }))
      << at.size() << " centers used";
  for (const auto& [center, n] : at) EXPECT_EQ(n, 2) << center;
  burst->Stop();

  ServerConfig cfg = SimulatedConfig(dir / "data", "tiny");
  cfg.dispatch = "heterogeneity-aware";
  auto cp = StartOrDie(cfg);
  ASSERT_TRUE(cp);
  // East full of pinned jobs: the dispatcher holds the next job to east's
  // A100s (the LP's target), where it waits; its model is on its record.
  std::vector<int64_t> fill;
  for (int i = 0; i < 4; ++i) {
    JobSpec s = Gpu(8, 300);
    s.center = "east";
    auto r = cp->Submit(kAlice, s);
    ASSERT_TRUE(r.ok()) << r.status().message();
    fill.push_back(r->id);
  }
  ASSERT_TRUE(WaitFor(*cp, [&] { return StateOf(*cp, fill.back()) == JobState::kRunning; }));
  auto held = cp->Submit(kAlice, Gpu(8, 1));
  ASSERT_TRUE(held.ok());
  ASSERT_TRUE(WaitFor(*cp, [&] { return !cp->Get(kAlice, held->id)->center.empty(); }));
  auto rec = cp->Get(kAlice, held->id);
  EXPECT_EQ(rec->state, JobState::kPending);
  EXPECT_EQ(rec->center, "east");
  EXPECT_EQ(rec->model, "A100-80GB");
  JobFilter f;
  f.states = {JobState::kPending};
  auto list = cp->List(kAlice, f);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].model, "A100-80GB");
  cp->Stop();
}

TEST(LiveControl, LocalCentersBesideAndInsteadOfNetworkCenters) {
  ScratchDir dir;
  ServerConfig cfg = SimulatedConfig(dir / "data", "tiny");
  // west is run by this machine (its figures kept, its nodes probed); "here"
  // is a center of its own with the default figures.
  for (const char* name : {"west", "here"}) {
    CenterConfig c;
    c.name = name;
    c.backend.kind = "local";
    c.backend.slots = 1;
    c.backend.detect_gpus = false;
    cfg.centers.push_back(c);
  }
  auto cp = StartOrDie(cfg);
  ASSERT_TRUE(cp);
  auto view = cp->Centers();
  ASSERT_EQ(view.size(), 3u);
  EXPECT_EQ(view[0].name, "east");
  EXPECT_EQ(view[0].backend, "simulated");
  EXPECT_EQ(view[0].devices, 32);
  EXPECT_EQ(view[1].name, "west");
  EXPECT_EQ(view[1].backend, "local");
  EXPECT_EQ(view[1].devices, 0);  // this machine's CPU slots instead of the file's V100s
  EXPECT_EQ(view[1].region, "west");
  EXPECT_DOUBLE_EQ(view[1].pue, 1.1);
  EXPECT_EQ(view[2].name, "here");
  EXPECT_EQ(view[2].region, "here");
  EXPECT_DOUBLE_EQ(view[2].pue, 1.3);
  EXPECT_DOUBLE_EQ(view[2].price_now, 0.6);
  EXPECT_DOUBLE_EQ(view[2].carbon_now, 570.3);
  // A V100 job has nowhere to go now; CPU jobs run at the local centers.
  JobSpec v100 = Gpu(1, 1);
  v100.models = {"V100-32GB"};
  auto r = cp->Submit(kAlice, v100);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no center can ever run"), std::string::npos) << r.status().message();
  std::vector<int64_t> ids;
  for (const char* c : {"west", "here"}) {
    JobSpec s = Sh("echo $0");
    s.center = c;
    auto j = cp->Submit(kAlice, s);
    ASSERT_TRUE(j.ok()) << j.status().message();
    ids.push_back(j->id);
  }
  ASSERT_TRUE(WaitFor(*cp, [&] { return AllEnded(*cp, ids); }));
  EXPECT_EQ(cp->Get(kAlice, ids[0])->state, JobState::kSucceeded);
  EXPECT_EQ(cp->Get(kAlice, ids[0])->center, "west");
  EXPECT_EQ(cp->Get(kAlice, ids[1])->center, "here");
  cp->Stop();
}

TEST(LiveControl, PendingJobsGetAnEstimatedStart) {
  ScratchDir dir;
  auto cp = StartOrDie(SimulatedConfig(dir / "data", "tiny"));
  ASSERT_TRUE(cp);
  // Fill east's 32 A100s for 20 s, then ask for more A100s.
  std::vector<int64_t> fill;
  for (int i = 0; i < 4; ++i) {
    JobSpec s = Gpu(8, 20);
    s.center = "east";
    auto r = cp->Submit(kAlice, s);
    ASSERT_TRUE(r.ok()) << r.status().message();
    fill.push_back(r->id);
  }
  ASSERT_TRUE(WaitFor(*cp, [&] { return StateOf(*cp, fill.back()) == JobState::kRunning; }));
  JobSpec s = Gpu(8, 1);
  s.center = "east";
  s.time_limit_s = 60;
  auto waiting = cp->Submit(kAlice, s);
  ASSERT_TRUE(waiting.ok());
  ASSERT_TRUE(WaitFor(*cp, [&] {
    auto r = cp->Get(kAlice, waiting->id);
    return r.ok() && r->est_start_ms > 0;
  }));
  auto r = cp->Get(kAlice, waiting->id);
  EXPECT_EQ(r->state, JobState::kPending);
  EXPECT_EQ(r->center, "east");
  // The running jobs' time limit (600 s) is their estimate: the first ends then.
  auto first = cp->Get(kAlice, fill.front());
  EXPECT_NEAR(static_cast<double>(r->est_start_ms - first->start_ms), 600'000.0, 5'000.0);
  // List returns it too.
  JobFilter f;
  f.states = {JobState::kPending};
  auto list = cp->List(kAlice, f);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].est_start_ms, r->est_start_ms);
  // By center (the CLI's `queue --center east`): its pending job with its
  // running ones, newest first; another center lists none of them.
  JobFilter at_east;
  at_east.center = "east";
  auto east = cp->List(kAlice, at_east);
  ASSERT_TRUE(east.ok()) << east.status().message();
  ASSERT_EQ(east->size(), 5u);
  EXPECT_EQ((*east)[0].id, waiting->id);
  EXPECT_EQ((*east)[0].state, JobState::kPending);
  for (size_t i = 1; i < east->size(); ++i) EXPECT_GT((*east)[i - 1].id, (*east)[i].id);
  at_east.states = {JobState::kPending};
  east = cp->List(kAlice, at_east);
  ASSERT_TRUE(east.ok());
  ASSERT_EQ(east->size(), 1u);
  EXPECT_EQ((*east)[0].id, waiting->id);
  at_east.states = {JobState::kRunning};
  EXPECT_EQ(cp->List(kAlice, at_east)->size(), 4u);
  at_east.states.clear();
  at_east.limit = 2;
  east = cp->List(kAlice, at_east);
  ASSERT_EQ(east->size(), 2u);
  EXPECT_EQ((*east)[0].id, waiting->id);
  at_east.before_id = waiting->id;
  east = cp->List(kAlice, at_east);
  ASSERT_EQ(east->size(), 2u);
  EXPECT_EQ((*east)[0].id, fill.back());
  JobFilter bobs;
  bobs.center = "east";
  EXPECT_TRUE(cp->List(kBob, bobs)->empty());  // another tenant's
  JobFilter at_west;
  at_west.center = "west";
  EXPECT_TRUE(cp->List(kAlice, at_west)->empty());
  cp->Stop();
}

// ------------------------------------------------------------------ cancel

TEST(LiveControl, CancelPendingAndRunningJobs) {
  ScratchDir dir;
  auto cp = StartOrDie(LocalConfig(dir / "data", 1));
  ASSERT_TRUE(cp);
  auto running = cp->Submit(kAlice, Sh("echo started; sleep 30"));
  ASSERT_TRUE(running.ok());
  ASSERT_TRUE(WaitFor(*cp, [&] { return StateOf(*cp, running->id) == JobState::kRunning; }));
  // One slot: the next job waits.
  auto pending = cp->Submit(kAlice, ShIn(dir / "out", "echo should-not-run > " + (dir / "out/ran")));
  ASSERT_TRUE(pending.ok());
  cp->PassNow();
  EXPECT_EQ(StateOf(*cp, pending->id), JobState::kPending);
  // Another tenant cannot cancel it.
  EXPECT_EQ(cp->Cancel(kBob, pending->id).status().code(), StatusCode::kNotFound);
  auto c1 = cp->Cancel(kAlice, pending->id);
  ASSERT_TRUE(c1.ok()) << c1.status().message();
  EXPECT_EQ(c1->state, JobState::kCancelled);
  EXPECT_NE(c1->reason.find("cancelled by alice"), std::string::npos) << c1->reason;
  EXPECT_EQ(StateOf(*cp, pending->id), JobState::kCancelled);
  // Running: stopped by the backend, cancelled when it reports the end.
  const auto t0 = Clock::now();
  auto c2 = cp->Cancel(kAlice, running->id);
  ASSERT_TRUE(c2.ok()) << c2.status().message();
  ASSERT_TRUE(WaitFor(
      *cp, [&] { return IsTerminal(StateOf(*cp, running->id)); }, 15));
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(15));
  auto r = cp->Get(kAlice, running->id);
  EXPECT_EQ(r->state, JobState::kCancelled) << r->reason;
  EXPECT_NE(r->reason.find("cancelled by alice"), std::string::npos) << r->reason;
  // Finished jobs cannot be cancelled.
  auto again = cp->Cancel(kAlice, running->id);
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(cp->Cancel(kAlice, 999'999).status().code(), StatusCode::kNotFound);
  // The cancelled pending job never ran, even with the slot free now.
  auto after = cp->Submit(kAlice, Sh("true"));
  ASSERT_TRUE(after.ok());
  ASSERT_TRUE(WaitFor(*cp, [&] { return IsTerminal(StateOf(*cp, after->id)); }));
  EXPECT_FALSE(fs::exists(dir / "out/ran"));
  EXPECT_EQ(cp->Stats().cancellations, 2);
  cp->Stop();
}

// ------------------------------------------------------------------ tenants

TEST(LiveControl, AdmissionQuotasOfTheTenant) {
  ScratchDir dir;
  ServerConfig cfg = SimulatedConfig(dir / "data", "tiny");
  cfg.admin_token = "root-token-0123456789";
  auto cp = StartOrDie(cfg);
  ASSERT_TRUE(cp);
  auto admin = cp->Authenticate("root-token-0123456789");
  ASSERT_TRUE(admin.has_value());
  EXPECT_TRUE(admin->admin);
  Tenant t;
  t.name = "carol";
  t.max_gpus_per_job = 4;
  t.max_active_jobs = 2;
  auto nt = cp->CreateTenant(*admin, t);
  ASSERT_TRUE(nt.ok()) << nt.status().message();
  auto carol = cp->Authenticate(nt->token);
  ASSERT_TRUE(carol.has_value());
  auto big = cp->Submit(*carol, Gpu(8, 1));
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(big.status().message().rfind("gpus: ", 0), 0u) << big.status().message();
  JobSpec long_job = Gpu(4, 60);
  ASSERT_TRUE(cp->Submit(*carol, long_job).ok());
  ASSERT_TRUE(cp->Submit(*carol, long_job).ok());
  auto third = cp->Submit(*carol, long_job);
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(third.status().message().find("max_active_jobs"), std::string::npos) << third.status().message();
  // Other tenants are not limited by carol's quota.
  EXPECT_TRUE(cp->Submit(kAlice, Gpu(8, 60)).ok());
  // Once one of carol's jobs ends, she may submit again.
  JobFilter f;
  f.tenant = "carol";
  auto mine = cp->List(*carol, f);
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->size(), 2u);
  ASSERT_TRUE(cp->Cancel(*carol, (*mine)[0].id).ok());
  ASSERT_TRUE(WaitFor(*cp, [&] { return IsTerminal(StateOf(*cp, (*mine)[0].id)); }));
  EXPECT_TRUE(cp->Submit(*carol, long_job).ok());
  cp->Stop();
}

// Under las or srtf a higher priority preempts: a tenant may ask for no more
// than the admin gave it (0 by default), or it could rank itself above all.
TEST(LiveControl, PriorityAboveTheTenantsMaximumIsRefused) {
  ScratchDir dir;
  ServerConfig cfg = SimulatedConfig(dir / "data", "tiny");
  cfg.admin_token = "root-token-0123456789";
  cfg.policy = "las";
  auto cp = StartOrDie(cfg);
  ASSERT_TRUE(cp);
  auto admin = cp->Authenticate("root-token-0123456789");
  ASSERT_TRUE(admin.has_value());
  JobSpec top = Gpu(1, 1);
  top.priority = 2147483647;
  auto refused = cp->Submit(kAlice, top);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(refused.status().message(),
            "priority: 2147483647 asked, but tenant 'alice' may ask for at most 0 (max_priority, set by the admin)");
  JobSpec low = Gpu(1, 1);
  low.priority = -5;  // below the default tier: anyone may
  EXPECT_TRUE(cp->Submit(kAlice, low).ok());
  Tenant t;
  t.name = "dave";
  t.max_priority = 10;
  auto nt = cp->CreateTenant(*admin, t);
  ASSERT_TRUE(nt.ok()) << nt.status().message();
  auto dave = cp->Authenticate(nt->token);
  ASSERT_TRUE(dave.has_value());
  JobSpec ten = Gpu(1, 1);
  ten.priority = 10;
  EXPECT_TRUE(cp->Submit(*dave, ten).ok());
  ten.priority = 11;
  EXPECT_EQ(cp->Submit(*dave, ten).status().code(), StatusCode::kPermissionDenied);
  top.priority = 1000;
  EXPECT_TRUE(cp->Submit(*admin, top).ok());  // the admin's own jobs: any priority
  auto tenants = cp->Tenants(*admin);
  ASSERT_TRUE(tenants.ok());
  bool seen = false;
  for (const Tenant& x : *tenants) {
    if (x.name != "dave") continue;
    seen = true;
    EXPECT_EQ(x.max_priority, 10);  // kept by the store
  }
  EXPECT_TRUE(seen);
  t.name = "erin";
  t.max_priority = -1;
  EXPECT_EQ(cp->CreateTenant(*admin, t).status().code(), StatusCode::kInvalidArgument);
  cp->Stop();
}

TEST(LiveControl, TenantsTokensAndIsolation) {
  ScratchDir dir;
  ServerConfig cfg = SimulatedConfig(dir / "data", "tiny");
  cfg.admin_token = "root-token-0123456789";
  auto cp = StartOrDie(cfg);
  ASSERT_TRUE(cp);
  EXPECT_FALSE(cp->Authenticate("").has_value());
  EXPECT_FALSE(cp->Authenticate("wrong").has_value());
  auto admin = cp->Authenticate("root-token-0123456789");
  ASSERT_TRUE(admin.has_value());
  EXPECT_EQ(admin->tenant, "admin");
  Tenant a;
  a.name = "alice";
  auto na = cp->CreateTenant(*admin, a);
  ASSERT_TRUE(na.ok()) << na.status().message();
  EXPECT_EQ(na->token.size(), 64u);
  EXPECT_TRUE(na->tenant.token_sha256.empty());
  Tenant b;
  b.name = "bob";
  auto nb = cp->CreateTenant(*admin, b);
  ASSERT_TRUE(nb.ok());
  EXPECT_NE(na->token, nb->token);
  auto alice = cp->Authenticate(na->token);
  auto bob = cp->Authenticate(nb->token);
  ASSERT_TRUE(alice && bob);
  EXPECT_EQ(alice->tenant, "alice");
  EXPECT_FALSE(alice->admin);
  // Admin-only operations.
  EXPECT_EQ(cp->CreateTenant(*alice, Named("eve")).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(cp->Drain(*alice, "east").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(cp->CreateTenant(*admin, a).status().code(), StatusCode::kFailedPrecondition);
  auto bad = cp->CreateTenant(*admin, Named("Bad Name"));
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message().rfind("name: ", 0), 0u);
  // Jobs are seen by their tenant and the admin only.
  auto job = cp->Submit(*alice, Gpu(1, 30));
  ASSERT_TRUE(job.ok());
  EXPECT_TRUE(cp->Get(*alice, job->id).ok());
  EXPECT_TRUE(cp->Get(*admin, job->id).ok());
  EXPECT_EQ(cp->Get(*bob, job->id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(cp->LogPath(*bob, job->id, "stdout").status().code(), StatusCode::kNotFound);
  JobFilter all;
  all.tenant = "alice";  // a tenant's filter is forced to its own name
  auto bl = cp->List(*bob, all);
  ASSERT_TRUE(bl.ok());
  EXPECT_TRUE(bl->empty());
  auto al = cp->List(*admin, JobFilter{});
  ASSERT_TRUE(al.ok());
  EXPECT_EQ(al->size(), 1u);
  auto tenants_b = cp->Tenants(*bob);
  ASSERT_TRUE(tenants_b.ok());
  ASSERT_EQ(tenants_b->size(), 1u);
  EXPECT_EQ((*tenants_b)[0].name, "bob");
  auto tenants_a = cp->Tenants(*admin);
  ASSERT_TRUE(tenants_a.ok());
  EXPECT_EQ(tenants_a->size(), 3u);
  for (const auto& t : *tenants_a) EXPECT_TRUE(t.token_sha256.empty());
  ASSERT_TRUE(cp->Cancel(*alice, job->id).ok());
  ASSERT_TRUE(WaitFor(*cp, [&] { return IsTerminal(StateOf(*cp, job->id)); }));
  cp->Stop();
  // The admin created on the first start keeps its token; a new admin_token
  // does not replace it.
  cp.reset();
  cfg.admin_token = "another-admin-token-0123";
  auto cp2 = StartOrDie(cfg);
  ASSERT_TRUE(cp2);
  EXPECT_TRUE(cp2->Authenticate("root-token-0123456789").has_value());
  EXPECT_FALSE(cp2->Authenticate("another-admin-token-0123").has_value());
  EXPECT_TRUE(cp2->Authenticate(na->token).has_value());
  cp2->Stop();
}

// ------------------------------------------------------------------ drain

TEST(LiveControl, DrainSendsNewAndPendingJobsElsewhereAndSurvivesARestart) {
  ScratchDir dir;
  ServerConfig cfg = SimulatedConfig(dir / "data", "tiny");
  auto cp = StartOrDie(cfg);
  ASSERT_TRUE(cp);
  // CUDA jobs fit east (A100) and west (V100). Fill both, then queue more.
  std::vector<int64_t> fill;
  for (int i = 0; i < 6; ++i) {
    auto r = cp->Submit(kAlice, Gpu(8, 3));
    ASSERT_TRUE(r.ok());
    fill.push_back(r->id);
  }
  ASSERT_TRUE(WaitFor(*cp, [&] { return StateOf(*cp, fill.back()) == JobState::kRunning; }));
  std::vector<int64_t> queued;
  for (int i = 0; i < 4; ++i) {
    auto r = cp->Submit(kAlice, Gpu(8, 1));
    ASSERT_TRUE(r.ok());
    queued.push_back(r->id);
  }
  cp->PassNow();
  int at_east = 0;
  for (int64_t id : queued) at_east += cp->Get(kAlice, id)->center == "east";
  ASSERT_GT(at_east, 0);
  ASSERT_TRUE(cp->Drain(kAdmin, "east").ok());
  EXPECT_EQ(cp->Drain(kAdmin, "moon").code(), StatusCode::kNotFound);
  auto view = cp->Centers();
  EXPECT_TRUE(view[0].drained);
  EXPECT_EQ(view[0].pending, 0);
  for (int64_t id : queued) EXPECT_NE(cp->Get(kAlice, id)->center, "east");
  // Running jobs at east go on and finish; nothing new starts there.
  ASSERT_TRUE(WaitFor(
      *cp, [&] { return AllEnded(*cp, queued); }, 30));
  for (int64_t id : fill) EXPECT_EQ(cp->Get(kAlice, id)->state, JobState::kSucceeded);
  for (int64_t id : queued) {
    auto r = cp->Get(kAlice, id);
    EXPECT_EQ(r->state, JobState::kSucceeded);
    EXPECT_EQ(r->center, "west");
  }
  // A job pinned to the drained center waits.
  JobSpec pinned = Gpu(1, 1);
  pinned.center = "east";
  auto p = cp->Submit(kAlice, pinned);
  ASSERT_TRUE(p.ok());
  cp->PassNow();
  cp->PassNow();
  auto pr = cp->Get(kAlice, p->id);
  EXPECT_EQ(pr->state, JobState::kPending);
  EXPECT_NE(pr->reason.find("drained"), std::string::npos) << pr->reason;
  // The drain flag is durable.
  cp->Stop();
  cp.reset();
  cp = StartOrDie(cfg);
  ASSERT_TRUE(cp);
  EXPECT_TRUE(cp->Centers()[0].drained);
  cp->PassNow();
  EXPECT_EQ(StateOf(*cp, p->id), JobState::kPending);
  ASSERT_TRUE(cp->Resume(kAdmin, "east").ok());
  EXPECT_FALSE(cp->Centers()[0].drained);
  ASSERT_TRUE(WaitFor(*cp, [&] { return IsTerminal(StateOf(*cp, p->id)); }));
  EXPECT_EQ(cp->Get(kAlice, p->id)->state, JobState::kSucceeded);
  EXPECT_EQ(cp->Get(kAlice, p->id)->center, "east");
  cp->Stop();
}

// ------------------------------------------------------------------ restart

TEST(LiveControl, RestartReadoptsRunningJobsAndRunsPendingOnesExactlyOnce) {
  ScratchDir dir;
  ServerConfig cfg = LocalConfig(dir / "data", 2);
  std::vector<int64_t> ids;
  std::map<int64_t, std::string> marker;
  {
    auto cp = StartOrDie(cfg);
    ASSERT_TRUE(cp);
    for (int i = 0; i < 5; ++i) {
      std::string m = dir / ("out/marker-" + std::to_string(i));
      auto r = cp->Submit(kAlice, ShIn(dir / "out", "echo run >> " + m + "; sleep 2; echo done >> " + m));
      ASSERT_TRUE(r.ok()) << r.status().message();
      ids.push_back(r->id);
      marker[r->id] = m;
    }
    // Two slots: two run, three wait.
    ASSERT_TRUE(WaitFor(*cp, [&] {
      int running = 0;
      for (int64_t id : ids) running += StateOf(*cp, id) == JobState::kRunning;
      return running == 2;
    }));
    for (int64_t id : ids) EXPECT_FALSE(IsTerminal(StateOf(*cp, id)));
    cp->Stop();
  }  // the control plane is gone; its jobs go on
  auto cp = StartOrDie(cfg);
  ASSERT_TRUE(cp);
  ASSERT_TRUE(WaitFor(
      *cp, [&] { return AllEnded(*cp, ids); }, 40));
  for (int64_t id : ids) {
    auto r = cp->Get(kAlice, id);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->state, JobState::kSucceeded) << id << ": " << r->reason;
    // Ran once, to its end.
    EXPECT_EQ(ReadText(marker[id]), "run\ndone\n") << id;
  }
  cp->Stop();
}

TEST(LiveControl, RestartKeepsSimulatedRunsOnTheirDevices) {
  ScratchDir dir;
  ServerConfig cfg = SimulatedConfig(dir / "data", "tiny");
  int64_t id = 0, id2 = 0;
  WallMs started = 0;
  {
    // Both of west's nodes (8 V100 each) busy.
    auto cp = StartOrDie(cfg);
    ASSERT_TRUE(cp);
    JobSpec s = Gpu(8, 3);
    s.center = "west";
    auto r = cp->Submit(kAlice, s);
    ASSERT_TRUE(r.ok());
    id = r->id;
    s.duration_s = 4;
    auto r2 = cp->Submit(kAlice, s);
    ASSERT_TRUE(r2.ok());
    id2 = r2->id;
    ASSERT_TRUE(WaitFor(*cp, [&] { return StateOf(*cp, id2) == JobState::kRunning; }));
    started = cp->Get(kAlice, id)->start_ms;
    cp->Stop();
  }
  auto cp = StartOrDie(cfg);
  ASSERT_TRUE(cp);
  // Re-adopted before any pass: their devices are busy, nothing else goes there.
  auto view = cp->Centers();
  EXPECT_EQ(view[1].busy_devices, 16);
  EXPECT_EQ(view[1].running, 2);
  auto r = cp->Get(kAlice, id);
  EXPECT_EQ(r->state, JobState::kRunning);
  JobSpec other = Gpu(8, 1);
  other.center = "west";
  auto o = cp->Submit(kAlice, other);
  ASSERT_TRUE(o.ok());
  cp->PassNow();
  EXPECT_EQ(StateOf(*cp, o->id), JobState::kPending);
  ASSERT_TRUE(WaitFor(*cp, [&] { return StateOf(*cp, o->id) == JobState::kSucceeded; }));
  r = cp->Get(kAlice, id);
  EXPECT_EQ(r->state, JobState::kSucceeded);
  EXPECT_EQ(r->start_ms, started);
  EXPECT_NEAR(static_cast<double>(r->end_ms - r->start_ms), 3000.0, 300.0);
  EXPECT_GE(cp->Get(kAlice, o->id)->start_ms, r->end_ms);
  cp->Stop();
}

TEST(LiveControl, RecoveryOfRunsAServerDidNotFinishRecording) {
  ScratchDir dir;
  ServerConfig cfg = LocalConfig(dir / "data", 2);
  // What an earlier server left: starts recorded without a launch's id.
  int64_t never_launched = 0, unfollowable = 0, gone_center = 0;
  {
    fs::create_directories(dir / "data");
    auto store = Store::Open(dir / "data/suanli.db");
    ASSERT_TRUE(store.ok()) << store.status().message();
    JobRecord r;
    r.tenant = "alice";
    r.state = JobState::kRunning;
    r.submit_ms = r.start_ms = 1'700'000'000'000;
    r.center = "local";
    r.node = "somewhere";
    r.spec = ShIn(dir / "out", "echo ran >> " + (dir / "out/never-launched"));
    never_launched = *(*store)->InsertJob(r);
    r.spec = ShIn(dir / "out", "echo ran >> " + (dir / "out/unfollowable"));
    unfollowable = *(*store)->InsertJob(r);
    fs::create_directories(dir / ("data/jobs/" + std::to_string(unfollowable)));
    WriteText(dir / ("data/jobs/" + std::to_string(unfollowable) + "/stdout"), "partial\n");
    r.center = "retired";
    r.backend_id = "123:456";
    gone_center = *(*store)->InsertJob(r);
  }
  auto cp = StartOrDie(cfg);
  ASSERT_TRUE(cp);
  std::vector<int64_t> ids = {never_launched, unfollowable, gone_center};
  ASSERT_TRUE(WaitFor(*cp, [&] { return AllEnded(*cp, ids); }));
  auto a = cp->Get(kAdmin, never_launched);
  EXPECT_EQ(a->state, JobState::kSucceeded) << a->reason;
  EXPECT_EQ(ReadText(dir / "out/never-launched"), "ran\n");
  auto b = cp->Get(kAdmin, unfollowable);
  EXPECT_EQ(b->state, JobState::kFailed);
  EXPECT_NE(b->reason.find("cannot be followed"), std::string::npos) << b->reason;
  EXPECT_FALSE(fs::exists(dir / "out/unfollowable"));
  auto c = cp->Get(kAdmin, gone_center);
  EXPECT_EQ(c->state, JobState::kFailed);
  EXPECT_NE(c->reason.find("'retired' is no longer configured"), std::string::npos) << c->reason;
  cp->Stop();
}

// ------------------------------------------------------------------ Scheduler::Adopt

TEST(LiveControlSchedulerAdopt, AdoptedJobHoldsItsDevicesUntilItFinishes) {
  Catalog cat = testing::TestCatalog();
  Network net = testing::TestNetwork({{0, 1, 4}});
  Workload w;
  Job a;
  a.num_gpus = 2;
  a.cpu_milli = 1000;
  a.mem_mib = 1024;
  a.work = 100;
  w.Add(a, "adopted");
  Job b = a;
  b.num_gpus = 4;
  w.Add(b, "waits");
  Job c = a;
  c.num_gpus = 2;
  w.Add(c, "fits beside");
  auto s = Scheduler::Create(*ParsePolicySpec("fifo"), cat, net, w);
  ASSERT_TRUE(s.ok());
  Scheduler& sched = **s;
  Allocation alloc;
  alloc.model = 0;
  alloc.shares.push_back({0, 0b0011, 1000, 1000, 1024});
  ASSERT_TRUE(sched.Adopt(0, alloc, Seconds(10), Seconds(50)));
  EXPECT_EQ(sched.num_running(), 1u);
  EXPECT_EQ(sched.runtime(0).state, ::suanli::JobState::kRunning);
  EXPECT_EQ(sched.ExpectedEnd(0), Seconds(110));
  // Adopting twice, or onto busy devices, changes nothing.
  EXPECT_FALSE(sched.Adopt(0, alloc, Seconds(10), Seconds(50)));
  Allocation wrong_model = alloc;
  wrong_model.model = 1;
  EXPECT_FALSE(sched.Adopt(2, wrong_model, Seconds(10), Seconds(50)));
  EXPECT_FALSE(sched.Adopt(2, alloc, Seconds(10), Seconds(50)));
  sched.Submit(1, Seconds(60));
  sched.Submit(2, Seconds(60));
  Rng rng(1);
  PassResult p = sched.Pass(Seconds(60), rng);
  // The 4-GPU job cannot start beside the adopted one (fifo: it blocks the queue).
  EXPECT_TRUE(p.decisions.empty());
  sched.Finish(0, Seconds(70));
  p = sched.Pass(Seconds(70), rng);
  ASSERT_EQ(p.decisions.size(), 1u);
  EXPECT_EQ(p.decisions[0].job, 1u);
  EXPECT_EQ(p.decisions[0].alloc.NumDevices(), 4);
  // A finished slot can be adopted again (the control plane reuses slots).
  sched.Finish(1, Seconds(80));
  EXPECT_TRUE(sched.Adopt(0, alloc, Seconds(80), Seconds(80)));
}

}  // namespace
}  // namespace suanli::live
