// The SQL layer end to end in process: statements through sql::Session over
// a real Engine, answers compared with what PostgreSQL would return.
#include <gmock/gmock.h>

#include "tests/sql/sql_fixture.h"

namespace timestore::sql::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

class SessionTest : public SqlTest {
 protected:
  void SetUp() override {
    SqlTest::SetUp();
    Ingest("cpu", R"({"records":[
      {"timestamp":"2024-05-01T00:00:00Z","hostname":"host_1","usage_user":10.5,"ok":true},
      {"timestamp":"2024-05-01T00:01:00Z","hostname":"host_2","usage_user":20,"ok":false},
      {"timestamp":"2024-05-01T00:07:00Z","hostname":"host_1","usage_user":30,"ok":null},
      {"timestamp":"2024-05-01T00:09:00Z","hostname":null,"usage_user":null,"ok":true}]})");
  }
};

TEST_F(SessionTest, SelectsWithoutATable) {
  EXPECT_THAT(Rows("SELECT 1, 'a' AS b, 2.5::float8 * 2, NULL"), ElementsAre("1|a|5|NULL"));
  EXPECT_THAT(Rows("SELECT current_database(), current_schema()"), ElementsAre("timestore|public"));
  // Negative integer literals (libpg_query's JSON drops them; read from the text).
  EXPECT_THAT(Rows("SELECT -5, - 7, 0, -9223372036854775807, 3 - -2"),
              ElementsAre("-5|-7|0|-9223372036854775807|5"));
  auto v = Rows("SELECT version()");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_THAT(v[0], ::testing::StartsWith("PostgreSQL 15"));
  EXPECT_THAT(Rows("SELECT '2024-05-01 12:00:00+02'::timestamptz + interval '1 hour'"),
              ElementsAre("2024-05-01 11:00:00+00"));
}

TEST_F(SessionTest, RawSelectFiltersAndOrders) {
  EXPECT_THAT(
      Rows("SELECT * FROM cpu WHERE hostname = 'host_1'"),
      ElementsAre("2024-05-01 00:00:00+00|host_1|10.5|t", "2024-05-01 00:07:00+00|host_1|30|NULL"));
  EXPECT_THAT(Rows("SELECT hostname FROM cpu WHERE usage_user > 15 OR hostname IS NULL"),
              ElementsAre("host_2", "host_1", "NULL"));
  EXPECT_THAT(Rows("SELECT hostname FROM cpu WHERE NOT (usage_user > 15)"), ElementsAre("host_1"));
  EXPECT_THAT(Rows("SELECT usage_user FROM cpu WHERE hostname NOT IN ('host_1', 'x')"),
              ElementsAre("20"));
  // NOT IN with a NULL in the list is never true.
  EXPECT_THAT(Rows("SELECT usage_user FROM cpu WHERE hostname NOT IN ('host_1', NULL)"), IsEmpty());
  EXPECT_THAT(Rows("SELECT usage_user FROM cpu WHERE usage_user BETWEEN 10 AND 20"),
              ElementsAre("10.5", "20"));
  EXPECT_THAT(Rows("SELECT usage_user FROM cpu WHERE usage_user NOT BETWEEN 10 AND 20"),
              ElementsAre("30"));
  EXPECT_THAT(Rows("SELECT hostname FROM cpu WHERE ok"), ElementsAre("host_1", "NULL"));
  EXPECT_THAT(Rows("SELECT count(*) FROM cpu WHERE usage_user > -5"), ElementsAre("3"));
  EXPECT_THAT(Rows("SELECT hostname FROM cpu WHERE ok IS NOT TRUE"),
              ElementsAre("host_2", "host_1"));
  EXPECT_THAT(Rows("SELECT usage_user FROM cpu ORDER BY usage_user DESC"),
              ElementsAre("NULL", "30", "20", "10.5"));
  EXPECT_THAT(Rows("SELECT usage_user FROM cpu ORDER BY usage_user NULLS FIRST LIMIT 2 OFFSET 1"),
              ElementsAre("10.5", "20"));
  EXPECT_THAT(Rows("SELECT timestamp FROM cpu ORDER BY timestamp DESC LIMIT 1"),
              ElementsAre("2024-05-01 00:09:00+00"));
  EXPECT_THAT(Rows("SELECT hostname AS h FROM cpu ORDER BY h LIMIT 2"),
              ElementsAre("host_1", "host_1"));
  // Columns handed on whole (no sort, filter or DISTINCT above the engine),
  // one of them twice, cut to OFFSET and LIMIT.
  EXPECT_THAT(Rows("SELECT hostname, usage_user, hostname AS again FROM cpu LIMIT 2 OFFSET 1"),
              ElementsAre("host_2|20|host_2", "host_1|30|host_1"));
  EXPECT_THAT(Rows("SELECT usage_user FROM cpu OFFSET 9"), IsEmpty());
  EXPECT_THAT(Rows("SELECT DISTINCT hostname FROM cpu ORDER BY 1"),
              ElementsAre("host_1", "host_2", "NULL"));
  EXPECT_THAT(Rows("SELECT DISTINCT ON (hostname) hostname, usage_user FROM cpu "
                   "ORDER BY hostname, timestamp DESC"),
              ElementsAre("host_1|30", "host_2|20", "NULL|NULL"));
  EXPECT_THAT(
      Rows("SELECT usage_user * 2 + 1 AS x, upper(hostname) FROM cpu WHERE usage_user + 0 > 15"),
      ElementsAre("41|HOST_2", "61|HOST_1"));
  EXPECT_THAT(Rows("SELECT hostname FROM cpu WHERE hostname LIKE '%_2'"), ElementsAre("host_2"));
  EXPECT_THAT(Rows("SELECT usage_user FROM cpu WHERE hostname ~ '^host_[12]$'"),
              ElementsAre("10.5", "20", "30"));
  EXPECT_THAT(Rows("SELECT hostname FROM cpu WHERE hostname !~* 'HOST_1'"), ElementsAre("host_2"));
  EXPECT_EQ(StateOf("SELECT hostname ~ '(' FROM cpu"), "2201B");
  EXPECT_THAT(Rows("SELECT count(*) FROM cpu WHERE timestamp >= '2024-05-01 00:01' AND "
                   "timestamp < '2024-05-01 00:09'"),
              ElementsAre("2"));
}

