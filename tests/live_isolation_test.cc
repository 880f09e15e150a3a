// Isolation of local jobs from the server and from each other (docs/security.md):
// the job's environment, its view of the filesystem, its uid, its control
// files and its processes. Each attack is run as a real job.
#include <gtest/gtest.h>

#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "base/strings.h"
#include "io/model_loader.h"
#include "live/backend.h"
#include "live/backend_local.h"
#include "live/cgroup.h"
#include "live/job_env.h"
#include "live/local_supervisor.h"
#include "live/sandbox.h"
#include "support/live_backend.h"
#include "support/live_local.h"

namespace suanli::live {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using ::suanli::testing::live_backend::ReadAll;
using ::suanli::testing::live_backend::TempDir;
using ::suanli::testing::live_local::Now;
using ::suanli::testing::live_local::Request;
using ::suanli::testing::live_local::WaitEnd;

BackendConfig Config(const std::string& sandbox = "auto") {
  BackendConfig c;
  c.kind = "local";
  c.detect_gpus = false;
  c.slots = 2;
  c.grace_s = 1;
  c.sandbox = sandbox;
  return c;
}

std::unique_ptr<Backend> Make(const std::string& data_dir, const BackendConfig& c,
                              std::optional<IsolationCaps> caps = std::nullopt) {
  auto b = MakeLocalBackend(c, "here", data_dir, BuiltinCatalog(), std::nullopt, std::move(caps));
  EXPECT_TRUE(b.ok()) << b.status().message();
  return b.ok() ? std::move(b).value() : nullptr;
}

// Processes of this machine whose command line holds `marker`.
int CountProcesses(const std::string& marker) {
  int n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    std::string name = e.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmd = ReadAll(e.path().string() + "/cmdline");
    std::string stat = ReadAll(e.path().string() + "/stat");
    size_t close = stat.rfind(')');
    bool zombie = close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'Z';
    if (!zombie && cmd.find(marker) != std::string::npos) ++n;
  }
  return n;
}

// What this machine offers, as the backend detects it.
IsolationCaps Detected() {
  JobCgroups cg(DetectCgroupLayout(), "suanli-test");
  return DetectIsolationCaps(cg);
}

// ---- environment -------------------------------------------------------------------

TEST(LiveIsolation, TheServersEnvironmentNeverReachesAJob) {
  ::setenv("SUANLI_ADMIN_TOKEN", "secret-admin-token-0123456789abcdef", 1);
  ::setenv("SUANLI_TEST_CLOUD_KEY", "cloud-key-that-must-stay", 1);
  for (const char* sandbox : {"auto", "off"}) {
    SCOPED_TRACE(sandbox);
    TempDir tmp;
    auto b = Make(tmp.path(), Config(sandbox));
    ASSERT_NE(b, nullptr);
    LaunchRequest r = Request(1, tmp.path(), {"sh", "-c", "env"});
    r.spec.env = {{"MINE", "kept"}, {"SUANLI_JOB_ID", "forged"}};
    ASSERT_TRUE(b->Launch(r).ok());
    auto e = WaitEnd(*b, 1, 30);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->state, JobState::kSucceeded) << e->reason << ReadAll(r.job_dir + "/stderr");
    std::string out = "\n" + ReadAll(r.job_dir + "/stdout");
    EXPECT_EQ(out.find("secret-admin-token"), std::string::npos) << out;
    EXPECT_EQ(out.find("SUANLI_ADMIN_TOKEN"), std::string::npos) << out;
    EXPECT_EQ(out.find("cloud-key-that-must-stay"), std::string::npos) << out;
    EXPECT_NE(out.find("\nPATH=" + std::string(kJobPath) + "\n"), std::string::npos) << out;
    EXPECT_NE(out.find("\nHOME=" + fs::path(r.job_dir).lexically_normal().string() + "\n"), std::string::npos) << out;
    EXPECT_NE(out.find("\nMINE=kept\n"), std::string::npos) << out;
    EXPECT_NE(out.find("\nSUANLI_JOB_ID=1\n"), std::string::npos) << out;
  }
  ::unsetenv("SUANLI_ADMIN_TOKEN");
  ::unsetenv("SUANLI_TEST_CLOUD_KEY");
}

