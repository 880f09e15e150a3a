// The Backend interface's typed conformance suite: what the control plane
// relies on from every backend, instantiated for the local and the
// simulated one (the slurm backend runs the same checks against a real
// cluster in live_slurm_backend_test.cc, labelled slurm).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "live/backend.h"

namespace suanli::live {
namespace {

namespace fs = std::filesystem;

WallMs Now() {
  return WallMs(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

// Each kind: how to make one, and the request of a job that ends by itself
// within a second (succeeding or failing) or runs until cancelled.
struct Local {
  static BackendConfig Config() {
    BackendConfig c;
    c.kind = "local";
    c.detect_gpus = false;
    c.slots = 2;
    c.grace_s = 1;
    return c;
  }
  static BackendCapacity Capacity() { return {}; }
  static void Job(LaunchRequest* r, int exit_code, bool forever) {
    r->spec.command = {"sh", "-c", forever ? "sleep 600" : "exit " + std::to_string(exit_code)};
  }
};

struct Simulated {
  static BackendConfig Config() {
    BackendConfig c;
    c.kind = "simulated";
    return c;
  }
  static BackendCapacity Capacity() {
    BackendCapacity cap;
    BackendNode n;
    n.name = "n0";
    n.cpu_milli = 2000;
    n.mem_mib = 4096;
    cap.nodes.push_back(n);
    return cap;
  }
  static void Job(LaunchRequest* r, int exit_code, bool forever) {
    r->spec.command = {"train"};
    // A simulated run succeeds after its duration, or fails at its time limit.
    r->spec.duration_s = forever ? 600 : exit_code == 0 ? 1 : 5;
    r->spec.time_limit_s = forever ? 3600 : exit_code == 0 ? 3600 : 1;
  }
};

template <typename T>
class BackendConformance : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "suanli-backend-conf.XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto b = MakeBackend(T::Config(), "c", dir_, T::Capacity());
    ASSERT_TRUE(b.ok()) << b.status().message();
    backend = std::move(*b);
    auto cap = backend->Probe();
    ASSERT_TRUE(cap.ok()) << cap.status().message();
    ASSERT_FALSE(cap->nodes.empty());
    node = cap->nodes[0].name;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  LaunchRequest Request(int64_t id, int exit_code, bool forever = false) {
    LaunchRequest r;
    r.job_id = id;
    r.node = node;
    r.job_dir = dir_ + "/jobs/" + std::to_string(id);
    fs::create_directories(r.job_dir);
    r.start_ms = Now();
    r.spec.cpu_milli = 1000;
    // 1 GiB: a local job's sandbox reaper shares its memory cgroup, and an
    // AddressSanitizer build of it alone holds about 340 MiB.
    r.spec.mem_mib = 1024;
    T::Job(&r, exit_code, forever);
    return r;
  }
  // Polls until job `id` has ended (at most 20 s); its end events, all of them.
  std::vector<BackendEvent> WaitEnd(int64_t id) {
    std::vector<BackendEvent> ends;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      auto evs = backend->Poll(Now());
      EXPECT_TRUE(evs.ok()) << evs.status().message();
      if (!evs.ok()) break;
      for (const BackendEvent& e : *evs)
        if (e.job_id == id && (e.kind == BackendEvent::Kind::kEnded || e.kind == BackendEvent::Kind::kLost))
          ends.push_back(e);
      if (!ends.empty()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return ends;
  }

  std::unique_ptr<Backend> backend;
  std::string node;

 private:
  std::string dir_;
};

using BackendTypes = ::testing::Types<Local, Simulated>;
TYPED_TEST_SUITE(BackendConformance, BackendTypes);

TYPED_TEST(BackendConformance, AJobEndsOnceWithItsStateAndTheTimeItEnded) {
  const WallMs before = Now();
  auto id = this->backend->Launch(this->Request(1, 0));
  ASSERT_TRUE(id.ok()) << id.status().message();
  EXPECT_FALSE(id->empty());
  auto ends = this->WaitEnd(1);
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ(ends[0].kind, BackendEvent::Kind::kEnded);
  EXPECT_EQ(ends[0].state, JobState::kSucceeded);
  EXPECT_GE(ends[0].at_ms, before);
  EXPECT_LE(ends[0].at_ms, Now());
  auto again = this->backend->Poll(Now() + 10'000);
  ASSERT_TRUE(again.ok());
  for (const auto& e : *again) EXPECT_NE(e.job_id, 1) << "an end is reported once";
}

TYPED_TEST(BackendConformance, AFailingJobEndsFailedWithAReason) {
  ASSERT_TRUE(this->backend->Launch(this->Request(2, 3)).ok());
  auto ends = this->WaitEnd(2);
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ(ends[0].state, JobState::kFailed);
  EXPECT_FALSE(ends[0].reason.empty());
  EXPECT_FALSE(ends[0].center_stopped) << "its own failure, not its center's doing";
}

TYPED_TEST(BackendConformance, CancelEndsARunningJobAsCancelled) {
  auto id = this->backend->Launch(this->Request(3, 0, true));
  ASSERT_TRUE(id.ok()) << id.status().message();
  ASSERT_TRUE(this->backend->Cancel(3, *id).ok());
  auto ends = this->WaitEnd(3);
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ(ends[0].state, JobState::kCancelled);
}

TYPED_TEST(BackendConformance, StopWithNoticeEndsARunningJobAsCancelled) {
  auto id = this->backend->Launch(this->Request(6, 0, true));
  ASSERT_TRUE(id.ok()) << id.status().message();
  ASSERT_TRUE(this->backend->Stop(6, *id, StopNotice{.signal = "USR1", .grace_s = 1}).ok());
  auto ends = this->WaitEnd(6);
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ(ends[0].state, JobState::kCancelled);
}

TYPED_TEST(BackendConformance, AdoptingAMalformedIdIsAnInvalidArgument) {
  Status st = this->backend->Adopt(this->Request(4, 0), "not an id: \n");
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.message();
}

TYPED_TEST(BackendConformance, ALaunchOnANodeItDoesNotHaveIsRefused) {
  LaunchRequest r = this->Request(5, 0);
  r.node = "no-such-node";
  EXPECT_FALSE(this->backend->Launch(r).ok());
}

TYPED_TEST(BackendConformance, ItDoesNotQueueLaunchesOfItsOwn) {
  // Local and simulated runs start at once (slurm's may wait in its queue).
  EXPECT_FALSE(this->backend->LaunchQueues());
}

}  // namespace
}  // namespace suanli::live
