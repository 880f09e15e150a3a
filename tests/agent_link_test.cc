// The hub's end of an agent's link (live/agent_link.h) on a clock of the
// test's own, and the sync's JSON (server/json_codec_agent.h).
#include <gtest/gtest.h>

#include "live/agent_link.h"
#include "server/json_codec_agent.h"

namespace suanli::live {
namespace {

struct HubsAgentLink : ::testing::Test {
  int64_t now = 1'000'000;
  std::vector<int64_t> saved;
  std::shared_ptr<AgentLink> link;
  void SetUp() override {
    AgentLinkOptions o;
    o.poll_ms = 200;
    o.lost_after_ms = 2000;
    o.lease_ms = 6000;
    link = std::make_shared<AgentLink>(
        "edge", o, [this] { return now; }, [this] { return WallMs{now}; });
    link->Bind(1, [this](int64_t e) { saved.push_back(e); });
  }
  static LaunchRequest Job(int64_t id) {
    LaunchRequest r;
    r.job_id = id;
    r.spec.command = {"true"};
    r.node = "edge0";
    r.job_dir = "/hub/jobs/" + std::to_string(id);
    return r;
  }
  static AgentEvent Ev(int64_t seq, int64_t epoch, BackendEvent::Kind kind, int64_t job) {
    AgentEvent e;
    e.seq = seq;
    e.epoch = epoch;
    e.ev.kind = kind;
    e.ev.job_id = job;
    return e;
  }
  AgentSyncResponse Sync(AgentSyncRequest r) {
    r.agent_id = "a";
    return link->Sync(r);
  }
  std::vector<BackendEvent> Take() {
    auto t = link->Take();
    EXPECT_TRUE(t.ok()) << t.status().message();
    return t.ok() ? *t : std::vector<BackendEvent>{};
  }
};

TEST_F(HubsAgentLink, ALaunchIsSentUntilTheAgentAcknowledgesItWithoutTheHubsPaths) {
  EXPECT_EQ(link->Launch(Job(5)), "agent:1");
  auto a = Sync({});
  ASSERT_EQ(a.commands.size(), 1u);
  EXPECT_EQ(a.commands[0].op, AgentCommand::Op::kLaunch);
  EXPECT_EQ(a.commands[0].epoch, 1);
  EXPECT_TRUE(a.commands[0].launch.job_dir.empty());  // the agent's own
  EXPECT_EQ(a.fence_ms, 3000);
  // Not acknowledged (another hub process's seq): sent again.
  AgentSyncRequest r;
  r.hub_id = "another";
  r.acked = 99;
  r.runs = {{5, 1}};
  EXPECT_EQ(Sync(r).commands.size(), 1u);
  r.hub_id = a.hub_id;
  r.acked = a.commands[0].seq;
  EXPECT_TRUE(Sync(r).commands.empty());
  EXPECT_TRUE(Take().empty());  // it holds the run: nothing lost
}

TEST_F(HubsAgentLink, EventsAreTakenOnceAndARunOfAnotherEpochIsNotTheJobs) {
  link->Launch(Job(5));
  const std::string hub = Sync({}).hub_id;
  AgentSyncRequest r;
  r.hub_id = hub;
  r.acked = 1;
  r.runs = {{5, 1}};
  r.events = {Ev(1, 1, BackendEvent::Kind::kStarted, 5)};
  EXPECT_EQ(Sync(r).acked, 1);
  EXPECT_EQ(Sync(r).acked, 1);  // sent again after a lost answer
  auto t = Take();
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].kind, BackendEvent::Kind::kStarted);
  // An end from a run of epoch 0 is dropped; the hub's run goes on.
  r.events = {Ev(2, 0, BackendEvent::Kind::kEnded, 5)};
  Sync(r);
  EXPECT_TRUE(Take().empty());
  r.events = {Ev(3, 1, BackendEvent::Kind::kEnded, 5)};
  r.runs.clear();
  Sync(r);
  t = Take();
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].kind, BackendEvent::Kind::kEnded);
}