TEST(LiveIsolation, JobEnvironmentIsAnAllowList) {
  auto env =
      JobEnvironment(7, 2, "/d/jobs/7", {{"PATH", "/opt/bin"}, {"SUANLI_JOB_DIR", "/x"}, {"SUANLI_ATTEMPT", "9"}},
                     {{"CUDA_VISIBLE_DEVICES", "1"}},
                     {"LANG=de_DE.UTF-8", "SUANLI_ADMIN_TOKEN=t", "TZ=Asia/Shanghai", "AWS_SECRET=s"});
  std::map<std::string, std::string> want = {{"PATH", "/opt/bin"},
                                             {"HOME", "/d/jobs/7"},
                                             {"LANG", "de_DE.UTF-8"},
                                             {"TZ", "Asia/Shanghai"},
                                             {"CUDA_VISIBLE_DEVICES", "1"},
                                             {"SUANLI_JOB_ID", "7"},
                                             {"SUANLI_JOB_DIR", "/d/jobs/7"},
                                             {"SUANLI_ATTEMPT", "2"},
                                             {"SUANLI_CHECKPOINT_DIR", "/d/jobs/7/checkpoint"}};
  EXPECT_EQ(env, want);
  EXPECT_EQ(JobBaseEnvironment("/j", {}).at("LANG"), "C.UTF-8");
  EXPECT_EQ(EncodeEnvironment({{"A", "1"}, {"B", "x=y"}, {"BAD=", "z"}}), std::string("A=1\0B=x=y\0", 10));
}

// ---- control files -----------------------------------------------------------------

// The job forges "exit 0" in every status and pgid file it can reach and keeps
// running: it must stay running until its time limit, then fail.
TEST(LiveIsolation, AJobCannotForgeItsOwnEnd) {
  IsolationCaps caps = Detected();
  for (const char* sandbox : {"auto", "off"}) {
    SCOPED_TRACE(sandbox);
    // Without a sandbox only another uid keeps the control files out of reach.
    bool protected_here = caps.root || (sandbox[0] == 'a' && caps.bwrap_works);
    if (!protected_here) continue;
    TempDir tmp;
    auto b = Make(tmp.path(), Config(sandbox));
    ASSERT_NE(b, nullptr);
    std::string forge =
        "for d in \"$SUANLI_JOB_DIR\" \"$SUANLI_JOB_DIR/../../run/$SUANLI_JOB_ID\"; do "
        "echo 'exit 0' > \"$d/status\"; echo 1 > \"$d/pgid\"; done 2>/dev/null; echo forged; sleep 1000";
    LaunchRequest r = Request(3, tmp.path(), {"sh", "-c", forge});
    r.spec.time_limit_s = 2;
    auto start = Clock::now();
    ASSERT_TRUE(b->Launch(r).ok());
    auto e = WaitEnd(*b, 3, 30);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->state, JobState::kFailed) << e->reason;
    EXPECT_NE(e->reason.find("time limit 2 s exceeded"), std::string::npos) << e->reason;
    EXPECT_GE(Clock::now() - start, std::chrono::seconds(2));
    EXPECT_EQ(ReadAll(r.job_dir + "/stdout"), "forged\n");
    EXPECT_NE(ReadAll(tmp.path() + "/run/3/status"), "exit 0\n");
  }
}

// ---- processes ---------------------------------------------------------------------

TEST(LiveIsolation, ProcessesThatCallSetsidDieWithTheJob) {
  IsolationCaps caps = Detected();
  if (!caps.cgroups.usable) GTEST_SKIP() << "no writable cgroup hierarchy here: " << caps.cgroups.why;
  // Without the sandbox, the cgroup alone must do it.
  for (const char* sandbox : {"off", "auto"}) {
    SCOPED_TRACE(sandbox);
    TempDir tmp;
    auto b = Make(tmp.path(), Config(sandbox));
    ASSERT_NE(b, nullptr);
    std::string m1 = fmt::format("98{}.{}1", ::getpid() % 1000, sandbox[0] == 'o' ? 1 : 2);
    std::string m2 = fmt::format("97{}.{}1", ::getpid() % 1000, sandbox[0] == 'o' ? 1 : 2);
    // One exits at once, the other is cancelled; both leave a setsid'd sleep behind.
    LaunchRequest exits = Request(4, tmp.path(), {"sh", "-c", "setsid sleep " + m1 + " & sleep 0.5; exit 0"});
    LaunchRequest cancelled = Request(5, tmp.path(), {"sh", "-c", "setsid sleep " + m2 + " & exec sleep 1000"});
    auto l = b->Launch(cancelled);
    ASSERT_TRUE(l.ok());
    ASSERT_TRUE(b->Launch(exits).ok());
    const std::string sleep = std::string("sleep") + '\0';
    for (int i = 0; i < 500 && CountProcesses(sleep + m2) == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_EQ(CountProcesses(sleep + m2), 1);
    auto e = WaitEnd(*b, 4, 30);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->state, JobState::kSucceeded) << e->reason << ReadAll(exits.job_dir + "/stderr");
    EXPECT_EQ(CountProcesses(sleep + m1), 0);
    ASSERT_TRUE(b->Cancel(5, *l).ok());
    auto c = WaitEnd(*b, 5, 30);
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->state, JobState::kCancelled);
    EXPECT_EQ(CountProcesses(sleep + m2), 0);
  }
}

