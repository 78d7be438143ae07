// Schema migrations in process (migrate/, docs/migrate.md): manifest errors,
// the dry run that changes nothing, execute (rename, transform, drop with
// archival) through the admin route, ingest while a migration is under way,
// and an interrupted migration resumed (or rolled back) after a restart.
// The real binary, kill -9 and the CLI are in tests/e2e/migrate_e2e_test.cc.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "auth/authenticator.h"
#include "auth/token_store.h"
#include "common/crash_point.h"
#include "common/json_writer.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "migrate/migration_manifest.h"
#include "migrate/migrator.h"
#include "tests/api/admin_fixture.h"

namespace timestore::migrate {
namespace {

using api::testing::AdminTest;
using api::testing::Answer;
using api::testing::ReadFileToString;

constexpr int64_t kDay = 86'400'000'000'000;
const int64_t kStart = 1'714'521'600'000'000'000;  // 2024-05-01T00:00:00Z

constexpr std::string_view kManifest = R"yaml(# rename, transform, drop
dataset: cpu
governance:
  ticketId: CHG-1042
  approvedBy: alice@example.com
targetSchema:
  timestamp: timestamp
  host: string
  zone: string
  usage_pct: double
  temp_c: double
operations:
  - rename: {from: region, to: zone}
  - rename: {from: usage, to: usage_pct, transform: "round(usage * 100, 2)"}
  - rename: {from: temp_f, to: temp_c, transform: "(temp_f - 32) * 5 / 9.0"}
  - drop: {column: debug}
)yaml";

std::string Num(double d) {
  char buf[64];
  snprintf(buf, sizeof buf, "%.17g", d);
  return buf;
}

class MigrateTest : public AdminTest {
 protected:
  void SetUp() override {
    AdminTest::SetUp();
    archive_ = root_ + "-archive";
    std::filesystem::remove_all(archive_);
  }
  void TearDown() override {
    AdminTest::TearDown();
    std::filesystem::remove_all(archive_);
  }

  void Restart() {
    StopService();
    StartService(api::ServiceOptions{});
  }

