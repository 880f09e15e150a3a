#include "live/job_env.h"

#include <sys/stat.h>

#include <algorithm>

namespace suanli::live {

std::map<std::string, std::string> JobBaseEnvironment(const std::string& job_dir,
                                                      const std::vector<std::string>& server_env) {
  std::map<std::string, std::string> env;
  env["PATH"] = std::string(kJobPath);
  env["HOME"] = job_dir;
  env["LANG"] = "C.UTF-8";
  for (const std::string& kv : server_env) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos) continue;
    std::string_view key(kv.data(), eq);
    if (key == "LANG" || key == "TZ") env[std::string(key)] = kv.substr(eq + 1);
  }
  return env;
}

std::string CheckpointDir(const std::string& job_dir) { return job_dir + "/checkpoint"; }

std::map<std::string, std::string> JobEnvironment(int64_t job_id, int attempt, const std::string& job_dir,
                                                  const std::map<std::string, std::string>& spec_env,
                                                  const std::map<std::string, std::string>& device_env,
                                                  const std::vector<std::string>& server_env) {
  std::map<std::string, std::string> env = JobBaseEnvironment(job_dir, server_env);
  for (const auto& [k, v] : spec_env) env[k] = v;
  for (const auto& [k, v] : device_env) env[k] = v;
  env["SUANLI_JOB_ID"] = std::to_string(job_id);
  env["SUANLI_JOB_DIR"] = job_dir;
  env["SUANLI_ATTEMPT"] = std::to_string(attempt);
  env["SUANLI_CHECKPOINT_DIR"] = CheckpointDir(job_dir);
  return env;
}

std::optional<int64_t> CheckpointMarkMs(const std::string& job_dir) {
  const std::string mark = CheckpointDir(job_dir) + "/" + std::string(kCheckpointMark);
  struct stat st {};
  if (::lstat(mark.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return int64_t{st.st_mtim.tv_sec} * 1000 + st.st_mtim.tv_nsec / 1'000'000;
}

std::string EncodeEnvironment(const std::map<std::string, std::string>& env) {
  std::string out;
  for (const auto& [k, v] : env) {
    if (k.empty() || k.find('=') != std::string::npos || k.find('\0') != std::string::npos ||
        v.find('\0') != std::string::npos) {
      continue;  // not representable in an environment
    }
    out += k;
    out += '=';
    out += v;
    out.push_back('\0');
  }
  return out;
}

GangEnvironment GangEnv(const std::vector<std::string>& nodes,
                        const std::vector<std::map<std::string, std::string>>& node_device_env, int tasks_per_node,
                        const std::string& master_addr, int master_port) {
  GangEnvironment g;
  const int per = std::max(1, tasks_per_node);
  const size_t world = nodes.size() * static_cast<size_t>(per);
  std::string list;
  for (const std::string& n : nodes) list += (list.empty() ? "" : ",") + n;
  g.common["SUANLI_NODELIST"] = list;
  g.common["MASTER_ADDR"] = master_addr;
  g.common["MASTER_PORT"] = std::to_string(master_port);
  g.common["WORLD_SIZE"] = std::to_string(world);
  for (size_t node = 0; node < nodes.size(); ++node) {
    const std::map<std::string, std::string> none;
    const auto& devices = node < node_device_env.size() ? node_device_env[node] : none;
    auto ascend = devices.find("ASCEND_RT_VISIBLE_DEVICES");
    const bool hccl = ascend != devices.end() && !ascend->second.empty();
    for (int local = 0; local < per; ++local) {
      std::map<std::string, std::string> t = devices;
      const std::string rank = std::to_string(node * static_cast<size_t>(per) + static_cast<size_t>(local));
      t["RANK"] = rank;
      t["LOCAL_RANK"] = std::to_string(local);
      t["NODE_RANK"] = std::to_string(node);
      t["LOCAL_WORLD_SIZE"] = std::to_string(per);
      if (hccl) {
        t["RANK_ID"] = rank;
        t["RANK_SIZE"] = g.common["WORLD_SIZE"];
        t["DEVICE_ID"] = std::to_string(local);
      }
      g.tasks.push_back(std::move(t));
    }
  }
  return g;
}

std::string EncodeTasks(const std::vector<std::map<std::string, std::string>>& tasks) {
  std::string out;
  for (const auto& t : tasks) {
    out += kTaskMark;
    out.push_back('\0');
    out += EncodeEnvironment(t);
  }
  return out;
}

}  // namespace suanli::live
