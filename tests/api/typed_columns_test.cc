// json, uuid and array columns through the HTTP API in process (docs/api.md
// "Column types"): ingest (declared and inferred), canonical text, paths into
// json in filters, groupBy and columns, array membership filters, errors that
// name the record and column, and the same answers from memory, from sealed
// segments and after a restart (WAL replay).
#include <gtest/gtest.h>

#include "segment/array_text.h"
#include "segment/typed_text.h"
#include "tests/api/admin_fixture.h"

namespace timestore::api::testing {
namespace {

class TypedColumnsTest : public AdminTest {
 protected:
  Answer Ingest(const std::string& slug, const std::string& body) {
    return Call("POST", StrCat("/datasets/", slug, "/ingest"), body);
  }
  // The rows of a query answer as one compact JSON array.
  std::string Rows(const std::string& slug, const std::string& query_members) {
    Answer a =
        Call("POST", StrCat("/datasets/", slug, "/query"),
             StrCat(R"({"timeRange":{"start":"2024-05-01T00:00:00Z","end":"2024-05-02T00:00:00Z"})",
                    query_members.empty() ? "" : ",", query_members, "}"));
    EXPECT_EQ(a.status, 200) << a.body;
    if (a.status != 200) return a.body;
    simdjson::dom::element root = Parse(a);
    return simdjson::minify(root["rows"]);
  }
  void Seed() {
    Answer a = Ingest("spans", R"({
      "schema":{"fields":[{"name":"timestamp","type":"timestamp"},{"name":"id","type":"uuid"},
                          {"name":"ids","type":"integer[]"}]},
      "records":[
        {"timestamp":"2024-05-01T00:00:00Z","id":"8E2F1C3A-0000-4000-8000-00000000000A",
         "service":"api","attributes":{"http":{"status":200,"method":"GET"},"retry":false},
         "tags":["a","b"],"ids":[1,2],"scores":[0.5,1.5]},
        {"timestamp":"2024-05-01T00:00:30Z","id":"{8e2f1c3a-0000-4000-8000-00000000000b}",
         "service":"api","attributes":{"retry":true,"http":{"method":"POST","status":503}},
         "tags":["b"],"ids":[],"scores":[2]},
        {"timestamp":"2024-05-01T00:01:10Z","id":"8e2f1c3a00004000800000000000000c",
         "service":"db","attributes":{"http":{"status":"500"},"note":"x\"y"},
         "tags":[],"ids":[3]},
        {"timestamp":"2024-05-01T00:01:20Z","service":"db","attributes":null}
      ]})");
    ASSERT_EQ(a.status, 200) << a.body;
  }
  // Every query of the test, from wherever the rows are now.
  void ExpectAnswers() {
    // Canonical text: keys sorted, uuids lowercase with hyphens, arrays compact.
    EXPECT_EQ(Rows("spans", R"("columns":["id","attributes","tags","ids","scores"],"limit":2)"),
              R"([{"timestamp":"2024-05-01T00:00:00Z","id":"8e2f1c3a-0000-4000-8000-00000000000a",)"
              R"("attributes":{"http":{"method":"GET","status":200},"retry":false},)"
              R"("tags":["a","b"],"ids":[1,2],"scores":[0.5,1.5]},)"
              R"({"timestamp":"2024-05-01T00:00:30Z","id":"8e2f1c3a-0000-4000-8000-00000000000b",)"
              R"("attributes":{"http":{"method":"POST","status":503},"retry":true},)"
              R"("tags":["b"],"ids":[],"scores":[2]}])");
    // A path in columns: the value at the path (null where it leads nowhere).
    EXPECT_EQ(Rows("spans", R"("columns":["attributes.http.status"])"),
              R"([{"timestamp":"2024-05-01T00:00:00Z","attributes.http.status":200},)"
              R"({"timestamp":"2024-05-01T00:00:30Z","attributes.http.status":503},)"
              R"({"timestamp":"2024-05-01T00:01:10Z","attributes.http.status":"500"},)"
              R"({"timestamp":"2024-05-01T00:01:20Z","attributes.http.status":null}])");
    // A number literal compares with JSON numbers only ("500" is a string).
    EXPECT_EQ(
        Rows("spans", R"("columns":["service"],)"
                      R"("filters":[{"column":"attributes.http.status","op":"gte","value":500}])"),
        R"([{"timestamp":"2024-05-01T00:00:30Z","service":"api"}])");
    EXPECT_EQ(
        Rows("spans", R"("columns":["service"],)"
                      R"("filters":[{"column":"attributes.http.status","op":"eq","value":"500"}])"),
        R"([{"timestamp":"2024-05-01T00:01:10Z","service":"db"}])");
    EXPECT_EQ(Rows("spans", R"("columns":["service"],)"
                            R"("filters":[{"column":"attributes.retry","op":"eq","value":true}])"),
              R"([{"timestamp":"2024-05-01T00:00:30Z","service":"api"}])");
    // neq passes values of another kind, not nulls.
    EXPECT_EQ(
        Rows("spans", R"("columns":["service"],)"
                      R"("filters":[{"column":"attributes.http.status","op":"neq","value":200}])"),
        R"([{"timestamp":"2024-05-01T00:00:30Z","service":"api"},)"
        R"({"timestamp":"2024-05-01T00:01:10Z","service":"db"}])");
    EXPECT_EQ(Rows("spans", R"("columns":["service"],)"
                            R"("filters":[{"column":"attributes.note","op":"eq","value":"x\"y"}])"),
              R"([{"timestamp":"2024-05-01T00:01:10Z","service":"db"}])");
    // Array index paths.
    EXPECT_EQ(
        Rows("spans", R"("columns":["tags.1"],"filters":[{"column":"tags.1","op":"is_not_null"}])"),
        R"([{"timestamp":"2024-05-01T00:00:00Z","tags.1":"b"}])");
    // Membership: eq contains, in contains any, notIn contains none.
    EXPECT_EQ(Rows("spans",
                   R"("columns":["service"],"filters":[{"column":"tags","op":"eq","value":"b"}])"),
              R"([{"timestamp":"2024-05-01T00:00:00Z","service":"api"},)"
              R"({"timestamp":"2024-05-01T00:00:30Z","service":"api"}])");
    EXPECT_EQ(Rows("spans",
                   R"("columns":["service"],"filters":[{"column":"ids","op":"in","value":[3,7]}])"),
              R"([{"timestamp":"2024-05-01T00:01:10Z","service":"db"}])");
    EXPECT_EQ(Rows("spans",
                   R"("columns":["service"],"filters":[{"column":"scores","op":"eq","value":2}])"),
              R"([{"timestamp":"2024-05-01T00:00:30Z","service":"api"}])");
    EXPECT_EQ(
        Rows("spans",
             R"("columns":["service"],"filters":[{"column":"ids","op":"not_in","value":[1,3]}])"),
        R"([{"timestamp":"2024-05-01T00:00:30Z","service":"api"}])");
    // A uuid filter takes any accepted spelling.
    EXPECT_EQ(
        Rows("spans",
             R"("columns":["service"],)"
             R"("filters":[{"column":"id","op":"eq","value":"8E2F1C3A00004000800000000000000B"}])"),
        R"([{"timestamp":"2024-05-01T00:00:30Z","service":"api"}])");
    // groupBy a path; count errors (status >= 500 as a number) per service per minute.
    EXPECT_EQ(
        Rows(
            "spans",
            R"("downsample":{"intervalUnit":"minute","intervalSize":1,)"
            R"("groupBy":["attributes.http.method"],"aggregations":[{"fn":"count","alias":"n"}]})"),
        R"([{"timestamp":"2024-05-01T00:00:00Z","attributes.http.method":"GET","n":1},)"
        R"({"timestamp":"2024-05-01T00:00:00Z","attributes.http.method":"POST","n":1},)"
        R"({"timestamp":"2024-05-01T00:01:00Z","attributes.http.method":null,"n":2}])");
    EXPECT_EQ(
        Rows("spans", R"("filters":[{"column":"attributes.http.status","op":"gte","value":500}],)"
                      R"("downsample":{"intervalUnit":"minute","intervalSize":1,)"
                      R"("groupBy":["service"],"aggregations":[{"fn":"count","alias":"errors"},)"
                      R"({"fn":"count_distinct","column":"attributes.http.method","alias":"m"}]})"),
        R"([{"timestamp":"2024-05-01T00:00:00Z","service":"api","errors":1,"m":1}])");
    EXPECT_EQ(
        Rows("spans", R"("downsample":{"groupBy":["service"],)"
                      R"("aggregations":[{"fn":"last","column":"attributes","alias":"a"}]})"),
        R"([{"timestamp":"2024-05-01T00:00:00Z","service":"api",)"
        R"("a":{"http":{"method":"POST","status":503},"retry":true}},)"
        R"({"timestamp":"2024-05-01T00:00:00Z","service":"db","a":{"http":{"status":"500"},"note":"x\"y"}}])");
  }
};

