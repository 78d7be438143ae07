#include "api/ingest_parser.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/schema.h"
#include "tests/api/error_response.h"
#include "tests/api/ingest_test_util.h"

namespace timestore::api {
namespace {

using ::timestore::api::testing::ErrorResponse;
using ::timestore::api::testing::ToErrorResponse;
using namespace ::timestore::api::testing;  // Parse, Rejected, Col, TypeOf, Str

constexpr int64_t kSec = 1'000'000'000;
// 2024-05-01T12:00:00Z
constexpr int64_t kNoon = 1714564800 * kSec;

Schema CpuSchema() {
  Schema s;
  s.version = 1;
  s.time_column = "timestamp";
  s.fields = {{"timestamp", ColumnType::kTimestamp},
              {"hostname", ColumnType::kString},
              {"usage_user", ColumnType::kDouble},
              {"count", ColumnType::kInteger}};
  return s;
}

// ---------------------------------------------------------------------------
// Happy paths

TEST(IngestParserTest, DeclaredSchemaAsInApiMd) {
  auto req = Parse(R"({
    "schema": {"fields": [
      {"name": "timestamp", "type": "timestamp"},
      {"name": "hostname",  "type": "string"},
      {"name": "usage_user","type": "double"}
    ]},
    "timestampColumn": "timestamp",
    "records": [
      {"timestamp": "2024-05-01T12:00:00Z", "hostname": "host_0", "usage_user": 42.5}
    ]
  })");
  ASSERT_TRUE(req.ok()) << req.status();
  EXPECT_EQ(req->slug, "cpu");
  EXPECT_TRUE(req->schema_declared);
  EXPECT_EQ(req->time_column, "timestamp");
  EXPECT_EQ(req->rows, 1u);
  ASSERT_EQ(req->fields.size(), 3u);
  EXPECT_EQ(req->fields[0], (Field{"timestamp", ColumnType::kTimestamp}));
  EXPECT_EQ(req->fields[1], (Field{"hostname", ColumnType::kString}));
  EXPECT_EQ(req->fields[2], (Field{"usage_user", ColumnType::kDouble}));
  EXPECT_EQ(Col(*req, "timestamp").ints[0], kNoon);
  EXPECT_EQ(Str(Col(*req, "hostname"), 0), "host_0");
  EXPECT_EQ(Col(*req, "usage_user").doubles[0], 42.5);
}

TEST(IngestParserTest, TopLevelMembersInAnyOrder) {
  auto req = Parse(
      R"({"records": [{"ts": 0, "a": 1}], "partitionKey": {"region": "eu"}, "timestampColumn": "ts",
                       "schema": {"fields": [{"name": "a", "type": "integer"}]}}  )");
  ASSERT_TRUE(req.ok()) << req.status();
  EXPECT_EQ(req->time_column, "ts");
  EXPECT_EQ(Col(*req, "region").dict[Col(*req, "region").ids[0]], "eu");
  EXPECT_TRUE(req->schema_declared);
  EXPECT_EQ(TypeOf(*req, "a"), ColumnType::kInteger);
  EXPECT_EQ(Col(*req, "a").ints[0], 1);
}

TEST(IngestParserTest, DeclaredFieldWithoutValuesIsAllNull) {
  auto req = Parse(R"({"schema": {"fields": [{"name": "idle", "type": "integer"}]},
                       "records": [{"timestamp": 0}, {"timestamp": 1}]})");
  ASSERT_TRUE(req.ok()) << req.status();
  EXPECT_EQ(TypeOf(*req, "idle"), ColumnType::kInteger);
  const ColumnVector& idle = Col(*req, "idle");
  EXPECT_TRUE(idle.IsNull(0));
  EXPECT_TRUE(idle.IsNull(1));
}

TEST(IngestParserTest, EmptyRecordsWithSchema) {
  auto req = Parse(R"({"schema": {"fields": [{"name": "x", "type": "double"}]}, "records": []})");
  ASSERT_TRUE(req.ok()) << req.status();
  EXPECT_EQ(req->rows, 0u);
  EXPECT_TRUE(req->schema_declared);
  EXPECT_EQ(TypeOf(*req, "x"), ColumnType::kDouble);
  EXPECT_EQ(TypeOf(*req, "timestamp"), ColumnType::kTimestamp);
}

TEST(IngestParserTest, NullSchemaMeansNoneDeclared) {
  auto req = Parse(R"({"schema": null, "records": [{"timestamp": 1}]})");
  ASSERT_TRUE(req.ok()) << req.status();
  EXPECT_FALSE(req->schema_declared);
}

TEST(IngestParserTest, InfersTypesFromValues) {
  auto req = Parse(R"({"records": [
    {"timestamp": "2024-05-01T12:00:00Z", "host": "a", "cpu": 1.5, "n": 3, "up": true}
  ]})");
  ASSERT_TRUE(req.ok()) << req.status();
  EXPECT_FALSE(req->schema_declared);
  EXPECT_EQ(TypeOf(*req, "timestamp"), ColumnType::kTimestamp);
  EXPECT_EQ(TypeOf(*req, "host"), ColumnType::kString);
  EXPECT_EQ(TypeOf(*req, "cpu"), ColumnType::kDouble);
  EXPECT_EQ(TypeOf(*req, "n"), ColumnType::kDouble);  // every JSON number infers double
  EXPECT_EQ(TypeOf(*req, "up"), ColumnType::kBoolean);
  EXPECT_EQ(Col(*req, "n").doubles[0], 3.0);
  EXPECT_EQ(Col(*req, "up").bools[0], 1);
}

