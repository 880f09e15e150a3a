#include "live/job_env.h"

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

}  // namespace suanli::live
