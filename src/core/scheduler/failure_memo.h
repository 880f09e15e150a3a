// Request shapes of waiting jobs, and the per-pass memo of shapes that did
// not fit.
//
// Within a pass the cluster only fills up, so once a request did not fit, no
// request of the same models and sharing that asks at least as much of every
// resource (devices or share, CPU, memory) can fit either. The memo keeps the
// minimal failed requests (at most kMaxFailures, as a bound on the work per
// record) and answers "is this request ruled out?".
//
// Jobs are grouped by request shape (models, sharing, device demand, CPU,
// memory): a pass asks about a shape, not a job, and the answer for a shape is
// kept until the memo learns of a new failure. Only the failures added since
// a shape was last asked are compared with it, so a pass that walks a long
// queue of a few hundred shapes pays O(1) per job.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "core/model/catalog.h"
#include "core/model/job.h"

namespace suanli {

// A request as the memo compares it (models, sharing, demand, CPU, memory),
// with what else orders its eligible models (stacks, class).
struct RequestShape {
  ModelMask models = 0;
  bool shared = false;
  int64_t gpu_milli = 0, cpu = 0, mem = 0;
  StackMask stacks = 0;
  WorkloadClass cls = WorkloadClass::kOther;
  uint16_t nodes = 0;  // Job::nodes: requests spread over different numbers of nodes never compare
  static RequestShape Of(const Job& j) {
    return {j.models, j.IsShared(), j.GpuMilli(), j.cpu_milli, j.mem_mib, j.stacks, j.cls, j.nodes};
  }
  // Every request of shape `this` asks at least as much as one of shape `f` (same models, sharing and nodes).
  bool NoSmallerThan(const RequestShape& f) const {
    return models == f.models && shared == f.shared && nodes == f.nodes && gpu_milli >= f.gpu_milli && cpu >= f.cpu &&
           mem >= f.mem;
  }
  bool operator==(const RequestShape& o) const {
    return models == o.models && shared == o.shared && gpu_milli == o.gpu_milli && cpu == o.cpu && mem == o.mem &&
           stacks == o.stacks && cls == o.cls && nodes == o.nodes;
  }
};

// Shapes by id, an id per distinct shape (ids are never reused). Shapes of
// the same models, sharing and nodes form a group: only they can rule each other out.
class ShapeTable {
 public:
  // The id of a shape, adding it if new; `added` tells whether it was.
  uint32_t Intern(const RequestShape& s, bool* added = nullptr);
  const RequestShape& operator[](uint32_t id) const { return shapes_[id]; }
  uint32_t group(uint32_t id) const { return group_[id]; }
  size_t size() const { return shapes_.size(); }
  size_t num_groups() const { return groups_.size(); }

 private:
  struct Hash {
    size_t operator()(const RequestShape& s) const;
  };
  std::vector<RequestShape> shapes_;
  std::vector<uint32_t> group_;
  std::unordered_map<RequestShape, uint32_t, Hash> ids_;
  std::unordered_map<RequestShape, uint32_t, Hash> groups_;  // by models and sharing (other fields 0)
};

class FailureMemo {
 public:
  static constexpr size_t kMaxFailures = 64;

  explicit FailureMemo(const ShapeTable& shapes) : shapes_(&shapes) {}
  void Clear() {
    ++epoch_;
    count_ = 0;
  }
  // Does a failure rule out a request of this shape (no smaller than one that failed)?
  bool Rules(uint32_t shape) {
    if (shape < seen_.size()) {
      if (ruled_at_[shape] == epoch_) return true;
      const Seen& s = seen_[shape];
      const Logged& l = logged_[s.group];
      const uint32_t n = l.epoch == epoch_ ? l.size : 0;
      // Nothing failed in its group yet, or nothing since it was asked.
      if (n == 0 || (s.epoch == epoch_ && s.checked == n)) return false;
    }
    return Check(shape);
  }
  // A request of this shape did not fit. Failures it makes redundant (no
  // smaller than it) are dropped; it is kept if fewer than kMaxFailures remain.
  void Record(uint32_t shape);
  size_t size() const { return count_; }

 private:
  bool Check(uint32_t shape);
  // A shape not ruled out: how much of its group's log it was compared with
  // in epoch `epoch` (none in another).
  struct Seen {
    uint32_t epoch = 0;
    uint32_t checked = 0;
    uint32_t group = 0;  // the shape's group, in any epoch
  };
  // Entries in a group's log in this epoch (the size is stale in another).
  struct Logged {
    uint32_t epoch = 0;
    uint32_t size = 0;
  };
  // The failures of one group since Clear (a group not touched since is empty).
  struct Group {
    uint32_t epoch = 0;
    std::vector<RequestShape> minimal;  // the minimal failures
    // Every failure kept, in order (device demand, CPU, memory). Those since
    // dropped from `minimal` are no smaller than a later one, so the log
    // rules out exactly what `minimal` does.
    std::vector<int64_t> gpu, cpu, mem;
    int64_t least_gpu = 0, least_cpu = 0, least_mem = 0;  // the least of each in the log
  };
  Group& GroupOf(uint32_t g);
  const ShapeTable* shapes_;
  uint32_t epoch_ = 1;
  size_t count_ = 0;  // minimal failures in all groups
  std::vector<Group> groups_;
  // By group: its log's size (in this epoch). With the shape's group in
  // seen_, the fast path reads two small arrays.
  std::vector<Logged> logged_;
  std::vector<Seen> seen_;          // by shape id
  std::vector<uint32_t> ruled_at_;  // by shape id: the epoch in which it was found ruled out
};

}  // namespace suanli