// The job's parent is this same binary, as the supervisor (no sandbox) or as
// the reaper inside the sandbox: no interpreter is run on the way.
TEST(LiveIsolation, TheSupervisorAndTheReaperAreThisSameBinary) {
  IsolationCaps caps = Detected();
  const std::string self = fs::read_symlink("/proc/self/exe").string();
  for (const char* sandbox : {"auto", "off"}) {
    SCOPED_TRACE(sandbox);
    TempDir tmp;
    auto b = Make(tmp.path(), Config(sandbox));
    ASSERT_NE(b, nullptr);
    LaunchRequest r = Request(
        4, tmp.path(), {"sh", "-c", "tr '\\0' '\\n' < /proc/$PPID/cmdline; echo fds; ls /proc/self/fd; sleep 1"});
    auto id = b->Launch(r);
    ASSERT_TRUE(id.ok()) << id.status().message();
    // The supervisor, started by the backend (alive while the job sleeps).
    // (Its command line may read empty for a moment: posix_spawn returns while exec is setting it up.)
    std::string supervisor;
    for (int i = 0; i < 100 && supervisor.empty(); ++i) {
      if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      supervisor = ReadAll("/proc/" + id->substr(0, id->find(':')) + "/cmdline");
    }
    EXPECT_EQ(supervisor.substr(0, supervisor.find('\0')), self);
    auto e = WaitEnd(*b, 4, 30);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->state, JobState::kSucceeded) << e->reason << ReadAll(r.job_dir + "/stderr");
    const std::string out = ReadAll(r.job_dir + "/stdout");
    std::vector<std::string_view> parent = Split(out, '\n');
    ASSERT_GE(parent.size(), 2u);
    // In the sandbox, the reaper runs from the supervisor's own binary, opened
    // for it on a descriptor.
    bool sandboxed = sandbox[0] == 'a' && caps.bwrap_works;
    EXPECT_EQ(parent[0], sandboxed ? "/proc/self/fd/" + std::to_string(kReaperProgramFd) : self);
    EXPECT_EQ(parent[1], sandboxed ? kReaperArg : kSupervisorArg);
    // The job holds none of the descriptors its supervisor and reaper used
    // (its own 0, 1, 2, and 3 for the listing).
    std::string fds = out.substr(out.find("fds\n") + 4);
    EXPECT_EQ(fds, "0\n1\n2\n3\n") << out;
  }
  // Any other first argument is left to the program's own main.
  std::vector<std::string> args = {self, "--gtest_list_tests"};
  std::vector<char*> argv = {args[0].data(), args[1].data()};
  RunLocalSupervisorIfAsked(2, argv.data());
  RunLocalSupervisorIfAsked(1, argv.data());
}

// Job ids are per server: two servers of one machine (two data directories)
// both run a job 1, and neither takes the other's cgroup for its own (which
// would kill the other's job 1 as "a run from before").
TEST(LiveIsolation, TwoServersOfOneMachineEachKeepTheirJob1) {
  IsolationCaps caps = Detected();
  if (!caps.cgroups.usable) GTEST_SKIP() << "no writable cgroup hierarchy here: " << caps.cgroups.why;
  TempDir one, two;
  auto a = Make(one.path(), Config("off"));
  auto b = Make(two.path(), Config("off"));
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(a->Launch(Request(1, one.path(), {"sh", "-c", "sleep 1; echo one"})).ok());
  auto second = b->Launch(Request(1, two.path(), {"sh", "-c", "sleep 1; echo two"}));
  ASSERT_TRUE(second.ok()) << second.status().message();
  auto ea = WaitEnd(*a, 1, 30);
  auto eb = WaitEnd(*b, 1, 30);
  ASSERT_TRUE(ea.has_value() && eb.has_value());
  EXPECT_EQ(ea->state, JobState::kSucceeded) << ea->reason;
  EXPECT_EQ(eb->state, JobState::kSucceeded) << eb->reason;
  EXPECT_EQ(ReadAll(one.path() + "/jobs/1/stdout"), "one\n");
  EXPECT_EQ(ReadAll(two.path() + "/jobs/1/stdout"), "two\n");
}