TEST(IngestParserTest, CustomTimeColumnIsInferredAsTimestamp) {
  auto req = Parse(R"({"timestampColumn": "ts", "records": [{"ts": 1714564800000, "v": 1}]})");
  ASSERT_TRUE(req.ok()) << req.status();
  EXPECT_EQ(req->time_column, "ts");
  EXPECT_EQ(TypeOf(*req, "ts"), ColumnType::kTimestamp);
  EXPECT_EQ(Col(*req, "ts").ints[0], kNoon);
  EXPECT_FALSE(TypeOf(*req, "timestamp").has_value());
}

TEST(IngestParserTest, Rfc3339Forms) {
  auto req = Parse(R"({"records": [
    {"timestamp": "2024-05-01T12:00:00Z"},
    {"timestamp": "2024-05-01T12:00:00.123456789+02:00"},
    {"timestamp": "2024-05-01t12:00:00.5z"},
    {"timestamp": "1969-12-31T23:59:59Z"}
  ]})");
  ASSERT_TRUE(req.ok()) << req.status();
  const ColumnVector& ts = Col(*req, "timestamp");
  EXPECT_EQ(ts.ints[0], kNoon);
  EXPECT_EQ(ts.ints[1], kNoon - 2 * 3600 * kSec + 123456789);
  EXPECT_EQ(ts.ints[2], kNoon + kSec / 2);
  EXPECT_EQ(ts.ints[3], -kSec);
}

TEST(IngestParserTest, IntegerTimestampsUseEachPrecision) {
  struct Case {
    Precision precision;
    std::string value;
    int64_t want_ns;
  };
  const Case cases[] = {
      {Precision::kNanoseconds, "1714564800123456789", kNoon + 123456789},
      {Precision::kMicroseconds, "1714564800123456", kNoon + 123456000},
      {Precision::kMilliseconds, "1714564800123", kNoon + 123000000},
      {Precision::kSeconds, "1714564800", kNoon},
      {Precision::kSeconds, "-1", -kSec},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.value);
    auto req =
        Parse(StrCat(R"({"records": [{"timestamp": )", c.value, "}]}"), {.precision = c.precision});
    ASSERT_TRUE(req.ok()) << req.status();
    EXPECT_EQ(Col(*req, "timestamp").ints[0], c.want_ns);
    // NDJSON honours the precision the same way.
    auto nd = ParseNdjson(StrCat(R"({"timestamp": )", c.value, "}\n"), {.precision = c.precision});
    ASSERT_TRUE(nd.ok()) << nd.status();
    EXPECT_EQ(Col(*nd, "timestamp").ints[0], c.want_ns);
  }
}

TEST(IngestParserTest, IntegerColumnAcceptsWholeNumbers) {
  auto req = Parse(R"({"schema": {"fields": [{"name": "n", "type": "integer"}]}, "records": [
    {"timestamp": 0, "n": 5}, {"timestamp": 1, "n": 5.0}, {"timestamp": 2, "n": -7},
    {"timestamp": 3, "n": 1e2}, {"timestamp": 4, "n": -9223372036854775808},
    {"timestamp": 5, "n": 9223372036854775807}
  ]})");
  ASSERT_TRUE(req.ok()) << req.status();
  EXPECT_EQ(TypeOf(*req, "n"), ColumnType::kInteger);
  const ColumnVector& n = Col(*req, "n");
  EXPECT_EQ(n.ints[0], 5);
  EXPECT_EQ(n.ints[1], 5);
  EXPECT_EQ(n.ints[2], -7);
  EXPECT_EQ(n.ints[3], 100);
  EXPECT_EQ(n.ints[4], INT64_MIN);
  EXPECT_EQ(n.ints[5], INT64_MAX);
}

TEST(IngestParserTest, IntegerColumnRejectsFractionsAndOutOfRange) {
  for (std::string_view bad : {"5.5", "1e30", "9223372036854775808", "-1e19", "0.1"}) {
    SCOPED_TRACE(bad);
    ErrorResponse e = Rejected(
        Parse(StrCat(R"({"schema": {"fields": [{"name": "n", "type": "integer"}]}, "records": [)",
                     R"({"timestamp": 0, "n": 1}, {"timestamp": 1, "n": )", bad, "}]}")));
    EXPECT_EQ(e.http, 400);
    EXPECT_EQ(e.code, "invalid_value");
    EXPECT_EQ(e.Detail("recordIndex"), "1");
    EXPECT_EQ(e.Detail("column"), "n");
    EXPECT_NE(e.Detail("expected").find("integer"), std::string::npos) << e.Detail("expected");
    EXPECT_NE(e.message.find("record 1"), std::string::npos) << e.message;
  }
}