TEST_F(TypedColumnsTest, InferredAndDeclaredTypes) {
  Seed();
  // A mixed array infers json, which then takes any JSON value.
  Answer m = Ingest("spans", R"({"records":[{"timestamp":"2024-05-01T00:03:00Z","mixed":[1,"x"]},
                                            {"timestamp":"2024-05-01T00:03:01Z","mixed":3}]})");
  ASSERT_EQ(m.status, 200) << m.body;
  EXPECT_EQ(
      Rows("spans", R"("columns":["mixed"],"filters":[{"column":"mixed","op":"is_not_null"}])"),
      R"([{"timestamp":"2024-05-01T00:03:00Z","mixed":[1,"x"]},)"
      R"({"timestamp":"2024-05-01T00:03:01Z","mixed":3}])");
  Answer a = Call("GET", "/admin/datasets/spans");
  ASSERT_EQ(a.status, 200) << a.body;
  for (const char* want :
       {R"("name":"id","type":"uuid")", R"("name":"attributes","type":"json")",
        R"("name":"tags","type":"string[]")", R"("name":"ids","type":"integer[]")",
        R"("name":"scores","type":"double[]")", R"("name":"mixed","type":"json")"}) {
    EXPECT_NE(a.body.find(want), std::string::npos) << want << " in " << a.body;
  }
}

