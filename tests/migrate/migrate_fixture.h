// The fixture of the in-process migration tests (migrate_*_test.cc): an
// AdminTest with a "cpu" dataset of 36 rows over three days (CreateCpu), the
// manifest that renames, transforms and drops (kManifest), what the migrated
// rows and archive files must be, and an archive directory of its own.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "common/strings.h"
#include "common/time_util.h"
#include "migrate/migration_manifest.h"
#include "migrate/migrator.h"
#include "tests/api/admin_fixture.h"

namespace timestore::migrate::testing {

using api::testing::AdminTest;
using api::testing::Answer;
using api::testing::ReadFileToString;

inline constexpr int64_t kDay = 86'400'000'000'000;
inline constexpr int64_t kStart = 1'714'521'600'000'000'000;  // 2024-05-01T00:00:00Z

inline constexpr std::string_view kManifest = R"yaml(# rename, transform, drop
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

// `d` with every digit it needs to read back the same.
inline std::string Num(double d) {
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
  // Parses `yaml` (errors name `file`) and executes it with Options().
  absl::StatusOr<MigrationReport> Run(std::string_view yaml,
                                      std::string_view file = "migration.yaml") {
    auto spec = ParseMigrationManifest(yaml, file);
    if (!spec.ok()) return spec.status();
    return Execute(engine_.get(), *spec, Options());
  }

  std::string archive_;
};

}  // namespace timestore::migrate::testing
