// The one in-memory gzip reader (io/line_reader.h MaybeGunzip): plain data
// as is, gzip unpacked, corrupt, truncated and oversized (bomb) data refused.
#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

#include "io/line_reader.h"

namespace suanli {
namespace {

std::string Gzip(const std::string& in) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, in.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

TEST(IoGunzip, PlainGzipCorruptTruncatedAndBombs) {
  auto plain = MaybeGunzip("a,b\n1,2\n", "t.csv");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(*plain, "a,b\n1,2\n");
  const std::string text(3 << 20, 'x');  // 3 MiB
  const std::string gz = Gzip(text);
  ASSERT_LT(gz.size(), 64u << 10);
  auto back = MaybeGunzip(gz, "t.gz");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, text);
  auto bomb = MaybeGunzip(gz, "t.gz", 1 << 20);  // more than 1 MiB unpacked
  ASSERT_FALSE(bomb.ok());
  EXPECT_NE(bomb.status().message().find("t.gz: more than 1 MiB when unpacked"), std::string::npos)
      << bomb.status().message();
  auto cut = MaybeGunzip(gz.substr(0, gz.size() / 2), "t.gz");
  ASSERT_FALSE(cut.ok());
  EXPECT_NE(cut.status().message().find("truncated"), std::string::npos) << cut.status().message();
  std::string bad = gz;
  for (size_t i = 20; i < 60 && i < bad.size(); ++i) bad[i] = static_cast<char>(bad[i] ^ 0x5a);
  EXPECT_FALSE(MaybeGunzip(bad, "t.gz").ok());
}

}  // namespace
}  // namespace suanli
