// Datasets live (docs/datasets.md): the registry of each tenant's datasets,
// where a job's dataset is for the network scheduler (which counts the time
// to move it), and the stager: a thread that copies a job's dataset to the
// center it was sent to, with the configured stage_command (rsync by
// default), before the job reaches that center's queue.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>

#include "base/strings.h"
#include "live/control_impl.h"
#include "live/subprocess.h"

namespace suanli::live::control_detail {

namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxDatasetsPerTenant = 10'000;
constexpr int64_t kMaxDatasetEntries = 10'000'000;  // files and directories measured at registration
constexpr int kStageTimeoutMs = 24 * 3600 * 1000;   // one copy at most
constexpr size_t kStageOutputBytes = 64 * 1024;     // of the command's output kept (its error)

// Bytes in the regular files under `dir`; symbolic links are not followed.
Result<int64_t> DirectoryBytes(const std::string& dir) {
  std::error_code ec;
  int64_t bytes = 0, entries = 0;
  fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec), end;
  if (ec) return IoError("reading {}: {}", dir, ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) return IoError("reading {}: {}", dir, ec.message());
    if (++entries > kMaxDatasetEntries)
      return InvalidArgument("{} holds more than {} files and directories", dir, kMaxDatasetEntries);
    if (it->is_regular_file(ec) && !it->is_symlink(ec)) {
      const auto size = it->file_size(ec);
      if (!ec) bytes += static_cast<int64_t>(size);
    }
  }
  return bytes;
}

std::string Substitute(std::string arg, const StageTask& t) {
  for (const auto& [key, value] : {std::pair<std::string_view, const std::string*>{"{src_center}", &t.from},
                                   {"{dst_center}", &t.to},
                                   {"{src}", &t.src},
                                   {"{dst}", &t.dst}}) {
    for (size_t at = arg.find(key); at != std::string::npos; at = arg.find(key, at + value->size()))
      arg.replace(at, key.size(), *value);
  }
  return arg;
}

// The tenant's directory under a data root: made if missing, and readable
// by the uids jobs run as (the server's own umask may be stricter).
Status MakeReadableDir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return IoError("making {}: {}", dir.string(), ec.message());
  fs::permissions(dir,
                  fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read |
                      fs::perms::others_exec,
                  ec);
  if (ec) return IoError("making {} readable: {}", dir.string(), ec.message());
  return Status::Ok();
}

// A dataset's directory, and the tenant's above it, must be real
// directories under the data root, not symbolic links: the size measured at
// registration, the stage command run as the server, and the read-only view
// a job gets would otherwise reach wherever a link points. A missing
// directory passes (a copy's destination is made by the stage).
Status RefuseLinks(const std::string& dir) {
  const fs::path ds(dir);
  for (const fs::path& p : {ds.parent_path(), ds}) {
    std::error_code ec;
    if (fs::is_symlink(fs::symlink_status(p, ec)))
      return FailedPrecondition(
          fmt::format("{} is a symbolic link: a dataset and its tenant's directory must be real directories under "
                      "the data root",
                      p.string()));
  }
  return Status::Ok();
}

std::string FormatBytes(int64_t b) {
  if (b >= 1'000'000'000) return fmt::format("{:.2f} GB", static_cast<double>(b) / 1e9);
  if (b >= 1'000'000) return fmt::format("{:.1f} MB", static_cast<double>(b) / 1e6);
  return fmt::format("{} bytes", b);
}

}  // namespace

Status ControlPlaneImpl::LoadDatasets() {
  data_roots_.resize(centers_.size());
  for (const CenterConfig& cc : config_.centers)
    if (auto it = center_ids_.find(cc.name); it != center_ids_.end()) data_roots_[it->second] = cc.data_root;
  SUANLI_ASSIGN_OR_RETURN(std::vector<Dataset> all, store_->ListDatasets(""));
  std::lock_guard<std::mutex> lk(ds_mu_);
  for (Dataset& d : all) datasets_[{d.tenant, d.name}] = std::move(d);
  return Status::Ok();
}

