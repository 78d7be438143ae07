// Backups and restores in process (transfer/backup.h): a restored root
// answers exactly as the source did; backups are incremental; pruning keeps
// what kept backups list; a corrupt object is named; s3:// destinations go
// through the storage targets.
#include "transfer/backup.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "compaction/compactor.h"
#include "migrate/migrator.h"
#include "tests/engine/random_store.h"
#include "tiering/local_object_store.h"
#include "tiering/memory_object_store.h"
#include "transfer/destination.h"

namespace timestore {
namespace {

class BackupTest : public RandomStoreTest {
 protected:
  void SetUp() override {
    RandomStoreTest::SetUp();
    backups_ = root_ + "-backups";
    restored_ = root_ + "-restored";
  }
  void TearDown() override {
    RandomStoreTest::TearDown();
    std::filesystem::remove_all(backups_);
    std::filesystem::remove_all(restored_);
    std::filesystem::remove_all(restored_ + ".restoring");
  }
  transfer::Destination Dest() {
    auto d = transfer::ResolveDestination(backups_, Env::Default(), nullptr);
    EXPECT_TRUE(d.ok()) << d.status().message();
    return *d;
  }
  void Fill(std::mt19937_64& rng, int batches) {
    for (int b = 0; b < batches; ++b) {
      auto r = Ingest(RandomBatch(rng, 500));
      ASSERT_TRUE(r.ok()) << r.status().message();
      if (b % 2 == 0) ASSERT_TRUE(engine_->Flush("ds").ok());
    }
  }
  // The answers of `queries` on the root at `root`.
  std::vector<std::string> AnswersAt(const std::string& root, const std::vector<QuerySpec>& q) {
    EngineOptions o = options_;
    o.root = root;
    auto e = Engine::Open(Env::Default(), o);
    EXPECT_TRUE(e.ok()) << e.status().message();
    if (!e.ok()) return {};
    std::swap(engine_, *e);
    auto out = Run(q);
    std::swap(engine_, *e);
    return out;
  }

  std::string backups_, restored_;
};

TEST_F(BackupTest, RestoredRootAnswersIdentically) {
  std::mt19937_64 rng(7);
  Open();
  Fill(rng, 5);  // the last batch stays in memory: the backup seals it
  Engine::Settings settings;
  settings.dedup = DedupSettings{{"host"}, true};
  settings.display_name = "CPU";
  ASSERT_TRUE(engine_->UpdateSettings(engine_->GetDataset("ds").get(), settings).ok());
  auto report = transfer::Backup(engine_.get(), Dest(), {}, nullptr);
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(report->datasets, 1u);
  EXPECT_EQ(report->rows, 2500u);
  EXPECT_EQ(report->segments_uploaded, report->segments);
  auto queries = Queries(rng);
  auto want = Run(queries);

  auto restored = transfer::Restore(Dest(), Env::Default(), restored_, {}, nullptr);
  ASSERT_TRUE(restored.ok()) << restored.status().message();
  EXPECT_EQ(restored->id, report->id);
  EXPECT_EQ(restored->rows, 2500u);
  EXPECT_FALSE(std::filesystem::exists(restored_ + ".restoring"));
  // Same segments, same order: the answers are equal byte for byte.
  EXPECT_EQ(AnswersAt(restored_, queries), want);

  // Settings came along; the root id did not.
  EngineOptions o = options_;
  o.root = restored_;
  auto e = Engine::Open(Env::Default(), o);
  ASSERT_TRUE(e.ok());
  auto ds = (*e)->GetDataset("ds");
  ASSERT_NE(ds, nullptr);
  ASSERT_TRUE(ds->dedup().has_value());
  EXPECT_EQ(ds->dedup()->keys, std::vector<std::string>{"host"});
  EXPECT_EQ(ds->display_name_and_description().first, "CPU");
  EXPECT_NE((*e)->ObjectKeyRoot(), engine_->ObjectKeyRoot());
  // The restored root takes new rows and keeps them across a restart.
  e->reset();
}

TEST_F(BackupTest, SecondBackupUploadsOnlyNewSegments) {
  std::mt19937_64 rng(11);
  Open();
  Fill(rng, 4);
  auto first = transfer::Backup(engine_.get(), Dest(), {}, nullptr);
  ASSERT_TRUE(first.ok()) << first.status().message();
  ASSERT_GT(first->segments_uploaded, 0u);

  // An unchanged root: one listing per prefix, one put and its read-back, and
  // no request per segment.
  transfer::Destination dest = Dest();
  auto same = transfer::Backup(engine_.get(), dest, {}, nullptr);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->segments_uploaded, 0u);
  const tiering::ObjectStoreStats stats = dest.store->stats();
  EXPECT_EQ(stats.head_requests, 0u);
  EXPECT_EQ(stats.put_requests, 1u);  // backup.json
  EXPECT_EQ(same->segments_reused, first->segments);
  EXPECT_NE(same->id, first->id);