TEST(IngestParserTest, IntegerColumnOfCurrentSchemaIsNotReinferred) {
  Schema current = CpuSchema();
  auto req = Parse(R"({"records": [{"timestamp": 0, "count": 5}]})", {.current = &current});
  ASSERT_TRUE(req.ok()) << req.status();
  EXPECT_EQ(TypeOf(*req, "count"), ColumnType::kInteger);
  EXPECT_EQ(Col(*req, "count").ints[0], 5);
}

TEST(IngestParserTest, DoubleColumnAcceptsIntegers) {
  Schema current = CpuSchema();
  auto req = Parse(R"({"records": [{"timestamp": 0, "usage_user": 5},
                                   {"timestamp": 1, "usage_user": -3},
                                   {"timestamp": 2, "usage_user": 2.25}]})",
                   {.current = &current});
  ASSERT_TRUE(req.ok()) << req.status();
  const ColumnVector& u = Col(*req, "usage_user");
  EXPECT_EQ(u.doubles[0], 5.0);
  EXPECT_EQ(u.doubles[1], -3.0);
  EXPECT_EQ(u.doubles[2], 2.25);
}

TEST(IngestParserTest, NullsAndMissingKeysAreNull) {
  auto req = Parse(R"({"schema": {"fields": [{"name": "a", "type": "double"}]}, "records": [
    {"timestamp": 0, "a": 1, "s": "x"},
    {"timestamp": 1, "a": null, "s": null},
    {"timestamp": 2}
  ]})");
  ASSERT_TRUE(req.ok()) << req.status();
  EXPECT_EQ(req->rows, 3u);
  const ColumnVector& a = Col(*req, "a");
  EXPECT_FALSE(a.IsNull(0));
  EXPECT_EQ(a.doubles[0], 1.0);
  EXPECT_TRUE(a.IsNull(1));
  EXPECT_TRUE(a.IsNull(2));
  const ColumnVector& s = Col(*req, "s");
  EXPECT_EQ(Str(s, 0), "x");
  EXPECT_TRUE(s.IsNull(1));
  EXPECT_TRUE(s.IsNull(2));
  EXPECT_FALSE(Col(*req, "timestamp").HasNulls());
}

TEST(IngestParserTest, KeysInDifferentOrdersAcrossRecords) {
  auto req = Parse(R"({"records": [
    {"timestamp": 0, "a": 1, "b": "x", "c": true},
    {"c": false, "b": "y", "a": 2, "timestamp": 1},
    {"b": "z", "timestamp": 2, "c": true, "a": 3},
    {"timestamp": 3, "a": 4, "b": "w", "c": false}
  ]})");
  ASSERT_TRUE(req.ok()) << req.status();
  const ColumnVector& ts = Col(*req, "timestamp");
  const ColumnVector& a = Col(*req, "a");
  const ColumnVector& b = Col(*req, "b");
  const ColumnVector& c = Col(*req, "c");
  const char* want_b[] = {"x", "y", "z", "w"};
  for (size_t i = 0; i < 4; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(ts.ints[i], static_cast<int64_t>(i) * 1'000'000);
    EXPECT_EQ(a.doubles[i], static_cast<double>(i + 1));
    EXPECT_EQ(Str(b, i), want_b[i]);
    EXPECT_EQ(c.bools[i], i % 2 == 0 ? 1 : 0);
    EXPECT_FALSE(a.HasNulls() || b.HasNulls() || c.HasNulls());
  }
}

TEST(IngestParserTest, NewKeyMidBatchLeavesEarlierRowsNull) {
  auto req = Parse(R"({"records": [
    {"timestamp": 0, "a": 1},
    {"timestamp": 1, "a": 2},
    {"timestamp": 2, "a": 3, "b": "new"},
    {"timestamp": 3, "a": 4}
  ]})");
  ASSERT_TRUE(req.ok()) << req.status();
  EXPECT_EQ(TypeOf(*req, "b"), ColumnType::kString);
  const ColumnVector& b = Col(*req, "b");
  EXPECT_TRUE(b.IsNull(0));
  EXPECT_TRUE(b.IsNull(1));
  ASSERT_FALSE(b.IsNull(2));
  EXPECT_EQ(Str(b, 2), "new");
  EXPECT_TRUE(b.IsNull(3));
  EXPECT_FALSE(Col(*req, "a").HasNulls());
}

TEST(IngestParserTest, KeyWithOnlyNullValuesIsNotCreated) {
  auto req = Parse(R"({"records": [
    {"timestamp": 0, "ghost": null, "late": null},
    {"timestamp": 1, "ghost": null, "late": 7}
  ]})");
  ASSERT_TRUE(req.ok()) << req.status();
  EXPECT_FALSE(TypeOf(*req, "ghost").has_value());
  // A key that is null first and typed later takes the later value's type.
  EXPECT_EQ(TypeOf(*req, "late"), ColumnType::kDouble);
  const ColumnVector& late = Col(*req, "late");
  EXPECT_TRUE(late.IsNull(0));
  EXPECT_EQ(late.doubles[1], 7.0);
}