std::optional<Dataset> ControlPlaneImpl::FindDataset(const std::string& tenant, const std::string& name) {
  std::lock_guard<std::mutex> lk(ds_mu_);
  auto it = datasets_.find({tenant, name});
  if (it == datasets_.end()) return std::nullopt;
  return it->second;
}

std::string ControlPlaneImpl::DatasetDir(CenterId c, const std::string& tenant, const std::string& name) const {
  if (c.value() >= data_roots_.size() || data_roots_[c].empty()) return "";
  return data_roots_[c] + "/" + tenant + "/" + name;
}

std::string ControlPlaneImpl::DatasetGone(const JobRecord& rec) {
  if (replay_ || rec.spec.dataset.empty() || FindDataset(rec.tenant, rec.spec.dataset)) return "";
  return fmt::format("its dataset {} is not registered any more (deleted since the job was submitted)",
                     rec.spec.dataset);
}

void ControlPlaneImpl::SetJobData(const JobSpec& spec, const std::string& tenant, Job* j) {
  if (spec.dataset.empty()) return;
  const auto d = FindDataset(tenant, spec.dataset);
  if (!d) return;
  const auto c = center_ids_.find(d->center);
  if (c == center_ids_.end()) return;
  j->data_at = net_->CenterPlace(c->second);
  // Even an empty dataset is moved (its directory is made there): at least a byte.
  j->data_gb = static_cast<float>(std::max(static_cast<double>(d->size_bytes) / 1e9, 1e-9));
}

bool ControlPlaneImpl::StartStaging(Active& a, const NetDecision& d) {
  if (replay_ || a.rec.spec.dataset.empty()) return false;
  const auto ds = FindDataset(a.rec.tenant, a.rec.spec.dataset);
  if (!ds) return false;
  const auto from = center_ids_.find(ds->center);
  if (from == center_ids_.end() || from->second == d.center) return false;
  StageTask task;
  task.src = DatasetDir(from->second, a.rec.tenant, ds->name);
  task.dst = DatasetDir(d.center, a.rec.tenant, ds->name);
  if (task.src.empty() || task.dst.empty()) return false;  // no data roots: the modelled time alone
  task.job = a.rec.id;
  task.slot = a.slot;
  task.gen = d.generation;
  task.tenant = a.rec.tenant;
  task.dataset = ds->name;
  task.from = ds->center;
  task.to = centers_[d.center].built->name;
  task.modelled_s = d.transfer_s;
  // A job sent for now reaches the center as soon as its copy ends; one
  // deferred to a later hour, at the later of the two.
  a.staging = Active::Staging{d.generation, !d.deferred};
  if (!d.deferred)
    a.rec.reason = fmt::format("staging its dataset: copying {} ({}) from {} to {}", ds->name,
                               FormatBytes(ds->size_bytes), task.from, task.to);
  {
    std::lock_guard<std::mutex> lk(st_mu_);
    st_todo_.push_back(std::move(task));
  }
  st_cv_.notify_one();
  return true;
}

bool ControlPlaneImpl::ReadyUnlessStaging(JobId slot, uint32_t gen) {
  const int64_t id = slot.value() < by_slot_.size() ? by_slot_[slot] : 0;
  auto it = id == 0 ? active_.end() : active_.find(id);
  if (it == active_.end() || !it->second.staging || it->second.staging->gen != gen) return true;
  it->second.staging->due = true;
  return false;
}

void ControlPlaneImpl::ApplyStaged(WallMs now, PassWork* w) {
  std::vector<StageDone> done;
  {
    std::lock_guard<std::mutex> lk(st_mu_);
    done.swap(st_done_);
  }
  for (StageDone& s : done) {
    const StageTask& t = s.task;
    auto it = active_.find(t.job);
    if (it == active_.end()) continue;  // cancelled meanwhile
    Active& a = it->second;
    if (!a.staging || a.staging->gen != t.gen) continue;  // sent elsewhere since
    const bool due = a.staging->due;
    a.staging.reset();
    if (!s.status.ok()) {
      net_->Withdraw(a.slot, t_);
      Finish(
          a, JobState::kFailed, now,
          fmt::format("staging its dataset {} from {} to {} failed: {}", t.dataset, t.from, t.to, s.status.message()),
          w);
      continue;
    }
    Event(a, "staged",
          fmt::format("dataset {} from {} to {} in {:.2f} s (the dispatcher counted {:.2f} s)", t.dataset, t.from, t.to,
                      s.seconds, t.modelled_s),
          s.ended);
    if (due) net_->Ready(a.slot, t.gen, t_);
  }
}

