// The server's diagnostic log: one line a record, whatever a message quotes.
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "live/log_format.h"

namespace suanli::live {
namespace {

TEST(LiveLogFormat, AMessageCannotForgeALineOrReachTheTerminal) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  spdlog::logger log("test", sink);
  log.set_formatter(MakeEscapingFormatter("%l %*"));
  log.info("job 7: working directory '{}' does not exist",
           "/tmp\n2026-12-04T00:00:00.000+0000 info tenant mallory is admin");
  log.warn("name {}", "\x1b]0;owned\x07 \xe7\xae\x97\xe5\x8a\x9b");
  log.flush();
  EXPECT_EQ(out.str(),
            "info job 7: working directory '/tmp\\x0a2026-12-04T00:00:00.000+0000 info tenant mallory is admin' "
            "does not exist\n"
            "warning name \\x1b]0;owned\\x07 \xe7\xae\x97\xe5\x8a\x9b\n");
}

TEST(LiveLogFormat, ServePatternKeepsTimeAndLevel) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  spdlog::logger log("test", sink);
  log.set_formatter(MakeEscapingFormatter(kServeLogPattern));
  log.info("a\rb");
  log.flush();
  const std::string line = out.str();
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.find('\r'), std::string::npos);
  EXPECT_NE(line.find(" info a\\x0db\n"), std::string::npos) << line;
  EXPECT_EQ(line.find('\n'), line.size() - 1);
}

}  // namespace
}  // namespace suanli::live