TEST(IngestParserTest, CurrentSchemaColumnsTheBatchNeverMentionsStayOut) {
  Schema current = CpuSchema();
  auto req = Parse(R"({"records": [{"timestamp": 0, "hostname": "h", "extra": 1}]})",
                   {.current = &current});
  ASSERT_TRUE(req.ok()) << req.status();
  EXPECT_TRUE(TypeOf(*req, "hostname").has_value());
  EXPECT_FALSE(TypeOf(*req, "usage_user").has_value());
  EXPECT_FALSE(TypeOf(*req, "count").has_value());
  EXPECT_EQ(TypeOf(*req, "extra"), ColumnType::kDouble);
}

TEST(IngestParserTest, NdjsonWithBlankLinesAndCrlf) {
  auto req = ParseNdjson(
      "\r\n"
      "{\"timestamp\": \"2024-05-01T12:00:00Z\", \"host\": \"a\", \"v\": 1}\r\n"
      "\r\n"
      "   \t\n"
      "{\"v\": 2.5, \"timestamp\": \"2024-05-01T12:00:01Z\", \"host\": \"b\"}\r\n"
      "{\"timestamp\": \"2024-05-01T12:00:02Z\"}");  // no final newline
  ASSERT_TRUE(req.ok()) << req.status();
  EXPECT_FALSE(req->schema_declared);
  EXPECT_EQ(req->rows, 3u);
  const ColumnVector& ts = Col(*req, "timestamp");
  EXPECT_EQ(ts.ints[0], kNoon);
  EXPECT_EQ(ts.ints[1], kNoon + kSec);
  EXPECT_EQ(ts.ints[2], kNoon + 2 * kSec);
  EXPECT_EQ(Str(Col(*req, "host"), 1), "b");
  EXPECT_EQ(Col(*req, "v").doubles[1], 2.5);
  EXPECT_TRUE(Col(*req, "v").IsNull(2));
}

TEST(IngestParserTest, NdjsonEmptyBodyHasNoRows) {
  auto req = ParseNdjson("\n\r\n");
  ASSERT_TRUE(req.ok()) << req.status();
  EXPECT_EQ(req->rows, 0u);
}

TEST(IngestParserTest, NdjsonUsesTheDatasetTimeColumn) {
  Schema current;
  current.version = 1;
  current.time_column = "ts";
  current.fields = {{"ts", ColumnType::kTimestamp}, {"n", ColumnType::kInteger}};
  auto req = ParseNdjson("{\"ts\": 1, \"n\": 2}\n", {.current = &current});
  ASSERT_TRUE(req.ok()) << req.status();
  EXPECT_EQ(req->time_column, "ts");
  EXPECT_EQ(Col(*req, "ts").ints[0], 1'000'000);
  EXPECT_EQ(Col(*req, "n").ints[0], 2);
}

// ---------------------------------------------------------------------------
// Errors: the whole request is rejected, with the HTTP status, code and
// details a client acts on.

TEST(IngestParserErrorTest, MalformedJson) {
  for (std::string_view body :
       {"not json", "{\"records\": [", "{\"records\": [{\"timestamp\": 1,}]}",
        "{\"records\": [{\"timestamp\": 1, \"a\": }]}", ""}) {
    SCOPED_TRACE(body);
    ErrorResponse e = Rejected(Parse(std::string(body)));
    EXPECT_EQ(e.http, 400);
    EXPECT_EQ(e.code, "invalid_json");
  }
}

TEST(IngestParserErrorTest, MalformedJsonInsideARecordNamesIt) {
  ErrorResponse e = Rejected(Parse(R"({"records": [{"timestamp": 1}, {"timestamp": 2, "a" 1}]})"));
  EXPECT_EQ(e.http, 400);
  EXPECT_EQ(e.code, "invalid_json");
  EXPECT_EQ(e.Detail("recordIndex"), "1");

  // A broken literal is caught when the value is read, as a bad value.
  for (std::string_view v : {"tru", "1.2.3", "-"}) {
    SCOPED_TRACE(v);
    e = Rejected(
        Parse(StrCat(R"({"records": [{"timestamp": 1}, {"timestamp": 2, "a": )", v, "}]}")));
    EXPECT_EQ(e.http, 400);
    EXPECT_EQ(e.Detail("recordIndex"), "1");
  }
}

// Bug fix: On-Demand parsing stopped at the end of "records", so a body with
// a second object after the first was accepted (and its rows stored).
// (An unknown top-level member is refused on its own; see UnknownMembersAreRefused.)
TEST(IngestParserErrorTest, TrailingContentAfterTheBody) {
  for (std::string_view body :
       {R"({"records": [{"timestamp": 1}]} {"records": []})",
        R"({"records": [{"timestamp": 1}], "partitionKey": null} {})",
        R"({"records": [{"timestamp": 1}]} x)", R"({"records": [{"timestamp": 1}]}])",
        R"({"records": [{"timestamp": 1}])"}) {
    SCOPED_TRACE(body);
    ErrorResponse e = Rejected(Parse(std::string(body)));
    EXPECT_EQ(e.http, 400);
    EXPECT_EQ(e.code, "invalid_json");
  }
}

