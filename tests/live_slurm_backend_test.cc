// The slurm backend against real Slurm clusters started by
// scripts/slurm/start.sh (2 nodes x 4 typed GPUs each), and its parsers.
// Suites LiveSlurmBackend* carry the ctest label `slurm`.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include <fmt/format.h>

#include "base/strings.h"
#include "io/model_loader.h"
#include "live/backend.h"
#include "live/backend_slurm.h"
#include "live/job_env.h"
#include "live/subprocess.h"

namespace suanli::live {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

WallMs Now() {
  return WallMs(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string Script(const std::string& name) { return std::string(SUANLI_SOURCE_DIR) + "/scripts/slurm/" + name; }

// A cluster of its own under a fresh directory; stopped and removed when the
// object goes (also when the test failed).
class Cluster {
 public:
  Cluster() {
    std::string tmpl = "/tmp/suanli-slurm-bk.XXXXXX";  // short: munge's socket path is limited
    char* d = ::mkdtemp(tmpl.data());
    if (d != nullptr) dir_ = d;
  }
  ~Cluster() {
    Stop();
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }
  // Empty on success, else start.sh's output.
  std::string Start() {
    if (dir_.empty()) return "mkdtemp failed";
    SubprocessOptions o;
    o.argv = {"bash", Script("start.sh"), dir_, "--name", "bk", "--nodes", "2", "--gpus", "4", "--timeout", "90"};
    o.timeout_ms = 150'000;
    auto r = RunSubprocess(o);
    if (!r.ok()) return r.status().message();
    if (!r->ok()) return DescribeFailure(o, *r) + "\n" + r->out + r->err;
    started_ = true;
    return "";
  }
  void Stop() {
    if (!started_) return;
    started_ = false;
    SubprocessOptions o;
    o.argv = {"bash", Script("stop.sh"), dir_};
    o.timeout_ms = 60'000;
    auto r = RunSubprocess(o);
    if (!r.ok() || !r->ok()) ADD_FAILURE() << "scripts/slurm/stop.sh " << dir_ << " failed";
  }
  std::string conf() const { return dir_ + "/etc/slurm.conf"; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  bool started_ = false;
};

BackendConfig SlurmConfig(const Cluster& c, int timeout_s = 15) {
  BackendConfig b;
  b.kind = "slurm";
  b.slurm_conf = c.conf();
  b.command_timeout_s = timeout_s;
  return b;
}

std::unique_ptr<Backend> MakeSlurm(const Cluster& c, int timeout_s = 15) {
  auto b = MakeBackend(SlurmConfig(c, timeout_s), "hpc", "", {});
  EXPECT_TRUE(b.ok()) << b.status().message();
  return b.ok() ? std::move(b).value() : nullptr;
}

LaunchRequest Request(const Cluster& c, int64_t id, std::vector<std::string> command) {
  LaunchRequest r;
  r.job_id = id;
  r.spec.command = std::move(command);
  r.spec.time_limit_s = 600;
  r.spec.cpu_milli = 1000;
  r.spec.mem_mib = 500;
  r.node = "n1";
  r.job_dir = c.dir() + "/suanli-jobs/" + std::to_string(id);
  r.start_ms = Now();
  return r;
}

// Polls every 300 ms until job `id` ends; events of it are collected in `seen`.
std::optional<BackendEvent> WaitEnd(Backend& b, int64_t id, double timeout_s,
                                    std::vector<BackendEvent>* seen = nullptr) {
  auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
  while (Clock::now() < deadline) {
    auto evs = b.Poll(Now());
    EXPECT_TRUE(evs.ok()) << evs.status().message();
    if (!evs.ok()) return std::nullopt;
    std::optional<BackendEvent> mine;
    for (const BackendEvent& e : *evs) {
      if (seen != nullptr) seen->push_back(e);
      if (e.job_id == id && (e.kind == BackendEvent::Kind::kEnded || e.kind == BackendEvent::Kind::kLost)) mine = e;
    }
    if (mine) return mine;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  return std::nullopt;
}

bool WaitStarted(Backend& b, int64_t id, double timeout_s) {
  auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
  while (Clock::now() < deadline) {
    auto evs = b.Poll(Now());
    if (!evs.ok()) return false;
    for (const BackendEvent& e : *evs) {
      if (e.job_id == id && e.kind == BackendEvent::Kind::kStarted) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

// ---- against a real cluster -----------------------------------------------------------

TEST(LiveSlurmBackend, ProbeSeesTwoNodesOfFourCatalogGpus) {
  Cluster c;
  std::string err = c.Start();
  ASSERT_EQ(err, "");
  auto b = MakeSlurm(c);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->kind(), "slurm");
  auto cap = b->Probe();
  ASSERT_TRUE(cap.ok()) << cap.status().message();
  ASSERT_EQ(cap->nodes.size(), 2u);
  for (const BackendNode& n : cap->nodes) {
    EXPECT_TRUE(n.name == "n1" || n.name == "n2") << n.name;
    EXPECT_EQ(n.model, "A100-80GB");  // GRES type a100 -> the catalog's A100
    EXPECT_EQ(n.devices, 4);
    EXPECT_EQ(n.cpu_milli, 16000);
    EXPECT_EQ(n.mem_mib, 64000);
    EXPECT_TRUE(n.up);
  }
}

TEST(LiveSlurmBackend, GpuJobGetsTwoDevicesAndExitCodesAreRecorded) {
  Cluster c;
  ASSERT_EQ(c.Start(), "");
  auto b = MakeSlurm(c);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(b->Probe().ok());

  LaunchRequest gpu = Request(c, 1,
                              {"sh", "-c",
                               "echo \"cvd=$CUDA_VISIBLE_DEVICES id=$SUANLI_JOB_ID foo=$FOO "
                               "asc=${ASCEND_RT_VISIBLE_DEVICES-unset}\"; echo to-stderr >&2"});
  gpu.model = "A100-80GB";
  gpu.devices = {0, 1};
  gpu.spec.gpus = 2;
  gpu.spec.env = {{"FOO", "it's a \"test\" $HOME"}};
  auto id = b->Launch(gpu);
  ASSERT_TRUE(id.ok()) << id.status().message();
  EXPECT_GT(std::stol(*id), 0);
  LaunchRequest three = Request(c, 2, {"sh", "-c", "sleep 2; exit 3"});
  auto id3 = b->Launch(three);
  ASSERT_TRUE(id3.ok()) << id3.status().message();

  std::vector<BackendEvent> seen;
  auto e1 = WaitEnd(*b, 1, 60, &seen);
  ASSERT_TRUE(e1.has_value());
  EXPECT_EQ(e1->state, JobState::kSucceeded) << e1->reason << "\n" << ReadAll(gpu.job_dir + "/stderr");
  EXPECT_EQ(e1->exit_code, 0);
  std::string out = ReadAll(gpu.job_dir + "/stdout");
  // Slurm gave the job two of the node's GPUs.
  ASSERT_EQ(out.rfind("cvd=", 0), 0u) << out;
  std::string cvd = out.substr(4, out.find(' ') - 4);
  EXPECT_EQ(std::count(cvd.begin(), cvd.end(), ','), 1) << out;
  EXPECT_NE(out.find("id=1 foo=it's a \"test\" $HOME asc=\n"), std::string::npos) << out;
  EXPECT_EQ(ReadAll(gpu.job_dir + "/stderr"), "to-stderr\n");

  auto e2 = WaitEnd(*b, 2, 60, &seen);
  ASSERT_TRUE(e2.has_value());
  EXPECT_EQ(e2->state, JobState::kFailed);
  EXPECT_EQ(e2->exit_code, 3);
  EXPECT_EQ(e2->reason, "exit 3");
  EXPECT_GT(e2->at_ms.ms(), 0);
  bool started = false;
  for (const BackendEvent& e : seen) started = started || (e.job_id == 2 && e.kind == BackendEvent::Kind::kStarted);
  EXPECT_TRUE(started) << "job 2 ran 2 s; a Poll should have seen it running";
}

// A gang of 8 over 2 nodes x 4 GPUs: sbatch asks for both nodes, srun runs
// one task per device, and every task sees the launcher's variables.
TEST(LiveSlurmBackend, TwoNodeGangRunsEightRanksWithTheLaunchersVariables) {
  Cluster c;
  ASSERT_EQ(c.Start(), "");
  auto b = MakeSlurm(c);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(b->Probe().ok());
  LaunchRequest r = Request(c, 7,
                            {"sh", "-c",
                             "echo \"rank=$RANK local=$LOCAL_RANK node=$NODE_RANK world=$WORLD_SIZE "
                             "lws=$LOCAL_WORLD_SIZE master=$MASTER_ADDR:$MASTER_PORT list=$SUANLI_NODELIST "
                             "on=$SLURMD_NODENAME attempt=$SUANLI_ATTEMPT gpus=${CUDA_VISIBLE_DEVICES:+yes}\""});
  r.node = "n1,n2";
  r.model = "A100-80GB";
  r.devices = {0, 1, 2, 3, 0, 1, 2, 3};
  r.spec.gpus = 8;
  r.spec.nodes = 2;
  r.spec.cpu_milli = 8000;
  r.spec.mem_mib = 2000;
  r.attempt = 2;
  auto id = b->Launch(r);
  ASSERT_TRUE(id.ok()) << id.status().message();
  auto e = WaitEnd(*b, 7, 90);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->state, JobState::kSucceeded) << e->reason << "\n" << ReadAll(r.job_dir + "/stderr");
  std::string out = ReadAll(r.job_dir + "/stdout");
  std::vector<std::string> lines;
  for (std::string_view l : Split(out, '\n'))
    if (!l.empty()) lines.emplace_back(l);
  std::sort(lines.begin(), lines.end(),
            [](const std::string& a, const std::string& b) { return std::stoi(a.substr(5)) < std::stoi(b.substr(5)); });
  ASSERT_EQ(lines.size(), 8u) << out << ReadAll(r.job_dir + "/stderr");
  const std::string port = std::to_string(20000 + std::stol(*id) % 20000);
  for (int rank = 0; rank < 8; ++rank) {
    const int node = rank / 4;
    EXPECT_EQ(lines[rank], fmt::format("rank={} local={} node={} world=8 lws=4 master=n1:{} list=n1,n2 on=n{} "
                                       "attempt=2 gpus=yes",
                                       rank, rank % 4, node, port, node + 1))
        << out;
  }
}

// sbatch's default --export=ALL would hand the server's environment (its
// admin token) to every job.
TEST(LiveSlurmBackend, TheServersEnvironmentNeverReachesAJob) {
  Cluster c;
  ASSERT_EQ(c.Start(), "");
  auto b = MakeSlurm(c);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(b->Probe().ok());
  ::setenv("SUANLI_ADMIN_TOKEN", "secret-admin-token-slurm-0123456789", 1);
  LaunchRequest r = Request(c, 1, {"sh", "-c", "env"});
  r.spec.env = {{"MINE", "kept"}};
  auto id = b->Launch(r);
  ::unsetenv("SUANLI_ADMIN_TOKEN");
  ASSERT_TRUE(id.ok()) << id.status().message();
  auto e = WaitEnd(*b, 1, 60);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->state, JobState::kSucceeded) << e->reason << ReadAll(r.job_dir + "/stderr");
  std::string out = "\n" + ReadAll(r.job_dir + "/stdout");
  EXPECT_EQ(out.find("secret-admin-token"), std::string::npos) << out;
  EXPECT_EQ(out.find("SUANLI_ADMIN_TOKEN"), std::string::npos) << out;
  EXPECT_NE(out.find("\nPATH=" + std::string(kJobPath) + "\n"), std::string::npos) << out;
  EXPECT_NE(out.find("\nHOME=" + r.job_dir + "\n"), std::string::npos) << out;
  EXPECT_NE(out.find("\nSUANLI_JOB_DIR=" + r.job_dir + "\n"), std::string::npos) << out;
  EXPECT_NE(out.find("\nMINE=kept\n"), std::string::npos) << out;
}

TEST(LiveSlurmBackend, CancelAdoptAndLost) {
  Cluster c;
  ASSERT_EQ(c.Start(), "");
  auto b = MakeSlurm(c);
  ASSERT_NE(b, nullptr);
  LaunchRequest sleeper = Request(c, 5, {"sleep", "1000"});
  auto id = b->Launch(sleeper);
  ASSERT_TRUE(id.ok()) << id.status().message();
  ASSERT_TRUE(WaitStarted(*b, 5, 60));
  ASSERT_TRUE(b->Cancel(5, *id).ok());
  auto e = WaitEnd(*b, 5, 60);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->state, JobState::kCancelled) << e->reason;

  // A job launched by one backend object is followed by a new one after Adopt.
  LaunchRequest later = Request(c, 6, {"sh", "-c", "sleep 2; exit 4"});
  std::string id6;
  {
    auto first = MakeSlurm(c);
    ASSERT_NE(first, nullptr);
    auto l = first->Launch(later);
    ASSERT_TRUE(l.ok()) << l.status().message();
    id6 = *l;
  }
  auto b2 = MakeSlurm(c);
  ASSERT_NE(b2, nullptr);
  ASSERT_TRUE(b2->Adopt(later, id6).ok());
  // A Slurm job id the cluster never had is lost.
  LaunchRequest ghost = Request(c, 7, {"true"});
  ASSERT_TRUE(b2->Adopt(ghost, "987654").ok());
  EXPECT_EQ(b2->Adopt(ghost, "not-a-number").code(), StatusCode::kInvalidArgument);
  std::vector<BackendEvent> seen;
  auto e6 = WaitEnd(*b2, 6, 60, &seen);
  ASSERT_TRUE(e6.has_value());
  EXPECT_EQ(e6->exit_code, 4);
  EXPECT_EQ(e6->state, JobState::kFailed);
  bool lost = false;
  for (const BackendEvent& ev : seen) lost = lost || (ev.job_id == 7 && ev.kind == BackendEvent::Kind::kLost);
  EXPECT_TRUE(lost);

  // A job Slurm cancels by itself (not Suanli) is a failure.
  LaunchRequest other = Request(c, 8, {"sleep", "1000"});
  auto id8 = b2->Launch(other);
  ASSERT_TRUE(id8.ok());
  ASSERT_TRUE(WaitStarted(*b2, 8, 60));
  SubprocessOptions o;
  o.argv = {"scancel", *id8};
  o.env = {{"SLURM_CONF", c.conf()}};
  auto sc = RunSubprocess(o);
  ASSERT_TRUE(sc.ok() && sc->ok());
  auto e8 = WaitEnd(*b2, 8, 60);
  ASSERT_TRUE(e8.has_value());
  EXPECT_EQ(e8->state, JobState::kFailed);
  EXPECT_EQ(e8->reason, "cancelled by Slurm");
  // A stop with notice: the job gets its signal (scancel --batch --signal),
  // saves its state in its checkpoint directory, and is cancelled once the
  // notice is over.
  LaunchRequest ckpt = Request(c, 9,
                               {"sh", "-c",
                                "trap 'echo notice; echo saved > \"$SUANLI_CHECKPOINT_DIR/latest\"' USR1; "
                                "echo \"up $SUANLI_ATTEMPT\"; while :; do sleep 0.2; done"});
  ckpt.attempt = 2;
  auto id9 = b2->Launch(ckpt);
  ASSERT_TRUE(id9.ok()) << id9.status().message();
  ASSERT_TRUE(WaitStarted(*b2, 9, 60));
  const std::string out9 = ckpt.job_dir + "/stdout";
  for (int i = 0; i < 100 && ReadAll(out9).empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto t0 = Clock::now();
  ASSERT_TRUE(b2->Stop(9, *id9, StopNotice{.signal = "USR1", .grace_s = 2}).ok());
  auto e9 = WaitEnd(*b2, 9, 60);
  ASSERT_TRUE(e9.has_value());
  EXPECT_EQ(e9->state, JobState::kCancelled) << e9->reason;
  EXPECT_GE(std::chrono::duration<double>(Clock::now() - t0).count(), 1.9);
  EXPECT_EQ(ReadAll(out9), "up 2\nnotice\n");
  EXPECT_EQ(ReadAll(ckpt.job_dir + "/checkpoint/latest"), "saved\n");
}

TEST(LiveSlurmBackend, ManyJobsEndingTogetherKeepTheirExitCodes) {
  Cluster c;
  ASSERT_EQ(c.Start(), "");
  auto b = MakeSlurm(c);
  ASSERT_NE(b, nullptr);
  const int kJobs = 8;
  for (int i = 1; i <= kJobs; ++i) {
    LaunchRequest r = Request(c, 100 + i, {"sh", "-c", "exit " + std::to_string(i)});
    r.node = i % 2 ? "n1" : "n2";
    ASSERT_TRUE(b->Launch(r).ok());
  }
  // All end before the first Poll: their final states come from one scontrol.
  std::map<int64_t, BackendEvent> ended;
  auto deadline = Clock::now() + std::chrono::seconds(60);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  while (ended.size() < kJobs && Clock::now() < deadline) {
    auto evs = b->Poll(Now());
    ASSERT_TRUE(evs.ok()) << evs.status().message();
    for (const BackendEvent& e : *evs) {
      if (e.kind == BackendEvent::Kind::kEnded) ended[e.job_id] = e;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  ASSERT_EQ(ended.size(), static_cast<size_t>(kJobs));
  for (int i = 1; i <= kJobs; ++i) {
    EXPECT_EQ(ended[100 + i].exit_code, i);
    EXPECT_EQ(ended[100 + i].state, JobState::kFailed);
  }
}

TEST(LiveSlurmBackend, TimeLimit) {
  Cluster c;
  ASSERT_EQ(c.Start(), "");
  auto b = MakeSlurm(c);
  ASSERT_NE(b, nullptr);
  LaunchRequest r = Request(c, 9, {"sleep", "1000"});
  r.spec.time_limit_s = 1;  // Slurm counts minutes: --time=1
  auto id = b->Launch(r);
  ASSERT_TRUE(id.ok()) << id.status().message();
  // slurmctld checks limits about every 30 s.
  auto e = WaitEnd(*b, 9, 200);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->state, JobState::kFailed);
  EXPECT_EQ(e->reason.rfind("time limit", 0), 0u) << e->reason;
}

TEST(LiveSlurmBackend, StoppedClusterIsAnErrorWithinTheTimeout) {
  Cluster c;
  ASSERT_EQ(c.Start(), "");
  auto b = MakeSlurm(c, /*timeout_s=*/2);
  ASSERT_NE(b, nullptr);
  auto idle = MakeSlurm(c, /*timeout_s=*/2);  // a center with no job to follow
  ASSERT_NE(idle, nullptr);
  LaunchRequest r = Request(c, 10, {"sleep", "1000"});
  auto id = b->Launch(r);
  ASSERT_TRUE(id.ok()) << id.status().message();
  c.Stop();
  auto t0 = Clock::now();
  auto cap = b->Probe();
  double took = std::chrono::duration<double>(Clock::now() - t0).count();
  ASSERT_FALSE(cap.ok());
  EXPECT_EQ(cap.status().code(), StatusCode::kUnavailable);
  EXPECT_LT(took, 5.0);
  EXPECT_NE(cap.status().message().find("hpc"), std::string::npos) << cap.status().message();
  t0 = Clock::now();
  auto evs = b->Poll(Now());
  took = std::chrono::duration<double>(Clock::now() - t0).count();
  ASSERT_FALSE(evs.ok());
  EXPECT_EQ(evs.status().code(), StatusCode::kUnavailable);
  EXPECT_LT(took, 5.0);
  auto l = b->Launch(Request(c, 11, {"true"}));
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.status().code(), StatusCode::kUnavailable);
  // The idle center says so too (it probes, having nothing to follow), and
  // keeps saying so at each Poll until the cluster answers again.
  for (int i = 0; i < 2; ++i) {
    auto ie = idle->Poll(Now());
    ASSERT_FALSE(ie.ok()) << i;
    EXPECT_EQ(ie.status().code(), StatusCode::kUnavailable);
  }
}

// ---- parsers and the job script (no cluster) --------------------------------------------

TEST(LiveSlurmBackendParse, SinfoNodesAndStates) {
  const Catalog& cat = BuiltinCatalog();
  auto nodes = ParseSinfoNodes(
      "n1|16|64000|gpu:a100:4|idle\n"
      "n1|16|64000|gpu:a100:4|idle\n"  // second partition
      "n2|32|128000|gpu:v100:8(S:0-1)|mixed\n"
      "n3|8|1000|(null)|drained\n"
      "n4|8|1000|gpu:2|down*\n"
      "n5|8|1000|gpu:rtx9999:2|idle~\n"
      "n6|16|64000|gpu:a100:2,shard:a100:8|idle\n",
      cat);
  ASSERT_TRUE(nodes.ok()) << nodes.status().message();
  ASSERT_EQ(nodes->size(), 6u);
  EXPECT_EQ((*nodes)[0].shards, 0);
  EXPECT_EQ((*nodes)[5].node.devices, 2);  // shards: shares of its GPUs, not more GPUs
  EXPECT_EQ((*nodes)[5].shards, 8);
  EXPECT_FALSE(ParseSinfoNodes("n1|16|64000|gpu:a100:2,shard:x|idle\n", cat).ok());
  EXPECT_EQ((*nodes)[0].node.model, "A100-80GB");
  EXPECT_EQ((*nodes)[0].gres_type, "a100");
  EXPECT_EQ((*nodes)[0].node.devices, 4);
  EXPECT_TRUE((*nodes)[0].node.up);
  EXPECT_EQ((*nodes)[1].node.model, "V100-16GB");
  EXPECT_EQ((*nodes)[1].node.devices, 8);
  EXPECT_EQ((*nodes)[1].node.cpu_milli, 32000);
  EXPECT_TRUE((*nodes)[1].node.up);
  EXPECT_EQ((*nodes)[2].node.devices, 0);
  EXPECT_FALSE((*nodes)[2].node.up);
  EXPECT_EQ((*nodes)[3].node.devices, 0);  // untyped GRES: not offered
  EXPECT_FALSE((*nodes)[3].note.empty());
  EXPECT_FALSE((*nodes)[3].node.up);
  EXPECT_EQ((*nodes)[4].node.devices, 0);
  EXPECT_NE((*nodes)[4].note.find("rtx9999"), std::string::npos);
  EXPECT_TRUE((*nodes)[4].node.up);  // powered down, can be resumed

  auto bad = ParseSinfoNodes("n1|sixteen|64000|gpu:a100:4|idle\n", cat);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("line 1"), std::string::npos);
  EXPECT_FALSE(ParseSinfoNodes("n1|16|64000\n", cat).ok());
  // Figures too large to be a node's are refused, not multiplied into an
  // overflow (found by fuzz_slurm_output).
  auto huge = ParseSinfoNodes("n1|999999999999999916|64000|gpu:a100:4|idle\n", cat);
  ASSERT_FALSE(huge.ok());
  EXPECT_NE(huge.status().message().find("not a number of CPUs"), std::string::npos) << huge.status().message();
  EXPECT_FALSE(ParseSinfoNodes("n1|16|99999999999999999|gpu:a100:4|idle\n", cat).ok());
  EXPECT_FALSE(ParseSinfoNodes("n1|16|64000|gpu:a100:99999999999|idle\n", cat).ok());
  EXPECT_FALSE(ParseSinfoNodes("n1|16|64000|gpu:a100:x|idle\n", cat).ok());
  for (const char* s : {"drained", "draining", "down", "fail", "maint", "idle*", "unknown"}) {
    EXPECT_FALSE(SlurmNodeUp(s)) << s;
  }
  for (const char* s : {"idle", "mixed", "allocated", "completing", "mixed#"}) EXPECT_TRUE(SlurmNodeUp(s)) << s;
}

TEST(LiveSlurmBackendParse, SqueueScontrolAndEndEvents) {
  auto rows = ParseSqueue("12|RUNNING|n1|2026-05-01T12:00:00|None\n13|PENDING||N/A|Resources\n");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].id, "12");
  EXPECT_EQ((*rows)[0].state, "RUNNING");
  EXPECT_GT((*rows)[0].start_ms.ms(), 0);
  EXPECT_EQ((*rows)[1].start_ms.ms(), 0);
  EXPECT_EQ((*rows)[1].reason, "Resources");
  EXPECT_FALSE(ParseSqueue("12|RUNNING\n").ok());

  auto f = ParseScontrolJob(
      "JobId=1 JobName=suanli-1 UserId=root(0) JobState=FAILED Reason=NonZeroExitCode Dependency=(null) "
      "ExitCode=3:0 RunTime=00:00:01 StartTime=2026-05-01T12:00:00 EndTime=2026-05-01T12:00:01 Partition=debug "
      "ReqNodeList=(null) ExcNodeList=(null) NodeList=n[1-2] BatchHost=n1");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->state, "FAILED");
  EXPECT_EQ(f->nodes, "n[1-2]");  // where it ran (not ReqNodeList)
  EXPECT_EQ(ParseScontrolJob("JobId=2 JobState=CANCELLED NodeList=(null) ReqNodeList=n1")->nodes, "");
  EXPECT_EQ(f->exit_code, 3);
  EXPECT_EQ(f->signal, 0);
  EXPECT_EQ(f->reason, "NonZeroExitCode");
  EXPECT_EQ(f->end_ms - ParseSlurmTime("2026-05-01T12:00:00"), 1000);
  EXPECT_FALSE(ParseScontrolJob("slurm_load_jobs error: Invalid job id specified").has_value());

  SlurmFinal k{"FAILED", 0, 9, WallMs{5}, "None", WallMs{}, ""};
  BackendEvent e = SlurmEndEvent(1, k, false, 60);
  EXPECT_EQ(e.state, JobState::kFailed);
  EXPECT_EQ(e.signal, 9);
  EXPECT_EQ(e.reason, "killed by SIGKILL");
  EXPECT_EQ(e.at_ms.ms(), 5);
  EXPECT_EQ(SlurmEndEvent(1, {"COMPLETED", 0, 0, WallMs{5}, "", WallMs{}, ""}, false, 60).state, JobState::kSucceeded);
  BackendEvent t = SlurmEndEvent(1, {"TIMEOUT", 0, 15, WallMs{5}, "", WallMs{}, ""}, false, 60);
  EXPECT_EQ(t.state, JobState::kFailed);
  EXPECT_EQ(t.reason, "time limit 60 s exceeded (Slurm TIMEOUT)");
  EXPECT_EQ(SlurmEndEvent(1, {"CANCELLED", 0, 15, WallMs{5}, "", WallMs{}, ""}, true, 60).state, JobState::kCancelled);
  BackendEvent cs = SlurmEndEvent(1, {"CANCELLED", 0, 15, WallMs{5}, "", WallMs{}, ""}, false, 60);
  EXPECT_EQ(cs.state, JobState::kFailed);
  EXPECT_EQ(cs.reason, "cancelled by Slurm");
  EXPECT_EQ(SlurmEndEvent(1, {"NODE_FAIL", -1, 0, WallMs{5}, "", WallMs{}, ""}, false, 60).reason, "node failure");
  EXPECT_EQ(SlurmEndEvent(1, {"OUT_OF_MEMORY", 0, 9, WallMs{5}, "", WallMs{}, ""}, false, 60).reason, "out of memory");
  // Which ends are the center's doing (the job runs again), by Slurm state,
  // never by the words of the reason.
  for (const char* st : {"CANCELLED", "NODE_FAIL", "BOOT_FAIL", "PREEMPTED"}) {
    EXPECT_TRUE(SlurmEndEvent(1, {st, -1, 0, WallMs{5}, "", WallMs{}, ""}, false, 60).center_stopped) << st;
    EXPECT_FALSE(SlurmEndEvent(1, {st, -1, 0, WallMs{5}, "", WallMs{}, ""}, true, 60).center_stopped)
        << st << ", Suanli's cancel";
  }
  for (const char* st : {"COMPLETED", "FAILED", "TIMEOUT", "OUT_OF_MEMORY", "DEADLINE", "SPECIAL_EXIT"})
    EXPECT_FALSE(SlurmEndEvent(1, {st, 1, 0, WallMs{5}, "", WallMs{}, ""}, false, 60).center_stopped) << st;
  EXPECT_TRUE(SlurmStateFinal("COMPLETED"));
  EXPECT_FALSE(SlurmStateFinal("COMPLETING"));
  EXPECT_FALSE(SlurmStateFinal("RUNNING"));
}

TEST(LiveSlurmBackendParse, JobScriptQuotesArgumentsAndEnvironment) {
  const Catalog& cat = BuiltinCatalog();
  JobSpec spec;
  spec.command = {"printf", "[%s]\\n", "a b", "it's", "$HOME", "\"q\"", "`x`", "-e", ""};
  spec.env = {{"WEIRD", "x'y\"$z\\"}, {"EMPTY", ""}};
  auto s = SlurmJobScript(3, 1, spec, "", cat);
  ASSERT_TRUE(s.ok()) << s.status().message();
  fs::path tmp = fs::temp_directory_path() / fmt::format("suanli-slurm-script-{}.sh", ::getpid());
  std::ofstream(tmp) << *s;
  SubprocessOptions o;
  o.argv = {"bash", tmp.string()};
  o.env = {{"CUDA_VISIBLE_DEVICES", "0,1"}};
  auto r = RunSubprocess(o);
  ASSERT_TRUE(r.ok() && r->ok()) << *s;
  EXPECT_EQ(r->out, "[a b]\n[it's]\n[$HOME]\n[\"q\"]\n[`x`]\n[-e]\n[]\n");
  // The environment and hidden devices (a CPU-only job).
  spec.command = {"sh", "-c",
                  "echo \"$WEIRD|$EMPTY|$SUANLI_JOB_ID|${CUDA_VISIBLE_DEVICES-unset}|$SUANLI_ATTEMPT|"
                  "$SUANLI_CHECKPOINT_DIR\""};
  spec.env["SUANLI_ATTEMPT"] = "9";  // the spec cannot replace it
  s = SlurmJobScript(3, 2, spec, "", cat, "/d/jobs/3");
  spec.env.erase("SUANLI_ATTEMPT");
  ASSERT_TRUE(s.ok());
  std::ofstream(tmp) << *s;
  r = RunSubprocess(o);
  ASSERT_TRUE(r.ok() && r->ok());
  EXPECT_EQ(r->out, "x'y\"$z\\||3||2|/d/jobs/3/checkpoint\n");
  // A job's dataset: the directory at this center, quoted.
  spec.command = {"sh", "-c", "echo \"${SUANLI_DATASET_DIR-unset}\""};
  s = SlurmJobScript(3, 1, spec, "", cat, "/d/jobs/3", "/data/alice/it's");
  ASSERT_TRUE(s.ok());
  std::ofstream(tmp) << *s;
  r = RunSubprocess(o);
  ASSERT_TRUE(r.ok() && r->ok());
  EXPECT_EQ(r->out, "/data/alice/it's\n");
  s = SlurmJobScript(3, 1, spec, "", cat, "/d/jobs/3");
  ASSERT_TRUE(s.ok());
  std::ofstream(tmp) << *s;
  r = RunSubprocess(o);
  ASSERT_TRUE(r.ok() && r->ok());
  EXPECT_EQ(r->out, "unset\n");
  // An Ascend job gets Slurm's devices under its own variable.
  spec.command = {"sh", "-c", "echo \"$ASCEND_RT_VISIBLE_DEVICES|$CUDA_VISIBLE_DEVICES\""};
  s = SlurmJobScript(3, 1, spec, "Ascend-910B", cat);
  ASSERT_TRUE(s.ok());
  std::ofstream(tmp) << *s;
  r = RunSubprocess(o);
  ASSERT_TRUE(r.ok() && r->ok());
  EXPECT_EQ(r->out, "0,1|\n");
  std::error_code ec;
  fs::remove(tmp, ec);

  spec.env = {{"NOT VALID", "1"}};
  auto bad = SlurmJobScript(3, 1, spec, "", cat);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("NOT VALID"), std::string::npos);
  EXPECT_EQ(ShellQuote("it's"), "'it'\\''s'");
}