  // Row k (0..35): day k / 12, host h(k % 3), region by host, usage k / 100,
  // temp_f 50 + k, debug "dbg-k" except every fourth row.
  static int64_t Ts(int k) { return kStart + (k / 12) * kDay + (k % 12) * 60'000'000'000; }
  void CreateCpu(int rows = 36) {
    std::string records;
    for (int k = 0; k < rows; ++k) {
      StrAppend(&records, k ? "," : "", "{\"timestamp\":\"", FormatRfc3339(Ts(k)),
                "\",\"host\":\"h", k % 3, "\",\"region\":\"", k % 3 == 2 ? "us" : "eu",
                "\",\"usage\":", Num(k / 100.0), ",\"temp_f\":", 50 + k);
      if (k % 4 != 0) StrAppend(&records, ",\"debug\":\"dbg-", k, "\"");
      StrAppend(&records, "}");
    }
    Answer a =
        Call("POST", "/datasets/cpu/ingest",
             StrCat(R"({"schema":{"fields":[{"name":"timestamp","type":"timestamp"},)",
                    R"({"name":"host","type":"string"},{"name":"region","type":"string"},)",
                    R"({"name":"usage","type":"double"},{"name":"temp_f","type":"integer"},)",
                    R"({"name":"debug","type":"string"}]},"records":[)", records, "]}"));
    ASSERT_EQ(a.status, 200) << a.body;
    Answer s = Call("PUT", "/admin/datasets/cpu/settings", R"({"segmentBy":["host"]})");
    ASSERT_EQ(s.status, 200) << s.body;
    Answer f = Call("POST", "/admin/datasets/cpu/flush");
    ASSERT_EQ(f.status, 200) << f.body;
  }

  // What the migrated dataset must hold, in Dump's form.
  // Row k's values at time `ts`, migrated.
  static std::string ExpectedLine(int64_t ts, int k) {
    const double usage = k / 100.0;
    return StrCat(FormatRfc3339(ts), " host=h", k % 3, " temp_c=", Num((50 + k - 32) * 5 / 9.0),
                  " usage_pct=", Num(std::round(usage * 100 * 100) / 100),
                  " zone=", k % 3 == 2 ? "us" : "eu");
  }
  static std::string Expected(int rows = 36, std::vector<std::string> more = {}) {
    std::vector<std::string> lines = std::move(more);
    for (int k = 0; k < rows; ++k) lines.push_back(ExpectedLine(Ts(k), k));
    std::sort(lines.begin(), lines.end());
    std::string out;
    for (const auto& l : lines) StrAppend(&out, l, "\n");
    return out;
  }

  // Every row, "time name=value ..." with names sorted, rows sorted.
  std::string Dump(const std::string& slug = "cpu") {
    QuerySpec q;
    q.start = 0;
    q.end = std::numeric_limits<int64_t>::max();
    q.limit = 100000;
    auto r = engine_->Query(slug, q);
    if (!r.ok()) return std::string("error: ") + std::string(r.status().message());
    std::vector<std::string> lines;
    std::vector<size_t> order(r->columns.size());
    for (size_t c = 0; c < order.size(); ++c) order[c] = c;
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return r->columns[a].name < r->columns[b].name; });
    for (size_t row = 0; row < r->rows; ++row) {
      std::string time;
      std::string rest;
      for (size_t c : order) {
        const ResultColumn& col = r->columns[c];
        std::string v = "null";
        if (col.valid.empty() || col.valid[row]) {
          switch (col.type) {
            case ColumnType::kTimestamp:
              v = FormatRfc3339(col.ints[row]);
              break;
            case ColumnType::kInteger:
              v = std::to_string(col.ints[row]);
              break;
            case ColumnType::kDouble:
              v = Num(col.doubles[row]);
              break;
            case ColumnType::kBoolean:
              v = col.ints.empty() ? "?" : (col.ints[row] ? "true" : "false");
              break;
            case ColumnType::kString:
              v = std::string(col.strings[row]);
              break;
          }
        }
        if (col.name == "timestamp") {
          time = v;
        } else {
          StrAppend(&rest, " ", col.name, "=", v);
        }
      }
      lines.push_back(time + rest);
    }
    std::sort(lines.begin(), lines.end());
    std::string out;
    for (const auto& l : lines) StrAppend(&out, l, "\n");
    return out;
  }

  std::string ManifestBytes() {
    std::string current = ReadFileToString(root_ + "/CURRENT");
    while (!current.empty() && current.back() == '\n') current.pop_back();
    return ReadFileToString(root_ + "/" + current);
  }

  // The archive of `column` in the partition of day `day`, as it must be.
  static std::string ExpectedArchive(int day) {
    std::string out;
    for (int k = day * 12; k < day * 12 + 12; ++k) {
      if (k % 4 == 0) continue;
      (void)0;
    }
    // Lines follow the segment's order: by host, then time.
    for (int h = 0; h < 3; ++h) {
      for (int k = day * 12; k < day * 12 + 12; ++k) {
        if (k % 3 != h || k % 4 == 0) continue;
        StrAppend(&out, "{\"ts\":\"", FormatRfc3339(Ts(k)), "\",\"series\":{\"host\":\"h", h,
                  "\"},\"value\":\"dbg-", k, "\"}\n");
      }
    }
    return out;
  }

  MigrationSpec Spec() {
    auto spec = ParseMigrationManifest(kManifest, "migration.yaml");
    EXPECT_TRUE(spec.ok()) << spec.status();
    return *spec;
  }
  // Where the archive of the debug column in day `day`'s partition goes: the
  // migration's own subdirectory of the archive directory.
  std::string ArchivePath(int day) {
    return StrCat(archive_, "/", Spec().Id(), "/cpu-", kStart + day * kDay, "-debug.jsonl");
  }
  MigrateOptions Options() {
    MigrateOptions o;
    o.archive_dir = archive_;
    return o;
  }

  std::string archive_;
};

std::string ParseError(std::string_view yaml) {
  auto s = ParseMigrationManifest(yaml, "m.yaml");
  return s.ok() ? "ok" : std::string(s.status().message());
}