TEST_F(TypedColumnsTest, SameAnswersFromMemorySegmentsAndAfterRestart) {
  Seed();
  ExpectAnswers();
  ASSERT_TRUE(engine_->Flush("spans").ok());
  ExpectAnswers();
  StopService();
  StartService(ServiceOptions{});
  ExpectAnswers();
}

TEST_F(TypedColumnsTest, ReplayedFromTheWal) {
  Seed();
  StopService();  // nothing sealed: the rows come back from the write-ahead log
  StartService(ServiceOptions{});
  ExpectAnswers();
}

TEST_F(TypedColumnsTest, MixedSealedAndMemoryRows) {
  Seed();
  ASSERT_TRUE(engine_->Flush("spans").ok());
  Answer a = Ingest("spans", R"({"records":[{"timestamp":"2024-05-01T00:02:00Z","service":"api",
      "attributes":{"http":{"status":504}},"tags":["c"],"id":"00000000-0000-0000-0000-000000000000"}]})");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(
      Rows(
          "spans",
          R"("columns":["id"],"filters":[{"column":"attributes.http.status","op":"gt","value":500}])"),
      R"([{"timestamp":"2024-05-01T00:00:30Z","id":"8e2f1c3a-0000-4000-8000-00000000000b"},)"
      R"({"timestamp":"2024-05-01T00:02:00Z","id":"00000000-0000-0000-0000-000000000000"}])");
}

