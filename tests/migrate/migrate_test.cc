// Schema migrations in process (migrate/, docs/migrate.md): plan errors, the
// dry run that changes nothing, and execute (rename, transform, drop with
// archival) through the admin route and the library. Ingest and settings
// while a migration is under way and interrupted migrations are in
// migrate_concurrency_test.cc, archive files in migrate_archive_test.cc,
// manifest errors in migrate_manifest_test.cc; the real binary, kill -9 and
// the CLI in tests/e2e/migrate_e2e_test.cc.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "common/strings.h"
#include "common/time_util.h"
#include "migrate/migration_manifest.h"
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

TEST_F(MigrateTest, PlanErrorsNameTheOperation) {
  CreateCpu(12);
  auto run = [&](std::string ops, std::string target) {
    auto spec = ParseMigrationManifest(
        StrCat("dataset: cpu\ngovernance: {ticketId: X, approvedBy: a}\ntargetSchema: ", target,
               "\noperations:\n", ops),
        "m.yaml");
    EXPECT_TRUE(spec.ok()) << spec.status();
    auto r = DryRun(engine_.get(), *spec, Options());
    return r.ok() ? std::string("ok") : std::string(r.status().message());
  };
  const std::string all =
      "{timestamp: timestamp, host: string, region: string, usage: double, temp_f: integer, "
      "debug: string}";
  EXPECT_EQ(run("  - drop: {column: nope}\n", all),
            "operations[0].drop (line 5): dataset \"cpu\" has no column \"nope\" at this step "
            "(columns: timestamp, host, region, usage, temp_f, debug)");
  EXPECT_EQ(run("  - rename: {from: timestamp, to: ts}\n", all),
            "operations[0].rename (line 5): \"timestamp\" is the time column, which a migration "
            "cannot change");
  EXPECT_EQ(run("  - drop: {column: host}\n", all),
            "operations[0].drop (line 5): \"host\" is a segmentBy or dedup key column; change the "
            "dataset's settings first (the stored segments are sorted by it)");
  EXPECT_EQ(run("  - rename: {from: usage, to: region}\n", all),
            "operations[0].rename (line 5): column \"region\" exists already");
  EXPECT_EQ(run("  - transform: {column: usage, expression: 'usage + host'}\n", all),
            "operations[0].transform (line 5).expression: expression \"usage + host\" at "
            "character 7: \"+\" cannot take double and string (join strings with || or "
            "concat())");
  EXPECT_EQ(run("  - transform: {column: temp_f, expression: 'temp_f * 1.8'}\n", all),
            "targetSchema does not match the schema the operations give: \"temp_f\" is double, "
            "not integer");
  // Errors at run time show in the dry run, before anything changes.
  EXPECT_EQ(run("  - transform: {column: temp_f, expression: '100 / (temp_f - 55)'}\n", all),
            "expression \"100 / (temp_f - 55)\": division by zero in the row at "
            "2024-05-01T00:05:00Z");
  EXPECT_EQ(run("  - drop: {column: debug}\n", all),
            "targetSchema does not match the schema the operations give: \"debug\" is not a "
            "column after the operations");
  // A later operation sees the names of the earlier ones.
  EXPECT_EQ(run("  - rename: {from: usage, to: u}\n  - transform: {column: u, expression: 'usage "
                "* 2'}\n",
                "{timestamp: timestamp, host: string, region: string, u: double, temp_f: "
                "integer, debug: string}"),
            "operations[1].transform (line 6).expression: expression \"usage * 2\" at character "
            "1: unknown column \"usage\" (columns at this step: timestamp, host, region, u, "
            "temp_f, debug)");
  // Without an archive directory, dropped values go under the storage root.
  auto no_archive = ParseMigrationManifest(
      StrCat("dataset: cpu\ngovernance: {ticketId: X, approvedBy: a}\ntargetSchema: {timestamp: "
             "timestamp, host: string, region: string, usage: double, temp_f: integer}\n"
             "operations: [{drop: {column: debug}}]\n"),
      "m.yaml");
  ASSERT_TRUE(no_archive.ok());
  auto r = DryRun(engine_.get(), *no_archive, MigrateOptions{});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->archive_files,
            std::vector<std::string>{StrCat(root_, "/migration-archive/", no_archive->Id(), "/cpu-",
                                            kStart, "-debug.jsonl")});
}