TEST(MigrationManifestTest, ErrorsNameTheKeyPathAndLine) {
  EXPECT_EQ(ParseError("dataset: cpu\n"), "m.yaml:1: governance: is required");
  EXPECT_EQ(ParseError("dataset: cpu\ngovernance: {ticketID: X, approvedBy: a}\n"),
            "m.yaml:2: governance.ticketID: unknown key (expected one of: ticketId, approvedBy)");
  EXPECT_EQ(ParseError("dataset: cpu\ngovernance: {ticketId: X}\n"),
            "m.yaml:2: governance.approvedBy: is required");
  const std::string head =
      "dataset: cpu\ngovernance: {ticketId: X, approvedBy: a}\ntargetSchema: {timestamp: "
      "timestamp, v: double}\n";
  EXPECT_EQ(ParseError(head + "operations:\n  - rename: {from: a}\n"),
            "m.yaml:5: operations[0].rename.to: is required");
  EXPECT_EQ(
      ParseError(head + "operations:\n  - drop: {column: a}\n  - frobnicate: {column: b}\n"),
      "m.yaml:6: operations[1]: unknown operation \"frobnicate\" (rename, transform or drop)");
  EXPECT_EQ(ParseError(head + "operations:\n  - transform: {column: v, expression: 'v*2', type: "
                              "float64}\n"),
            "m.yaml:5: operations[0].transform.type: unknown type \"float64\" (timestamp, double, "
            "integer, string or boolean)");
  EXPECT_EQ(ParseError(head + "operations: []\n"),
            "m.yaml:4: operations: must be a non-empty list of rename, transform or drop");
  EXPECT_EQ(ParseError("dataset: cpu\ngovernance: {ticketId: X, approvedBy: a}\ntargetSchema: "
                       "{v: decimal}\noperations: [{drop: {column: a}}]\n"),
            "m.yaml:3: targetSchema.v: unknown type \"decimal\" (timestamp, double, integer, "
            "string or boolean)");
  EXPECT_EQ(ParseError("dataset: cpu\n  governance: [\n"),
            "m.yaml:2: not valid YAML or JSON: illegal map value");
  EXPECT_EQ(ParseError("- a\n- b\n"), "m.yaml:1: (top level): must be a mapping");
  // The JSON equivalent reads the same.
  EXPECT_EQ(ParseError(R"({"dataset":"cpu","governance":{"ticketId":"X","approvedBy":"a"},)"
                       R"("targetSchema":{"v":"double"},"operations":[{"drop":{"column":"w"}}]})"),
            "ok");
}

TEST(MigrationManifestTest, JsonFormRoundTripsWithTheSameId) {
  auto a = ParseMigrationManifest(kManifest, "m.yaml");
  ASSERT_TRUE(a.ok()) << a.status();
  auto b = ParseMigrationManifest(a->ToJson(), "json");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(a->ToJson(), b->ToJson());
  EXPECT_EQ(a->Id(), b->Id());
  EXPECT_EQ(b->operations.size(), 4u);
  EXPECT_EQ(b->operations[1].expression, "round(usage * 100, 2)");
}

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