// The newest value per series from segment footers (lastpoint) holds whole
// json values: a path must not read a newer object that lacks it.
TEST_F(TypedColumnsTest, LastOfAPathIsNotTakenFromTheFooter) {
  Answer a = Ingest("lp", R"({"records":[
      {"timestamp":"2024-05-01T00:00:00Z","host":"a","attrs":{"s":1}},
      {"timestamp":"2024-05-01T00:00:10Z","host":"a","attrs":{"x":2}},
      {"timestamp":"2024-05-01T00:00:20Z","host":"b","attrs":{"s":3}}]})");
  ASSERT_EQ(a.status, 200) << a.body;
  a = Call("PUT", "/admin/datasets/lp/settings", R"({"segmentBy":["host"]})");
  ASSERT_EQ(a.status, 200) << a.body;
  ASSERT_TRUE(engine_->Flush("lp").ok());
  EXPECT_EQ(Rows("lp", R"("downsample":{"groupBy":["host"],)"
                       R"("aggregations":[{"fn":"last","column":"attrs.s","alias":"s"}]})"),
            R"([{"timestamp":"2024-05-01T00:00:00Z","host":"a","s":1},)"
            R"({"timestamp":"2024-05-01T00:00:00Z","host":"b","s":3}])");
}

TEST_F(TypedColumnsTest, BadValuesNameRecordAndColumnAndStoreNothing) {
  Seed();
  struct Case {
    const char* records;
    const char* column;
  } cases[] = {
      {R"([{"timestamp":"2024-05-01T00:05:00Z","id":"not-a-uuid"}])", "id"},
      {R"([{"timestamp":"2024-05-01T00:05:00Z","id":12}])", "id"},
      {R"([{"timestamp":"2024-05-01T00:05:00Z","ids":[1,"2"]}])", "ids"},
      {R"([{"timestamp":"2024-05-01T00:05:00Z","ids":[1.5]}])", "ids"},
      {R"([{"timestamp":"2024-05-01T00:05:00Z","ids":[null]}])", "ids"},
      {R"([{"timestamp":"2024-05-01T00:05:00Z","tags":"a"}])", "tags"},
      {R"([{"timestamp":"2024-05-01T00:05:00Z","attributes":{"b":[1,nul]}}])", "attributes"},
      {R"([{"timestamp":"2024-05-01T00:05:00Z","attributes":{"a":1,"a":2}}])", "attributes"},
      // A new column's first array makes it double[]; a later string array does not fit.
      {R"([{"timestamp":"2024-05-01T00:05:00Z","fresh":[1,2]},)"
       R"({"timestamp":"2024-05-01T00:05:00Z","fresh":["x"]}])",
       "fresh"},
  };
  for (const Case& c : cases) {
    Answer a = Ingest("spans", StrCat(R"({"records":)", c.records, "}"));
    EXPECT_EQ(a.status, 400) << c.records << " -> " << a.body;
    EXPECT_EQ(ErrorDetail(a, "column"), c.column) << a.body;
  }
  // Nested deeper than 64 levels.
  std::string deep(70, '[');
  deep += std::string(70, ']');
  Answer a = Ingest(
      "spans",
      StrCat(R"({"records":[{"timestamp":"2024-05-01T00:05:00Z","attributes":)", deep, "}]}"));
  EXPECT_EQ(a.status, 400) << a.body;
  EXPECT_NE(a.body.find("deeper"), std::string::npos) << a.body;
  // Nothing of those batches was stored.
  EXPECT_EQ(
      Rows(
          "spans",
          R"("columns":["service"],"filters":[{"column":"timestamp","op":"gte","value":"2024-05-01T00:05:00Z"}])"),
      "[]");
  // A type conflict with the stored schema is 422.
  a = Ingest("spans", R"({"schema":{"fields":[{"name":"tags","type":"json"}]},"records":[]})");
  EXPECT_EQ(a.status, 422) << a.body;
}

