// The control plane's local backend, with real processes: probing this
// host, exit codes, signals and logs, the environment and devices a job
// gets, cancel and time limits, and adoption by a new backend object (after
// the server ended, was killed or its job's supervisor vanished).
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "io/model_loader.h"
#include "live/backend.h"
#include "live/backend_local.h"
#include "live/gpu_detect.h"
#include "support/live_backend.h"
#include "support/live_local.h"

namespace suanli::live {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using ::suanli::testing::live_backend::PidAlive;
using ::suanli::testing::live_backend::ReadAll;
using ::suanli::testing::live_backend::TempDir;
using ::suanli::testing::live_local::LocalConfig;
using ::suanli::testing::live_local::MakeLocal;
using ::suanli::testing::live_local::Now;
using ::suanli::testing::live_local::Request;
using ::suanli::testing::live_local::WaitEnd;
using ::suanli::testing::live_local::WaitOutput;

pid_t SupervisorPid(const std::string& backend_id) { return static_cast<pid_t>(std::stol(backend_id)); }

// ---- local backend: real processes -----------------------------------------------------

TEST(LiveBackendLocal, ProbeWithoutGpusOffersCpuSlotsOnThisHost) {
  TempDir tmp;
  auto b = MakeLocal(tmp.path());
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->kind(), "local");
  auto cap = b->Probe();
  ASSERT_TRUE(cap.ok()) << cap.status().message();
  ASSERT_EQ(cap->nodes.size(), 1u);
  EXPECT_EQ(cap->nodes[0].name, ShortHostName());
  EXPECT_EQ(cap->nodes[0].cpu_milli, 2000);
  EXPECT_EQ(cap->nodes[0].devices, 0);
  EXPECT_GT(cap->nodes[0].mem_mib, 0);
  EXPECT_TRUE(cap->nodes[0].up);

  BackendConfig all = LocalConfig();
  all.slots = 0;
  auto b2 = MakeBackend(all, "here", tmp.path(), {});
  ASSERT_TRUE(b2.ok());
  auto cap2 = (*b2)->Probe();
  ASSERT_TRUE(cap2.ok());
  EXPECT_EQ(cap2->nodes[0].cpu_milli, 1000 * static_cast<int64_t>(::sysconf(_SC_NPROCESSORS_ONLN)));

  BackendConfig bad = LocalConfig();
  bad.slots = -1;
  auto b3 = MakeBackend(bad, "here", tmp.path(), {});
  ASSERT_FALSE(b3.ok());
  EXPECT_NE(b3.status().message().find("slots"), std::string::npos);
}

TEST(LiveBackendLocal, ExitCodesSignalsAndLogs) {
  TempDir tmp;
  auto b = MakeLocal(tmp.path());
  ASSERT_NE(b, nullptr);
  auto ok = b->Launch(Request(1, tmp.path(), {"sh", "-c", "echo hello; echo oops >&2"}));
  auto three = b->Launch(Request(2, tmp.path(), {"sh", "-c", "exit 3"}));
  auto killed = b->Launch(Request(3, tmp.path(), {"sh", "-c", "kill -KILL $$"}));
  auto high = b->Launch(Request(4, tmp.path(), {"sh", "-c", "exit 137"}));
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  ASSERT_TRUE(three.ok() && killed.ok() && high.ok());

  auto e1 = WaitEnd(*b, 1, 20);
  ASSERT_TRUE(e1.has_value());
  EXPECT_EQ(e1->kind, BackendEvent::Kind::kEnded);
  EXPECT_EQ(e1->state, JobState::kSucceeded);
  EXPECT_EQ(e1->exit_code, 0);
  EXPECT_EQ(e1->signal, 0);
  EXPECT_GT(e1->at_ms.ms(), 0);
  EXPECT_EQ(ReadAll(tmp.path() + "/jobs/1/stdout"), "hello\n");
  EXPECT_EQ(ReadAll(tmp.path() + "/jobs/1/stderr"), "oops\n");

  auto e2 = WaitEnd(*b, 2, 20);
  ASSERT_TRUE(e2.has_value());
  EXPECT_EQ(e2->state, JobState::kFailed);
  EXPECT_EQ(e2->exit_code, 3);
  EXPECT_EQ(e2->reason, "exit 3");

  auto e3 = WaitEnd(*b, 3, 20);
  ASSERT_TRUE(e3.has_value());
  EXPECT_EQ(e3->state, JobState::kFailed);
  EXPECT_EQ(e3->signal, SIGKILL);
  EXPECT_EQ(e3->reason, "killed by SIGKILL");

  // A program that exits with 137 by itself is an exit code, not a signal.
  auto e4 = WaitEnd(*b, 4, 20);
  ASSERT_TRUE(e4.has_value());
  EXPECT_EQ(e4->exit_code, 137);
  EXPECT_EQ(e4->signal, 0);
  EXPECT_EQ(e4->reason, "exit 137");

  // Each end is reported once.
  auto again = b->Poll(Now());
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty());
}

