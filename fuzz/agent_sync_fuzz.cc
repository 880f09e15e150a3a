// libFuzzer target for the agents' sync (server/json_codec_agent.h): what a
// hub reads from an agent and what an agent reads from a hub, and the
// events and commands the agent's store keeps. Any input gives a message or
// an error with a message, never a crash or a hang; what parses encodes and
// parses again to the same.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "server/json_codec_agent.h"

namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "%s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace suanli::server;
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (auto r = ParseAgentSyncRequest(text); r.ok()) {
    auto again = ParseAgentSyncRequest(AgentSyncRequestToJson(*r));
    Check(again.ok() && again->events.size() == r->events.size() && again->runs == r->runs,
          "a sync request does not survive encoding");
  } else {
    Check(!r.status().message().empty(), "sync request error without a message");
  }
  if (auto a = ParseAgentSyncResponse(text); a.ok()) {
    auto again = ParseAgentSyncResponse(AgentSyncResponseToJson(*a));
    Check(again.ok() && again->commands.size() == a->commands.size(), "a sync answer does not survive encoding");
  } else {
    Check(!a.status().message().empty(), "sync answer error without a message");
  }
  if (auto e = ParseAgentEvent(text, 1); !e.ok()) Check(!e.status().message().empty(), "event error without a message");
  if (auto c = ParseAgentCommand(text); !c.ok())
    Check(!c.status().message().empty(), "command error without a message");
  return 0;
}
