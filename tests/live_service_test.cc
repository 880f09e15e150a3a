// Inference services live (docs/services.md): a job with `replicas` is a
// service of that many replicas, each a job of its own, placed only at
// centers within `latency_ms` of its users' `region`, run with no time
// limit, started again after a backoff when it ends, scaled through the API,
// and metered hour by hour while it runs. Simulated centers on a clock of the
// test's own, and the local backend with real processes.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "base/time.h"
#include "live/control.h"
#include "support/live_control.h"

namespace suanli::live {
namespace {

using testing::live_control::kAdmin;
using testing::live_control::LocalConfig;
using testing::live_control::ScratchDir;
using testing::live_control::Sh;
using testing::live_control::SimulatedConfig;
using testing::live_control::StartOrDie;
using testing::live_control::WaitFor;
using testing::live_control::WriteText;

// East in Shanghai (one node of 8 A100s), west in Chengdu (two of 8 V100s);
// users in Shanghai (about 0.1 ms from east, 25 ms from west) and in Lhasa
// (19 ms from west at the nearest).
constexpr const char* kNetwork = R"(name: edge-test
centers:
  - name: east
    region: east
    lat: 31.2
    lon: 121.5
    pue: 1.3
    price_per_kwh: 0.6
    carbon_g_per_kwh: 570
    pools:
      - name: gpu
        nodes:
          - {count: 1, prefix: east-a100-, accelerator: A100-80GB, devices: 8, cpu: 64, memory_gib: 512}
  - name: west
    region: west
    lat: 30.7
    lon: 104.1
    pue: 1.1
    price_per_kwh: 0.35
    carbon_g_per_kwh: 200
    pools:
      - name: gpu
        nodes:
          - {count: 2, prefix: west-v100-, accelerator: V100-32GB, devices: 8, cpu: 48, memory_gib: 384}
links:
  - {from: east, to: west, latency_ms: 30, bandwidth_gbps: 100}
regions:
  - {name: shanghai, lat: 31.23, lon: 121.47}
  - {name: lhasa, lat: 29.65, lon: 91.1}
)";

const Caller kAlice{"alice", false};
const Caller kBob{"bob", false};

// The network above on the test's clock; passes when the test asks.
class Edge {
 public:
  explicit Edge(int64_t backoff_s = 10) : now_(*ParseRfc3339("2026-12-07T10:00:00Z")) {
    WriteText(dir_ / "net.yaml", kNetwork);
    config_ = SimulatedConfig(dir_ / "data", dir_ / "net.yaml");
    config_.pass_interval_ms = 3'600'000;
    config_.restart_backoff_s = backoff_s;
    config_.clock = [this] { return CoreTime(now_.load()); };
    cp_ = StartOrDie(config_);
    for (const char* name : {"alice", "bob"}) {
      Tenant t;
      t.name = name;
      EXPECT_TRUE(cp_->CreateTenant(kAdmin, t).ok());
    }
    Passes();
  }
  ~Edge() {
    if (cp_) cp_->Stop();
  }
  ControlPlane& cp() { return *cp_; }
  WallMs now() const { return now_.load(); }
  void Passes() {
    for (int i = 0; i < 3; ++i) cp_->PassNow();
  }
  void Advance(int64_t s) {
    now_ = now_.load() + s * 1000;
    Passes();
  }
  JobRecord Get(int64_t id) { return *cp_->Get(kAdmin, id); }
  // The server stopped and started again on the same data, at the same time.
  void Restart() {
    cp_->Stop();
    cp_ = StartOrDie(config_);
    Passes();
  }

