// Start times from a forward simulation (core/network/forecast.h):
// a copy of a center's scheduler run ahead. When every run lasts what it was
// expected to, the forecast is what then happens, to the microsecond.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "core/network/network_scheduler.h"
#include "support/network_fixture.h"

namespace suanli {
namespace {

using Fixture = testing::NetFixture;

// Drives the network scheduler as the simulator does: each run ends when
// its decision said (kStart's `run`). Records every job's first start.
struct Driver {
  explicit Driver(Fixture& fixture) : f(fixture) {}
  Fixture& f;
  std::map<JobId, Time> starts;
  std::multimap<Time, JobId> ends;
  // A pass at t, and what it started.
  void Pass(Time t) {
    EXPECT_TRUE(f.ns->Pass(t).ok());
    for (const NetDecision& d : f.Take())
      if (d.kind == NetDecision::Kind::kStart) {
        starts.emplace(d.job, t);
        ends.emplace(t + d.run, d.job);
      }
  }
  // On until nothing runs.
  void RunOn(Time t) {
    Pass(t);
    while (!ends.empty()) {
      const auto [end, job] = *ends.begin();
      ends.erase(ends.begin());
      EXPECT_TRUE(f.ns->Finished(job, end).ok());
      Pass(end);
    }
  }
};

JobId AddAt(Fixture& f, uint32_t gpus, double work_s, Time t) {
  JobId id = f.Add(gpus, work_s);
  f.ns->Pin(id, CenterId{0});  // all at east
  f.ns->Arrive(id, t);
  return id;
}

// One 8-device node busy for 100 s, four whole-node jobs queued behind it: a
// bound that releases only the running job says 100 s for all four; the
// forecast runs them one after the other.
TEST(NetworkForecast, JobsQueuedBehindOneWaveStartOneAfterTheOther) {
  Fixture f;
  Driver run(f);
  JobId wave = AddAt(f, 8, 100, 0);
  run.Pass(0);
  ASSERT_TRUE(run.starts.contains(wave));
  std::vector<JobId> queued;
  for (double work : {100, 200, 300, 400}) queued.push_back(AddAt(f, 8, work, Seconds(10)));
  run.Pass(Seconds(10));
  auto fc = RunForecast(f.ns->SnapshotForecast(CenterId{0}, Seconds(20)), f.cat);
  ASSERT_TRUE(fc.ok()) << fc.status().message();
  ASSERT_EQ(fc->starts.size(), 4u) << "the queued jobs, not the running one";
  const Time want[] = {Seconds(100), Seconds(200), Seconds(400), Seconds(700)};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(fc->starts[i].first, queued[i]);
    EXPECT_EQ(fc->starts[i].second, want[i]) << "job " << i;
  }
  // The bound it replaces: every one of them "at 100 s".
  EXPECT_EQ(f.ns->EstimateStart(queued[3], Seconds(20))->start, Seconds(100));
  // Asking changed nothing: run on, and each starts when forecast.
  run.RunOn(Seconds(20));
  for (const auto& [id, at] : fc->starts) EXPECT_EQ(run.starts[id], at) << "job " << id;
}

// A predictor that says each run takes half its estimate: the running job
// is expected to end at 50 s and each queued one to run half as long; a run
// already past its predicted share is expected to run to its estimate.
TEST(NetworkForecast, PredictedSharesShortenTheRunsAndARunPastItsShareKeepsItsEstimate) {
  Fixture f;
  Driver run(f);
  JobId wave = AddAt(f, 8, 100, 0);
  run.Pass(0);
  std::vector<JobId> queued;
  for (double work : {100, 200}) queued.push_back(AddAt(f, 8, work, Seconds(10)));
  run.Pass(Seconds(10));
  const RunShare half = [](const Job&) { return 0.5; };
  auto fc = RunForecast(f.ns->SnapshotForecast(CenterId{0}, Seconds(20), half), f.cat);
  ASSERT_TRUE(fc.ok()) << fc.status().message();
  ASSERT_EQ(fc->starts.size(), 2u);
  EXPECT_EQ(fc->starts[0].second, Seconds(50));
  EXPECT_EQ(fc->starts[1].second, Seconds(100));  // 50 + half of 100
  // At 60 s the running job has outrun its share: expected at its estimate.
  fc = RunForecast(f.ns->SnapshotForecast(CenterId{0}, Seconds(60), half), f.cat);
  ASSERT_TRUE(fc.ok());
  EXPECT_EQ(fc->starts[0].second, Seconds(100));
  // Shares out of (0, 1] are no prediction.
  for (double bad : {0.0, -1.0, 7.0, std::nan("")}) {
    fc = RunForecast(f.ns->SnapshotForecast(CenterId{0}, Seconds(20), [bad](const Job&) { return bad; }), f.cat);
    ASSERT_TRUE(fc.ok());
    EXPECT_EQ(fc->starts[0].second, Seconds(100)) << bad;
  }
  (void)wave;
}

// EASY backfill: a job that fits beside the running one now but would delay
// the reserved head waits behind it; a short one that ends before the
// reservation goes now. The forecast says which, as the passes then do.
TEST(NetworkForecast, BackfillAndTheReservationAreForecastAsTheyHappen) {
  Fixture f("fifo+easy");
  Driver run(f);
  AddAt(f, 4, 100, 0);
  run.Pass(0);
  JobId head = AddAt(f, 8, 50, Seconds(1));
  JobId blocked = AddAt(f, 4, 200, Seconds(1));  // would delay the head
  JobId fill = AddAt(f, 2, 60, Seconds(1));      // ends before the head's reservation
  auto fc = RunForecast(f.ns->SnapshotForecast(CenterId{0}, Seconds(1)), f.cat);
  ASSERT_TRUE(fc.ok());
  std::map<JobId, Time> want{{head, Seconds(100)}, {blocked, Seconds(150)}, {fill, Seconds(1)}};
  for (const auto& [id, at] : fc->starts) EXPECT_EQ(at, want[id]) << "job " << id;
  run.RunOn(Seconds(1));
  for (const auto& [id, at] : want) EXPECT_EQ(run.starts[id], at) << "job " << id;
}

// A forecast asked to stop (the server stopping) gives up before its next
// pass instead of running to the end; unasked, the same snapshot answers.
TEST(NetworkForecast, AForecastAskedToStopGivesUp) {
  Fixture f("fifo+easy");
  Driver run(f);
  AddAt(f, 8, 100, 0);
  run.Pass(0);
  AddAt(f, 8, 50, Seconds(1));
  const ForecastSnapshot snap = f.ns->SnapshotForecast(CenterId{0}, Seconds(1));
  std::atomic<bool> stop{true};
  auto given_up = RunForecast(snap, f.cat, &stop);
  ASSERT_FALSE(given_up.ok());
  EXPECT_EQ(given_up.status().code(), StatusCode::kUnavailable);
  stop = false;
  auto fc = RunForecast(snap, f.cat, &stop);
  ASSERT_TRUE(fc.ok());
  ASSERT_EQ(fc->starts.size(), 1u);
  EXPECT_EQ(fc->starts[0].second, Seconds(100));
}

// A job that can never start while the center's nodes are down is
// forecast never; a center with nothing queued has nothing to forecast.
TEST(NetworkForecast, NothingQueuedOrNothingToReleaseAnswersPlainly) {
  Fixture f;
  auto none = RunForecast(f.ns->SnapshotForecast(CenterId{0}, 0), f.cat);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->starts.empty());
  f.ns->SetNodeUp(CenterId{0}, NodeId{0}, false);
  JobId waits = AddAt(f, 8, 10, 0);
  ASSERT_TRUE(f.ns->Pass(0).ok());
  f.Take();
  auto fc = RunForecast(f.ns->SnapshotForecast(CenterId{0}, Seconds(1)), f.cat);
  ASSERT_TRUE(fc.ok());
  ASSERT_EQ(fc->starts.size(), 1u);
  EXPECT_EQ(fc->starts[0].first, waits);
  EXPECT_EQ(fc->starts[0].second, kNever);
}

}  // namespace
}  // namespace suanli
