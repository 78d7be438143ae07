// json, uuid and array columns through SQL: SELECT, the json operators,
// WHERE on uuid and json (pushed down or evaluated above the scan), casts,
// and the catalog's type names.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "segment/typed_text.h"
#include "sql/sql_result.h"
#include "sql/typed_value.h"
#include "tests/sql/sql_fixture.h"

namespace timestore::sql {
namespace {

using ::testing::ElementsAre;

using Texts = std::vector<std::optional<std::string>>;

// A column `name` of `type` holding the canonical texts `v` (nullopt: null).
void AddTextColumn(IngestRequest* req, std::string name, ColumnType type, const Texts& v) {
  ColumnBuilder b(type);
  for (const auto& x : v) {
    if (x) {
      b.AppendString(*x);
    } else {
      b.AppendNull();
    }
  }
  req->fields.push_back({std::move(name), type});
  req->columns.push_back(b.Finish());
}

class TypedColumnsTest : public testing::SqlTest {
 protected:
  // Dataset "ev": three rows, the last all null but for time and host.
  void SetUp() override {
    SqlTest::SetUp();
    IngestRequest req;
    req.slug = "ev";
    req.time_column = "time";
    req.schema_declared = true;
    req.rows = 3;
    auto add = [&](std::string name, ColumnType type, Texts v) {
      AddTextColumn(&req, std::move(name), type, v);
    };
    ColumnBuilder t(ColumnType::kTimestamp);
    for (int64_t ms : {1000, 2000, 3000}) t.AppendInt(ms * 1'000'000);
    req.fields.push_back({"time", ColumnType::kTimestamp});
    req.columns.push_back(t.Finish());
    add("host", ColumnType::kString, {"a", "b", "c"});
    add("attrs", ColumnType::kJson,
        {R"({"http":{"status":500},"user":"bob"})", R"({"http":{"status":200},"list":[1,2,3]})",
         std::nullopt});
    add("id", ColumnType::kUuid,
        {"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "123e4567-e89b-12d3-a456-426614174000",
         std::nullopt});
    add("vals", ColumnType::kDoubleArray, {"[1,2.5]", "[]", std::nullopt});
    add("counts", ColumnType::kIntegerArray, {"[1,2]", "[3]", std::nullopt});
    add("tags", ColumnType::kStringArray, {R"(["a b","c"])", R"(["x"])", std::nullopt});
    add("flags", ColumnType::kBooleanArray, {"[true,false]", "[false]", std::nullopt});
    absl::Status s = Submit(std::move(req));
    ASSERT_TRUE(s.ok()) << s;
  }
};

TEST_F(TypedColumnsTest, SelectReturnsCanonicalTextWithPostgresTypes) {
  auto r = Run("SELECT attrs, id, vals, counts, tags, flags FROM ev ORDER BY time");
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<uint32_t> oids;
  for (const SqlColumn& c : r->columns) oids.push_back(c.type_oid);
  EXPECT_THAT(oids, ElementsAre(oid::kJson, oid::kUuid, oid::kFloat8Array, oid::kInt8Array,
                                oid::kTextArray, oid::kBoolArray));
  EXPECT_THAT(Render(*r),
              ElementsAre(R"({"http":{"status":500},"user":"bob"}|)"
                          R"(a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|[1,2.5]|[1,2]|["a b","c"]|)"
                          "[true,false]",
                          R"({"http":{"status":200},"list":[1,2,3]}|)"
                          R"(123e4567-e89b-12d3-a456-426614174000|[]|[3]|["x"]|[false])",
                          "NULL|NULL|NULL|NULL|NULL|NULL"));
}

TEST_F(TypedColumnsTest, JsonOperatorsInProjections) {
  EXPECT_THAT(
      Rows("SELECT attrs->'http', attrs->'http'->>'status', attrs->>'user' FROM ev "
           "ORDER BY time"),
      ElementsAre(R"({"status":500}|500|bob)", R"({"status":200}|200|NULL)", "NULL|NULL|NULL"));
  // Integer operands index arrays (negative from the end); a key on an
  // array or an index on an object is NULL, as in PostgreSQL.
  EXPECT_THAT(Rows("SELECT attrs->'list'->0, attrs->'list'->>-1, attrs->'list'->>'0', "
                   "attrs->0 FROM ev WHERE host = 'b'"),
              ElementsAre("1|3|NULL|NULL"));
  EXPECT_THAT(Rows("SELECT attrs #> '{http,status}', attrs #>> '{list,1}' FROM ev WHERE "
                   "host = 'b'"),
              ElementsAre("200|2"));
  auto r = Run("SELECT attrs->'http', attrs->>'user' FROM ev");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->columns[0].type_oid, oid::kJson);
  EXPECT_EQ(r->columns[1].type_oid, oid::kText);
  // Constants too, and JSON null: -> gives json null, ->> SQL NULL.
  EXPECT_THAT(Rows(R"(SELECT '{"a":null,"b":"x\"y"}'::json->'a', '{"a":null}'::json->>'a', )"
                   R"('{"b":"x\"y"}'::json->>'b')"),
              ElementsAre(R"(null|NULL|x"y)"));
}

TEST_F(TypedColumnsTest, JsonOperatorsInWhereAreEvaluatedAboveTheScan) {
  EXPECT_THAT(Rows("SELECT host FROM ev WHERE attrs->>'user' = 'bob'"), ElementsAre("a"));
  EXPECT_THAT(Rows("SELECT host FROM ev WHERE (attrs->'http'->>'status')::bigint >= 300"),
              ElementsAre("a"));
  EXPECT_THAT(Rows("SELECT host FROM ev WHERE attrs->'http'->>'status' = '200' OR host = 'c' "
                   "ORDER BY host"),
              ElementsAre("b", "c"));
  EXPECT_THAT(Rows("SELECT host FROM ev WHERE attrs->>'user' IS NULL ORDER BY host"),
              ElementsAre("b", "c"));
  // An aggregate cannot run a condition above the scan: refused, never dropped.
  EXPECT_EQ(StateOf("SELECT count(*) FROM ev WHERE attrs->>'user' <> 'bob'"), "0A000");
  EXPECT_EQ(StateOf("SELECT count(*) FROM ev WHERE (attrs->>'n')::bigint > 1"), "0A000");
}

TEST_F(TypedColumnsTest, JsonPathEqualityIsPushedIntoTheScan) {
  // = and IN on one member key run in the engine ("attrs.user"), matching
  // what ->> text and -> json mean.
  auto plan = Rows("EXPLAIN SELECT host FROM ev WHERE attrs->>'user' = 'bob'");
  std::string all;
  for (const auto& l : plan) all += l + "\n";
  EXPECT_NE(all.find("attrs.user"), std::string::npos) << all;
  EXPECT_EQ(all.find("residual"), std::string::npos) << all;
  EXPECT_THAT(Rows("SELECT count(*) FROM ev WHERE attrs->>'user' = 'bob'"), ElementsAre("1"));
  EXPECT_THAT(Rows("SELECT count(*) FROM ev WHERE attrs->>'user' IN ('al', 'bob')"),
              ElementsAre("1"));
  EXPECT_THAT(Rows(R"(SELECT count(*) FROM ev WHERE attrs->'user' = '"bob"')"), ElementsAre("1"));
  EXPECT_THAT(Rows("SELECT count(*) FROM ev WHERE attrs->>'user' = NULL"), ElementsAre("0"));
  // Deeper paths stay above the scan: the engine's path "attrs.http.status"
  // would also read a flat key {"http.status": ...}, which
  // attrs->'http'->'status' does not. So do '500.0' (not the text ->> gives
  // for 500) and a string "500" (not the number): the answers are SQL's.
  EXPECT_THAT(Rows("SELECT host FROM ev WHERE attrs->'http'->>'status' = '500'"), ElementsAre("a"));
  EXPECT_THAT(Rows("SELECT host FROM ev WHERE attrs->'http'->>'status' = '500.0'"), ElementsAre());
  EXPECT_THAT(Rows(R"(SELECT host FROM ev WHERE attrs->'http'->'status' = '"500"')"),
              ElementsAre());
  EXPECT_EQ(StateOf("SELECT count(*) FROM ev WHERE attrs->'http'->>'status' = '500'"), "0A000");
  // An array index, or text of an object, stays above the scan too.
  EXPECT_EQ(StateOf("SELECT count(*) FROM ev WHERE attrs->'list'->>0 = '1'"), "0A000");
  EXPECT_THAT(Rows("SELECT host FROM ev WHERE attrs->'list'->>0 = '1'"), ElementsAre("b"));
  EXPECT_THAT(Rows(R"(SELECT host FROM ev WHERE attrs->>'http' = '{"status":200}')"),
              ElementsAre("b"));
  EXPECT_EQ(StateOf("SELECT host FROM ev WHERE attrs->>'user' = 5"), "42883");
  // The same over sealed segments.
  Seal("ev");
  EXPECT_THAT(Rows("SELECT count(*) FROM ev WHERE attrs->>'user' IN ('bob')"), ElementsAre("1"));
  EXPECT_THAT(Rows("SELECT host FROM ev WHERE attrs->'http'->>'status' = '500' AND "
                   "id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'"),
              ElementsAre("a"));
  EXPECT_THAT(Rows("SELECT tags::text, vals::text FROM ev WHERE host = 'a'"),
              ElementsAre(R"({"a b",c}|{1,2.5})"));
}

// Numbers the engine would compare as doubles that ->> tells apart: integers
// beyond int64 (kept as digits) and whole doubles from 2^53 are evaluated
// above the scan, comparing text.
TEST_F(TypedColumnsTest, LargeJsonNumbersCompareAsText) {
  IngestRequest req;
  req.slug = "big";
  req.time_column = "time";
  req.rows = 2;
  ColumnBuilder t(ColumnType::kTimestamp), j(ColumnType::kJson);
  t.AppendInt(1'000'000'000), t.AppendInt(2'000'000'000);
  // As ingest stores them: canonical text.
  for (const char* text : {R"({"id":12345678901234567890,"w":9007199254740993,"d":1e20})",
                           R"({"id":12345678901234567891,"w":9007199254740992,)"
                           R"("d":100000000000000000000})"}) {
    absl::StatusOr<std::string> c = CanonicalJsonText(text);
    ASSERT_TRUE(c.ok()) << c.status();
    j.AppendString(*c);
  }
  req.fields = {{"time", ColumnType::kTimestamp}, {"a", ColumnType::kJson}};
  req.columns.push_back(t.Finish());
  req.columns.push_back(j.Finish());
  ASSERT_TRUE(Submit(std::move(req)).ok());
  EXPECT_THAT(Rows("SELECT a::text FROM big ORDER BY time"),
              ElementsAre(R"({"d":1e+20,"id":12345678901234567890,"w":9007199254740993})",
                          R"({"d":100000000000000000000,"id":12345678901234567891,)"
                          R"("w":9007199254740992})"));
  EXPECT_THAT(Rows("SELECT a->>'id' FROM big WHERE a->>'id' = '12345678901234567890'"),
              ElementsAre("12345678901234567890"));
  EXPECT_THAT(Rows("SELECT a->>'id' FROM big WHERE a->'id' = '12345678901234567891'"),
              ElementsAre("12345678901234567891"));
  EXPECT_THAT(Rows("SELECT a->>'w' FROM big WHERE a->>'w' IN ('9007199254740992')"),
              ElementsAre("9007199254740992"));
  EXPECT_THAT(Rows("SELECT a->>'d' FROM big WHERE a->>'d' = '1e+20'"), ElementsAre("1e+20"));
  EXPECT_THAT(Rows("SELECT a->>'d' FROM big WHERE a->'d' = '100000000000000000000'"),
              ElementsAre("100000000000000000000"));
  // Nothing above 2^53 can be pushed down: an aggregate refuses it.
  EXPECT_EQ(StateOf("SELECT count(*) FROM big WHERE a->>'id' = '12345678901234567890'"), "0A000");
  // Smaller numbers still run in the scan.
  EXPECT_THAT(Rows("SELECT count(*) FROM big WHERE a->>'x' IN ('2.5', '9007199254740991')"),
              ElementsAre("0"));
}

// A flat key spelling a path ({"http.status": 500}, as OpenTelemetry names
// attributes) is not what attrs->'http'->'status' reads.
TEST_F(TypedColumnsTest, FlatDottedKeysAreNotNestedMembers) {
  IngestRequest req;
  req.slug = "dots";
  req.time_column = "time";
  req.rows = 2;
  ColumnBuilder t(ColumnType::kTimestamp), j(ColumnType::kJson);
  t.AppendInt(1'000'000'000), t.AppendInt(2'000'000'000);
  j.AppendString(R"({"http":{"status":200},"http.status":500})");
  j.AppendString(R"({"http.status":500})");
  req.fields = {{"time", ColumnType::kTimestamp}, {"a", ColumnType::kJson}};
  req.columns.push_back(t.Finish());
  req.columns.push_back(j.Finish());
  ASSERT_TRUE(Submit(std::move(req)).ok());
  EXPECT_THAT(Rows("SELECT a->'http'->>'status', a->>'http.status' FROM dots ORDER BY time"),
              ElementsAre("200|500", "NULL|500"));
  EXPECT_THAT(Rows("SELECT time FROM dots WHERE a->'http'->>'status' = '200'"),
              ElementsAre("1970-01-01 00:00:01+00"));
  EXPECT_THAT(Rows("SELECT time FROM dots WHERE a->>'http.status' = '500' ORDER BY time"),
              ElementsAre("1970-01-01 00:00:01+00", "1970-01-01 00:00:02+00"));
}

TEST_F(TypedColumnsTest, JsonEqualityComparesCanonicalText) {
  // Key order and spacing do not matter: the literal is made canonical.
  EXPECT_THAT(
      Rows(R"(SELECT host FROM ev WHERE attrs = '{ "user": "bob", "http": {"status": 500} }')"),
      ElementsAre("a"));
  EXPECT_THAT(Rows(R"(SELECT host FROM ev WHERE attrs <> '{"user":"bob","http":{"status":500}}')"),
              ElementsAre("b"));
  EXPECT_EQ(StateOf("SELECT host FROM ev WHERE attrs = '{oops'"), "22P02");
  EXPECT_EQ(StateOf("SELECT host FROM ev WHERE attrs = 'x'::text"), "42883");
  EXPECT_EQ(StateOf("SELECT host FROM ev WHERE host->>'a' = 'b'"), "42883");
}

TEST_F(TypedColumnsTest, UuidEqualityAndInTakeAnySpelling) {
  EXPECT_THAT(Rows("SELECT host FROM ev WHERE id = 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'"),
              ElementsAre("a"));
  EXPECT_THAT(Rows("SELECT host FROM ev WHERE id IN ('{123e4567-e89b-12d3-a456-426614174000}', "
                   "'a0eebc999c0b4ef8bb6d6bb9bd380a11') ORDER BY host"),
              ElementsAre("a", "b"));
  EXPECT_THAT(Rows("SELECT host FROM ev WHERE id NOT IN ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11')"),
              ElementsAre("b"));
  EXPECT_THAT(Rows("SELECT host FROM ev WHERE id = $1",
                   {std::string("123E4567-E89B-12D3-A456-426614174000")}),
              ElementsAre("b"));
  // PostgreSQL's uuid order is byte order: "123e..." before "a0ee...".
  EXPECT_THAT(Rows("SELECT host FROM ev WHERE id IS NOT NULL ORDER BY id"), ElementsAre("b", "a"));
  EXPECT_THAT(Rows("SELECT count(*) FROM ev WHERE id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'"),
              ElementsAre("1"));
  EXPECT_EQ(StateOf("SELECT host FROM ev WHERE id = 'not-a-uuid'"), "22P02");
  EXPECT_EQ(StateOf("SELECT host FROM ev WHERE id = 'x'::text"), "42883");
}

TEST_F(TypedColumnsTest, CastsToTextPrintPostgresForms) {
  EXPECT_THAT(Rows("SELECT vals::text, counts::text, tags::text, flags::text, id::text, "
                   "CAST(attrs AS text) FROM ev WHERE host = 'a'"),
              ElementsAre(R"({1,2.5}|{1,2}|{"a b",c}|{t,f}|)"
                          R"(a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|)"
                          R"({"http":{"status":500},"user":"bob"})"));
  EXPECT_THAT(Rows("SELECT vals::text FROM ev WHERE host = 'b'"), ElementsAre("{}"));
  EXPECT_THAT(Rows(R"(SELECT '{"",NULLx,"null","q\"b"}'::text[]::text)"),
              ElementsAre(R"({"",NULLx,"null","q\"b"})"));
}

TEST_F(TypedColumnsTest, ArrayLiteralsAndComparisons) {
  EXPECT_THAT(Rows("SELECT host FROM ev WHERE counts = '{1,2}'"), ElementsAre("a"));
  EXPECT_THAT(Rows("SELECT host FROM ev WHERE tags = '{\"a b\", c}'::text[]"), ElementsAre("a"));
  EXPECT_THAT(Rows("SELECT host FROM ev WHERE vals = '[1, 2.5]'"), ElementsAre("a"));
  EXPECT_THAT(Rows("SELECT host FROM ev WHERE counts IS NOT NULL ORDER BY counts DESC"),
              ElementsAre("b", "a"));  // element-wise: {3} > {1,2}
  EXPECT_THAT(Rows("SELECT '{1,2}'::bigint[]::double precision[], '{t,false}'::boolean[]"),
              ElementsAre("[1,2]|[true,false]"));
  // ARRAY[...] (what psycopg2 sends for a Python list).
  EXPECT_THAT(Rows("SELECT host FROM ev WHERE tags = ARRAY['a b', 'c']"), ElementsAre("a"));
  EXPECT_THAT(Rows("SELECT ARRAY[1, 2.5]::text, ARRAY[true], ARRAY[3, 4]"),
              ElementsAre("{1,2.5}|[true]|[3,4]"));
  EXPECT_EQ(StateOf("SELECT ARRAY[1, NULL]"), "22004");
  EXPECT_EQ(StateOf("SELECT ARRAY[now()]"), "0A000");
  EXPECT_EQ(StateOf("SELECT '{1,NULL}'::bigint[]"), "22004");
  EXPECT_EQ(StateOf("SELECT '{1,x}'::bigint[]"), "22P02");
  EXPECT_EQ(StateOf("SELECT '{{1},{2}}'::bigint[]"), "0A000");
  EXPECT_EQ(StateOf("SELECT '1,2'::bigint[]"), "22P02");
  EXPECT_EQ(StateOf("SELECT max(counts) FROM ev"), "42883");
}

// PostgreSQL's array order: element by element (numbers as numbers, text by
// bytes as under the C collation, false before true), and a prefix before
// the longer array, so {} comes first. The sort parses each row's array
// once; WHERE comparisons parse per pair: both give this order.
TEST_F(TypedColumnsTest, OrderByArraysIsPostgresOrder) {
  IngestRequest req;
  req.slug = "ord";
  req.time_column = "time";
  req.schema_declared = true;
  req.rows = 8;
  auto add = [&](std::string name, ColumnType type, Texts v) {
    AddTextColumn(&req, std::move(name), type, v);
  };
  ColumnBuilder t(ColumnType::kTimestamp);
  for (int64_t s = 1; s <= 8; ++s) t.AppendInt(s * 1'000'000'000);
  req.fields.push_back({"time", ColumnType::kTimestamp});
  req.columns.push_back(t.Finish());
  add("d", ColumnType::kDoubleArray,
      {"[10]", "[-1.5,2]", "[]", "[0.5]", "[-10,3]", "[2]", "[-1.5]", std::nullopt});
  add("i", ColumnType::kIntegerArray,
      {"[2,0]", "[-3,5]", "[10]", "[-3]", std::nullopt, "[]", "[2]", "[-3,-1]"});
  add("s", ColumnType::kStringArray,
      {R"(["b","a"])", R"(["a b"])", R"(["a","z"])", "[]", R"([""])", R"(["b"])", R"(["a"])",
       std::nullopt});
  add("b", ColumnType::kBooleanArray,
      {"[true,false]", "[false]", std::nullopt, "[true]", "[]", "[false,true]", std::nullopt,
       std::nullopt});
  ASSERT_TRUE(Submit(std::move(req)).ok());

  EXPECT_THAT(Rows("SELECT d FROM ord WHERE d IS NOT NULL ORDER BY d"),
              ElementsAre("[]", "[-10,3]", "[-1.5]", "[-1.5,2]", "[0.5]", "[2]", "[10]"));
  EXPECT_THAT(Rows("SELECT i FROM ord WHERE i IS NOT NULL ORDER BY i"),
              ElementsAre("[]", "[-3]", "[-3,-1]", "[-3,5]", "[2]", "[2,0]", "[10]"));
  EXPECT_THAT(Rows("SELECT s FROM ord WHERE s IS NOT NULL ORDER BY s"),
              ElementsAre("[]", R"([""])", R"(["a"])", R"(["a","z"])", R"(["a b"])", R"(["b"])",
                          R"(["b","a"])"));
  EXPECT_THAT(Rows("SELECT b FROM ord WHERE b IS NOT NULL ORDER BY b"),
              ElementsAre("[]", "[false]", "[false,true]", "[true]", "[true,false]"));
  // DESC, NULLS FIRST/LAST and a second key after an array key.
  EXPECT_THAT(Rows("SELECT i FROM ord ORDER BY i DESC NULLS LAST"),
              ElementsAre("[10]", "[2,0]", "[2]", "[-3,5]", "[-3,-1]", "[-3]", "[]", "NULL"));
  EXPECT_THAT(Rows("SELECT b, extract(epoch FROM time)::bigint FROM ord ORDER BY b NULLS FIRST, "
                   "time DESC"),
              ElementsAre("NULL|8", "NULL|7", "NULL|3", "[]|5", "[false]|2", "[false,true]|6",
                          "[true]|4", "[true,false]|1"));
  // Comparisons outside a sort give the same order.
  EXPECT_THAT(Rows("SELECT d FROM ord WHERE d < '{-1.5,2}' ORDER BY d"),
              ElementsAre("[]", "[-10,3]", "[-1.5]"));
  EXPECT_THAT(Rows("SELECT s FROM ord WHERE s > '{a}' AND s <= '{b}' ORDER BY s"),
              ElementsAre(R"(["a","z"])", R"(["a b"])", R"(["b"])"));
  // -0 is written as 0, as every other writer of double[] writes it.
  EXPECT_THAT(Rows("SELECT '{-0,1}'::double precision[]"), ElementsAre("[0,1]"));
}

TEST_F(TypedColumnsTest, GroupingAndCountingWork) {
  EXPECT_THAT(Rows("SELECT id, count(*) FROM ev GROUP BY id ORDER BY id"),
              ElementsAre("123e4567-e89b-12d3-a456-426614174000|1",
                          "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|1", "NULL|1"));
  EXPECT_THAT(Rows("SELECT tags, count(*) FROM ev WHERE tags IS NOT NULL GROUP BY tags "
                   "ORDER BY tags"),
              ElementsAre(R"(["a b","c"]|1)", R"(["x"]|1)"));
  EXPECT_THAT(Rows("SELECT count(DISTINCT attrs), count(attrs), last(id, time) FROM ev"),
              ElementsAre("2|2|123e4567-e89b-12d3-a456-426614174000"));
  EXPECT_THAT(Rows("SELECT DISTINCT flags FROM ev ORDER BY flags"),
              ElementsAre("[false]", "[true,false]", "NULL"));
}

TEST_F(TypedColumnsTest, InformationSchemaNamesTheTypes) {
  EXPECT_THAT(Rows("SELECT column_name, data_type, udt_name FROM information_schema.columns "
                   "WHERE table_name = 'ev' AND column_name <> 'host' ORDER BY ordinal_position"),
              ElementsAre("time|timestamp with time zone|timestamptz", "attrs|json|json",
                          "id|uuid|uuid", "vals|ARRAY|_float8", "counts|ARRAY|_int8",
                          "tags|ARRAY|_text", "flags|ARRAY|_bool"));
}

TEST(TypedValueTest, PgArrayTextQuotesWhatPostgresQuotes) {
  EXPECT_EQ(PgArrayText(SqlType::kTextArray, R"(["a","b c","","NULL","x,y","q\"","b\\s","{"])"),
            R"({a,"b c","","NULL","x,y","q\"","b\\s","{"})");
  EXPECT_EQ(PgArrayText(SqlType::kDoubleArray, "[1,2.5,1e+300,-0.001]"), "{1,2.5,1e+300,-0.001}");
  EXPECT_EQ(PgArrayText(SqlType::kBoolArray, "[]"), "{}");
}

}  // namespace
}  // namespace timestore::sql