// archiveDir names a directory anywhere on the server's disk: a token limited
// to some datasets may not give one (in the query or in the manifest), as for
// an export to a directory; it may run the migration with the default one.
TEST_F(MigrateTest, ARestrictedTokenMayNotNameAnArchiveDirectory) {
  CreateCpu();
  StopService();
  auto tokens = auth::TokenStore::Open(root_ + "/auth");
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  constexpr char kBootstrap[] = "bootstrap-admin-token-migrate-0123456789";
  auth::AuthConfig c;
  c.mode = auth::Mode::kToken;
  c.read_scope = "read";
  c.write_scope = "write";
  c.admin_scope = "admin";
  c.bootstrap_hash = auth::HashSecret(kBootstrap);
  api::ServiceOptions so;
  so.require_scope = "read";
  so.require_write_scope = "write";
  so.admin_scope = "admin";
  so.authenticator = std::make_shared<auth::Authenticator>(c, tokens->get());
  StartService(std::move(so));
  auto bearer = [](const std::string& t) {
    return std::vector<std::pair<std::string, std::string>>{{"authorization", "Bearer " + t}};
  };
  Answer made = Call("POST", "/admin/tokens",
                     R"({"name":"team","scopes":["read","write","admin"],)"
                     R"("datasets":[{"pattern":"cpu","access":["read","write","admin"]}]})",
                     bearer(kBootstrap));
  ASSERT_EQ(made.status, 201) << made.body;
  std::string_view token_view;
  ASSERT_FALSE(Parse(made)["token"].get(token_view));
  const std::string team(token_view);
  const std::string before = Dump();
  Answer q = Call("POST", StrCat("/admin/datasets/cpu/migrations?archiveDir=", archive_),
                  std::string(kManifest), bearer(team));
  EXPECT_EQ(q.status, 403) << q.body;
  Answer in_manifest = Call("POST", "/admin/datasets/cpu/migrations?dryRun=true",
                            StrCat(kManifest, "archiveDir: ", archive_, "\n"), bearer(team));
  EXPECT_EQ(in_manifest.status, 403) << in_manifest.body;
  Answer relative = Call("POST", "/admin/datasets/cpu/migrations?dryRun=true",
                         StrCat(kManifest, "archiveDir: archive\n"), bearer(kBootstrap));
  EXPECT_EQ(relative.status, 400) << relative.body;
  EXPECT_EQ(Dump(), before);
  EXPECT_FALSE(std::filesystem::exists(archive_));
  // The unrestricted admin may; the team's dry run without a directory is fine.
  Answer dry = Call("POST", "/admin/datasets/cpu/migrations?dryRun=true", std::string(kManifest),
                    bearer(team));
  EXPECT_EQ(dry.status, 200) << dry.body;
  Answer ok = Call("POST", StrCat("/admin/datasets/cpu/migrations?archiveDir=", archive_),
                   std::string(kManifest), bearer(kBootstrap));
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(Dump(), Expected());
}

// Archive files: a column name is percent-encoded in its file name (it may
// hold '/' and '..'), each migration has its own subdirectory (a later
// migration dropping a column of the same name never replaces the first's
// file), a new migration never replaces an existing archive file, and a
// resume archives where the migration began whatever directory it is given.
TEST_F(MigrateTest, ArchiveFilesNeverCollideOrEscapeTheirDirectory) {
  CreateCpu();
  Answer odd = Call("POST", "/datasets/cpu/ingest",
                    R"({"records":[{"timestamp":"2024-05-01T00:00:00Z","host":"h0",)"
                    R"("../../evil/x":"v1"}]})");
  ASSERT_EQ(odd.status, 200) << odd.body;
  ASSERT_EQ(Call("POST", "/admin/datasets/cpu/flush").status, 200);
  constexpr std::string_view kDrop = R"yaml(dataset: cpu
governance: {ticketId: T-1, approvedBy: a@example.com}
targetSchema: {timestamp: timestamp, host: string, region: string, usage: double, temp_f: integer}
operations:
  - drop: {column: debug}
  - drop: {column: "../../evil/x"}
)yaml";
  auto first = ParseMigrationManifest(kDrop, "m1.yaml");
  ASSERT_TRUE(first.ok()) << first.status();
  // An archive file of this migration exists already: refused, nothing changes.
  const std::string dir1 = StrCat(archive_, "/", first->Id());
  std::filesystem::create_directories(dir1);
  const std::string debug0 = StrCat(dir1, "/cpu-", kStart, "-debug.jsonl");
  std::ofstream(debug0) << "precious\n";
  const uint32_t version = engine_->GetSchema("cpu")->version;
  auto refused = Execute(engine_.get(), *first, Options());
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find(debug0), std::string::npos) << refused.status();
  EXPECT_EQ(engine_->GetSchema("cpu")->version, version);
  EXPECT_EQ(ReadFileToString(debug0), "precious\n");
  std::filesystem::remove(debug0);
  // Stopped after the first partition, resumed with another directory: every
  // file goes where it began.
  MigrateOptions stop = Options();
  stop.after_partition = [](int64_t) { return absl::AbortedError("injected stop"); };
  ASSERT_FALSE(Execute(engine_.get(), *first, stop).ok());
  MigrateOptions elsewhere = Options();
  elsewhere.archive_dir = archive_ + "-elsewhere";
  auto resumed = Resume(engine_.get(), "cpu", elsewhere);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_FALSE(std::filesystem::exists(elsewhere.archive_dir));
  EXPECT_EQ(ReadFileToString(debug0), ExpectedArchive(0));
  for (int day = 1; day < 3; ++day) {
    EXPECT_EQ(ReadFileToString(StrCat(dir1, "/cpu-", kStart + day * kDay, "-debug.jsonl")),
              ExpectedArchive(day));
  }
  EXPECT_EQ(ReadFileToString(StrCat(dir1, "/cpu-", kStart, "-..%2F..%2Fevil%2Fx.jsonl")),
            "{\"ts\":\"2024-05-01T00:00:00Z\",\"series\":{\"host\":\"h0\"},\"value\":\"v1\"}\n");
  EXPECT_FALSE(std::filesystem::exists(StrCat(archive_, "/../evil")));
  size_t files = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(archive_)) {
    if (e.is_regular_file()) ++files;
  }
  EXPECT_EQ(files, 6u);  // two columns in three partitions; no temporary file left
  // The column comes back and is dropped again: another migration, another file.
  Answer again = Call("POST", "/datasets/cpu/ingest",
                      R"({"records":[{"timestamp":"2024-05-01T00:00:00Z","host":"h0",)"
                      R"("debug":"second"}]})");
  ASSERT_EQ(again.status, 200) << again.body;
  constexpr std::string_view kDropAgain = R"yaml(dataset: cpu
