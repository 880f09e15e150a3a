// The live control plane over two real Slurm clusters (scripts/slurm/start.sh)
// as two centers: jobs run on both; when one cluster's daemons stop, its jobs
// go to the other after the center timeout, and every job runs to its end
// exactly once.
#include <gtest/gtest.h>

#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "live/control.h"
#include "support/cli.h"
#include "support/slurm.h"

namespace suanli::live {
namespace {

using Clock = std::chrono::steady_clock;

using ::suanli::testing::PassUntil;
using ::suanli::testing::ReadText;
using ::suanli::testing::RunShell;
using ::suanli::testing::ScratchDir;
using ::suanli::testing::SlurmCenter;
using ::suanli::testing::SlurmCluster;
using ::suanli::testing::SlurmInstalled;

// Counts lines equal to `line` in a marker file.
int Count(const std::string& text, const std::string& line) {
  std::stringstream ss(text);
  std::string l;
  int n = 0;
  while (std::getline(ss, l))
    if (l == line) ++n;
  return n;
}

// A job of 2 GPUs (a whole node of these clusters) running `script` (sh).
JobSpec TwoGpuJob(const std::string& script) {
  JobSpec s;
  s.command = {"sh", "-c", script};
  s.gpus = 2;
  s.cpu_milli = 1000;
  s.mem_mib = 512;
  s.time_limit_s = 120;
  return s;
}

TEST(LiveSlurmControl, TwoClustersAsCentersThroughAFreezeAndAStop) {
  std::string missing;
  ASSERT_TRUE(SlurmInstalled(&missing)) << missing;
  ScratchDir scratch;
  ASSERT_FALSE(scratch.path().empty());
  const std::string& base = scratch.path();
  // Declared after the scratch directory: the clusters stop first.
  SlurmCluster c1("sla"), c2("slb");
  auto u1 = c1.Start();
  ASSERT_EQ(u1.code, 0) << "start.sh sla:\n" << u1.out;
  auto u2 = c2.Start();
  ASSERT_EQ(u2.code, 0) << "start.sh slb:\n" << u2.out;

  ServerConfig cfg;
  cfg.data_dir = base + "/data";
  cfg.centers = {SlurmCenter("sla", c1), SlurmCenter("slb", c2)};
  for (CenterConfig& c : cfg.centers) c.backend.command_timeout_s = 3;
  cfg.center_timeout_s = 5;
  cfg.pass_interval_ms = 200;
  auto started = ControlPlane::Start(cfg);
  ASSERT_TRUE(started.ok()) << started.status().message();
  auto cp = std::move(started).value();
  auto centers = cp->Centers();
  ASSERT_EQ(centers.size(), 2u);
  for (const auto& c : centers) {
    EXPECT_EQ(c.backend, "slurm");
    EXPECT_EQ(c.devices, 2) << c.name;
    ASSERT_EQ(c.models.size(), 1u) << c.name;
    EXPECT_EQ(c.models[0].model, "A100-80GB");
  }

  // Each job takes both GPUs of a cluster's one node: one job per cluster at
  // a time. It records where it starts and that it ran to its end (not when
  // its sleep was killed); at slb it runs long, so that a run given up on
  // there cannot end before it is stopped.
  const Caller alice{"alice", false};
  std::map<int64_t, std::string> marker;
  auto submit = [&](int i) -> int64_t {
    std::string m = base + "/marker-" + std::to_string(i);
    auto r = cp->Submit(alice, TwoGpuJob("echo start $SLURM_CLUSTER_NAME >> " + m +
                                         "; if [ \"$SLURM_CLUSTER_NAME\" = slb ]; then sleep 60; else sleep 3; fi "
                                         "&& echo end >> " +
                                         m));
    EXPECT_TRUE(r.ok()) << r.status().message();
    if (!r.ok()) return 0;
    marker[r->id] = m;
    return r->id;
  };
  auto wait = [&](const std::function<bool()>& done, int seconds) { return PassUntil(*cp, done, seconds); };
  auto state = [&](int64_t id) {
    auto r = cp->Get(alice, id);
    return r.ok() ? r->state : JobState::kPending;
  };
  auto center_of = [&](int64_t id) {
    auto r = cp->Get(alice, id);
    return r.ok() ? r->center : std::string();
  };
  auto slb_queue = [&] { return RunShell("SLURM_CONF=" + c2.conf() + " timeout 10 squeue -h -o '%A %T'").out; };

  // 1. Two jobs: one runs at each cluster.
  const int64_t j1 = submit(1), j2 = submit(2);
  ASSERT_TRUE(j1 && j2);
  ASSERT_TRUE(wait([&] { return state(j1) == JobState::kRunning && state(j2) == JobState::kRunning; }, 40));
  ASSERT_EQ(center_of(j1), "sla");
  ASSERT_EQ(center_of(j2), "slb");
  ASSERT_TRUE(wait([&] { return ReadText(marker[j2]) == "start slb\n"; }, 30)) << "j2 never started at slb";

  // 2. slb's controller freezes: slb stops answering. After the timeout j2's
  // run there is given up on and j2 runs at sla; when slb answers again, the
  // run it still has is cancelled there.
  const std::string ctld = RunShell("awk '$1 == \"slurmctld\" {print $2}' " + c2.dir() + "/run/pids").out;
  ASSERT_FALSE(ctld.empty());
  ASSERT_EQ(RunShell("kill -STOP " + ctld).code, 0);
  c2.set_frozen(ctld);
  ASSERT_TRUE(wait([&] { return !cp->Centers()[1].up; }, 30)) << "slb was never marked unavailable";
  EXPECT_NE(cp->Centers()[1].reason.find("not answering"), std::string::npos) << cp->Centers()[1].reason;
  ASSERT_TRUE(wait([&] { return state(j1) == JobState::kSucceeded && state(j2) == JobState::kSucceeded; }, 40));
  EXPECT_EQ(center_of(j2), "sla");
  ASSERT_EQ(RunShell("kill -CONT " + ctld).code, 0);
  c2.set_frozen("");
  ASSERT_TRUE(wait([&] { return cp->Centers()[1].up; }, 30)) << "slb did not come back";
  ASSERT_TRUE(wait([&] { return slb_queue().empty(); }, 30)) << "the abandoned run still runs at slb:\n" << slb_queue();
  EXPECT_EQ(ReadText(marker[j1]), "start sla\nend\n");
  EXPECT_EQ(ReadText(marker[j2]), "start slb\nstart sla\nend\n");

  // 3. Two more jobs, one at each cluster; slb is stopped (stop.sh) mid-run:
  // its job goes to sla and ends there, once.
  const int64_t j3 = submit(3), j4 = submit(4);
  ASSERT_TRUE(j3 && j4);
  ASSERT_TRUE(wait([&] { return state(j3) == JobState::kRunning && state(j4) == JobState::kRunning; }, 40));
  const std::string at4 = center_of(j4), at3 = center_of(j3);
  const int64_t on_slb = at4 == "slb" ? j4 : j3;
  ASSERT_TRUE(at3 != at4) << at3 << " " << at4;
  ASSERT_TRUE(wait([&] { return ReadText(marker[on_slb]) == "start slb\n"; }, 30));
  auto stopped = c2.Stop();
  ASSERT_EQ(stopped.code, 0) << stopped.out;
  ASSERT_TRUE(wait([&] { return IsTerminal(state(j3)) && IsTerminal(state(j4)); }, 90)) << "not every job ended";
  ASSERT_TRUE(wait([&] { return !cp->Centers()[1].up; }, 30));

  for (int64_t id : {j1, j2, j3, j4}) {
    auto r = cp->Get(alice, id);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->state, JobState::kSucceeded) << id << ": " << r->reason;
    EXPECT_EQ(r->center, "sla") << id;
    const std::string m = ReadText(marker[id]);
    EXPECT_EQ(Count(m, "end"), 1) << id << ":\n" << m;  // ran to its end exactly once
    EXPECT_EQ(Count(m, "start sla"), 1) << id << ":\n" << m;
  }
  EXPECT_EQ(Count(ReadText(marker[on_slb]), "start slb"), 1);
  cp->Stop();
}

// A job Slurm holds in its queue (its node busy with work Suanli does not
// know of) is `pending` with Slurm's reason and not metered; a node drained
// in Slurm receives no job (a job held there is withdrawn and placed again:
// the center pins jobs to Suanli's nodes, `nodelist: true`); resumed, it
// receives jobs again. Every job runs once.
TEST(LiveSlurmControl, HeldJobsArePendingWithSlurmsReasonAndDrainedNodesGetNoJobs) {
  std::string missing;
  ASSERT_TRUE(SlurmInstalled(&missing)) << missing;
  ScratchDir scratch;
  ASSERT_FALSE(scratch.path().empty());
  const std::string& base = scratch.path();
  SlurmCluster c("slh");
  auto up = c.Start(2);
  ASSERT_EQ(up.code, 0) << "start.sh slh:\n" << up.out;

  ServerConfig cfg;
  cfg.data_dir = base + "/data";
  cfg.centers.push_back(SlurmCenter("slh", c));
  cfg.centers.back().backend.nodelist = true;
  cfg.pass_interval_ms = 200;
  auto started = ControlPlane::Start(cfg);
  ASSERT_TRUE(started.ok()) << started.status().message();
  auto cp = std::move(started).value();
  ASSERT_EQ(cp->Centers().at(0).devices, 4);

  const Caller alice{"alice", false};
  std::map<int64_t, std::string> marker;
  auto submit = [&](int i, int sleep_s) -> int64_t {
    std::string m = base + "/marker-" + std::to_string(i);
    auto r = cp->Submit(alice, TwoGpuJob("echo start $SLURMD_NODENAME >> " + m + "; sleep " + std::to_string(sleep_s) +
                                         " && echo end >> " + m));
    EXPECT_TRUE(r.ok()) << r.status().message();
    if (!r.ok()) return 0;
    marker[r->id] = m;
    return r->id;
  };
  auto wait = [&](const std::function<bool()>& done, int seconds) { return PassUntil(*cp, done, seconds); };
  auto get = [&](int64_t id) {
    auto r = cp->Get(alice, id);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : JobRecord{};
  };

  // 1. Work outside Suanli takes both nodes' GPUs; Suanli sends a job to
  // one of them: Slurm holds it, and Suanli says so.
  auto ext = c.Slurm("sbatch --parsable -N 2 --gres=gpu:a100:2 -o /dev/null --wrap 'sleep 25'");
  ASSERT_EQ(ext.code, 0) << ext.out;
  ASSERT_TRUE(wait([&] { return c.Slurm("squeue -h -o %T").out.find("RUNNING") != std::string::npos; }, 30));
  const int64_t j = submit(1, 2);
  ASSERT_TRUE(j);
  // (Slurm's reason is None until its scheduler has looked at the job.)
  ASSERT_TRUE(wait([&] { return get(j).reason == "held by slurm at slh: Resources"; }, 30)) << get(j).reason;
  JobRecord held = get(j);
  EXPECT_EQ(held.state, JobState::kPending);
  EXPECT_EQ(held.start_ms.ms(), 0);
  EXPECT_EQ(held.gpu_seconds, 0);
  EXPECT_EQ(cp->Centers().at(0).pending, 1);
  EXPECT_EQ(cp->Centers().at(0).running, 0);
  const std::string first = held.node;
  ASSERT_FALSE(first.empty());
  const std::string other = first == "n1" ? "n2" : "n1";

  // 2. Its node is drained: Suanli learns it from sinfo, withdraws the job
  // from that node (scancel) and sends it to the other, where Slurm holds it
  // until the outside work ends.
  ASSERT_EQ(c.Slurm("scontrol update nodename=" + first + " state=drain reason=maintenance").code, 0);
  ASSERT_TRUE(wait([&] { return get(j).node == other; }, 40)) << get(j).reason;
  auto view = cp->Centers().at(0);
  ASSERT_EQ(view.nodes_down.size(), 1u);
  EXPECT_EQ(view.nodes_down[0].node, first);
  EXPECT_NE(view.nodes_down[0].reason.find("drain"), std::string::npos) << view.nodes_down[0].reason;
  ASSERT_TRUE(wait([&] { return get(j).state == JobState::kRunning; }, 60)) << get(j).reason;
  const JobRecord running = get(j);
  EXPECT_GT(running.start_ms, held.submit_ms);
  ASSERT_TRUE(wait([&] { return get(j).state == JobState::kSucceeded; }, 60)) << get(j).reason;
  const JobRecord done = get(j);
  EXPECT_EQ(done.node, other);
  EXPECT_EQ(ReadText(marker[j]), "start " + other + "\nend\n");  // once, on the other node
  ASSERT_EQ(done.attempts.size(), 1u);                           // the withdrawn submission never ran: no attempt
  EXPECT_EQ(done.attempts[0].node, other);
  // Metered from Slurm's start: 2 GPUs for about its 2 s (whole seconds).
  EXPECT_GE(done.gpu_seconds, 2 * 1.0);
  EXPECT_LE(done.gpu_seconds, 2 * 6.0);

  // 3. While the drained node is down, of two jobs one runs on the other
  // node and the second waits in Suanli's queue (sent nowhere); resumed,
  // the node takes it.
  const int64_t k = submit(2, 15), l = submit(3, 1);
  ASSERT_TRUE(k && l);
  ASSERT_TRUE(wait([&] { return get(k).state == JobState::kRunning; }, 40)) << get(k).reason;
  EXPECT_EQ(get(k).node, other);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  cp->PassNow();
  EXPECT_EQ(get(l).state, JobState::kPending);
  EXPECT_EQ(get(l).node, "") << get(l).reason;
  EXPECT_EQ(c.Slurm("squeue -h -n suanli-" + std::to_string(l) + " -o %i").out, "") << "l was sent to Slurm";
  ASSERT_EQ(c.Slurm("scontrol update nodename=" + first + " state=resume").code, 0);
  ASSERT_TRUE(wait([&] { return get(l).state == JobState::kSucceeded; }, 40)) << get(l).reason;
  EXPECT_EQ(get(l).node, first);
  EXPECT_TRUE(wait([&] { return cp->Centers().at(0).nodes_down.empty(); }, 20));
  EXPECT_EQ(get(k).state, JobState::kRunning);  // l did not wait for k
  ASSERT_TRUE(wait([&] { return get(k).state == JobState::kSucceeded; }, 40)) << get(k).reason;
  for (int64_t id : {j, k, l}) EXPECT_EQ(Count(ReadText(marker[id]), "end"), 1) << id;
  cp->Stop();
}

// A run its center stops (an operator's scancel) is not the job's failure:
// the job runs again, not at the center that just stopped it (for
// center_timeout_s), and at most 3 times; the 4th stop fails it. Each run is
// an attempt.
TEST(LiveSlurmControl, AJobItsCenterStopsRunsElsewhereAtMostThreeTimesMore) {
  std::string missing;
  ASSERT_TRUE(SlurmInstalled(&missing)) << missing;
  ScratchDir scratch;
  ASSERT_FALSE(scratch.path().empty());
  const std::string& base = scratch.path();
  SlurmCluster c1("slr"), c2("sls");
  auto u1 = c1.Start();
  ASSERT_EQ(u1.code, 0) << "start.sh slr:\n" << u1.out;
  auto u2 = c2.Start();
  ASSERT_EQ(u2.code, 0) << "start.sh sls:\n" << u2.out;
  ServerConfig cfg;
  cfg.data_dir = base + "/data";
  cfg.centers = {SlurmCenter("slr", c1), SlurmCenter("sls", c2)};
  cfg.center_timeout_s = 120;  // the time a center that stopped a run is avoided
  cfg.pass_interval_ms = 200;
  auto started = ControlPlane::Start(cfg);
  ASSERT_TRUE(started.ok()) << started.status().message();
  auto cp = std::move(started).value();
  const Caller alice{"alice", false};
  auto sub = cp->Submit(alice, TwoGpuJob("sleep 120"));
  ASSERT_TRUE(sub.ok()) << sub.status().message();
  const int64_t id = sub->id;
  auto get = [&] {
    auto r = cp->Get(alice, id);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : JobRecord{};
  };
  auto wait = [&](const std::function<bool()>& done, int seconds) { return PassUntil(*cp, done, seconds); };
  std::string previous;
  for (int stop = 1; stop <= 4; ++stop) {
    SCOPED_TRACE("stop " + std::to_string(stop));
    ASSERT_TRUE(wait([&] { return get().state == JobState::kRunning; }, 60)) << get().reason;
    const std::string at = get().center;
    if (!previous.empty()) {
      EXPECT_NE(at, previous) << "sent back to the center that just stopped it";
    }
    const SlurmCluster& c = at == "slr" ? c1 : c2;
    ASSERT_EQ(c.Slurm("scancel -n suanli-" + std::to_string(id)).code, 0);
    ASSERT_TRUE(wait([&] { return get().attempts.size() == static_cast<size_t>(stop); }, 60)) << get().reason;
    previous = at;
    const JobRecord r = get();
    EXPECT_EQ(r.attempts.back().center, at);
    if (stop < 4) {
      EXPECT_NE(r.state, JobState::kFailed) << r.reason;
      EXPECT_NE(r.attempts.back().reason.find("stopped by the center (cancelled by Slurm); requeued"),
                std::string::npos)
          << r.attempts.back().reason;
    } else {
      EXPECT_EQ(r.state, JobState::kFailed) << r.reason;  // the 4th stop is its end
      EXPECT_EQ(r.reason, "cancelled by Slurm");
    }
  }
  const JobRecord r = get();
  ASSERT_EQ(r.attempts.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(r.attempts[i].outcome, i < 3 ? "requeued" : "failed") << i;
    if (i > 0) {
      EXPECT_NE(r.attempts[i].center, r.attempts[i - 1].center) << i;
    }
  }
  cp->Stop();
}

// A gang of 8 GPUs over 2 nodes x 4 submitted to the server: Suanli places
// it on both nodes, Slurm runs one task per GPU, every task sees its ranks,
// and the job's record, attempt and history name both nodes. A job too big
// for one node without `nodes`, or whose GPUs do not split evenly, is refused
// at submission.
TEST(LiveSlurmControl, AGangOverTwoNodesRunsAllEightRanks) {
  std::string missing;
  ASSERT_TRUE(SlurmInstalled(&missing)) << missing;
  ScratchDir scratch;
  ASSERT_FALSE(scratch.path().empty());
  const std::string& base = scratch.path();
  SlurmCluster c("slg");
  auto up = c.Start(2, 4);
  ASSERT_EQ(up.code, 0) << "start.sh slg:\n" << up.out;
  ServerConfig cfg;
  cfg.data_dir = base + "/data";
  cfg.centers.push_back(SlurmCenter("slg", c));
  cfg.pass_interval_ms = 200;
  auto started = ControlPlane::Start(cfg);
  ASSERT_TRUE(started.ok()) << started.status().message();
  auto cp = std::move(started).value();
  ASSERT_EQ(cp->Centers().at(0).devices, 8);

  const Caller alice{"alice", false};
  JobSpec spec;
  spec.command = {
      "sh", "-c",
      "echo \"$RANK $LOCAL_RANK $NODE_RANK $WORLD_SIZE $MASTER_ADDR $SUANLI_NODELIST $SLURMD_NODENAME\" > " + base +
          "/rank-$RANK; sleep 1"};
  spec.gpus = 8;
  spec.cpu_milli = 8000;
  spec.mem_mib = 1024;
  spec.time_limit_s = 120;
  auto one_node = cp->Submit(alice, spec);
  ASSERT_FALSE(one_node.ok());
  EXPECT_NE(one_node.status().message().find("one node"), std::string::npos) << one_node.status().message();
  spec.nodes = 3;
  auto uneven = cp->Submit(alice, spec);
  ASSERT_FALSE(uneven.ok());
  EXPECT_EQ(uneven.status().field(), "nodes");
  spec.nodes = 2;
  auto r = cp->Submit(alice, spec);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const int64_t id = r->id;
  auto state = [&] {
    auto g = cp->Get(alice, id);
    return g.ok() ? g->state : JobState::kPending;
  };
  ASSERT_TRUE(PassUntil(
      *cp, [&] { return IsTerminal(state()); }, 90));
  auto g = cp->Get(alice, id);
  ASSERT_TRUE(g.ok());
  ASSERT_EQ(g->state, JobState::kSucceeded) << g->reason;
  EXPECT_EQ(g->node, "n1,n2");
  EXPECT_EQ(g->devices, (std::vector<int>{0, 1, 2, 3, 0, 1, 2, 3}));
  ASSERT_EQ(g->attempts.size(), 1u);
  EXPECT_EQ(g->attempts[0].node, "n1,n2");
  EXPECT_GE(g->end_ms - g->start_ms, 1000);
  EXPECT_DOUBLE_EQ(g->attempts[0].gpu_seconds, 8.0 * static_cast<double>(g->end_ms - g->start_ms) / 1000.0);
  bool started_on_both = false;
  for (const JobEvent& e : g->events)
    started_on_both = started_on_both || (e.kind == "started" && e.message.find("nodes n1,n2") != std::string::npos);
  EXPECT_TRUE(started_on_both);
  for (int rank = 0; rank < 8; ++rank) {
    EXPECT_EQ(ReadText(base + "/rank-" + std::to_string(rank)),
              fmt::format("{} {} {} 8 n1 n1,n2 n{}\n", rank, rank % 4, rank / 4, rank / 4 + 1))
        << "rank " << rank;
  }
  cp->Stop();
}

// Slurm places jobs unless the center is configured with `nodelist: true`.
// A job run outside Suanli holds n1, which Suanli does not see: Suanli
// places a 2-GPU job on n1, Slurm runs it on n2, and the record, its history
// and the scheduler follow Slurm (a second job then goes to n1, where Slurm
// holds it until Slurm finds room: n2, once the first ends; draining n1
// meanwhile does not withdraw it). With `nodelist: true` the same job waits
// in Slurm's queue for n1.
TEST(LiveSlurmControl, SlurmPlacesJobsUnlessTheCenterPinsThemAndSuanliFollows) {
  std::string missing;
  ASSERT_TRUE(SlurmInstalled(&missing)) << missing;
  ScratchDir scratch;
  ASSERT_FALSE(scratch.path().empty());
  const std::string& base = scratch.path();
  SlurmCluster c("slp");
  auto up = c.Start(2, 2);
  ASSERT_EQ(up.code, 0) << "start.sh slp:\n" << up.out;
  auto outside =
      c.Slurm("sbatch --parsable --nodelist=n1 --gres=gpu:a100:2 --chdir=/tmp -o /dev/null --wrap 'sleep 300'");
  ASSERT_EQ(outside.code, 0) << outside.out;
  std::string outside_id = outside.out.substr(0, outside.out.find_first_of("\n;"));
  auto outside_runs = [&] {
    return c.Slurm("squeue -h -o %T -j " + outside_id).out.find("RUNNING") != std::string::npos;
  };
  auto until = Clock::now() + std::chrono::seconds(30);
  while (!outside_runs() && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_TRUE(outside_runs());

  const Caller alice{"alice", false};
  auto run = [&](bool nodelist, const std::string& data) {
    ServerConfig cfg;
    cfg.data_dir = base + "/" + data;
    cfg.centers.push_back(SlurmCenter("slp", c));
    cfg.centers.back().backend.nodelist = nodelist;
    cfg.pass_interval_ms = 200;
    auto started = ControlPlane::Start(cfg);
    EXPECT_TRUE(started.ok()) << started.status().message();
    return started.ok() ? std::move(started).value() : nullptr;
  };
  auto cp = run(false, "data");
  ASSERT_TRUE(cp);
  auto a = cp->Submit(alice, TwoGpuJob("echo $SLURMD_NODENAME > " + base + "/a; sleep 15"));
  ASSERT_TRUE(a.ok()) << a.status().message();
  auto get = [&](ControlPlane& p, int64_t id) {
    auto g = p.Get(alice, id);
    EXPECT_TRUE(g.ok());
    return g.ok() ? *g : JobRecord{};
  };
  ASSERT_TRUE(PassUntil(
      *cp, [&] { return get(*cp, a->id).state == JobState::kRunning; }, 60));
  JobRecord ja = get(*cp, a->id);
  EXPECT_EQ(ja.node, "n2");
  bool sent_to_n1 = false, started_on_n2 = false;
  for (const JobEvent& e : ja.events) {
    sent_to_n1 = sent_to_n1 || (e.kind == "dispatched" && e.message.find("node n1") != std::string::npos);
    started_on_n2 = started_on_n2 || (e.kind == "started" && e.message.find("node n2") != std::string::npos);
  }
  EXPECT_TRUE(sent_to_n1) << "Suanli's own choice was n1 (it does not see the job outside it)";
  EXPECT_TRUE(started_on_n2);
  // Suanli's scheduler now counts n2 busy: the next job is sent to n1, and
  // Slurm holds it until it has room for it.
  auto b = cp->Submit(alice, TwoGpuJob("echo $SLURMD_NODENAME > " + base + "/b"));
  ASSERT_TRUE(b.ok()) << b.status().message();
  ASSERT_TRUE(PassUntil(
      *cp, [&] { return !get(*cp, b->id).backend_id.empty(); }, 30));  // submitted to Slurm
  bool b_sent_to_n1 = false;
  for (const JobEvent& e : get(*cp, b->id).events)
    b_sent_to_n1 = b_sent_to_n1 || (e.kind == "dispatched" && e.message.find("node n1") != std::string::npos);
  EXPECT_TRUE(b_sent_to_n1);
  // n1 is drained while b waits in Slurm's queue (a runs 15 s; Suanli sees a
  // drain within 10 s): Slurm will run b elsewhere, so it stays there (a
  // pinned job would be withdrawn and placed again).
  const std::string b_backend_id = get(*cp, b->id).backend_id;
  ASSERT_FALSE(b_backend_id.empty());
  ASSERT_EQ(c.Slurm("scontrol update nodename=n1 state=drain reason=maintenance").code, 0);
  ASSERT_TRUE(PassUntil(
      *cp, [&] { return !cp->Centers().at(0).nodes_down.empty(); }, 30));
  for (int i = 0; i < 5; ++i) cp->PassNow();
  EXPECT_EQ(get(*cp, b->id).backend_id, b_backend_id);
  EXPECT_EQ(get(*cp, b->id).reason.find("withdrawn"), std::string::npos) << get(*cp, b->id).reason;
  EXPECT_EQ(get(*cp, a->id).state, JobState::kRunning);  // b was still in Slurm's queue
  ASSERT_TRUE(PassUntil(
      *cp, [&] { return get(*cp, a->id).state == JobState::kSucceeded; }, 60));
  EXPECT_EQ(ReadText(base + "/a"), "n2\n");
  ja = get(*cp, a->id);
  ASSERT_EQ(ja.attempts.size(), 1u);
  EXPECT_EQ(ja.attempts[0].node, "n2");
  // b runs where Slurm finds room (n2, once a ended), and its record says so.
  ASSERT_TRUE(PassUntil(
      *cp, [&] { return get(*cp, b->id).state == JobState::kSucceeded; }, 60));
  EXPECT_EQ(get(*cp, b->id).node, "n2");
  EXPECT_EQ(ReadText(base + "/b"), "n2\n");
  EXPECT_EQ(get(*cp, b->id).backend_id, b_backend_id);
  EXPECT_EQ(get(*cp, b->id).attempts.size(), 1u);
  cp->Stop();
  cp.reset();
  ASSERT_EQ(c.Slurm("scontrol update nodename=n1 state=resume").code, 0);
  auto n1_takes_jobs = [&] {
    const std::string st = c.Slurm("sinfo -h -n n1 -o %T").out;
    return !st.empty() && st.find("drain") == std::string::npos && st.find('*') == std::string::npos;
  };
  until = Clock::now() + std::chrono::seconds(30);
  while (!n1_takes_jobs() && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_TRUE(n1_takes_jobs()) << c.Slurm("sinfo -h -n n1 -o %T").out;

  // nodelist: true: the job is pinned to Suanli's n1 and waits for it.
  auto pinned = run(true, "data-pinned");
  ASSERT_TRUE(pinned);
  auto p = pinned->Submit(alice, TwoGpuJob("echo $SLURMD_NODENAME > " + base + "/p"));
  ASSERT_TRUE(p.ok()) << p.status().message();
  ASSERT_TRUE(PassUntil(
      *pinned, [&] { return get(*pinned, p->id).reason.find("held by slurm") != std::string::npos; }, 30))
      << get(*pinned, p->id).reason;
  EXPECT_EQ(get(*pinned, p->id).state, JobState::kPending);
  ASSERT_EQ(c.Slurm("scancel " + outside_id).code, 0);
  ASSERT_TRUE(PassUntil(
      *pinned, [&] { return get(*pinned, p->id).state == JobState::kSucceeded; }, 60));
  EXPECT_EQ(ReadText(base + "/p"), "n1\n");
  EXPECT_EQ(get(*pinned, p->id).node, "n1");
  pinned->Stop();
}

}  // namespace
}  // namespace suanli::live
