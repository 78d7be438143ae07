// Migrations while the dataset is in use: ingest and settings while a
// migration is under way, the begin's gate against concurrent batches, and
// migrations interrupted (resumed or rolled back after a restart).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "common/crash_point.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "migrate/migrator.h"
#include "tests/migrate/migrate_fixture.h"

namespace timestore::migrate {
namespace {

using api::testing::Answer;
using api::testing::ReadFileToString;
using testing::kDay;
using testing::kManifest;
using testing::kStart;
using testing::MigrateTest;
using testing::Num;

TEST_F(MigrateTest, IngestWhileUnderWayFollowsTheRule) {
  CreateCpu();
  int partitions = 0;
  MigrateOptions o = Options();
  std::string mid_dump;
  o.after_partition = [&](int64_t start) -> absl::Status {
    if (++partitions != 1) return absl::OkStatus();
    // The old names of renamed and dropped columns are refused until the commit.
    Answer old =
        Call("POST", "/datasets/cpu/ingest",
             R"({"records":[{"timestamp":"2024-05-04T00:00:00Z","host":"h9","region":"eu"}]})");
    EXPECT_EQ(old.status, 409) << old.body;
    EXPECT_EQ(ErrorCode(old), "migration_in_progress");
    EXPECT_NE(old.body.find("column \\\"region\\\""), std::string::npos) << old.body;
    Answer dropped = Call("POST", "/datasets/cpu/ingest",
                          R"({"records":[{"timestamp":"2024-05-04T00:00:00Z","debug":"x"}]})");
    EXPECT_EQ(dropped.status, 409) << dropped.body;
    // Rows under the new schema are taken, as they are.
    Answer ok = Call("POST", "/datasets/cpu/ingest",
                     R"({"records":[{"timestamp":"2024-05-04T00:00:00Z","host":"h9","zone":"ap",)"
                     R"("usage_pct":12.5,"temp_c":21.5}]})");
    EXPECT_EQ(ok.status, 200) << ok.body;
    mid_dump = Dump();
    return absl::OkStatus();
  };
  auto r = Execute(engine_.get(), Spec(), o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(partitions, 3);
  // Mid-way: the rewritten partition reads new values; the others read renamed
  // columns by their old names and transformed columns as null until rewritten.
  EXPECT_NE(mid_dump.find("2024-05-01T00:00:00Z host=h0 temp_c=10 usage_pct=0 zone=eu"),
            std::string::npos)
      << mid_dump;
  EXPECT_NE(mid_dump.find("2024-05-02T00:00:00Z host=h0 temp_c=null usage_pct=null zone=eu"),
            std::string::npos)
      << mid_dump;
  EXPECT_NE(mid_dump.find("2024-05-04T00:00:00Z host=h9 temp_c=21.5 usage_pct=12.5 zone=ap"),
            std::string::npos)
      << mid_dump;
  EXPECT_EQ(Dump(),
            Expected() + "2024-05-04T00:00:00Z host=h9 temp_c=21.5 usage_pct=12.5 zone=ap\n");
  // After the commit an old name is just a new column again.
  Answer later = Call("POST", "/datasets/cpu/ingest",
                      R"({"records":[{"timestamp":"2024-05-05T00:00:00Z","region":"eu"}]})");
  EXPECT_EQ(later.status, 200) << later.body;
}

TEST_F(MigrateTest, InterruptedBetweenPartitionsResumesAfterARestart) {
  CreateCpu();
  MigrateOptions o = Options();
  o.after_partition = [](int64_t) { return absl::AbortedError("injected stop"); };
  auto r = Execute(engine_.get(), Spec(), o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "injected stop");
  Restart();
  SchemaPtr schema = engine_->GetSchema("cpu");
  ASSERT_NE(schema->migration, nullptr);
  EXPECT_TRUE(schema->migration->in_progress());
  // Rollback is refused once a partition was rewritten, and says to resume.
  auto back = Rollback(engine_.get(), "cpu", Options());
  ASSERT_FALSE(back.ok());
  EXPECT_NE(back.status().message().find("resume it instead"), std::string::npos) << back.status();
  // A dry run of the same manifest says it is under way; another manifest is refused.
  auto dry = DryRun(engine_.get(), Spec(), Options());
  ASSERT_TRUE(dry.ok()) << dry.status();
  EXPECT_EQ(dry->partitions.size(), 2u);
  EXPECT_EQ(dry->partitions_already_done, 1u);
  Answer res = Call("POST", "/admin/datasets/cpu/migrations?resume=true");
  ASSERT_EQ(res.status, 200) << res.body;
  auto root = Parse(res);
  EXPECT_EQ(std::string_view(root["outcome"].get_string()), "resumed and committed");
  EXPECT_EQ(int64_t(root["partitions"].get_int64()), 2);
  EXPECT_EQ(int64_t(root["partitionsAlreadyDone"].get_int64()), 1);
  EXPECT_EQ(Dump(), Expected());
  for (int day = 0; day < 3; ++day) {
    EXPECT_EQ(ReadFileToString(ArchivePath(day)), ExpectedArchive(day));
  }
  Restart();
  EXPECT_EQ(Dump(), Expected());
}

TEST_F(MigrateTest, InterruptedRightAfterTheBeginRollsBack) {
  CreateCpu();
  const std::string before = Dump();
  const uint32_t from = engine_->GetSchema("cpu")->version;
  MigrateOptions o = Options();
  o.after_begin = [] { return absl::AbortedError("injected stop"); };
  ASSERT_FALSE(Execute(engine_.get(), Spec(), o).ok());
  Restart();
  ASSERT_TRUE(engine_->GetSchema("cpu")->migration->in_progress());
  Answer a = Call("POST", "/admin/datasets/cpu/migrations?rollback=true");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(std::string_view(Parse(a)["outcome"].get_string()), "rolled back");
  SchemaPtr schema = engine_->GetSchema("cpu");
  EXPECT_EQ(schema->version, from + 2);  // the begin's version, then the rollback's
  EXPECT_EQ(schema->migration, nullptr);
  EXPECT_EQ(Dump(), before);
  Restart();
  EXPECT_EQ(Dump(), before);
  // And the migration can run again from the start.
  auto r = Execute(engine_.get(), Spec(), Options());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Dump(), Expected());
}

// A client keeps writing rows under the old schema while the migration
// begins: every row acknowledged before the begin is sealed and migrated,
// rows refused with 503 migration_starting are retried, and from the begin
// on the old names are 409; no acknowledged row is lost or left unmigrated.
TEST_F(MigrateTest, ConcurrentOldSchemaIngestLosesNothing) {
  CreateCpu();
  std::atomic<bool> stop{false};
  std::atomic<int> acked{0};
  std::vector<std::string> expected_more;
  std::string failure;
  const int64_t base = kStart + 3 * kDay;
  std::thread writer([&] {
    for (int i = 0; i < 20000 && !stop.load(); ++i) {
      const int k = 1000 + i;
      const int64_t ts = base + int64_t{i} * 1'000'000'000;
      const std::string body =
          StrCat("{\"records\":[{\"timestamp\":\"", FormatRfc3339(ts), "\",\"host\":\"h", k % 3,
                 "\",\"region\":\"", k % 3 == 2 ? "us" : "eu", "\",\"usage\":", Num(k / 100.0),
                 ",\"temp_f\":", 50 + k, ",\"debug\":\"dbg-", k, "\"}]}");
      for (;;) {
        Answer a = Call("POST", "/datasets/cpu/ingest", body);
        if (a.status == 200) {
          expected_more.push_back(ExpectedLine(ts, k));
          acked.fetch_add(1);
          break;
        }
        if (a.status == 503 && a.body.find("migration_starting") != std::string::npos) continue;
        if (a.status == 409 && a.body.find("migration_in_progress") != std::string::npos) return;
        failure = StrCat(a.status, " ", a.body);
        return;
      }
    }
  });
  while (acked.load() < 50) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto r = Execute(engine_.get(), Spec(), Options());
  stop.store(true);
  writer.join();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(failure, "");
  EXPECT_GE(acked.load(), 50);
  EXPECT_EQ(Dump(), Expected(36, expected_more));
  Restart();
  EXPECT_EQ(Dump(), Expected(36, expected_more));
}

// A migration that begins wholly between an ingest's layout (under the old
// schema) and its in-flight count: the gate is open again when the batch
// reaches it, so only the layout epoch tells the batch is of the old layout.
// It is refused (503 migration_starting) instead of being stored by column
// position under the new schema (and failing the WAL replay after a restart).
TEST_F(MigrateTest, ABeginBetweenLayoutAndLogRefusesTheOldLayoutBatch) {
  CreateCpu();
  std::atomic<bool> fired{false};
  absl::Status migrated = absl::UnknownError("the hook did not run");
  SetTestHook([&](std::string_view name) {
    if (name != "Engine::IngestMany:prepared" || fired.exchange(true)) return;
    auto r = Execute(engine_.get(), Spec(), Options());
    migrated = r.status();
  });
  Answer a = Call("POST", "/datasets/cpu/ingest",
                  R"({"records":[{"timestamp":"2024-05-04T00:00:00Z","host":"h1","region":"eu",)"
                  R"("usage":0.5,"temp_f":77,"debug":"late"}]})");
  SetTestHook(nullptr);
  ASSERT_TRUE(migrated.ok()) << migrated;
  EXPECT_EQ(a.status, 503) << a.body;
  EXPECT_EQ(ErrorCode(a), "migration_starting");
  EXPECT_EQ(Dump(), Expected());
  Restart();
  EXPECT_EQ(Dump(), Expected());
}

// A batch waits for a migration's begin at most 5 s (it may hold an HTTP
// I/O thread): a begin that takes longer (held here at its gate) answers
// 503 migration_starting with Retry-After instead of blocking.
TEST_F(MigrateTest, TheGateWaitIsBoundedThen503) {
  CreateCpu();
  std::future<Answer> ingest;
  bool answered_while_held = false;
  SetTestHook([&](std::string_view name) {
    if (name != "Engine::BeginSchemaMigration:gate_closed" || ingest.valid()) return;
    ingest = std::async(std::launch::async, [this] {
      return Call("POST", "/datasets/cpu/ingest",
                  R"({"records":[{"timestamp":"2024-05-04T00:00:00Z","host":"h1","zone":"eu"}]})");
    });
    // Generous: the wait is 5 s; before the bound it never ended while held.
    answered_while_held = ingest.wait_for(std::chrono::seconds(60)) == std::future_status::ready;
  });
  auto r = Execute(engine_.get(), Spec(), Options());
  SetTestHook(nullptr);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(ingest.valid());
  EXPECT_TRUE(answered_while_held);
  Answer a = ingest.get();
  EXPECT_EQ(a.status, 503) << a.body;
  EXPECT_EQ(ErrorCode(a), "migration_starting");
  EXPECT_NE(a.Header("Retry-After"), "<absent>");
  EXPECT_EQ(Dump(), Expected());
}

// While a migration is under way, settings naming a column it renames or
// transforms are refused (the segments not yet rewritten hold it under its
// old name or its old values); after the commit they are taken.
TEST_F(MigrateTest, SettingsNamingAChangedColumnWaitForTheCommit) {
  CreateCpu();
  MigrateOptions o = Options();
  int calls = 0;
  o.after_partition = [&](int64_t) -> absl::Status {
    if (++calls != 1) return absl::OkStatus();
    Answer zone = Call("PUT", "/admin/datasets/cpu/settings", R"({"segmentBy":["host","zone"]})");
    EXPECT_EQ(zone.status, 409) << zone.body;
    EXPECT_EQ(ErrorCode(zone), "migration_in_progress");
    EXPECT_NE(zone.body.find("column \\\"zone\\\""), std::string::npos) << zone.body;
    Answer dedup =
        Call("PUT", "/admin/datasets/cpu/settings", R"({"dedup":{"keys":["host","temp_c"]}})");
    EXPECT_EQ(dedup.status, 409) << dedup.body;
    Answer host = Call("PUT", "/admin/datasets/cpu/settings", R"({"segmentBy":["host"]})");
    EXPECT_EQ(host.status, 200) << host.body;
    return absl::OkStatus();
  };
  auto r = Execute(engine_.get(), Spec(), o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(calls, 3);
  Answer zone = Call("PUT", "/admin/datasets/cpu/settings", R"({"segmentBy":["host","zone"]})");
  EXPECT_EQ(zone.status, 200) << zone.body;
}

// The begin's audit event comes after its edit: stopped in between, the
// event is missing until the resume writes it (marked as re-emitted).
TEST_F(MigrateTest, ALostBeginAuditEventIsWrittenByTheResume) {
  CreateCpu();
  MigrateOptions o = Options();
  o.before_begin_audit = [] { return absl::AbortedError("injected stop"); };
  ASSERT_FALSE(Execute(engine_.get(), Spec(), o).ok());
  auto count = [&](std::string_view action) {
    int n = 0;
    for (const auto& e : engine_->audit()->Query("", 100)) n += e.action == action;
    return n;
  };
  EXPECT_EQ(count("schema.migration.begin"), 0);
  Restart();
  Answer res = Call("POST", "/admin/datasets/cpu/migrations?resume=true");
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(count("schema.migration.begin"), 1);
  EXPECT_EQ(count("schema.migration.commit"), 1);
  for (const auto& e : engine_->audit()->Query("", 100)) {
    if (e.action != "schema.migration.begin") continue;
    EXPECT_NE(e.after.find("\"reEmitted\":true"), std::string::npos) << e.after;
    EXPECT_NE(e.after.find(StrCat("\"migration\":\"", Spec().Id(), "\"")), std::string::npos);
  }
  EXPECT_EQ(Dump(), Expected());
}

}  // namespace
}  // namespace timestore::migrate