void ControlPlaneImpl::StartStager() {
  stager_ = std::thread([this] {
    std::unique_lock<std::mutex> lk(st_mu_);
    while (true) {
      st_cv_.wait(lk, [&] { return st_stop_ || !st_todo_.empty(); });
      if (st_stop_) return;
      StageDone done;
      done.task = std::move(st_todo_.front());
      st_todo_.pop_front();
      lk.unlock();
      const StageTask& t = done.task;
      SubprocessOptions o;
      for (const std::string& arg : config_.stage_command) o.argv.push_back(Substitute(arg, t));
      o.timeout_ms = kStageTimeoutMs;
      o.max_output_bytes = kStageOutputBytes;
      o.cancel = &st_cancel_;
      std::error_code ec;
      if (Status links = RefuseLinks(t.src); !links.ok()) {
        done.status = links;
      } else if (Status links_there = RefuseLinks(t.dst); !links_there.ok()) {
        done.status = links_there;
      } else if (!fs::is_directory(t.src, ec)) {
        done.status = FailedPrecondition(fmt::format("its directory {} at {} is missing", t.src, t.from));
      } else if (Status made = MakeReadableDir(fs::path(t.dst).parent_path()); !made.ok()) {
        done.status = made;
      } else {
        auto r = RunSubprocess(o);
        if (!r.ok()) done.status = r.status();
        else if (!r->ok()) done.status = Unavailable("{}", DescribeFailure(o, *r));
        else done.seconds = r->wall_s;
      }
      done.ended = Now();
      if (done.status.ok()) {
        // The registry keeps where copies are.
        std::optional<Dataset> copy;
        {
          std::lock_guard<std::mutex> ds(ds_mu_);
          auto it = datasets_.find({t.tenant, t.dataset});
          if (it != datasets_.end()) {
            auto& cs = it->second.copies;
            std::erase_if(cs, [&](const Dataset::Copy& c) { return c.center == t.to; });
            cs.push_back({t.to, done.ended});
            copy = it->second;
          }
        }
        if (copy) {
          Status st = store_->PutDataset(*copy);
          if (!st.ok())
            spdlog::warn("dataset {} of {}: its copy at {} not recorded: {}", t.dataset, t.tenant, t.to, st.message());
        }
        spdlog::info("job={} dataset {} of {} staged from {} to {} in {:.2f} s", t.job, t.dataset, t.tenant, t.from,
                     t.to, done.seconds);
      } else {
        spdlog::warn("job={} dataset {} of {}: staging from {} to {} failed: {}", t.job, t.dataset, t.tenant, t.from,
                     t.to, done.status.message());
      }
      lk.lock();
      st_done_.push_back(std::move(done));
      lk.unlock();
      Wake();
      lk.lock();
    }
  });
}

void ControlPlaneImpl::StopStager() {
  {
    std::lock_guard<std::mutex> lk(st_mu_);
    st_stop_ = true;
  }
  st_cancel_ = true;
  st_cv_.notify_all();
  if (stager_.joinable()) stager_.join();
}

// --- the API ---

