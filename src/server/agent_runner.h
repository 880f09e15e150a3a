// `suanli agent`: the center's end of the link to a hub (docs/network.md).
//
// It runs one backend (local, slurm or simulated) as the hub would, and
// connects out to the hub: a sync at least every poll_ms the hub sets, more
// often while it has events to send or commands to apply. Its own store
// (agent_store.h) keeps what must survive it: the events not acknowledged
// (sent again after a reconnect; the hub takes each seq once), the runs it
// holds (adopted from the backend after a restart), and the last command it
// applied (commands are applied once per hub process; a launch it already
// holds is not launched again).
//
// Fencing: when it has not reached the hub for fence_ms (the hub says how
// long: half its requeue delay), it stops every run it holds and reports
// them stopped by the center, so a run the hub may requeue elsewhere is no
// longer running here.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "base/status.h"
#include "live/backend.h"

namespace suanli::server {

struct AgentOptions {
  std::vector<std::string> hubs;  // http(s)://HOST:PORT, tried in turn
  std::string center;
  std::string credential;
  std::string ca_cert;  // HTTPS: trust this CA (PEM)
  std::string data_dir;
  live::BackendConfig backend;     // kind: local | slurm | simulated
  live::BackendCapacity capacity;  // simulated: its nodes
  int64_t fence_ms = 15'000;       // until the hub has said
  int64_t tick_ms = 100;           // how often it polls its backend
  int client_timeout_s = 5;        // one sync's round trip at most
  // The center's own policy: it refuses a job whose time limit is longer
  // (0 = any), as a Slurm partition's MaxTime would; the hub places it
  // elsewhere.
  int64_t max_time_limit_s = 0;
};

// Runs until `stop` is set. An error only when it cannot start (its store,
// its backend); the hub not answering is retried for ever.
Status RunAgent(const AgentOptions& options, const std::atomic<bool>& stop);

}  // namespace suanli::server
