#include "replay/replay.h"

#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <climits>
#include <cmath>
#include <filesystem>
#include <queue>

#include "core/policy/place/fragmentation.h"
#include "io/model_loader.h"
#include "live/control_impl.h"
#include "sim/recorder.h"

namespace suanli {
namespace {

namespace fs = std::filesystem;
using live::control_detail::ControlPlaneImpl;

// Hands what the control plane decides and ends to the Recorder.
class Observer final : public live::control_detail::ReplayObserver {
 public:
  Observer(Recorder& rec, const NetworkScheduler& net, FailureDraws& failures)
      : rec_(rec), net_(net), failures_(failures) {}
  void Decided(const NetDecision& d, Time t) override {
    if (st_.ok()) st_ = rec_.Decided(d, t);
  }
  void Finished(JobId slot, const RunEnd& end, Time t) override {
    if (st_.ok()) st_ = rec_.Finished(slot, end, t);
  }
  void Failed(JobId slot, const RunEnd& end, Time t) override {
    if (st_.ok()) st_ = rec_.Failed(slot, end, t);
  }
  int64_t FailAfterUs(const NetDecision& start) override {
    const Duration d = failures_.FailsAfter(net_.devices(start.job), start.run);
    return d == kNever ? 0 : d;
  }
  const Status& status() const { return st_; }

 private:
  Recorder& rec_;
  const NetworkScheduler& net_;
  FailureDraws& failures_;  // drawn as the simulator draws them, in the order runs start
  Status st_;
};

// The simulator's center outages, scheduled (the network file's) and random
// (FailureDraws), in its order: by time, then as they were drawn. Overlapping
// outages of one center keep it away until the last one ends.
class Outages {
 public:
  Outages(const Network& network, FailureDraws& failures, Time t0)
      : failures_(failures), depth_(network.centers.size(), 0) {
    for (const auto& o : network.outages) Push(o.start, o.center, true, o.duration);
    if (failures_.outages())
      for (CenterId c : network.centers.ids()) Random(c, t0);
  }
  Time next() const { return events_.empty() ? kNever : events_.top().t; }
  // Sends away, or brings back, the centers whose outages start or end at t.
  Status At(Time t, ControlPlaneImpl& cp, Recorder& rec) {
    while (!events_.empty() && events_.top().t == t) {
      const Event e = events_.top();
      events_.pop();
      if (e.start) {
        rec.Outage();
        Push(t + e.len, e.center, false, 0);
        if (depth_[e.center]++ == 0) SUANLI_RETURN_IF_ERROR(cp.SetCenterAway(e.center, true, t));
      } else if (--depth_[e.center] == 0) {
        SUANLI_RETURN_IF_ERROR(cp.SetCenterAway(e.center, false, t));
        if (failures_.outages() && rec.open() > 0) Random(e.center, t);
      }
    }
    return Status::Ok();
  }

 private:
  struct Event {
    Time t;
    uint64_t seq;
    CenterId center;
    bool start;
    Duration len;
    bool operator>(const Event& o) const { return t > o.t || (t == o.t && seq > o.seq); }
  };
  void Push(Time t, CenterId c, bool start, Duration len) { events_.push({t, seq_++, c, start, len}); }
  void Random(CenterId c, Time after) {
    const auto [at, len] = failures_.NextOutage(after);
    Push(at, c, true, len);
  }

