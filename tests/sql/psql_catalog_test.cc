// psql's catalog queries through sql::Session over a real Engine: every
// statement psql 15 sends for \dt, \d, \d cpu, \d+ cpu, \l, \dn, ... (the
// files in tests/sql/psql15/, captured from a real PostgreSQL 15) must answer
// with PostgreSQL's columns, names and types alike, and with PostgreSQL's
// rows where Timestore's catalog has the same facts; any other join of
// catalog tables stays 0A000. Also the catalog queries drivers and people
// send without psql (version(), SHOW, information_schema, pg_tables).
#include <gmock/gmock.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/strings.h"
#include "tests/sql/sql_fixture.h"

namespace timestore::sql::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

const std::string kDataDir = StrCat(TIMESTORE_SOURCE_DIR, "/tests/sql/psql15/");

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// The oid the reference PostgreSQL gave cpu: the captured statements carry it.
constexpr std::string_view kReferenceCpuOid = "16391";

// One statement's answer in the reference PostgreSQL (NAME.expected): its
// columns as "name type" and its rows, cells joined by '|'.
struct Expected {
  std::vector<std::string> columns;
  std::vector<std::string> rows;
};

std::vector<Expected> ReadExpected(const std::string& name) {
  std::vector<Expected> out;
  std::istringstream in(ReadFile(kDataDir + name + ".expected"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("-- statement ", 0) == 0) {
      out.emplace_back();
    } else if (line.rfind("-- columns: ", 0) == 0) {
      std::string_view cols = std::string_view(line).substr(12);
      while (!cols.empty()) {
        size_t comma = cols.find(", ");
        out.back().columns.emplace_back(cols.substr(0, comma));
        cols = comma == std::string_view::npos ? "" : cols.substr(comma + 2);
      }
    } else {
      out.back().rows.push_back(line);
    }
  }
  return out;
}

// PostgreSQL's name of a result column's type (format_type of its oid).
std::string TypeName(uint32_t oid) {
  switch (oid) {
    case 16:
      return "boolean";
    case 18:
      return "\"char\"";
    case 19:
      return "name";
    case 20:
      return "bigint";
    case 21:
      return "smallint";
    case 23:
      return "integer";
    case 25:
      return "text";
    case 26:
      return "oid";
    case 2205:
      return "regclass";
  }
  return StrCat("oid ", oid);
}

// Cells as the reference files write them: NULL, t/f, text with \n escaped.
std::vector<std::string> RenderLikeReference(const SqlResult& r) {
  std::vector<std::string> out;
  for (size_t i = 0; i < r.table.rows; ++i) {
    std::string row;
    for (size_t k = 0; k < r.table.columns.size(); ++k) {
      const ResultColumn& c = r.table.columns[k];
      if (k) row += "|";
      if (!c.valid[i]) {
        row += "NULL";
      } else if (c.type == ColumnType::kString) {
        for (char ch : c.strings[i]) row += ch == '\n' ? std::string("\\n") : std::string(1, ch);
      } else if (c.type == ColumnType::kBoolean) {
        row += c.ints[i] ? "t" : "f";
      } else {
        row += std::to_string(c.ints[i]);
      }
    }
    out.push_back(row);
  }
  return out;
}

std::string Replace(std::string s, std::string_view from, std::string_view to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
    s.replace(p, from.size(), to);
  return s;
}