// Launches a job that asks for 64 MiB and half a core and touches 256 MiB.
void CheckLimitsEnforced(const char* sandbox) {
  TempDir tmp;
  auto b = Make(tmp.path(), Config(sandbox));
  ASSERT_NE(b, nullptr);
  // 64 MiB asked, 256 MiB touched: the kernel kills it.
  LaunchRequest hog = Request(6, tmp.path(), {"perl", "-e", "my $x = 'a' x (256 * 1024 * 1024); print length($x)"});
  hog.spec.mem_mib = 64;
  hog.spec.cpu_milli = 500;
  ASSERT_TRUE(b->Launch(hog).ok());
  // The limits written for it, while it runs.
  std::string cgroups = ReadAll(tmp.path() + "/run/6/cgroups");
  ASSERT_FALSE(cgroups.empty());
  bool mem_seen = false, cpu_seen = false;
  for (std::string_view d : Split(cgroups, '\n')) {
    std::string dir(Trim(d));
    if (dir.empty()) continue;
    if (fs::exists(dir + "/memory.limit_in_bytes")) {
      EXPECT_EQ(ReadAll(dir + "/memory.limit_in_bytes"), std::to_string(64LL << 20) + "\n");
      mem_seen = true;
    }
    if (fs::exists(dir + "/memory.max")) {
      EXPECT_EQ(ReadAll(dir + "/memory.max"), std::to_string(64LL << 20) + "\n");
      mem_seen = true;
    }
    if (fs::exists(dir + "/cpu.cfs_quota_us")) {
      EXPECT_EQ(ReadAll(dir + "/cpu.cfs_quota_us"), "50000\n");
      cpu_seen = true;
    }
    if (fs::exists(dir + "/cpu.max")) {
      EXPECT_EQ(ReadAll(dir + "/cpu.max"), "50000 100000\n");
      cpu_seen = true;
    }
  }
  EXPECT_TRUE(mem_seen && cpu_seen) << cgroups;
  auto e = WaitEnd(*b, 6, 60);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->state, JobState::kFailed) << e->reason;
  EXPECT_EQ(e->signal, SIGKILL) << e->reason;
  // Its cgroups are gone with it.
  for (std::string_view d : Split(cgroups, '\n')) {
    if (!Trim(d).empty()) {
      EXPECT_FALSE(fs::exists(std::string(Trim(d))));
    }
  }
}

// In a sandbox, the reaper (this binary) shares the job's cgroups: a few MiB,
// but far more than 64 MiB when the binary is built with AddressSanitizer, so
// such a build checks the limits without the sandbox only.
#if defined(__SANITIZE_ADDRESS__)
constexpr const char* kLimitSandboxes[] = {"off"};
#else
constexpr const char* kLimitSandboxes[] = {"auto", "off"};
#endif

TEST(LiveIsolation, MemoryAndCpuRequestsAreEnforced) {
  IsolationCaps caps = Detected();
  if (!caps.cgroups.usable || !caps.cgroups.memory || !caps.cgroups.cpu) {
    GTEST_SKIP() << "no cpu and memory cgroup controllers here: " << caps.cgroups.why;
  }
  for (const char* sandbox : kLimitSandboxes) {
    SCOPED_TRACE(sandbox);
    CheckLimitsEnforced(sandbox);
  }
}

// ---- files and uid -----------------------------------------------------------------

