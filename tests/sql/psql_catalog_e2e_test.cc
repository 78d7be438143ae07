// The real psql 15 against the real `timestore serve` (TIMESTORE_PG_PORT):
// \dt, \d, \d cpu and the rest must print what they print against a real
// PostgreSQL 15 holding the same tables (tests/sql/psql15/NAME.psql), except
// where the facts differ (no access method, segment sizes, one database, the
// connecting user owns everything, collation C).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/strings.h"
#include "tests/e2e/test_server.h"

namespace timestore::testing {
namespace {

const std::string kDataDir = StrCat(TIMESTORE_SOURCE_DIR, "/tests/sql/psql15/");

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// The reference PostgreSQL's tables (tests/sql/psql15/README.md).
constexpr const char* kCpu = R"({
  "schema": {"fields": [{"name": "timestamp", "type": "timestamp"},
                        {"name": "hostname", "type": "string"},
                        {"name": "usage_user", "type": "double"},
                        {"name": "n", "type": "integer"},
                        {"name": "ok", "type": "boolean"}]},
  "records": [{"timestamp": "2024-05-01T12:00:00Z", "hostname": "host_0", "usage_user": 42.5,
               "n": 1, "ok": true}]})";
constexpr const char* kMem = R"({
  "schema": {"fields": [{"name": "timestamp", "type": "timestamp"},
                        {"name": "host", "type": "string"},
                        {"name": "used", "type": "integer"}]},
  "records": [{"timestamp": "2024-05-01T12:00:00Z", "host": "host_0", "used": 7}]})";

class PsqlCatalogE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(MakeTempDir());
    server_ = new TestServer(*dir_, {{"TIMESTORE_PG_PORT", std::to_string(PickFreePort())}});
    bool ok = server_->Start();
    HttpClient http(server_->port());
    for (auto [slug, body] : {std::pair{"cpu", kCpu}, std::pair{"mem", kMem}}) {
      ok = ok && http.Post(StrCat("/datasets/", slug, "/ingest"), body,
                           {{"content-type", "application/json"}})
                         .status == 200;
    }
    if (!ok) {
      delete server_;
      server_ = nullptr;
    }
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  void SetUp() override {
    ASSERT_NE(server_, nullptr) << "the server did not start";
    TIMESTORE_SKIP_WITHOUT(Shell("command -v psql").first == 0, "psql");
  }

  // psql -c COMMAND as user timestore (the reference's owner), as printed;
  // psql exits 1 when a pattern names no relation, as against PostgreSQL.
  static std::string Psql(const std::string& command, int want_rc = 0) {
    auto [rc, out] =
        Shell(StrCat("PGCONNECT_TIMEOUT=60 psql -X -h 127.0.0.1 -p ", server_->pg_port(),
                     " -U timestore -d timestore -c '", command, "'"));
    EXPECT_EQ(rc, want_rc) << command << ": " << out;
    return out;
  }

  static std::string* dir_;
  static TestServer* server_;
};
std::string* PsqlCatalogE2eTest::dir_ = nullptr;
TestServer* PsqlCatalogE2eTest::server_ = nullptr;

TEST_F(PsqlCatalogE2eTest, PrintsWhatPostgreSQLPrints) {
  for (auto [name, command] : {std::pair{"dt", "\\dt"},
                               {"d", "\\d"},
                               {"dt_cpu", "\\dt cpu"},
                               {"dt_public_star", "\\dt public.*"},
                               {"d_cpu", "\\d cpu"},
                               {"d_public_cpu", "\\d public.cpu"},
                               {"d_nosuch", "\\d nosuch"},
                               {"di", "\\di"},
                               {"dv", "\\dv"},
                               {"ds", "\\ds"},
                               {"dm", "\\dm"}}) {
    const int rc = std::string_view(name) == "d_nosuch" ? 1 : 0;
    EXPECT_EQ(Psql(command, rc), ReadFile(kDataDir + name + ".psql")) << command;
  }
}

TEST_F(PsqlCatalogE2eTest, DescribeVerbose) {
  // PostgreSQL's table is stored in its heap; a dataset has no access method.
  std::string want = ReadFile(kDataDir + "d_plus_cpu.psql");
  const std::string am = "Access method: heap\n";
  ASSERT_NE(want.find(am), std::string::npos);
  want.erase(want.find(am), am.size());
  EXPECT_EQ(Psql("\\d+ cpu"), want);
}

TEST_F(PsqlCatalogE2eTest, ListsWithSizesDatabasesAndSchemas) {
  EXPECT_EQ(Psql("\\dt+"),
            "                                    List of relations\n"
            " Schema | Name | Type  |   Owner   | Persistence | Access method |  Size   | "
            "Description \n"
            "--------+------+-------+-----------+-------------+---------------+---------+-------"
            "------\n"
            " public | cpu  | table | timestore | permanent   |               | 0 bytes | \n"
            " public | mem  | table | timestore | permanent   |               | 0 bytes | \n"
            "(2 rows)\n\n");
  EXPECT_EQ(Psql("\\l"),
            "                                           List of databases\n"
            "   Name    |   Owner   | Encoding | Collate | Ctype | ICU Locale | Locale Provider "
            "| Access privileges \n"
            "-----------+-----------+----------+---------+-------+------------+-----------------"
            "+-------------------\n"
            " timestore | timestore | UTF8     | C       | C     |            | libc            "
            "| \n"
            "(1 row)\n\n");
  EXPECT_EQ(Psql("\\dn"),
            "  List of schemas\n"
            "  Name  |   Owner   \n"
            "--------+-----------\n"
            " public | timestore\n"
            "(1 row)\n\n");
}

TEST_F(PsqlCatalogE2eTest, OtherCatalogCommandsAreNotSupported) {
  // \dT joins pg_type with a subquery: 0A000, never a wrong list.
  auto [rc, out] =
      Shell(StrCat("PGCONNECT_TIMEOUT=60 psql -X -h 127.0.0.1 -p ", server_->pg_port(),
                   " -U timestore -d timestore -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -c '\\dT'"));
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("ERROR:  0A000"), std::string::npos) << out;
}

}  // namespace
}  // namespace timestore::testing
