// Small in-code catalogs, networks and workloads for tests.
#pragma once

#include <initializer_list>
#include <set>
#include <string>
#include <vector>

#include "base/rng.h"
#include "core/model/catalog.h"
#include "core/model/job.h"
#include "core/model/network.h"

namespace suanli::testing {

// The jobs with these ids, to compare with a set of job ids.
inline std::set<JobId> JobSet(std::initializer_list<uint32_t> ids) {
  std::set<JobId> out;
  for (uint32_t id : ids) out.insert(JobId{id});
  return out;
}

// Two CUDA models (fast "A", slow "B") and one CANN model "C".
inline Catalog TestCatalog() {
  Catalog c;
  int cuda = *c.AddStack("cuda");
  int cann = *c.AddStack("cann");
  AcceleratorModel a;
  a.name = "A";
  a.stacks = 1u << cuda;
  a.speed = {1, 1, 1, 1, 1};
  (void)c.AddModel(a);
  AcceleratorModel b;
  b.name = "B";
  b.stacks = 1u << cuda;
  b.speed = {0.5, 0.5, 0.5, 0.5, 0.5};
  (void)c.AddModel(b);
  AcceleratorModel x;
  x.name = "C";
  x.stacks = 1u << cann;
  x.speed = {0.8, 0.8, 0.8, 0.8, 0.8};
  (void)c.AddModel(x);
  return c;
}

// `groups` of (model, nodes, devices per node); 32 cores and 256 GiB per node;
// 4 nodes per rack, 2 racks per pod. Model kNoModel = CPU-only nodes.
struct NodeGroup {
  ModelId model;
  int nodes;
  int devices;
};
inline Network TestNetwork(const std::vector<NodeGroup>& groups) {
  Network net;
  net.name = "test";
  Center c;
  c.name = "dc";
  c.pue = 1.2;
  net.centers.push_back(c);
  net.pools.push_back({"pool", CenterId{0}});
  for (const auto& g : groups) {
    for (int i = 0; i < g.nodes; ++i) {
      Node n;
      n.name = "n" + std::to_string(net.nodes.size());
      n.model = g.model;
      n.devices = static_cast<uint8_t>(g.devices);
      n.cpu_milli = 32000;
      n.mem_mib = 256 * 1024;
      n.rack = static_cast<uint32_t>(net.nodes.size() / 4);
      n.pod = n.rack / 2;
      net.nodes.push_back(n);
    }
  }
  net.num_racks = static_cast<uint32_t>((net.nodes.size() + 3) / 4);
  net.num_pods = (net.num_racks + 1) / 2;
  return net;
}

inline Job MakeJob(Time submit, uint32_t gpus, double work_s, uint16_t milli = 1000) {
  Job j;
  j.submit = submit;
  j.num_gpus = gpus;
  j.gpu_milli = milli;
  j.cpu_milli = 1000 * std::max<uint32_t>(1, gpus);
  j.mem_mib = 4096;
  j.work = work_s;
  return j;
}

// A random mix: shared, single, multi-device and multi-node gangs, some with
// model or stack constraints, some CPU-only, a few that can never fit.
inline Workload RandomWorkload(uint64_t seed, int n, const Catalog& catalog, bool with_impossible = true) {
  Rng r(seed);
  Workload w;
  w.name = "random";
  w.tenants.Intern("t0");
  w.tenants.Intern("t1");
  w.tenants.Intern("t2");
  w.users.Intern("u0");
  w.users.Intern("u1");
  Time t = 0;
  for (int i = 0; i < n; ++i) {
    t += Seconds(static_cast<int64_t>(r.Below(120)));
    uint64_t kind = r.Below(100);
    Job j;
    if (kind < 20)
      j = MakeJob(t, 1, 60 + static_cast<double>(r.Below(3000)), static_cast<uint16_t>(100 + 100 * r.Below(9)));
    else if (kind < 55) j = MakeJob(t, 1, 60 + static_cast<double>(r.Below(5000)));
    else if (kind < 80) j = MakeJob(t, static_cast<uint32_t>(2 << r.Below(2)), 60 + static_cast<double>(r.Below(8000)));
    else if (kind < 90)
      j = MakeJob(t, static_cast<uint32_t>(8 + 4 * r.Below(4)), 60 + static_cast<double>(r.Below(10000)));
    else if (kind < 95) j = MakeJob(t, 0, 60 + static_cast<double>(r.Below(2000)));
    else if (with_impossible && kind < 97) j = MakeJob(t, 1000, 100);
    else j = MakeJob(t, 1, 500);
    if (r.Below(10) == 0) j.models = ModelMask{1} << r.Below(catalog.size());
    if (r.Below(10) == 0) j.stacks = 1u << r.Below(catalog.stacks().size());
    j.tenant = TenantId(static_cast<uint32_t>(r.Below(3)));
    j.user = static_cast<uint32_t>(r.Below(2));
    j.cls = static_cast<WorkloadClass>(r.Below(kNumClasses));
    w.jobs.push_back(j);
  }
  w.SortBySubmit();
  return w;
}

}  // namespace suanli::testing
