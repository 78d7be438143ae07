// Real PostgreSQL clients against the real `timestore serve` (TestServer with
// TIMESTORE_PG_PORT): psql, psycopg2 and node-postgres (scripts beside this
// file), libpq and libpqxx in process; each authentication method; scopes.
// The statements stay simple (raw selects with a filter and a limit, count,
// avg) so that what is tested is the protocol, not the SQL layer.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sys/wait.h>

#include <bit>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <pqxx/pqxx>

#include "common/strings.h"
#include "tests/e2e/test_server.h"

namespace timestore::testing {
namespace {

using Env = std::map<std::string, std::string>;

// A server with the dataset `cpu` (kCpuRowsJson, in the shared harness) and the PostgreSQL protocol
// on.
struct PgTestServer {
  explicit PgTestServer(Env env = {}) : dir(MakeTempDir()) {
    env["TIMESTORE_PG_PORT"] = std::to_string(PickFreePort());
    server = std::make_unique<TestServer>(dir, env);
  }
  ~PgTestServer() {
    server.reset();
    std::filesystem::remove_all(dir);
  }
  bool Start() {
    if (!server->Start()) return false;
    HttpClient http(server->port());
    auto r =
        http.Post("/datasets/cpu/ingest", kCpuRowsJson, {{"content-type", "application/json"}});
    return r.status == 200;
  }
  // psql with `args`, as `user` with `password`, not reading ~/.psqlrc.
  std::pair<int, std::string> Psql(const std::string& args, const std::string& user = "u",
                                   const std::string& password = "") {
    return Shell(StrCat("PGPASSWORD='", password, "' PGCONNECT_TIMEOUT=60 psql -X -h 127.0.0.1 -p ",
                        server->pg_port(), " -U ", user, " -d timestore ", args));
  }
  std::string ConnInfo(const std::string& user = "u", const std::string& password = "") {
    return StrCat("host=127.0.0.1 port=", server->pg_port(), " user=", user,
                  " dbname=timestore connect_timeout=60",
                  password.empty() ? "" : StrCat(" password=", password));
  }
  std::string dir;
  std::unique_ptr<TestServer> server;
};

class PgClientsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pg_ = new PgTestServer();
    if (!pg_->Start()) {
      delete pg_;
      pg_ = nullptr;
    }
  }
  static void TearDownTestSuite() {
    delete pg_;
    pg_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(pg_, nullptr) << "the server did not start";
    TIMESTORE_SKIP_WITHOUT(Shell("command -v psql").first == 0, "psql");
  }
  static PgTestServer* pg_;
};
PgTestServer* PgClientsTest::pg_ = nullptr;

TEST_F(PgClientsTest, PsqlSelectOne) {
  auto [rc, out] = pg_->Psql("-At -c 'SELECT 1'");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "1\n");
}

TEST_F(PgClientsTest, PsqlSeveralStatements) {
  // One simple query with two statements, then two -c (two queries).
  auto [rc, out] = pg_->Psql("-At -c 'SELECT 1; SELECT 2' -c 'SELECT 3'");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "1\n2\n3\n");
}

TEST_F(PgClientsTest, PsqlReadsData) {
  auto [rc, out] = pg_->Psql(
      "-At -F, -c 'SELECT hostname, usage_user FROM cpu WHERE usage_user > 10 "
      "ORDER BY timestamp LIMIT 2' -c 'SELECT count(*) FROM cpu' "
      "-c 'SELECT avg(usage_user) FROM cpu' "
      "-c 'SELECT timestamp FROM cpu ORDER BY timestamp LIMIT 1'");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "host_0,42.5\nhost_1,17\n4\n40.9375\n2024-05-01 12:00:00+00\n");
}

TEST_F(PgClientsTest, PsqlTableOutputAndShow) {
  auto [rc, out] = pg_->Psql("-c 'SHOW server_version' -c 'SELECT current_database()'");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("15.0 (Timestore"), std::string::npos) << out;
  EXPECT_NE(out.find("timestore"), std::string::npos) << out;
  EXPECT_NE(out.find("(1 row)"), std::string::npos) << out;
}