TEST(LiveBackendLocal, EnvironmentWorkdirAndHiddenAccelerators) {
  TempDir tmp;
  auto b = MakeLocal(tmp.path());
  ASSERT_NE(b, nullptr);
  LaunchRequest r = Request(42, tmp.path(),
                            {"sh", "-c",
                             "echo \"id=$SUANLI_JOB_ID foo=$FOO cuda=${CUDA_VISIBLE_DEVICES-unset} "
                             "ascend=${ASCEND_RT_VISIBLE_DEVICES-unset} perl=$PERL5OPT dir=$(pwd)\""});
  r.spec.env = {{"FOO", "bar baz"}, {"PERL5OPT", "-MSuanliNoSuchModule"}};
  fs::create_directories(tmp.path() + "/work");
  r.spec.workdir = tmp.path() + "/work";
  ASSERT_TRUE(b->Launch(r).ok());
  auto e = WaitEnd(*b, 42, 20);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->state, JobState::kSucceeded) << e->reason << " " << ReadAll(tmp.path() + "/jobs/42/stderr");
  std::string want =
      "id=42 foo=bar baz cuda= ascend= perl=-MSuanliNoSuchModule dir=" + fs::canonical(tmp.path() + "/work").string() +
      "\n";
  EXPECT_EQ(ReadAll(tmp.path() + "/jobs/42/stdout"), want);

  // Without a workdir the job runs in its own directory.
  LaunchRequest r2 = Request(43, tmp.path(), {"pwd"});
  ASSERT_TRUE(b->Launch(r2).ok());
  ASSERT_TRUE(WaitEnd(*b, 43, 20).has_value());
  EXPECT_EQ(ReadAll(tmp.path() + "/jobs/43/stdout"), fs::canonical(tmp.path() + "/jobs/43").string() + "\n");

  // A workdir that does not exist is refused at launch.
  LaunchRequest r3 = Request(44, tmp.path(), {"true"});
  r3.spec.workdir = tmp.path() + "/missing";
  auto l3 = b->Launch(r3);
  ASSERT_FALSE(l3.ok());
  EXPECT_NE(l3.status().message().find("missing"), std::string::npos) << l3.status().message();
}

