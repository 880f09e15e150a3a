// The live control plane's set-up: the network it runs (centers, backends,
// node slices), the checks on a submitted spec and its core job, tokens.
#include <algorithm>
#include <chrono>
#include <set>

#include "base/strings.h"
#include "io/model_loader.h"
#include "io/sources.h"
#include "live/backend_simulated.h"
#include "live/control_internal.h"

namespace suanli::live::control_detail {

namespace {

// A node probed from a backend, as a network node of center `c`.
Result<Node> ProbedNode(const BackendNode& bn, const std::string& center, const Catalog& catalog, CenterId c,
                        PoolId pool, uint32_t rack, uint32_t pod) {
  Node n;
  n.name = bn.name;
  n.center = c;
  n.pool = pool;
  n.rack = rack;
  n.pod = pod;
  if (bn.name.empty()) return InvalidArgument("center '{}': the backend reports a node without a name", center);
  if (bn.devices < 0 || bn.devices > kMaxDevicesPerNode)
    return InvalidArgument("center '{}': node '{}' reports {} accelerators (0..{} per node are supported)", center,
                           bn.name, bn.devices, kMaxDevicesPerNode);
  if (bn.devices > 0) {
    if (bn.model.empty())
      return InvalidArgument(
          "center '{}': node '{}' reports {} accelerators of no known model (name them in the catalog)", center,
          bn.name, bn.devices);
    auto m = catalog.Find(bn.model);
    if (!m)
      return InvalidArgument(
          "center '{}': node '{}' has accelerators of model '{}', which the catalog does not know (see `suanli "
          "network models`)",
          center, bn.name, bn.model);
    n.model = *m;
    n.devices = static_cast<uint8_t>(bn.devices);
  }
  // Zero means "not reported": it then never limits a placement.
  constexpr int64_t kUnlimited = int64_t{1} << 40;
  n.cpu_milli = bn.cpu_milli > 0 ? bn.cpu_milli : kUnlimited;
  n.mem_mib = bn.mem_mib > 0 ? bn.mem_mib : kUnlimited;
  return n;
}

// The link of an agent's center, on the system's clocks (its epoch is
// read from the store by ControlPlaneImpl::InitAgents).
std::shared_ptr<AgentLink> MakeAgentLink(const ServerConfig& config, const std::string& center) {
  AgentLinkOptions o;
  o.poll_ms = config.agent_poll_ms;
  o.follow_up_ms = config.agent_follow_up_ms > 0 ? config.agent_follow_up_ms : config.agent_poll_ms;
  o.lease_ms = int64_t{config.center_timeout_s} * 1000;
  o.lost_after_ms = std::max<int64_t>(3 * o.poll_ms, 2000);
  auto steady = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  };
  auto clock = config.clock;
  auto wall = [clock] {
    if (clock) return WallMs{clock() / 1000};
    return WallMs{
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count()};
  };
  return std::make_shared<AgentLink>(center, o, steady, wall);
}

}  // namespace