TEST(LiveIsolation, TheDataDirectoryIsInvisibleAndOnlyTheJobsDirectoryWritable) {
  IsolationCaps caps = Detected();
  if (!caps.bwrap_works) GTEST_SKIP() << caps.bwrap_error;
  TempDir tmp;
  std::ofstream(tmp.path() + "/suanli.db") << "tenants and tokens";
  fs::create_directories(tmp.path() + "/jobs/99");
  std::ofstream(tmp.path() + "/jobs/99/stdout") << "another tenant's log";
  auto b = Make(tmp.path(), Config("bwrap"));
  ASSERT_NE(b, nullptr);
  std::string script =
      "cat \"$SUANLI_JOB_DIR/../../suanli.db\" 2>/dev/null && echo READ-DB; "
      "cat \"$SUANLI_JOB_DIR/../99/stdout\" 2>/dev/null && echo READ-OTHER; "
      "ls \"$SUANLI_JOB_DIR/../..\" 2>/dev/null | tr '\\n' ' '; echo; "
      "touch \"$SUANLI_JOB_DIR/../../planted\" 2>/dev/null && echo WROTE-DATA; "
      "touch /usr/planted /var/tmp/suanli-planted-$$ 2>/dev/null && echo WROTE-ROOTFS; "
      "echo x > \"$HOME/mine\" && echo x > /tmp/scratch && echo wrote-own; "
      "kill -0 1 && echo pid1-visible; ps -e -o pid= | wc -l; id -u";
  LaunchRequest r = Request(8, tmp.path(), {"sh", "-c", script});
  ASSERT_TRUE(b->Launch(r).ok());
  auto e = WaitEnd(*b, 8, 30);
  ASSERT_TRUE(e.has_value());
  std::string out = ReadAll(r.job_dir + "/stdout");
  EXPECT_EQ(e->state, JobState::kSucceeded) << e->reason << out << ReadAll(r.job_dir + "/stderr");
  EXPECT_EQ(out.find("READ-DB"), std::string::npos) << out;
  EXPECT_EQ(out.find("READ-OTHER"), std::string::npos) << out;
  EXPECT_EQ(out.find("suanli.db"), std::string::npos) << out;
  EXPECT_EQ(out.find("WROTE"), std::string::npos) << out;
  EXPECT_NE(out.find("wrote-own"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(tmp.path() + "/planted"));
  EXPECT_EQ(ReadAll(r.job_dir + "/mine"), "x\n");
  // A PID namespace of its own: the sandbox's init, the shell, ps.
  std::vector<std::string> lines;
  for (std::string_view l : Split(out, '\n')) lines.emplace_back(l);
  ASSERT_GE(lines.size(), 3u) << out;
  auto procs = ParseInt(Trim(lines[lines.size() - 3]));
  ASSERT_TRUE(procs.has_value()) << out;
  EXPECT_LE(*procs, 6) << out;
  auto uid = ParseInt(Trim(lines[lines.size() - 2]));
  ASSERT_TRUE(uid.has_value()) << out;
  if (caps.root) {
    EXPECT_GE(*uid, 60000) << out;
    EXPECT_LT(*uid, 61000) << out;
    struct stat st {};
    ASSERT_EQ(::stat(r.job_dir.c_str(), &st), 0);
    EXPECT_EQ(static_cast<int64_t>(st.st_uid), *uid);
    EXPECT_EQ(st.st_mode & 0777, 0711u);
    ASSERT_EQ(::stat((tmp.path() + "/run/8").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 0u);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
  }
}

TEST(LiveIsolation, AWorkdirHoldingTheServersDataIsRefused) {
  TempDir tmp;
  auto b = Make(tmp.path(), Config("off"));
  ASSERT_NE(b, nullptr);
  fs::create_directories(tmp.path() + "/jobs/2");
  fs::create_directories(tmp.path() + "/run");
  for (const std::string& w : {tmp.path(), std::string("/"), tmp.path() + "/jobs/2", tmp.path() + "/run"}) {
    LaunchRequest r = Request(1, tmp.path(), {"true"});
    r.spec.workdir = w;
    auto l = b->Launch(r);
    ASSERT_FALSE(l.ok()) << w;
    EXPECT_NE(l.status().message().find("holds the server's data"), std::string::npos) << l.status().message();
  }
}

// A job leaves a symbolic link where its log was; the next run of the job
// (requeued) must not write through it.
TEST(LiveIsolation, LogsAreNeverOpenedThroughALink) {
  TempDir tmp;
  auto b = Make(tmp.path(), Config());
  ASSERT_NE(b, nullptr);
  std::ofstream(tmp.path() + "/victim") << "untouched\n";
  ::chmod((tmp.path() + "/victim").c_str(), 0666);
  LaunchRequest r = Request(9, tmp.path(), {"sh", "-c", "rm -f stdout; ln -s " + tmp.path() + "/victim stdout"});
  ASSERT_TRUE(b->Launch(r).ok());
  ASSERT_TRUE(WaitEnd(*b, 9, 30).has_value());
  LaunchRequest again = Request(9, tmp.path(), {"echo", "second run"});
  ASSERT_TRUE(b->Launch(again).ok());
  ASSERT_TRUE(WaitEnd(*b, 9, 30).has_value());
  EXPECT_EQ(ReadAll(tmp.path() + "/victim"), "untouched\n");
  EXPECT_FALSE(fs::is_symlink(r.job_dir + "/stdout"));
  EXPECT_EQ(ReadAll(r.job_dir + "/stdout"), "second run\n");
}

// ---- degraded modes ----------------------------------------------------------------

TEST(LiveIsolation, PlanNamesWhatIsNotIsolated) {
  IsolationCaps full;
  full.root = true;
  full.bwrap = "/usr/bin/bwrap";
  full.bwrap_works = true;
  full.cgroups = {true, true, true, true, ""};
  auto p = PlanIsolation(full, Config());
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->sandbox && p->drop_uid && p->cgroups && p->cpu_limit && p->memory_limit);
  EXPECT_TRUE(p->missing.empty());
  EXPECT_EQ(DescribeIsolation(*p),
            "jobs are isolated by: bwrap sandbox (mount, PID, IPC namespaces; data directory hidden), a uid per job, "
            "cgroups (limits: cpu, memory)");

  IsolationCaps bare;
  bare.uid = 1000;
  bare.bwrap_error = "bwrap is not installed (Debian package bubblewrap)";
  bare.cgroups.why = "cannot create /sys/fs/cgroup/suanli: Permission denied";
  p = PlanIsolation(bare, Config());
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->sandbox || p->drop_uid || p->cgroups);
  std::string line = DescribeIsolation(*p);
  EXPECT_NE(line.find("NOT isolated: no sandbox (bwrap is not installed"), std::string::npos) << line;
  EXPECT_NE(line.find("no uid per job (the server is not root): jobs run as uid 1000 and can read and change the "
                      "server's database"),
            std::string::npos)
      << line;
  EXPECT_NE(line.find("no cgroups (cannot create /sys/fs/cgroup/suanli: Permission denied): processes that leave "
                      "the job's process group survive cancel and the time limit"),
            std::string::npos)
      << line;

  // Not root, but bwrap works (user namespaces): hidden data, same uid.
  IsolationCaps user = bare;
  user.bwrap_works = true;
  p = PlanIsolation(user, Config());
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->sandbox);
  EXPECT_EQ(p->missing.size(), 2u);
  EXPECT_NE(DescribeIsolation(*p).find("outside the hidden data directory"), std::string::npos);

  // Root with cgroups without controllers; the sandbox switched off.
  IsolationCaps partial = full;
  partial.cgroups.cpu = partial.cgroups.memory = false;
  BackendConfig off = Config("off");
  p = PlanIsolation(partial, off);
  ASSERT_TRUE(p.ok());
  line = DescribeIsolation(*p);
  EXPECT_NE(line.find("no sandbox (sandbox: off)"), std::string::npos) << line;
  EXPECT_NE(line.find("CPU requests are not enforced"), std::string::npos) << line;
  EXPECT_NE(line.find("memory requests are not enforced"), std::string::npos) << line;

  // A sandbox asked for explicitly, where there is none: the center does not start.
  auto err = PlanIsolation(bare, Config("bwrap"));
  ASSERT_FALSE(err.ok());
  EXPECT_NE(err.status().message().find("bwrap is not installed"), std::string::npos);
  TempDir tmp;
  EXPECT_FALSE(MakeLocalBackend(Config("bwrap"), "here", tmp.path(), BuiltinCatalog(), std::nullopt, bare).ok());
  BackendConfig bad = Config("maybe");
  EXPECT_FALSE(MakeLocalBackend(bad, "here", tmp.path(), BuiltinCatalog()).ok());
}