TEST(LiveBackendLocal, GpuJobGetsItsDevicesOnARecordedGpuHost) {
  TempDir tmp;
  BackendConfig c = LocalConfig();
  c.detect_gpus = true;
  // A host with two A10 and two T4 (nvidia-smi order), recorded.
  auto b = MakeLocalBackend(c, "here", tmp.path(), BuiltinCatalog(),
                            std::string("0, Tesla T4, 15360\n1, NVIDIA A10, 23028\n2, Tesla T4, 15360\n"
                                        "3, NVIDIA A10, 23028\n"));
  ASSERT_TRUE(b.ok()) << b.status().message();
  auto cap = (*b)->Probe();
  ASSERT_TRUE(cap.ok());
  ASSERT_EQ(cap->nodes.size(), 2u);
  std::string t4_node = ShortHostName() + "-t4";
  EXPECT_EQ(cap->nodes[1].name, t4_node);
  EXPECT_EQ(cap->nodes[1].model, "T4");
  EXPECT_EQ(cap->nodes[1].devices, 2);

  LaunchRequest r = Request(7, tmp.path(),
                            {"sh", "-c",
                             "echo \"$CUDA_VISIBLE_DEVICES|$CUDA_DEVICE_ORDER|$ASCEND_RT_VISIBLE_DEVICES|"
                             "$MLU_VISIBLE_DEVICES|$SUANLI_JOB_ID\""});
  r.node = t4_node;
  r.model = "T4";
  r.devices = {1};
  r.spec.gpus = 1;
  r.spec.env = {{"CUDA_VISIBLE_DEVICES", "0,1,2,3"}};  // a job cannot widen its own devices
  ASSERT_TRUE((*b)->Launch(r).ok());
  auto e = WaitEnd(**b, 7, 20);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->state, JobState::kSucceeded);
  // Node device 1 of the T4 node is nvidia-smi index 2.
  EXPECT_EQ(ReadAll(tmp.path() + "/jobs/7/stdout"), "2|PCI_BUS_ID|||7\n");

  // Devices and models the node does not have are refused.
  LaunchRequest bad = Request(8, tmp.path(), {"true"});
  bad.node = t4_node;
  bad.model = "T4";
  bad.devices = {2};
  EXPECT_FALSE((*b)->Launch(bad).ok());
  bad.devices = {0};
  bad.model = "A10";
  EXPECT_FALSE((*b)->Launch(bad).ok());
}

// A share of one GPU (gpus 0.25) gets its device and the MPS client limits
// for that share: a quarter of the SMs and of the T4's 16 GB.
TEST(LiveBackendLocal, AShareOfAGpuGetsItsDeviceAndItsMpsLimits) {
  TempDir tmp;
  BackendConfig c = LocalConfig();
  c.detect_gpus = true;
  auto b = MakeLocalBackend(c, "here", tmp.path(), BuiltinCatalog(), std::string("0, Tesla T4, 15360\n"));
  ASSERT_TRUE(b.ok()) << b.status().message();
  auto cap = (*b)->Probe();
  ASSERT_TRUE(cap.ok());
  ASSERT_EQ(cap->nodes.size(), 1u);
  LaunchRequest r = Request(9, tmp.path(),
                            {"sh", "-c",
                             "echo \"$CUDA_VISIBLE_DEVICES|$SUANLI_GPU_SHARE|$CUDA_MPS_ACTIVE_THREAD_PERCENTAGE|"
                             "$CUDA_MPS_PINNED_DEVICE_MEM_LIMIT\""});
  r.node = cap->nodes[0].name;
  r.model = "T4";
  r.devices = {0};
  r.spec.gpus = Gpus::FromMilli(250);
  r.spec.env = {{"CUDA_MPS_ACTIVE_THREAD_PERCENTAGE", "100"}};  // a job cannot widen its share
  auto launched = (*b)->Launch(r);
  ASSERT_TRUE(launched.ok()) << launched.status().message();
  auto e = WaitEnd(**b, 9, 20);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->state, JobState::kSucceeded);
  EXPECT_EQ(ReadAll(tmp.path() + "/jobs/9/stdout"), "0|0.25|25|0=4096M\n");
}

