// suanli replay runs the live control plane itself: its store ends up
// holding every job of the trace, each ended where the simulator says it ran.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "io/model_loader.h"
#include "io/sources.h"
#include "live/store.h"
#include "replay/replay.h"

namespace suanli {
namespace {

TEST(Replay, TheStoreHoldsEveryJobEndedWhereTheSimulatorRanIt) {
  const Catalog& catalog = BuiltinCatalog();
  auto net = LoadNetworkSpec("tiny", "", catalog);
  ASSERT_TRUE(net.ok()) << net.status().message();
  ImportOptions io;
  ImportReport report;
  auto w =
      LoadWorkload(std::string(SUANLI_SOURCE_DIR) + "/data/traces/tiresias/60_job.csv.gz", "", catalog, io, &report);
  ASSERT_TRUE(w.ok()) << w.status().message();
  SimOptions opt;
  opt.seed = 7;
  opt.scheduler.allow_multi_node = false;
  auto policy = ParsePolicySpec("las");
  ASSERT_TRUE(policy.ok());
  auto dispatch = ParseDispatchSpec("carbon-aware");
  ASSERT_TRUE(dispatch.ok());
  opt.dispatch = *dispatch;
  const std::string dir = ::testing::TempDir() + "/replay_store";
  std::filesystem::remove_all(dir);
  auto sim = Simulate(*w, *net, catalog, *policy, opt);
  ASSERT_TRUE(sim.ok()) << sim.status().message();
  auto rep = Replay(*w, "tiny", *net, catalog, *policy, opt, dir);
  ASSERT_TRUE(rep.ok()) << rep.status().message();
  ASSERT_EQ(rep->jobs.size(), sim->jobs.size());
  EXPECT_GT(sim->summary.preemptions, 0u);
  EXPECT_EQ(rep->summary.preemptions, sim->summary.preemptions);
  EXPECT_EQ(rep->summary.avg_jct_s, sim->summary.avg_jct_s);

  // The control plane's own records, read back from its store.
  auto store = live::Store::Open(dir + "/suanli.db");
  ASSERT_TRUE(store.ok()) << store.status().message();
  auto counts = (*store)->Counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->succeeded, static_cast<int64_t>(w->jobs.size()));
  EXPECT_EQ(counts->pending + counts->running + counts->failed + counts->cancelled, 0);
  for (size_t i = 0; i < w->jobs.size(); ++i) {
    auto rec = (*store)->GetJob(static_cast<int64_t>(i) + 1);  // store ids follow the trace
    ASSERT_TRUE(rec.ok() && rec->has_value()) << i;
    const JobRecord& j = sim->jobs.vec()[i];
    EXPECT_EQ((*rec)->center, net->centers[j.center].name) << i;
    EXPECT_EQ((*rec)->model, catalog.model(j.model).name) << i;
    EXPECT_EQ((*rec)->end_ms, WallOf(j.end)) << i;
    EXPECT_EQ((*rec)->spec.gpus, j.gpus) << i;
  }
}

}  // namespace
}  // namespace suanli
