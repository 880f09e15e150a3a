// The live server's config file: LoadServerConfig reads every key and
// resolves paths next to the file, its errors name the file and the key, and
// ValidateServerConfig checks values set in code.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "live/control.h"
#include "support/live_control.h"

namespace suanli::live {
namespace {

using ::suanli::testing::live_control::ScratchDir;
using ::suanli::testing::live_control::WriteText;

// ------------------------------------------------------------------ config

TEST(LiveControlConfig, LoadsEveryKeyAndResolvesPathsNextToTheFile) {
  ScratchDir dir;
  WriteText(dir / "server.yaml", R"(
listen: 0.0.0.0:9090
data: state
network: tiny
centers:
  - {name: east, backend: simulated}
  - {name: here, backend: local, slots: 3, detect_gpus: false, grace_s: 5, data_root: datasets}
  - {name: hpc, backend: slurm, slurm_conf: etc/slurm.conf, partition: gpu, command_timeout_s: 4, nodelist: true}
policy: sjf+easy
dispatch: cost-aware:time=0.5
pass_interval_ms: 500
center_timeout_s: 7
max_body_bytes: 4096
http_threads: 8
tls_cert: cert.pem
tls_key: key.pem
admin_token: secret-admin-token-0123
durable: false
stage_command: [rsync, -a, --bwlimit=100m, "{src}/", "{dst_center}.example:{dst}/"]
)");
  auto c = LoadServerConfig(dir / "server.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->listen, "0.0.0.0:9090");
  EXPECT_EQ(c->data_dir, dir / "state");
  EXPECT_EQ(c->network, "tiny");
  ASSERT_EQ(c->centers.size(), 3u);
  EXPECT_EQ(c->centers[0].backend.kind, "simulated");
  EXPECT_EQ(c->centers[1].backend.slots, 3);
  EXPECT_FALSE(c->centers[1].backend.detect_gpus);
  EXPECT_EQ(c->centers[1].backend.grace_s, 5);
  EXPECT_EQ(c->centers[1].data_root, dir / "datasets");
  EXPECT_EQ(c->centers[0].data_root, "");
  EXPECT_EQ(c->centers[2].backend.slurm_conf, dir / "etc/slurm.conf");
  EXPECT_EQ(c->centers[2].backend.partition, "gpu");
  EXPECT_EQ(c->centers[2].backend.command_timeout_s, 4);
  EXPECT_TRUE(c->centers[2].backend.nodelist);
  EXPECT_EQ(c->policy, "sjf+easy");
  EXPECT_EQ(c->dispatch, "cost-aware:time=0.5");
  EXPECT_EQ(c->pass_interval_ms, 500);
  EXPECT_EQ(c->center_timeout_s, 7);
  EXPECT_EQ(c->max_body_bytes, 4096);
  EXPECT_EQ(c->http_threads, 8);
  EXPECT_EQ(c->tls_cert, dir / "cert.pem");
  EXPECT_EQ(c->tls_key, dir / "key.pem");
  EXPECT_EQ(c->admin_token, "secret-admin-token-0123");
  EXPECT_FALSE(c->durable);
  EXPECT_EQ(c->stage_command,
            (std::vector<std::string>{"rsync", "-a", "--bwlimit=100m", "{src}/", "{dst_center}.example:{dst}/"}));

  // An empty file is every default.
  WriteText(dir / "empty.yaml", "");
  auto e = LoadServerConfig(dir / "empty.yaml");
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->listen, "127.0.0.1:8080");
  EXPECT_TRUE(e->centers.empty());
  EXPECT_EQ(e->stage_command, kDefaultStageCommand);
}

TEST(LiveControlConfig, ErrorsNameTheFileAndTheKey) {
  ScratchDir dir;
  struct Case {
    std::string yaml, want1, want2;
  };
  const std::vector<Case> cases = {
      {"listne: 1.2.3.4:80\n", "listne", "did you mean 'listen'"},
      {"listen: localhost\n", "listen", "HOST:PORT"},
      {"listen: 127.0.0.1:70000\n", "listen", "0..65535"},
      {"pass_interval_ms: often\n", "pass_interval_ms", "whole number"},
      {"pass_interval_ms: 0\n", "pass_interval_ms", "from 1"},
      {"center_timeout_s: -3\n", "center_timeout_s", "from 1"},
      {"durable: maybe\n", "durable", "true or false"},
      {"policy: fifo+bogus\n", "policy", "unknown part 'bogus'"},
      {"dispatch: fastest\n", "dispatch", "unknown dispatch policy"},
      {"tls_cert: c.pem\n", "tls_cert", "both"},
      {"centers: [{name: a, backend: cloud}]\n", "backend", "unknown backend 'cloud'"},
      {"centers: [{name: a, backend: local}, {name: a, backend: local}]\n", "centers[1]", "named twice"},
      {"centers: [{name: a, backend: local, partition: x}]\n", "partition", "only for backend slurm"},
      {"centers: [{name: a, backend: simulated, nodelist: true}]\n", "nodelist", "only for backend slurm"},
      {"centers: [{name: a, backend: slurm, nodelist: sometimes}]\n", "nodelist", "true or false"},
      {"centers: [{name: a, backend: local, slots: lots}]\n", "slots", "whole number"},
      {"centers: [{name: a, backend: slurm, nodes: 2}]\n", "nodes", "only for backend local"},
      {"centers: [{name: a, backend: local, nodes: 0}]\n", "nodes", "from 1"},
      {"centers: [{backend: local}]\n", "name", "missing required field"},
      {"centers: {name: a}\n", "centers", "expected a list"},
      {"centers: [{name: a, backend: simulated}]\n", "simulated", "network"},
      {"http_threads: [1, 2]\n", "http_threads", "whole number"},
      {"stage_command: [cp, -r, \"{src}\"]\n", "stage_command", "{src} and {dst}"},
      {"stage_command: []\n", "stage_command", "a program"},
      {"stage_command: rsync\n", "stage_command", "list"},
      {"listen: [\n", "YAML syntax error", "bad.yaml"},
  };
  for (const auto& c : cases) {
    WriteText(dir / "bad.yaml", c.yaml);
    auto r = LoadServerConfig(dir / "bad.yaml");
    ASSERT_FALSE(r.ok()) << c.yaml;
    const std::string& m = r.status().message();
    EXPECT_NE(m.find("bad.yaml"), std::string::npos) << m;
    EXPECT_NE(m.find(c.want1), std::string::npos) << c.yaml << " -> " << m;
    EXPECT_NE(m.find(c.want2), std::string::npos) << c.yaml << " -> " << m;
  }
  auto missing = LoadServerConfig(dir / "nope.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("nope.yaml"), std::string::npos);
}

TEST(LiveControlConfig, ValidateChecksValuesSetInCode) {
  ServerConfig c;
  EXPECT_TRUE(ValidateServerConfig(c).ok());
  auto expect_bad = [](const ServerConfig& c, const std::string& key) {
    Status st = ValidateServerConfig(c);
    ASSERT_FALSE(st.ok()) << key;
    EXPECT_EQ(st.message().rfind(key, 0), 0u) << st.message();
  };
  ServerConfig x = c;
  x.listen = "nohost";
  expect_bad(x, "listen");
  x = c;
  x.policy = "nope";
  expect_bad(x, "policy");
  x = c;
  x.dispatch = "";
  expect_bad(x, "dispatch");
  x = c;
  x.pass_interval_ms = 0;
  expect_bad(x, "pass_interval_ms");
  x = c;
  x.center_timeout_s = 0;
  expect_bad(x, "center_timeout_s");
  x = c;
  x.tls_key = "k.pem";
  expect_bad(x, "tls_key");
  x = c;
  x.centers.push_back({"a", BackendConfig{}, ""});
  x.centers.back().backend.kind = "cloud";
  expect_bad(x, "centers[0]");
  x = c;
  x.centers.push_back({"a", BackendConfig{}, ""});
  x.centers.back().backend.kind = "local";
  x.centers.push_back(x.centers.back());
  expect_bad(x, "centers[1]");
  x = c;
  x.listen = "[::1]:8080";
  EXPECT_TRUE(ValidateServerConfig(x).ok());
}

}  // namespace
}  // namespace suanli::live