 private:
  ScratchDir dir_;
  ServerConfig config_;
  std::atomic<WallMs> now_;
  std::unique_ptr<ControlPlane> cp_;
};

JobSpec Service(uint32_t replicas, uint32_t gpus, const std::string& region, int64_t latency_ms) {
  JobSpec s;
  s.command = {"serve"};
  s.gpus = gpus;
  s.time_limit_s = 60;
  s.workload_class = "inference";
  s.replicas = replicas;
  s.region = region;
  s.latency_ms = latency_ms;
  return s;
}

std::vector<int64_t> Ids(const std::vector<JobRecord>& v) {
  std::vector<int64_t> ids;
  for (const JobRecord& r : v) ids.push_back(r.id);
  return ids;
}

TEST(LiveServices, ReplicasArePlacedOnlyWithinTheirLatencyBound) {
  Edge net;
  // Three replicas of 4 A100-or-V100s within 10 ms of Shanghai: east holds
  // two; the third waits for east, though west has room.
  auto svc = net.cp().Submit(kAlice, Service(3, 4, "shanghai", 10));
  ASSERT_TRUE(svc.ok()) << svc.status().message();
  EXPECT_EQ(svc->service, svc->id);
  net.Passes();
  auto replicas = net.cp().Replicas(kAlice, svc->id);
  ASSERT_TRUE(replicas.ok()) << replicas.status().message();
  ASSERT_EQ(replicas->size(), 3u);
  EXPECT_EQ(Ids(*replicas), (std::vector<int64_t>{svc->id, svc->id + 1, svc->id + 2}));
  int running = 0;
  for (const JobRecord& r : *replicas) {
    EXPECT_EQ(r.service, svc->id);
    EXPECT_EQ(r.spec.replicas, 3u);
    if (r.state == JobState::kRunning) {
      ++running;
      EXPECT_EQ(r.center, "east");
    } else {
      EXPECT_EQ(r.state, JobState::kPending);
      EXPECT_NE(r.center, "west");
      EXPECT_FALSE(r.reason.empty());
    }
  }
  EXPECT_EQ(running, 2);
  // A batch job has no bound: west.
  JobSpec batch;
  batch.command = {"train"};
  batch.gpus = 8;
  batch.time_limit_s = 600;
  auto b = net.cp().Submit(kAlice, batch);
  ASSERT_TRUE(b.ok());
  net.Passes();
  EXPECT_EQ(net.Get(b->id).center, "west");
  EXPECT_EQ(net.Get(b->id).service, 0);
  // With a looser bound (30 ms) a replica may go west.
  auto loose = net.cp().Submit(kAlice, Service(1, 4, "shanghai", 30));
  ASSERT_TRUE(loose.ok());
  net.Passes();
  EXPECT_EQ(net.Get(loose->id).state, JobState::kRunning);
  EXPECT_EQ(net.Get(loose->id).center, "west");
}

TEST(LiveServices, ABadRegionOrABoundNoCenterMeetsIsRefusedAtSubmission) {
  Edge net;
  auto unknown = net.cp().Submit(kAlice, Service(1, 1, "mars", 10));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().field(), "region");
  EXPECT_NE(unknown.status().message().find("shanghai, lhasa"), std::string::npos) << unknown.status().message();
  auto tight = net.cp().Submit(kAlice, Service(1, 1, "lhasa", 5));
  ASSERT_FALSE(tight.ok());
  EXPECT_EQ(tight.status().field(), "latency_ms");
  EXPECT_NE(tight.status().message().find("the nearest: west"), std::string::npos) << tight.status().message();
  // Region and bound are a service's.
  auto batch = net.cp().Submit(kAlice, Service(0, 1, "shanghai", 10));
  ASSERT_FALSE(batch.ok());
  EXPECT_EQ(batch.status().field(), "region");
  JobSpec bound_only = Service(1, 1, "", 10);
  auto no_region = net.cp().Submit(kAlice, bound_only);
  ASSERT_FALSE(no_region.ok());
  EXPECT_EQ(no_region.status().field(), "latency_ms");
  JobSpec with_deadline = Service(1, 1, "shanghai", 10);
  with_deadline.deadline = "2026-12-08T10:00:00Z";
  auto dl = net.cp().Submit(kAlice, with_deadline);
  ASSERT_FALSE(dl.ok());
  EXPECT_EQ(dl.status().field(), "deadline");
  auto many = net.cp().Submit(kAlice, Service(kMaxReplicas + 1, 1, "shanghai", 10));
  ASSERT_FALSE(many.ok());
  EXPECT_EQ(many.status().field(), "replicas");
}

