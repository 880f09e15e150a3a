#include "core/state/cluster_state.h"

#include <algorithm>

namespace suanli {

ClusterState::ClusterState(const Network& network, size_t num_models) : network_(&network) {
  const size_t n = network.nodes.size();
  free_cpu_.resize(n);
  free_mem_.resize(n);
  free_milli_.resize(n);
  free_whole_.resize(n);
  partial_.assign(n, 0);
  max_partial_free_.assign(n, 0);
  level_.assign(n, Level{});
  up_.assign(n, 1);
  kind_count_.assign(n * kNumShareKinds, 0);
  kinds_mask_.assign(n, 0);
  slot_of_.resize(n);
  local_.resize(n);
  dev_offset_.resize(n + 1);
  slots_.resize(num_models + 1);
  uint32_t off = 0;
  for (NodeId i : network.nodes.ids()) {
    const Node& node = network.nodes[i];
    dev_offset_[i.value()] = off;
    off += node.devices;
    int slot = node.model == kNoModel || node.devices == 0 ? static_cast<int>(num_models) : node.model;
    SUANLI_CHECK(slot <= static_cast<int>(num_models));
    slot_of_[i] = slot;
    local_[i] = static_cast<uint32_t>(slots_[slot].nodes.size());
    slots_[slot].nodes.push_back(i);
    slots_[slot].max_devices = std::max<int>(slots_[slot].max_devices, node.devices);
  }
  dev_offset_[n] = off;
  dev_free_.assign(off, kWholeDeviceMilli);
  for (auto& s : slots_) {
    size_t words = (s.nodes.size() + 63) / 64;
    s.partial.assign(words, 0);
    s.partial_atleast.assign(kWholeDeviceMilli / kShareStep, std::vector<uint64_t>(words, 0));
    s.cpu_atleast.assign(kCpuBuckets, std::vector<uint64_t>(words, 0));
    s.atleast.assign(s.max_devices + 1, std::vector<uint64_t>(words, 0));
  }
  for (NodeId i : network.nodes.ids()) {
    const Node& node = network.nodes[i];
    free_cpu_[i] = node.cpu_milli;
    free_mem_[i] = node.mem_mib;
    free_whole_[i] = node.devices;
    free_milli_[i] = int64_t{node.devices} * kWholeDeviceMilli;
    slots_[slot_of_[i]].capacity_milli += free_milli_[i];
    total_capacity_milli_ += free_milli_[i];
    Index(i, true);
  }
}

namespace {
// Set bits (without the library call __builtin_popcount becomes on a
// baseline x86-64 build).
int Bits(uint32_t v) {
  v = v - ((v >> 1) & 0x55555555u);
  v = (v & 0x33333333u) + ((v >> 2) & 0x33333333u);
  return static_cast<int>((((v + (v >> 4)) & 0x0F0F0F0Fu) * 0x01010101u) >> 24);
}
}  // namespace

int ClusterState::ShareKind(const NodeShare& sh) {
  int k = Bits(sh.devices);
  if (k == 0) return -1;
  if (k == 1 && sh.milli < kWholeDeviceMilli) return 0;
  return k < kNumShareKinds - 1 ? k : kNumShareKinds - 1;
}

void ClusterState::Index(NodeId n, bool add) {
  Slot& s = slots_[slot_of_[n]];
  uint32_t li = local_[n];
  for (int k = 0; k <= free_whole_[n]; ++k) SetBit(s.atleast[k], li, add);
  SetBit(s.partial, li, add && partial_[n] > 0);
  if (add) {
    max_partial_free_[n] = MaxPartialFree(n);
    level_[n] = ComputeLevel(n);
  }
  for (int b = 1; b <= max_partial_free_[n] / kShareStep && b < static_cast<int>(s.partial_atleast.size()); ++b)
    SetBit(s.partial_atleast[b], li, add);
  for (int b = 0, top = CpuBucket(free_cpu_[n]); b <= top; ++b) SetBit(s.cpu_atleast[b], li, add);
  int64_t sign = add ? 1 : -1;
  s.free_whole += sign * free_whole_[n];
  s.free_milli += sign * free_milli_[n];
  total_free_milli_ += sign * free_milli_[n];
}

uint16_t ClusterState::MaxPartialFree(NodeId n) const {
  uint16_t m = 0;
  if (partial_[n] == 0) return m;
  const uint16_t* f = dev_free_ptr(n);
  for (int d = 0, nd = devices(n); d < nd; ++d)
    if (f[d] < kWholeDeviceMilli && f[d] > m) m = f[d];
  return m;
}

ClusterState::Level ClusterState::ComputeLevel(NodeId n) const {
  const Slot& s = slots_[slot_of_[n]];
  Level l;
  l.whole = free_whole_[n];
  l.share =
      static_cast<uint8_t>(std::min(max_partial_free_[n] / kShareStep, static_cast<int>(s.partial_atleast.size()) - 1));
  l.cpu = static_cast<int8_t>(CpuBucket(free_cpu_[n]));
  l.partial = partial_[n] > 0;
  return l;
}

void ClusterState::Reindex(NodeId n, Level was, int64_t was_milli) {
  max_partial_free_[n] = MaxPartialFree(n);
  const Level now = ComputeLevel(n);
  level_[n] = now;
  Slot& s = slots_[slot_of_[n]];
  const uint32_t li = local_[n];
  if (now.whole > was.whole) SetRange(s.atleast, was.whole + 1, now.whole, li, true);
  else if (now.whole < was.whole) SetRange(s.atleast, now.whole + 1, was.whole, li, false);
  if (now.partial != was.partial) SetBit(s.partial, li, now.partial);
  if (now.share > was.share) SetRange(s.partial_atleast, std::max(1, was.share + 1), now.share, li, true);
  else if (now.share < was.share) SetRange(s.partial_atleast, std::max(1, now.share + 1), was.share, li, false);
  if (now.cpu > was.cpu) SetRange(s.cpu_atleast, was.cpu + 1, now.cpu, li, true);
  else if (now.cpu < was.cpu) SetRange(s.cpu_atleast, now.cpu + 1, was.cpu, li, false);
  const int64_t dm = free_milli_[n] - was_milli;
  s.free_whole += now.whole - was.whole;
  s.free_milli += dm;
  total_free_milli_ += dm;
}

bool ClusterState::CanAllocate(const Allocation& a) const {
  for (const auto& sh : a.shares) {
    if (!has_node(sh.node) || !up_[sh.node]) return false;
    if (sh.cpu_milli > free_cpu_[sh.node] || sh.mem_mib > free_mem_[sh.node]) return false;
    int nd = devices(sh.node);
    if (nd < 32 && (sh.devices >> nd) != 0) return false;
    for (int d = 0; d < nd; ++d)
      if ((sh.devices >> d & 1) && dev_free(sh.node, d) < sh.milli) return false;
  }
  return true;
}

// Allocate and Release index a node once for consecutive shares on it (a
// reserved block holds one share per device).
void ClusterState::Allocate(const Allocation& a) {
  ++generation_;
  const auto& shares = a.shares;
  Level was;
  int64_t was_milli = 0;
  for (size_t i = 0; i < shares.size(); ++i) {
    const NodeShare& sh = shares[i];
    NodeId n = sh.node;
    SUANLI_CHECK_MSG(has_node(n), "node out of range");
    const bool up = up_[n] != 0;
    const bool first = i == 0 || shares[i - 1].node != n;
    const bool last = i + 1 == shares.size() || shares[i + 1].node != n;
    if (up && first) was = level_[n], was_milli = free_milli_[n];
    SUANLI_CHECK_MSG(sh.cpu_milli <= free_cpu_[n] && sh.mem_mib <= free_mem_[n], "cpu/mem over-allocated");
    free_cpu_[n] -= sh.cpu_milli;
    free_mem_[n] -= sh.mem_mib;
    uint32_t mask = sh.devices;
    while (mask) {
      int d = __builtin_ctz(mask);
      mask &= mask - 1;
      SUANLI_CHECK_MSG(d < devices(n), "device index out of range");
      uint16_t& f = dev_free_[dev_offset_[n.value()] + d];
      SUANLI_CHECK_MSG(f >= sh.milli, "device over-allocated");
      bool was_whole = f == kWholeDeviceMilli;
      bool was_partial = f > 0 && f < kWholeDeviceMilli;
      f = static_cast<uint16_t>(f - sh.milli);
      bool is_partial = f > 0 && f < kWholeDeviceMilli;
      if (was_whole) --free_whole_[n];
      partial_[n] = static_cast<uint8_t>(partial_[n] - was_partial + is_partial);
      free_milli_[n] -= sh.milli;
    }
    if (int kind = ShareKind(sh); kind >= 0) {
      ++kind_count_[size_t{n.value()} * kNumShareKinds + kind];
      kinds_mask_[n] = static_cast<uint16_t>(kinds_mask_[n] | (1u << kind));
    }
    if (up && last) Reindex(n, was, was_milli);
  }
}

void ClusterState::Release(const Allocation& a) {
  ++generation_;
  const auto& shares = a.shares;
  Level was;
  int64_t was_milli = 0;
  for (size_t i = 0; i < shares.size(); ++i) {
    const NodeShare& sh = shares[i];
    NodeId n = sh.node;
    SUANLI_CHECK_MSG(has_node(n), "node out of range");
    const bool up = up_[n] != 0;
    const bool first = i == 0 || shares[i - 1].node != n;
    const bool last = i + 1 == shares.size() || shares[i + 1].node != n;
    if (up && first) was = level_[n], was_milli = free_milli_[n];
    free_cpu_[n] += sh.cpu_milli;
    free_mem_[n] += sh.mem_mib;
    SUANLI_CHECK(free_cpu_[n] <= network_->nodes[n].cpu_milli);
    uint32_t mask = sh.devices;
    while (mask) {
      int d = __builtin_ctz(mask);
      mask &= mask - 1;
      uint16_t& f = dev_free_[dev_offset_[n.value()] + d];
      bool was_partial = f > 0 && f < kWholeDeviceMilli;
      f = static_cast<uint16_t>(f + sh.milli);
      SUANLI_CHECK_MSG(f <= kWholeDeviceMilli, "device released twice");
      bool is_partial = f > 0 && f < kWholeDeviceMilli;
      if (f == kWholeDeviceMilli) ++free_whole_[n];
      partial_[n] = static_cast<uint8_t>(partial_[n] - was_partial + is_partial);
      free_milli_[n] += sh.milli;
    }
    if (int kind = ShareKind(sh); kind >= 0) {
      uint16_t& c = kind_count_[size_t{n.value()} * kNumShareKinds + kind];
      SUANLI_CHECK_MSG(c > 0, "share kind released twice");
      if (--c == 0) kinds_mask_[n] = static_cast<uint16_t>(kinds_mask_[n] & ~(1u << kind));
    }
    if (up && last) Reindex(n, was, was_milli);
  }
}

void ClusterState::SetUp(NodeId n, bool up) {
  if ((up_[n] != 0) == up) return;
  ++generation_;
  if (!up) Index(n, false);
  up_[n] = up ? 1 : 0;
  if (up) Index(n, true);
}

}  // namespace suanli