governance: {ticketId: T-2, approvedBy: a@example.com}
targetSchema: {timestamp: timestamp, host: string, region: string, usage: double, temp_f: integer}
operations:
  - drop: {column: debug}
)yaml";
  auto second = ParseMigrationManifest(kDropAgain, "m2.yaml");
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_NE(second->Id(), first->Id());
  auto r2 = Execute(engine_.get(), *second, Options());
  ASSERT_TRUE(r2.ok()) << r2.status();
  EXPECT_EQ(ReadFileToString(debug0), ExpectedArchive(0));
  EXPECT_EQ(
      ReadFileToString(StrCat(archive_, "/", second->Id(), "/cpu-", kStart, "-debug.jsonl")),
      "{\"ts\":\"2024-05-01T00:00:00Z\",\"series\":{\"host\":\"h0\"},\"value\":\"second\"}\n");
  std::filesystem::remove_all(elsewhere.archive_dir);
}

// JSON has no NaN or infinities: dropped doubles that are archive as strings
// ("NaN", "Infinity", "-Infinity"), not as null (which means no value).
TEST_F(MigrateTest, NonFiniteDroppedValuesAreArchivedAsStrings) {
  Answer a = Call("POST", "/datasets/m/ingest",
                  R"({"records":[{"timestamp":"2024-05-01T00:00:00Z","h":"x","s":"nan"},)"
                  R"({"timestamp":"2024-05-01T00:01:00Z","h":"x","s":"inf"},)"
                  R"({"timestamp":"2024-05-01T00:02:00Z","h":"x","s":"-inf"},)"
                  R"({"timestamp":"2024-05-01T00:03:00Z","h":"x","s":"1.5"}]})");
  ASSERT_EQ(a.status, 200) << a.body;
  ASSERT_EQ(Call("PUT", "/admin/datasets/m/settings", R"({"segmentBy":["h"]})").status, 200);
  ASSERT_EQ(Call("POST", "/admin/datasets/m/flush").status, 200);
  auto to_double = ParseMigrationManifest(R"yaml(dataset: m
governance: {ticketId: T-1, approvedBy: a@example.com}
targetSchema: {timestamp: timestamp, h: string, d: double}
operations:
  - rename: {from: s, to: d, transform: "s::double"}
)yaml",
                                          "m1.yaml");
  ASSERT_TRUE(to_double.ok()) << to_double.status();
  auto r1 = Execute(engine_.get(), *to_double, Options());
  ASSERT_TRUE(r1.ok()) << r1.status();
  auto drop = ParseMigrationManifest(R"yaml(dataset: m
governance: {ticketId: T-2, approvedBy: a@example.com}
targetSchema: {timestamp: timestamp, h: string}
operations:
  - drop: {column: d}
)yaml",
                                     "m2.yaml");
  ASSERT_TRUE(drop.ok()) << drop.status();
  auto r2 = Execute(engine_.get(), *drop, Options());
  ASSERT_TRUE(r2.ok()) << r2.status();
  ASSERT_EQ(r2->archive_files.size(), 1u);
  EXPECT_EQ(ReadFileToString(r2->archive_files[0]),
            "{\"ts\":\"2024-05-01T00:00:00Z\",\"series\":{\"h\":\"x\"},\"value\":\"NaN\"}\n"
            "{\"ts\":\"2024-05-01T00:01:00Z\",\"series\":{\"h\":\"x\"},\"value\":\"Infinity\"}\n"
            "{\"ts\":\"2024-05-01T00:02:00Z\",\"series\":{\"h\":\"x\"},\"value\":\"-Infinity\"}\n"
            "{\"ts\":\"2024-05-01T00:03:00Z\",\"series\":{\"h\":\"x\"},\"value\":1.5}\n");
}

