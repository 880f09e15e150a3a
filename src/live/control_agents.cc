// The live control plane's agents' centers (docs/network.md): their
// credentials, their links' epochs, and the agents' syncs.
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include "live/control_impl.h"

namespace suanli::live::control_detail {

namespace {

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
  AgentSyncResponse res = link->Sync(req);
  if (!req.events.empty() || req.capacity) Wake();
  return res;
}

}  // namespace suanli::live::control_detail