TEST(LiveBackendLocal, CancelEndsWithinTheGracePeriod) {
  TempDir tmp;
  auto b = MakeLocal(tmp.path(), /*grace_s=*/2);
  ASSERT_NE(b, nullptr);
  auto id = b->Launch(Request(5, tmp.path(), {"sh", "-c", "echo up; exec sleep 1000"}));
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(WaitOutput(tmp.path() + "/jobs/5/stdout"));
  auto t0 = Clock::now();
  ASSERT_TRUE(b->Cancel(5, *id).ok());
  auto e = WaitEnd(*b, 5, 10);
  double took = std::chrono::duration<double>(Clock::now() - t0).count();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->state, JobState::kCancelled);
  EXPECT_EQ(e->signal, SIGTERM);
  EXPECT_LT(took, 2.0);
  EXPECT_EQ(b->Cancel(99, "1:1").code(), StatusCode::kNotFound);
}

TEST(LiveBackendLocal, CancelKillsAJobThatIgnoresSigtermAfterTheGrace) {
  TempDir tmp;
  auto b = MakeLocal(tmp.path(), /*grace_s=*/1);
  ASSERT_NE(b, nullptr);
  // The shell and its sleep both ignore SIGTERM; the sleep is in the job's process group.
  auto id = b->Launch(Request(6, tmp.path(), {"sh", "-c", "trap '' TERM; echo up; sleep 1000; echo after"}));
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(WaitOutput(tmp.path() + "/jobs/6/stdout"));
  auto t0 = Clock::now();
  ASSERT_TRUE(b->Cancel(6, *id).ok());
  auto e = WaitEnd(*b, 6, 10);
  double took = std::chrono::duration<double>(Clock::now() - t0).count();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->state, JobState::kCancelled);
  EXPECT_EQ(e->signal, SIGKILL);
  EXPECT_GE(took, 0.9);
  EXPECT_LT(took, 5.0);
  EXPECT_EQ(ReadAll(tmp.path() + "/jobs/6/stdout"), "up\n");
}

// A stop with notice (a preemption of a checkpointing job): the job gets its
// signal, saves its state in its checkpoint directory, and is stopped with
// SIGTERM once the notice is over.
TEST(LiveBackendLocal, StopWithNoticeSignalsThenTerminatesAfterTheGrace) {
  TempDir tmp;
  auto b = MakeLocal(tmp.path(), /*grace_s=*/1);
  ASSERT_NE(b, nullptr);
  LaunchRequest r = Request(15, tmp.path(),
                            {"sh", "-c",
                             "trap 'echo notice; echo saved > \"$SUANLI_CHECKPOINT_DIR/latest\"' USR2; "
                             "echo \"up $SUANLI_ATTEMPT $SUANLI_CHECKPOINT_DIR\"; while :; do sleep 0.1; done"});
  r.attempt = 3;
  auto id = b->Launch(r);
  ASSERT_TRUE(id.ok()) << id.status().message();
  const std::string dir = fs::canonical(tmp.path() + "/jobs/15").string();
  ASSERT_TRUE(WaitOutput(tmp.path() + "/jobs/15/stdout"));
  auto t0 = Clock::now();
  ASSERT_TRUE(b->Stop(15, *id, StopNotice{.signal = "USR2", .grace_s = 2}).ok());
  auto e = WaitEnd(*b, 15, 15);
  double took = std::chrono::duration<double>(Clock::now() - t0).count();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->state, JobState::kCancelled) << e->reason;
  EXPECT_EQ(e->signal, SIGTERM) << e->reason;
  EXPECT_GE(took, 1.9);
  EXPECT_LT(took, 6.0);
  EXPECT_EQ(ReadAll(tmp.path() + "/jobs/15/stdout"), "up 3 " + dir + "/checkpoint\nnotice\n");
  EXPECT_EQ(ReadAll(dir + "/checkpoint/latest"), "saved\n");
}