TEST_F(HubsAgentLink, ARunTheAgentDoesNotHoldIsLostOnceItHasSeenTheLaunch) {
  link->Launch(Job(5));
  const auto a = Sync({});  // the launch is sent, not yet acknowledged
  EXPECT_TRUE(Take().empty());
  AgentSyncRequest r;
  r.hub_id = a.hub_id;
  r.acked = a.commands[0].seq;  // seen, and not held
  Sync(r);
  auto t = Take();
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].kind, BackendEvent::Kind::kLost);
  EXPECT_EQ(t[0].job_id, 5);
  // Adopted after a hub restart: the agent's first sync says.
  link->Adopt(6, 1);
  Sync(r);
  t = Take();
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].job_id, 6);
}

TEST_F(HubsAgentLink, ARunTheHubDoesNotExpectIsStoppedOnce) {
  AgentSyncRequest r;
  r.runs = {{9, 1}};
  auto a = Sync(r);
  ASSERT_EQ(a.commands.size(), 1u);
  EXPECT_EQ(a.commands[0].op, AgentCommand::Op::kCancel);
  EXPECT_EQ(a.commands[0].job_id, 9);
  r.hub_id = a.hub_id;
  r.acked = a.commands[0].seq;
  EXPECT_TRUE(Sync(r).commands.empty());
}

TEST_F(HubsAgentLink, SilenceMakesTheCenterUnansweringAndALongOneANewEpoch) {
  auto t = link->Take();
  EXPECT_TRUE(t.ok());  // just started: not yet
  now += 2001;
  EXPECT_FALSE(link->Take().ok());  // never connected
  Sync({});
  EXPECT_TRUE(link->Take().ok());
  EXPECT_TRUE(link->View().connected);
  now += 2001;
  EXPECT_FALSE(link->Take().ok());
  EXPECT_FALSE(link->View().connected);
  Sync({});
  EXPECT_EQ(link->View().epoch, 1);  // back within its lease
  now += 6000;
  EXPECT_EQ(Sync({}).epoch, 2);
  EXPECT_EQ(saved, std::vector<int64_t>{2});
  EXPECT_EQ(link->Launch(Job(7)), "agent:2");
  AgentSyncRequest bad;
  bad.backend_error = "sinfo: timeout";
  Sync(bad);
  EXPECT_FALSE(link->Take().ok());
}

TEST_F(HubsAgentLink, NodesTheAgentReportsDownOrNoLongerAreDown) {
  AgentSyncRequest r;
  r.capacity =
      BackendCapacity{{BackendNode{"n1", "", 0, 1000, 1024, true}, BackendNode{"n2", "", 0, 1000, 1024, true}}};
  Sync(r);
  EXPECT_TRUE(Take().empty());
  r.capacity->nodes[0].up = false;
  r.capacity->nodes.pop_back();
  Sync(r);
  auto t = Take();
  ASSERT_EQ(t.size(), 2u);
  for (const auto& e : t) {
    EXPECT_EQ(e.kind, BackendEvent::Kind::kNode);
    EXPECT_FALSE(e.up);
  }
}

// A sync that frees capacity asks the agent back soon, for the launches
// that fill it; the next one waits the usual poll.
TEST_F(HubsAgentLink, ASyncThatFreesCapacityIsFollowedUpSoon) {
  link->Launch(Job(5));
  AgentSyncRequest r;
  r.hub_id = Sync({}).hub_id;
  r.acked = 1;
  r.runs = {{5, 1}};
  EXPECT_EQ(Sync(r).poll_ms, 200);
  r.runs.clear();
  r.events = {Ev(1, 1, BackendEvent::Kind::kEnded, 5)};
  EXPECT_EQ(Sync(r).poll_ms, 100);
  EXPECT_EQ(Sync(r).poll_ms, 200);  // the same event again: nothing freed
}

