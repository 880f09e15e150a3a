// The center scheduler's reservations and backfill (scheduler.h): when the
// blocked head of the queue would start at the earliest, and placing other
// jobs beside its reserved devices.
#include <algorithm>
#include <bit>

#include "core/scheduler/scheduler.h"

namespace suanli {

std::optional<Reservation> Scheduler::ComputeReservation(JobId id, Time now, Rng& rng) {
  if (auto a = TryPlace(id, rng)) return Reservation{id, now, std::move(*a)};
  // Placement looks only at the nodes of the models the job accepts (any
  // node for a CPU-only job): a job running on another model's nodes need
  // not be taken off the state, it changes nothing the placement sees. Jobs
  // without accelerators may hold CPU and memory on any node.
  ModelMask relevant = ~ModelMask{0};
  if (workload_.jobs[id].num_gpus > 0) {
    relevant = 0;
    for (ModelId m : ModelOrder(id)) relevant |= ModelMask{1} << m;
  }
  // Releasing an allocation adds at most its devices to its slot's free
  // capacity. While even that leaves no room for the placer's capacity test
  // (Place would fail at once), the releases are only counted; they are
  // applied, and the placer asked, once there may be room.
  std::vector<const Allocation*>& released = released_;
  released.clear();
  size_t applied = 0;  // released[0, applied) are released in the state
  extra_whole_.assign(state_.num_slots(), 0);
  extra_milli_.assign(state_.num_slots(), 0);
  std::optional<Reservation> res;
  bool added = true, room = false;  // capacity counted since the last test; its outcome
  FillRequest(id);                  // the same request after each release
  for (const auto& [end, v] : by_end_) {
    const ModelId m = rt_[v].model;  // the model of its allocation
    if (m == kNoModel || (relevant >> m & 1)) {
      const Allocation& held = run_.find(v)->second.alloc;
      released.push_back(&held);
      for (const auto& sh : held.shares) {
        if (!sh.devices || !state_.up(sh.node)) continue;
        const int slot = state_.SlotOf(sh.node);
        const int n = std::popcount(sh.devices);
        extra_whole_[slot] += n;
        extra_milli_[slot] += int64_t{n} * sh.milli;
        added = true;
      }
    }
    // Nothing added since a failed test: it fails again.
    if (!added && !room) continue;
    added = false;
    room = RoomFor(state_, request_, extra_whole_.data(), extra_milli_.data());
    if (!room) continue;
    for (; applied < released.size(); ++applied) state_.Release(*released[applied]);
    std::fill(extra_whole_.begin(), extra_whole_.end(), 0);
    std::fill(extra_milli_.begin(), extra_milli_.end(), 0);
    if (auto a = PlaceRequest(rng)) {
      res = Reservation{id, std::max(end, now + 1), std::move(*a)};
      break;
    }
  }
  for (size_t i = 0; i < applied; ++i) state_.Allocate(*released[i]);
  std::fill(extra_whole_.begin(), extra_whole_.end(), 0);
  std::fill(extra_milli_.begin(), extra_milli_.end(), 0);
  return res;
}

std::optional<Reservation> Scheduler::EstimateStart(JobId id, Time now, Rng& rng) {
  if (!rt_.contains(id)) return std::nullopt;
  if (rt_[id].state == JobState::kRunning) return Reservation{id, rt_[id].last_start, run_[id].alloc};
  if (rt_[id].state != JobState::kPending) return std::nullopt;
  trial_ = true;  // its placements are trials (PlacementRequest::observe)
  auto res = ComputeReservation(id, now, rng);
  trial_ = false;
  return res;
}

namespace {
bool Overlaps(const Allocation& a, const Allocation& b) {
  for (const auto& x : a.shares)
    for (const auto& y : b.shares)
      if (x.node == y.node && (x.devices & y.devices)) return true;
  return false;
}
}  // namespace

Duration Scheduler::RunTimeOn(JobId id, const Allocation& a) const {
  const Job& job = workload_.jobs[id];
  double speed = a.model == kNoModel ? 1.0 : Speed(job, a.model, catalog_, workload_);
  return SecondsF(rt_[id].est_remaining / std::max(1e-9, speed));
}

const Allocation& Scheduler::ReservedBlock(const Reservation& res) {
  Allocation& block = block_;
  block.shares.clear();
  for (const auto& sh : res.alloc.shares)
    for (int d = 0; d < state_.devices(sh.node); ++d)
      if ((sh.devices >> d & 1) && state_.dev_free(sh.node, d) > 0)
        block.shares.push_back({sh.node, 1u << d, state_.dev_free(sh.node, d), 0, 0});
  return block;
}

bool Scheduler::RoomBeside(const Reservation& res) {
  BlockRoom& r = block_room_;
  if (r.generation != state_.generation()) {
    r = BlockRoom{state_.generation(), state_.SlotOfModel(res.alloc.model), 0, 0};
    for (const auto& sh : res.alloc.shares) {
      if (!state_.up(sh.node)) continue;  // not in the slot's free capacity
      for (uint32_t mask = sh.devices; mask; mask &= mask - 1) {
        const uint16_t f = state_.dev_free(sh.node, std::countr_zero(mask));
        r.whole += f == kWholeDeviceMilli;
        r.milli += f;
      }
    }
  }
  if (extra_whole_.size() != static_cast<size_t>(state_.num_slots())) {
    extra_whole_.assign(state_.num_slots(), 0);
    extra_milli_.assign(state_.num_slots(), 0);
  }
  extra_whole_[r.slot] = -r.whole;
  extra_milli_[r.slot] = -r.milli;
  const bool room = RoomFor(state_, request_, extra_whole_.data(), extra_milli_.data());
  extra_whole_[r.slot] = extra_milli_[r.slot] = 0;
  return room;
}

std::optional<Allocation> Scheduler::PlaceBeside(JobId id, const Reservation& res, Rng& rng) {
  FillRequest(id);
  if (!RoomBeside(res)) return std::nullopt;
  const Allocation& block = ReservedBlock(res);
  state_.Allocate(block);
  auto b = PlaceRequest(rng);
  state_.Release(block);
  block_room_.generation = state_.generation();  // the same state as before
  return b;
}

std::optional<Allocation> Scheduler::TryPlaceBeside(JobId id, const Reservation* res, Time now, Rng& rng) {
  auto a = TryPlace(id, rng);
  if (!a || !res || now + RunTimeOn(id, *a) <= res->start || !Overlaps(*a, res->alloc)) return a;
  return PlaceBeside(id, *res, rng);
}

bool Scheduler::Backfill(JobId id, Allocation a, const Reservation* res, Time now, Rng& rng, PassResult* out) {
  if (!res || now + RunTimeOn(id, a) <= res->start || !Overlaps(a, res->alloc)) {
    Start(id, std::move(a), now, out);
    return true;
  }
  // Try again with the reserved devices held back.
  if (auto b = PlaceBeside(id, *res, rng)) {
    Start(id, std::move(*b), now, out);
    return true;
  }
  Record(&blocked_failures_, id);
  return false;
}

}  // namespace suanli