TEST_F(SessionTest, SealedAndHotRowsAnswerAlike) {
  auto before = Rows("SELECT * FROM cpu ORDER BY usage_user");
  Seal("cpu");
  EXPECT_EQ(Rows("SELECT * FROM cpu ORDER BY usage_user"), before);
}

TEST_F(SessionTest, Aggregates) {
  EXPECT_THAT(Rows("SELECT count(*), count(usage_user), count(DISTINCT hostname), sum(usage_user), "
                   "min(usage_user), max(usage_user), avg(usage_user), median(usage_user), "
                   "percentile_cont(0.5) WITHIN GROUP (ORDER BY usage_user) FROM cpu"),
              ElementsAre("4|3|2|60.5|10.5|30|20.166666666666668|20|20"));
  EXPECT_THAT(Rows("SELECT time_bucket('5 minutes', timestamp) AS t, hostname, count(*) FROM cpu "
                   "GROUP BY 1, 2 ORDER BY 1 DESC, 2"),
              ElementsAre("2024-05-01 00:05:00+00|host_1|1", "2024-05-01 00:05:00+00|NULL|1",
                          "2024-05-01 00:00:00+00|host_1|1", "2024-05-01 00:00:00+00|host_2|1"));
  EXPECT_THAT(Rows("SELECT date_trunc('hour', timestamp), max(usage_user) FROM cpu GROUP BY 1"),
              ElementsAre("2024-05-01 00:00:00+00|30"));
  // Civil days in a time zone: 00:00 UTC on May 1 is 02:00 in Berlin (CEST).
  EXPECT_THAT(Rows("SELECT date_trunc('day', timestamp, 'Europe/Berlin') AS d, count(*) FROM cpu "
                   "GROUP BY 1"),
              ElementsAre("2024-04-30 22:00:00+00|4"));
  EXPECT_THAT(Rows("SELECT date_trunc('month', timestamp, 'America/New_York') FROM cpu LIMIT 1"),
              ElementsAre("2024-04-01 04:00:00+00"));  // still April 30 there
  EXPECT_EQ(StateOf("SELECT date_trunc('day', timestamp, 'Mars/Olympus'), count(*) FROM cpu "
                    "GROUP BY 1"),
            "22023");
  EXPECT_EQ(StateOf("SELECT date_trunc('hour', timestamp, 'Europe/Berlin') FROM cpu"), "0A000");
  EXPECT_THAT(Rows("SELECT hostname, last(usage_user, timestamp), first(usage_user, timestamp) "
                   "FROM cpu GROUP BY hostname ORDER BY hostname"),
              ElementsAre("host_1|30|10.5", "host_2|20|20", "NULL|NULL|NULL"));
  EXPECT_THAT(Rows("SELECT hostname, count(*) AS n FROM cpu GROUP BY hostname HAVING count(*) > 1"),
              ElementsAre("host_1|2"));
  EXPECT_THAT(
      Rows("SELECT hostname, avg(usage_user) * 2 FROM cpu GROUP BY hostname ORDER BY 2 DESC"),
      ElementsAre("NULL|NULL", "host_1|40.5", "host_2|40"));
  // An aggregate without GROUP BY over no rows is one row.
  EXPECT_THAT(Rows("SELECT count(*), max(usage_user) FROM cpu WHERE hostname = 'nobody'"),
              ElementsAre("0|NULL"));
  EXPECT_THAT(Rows("SELECT count(*) FROM cpu WHERE 1 = 0"), ElementsAre("0"));
  EXPECT_THAT(Rows("SELECT hostname, count(*) FROM cpu WHERE hostname = 'nobody' GROUP BY 1"),
              IsEmpty());
}