class PsqlCatalogTest : public SqlTest {
 protected:
  void SetUp() override {
    SqlTest::SetUp();
    // The reference PostgreSQL's tables, with the same columns and types.
    Ingest("cpu", R"({"schema": {"fields": [{"name": "timestamp", "type": "timestamp"},
        {"name": "hostname", "type": "string"}, {"name": "usage_user", "type": "double"},
        {"name": "n", "type": "integer"}, {"name": "ok", "type": "boolean"}]},
      "records": [{"timestamp": "2024-05-01T00:00:00Z", "hostname": "host_1",
                   "usage_user": 10.5, "n": 1, "ok": true}]})");
    Ingest("mem", R"({"schema": {"fields": [{"name": "timestamp", "type": "timestamp"},
        {"name": "host", "type": "string"}, {"name": "used", "type": "integer"}]},
      "records": [{"timestamp": "2024-05-01T00:00:00Z", "host": "host_1", "used": 7}]})");
  }

  std::string CpuOid() {
    auto rows = Rows("SELECT oid FROM pg_catalog.pg_class WHERE relname = 'cpu'");
    return rows.size() == 1 ? rows[0] : "?";
  }

  // Runs the statements of tests/sql/psql15/NAME.sql as psql would (the oid
  // of cpu in place of the reference's) and checks each answer's columns
  // against PostgreSQL's, and its rows against PostgreSQL's or, for the
  // statements listed in `differ`, against those.
  void RunCapture(const std::string& name, std::map<size_t, std::vector<std::string>> differ = {}) {
    SCOPED_TRACE(name);
    const std::string oid = CpuOid();
    std::string sql = Replace(ReadFile(kDataDir + name + ".sql"), kReferenceCpuOid, oid);
    auto statements = session_->Split(sql);
    ASSERT_TRUE(statements.ok()) << statements.status();
    std::vector<Expected> expected = ReadExpected(name);
    ASSERT_EQ(statements->size(), expected.size());
    for (size_t i = 0; i < statements->size(); ++i) {
      SCOPED_TRACE(StrCat("statement ", i + 1, ": ", (*statements)[i]));
      auto p = session_->Prepare((*statements)[i], {});
      ASSERT_TRUE(p.ok()) << p.status();
      auto described = session_->Describe(*p);
      ASSERT_TRUE(described.ok()) << described.status();
      auto r = session_->Execute(*p, {});
      ASSERT_TRUE(r.ok()) << r.status();
      std::vector<std::string> columns, described_columns;
      for (const SqlColumn& c : r->columns) columns.push_back(c.name + " " + TypeName(c.type_oid));
      for (const SqlColumn& c : *described)
        described_columns.push_back(c.name + " " + TypeName(c.type_oid));
      EXPECT_EQ(columns, expected[i].columns);
      EXPECT_EQ(described_columns, expected[i].columns);
      std::vector<std::string> want;
      if (auto d = differ.find(i + 1); d != differ.end()) {
        want = d->second;
      } else {
        for (const std::string& row : expected[i].rows)
          want.push_back(Replace(row, kReferenceCpuOid, oid));
      }
      EXPECT_EQ(RenderLikeReference(*r), want);
      EXPECT_EQ(r->command_tag, StrCat("SELECT ", want.size()));
    }
  }
};

// Timestore's answers differ from the reference PostgreSQL's only where the
// facts do: no access method (PostgreSQL's heap), sizes of segment files,
// one database, the session's user owning everything, collation C.

TEST_F(PsqlCatalogTest, ListTables) {
  RunCapture("dt");
  RunCapture("d");
  RunCapture("dt_cpu");
  RunCapture("dt_public_star");
  const std::vector<std::string> verbose = {
      "public|cpu|table|timestore|permanent|NULL|0 bytes|NULL",
      "public|mem|table|timestore|permanent|NULL|0 bytes|NULL"};
  RunCapture("dt_plus", {{1, verbose}});
  RunCapture("d_plus", {{1, verbose}});
}

TEST_F(PsqlCatalogTest, NoIndexesViewsSequencesOrMaterializedViews) {
  for (const char* name : {"di", "dv", "ds", "dm"}) RunCapture(name);
}

TEST_F(PsqlCatalogTest, DescribeTable) {
  const std::vector<std::string> table = {"0|r|f|f|f|f|f|f|f||0||p|d|NULL"};
  RunCapture("d_cpu", {{2, table}});
  RunCapture("d_plus_cpu", {{2, table}});
  RunCapture("d_public_cpu", {{2, table}});
  RunCapture("d_nosuch");
}