// A multi-node job's script: srun runs the command as tasks with their
// ranks; an Ascend job's tasks also get CANN's names for them.
TEST(LiveSlurmBackendParse, MultiNodeScriptRunsTasksWithTheirRanks) {
  const Catalog& cat = BuiltinCatalog();
  JobSpec spec;
  spec.command = {"python", "train.py"};
  spec.gpus = 16;
  spec.nodes = 2;
  auto cuda = SlurmJobScript(3, 1, spec, "A100-80GB", cat, "/d/jobs/3");
  ASSERT_TRUE(cuda.ok()) << cuda.status().message();
  EXPECT_NE(cuda->find("exec srun --export=ALL --kill-on-bad-exit=1 /bin/bash -c "), std::string::npos) << *cuda;
  EXPECT_NE(cuda->find("' suanli-task 'python' 'train.py'\n"), std::string::npos) << *cuda;
  EXPECT_NE(cuda->find("export MASTER_ADDR="), std::string::npos);
  EXPECT_NE(cuda->find("RANK=\"$SLURM_PROCID\""), std::string::npos);
  EXPECT_EQ(cuda->find("RANK_ID"), std::string::npos);
  auto ascend = SlurmJobScript(3, 1, spec, "Ascend-910B", cat, "/d/jobs/3");
  ASSERT_TRUE(ascend.ok()) << ascend.status().message();
  EXPECT_NE(ascend->find("RANK_ID=\"$RANK\" RANK_SIZE=\"$WORLD_SIZE\" DEVICE_ID=\"$LOCAL_RANK\""), std::string::npos)
      << *ascend;
  spec.nodes = 1;
  auto one = SlurmJobScript(3, 1, spec, "A100-80GB", cat, "/d/jobs/3");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->find("srun"), std::string::npos);
  EXPECT_NE(one->find("exec 'python' 'train.py'\n"), std::string::npos) << *one;
}

