// Preemption and requeue in the live control plane keep what a job has done,
// as the simulator does (attained service, work left, the time it was queued
// again), and every run of a job is kept and metered as an attempt. The
// control plane runs simulated centers on a clock of the test's own, so that
// its times can be compared with the simulator's to the second.
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <vector>

#include "io/model_loader.h"
#include "io/sources.h"
#include "live/control.h"
#include "live/store.h"
#include "sim/engine.h"
#include "support/cli.h"

namespace suanli::live {
namespace {

namespace fs = std::filesystem;
using suanli::testing::Source;

const Caller kAdmin{"admin", true};
const Caller kTenant{"t", false};

// A fresh directory, removed at the end.
class Scratch {
 public:
  Scratch() {
    std::string tmpl = (fs::temp_directory_path() / "suanli-preempt-test.XXXXXX").string();
    if (char* d = ::mkdtemp(tmpl.data())) path_ = d;
  }
  ~Scratch() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A control plane on the lab network (tests/data/lab-network.yaml: center
// `a` has one node of 32 A100s), all simulated, on a clock the test moves.
class Lab {
 public:
  static constexpr WallMs kBase{1'767'225'600'000};  // 2026-01-01T00:00:00Z

  explicit Lab(const std::string& policy) {
    ServerConfig c;
    c.data_dir = dir_.path() + "/data";
    c.network = Source("tests/data/lab-network.yaml");
    c.policy = policy;
    c.pass_interval_ms = 3'600'000;  // passes when the test asks (and on submissions)
    c.durable = false;
    c.clock = [this] { return CoreTime(now_.load()); };  // µs
    auto cp = ControlPlane::Start(c);
    EXPECT_TRUE(cp.ok()) << cp.status().message();
    if (cp.ok()) cp_ = std::move(cp).value();
  }
  ~Lab() {
    if (cp_) cp_->Stop();
  }
  ControlPlane* cp() { return cp_.get(); }
  int64_t seconds() const { return (now_.load() - kBase) / 1000; }

  // Moves the clock second by second up to `t` seconds after the start,
  // with passes at each second (decisions, then their launches and cancels,
  // then what came of them).
  void RunTo(int64_t t) {
    for (int64_t s = seconds(); s <= t; ++s) {
      now_ = kBase + s * 1000;
      for (int i = 0; i < 3; ++i) cp_->PassNow();
    }
  }
  // Submits a job of the workload's kind (32 A100s, `work` seconds) now.
  int64_t Submit(int64_t work_s) {
    JobSpec s;
    s.command = {"train"};
    s.gpus = 32;
    s.cpu_milli = 1000;
    s.mem_mib = 1024;
    s.models = {"A100-80GB"};
    s.time_limit_s = work_s;
    s.duration_s = work_s;
    auto r = cp_->Submit(kTenant, s);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r->id : 0;
  }
  JobRecord Get(int64_t id) {
    auto r = cp_->Get(kAdmin, id);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : JobRecord{};
  }
  bool Ended(const std::vector<int64_t>& ids) {
    for (int64_t id : ids)
      if (!IsTerminal(Get(id).state)) return false;
    return true;
  }
  void AddTenant() {
    Tenant t;
    t.name = "t";
    ASSERT_TRUE(cp_->CreateTenant(kAdmin, t).ok());
  }

 private:
  Scratch dir_;
  std::atomic<WallMs> now_{kBase};
  std::unique_ptr<ControlPlane> cp_;
};

// The simulator's run of a workload of tests/data on the lab network.
SimResult Simulated(const std::string& workload, const std::string& policy) {
  const Catalog& cat = BuiltinCatalog();
  auto net = LoadNetwork(Source("tests/data/lab-network.yaml"), cat);
  EXPECT_TRUE(net.ok()) << net.status().message();
  auto w = LoadWorkload(Source("tests/data/" + workload), "", cat, {}, nullptr);
  EXPECT_TRUE(w.ok()) << w.status().message();
  auto spec = ParsePolicySpec(policy);
  EXPECT_TRUE(spec.ok());
  auto res = Simulate(*w, *net, cat, *spec, SimOptions{});
  EXPECT_TRUE(res.ok()) << res.status().message();
  return res.ok() ? *res : SimResult{};
}

double UsageGpuSeconds(ControlPlane& cp) {
  auto usage = cp.Usage(kAdmin, WallMs{}, WallMs{});
  EXPECT_TRUE(usage.ok());
  double s = 0;
  if (usage.ok())
    for (const auto& u : *usage) s += u.gpu_seconds;
  return s;
}

// Each attempt is metered on its own; the job's figures are their sums.
void ExpectAttemptsAddUp(const JobRecord& r) {
  double gpu_s = 0, kwh = 0;
  for (size_t i = 0; i < r.attempts.size(); ++i) {
    const JobAttempt& a = r.attempts[i];
    EXPECT_EQ(a.n, static_cast<int>(i) + 1);
    EXPECT_EQ(a.center, "a");
    EXPECT_EQ(a.devices.size(), 32u);
    EXPECT_NEAR(a.gpu_seconds, 32.0 * static_cast<double>(a.end_ms - a.start_ms) / 1000.0, 1e-6);
    EXPECT_GT(a.energy_kwh, 0);
    gpu_s += a.gpu_seconds;
    kwh += a.energy_kwh;
  }
  EXPECT_NEAR(r.gpu_seconds, gpu_s, 1e-6);
  EXPECT_NEAR(r.energy_kwh, kwh, 1e-9);
}

// Two 32-GPU jobs on one 32-GPU center under LAS: each preemption keeps the
// job's attained service, so they take turns as the simulator's do and both
// finish (with the service reset at requeue, the one preempted came back
// with none, preempted the other at once, and neither ever finished).
TEST(LivePreemption, LasPairFinishesAsInTheSimulator) {
  const SimResult sim = Simulated("las-pair.csv", "las");
  ASSERT_EQ(sim.jobs.size(), 2u);
  ASSERT_GT(sim.summary.preemptions, 0u);
  Lab lab("las");
  ASSERT_TRUE(lab.cp());
  lab.AddTenant();
  lab.RunTo(0);
  const int64_t first = lab.Submit(3000);
  lab.RunTo(5);
  const int64_t second = lab.Submit(3000);
  const int64_t horizon = ToSeconds(std::max(sim.jobs[JobId{0}].end, sim.jobs[JobId{1}].end)) + 60;
  lab.RunTo(horizon);
  ASSERT_TRUE(lab.Ended({first, second}));
  uint64_t preemptions = 0;
  double gpu_s = 0;
  for (int i = 0; i < 2; ++i) {
    const JobRecord r = lab.Get(i == 0 ? first : second);
    EXPECT_EQ(r.state, JobState::kSucceeded) << r.reason;
    ASSERT_FALSE(r.attempts.empty());
    for (size_t k = 0; k + 1 < r.attempts.size(); ++k) EXPECT_EQ(r.attempts[k].outcome, "preempted");
    EXPECT_EQ(r.attempts.back().outcome, "succeeded");
    preemptions += r.attempts.size() - 1;
    // As in the simulator, to the second the live passes are apart.
    EXPECT_NEAR(static_cast<double>(r.end_ms - Lab::kBase) / 1000.0, ToSeconds(sim.jobs.vec()[i].end), 5.0) << i;
    ExpectAttemptsAddUp(r);
    gpu_s += r.gpu_seconds;
  }
  EXPECT_EQ(preemptions, sim.summary.preemptions);
  // Every second of every attempt is metered: 2 x 3000 s on 32 accelerators.
  EXPECT_NEAR(gpu_s, 2 * 32 * 3000.0, 32 * 2.0 * static_cast<double>(preemptions + 2));
  EXPECT_NEAR(UsageGpuSeconds(*lab.cp()), gpu_s, 1e-6);
}

// SRTF: the long job, preempted by a short one, resumes with the work it had
// left and ends when the simulator says (not 10 s later, as a run from zero).
TEST(LivePreemption, SrtfPreemptedJobResumesWithItsRemainingWork) {
  const SimResult sim = Simulated("srtf-pair.csv", "srtf");
  ASSERT_EQ(sim.jobs.size(), 2u);
  ASSERT_EQ(sim.summary.preemptions, 1u);
  Lab lab("srtf");
  ASSERT_TRUE(lab.cp());
  lab.AddTenant();
  lab.RunTo(0);
  const int64_t longer = lab.Submit(100);
  lab.RunTo(10);
  const int64_t shorter = lab.Submit(20);
  lab.RunTo(ToSeconds(std::max(sim.jobs[JobId{0}].end, sim.jobs[JobId{1}].end)) + 30);
  ASSERT_TRUE(lab.Ended({longer, shorter}));
  const JobRecord a = lab.Get(longer), b = lab.Get(shorter);
  EXPECT_EQ(a.state, JobState::kSucceeded) << a.reason;
  EXPECT_EQ(b.state, JobState::kSucceeded) << b.reason;
  EXPECT_EQ(a.end_ms - Lab::kBase, sim.jobs[JobId{0}].end / kMilli);
  EXPECT_EQ(b.end_ms - Lab::kBase, sim.jobs[JobId{1}].end / kMilli);
  EXPECT_EQ(a.end_ms - Lab::kBase, 120'000);
  // The long job ran twice: preempted at 10 s, then from 30 s to its end.
  ASSERT_EQ(a.attempts.size(), 2u);
  EXPECT_EQ(a.attempts[0].outcome, "preempted");
  EXPECT_EQ(a.attempts[0].start_ms - Lab::kBase, 0);
  EXPECT_EQ(a.attempts[0].end_ms - Lab::kBase, 10'000);
  EXPECT_EQ(a.attempts[1].outcome, "succeeded");
  EXPECT_EQ(a.attempts[1].start_ms - Lab::kBase, 30'000);
  ExpectAttemptsAddUp(a);
  EXPECT_NEAR(a.gpu_seconds, 32 * (10.0 + 90.0), 1e-6);
  ASSERT_EQ(b.attempts.size(), 1u);
  EXPECT_NEAR(UsageGpuSeconds(*lab.cp()), a.gpu_seconds + b.gpu_seconds, 1e-6);
  EXPECT_NEAR(UsageGpuSeconds(*lab.cp()), 32 * (100.0 + 20.0), 1e-6);
}

// The attempts are durable: a new server on the same data directory shows
// them (and the store keeps them in their own table).
TEST(LivePreemption, AttemptsSurviveARestart) {
  Scratch dir;
  ServerConfig c;
  c.data_dir = dir.path() + "/data";
  c.network = Source("tests/data/lab-network.yaml");
  c.policy = "srtf";
  c.pass_interval_ms = 3'600'000;
  c.durable = false;
  std::atomic<WallMs> now{Lab::kBase};
  c.clock = [&] { return CoreTime(now.load()); };  // µs
  int64_t id = 0;
  {
    auto cp = ControlPlane::Start(c);
    ASSERT_TRUE(cp.ok()) << cp.status().message();
    Tenant t;
    t.name = "t";
    ASSERT_TRUE((*cp)->CreateTenant(kAdmin, t).ok());
    JobSpec s;
    s.command = {"train"};
    s.gpus = 32;
    s.models = {"A100-80GB"};
    s.time_limit_s = 100;
    s.duration_s = 100;
    auto a = (*cp)->Submit(kTenant, s);
    ASSERT_TRUE(a.ok());
    id = a->id;
    for (int i = 0; i < 3; ++i) (*cp)->PassNow();
    now = now.load() + 10'000;
    s.time_limit_s = s.duration_s = 20;
    ASSERT_TRUE((*cp)->Submit(kTenant, s).ok());
    for (int i = 0; i < 3; ++i) (*cp)->PassNow();
    auto r = (*cp)->Get(kAdmin, id);
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->attempts.size(), 1u);
    EXPECT_EQ(r->attempts[0].outcome, "preempted");
    (*cp)->Stop();
  }
  auto store = Store::Open(c.data_dir + "/suanli.db");
  ASSERT_TRUE(store.ok()) << store.status().message();
  auto got = (*store)->GetJob(id);
  ASSERT_TRUE(got.ok() && got->has_value());
  ASSERT_EQ((*got)->attempts.size(), 1u);
  EXPECT_EQ((*got)->attempts[0].outcome, "preempted");
  EXPECT_EQ((*got)->attempts[0].end_ms - (*got)->attempts[0].start_ms, 10'000);
  EXPECT_NEAR((*got)->attempts[0].gpu_seconds, 320, 1e-6);
  EXPECT_NEAR((*got)->gpu_seconds, 320, 1e-6);
  auto active = (*store)->LoadActive();
  ASSERT_TRUE(active.ok());
  bool found = false;
  for (const auto& j : *active)
    if (j.id == id) {
      found = true;
      EXPECT_EQ(j.attempts.size(), 1u);
    }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace suanli::live