  ASSERT_TRUE(Ingest(RandomBatch(rng, 100)).ok());
  auto third = transfer::Backup(engine_.get(), Dest(), {}, nullptr);
  ASSERT_TRUE(third.ok());
  EXPECT_GE(third->segments_uploaded, 1u);
  EXPECT_EQ(third->segments_reused, first->segments);
  EXPECT_EQ(third->rows, first->rows + 100);

  auto list = transfer::ListBackups(Dest());
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].id, third->id);  // newest first

  // Each backup restores to its own point.
  auto old = transfer::RestoreOptions{};
  old.backup_id = first->id;
  auto r = transfer::Restore(Dest(), Env::Default(), restored_, old, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->rows, first->rows);
}

TEST_F(BackupTest, PruningKeepsWhatKeptBackupsList) {
  std::mt19937_64 rng(13);
  options_.segment_options.block_rows = 1024;
  Open();
  Fill(rng, 4);
  auto first = transfer::Backup(engine_.get(), Dest(), {}, nullptr);
  ASSERT_TRUE(first.ok());
  // Compaction replaces every segment: the next backup lists new ones only.
  compaction::CompactionOptions co;
  co.enabled = false;
  compaction::Compactor compactor(engine_.get(), co);
  auto compacted = compactor.CompactDataset(engine_->GetDataset("ds").get());
  ASSERT_TRUE(compacted.ok()) << compacted.status().message();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // object mtimes < next start
  transfer::BackupOptions keep1;
  keep1.keep = 1;
  auto second = transfer::Backup(engine_.get(), Dest(), keep1, nullptr);
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_EQ(second->backups_deleted, std::vector<std::string>{first->id});
  EXPECT_EQ(second->objects_deleted, first->segments);
  auto list = transfer::ListBackups(Dest());
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  auto objects = Dest().store->List("segments/");
  ASSERT_TRUE(objects.ok());
  EXPECT_EQ(objects->size(), second->segments);
  auto r = transfer::Restore(Dest(), Env::Default(), restored_, {}, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->rows, 2000u);
}

