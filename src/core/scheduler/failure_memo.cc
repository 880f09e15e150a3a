#include "core/scheduler/failure_memo.h"

#include <algorithm>

namespace suanli {

size_t ShapeTable::Hash::operator()(const RequestShape& s) const {
  uint64_t h = s.models * 0x9E3779B97F4A7C15ULL;
  auto mix = [&](uint64_t v) {
    h ^= v + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2);
  };
  mix(s.shared ? 1 : 0);
  mix(static_cast<uint64_t>(s.gpu_milli));
  mix(static_cast<uint64_t>(s.cpu));
  mix(static_cast<uint64_t>(s.mem));
  return static_cast<size_t>(h);
}

uint32_t ShapeTable::Intern(const RequestShape& s, bool* added) {
  auto [it, is_new] = ids_.try_emplace(s, static_cast<uint32_t>(shapes_.size()));
  if (is_new) {
    shapes_.push_back(s);
    RequestShape g;
    g.models = s.models;
    g.shared = s.shared;
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
    x.log.clear();
    logged_[g] = {epoch_, 0};
  }
  return x;
}

bool FailureMemo::Check(uint32_t shape) {
  if (shape >= seen_.size()) {
    const size_t had = seen_.size();
    seen_.resize(std::max<size_t>(shapes_->size(), shape + 1));
    for (size_t i = had; i < seen_.size(); ++i) seen_[i].group = shapes_->group(static_cast<uint32_t>(i));
    if (logged_.size() < shapes_->num_groups()) logged_.resize(shapes_->num_groups());
  }
  const uint32_t g = shapes_->group(shape);
  const Group& group = GroupOf(g);  // so that logged_[g] is of this epoch
  Seen& s = seen_[shape];
  if (s.epoch != epoch_) s = Seen{epoch_, 0, g, false};
  const size_t n = group.log.size();
  if (n > s.checked) {
    const RequestShape& r = (*shapes_)[shape];
    for (size_t i = s.checked; i < n && !s.ruled; ++i) s.ruled = r.NoSmallerThan(group.log[i]);
  }
  s.checked = static_cast<uint32_t>(n);
  return s.ruled;
}

void FailureMemo::Record(uint32_t shape) {
  const RequestShape& f = (*shapes_)[shape];
  const uint32_t gi = shapes_->group(shape);
  Group& g = GroupOf(gi);
  const size_t before = g.minimal.size();
  g.minimal.erase(std::remove_if(g.minimal.begin(), g.minimal.end(),
                                 [&](const RequestShape& o) { return o.NoSmallerThan(f); }),
                  g.minimal.end());
  count_ -= before - g.minimal.size();
  if (count_ < kMaxFailures) {
    g.minimal.push_back(f);
    g.log.push_back(f);
    logged_[gi].size = static_cast<uint32_t>(g.log.size());
    ++count_;
  }
}

}  // namespace suanli
