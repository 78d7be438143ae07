// The TSBS harness end to end: `timestore-tsbs run --smoke` against the real server
// (4 hosts x 1 h, one query per type, every answer checked against the in-memory
// reference), so the harness does not rot (bench/README.md, "timestore-tsbs").
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "tests/e2e/test_server.h"

namespace timestore::testing {
namespace {

TEST(TsbsSmokeTest, EveryQueryTypeAnswersAndMatchesTheReference) {
  const std::string root = MakeTempDir();
  TestServer server(root);
  ASSERT_TRUE(server.Start()) << "see " << server.log_path();
  const std::string out = root + "/results.jsonl";
  const std::string cmd = std::string(TIMESTORE_TSBS_BINARY) + " run --smoke --port " +
                          std::to_string(server.port()) + " --json-out " + out + " > " + root +
                          "/stdout 2> " + root + "/stderr";
  const int status = std::system(cmd.c_str());
  std::ifstream err(root + "/stderr");
  const std::string stderr_text((std::istreambuf_iterator<char>(err)),
                                std::istreambuf_iterator<char>());
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << stderr_text;

  std::ifstream in(out);
  std::string line;
  simdjson::dom::parser parser;
  int load_lines = 0;
  std::set<std::string> types;
  while (std::getline(in, line)) {
    SCOPED_TRACE(line);
    simdjson::dom::element e;
    ASSERT_FALSE(parser.parse(line).get(e));
    std::string_view system;
    ASSERT_FALSE(e["system"].get(system));
    EXPECT_EQ(system, "timestore");
    std::string_view phase;
    if (!e["phase"].get(phase)) {
      EXPECT_EQ(phase, "load");
      int64_t rows = 0;
      ASSERT_FALSE(e["rows"].get(rows));
      EXPECT_EQ(rows, 4 * 360);
      double bpv = 0;
      ASSERT_FALSE(e["bytes_per_value"].get(bpv));
      EXPECT_GT(bpv, 0);
      ++load_lines;
      continue;
    }
    std::string_view type, checksum;
    ASSERT_FALSE(e["type"].get(type));
    types.insert(std::string(type));
    int64_t rows = 0, queries = 0;
    ASSERT_FALSE(e["rows"].get(rows));
    ASSERT_FALSE(e["queries"].get(queries));
    EXPECT_EQ(queries, 1);
    EXPECT_GT(rows, 0);
    ASSERT_FALSE(e["checksum"].get(checksum));
    EXPECT_EQ(checksum.size(), 16u);
    EXPECT_EQ(checksum.find_first_not_of("0123456789abcdef"), std::string_view::npos);
    bool verified = false;
    ASSERT_FALSE(e["verified"].get(verified));
    EXPECT_TRUE(verified);
    double p50 = -1;
    ASSERT_FALSE(e["p50_ms"].get(p50));
    EXPECT_GT(p50, 0);
  }
  EXPECT_EQ(load_lines, 1);
  EXPECT_EQ(types.size(), 15u);
  server.Stop(SIGTERM);
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace timestore::testing