TEST(LiveBackendLocal, TimeLimit) {
  TempDir tmp;
  auto b = MakeLocal(tmp.path(), /*grace_s=*/2);
  ASSERT_NE(b, nullptr);
  // (2 s: the job runs well before its limit, even where its supervisor is slow to start.)
  LaunchRequest r = Request(9, tmp.path(), {"sleep", "1000"});
  r.spec.time_limit_s = 2;
  auto t0 = Clock::now();
  ASSERT_TRUE(b->Launch(r).ok());
  auto e = WaitEnd(*b, 9, 10);
  double took = std::chrono::duration<double>(Clock::now() - t0).count();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->state, JobState::kFailed);
  EXPECT_EQ(e->signal, SIGTERM);
  EXPECT_EQ(e->reason.rfind("time limit 2 s exceeded", 0), 0u) << e->reason;
  EXPECT_GE(took, 1.9);
  EXPECT_LT(took, 5.0);
}

TEST(LiveBackendLocal, MissingCommandFailsWithItsReasonInStderr) {
  TempDir tmp;
  auto b = MakeLocal(tmp.path());
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(b->Launch(Request(10, tmp.path(), {"suanli-no-such-command", "-x"})).ok());
  auto e = WaitEnd(*b, 10, 20);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->state, JobState::kFailed);
  EXPECT_EQ(e->exit_code, 127);
  EXPECT_NE(ReadAll(tmp.path() + "/jobs/10/stderr").find("suanli-no-such-command"), std::string::npos);
  EXPECT_FALSE(b->Launch(Request(11, tmp.path(), {})).ok());
}

TEST(LiveBackendLocal, AdoptionByANewBackendObject) {
  TempDir tmp;
  LaunchRequest r = Request(12, tmp.path(), {"sh", "-c", "sleep 1; echo done; exit 7"});
  std::string id;
  {
    auto b = MakeLocal(tmp.path());
    ASSERT_NE(b, nullptr);
    auto l = b->Launch(r);
    ASSERT_TRUE(l.ok());
    id = *l;
  }  // the backend object is gone; the job is not
  EXPECT_TRUE(PidAlive(SupervisorPid(id)));
  EXPECT_FALSE(fs::exists(tmp.path() + "/run/12/status"));
  auto b2 = MakeLocal(tmp.path());
  ASSERT_NE(b2, nullptr);
  ASSERT_TRUE(b2->Adopt(r, id).ok());
  auto first = b2->Poll(Now());
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->empty());  // still running
  auto e = WaitEnd(*b2, 12, 20);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->state, JobState::kFailed);
  EXPECT_EQ(e->exit_code, 7);
  EXPECT_EQ(ReadAll(tmp.path() + "/jobs/12/stdout"), "done\n");
}

