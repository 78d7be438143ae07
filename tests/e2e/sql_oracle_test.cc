// The DuckDB differential oracle against the real server: `timestore serve` on a
// free port, then `node tests/sql/duckdb_oracle.mjs`, which loads random data
// (nulls, NaN, ±Infinity, ±0.0, extremes, tied timestamps; part sealed and
// compacted, part in memory) into it and into an in-memory DuckDB, runs generated
// SELECTs in both and exits 1 on any answer that differs (docs/sql.md,
// "Differences from PostgreSQL and DuckDB"). Needs Node.js 20 and tests/node's
// @duckdb/node-api (scripts/install-deps.sh); skipped without them.
//
// TIMESTORE_SQL_ORACLE_SEED picks another seed for SqlOracle.MatchesDuckDb (the
// oracle prints the seed of every run; --only I replays one statement).
// SqlOracleSlow (ctest label "slow") runs more seeds, statements and rows.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/s3_test_server.h"
#include "tests/e2e/test_server.h"

namespace timestore::testing {
namespace {

using Clock = std::chrono::steady_clock;

bool OnPath(const std::string& name) {
  const char* path = ::getenv("PATH");
  std::stringstream ss(path == nullptr ? "" : path);
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    if (!dir.empty() && ::access((dir + "/" + name).c_str(), X_OK) == 0) return true;
  }
  return false;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct OracleRun {
  int exit_code = -1;  // -1: killed at the deadline
  std::string output;
};

// Runs the oracle, its output in `dir`/oracle-<seed>.log; the
// child dies with this process and is killed at `deadline`.
OracleRun RunOracle(int port, int seed, int count, int rows, const std::string& dir,
                    std::chrono::seconds deadline) {
  const std::string log = dir + "/oracle-" + std::to_string(seed) + ".log";
  std::vector<std::string> args = {
      "node",    std::string(SourceDir()) + "/tests/sql/duckdb_oracle.mjs",
      "--port",  std::to_string(port),
      "--seed",  std::to_string(seed),
      "--count", std::to_string(count),
      "--rows",  std::to_string(rows)};
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp("node", argv.data());
    ::_exit(127);
  }
  OracleRun run;
  const auto until = Clock::now() + deadline;
  int status = 0;
  while (true) {
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    if (Clock::now() > until) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  run.output = ReadFile(log);
  return run;
}

// The oracle's summary lines (they start with "duckdb_oracle:").
std::string Summary(const std::string& output) {
  std::stringstream in(output);
  std::string line, out;
  while (std::getline(in, line)) {
    if (line.rfind("duckdb_oracle:", 0) == 0) out += line + "\n";
  }
  return out;
}

class SqlOracleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TIMESTORE_SKIP_WITHOUT(OnPath("node"), "node");
    const std::string api =
        std::string(SourceDir()) + "/tests/node/node_modules/@duckdb/node-api/package.json";
    TIMESTORE_SKIP_WITHOUT(std::filesystem::exists(api), "@duckdb/node-api in tests/node");
    root_ = MakeTempDir();
    server_ = std::make_unique<TestServer>(root_);
    ASSERT_TRUE(server_->Start()) << ReadFile(server_->log_path());
  }
  void TearDown() override {
    server_.reset();
    if (!root_.empty() && !HasFailure()) std::filesystem::remove_all(root_);
  }

  // One oracle run; every mismatch it printed is in the failure message.
  void Check(int seed, int count, int rows, std::chrono::seconds deadline) {
    const auto start = Clock::now();
    OracleRun run = RunOracle(server_->port(), seed, count, rows, root_, deadline);
    const double secs = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf("%s(%.1f s, seed %d)\n", Summary(run.output).c_str(), secs, seed);
    EXPECT_EQ(run.exit_code, 0) << (run.exit_code < 0 ? "killed at the deadline\n" : "")
                                << run.output << "\nserver log: " << server_->log_path()
                                << "\nreplay: node tests/sql/duckdb_oracle.mjs --port P --seed "
                                << seed << " --count " << count << " --rows " << rows;
  }

  std::string root_;
  std::unique_ptr<TestServer> server_;
};

// 400 statements over 3,000 rows: about 10 s.
TEST_F(SqlOracleTest, MatchesDuckDb) {
  const char* seed = ::getenv("TIMESTORE_SQL_ORACLE_SEED");
  Check(seed != nullptr ? std::atoi(seed) : 1, 400, 3000, std::chrono::seconds(240));
}

using SqlOracleSlowTest = SqlOracleTest;

// Three more seeds, 1,000 statements each over 20,000 rows: a few minutes
// (ctest -L slow).
TEST_F(SqlOracleSlowTest, ManySeeds) {
  for (int seed = 2; seed <= 4; ++seed) {
    Check(seed, 1000, 20000, std::chrono::seconds(600));
  }
}

}  // namespace
}  // namespace timestore::testing
