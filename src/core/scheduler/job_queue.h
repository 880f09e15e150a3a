// The waiting jobs of a static queue order, sorted by (key, job id).
//
// A scheduling pass reads the head of the queue, often a thousand jobs deep,
// far more often than jobs arrive or leave. The queue is therefore an ordered
// list of blocks of contiguous entries (at most 2 x kBlock each): a pass reads
// contiguous memory, insert and erase cost O(log n + kBlock). Each entry
// carries what a pass needs to skip a job without looking it up: its request
// shape and its shortest possible run time.
//
// A Cursor walks the queue as an iterator of a sorted set would: it stands on
// the entry after the one it returned last, so an entry inserted behind the
// last returned one and before that entry is not visited, one inserted after
// it is; erasing the entry last returned does not disturb the walk (erasing
// the one it stands on moves it to the next).
#pragma once

#include <cstdint>
#include <vector>

#include "base/time.h"
#include "core/model/job.h"
#include "core/policy/order/order.h"

namespace suanli {

class JobQueue {
 public:
  struct Entry {
    OrderKey key;
    JobId job = kNoJob;
    uint32_t shape = 0;    // request shape (the scheduler's table)
    Duration min_run = 0;  // the shortest run time the job could have
    bool operator<(const Entry& o) const { return key < o.key || (key == o.key && job < o.job); }
  };

  void Insert(const Entry& e);
  // Removes the entry of `job` with `key`; false if there is none.
  bool Erase(const OrderKey& key, JobId job);
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // At most one cursor walks a queue at a time.
  class Cursor {
   public:
    explicit Cursor(JobQueue& q);
    ~Cursor();
    Cursor(const Cursor&) = delete;
    Cursor& operator=(const Cursor&) = delete;
    // The next entry in order, valid until the queue changes; null at the end.
    const Entry* Next();

   private:
    friend class JobQueue;
    JobQueue* q_;
    size_t block_ = 0, pos_ = 0;  // where the cursor stands, unless moved
    bool end_ = false;
    // The queue changed since the cursor last moved: `ahead_` is the entry
    // it stood on then.
    bool moved_ = false;
    Entry ahead_;
  };

 private:
  static constexpr size_t kBlock = 256;
  // The first block whose last entry is not less than e; blocks_.size() if none.
  size_t BlockOf(const Entry& e) const;
  // Block and position of the first entry not less than e; false if none.
  bool LowerBound(const Entry& e, size_t* block, size_t* pos) const;

  // Before a change: the walking cursor remembers the entry it stands on.
  void Changing() {
    if (cursor_ && !cursor_->moved_ && !cursor_->end_) {
      cursor_->ahead_ = blocks_[cursor_->block_][cursor_->pos_];
      cursor_->moved_ = true;
    }
  }

  std::vector<std::vector<Entry>> blocks_;  // none empty; in order
  size_t size_ = 0;
  Cursor* cursor_ = nullptr;  // the cursor walking the queue, if any
};

inline const JobQueue::Entry* JobQueue::Cursor::Next() {
  if (end_) return nullptr;
  const auto& blocks = q_->blocks_;
  if (moved_) {
    // Find the entry the cursor stood on (or what follows it, if it left).
    moved_ = false;
    if (!q_->LowerBound(ahead_, &block_, &pos_)) {
      end_ = true;
      return nullptr;
    }
  }
  const auto& b = blocks[block_];
  const Entry* e = &b[pos_];
  if (++pos_ == b.size()) {
    pos_ = 0;
    if (++block_ == blocks.size()) end_ = true;
  }
  return e;
}

}  // namespace suanli