Result<BuiltNetwork> BuildNetwork(const ServerConfig& config, const Catalog& catalog) {
  BuiltNetwork out;
  Network file;
  if (!config.network.empty()) {
    auto n = LoadNetworkSpec(config.network, "", catalog);
    if (!n.ok()) return n.status().Wrap("network");
    file = std::move(*n);
  }
  std::vector<CenterConfig> centers = config.centers;
  if (config.network.empty() && centers.empty()) {
    CenterConfig local;
    local.name = "local";
    local.backend.kind = "local";
    centers.push_back(local);
  }
  // Each center's backend: the network's centers are simulated unless named.
  IdVector<CenterId, BackendConfig> backend(file.centers.size());
  for (auto& b : backend) b.kind = "simulated";
  // Every center's data root, which a local center's sandbox hides.
  std::vector<std::string> data_roots;
  for (const CenterConfig& cc : centers)
    if (!cc.data_root.empty()) data_roots.push_back(cc.data_root);
  for (CenterConfig& cc : centers)
    if (cc.backend.kind == "local") cc.backend.hidden_data_roots = data_roots;
  Network& net = out.network;
  net.name = file.name.empty() ? "live" : file.name;
  net.centers = file.centers;
  net.pools = file.pools;
  net.links = file.links;
  net.regions = file.regions;
  net.num_racks = file.num_racks;
  net.num_pods = file.num_pods;
  for (const CenterConfig& cc : centers) {
    if (auto id = file.FindCenter(cc.name)) {
      backend[*id] = cc.backend;
      continue;
    }
    if (cc.backend.kind == "simulated" || cc.backend.kind == "agent")
      return InvalidField("centers",
                          "'{}' is {} but the network '{}' has no center of that name (its nodes come from there)",
                          cc.name, cc.backend.kind, config.network);
    Center c;
    c.name = cc.name;
    c.region = cc.name;
    c.pue = kDefaultPue;
    c.price_per_kwh.fill(kDefaultPrice);
    c.carbon_g_per_kwh.fill(kDefaultCarbon);
    net.centers.push_back(c);
    backend.push_back(cc.backend);
  }
  // Nodes: the file's for simulated and agents' centers; the backend's for
  // the others.
  for (const Node& n : file.nodes)
    if (backend[n.center].kind == "simulated" || backend[n.center].kind == "agent") net.nodes.push_back(n);
  out.centers.resize(net.centers.size());
  for (CenterId c : net.centers.ids()) {
    auto bc = std::make_unique<BuiltCenter>();
    bc->name = net.centers[c].name;
    bc->kind = backend[c].kind;
    BackendCapacity cap;
    if (bc->kind == "simulated") cap = CapacityOf(net, c, catalog);
    if (bc->kind == "agent") {
      bc->backend = std::make_unique<AgentBackend>(MakeAgentLink(config, bc->name));
      out.centers[c] = std::move(bc);
      continue;
    }
    auto be = MakeBackend(backend[c], bc->name, config.data_dir, cap);
    if (!be.ok()) return be.status().Wrap(fmt::format("center '{}' ({})", bc->name, bc->kind));
    bc->backend = std::move(*be);
    if (bc->kind != "simulated") {
      auto probed = bc->backend->Probe();
      if (!probed.ok())
        return probed.status().Wrap(fmt::format("center '{}' ({}): the backend does not answer", bc->name, bc->kind));
      const PoolId pool = net.pools.next_id();
      net.pools.push_back(Pool{bc->kind, c});
      const uint32_t rack = net.num_racks++, pod = net.num_pods++;
      std::set<std::string> seen;
      for (const BackendNode& bn : probed->nodes) {
        if (!seen.insert(bn.name).second)
          return InvalidArgument("center '{}': the backend reports node '{}' twice", bc->name, bn.name);
        SUANLI_ASSIGN_OR_RETURN(Node n, ProbedNode(bn, bc->name, catalog, c, pool, rack, pod));
        net.nodes.push_back(std::move(n));
      }
    }
    out.centers[c] = std::move(bc);
  }
  if (net.centers.empty()) return InvalidArgument("the server's network has no centers");
  {
    Status st = net.Validate(catalog);
    if (!st.ok()) return st.Wrap("network of the server");
  }
  // Slices, as in the simulator: each center's scheduler sees its own nodes.
  for (NodeId g : net.nodes.ids()) {
    BuiltCenter& bc = *out.centers[net.nodes[g].center];
    const NodeId local = bc.global.next_id();
    bc.global.push_back(g);
    bc.node_index.emplace(net.nodes[g].name, local);
  }
  for (CenterId c : net.centers.ids()) {
    BuiltCenter& bc = *out.centers[c];
    bc.net.name = net.name + "/" + bc.name;
    bc.net.centers = net.centers;
    bc.net.pools = net.pools;
    bc.net.num_racks = net.num_racks;
    bc.net.num_pods = net.num_pods;
    bc.net.nodes.reserve(bc.global.size());
    for (NodeId g : bc.global) bc.net.nodes.push_back(net.nodes[g]);
  }
  return out;
}

Job CoreJob(const JobSpec& spec, const Catalog& catalog, TenantId tenant, Time submit) {
  Job j;
  j.tenant = tenant;
  j.user = tenant.value();  // a live tenant is its own only user
  j.submit = submit;
  j.num_gpus = spec.gpus.devices();
  j.gpu_milli = static_cast<uint16_t>(spec.gpus.per_device_milli());  // a share of its one device
  j.nodes = static_cast<uint16_t>(std::min<uint32_t>(spec.nodes, kMaxNodes));
  j.cpu_milli = spec.cpu_milli;
  j.mem_mib = spec.mem_mib;
  for (const auto& m : spec.models)
    if (auto id = catalog.Find(m)) j.models |= ModelMask{1} << *id;
  for (const auto& s : spec.stacks)
    if (auto id = catalog.FindStack(s)) j.stacks |= StackMask{1} << *id;
  const std::string cls = ToLower(spec.workload_class);
  if (cls == "training" || cls == "inference") j.cls = WorkloadClass::kTransformer;
  else if (auto c = ParseClass(cls)) j.cls = *c;
  // An inference job is never preempted; a service's replicas
  // (docs/services.md) neither, and they run with no time limit: their
  // estimate is the longest a job may ask for.
  j.service = cls == "inference" || spec.replicas > 0;
  j.latency_ms = static_cast<float>(spec.latency_ms);
  j.work = static_cast<double>(spec.replicas > 0 ? kMaxTimeLimitS : spec.time_limit_s);
  j.estimate = j.work;
  j.priority = spec.priority;
  j.checkpoint = Seconds(spec.checkpoint_s);
  if (auto d = ParseRfc3339(spec.deadline)) j.deadline = CoreTime(*d);
  return j;
}

bool ValidTenantName(std::string_view s) {
  if (s.empty() || s.size() > 40) return false;
  if (!(s[0] >= 'a' && s[0] <= 'z')) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  return true;
}

}  // namespace suanli::live::control_detail