TEST(LiveBackendLocal, JobThatEndedWhileNoBackendExistedIsReportedOnTheFirstPoll) {
  TempDir tmp;
  LaunchRequest r = Request(13, tmp.path(), {"sh", "-c", "exit 5"});
  std::string id;
  {
    auto b = MakeLocal(tmp.path());
    ASSERT_NE(b, nullptr);
    auto l = b->Launch(r);
    ASSERT_TRUE(l.ok());
    id = *l;
  }
  for (int i = 0; i < 200 && !fs::exists(tmp.path() + "/run/13/status"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(fs::exists(tmp.path() + "/run/13/status"));
  auto b2 = MakeLocal(tmp.path());
  ASSERT_NE(b2, nullptr);
  ASSERT_TRUE(b2->Adopt(r, id).ok());
  auto evs = b2->Poll(Now());
  ASSERT_TRUE(evs.ok());
  ASSERT_EQ(evs->size(), 1u);
  EXPECT_EQ((*evs)[0].job_id, 13);
  EXPECT_EQ((*evs)[0].kind, BackendEvent::Kind::kEnded);
  EXPECT_EQ((*evs)[0].state, JobState::kFailed);
  EXPECT_EQ((*evs)[0].exit_code, 5);
  EXPECT_EQ((*evs)[0].reason, "exit 5");
}

TEST(LiveBackendLocal, JobSurvivesTheServerKilledWithSigkill) {
  TempDir tmp;
  LaunchRequest r = Request(14, tmp.path(), {"sh", "-c", "sleep 1; echo survived; exit 4"});
  std::string id_file = tmp.path() + "/backend_id";
  // A "server" process launches the job and is killed with SIGKILL.
  pid_t server = ::fork();
  ASSERT_GE(server, 0);
  if (server == 0) {
    auto b = MakeBackend(LocalConfig(), "here", tmp.path(), {});
    if (!b.ok()) ::_exit(2);
    auto l = (*b)->Launch(r);
    if (!l.ok()) ::_exit(3);
    std::ofstream(id_file) << *l;
    ::raise(SIGKILL);
    ::_exit(4);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(server, &status, 0), server);
  ASSERT_TRUE(WIFSIGNALED(status)) << "server exited with " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  std::string id = ReadAll(id_file);
  ASSERT_FALSE(id.empty());
  EXPECT_TRUE(PidAlive(SupervisorPid(id)));
  // A new server adopts it and sees its end.
  auto b = MakeLocal(tmp.path());
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(b->Adopt(r, id).ok());
  auto e = WaitEnd(*b, 14, 20);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->exit_code, 4);
  EXPECT_EQ(ReadAll(tmp.path() + "/jobs/14/stdout"), "survived\n");
}

TEST(LiveBackendLocal, CancelAfterAdoptionAndAVanishedSupervisor) {
  TempDir tmp;
  LaunchRequest r = Request(15, tmp.path(), {"sleep", "1000"});
  LaunchRequest r2 = Request(16, tmp.path(), {"sleep", "1000"});
  std::string id, id2;
  {
    auto b = MakeLocal(tmp.path());
    ASSERT_NE(b, nullptr);
    auto l = b->Launch(r);
    auto l2 = b->Launch(r2);
    ASSERT_TRUE(l.ok() && l2.ok());
    id = *l;
    id2 = *l2;
  }
  auto b = MakeLocal(tmp.path(), /*grace_s=*/1);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(b->Adopt(r, id).ok());
  ASSERT_TRUE(b->Adopt(r2, id2).ok());
  for (int i = 0; i < 100 && !fs::exists(tmp.path() + "/run/16/pgid"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  pid_t command = static_cast<pid_t>(std::stol(ReadAll(tmp.path() + "/run/16/pgid")));
  ASSERT_TRUE(b->Cancel(15, id).ok());
  // The supervisor of job 16 is killed: its job is lost and its command stopped.
  ASSERT_EQ(::kill(SupervisorPid(id2), SIGKILL), 0);
  std::vector<BackendEvent> others;
  auto e = WaitEnd(*b, 15, 10, &others);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->state, JobState::kCancelled);
  for (int i = 0; i < 100 && others.empty(); ++i) {
    auto evs = b->Poll(Now());
    ASSERT_TRUE(evs.ok());
    others.insert(others.end(), evs->begin(), evs->end());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(others.size(), 1u);
  EXPECT_EQ(others[0].job_id, 16);
  EXPECT_EQ(others[0].kind, BackendEvent::Kind::kLost);
  EXPECT_EQ(others[0].reason, "lost: supervisor gone");
  for (int i = 0; i < 100 && PidAlive(command); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(PidAlive(command));
}

TEST(LiveBackendLocal, AdoptRejectsMalformedIdsAndReportsAGoneJobAsLost) {
  TempDir tmp;
  auto b = MakeLocal(tmp.path());
  ASSERT_NE(b, nullptr);
  LaunchRequest r = Request(17, tmp.path(), {"true"});
  EXPECT_EQ(b->Adopt(r, "sim-17").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(b->Adopt(r, "").code(), StatusCode::kInvalidArgument);
  // A pid that is not (or no longer) the supervisor, and no status file.
  ASSERT_TRUE(b->Adopt(r, fmt::format("{}:1", ::getpid())).ok());
  auto evs = b->Poll(Now());
  ASSERT_TRUE(evs.ok());
  ASSERT_EQ(evs->size(), 1u);
  EXPECT_EQ((*evs)[0].kind, BackendEvent::Kind::kLost);
}

}  // namespace
}  // namespace suanli::live