TEST_F(PsqlCatalogTest, DatabasesAndSchemas) {
  RunCapture("l", {{1, {"timestore|timestore|UTF8|C|C|NULL|libc|NULL"}}});
  RunCapture("l_plus", {{1,
                         {"timestore|timestore|UTF8|C|C|NULL|libc|NULL|0 bytes|pg_default|"
                          "NULL"}}});
  RunCapture("dn", {{1, {"public|timestore"}}});
  RunCapture("dn_plus", {{1, {"public|timestore|NULL|standard public schema"}}});
}

TEST_F(PsqlCatalogTest, SizeAndDescriptionOfADataset) {
  Seal("cpu");
  Engine::Settings s;
  s.description = "CPU usage per host";
  ASSERT_TRUE(engine_->UpdateSettings(engine_->GetDataset("cpu").get(), s).ok());
  auto rows = Rows(
      "SELECT c.relname, pg_catalog.pg_size_pretty(pg_catalog.pg_table_size(c.oid)), "
      "pg_catalog.obj_description(c.oid, 'pg_class') "
      "FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
      "WHERE n.nspname = 'public' ORDER BY 1");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_THAT(rows[0],
              ::testing::MatchesRegex("cpu\\|[1-9][0-9]* (bytes|kB)\\|CPU usage per host"));
  EXPECT_EQ(rows[1], "mem|0 bytes|NULL");
}

TEST_F(PsqlCatalogTest, SizesArePrettyAsInPostgreSQL) {
  // PostgreSQL 15's pg_size_pretty for the same sizes.
  struct Case {
    const char* bytes;
    const char* pretty;
  };
  for (Case c : {Case{"0", "0 bytes"}, Case{"10239", "10239 bytes"}, Case{"10240", "10 kB"},
                 Case{"10751", "10 kB"}, Case{"10752", "11 kB"}, Case{"20970496", "20 MB"},
                 Case{"20971008", "20 MB"}, Case{"1099511627776", "1024 GB"},
                 Case{"5629499534213120", "5120 TB"}, Case{"1152921504606846976", "1024 PB"},
                 Case{"-10240", "-10 kB"}, Case{"-10752", "-11 kB"}}) {
    EXPECT_THAT(Rows(StrCat("SELECT pg_catalog.pg_size_pretty(", c.bytes,
                            ") FROM pg_catalog.pg_database d")),
                ElementsAre(c.pretty))
        << c.bytes;
  }
}

TEST_F(PsqlCatalogTest, NamePatternsAreRegularExpressions) {
  auto names = [&](std::string_view re) {
    return Rows(StrCat(
        "SELECT c.relname FROM pg_catalog.pg_class c "
        "LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relname OPERATOR(pg_catalog.~) '",
        re, "' COLLATE pg_catalog.default AND pg_catalog.pg_table_is_visible(c.oid) ORDER BY 1"));
  };
  EXPECT_THAT(names("^(.*)$"), ElementsAre("cpu", "mem", "pg_attribute", "pg_class", "pg_database",
                                           "pg_namespace", "pg_tables", "pg_type"));
  EXPECT_THAT(names("^(m.*)$"), ElementsAre("mem"));
  EXPECT_THAT(names("^(c.u)$"), ElementsAre("cpu"));
  EXPECT_THAT(names("^(CPU)$"), IsEmpty());
  // A pattern RE2 cannot compile is not guessed at.
  EXPECT_EQ(StateOf(StrCat("SELECT c.relname FROM pg_catalog.pg_class c LEFT JOIN "
                           "pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relname "
                           "OPERATOR(pg_catalog.~) '(' ORDER BY 1")),
            "0A000");
}

