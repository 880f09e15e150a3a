#include "live/cgroup.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "base/strings.h"

namespace suanli::live {
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  if (!in) return "";
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

bool WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  if (!out) return false;
  out << text;
  out.flush();
  return static_cast<bool>(out);
}

// "/sys/fs/cgroup/a\040b" -> "/sys/fs/cgroup/a b" (the escapes of /proc/self/mounts).
std::string UnescapeMount(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    auto oct = [&](size_t k) { return k < s.size() && s[k] >= '0' && s[k] <= '7'; };
    if (s[i] == '\\' && s.size() - i >= 4 && s[i + 1] <= '3' && oct(i + 1) && oct(i + 2) && oct(i + 3)) {
      int v = (s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0');
      out.push_back(static_cast<char>(v));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

const char* const kV1Controllers[] = {"freezer", "cpu", "memory"};

std::string Join(const std::string& a, const std::string& b) {
  std::string p = a;
  while (!p.empty() && p.back() == '/') p.pop_back();
  if (b.empty() || b == "/") return p;
  return p + (b.front() == '/' ? "" : "/") + b;
}

}  // namespace

CgroupLayout ParseCgroupLayout(const std::string& mounts, const std::string& self_cgroup) {
  CgroupLayout l;
  std::string v2;
  for (std::string_view line : Split(mounts, '\n')) {
    std::vector<std::string_view> f;
    for (std::string_view w : Split(line, ' ')) {
      if (!w.empty()) f.push_back(w);
    }
    if (f.size() < 4) continue;
    if (f[2] == "cgroup2" && v2.empty()) v2 = UnescapeMount(f[1]);
    if (f[2] != "cgroup") continue;
    for (std::string_view opt : Split(f[3], ',')) {
      for (const char* c : kV1Controllers) {
        if (opt == c && l.v1_mounts.count(c) == 0) l.v1_mounts[c] = UnescapeMount(f[1]);
      }
    }
  }
  // "4:memory:/a/b", "2:cpu,cpuacct:/", "0::/x" (v2).
  for (std::string_view line : Split(self_cgroup, '\n')) {
    size_t c1 = line.find(':');
    if (c1 == std::string_view::npos) continue;
    size_t c2 = line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) continue;
    std::string_view ctrls = line.substr(c1 + 1, c2 - c1 - 1), path = line.substr(c2 + 1);
    for (std::string_view c : Split(ctrls, ',')) {
      if (!c.empty()) l.self[std::string(c)] = std::string(path);
    }
  }
  if (!l.v1_mounts.empty()) {
    l.version = CgroupLayout::Version::kV1;
  } else if (!v2.empty()) {
    l.version = CgroupLayout::Version::kV2;
    l.v2_root = v2;
  }
  return l;
}

CgroupLayout DetectCgroupLayout() {
  return ParseCgroupLayout(ReadText("/proc/self/mounts"), ReadText("/proc/self/cgroup"));
}

JobCgroups::JobCgroups(CgroupLayout layout, std::string parent_name, std::string instance)
    : layout_(std::move(layout)), parent_name_(std::move(parent_name)), instance_(std::move(instance)) {}

std::vector<std::string> JobCgroups::Parents() const {
  std::vector<std::string> out;
  if (layout_.version == CgroupLayout::Version::kV2) {
    out.push_back(Join(layout_.v2_root, parent_name_));
  } else if (layout_.version == CgroupLayout::Version::kV1) {
    for (const auto& [ctrl, mount] : layout_.v1_mounts) {
      auto it = layout_.self.find(ctrl);
      out.push_back(Join(Join(mount, it == layout_.self.end() ? "/" : it->second), parent_name_));
    }
  }
  return out;
}

CgroupAbility JobCgroups::Probe() {
  CgroupAbility a;
  if (layout_.version == CgroupLayout::Version::kNone) {
    a.why = "no cgroup hierarchy is mounted";
    return a;
  }
  std::vector<std::string> parents = Parents();
  if (layout_.version == CgroupLayout::Version::kV2) {
    // Delegate cpu and memory down to the jobs (each may fail: then no limits).
    for (const char* c : {"+cpu", "+memory"}) (void)WriteText(Join(layout_.v2_root, "cgroup.subtree_control"), c);
  }
  std::vector<std::string> probes;
  for (const std::string& p : parents) {
    std::error_code ec;
    fs::create_directories(p, ec);
    if (ec) {
      a.why = fmt::format("cannot create {}: {}", p, ec.message());
      return a;
    }
    if (layout_.version == CgroupLayout::Version::kV2) {
      for (const char* c : {"+cpu", "+memory"}) (void)WriteText(Join(p, "cgroup.subtree_control"), c);
    }
    std::string probe = Join(p, fmt::format("suanli-probe-{}", ::getpid()));
    fs::create_directory(probe, ec);
    if (ec) {
      a.why = fmt::format("cannot create {}: {}", probe, ec.message());
      RemoveCgroup(probes);
      return a;
    }
    probes.push_back(probe);
    if (::access(Join(probe, "cgroup.procs").c_str(), W_OK) != 0) {
      a.why = fmt::format("{}/cgroup.procs is not writable", probe);
      RemoveCgroup(probes);
      return a;
    }
    a.kill = a.kill || fs::exists(Join(probe, "cgroup.kill"), ec) || fs::exists(Join(probe, "freezer.state"), ec);
    a.cpu = a.cpu || fs::exists(Join(probe, "cpu.max"), ec) || fs::exists(Join(probe, "cpu.cfs_quota_us"), ec);
    a.memory =
        a.memory || fs::exists(Join(probe, "memory.max"), ec) || fs::exists(Join(probe, "memory.limit_in_bytes"), ec);
  }
  RemoveCgroup(probes);
  a.usable = true;
  return a;
}

Result<std::vector<std::string>> JobCgroups::Create(int64_t job_id, int64_t cpu_milli, int64_t mem_mib) {
  std::vector<std::string> dirs;
  const std::string name =
      instance_.empty() ? fmt::format("suanli-job-{}", job_id) : fmt::format("suanli-{}-job-{}", instance_, job_id);
  for (const std::string& p : Parents()) dirs.push_back(Join(p, name));
  // A directory left from an earlier run of the job (requeued) is emptied first.
  std::vector<std::string> old;
  std::error_code ec;
  for (const std::string& d : dirs) {
    if (fs::exists(d, ec)) old.push_back(d);
  }
  if (!old.empty()) {
    KillCgroup(old);
    if (!RemoveCgroup(old)) return IoError("job {}: its cgroup {} from an earlier run is still busy", job_id, old[0]);
  }
  for (const std::string& d : dirs) {
    if (!fs::create_directory(d, ec) || ec) {
      RemoveCgroup(dirs);
      return IoError("job {}: cannot create its cgroup {}: {}", job_id, d, ec ? ec.message() : "exists");
    }
    // The limits (each file exists in one layout / hierarchy only).
    if (cpu_milli > 0) {
      int64_t quota = std::max<int64_t>(1000, cpu_milli * 100);  // per 100 ms period
      if (fs::exists(Join(d, "cpu.max"), ec)) (void)WriteText(Join(d, "cpu.max"), fmt::format("{} 100000", quota));
      if (fs::exists(Join(d, "cpu.cfs_quota_us"), ec)) {
        (void)WriteText(Join(d, "cpu.cfs_period_us"), "100000");
        (void)WriteText(Join(d, "cpu.cfs_quota_us"), std::to_string(quota));
      }
    }
    if (mem_mib > 0) {
      std::string bytes = std::to_string(mem_mib * 1024 * 1024);
      if (fs::exists(Join(d, "memory.max"), ec)) {
        (void)WriteText(Join(d, "memory.max"), bytes);
        if (fs::exists(Join(d, "memory.swap.max"), ec)) (void)WriteText(Join(d, "memory.swap.max"), "0");
      }
      if (fs::exists(Join(d, "memory.limit_in_bytes"), ec)) {
        (void)WriteText(Join(d, "memory.limit_in_bytes"), bytes);
        if (fs::exists(Join(d, "memory.memsw.limit_in_bytes"), ec)) {
          (void)WriteText(Join(d, "memory.memsw.limit_in_bytes"), bytes);
        }
      }
    }
  }
  return dirs;
}

std::vector<pid_t> CgroupProcs(const std::vector<std::string>& dirs) {
  std::set<pid_t> seen;
  for (const std::string& d : dirs) {
    std::istringstream in(ReadText(Join(d, "cgroup.procs")));
    std::string tok;
    while (in >> tok) {
      auto v = ParseInt(tok);
      if (v && *v > 0 && *v <= INT32_MAX) seen.insert(static_cast<pid_t>(*v));
    }
  }
  return std::vector<pid_t>(seen.begin(), seen.end());
}

void SignalCgroup(const std::vector<std::string>& dirs, int sig) {
  for (pid_t p : CgroupProcs(dirs)) ::kill(p, sig);
}

bool KillCgroup(const std::vector<std::string>& dirs, int timeout_ms) {
  if (dirs.empty()) return true;
  std::error_code ec;
  for (const std::string& d : dirs) {
    if (fs::exists(Join(d, "cgroup.kill"), ec)) (void)WriteText(Join(d, "cgroup.kill"), "1");
  }
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    if (CgroupProcs(dirs).empty()) return true;
    if (Clock::now() > deadline) return false;
    // Frozen, no process can fork a new one between the listing and the kill.
    std::vector<std::string> frozen;
    for (const std::string& d : dirs) {
      if (fs::exists(Join(d, "freezer.state"), ec) && WriteText(Join(d, "freezer.state"), "FROZEN")) {
        frozen.push_back(d);
      }
    }
    for (const std::string& d : frozen) {
      for (int i = 0; i < 100 && Trim(ReadText(Join(d, "freezer.state"))) != "FROZEN"; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    }
    for (pid_t p : CgroupProcs(dirs)) ::kill(p, SIGKILL);
    for (const std::string& d : frozen) (void)WriteText(Join(d, "freezer.state"), "THAWED");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

bool RemoveCgroup(const std::vector<std::string>& dirs) {
  bool all = true;
  for (const std::string& d : dirs) {
    if (::rmdir(d.c_str()) != 0 && errno != ENOENT) all = false;
  }
  return all;
}

}  // namespace suanli::live