TEST(LiveServices, AReplicaOutlivesItsTimeLimitAndIsStartedAgainAfterABackoffWhenItEnds) {
  Edge net(10);
  JobSpec s = Service(1, 1, "shanghai", 10);
  s.duration_s = 100;  // the simulated replica "exits" after 100 s
  auto svc = net.cp().Submit(kAlice, s);
  ASSERT_TRUE(svc.ok());
  net.Passes();
  const WallMs start = net.Get(svc->id).start_ms;
  ASSERT_EQ(net.Get(svc->id).state, JobState::kRunning);
  net.Advance(61);  // past its time_limit_s (60): no limit for a replica
  EXPECT_EQ(net.Get(svc->id).state, JobState::kRunning);
  net.Advance(40);  // it ended at 100 s: waits out 10 s
  JobRecord r = net.Get(svc->id);
  EXPECT_EQ(r.state, JobState::kPending);
  EXPECT_NE(r.reason.find("restarting at "), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("(backoff 10 s)"), std::string::npos) << r.reason;
  ASSERT_EQ(r.attempts.size(), 1u);
  EXPECT_EQ(r.attempts[0].outcome, "succeeded");
  EXPECT_EQ(r.attempts[0].end_ms - r.attempts[0].start_ms, 100'000);
  EXPECT_EQ(r.attempts[0].start_ms, start);
  EXPECT_EQ(r.events.back().kind, "restarting");
  EXPECT_EQ(r.est_start_ms, net.now() + 10'000);  // when it starts again: 10 s after the pass that saw it end
  EXPECT_NE(r.events.back().message.find("started again after 10 s (backoff)"), std::string::npos)
      << r.events.back().message;
  // The service still counts it.
  EXPECT_EQ(net.cp().Replicas(kAlice, svc->id)->size(), 1u);
  net.Advance(5);
  EXPECT_EQ(net.Get(svc->id).state, JobState::kPending);
  net.Advance(6);
  r = net.Get(svc->id);
  ASSERT_EQ(r.state, JobState::kRunning) << r.reason;
  EXPECT_EQ(r.center, "east");
  // A second quick end in a row doubles the backoff.
  net.Advance(101);
  r = net.Get(svc->id);
  EXPECT_EQ(r.state, JobState::kPending);
  EXPECT_NE(r.reason.find("(backoff 20 s)"), std::string::npos) << r.reason;
  EXPECT_EQ(r.attempts.size(), 2u);
  // Cancelled while it waits: it ends, and is not started again.
  auto c = net.cp().Cancel(kAlice, svc->id);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->state, JobState::kCancelled);
  EXPECT_EQ(c->reason, "cancelled by alice before it started again");
  net.Advance(30);
  EXPECT_EQ(net.Get(svc->id).state, JobState::kCancelled);
  EXPECT_TRUE(net.cp().Replicas(kAlice, svc->id)->empty());
}

// A server started again while a replica waits out its backoff: the
// replica waits the rest of it (the time is in the store), then runs.
TEST(LiveServices, ABackoffOutlastsAServerRestart) {
  Edge net(60);
  JobSpec s = Service(1, 1, "shanghai", 10);
  s.duration_s = 100;
  auto svc = net.cp().Submit(kAlice, s);
  ASSERT_TRUE(svc.ok());
  net.Passes();
  ASSERT_EQ(net.Get(svc->id).state, JobState::kRunning);
  net.Advance(110);  // it ended at 100 s, seen at 110 s: due again at 170 s
  ASSERT_EQ(net.Get(svc->id).state, JobState::kPending);
  const WallMs due = net.Get(svc->id).est_start_ms;
  ASSERT_EQ(due, net.now() + 60'000);
  net.Restart();
  net.Advance(50);  // 160 s: still waiting, with its reason
  JobRecord r = net.Get(svc->id);
  EXPECT_EQ(r.state, JobState::kPending);
  EXPECT_NE(r.reason.find("(backoff 60 s)"), std::string::npos) << r.reason;
  EXPECT_EQ(r.est_start_ms, due);
  EXPECT_EQ(net.cp().Replicas(kAlice, svc->id)->size(), 1u);
  net.Advance(11);  // 171 s
  r = net.Get(svc->id);
  ASSERT_EQ(r.state, JobState::kRunning) << r.reason;
  std::vector<std::string> kinds;
  for (const JobEvent& e : r.events) kinds.push_back(e.kind);
  ASSERT_GE(kinds.size(), 4u);
  EXPECT_EQ(std::vector<std::string>(kinds.end() - 4, kinds.end()),
            (std::vector<std::string>{"restarting", "restarted", "dispatched", "started"}));
  EXPECT_GE(r.start_ms, due);
}

// A replica waiting out its backoff still uses its dataset: deleting the
// dataset then is refused, as for a pending or running job.
TEST(LiveServices, AReplicaWaitingToStartAgainHoldsItsDataset) {
  Edge net;
  Dataset d;
  d.name = "weights";
  d.center = "east";
  d.size_bytes = 1'000'000;
  ASSERT_TRUE(net.cp().RegisterDataset(kAlice, d).ok());
  JobSpec s = Service(1, 1, "shanghai", 10);
  s.duration_s = 30;
  s.dataset = "weights";
  auto svc = net.cp().Submit(kAlice, s);
  ASSERT_TRUE(svc.ok()) << svc.status().message();
  net.Passes();
  ASSERT_EQ(net.Get(svc->id).state, JobState::kRunning);
  net.Advance(31);
  ASSERT_NE(net.Get(svc->id).reason.find("restarting at"), std::string::npos) << net.Get(svc->id).reason;
  Status del = net.cp().DeleteDataset(kAlice, "weights");
  EXPECT_EQ(del.code(), StatusCode::kFailedPrecondition) << del.message();
  EXPECT_NE(del.message().find(std::to_string(svc->id)), std::string::npos) << del.message();
  net.Advance(11);
  EXPECT_EQ(net.Get(svc->id).state, JobState::kRunning) << net.Get(svc->id).reason;
}

TEST(LiveServices, ScaledUpAndDownByItsOwnerOnly) {
  Edge net;
  auto svc = net.cp().Submit(kAlice, Service(2, 1, "shanghai", 10));
  ASSERT_TRUE(svc.ok());
  net.Passes();
  const int64_t s = svc->id;
  // Another tenant sees no such service.
  EXPECT_EQ(net.cp().Replicas(kBob, s).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(net.cp().Scale(kBob, s, 5).status().code(), StatusCode::kNotFound);
  // A batch job is no service.
  JobSpec batch;
  batch.command = {"train"};
  batch.gpus = 1;
  auto b = net.cp().Submit(kAlice, batch);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(net.cp().Replicas(kAlice, b->id).status().code(), StatusCode::kNotFound);

  auto up = net.cp().Scale(kAlice, s, 4);
  ASSERT_TRUE(up.ok()) << up.status().message();
  ASSERT_EQ(up->size(), 4u);
  net.Passes();
  const std::vector<JobRecord> after = *net.cp().Replicas(kAlice, s);
  for (const JobRecord& r : after) {
    EXPECT_EQ(r.service, s);
    EXPECT_EQ(r.state, JobState::kRunning);
    EXPECT_EQ(r.center, "east");
  }
  const std::vector<int64_t> four = Ids(*net.cp().Replicas(kAlice, s));
  // Listed among the caller's services (not bob's; the admin's).
  auto mine = net.cp().Services(kAlice);
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0].first, s);
  EXPECT_EQ(Ids(mine[0].second), four);
  EXPECT_TRUE(net.cp().Services(kBob).empty());
  EXPECT_EQ(net.cp().Services(kAdmin).size(), 1u);
  EXPECT_EQ(net.Get(four[3]).events.front().message,
            "added by alice: service " + std::to_string(s) + " scaled from 2 to 4 replicas");
  // Down to one: the newest three go.
  auto down = net.cp().Scale(kAlice, s, 1);
  ASSERT_TRUE(down.ok()) << down.status().message();
  EXPECT_EQ(Ids(*down), (std::vector<int64_t>{s}));
  net.Passes();
  for (size_t i = 1; i < four.size(); ++i) EXPECT_EQ(net.Get(four[i]).state, JobState::kCancelled) << four[i];
  EXPECT_EQ(net.Get(s).state, JobState::kRunning);
  // Every replica, ended or not, is listed by service.
  JobFilter f;
  f.service = s;
  auto all = net.cp().List(kAlice, f);
  ASSERT_TRUE(all.ok());
  std::vector<int64_t> listed = Ids(*all);
  std::sort(listed.begin(), listed.end());
  EXPECT_EQ(listed, four);
  // Down to none, and up again from its first replica's spec.
  ASSERT_TRUE(net.cp().Scale(kAlice, s, 0).ok());
  net.Passes();
  EXPECT_TRUE(net.cp().Replicas(kAlice, s)->empty());
  auto again = net.cp().Scale(kAlice, s, 1);
  ASSERT_TRUE(again.ok()) << again.status().message();
  ASSERT_EQ(again->size(), 1u);
  net.Passes();
  EXPECT_EQ(net.Get(again->front().id).state, JobState::kRunning);
  EXPECT_EQ(net.Get(again->front().id).spec.region, "shanghai");
  EXPECT_EQ(net.cp().Scale(kAlice, s, kMaxReplicas + 1).status().field(), "replicas");
}

TEST(LiveServices, EveryReplicaCountsAgainstItsTenantsActiveJobs) {
  Edge net;
  Tenant carol;
  carol.name = "carol";
  carol.max_active_jobs = 3;
  ASSERT_TRUE(net.cp().CreateTenant(kAdmin, carol).ok());
  const Caller kCarol{"carol", false};
  auto big = net.cp().Submit(kCarol, Service(4, 1, "shanghai", 10));
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), StatusCode::kResourceExhausted);
  auto svc = net.cp().Submit(kCarol, Service(2, 1, "shanghai", 10));
  ASSERT_TRUE(svc.ok()) << svc.status().message();
  net.Passes();
  auto over = net.cp().Scale(kCarol, svc->id, 4);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(net.cp().Replicas(kCarol, svc->id)->size(), 2u);  // refused whole
  EXPECT_TRUE(net.cp().Scale(kCarol, svc->id, 3).ok());
  EXPECT_EQ(net.cp().Replicas(kCarol, svc->id)->size(), 3u);
}