TEST_F(PgClientsTest, PsqlSyntaxErrorGivesTheSqlstate) {
  auto [rc, out] = pg_->Psql("-v VERBOSITY=verbose -v ON_ERROR_STOP=1 -c 'SELEC 1'");
  EXPECT_EQ(rc, 1) << out;
  EXPECT_NE(out.find("ERROR:  42601"), std::string::npos) << out;
  // And the connection goes on after an error inside one session.
  auto [rc2, out2] = pg_->Psql("-At -c 'SELEC 1' -c 'SELECT 5'");
  EXPECT_NE(out2.find("5\n"), std::string::npos) << out2;
}

TEST_F(PgClientsTest, Psycopg2) {
  TIMESTORE_SKIP_WITHOUT(Shell("/usr/bin/python3 -c 'import psycopg2'").first == 0,
                         "python3-psycopg2");
  auto [rc, out] =
      Shell(StrCat("/usr/bin/python3 ", TIMESTORE_SOURCE_DIR, "/tests/pgwire/psycopg2_client.py ",
                   pg_->server->pg_port(), " u ''"));
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("\nOK\n"), std::string::npos) << out;
}

std::string NodeCommand(int port, const std::string& user, const std::string& password) {
  return StrCat("NODE_PATH=", TIMESTORE_SOURCE_DIR, "/tests/node/node_modules node ",
                TIMESTORE_SOURCE_DIR, "/tests/pgwire/node_pg_client.js ", port, " ", user, " '",
                password, "'");
}

bool HaveNodePg() {
  return Shell(StrCat("NODE_PATH=", TIMESTORE_SOURCE_DIR,
                      "/tests/node/node_modules node -e \"require('pg')\""))
             .first == 0;
}

TEST_F(PgClientsTest, NodePostgresWithParameters) {
  TIMESTORE_SKIP_WITHOUT(HaveNodePg(), "node or tests/node/node_modules/pg");
  auto [rc, out] = Shell(NodeCommand(pg_->server->pg_port(), "u", ""));
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("\nOK\n"), std::string::npos) << out;
}

TEST_F(PgClientsTest, LibpqxxPreparedStatement) {
  pqxx::connection c(pg_->ConnInfo());
  c.prepare("hot",
            "SELECT hostname, usage_user FROM cpu WHERE usage_user > $1 ORDER BY timestamp "
            "LIMIT $2");
  pqxx::work w(c);
  pqxx::result r = w.exec_prepared("hot", 20, 5);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0][0].as<std::string>(), "host_0");
  EXPECT_EQ(r[0][1].as<double>(), 42.5);
  EXPECT_EQ(r[1][0].as<std::string>(), "host_2");
  r = w.exec_prepared("hot", 50, 5);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0][1].as<double>(), 99.25);
  w.commit();
}

std::string BigEndian64(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>(v >> (56 - 8 * i));
  return s;
}

uint64_t ReadBigEndian64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

