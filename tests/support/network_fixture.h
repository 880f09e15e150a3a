// Two centers of one model and a network scheduler over them, driven
// directly as the live plane drives it (tests of the core's network
// scheduler and of its forecasts).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/network/network_scheduler.h"
#include "support/fixtures.h"

namespace suanli::testing {

// Centers "east" and "west", each `nodes` x 8 devices of model A.
inline Network TwoCenters(int nodes = 1) {
  Network net;
  net.name = "two";
  for (const char* name : {"east", "west"}) {
    Center c;
    c.name = name;
    c.pue = 1.2;
    const CenterId id = net.centers.next_id();
    net.centers.push_back(c);
    net.pools.push_back({std::string(name) + "-pool", id});
    for (int i = 0; i < nodes; ++i) {
      Node n;
      n.name = std::string(name) + std::to_string(i);
      n.center = id;
      n.pool = PoolId{id.value()};  // one pool per center
      n.model = 0;
      n.devices = 8;
      n.cpu_milli = 64000;
      n.mem_mib = 512 * 1024;
      n.rack = n.pod = static_cast<uint32_t>(net.nodes.size());
      net.nodes.push_back(n);
    }
  }
  net.links.push_back({CenterId{0}, CenterId{1}, 5, 10});
  net.num_racks = net.num_pods = static_cast<uint32_t>(net.nodes.size());
  return net;
}

struct NetFixture {
  Catalog cat = TestCatalog();
  Network net = TwoCenters();
  Workload empty;
  std::unique_ptr<NetworkScheduler> ns;
  explicit NetFixture(const std::string& policy = "fifo", bool confirm_stops = true, int max_restarts = 100,
                      Duration min_run = 0) {
    NetworkOptions opt;
    opt.scheduler.min_run = min_run;
    opt.confirm_stops = confirm_stops;
    opt.max_restarts = max_restarts;
    opt.task_mix_from_workload = false;
    auto s = NetworkScheduler::Create(empty, net, cat, *ParsePolicySpec(policy), opt);
    EXPECT_TRUE(s.ok()) << s.status().message();
    ns = std::move(*s);
  }
  JobId Add(uint32_t gpus, double work_s, int priority = 0) {
    Job j = MakeJob(0, gpus, work_s);
    j.priority = priority;
    j.tenant = ns->InternTenant("t");
    return ns->AddJob(j);
  }
  std::vector<NetDecision> Take() {
    std::vector<NetDecision> out;
    out.swap(ns->decisions());
    return out;
  }
  // The one decision of `kind` for `job` among `ds` (fails the test if not one).
  static const NetDecision* Find(const std::vector<NetDecision>& ds, NetDecision::Kind kind, JobId job) {
    const NetDecision* found = nullptr;
    for (const auto& d : ds)
      if (d.kind == kind && d.job == job) {
        EXPECT_EQ(found, nullptr) << "two decisions of one kind for job " << job;
        found = &d;
      }
    return found;
  }
};

}  // namespace suanli::testing