// Nothing but the process group: jobs still run, with the allow-listed environment.
TEST(LiveIsolation, DegradedModeStillRunsJobs) {
  ::setenv("SUANLI_ADMIN_TOKEN", "secret-admin-token-0123456789abcdef", 1);
  IsolationCaps bare;
  bare.uid = ::geteuid();
  bare.bwrap_error = "injected";
  bare.cgroups.why = "injected";
  TempDir tmp;
  auto b = Make(tmp.path(), Config(), bare);
  ASSERT_NE(b, nullptr);
  LaunchRequest r = Request(11, tmp.path(), {"sh", "-c", "echo token=${SUANLI_ADMIN_TOKEN-none} uid=$(id -u); exit 4"});
  ASSERT_TRUE(b->Launch(r).ok());
  auto e = WaitEnd(*b, 11, 30);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->exit_code, 4);
  EXPECT_EQ(ReadAll(r.job_dir + "/stdout"), fmt::format("token=none uid={}\n", ::geteuid()));
  ::unsetenv("SUANLI_ADMIN_TOKEN");
}

// A server that is not root: bwrap in a user namespace, no uid change, no cgroups.
TEST(LiveIsolation, NonRootServerRunsJobsDegraded) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to become another user";
  TempDir tmp;
  const uid_t nobody = 65534;
  ASSERT_EQ(::chown(tmp.path().c_str(), nobody, nobody), 0);
  std::string result = tmp.path() + "/result";
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (::setgroups(0, nullptr) != 0 || ::setgid(nobody) != 0 || ::setuid(nobody) != 0) ::_exit(2);
    auto b = MakeLocalBackend(Config(), "here", tmp.path(), BuiltinCatalog());
    if (!b.ok()) ::_exit(3);
    LaunchRequest r = Request(12, tmp.path(), {"sh", "-c", "id -u; cat ../../result 2>/dev/null || echo hidden"});
    if (!(*b)->Launch(r).ok()) ::_exit(4);
    for (int i = 0; i < 600; ++i) {
      auto evs = (*b)->Poll(Now());
      if (!evs.ok()) ::_exit(5);
      for (const BackendEvent& e : *evs) {
        if (e.job_id == 12) ::_exit(e.state == JobState::kSucceeded ? 0 : 6);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::_exit(7);
  }
  std::ofstream(result) << "the server's file\n";
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << ReadAll(tmp.path() + "/jobs/12/stderr");
  std::string out = ReadAll(tmp.path() + "/jobs/12/stdout");
  EXPECT_EQ(out.substr(0, out.find('\n')), "65534") << out;
  if (Detected().bwrap_works) {
    // bwrap works for root here; for nobody it may not (no user namespaces):
    // either way the job ran, and with a sandbox the server's file was hidden.
    EXPECT_TRUE(out.find("hidden") != std::string::npos || out.find("the server's file") != std::string::npos) << out;
  }
}