TEST_F(TypedColumnsTest, QueryErrors) {
  Seed();
  auto query = [&](const std::string& members) {
    return Call(
        "POST", "/datasets/spans/query",
        StrCat(R"({"timeRange":{"start":"2024-05-01T00:00:00Z","end":"2024-05-02T00:00:00Z"},)",
               members, "}"));
  };
  Answer a = query(R"("filters":[{"column":"id","op":"eq","value":"zzz"}])");
  EXPECT_EQ(a.status, 400) << a.body;
  EXPECT_EQ(ErrorDetail(a, "column"), "id");
  a = query(R"("filters":[{"column":"tags","op":"lt","value":"a"}])");
  EXPECT_EQ(a.status, 400) << a.body;
  a = query(R"("filters":[{"column":"ids","op":"eq","value":"1"}])");
  EXPECT_EQ(a.status, 400) << a.body;
  a = query(R"("filters":[{"column":"attributes.retry","op":"lt","value":true}])");
  EXPECT_EQ(a.status, 400) << a.body;
  a = query(R"("downsample":{"aggregations":[{"fn":"max","column":"attributes"}]})");
  EXPECT_EQ(a.status, 400) << a.body;
  a = query(R"("downsample":{"aggregations":[{"fn":"avg","column":"attributes.http.status"}]})");
  EXPECT_EQ(a.status, 400) << a.body;
  // A path into a column that is not json or an array is an unknown column.
  a = query(R"("columns":["service.name"])");
  EXPECT_EQ(a.status, 400) << a.body;
  EXPECT_EQ(ErrorCode(a), "unknown_column") << a.body;
}

