// The tests' own Slurm clusters (scripts/slurm/start.sh) and the control
// plane over them: a cluster in a directory of its own, stopped and removed
// with its object; a server's slurm center on it; passes until a condition.
#pragma once

#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>

#include "live/control.h"
#include "support/cli.h"

namespace suanli::testing {

inline std::string SlurmScript(const std::string& name) {
  return std::string(SUANLI_SOURCE_DIR) + "/scripts/slurm/" + name;
}

inline bool Installed(const std::string& name) {
  std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  path += ":/usr/sbin:/sbin";
  std::stringstream ss(path);
  std::string dir;
  while (std::getline(ss, dir, ':'))
    if (!dir.empty() && access((dir + "/" + name).c_str(), X_OK) == 0) return true;
  return false;
}

inline std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A Slurm cluster in a fresh directory of its own (short: munge's socket
// path is limited), stopped and removed when it goes out of scope (also when
// the test fails).
class SlurmCluster {
 public:
  explicit SlurmCluster(const std::string& name) : name_(name) {
    std::string tmpl = (std::filesystem::temp_directory_path() / ("suanli-" + name + ".XXXXXX")).string();
    if (char* d = ::mkdtemp(tmpl.data())) dir_ = d;
  }
  ~SlurmCluster() {
    if (!frozen_.empty()) RunShell("kill -CONT " + frozen_);
    if (started_) {
      auto r = Stop();
      if (r.code != 0) ADD_FAILURE() << "stop.sh " << name_ << " failed:\n" << r.out;
    }
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  // `shards`: GRES shards per GPU (start.sh --shards).
  CliResult Start(int nodes = 1, int gpus = 2, int shards = 0) {
    if (dir_.empty()) return {1, "mkdtemp failed"};
    started_ = true;
    return RunShell("bash " + SlurmScript("start.sh") + " " + dir_ + " --name " + name_ + " --nodes " +
                    std::to_string(nodes) + " --cpus 4 --gpus " + std::to_string(gpus) + " --gpu-type a100 --shards " +
                    std::to_string(shards) + " --mem 16000 --timeout 90");
  }
  // A Slurm command against this cluster (shell text after the command name).
  CliResult Slurm(const std::string& cmd) const { return RunShell("SLURM_CONF=" + conf() + " timeout 20 " + cmd); }
  CliResult Stop() { return RunShell("bash " + SlurmScript("stop.sh") + " " + dir_); }
  std::string conf() const { return dir_ + "/etc/slurm.conf"; }
  const std::string& dir() const { return dir_; }
  // A daemon stopped with SIGSTOP, continued before the cluster is stopped.
  void set_frozen(const std::string& pid) { frozen_ = pid; }

 private:
  std::string name_, dir_, frozen_;
  bool started_ = false;
};

class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "suanli-slurm-control.XXXXXX").string();
    if (char* d = ::mkdtemp(tmpl.data())) path_ = d;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Whether the Slurm programs the tests start clusters with are installed.
inline bool SlurmInstalled(std::string* missing) {
  for (const char* b : {"munged", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "scancel", "sinfo"})
    if (!Installed(b)) {
      *missing = std::string(b) + " is not installed; run scripts/install-deps.sh (slurm-wlm, munge)";
      return false;
    }
  return true;
}

// A slurm center of the server's configuration, on cluster `c`.
inline live::CenterConfig SlurmCenter(const std::string& name, const SlurmCluster& c) {
  live::CenterConfig cc;
  cc.name = name;
  cc.backend.kind = "slurm";
  cc.backend.slurm_conf = c.conf();
  return cc;
}

// Runs passes until done() or `seconds` passed; done()'s last answer.
inline bool PassUntil(live::ControlPlane& cp, const std::function<bool()>& done, int seconds) {
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < end) {
    cp.PassNow();
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return done();
}

}  // namespace suanli::testing
