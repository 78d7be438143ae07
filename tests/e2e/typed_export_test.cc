// The Parquet export of json, uuid and array columns end to end: the real
// server ingests them (uuids in upper case and braces, json objects with keys
// out of order), seals half and keeps half in memory, exports by the admin
// route, and DuckDB must read every value back: json as its canonical text,
// uuids in canonical form, each array's elements in order.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <random>
#include <thread>

#include "common/strings.h"
#include "tests/e2e/test_server.h"
#include "tests/parquet/duckdb_check.h"

namespace timestore::testing {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kT0 = 1'714'521'600'000'000'000;  // 2024-05-01T00:00:00Z

struct Row {
  int64_t t;
  std::optional<std::string> attrs_in, attrs;  // as sent, canonical
  std::optional<std::string> trace_in, trace;
  std::optional<std::vector<std::string>> tags;
  std::optional<std::vector<int64_t>> codes;
  std::optional<std::vector<double>> vals;
  std::optional<std::vector<bool>> flags;
};

std::string Hex(uint64_t v, int digits) {
  std::string s(digits, '0');
  for (int i = digits - 1; i >= 0; --i, v >>= 4) s[i] = "0123456789abcdef"[v & 15];
  return s;
}

std::vector<Row> MakeRows(size_t n) {
  std::mt19937_64 rng(3);
  std::vector<Row> rows;
  for (size_t i = 0; i < n; ++i) {
    Row r;
    r.t = kT0 + static_cast<int64_t>(i) * 1'000'000'000;
    if (i % 9) {
      const int status = 200 + static_cast<int>(rng() % 4) * 100;
      r.attrs_in = StrCat(R"({"route":"/items/)", i, R"(","http":{"status":)", status,
                          R"(,"method":"GET"},"name":"é 🎉"})");
      r.attrs = StrCat(R"({"http":{"method":"GET","status":)", status,
                       R"(},"name":"é 🎉","route":"/items/)", i, "\"}");
    }
    if (i % 7) {
      const std::string u = StrCat(Hex(rng(), 8), "-", Hex(rng(), 4), "-", Hex(rng(), 4), "-",
                                   Hex(rng(), 4), "-", Hex(rng(), 12));
      r.trace = u;
      std::string upper = u;
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      r.trace_in = i % 2 ? "{" + upper + "}" : upper;
    }
    if (i % 5) {
      std::vector<std::string> tags;
      std::vector<int64_t> codes;
      std::vector<double> vals;
      std::vector<bool> flags;
      const size_t len = i % 4;  // some empty
      for (size_t k = 0; k < len; ++k) {
        tags.push_back(StrCat("tag", rng() % 30));
        codes.push_back(static_cast<int64_t>(rng() % 2000) - 1000);
        vals.push_back(static_cast<double>(rng() % 1000) / 4);
        flags.push_back(rng() % 2);
      }
      r.tags = tags;
      r.codes = codes;
      r.vals = vals;
      r.flags = flags;
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

template <typename T, typename F>
std::string Join(const std::vector<T>& v, std::string_view sep, F f) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += StrCat(i ? sep : "", f(v[i]));
  return out;
}

std::string RecordJson(const Row& r) {
  std::string s = StrCat("{\"timestamp\":", r.t);
  if (r.attrs_in) s += ",\"attrs\":" + *r.attrs_in;
  if (r.trace_in) s += ",\"trace\":\"" + *r.trace_in + "\"";
  if (r.tags) {
    s += ",\"tags\":[" + Join(*r.tags, ",", [](const std::string& t) { return "\"" + t + "\""; });
    s += "],\"codes\":[" + Join(*r.codes, ",", [](int64_t c) { return StrCat(c); });
    s += "],\"vals\":[" + Join(*r.vals, ",", [](double d) { return StrCat(d); });
    s += "],\"flags\":[" + Join(*r.flags, ",", [](bool b) { return b ? "true" : "false"; }) + "]";
  }
  return s + "}";
}

TEST(TypedExportTest, DuckDbReadsJsonUuidAndArrays) {
  TIMESTORE_SKIP_WITHOUT(DuckDbAvailable(), "node with @duckdb/node-api in tests/node");
  const std::string dir = MakeTempDir();
  TestServer server(dir);
  ASSERT_TRUE(server.Start()) << server.log_path();
  HttpClient c(server.port());
  const std::vector<Row> rows = MakeRows(600);
  for (size_t from = 0; from < rows.size(); from += 300) {
    std::string body = "{";
    if (from == 0) {
      body +=
          R"("schema":{"fields":[{"name":"timestamp","type":"timestamp"},{"name":"attrs","type":"json"},)"
          R"({"name":"trace","type":"uuid"},{"name":"tags","type":"string[]"},)"
          R"({"name":"codes","type":"integer[]"},{"name":"vals","type":"double[]"},)"
          R"({"name":"flags","type":"boolean[]"}]},)";
    }
    body += "\"records\":[";
    for (size_t i = from; i < from + 300; ++i) body += (i > from ? "," : "") + RecordJson(rows[i]);
    body += "]}";
    HttpResult r = c.Post("/datasets/spans/ingest?precision=ns", body);
    ASSERT_EQ(r.status, 200) << r.body;
    if (from == 0) ASSERT_EQ(c.Post("/admin/datasets/spans/flush", "").status, 200);
  }

  const std::string out = dir + "/out";
  HttpResult start = c.Post("/admin/datasets/spans/export", "{\"out\":\"" + out + "\"}");
  ASSERT_EQ(start.status, 202) << start.body;
  simdjson::dom::parser p;
  std::string_view id;
  ASSERT_FALSE(p.parse(start.body).get_object()["id"].get(id));
  const std::string job_path = "/admin/datasets/spans/exports/" + std::string(id);
  std::string state = "running";
  for (int i = 0; i < 600 && state == "running"; ++i) {
    HttpResult g = c.Get(job_path);
    std::string_view s;
    if (p.parse(g.body).get_object()["state"].get(s) == simdjson::SUCCESS) state = std::string(s);
    if (state == "running") std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (state == "failed") FAIL() << g.body;
  }
  ASSERT_EQ(state, "succeeded");

  const std::string src =
      "read_parquet('" + out + "/**/*.parquet', hive_partitioning=true, union_by_name=true)";
  std::string failure;
  auto answers = AskDuckDb(
      {"SELECT epoch_ns(\"timestamp\"), attrs::VARCHAR, trace::VARCHAR, tags IS NULL, "
       "array_to_string(tags, '|'), array_to_string(codes, ','), array_to_string(flags, ','), "
       "len(vals), list_sum(vals) FROM " +
           src + " ORDER BY \"timestamp\"",
       "SELECT column_name, column_type FROM (DESCRIBE SELECT attrs, trace, tags, codes, vals, "
       "flags FROM " +
           src + ")"},
      &failure);
  ASSERT_EQ(answers.size(), 2u) << failure;
  ASSERT_TRUE(answers[0].error.empty()) << answers[0].error;
  ASSERT_EQ(answers[0].rows.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    const auto& got = answers[0].rows[i];
    EXPECT_EQ(got[1], r.attrs) << "row " << i;
    EXPECT_EQ(got[2], r.trace) << "row " << i;
    EXPECT_EQ(got[3], r.tags ? "false" : "true") << "row " << i;
    if (!r.tags) continue;
    EXPECT_EQ(got[4], Join(*r.tags, "|", [](const std::string& t) { return t; })) << "row " << i;
    EXPECT_EQ(got[5], Join(*r.codes, ",", [](int64_t v) { return StrCat(v); })) << "row " << i;
    EXPECT_EQ(got[6], Join(*r.flags, ",", [](bool b) { return b ? "true" : "false"; }))
        << "row " << i;
    EXPECT_EQ(got[7], StrCat(r.vals->size())) << "row " << i;
    double sum = 0;
    for (double v : *r.vals) sum += v;
    if (!r.vals->empty()) {
      EXPECT_NEAR(std::strtod(got[8].value_or("nan").c_str(), nullptr), sum, 1e-9) << "row " << i;
    }
  }
  std::map<std::string, std::string> types;
  for (const auto& row : answers[1].rows) types[*row[0]] = *row[1];
  EXPECT_EQ(types["trace"], "UUID");
  EXPECT_EQ(types["tags"], "VARCHAR[]");
  EXPECT_EQ(types["codes"], "BIGINT[]");
  EXPECT_EQ(types["vals"], "DOUBLE[]");
  EXPECT_EQ(types["flags"], "BOOLEAN[]");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace timestore::testing