TEST(TypedTextTest, CanonicalForms) {
  EXPECT_EQ(*CanonicalJsonText(R"( {"b": 1.0, "a": [true, null, "x\u0041"], "c": 1e2} )"),
            R"({"a":[true,null,"xA"],"b":1,"c":100})");
  EXPECT_FALSE(CanonicalJsonText("1.5e400").ok());
  for (const char* bad : {"n", "nul", "nullx", "[nul]", "{\"a\":tru}", "fals"}) {
    EXPECT_FALSE(CanonicalJsonText(bad).ok()) << bad;
  }
  // Integers beyond int64 keep their digits: distinct ids stay distinct.
  EXPECT_EQ(
      *CanonicalJsonText("[18446744073709551615, 18446744073709551614, -123456789012345678901]"),
      "[18446744073709551615,18446744073709551614,-123456789012345678901]");
  EXPECT_EQ(*CanonicalJsonText("-0"), "0");
  EXPECT_EQ(*CanonicalTypedText(ColumnType::kDoubleArray, "[-0.0, 0]"), "[0,0]");
  // The array codec's writer gives the same text: -0 is 0 there too.
  ArrayElements e;
  e.element = ColumnType::kDouble;
  e.doubles = {-0.0, 1.5};
  std::string text;
  AppendArrayText(e, 0, 2, &text);
  EXPECT_EQ(text, "[0,1.5]");
  EXPECT_FALSE(ParseArrayText("[-0]", &e).has_value());  // not canonical
  EXPECT_FALSE(CanonicalJsonText("{} {}").ok());
  // Content after the value, closing the wrapper the parser puts around it.
  EXPECT_FALSE(CanonicalJsonText("1] [2").ok());
  EXPECT_FALSE(CanonicalJsonText("{}], {").ok());
  EXPECT_FALSE(CanonicalTypedText(ColumnType::kIntegerArray, "[1]] , [[2]").ok());
  // Brackets inside strings are text.
  EXPECT_EQ(*CanonicalJsonText(R"(["a]\"]", "}"])"), R"(["a]\"]","}"])");
  EXPECT_TRUE(IsCanonicalUuid("00112233-4455-6677-8899-aabbccddeeff"));
  EXPECT_FALSE(IsCanonicalUuid("00112233-4455-6677-8899-AABBCCDDEEFF"));
  EXPECT_FALSE(IsCanonicalUuid("0011223344556677-8899-aabbccddeeff00"));
  EXPECT_FALSE(CanonicalJsonText("[1,").ok());
  EXPECT_FALSE(CanonicalJsonText("").ok());
  EXPECT_EQ(*CanonicalJsonText("\"\\u00e9\""), "\"\xc3\xa9\"");
  EXPECT_EQ(*CanonicalUuid("{00112233-4455-6677-8899-AABBCCDDEEFF}"),
            "00112233-4455-6677-8899-aabbccddeeff");
  EXPECT_FALSE(CanonicalUuid("00112233-4455-6677-8899-AABBCCDDEEF").has_value());
  EXPECT_FALSE(CanonicalUuid("0011223344-55-6677-8899-AABBCCDDEEFF").has_value());
  uint8_t bytes[16];
  UuidToBytes("00112233-4455-6677-8899-aabbccddeeff", bytes);
  EXPECT_EQ(bytes[0], 0x00);
  EXPECT_EQ(bytes[15], 0xff);
  EXPECT_EQ(UuidFromBytes(bytes), "00112233-4455-6677-8899-aabbccddeeff");
  EXPECT_EQ(*CanonicalTypedText(ColumnType::kIntegerArray, " [1, 2.0, -3] "), "[1,2,-3]");
  EXPECT_FALSE(CanonicalTypedText(ColumnType::kIntegerArray, "[1.5]").ok());
  EXPECT_EQ(*CanonicalTypedText(ColumnType::kDoubleArray, "[1, 2.50]"), "[1,2.5]");
  EXPECT_EQ(*CanonicalTypedText(ColumnType::kStringArray, R"(["a\"b"])"), R"(["a\"b"])");
  EXPECT_FALSE(CanonicalTypedText(ColumnType::kBooleanArray, "[true] x").ok());
  EXPECT_EQ(InferArrayType("[1, 2.5]"), ColumnType::kDoubleArray);
  EXPECT_EQ(InferArrayType("[\"a\"]"), ColumnType::kStringArray);
  EXPECT_EQ(InferArrayType("[]"), ColumnType::kJson);
  EXPECT_EQ(InferArrayType("[1, \"a\"]"), ColumnType::kJson);
  EXPECT_EQ(InferArrayType("[[1]]"), ColumnType::kJson);
  EXPECT_EQ(*ExtractJsonPath(R"({"a":{"b":[10,{"c":"d"}]}})", SplitJsonPath("a.b.1.c")), "\"d\"");
  EXPECT_FALSE(ExtractJsonPath(R"({"a":{"b":null}})", SplitJsonPath("a.b")).has_value());
  EXPECT_FALSE(ExtractJsonPath(R"({"a":1})", SplitJsonPath("a.b")).has_value());
  EXPECT_FALSE(ExtractJsonPath(R"([1])", SplitJsonPath("x")).has_value());
  // Keys with dots (OpenTelemetry attributes): the longest key wins.
  EXPECT_EQ(*ExtractJsonPath(R"({"http.status_code":200})", SplitJsonPath("http.status_code")),
            "200");
  EXPECT_EQ(*ExtractJsonPath(R"({"http":{"x":1},"http.route":"/a"})", SplitJsonPath("http.route")),
            "\"/a\"");
  EXPECT_EQ(*ExtractJsonPath(R"({"http":{"x":1},"http.route":"/a"})", SplitJsonPath("http.x")),
            "1");
  EXPECT_EQ(*ExtractJsonPath(R"({"a.b":{"c.d":[5,6]}})", SplitJsonPath("a.b.c.d.1")), "6");
  EXPECT_FALSE(
      ExtractJsonPath(R"({"http.status_code":200})", SplitJsonPath("http.status")).has_value());
  EXPECT_FALSE(ExtractJsonPath(R"({"ab":1})", SplitJsonPath("a")).has_value());
}

}  // namespace
}  // namespace timestore::api::testing