TEST_F(SessionTest, Parameters) {
  EXPECT_THAT(Rows("SELECT hostname FROM cpu WHERE usage_user > $1 AND timestamp >= $2",
                   {std::string("15"), std::string("2024-05-01T00:05:00Z")}),
              ElementsAre("host_1"));
  EXPECT_THAT(Rows("SELECT count(*) FROM cpu WHERE hostname = $1", {std::nullopt}),
              ElementsAre("0"));
  EXPECT_THAT(Rows("SELECT $1::int8 + 1", {std::string("41")}), ElementsAre("42"));
  EXPECT_EQ(StateOf("SELECT * FROM cpu WHERE usage_user > $1", {std::string("abc")}), "22P02");
}

TEST_F(SessionTest, ErrorsCarryTheirSqlState) {
  EXPECT_EQ(StateOf("SELEC 1"), "42601");
  EXPECT_EQ(StateOf("SELECT * FROM nope"), "42P01");
  EXPECT_EQ(StateOf("SELECT nope FROM cpu"), "42703");
  EXPECT_EQ(StateOf("SELECT * FROM cpu a JOIN cpu b ON a.timestamp = b.timestamp"), "0A000");
  EXPECT_EQ(StateOf("SELECT * FROM cpu WHERE usage_user IN (SELECT 1)"), "0A000");
  EXPECT_EQ(StateOf("SELECT avg(usage_user) OVER () FROM cpu"), "0A000");
  EXPECT_EQ(StateOf("INSERT INTO cpu VALUES (1)"), "0A000");
  EXPECT_EQ(StateOf("WITH x AS (SELECT 1) SELECT * FROM x"), "0A000");
  EXPECT_EQ(StateOf("SELECT hostname, count(*) FROM cpu"), "42803");
  EXPECT_EQ(StateOf("SELECT 1 / 0"), "22012");
  EXPECT_EQ(StateOf("SELECT 'abc'::int8"), "22P02");
  EXPECT_EQ(StateOf("SELECT * FROM cpu LIMIT -1"), "2201W");
  EXPECT_EQ(StateOf("SELECT * FROM cpu WHERE hostname = 5"), "42883");
  EXPECT_EQ(StateOf("SELECT * FROM cpu ORDER BY 9"), "42P10");
  EXPECT_EQ(StateOf("SELECT * FROM cpu WHERE timestamp > 'not a time'"), "22007");
  EXPECT_EQ(StateOf("SELECT nosuchfn(1)"), "42883");
  EXPECT_EQ(StateOf("SHOW nosuch"), "42704");
}

TEST_F(SessionTest, ErrorsPointAtTheirPosition) {
  auto r = Run("SELECT 1 FROM cpu WHERE hostnam = 'x'");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(SqlStateOf(r.status()), "42703");
  EXPECT_EQ(SqlPositionOf(r.status()), 25);  // 1-based, at "hostnam"
  auto s = Run("SELECT 1 FRM cpu");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(SqlStateOf(s.status()), "42601");
  EXPECT_EQ(SqlPositionOf(s.status()), 14);
  EXPECT_THAT(std::string(s.status().message()), ::testing::Not(::testing::HasSubstr("character")));
}

