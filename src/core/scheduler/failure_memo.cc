#include "core/scheduler/failure_memo.h"

#include <algorithm>

namespace suanli {

size_t ShapeTable::Hash::operator()(const RequestShape& s) const {
  uint64_t h = s.models * 0x9E3779B97F4A7C15ULL;
  auto mix = [&](uint64_t v) { h ^= v + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2); };
  mix(s.shared ? 1 : 0);
  mix(static_cast<uint64_t>(s.gpu_milli));
  mix(static_cast<uint64_t>(s.cpu));
  mix(static_cast<uint64_t>(s.mem));
  mix(uint64_t{s.stacks} << 8 | static_cast<uint8_t>(s.cls));
  mix(s.nodes);
  return static_cast<size_t>(h);
}

uint32_t ShapeTable::Intern(const RequestShape& s, bool* added) {
  auto [it, is_new] = ids_.try_emplace(s, static_cast<uint32_t>(shapes_.size()));
  if (is_new) {
    shapes_.push_back(s);
    RequestShape g;
    g.models = s.models;
    g.shared = s.shared;
    g.nodes = s.nodes;
    group_.push_back(groups_.try_emplace(g, static_cast<uint32_t>(groups_.size())).first->second);
  }
  if (added) *added = is_new;
  return it->second;
}

FailureMemo::Group& FailureMemo::GroupOf(uint32_t g) {
  if (g >= groups_.size()) groups_.resize(std::max(shapes_->num_groups(), size_t{g} + 1));
  if (g >= logged_.size()) logged_.resize(groups_.size());
  Group& x = groups_[g];
  if (x.epoch != epoch_) {
    x.epoch = epoch_;
    x.minimal.clear();
    x.gpu.clear();
    x.cpu.clear();
    x.mem.clear();
    logged_[g] = {epoch_, 0};
  }
  return x;
}

bool FailureMemo::Check(uint32_t shape) {
  if (shape >= seen_.size()) {
    const size_t had = seen_.size();
    seen_.resize(std::max<size_t>(shapes_->size(), shape + 1));
    ruled_at_.resize(seen_.size(), 0);
    for (size_t i = had; i < seen_.size(); ++i) seen_[i].group = shapes_->group(static_cast<uint32_t>(i));
    if (logged_.size() < shapes_->num_groups()) logged_.resize(shapes_->num_groups());
  }
  if (ruled_at_[shape] == epoch_) return true;
  Seen& s = seen_[shape];
  const uint32_t g = s.group;
  // A group not touched in this epoch has an empty log.
  const Group* group = g < groups_.size() && groups_[g].epoch == epoch_ ? &groups_[g] : nullptr;
  const size_t n = group ? group->gpu.size() : 0;
  if (s.epoch != epoch_) s = Seen{epoch_, 0, g};
  bool ruled = false;
  if (n > s.checked) {
    const RequestShape& r = (*shapes_)[shape];
    // No failure can rule out a request smaller in some resource than all of them.
    if (r.gpu_milli >= group->least_gpu && r.cpu >= group->least_cpu && r.mem >= group->least_mem) {
      const int64_t* gpu = group->gpu.data();
      const int64_t* cpu = group->cpu.data();
      const int64_t* mem = group->mem.data();
      for (size_t i = s.checked; i < n; ++i)
        if (r.gpu_milli >= gpu[i] && r.cpu >= cpu[i] && r.mem >= mem[i]) {
          ruled = true;
          break;
        }
    }
  }
  s.checked = static_cast<uint32_t>(n);
  if (ruled) ruled_at_[shape] = epoch_;
  return ruled;
}

void FailureMemo::Record(uint32_t shape) {
  const RequestShape& f = (*shapes_)[shape];
  const uint32_t gi = shapes_->group(shape);
  Group& g = GroupOf(gi);
  const size_t before = g.minimal.size();
  g.minimal.erase(
      std::remove_if(g.minimal.begin(), g.minimal.end(), [&](const RequestShape& o) { return o.NoSmallerThan(f); }),
      g.minimal.end());
  count_ -= before - g.minimal.size();
  if (count_ < kMaxFailures) {
    g.minimal.push_back(f);
    if (g.gpu.empty()) {
      g.least_gpu = f.gpu_milli;
      g.least_cpu = f.cpu;
      g.least_mem = f.mem;
    } else {
      g.least_gpu = std::min(g.least_gpu, f.gpu_milli);
      g.least_cpu = std::min(g.least_cpu, f.cpu);
      g.least_mem = std::min(g.least_mem, f.mem);
    }
    g.gpu.push_back(f.gpu_milli);
    g.cpu.push_back(f.cpu);
    g.mem.push_back(f.mem);
    logged_[gi].size = static_cast<uint32_t>(g.gpu.size());
    ++count_;
  }
}

}  // namespace suanli