TEST_F(MigrateTest, DryRunReportsAndChangesNothing) {
  CreateCpu();
  const std::string before = ManifestBytes();
  const std::string rows_before = Dump();
  Answer a =
      Call("POST", StrCat("/admin/datasets/cpu/migrations?dryRun=true&archiveDir=", archive_),
           std::string(kManifest));
  ASSERT_EQ(a.status, 200) << a.body;
  auto root = Parse(a);
  EXPECT_EQ(std::string_view(root["mode"].get_string()), "dry-run");
  EXPECT_EQ(std::string_view(root["outcome"].get_string()), "validated");
  EXPECT_EQ(int64_t(root["partitions"].get_int64()), 3);
  EXPECT_EQ(int64_t(root["rows"].get_int64()), 36);
  EXPECT_GT(int64_t(root["bytes"].get_int64()), 0);
  EXPECT_EQ(int64_t(root["sampledRows"].get_int64()), 36);
  const int64_t from = root["fromSchemaVersion"].get_int64();
  EXPECT_EQ(int64_t(root["toSchemaVersion"].get_int64()), from + 1);
  EXPECT_EQ(std::string_view(root["governance"]["ticketId"].get_string()), "CHG-1042");
  EXPECT_EQ(simdjson::minify(root["toFields"]),
            R"([{"name":"timestamp","type":"timestamp"},{"name":"host","type":"string"},)"
            R"({"name":"zone","type":"string"},{"name":"usage_pct","type":"double"},)"
            R"({"name":"temp_c","type":"double"}])");
  EXPECT_EQ(simdjson::minify(root["archiveFiles"]),
            StrCat("[\"", ArchivePath(0), "\",\"", ArchivePath(1), "\",\"", ArchivePath(2), "\"]"));
  EXPECT_EQ(ManifestBytes(), before);  // byte for byte
  EXPECT_EQ(Dump(), rows_before);
  EXPECT_FALSE(std::filesystem::exists(archive_));
  // Flags are true or false, one at a time; the manifest names the path's dataset.
  Answer bad = Call("POST", "/admin/datasets/cpu/migrations?dryRun=maybe", std::string(kManifest));
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(ErrorCode(bad), "invalid_request");
  Answer two = Call("POST", "/admin/datasets/cpu/migrations?dryRun=true&resume=true");
  EXPECT_EQ(two.status, 400) << two.body;
  Answer yaml = Call("POST", "/admin/datasets/cpu/migrations?dryRun=true", "dataset: [");
  EXPECT_EQ(yaml.status, 400) << yaml.body;
  EXPECT_NE(yaml.body.find("request body:1: not valid YAML or JSON"), std::string::npos)
      << yaml.body;
  Answer none = Call("POST", "/admin/datasets/cpu/migrations?resume=true");
  EXPECT_EQ(none.status, 422) << none.body;
  EXPECT_EQ(ErrorCode(none), "no_migration");
  EXPECT_EQ(ManifestBytes(), before);
  // The same through the library.
  auto r = DryRun(engine_.get(), Spec(), Options());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->ToJson(), a.body);
  CreateDataset("other");
  Answer other =
      Call("POST", "/admin/datasets/other/migrations?dryRun=true", std::string(kManifest));
  EXPECT_EQ(other.status, 400) << other.body;
  EXPECT_EQ(ErrorCode(other), "invalid_migration");
}

TEST_F(MigrateTest, ExecuteThenQueriesAnswerUnderTheNewSchema) {
  CreateCpu();
  const uint32_t from = engine_->GetSchema("cpu")->version;
  Answer a = Call("POST", StrCat("/admin/datasets/cpu/migrations?archiveDir=", archive_),
                  std::string(kManifest));
  ASSERT_EQ(a.status, 200) << a.body;
  auto root = Parse(a);
  EXPECT_EQ(std::string_view(root["outcome"].get_string()), "committed");
  EXPECT_EQ(int64_t(root["partitions"].get_int64()), 3);
  EXPECT_EQ(int64_t(root["archivedValues"].get_int64()), 27);
  EXPECT_EQ(Dump(), Expected());
  SchemaPtr schema = engine_->GetSchema("cpu");
  EXPECT_EQ(schema->version, from + 1);
  ASSERT_NE(schema->migration, nullptr);
  EXPECT_FALSE(schema->migration->in_progress());
  EXPECT_EQ(schema->migration->ticket_id, "CHG-1042");
  EXPECT_EQ(schema->migration->approved_by, "alice@example.com");
  for (int day = 0; day < 3; ++day) {
    EXPECT_EQ(ReadFileToString(ArchivePath(day)), ExpectedArchive(day)) << day;
  }
  // Every segment is of the new schema; the manifest and audit log carry the stamp.
  for (const auto& seg : engine_->GetDataset("cpu")->segments()) {
    EXPECT_EQ(seg->reader->meta().schema_version, from + 1);
    EXPECT_LT(seg->reader->meta().ColumnIndex("debug"), 0);
  }
  const std::string manifest = ManifestBytes();
  EXPECT_NE(manifest.find("\"op\":\"migrate_schema\",\"id\""), std::string::npos);
  EXPECT_NE(manifest.find("\"phase\":\"commit\""), std::string::npos);
  EXPECT_NE(manifest.find("CHG-1042"), std::string::npos);
  bool begin = false, commit = false;
  for (const auto& e : engine_->audit()->Query("", 100)) {
    if (e.action == "schema.migration.begin") begin = true;
    if (e.action == "schema.migration.commit") {
      commit = true;
      EXPECT_NE(e.after.find("\"ticketId\":\"CHG-1042\""), std::string::npos) << e.after;
      EXPECT_NE(e.after.find("\"approvedBy\":\"alice@example.com\""), std::string::npos);
    }
  }
  EXPECT_TRUE(begin && commit);
  // After a restart (the manifest rewritten as a snapshot): the same answers and stamp.
  Restart();
  EXPECT_EQ(Dump(), Expected());
  EXPECT_EQ(engine_->GetSchema("cpu")->migration->ticket_id, "CHG-1042");
  EXPECT_FALSE(engine_->GetSchema("cpu")->migration->in_progress());
  // Running it again is refused: the columns it renames are gone.
  Answer again = Call("POST", StrCat("/admin/datasets/cpu/migrations?archiveDir=", archive_),
                      std::string(kManifest));
  EXPECT_EQ(again.status, 400) << again.body;
  EXPECT_EQ(ErrorCode(again), "invalid_migration");
  // Compaction works on the migrated segments.
  Answer c = Call("POST", "/admin/datasets/cpu/compact");
  EXPECT_EQ(c.status, 200) << c.body;
  EXPECT_EQ(Dump(), Expected());
}