// squeue's %N and $SLURM_JOB_NODELIST are host lists: names, ranges with
// their zero padding, several groups, and errors for what is not one.
TEST(LiveSlurmBackendParse, HostListsExpandToTheirNames) {
  auto names = [](std::string_view list) {
    auto r = ExpandHostlist(list);
    return r.ok() ? Join(*r, ",") : "error: " + r.status().message();
  };
  EXPECT_EQ(names(""), "");
  EXPECT_EQ(names("n1"), "n1");
  EXPECT_EQ(names("n1,gpu-7"), "n1,gpu-7");
  EXPECT_EQ(names("n[1-3]"), "n1,n2,n3");
  EXPECT_EQ(names("n[1-2,5],login"), "n1,n2,n5,login");
  EXPECT_EQ(names("gpu[08-10]"), "gpu08,gpu09,gpu10");
  EXPECT_EQ(names("r[1-2]n[1-2]"), "r1n1,r1n2,r2n1,r2n2");
  EXPECT_EQ(names("a[1]-ib"), "a1-ib");
  for (const char* bad : {"n[1-", "n1]", "n[]", "n[3-1]", "n[a]", "n[1-2-3]", "n1,,n2", "n1,", "n[[1]]",
                          "n[1][2][3][4][5][6][7][8][9]", "n[1234567890]"})
    EXPECT_NE(names(bad).find("error: host list"), std::string::npos) << bad;
  // A list longer than the limit is refused, not expanded.
  EXPECT_FALSE(ExpandHostlist("n[0-999999999]").ok());
  EXPECT_FALSE(ExpandHostlist("n[1-3]", 2).ok());
  EXPECT_TRUE(ExpandHostlist("n[1-2]", 2).ok());
  auto square = ExpandHostlist("a[0-99]b[0-99]", 100);
  ASSERT_FALSE(square.ok());
  EXPECT_NE(square.status().message().find("more than 100 names"), std::string::npos);
}

