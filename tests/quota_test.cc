// Tenant quotas in a cohort (Kueue-style): nominal quota, borrowing, reclaim,
// strict FIFO behind a quota-blocked head, every quota rule kept on random
// workloads, and no effective quota giving the same decisions.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <queue>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "core/model/quota.h"
#include "core/scheduler/scheduler.h"
#include "sim/engine.h"
#include "support/fixtures.h"
#include "support/quota.h"

namespace suanli {
namespace {

using ::suanli::testing::quota::AddJob;
using ::suanli::testing::quota::Jobs;
using ::suanli::testing::quota::Make;
using ::suanli::testing::quota::Spec;
using ::suanli::testing::quota::Tenants;

TEST(Quota, TenantAtNominalCannotExceedItWhileTheOtherUsesItsOwn) {
  Catalog cat = testing::TestCatalog();
  Network net = testing::TestNetwork({{0, 3, 4}});  // 12 devices; the cohort's nominal is 8
  Workload w = Tenants();
  for (int i = 0; i < 4; ++i) AddJob(&w, 1, 0, 1, 1000);           // b: 0..3, its whole nominal
  for (int i = 0; i < 5; ++i) AddJob(&w, 0, Seconds(1), 1, 1000);  // a: 4..8, one beyond its nominal
  auto s = Make("fifo", cat, net, w, Spec({{"a", 4, -1, false}, {"b", 4, -1, false}}));
  Rng rng(1);
  for (JobId j : w.jobs.ids()) s->Submit(j, Seconds(1));
  PassResult p = s->Pass(Seconds(1), rng);
  EXPECT_EQ(Jobs(p, Decision::Kind::kStart), testing::JobSet({0, 1, 2, 3, 4, 5, 6, 7}));
  // Four devices are free, but a may borrow only what b leaves unused: nothing.
  EXPECT_EQ(s->runtime(JobId{8}).state, JobState::kPending);
  EXPECT_EQ(s->state().total_free_milli(), 4000);
  const QuotaUsage* q = s->quota_usage();
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->tenant(TenantId{0}).used, 4000);
  EXPECT_EQ(q->tenant(TenantId{0}).nominal, 4000);
  EXPECT_EQ(q->tenant(TenantId{0}).borrowed(), 0);
  EXPECT_EQ(q->cohort_nominal(), 8000);
  EXPECT_EQ(q->cohort_used(), 8000);
  // b's job ends: a borrows the idle unit at once.
  s->Finish(JobId{0}, Seconds(5));
  p = s->Pass(Seconds(5), rng);
  EXPECT_EQ(Jobs(p, Decision::Kind::kStart), testing::JobSet({8}));
  EXPECT_EQ(q->tenant(TenantId{0}).borrowed(), 1000);
  EXPECT_EQ(q->cohort_borrowed(), 1000);
}

TEST(Quota, SharedJobsCountTheirShare) {
  Catalog cat = testing::TestCatalog();
  Network net = testing::TestNetwork({{0, 1, 4}});
  Workload w = Tenants();
  for (int i = 0; i < 3; ++i) AddJob(&w, 0, 0, 1, 1000, 500);  // half a device each
  auto s = Make("fifo", cat, net, w, Spec({{"a", 1, 0, false}}));
  Rng rng(1);
  for (JobId j : Ids<JobId>(3)) s->Submit(j, 0);
  PassResult p = s->Pass(0, rng);
  EXPECT_EQ(Jobs(p, Decision::Kind::kStart), testing::JobSet({0, 1}));
  EXPECT_EQ(s->quota_usage()->tenant(TenantId{0}).used, 1000);
  EXPECT_EQ(s->runtime(JobId{2}).state, JobState::kPending);
}

TEST(Quota, BorrowsIdleCapacityUpToItsLimit) {
  Catalog cat = testing::TestCatalog();
  Network net = testing::TestNetwork({{0, 2, 4}});  // 8 devices
  Workload w = Tenants();
  for (int i = 0; i < 8; ++i) AddJob(&w, 0, 0, 1, 1000);  // a: 0..7
  JobId big = AddJob(&w, 0, 0, 7, 1000);                  // more than a may ever hold
  JobId b = AddJob(&w, 1, 0, 2, 1000);                    // b: within its nominal
  // 50% nominal, 25% borrowing limit: a holds at most 6 of 8.
  auto s = Make("fifo", cat, net, w, Spec({{"a", 0.5, 0.25, true}, {"b", 0.5, -1, true}}));
  Rng rng(1);
  for (JobId j : Ids<JobId>(8)) s->Submit(j, 0);
  s->Submit(big, 0);
  PassResult p = s->Pass(0, rng);
  EXPECT_EQ(Jobs(p, Decision::Kind::kStart), testing::JobSet({0, 1, 2, 3, 4, 5}));
  ASSERT_EQ(Jobs(p, Decision::Kind::kUnschedulable), std::set<JobId>{big});
  for (const auto& d : p.decisions)
    if (d.kind == Decision::Kind::kUnschedulable) {
      EXPECT_NE(d.reason.find("tenant 'a' may hold at most 6"), std::string::npos) << d.reason;
      EXPECT_NE(d.reason.find("borrowing limit 2"), std::string::npos) << d.reason;
    }
  EXPECT_FALSE(s->WhyNever(w.jobs[big]).empty());
  EXPECT_EQ(s->WhyNever(w.jobs[JobId{0}]), "");
  const QuotaUsage* q = s->quota_usage();
  EXPECT_EQ(q->tenant(TenantId{0}).nominal, 4000);
  EXPECT_EQ(q->tenant(TenantId{0}).borrowing_limit, 2000);
  EXPECT_EQ(q->tenant(TenantId{0}).borrowed(), 2000);
  EXPECT_EQ(s->runtime(JobId{6}).state, JobState::kPending);
  EXPECT_EQ(s->state().total_free_milli(), 2000);
  // b's guaranteed share is still free for it.
  s->Submit(b, Seconds(1));
  p = s->Pass(Seconds(1), rng);
  EXPECT_EQ(Jobs(p, Decision::Kind::kStart), std::set<JobId>{b});
  EXPECT_TRUE(Jobs(p, Decision::Kind::kPreempt).empty());
}

TEST(Quota, CohortNominalBoundsBorrowingForEver) {
  Catalog cat = testing::TestCatalog();
  Network net = testing::TestNetwork({{0, 4, 4}});  // 16 devices, cohort nominal 6
  Workload w = Tenants();
  JobId j = AddJob(&w, 0, 0, 8, 100);
  auto s = Make("fifo", cat, net, w, Spec({{"a", 2, -1, false}, {"b", 4, -1, false}}));
  std::string why = s->WhyNever(w.jobs[j]);
  EXPECT_NE(why.find("cohort's nominal quotas total 6"), std::string::npos) << why;
  // A tenant without a quota is not limited at all.
  Job c = w.jobs[j];
  c.tenant = TenantId{2};
  EXPECT_EQ(s->WhyNever(c), "");
}

// Tenant a borrows all of b's idle nominal quota; then b comes back.
struct ReclaimSetup {
  Catalog cat = testing::TestCatalog();
  Network net = testing::TestNetwork({{0, 2, 4}});  // 8 devices
  Workload w = Tenants();
  JobId first_b{0};
  ReclaimSetup() {
    for (int i = 0; i < 6; ++i) AddJob(&w, 0, 0, 1, 10000);            // a: 0..5 at t=0
    for (int i = 0; i < 2; ++i) AddJob(&w, 0, Seconds(10), 1, 10000);  // a: 6, 7 at t=10
    first_b = AddJob(&w, 1, Seconds(20), 2, 100);                      // b: 8
  }
  std::unique_ptr<Scheduler> Run(bool reclaim, PassResult* last, const std::string& policy = "fifo") {
    auto s = Make(policy, cat, net, w, Spec({{"a", 4, -1, false}, {"b", 4, -1, false}}, reclaim));
    Rng rng(1);
    for (JobId j : Ids<JobId>(6)) s->Submit(j, 0);
    PassResult p = s->Pass(0, rng);
    EXPECT_EQ(Jobs(p, Decision::Kind::kStart).size(), 6u);
    for (uint32_t j = 6; j < 8; ++j) s->Submit(JobId{j}, Seconds(10));
    p = s->Pass(Seconds(10), rng);
    EXPECT_EQ(Jobs(p, Decision::Kind::kStart), testing::JobSet({6, 7}));
    EXPECT_EQ(s->quota_usage()->tenant(TenantId{0}).borrowed(), 4000);
    s->Submit(first_b, Seconds(20));
    *last = s->Pass(Seconds(20), rng);
    return s;
  }
};

TEST(Quota, ReclaimPreemptsTheNewestBorrowersWhenTheLenderComesBack) {
  for (const char* policy : {"fifo", "sjf+easy", "fifo+greedy", "drf"}) {
    SCOPED_TRACE(policy);
    ReclaimSetup r;
    PassResult p;
    auto s = r.Run(true, &p, policy);
    // a's two newest jobs (started at t=10) make room for b's 2-device job.
    EXPECT_EQ(Jobs(p, Decision::Kind::kPreempt), testing::JobSet({6, 7}));
    EXPECT_EQ(Jobs(p, Decision::Kind::kStart), std::set<JobId>{r.first_b});
    for (const auto& d : p.decisions)
      if (d.kind == Decision::Kind::kPreempt) {
        EXPECT_EQ(d.alloc.NumDevices(), 1);
      }
    EXPECT_EQ(s->runtime(JobId{6}).state, JobState::kPending);
    EXPECT_EQ(s->runtime(JobId{6}).preemptions, 1);
    const QuotaUsage* q = s->quota_usage();
    EXPECT_EQ(q->tenant(TenantId{0}).used, 6000);
    EXPECT_EQ(q->tenant(TenantId{1}).used, 2000);
    EXPECT_EQ(q->cohort_borrowed(), 2000);
    // The preempted jobs wait: a may not borrow what b now uses.
    EXPECT_NE(p.wake_at, kNever);
    Rng rng(2);
    PassResult again = s->Pass(p.wake_at, rng);
    EXPECT_TRUE(Jobs(again, Decision::Kind::kStart).empty());
    EXPECT_TRUE(Jobs(again, Decision::Kind::kPreempt).empty());
  }
}

TEST(Quota, NoReclaimWhenTheOptionIsOff) {
  ReclaimSetup r;
  PassResult p;
  auto s = r.Run(false, &p);
  EXPECT_TRUE(Jobs(p, Decision::Kind::kPreempt).empty());
  EXPECT_TRUE(Jobs(p, Decision::Kind::kStart).empty());
  EXPECT_EQ(s->runtime(r.first_b).state, JobState::kPending);
}

TEST(Quota, ReclaimStopsWhenTheBorrowerIsBackAtItsNominalQuota) {
  Catalog cat = testing::TestCatalog();
  Network net = testing::TestNetwork({{0, 2, 4}});
  Workload w = Tenants();
  for (int i = 0; i < 5; ++i) AddJob(&w, 0, 0, 1, 1000);  // a: 0..4, borrows 1
  for (int i = 0; i < 3; ++i) AddJob(&w, 2, 0, 1, 1000);  // c (no quota): 5..7
  JobId b = AddJob(&w, 1, 0, 2, 100);
  auto s = Make("fifo", cat, net, w, Spec({{"a", 4, -1, false}, {"b", 4, -1, false}}));
  Rng rng(1);
  for (JobId j : Ids<JobId>(8)) s->Submit(j, 0);
  PassResult p = s->Pass(0, rng);
  ASSERT_EQ(Jobs(p, Decision::Kind::kStart).size(), 8u);
  EXPECT_EQ(s->quota_usage()->tenant(TenantId{2}).used, 3000);
  EXPECT_FALSE(s->quota_usage()->tenant(TenantId{2}).limited);
  s->Submit(b, Seconds(1));
  p = s->Pass(Seconds(1), rng);
  // Only a's one borrowed device may be taken back: not enough, nothing changes.
  EXPECT_TRUE(p.decisions.empty());
  EXPECT_EQ(s->state().total_free_milli(), 0);
  EXPECT_EQ(s->quota_usage()->tenant(TenantId{0}).used, 5000);
}

TEST(Quota, StrictFifoStartsOtherTenantsBehindAQuotaBlockedHead) {
  Catalog cat = testing::TestCatalog();
  Network net = testing::TestNetwork({{0, 2, 4}});
  Workload w = Tenants();
  JobId a1 = AddJob(&w, 0, 0, 2, 100);
  JobId a2 = AddJob(&w, 0, Seconds(1), 2, 100);  // a has no more quota: waits
  JobId b1 = AddJob(&w, 1, Seconds(2), 1, 100);  // behind it in fifo order
  auto s = Make("fifo", cat, net, w, Spec({{"a", 2, 0, false}, {"b", 6, 0, false}}));
  Rng rng(1);
  for (JobId j : {a1, a2, b1}) s->Submit(j, Seconds(2));
  PassResult p = s->Pass(Seconds(2), rng);
  EXPECT_EQ(Jobs(p, Decision::Kind::kStart), (std::set<JobId>{a1, b1}));
  EXPECT_EQ(s->runtime(a2).state, JobState::kPending);
  s->Finish(a1, Seconds(100));
  p = s->Pass(Seconds(100), rng);
  EXPECT_EQ(Jobs(p, Decision::Kind::kStart), std::set<JobId>{a2});
}

TEST(Quota, NewArrivalsBehindABlockedHeadAreCheckedToo) {
  // A pass that ends on a blocked head lets the next one look only at new
  // arrivals; those must pass the quota check as well.
  Catalog cat = testing::TestCatalog();
  Network net = testing::TestNetwork({{0, 2, 4}, {1, 1, 4}});  // 8 x A, 4 x B
  Workload w = Tenants();
  for (int i = 0; i < 4; ++i) AddJob(&w, 0, 0, 1, 1000);  // a: its whole nominal, on A
  // c (no quota) needs all eight A devices: it blocks the pass although as
  // many devices are free (four of them B).
  JobId c = AddJob(&w, 2, 0, 8, 1000);
  w.jobs[c].models = ModelMask{1} << 0;
  JobId a5 = AddJob(&w, 0, Seconds(1), 1, 1000);
  JobId b1 = AddJob(&w, 1, Seconds(1), 1, 1000);
  auto s = Make("fifo+greedy", cat, net, w, Spec({{"a", 4, 0, false}, {"b", 4, -1, false}}));
  Rng rng(1);
  for (uint32_t j = 0; j <= c.value(); ++j) s->Submit(JobId{j}, 0);
  PassResult p = s->Pass(0, rng);
  EXPECT_EQ(Jobs(p, Decision::Kind::kStart).size(), 4u);
  EXPECT_EQ(s->runtime(c).state, JobState::kPending);
  EXPECT_EQ(s->state().total_free_milli(), 8000);
  s->Submit(a5, Seconds(1));
  s->Submit(b1, Seconds(1));
  p = s->Pass(Seconds(1), rng);
  EXPECT_EQ(Jobs(p, Decision::Kind::kStart), std::set<JobId>{b1});
  EXPECT_EQ(s->runtime(a5).state, JobState::kPending);
}

// Replays a workload through a scheduler (completions at their real end) and
// checks every decision against the quota rules as it goes.
struct ReplayStats {
  size_t finished = 0, unschedulable = 0, reclaims = 0;
};
ReplayStats ReplayChecked(const Workload& w, const Network& net, const Catalog& cat, const std::string& policy,
                          std::shared_ptr<const QuotaSpec> quotas) {
  ReplayStats st;
  auto s = Make(policy, cat, net, w, std::move(quotas));
  const bool preemptive = s->order().preemptive();
  Rng rng(7);
  using Ev = std::tuple<Time, JobId, uint32_t>;
  std::priority_queue<Ev, std::vector<Ev>, std::greater<>> ends;
  IdVector<JobId, uint32_t> gen(w.jobs.size(), 0);
  IdVector<JobId, double> left(w.jobs.size());
  IdVector<JobId, Time> started(w.jobs.size(), -1);
  IdVector<JobId, double> speed(w.jobs.size(), 1.0);
  for (JobId i : w.jobs.ids()) left[i] = w.jobs[i].work;
  size_t next = 0;
  Time wake = kNever;
  while (true) {
    Time t = kNever;
    if (next < w.jobs.size()) t = w.jobs.vec()[next].submit;
    if (!ends.empty()) t = std::min(t, std::get<0>(ends.top()));
    t = std::min(t, wake);
    if (t == kNever) break;
    while (!ends.empty() && std::get<0>(ends.top()) == t) {
      auto [e, j, g] = ends.top();
      ends.pop();
      if (g != gen[j]) continue;
      s->Finish(j, t);
      ++st.finished;
    }
    while (next < w.jobs.size() && w.jobs.vec()[next].submit == t) s->Submit(JobId(static_cast<uint32_t>(next++)), t);
    // Usage before the pass, then each decision in order.
    const QuotaUsage* q = s->quota_usage();
    IdVector<TenantId, int64_t> used(q->size());
    int64_t cohort_used = 0;
    for (TenantId k : Ids<TenantId>(q->size())) {
      used[k] = q->tenant(k).used;
      if (q->tenant(k).limited) cohort_used += used[k];
    }
    PassResult p = s->Pass(t, rng);
    wake = p.wake_at > t ? p.wake_at : kNever;
    for (const auto& d : p.decisions) {
      const Job& job = w.jobs[d.job];
      const TenantUsage& u = q->tenant(job.tenant);
      const int64_t m = job.GpuMilli();
      if (d.kind == Decision::Kind::kUnschedulable) {
        ++st.unschedulable;
        continue;
      }
      if (d.kind == Decision::Kind::kPreempt) {
        if (!preemptive) {
          // Only reclaim preempts here, and only jobs of a tenant that borrows.
          EXPECT_TRUE(u.limited);
          EXPECT_GT(used[job.tenant], u.nominal) << "job " << d.job << " preempted from a tenant not borrowing";
          ++st.reclaims;
        }
        used[job.tenant] -= m;
        if (u.limited) cohort_used -= m;
        ++gen[d.job];
        left[d.job] = std::max(0.0, left[d.job] - ToSeconds(t - started[d.job]) * speed[d.job]);
        continue;
      }
      // A start: within nominal, or borrowing within the limit and the cohort's unused quota.
      if (u.limited && m > 0 && used[job.tenant] + m > u.nominal) {
        if (u.borrowing_limit >= 0) {
          EXPECT_LE(used[job.tenant] + m - u.nominal, u.borrowing_limit) << "job " << d.job;
        }
        EXPECT_LE(cohort_used + m, q->cohort_nominal()) << "job " << d.job << " borrowed what no one lent";
      }
      used[job.tenant] += m;
      if (u.limited) cohort_used += m;
      started[d.job] = t;
      speed[d.job] = d.alloc.model == kNoModel ? 1.0 : Speed(job, d.alloc.model, cat, w);
      ends.emplace(t + std::max<Duration>(1, SecondsF(left[d.job] / speed[d.job])), d.job, gen[d.job]);
    }
    // Incremental accounting agrees with the running jobs.
    for (TenantId k : Ids<TenantId>(q->size())) EXPECT_EQ(q->tenant(k).used, used[k]) << "tenant " << k;
    EXPECT_EQ(q->cohort_used(), cohort_used);
  }
  EXPECT_EQ(s->num_pending(), 0u) << policy;
  EXPECT_EQ(s->num_running(), 0u) << policy;
  EXPECT_EQ(st.finished + st.unschedulable, w.jobs.size()) << policy;
  return st;
}

TEST(Quota, RandomWorkloadsKeepEveryQuotaRule) {
  Catalog cat = testing::TestCatalog();
  Network net = testing::TestNetwork({{0, 4, 8}, {1, 6, 4}, {2, 2, 8}, {kNoModel, 2, 0}});
  Workload w = testing::RandomWorkload(21, 500, cat);
  auto spec = std::make_shared<QuotaSpec>();
  spec->tenants = {{"t0", 0.4, 0.2, true}, {"t1", 8, -1, false}};
  spec->default_quota = TenantQuota{"", 0.1, 0.3, true};
  size_t reclaims = 0;
  for (const char* policy : {"fifo", "fifo+easy", "sjf+greedy+best-fit", "drf", "srtf", "las", "qssf+easy"}) {
    SCOPED_TRACE(policy);
    reclaims += ReplayChecked(w, net, cat, policy, spec).reclaims;
  }
  EXPECT_GT(reclaims, 0u);  // the workload does exercise reclaim
}

// A preemptive order and reclaim must not undo each other. Tenant b borrows
// what c leaves unused; a is within its nominal quota. When a's running job
// falls to LAS's second queue, b's job (first queue) may not preempt it: it
// would take from a tenant within its nominal quota, which reclaims at once
// (its other job takes the capacity back from b), b's job preempts again by
// its better key, and so on, a pass a microsecond without end.
TEST(Quota, PreemptiveOrderDoesNotTakeWhatReclaimWouldGiveBack) {
  Catalog cat = testing::TestCatalog();
  Network net = testing::TestNetwork({{0, 1, 8}});
  Workload w = Tenants();
  const JobId x1 = AddJob(&w, 0, 0, 8, 100'000);
  const JobId x2 = AddJob(&w, 0, Seconds(1), 8, 100'000);
  const JobId y = AddJob(&w, 1, Seconds(10), 8, 100'000);
  AddJob(&w, 2, Seconds(1'000'000), 8, 10);  // c: lends its nominal quota while idle
  auto spec = Spec({{"a", 16, -1, false}, {"c", 8, -1, false}});
  spec->default_quota = TenantQuota{"", 0, -1, false};  // b: no guarantee, may borrow
  auto s = Make("las", cat, net, w, spec);
  Rng rng(1);
  s->Submit(x1, 0);
  s->Pass(0, rng);
  s->Submit(x2, Seconds(1));
  s->Pass(Seconds(1), rng);
  s->Submit(y, Seconds(10));
  s->Pass(Seconds(10), rng);
  ASSERT_EQ(s->runtime(x1).state, JobState::kRunning);
  // Each job reaches LAS's second queue after 3600 accelerator-seconds
  // (450 s on 8 devices); the order then runs the next job.
  Time t = Seconds(450);
  PassResult p = s->Pass(t, rng);
  EXPECT_EQ(s->runtime(x2).state, JobState::kRunning);
  t = Seconds(900);
  int passes = 0;
  for (;; ++passes) {
    p = s->Pass(t, rng);
    ASSERT_LT(passes, 100) << "preemption and reclaim undo each other without end";
    if (p.wake_at != t + 1) break;  // a reclaim asks for another pass at once
    t += 1;
  }
  EXPECT_LE(passes, 2);
  // b never borrows a's nominal quota away: a keeps its 8 devices.
  EXPECT_EQ(s->runtime(y).state, JobState::kPending);
  EXPECT_EQ(s->quota_usage()->tenant(TenantId{0}).used, 8000);
  EXPECT_EQ(s->quota_usage()->tenant(TenantId{1}).used, 0);
}

// Decisions of a simulation, to compare runs.
std::vector<std::tuple<Time, Time, ModelId, uint16_t>> Decisions(const SimResult& r) {
  std::vector<std::tuple<Time, Time, ModelId, uint16_t>> out;
  for (const auto& j : r.jobs) out.emplace_back(j.start, j.end, j.model, j.preemptions);
  return out;
}

TEST(Quota, NoEffectiveQuotaMeansTheSameDecisions) {
  Catalog cat = testing::TestCatalog();
  Network net = testing::TestNetwork({{0, 3, 8}, {1, 4, 4}, {2, 1, 8}, {kNoModel, 1, 0}});
  Workload w = testing::RandomWorkload(5, 400, cat);
  auto empty = std::make_shared<QuotaSpec>();
  // Quotas only for tenants this workload does not have: nobody is limited.
  auto strangers = Spec({{"elsewhere", 1, 0, false}, {"nobody", 0.5, -1, true}});
  for (const char* policy : {"fifo", "fifo+easy", "sjf+greedy", "srtf", "las+best-fit", "drf", "qssf"}) {
    SCOPED_TRACE(policy);
    auto spec = ParsePolicySpec(policy);
    ASSERT_TRUE(spec.ok());
    SimOptions opt;
    opt.seed = 3;
    auto base = Simulate(w, net, cat, *spec, opt);
    ASSERT_TRUE(base.ok()) << base.status().message();
    for (const auto& q : {empty, strangers}) {
      opt.scheduler.quotas = q;
      auto with = Simulate(w, net, cat, *spec, opt);
      ASSERT_TRUE(with.ok()) << with.status().message();
      EXPECT_EQ(Decisions(*base), Decisions(*with));
      EXPECT_EQ(base->summary.passes, with->summary.passes);
    }
  }
  // The empty spec is no quota at all; the strangers' spec tracks usage only.
  auto s = Make("fifo", cat, net, w, empty);
  EXPECT_EQ(s->quota_usage(), nullptr);
  auto t = Make("fifo", cat, net, w, strangers);
  ASSERT_NE(t->quota_usage(), nullptr);
  EXPECT_EQ(t->quota_usage()->cohort_nominal(), 0);
}

TEST(Quota, InvalidSpecIsRejectedByTheScheduler) {
  Catalog cat = testing::TestCatalog();
  Network net = testing::TestNetwork({{0, 1, 4}});
  Workload w = Tenants();
  SchedulerOptions opt;
  opt.quotas = Spec({{"a", -1, -1, false}});
  auto s = Scheduler::Create(*ParsePolicySpec("fifo"), cat, net, w, opt);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("tenants[0] (a): nominal is negative"), std::string::npos)
      << s.status().message();
  opt.quotas = Spec({{"a", 1, -1, false}, {"a", 2, -1, false}});
  s = Scheduler::Create(*ParsePolicySpec("fifo"), cat, net, w, opt);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("listed twice"), std::string::npos) << s.status().message();
}

}  // namespace
}  // namespace suanli