// ---- cgroup layout -----------------------------------------------------------------

TEST(LiveIsolation, CgroupLayoutFromMountsAndSelf) {
  std::string v1 =
      "tmpfs /sys/fs/cgroup tmpfs rw 0 0\n"
      "cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,nosuid,cpu,cpuacct 0 0\n"
      "cgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0\n"
      "cgroup /sys/fs/cgroup/freezer cgroup rw,freezer 0 0\n"
      "cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n";
  auto l = ParseCgroupLayout(v1, "4:memory:/box/a\n2:cpu,cpuacct:/\n6:freezer:/\n0::/\n");
  EXPECT_EQ(l.version, CgroupLayout::Version::kV1);
  EXPECT_EQ(l.v1_mounts.at("cpu"), "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(l.v1_mounts.at("memory"), "/sys/fs/cgroup/memory");
  EXPECT_EQ(l.v1_mounts.at("freezer"), "/sys/fs/cgroup/freezer");
  EXPECT_EQ(l.self.at("memory"), "/box/a");
  auto v2 = ParseCgroupLayout("cgroup2 /sys/fs/cgroup cgroup2 rw,nsdelegate 0 0\n", "0::/init.scope\n");
  EXPECT_EQ(v2.version, CgroupLayout::Version::kV2);
  EXPECT_EQ(v2.v2_root, "/sys/fs/cgroup");
  auto esc = ParseCgroupLayout("cgroup2 /mnt/a\\040b cgroup2 rw 0 0\n", "");
  EXPECT_EQ(esc.v2_root, "/mnt/a b");
  EXPECT_EQ(ParseCgroupLayout("proc /proc proc rw 0 0\n", "").version, CgroupLayout::Version::kNone);
}

}  // namespace
}  // namespace suanli::live
