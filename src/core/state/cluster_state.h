// What is free right now on every node and device, with indexes that keep
// placement fast on large networks: per accelerator model ("slot"), a bitset
// of nodes for each count of wholly free devices, and a bitset of nodes with a
// partly used device. Allocate/Release are O(devices touched).
//
// Nodes without accelerators form one extra slot (kCpuSlot = number of models).
//
// It also counts, per node, the kinds of shares it holds (a part of one device,
// or k whole devices), which gpu-clustering placement reads.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "base/status.h"
#include "core/model/network.h"
#include "core/state/allocation.h"

namespace suanli {

class ClusterState {
 public:
  ClusterState(const Network& network, size_t num_models);

  const Network& network() const { return *network_; }
  size_t num_nodes() const { return free_cpu_.size(); }
  bool has_node(NodeId n) const { return free_cpu_.contains(n); }
  int num_slots() const { return static_cast<int>(slots_.size()); }
  int cpu_slot() const { return num_slots() - 1; }
  int SlotOf(NodeId n) const { return slot_of_[n]; }
  int SlotOfModel(ModelId m) const { return m == kNoModel ? cpu_slot() : m; }

  // Per node.
  int64_t free_cpu(NodeId n) const { return free_cpu_[n]; }
  int64_t free_mem(NodeId n) const { return free_mem_[n]; }
  int devices(NodeId n) const { return dev_offset_[n.value() + 1] - dev_offset_[n.value()]; }
  uint16_t dev_free(NodeId n, int d) const { return dev_free_[dev_offset_[n.value()] + d]; }
  const uint16_t* dev_free_ptr(NodeId n) const { return dev_free_.data() + dev_offset_[n.value()]; }
  int free_whole(NodeId n) const { return free_whole_[n]; }
  int64_t free_milli(NodeId n) const { return free_milli_[n]; }
  bool up(NodeId n) const { return up_[n] != 0; }
  // Kinds of shares held on a node: kind 0 = part of one device, kind k = k whole
  // devices (1..8), kind 9 = more than 8 whole devices; CPU-only shares have none.
  static constexpr int kNumShareKinds = 10;
  static int ShareKind(const NodeShare& sh);  // -1 for a share without devices
  // Bit k set: the node holds at least one share of kind k.
  uint16_t share_kinds(NodeId n) const { return kinds_mask_[n]; }

  // Per slot (model).
  const std::vector<NodeId>& nodes_in_slot(int slot) const { return slots_[slot].nodes; }
  int64_t slot_free_whole(int slot) const { return slots_[slot].free_whole; }
  int64_t slot_free_milli(int slot) const { return slots_[slot].free_milli; }
  int64_t slot_capacity_milli(int slot) const { return slots_[slot].capacity_milli; }
  int slot_max_devices(int slot) const { return slots_[slot].max_devices; }
  int64_t total_capacity_milli() const { return total_capacity_milli_; }
  int64_t total_free_milli() const { return total_free_milli_; }

  bool CanAllocate(const Allocation& a) const;
  // Applies an allocation; the caller guarantees it fits (checked: a bug otherwise).
  void Allocate(const Allocation& a);
  void Release(const Allocation& a);
  // Marks a node down (no new placements; its free capacity leaves the indexes) or up.
  void SetUp(NodeId n, bool up);
  // Counts the calls that change the state (Allocate, Release, SetUp): what
  // was derived from it at one count still holds while the count is the same.
  uint64_t generation() const { return generation_; }

  // Calls f(node) for up nodes of `slot` with at least k wholly free devices, in
  // ascending node id; stops early when f returns false.
  // With min_cpu > 0, nodes with less free CPU than min_cpu rounded down to a
  // power of two cores are skipped (a few visited nodes may still lack it).
  template <typename F>
  void ForEachWithFreeWhole(int slot, int k, F&& f, int64_t min_cpu = 0) const;
  // Calls f(node) for up nodes of `slot` with exactly k wholly free devices, ascending id.
  template <typename F>
  void ForEachWithExactlyFreeWhole(int slot, int k, F&& f, int64_t min_cpu = 0) const;
  // Calls f(node) for up nodes that may host a share of `milli` on one device:
  // a wholly free device, or a partly used one with at least milli rounded
  // down to kShareStep free (so a few visited nodes may still not fit),
  // ascending id.
  template <typename F>
  void ForEachSharable(int slot, int milli, F&& f, int64_t min_cpu = 0) const;
  static constexpr int kShareStep = 25;
  static constexpr int kCpuBuckets = 10;  // >= 1, 2, 4, ... 512 cores free
  // The CPU bucket a request of `milli` needs, -1 for no filter.
  static int CpuBucket(int64_t milli) {
    if (milli < 1000) return -1;
    int b = 63 - __builtin_clzll(static_cast<uint64_t>(milli / 1000));
    return std::min(b, kCpuBuckets - 1);
  }