TEST_F(SessionTest, ASessionOpenedDuringRecoverySeesTheEngineAfterIt) {
  Engine* current = nullptr;
  SessionOptions o;
  o.engine_source = [&current] { return current; };
  Session s(nullptr, o);
  auto p = s.Prepare("SELECT count(*) FROM cpu", {});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(SqlStateOf(s.Execute(*p, {}).status()), "57P03");
  current = engine_.get();  // recovery has ended
  auto r = s.Execute(*p, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Render(*r), ElementsAre("4"));
}

TEST_F(SessionTest, DeeplyNestedStatementsAreRefusedNotACrash) {
  std::string sum = "SELECT 1";
  for (int i = 0; i < 5000; ++i) sum += "+1";
  EXPECT_EQ(StateOf(sum), "54001");
  std::string ands = "SELECT count(*) FROM cpu WHERE ";
  for (int i = 0; i < 3000; ++i) ands += "NOT (";
  ands += "usage_user > 1";
  for (int i = 0; i < 3000; ++i) ands += ")";
  EXPECT_EQ(StateOf(ands), "54001");
  // libpg_query recurses once per level with no check of its own (100,000
  // terms overflowed an 8 MiB stack): long statements parse on a large stack,
  // and past 1 MiB they are refused.
  std::string deep = "SELECT 1";
  for (int i = 0; i < 400'000; ++i) deep += "+1";
  EXPECT_EQ(StateOf(deep), "54001");
  EXPECT_EQ(StateOf("SELECT 1" + std::string(600'000, ' ') + "+1" + std::string(600'000, ' ')),
            "54000");
  // Wide is fine: a long IN list or a long flat AND is not deep.
  std::string in = "SELECT count(*) FROM cpu WHERE hostname IN ('x'";
  for (int i = 0; i < 5000; ++i) in += ",'h" + std::to_string(i) + "'";
  EXPECT_THAT(Rows(in + ")"), ElementsAre("0"));
}

TEST_F(SessionTest, TransactionsAndSettings) {
  EXPECT_EQ(session_->transaction_status(), 'I');
  ASSERT_TRUE(Run("BEGIN").ok());
  EXPECT_EQ(session_->transaction_status(), 'T');
  EXPECT_EQ(StateOf("SELECT * FROM nope"), "42P01");
  EXPECT_EQ(session_->transaction_status(), 'E');
  EXPECT_EQ(StateOf("SELECT 1"), "25P02");
  auto r = Run("COMMIT");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->command_tag, "ROLLBACK");
  EXPECT_EQ(session_->transaction_status(), 'I');
  ASSERT_TRUE(Run("SET application_name = 'dash'").ok());
  EXPECT_THAT(Rows("SHOW application_name"), ElementsAre("dash"));
  EXPECT_THAT(Rows("SHOW server_version"), ElementsAre(::testing::StartsWith("15")));
  ASSERT_TRUE(Run("RESET application_name").ok());
  EXPECT_THAT(Rows("SHOW application_name"), ElementsAre(""));
}

TEST_F(SessionTest, ExplainShowsWhatIsPushedDown) {
  auto lines = Rows(
      "EXPLAIN SELECT * FROM cpu WHERE hostname = 'host_1' AND timestamp >= "
      "'2024-05-01' ORDER BY timestamp DESC LIMIT 5");
  std::string all;
  for (auto& l : lines) all += l + "\n";
  EXPECT_THAT(all, ::testing::HasSubstr("Pushed Filter: hostname = 'host_1'"));
  EXPECT_THAT(all, ::testing::HasSubstr("Time Range: [2024-05-01 00:00:00+00, infinity)"));
  EXPECT_THAT(all, ::testing::HasSubstr("Engine Limit: 5 (LIMIT pushed down)"));
  EXPECT_THAT(all, ::testing::HasSubstr("Engine Order: descending (is the ORDER BY)"));
  auto analyzed = Rows("EXPLAIN ANALYZE SELECT count(*) FROM cpu");
  std::string a;
  for (auto& l : analyzed) a += l + "\n";
  EXPECT_THAT(a, ::testing::HasSubstr("Rows Scanned: 4"));
  // Zone maps: sealed, a filter no block can match prunes every block.
  Seal("cpu");
  auto pruned = Rows("EXPLAIN ANALYZE SELECT * FROM cpu WHERE usage_user < 0");
  std::string p;
  for (auto& l : pruned) p += l + "\n";
  EXPECT_THAT(p, ::testing::HasSubstr("Blocks: 0 scanned, 1 pruned"));
  auto read = Rows("EXPLAIN ANALYZE SELECT * FROM cpu WHERE usage_user > 15");
  std::string r;
  for (auto& l : read) r += l + "\n";
  EXPECT_THAT(r, ::testing::HasSubstr("Blocks: 1 scanned, 0 pruned"));
}