TEST(IngestParserErrorTest, BodyNotAnObject) {
  for (std::string_view body : {"[{\"timestamp\": 1}]", "42", "\"records\"", "null"}) {
    SCOPED_TRACE(body);
    ErrorResponse e = Rejected(Parse(std::string(body)));
    EXPECT_EQ(e.http, 400);
    EXPECT_EQ(e.code, "invalid_json");
    EXPECT_NE(e.message.find("object"), std::string::npos) << e.message;
  }
}

TEST(IngestParserErrorTest, RecordsMissingOrNotAnArray) {
  for (std::string_view body :
       {R"({})", R"({"schema": null})", R"({"records": {}})", R"({"records": 5})",
        R"({"records": null})", R"({"records": "x"})"}) {
    SCOPED_TRACE(body);
    ErrorResponse e = Rejected(Parse(std::string(body)));
    EXPECT_EQ(e.http, 400);
    EXPECT_EQ(e.code, "invalid_request");
    EXPECT_NE(e.message.find("records"), std::string::npos) << e.message;
  }
}

TEST(IngestParserErrorTest, RecordNotAnObject) {
  for (std::string_view rec : {"5", "[1]", "\"x\"", "null"}) {
    SCOPED_TRACE(rec);
    ErrorResponse e = Rejected(Parse(StrCat(R"({"records": [{"timestamp": 1}, )", rec, "]}")));
    EXPECT_EQ(e.http, 400);
    EXPECT_EQ(e.code, "invalid_value");
    EXPECT_EQ(e.Detail("recordIndex"), "1");
    EXPECT_NE(e.message.find("record 1"), std::string::npos) << e.message;
  }
}

TEST(IngestParserErrorTest, StringInDoubleColumn) {
  ErrorResponse e = Rejected(Parse(R"({
    "schema": {"fields": [{"name": "usage_user", "type": "double"}]},
    "records": [{"timestamp": 0, "usage_user": 1},
                {"timestamp": 1, "usage_user": 2},
                {"timestamp": 2, "usage_user": "high"}]})"));
  EXPECT_EQ(e.http, 400);
  EXPECT_EQ(e.code, "invalid_value");
  EXPECT_EQ(e.Detail("recordIndex"), "2");
  EXPECT_EQ(e.Detail("column"), "usage_user");
  EXPECT_EQ(e.Detail("expected"), "double");
  EXPECT_EQ(e.Detail("got"), "string");
  EXPECT_FALSE(e.Has("line"));
  EXPECT_NE(e.message.find("record 2"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("usage_user"), std::string::npos) << e.message;
}

TEST(IngestParserErrorTest, ValueDisagreeingWithAnInferredOrStoredType) {
  // Inferred from record 0 within the batch.
  ErrorResponse e = Rejected(Parse(R"({"records": [{"timestamp": 0, "v": 1},
                                                {"timestamp": 1, "v": true}]})"));
  EXPECT_EQ(e.http, 400);
  EXPECT_EQ(e.code, "invalid_value");
  EXPECT_EQ(e.Detail("recordIndex"), "1");
  EXPECT_EQ(e.Detail("column"), "v");
  EXPECT_EQ(e.Detail("expected"), "double");
  EXPECT_EQ(e.Detail("got"), "boolean");

  // Stored in the dataset's schema.
  Schema current = CpuSchema();
  e = Rejected(Parse(R"({"records": [{"timestamp": 0, "hostname": 3}]})", {.current = &current}));
  EXPECT_EQ(e.http, 400);
  EXPECT_EQ(e.code, "invalid_value");
  EXPECT_EQ(e.Detail("recordIndex"), "0");
  EXPECT_EQ(e.Detail("column"), "hostname");
  EXPECT_EQ(e.Detail("expected"), "string");
  EXPECT_EQ(e.Detail("got"), "number");
}

TEST(IngestParserErrorTest, TimeColumnMissing) {
  ErrorResponse e =
      Rejected(Parse(R"({"records": [{"timestamp": 0, "a": 1}, {"a": 2}, {"timestamp": 2}]})"));
  EXPECT_EQ(e.http, 400);
  EXPECT_EQ(e.code, "invalid_value");
  EXPECT_EQ(e.Detail("recordIndex"), "1");
  EXPECT_EQ(e.Detail("column"), "timestamp");
  EXPECT_EQ(e.Detail("expected"), "timestamp");
  EXPECT_EQ(e.Detail("got"), "missing");
}

TEST(IngestParserErrorTest, TimeColumnNull) {
  ErrorResponse e = Rejected(Parse(R"({"records": [{"timestamp": null, "a": 1}]})"));
  EXPECT_EQ(e.http, 400);
  EXPECT_EQ(e.code, "invalid_value");
  EXPECT_EQ(e.Detail("recordIndex"), "0");
  EXPECT_EQ(e.Detail("column"), "timestamp");
  EXPECT_EQ(e.Detail("got"), "null");
}