TEST_F(PgClientsTest, LibpqBinaryParametersAndResults) {
  PGconn* conn = PQconnectdb(pg_->ConnInfo().c_str());
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  // float8 parameter 20.0 in binary; every result column in binary.
  const Oid types[] = {701};
  const std::string param = BigEndian64(std::bit_cast<uint64_t>(20.0));
  const char* values[] = {param.data()};
  const int lengths[] = {8};
  const int formats[] = {1};
  PGresult* r = PQexecParams(
      conn,
      "SELECT usage_user, timestamp, hostname FROM cpu WHERE usage_user > $1 ORDER BY timestamp", 1,
      types, values, lengths, formats, 1);
  ASSERT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << PQresultErrorMessage(r);
  ASSERT_EQ(PQntuples(r), 2);
  EXPECT_EQ(PQftype(r, 0), 701u);
  EXPECT_EQ(PQftype(r, 1), 1184u);
  EXPECT_EQ(PQfformat(r, 0), 1);
  ASSERT_EQ(PQgetlength(r, 1, 0), 8);
  EXPECT_EQ(std::bit_cast<double>(ReadBigEndian64(PQgetvalue(r, 1, 0))), 99.25);
  ASSERT_EQ(PQgetlength(r, 0, 1), 8);
  // 2024-05-01 12:00:00 UTC in microseconds since 2000-01-01.
  EXPECT_EQ(static_cast<int64_t>(ReadBigEndian64(PQgetvalue(r, 0, 1))),
            (1714564800LL - 946684800LL) * 1000000);
  EXPECT_EQ(std::string(PQgetvalue(r, 1, 2), PQgetlength(r, 1, 2)), "host_2");
  PQclear(r);

  // A prepared statement described: its parameter and result types.
  r = PQprepare(conn, "by_host", "SELECT usage_user FROM cpu WHERE hostname = $1", 0, nullptr);
  ASSERT_EQ(PQresultStatus(r), PGRES_COMMAND_OK) << PQresultErrorMessage(r);
  PQclear(r);
  r = PQdescribePrepared(conn, "by_host");
  ASSERT_EQ(PQresultStatus(r), PGRES_COMMAND_OK) << PQresultErrorMessage(r);
  EXPECT_EQ(PQnparams(r), 1);
  EXPECT_EQ(PQnfields(r), 1);
  EXPECT_EQ(PQftype(r, 0), 701u);
  PQclear(r);
  const char* host[] = {"host_1"};
  r = PQexecPrepared(conn, "by_host", 1, host, nullptr, nullptr, 0);
  ASSERT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << PQresultErrorMessage(r);
  EXPECT_STREQ(PQgetvalue(r, 0, 0), "17");
  PQclear(r);

  // A binary parameter of a type without a binary form here: 0A000.
  const Oid numeric[] = {1700};
  r = PQexecParams(conn, "SELECT count(*) FROM cpu WHERE usage_user > $1", 1, numeric, values,
                   lengths, formats, 0);
  EXPECT_STREQ(PQresultErrorField(r, PG_DIAG_SQLSTATE), "0A000");
  PQclear(r);

  // PQcancel reaches the server (nothing runs, so nothing is cancelled) and
  // the connection stays usable.
  PGcancel* cancel = PQgetCancel(conn);
  char err[256];
  EXPECT_EQ(PQcancel(cancel, err, sizeof(err)), 1) << err;
  PQfreeCancel(cancel);
  r = PQexec(conn, "SELECT count(*) FROM cpu");
  ASSERT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << PQresultErrorMessage(r);
  EXPECT_STREQ(PQgetvalue(r, 0, 0), "4");
  PQclear(r);
  EXPECT_EQ(PQbackendPID(conn) > 0, true);
  EXPECT_STREQ(PQparameterStatus(conn, "integer_datetimes"), "on");
  EXPECT_STREQ(PQparameterStatus(conn, "server_encoding"), "UTF8");
  PQfinish(conn);
}

// json, uuid and array columns (dataset `ev`, ingested once with a declared
// schema) through psql, psycopg2 and libpq's binary results.
constexpr std::string_view kTypedRowsJson = R"({"schema":{"fields":[
  {"name":"time","type":"timestamp"},{"name":"host","type":"string"},
  {"name":"attrs","type":"json"},{"name":"id","type":"uuid"},
  {"name":"vals","type":"double[]"},{"name":"counts","type":"integer[]"},
  {"name":"tags","type":"string[]"},{"name":"flags","type":"boolean[]"}]},
 "timestampColumn":"time",
 "records":[
  {"time":"2024-05-01T12:00:00Z","host":"a","attrs":{"user":"bob","http":{"status":500}},
   "id":"A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11","vals":[1,2.5],"counts":[1,2],
   "tags":["a b","c"],"flags":[true,false]},
  {"time":"2024-05-01T12:00:10Z","host":"b","attrs":{"http":{"status":200}},
   "id":"123e4567-e89b-12d3-a456-426614174000","vals":[],"counts":[3],"tags":["x"],
   "flags":[false]}]})";

class PgTypedClientsTest : public PgClientsTest {
 protected:
  void SetUp() override {
    PgClientsTest::SetUp();
    if (!ingested_) {
      HttpClient http(pg_->server->port());
      auto r = http.Post("/datasets/ev/ingest", std::string(kTypedRowsJson),
                         {{"content-type", "application/json"}});
      ASSERT_EQ(r.status, 200) << r.body;
      ingested_ = true;
    }
  }
  // psql -At -F'|' running the statements in `sql` (from a file: no shell quoting).
  std::pair<int, std::string> PsqlFile(const std::string& sql, const std::string& flags = "-At") {
    const std::string path = StrCat(pg_->dir, "/typed.sql");
    FILE* f = fopen(path.c_str(), "w");
    fputs(sql.c_str(), f);
    fclose(f);
    return pg_->Psql(StrCat(flags, " -F'|' -v ON_ERROR_STOP=1 -f ", path));
  }
  static bool ingested_;
};
bool PgTypedClientsTest::ingested_ = false;

