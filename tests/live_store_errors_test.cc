// The control plane's SQLite store's errors: clear messages for bad paths,
// files that are not databases, another program's database or a newer
// schema, malformed rows (the other rows stay readable) and a corrupt file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "live/store.h"
#include "support/cli.h"
#include "support/store.h"

namespace suanli::live {
namespace {

using ::suanli::testing::ExpectSameJob;
using ::suanli::testing::Fast;
using ::suanli::testing::Fetch;
using ::suanli::testing::FullJob;
using ::suanli::testing::Ids;
using ::suanli::testing::OpenOrDie;
using ::suanli::testing::RawExec;
using ::suanli::testing::TempDir;

// --- errors ---

std::string OpenError(const std::string& path) {
  auto s = Store::Open(path);
  EXPECT_FALSE(s.ok()) << path << " opened";
  return s.ok() ? "" : s.status().message();
}

TEST(LiveStoreErrors, BadPaths) {
  auto dir = TempDir("store_bad_paths");
  { std::ofstream(dir + "/plain") << "x"; }
  std::string e = OpenError(dir + "/plain/sub/store.db");
  EXPECT_NE(e.find(dir + "/plain/sub/store.db"), std::string::npos) << e;
  EXPECT_NE(e.find("cannot create the directory"), std::string::npos) << e;

  std::filesystem::create_directories(dir + "/isdir.db");
  e = OpenError(dir + "/isdir.db");
  EXPECT_NE(e.find(dir + "/isdir.db"), std::string::npos) << e;
  EXPECT_NE(e.find("directory"), std::string::npos) << e;

  EXPECT_FALSE(Store::Open("").ok());

  if (geteuid() != 0) {  // root ignores permissions
    std::filesystem::create_directories(dir + "/ro");
    std::filesystem::permissions(dir + "/ro", std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
    e = OpenError(dir + "/ro/store.db");
    EXPECT_NE(e.find(dir + "/ro/store.db"), std::string::npos) << e;
    std::filesystem::permissions(dir + "/ro", std::filesystem::perms::owner_all);
  }
}

TEST(LiveStoreErrors, NotADatabase) {
  auto dir = TempDir("store_not_db");
  const std::string path = dir + "/store.db";
  {
    std::ofstream out(path);
    for (int i = 0; i < 200; ++i) out << "this is a text file, not a database\n";
  }
  std::string e = OpenError(path);
  EXPECT_NE(e.find(path), std::string::npos) << e;
  EXPECT_NE(e.find("not a database"), std::string::npos) << e;
  // The file is left as it was.
  EXPECT_EQ(std::filesystem::file_size(path), 200u * 36u);
}

TEST(LiveStoreErrors, AnotherProgramsDatabaseAndNewerSchema) {
  auto dir = TempDir("store_schema");
  const std::string other = dir + "/other.db";
  RawExec(other, "CREATE TABLE photos (id INTEGER PRIMARY KEY, data BLOB)");
  std::string e = OpenError(other);
  EXPECT_NE(e.find(other), std::string::npos) << e;
  EXPECT_NE(e.find("another program"), std::string::npos) << e;

  const std::string newer = dir + "/newer.db";
  {
    auto s = OpenOrDie(newer);
    ASSERT_TRUE(s);
  }
  RawExec(newer, "PRAGMA user_version = 99");
  e = OpenError(newer);
  EXPECT_NE(e.find(newer), std::string::npos) << e;
  EXPECT_NE(e.find("schema version 99"), std::string::npos) << e;
}

// Rows changed behind the store's back (bad JSON, wrong shapes, numbers out
// of range) give an error naming the file, the job and the column; the other
// rows stay readable.
TEST(LiveStoreErrors, MalformedRows) {
  auto dir = TempDir("store_bad_rows");
  const std::string path = dir + "/store.db";
  {
    auto s = OpenOrDie(path, Fast());
    ASSERT_TRUE(s);
    for (int i = 0; i < 12; ++i) ASSERT_TRUE(s->InsertJob(FullJob()).ok());
  }
  RawExec(path,
          "UPDATE jobs SET command = '{\"a\": \"b\"}' WHERE id = 1;"
          "UPDATE jobs SET env = '[\"x\"]' WHERE id = 2;"
          "UPDATE jobs SET devices = '[1.5]' WHERE id = 3;"
          "UPDATE jobs SET models = 'not json' WHERE id = 4;"
          "UPDATE jobs SET stacks = '[\"a\", [\"b\"]]' WHERE id = 5;"
          "UPDATE jobs SET env = '{\"K\": 7}' WHERE id = 6;"
          "UPDATE jobs SET devices = '[1, 99999999999]' WHERE id = 7;"
          "UPDATE jobs SET gpus = -1 WHERE id = 8;"
          "UPDATE jobs SET priority = 4000000000 WHERE id = 9;"
          "UPDATE jobs SET command = '[\"a\"] [\"b\"]' WHERE id = 10;");
  auto s = OpenOrDie(path);
  ASSERT_TRUE(s);
  const std::vector<std::pair<int64_t, std::string>> bad = {
      {1, "command"}, {2, "env"},     {3, "devices"}, {4, "models"},   {5, "stacks"},
      {6, "env"},     {7, "devices"}, {8, "gpus"},    {9, "priority"}, {10, "command"}};
  for (const auto& [id, column] : bad) {
    auto g = s->GetJob(id);
    ASSERT_FALSE(g.ok()) << "job " << id << " read despite a bad " << column;
    const std::string& m = g.status().message();
    EXPECT_NE(m.find(path), std::string::npos) << m;
    EXPECT_NE(m.find(fmt::format("job {}:", id)), std::string::npos) << m;
    EXPECT_NE(m.find("column " + column), std::string::npos) << m;
  }
  JobRecord good = FullJob();
  good.id = 11;
  ExpectSameJob(Fetch(*s, 11), good);
  JobFilter f;
  f.limit = 2;
  auto newest = s->ListJobs(f);
  ASSERT_TRUE(newest.ok()) << newest.status().message();
  EXPECT_EQ(Ids(*newest), (std::vector<int64_t>{12, 11}));
  f.limit = 100;
  auto all = s->ListJobs(f);
  ASSERT_FALSE(all.ok());
  EXPECT_NE(all.status().message().find("job 10:"), std::string::npos) << all.status().message();
}

TEST(LiveStoreErrors, CorruptFile) {
  auto dir = TempDir("store_corrupt");
  const std::string path = dir + "/store.db";
  {
    auto s = OpenOrDie(path, Fast());
    ASSERT_TRUE(s);
    for (int i = 0; i < 300; ++i) {
      JobRecord r = FullJob();
      ASSERT_TRUE(s->InsertJob(r).ok());
    }
  }
  const auto size = std::filesystem::file_size(path);
  ASSERT_GT(size, 40000u);
  // Garbage over every page but the first (the header and the schema).
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    std::string junk(size - 4096, '\xA5');
    f.seekp(4096);
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  auto opened = Store::Open(path);
  if (opened.ok()) {
    // Opening reads only the first page; queries meet the damage and say so.
    auto l = (*opened)->ListJobs(JobFilter{});
    ASSERT_FALSE(l.ok());
    EXPECT_NE(l.status().message().find(path), std::string::npos) << l.status().message();
    EXPECT_NE(l.status().message().find("malformed"), std::string::npos) << l.status().message();
    auto g = (*opened)->GetJob(5);
    EXPECT_FALSE(g.ok());
  } else {
    EXPECT_NE(opened.status().message().find(path), std::string::npos) << opened.status().message();
  }
  // Garbage over the header: not a database.
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    std::string junk(100, '\x5A');
    f.seekp(0);
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  std::string e = OpenError(path);
  EXPECT_NE(e.find(path), std::string::npos) << e;
}

}  // namespace
}  // namespace suanli::live