TEST(IngestParserErrorTest, TimeColumnOfTheWrongJsonType) {
  for (std::string_view v : {"true", "[1]", "{}", "1.5"}) {
    SCOPED_TRACE(v);
    ErrorResponse e = Rejected(Parse(StrCat(R"({"records": [{"timestamp": )", v, "}]}")));
    EXPECT_EQ(e.http, 400);
    EXPECT_EQ(e.code, "invalid_value");
    EXPECT_EQ(e.Detail("recordIndex"), "0");
    EXPECT_EQ(e.Detail("column"), "timestamp");
  }
}

TEST(IngestParserErrorTest, BadRfc3339) {
  for (std::string_view ts : {"2024-13-01T00:00:00Z", "2024-05-01T12:00:00.1234567890Z",
                              "2024-02-30T00:00:00Z", "2024-05-01 12:00:00", "2024-05-01",
                              "2024-05-01T25:00:00Z", "2024-05-01T12:00:00+24:00", ""}) {
    SCOPED_TRACE(ts);
    ErrorResponse e = Rejected(Parse(StrCat(
        R"({"records": [{"timestamp": "2024-05-01T12:00:00Z"}, {"timestamp": ")", ts, "\"}]}")));
    EXPECT_EQ(e.http, 400);
    EXPECT_EQ(e.code, "invalid_value");
    EXPECT_EQ(e.Detail("recordIndex"), "1");
    EXPECT_EQ(e.Detail("column"), "timestamp");
    EXPECT_NE(e.Detail("expected").find("RFC 3339"), std::string::npos);
  }
}

TEST(IngestParserErrorTest, IntegerTimestampOverflowingInt64Nanoseconds) {
  struct Case {
    Precision precision;
    std::string_view value;
  };
  const Case cases[] = {
      {Precision::kSeconds, "9300000000"},               // 2264: beyond int64 ns
      {Precision::kMilliseconds, "-9300000000000"},      // 1675
      {Precision::kMicroseconds, "9223372036854776"},    // just past the limit
      {Precision::kNanoseconds, "9223372036854775808"},  // not even an int64
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.value);
    ErrorResponse e = Rejected(Parse(StrCat(R"({"records": [{"timestamp": )", c.value, "}]}"),
                                     {.precision = c.precision}));
    EXPECT_EQ(e.http, 400);
    EXPECT_EQ(e.code, "invalid_value");
    EXPECT_EQ(e.Detail("recordIndex"), "0");
    EXPECT_EQ(e.Detail("column"), "timestamp");
  }
}

TEST(IngestParserErrorTest, DuplicateKeyInOneRecord) {
  ErrorResponse e = Rejected(
      Parse(R"({"records": [{"timestamp": 0, "a": 1}, {"timestamp": 1, "a": 1, "a": 2}]})"));
  EXPECT_EQ(e.http, 400);
  EXPECT_EQ(e.code, "invalid_value");
  EXPECT_EQ(e.Detail("recordIndex"), "1");
  EXPECT_EQ(e.Detail("column"), "a");

  e = Rejected(Parse(R"({"records": [{"timestamp": 0, "timestamp": 1}]})"));
  EXPECT_EQ(e.http, 400);
  EXPECT_EQ(e.Detail("recordIndex"), "0");
  EXPECT_EQ(e.Detail("column"), "timestamp");
}

TEST(IngestParserErrorTest, NestedValues) {
  for (std::string_view v : {R"({"b": 1})", "[1, 2]", "[]"}) {
    SCOPED_TRACE(v);
    // A known scalar column takes no object or array.
    Schema current = CpuSchema();
    ErrorResponse e =
        Rejected(Parse(StrCat(R"({"records": [{"timestamp": 0, "usage_user": )", v, "}]}"),
                       {.current = &current}));
    EXPECT_EQ(e.http, 400);
    EXPECT_EQ(e.code, "invalid_value");
    EXPECT_EQ(e.Detail("column"), "usage_user");
    EXPECT_EQ(e.Detail("expected"), "double");
    EXPECT_EQ(e.Detail("got"), v.front() == '{' ? "object" : "array");
  }
}

// A new key infers json from an object and from arrays that are empty, mixed or
// nested, and an array type from a homogeneous one (docs/api.md "Schema").
TEST(IngestParserTest, NestedValuesInferTypes) {
  struct Case {
    std::string_view value;
    ColumnType type;
    std::string_view text;
  } cases[] = {
      {R"({"b": 1, "a": [true]})", ColumnType::kJson, R"({"a":[true],"b":1})"},
      {"[1, 2.5]", ColumnType::kDoubleArray, "[1,2.5]"},
      {R"(["x", "y"])", ColumnType::kStringArray, R"(["x","y"])"},
      {"[false]", ColumnType::kBooleanArray, "[false]"},
      {"[]", ColumnType::kJson, "[]"},
      {R"([1, "x"])", ColumnType::kJson, R"([1,"x"])"},
      {"[[1]]", ColumnType::kJson, "[[1]]"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.value);
    auto r = Parse(StrCat(R"({"records": [{"timestamp": 0, "a": )", c.value, "}]}"));
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->fields.size(), 2u);
    EXPECT_EQ(r->fields[1].type, c.type);
    ASSERT_EQ(r->columns[1].size(), 1u);
    EXPECT_EQ(r->columns[1].dict[r->columns[1].ids[0]], c.text);
  }
}