TEST(LiveServices, ARunningReplicaIsMeteredHourByHourBeforeItEnds) {
  Edge net;
  auto svc = net.cp().Submit(kAlice, Service(1, 2, "shanghai", 10));
  ASSERT_TRUE(svc.ok());
  net.Passes();
  const WallMs start = net.Get(svc->id).start_ms;
  net.Advance(2 * 3600);
  ASSERT_EQ(net.Get(svc->id).state, JobState::kRunning);
  auto u = net.cp().Usage(kAlice, start, WallMs{});
  ASSERT_TRUE(u.ok()) << u.status().message();
  ASSERT_EQ(u->size(), 1u);
  EXPECT_EQ((*u)[0].tenant, "alice");
  EXPECT_EQ((*u)[0].center, "east");
  EXPECT_NEAR((*u)[0].gpu_seconds, 2.0 * 2 * 3600, 1.0);
  EXPECT_GT((*u)[0].energy_kwh, 0);
  EXPECT_EQ((*u)[0].jobs, 0);  // none ended
  // The first hour alone.
  auto first = net.cp().Usage(kAlice, start, start + 3'600'000);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 1u);
  EXPECT_NEAR((*first)[0].gpu_seconds, 2.0 * 3600, 1.0);
  // Bob sees none of it.
  EXPECT_TRUE(net.cp().Usage(kBob, start, WallMs{})->empty());
}