  FailureDraws& failures_;
  IdVector<CenterId, int> depth_;  // outages going on, per center
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
  uint64_t seq_ = 0;
};

// A directory for the store: the caller's, or a temporary one removed at the end.
class StoreDir {
 public:
  static Result<StoreDir> Make(const std::string& dir) {
    StoreDir d;
    if (!dir.empty()) {
      d.path_ = dir;
      return d;
    }
    std::string tmpl = (fs::temp_directory_path() / "suanli-replay-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) return IoError("replay: cannot create a temporary directory for the store");
    d.path_ = tmpl;
    d.remove_ = true;
    return d;
  }
  StoreDir() = default;
  StoreDir(StoreDir&& o) noexcept : path_(std::move(o.path_)), remove_(std::exchange(o.remove_, false)) {}
  ~StoreDir() {
    std::error_code ec;
    if (remove_) fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool remove_ = false;
};

// How a trace's job shows in the store: a label of its shape (the control
// plane runs the core job itself).
live::JobSpec SpecOf(const Job& j, const std::string& name, const Catalog& catalog) {
  live::JobSpec s;
  s.name = name;
  s.command = {"replay"};
  s.gpus = j.IsShared() ? live::Gpus::FromMilli(j.gpu_milli) : live::Gpus(j.num_gpus);
  s.nodes = std::max<uint32_t>(1, j.nodes);  // a gang's nodes (0, "any", is one node live)
  s.cpu_milli = j.cpu_milli;
  s.mem_mib = j.mem_mib;
  for (ModelMask m = j.models; m; m &= m - 1) s.models.push_back(catalog.model(std::countr_zero(m)).name);
  s.time_limit_s = 0;  // no limit: it runs as long as the scheduler expects
  s.duration_s = static_cast<int64_t>(std::ceil(j.work));
  s.priority = j.priority;
  return s;
}

}  // namespace

std::string ReplayUnsupported(const SimOptions& options) {
  if (options.scheduler.allow_multi_node) return "jobs that span nodes (run with one node per job)";
  return "";
}

Result<SimResult> Replay(const Workload& workload, const std::string& network_spec, const Network& network,
                         const Catalog& catalog, const PolicySpec& policy, const SimOptions& options,
                         const std::string& data_dir) {
  if (std::string why = ReplayUnsupported(options); !why.empty())
    return InvalidArgument("replay: the live plane does not run {} yet", why);
  if (&catalog != &BuiltinCatalog()) return InvalidArgument("replay: the live plane runs the built-in catalog");
  SUANLI_ASSIGN_OR_RETURN(StoreDir dir, StoreDir::Make(data_dir));

  std::atomic<int64_t> clock{workload.jobs.empty() ? 0 : workload.jobs.front().submit};
  live::ServerConfig config;
  config.data_dir = dir.path();
  config.network = network_spec;
  config.policy = policy.text.empty() ? policy.Canonical() : policy.text;
  config.dispatch = options.dispatch.text.empty() ? options.dispatch.name : options.dispatch.text;
  config.durable = false;
  config.clock = [&clock] { return clock.load(); };
  SUANLI_RETURN_IF_ERROR(live::ValidateServerConfig(config));
  std::error_code ec;
  fs::create_directories(fs::path(config.data_dir) / "jobs", ec);
  if (ec) return IoError("replay: cannot create '{}': {}", config.data_dir, ec.message());
  live::StoreOptions so;
  so.synchronous_full = false;
  SUANLI_ASSIGN_OR_RETURN(auto store, live::Store::Open((fs::path(config.data_dir) / "suanli.db").string(), so));
  SUANLI_ASSIGN_OR_RETURN(auto built, live::control_detail::BuildNetwork(config, catalog));
  if (built.network.nodes.size() != network.nodes.size() || built.network.centers.size() != network.centers.size())
    return InvalidArgument("replay: network '{}' loads differently in the live plane", network_spec);

  live::control_detail::ReplaySetup setup;
  setup.base = workload;
  setup.base.jobs.clear();
  setup.base.names.clear();
  setup.options = NetworkOptionsOf(options);
  // The control plane starts with no jobs: its placers get the trace's task
  // mix from here, as the simulator's get it from the whole workload.
  setup.options.task_mix = std::make_shared<const TaskMix>(ComputeTaskMix(workload));
  setup.start_hour = options.start_hour;
  auto cp = std::make_unique<ControlPlaneImpl>(config, std::move(store), std::move(built));
  cp->SetReplay(&setup);
  SUANLI_RETURN_IF_ERROR(cp->Init());
  Recorder rec(workload, network, catalog, policy, options, cp->network_scheduler());
  FailureDraws failures(options);
  Observer observer(rec, cp->network_scheduler(), failures);
  setup.observer = &observer;
  Outages outages(network, failures, clock.load());
  cp->StartStore();

  const size_t n = workload.jobs.size();
  size_t next = 0, reported = 0;
  Time now = clock.load();
  Status st;
  while (rec.open() > 0 && st.ok()) {
    Time t = std::min(next < n ? workload.jobs.vec()[next].submit : kNever, outages.next());
    if (int64_t due = cp->NextEventUs(); due != INT64_MAX) t = std::min<Time>(t, std::max<Time>(due, now));
    if (t == kNever) break;
    now = t;
    clock.store(t);
    rec.Advance(t);
    st = outages.At(t, *cp, rec);
    for (; next < n && workload.jobs.vec()[next].submit == t; ++next) {
      const JobId i(static_cast<uint32_t>(next));
      const Job& j = workload.jobs[i];
      auto id = cp->SubmitTraceJob("t" + std::to_string(j.tenant.value()), SpecOf(j, workload.JobName(i), catalog), j);
      if (!id.ok()) st = id.status();
    }
    cp->PassNow();
    cp->Flush();
    if (options.reasons) rec.Explain(cp->mutable_network_scheduler(), t);
    rec.Passed();
    if (!observer.status().ok()) st = observer.status();
    if (options.progress && n && next * 200 / n > reported) {
      reported = next * 200 / n;
      options.progress(static_cast<double>(next) / static_cast<double>(n));
    }
  }
  if (st.ok()) {
    cp->GiveUpHeld();
    st = observer.status();
  }
  cp->Stop();
  SUANLI_RETURN_IF_ERROR(st);
  return rec.Finish();
}

}  // namespace suanli
