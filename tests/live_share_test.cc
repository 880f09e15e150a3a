// Shares of one accelerator live (a job's `gpus` below 1, GPU sharing as in
// the Alibaba trace): the API's number, its limits, and the tiny network's
// simulated centers on a clock of the test's own. Two half-GPU jobs share
// the one free device of a center while two more wait; a restart keeps both
// on it, each counted as half; each is metered for half a device.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/time.h"
#include "live/control.h"
#include "server/json_codec.h"
#include "support/live_control.h"

namespace suanli::live {
namespace {

using nlohmann::json;

TEST(LiveShare, GpusIsANumberWithThreeDecimalsAndAShareIsOfOneDevice) {
  auto decode = [](const json& gpus, JobSpec* s, server::ApiError* err) {
    return server::JobSpecFromJson(json{{"command", {"true"}}, {"gpus", gpus}}, s, err);
  };
  JobSpec s;
  server::ApiError err;
  ASSERT_TRUE(decode(0.25, &s, &err)) << err.message;
  EXPECT_EQ(s.gpus, Gpus::FromMilli(250));
  EXPECT_TRUE(s.gpus.shared());
  EXPECT_EQ(s.gpus.devices(), 1u);
  EXPECT_EQ(s.gpus.ToString(), "0.25");
  ASSERT_TRUE(decode(2, &s, &err)) << err.message;
  EXPECT_EQ(s.gpus, Gpus(2));
  ASSERT_TRUE(decode(3.0, &s, &err)) << err.message;  // a whole number written with a point
  EXPECT_EQ(s.gpus, Gpus(3));
  ASSERT_TRUE(decode(0.001, &s, &err)) << err.message;
  EXPECT_EQ(s.gpus.milli(), 1u);

  for (const json& bad : {json(1.5), json(0.0001), json(-0.5), json(4097), json("0.5"), json(1e300)}) {
    JobSpec t;
    EXPECT_FALSE(decode(bad, &t, &err)) << bad.dump();
    EXPECT_EQ(err.field, "gpus") << bad.dump();
  }
  // A share is of one node's one device: not spread over nodes.
  JobSpec spread;
  EXPECT_FALSE(server::JobSpecFromJson(json{{"command", {"true"}}, {"gpus", 0.5}, {"nodes", 2}}, &spread, &err));
  EXPECT_EQ(err.field, "nodes");

  // Written back as the number it was: whole devices as an integer.
  JobRecord r;
  r.spec.command = {"true"};
  r.spec.gpus = Gpus::FromMilli(250);
  EXPECT_EQ(server::JobToJson(r)["gpus"].dump(), "0.25");
  r.spec.gpus = 2;
  EXPECT_EQ(server::JobToJson(r)["gpus"].dump(), "2");
}

class Net : public testing::live_control::ClockedNetwork {
 public:
  Net() : ClockedNetwork(*ParseRfc3339("2026-12-07T09:00:00Z")) {}
  Result<JobRecord> Submit(Gpus gpus, int64_t duration_s) {
    JobSpec s;
    s.command = {"infer"};
    s.gpus = gpus;
    s.center = "west";  // 2 nodes of 8 V100
    s.cpu_milli = 1000;
    s.mem_mib = 4096;
    s.duration_s = duration_s;
    s.time_limit_s = 3600;
    return ClockedNetwork::Submit(s);
  }
};

TEST(LiveShare, TwoHalfGpuJobsShareTheLastFreeDeviceKeptAcrossARestartAndMeteredByTheirShare) {
  Net net;
  // 15 of west's 16 devices busy for an hour.
  auto full = net.Submit(8, 3000), most = net.Submit(7, 3000);
  ASSERT_TRUE(full.ok() && most.ok());
  ASSERT_EQ(net.Get(most->id).state, JobState::kRunning);

  auto a = net.Submit(Gpus::FromMilli(500), 600), b = net.Submit(Gpus::FromMilli(500), 1200),
       c = net.Submit(Gpus::FromMilli(500), 600), d = net.Submit(Gpus::FromMilli(500), 600);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok() && d.ok());
  JobRecord ra = net.Get(a->id), rb = net.Get(b->id), rc = net.Get(c->id);
  ASSERT_EQ(ra.state, JobState::kRunning) << ra.reason;
  ASSERT_EQ(rb.state, JobState::kRunning) << rb.reason;
  EXPECT_EQ(ra.node, rb.node);
  EXPECT_EQ(ra.devices, rb.devices);
  ASSERT_EQ(ra.devices.size(), 1u);
  EXPECT_EQ(rc.state, JobState::kPending);
  EXPECT_FALSE(rc.reason.empty());
  EXPECT_EQ(net.Get(d->id).state, JobState::kPending);

  // A restart keeps both halves on their device, each counted as half of it.
  net.Restart();
  EXPECT_EQ(net.Get(a->id).state, JobState::kRunning);
  EXPECT_EQ(net.Get(b->id).devices, ra.devices);
  EXPECT_EQ(net.Get(b->id).spec.gpus, Gpus::FromMilli(500));  // from the store
  EXPECT_EQ(net.Get(c->id).state, JobState::kPending);

  // a ends after 600 s, metered for half a device; one of c and d takes its
  // half beside b, the other still waits.
  net.Advance(601);
  ra = net.Get(a->id);
  ASSERT_EQ(ra.state, JobState::kSucceeded) << ra.reason;
  ASSERT_EQ(ra.attempts.size(), 1u);
  EXPECT_NEAR(ra.attempts[0].gpu_seconds, 0.5 * 600.0, 0.5 * 2.0);
  EXPECT_NEAR(ra.gpu_seconds, 0.5 * 600.0, 0.5 * 2.0);
  EXPECT_EQ(net.Get(b->id).state, JobState::kRunning);
  rc = net.Get(c->id);
  const JobRecord rd = net.Get(d->id);
  EXPECT_EQ((rc.state == JobState::kRunning) + (rd.state == JobState::kRunning), 1)
      << "c " << StateName(rc.state) << ", d " << StateName(rd.state);
  const JobRecord& next = rc.state == JobState::kRunning ? rc : rd;
  EXPECT_EQ(next.devices, ra.devices);
  EXPECT_EQ(next.node, ra.node);
}

}  // namespace
}  // namespace suanli::live
