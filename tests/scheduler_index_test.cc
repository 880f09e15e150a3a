// The structures behind a fast scheduling pass, each against a plain model
// of what it must do: the queue of waiting jobs against a sorted set (order,
// and a walk while jobs come and go), the failure memo against the list of
// minimal failures it replaces, and the cluster state's free-capacity
// indexes against the free capacity they index, after random allocations.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <set>
#include <tuple>
#include <vector>

#include "base/rng.h"
#include "core/policy/place/placer.h"
#include "core/scheduler/failure_memo.h"
#include "core/scheduler/job_queue.h"
#include "core/state/cluster_state.h"
#include "support/fixtures.h"

namespace suanli {
namespace {

using Entry = JobQueue::Entry;

Entry RandomEntry(Rng& r, JobId job) {
  Entry e;
  // Few distinct keys, so that ties (broken by job id) are common.
  e.key = {static_cast<double>(r.Below(50)), static_cast<double>(r.Below(3))};
  e.job = job;
  e.shape = static_cast<uint32_t>(r.Below(7));
  e.min_run = static_cast<Duration>(r.Below(1000));
  return e;
}

std::vector<JobId> Walk(JobQueue& q) {
  std::vector<JobId> out;
  JobQueue::Cursor c(q);
  while (const Entry* e = c.Next()) out.push_back(e->job);
  return out;
}

std::vector<JobId> Walk(const std::set<Entry>& s) {
  std::vector<JobId> out;
  for (const auto& e : s) out.push_back(e.job);
  return out;
}

TEST(JobQueue, KeepsTheOrderOfASortedSetThroughInsertsAndErases) {
  Rng r(7);
  JobQueue q;
  std::set<Entry> model;
  std::vector<Entry> live;
  uint32_t next = 0;
  for (int step = 0; step < 20000; ++step) {
    // Grow to a few thousand entries (many blocks), then shrink to nothing.
    const bool grow = step < 12000 ? r.Below(10) < 7 : r.Below(10) < 2;
    if (grow || live.empty()) {
      Entry e = RandomEntry(r, JobId{next++});
      q.Insert(e);
      model.insert(e);
      live.push_back(e);
    } else {
      size_t i = r.Below(live.size());
      Entry e = live[i];
      live[i] = live.back();
      live.pop_back();
      ASSERT_TRUE(q.Erase(e.key, e.job));
      model.erase(e);
      // Not there any more, and a wrong key does not find another entry.
      ASSERT_FALSE(q.Erase(e.key, e.job));
    }
    if (step % 997 == 0) {
      ASSERT_EQ(q.size(), model.size());
      ASSERT_EQ(Walk(q), Walk(model)) << "step " << step;
    }
  }
  while (!live.empty()) {
    Entry e = live.back();
    live.pop_back();
    ASSERT_TRUE(q.Erase(e.key, e.job));
    model.erase(e);
  }
  EXPECT_TRUE(q.empty());
  EXPECT_TRUE(Walk(q).empty());
  // An entry is found only with its own key.
  Entry e = RandomEntry(r, JobId{1});
  q.Insert(e);
  EXPECT_FALSE(q.Erase({e.key.primary + 1, e.key.secondary}, e.job));
  EXPECT_FALSE(q.Erase(e.key, JobId{e.job.value() + 1}));
  EXPECT_TRUE(q.Erase(e.key, e.job));
}

TEST(JobQueue, CursorWalksAsASortedSetIteratorWhileJobsComeAndGo) {
  // A pass moves its iterator past a job, then may start it (erase it) or
  // put preempted jobs back (insert); the walk must go on as a std::set
  // iterator would: entries inserted after the one it stands on are visited.
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    Rng r(seed);
    JobQueue q;
    std::set<Entry> model;
    uint32_t next = 0;
    for (int i = 0; i < 1500; ++i) {
      Entry e = RandomEntry(r, JobId{next++});
      q.Insert(e);
      model.insert(e);
    }
    JobQueue::Cursor c(q);
    auto it = model.begin();
    size_t steps = 0;
    while (true) {
      const Entry* e = c.Next();
      ASSERT_EQ(e != nullptr, it != model.end()) << "seed " << seed << " step " << steps;
      if (!e) break;
      const Entry got = *e;
      ASSERT_EQ(got.job, it->job);
      ASSERT_EQ(got.shape, it->shape);
      ASSERT_EQ(got.min_run, it->min_run);
      Entry returned = *it;
      ++it;
      ++steps;
      const uint64_t what = r.Below(10);
      if (what < 3) {
        // Start the job just returned.
        ASSERT_TRUE(q.Erase(returned.key, returned.job));
        model.erase(returned);
      } else if (what < 5) {
        // Put jobs back, anywhere in the order.
        for (int k = 0; k < 3; ++k) {
          Entry e = RandomEntry(r, JobId{next++});
          q.Insert(e);
          model.insert(e);
        }
      } else if (what < 6 && model.size() > 2) {
        // Some other job leaves (not the one the iterator stands on).
        auto victim = model.begin();
        std::advance(victim, static_cast<long>(r.Below(model.size())));
        if (victim != it) {
          ASSERT_TRUE(q.Erase(victim->key, victim->job));
          model.erase(victim);
        }
      }
    }
    EXPECT_GT(steps, 1000u);
  }
}

// The memo as it was first written: a list of minimal failures, at most 64,
// asked by scanning it.
struct ListMemo {
  std::vector<RequestShape> fails;
  bool Rules(const RequestShape& s) const {
    for (const auto& f : fails)
      if (s.NoSmallerThan(f)) return true;
    return false;
  }
  void Record(const RequestShape& f) {
    fails.erase(std::remove_if(fails.begin(), fails.end(), [&](const RequestShape& o) { return o.NoSmallerThan(f); }),
                fails.end());
    if (fails.size() < 64) fails.push_back(f);
  }
};

TEST(FailureMemo, RulesOutExactlyWhatTheListOfMinimalFailuresDoes) {
  Rng r(3);
  ShapeTable table;
  // Shapes where CPU and memory pull in opposite directions make long
  // antichains, so the bound of 64 kept failures is reached.
  std::vector<uint32_t> ids;
  for (int i = 0; i < 600; ++i) {
    RequestShape s;
    s.models = ModelMask{1} << r.Below(2);
    s.shared = r.Below(4) == 0;
    s.gpu_milli = s.shared ? 100 * static_cast<int64_t>(1 + r.Below(9)) : 1000 * static_cast<int64_t>(1 + r.Below(4));
    int64_t c = static_cast<int64_t>(r.Below(200));
    s.cpu = 1000 * c;
    s.mem = 1024 * (200 - c) + static_cast<int64_t>(r.Below(3));
    bool added = false;
    uint32_t id = table.Intern(s, &added);
    if (added) ids.push_back(id);
    EXPECT_EQ(table.Intern(s), id);
    EXPECT_TRUE(table[id] == s);
  }
  FailureMemo memo(table);
  ListMemo ref;
  size_t most = 0, ruled = 0, asked = 0;
  for (int step = 0; step < 40000; ++step) {
    uint32_t id = ids[r.Below(ids.size())];
    const uint64_t what = r.Below(100);
    if (what < 2) {
      memo.Clear();
      ref.fails.clear();
    } else if (what < 40) {
      memo.Record(id);
      ref.Record(table[id]);
    } else {
      const bool want = ref.Rules(table[id]);
      ASSERT_EQ(memo.Rules(id), want) << "step " << step;
      ruled += want;
      ++asked;
    }
    ASSERT_EQ(memo.size(), ref.fails.size());
    most = std::max(most, ref.fails.size());
  }
  EXPECT_EQ(most, FailureMemo::kMaxFailures);  // the bound was exercised
  EXPECT_GT(ruled, asked / 50);                // both answers are exercised
  EXPECT_LT(ruled, asked);
}

TEST(FailureMemo, ASmallerRequestOrOtherModelsAreNotRuledOut) {
  ShapeTable table;
  uint32_t a = table.Intern({1, false, 2000, 8000, 65536});
  uint32_t bigger = table.Intern({1, false, 4000, 8000, 65536});
  uint32_t less_cpu = table.Intern({1, false, 4000, 4000, 65536});
  uint32_t other_model = table.Intern({2, false, 4000, 8000, 65536});
  uint32_t shared = table.Intern({1, true, 2000, 8000, 65536});
  FailureMemo memo(table);
  EXPECT_FALSE(memo.Rules(bigger));
  memo.Record(a);
  EXPECT_TRUE(memo.Rules(a));
  EXPECT_TRUE(memo.Rules(bigger));
  EXPECT_FALSE(memo.Rules(less_cpu));
  EXPECT_FALSE(memo.Rules(other_model));
  EXPECT_FALSE(memo.Rules(shared));
  memo.Record(less_cpu);  // now less_cpu (and what is no smaller) fails too
  EXPECT_TRUE(memo.Rules(less_cpu));
  EXPECT_EQ(memo.size(), 2u);
  memo.Clear();
  EXPECT_FALSE(memo.Rules(a));
  EXPECT_FALSE(memo.Rules(bigger));
  EXPECT_EQ(memo.size(), 0u);
}

// Nodes the state's indexes return, and the nodes they should return by
// the free capacity of each node.
void ExpectIndexesMatchFreeCapacity(const ClusterState& s, const Network& net) {
  int64_t total = 0;
  for (int slot = 0; slot < s.num_slots(); ++slot) {
    int64_t whole = 0, milli = 0;
    std::vector<NodeId> up;
    for (NodeId n : s.nodes_in_slot(slot)) {
      int fw = 0, max_partial = 0;
      int64_t fm = 0;
      for (int d = 0; d < s.devices(n); ++d) {
        fw += s.dev_free(n, d) == kWholeDeviceMilli;
        fm += s.dev_free(n, d);
        if (s.dev_free(n, d) > 0 && s.dev_free(n, d) < kWholeDeviceMilli)
          max_partial = std::max<int>(max_partial, s.dev_free(n, d));
      }
      ASSERT_EQ(s.free_whole(n), fw);
      ASSERT_EQ(s.free_milli(n), fm);
      if (!s.up(n)) continue;
      whole += fw;
      milli += fm;
      up.push_back(n);
    }
    EXPECT_EQ(s.slot_free_whole(slot), whole) << "slot " << slot;
    EXPECT_EQ(s.slot_free_milli(slot), milli) << "slot " << slot;
    total += milli;
    for (int64_t min_cpu : {int64_t{0}, int64_t{1000}, int64_t{3000}, int64_t{8000}, int64_t{20000}}) {
      const int cb = ClusterState::CpuBucket(min_cpu);
      auto cpu_ok = [&](NodeId n) { return cb < 0 || ClusterState::CpuBucket(s.free_cpu(n)) >= cb; };
      for (int k = 0; k <= s.slot_max_devices(slot); ++k) {
        std::vector<NodeId> got, got_exact, want, want_exact;
        s.ForEachWithFreeWhole(
            slot, k, [&](NodeId n) { return got.push_back(n), true; }, min_cpu);
        s.ForEachWithExactlyFreeWhole(
            slot, k, [&](NodeId n) { return got_exact.push_back(n), true; }, min_cpu);
        for (NodeId n : up) {
          if (!cpu_ok(n)) continue;
          if (s.free_whole(n) >= k) want.push_back(n);
          if (s.free_whole(n) == k) want_exact.push_back(n);
        }
        ASSERT_EQ(got, want) << "slot " << slot << " k " << k << " cpu " << min_cpu;
        ASSERT_EQ(got_exact, want_exact) << "slot " << slot << " k " << k << " cpu " << min_cpu;
      }
      if (s.slot_max_devices(slot) == 0) continue;
      for (int milli : {10, 25, 100, 330, 500, 975, 999}) {
        std::vector<NodeId> got, want;
        s.ForEachSharable(
            slot, milli, [&](NodeId n) { return got.push_back(n), true; }, min_cpu);
        const int step = milli / ClusterState::kShareStep * ClusterState::kShareStep;
        for (NodeId n : up) {
          if (!cpu_ok(n)) continue;
          bool ok = s.free_whole(n) > 0;
          for (int d = 0; d < s.devices(n); ++d) {
            const int f = s.dev_free(n, d);
            if (f > 0 && f < kWholeDeviceMilli && f >= step) ok = true;
          }
          if (ok) want.push_back(n);
        }
        ASSERT_EQ(got, want) << "slot " << slot << " milli " << milli << " cpu " << min_cpu;
      }
    }
  }
  EXPECT_EQ(s.total_free_milli(), total);
  (void)net;
}

// A random request: part of a device, one device or a gang of up to
// `max_gang`, on one model (or, with `two_models`, sometimes two).
PlacementRequest RandomRequest(Rng& r, size_t num_models, uint32_t max_gang, bool two_models) {
  PlacementRequest req;
  const uint64_t kind = r.Below(4);
  req.num_gpus = kind == 3 ? static_cast<uint32_t>(1 + r.Below(max_gang)) : 1;
  req.gpu_milli = kind == 0 ? static_cast<uint16_t>(10 + r.Below(990)) : kWholeDevice;
  req.cpu_milli = static_cast<int64_t>(r.Below(9000));
  req.mem_mib = static_cast<int64_t>(r.Below(65536));
  req.models = {static_cast<ModelId>(r.Below(num_models))};
  if (two_models && r.Below(3) == 0) req.models.push_back(static_cast<ModelId>(r.Below(num_models)));
  return req;
}

TEST(ClusterStateIndex, FollowsAllocationsReleasesAndNodesGoingDown) {
  Catalog cat = testing::TestCatalog();
  Network net = testing::TestNetwork({{0, 70, 8}, {1, 9, 4}, {2, 3, 16}, {kNoModel, 2, 0}});
  ClusterState s(net, cat.size());
  Rng r(17);
  std::unique_ptr<Placer> placer = MakePlacer("first-fit");
  std::vector<Allocation> held;
  int placed = 0;
  for (int step = 0; step < 3000; ++step) {
    const uint64_t what = r.Below(100);
    if (what < 55 || held.empty()) {
      PlacementRequest req = RandomRequest(r, cat.size(), 16, false);
      if (auto a = placer->Place(s, req, r)) {
        ASSERT_TRUE(s.CanAllocate(*a));
        s.Allocate(*a);
        held.push_back(std::move(*a));
        ++placed;
      }
    } else if (what < 95) {
      size_t i = r.Below(held.size());
      s.Release(held[i]);
      held[i] = std::move(held.back());
      held.pop_back();
    } else {
      NodeId n = static_cast<NodeId>(r.Below(net.nodes.size()));
      s.SetUp(n, !s.up(n));
    }
    if (step % 50 == 0) {
      ExpectIndexesMatchFreeCapacity(s, net);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
  EXPECT_GT(placed, 1000);
  for (NodeId n : net.nodes.ids()) s.SetUp(n, true);
  for (const auto& a : held) s.Release(a);
  ExpectIndexesMatchFreeCapacity(s, net);
  EXPECT_EQ(s.total_free_milli(), s.total_capacity_milli());
}

// The placer's capacity test (RoomFor) is what lets the scheduler skip a
// placement: when it fails, every placer fails without drawing a random
// number; counted with the devices of allocations not yet released, it is
// never stricter than after releasing them; and counted without a block of
// devices, it is what it would be with the block held.
TEST(RoomFor, EveryPlacerFailsWithoutItAndReleasesOnlyLoosenIt) {
  Catalog cat = testing::TestCatalog();
  Network net = testing::TestNetwork({{0, 30, 8}, {1, 9, 4}, {2, 3, 16}, {kNoModel, 2, 0}});
  for (const auto& info : Placers()) {
    SCOPED_TRACE(info.name);
    ClusterState s(net, cat.size());
    Rng r(23);
    std::unique_ptr<Placer> placer = info.make();
    std::vector<Allocation> held;
    int gated = 0;
    auto random_request = [&]() { return RandomRequest(r, cat.size(), 40, true); };
    for (int step = 0; step < 1500; ++step) {
      const uint64_t what = r.Below(100);
      if (what < 60 || held.empty()) {
        PlacementRequest req = random_request();
        const bool room = RoomFor(s, req);
        Rng before = r, mine = r;
        auto a = placer->Place(s, req, mine);
        if (!room) {
          ++gated;
          ASSERT_FALSE(a.has_value()) << "step " << step;
          ASSERT_EQ(mine.Below(1u << 30), before.Below(1u << 30)) << "a random number drawn, step " << step;
        }
        r = mine;
        if (a) {
          s.Allocate(*a);
          held.push_back(std::move(*a));
        }
      } else if (what < 90) {
        size_t i = r.Below(held.size());
        s.Release(held[i]);
        held[i] = std::move(held.back());
        held.pop_back();
      } else if (what < 95) {
        NodeId n = static_cast<NodeId>(r.Below(net.nodes.size()));
        s.SetUp(n, !s.up(n));
      } else {
        // Count some allocations as released (as ComputeReservation does),
        // then release them.
        std::vector<int64_t> whole(s.num_slots()), milli(s.num_slots());
        std::vector<size_t> picked;
        for (size_t i = 0; i < held.size(); ++i)
          if (r.Below(4) == 0) picked.push_back(i);
        for (size_t i : picked)
          for (const auto& sh : held[i].shares)
            if (sh.devices && s.up(sh.node)) {
              whole[s.SlotOf(sh.node)] += std::popcount(sh.devices);
              milli[s.SlotOf(sh.node)] += int64_t{std::popcount(sh.devices)} * sh.milli;
            }
        std::vector<PlacementRequest> reqs;
        std::vector<bool> bound;
        for (int k = 0; k < 20; ++k) {
          reqs.push_back(random_request());
          bound.push_back(RoomFor(s, reqs.back(), whole.data(), milli.data()));
        }
        for (size_t i : picked) s.Release(held[i]);
        for (size_t k = 0; k < reqs.size(); ++k)
          if (!bound[k]) {
            ASSERT_FALSE(RoomFor(s, reqs[k])) << "step " << step;
          }
        // Hold back the free part of one node's devices (a reserved block):
        // counted without it, the test is what it is with it held.
        const NodeId n = static_cast<NodeId>(r.Below(net.nodes.size() - 2));
        Allocation block;
        std::fill(whole.begin(), whole.end(), 0);
        std::fill(milli.begin(), milli.end(), 0);
        for (int d = 0; d < s.devices(n); ++d)
          if (s.dev_free(n, d) > 0) {
            block.shares.push_back({n, 1u << d, s.dev_free(n, d), 0, 0});
            if (s.up(n)) {
              whole[s.SlotOf(n)] -= s.dev_free(n, d) == kWholeDeviceMilli;
              milli[s.SlotOf(n)] -= s.dev_free(n, d);
            }
          }
        std::vector<bool> beside;
        for (const auto& req : reqs) beside.push_back(RoomFor(s, req, whole.data(), milli.data()));
        s.Allocate(block);
        for (size_t k = 0; k < reqs.size(); ++k) ASSERT_EQ(RoomFor(s, reqs[k]), beside[k]) << "step " << step;
        s.Release(block);
        for (size_t i : picked) s.Allocate(held[i]);
      }
    }
    EXPECT_GT(gated, 50);
  }
}

}  // namespace
}  // namespace suanli
