// Runs the `suanli` binary for end-to-end tests.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>

namespace suanli::testing {

struct CliResult {
  int code = -1;
  std::string out;  // stdout and stderr together
};

// Runs a shell command line and captures its output (stdout and stderr
// together) and exit code.
inline CliResult RunShell(const std::string& cmd) {
  CliResult r;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// Runs `suanli ARGS` (ARGS is shell text) and captures its output and exit code.
inline CliResult RunSuanli(const std::string& args) { return RunShell(std::string(SUANLI_BINARY) + " " + args); }

inline std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A fresh temporary directory for one test.
inline std::string TempDir(const std::string& name) {
  auto d = std::filesystem::temp_directory_path() / ("suanli_test_" + name);
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d.string();
}

inline std::string Source(const std::string& rel) { return std::string(SUANLI_SOURCE_DIR) + "/" + rel; }

// Writes a workload in the native format (docs/formats-workload.md) to
// `path`: its header, then `rows` (each a CSV line without its newline).
inline void WriteNativeWorkload(const std::string& path, std::initializer_list<std::string> rows) {
  std::ofstream f(path);
  f << "id,tenant,user,submit_s,gpus,gpu_milli,cpu_milli,mem_mib,models,stacks,class,work_s,estimate_s,priority,"
       "durations\n";
  for (const std::string& r : rows) f << r << '\n';
}

}  // namespace suanli::testing
