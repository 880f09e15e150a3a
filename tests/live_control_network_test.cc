// The live control plane on a simulated network: dispatch to several
// centers with metering, the heterogeneity-aware dispatcher on the loop
// thread, local centers beside and instead of the network's, and the
// estimated start of pending jobs.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/model/energy.h"
#include "io/model_loader.h"
#include "live/control.h"
#include "support/live_control.h"

namespace suanli::live {
namespace {

using Clock = std::chrono::steady_clock;
using ::suanli::testing::live_control::AllEnded;
using ::suanli::testing::live_control::Gpu;
using ::suanli::testing::live_control::kAdmin;
using ::suanli::testing::live_control::kAlice;
using ::suanli::testing::live_control::kBob;
using ::suanli::testing::live_control::ScratchDir;
using ::suanli::testing::live_control::Sh;
using ::suanli::testing::live_control::SimulatedConfig;
using ::suanli::testing::live_control::StartOrDie;
using ::suanli::testing::live_control::StateOf;
using ::suanli::testing::live_control::WaitFor;
using ::suanli::testing::live_control::WriteText;

// Fills the tiny network's east (32 A100s) with four whole-node jobs of
// alice that run `duration_s` (600 s time limits); returns them once running
// (fewer on a failure, which it reports).
std::vector<int64_t> FillEast(ControlPlane& cp, int64_t duration_s) {
  std::vector<int64_t> fill;
  for (int i = 0; i < 4; ++i) {
    JobSpec s = Gpu(8, duration_s);
    s.center = "east";
    auto r = cp.Submit(kAlice, s);
    EXPECT_TRUE(r.ok()) << r.status().message();
    if (!r.ok()) return {};
    fill.push_back(r->id);
  }
  EXPECT_TRUE(WaitFor(cp, [&] { return StateOf(cp, fill.back()) == JobState::kRunning; }));
  return fill;
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
  auto usage = cp->Usage(kAdmin, WallMs{}, WallMs{});
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
  const std::vector<int64_t> fill = FillEast(*cp, 300);
  ASSERT_EQ(fill.size(), 4u);
  auto held = cp->Submit(kAlice, Gpu(8, 1));
  ASSERT_TRUE(held.ok());
  ASSERT_TRUE(WaitFor(*cp, [&] { return !cp->Get(kAlice, held->id)->center.empty(); }));
  auto rec = cp->Get(kAlice, held->id);
  EXPECT_EQ(rec->state, JobState::kPending);
  EXPECT_EQ(rec->center, "east");
  EXPECT_EQ(rec->model, "A100-80GB");
  ASSERT_TRUE(WaitFor(*cp, [&] { return cp->Get(kAlice, held->id)->reason.starts_with("waiting for resources"); }))
      << cp->Get(kAlice, held->id)->reason;
  EXPECT_NE(cp->Get(kAlice, held->id)->reason.find("; held to model A100-80GB by the dispatcher (heterogeneity-aware)"),
            std::string::npos)
      << cp->Get(kAlice, held->id)->reason;
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

// Estimated starts come from a forward simulation of the center: eight jobs
// queued behind one wave of four start in two waves (the second a time limit
// after the first), not all when the first wave ends.
TEST(LiveControl, PendingJobsBehindOneWaveAreForecastToStartInTurn) {
  ScratchDir dir;
  auto cp = StartOrDie(SimulatedConfig(dir / "data", "tiny"));
  ASSERT_TRUE(cp);
  const std::vector<int64_t> fill = FillEast(*cp, 20);
  ASSERT_EQ(fill.size(), 4u);
  std::vector<int64_t> waiting;
  for (int i = 0; i < 8; ++i) {
    JobSpec s = Gpu(8, 1);
    s.center = "east";
    s.time_limit_s = 120;
    auto r = cp->Submit(kAlice, s);
    ASSERT_TRUE(r.ok());
    waiting.push_back(r->id);
  }
  ASSERT_TRUE(WaitFor(*cp, [&] {
    for (int64_t id : waiting)
      if (auto r = cp->Get(kAlice, id); !r.ok() || r->est_start_ms.ms() == 0) return false;
    return true;
  }));
  const WallMs first_end = cp->Get(kAlice, fill.front())->start_ms + 600'000;
  for (size_t i = 0; i < waiting.size(); ++i) {
    auto r = cp->Get(kAlice, waiting[i]);
    EXPECT_EQ(r->state, JobState::kPending);
    const double want = i < 4 ? 0.0 : 120'000.0;  // the second wave after the first's limit
    EXPECT_NEAR(static_cast<double>(r->est_start_ms - first_end), want, 5'000.0) << "queued job " << i;
  }
  cp->Stop();
}

// Estimates predict a run from its tenant's last runs (the mean share of
// their time limits): alice's last two runs used a tenth of their 600 s
// limits, so her runs are expected to last 60 s; carol's used 0.9. Bob, with
// no history, is predicted from every tenant's last runs: half his limits.
TEST(LiveControl, EstimatesPredictRunsFromTheTenantsLastRuns) {
  ScratchDir dir;
  ServerConfig cfg = SimulatedConfig(dir / "data", "tiny");
  std::atomic<WallMs> now{WallMs(1'800'000'000'000)};
  cfg.clock = [&now] { return CoreTime(now.load()); };  // µs
  auto cp = StartOrDie(cfg);
  ASSERT_TRUE(cp);
  const Caller carol{"carol", false};
  auto submit = [&](const Caller& who, int64_t duration_s) {
    JobSpec s = Gpu(8, duration_s);
    s.center = "east";
    s.time_limit_s = 600;
    auto r = cp->Submit(who, s);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r->id : 0;
  };
  const int64_t a = submit(kAlice, 60), b = submit(kAlice, 60), c = submit(carol, 540), d = submit(carol, 540);
  ASSERT_TRUE(WaitFor(*cp, [&] { return StateOf(*cp, d) == JobState::kRunning; }));
  now.store(WallMs(now.load().ms() + 61'000));
  ASSERT_TRUE(
      WaitFor(*cp, [&] { return StateOf(*cp, a) == JobState::kSucceeded && StateOf(*cp, b) == JobState::kSucceeded; }));
  now.store(WallMs(now.load().ms() + 480'000));
  ASSERT_TRUE(
      WaitFor(*cp, [&] { return StateOf(*cp, c) == JobState::kSucceeded && StateOf(*cp, d) == JobState::kSucceeded; }));
  // East's four nodes busy: alice's two, bob's two; then four wait.
  for (const Caller* who : {&kAlice, &kAlice, &kBob, &kBob}) submit(*who, 60);
  const WallMs started = now.load();
  std::vector<int64_t> q;
  for (const Caller* who : {&kAlice, &kBob, &kBob, &kBob}) q.push_back(submit(*who, 60));
  ASSERT_TRUE(WaitFor(*cp, [&] {
    for (int64_t id : q)
      if (cp->Get(kAdmin, id)->est_start_ms.ms() == 0) return false;
    return true;
  }));
  // Alice's two end 60 s in: the first two start; alice's ends 60 s later
  // and the third starts; the fourth waits for bob's first two, expected
  // at half their limits (the mean of 0.1, 0.1, 0.9 and 0.9), 300 s in.
  const int64_t want[] = {60'000, 60'000, 120'000, 300'000};
  for (size_t i = 0; i < q.size(); ++i)
    EXPECT_EQ(cp->Get(kAdmin, q[i])->est_start_ms.ms() - started.ms(), want[i]) << "queued job " << i;
  cp->Stop();
}

TEST(LiveControl, PendingJobsGetAnEstimatedStart) {
  ScratchDir dir;
  auto cp = StartOrDie(SimulatedConfig(dir / "data", "tiny"));
  ASSERT_TRUE(cp);
  // Fill east's 32 A100s for 20 s, then ask for more A100s.
  const std::vector<int64_t> fill = FillEast(*cp, 20);
  ASSERT_EQ(fill.size(), 4u);
  JobSpec s = Gpu(8, 1);
  s.center = "east";
  s.time_limit_s = 60;
  auto waiting = cp->Submit(kAlice, s);
  ASSERT_TRUE(waiting.ok());
  ASSERT_TRUE(WaitFor(*cp, [&] {
    auto r = cp->Get(kAlice, waiting->id);
    return r.ok() && r->est_start_ms.ms() > 0;
  }));
  auto r = cp->Get(kAlice, waiting->id);
  EXPECT_EQ(r->state, JobState::kPending);
  EXPECT_EQ(r->center, "east");
  // Why it waits, in the words the core gives (the list says the same).
  EXPECT_EQ(r->reason, "waiting for resources: 8 accelerators of any model on one node; not free now");
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
  EXPECT_EQ((*list)[0].reason, r->reason);
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

}  // namespace
}  // namespace suanli::live
