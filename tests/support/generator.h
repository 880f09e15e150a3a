// The workload generator's tests: scratch paths, reading a written file,
// and generator options (a job count and seed; the china-aicc profile over
// a network). In a namespace of their own: other tests' helpers use some of
// the same names.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "core/model/network.h"
#include "sim/generator.h"

namespace suanli::testing::generator {

inline std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("suanli_gen_test_" + name)).string();
}

inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline GenOptions Opts(uint64_t jobs, uint64_t seed = 1) {
  GenOptions o;
  o.jobs = jobs;
  o.seed = seed;
  return o;
}

inline GenOptions NetOpts(const Network& net, double days, uint64_t jobs, uint64_t seed) {
  GenOptions o;
  o.profile = "china-aicc";
  o.jobs = jobs;
  o.days = days;
  o.seed = seed;
  o.gpus = net.TotalDevices();
  o.target = TargetOf(net);
  return o;
}

}  // namespace suanli::testing::generator
