#include "core/scheduler/job_queue.h"

#include <algorithm>

#include "base/status.h"

namespace suanli {

size_t JobQueue::BlockOf(const Entry& e) const {
  auto it = std::lower_bound(blocks_.begin(), blocks_.end(), e,
                             [](const std::vector<Entry>& b, const Entry& x) { return b.back() < x; });
  return static_cast<size_t>(it - blocks_.begin());
}

bool JobQueue::LowerBound(const Entry& e, size_t* block, size_t* pos) const {
  size_t b = BlockOf(e);
  if (b == blocks_.size()) return false;
  const auto& v = blocks_[b];
  *block = b;
  *pos = static_cast<size_t>(std::lower_bound(v.begin(), v.end(), e) - v.begin());
  return true;
}

void JobQueue::Insert(const Entry& e) {
  Changing();
  ++size_;
  if (blocks_.empty()) {
    blocks_.emplace_back();
    blocks_.back().reserve(2 * kBlock);
    blocks_.back().push_back(e);
    return;
  }
  size_t b = std::min(BlockOf(e), blocks_.size() - 1);
  auto& v = blocks_[b];
  v.insert(std::upper_bound(v.begin(), v.end(), e), e);
  if (v.size() >= 2 * kBlock) {
    // Split in two halves.
    std::vector<Entry> upper;
    upper.reserve(2 * kBlock);
    upper.assign(v.begin() + static_cast<std::ptrdiff_t>(kBlock), v.end());
    v.resize(kBlock);
    blocks_.insert(blocks_.begin() + static_cast<std::ptrdiff_t>(b) + 1, std::move(upper));
  }
}

bool JobQueue::Erase(const OrderKey& key, JobId job) {
  Entry e;
  e.key = key;
  e.job = job;
  size_t b = 0, p = 0;
  if (!LowerBound(e, &b, &p)) return false;
  auto& v = blocks_[b];
  if (p == v.size() || v[p].job != job || !(v[p].key == key)) return false;
  Changing();
  --size_;
  v.erase(v.begin() + static_cast<std::ptrdiff_t>(p));
  if (v.empty()) {
    blocks_.erase(blocks_.begin() + static_cast<std::ptrdiff_t>(b));
  } else if (v.size() < kBlock / 4 && b + 1 < blocks_.size() && v.size() + blocks_[b + 1].size() <= kBlock) {
    // Merge a small block with the next one, so that blocks stay well filled.
    auto& next = blocks_[b + 1];
    v.insert(v.end(), next.begin(), next.end());
    blocks_.erase(blocks_.begin() + static_cast<std::ptrdiff_t>(b) + 1);
  }
  return true;
}

JobQueue::Cursor::Cursor(JobQueue& q) : q_(&q) {
  SUANLI_CHECK_MSG(q.cursor_ == nullptr, "two cursors walk one queue");
  q.cursor_ = this;
  end_ = q.blocks_.empty();
}

JobQueue::Cursor::~Cursor() { q_->cursor_ = nullptr; }

}  // namespace suanli
