// Migration manifests (migrate/migration_manifest.h, docs/migrate.md): parse
// errors name the key path and the line, and the JSON form reads back the same.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "migrate/migration_manifest.h"
#include "tests/migrate/migrate_fixture.h"

namespace timestore::migrate {
namespace {

using testing::kManifest;

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

}  // namespace
}  // namespace timestore::migrate
