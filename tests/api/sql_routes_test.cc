// The SQL layer through the HTTP API: POST /sql (formats, parameters, errors
// with their SQLSTATE) and computed columns of JSON queries.
#include <gmock/gmock.h>

#include "tests/api/admin_fixture.h"

namespace timestore::api::testing {
namespace {

using ::testing::HasSubstr;

class SqlRoutesTest : public AdminTest {
 protected:
  void SetUp() override {
    AdminTest::SetUp();
    CreateDataset("cpu", 6);  // ts 1000 s + k, v = k, host = h{k % 3}
  }
  static constexpr const char* kRange =
      R"("timeRange":{"start":"1970-01-01T00:00:00Z","end":"2000-01-01T00:00:00Z"})";
};

TEST_F(SqlRoutesTest, SqlAnswersJsonNdjsonAndCsv) {
  Answer a = Call("POST", "/sql", "SELECT host, count(*) AS n FROM cpu GROUP BY 1 ORDER BY 1");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.body, R"({"columns":[{"name":"host","type":"text"},{"name":"n","type":"bigint"}],)"
                    R"("rows":[["h0",2],["h1",2],["h2",2]],"rowCount":3,"command":"SELECT 3"})");
  Answer nd =
      Call("POST", "/sql", "SELECT v FROM cpu WHERE v < 2", {{"accept", "application/x-ndjson"}});
  EXPECT_EQ(nd.body, "[0]\n[1]\n");
  Answer csv =
      Call("POST", "/sql", "SELECT v, host FROM cpu WHERE v >= 4", {{"accept", "text/csv"}});
  EXPECT_EQ(csv.body, "v,host\r\n4,h1\r\n5,h2\r\n");
}

TEST_F(SqlRoutesTest, SqlTakesParametersAsJson) {
  Answer a = Call("POST", "/sql",
                  R"({"query":"SELECT v FROM cpu WHERE host = $1 AND v > $2","params":["h1", 1]})",
                  {{"content-type", "application/json"}});
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_THAT(a.body, HasSubstr(R"("rows":[[4]])"));
  Answer missing = Call("POST", "/sql", R"({"query":"SELECT $1::int8"})");
  EXPECT_EQ(missing.status, 400);
  EXPECT_THAT(missing.body, HasSubstr("42P02"));
  Answer bad = Call("POST", "/sql", R"({"query":"SELECT 1","extra":true})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_THAT(bad.body, HasSubstr("extra"));
}

TEST_F(SqlRoutesTest, SqlErrorsCarryTheirSqlStateAndPosition) {
  Answer syntax = Call("POST", "/sql", "SELECT 1 FRM cpu");
  EXPECT_EQ(syntax.status, 400);
  EXPECT_THAT(syntax.body, HasSubstr(R"("code":"sql_syntax_error")"));
  EXPECT_THAT(syntax.body, HasSubstr(R"("sqlstate":"42601","position":14)"));
  EXPECT_EQ(Call("POST", "/sql", "SELECT * FROM nope").status, 404);
  Answer col = Call("POST", "/sql", "SELECT nope FROM cpu");
  EXPECT_EQ(col.status, 400);
  EXPECT_THAT(col.body, HasSubstr("unknown_column"));
  Answer join = Call("POST", "/sql", "SELECT * FROM cpu a, cpu b");
  EXPECT_THAT(join.body, HasSubstr(R"("sqlstate":"0A000")"));
  EXPECT_EQ(Call("POST", "/sql", "SELECT 1; SELECT 2").status, 400);
  EXPECT_EQ(Call("GET", "/sql").status, 405);
}

TEST_F(SqlRoutesTest, ComputedColumnsInRawAndDownsampledQueries) {
  Answer raw = Call("POST", "/datasets/cpu/query",
                    StrCat("{", kRange, R"(,"columns":["host"],"limit":2,)",
                           R"("computed":[{"alias":"v2","expr":"v * 2 + 1"},)",
                           R"({"alias":"big","expr":"CASE WHEN v > 0 THEN upper(host) END"}]})"));
  ASSERT_EQ(raw.status, 200) << raw.body;
  // v is fetched for the expression and not returned.
  EXPECT_THAT(
      raw.body,
      HasSubstr(R"("rows":[{"timestamp":"1970-01-01T00:16:40Z","host":"h0","v2":1,"big":null},)"
                R"({"timestamp":"1970-01-01T00:16:41Z","host":"h1","v2":3,"big":"H1"}])"));
  Answer ds = Call(
      "POST", "/datasets/cpu/query",
      StrCat("{", kRange, R"(,"downsample":{"groupBy":["host"],"aggregations":[)",
             R"({"fn":"max","column":"v","alias":"hi"},{"fn":"min","column":"v","alias":"lo"}]},)",
             R"("computed":[{"alias":"spread","expr":"hi - lo"}]})"));
  ASSERT_EQ(ds.status, 200) << ds.body;
  EXPECT_THAT(ds.body, HasSubstr(R"("host":"h0","hi":3,"lo":0,"spread":3)"));
}

TEST_F(SqlRoutesTest, ComputedColumnErrorsNameTheItem) {
  auto query = [&](std::string computed) {
    return Call("POST", "/datasets/cpu/query",
                StrCat("{", kRange, R"(,"computed":)", computed, "}"));
  };
  Answer unknown = query(R"([{"alias":"x","expr":"nope + 1"}])");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_THAT(unknown.body, HasSubstr(R"("code":"unknown_column")"));
  EXPECT_THAT(unknown.body, HasSubstr(R"("field":"computed[0]")"));
  EXPECT_THAT(query(R"([{"alias":"x","expr":"1 +"}])").body, HasSubstr("42601"));
  EXPECT_THAT(query(R"([{"alias":"x","expr":"1 FROM cpu"}])").body,
              HasSubstr("one scalar SQL expression"));
  EXPECT_THAT(query(R"([{"alias":"x","expr":"v / 0"}])").body, HasSubstr("22012"));
  EXPECT_THAT(query(R"j([{"alias":"x","expr":"avg(v)"}])j").body, HasSubstr("0A000"));
  EXPECT_THAT(query(R"([{"alias":"v","expr":"v + 1"}])").body,
              HasSubstr("repeats an output column"));
  EXPECT_THAT(query(R"([{"alias":"x","expr":"1"},{"alias":"x","expr":"2"}])").body,
              HasSubstr("repeats"));
  EXPECT_THAT(query(R"([{"alias":"","expr":"1"}])").body, HasSubstr("alias must be"));
  EXPECT_THAT(query(R"([{"alias":"x","expr":"1","y":2}])").body, HasSubstr("unknown key"));
  EXPECT_THAT(query(R"({"alias":"x"})").body, HasSubstr("computed must be an array"));
}

}  // namespace
}  // namespace timestore::api::testing
