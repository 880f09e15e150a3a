// The live control plane (ControlPlane) running jobs on a local center:
// a job's run with its log and usage, refused requests and spec errors,
// cancelling pending and running jobs, and tenants (admission quotas, the
// highest priority a tenant may ask for, tokens and isolation).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "live/control.h"
#include "support/live_control.h"

namespace suanli::live {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using ::suanli::testing::live_control::Gpu;
using ::suanli::testing::live_control::kAdmin;
using ::suanli::testing::live_control::kAlice;
using ::suanli::testing::live_control::kBob;
using ::suanli::testing::live_control::LocalConfig;
using ::suanli::testing::live_control::ReadText;
using ::suanli::testing::live_control::ScratchDir;
using ::suanli::testing::live_control::Sh;
using ::suanli::testing::live_control::ShIn;
using ::suanli::testing::live_control::SimulatedConfig;
using ::suanli::testing::live_control::StartOrDie;
using ::suanli::testing::live_control::StateOf;
using ::suanli::testing::live_control::WaitFor;

Tenant Named(const std::string& name) {
  Tenant t;
  t.name = name;
  return t;
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
  auto usage = cp->Usage(kAlice, WallMs{}, WallMs{});
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
      {[](JobSpec* s) { s->gpus = 5000; }, "gpus: must be 0..4096, got 5000"},
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

}  // namespace
}  // namespace suanli::live