TEST_F(BackupTest, CorruptObjectIsNamedAndNothingIsLeft) {
  std::mt19937_64 rng(17);
  Open();
  Fill(rng, 2);
  auto report = transfer::Backup(engine_.get(), Dest(), {}, nullptr);
  ASSERT_TRUE(report.ok());
  auto objects = Dest().store->List("segments/");
  ASSERT_TRUE(objects.ok());
  ASSERT_FALSE(objects->empty());
  const std::string victim = objects->back().key;
  {
    std::fstream f(backups_ + "/" + victim, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(10);
    f.put('\x5a');
  }
  auto r = transfer::Restore(Dest(), Env::Default(), restored_, {}, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(std::string(r.status().message()).find(victim), std::string::npos)
      << r.status().message();
  EXPECT_FALSE(std::filesystem::exists(restored_));
  EXPECT_FALSE(std::filesystem::exists(restored_ + ".restoring"));

  // A damaged backup.json is named too.
  auto list = Dest().store->List("backups/");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  ASSERT_TRUE(Dest().store->Put(list->front().key, "{\"format\":").ok());
  auto broken = transfer::Restore(Dest(), Env::Default(), restored_, {}, nullptr);
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(std::string(broken.status().message()).find("backup.json"), std::string::npos)
      << broken.status().message();
}

TEST_F(BackupTest, RestoreRefusesANonEmptyRoot) {
  std::mt19937_64 rng(19);
  Open();
  Fill(rng, 1);
  ASSERT_TRUE(transfer::Backup(engine_.get(), Dest(), {}, nullptr).ok());
  std::filesystem::create_directories(restored_);
  std::ofstream(restored_ + "/keep-me") << "x";
  auto r = transfer::Restore(Dest(), Env::Default(), restored_, {}, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(std::filesystem::exists(restored_ + "/keep-me"));
}

TEST_F(BackupTest, StorageTargetDestination) {
  std::mt19937_64 rng(23);
  auto targets = tiering::StorageTargets::Open(Env::Default(), root_, std::nullopt);
  ASSERT_TRUE(targets.ok());
  auto store = std::make_shared<tiering::MemoryObjectStore>("archive");
  tiering::StorageTargetConfig config;
  config.id = "archive";
  config.driver = "memory";
  (*targets)->AddForTest(config, store);
  options_.targets = targets->get();
  Open();
  Fill(rng, 3);
  auto dest = transfer::ResolveDestination("s3://archive/nightly/", Env::Default(), targets->get());
  ASSERT_TRUE(dest.ok()) << dest.status().message();
  EXPECT_EQ(dest->prefix, "nightly");
  auto report = transfer::Backup(engine_.get(), *dest, {}, nullptr);
  ASSERT_TRUE(report.ok()) << report.status().message();
  auto listed = store->List("nightly/backups/");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 1u);
  auto r = transfer::Restore(*dest, Env::Default(), restored_, {}, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->rows, report->rows);

  auto missing = transfer::ResolveDestination("s3://nope/x", Env::Default(), targets->get());
  EXPECT_FALSE(missing.ok());
  engine_.reset();
}

// A backup taken while a schema migration is under way (one partition
// rewritten, the others not) restores a root that reads both kinds of
// segments through the migration, answers as the source did, and can
// resume the migration to the same end.
TEST_F(BackupTest, MigrationUnderWayIsBackedUpAndResumable) {
  std::mt19937_64 rng(29);
  Open();
  Fill(rng, 4);  // hourly partitions over ~5 hours
  auto spec = migrate::ParseMigrationManifest(R"yaml(
dataset: ds
governance: {ticketId: CHG-7, approvedBy: ops@example.com}
targetSchema: {timestamp: timestamp, host: string, value: double, n: integer}
operations:
  - rename: {from: v, to: value}
  - drop: {column: ok}
)yaml",
                                              "m.yaml");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  migrate::MigrateOptions mo;
  mo.archive_dir = root_ + "-archive";
  int partitions = 0;
  mo.after_partition = [&](int64_t) {
    return ++partitions == 1 ? absl::AbortedError("stop after one partition") : absl::OkStatus();
  };
  auto stopped = migrate::Execute(engine_.get(), *spec, mo);
  ASSERT_FALSE(stopped.ok());
  ASSERT_TRUE(engine_->GetSchema("ds")->migration != nullptr);
  ASSERT_TRUE(engine_->GetSchema("ds")->migration->in_progress());

  std::vector<QuerySpec> queries;
  for (QuerySpec q : Queries(rng)) {
    // The migrated schema: v is value, ok is gone.
    bool uses_old = false;
    for (const auto& f : q.filters) uses_old |= f.column == "v" || f.column == "ok";
    if (q.downsample) {
      for (const auto& g : q.downsample->group_by) uses_old |= g == "ok";
      for (auto& a : q.downsample->aggregations) {
        if (a.column == "v") a.column = "value";
      }
    }
    if (!uses_old) queries.push_back(q);
  }
  ASSERT_GT(queries.size(), 5u);
  auto want = Run(queries);
  auto report = transfer::Backup(engine_.get(), Dest(), {}, nullptr);
  ASSERT_TRUE(report.ok()) << report.status().message();
  auto restored = transfer::Restore(Dest(), Env::Default(), restored_, {}, nullptr);
  ASSERT_TRUE(restored.ok()) << restored.status().message();
  EXPECT_EQ(AnswersAt(restored_, queries), want);

  // The restored migration is under way and resumes to the source's end.
  EngineOptions o = options_;
  o.root = restored_;
  auto e = Engine::Open(Env::Default(), o);
  ASSERT_TRUE(e.ok()) << e.status().message();
  SchemaPtr schema = (*e)->GetSchema("ds");
  ASSERT_NE(schema->migration, nullptr);
  EXPECT_TRUE(schema->migration->in_progress());
  EXPECT_EQ(schema->migration->ticket_id, "CHG-7");
  migrate::MigrateOptions resume;
  resume.archive_dir = restored_ + "-archive";
  auto done = migrate::Resume(e->get(), "ds", resume);
  ASSERT_TRUE(done.ok()) << done.status().message();
  mo.after_partition = nullptr;
  ASSERT_TRUE(migrate::Resume(engine_.get(), "ds", mo).ok());
  std::swap(engine_, *e);
  auto after_restored = Run(queries);
  std::swap(engine_, *e);
  EXPECT_EQ(after_restored, Run(queries));
  e->reset();
  std::filesystem::remove_all(mo.archive_dir);
  std::filesystem::remove_all(resume.archive_dir);
}

TEST(DestinationTest, Specs) {
  auto local = transfer::ResolveDestination("file:///tmp/x/", Env::Default(), nullptr);
  ASSERT_TRUE(local.ok());
  EXPECT_TRUE(local->local);
  EXPECT_EQ(local->describe, "file:///tmp/x");
  EXPECT_FALSE(transfer::ResolveDestination("file://rel", Env::Default(), nullptr).ok());
  EXPECT_FALSE(transfer::ResolveDestination("ftp://x/y", Env::Default(), nullptr).ok());
  EXPECT_FALSE(transfer::ResolveDestination("s3:///x", Env::Default(), nullptr).ok());
  EXPECT_FALSE(transfer::ResolveDestination("", Env::Default(), nullptr).ok());
  tiering::LocalObjectStore store(Env::Default(), "/tmp/x");
  EXPECT_FALSE(store.Put("../escape", "x").ok());
  EXPECT_FALSE(store.Put("a//b", "x").ok());
  EXPECT_FALSE(store.Put("/abs", "x").ok());
  EXPECT_FALSE(store.List("../etc/").ok());
  EXPECT_FALSE(store.Get("a/../../b").ok());
}

}  // namespace
}  // namespace timestore