// The local backend: real processes. A replica that fails is started again
// (a new attempt, SUANLI_ATTEMPT counting up); one that outlives its
// time_limit_s is not stopped.
TEST(LiveServices, LocalReplicasAreRestartedWhenTheyFailAndHaveNoTimeLimit) {
  ScratchDir dir;
  ServerConfig c = LocalConfig(dir / "data", 4);
  c.restart_backoff_s = 1;
  auto cp = StartOrDie(c);
  ASSERT_TRUE(cp);
  JobSpec crash = Sh("echo attempt $SUANLI_ATTEMPT; sleep 0.2; exit 3");
  crash.replicas = 1;
  auto svc = cp->Submit(kAdmin, crash);
  ASSERT_TRUE(svc.ok()) << svc.status().message();
  ASSERT_TRUE(WaitFor(
      *cp, [&] { return cp->Get(kAdmin, svc->id)->attempts.size() >= 2; }, 30));
  JobRecord r = *cp->Get(kAdmin, svc->id);
  EXPECT_FALSE(IsTerminal(r.state));
  EXPECT_EQ(r.attempts[0].outcome, "failed");
  EXPECT_EQ(r.attempts[1].outcome, "failed");
  EXPECT_GE(r.attempts[1].start_ms - r.attempts[0].end_ms, 1000);  // its backoff
  ASSERT_TRUE(cp->Cancel(kAdmin, svc->id).ok());

  JobSpec steady = Sh("sleep 30");
  steady.replicas = 1;
  steady.time_limit_s = 1;
  auto s2 = cp->Submit(kAdmin, steady);
  ASSERT_TRUE(s2.ok());
  ASSERT_TRUE(WaitFor(*cp, [&] { return cp->Get(kAdmin, s2->id)->state == JobState::kRunning; }));
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(WaitFor(
      *cp, [&] { return std::chrono::steady_clock::now() - started > std::chrono::milliseconds(2500); }, 10));
  r = *cp->Get(kAdmin, s2->id);
  EXPECT_EQ(r.state, JobState::kRunning) << r.reason;
  EXPECT_TRUE(r.attempts.empty());
  ASSERT_TRUE(cp->Cancel(kAdmin, s2->id).ok());
  ASSERT_TRUE(WaitFor(*cp, [&] { return IsTerminal(cp->Get(kAdmin, s2->id)->state); }));
  EXPECT_EQ(cp->Get(kAdmin, s2->id)->state, JobState::kCancelled);
}

}  // namespace
}  // namespace suanli::live