 private:
  struct Slot {
    std::vector<NodeId> nodes;                   // ascending
    std::vector<std::vector<uint64_t>> atleast;  // atleast[k]: up nodes with >= k wholly free devices
    std::vector<uint64_t> partial;               // nodes with a partly used device
    // partial_atleast[b]: nodes with a partly used device with >= b * kShareStep free (b >= 1)
    std::vector<std::vector<uint64_t>> partial_atleast;
    // cpu_atleast[b]: nodes with >= 2^b cores free
    std::vector<std::vector<uint64_t>> cpu_atleast;
    int max_devices = 0;
    int64_t free_whole = 0, free_milli = 0, capacity_milli = 0;
  };
  void Index(NodeId n, bool add);
  // What an up node contributes to its slot's indexes: it is in atleast[k]
  // for k <= whole, in partial_atleast[b] for 1 <= b <= share, in
  // cpu_atleast[b] for b <= cpu, in partial if partial.
  struct Level {
    uint8_t whole = 0;
    uint8_t share = 0;
    int8_t cpu = -1;
    bool partial = false;
  };
  Level ComputeLevel(NodeId n) const;
  uint16_t MaxPartialFree(NodeId n) const;  // the largest free share on a partly used device, 0 if none
  // Brings an up node's index entries from `was` (its level before a change
  // of its free capacity, with `was_milli` free) to its current level,
  // touching only what changed.
  void Reindex(NodeId n, Level was, int64_t was_milli);
  static void SetRange(std::vector<std::vector<uint64_t>>& sets, int from, int to, uint32_t i, bool v) {
    for (int k = from; k <= to; ++k) SetBit(sets[k], i, v);
  }
  static void SetBit(std::vector<uint64_t>& bits, uint32_t i, bool v) {
    if (v) bits[i >> 6] |= uint64_t{1} << (i & 63);
    else bits[i >> 6] &= ~(uint64_t{1} << (i & 63));
  }

  const Network* network_;
  IdVector<NodeId, int64_t> free_cpu_, free_mem_, free_milli_;
  std::vector<uint32_t> dev_offset_;  // by node (value()), and one past the last: node n's devices in dev_free_
  std::vector<uint16_t> dev_free_;
  IdVector<NodeId, uint8_t> free_whole_, partial_, up_;
  IdVector<NodeId, uint16_t> max_partial_free_;  // largest free share on a partly used device
  IdVector<NodeId, Level> level_;                // per up node, as indexed
  IdVector<NodeId, int> slot_of_;
  IdVector<NodeId, uint32_t> local_;  // index of a node inside its slot
  std::vector<Slot> slots_;
  std::vector<uint16_t> kind_count_;  // kNumShareKinds per node (value())
  IdVector<NodeId, uint16_t> kinds_mask_;
  int64_t total_capacity_milli_ = 0, total_free_milli_ = 0;
  uint64_t generation_ = 0;
};

template <typename F>
void ClusterState::ForEachWithFreeWhole(int slot, int k, F&& f, int64_t min_cpu) const {
  const Slot& s = slots_[slot];
  if (k > s.max_devices) return;
  if (k < 0) k = 0;
  const std::vector<uint64_t>& set = s.atleast[k];
  const int cb = CpuBucket(min_cpu);
  const std::vector<uint64_t>* cpu = cb >= 0 ? &s.cpu_atleast[cb] : nullptr;
  for (size_t w = 0; w < set.size(); ++w) {
    uint64_t bits = set[w] & (cpu ? (*cpu)[w] : ~uint64_t{0});
    while (bits) {
      int b = __builtin_ctzll(bits);
      bits &= bits - 1;
      if (!f(s.nodes[(w << 6) + b])) return;
    }
  }
}

template <typename F>
void ClusterState::ForEachWithExactlyFreeWhole(int slot, int k, F&& f, int64_t min_cpu) const {
  const Slot& s = slots_[slot];
  if (k > s.max_devices || k < 0) return;
  const std::vector<uint64_t>& set = s.atleast[k];
  const std::vector<uint64_t>* above = k < s.max_devices ? &s.atleast[k + 1] : nullptr;
  const int cb = CpuBucket(min_cpu);
  const std::vector<uint64_t>* cpu = cb >= 0 ? &s.cpu_atleast[cb] : nullptr;
  for (size_t w = 0; w < set.size(); ++w) {
    uint64_t bits = set[w] & (above ? ~(*above)[w] : ~uint64_t{0}) & (cpu ? (*cpu)[w] : ~uint64_t{0});
    while (bits) {
      int b = __builtin_ctzll(bits);
      bits &= bits - 1;
      if (!f(s.nodes[(w << 6) + b])) return;
    }
  }
}

template <typename F>
void ClusterState::ForEachSharable(int slot, int milli, F&& f, int64_t min_cpu) const {
  const Slot& s = slots_[slot];
  if (s.max_devices == 0) return;
  int b = std::clamp(milli / kShareStep, 0, static_cast<int>(s.partial_atleast.size()) - 1);
  const std::vector<uint64_t>& part = b == 0 ? s.partial : s.partial_atleast[b];
  const int cb = CpuBucket(min_cpu);
  const std::vector<uint64_t>* cpu = cb >= 0 ? &s.cpu_atleast[cb] : nullptr;
  for (size_t w = 0; w < s.partial.size(); ++w) {
    uint64_t bits = (part[w] | s.atleast[1][w]) & (cpu ? (*cpu)[w] : ~uint64_t{0});
    while (bits) {
      int bit = __builtin_ctzll(bits);
      bits &= bits - 1;
      if (!f(s.nodes[(w << 6) + bit])) return;
    }
  }
}

}  // namespace suanli