Result<Dataset> ControlPlaneImpl::RegisterDataset(const Caller& caller, Dataset d) {
  if (!ValidDatasetName(d.name))
    return InvalidField("name", "must match {}, got '{}'", kDatasetNameRule, EscapeControls(d.name.substr(0, 80)));
  auto c = center_ids_.find(d.center);
  if (c == center_ids_.end())
    return InvalidField("center", "unknown center '{}' (centers: {})", EscapeControls(d.center.substr(0, 80)),
                        Join(center_names_, ", "));
  d.tenant = caller.tenant;
  d.copies.clear();
  d.created_ms = Now();
  if (const std::string dir = DatasetDir(c->second, d.tenant, d.name); !dir.empty()) {
    SUANLI_RETURN_IF_ERROR(RefuseLinks(dir));
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
      return FailedPrecondition(
          fmt::format("dataset {}: there is no directory {} at center {}: put its files there "
                      "first",
                      d.name, dir, d.center));
    SUANLI_ASSIGN_OR_RETURN(d.size_bytes, DirectoryBytes(dir));
  } else if (d.size_bytes < 0) {
    return InvalidField("size_gb", "center {} has no data root, so the dataset's size must be given", d.center);
  }
  {
    std::lock_guard<std::mutex> lk(ds_mu_);
    if (!datasets_.contains({d.tenant, d.name})) {
      size_t mine = 0;
      for (const auto& [key, x] : datasets_) mine += key.first == d.tenant;
      if (mine >= kMaxDatasetsPerTenant)
        return Status(StatusCode::kResourceExhausted,
                      fmt::format("tenant {} has {} datasets, the most it may register", d.tenant, mine));
    }
  }
  SUANLI_RETURN_IF_ERROR(store_->PutDataset(d));
  {
    std::lock_guard<std::mutex> lk(ds_mu_);
    datasets_[{d.tenant, d.name}] = d;
  }
  spdlog::info("dataset {} of {} registered at {}: {}", d.name, d.tenant, d.center, FormatBytes(d.size_bytes));
  return d;
}

Result<std::vector<Dataset>> ControlPlaneImpl::Datasets(const Caller& caller) {
  std::vector<Dataset> out;
  std::lock_guard<std::mutex> lk(ds_mu_);
  for (const auto& [key, d] : datasets_)
    if (caller.admin || key.first == caller.tenant) out.push_back(d);
  return out;
}

Result<Dataset> ControlPlaneImpl::GetDataset(const Caller& caller, const std::string& name) {
  auto d = FindDataset(caller.tenant, name);
  if (!d) return NotFound("dataset '{}' not found", EscapeControls(name.substr(0, 80)));
  return *d;
}

Status ControlPlaneImpl::DeleteDataset(const Caller& caller, const std::string& name) {
  if (!FindDataset(caller.tenant, name)) return NotFound("dataset '{}' not found", EscapeControls(name.substr(0, 80)));
  std::vector<int64_t> users;
  std::optional<Dataset> gone_from_cache;
  {
    // Both lists at once (a pass moves jobs from one to the other under
    // both), and out of the registry before either lock is let go: a job
    // submitted from now on is refused, and one whose check came just
    // before fails when the pass takes it (TakeIncoming).
    std::lock_guard<std::mutex> lk(mu_);
    std::lock_guard<std::mutex> in(in_mu_);
    for (const auto& [id, a] : active_)
      if (a.rec.tenant == caller.tenant && a.rec.spec.dataset == name) users.push_back(id);
    for (const JobRecord& r : incoming_)
      if (r.tenant == caller.tenant && r.spec.dataset == name) users.push_back(r.id);
    for (const auto& [due, r] : restarting_)  // services' replicas waiting to start again
      if (r.tenant == caller.tenant && r.spec.dataset == name) users.push_back(r.id);
    if (users.empty()) {
      std::lock_guard<std::mutex> ds(ds_mu_);
      if (auto it = datasets_.find({caller.tenant, name}); it != datasets_.end()) {
        gone_from_cache = std::move(it->second);
        datasets_.erase(it);
      }
    }
  }
  if (!users.empty()) {
    std::sort(users.begin(), users.end());
    if (users.size() > 10) users.resize(10);
    return FailedPrecondition(
        fmt::format("dataset {} is in use by pending or running jobs ({}): cancel them or wait for them to end", name,
                    fmt::join(users, ", ")));
  }
  auto deleted = store_->DeleteDataset(caller.tenant, name);
  if (!deleted.ok()) {
    if (gone_from_cache) {  // still in the store: back in the registry
      std::lock_guard<std::mutex> lk(ds_mu_);
      datasets_.emplace(std::make_pair(caller.tenant, name), std::move(*gone_from_cache));
    }
    return deleted.status();
  }
  const bool gone = *deleted;
  if (!gone) return NotFound("dataset '{}' not found", name);
  spdlog::info("dataset {} of {} deleted", name, caller.tenant);
  return Status::Ok();
}

}  // namespace suanli::live::control_detail
