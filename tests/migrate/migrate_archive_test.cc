// Where a migration's dropped values go: archive files (one per column and
// partition, in the migration's own subdirectory, never replaced, never
// outside the directory), values archived as JSON, and who may name the
// archive directory.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "auth/token_store.h"
#include "common/strings.h"
#include "migrate/migration_manifest.h"
#include "migrate/migrator.h"
#include "tests/api/token_fixture.h"
#include "tests/migrate/migrate_fixture.h"

namespace timestore::migrate {
namespace {

using api::testing::Answer;
using api::testing::Bearer;
using api::testing::kBootstrap;
using api::testing::ReadFileToString;
using api::testing::TokenModeOptions;
using testing::kDay;
using testing::kManifest;
using testing::kStart;
using testing::MigrateTest;

// archiveDir names a directory anywhere on the server's disk: a token limited
// to some datasets may not give one (in the query or in the manifest), as for
// an export to a directory; it may run the migration with the default one.
TEST_F(MigrateTest, ARestrictedTokenMayNotNameAnArchiveDirectory) {
  CreateCpu();
  StopService();
  auto tokens = auth::TokenStore::Open(root_ + "/auth");
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  StartService(TokenModeOptions(tokens->get()));
  Answer made = Call("POST", "/admin/tokens",
                     R"({"name":"team","scopes":["read","write","admin"],)"
                     R"("datasets":[{"pattern":"cpu","access":["read","write","admin"]}]})",
                     Bearer(kBootstrap));
  ASSERT_EQ(made.status, 201) << made.body;
  std::string_view token_view;
  ASSERT_FALSE(Parse(made)["token"].get(token_view));
  const std::string team(token_view);
  const std::string before = Dump();
  Answer q = Call("POST", StrCat("/admin/datasets/cpu/migrations?archiveDir=", archive_),
                  std::string(kManifest), Bearer(team));
  EXPECT_EQ(q.status, 403) << q.body;
  Answer in_manifest = Call("POST", "/admin/datasets/cpu/migrations?dryRun=true",
                            StrCat(kManifest, "archiveDir: ", archive_, "\n"), Bearer(team));
  EXPECT_EQ(in_manifest.status, 403) << in_manifest.body;
  Answer relative = Call("POST", "/admin/datasets/cpu/migrations?dryRun=true",
                         StrCat(kManifest, "archiveDir: archive\n"), Bearer(kBootstrap));
  EXPECT_EQ(relative.status, 400) << relative.body;
  EXPECT_EQ(Dump(), before);
  EXPECT_FALSE(std::filesystem::exists(archive_));
  // The unrestricted admin may; the team's dry run without a directory is fine.
  Answer dry = Call("POST", "/admin/datasets/cpu/migrations?dryRun=true", std::string(kManifest),
                    Bearer(team));
  EXPECT_EQ(dry.status, 200) << dry.body;
  Answer ok = Call("POST", StrCat("/admin/datasets/cpu/migrations?archiveDir=", archive_),
                   std::string(kManifest), Bearer(kBootstrap));
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
  auto r1 = Run(R"yaml(dataset: m
governance: {ticketId: T-1, approvedBy: a@example.com}
targetSchema: {timestamp: timestamp, h: string, d: double}
operations:
  - rename: {from: s, to: d, transform: "s::double"}
)yaml",
                "m1.yaml");
  ASSERT_TRUE(r1.ok()) << r1.status();
  auto r2 = Run(R"yaml(dataset: m
governance: {ticketId: T-2, approvedBy: a@example.com}
targetSchema: {timestamp: timestamp, h: string}
operations:
  - drop: {column: d}
)yaml",
                "m2.yaml");
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
  auto r0 = Run(R"yaml(dataset: m
governance: {ticketId: T-0, approvedBy: a@example.com}
targetSchema: {timestamp: timestamp, h: string, raw: string, id: uuid, attrs: string, tags: "string[]"}
operations:
  - transform: {column: attrs, expression: "upper(attrs)", type: string}
)yaml",
                "m0.yaml");
  ASSERT_FALSE(r0.ok());
  EXPECT_NE(std::string(r0.status().message()).find("must be a string, not json"),
            std::string::npos)
      << r0.status();
  auto r1 = Run(R"yaml(dataset: m
governance: {ticketId: T-1, approvedBy: a@example.com}
targetSchema: {timestamp: timestamp, h: string, doc: json, id: uuid, attrs: json, tags: "string[]"}
operations:
  - rename: {from: raw, to: doc, transform: "raw::json"}
)yaml",
                "m1.yaml");
  ASSERT_TRUE(r1.ok()) << r1.status();
  auto r2 = Run(R"yaml(dataset: m
governance: {ticketId: T-2, approvedBy: a@example.com}
targetSchema: {timestamp: timestamp, h: string}
operations:
  - drop: {column: doc}
  - drop: {column: id}
  - drop: {column: attrs}
  - drop: {column: tags}
)yaml",
                "m2.yaml");
  ASSERT_TRUE(r2.ok()) << r2.status();
  std::string all;
  for (const std::string& f : r2->archive_files) all += ReadFileToString(f);
  for (std::string_view want :
       {R"("value":{"a":[2],"b":1}})", R"("value":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"})",
        R"("value":{"k":"v"}})", R"("value":["p","q"]})"}) {
    EXPECT_NE(all.find(want), std::string::npos) << want << " in\n" << all;
  }
}

}  // namespace
}  // namespace timestore::migrate