TEST(IngestParserErrorTest, SchemaWithUnknownType) {
  ErrorResponse e = Rejected(Parse(R"({"schema": {"fields": [
    {"name": "timestamp", "type": "timestamp"}, {"name": "usage", "type": "float"}]},
    "records": []})"));
  EXPECT_EQ(e.http, 400);
  EXPECT_EQ(e.code, "invalid_schema");
  EXPECT_EQ(e.Detail("column"), "usage");
  EXPECT_EQ(e.Detail("got"), "float");
  EXPECT_NE(e.message.find("float"), std::string::npos) << e.message;
}

TEST(IngestParserErrorTest, SchemaShapeErrors) {
  for (std::string_view schema :
       {R"("x")", R"({})", R"({"fields": {}})", R"({"fields": [{"type": "double"}]})",
        R"({"fields": [{"name": "a"}]})", R"({"fields": [5]})"}) {
    SCOPED_TRACE(schema);
    ErrorResponse e = Rejected(Parse(StrCat(R"({"schema": )", schema, R"(, "records": []})")));
    EXPECT_EQ(e.http, 400);
    EXPECT_EQ(e.code, "invalid_schema");
  }
}

TEST(IngestParserErrorTest, SchemaDeclaringANameTwice) {
  ErrorResponse e = Rejected(Parse(R"({"schema": {"fields": [
    {"name": "a", "type": "double"}, {"name": "b", "type": "string"},
    {"name": "a", "type": "double"}]}, "records": []})"));
  EXPECT_EQ(e.http, 400);
  EXPECT_EQ(e.code, "invalid_schema");
  EXPECT_EQ(e.Detail("column"), "a");
  EXPECT_NE(e.message.find("\"a\""), std::string::npos) << e.message;
}

TEST(IngestParserErrorTest, DeclaredTypeConflictingWithTheStoredSchema) {
  Schema current = CpuSchema();
  ErrorResponse e = Rejected(Parse(R"({"schema": {"fields": [
    {"name": "hostname", "type": "string"}, {"name": "usage_user", "type": "integer"}]},
    "records": [{"timestamp": 0, "usage_user": 1}]})",
                                   {.current = &current}));
  EXPECT_EQ(e.http, 422);
  EXPECT_EQ(e.code, "schema_conflict");
  EXPECT_EQ(e.Detail("column"), "usage_user");
  EXPECT_EQ(e.Detail("storedType"), "double");
  EXPECT_EQ(e.Detail("requestedType"), "integer");
  EXPECT_NE(e.message.find("usage_user"), std::string::npos) << e.message;
}

TEST(IngestParserTest, DeclaringTheStoredTypesAgainIsFine) {
  Schema current = CpuSchema();
  auto req = Parse(R"({"schema": {"fields": [{"name": "count", "type": "integer"},
                                             {"name": "new_col", "type": "boolean"}]},
                       "records": [{"timestamp": 0, "count": 2, "new_col": false}]})",
                   {.current = &current});
  ASSERT_TRUE(req.ok()) << req.status();
  EXPECT_EQ(TypeOf(*req, "count"), ColumnType::kInteger);
  EXPECT_EQ(TypeOf(*req, "new_col"), ColumnType::kBoolean);
}

TEST(IngestParserErrorTest, TimeColumnDeclaredWithANonTimestampType) {
  ErrorResponse e =
      Rejected(Parse(R"({"schema": {"fields": [{"name": "timestamp", "type": "integer"}]},
                                    "records": [{"timestamp": 0}]})"));
  EXPECT_EQ(e.http, 400);
  EXPECT_EQ(e.code, "invalid_schema");
  EXPECT_EQ(e.Detail("column"), "timestamp");
  EXPECT_EQ(e.Detail("expected"), "timestamp");
  EXPECT_EQ(e.Detail("got"), "integer");

  // Also for a custom time column.
  e = Rejected(
      Parse(R"({"timestampColumn": "ts", "schema": {"fields": [{"name": "ts", "type": "string"}]},
                      "records": []})"));
  EXPECT_EQ(e.http, 400);
  EXPECT_EQ(e.code, "invalid_schema");
  EXPECT_EQ(e.Detail("column"), "ts");
}

TEST(IngestParserErrorTest, TimestampColumnNotANonEmptyString) {
  for (std::string_view tc : {"5", "null", "[\"ts\"]", "\"\""}) {
    SCOPED_TRACE(tc);
    ErrorResponse e = Rejected(
        Parse(StrCat(R"({"timestampColumn": )", tc, R"(, "records": [{"timestamp": 0}]})")));
    EXPECT_EQ(e.http, 400);
    EXPECT_EQ(e.code, "invalid_request");
    EXPECT_NE(e.message.find("timestampColumn"), std::string::npos) << e.message;
  }
}

