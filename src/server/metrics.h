// The server's Prometheus metrics (text exposition format 0.0.4), served at
// /metrics: queue and running jobs and accelerators per center, utilisation
// per model, the scheduling pass's duration histogram, job counters and HTTP
// responses by status code. docs/server.md lists them.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "live/control.h"

namespace suanli::server {

// Responses by HTTP status (suanli_http_requests_total{code}).
class HttpCounters {
 public:
  void Count(int status) {
    if (status >= 100 && status < 600) counts_[static_cast<size_t>(status)].fetch_add(1, std::memory_order_relaxed);
  }
  int64_t Get(int status) const {
    return status >= 100 && status < 600 ? counts_[static_cast<size_t>(status)].load(std::memory_order_relaxed) : 0;
  }

 private:
  std::array<std::atomic<int64_t>, 600> counts_{};
};

// The Prometheus text page.
std::string RenderMetrics(const std::vector<live::CenterView>& centers, const live::PassStats& stats,
                          const HttpCounters& http);

// A label value escaped for the exposition format (\\, \" and \n).
std::string EscapeLabel(const std::string& v);

}  // namespace suanli::server
