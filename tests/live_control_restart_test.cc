// The live control plane across restarts: a drained center stays drained,
// running jobs are re-adopted and pending ones run exactly once, simulated
// runs keep their devices, runs an earlier server did not finish recording
// are recovered; and Scheduler::Adopt, which re-adoption uses.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/scheduler/scheduler.h"
#include "live/control.h"
#include "live/store.h"
#include "support/fixtures.h"
#include "support/live_control.h"

namespace suanli::live {
namespace {

namespace fs = std::filesystem;
using ::suanli::testing::live_control::AllEnded;
using ::suanli::testing::live_control::Gpu;
using ::suanli::testing::live_control::kAdmin;
using ::suanli::testing::live_control::kAlice;
using ::suanli::testing::live_control::LocalConfig;
using ::suanli::testing::live_control::ReadText;
using ::suanli::testing::live_control::ScratchDir;
using ::suanli::testing::live_control::ShIn;
using ::suanli::testing::live_control::SimulatedConfig;
using ::suanli::testing::live_control::StartOrDie;
using ::suanli::testing::live_control::StateOf;
using ::suanli::testing::live_control::WaitFor;
using ::suanli::testing::live_control::WriteText;

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
  WallMs started{};
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
    r.submit_ms = r.start_ms = WallMs(1'700'000'000'000);
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
  alloc.shares.push_back({NodeId{0}, 0b0011, 1000, 1000, 1024});
  ASSERT_TRUE(sched.Adopt(JobId{0}, alloc, Seconds(10), Seconds(50)));
  EXPECT_EQ(sched.num_running(), 1u);
  EXPECT_EQ(sched.runtime(JobId{0}).state, ::suanli::JobState::kRunning);
  EXPECT_EQ(sched.ExpectedEnd(JobId{0}), Seconds(110));
  // Adopting twice, or onto busy devices, changes nothing.
  EXPECT_FALSE(sched.Adopt(JobId{0}, alloc, Seconds(10), Seconds(50)));
  Allocation wrong_model = alloc;
  wrong_model.model = 1;
  EXPECT_FALSE(sched.Adopt(JobId{2}, wrong_model, Seconds(10), Seconds(50)));
  EXPECT_FALSE(sched.Adopt(JobId{2}, alloc, Seconds(10), Seconds(50)));
  sched.Submit(JobId{1}, Seconds(60));
  sched.Submit(JobId{2}, Seconds(60));
  Rng rng(1);
  PassResult p = sched.Pass(Seconds(60), rng);
  // The 4-GPU job cannot start beside the adopted one (fifo: it blocks the queue).
  EXPECT_TRUE(p.decisions.empty());
  sched.Finish(JobId{0}, Seconds(70));
  p = sched.Pass(Seconds(70), rng);
  ASSERT_EQ(p.decisions.size(), 1u);
  EXPECT_EQ(p.decisions[0].job, JobId{1});
  EXPECT_EQ(p.decisions[0].alloc.NumDevices(), 4);
  // A finished slot can be adopted again (the control plane reuses slots).
  sched.Finish(JobId{1}, Seconds(80));
  EXPECT_TRUE(sched.Adopt(JobId{0}, alloc, Seconds(80), Seconds(80)));
}

// A center that places jobs itself put a running job on other nodes: its
// allocation follows, with the same devices per node, CPU and memory, and
// the nodes it left are free for the next pass.
TEST(LiveControlSchedulerAdopt, ARelocatedJobHoldsItsNewNodesAndFreesItsOldOnes) {
  Catalog cat = testing::TestCatalog();
  Network net = testing::TestNetwork({{0, 3, 4}});
  Workload w;
  Job a;
  a.num_gpus = 2;
  a.cpu_milli = 1000;
  a.mem_mib = 1024;
  a.work = 100;
  w.Add(a, "moved");
  Job b = a;
  b.num_gpus = 4;
  w.Add(b, "blocker");
  Job c = a;
  c.num_gpus = 4;
  w.Add(c, "waits for node 0");
  auto s = Scheduler::Create(*ParsePolicySpec("fifo"), cat, net, w);
  ASSERT_TRUE(s.ok());
  Scheduler& sched = **s;
  Allocation alloc;
  alloc.model = 0;
  alloc.shares.push_back({NodeId{0}, 0b0011, 1000, 1000, 1024});
  ASSERT_TRUE(sched.Adopt(JobId{0}, alloc, Seconds(10), Seconds(10)));
  Allocation whole;
  whole.model = 0;
  whole.shares.push_back({NodeId{2}, 0b1111, 1000, 1000, 1024});
  ASSERT_TRUE(sched.Adopt(JobId{1}, whole, Seconds(10), Seconds(10)));
  // Not running, a node that does not exist, a full node, the wrong number
  // of nodes: nothing moves.
  EXPECT_EQ(sched.Relocate(JobId{2}, {NodeId{1}}), nullptr);
  EXPECT_EQ(sched.Relocate(JobId{0}, {NodeId{7}}), nullptr);
  EXPECT_EQ(sched.Relocate(JobId{0}, {NodeId{2}}), nullptr);
  EXPECT_EQ(sched.Relocate(JobId{0}, {NodeId{1}, NodeId{2}}), nullptr);
  ASSERT_NE(sched.AllocationOf(JobId{0}), nullptr);
  EXPECT_EQ(sched.AllocationOf(JobId{0})->shares[0].node, NodeId{0});
  // Node 1 has room: it moves there, onto node 1's first two devices.
  const Allocation* moved = sched.Relocate(JobId{0}, {NodeId{1}});
  ASSERT_NE(moved, nullptr);
  ASSERT_EQ(moved->shares.size(), 1u);
  EXPECT_EQ(moved->shares[0].node, NodeId{1});
  EXPECT_EQ(moved->shares[0].devices, 0b0011u);
  EXPECT_EQ(moved->shares[0].cpu_milli, 1000);
  EXPECT_EQ(moved->shares[0].mem_mib, 1024);
  EXPECT_EQ(sched.AllocationOf(JobId{0}), moved);
  EXPECT_EQ(sched.state().free_whole(NodeId{1}), 2);
  EXPECT_EQ(sched.state().free_whole(NodeId{0}), 4);
  // Node 0 is whole again: the 4-GPU job starts there at once.
  sched.Submit(JobId{2}, Seconds(20));
  Rng rng(1);
  PassResult p = sched.Pass(Seconds(20), rng);
  ASSERT_EQ(p.decisions.size(), 1u);
  EXPECT_EQ(p.decisions[0].job, JobId{2});
  ASSERT_EQ(p.decisions[0].alloc.shares.size(), 1u);
  EXPECT_EQ(p.decisions[0].alloc.shares[0].node, NodeId{0});
  // Its end frees its new devices, not its old ones.
  sched.Finish(JobId{0}, Seconds(30));
  EXPECT_EQ(sched.AllocationOf(JobId{0}), nullptr);
  EXPECT_EQ(sched.state().free_whole(NodeId{1}), 4);
  EXPECT_EQ(sched.state().free_whole(NodeId{0}), 0);
}

}  // namespace
}  // namespace suanli::live
