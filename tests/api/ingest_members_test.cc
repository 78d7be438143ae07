// The members of a JSON ingest body beyond records, schema and
// timestampColumn: partitionKey (attributes of the whole batch, stored as
// columns) and any other member, which is refused rather than dropped.
#include <gtest/gtest.h>

#include "engine/schema.h"
#include "tests/api/ingest_test_util.h"

namespace timestore::api {
namespace {

using namespace ::timestore::api::testing;

// Nothing a client sends is dropped silently: a member that is not stored is
// a 400 naming it, a misspelt "records" among them.
TEST(IngestParserErrorTest, UnknownMembersAreRefused) {
  for (std::string_view body : {R"({"records": [{"timestamp": 1}], "other": 1})",
                                R"({"recrods": [{"timestamp": 1}], "records": []})",
                                R"({"partitionkey": {"a": "b"}, "records": []})"}) {
    SCOPED_TRACE(body);
    ErrorResponse e = Rejected(Parse(std::string(body)));
    EXPECT_EQ(e.http, 400);
    EXPECT_EQ(e.code, "invalid_request");
    EXPECT_NE(e.message.find("unknown member"), std::string::npos) << e.message;
  }
}

// partitionKey: attributes of the batch, stored as string columns of every row.
TEST(IngestParserTest, PartitionKeyBecomesColumnsOfEveryRow) {
  auto req = Parse(R"({"partitionKey": {"region": "eu", "tenant": "acme"},
                       "records": [{"timestamp": 1, "v": 1}, {"timestamp": 2, "v": 2}]})");
  ASSERT_TRUE(req.ok()) << req.status();
  for (const char* name : {"region", "tenant"}) {
    const ColumnVector& c = Col(*req, name);
    ASSERT_EQ(c.size(), 2u);
    EXPECT_EQ(TypeOf(*req, name), ColumnType::kString);
    EXPECT_FALSE(c.HasNulls());
  }
  EXPECT_EQ(Col(*req, "tenant").dict[Col(*req, "tenant").ids[1]], "acme");
  // Empty records: nothing stored, no error.
  EXPECT_TRUE(Parse(R"({"partitionKey": {"a": "b"}, "records": []})").ok());
  EXPECT_TRUE(Parse(R"({"partitionKey": null, "records": [{"timestamp": 1}]})").ok());
}

TEST(IngestParserErrorTest, PartitionKeyConflicts) {
  Schema current;
  current.version = 1;
  current.time_column = "timestamp";
  current.fields = {{"timestamp", ColumnType::kTimestamp}, {"n", ColumnType::kInteger}};
  struct Case {
    std::string body;
    std::string want;
  } cases[] = {
      {R"({"partitionKey": {"region": "eu"}, "records": [{"timestamp": 1, "region": "us"}]})",
       "given both by partitionKey and by the records"},
      {R"({"partitionKey": {"n": "x"}, "records": [{"timestamp": 1}]})", "has type integer"},
      {R"({"partitionKey": {"timestamp": "x"}, "records": [{"timestamp": 1}]})",
       "names the time column"},
      {R"({"partitionKey": {"a": 1}, "records": [{"timestamp": 1}]})", "must be a string"},
      {R"({"partitionKey": ["a"], "records": [{"timestamp": 1}]})", "must be an object"},
      {R"({"partitionKey": {"a": "x", "a": "y"}, "records": [{"timestamp": 1}]})", "twice"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.body);
    ErrorResponse e = Rejected(Parse(c.body, {.current = &current}));
    EXPECT_EQ(e.http, 400);
    EXPECT_NE(e.message.find(c.want), std::string::npos) << e.message;
  }
}

}  // namespace
}  // namespace timestore::api
