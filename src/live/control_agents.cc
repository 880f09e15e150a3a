// The live control plane's agents' centers (docs/network.md): their
// credentials, their links' epochs, and the agents' syncs.
#include <fcntl.h>
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "live/control_impl.h"

namespace suanli::live::control_detail {

namespace {

// Appends to a regular file (not through a link), keeping it within `cap`
// bytes.
Status AppendCapped(const std::string& path, std::string_view data, int64_t cap) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0640);
  if (fd < 0) return IoError("cannot open {}: {}", path, std::strerror(errno));
  struct stat st {};
  Status out = Status::Ok();
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    out = IoError("{} is not a regular file", path);
  } else if (st.st_size < cap) {
    const size_t n = std::min<size_t>(data.size(), static_cast<size_t>(cap - st.st_size));
    if (::write(fd, data.data(), n) != static_cast<ssize_t>(n))
      out = IoError("writing {}: {}", path, std::strerror(errno));
  }
  ::close(fd);
  return out;
}

std::string CredentialKey(const std::string& center) { return "agent-credential/" + center; }
std::string EpochKey(const std::string& center) { return "agent-epoch/" + center; }

}  // namespace

Status ControlPlaneImpl::InitAgents() {
  std::lock_guard<std::mutex> lk(agents_mu_);
  for (const CenterRt& x : centers_) {
    auto* ab = dynamic_cast<AgentBackend*>(x.built->backend.get());
    if (!ab) continue;
    const std::string name = x.built->name;
    AgentRt rt;
    rt.link = ab->link();
    SUANLI_ASSIGN_OR_RETURN(auto epoch, store_->GetSetting(EpochKey(name)));
    Store* store = store_.get();
    rt.link->Bind(epoch ? ParseInt(*epoch).value_or(1) : 1, [store, name](int64_t e) {
      Status st = store->PutSetting(EpochKey(name), std::to_string(e));
      if (!st.ok()) spdlog::error("center={} cannot keep its agent's epoch {}: {}", name, e, st.message());
    });
    SUANLI_ASSIGN_OR_RETURN(auto cred, store_->GetSetting(CredentialKey(name)));
    if (cred) rt.credential_sha256 = *cred;
    else spdlog::warn("center={} has no agent credential yet: issue one with `suanli centers add {}`", name, name);
    agents_[name] = std::move(rt);
  }
  return Status::Ok();
}

Result<std::string> ControlPlaneImpl::IssueAgentCredential(const Caller& caller, const std::string& center) {
  if (!caller.admin) return PermissionDenied("only the admin issues agents' credentials");
  std::lock_guard<std::mutex> lk(agents_mu_);
  auto it = agents_.find(center);
  if (it == agents_.end()) {
    if (center_ids_.contains(center))
      return FailedPrecondition(fmt::format(
          "center '{}' is not run by an agent: give it `backend: agent` in the server's configuration", center));
    return NotFound(
        "no center '{}' (an agent's center is named in the server's configuration with `backend: agent`, "
        "its nodes in the network file)",
        EscapeControls(center.substr(0, 60)));
  }
  SUANLI_ASSIGN_OR_RETURN(std::string token, RandomToken());
  const std::string hash = Sha256Hex(token);
  SUANLI_RETURN_IF_ERROR(store_->PutSetting(CredentialKey(center), hash));
  it->second.credential_sha256 = hash;
  spdlog::info("center={} a new agent credential issued by {}", center, caller.tenant);
  return token;
}

std::shared_ptr<AgentLink> ControlPlaneImpl::AgentLinkFor(const std::string& center, const std::string& credential) {
  std::lock_guard<std::mutex> lk(agents_mu_);
  auto it = agents_.find(center);
  if (credential.empty() || credential.size() > 1024) return nullptr;
  const std::string hash = Sha256Hex(credential);
  // Compared in constant time; an unknown center answers as a wrong
  // credential does.
  if (it == agents_.end() || it->second.credential_sha256.size() != hash.size() ||
      CRYPTO_memcmp(it->second.credential_sha256.data(), hash.data(), hash.size()) != 0)
    return nullptr;
  return it->second.link;
}

Status ControlPlaneImpl::AuthenticateAgent(const std::string& center, const std::string& credential) {
  if (!AgentLinkFor(center, credential))
    return PermissionDenied("not the credential of the agent of center '{}'", EscapeControls(center.substr(0, 60)));
  return Status::Ok();
}

Result<AgentSyncResponse> ControlPlaneImpl::AgentSync(const std::string& center, const std::string& credential,
                                                      const AgentSyncRequest& req) {
  auto link = AgentLinkFor(center, credential);
  if (!link)
    return PermissionDenied("not the credential of the agent of center '{}'", EscapeControls(center.substr(0, 60)));
  std::vector<AgentEvent> outputs;
  AgentSyncResponse res = link->Sync(req, &outputs);
  if (!outputs.empty()) TakeAgentOutputs(center, outputs);
  if (!req.events.empty() || req.capacity) Wake();
  return res;
}

void ControlPlaneImpl::TakeAgentOutputs(const std::string& center, const std::vector<AgentEvent>& outputs) {
  const std::optional<CenterId> c = FindCenter(center);
  if (!c) return;
  {
    // A checkpoint mark: the run's work up to it is kept, as for a local
    // run's mark (control_checkpoint.cc), if the job still runs there.
    std::lock_guard<std::mutex> lk(mu_);
    const WallMs now = Now();
    for (const AgentEvent& e : outputs) {
      if (e.kind != AgentEvent::Kind::kCheckpoint) continue;
      auto it = active_.find(e.ev.job_id);
      if (it == active_.end() || CenterOf(it->second) != *c || !Running(it->second)) continue;
      Active& a = it->second;
      const WallMs at = std::min(e.ev.at_ms, now);
      if (a.rec.start_ms.ms() <= 0 || at < a.rec.start_ms || at <= a.rec.checkpoint_ms) continue;
      a.rec.checkpoint_ms = at;
      Event(a, "checkpointed", fmt::format("at {} (its checkpoint mark at {}, from its agent)", FormatMs(at), center),
            at);
      a.checkpoint_reported = true;  // written at the next pass
    }
  }
  // Logs: appended to the job's files at the hub, as a local run's are
  // written, up to kMaxAgentLogBytes a stream. Only runs the hub launched
  // there reach this (AgentLink::Sync), even ones ended meanwhile.
  for (const AgentEvent& e : outputs) {
    if (e.kind != AgentEvent::Kind::kLog || e.data.empty()) continue;
    if (e.stream != "stdout" && e.stream != "stderr") continue;
    const std::string dir = JobDir(e.ev.job_id);
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    Status st = AppendCapped(dir + "/" + e.stream, e.data, kMaxAgentLogBytes);
    if (!st.ok()) spdlog::warn("center={} job={} its {}: {}", center, e.ev.job_id, e.stream, st.message());
  }
}

}  // namespace suanli::live::control_detail