TEST(LiveSlurmBackendParse, SbatchArguments) {
  LaunchRequest r;
  r.job_id = 12;
  r.node = "n2";
  r.devices = {0, 1};
  r.spec.cpu_milli = 2500;
  r.spec.mem_mib = 4096;
  r.spec.time_limit_s = 61;
  auto a = SbatchArgs(r, "/d", "/w", "a100", "gpu", true);
  auto has = [&](const std::string& s) { return std::find(a.begin(), a.end(), s) != a.end(); };
  EXPECT_TRUE(has("--parsable"));
  EXPECT_TRUE(has("--export=NONE"));
  EXPECT_TRUE(has("--job-name=suanli-12"));
  EXPECT_TRUE(has("--output=/d/stdout"));
  EXPECT_TRUE(has("--error=/d/stderr"));
  EXPECT_TRUE(has("--chdir=/w"));
  EXPECT_TRUE(has("--nodelist=n2"));
  EXPECT_TRUE(has("--gres=gpu:a100:2"));
  EXPECT_TRUE(has("--cpus-per-task=3"));
  EXPECT_TRUE(has("--mem=4096M"));
  EXPECT_TRUE(has("--time=2"));
  EXPECT_TRUE(has("--partition=gpu"));
  EXPECT_TRUE(has("--nodes=1"));
  EXPECT_TRUE(has("--ntasks=1"));
  // A service's replica runs with no time limit of its own: no --time.
  r.spec.replicas = 2;
  a = SbatchArgs(r, "/d", "/w", "a100", "gpu", true);
  EXPECT_FALSE(std::any_of(a.begin(), a.end(), [](const std::string& x) { return x.starts_with("--time"); }));
  r.spec.replicas = 0;

  // 16 over 2 nodes: 8 tasks on each, each node's share of CPUs and memory.
  r.node = "n1,n2";
  r.devices = {0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7};
  r.spec.gpus = 16;
  r.spec.nodes = 2;
  r.spec.cpu_milli = 32000;
  a = SbatchArgs(r, "/d", "/w", "a100", "gpu", true);
  EXPECT_TRUE(has("--nodes=2"));
  EXPECT_TRUE(has("--ntasks-per-node=8"));
  EXPECT_FALSE(has("--ntasks=1"));
  EXPECT_TRUE(has("--nodelist=n1,n2"));
  EXPECT_TRUE(has("--gres=gpu:a100:8"));
  EXPECT_TRUE(has("--cpus-per-task=2"));
  EXPECT_TRUE(has("--mem=2048M"));
  // Without the center's `nodelist: true`, Slurm chooses the nodes: the same
  // request with no --nodelist.
  a = SbatchArgs(r, "/d", "/w", "a100", "gpu", false);
  EXPECT_TRUE(std::none_of(a.begin(), a.end(), [](const std::string& s) { return s.starts_with("--nodelist"); }));
  EXPECT_TRUE(has("--nodes=2"));
  EXPECT_TRUE(has("--gres=gpu:a100:8"));

  // A share of one GPU asks for its part of the GPU's shards, rounded up.
  r.node = "n1";
  r.devices = {0};
  r.spec.nodes = 1;
  r.spec.gpus = Gpus::FromMilli(250);
  a = SbatchArgs(r, "/d", "/w", "a100", "gpu", false, 4);
  EXPECT_TRUE(has("--gres=shard:1"));
  EXPECT_TRUE(std::none_of(a.begin(), a.end(), [](const std::string& s) { return s.starts_with("--gres=gpu"); }));
  r.spec.gpus = Gpus::FromMilli(300);
  a = SbatchArgs(r, "/d", "/w", "a100", "gpu", false, 4);
  EXPECT_TRUE(has("--gres=shard:2"));
  r.spec.gpus = Gpus::FromMilli(1);
  a = SbatchArgs(r, "/d", "/w", "a100", "gpu", false, 4);
  EXPECT_TRUE(has("--gres=shard:1"));

  BackendConfig c;
  c.kind = "slurm";
  c.command_timeout_s = 0;
  EXPECT_FALSE(MakeBackend(c, "x", "", {}).ok());
  c.command_timeout_s = 5;
  c.slurm_conf = "/nonexistent/slurm.conf";
  auto b = MakeBackend(c, "x", "", {});
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("slurm_conf"), std::string::npos);
}

}  // namespace
}  // namespace suanli::live
