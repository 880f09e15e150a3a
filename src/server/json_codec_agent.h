// The agents' sync as JSON (docs/network.md, "The agent's protocol").
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "live/agent_link.h"
#include "server/json_codec.h"

namespace suanli::server {

// The most of each list one sync carries.
inline constexpr size_t kMaxAgentEventsPerSync = 10'000;
inline constexpr size_t kMaxAgentRuns = 100'000;
inline constexpr size_t kMaxAgentNodes = 100'000;
// The most bytes of a run's output one log event carries (as JSON text).
inline constexpr size_t kMaxAgentLogChunk = 64 * 1024;

std::string AgentSyncRequestToJson(const live::AgentSyncRequest& r);
Result<live::AgentSyncRequest> ParseAgentSyncRequest(std::string_view body);
std::string AgentSyncResponseToJson(const live::AgentSyncResponse& r);
Result<live::AgentSyncResponse> ParseAgentSyncResponse(std::string_view body);

// One event or command, as the agent's store keeps them (an event without
// its seq, which the store gives it).
std::string AgentEventToJson(const live::AgentEvent& e);
Result<live::AgentEvent> ParseAgentEvent(std::string_view json, int64_t seq);
std::string AgentCommandToJson(const live::AgentCommand& c);
Result<live::AgentCommand> ParseAgentCommand(std::string_view json);

}  // namespace suanli::server
