// Checkpoints in the live control plane, on a local center (real processes
// in their sandboxes): a checkpointing job is told before it is preempted,
// saves its state in its checkpoint directory, and its next attempt, which
// knows it is one, goes on from there; a minimum run time holds preemption
// back; checkpoints reported through the API are the job's own to report.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "live/control.h"
#include "support/live_control.h"

namespace suanli::live {
namespace {

using ::suanli::testing::live_control::kAdmin;
using ::suanli::testing::live_control::kAlice;
using ::suanli::testing::live_control::kBob;
using ::suanli::testing::live_control::LocalConfig;
using ::suanli::testing::live_control::ReadText;
using ::suanli::testing::live_control::ScratchDir;
using ::suanli::testing::live_control::Sh;
using ::suanli::testing::live_control::StartOrDie;
using ::suanli::testing::live_control::StateOf;
using ::suanli::testing::live_control::WaitFor;

// A long job that checkpoints: its first attempt saves its state when told
// (its stop signal) and stops; later attempts print what they found.
JobSpec Trainer(int64_t grace_s) {
  JobSpec s = Sh(
      "if [ \"$SUANLI_ATTEMPT\" = 1 ]; then "
      "  trap 'echo step-41 > \"$SUANLI_CHECKPOINT_DIR/state\"; touch \"$SUANLI_CHECKPOINT_DIR/latest\"; exit 0' USR1; "
      "fi; "
      "echo \"attempt $SUANLI_ATTEMPT from $(cat \"$SUANLI_CHECKPOINT_DIR/state\" 2>/dev/null || echo none)\"; "
      "if [ \"$SUANLI_ATTEMPT\" = 1 ]; then while :; do sleep 0.1; done; fi");
  s.time_limit_s = 3600;
  s.checkpoint_s = 600;
  s.grace_s = grace_s;
  return s;
}

// Until the job's first attempt has said so (its trap is set by then).
bool Printed(ControlPlane& cp, int64_t id) {
  auto log = cp.LogPath(kAlice, id, "stdout");
  return StateOf(cp, id) == JobState::kRunning && log.ok() && ReadText(*log) == "attempt 1 from none\n";
}

// A short job: under srtf it preempts a long one.
JobSpec Short() {
  JobSpec s = Sh("sleep 1");
  s.time_limit_s = 60;
  return s;
}

TEST(LiveCheckpoint, APreemptedJobIsToldSavesItsStateAndItsNextAttemptResumes) {
  ScratchDir dir;
  ServerConfig c = LocalConfig(dir / "data", 1);
  c.policy = "srtf";  // preemptive: the shorter job stops the longer one
  c.min_run_s = 2;    // but not before it has run 2 s
  auto cp = StartOrDie(c);
  ASSERT_TRUE(cp);
  auto a = cp->Submit(kAlice, Trainer(30));
  ASSERT_TRUE(a.ok()) << a.status().message();
  ASSERT_TRUE(WaitFor(*cp, [&] { return Printed(*cp, a->id); }));
  auto b = cp->Submit(kBob, Short());
  ASSERT_TRUE(b.ok()) << b.status().message();
  ASSERT_TRUE(WaitFor(
      *cp, [&] { return IsTerminal(StateOf(*cp, a->id)) && IsTerminal(StateOf(*cp, b->id)); }, 60));

  auto ra = cp->Get(kAlice, a->id);
  ASSERT_TRUE(ra.ok());
  EXPECT_EQ(ra->state, JobState::kSucceeded) << ra->reason;
  ASSERT_EQ(ra->attempts.size(), 2u);
  const JobAttempt& first = ra->attempts[0];
  EXPECT_EQ(first.outcome, "preempted") << first.reason;
  // It ran its minimum run time, then saved its state when told and stopped
  // at once (well before its 30 s of notice were over).
  EXPECT_GE(first.end_ms.ms() - first.start_ms.ms(), 2000);
  EXPECT_LT(first.end_ms.ms() - first.start_ms.ms(), 20'000);
  EXPECT_GE(first.checkpoint_ms, first.start_ms);
  EXPECT_LE(first.checkpoint_ms, first.end_ms);
  EXPECT_EQ(ra->attempts[1].checkpoint_ms, WallMs{}) << "the second run reported none";
  auto log = cp->LogPath(kAlice, a->id, "stdout");
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(ReadText(*log), "attempt 1 from none\nattempt 2 from step-41\n");
  auto rb = cp->Get(kBob, b->id);
  ASSERT_TRUE(rb.ok());
  EXPECT_EQ(rb->state, JobState::kSucceeded) << rb->reason;
  // Its history tells it all, in order.
  std::string kinds, preempted;
  for (const JobEvent& e : ra->events) {
    kinds += e.kind + " ";
    if (e.kind == "preempted") preempted = e.message;
  }
  EXPECT_EQ(kinds, "submitted dispatched started preempted checkpointed requeued dispatched started ended ") << kinds;
  EXPECT_EQ(preempted, fmt::format("at local for job {} (srtf); told by SIGUSR1, 30 s to stop", b->id));
  for (size_t i = 1; i < ra->events.size(); ++i) EXPECT_LE(ra->events[i - 1].time_ms, ra->events[i].time_ms);
  EXPECT_EQ(ra->events.back().message, "succeeded: exit 0");
}

// A job that does not checkpoint gets no notice: it is stopped with SIGTERM
// as a cancel is, and its attempt kept nothing.
TEST(LiveCheckpoint, AJobThatDoesNotCheckpointIsStoppedWithoutNotice) {
  ScratchDir dir;
  ServerConfig c = LocalConfig(dir / "data", 1);
  c.policy = "srtf";
  auto cp = StartOrDie(c);
  ASSERT_TRUE(cp);
  JobSpec plain = Trainer(30);
  plain.checkpoint_s = 0;
  auto a = cp->Submit(kAlice, plain);
  ASSERT_TRUE(a.ok()) << a.status().message();
  ASSERT_TRUE(WaitFor(*cp, [&] { return Printed(*cp, a->id); }));
  auto b = cp->Submit(kBob, Short());
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(WaitFor(
      *cp, [&] { return IsTerminal(StateOf(*cp, a->id)); }, 60));
  auto ra = cp->Get(kAlice, a->id);
  ASSERT_TRUE(ra.ok());
  ASSERT_EQ(ra->attempts.size(), 2u);
  EXPECT_EQ(ra->attempts[0].outcome, "preempted");
  EXPECT_EQ(ra->attempts[0].checkpoint_ms, WallMs{});
  auto log = cp->LogPath(kAlice, a->id, "stdout");
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(ReadText(*log), "attempt 1 from none\nattempt 2 from none\n");
}

// POST /jobs/{id}/checkpoint's operation: the job's tenant (or the admin)
// reports a checkpoint of its running run; nobody else sees the job, and a
// job that does not run has nothing to report. A mark that is a link is
// not followed.
TEST(LiveCheckpoint, ACheckpointIsReportedByTheJobsTenantForARunningRun) {
  ScratchDir dir;
  auto cp = StartOrDie(LocalConfig(dir / "data", 1));
  ASSERT_TRUE(cp);
  JobSpec s = Sh("ln -s / \"$SUANLI_CHECKPOINT_DIR/latest\"; echo up; sleep 600");
  s.checkpoint_s = 60;
  auto a = cp->Submit(kAlice, s);
  ASSERT_TRUE(a.ok()) << a.status().message();
  ASSERT_TRUE(WaitFor(*cp, [&] {
    auto log = cp->LogPath(kAlice, a->id, "stdout");
    return StateOf(*cp, a->id) == JobState::kRunning && log.ok() && ReadText(*log) == "up\n";
  }));
  for (int i = 0; i < 5; ++i) cp->PassNow();
  EXPECT_EQ(cp->Get(kAlice, a->id)->checkpoint_ms, WallMs{}) << "a link as the mark is no checkpoint";
  EXPECT_EQ(cp->ReportCheckpoint(kBob, a->id).status().code(), StatusCode::kNotFound);
  auto r = cp->ReportCheckpoint(kAlice, a->id);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_GE(r->checkpoint_ms, r->start_ms);
  EXPECT_GT(r->checkpoint_ms.ms(), 0);
  ASSERT_TRUE(cp->ReportCheckpoint(kAdmin, a->id).ok());
  ASSERT_TRUE(cp->Cancel(kAlice, a->id).ok());
  ASSERT_TRUE(WaitFor(*cp, [&] { return IsTerminal(StateOf(*cp, a->id)); }));
  auto done = cp->Get(kAlice, a->id);
  ASSERT_TRUE(done.ok());
  ASSERT_EQ(done->attempts.size(), 1u);
  EXPECT_GT(done->attempts[0].checkpoint_ms.ms(), 0) << "the attempt keeps its last checkpoint";
  EXPECT_EQ(cp->ReportCheckpoint(kAlice, a->id).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(cp->ReportCheckpoint(kAlice, 999).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace suanli::live