// What a run wrote reaches the caller once, and only for a run the hub
// launched there in that epoch.
TEST_F(HubsAgentLink, OutputsAreTakenOnceAndOnlyOfTheHubsRunsThere) {
  link->Launch(Job(5));
  const std::string hub = Sync({}).hub_id;
  auto output = [this](int64_t seq, int64_t epoch, int64_t job, AgentEvent::Kind kind) {
    AgentEvent e;
    e.seq = seq;
    e.epoch = epoch;
    e.kind = kind;
    e.ev.job_id = job;
    e.stream = "stdout";
    e.data = "line\n";
    e.ev.at_ms = WallMs{now};
    return e;
  };
  AgentSyncRequest r;
  r.agent_id = "a";
  r.hub_id = hub;
  r.acked = 1;
  r.runs = {{5, 1}};
  r.events = {output(1, 1, 5, AgentEvent::Kind::kLog), output(2, 1, 5, AgentEvent::Kind::kCheckpoint),
              output(3, 2, 5, AgentEvent::Kind::kLog),   // another epoch's run
              output(4, 1, 6, AgentEvent::Kind::kLog)};  // a job not launched there
  std::vector<AgentEvent> outputs;
  EXPECT_EQ(link->Sync(r, &outputs).acked, 4);
  ASSERT_EQ(outputs.size(), 2u);
  EXPECT_EQ(outputs[0].kind, AgentEvent::Kind::kLog);
  EXPECT_EQ(outputs[0].data, "line\n");
  EXPECT_EQ(outputs[1].kind, AgentEvent::Kind::kCheckpoint);
  outputs.clear();
  link->Sync(r, &outputs);  // sent again after a lost answer
  EXPECT_TRUE(outputs.empty());
  EXPECT_TRUE(Take().empty());  // outputs are not backend events
}

TEST(AgentCodec, LogAndCheckpointEventsSurviveJsonAndMalformedOnesAreRefused) {
  AgentEvent log;
  log.seq = 4;
  log.epoch = 2;
  log.kind = AgentEvent::Kind::kLog;
  log.ev.job_id = 7;
  log.stream = "stderr";
  log.data = std::string("a\n\0b\xc3\xbc", 6);
  auto back = server::ParseAgentEvent(server::AgentEventToJson(log), 4);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->kind, AgentEvent::Kind::kLog);
  EXPECT_EQ(back->ev.job_id, 7);
  EXPECT_EQ(back->stream, "stderr");
  EXPECT_EQ(back->data, log.data);
  AgentEvent ck;
  ck.epoch = 2;
  ck.kind = AgentEvent::Kind::kCheckpoint;
  ck.ev.job_id = 7;
  ck.ev.at_ms = WallMs{1700000000000};
  auto cb = server::ParseAgentEvent(server::AgentEventToJson(ck), 5);
  ASSERT_TRUE(cb.ok()) << cb.status().message();
  EXPECT_EQ(cb->kind, AgentEvent::Kind::kCheckpoint);
  EXPECT_EQ(cb->ev.at_ms.ms(), 1700000000000);
  const std::string big(server::kMaxAgentLogChunk + 1, 'x');
  for (const std::string& bad :
       {std::string(R"({"epoch": 1, "kind": "log", "job_id": 7, "stream": "stdin", "data": "x"})"),
        std::string(R"({"epoch": 1, "kind": "log", "stream": "stdout", "data": "x"})"),
        std::string(R"({"epoch": 1, "kind": "checkpoint", "job_id": 7})"),
        std::string(R"({"epoch": 1, "kind": "started", "job_id": 7, "data": "x"})"),
        std::string(R"({"epoch": 1, "kind": "log", "job_id": 7, "stream": "stdout", "data": 5})"),
        R"({"epoch": 1, "kind": "log", "job_id": 7, "stream": "stdout", "data": ")" + big + R"("})"}) {
    auto r = server::ParseAgentEvent(bad, 1);
    EXPECT_FALSE(r.ok()) << bad.substr(0, 120);
  }
}