TEST_F(PsqlCatalogTest, CatalogTablesAreRelationsToo) {
  // \dtS: pg_catalog's tables (not its views, such as pg_tables), with the
  // datasets; \d pg_class: the columns a SELECT can read.
  auto tables = Rows(
      "SELECT n.nspname, c.relname, c.relkind FROM pg_catalog.pg_class c "
      "LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
      "LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam "
      "WHERE c.relkind IN ('r','p','') AND pg_catalog.pg_table_is_visible(c.oid) ORDER BY 1,2");
  EXPECT_THAT(tables, ElementsAre("pg_catalog|pg_attribute|r", "pg_catalog|pg_class|r",
                                  "pg_catalog|pg_database|r", "pg_catalog|pg_namespace|r",
                                  "pg_catalog|pg_type|r", "public|cpu|r", "public|mem|r"));
  auto cls = Rows(
      "SELECT c.oid, c.relkind FROM pg_catalog.pg_class c "
      "LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
      "WHERE c.relname OPERATOR(pg_catalog.~) '^(pg_class)$' COLLATE pg_catalog.default "
      "AND pg_catalog.pg_table_is_visible(c.oid)");
  EXPECT_THAT(cls, ElementsAre("1259|r"));
  EXPECT_THAT(Rows("SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), "
                   "a.attnotnull FROM pg_catalog.pg_attribute a WHERE a.attrelid = '1259' "
                   "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"),
              ElementsAre("oid|bigint|f", "relname|text|f", "relnamespace|bigint|f",
                          "relkind|text|f", "relowner|bigint|f", "relnatts|bigint|f"));
  // information_schema is not on the search path; its views are there for \dvS *.*.
  EXPECT_THAT(Rows("SELECT c.relname, pg_catalog.pg_table_is_visible(c.oid) "
                   "FROM pg_catalog.pg_class c "
                   "LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                   "WHERE n.nspname = 'information_schema' ORDER BY 1"),
              ElementsAre("columns|f", "schemata|f", "tables|f"));
  // The catalog tables agree with each other.
  EXPECT_THAT(Rows("SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = 'pg_catalog'"),
              ElementsAre("pg_namespace", "pg_class", "pg_attribute", "pg_type", "pg_database"));
  EXPECT_THAT(Rows("SELECT table_name, table_type FROM information_schema.tables "
                   "WHERE table_schema = 'information_schema'"),
              ElementsAre("tables|VIEW", "columns|VIEW", "schemata|VIEW"));
}

TEST_F(PsqlCatalogTest, OidsAreStableAndAgreeAcrossCatalogs) {
  const std::string cpu = CpuOid();
  int64_t oid = 0;
  ASSERT_TRUE(SimpleAtoi(cpu, &oid)) << cpu;
  EXPECT_GE(oid, 16384);
  EXPECT_LT(oid, int64_t{1} << 32);
  EXPECT_EQ(CpuOid(), cpu);
  EXPECT_THAT(Rows(StrCat("SELECT attname FROM pg_catalog.pg_attribute WHERE attrelid = ", cpu,
                          " ORDER BY attnum")),
              ElementsAre("timestamp", "hostname", "usage_user", "n", "ok"));
  EXPECT_THAT(Rows(StrCat("SELECT c.relname FROM pg_catalog.pg_class c LEFT JOIN "
                          "pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = '",
                          cpu, "'")),
              ElementsAre("cpu"));
}

TEST_F(PsqlCatalogTest, OtherJoinsOfCatalogTablesAreNotSupported) {
  const char* kNotSupported[] = {
      // A join psql does not write.
      "SELECT c.relname, a.attname FROM pg_catalog.pg_class c "
      "JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid",
      // psql's \dt with a column Timestore's pg_class does not have.
      "SELECT c.relname FROM pg_catalog.pg_class c "
      "LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relfrozenxid = '0'",
      // ... with a function not evaluated here.
      "SELECT pg_catalog.pg_relation_filepath(c.oid) FROM pg_catalog.pg_class c "
      "LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace",
      // ... with LIMIT, GROUP BY, DISTINCT.
      "SELECT c.relname FROM pg_catalog.pg_class c "
      "LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace LIMIT 1",
      "SELECT n.nspname FROM pg_catalog.pg_class c "
      "LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace GROUP BY 1",
      "SELECT DISTINCT n.nspname FROM pg_catalog.pg_class c "
      "LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace",
      // The same join with the condition reversed is another join.
      "SELECT c.relname FROM pg_catalog.pg_class c "
      "LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relowner",
      // A subquery that is not one of psql's.
      "SELECT a.attname, (SELECT 1 FROM pg_catalog.pg_attrdef d) FROM pg_catalog.pg_attribute a",
      // The policies query with another table.
      "SELECT pol.polname FROM pg_catalog.pg_policy pol, pg_catalog.pg_class c",
      // psql 15's \dT (a subquery, NOT EXISTS), \df (pg_proc), \du (pg_roles, ARRAY()).
      R"(SELECT n.nspname as "Schema", pg_catalog.format_type(t.oid, NULL) AS "Name",
  pg_catalog.obj_description(t.oid, 'pg_type') as "Description"
FROM pg_catalog.pg_type t LEFT JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE (t.typrelid = 0 OR (SELECT c.relkind = 'c' FROM pg_catalog.pg_class c WHERE c.oid = t.typrelid))
  AND NOT EXISTS(SELECT 1 FROM pg_catalog.pg_type el WHERE el.oid = t.typelem AND el.typarray = t.oid)
  AND n.nspname <> 'pg_catalog' AND n.nspname <> 'information_schema'
  AND pg_catalog.pg_type_is_visible(t.oid)
ORDER BY 1, 2)",
      R"(SELECT n.nspname as "Schema", p.proname as "Name"
FROM pg_catalog.pg_proc p LEFT JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE pg_catalog.pg_function_is_visible(p.oid) ORDER BY 1, 2)",
      R"(SELECT r.rolname, ARRAY(SELECT b.rolname FROM pg_catalog.pg_auth_members m
  JOIN pg_catalog.pg_roles b ON (m.roleid = b.oid) WHERE m.member = r.oid) as memberof