TEST_F(PgTypedClientsTest, PsqlPrintsPostgresForms) {
  auto [rc, out] = PsqlFile(
      "SELECT attrs, id, vals, counts, tags, flags FROM ev ORDER BY time;\n"
      "SELECT attrs->'http'->>'status' FROM ev WHERE id = 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11';\n"
      "SELECT host FROM ev WHERE attrs->>'user' = 'bob' OR counts = '{3}' ORDER BY host;\n");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out,
            "{\"http\":{\"status\":500},\"user\":\"bob\"}|a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|"
            "{1,2.5}|{1,2}|{\"a b\",c}|{t,f}\n"
            "{\"http\":{\"status\":200}}|123e4567-e89b-12d3-a456-426614174000|{}|{3}|{x}|{f}\n"
            "500\na\nb\n");
}

TEST_F(PgTypedClientsTest, PsqlDescribeShowsTheTypes) {
  auto [rc, out] = PsqlFile("\\d ev\n", "");
  EXPECT_EQ(rc, 0) << out;
  for (std::string_view want : {"| json ", "| uuid ", "| double precision[] ", "| bigint[] ",
                                "| text[] ", "| boolean[] "}) {
    EXPECT_NE(out.find(want), std::string::npos) << want << " in\n" << out;
  }
  auto [rc2, out2] = PsqlFile(
      "SELECT column_name, data_type, udt_name FROM information_schema.columns "
      "WHERE table_name = 'ev' AND column_name IN ('id', 'tags') ORDER BY column_name;\n");
  EXPECT_EQ(rc2, 0) << out2;
  EXPECT_EQ(out2, "id|uuid|uuid\ntags|ARRAY|_text\n");
}

TEST_F(PgTypedClientsTest, Psycopg2DecodesUuidJsonAndArrays) {
  TIMESTORE_SKIP_WITHOUT(Shell("/usr/bin/python3 -c 'import psycopg2'").first == 0,
                         "python3-psycopg2");
  auto [rc, out] =
      Shell(StrCat("/usr/bin/python3 ", TIMESTORE_SOURCE_DIR,
                   "/tests/pgwire/psycopg2_typed_client.py ", pg_->server->pg_port(), " u ''"));
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("\nOK\n"), std::string::npos) << out;
}

TEST_F(PgTypedClientsTest, LibpqBinaryResults) {
  PGconn* conn = PQconnectdb(pg_->ConnInfo().c_str());
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  PGresult* r = PQexecParams(conn, "SELECT id, counts, attrs FROM ev WHERE host = 'a'", 0, nullptr,
                             nullptr, nullptr, nullptr, 1);
  ASSERT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << PQresultErrorMessage(r);
  EXPECT_EQ(PQftype(r, 0), 2950u);
  EXPECT_EQ(PQftype(r, 1), 1016u);
  EXPECT_EQ(PQftype(r, 2), 114u);
  ASSERT_EQ(PQgetlength(r, 0, 0), 16);
  EXPECT_EQ(ReadBigEndian64(PQgetvalue(r, 0, 0)), 0xa0eebc999c0b4ef8ull);
  EXPECT_EQ(ReadBigEndian64(PQgetvalue(r, 0, 0) + 8), 0xbb6d6bb9bd380a11ull);
  // array_send of {1,2}: ndim 1, no nulls, int8, length 2 from 1, then (8, 1), (8, 2).
  ASSERT_EQ(PQgetlength(r, 0, 1), 20 + 2 * 12);
  const char* a = PQgetvalue(r, 0, 1);
  EXPECT_EQ(ReadBigEndian64(a) >> 32, 1u);
  EXPECT_EQ(ReadBigEndian64(a + 8) >> 32, 20u);
  EXPECT_EQ(ReadBigEndian64(a + 12) >> 32, 2u);
  EXPECT_EQ(ReadBigEndian64(a + 24), 1u);
  EXPECT_EQ(ReadBigEndian64(a + 36), 2u);
  EXPECT_EQ(std::string(PQgetvalue(r, 0, 2), PQgetlength(r, 0, 2)),
            R"({"http":{"status":500},"user":"bob"})");
  PQclear(r);
  PQfinish(conn);
}

