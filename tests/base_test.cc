#include <gtest/gtest.h>

#include "base/rng.h"
#include "base/status.h"
#include "base/strings.h"
#include "base/time.h"

namespace suanli {
namespace {

TEST(Strings, ParseIntIsStrict) {
  EXPECT_EQ(ParseInt("42"), 42);
  EXPECT_EQ(ParseInt(" -7 "), -7);
  EXPECT_FALSE(ParseInt("4x"));
  EXPECT_FALSE(ParseInt(""));
  EXPECT_FALSE(ParseInt("1.5"));
}

TEST(Strings, ParseDoubleRejectsGarbageAndNonFinite) {
  EXPECT_DOUBLE_EQ(*ParseDouble("1.5"), 1.5);
  EXPECT_FALSE(ParseDouble("nan"));
  EXPECT_FALSE(ParseDouble("inf"));
  EXPECT_FALSE(ParseDouble("1.5s"));
}

TEST(Strings, EscapeControlsKeepsTextAndShowsControls) {
  EXPECT_EQ(EscapeControls("train-llama 7b, run #3"), "train-llama 7b, run #3");
  EXPECT_EQ(EscapeControls("\u7b97\u529b \u00e9"), "\u7b97\u529b \u00e9");  // valid UTF-8 unchanged
  EXPECT_EQ(EscapeControls("a\nb"), "a\\x0ab");
  EXPECT_EQ(EscapeControls("\x1b[2J\x1b]0;pwned\x07"), "\\x1b[2J\\x1b]0;pwned\\x07");
  EXPECT_EQ(EscapeControls("tab\there\rdel\x7f"), "tab\\x09here\\x0ddel\\x7f");
  EXPECT_EQ(EscapeControls("c1\xc2\x9b"
                           "31m"),
            "c1\\xc2\\x9b31m");                                  // C1 CSI
  EXPECT_EQ(EscapeControls("bad\xff\xc3"), "bad\\xff\\xc3");     // not UTF-8
  EXPECT_EQ(EscapeControls("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a surrogate
  EXPECT_EQ(EscapeControls(std::string_view("nul\0x", 5)), "nul\\x00x");
}

TEST(Rng, SameSeedSameSequence) {
  Rng a(7), b(7), c(8);
  for (int i = 0; i < 100; ++i) {
    uint64_t x = a.Next();
    EXPECT_EQ(x, b.Next());
    (void)c;
  }
  EXPECT_NE(Rng(7).Next(), Rng(8).Next());
}

TEST(Rng, BelowStaysInRange) {
  Rng r(1);
  for (int i = 0; i < 10000; ++i) EXPECT_LT(r.Below(7), 7u);
}

TEST(Time, FormatDuration) {
  EXPECT_EQ(FormatDuration(Seconds(59)), "59s");
  EXPECT_EQ(FormatDuration(Seconds(3661)), "1h01m01s");
  EXPECT_EQ(FormatDuration(Seconds(90000)), "1d01h00m");
}

TEST(Status, ResultCarriesValueOrError) {
  Result<int> ok = 3;
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 3);
  Result<int> bad = InvalidArgument("bad {}", 1);
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "bad 1");
}

}  // namespace
}  // namespace suanli

#include <zlib.h>

#include <cstdio>
#include <filesystem>

#include "io/line_reader.h"

namespace suanli {
namespace {

TEST(LineReader, TruncatedGzipIsAnError) {
  std::string path = (std::filesystem::temp_directory_path() / "suanli_trunc_test.gz").string();
  gzFile g = gzopen(path.c_str(), "wb");
  ASSERT_TRUE(g);
  for (int i = 0; i < 2000; ++i) gzprintf(g, "line %d with some text to compress\n", i);
  gzclose(g);
  auto size = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, size / 2);
  auto r = LineReader::Open(path);
  ASSERT_TRUE(r.ok());
  std::string_view line;
  size_t n = 0;
  while ((*r)->Next(&line)) ++n;
  EXPECT_LT(n, 2000u);
  EXPECT_FALSE((*r)->status().ok());
  EXPECT_NE((*r)->status().message().find("truncated"), std::string::npos) << (*r)->status().message();
  auto whole = ReadFileMaybeGz(path);
  EXPECT_FALSE(whole.ok());
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace suanli