FROM pg_catalog.pg_roles r WHERE r.rolname !~ '^pg_' ORDER BY 1)",
  };
  for (const char* sql : kNotSupported) EXPECT_EQ(StateOf(sql), "0A000") << sql;
}

TEST_F(PsqlCatalogTest, ThreeValuedLogicAndCase) {
  // Recognised queries are evaluated, not pattern-matched: their logic is SQL's.
  EXPECT_THAT(Rows("SELECT n.nspname FROM pg_catalog.pg_namespace n "
                   "WHERE n.nspname IN ('public', NULL) OR n.nspname = 'pg_catalog' ORDER BY 1"),
              ElementsAre("pg_catalog", "public"));
  EXPECT_THAT(Rows("SELECT n.nspname FROM pg_catalog.pg_namespace n "
                   "WHERE n.nspname NOT IN ('public', NULL) ORDER BY 1"),
              IsEmpty());
  EXPECT_THAT(Rows("SELECT n.nspname FROM pg_catalog.pg_namespace n "
                   "WHERE NOT (n.nspname !~ '^pg_') ORDER BY 1 DESC"),
              ElementsAre("pg_catalog"));
  EXPECT_THAT(
      Rows("SELECT CASE WHEN a.attnotnull THEN 'not null' END, a.attname "
           "FROM pg_catalog.pg_attribute a WHERE a.attrelid = " +
           CpuOid() + " AND a.attnum > -1 ORDER BY a.attnum DESC"),
      ElementsAre("NULL|ok", "NULL|n", "NULL|usage_user", "NULL|hostname", "not null|timestamp"));
  // A literal of the wrong form for an oid is left to the planner (as any
  // query that is not recognised).
  EXPECT_EQ(StateOf("SELECT c.relname FROM pg_catalog.pg_class c LEFT JOIN "
                    "pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = 'x'"),
            "0A000");
}