// Authentication, each method with the clients that speak it.
class PgAuthTest : public ::testing::Test {
 protected:
  void SetUp() override { TIMESTORE_SKIP_WITHOUT(Shell("command -v psql").first == 0, "psql"); }
};

TEST_F(PgAuthTest, ScramSha256ByDefaultWithUsers) {
  PgTestServer pg(Env{{"TIMESTORE_PG_USERS", "alice:s3cret:read,bob:hunter2"}});
  ASSERT_TRUE(pg.Start()) << "see " << pg.server->log_path();
  auto [rc, out] = pg.Psql("-At -c 'SELECT count(*) FROM cpu'", "alice", "s3cret");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "4\n");
  for (auto [user, password] : {std::pair{"alice", "wrong"}, std::pair{"mallory", "s3cret"}}) {
    auto [rc2, out2] = pg.Psql("-At -c 'SELECT 1'", user, password);
    EXPECT_EQ(rc2, 2) << out2;
    EXPECT_NE(out2.find(StrCat("password authentication failed for user \"", user, "\"")),
              std::string::npos)
        << out2;
  }
  // libpq's SCRAM through psycopg2, and node-postgres's own SCRAM.
  if (Shell("/usr/bin/python3 -c 'import psycopg2'").first == 0) {
    auto [rc3, out3] =
        Shell(StrCat("/usr/bin/python3 ", TIMESTORE_SOURCE_DIR, "/tests/pgwire/psycopg2_client.py ",
                     pg.server->pg_port(), " alice s3cret"));
    EXPECT_EQ(rc3, 0) << out3;
  }
  if (HaveNodePg()) {
    auto [rc4, out4] = Shell(NodeCommand(pg.server->pg_port(), "bob", "hunter2"));
    EXPECT_EQ(rc4, 0) << out4;
    auto [rc5, out5] = Shell(NodeCommand(pg.server->pg_port(), "bob", "hunter3"));
    EXPECT_NE(rc5, 0) << out5;
    EXPECT_NE(out5.find("password authentication failed for user \"bob\""), std::string::npos)
        << out5;
  }
}

TEST_F(PgAuthTest, Md5AndCleartext) {
  for (const char* method : {"md5", "password"}) {
    SCOPED_TRACE(method);
    PgTestServer pg(Env{{"TIMESTORE_PG_AUTH", method}, {"TIMESTORE_PG_USERS", "carol:p\\,w"}});
    ASSERT_TRUE(pg.Start()) << "see " << pg.server->log_path();
    auto [rc, out] = pg.Psql("-At -c 'SELECT 1'", "carol", "p,w");  // "\," is a comma
    EXPECT_EQ(rc, 0) << out;
    auto [rc2, out2] = pg.Psql("-At -c 'SELECT 1'", "carol", "pw");
    EXPECT_EQ(rc2, 2) << out2;
    EXPECT_NE(out2.find("password authentication failed for user \"carol\""), std::string::npos)
        << out2;
  }
}

TEST_F(PgAuthTest, ScopesComeFromTheUser) {
  PgTestServer pg(Env{{"TIMESTORE_REQUIRE_SCOPE", "read"},
                      {"TIMESTORE_PG_USERS", "reader:pw:read+other,nobody:pw"}});
  ASSERT_TRUE(pg.Start()) << "see " << pg.server->log_path();
  auto [rc, out] = pg.Psql("-At -c 'SELECT count(*) FROM cpu'", "reader", "pw");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "4\n");
  auto [rc2, out2] =
      pg.Psql("-At -v VERBOSITY=verbose -c 'SELECT count(*) FROM cpu'", "nobody", "pw");
  EXPECT_EQ(rc2, 1) << out2;
  EXPECT_NE(out2.find("42501"), std::string::npos) << out2;
}

TEST_F(PgAuthTest, BadConfigurationRefusesToStart) {
  for (const Env& env : {Env{{"TIMESTORE_PG_AUTH", "md5"}}, Env{{"TIMESTORE_PG_AUTH", "ldap"}},
                         Env{{"TIMESTORE_PG_USERS", "nopassword"}}}) {
    PgTestServer pg(env);
    EXPECT_FALSE(pg.server->Start());
  }
}

}  // namespace
}  // namespace timestore::testing