// Constant arithmetic on either side of a comparison folds to a constant and
// is pushed into the scan (aggregates need that; they cannot filter above it).
TEST_F(SessionTest, ConstantExpressionsInComparisonsArePushedDown) {
  EXPECT_THAT(Rows("SELECT count(*) FROM cpu WHERE usage_user > 1 + 0"), ElementsAre("3"));
  EXPECT_THAT(Rows("SELECT count(*) FROM cpu WHERE usage_user = 0 - 1"), ElementsAre("0"));
  EXPECT_THAT(Rows("SELECT count(*) FROM cpu WHERE 25 - 5 <= usage_user"), ElementsAre("2"));
  std::string all;
  for (auto& l : Rows("EXPLAIN SELECT hostname FROM cpu WHERE usage_user > 1 + 0")) all += l + "\n";
  EXPECT_THAT(all, ::testing::HasSubstr("Pushed Filter: usage_user > 1"));
  EXPECT_THAT(all, ::testing::Not(::testing::HasSubstr("residual")));
}

TEST_F(SessionTest, CatalogListsDatasetsAndColumns) {
  EXPECT_THAT(
      Rows("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"),
      ElementsAre("cpu"));
  EXPECT_THAT(Rows("SELECT column_name, data_type FROM information_schema.columns "
                   "WHERE table_name = 'cpu' ORDER BY ordinal_position"),
              ElementsAre("timestamp|timestamp with time zone", "hostname|text",
                          "usage_user|double precision", "ok|boolean"));
}

TEST_F(SessionTest, ScopesAreEnforced) {
  SessionOptions o;
  o.require_scope = "read";
  Session denied(engine_.get(), o);
  auto p = denied.Prepare("SELECT * FROM cpu", {});
  ASSERT_TRUE(p.ok());
  auto r = denied.Execute(*p, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(SqlStateOf(r.status()), "42501");
  o.scopes = {"read"};
  Session allowed(engine_.get(), o);
  auto p2 = allowed.Prepare("SELECT count(*) FROM cpu", {});
  ASSERT_TRUE(p2.ok());
  EXPECT_TRUE(allowed.Execute(*p2, {}).ok());
}

// table_access (a token's grants, a dataset's iam) decides reads, Describe
// (pgwire shows the columns) and what the catalogs list.
TEST_F(SessionTest, TableAccessCoversDescribeAndCatalogs) {
  SessionOptions o;
  o.scopes = {"read"};
  o.require_scope = "read";
  o.table_access = [](std::string_view table) -> std::optional<std::string> {
    if (table == "cpu") return std::string("not for you");
    return std::nullopt;
  };
  Session s(engine_.get(), o);
  auto p = s.Prepare("SELECT * FROM cpu", {});
  ASSERT_TRUE(p.ok());
  auto described = s.Describe(*p);
  ASSERT_FALSE(described.ok());
  EXPECT_EQ(SqlStateOf(described.status()), "42501");
  EXPECT_EQ(SqlStateOf(s.Execute(*p, {}).status()), "42501");
  auto tables = s.Prepare(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'", {});
  ASSERT_TRUE(tables.ok());
  auto listed = s.Execute(*tables, {});
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(listed->table.rows, 0u);  // cpu is the only dataset, and hidden
  auto classes = s.Prepare("SELECT relname FROM pg_class WHERE relname = 'cpu'", {});
  ASSERT_TRUE(classes.ok());
  auto found = s.Execute(*classes, {});
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->table.rows, 0u);
}

TEST_F(SessionTest, RowCapIsAnErrorNotATruncation) {
  SessionOptions o;
  o.max_rows = 2;
  Session s(engine_.get(), o);
  auto p = s.Prepare("SELECT * FROM cpu ORDER BY usage_user", {});
  ASSERT_TRUE(p.ok());
  auto r = s.Execute(*p, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(SqlStateOf(r.status()), "54000");
  auto q = s.Prepare("SELECT * FROM cpu ORDER BY usage_user LIMIT 2", {});
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(SqlStateOf(s.Execute(*q, {}).status()), "54000");  // the sort needs every row
  auto t = s.Prepare("SELECT * FROM cpu ORDER BY timestamp LIMIT 2", {});
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(s.Execute(*t, {}).ok());  // pushed down
}

}  // namespace
}  // namespace timestore::sql::testing