TEST_F(PsqlCatalogTest, NeedsTheQueryScope) {
  SessionOptions o;
  o.require_scope = "read";
  Session denied(engine_.get(), o);
  auto p = denied.Prepare(ReadFile(kDataDir + "dn.sql"), {});
  ASSERT_TRUE(p.ok()) << p.status();
  auto r = denied.Execute(*p, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(SqlStateOf(r.status()), "42501");
}

TEST_F(PsqlCatalogTest, WhatDriversAskAtConnect) {
  auto version = Rows("SELECT version()");
  ASSERT_EQ(version.size(), 1u);
  EXPECT_THAT(version[0], ::testing::StartsWith("PostgreSQL 15"));
  EXPECT_THAT(Rows("SELECT current_database()"), ElementsAre("timestore"));
  EXPECT_THAT(Rows("SELECT current_schema()"), ElementsAre("public"));
  EXPECT_THAT(Rows("SHOW server_version"), ElementsAre("15.0 (Timestore 0.1.0)"));
  EXPECT_THAT(Rows("SHOW server_version_num"), ElementsAre("150000"));
  EXPECT_THAT(Rows("SHOW search_path"), ElementsAre("\"$user\", public"));
  EXPECT_THAT(Rows("SHOW standard_conforming_strings"), ElementsAre("on"));
  EXPECT_THAT(Rows("SHOW transaction isolation level"), ElementsAre("read committed"));
  EXPECT_THAT(Rows("SHOW default_transaction_isolation"), ElementsAre("read committed"));
  EXPECT_THAT(Rows("SHOW client_encoding"), ElementsAre("UTF8"));
  EXPECT_THAT(Rows("SHOW TimeZone"), ElementsAre("UTC"));
}

TEST_F(PsqlCatalogTest, InformationSchemaAndPgTables) {
  auto tables = Run("SELECT * FROM information_schema.tables WHERE table_schema='public'");
  ASSERT_TRUE(tables.ok()) << tables.status();
  std::vector<std::string> names;
  for (const SqlColumn& c : tables->columns) names.push_back(c.name);
  EXPECT_THAT(names, ElementsAre("table_catalog", "table_schema", "table_name", "table_type",
                                 "self_referencing_column_name", "reference_generation",
                                 "user_defined_type_catalog", "user_defined_type_schema",
                                 "user_defined_type_name", "is_insertable_into", "is_typed",
                                 "commit_action"));
  EXPECT_THAT(Render(*tables),
              ElementsAre("timestore|public|cpu|BASE TABLE|NULL|NULL|NULL|NULL|NULL|NO|NO|NULL",
                          "timestore|public|mem|BASE TABLE|NULL|NULL|NULL|NULL|NULL|NO|NO|NULL"));

  EXPECT_THAT(Rows("SELECT column_name, data_type FROM information_schema.columns "
                   "WHERE table_name='cpu' ORDER BY ordinal_position"),
              ElementsAre("timestamp|timestamp with time zone", "hostname|text",
                          "usage_user|double precision", "n|bigint", "ok|boolean"));
  // The columns PostgreSQL 15 answers for SELECT *, and its values for these types.
  auto columns = Run("SELECT * FROM information_schema.columns WHERE table_name = 'cpu'");
  ASSERT_TRUE(columns.ok()) << columns.status();
  EXPECT_EQ(columns->columns.size(), 44u);
  EXPECT_EQ(columns->columns.back().name, "is_updatable");
  EXPECT_THAT(Rows("SELECT column_name, is_nullable, character_octet_length, numeric_precision, "
                   "numeric_precision_radix, numeric_scale, datetime_precision, udt_catalog, "
                   "udt_schema, udt_name, dtd_identifier, is_identity, is_generated "
                   "FROM information_schema.columns WHERE table_name = 'cpu'"),
              ElementsAre("timestamp|NO|NULL|NULL|NULL|NULL|6|timestore|pg_catalog|timestamptz|1|"
                          "NO|NEVER",
                          "hostname|YES|1073741824|NULL|NULL|NULL|NULL|timestore|pg_catalog|text|"
                          "2|NO|NEVER",
                          "usage_user|YES|NULL|53|2|NULL|NULL|timestore|pg_catalog|float8|3|NO|"
                          "NEVER",
                          "n|YES|NULL|64|2|0|NULL|timestore|pg_catalog|int8|4|NO|NEVER",
                          "ok|YES|NULL|NULL|NULL|NULL|NULL|timestore|pg_catalog|bool|5|NO|NEVER"));

  EXPECT_THAT(
      Rows("SELECT * FROM pg_catalog.pg_tables WHERE schemaname='public'"),
      ElementsAre("public|cpu|timestore|NULL|f|f|f|f", "public|mem|timestore|NULL|f|f|f|f"));
}

}  // namespace
}  // namespace timestore::sql::testing