// json, uuid and array columns: a string column of JSON text becomes json
// (made canonical per row), and dropped typed values are archived as JSON
// values (a json object as an object, an array as an array, a uuid a string).
TEST_F(MigrateTest, TypedColumnsConvertFromStringsAndArchiveAsJson) {
  Answer a = Call(
      "POST", "/datasets/m/ingest",
      R"({"schema":{"fields":[{"name":"timestamp","type":"timestamp"},{"name":"h","type":"string"},)"
      R"({"name":"raw","type":"string"},{"name":"id","type":"uuid"},)"
      R"({"name":"attrs","type":"json"},{"name":"tags","type":"string[]"}]},"records":[)"
      R"({"timestamp":"2024-05-01T00:00:00Z","h":"x","raw":"{ \"b\": 1, \"a\": [2.0] }",)"
      R"("id":"A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11","attrs":{"k":"v"},"tags":["p","q"]}]})");
  ASSERT_EQ(a.status, 200) << a.body;
  ASSERT_EQ(Call("PUT", "/admin/datasets/m/settings", R"({"segmentBy":["h"]})").status, 200);
  ASSERT_EQ(Call("POST", "/admin/datasets/m/flush").status, 200);
  // A transform that would read json as a string is refused while planning.
  auto bad = ParseMigrationManifest(R"yaml(dataset: m
governance: {ticketId: T-0, approvedBy: a@example.com}
targetSchema: {timestamp: timestamp, h: string, raw: string, id: uuid, attrs: string, tags: "string[]"}
operations:
  - transform: {column: attrs, expression: "upper(attrs)", type: string}
)yaml",
                                    "m0.yaml");
  ASSERT_TRUE(bad.ok()) << bad.status();
  auto r0 = Execute(engine_.get(), *bad, Options());
  ASSERT_FALSE(r0.ok());
  EXPECT_NE(std::string(r0.status().message()).find("must be a string, not json"),
            std::string::npos)
      << r0.status();
  auto to_json = ParseMigrationManifest(R"yaml(dataset: m
governance: {ticketId: T-1, approvedBy: a@example.com}
targetSchema: {timestamp: timestamp, h: string, doc: json, id: uuid, attrs: json, tags: "string[]"}
operations:
  - rename: {from: raw, to: doc, transform: "raw::json"}
)yaml",
                                        "m1.yaml");
  ASSERT_TRUE(to_json.ok()) << to_json.status();
  auto r1 = Execute(engine_.get(), *to_json, Options());
  ASSERT_TRUE(r1.ok()) << r1.status();
  auto drop = ParseMigrationManifest(R"yaml(dataset: m
governance: {ticketId: T-2, approvedBy: a@example.com}
targetSchema: {timestamp: timestamp, h: string}
operations:
  - drop: {column: doc}
  - drop: {column: id}
  - drop: {column: attrs}
  - drop: {column: tags}
)yaml",
                                     "m2.yaml");
  ASSERT_TRUE(drop.ok()) << drop.status();
  auto r2 = Execute(engine_.get(), *drop, Options());
  ASSERT_TRUE(r2.ok()) << r2.status();
  std::string all;
  for (const std::string& f : r2->archive_files) all += ReadFileToString(f);
  for (std::string_view want :
       {R"("value":{"a":[2],"b":1}})", R"("value":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"})",
        R"("value":{"k":"v"}})", R"("value":["p","q"]})"}) {
    EXPECT_NE(all.find(want), std::string::npos) << want << " in\n" << all;
  }
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
