// CSV fields as every writer of the project writes them, read back by the
// project's reader.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "io/csv.h"

namespace suanli {
namespace {

TEST(IoCsv, FieldsRoundTripThroughTheReaderOnOneLine) {
  const std::vector<std::string> values = {"plain", "",           "a,b",    "say \"hi\"",      "\"",
                                           ",",     "two\nlines", "cr\rlf", "算力, \"quoted\""};
  std::string line;
  for (size_t i = 0; i < values.size(); ++i) line += (i ? "," : "") + CsvField(values[i]);
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  std::vector<std::string_view> fields;
  std::vector<std::string> storage;
  ASSERT_TRUE(SplitCsv(line, ',', &fields, &storage)) << line;
  ASSERT_EQ(fields.size(), values.size()) << line;
  for (size_t i = 0; i < values.size(); ++i) {
    std::string want = values[i];
    for (char& c : want)
      if (c == '\n' || c == '\r') c = ' ';  // a line break becomes a space
    EXPECT_EQ(fields[i], want) << i;
  }
  EXPECT_EQ(CsvField("plain"), "plain");
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
}

}  // namespace
}  // namespace suanli
