#include "live/sandbox.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "base/strings.h"
#include "live/subprocess.h"

namespace suanli::live {
namespace fs = std::filesystem;

namespace {

std::string FindProgram(const std::string& name) {
  for (const char* dir : {"/usr/bin", "/bin", "/usr/local/bin"}) {
    std::string p = std::string(dir) + "/" + name;
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return "";
}

}  // namespace

// The path as the sandbox sees it: absolute, symlinks resolved where they exist.
std::string CanonicalPath(const std::string& p) {
  std::error_code ec;
  fs::path c = fs::weakly_canonical(fs::absolute(p, ec), ec);
  return ec ? p : c.lexically_normal().string();
}

bool PathInside(const std::string& path, const std::string& dir) {
  if (dir == "/") return true;
  return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/');
}

IsolationCaps DetectIsolationCaps(JobCgroups& cgroups) {
  IsolationCaps caps;
  caps.uid = ::geteuid();
  caps.root = caps.uid == 0;
  caps.bwrap = FindProgram("bwrap");
  if (caps.bwrap.empty()) {
    caps.bwrap_error = "bwrap is not installed (Debian package bubblewrap)";
  } else {
    SubprocessOptions o;
    // A trial with the options of a job: namespaces, tmpfs, binds.
    o.argv = BwrapArgs(caps.bwrap, {"/tmp/suanli-sandbox-trial", "/tmp", "/tmp", caps.root, {}, ""});
    o.argv.push_back("true");
    o.timeout_ms = 10000;
    auto r = RunSubprocess(o);
    if (!r.ok()) {
      caps.bwrap_error = fmt::format("bwrap cannot start: {}", r.status().message());
    } else if (!r->ok()) {
      caps.bwrap_error = fmt::format("bwrap cannot make a sandbox here ({})", DescribeFailure(o, *r));
    } else {
      caps.bwrap_works = true;
    }
  }
  caps.cgroups = cgroups.Probe();
  return caps;
}

Result<IsolationPlan> PlanIsolation(const IsolationCaps& caps, const BackendConfig& config) {
  IsolationPlan p;
  if (config.sandbox == "bwrap" && !caps.bwrap_works) {
    return Unavailable("sandbox: bwrap is configured, but {}", caps.bwrap_error);
  }
  p.sandbox = config.sandbox != "off" && caps.bwrap_works;
  p.drop_uid = caps.root && config.job_uid_base > 0;
  p.cgroups = config.cgroups != "off" && caps.cgroups.usable;
  p.cpu_limit = p.cgroups && caps.cgroups.cpu;
  p.memory_limit = p.cgroups && caps.cgroups.memory;
  if (!p.sandbox) {
    std::string why = config.sandbox == "off" ? "sandbox: off" : caps.bwrap_error;
    p.missing.push_back(fmt::format(
        "no sandbox ({}): jobs see the whole filesystem, the server's data directory included, and every process",
        why));
  }
  if (!p.drop_uid) {
    std::string why = caps.root ? "job_uid_base: 0" : "the server is not root";
    std::string what = p.sandbox ? "can read and change what that uid can outside the hidden data directory"
                                 : "can read and change the server's database and control files";
    p.missing.push_back(fmt::format("no uid per job ({}): jobs run as uid {} and {}", why, caps.uid, what));
  }
  if (!p.cgroups) {
    std::string why = config.cgroups == "off" ? "cgroups: off" : caps.cgroups.why;
    p.missing.push_back(
        fmt::format("no cgroups ({}): {}; CPU and memory requests are not enforced", why,
                    p.sandbox ? "processes that leave the job's process group end only with its PID namespace"
                              : "processes that leave the job's process group survive cancel and the time limit"));
  } else {
    if (!caps.cgroups.kill) p.missing.push_back("no cgroup freezer or cgroup.kill: a forking job may outrun a kill");
    if (!p.cpu_limit) p.missing.push_back("no cpu controller: CPU requests are not enforced");
    if (!p.memory_limit) p.missing.push_back("no memory controller: memory requests are not enforced");
  }
  return p;
}

std::string DescribeIsolation(const IsolationPlan& plan) {
  std::vector<std::string> have;
  if (plan.sandbox) have.push_back("bwrap sandbox (mount, PID, IPC namespaces; data directory hidden)");
  if (plan.drop_uid) have.push_back("a uid per job");
  if (plan.cgroups) {
    std::string c = "cgroups";
    if (plan.cpu_limit || plan.memory_limit) {
      c += fmt::format(" (limits: {}{}{})", plan.cpu_limit ? "cpu" : "",
                       plan.cpu_limit && plan.memory_limit ? ", " : "", plan.memory_limit ? "memory" : "");
    }
    have.push_back(c);
  }
  std::string s = fmt::format("jobs are isolated by: {}", have.empty() ? "nothing" : Join(have, ", "));
  if (!plan.missing.empty()) s += "; NOT isolated: " + Join(plan.missing, "; ");
  return s;
}

std::vector<std::string> AcceleratorDeviceNodes(const std::string& dev) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dev, ec)) {
    std::string name = e.path().filename().string();
    for (std::string_view prefix : {"nvidia", "dri", "kfd", "davinci", "devmm_svm", "hisi_hdc", "infiniband"}) {
      if (name.compare(0, prefix.size(), prefix) == 0) {
        out.push_back(e.path().string());
        break;
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> BwrapArgs(const std::string& bwrap, const SandboxPaths& paths) {
  std::string data = CanonicalPath(paths.data_dir), job = CanonicalPath(paths.job_dir);
  std::string work = paths.workdir.empty() ? job : CanonicalPath(paths.workdir);
  std::vector<std::string> a = {bwrap,
                                "--die-with-parent",
                                "--unshare-pid",
                                "--unshare-ipc",
                                "--unshare-cgroup-try",
                                "--ro-bind",
                                "/",
                                "/",
                                "--dev",
                                "/dev",
                                "--proc",
                                "/proc",
                                "--perms",
                                "1777",
                                "--tmpfs",
                                "/tmp"};
  for (const std::string& d : AcceleratorDeviceNodes()) {
    a.insert(a.end(), {"--dev-bind-try", d, d});
  }
  // The data directory disappears (an empty tmpfs), unless it is the root itself.
  if (data != "/") {
    a.insert(a.end(), {"--perms", "0711", "--tmpfs", data});
    // The directories down to the job's: traversable, not listable.
    if (PathInside(job, data) && job != data) {
      fs::path up = fs::path(job).parent_path();
      std::vector<std::string> dirs;
      for (; up.string().size() > data.size(); up = up.parent_path()) dirs.push_back(up.string());
      for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) a.insert(a.end(), {"--perms", "0711", "--dir", *it});
    }
  }
  // Datasets: the data roots are hidden (other tenants' datasets are not
  // seen), but for the job's own dataset, read-only.
  for (const std::string& r : paths.data_roots) {
    if (r.empty() || !fs::exists(r)) continue;
    const std::string root = CanonicalPath(r);
    a.insert(a.end(), {"--perms", "0755", "--tmpfs", root});
    if (paths.dataset_dir.empty() || !fs::exists(paths.dataset_dir)) continue;
    const std::string ds = CanonicalPath(paths.dataset_dir);
    if (!PathInside(ds, root) || ds == root) continue;
    std::vector<std::string> dirs;
    for (fs::path up = fs::path(ds).parent_path(); up.string().size() > root.size(); up = up.parent_path())
      dirs.push_back(up.string());
    for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) a.insert(a.end(), {"--perms", "0755", "--dir", *it});
    a.insert(a.end(), {"--ro-bind", ds, ds});
  }
  a.insert(a.end(), {"--bind", job, job});
  if (!PathInside(work, job)) a.insert(a.end(), {"--bind", work, work});
  a.insert(a.end(), {"--chdir", work});
  if (paths.root) {
    // The reaper inside keeps only what it needs to become the job's uid.
    a.insert(a.end(), {"--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"});
  }
  a.push_back("--");
  return a;
}

}  // namespace suanli::live