TEST(AgentCodec, ASyncAndItsAnswerSurviveJson) {
  AgentSyncRequest r;
  r.agent_id = "a1";
  r.hub_id = "h";
  r.acked = 4;
  AgentEvent e;
  e.seq = 3;
  e.epoch = 2;
  e.ev.kind = BackendEvent::Kind::kEnded;
  e.ev.job_id = 8;
  e.ev.state = JobState::kFailed;
  e.ev.exit_code = 3;
  e.ev.reason = "exit 3";
  e.ev.center_stopped = true;
  e.ev.at_ms = WallMs{12345};
  r.events = {e};
  r.runs = {{8, 2}, {9, 1}};
  r.capacity = BackendCapacity{{BackendNode{"n1", "A100-80GB", 8, 64000, 512000, false}}};
  auto back = server::ParseAgentSyncRequest(server::AgentSyncRequestToJson(r));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->runs, r.runs);
  ASSERT_EQ(back->events.size(), 1u);
  EXPECT_EQ(back->events[0].ev.state, JobState::kFailed);
  EXPECT_EQ(back->events[0].ev.exit_code, 3);
  EXPECT_TRUE(back->events[0].ev.center_stopped);
  EXPECT_EQ(back->events[0].ev.at_ms.ms(), 12345);
  ASSERT_TRUE(back->capacity);
  EXPECT_EQ(back->capacity->nodes[0].devices, 8);
  EXPECT_FALSE(back->capacity->nodes[0].up);

  AgentSyncResponse a;
  a.hub_id = "h";
  a.epoch = 2;
  AgentCommand c;
  c.seq = 1;
  c.job_id = 8;
  c.epoch = 2;
  c.launch.job_id = 8;
  c.launch.spec.command = {"sh", "-c", "echo hi"};
  c.launch.spec.env = {{"A", "1"}};
  c.launch.node = "n1";
  c.launch.devices = {0, 1};
  c.launch.attempt = 3;
  c.launch.done_s = 12.5;
  AgentCommand s;
  s.seq = 2;
  s.op = AgentCommand::Op::kStop;
  s.job_id = 9;
  s.notice = StopNotice{"USR2", 30};
  a.commands = {c, s};
  auto ab = server::ParseAgentSyncResponse(server::AgentSyncResponseToJson(a));
  ASSERT_TRUE(ab.ok()) << ab.status().message();
  ASSERT_EQ(ab->commands.size(), 2u);
  EXPECT_EQ(ab->commands[0].launch.spec, c.launch.spec);
  EXPECT_EQ(ab->commands[0].launch.devices, c.launch.devices);
  EXPECT_EQ(ab->commands[0].launch.attempt, 3);
  EXPECT_EQ(ab->commands[0].launch.done_s, 12.5);
  EXPECT_EQ(ab->commands[1].notice.signal, "USR2");
  EXPECT_EQ(ab->commands[1].notice.grace_s, 30);
}

TEST(AgentCodec, AHostileHubsAnswerIsRefused) {
  for (
      const char* bad :
      {R"({"hub_id": "h", "commands": [{"seq": 1, "op": "launch", "job_id": 1}]})",
       R"({"hub_id": "h", "commands": [{"seq": 1, "op": "rm", "job_id": 1}]})",
       R"({"hub_id": "h", "commands": [{"seq": 1, "op": "stop", "job_id": 1, "notice": {"signal": "KILL"}}]})",
       R"({"hub_id": "h", "commands": [{"seq": 1, "op": "launch", "job_id": 1, "launch": {"spec": {"command": []}}}]})",
       R"({"hub_id": "h", "commands": [{"seq": 1, "op": "launch", "job_id": 1, "launch": {"spec": {"command": ["x"]}, "devices": [99]}}]})",
       R"({"hub_id": "h", "poll_ms": 0})", R"([1])"}) {
    auto r = server::ParseAgentSyncResponse(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_FALSE(r.status().message().empty());
  }
}

}  // namespace
}  // namespace suanli::live