TEST(IngestParserErrorTest, NdjsonTrailingGarbageNamesTheLine) {
  ErrorResponse e =
      Rejected(ParseNdjson("{\"timestamp\": 0, \"a\": 1}\n"
                           "\n"
                           "{\"timestamp\": 1, \"a\": 1} x\n"
                           "{\"timestamp\": 2, \"a\": 1}\n"));
  EXPECT_EQ(e.http, 400);
  EXPECT_EQ(e.code, "invalid_json");
  EXPECT_EQ(e.Detail("line"), "3");
  EXPECT_FALSE(e.Has("recordIndex"));
  EXPECT_NE(e.message.find("line 3"), std::string::npos) << e.message;
}

TEST(IngestParserErrorTest, NdjsonTwoObjectsOnOneLine) {
  ErrorResponse e = Rejected(ParseNdjson("{\"timestamp\": 0}{\"timestamp\": 1}\n"));
  EXPECT_EQ(e.http, 400);
  EXPECT_EQ(e.code, "invalid_json");
  EXPECT_EQ(e.Detail("line"), "1");
}

TEST(IngestParserErrorTest, NdjsonNonObjectLine) {
  for (std::string_view line : {"[1, 2]", "42", "\"x\"", "null"}) {
    SCOPED_TRACE(line);
    ErrorResponse e = Rejected(
        ParseNdjson(StrCat("{\"timestamp\": 0}\r\n\r\n{\"timestamp\": 1}\r\n", line, "\r\n")));
    EXPECT_EQ(e.http, 400);
    EXPECT_EQ(e.code, "invalid_json");
    EXPECT_EQ(e.Detail("line"), "4");
    EXPECT_NE(e.message.find("line 4"), std::string::npos) << e.message;
  }
}

TEST(IngestParserErrorTest, NdjsonMalformedLine) {
  ErrorResponse e = Rejected(ParseNdjson("{\"timestamp\": 0}\n{\"timestamp\": \n"));
  EXPECT_EQ(e.http, 400);
  EXPECT_EQ(e.code, "invalid_json");
  EXPECT_EQ(e.Detail("line"), "2");
}

TEST(IngestParserErrorTest, NdjsonValueErrorNamesTheLine) {
  ErrorResponse e = Rejected(
      ParseNdjson("{\"timestamp\": 0, \"v\": 1}\n\n{\"timestamp\": 1, \"v\": \"high\"}\n"));
  EXPECT_EQ(e.http, 400);
  EXPECT_EQ(e.code, "invalid_value");
  EXPECT_EQ(e.Detail("line"), "3");
  EXPECT_FALSE(e.Has("recordIndex"));
  EXPECT_EQ(e.Detail("column"), "v");
  EXPECT_EQ(e.Detail("expected"), "double");
  EXPECT_EQ(e.Detail("got"), "string");
  EXPECT_NE(e.message.find("line 3"), std::string::npos) << e.message;

  e = Rejected(ParseNdjson("{\"timestamp\": 0}\n{\"v\": 1}\n"));
  EXPECT_EQ(e.code, "invalid_value");
  EXPECT_EQ(e.Detail("line"), "2");
  EXPECT_EQ(e.Detail("column"), "timestamp");
  EXPECT_EQ(e.Detail("got"), "missing");
}

}  // namespace
}  // namespace timestore::api

namespace timestore::api {
namespace {

// fuzz/ingest_fuzz.cc found this: garbage inside a schema field object made
// simdjson's unordered member lookup reach an "unreachable" point (undefined
// behaviour). Members are now read in order; the body is a clean 400.
TEST(IngestParserRegressionTest, FuzzMalformedSchemaObjectIsRejectedCleanly) {
  std::string body =
      R"({"schema":{"fields":[{"name":"timestamp","type":"timestamp"y,{"name":"s","type":"string"}]},)"
      R"("records":[{"timestamp":"2024-05-01T12:00:00Z","s":"a"}]})";
  IngestParseOptions options;
  options.slug = "cpu";
  auto r = ParseIngestBody(&body, options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(IngestParserRegressionTest, HeaderAfterRecordsIsHonoured) {
  // Read with the defaults, the record lacks the time column "timestamp"; the
  // timestampColumn that follows the records makes it valid.
  std::string body = R"({"records":[{"t":1714564800000,"n":2}],"timestampColumn":"t",)"
                     R"("schema":{"fields":[{"name":"n","type":"integer"}]}})";
  IngestParseOptions options;
  options.slug = "cpu";
  auto r = ParseIngestBody(&body, options);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->time_column, "t");
  EXPECT_EQ(r->rows, 1u);
  bool integer_n = false;
  for (const auto& f : r->fields) integer_n |= f.name == "n" && f.type == ColumnType::kInteger;
  EXPECT_TRUE(integer_n);
}

TEST(IngestParserRegressionTest, DuplicateRecordsMemberIsRejected) {
  std::string body = R"({"records":[],"records":[{"timestamp":1}]})";
  IngestParseOptions options;
  options.slug = "cpu";
  auto r = ParseIngestBody(&body, options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace timestore::api
