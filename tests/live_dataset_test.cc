// Datasets live (docs/datasets.md): the registry (sizes measured under a
// center's data root, each tenant's own, kept across restarts), a job's
// dataset copied by the stage command to the center it runs at before it
// reaches that center, read-only there and alone of the data root in its
// sandbox; a failed copy fails the job with the command's words; centers
// without data roots wait the modelled transfer time.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "live/control.h"
#include "live/sandbox.h"
#include "live/store.h"
#include "support/live_control.h"

namespace suanli::live {
namespace {

namespace fs = std::filesystem;
using ::suanli::testing::live_control::kAdmin;
using ::suanli::testing::live_control::kAlice;
using ::suanli::testing::live_control::kBob;
using ::suanli::testing::live_control::ReadText;
using ::suanli::testing::live_control::ScratchDir;
using ::suanli::testing::live_control::Sh;
using ::suanli::testing::live_control::SimulatedConfig;
using ::suanli::testing::live_control::StartOrDie;
using ::suanli::testing::live_control::StateOf;
using ::suanli::testing::live_control::WaitFor;
using ::suanli::testing::live_control::WriteText;

// The tiny network with its two centers, east and west, run by this machine,
// each with a data root.
ServerConfig TwoDataRoots(const ScratchDir& dir) {
  ServerConfig cfg = SimulatedConfig(dir / "data", "tiny");
  for (const char* name : {"east", "west"}) {
    CenterConfig c;
    c.name = name;
    c.backend.kind = "local";
    c.backend.slots = 2;
    c.backend.detect_gpus = false;
    c.backend.grace_s = 1;
    c.data_root = dir / (std::string("root-") + name);
    fs::create_directories(c.data_root);
    cfg.centers.push_back(c);
  }
  return cfg;
}

Dataset Named(const std::string& name, const std::string& center, int64_t size_bytes = -1) {
  Dataset d;
  d.name = name;
  d.center = center;
  d.size_bytes = size_bytes;
  return d;
}

bool Ended(ControlPlane& cp, int64_t id) { return IsTerminal(StateOf(cp, id)); }

std::vector<std::string> Kinds(const JobRecord& r) {
  std::vector<std::string> k;
  for (const JobEvent& e : r.events) k.push_back(e.kind);
  return k;
}

const JobEvent* FindEvent(const JobRecord& r, std::string_view kind) {
  for (const JobEvent& e : r.events)
    if (e.kind == kind) return &e;
  return nullptr;
}

// Submits `command` for alice, pinned to west and naming her dataset
// corpus, and waits for it to end: its record (empty if it never did).
JobRecord EndedAtWestWithCorpus(ControlPlane& cp, const std::string& command) {
  JobSpec s = Sh(command);
  s.center = "west";
  s.dataset = "corpus";
  auto j = cp.Submit(kAlice, s);
  EXPECT_TRUE(j.ok()) << j.status().message();
  if (!j.ok() || !WaitFor(cp, [&] { return Ended(cp, j->id); })) return {};
  auto r = cp.Get(kAlice, j->id);
  return r.ok() ? *r : JobRecord{};
}

TEST(LiveDatasets, ADatasetIsCopiedWhereItsJobRunsAndIsAllItSeesOfTheDataRoots) {
  ScratchDir dir;
  const ServerConfig cfg = TwoDataRoots(dir);
  const std::string east = cfg.centers[0].data_root, west = cfg.centers[1].data_root;
  fs::create_directories(east + "/alice/corpus/sub");
  WriteText(east + "/alice/corpus/a.txt", "corpus-a\n");
  WriteText(east + "/alice/corpus/sub/b.bin", std::string(1000, 'b'));
  fs::create_directories(west + "/bob/private");
  WriteText(west + "/bob/private/secret", "bob's\n");
  auto cp = StartOrDie(cfg);
  ASSERT_TRUE(cp);

  // Registered where it lives; its size is measured there.
  auto corpus = cp->RegisterDataset(kAlice, Named("corpus", "east"));
  ASSERT_TRUE(corpus.ok()) << corpus.status().message();
  EXPECT_EQ(corpus->tenant, "alice");
  EXPECT_EQ(corpus->size_bytes, 9 + 1000);
  ASSERT_TRUE(cp->RegisterDataset(kBob, Named("private", "west")).ok());
  // What cannot be registered, and why.
  auto bad = cp->RegisterDataset(kAlice, Named("../etc", "east"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().field(), "name");
  bad = cp->RegisterDataset(kAlice, Named("corpus", "mars"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().field(), "center");
  bad = cp->RegisterDataset(kAlice, Named("absent", "east"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(bad.status().message().find("put its files there first"), std::string::npos) << bad.status().message();
  // A job names a dataset of its own tenant's.
  JobSpec other = Sh("true");
  other.dataset = "private";
  auto refused = cp->Submit(kAlice, other);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().field(), "dataset");

  // At west it reads its copy; it cannot change it, nor see bob's.
  const std::string script =
      "cat \"$SUANLI_DATASET_DIR/a.txt\"; ls \"$SUANLI_DATASET_DIR/sub\"; "
      "touch \"$SUANLI_DATASET_DIR/new\" 2>/dev/null && echo writable || echo read-only; "
      "cat " +
      west + "/bob/private/secret 2>/dev/null || echo bob-hidden; echo dir=$SUANLI_DATASET_DIR";
  JobSpec at_west = Sh(script);
  at_west.center = "west";
  at_west.dataset = "corpus";
  auto jw = cp->Submit(kAlice, at_west);
  ASSERT_TRUE(jw.ok()) << jw.status().message();
  JobSpec at_east = at_west;
  at_east.center = "east";
  auto je = cp->Submit(kAlice, at_east);
  ASSERT_TRUE(je.ok()) << je.status().message();
  ASSERT_TRUE(WaitFor(*cp, [&] { return Ended(*cp, jw->id) && Ended(*cp, je->id); }));

  auto w = cp->Get(kAlice, jw->id);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->state, JobState::kSucceeded) << w->reason;
  const std::string out = ReadText(*cp->LogPath(kAlice, jw->id, "stdout"));
  EXPECT_NE(out.find("corpus-a"), std::string::npos) << out;
  EXPECT_NE(out.find("b.bin"), std::string::npos) << out;
  EXPECT_NE(out.find("dir=" + west + "/alice/corpus"), std::string::npos) << out;
  JobCgroups cg(DetectCgroupLayout(), "suanli-test");
  const bool sandboxed = DetectIsolationCaps(cg).bwrap_works;
  if (sandboxed) {
    EXPECT_NE(out.find("read-only"), std::string::npos) << out;
    EXPECT_NE(out.find("bob-hidden"), std::string::npos) << out;
  }
  // Copied, then queued there: its history says so and how long the copy took.
  const std::vector<std::string> kinds = Kinds(*w);
  auto staged = std::find(kinds.begin(), kinds.end(), "staged");
  ASSERT_NE(staged, kinds.end());
  EXPECT_EQ(kinds.front(), "submitted");
  EXPECT_EQ(*(staged - 1), "dispatched");
  EXPECT_EQ(*(staged + 1), "dispatched");
  EXPECT_EQ(*(staged + 2), "started");
  EXPECT_NE(FindEvent(*w, "staged")->message.find("dataset corpus from east to west in "), std::string::npos)
      << FindEvent(*w, "staged")->message;
  EXPECT_EQ(ReadText(west + "/alice/corpus/a.txt"), "corpus-a\n");
  EXPECT_EQ(fs::file_size(west + "/alice/corpus/sub/b.bin"), 1000u);
  EXPECT_FALSE(fs::exists(east + "/alice/corpus/new"));
  auto reg = cp->GetDataset(kAlice, "corpus");
  ASSERT_TRUE(reg.ok());
  ASSERT_EQ(reg->copies.size(), 1u);
  EXPECT_EQ(reg->copies[0].center, "west");

  // At east, where it lives, nothing is copied.
  auto e = cp->Get(kAlice, je->id);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->state, JobState::kSucceeded) << e->reason;
  EXPECT_EQ(FindEvent(*e, "staged"), nullptr);
  EXPECT_NE(ReadText(*cp->LogPath(kAlice, je->id, "stdout")).find("corpus-a"), std::string::npos);
  cp->Stop();
}

TEST(LiveDatasets, EachTenantSeesItsOwnTheRegistryOutlivesARestartAndInUseIsNotDeleted) {
  ScratchDir dir;
  const ServerConfig cfg = TwoDataRoots(dir);
  fs::create_directories(cfg.centers[0].data_root + "/alice/corpus");
  WriteText(cfg.centers[0].data_root + "/alice/corpus/x", "12345");
  {
    auto cp = StartOrDie(cfg);
    ASSERT_TRUE(cp);
    ASSERT_TRUE(cp->RegisterDataset(kAlice, Named("corpus", "east")).ok());
    // At a center with a data root a given size does not stand in for the directory.
    EXPECT_FALSE(cp->RegisterDataset(kBob, Named("logs", "west", 0)).ok());
    cp->Stop();
  }
  auto cp = StartOrDie(cfg);
  ASSERT_TRUE(cp);
  auto mine = cp->Datasets(kAlice);
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->size(), 1u);
  EXPECT_EQ((*mine)[0].size_bytes, 5);
  EXPECT_TRUE(cp->Datasets(kBob)->empty());
  EXPECT_EQ(cp->Datasets(kAdmin)->size(), 1u);
  EXPECT_EQ(cp->GetDataset(kBob, "corpus").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(cp->DeleteDataset(kBob, "corpus").code(), StatusCode::kNotFound);

  // While a job that uses it is active it stays; then it goes.
  JobSpec s = Sh("sleep 30");
  s.center = "east";
  s.dataset = "corpus";
  auto j = cp->Submit(kAlice, s);
  ASSERT_TRUE(j.ok()) << j.status().message();
  Status busy = cp->DeleteDataset(kAlice, "corpus");
  EXPECT_EQ(busy.code(), StatusCode::kFailedPrecondition) << busy.message();
  EXPECT_NE(busy.message().find(std::to_string(j->id)), std::string::npos) << busy.message();
  ASSERT_TRUE(cp->Cancel(kAlice, j->id).ok());
  ASSERT_TRUE(WaitFor(*cp, [&] { return Ended(*cp, j->id); }));
  EXPECT_TRUE(cp->DeleteDataset(kAlice, "corpus").ok());
  EXPECT_TRUE(cp->Datasets(kAlice)->empty());
  EXPECT_TRUE(fs::exists(cfg.centers[0].data_root + "/alice/corpus/x"));  // its files stay
  cp->Stop();
}

TEST(LiveDatasets, AFailedCopyFailsItsJobWithTheStageCommandsWords) {
  ScratchDir dir;
  ServerConfig cfg = TwoDataRoots(dir);
  // $1 and $2 are the directories, $3 and $4 the centers.
  cfg.stage_command = {"sh",           "-c",          "echo \"no route from $3 to $4\" >&2; exit 3",
                       "stage",        "{src}",       "{dst}",
                       "{src_center}", "{dst_center}"};
  fs::create_directories(cfg.centers[0].data_root + "/alice/corpus");
  auto cp = StartOrDie(cfg);
  ASSERT_TRUE(cp);
  ASSERT_TRUE(cp->RegisterDataset(kAlice, Named("corpus", "east")).ok());
  const JobRecord r = EndedAtWestWithCorpus(*cp, "echo ran");
  EXPECT_EQ(r.state, JobState::kFailed);
  EXPECT_NE(r.reason.find("staging its dataset corpus from east to west failed"), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("no route from east to west"), std::string::npos) << r.reason;
  EXPECT_TRUE(r.attempts.empty());  // it never ran
  EXPECT_TRUE(cp->GetDataset(kAlice, "corpus")->copies.empty());
  cp->Stop();
}

// Attack: a dataset's directory, or its tenant's, replaced by a symbolic
// link to somewhere else (which a job that can write a data root, e.g. on a
// Slurm center, could make). Registration would measure, and the stage
// command (run as the server) read or write, wherever the link points; both
// refuse it, and nothing is copied from or to the link's target.
TEST(LiveDatasets, SymbolicLinksForADatasetOrItsTenantAreRefusedNotFollowed) {
  ScratchDir dir;
  ServerConfig cfg = TwoDataRoots(dir);
  const fs::path east = cfg.centers[0].data_root, west = cfg.centers[1].data_root;
  fs::create_directories(dir / "secret");
  WriteText(dir / "secret/key", "private\n");
  fs::create_directories(east / "alice");
  fs::create_directory_symlink(dir / "secret", east / "alice/stolen");
  fs::create_directories(east / "alice/corpus");
  WriteText(east / "alice/corpus/x", "data\n");
  fs::create_directory_symlink(dir / "secret", east / "bob");  // bob's tenant directory
  auto cp = StartOrDie(cfg);
  ASSERT_TRUE(cp);

  auto stolen = cp->RegisterDataset(kAlice, Named("stolen", "east"));
  ASSERT_FALSE(stolen.ok());
  EXPECT_EQ(stolen.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(stolen.status().message().find("symbolic link"), std::string::npos) << stolen.status().message();
  auto bobs = cp->RegisterDataset(kBob, Named("key", "east"));
  ASSERT_FALSE(bobs.ok());
  EXPECT_NE(bobs.status().message().find("symbolic link"), std::string::npos) << bobs.status().message();
  EXPECT_TRUE(cp->Datasets(kAdmin)->empty());

  // Registered while real, then swapped for a link before its copy.
  ASSERT_TRUE(cp->RegisterDataset(kAlice, Named("corpus", "east")).ok());
  fs::remove_all(east / "alice/corpus");
  fs::create_directory_symlink(dir / "secret", east / "alice/corpus");
  const std::string read_key = "cat \"$SUANLI_DATASET_DIR\"/key";
  JobRecord r = EndedAtWestWithCorpus(*cp, read_key);
  EXPECT_EQ(r.state, JobState::kFailed);
  EXPECT_NE(r.reason.find("symbolic link"), std::string::npos) << r.reason;
  EXPECT_TRUE(r.attempts.empty());
  EXPECT_FALSE(fs::exists(west / "alice/corpus/key"));

  // The destination: alice's directory at west is a link out of the root.
  fs::remove(east / "alice/corpus");
  fs::create_directories(east / "alice/corpus");
  WriteText(east / "alice/corpus/x", "data\n");
  fs::create_directories(dir / "elsewhere");
  fs::create_directory_symlink(dir / "elsewhere", west / "alice");
  r = EndedAtWestWithCorpus(*cp, read_key);
  EXPECT_EQ(r.state, JobState::kFailed);
  EXPECT_NE(r.reason.find((west / "alice").string() + " is a symbolic link"), std::string::npos) << r.reason;
  EXPECT_TRUE(fs::is_empty(dir / "elsewhere"));
  cp->Stop();
}

// A dataset deleted while jobs that name it are being submitted: each job
// is refused (400), or the delete is (409), or the job fails saying its
// dataset is not registered any more. None is queued without its dataset,
// which would send it to a center its data was never copied to. A stress
// test: the races it looks for are narrow, and it seldom meets one (the
// next test reaches the same check for certain).
TEST(LiveDatasets, DeletingADatasetWhileJobsNamingItArriveLeavesNoJobWithoutIt) {
  ScratchDir dir;
  ServerConfig cfg = TwoDataRoots(dir);
  cfg.stage_command = {"test", "-d", "{src}", "-a", "-n", "{dst}"};  // no copy: fast
  fs::create_directories(cfg.centers[0].data_root + "/alice/corpus");
  auto cp = StartOrDie(cfg);
  ASSERT_TRUE(cp);
  ASSERT_TRUE(cp->RegisterDataset(kAlice, Named("corpus", "east")).ok());
  std::atomic<bool> done{false};
  std::atomic<int> deletes{0};
  std::thread churn([&] {
    while (!done) {
      if (cp->DeleteDataset(kAlice, "corpus").ok()) ++deletes;
      (void)cp->RegisterDataset(kAlice, Named("corpus", "east"));
      std::this_thread::sleep_for(std::chrono::microseconds(300));  // registered most of the time
    }
  });
  // Jobs arrive in batches of ten, racing the deletes; between batches
  // every job of the batch ends, so that the deletes, refused while a job
  // uses the dataset, succeed again, however slow the machine (a batch takes
  // about 8 s in the sanitizers' build, 0.4 s in a normal one).
  std::vector<int64_t> accepted;
  std::string last_refusal;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(180);
  auto check = [&](int64_t id) {
    ASSERT_TRUE(WaitFor(*cp, [&] { return Ended(*cp, id); })) << "job " << id;
    auto r = cp->Get(kAlice, id);
    if (r->state == JobState::kFailed) {
      EXPECT_NE(r->reason.find("its dataset corpus is not registered any more"), std::string::npos)
          << "job " << id << ": " << r->reason;
      EXPECT_TRUE(r->attempts.empty());
    } else {
      EXPECT_EQ(r->state, JobState::kSucceeded) << "job " << id << ": " << r->reason;
      EXPECT_NE(FindEvent(*r, "staged"), nullptr) << "job " << id << " ran at west without its dataset";
    }
  };
  while ((accepted.size() < 40 || deletes.load() == 0) && std::chrono::steady_clock::now() < until) {
    const size_t batch = accepted.size();
    while (accepted.size() < batch + 10 && std::chrono::steady_clock::now() < until) {
      JobSpec s = Sh("true");
      s.center = "west";
      s.dataset = "corpus";
      if (auto j = cp->Submit(kAlice, s); j.ok()) {
        accepted.push_back(j->id);
      } else {
        last_refusal = j.status().message();
        std::this_thread::sleep_for(std::chrono::microseconds(100));  // deleted: until it is registered again
      }
    }
    for (size_t i = batch; i < accepted.size(); ++i) check(accepted[i]);
    if (::testing::Test::HasFatalFailure()) break;
  }
  done = true;
  churn.join();
  ASSERT_GE(accepted.size(), 40u) << last_refusal;
  EXPECT_GT(deletes.load(), 0);
  cp->Stop();
}

// A pending job whose dataset is no longer registered when the server
// starts again (deleted from the store while it was down) fails, saying
// so, instead of being sent to a center its data was never copied to.
TEST(LiveDatasets, APendingJobWhoseDatasetIsGoneAtRestartFailsSayingSo) {
  ScratchDir dir;
  const ServerConfig cfg = TwoDataRoots(dir);
  fs::create_directories(cfg.centers[0].data_root + "/alice/corpus");
  std::vector<int64_t> fill;
  int64_t waiting = 0;
  {
    auto cp = StartOrDie(cfg);
    ASSERT_TRUE(cp);
    ASSERT_TRUE(cp->RegisterDataset(kAlice, Named("corpus", "east")).ok());
    for (int i = 0; i < 2; ++i) {  // west's two slots
      JobSpec f = Sh("sleep 60");
      f.center = "west";
      auto r = cp->Submit(kBob, f);
      ASSERT_TRUE(r.ok());
      fill.push_back(r->id);
    }
    ASSERT_TRUE(WaitFor(*cp, [&] {
      return StateOf(*cp, fill[0]) == JobState::kRunning && StateOf(*cp, fill[1]) == JobState::kRunning;
    }));
    JobSpec s = Sh("true");
    s.center = "west";
    s.dataset = "corpus";
    auto j = cp->Submit(kAlice, s);
    ASSERT_TRUE(j.ok());
    waiting = j->id;
    ASSERT_TRUE(WaitFor(*cp, [&] { return FindEvent(*cp->Get(kAlice, waiting), "staged") != nullptr; }));
    EXPECT_EQ(StateOf(*cp, waiting), JobState::kPending);
    cp->Stop();
  }
  {
    auto store = Store::Open(cfg.data_dir + "/suanli.db");
    ASSERT_TRUE(store.ok()) << store.status().message();
    ASSERT_TRUE((*store)->DeleteDataset("alice", "corpus").ok());
  }
  auto cp = StartOrDie(cfg);
  ASSERT_TRUE(cp);
  ASSERT_TRUE(WaitFor(*cp, [&] { return Ended(*cp, waiting); }));
  auto r = cp->Get(kAlice, waiting);
  EXPECT_EQ(r->state, JobState::kFailed);
  EXPECT_NE(r->reason.find("its dataset corpus is not registered any more"), std::string::npos) << r->reason;
  EXPECT_TRUE(r->attempts.empty());
  for (int64_t id : fill) (void)cp->Cancel(kBob, id);
  for (int64_t id : fill) EXPECT_TRUE(WaitFor(*cp, [&] { return Ended(*cp, id); }));
  cp->Stop();
}

// Simulated centers have no data roots: a job waits the time the dispatcher
// counts for its dataset (size over the link's bandwidth, plus its latency).
TEST(LiveDatasets, WithoutDataRootsAJobWaitsTheModelledTransfer) {
  ScratchDir dir;
  ServerConfig cfg = SimulatedConfig(dir / "data", "tiny");
  std::atomic<WallMs> now{WallMs(1'800'000'000'000)};
  cfg.clock = [&now] { return CoreTime(now.load()); };  // µs
  auto cp = StartOrDie(cfg);
  ASSERT_TRUE(cp);
  // 1,000 GB over tiny's 100 Gb/s east-west link with 30 ms latency: 80.03 s.
  auto bad = cp->RegisterDataset(kAlice, Named("weights", "east"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().field(), "size_gb");
  ASSERT_TRUE(cp->RegisterDataset(kAlice, Named("weights", "east", 1'000'000'000'000)).ok());
  JobSpec s = Sh("true");
  s.gpus = 1;
  s.center = "west";
  s.dataset = "weights";
  s.duration_s = 10;
  auto j = cp->Submit(kAlice, s);
  ASSERT_TRUE(j.ok()) << j.status().message();
  const WallMs submitted = now.load();
  ASSERT_TRUE(WaitFor(*cp, [&] { return cp->Get(kAlice, j->id)->reason.starts_with("staging its dataset until"); }));
  auto r = cp->Get(kAlice, j->id);
  EXPECT_EQ(r->est_start_ms.ms() - submitted.ms(), 80'030) << r->reason;
  now.store(WallMs(submitted.ms() + 79'000));
  cp->PassNow();
  EXPECT_EQ(StateOf(*cp, j->id), JobState::kPending);
  now.store(WallMs(submitted.ms() + 80'100));
  ASSERT_TRUE(WaitFor(*cp, [&] { return StateOf(*cp, j->id) == JobState::kRunning; }));
  EXPECT_EQ(cp->Get(kAlice, j->id)->center, "west");
  cp->Stop();
}

}  // namespace
}  // namespace suanli::live
