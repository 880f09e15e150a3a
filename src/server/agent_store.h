// The agent's own small durable store (SQLite, DATA/agent.db): its id, the
// events the hub has not acknowledged, the runs it holds (to adopt them
// after a restart), and which of the hub's commands it applied. Every
// change is committed (synchronous=FULL) before the agent acts on it or
// tells the hub about it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

struct sqlite3;

namespace suanli::server {

class AgentStore {
 public:
  struct Run {
    int64_t job_id = 0;
    int64_t epoch = 0;
    std::string backend_id;  // "" = recorded, launch not known to have happened
    std::string launch;      // the launch command (JSON, json_codec_agent.h)
  };
  struct Event {
    int64_t seq = 0;
    std::string json;  // the event without its seq
  };

  static Result<std::unique_ptr<AgentStore>> Open(const std::string& path);
  ~AgentStore();
  AgentStore(const AgentStore&) = delete;
  AgentStore& operator=(const AgentStore&) = delete;

  const std::string& agent_id() const { return agent_id_; }

  // An event to send; numbered from 1 for good.
  Result<int64_t> AddEvent(const std::string& json);
  // An event and a key's new value, in one transaction (what a run wrote,
  // sent, and how far it was read).
  Result<int64_t> AddEventAndPut(const std::string& json, const std::string& key, const std::string& value);
  // A run's last event and the run forgotten, in one transaction.
  Result<int64_t> EndRun(int64_t job_id, const std::string& json);
  // The oldest events not acknowledged, at most `limit`.
  Result<std::vector<Event>> Unacked(size_t limit);
  Status Ack(int64_t upto);

  Status PutRun(const Run& r);
  Status DeleteRun(int64_t job_id);
  Result<std::vector<Run>> Runs();

  Result<std::optional<std::string>> Get(const std::string& key);
  Status Put(const std::string& key, const std::string& value);

 private:
  AgentStore() = default;
  Status Exec(const char* sql);
  sqlite3* db_ = nullptr;
  std::string path_;
  std::string agent_id_;
};

}  // namespace suanli::server
