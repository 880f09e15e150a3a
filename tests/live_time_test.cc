// The live control plane reads each center's tariff and carbon at the
// center's own local hour (its `tz` in the network file), not at the hour of
// the machine's time zone: the same prices under any TZ. And it honours a
// job's priority as the simulator does (the same scheduler).
#include <gtest/gtest.h>

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "live/control.h"

namespace suanli::live {
namespace {

namespace fs = std::filesystem;

// Sets TZ for the test and puts the old value back after it.
class ScopedTz {
 public:
  explicit ScopedTz(const char* tz) {
    if (const char* old = ::getenv("TZ")) old_ = old;
    ::setenv("TZ", tz, 1);
    ::tzset();
  }
  ~ScopedTz() {
    if (old_) ::setenv("TZ", old_->c_str(), 1);
    else ::unsetenv("TZ");
    ::tzset();
  }

 private:
  std::optional<std::string> old_;
};

int UtcHourNow() { return static_cast<int>(::time(nullptr) / 3600 % 24); }

// One center in Asia/Shanghai whose price at local hour h is h + 1 and
// carbon 100 * (h + 1): the price tells the hour it was read at.
constexpr const char* kBeijingNet = R"(
name: beijing-time
centers:
  - name: zz
    tz: Asia/Shanghai
    pue: 1.0
    price_per_kwh: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24]
    carbon_g_per_kwh: [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 1100, 1200,
                       1300, 1400, 1500, 1600, 1700, 1800, 1900, 2000, 2100, 2200, 2300, 2400]
    pools:
      - name: gpu
        nodes:
          - {count: 1, prefix: zz-, accelerator: A100-80GB, devices: 8, cpu: 64, memory_gib: 512}
)";

TEST(LiveCenterTime, PriceNowIsTheCentersLocalHourWhateverTheMachinesTz) {
  std::string tmpl = (fs::temp_directory_path() / "suanli-live-time.XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  const std::string dir = tmpl;
  { std::ofstream(dir + "/net.yaml") << kBeijingNet; }
  int run = 0;
  for (const char* tz : {"America/New_York", "UTC", "Asia/Kolkata"}) {
    ScopedTz scoped(tz);
    ServerConfig c;
    c.data_dir = dir + "/data-" + std::to_string(run++);
    c.network = dir + "/net.yaml";
    c.pass_interval_ms = 100;
    auto cp = ControlPlane::Start(c);
    ASSERT_TRUE(cp.ok()) << cp.status().message();
    for (int attempt = 0; attempt < 3; ++attempt) {  // the hour may turn between the reads
      const int before = UtcHourNow();
      auto centers = (*cp)->Centers();
      const int after = UtcHourNow();
      ASSERT_EQ(centers.size(), 1u);
      if (before != after) continue;
      const int beijing = (before + 8) % 24;
      EXPECT_DOUBLE_EQ(centers[0].price_now, beijing + 1) << "TZ=" << tz << ", UTC hour " << before;
      EXPECT_DOUBLE_EQ(centers[0].carbon_now, 100.0 * (beijing + 1)) << "TZ=" << tz;
      break;
    }
    (*cp)->Stop();
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
}

// One 8-device node; A fills it for 2 s, then B (priority 0) and C (priority
// 5) wait for it: C starts first although B came first (fifo+easy).
TEST(LivePriority, AHigherPriorityStartsFirst) {
  std::string tmpl = (fs::temp_directory_path() / "suanli-live-priority.XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  const std::string dir = tmpl;
  { std::ofstream(dir + "/net.yaml") << kBeijingNet; }
  ServerConfig c;
  c.data_dir = dir + "/data";
  c.network = dir + "/net.yaml";
  c.pass_interval_ms = 100;
  auto cp = ControlPlane::Start(c);
  ASSERT_TRUE(cp.ok()) << cp.status().message();
  const Caller alice{"alice", false};
  Tenant t;
  t.name = "alice";
  t.max_priority = 5;  // the admin lets alice rank her jobs up to 5
  ASSERT_TRUE((*cp)->CreateTenant(Caller{"admin", true}, t).ok());
  auto job = [](int64_t secs, int32_t priority) {
    JobSpec s;
    s.command = {"train"};
    s.gpus = 8;
    s.cpu_milli = 1000;
    s.mem_mib = 1024;
    s.duration_s = secs;
    s.time_limit_s = 600;
    s.priority = priority;
    return s;
  };
  auto get = [&](int64_t id) {
    auto r = (*cp)->Get(alice, id);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : JobRecord{};
  };
  auto wait = [&](const std::function<bool()>& done) {
    for (int i = 0; i < 400 && !done(); ++i) {
      (*cp)->PassNow();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return done();
  };
  auto a = (*cp)->Submit(alice, job(2, 0));
  ASSERT_TRUE(a.ok()) << a.status().message();
  ASSERT_TRUE(wait([&] { return get(a->id).state == JobState::kRunning; }));
  auto b = (*cp)->Submit(alice, job(1, 0));
  auto cc = (*cp)->Submit(alice, job(1, 5));
  ASSERT_TRUE(b.ok() && cc.ok());
  ASSERT_TRUE(wait([&] { return IsTerminal(get(b->id).state) && IsTerminal(get(cc->id).state); }));
  const JobRecord rb = get(b->id), rc = get(cc->id);
  EXPECT_EQ(rb.state, JobState::kSucceeded) << rb.reason;
  EXPECT_EQ(rc.state, JobState::kSucceeded) << rc.reason;
  EXPECT_GE(rc.start_ms, get(a->id).end_ms);
  EXPECT_GE(rb.start_ms, rc.end_ms) << "priority 5 runs before the earlier priority 0";
  (*cp)->Stop();
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace suanli::live
