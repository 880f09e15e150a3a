// `suanli agent` as a real process for end-to-end tests of agents' centers
// (docs/network.md).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

extern char** environ;

namespace suanli::testing {

// One `suanli agent` process; killed when destroyed.
class AgentProcess {
 public:
  ~AgentProcess() { Stop(SIGKILL); }
  // Starts `suanli agent ARGS`, its output appended to `log`.
  void Start(const std::vector<std::string>& args, const std::string& log) {
    std::vector<std::string> all = {SUANLI_BINARY, "agent"};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    ASSERT_EQ(posix_spawn(&pid_, SUANLI_BINARY, &fa, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&fa);
  }
  // Sends `sig` and waits for its exit.
  void Stop(int sig) {
    if (pid_ <= 0) return;
    kill(pid_, sig);
    int st = 0;
    waitpid(pid_, &st, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

}  // namespace suanli::testing
