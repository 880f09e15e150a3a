// Runs independent pieces of work on several threads: the one way the
// project's batch commands (sim's policies, pack's runs and trace loads) use
// more than one core. (The HTTP server's worker pool is part of its event
// loop, http_server.h.)
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <functional>
#include <thread>
#include <vector>

namespace suanli {

// Calls fn(i) for every i in [0, n), each once, on up to `threads` threads
// (0 = one per core; never more than n), the caller's thread among them; i
// are taken in increasing order as threads become free. Returns when all
// are done. `on_thread_end` runs on each extra thread before it ends (to
// free per-thread state). fn must not throw.
inline void ParallelFor(size_t n, unsigned threads, const std::function<void(size_t)>& fn,
                        const std::function<void()>& on_thread_end = {}) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(std::min<size_t>(threads, std::max<size_t>(n, 1)));
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < n; i = next++) fn(i);
  };
  std::vector<std::thread> pool;
  pool.reserve(threads - 1);
  for (unsigned t = 1; t < threads; ++t)
    pool.emplace_back([&] {
      worker();
      if (on_thread_end) on_thread_end();
    });
  worker();
  for (auto& t : pool) t.join();
}

}  // namespace suanli