TEST_F(MigrateTest, RowsInMemoryAreSealedAndMigrated) {
  CreateCpu(24);
  // 12 more rows stay in memory until the begin seals them.
  std::string records;
  for (int k = 24; k < 36; ++k) {
    StrAppend(&records, k > 24 ? "," : "", "{\"timestamp\":\"", FormatRfc3339(Ts(k)),
              "\",\"host\":\"h", k % 3, "\",\"region\":\"", k % 3 == 2 ? "us" : "eu",
              "\",\"usage\":", Num(k / 100.0), ",\"temp_f\":", 50 + k);
    if (k % 4 != 0) StrAppend(&records, ",\"debug\":\"dbg-", k, "\"");
    StrAppend(&records, "}");
  }
  Answer in = Call("POST", "/datasets/cpu/ingest", StrCat("{\"records\":[", records, "]}"));
  ASSERT_EQ(in.status, 200) << in.body;
  auto r = Execute(engine_.get(), Spec(), Options());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Dump(), Expected());
  EXPECT_EQ(ReadFileToString(ArchivePath(2)), ExpectedArchive(2));
  Restart();  // nothing replayed from the WAL under the old layout
  EXPECT_EQ(Dump(), Expected());
}

// A division by zero in the last partition only (the dry run's sample reads
// the first rows): execute checks every row of every partition before the
// begin and is refused, naming the column and the row; nothing changes.
TEST_F(MigrateTest, ABadRowInTheLastPartitionIsRefusedBeforeAnythingChanges) {
  CreateCpu();
  const std::string before = Dump();
  const uint32_t from = engine_->GetSchema("cpu")->version;
  std::string yaml(kManifest);
  const std::string good = "(temp_f - 32) * 5 / 9.0";
  yaml.replace(yaml.find(good), good.size(), "(temp_f - 32) * 5 / (temp_f - 80.0)");
  auto spec = ParseMigrationManifest(yaml, "migration.yaml");
  ASSERT_TRUE(spec.ok()) << spec.status();
  MigrateOptions o = Options();
  o.sample_rows = 5;  // partition 0 only: the sample passes
  ASSERT_TRUE(DryRun(engine_.get(), *spec, o).ok());
  auto r = Execute(engine_.get(), *spec, o);
  ASSERT_FALSE(r.ok());
  const std::string msg(r.status().message());
  EXPECT_NE(msg.find("column \"temp_c\""), std::string::npos) << msg;
  EXPECT_NE(msg.find("division by zero"), std::string::npos) << msg;
  EXPECT_NE(msg.find(FormatRfc3339(Ts(30))), std::string::npos) << msg;  // temp_f 80
  SchemaPtr schema = engine_->GetSchema("cpu");
  EXPECT_EQ(schema->version, from);
  EXPECT_EQ(schema->migration, nullptr);
  EXPECT_EQ(Dump(), before);
  EXPECT_FALSE(std::filesystem::exists(archive_) && !std::filesystem::is_empty(archive_));
  // Fixed, it runs.
  auto fixed = Execute(engine_.get(), Spec(), Options());
  ASSERT_TRUE(fixed.ok()) << fixed.status();
  EXPECT_EQ(Dump(), Expected());
}

}  // namespace
}  // namespace timestore::migrate
