// Parquet export end to end, proven by an independent reader: random rows go
// into the real server (JSON ingest, part sealed and part in memory, several
// series and day partitions with an empty day between them; Prometheus remote
// write for NaN and ±Infinity), are exported by the admin route and by the
// CLI on the stopped server's root (the files must be byte for byte the
// same), and DuckDB (tests/parquet/duckdb_parquet_check.mjs) reads the
// export with read_parquet(..., hive_partitioning=true): counts, sums, mins,
// maxes and each series' last row must equal Timestore's own answers (/sql
// and /query), and parquet_metadata/parquet_schema must show the types,
// statistics and codec docs/export.md promises.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <snappy.h>

#include <bit>
#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "api/prometheus.pb.h"
#include "tests/e2e/s3_test_server.h"
#include "tests/e2e/test_server.h"
#include "tests/parquet/duckdb_check.h"

namespace timestore::testing {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kDay = 86'400'000'000'000;
constexpr int64_t kDay0 = 1'714'521'600'000'000'000;  // 2024-05-01T00:00:00Z

struct Row {
  int64_t t;
  std::string host;
  std::optional<double> value;
  std::optional<int64_t> count;
  std::optional<bool> ok;
  std::optional<std::string> note;
};

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string RecordJson(const Row& r) {
  std::string s = "{\"timestamp\":" + std::to_string(r.t) + ",\"host\":" + JsonString(r.host);
  if (r.value) {
    char buf[64];
    snprintf(buf, sizeof(buf), "%.17g", *r.value);
    s += std::string(",\"value\":") + (std::signbit(*r.value) && *r.value == 0 ? "-0.0" : buf);
  }
  if (r.count) s += ",\"count\":" + std::to_string(*r.count);
  if (r.ok) s += std::string(",\"ok\":") + (*r.ok ? "true" : "false");
  if (r.note) s += ",\"note\":" + JsonString(*r.note);
  return s + "}";
}

std::vector<Row> RandomRows(uint32_t seed) {
  std::mt19937_64 rng(seed);
  const std::vector<std::string> hosts = {"h0", "h1", "host_🦆", "東京-1", "naïve", "h5"};
  const std::vector<std::string> notes = {"ok 😀", "中文注释", "", "plain"};
  std::vector<Row> rows;
  for (int day : {0, 1, 3}) {  // day 2 stays empty
    for (int k = 0; k < 700; ++k) {
      Row r;
      // Strictly increasing times with nanoseconds: no ties, one order everywhere.
      r.t = kDay0 + day * kDay + int64_t{k} * 100'000'000'000 +
            static_cast<int64_t>(rng() % 99'999'999'999);
      r.host = hosts[rng() % hosts.size()];
      switch (rng() % 8) {
        case 0:
          break;  // null
        case 1:
          r.value = rng() % 2 ? -0.0 : 1e300;
          break;
        default:
          r.value = static_cast<double>(static_cast<int64_t>(rng() % 2'000'001) - 1'000'000) / 64;
      }
      switch (rng() % 10) {
        case 0:
          break;
        case 1:
          r.count =
              rng() % 2 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
          break;
        default:
          r.count = static_cast<int64_t>(rng() % 1'000'000) - 500'000;
      }
      if (rng() % 5 != 0) r.ok = rng() % 2 == 0;
      if (rng() % 3 == 0) r.note = notes[rng() % notes.size()];
      rows.push_back(std::move(r));
    }
  }
  return rows;
}

bool Near(double a, double b) {
  if (a == b) return true;
  return std::fabs(a - b) <= 1e-9 * std::max(std::fabs(a), std::fabs(b));
}

class ParquetExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TIMESTORE_SKIP_WITHOUT(DuckDbAvailable(), "node with @duckdb/node-api in tests/node");
    dir_ = MakeTempDir();
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // Starts an export through the route and waits for its job; returns the job JSON.
  std::string ExportByRoute(HttpClient& c, const std::string& dataset, const std::string& body) {
    HttpResult r = c.Post("/admin/datasets/" + dataset + "/export", body);
    EXPECT_EQ(r.status, 202) << r.body;
    simdjson::dom::parser p;
    std::string_view id;
    if (p.parse(r.body).get_object()["id"].get(id)) return "";
    const std::string path = "/admin/datasets/" + dataset + "/exports/" + std::string(id);
    for (int i = 0; i < 600; ++i) {
      HttpResult g = c.Get(path);
      std::string_view state;
      if (p.parse(g.body).get_object()["state"].get(state) == simdjson::SUCCESS &&
          state != "running") {
        EXPECT_EQ(state, "succeeded") << g.body;
        return g.body;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "export job " << id << " did not end";
    return "";
  }

  std::string dir_;
};

// Every regular file under `root`, relative path -> bytes.
std::map<std::string, std::string> Files(const std::string& root) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    out[fs::relative(e.path(), root).string()] =
        std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return out;
}

TEST_F(ParquetExportTest, DuckDbReadsWhatTimestoreAnswers) {
  TestServer server(dir_);
  ASSERT_TRUE(server.Start()) << server.log_path();
  HttpClient c(server.port());

  // --- Data in: three batches sealed, the rest in memory.
  const std::vector<Row> rows = RandomRows(42);
  const size_t batch = 300;
  for (size_t from = 0; from < rows.size(); from += batch) {
    std::string body = "{";
    if (from == 0) {
      body +=
          R"("schema":{"fields":[{"name":"timestamp","type":"timestamp"},{"name":"host","type":"string"},)"
          R"({"name":"value","type":"double"},{"name":"count","type":"integer"},)"
          R"({"name":"ok","type":"boolean"},{"name":"note","type":"string"}]},)";
    }
    body += "\"records\":[";
    for (size_t i = from; i < std::min(rows.size(), from + batch); ++i) {
      if (i > from) body += ",";
      body += RecordJson(rows[i]);
    }
    body += "]}";
    HttpResult r = c.Post("/datasets/metrics/ingest?precision=ns", body);
    ASSERT_EQ(r.status, 200) << r.body;
    if (from == 2 * batch) {
      ASSERT_EQ(c.Post("/admin/datasets/metrics/flush", "").status, 200);
    }
  }
  // NaN and ±Infinity through Prometheus remote write (JSON cannot carry them).
  prometheus::WriteRequest w;
  std::map<std::string, int> special;  // "nan", "inf", "-inf", "finite" -> count
  double finite_sum = 0;
  for (const char* host : {"a", "b"}) {
    prometheus::TimeSeries* ts = w.add_timeseries();
    auto* l = ts->add_labels();
    l->set_name("__name__");
    l->set_value("temp");
    l = ts->add_labels();
    l->set_name("host");
    l->set_value(host);
    for (int k = 0; k < 120; ++k) {
      double v = k * 0.25 - (host[0] == 'b' ? 7 : 0);
      if (k % 7 == 0) v = std::nan("");
      if (k % 11 == 0) v = INFINITY;
      if (k % 13 == 0) v = -INFINITY;
      special[std::isnan(v) ? "nan" : v == INFINITY ? "inf" : v == -INFINITY ? "-inf" : "finite"]++;
      if (std::isfinite(v)) finite_sum += v;
      auto* s = ts->add_samples();
      s->set_timestamp(kDay0 / 1'000'000 + k * 1000);
      s->set_value(v);
    }
  }
  std::string compressed;
  snappy::Compress(w.SerializeAsString().data(), w.ByteSizeLong(), &compressed);
  HttpResult pw = c.Post("/api/v1/write?dataset=prom", compressed,
                         {{"Content-Encoding", "snappy"},
                          {"Content-Type", "application/x-protobuf"},
                          {"X-Prometheus-Remote-Write-Version", "0.1.0"}});
  ASSERT_EQ(pw.status, 204) << pw.body;

  // --- Timestore's own answers.
  HttpResult sql = c.Post(
      "/sql",
      R"({"query":"SELECT host, count(*), count(value), sum(value), min(value), max(value), count(count), min(count), max(count), count(ok), count(note) FROM metrics GROUP BY host ORDER BY host"})",
      {{"Content-Type", "application/json"}});
  ASSERT_EQ(sql.status, 200) << sql.body;
  HttpResult raw =
      c.Post("/datasets/metrics/query",
             R"({"timeRange":{"start":"2000-01-01T00:00:00Z","end":"2100-01-01T00:00:00Z"},)"
             R"("limit":100000,"timestampFormat":"epoch_ns"})");
  ASSERT_EQ(raw.status, 200) << raw.body.substr(0, 500);

  // --- Exports through the route: everything, the empty day alone, and prom.
  const std::string out_route = dir_ + "/route", out_cli = dir_ + "/cli";
  std::string job = ExportByRoute(c, "metrics", "{\"out\":\"" + out_route + "\"}");
  ASSERT_NE(job.find("\"rows\":2100"), std::string::npos) << job.substr(0, 800);
  std::string empty = ExportByRoute(
      c, "metrics",
      "{\"out\":\"" + dir_ +
          "/empty\",\"from\":\"2024-05-03T00:00:00Z\",\"to\":\"2024-05-04T00:00:00Z\"}");
  EXPECT_NE(empty.find("\"rows\":0"), std::string::npos) << empty.substr(0, 800);
  EXPECT_NE(empty.find("\"files\":[]"), std::string::npos) << empty.substr(0, 800);
  ExportByRoute(c, "prom", "{\"out\":\"" + out_route + "\",\"compression\":\"snappy\"}");
  ExportByRoute(c, "metrics", "{\"out\":\"" + dir_ + "/none\",\"compression\":\"none\"}");
  // Refusals name what is wrong.
  HttpResult bad = c.Post("/admin/datasets/metrics/export", R"({"out":"x","compression":"lz5"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("compression"), std::string::npos) << bad.body;
  EXPECT_EQ(c.Post("/admin/datasets/nope/export", R"({"out":"x"})").status, 404);

  // --- The same export offline by the CLI, on the stopped server's root.
  server.Stop(SIGTERM);
  auto [rc, out] = Shell(std::string(TimestoreBinary()) + " export --storage-root " +
                         server.storage_root() + " --dataset metrics --out " + out_cli);
  ASSERT_EQ(rc, 0) << out;
  auto route_files = Files(out_route), cli_files = Files(out_cli);
  std::vector<std::string> parquet_paths;
  for (const auto& [path, bytes] : cli_files) {
    if (path.ends_with(".parquet")) {
      parquet_paths.push_back(path);
      ASSERT_TRUE(route_files.count(path)) << path;
      EXPECT_TRUE(route_files[path] == bytes) << path << " differs between the route and the CLI";
    }
  }
  EXPECT_EQ(parquet_paths,
            (std::vector<std::string>{"dataset=metrics/date=2024-05-01/part-0.parquet",
                                      "dataset=metrics/date=2024-05-02/part-0.parquet",
                                      "dataset=metrics/date=2024-05-04/part-0.parquet"}));
  EXPECT_TRUE(cli_files.count("dataset=metrics/_timestore_export.json"));
  EXPECT_FALSE(fs::exists(dir_ + "/empty/dataset=metrics/date=2024-05-03"));

  // --- DuckDB over the export.
  const std::string src =
      "read_parquet('" + out_route + "/dataset=metrics/**/*.parquet', hive_partitioning=true)";
  const std::string prom = "read_parquet('" + out_route + "/dataset=prom/**/*.parquet')";
  std::string failure;
  auto answers = AskDuckDb(
      {"SELECT host, count(*), count(value), sum(value), min(value), max(value), count(count), "
       "min(count), max(count), count(ok), count(note) FROM " +
           src + " GROUP BY host ORDER BY host",
       "SELECT host, epoch_us(timestamp), value, count, ok, note FROM " + src +
           " QUALIFY row_number() OVER (PARTITION BY host ORDER BY timestamp DESC) = 1 ORDER BY "
           "host",
       "SELECT epoch_us(timestamp), host, value, count, ok, note, dataset, date::VARCHAR FROM " +
           src + " ORDER BY timestamp",
       "SELECT count(*) FILTER (WHERE isnan(value)), count(*) FILTER (WHERE value = "
       "'inf'::DOUBLE), "
       "count(*) FILTER (WHERE value = '-inf'::DOUBLE), count(*) FILTER (WHERE isfinite(value)), "
       "sum(value) FILTER (WHERE isfinite(value)) FROM " +
           prom,
       "SELECT name, type, converted_type, logical_type FROM parquet_schema('" + out_route +
           "/dataset=metrics/date=2024-05-01/part-0.parquet') ORDER BY name",
       "SELECT DISTINCT path_in_schema, compression, stats_null_count IS NOT NULL, "
       "stats_min_value IS NOT NULL FROM parquet_metadata('" +
           out_route + "/dataset=metrics/**/*.parquet') ORDER BY 1",
       "SELECT DISTINCT compression FROM parquet_metadata('" + out_route +
           "/dataset=prom/**/*.parquet')",
       "SELECT key::VARCHAR FROM parquet_kv_metadata('" + out_route +
           "/dataset=metrics/date=2024-05-01/part-0.parquet') ORDER BY 1"},
      &failure);
  ASSERT_FALSE(answers.empty()) << failure;
  for (const auto& a : answers) ASSERT_TRUE(a.error.empty()) << a.error;

  // Aggregates per series: DuckDB against Timestore's /sql.
  simdjson::dom::parser p;
  simdjson::dom::array sql_rows = p.parse(sql.body).get_object()["rows"].get_array();
  const DuckAnswer& agg = answers[0];
  ASSERT_EQ(agg.rows.size(), 6u);  // six series
  ASSERT_EQ(agg.rows.size(), sql_rows.size());
  size_t i = 0;
  for (simdjson::dom::array tr : sql_rows) {
    const auto& dr = agg.rows[i++];
    size_t k = 0;
    for (simdjson::dom::element v : tr) {
      SCOPED_TRACE("series " + *dr[0] + " column " + std::to_string(k));
      const std::optional<std::string>& d = dr[k++];
      if (v.is_null()) {
        EXPECT_EQ(d, std::nullopt);
      } else if (v.is_string()) {
        EXPECT_EQ(d, std::string(std::string_view(v)));
      } else if (v.is_int64()) {
        EXPECT_EQ(d, std::to_string(int64_t(v)));
      } else if (v.is_uint64()) {
        EXPECT_EQ(d, std::to_string(uint64_t(v)));
      } else {
        ASSERT_TRUE(d.has_value());
        EXPECT_TRUE(Near(std::strtod(d->c_str(), nullptr), double(v))) << *d << " vs " << double(v);
      }
    }
  }

  // Every row, and each series' last row: DuckDB against Timestore's raw /query.
  simdjson::dom::array raw_rows = p.parse(raw.body).get_object()["rows"].get_array();
  const DuckAnswer& all = answers[2];
  ASSERT_EQ(all.rows.size(), raw_rows.size());
  ASSERT_EQ(all.rows.size(), rows.size());
  std::map<std::string, size_t> last_of;  // host -> index of its last row
  i = 0;
  for (simdjson::dom::object tr : raw_rows) {
    const auto& dr = all.rows[i];
    SCOPED_TRACE("row " + std::to_string(i));
    simdjson::dom::element te = tr["timestamp"];
    const int64_t t = te.is_int64() ? int64_t(te) : std::stoll(std::string(std::string_view(te)));
    ASSERT_EQ(t, rows[i].t);
    // DuckDB reads TIMESTAMP(NANOS, UTC) in microseconds (docs/export.md).
    EXPECT_EQ(dr[0], std::to_string(t / 1000));
    EXPECT_EQ(dr[1], std::string(std::string_view(tr["host"])));
    simdjson::dom::element v = tr["value"];
    if (v.is_null()) {
      EXPECT_EQ(dr[2], std::nullopt);
    } else {
      ASSERT_TRUE(dr[2].has_value());
      EXPECT_EQ(std::bit_cast<uint64_t>(std::strtod(dr[2]->c_str(), nullptr)),
                std::bit_cast<uint64_t>(*rows[i].value))
          << *dr[2];
    }
    EXPECT_EQ(dr[3], rows[i].count ? std::optional<std::string>(std::to_string(*rows[i].count))
                                   : std::nullopt);
    EXPECT_EQ(dr[4], rows[i].ok ? std::optional<std::string>(*rows[i].ok ? "true" : "false")
                                : std::nullopt);
    EXPECT_TRUE(dr[5] == rows[i].note);
    EXPECT_EQ(dr[6], "metrics");
    last_of[rows[i].host] = i;
    ++i;
  }
  const DuckAnswer& last = answers[1];
  ASSERT_EQ(last.rows.size(), last_of.size());
  for (const auto& dr : last.rows) {
    const Row& want = rows[last_of.at(*dr[0])];
    EXPECT_EQ(dr[1], std::to_string(want.t / 1000)) << *dr[0];
    EXPECT_EQ(dr[3],
              want.count ? std::optional<std::string>(std::to_string(*want.count)) : std::nullopt);
  }

  // The nanoseconds DuckDB drops, through hyparquet (uncompressed files).
  if (HyparquetAvailable()) {
    std::vector<std::string> files;
    for (const auto& path : parquet_paths) files.push_back(dir_ + "/none/" + path);
    auto hy = AskHyparquet(files, &failure);
    ASSERT_FALSE(hy.empty()) << failure;
    size_t r = 0;
    for (const auto& file : hy) {
      ASSERT_TRUE(file.error.empty()) << file.error;
      for (const auto& row : file.rows) {
        ASSERT_LT(r, rows.size());
        EXPECT_EQ(row[0], std::to_string(rows[r].t)) << "row " << r;
        EXPECT_EQ(row[1], rows[r].host) << "row " << r;
        ++r;
      }
    }
    EXPECT_EQ(r, rows.size());
  } else if (InCi()) {
    ADD_FAILURE() << "hyparquet is missing from tests/node; CI installs it (npm ci)";
  }

  // NaN and ±Infinity survive bit for bit in kind.
  const auto& sp = answers[3].rows[0];
  EXPECT_EQ(sp[0], std::to_string(special["nan"]));
  EXPECT_EQ(sp[1], std::to_string(special["inf"]));
  EXPECT_EQ(sp[2], std::to_string(special["-inf"]));
  EXPECT_EQ(sp[3], std::to_string(special["finite"]));
  EXPECT_TRUE(Near(std::strtod(sp[4]->c_str(), nullptr), finite_sum)) << *sp[4];

  // Metadata: types, logical types, statistics, codecs, key/value metadata.
  std::map<std::string, std::vector<std::optional<std::string>>> schema;
  for (const auto& r : answers[4].rows) schema[*r[0]] = r;
  EXPECT_EQ(schema["timestamp"][1], "INT64");
  EXPECT_NE(schema["timestamp"][3]->find("NanoSeconds"), std::string::npos);
  EXPECT_EQ(schema["value"][1], "DOUBLE");
  EXPECT_EQ(schema["count"][1], "INT64");
  EXPECT_EQ(schema["ok"][1], "BOOLEAN");
  EXPECT_EQ(schema["host"][2], "UTF8");
  for (const auto& r : answers[5].rows) {
    EXPECT_EQ(r[1], "ZSTD") << *r[0];
    EXPECT_EQ(r[2], "true") << *r[0];
  }
  EXPECT_EQ(answers[6].rows.size(), 1u);
  EXPECT_EQ(answers[6].rows[0][0], "SNAPPY");
  std::vector<std::string> keys;
  for (const auto& r : answers[7].rows) keys.push_back(*r[0]);
  EXPECT_EQ(keys, (std::vector<std::string>{"timestore.dataset", "timestore.partition",
                                            "timestore.schema"}));
}

// An export to s3://TARGET/PREFIX of rows that live in object storage
// (tiered segments) and in memory: the objects land under the target's
// prefix and DuckDB reads them.
TEST_F(ParquetExportTest, ToAStorageTargetFromTieredSegments) {
  S3TestServerOptions so;
  so.proxy = false;
  S3TestServer s3(so);
  TIMESTORE_SKIP_WITHOUT(s3.Start(), "s3rver (tests/node)");
  TestServer server(dir_, S3StorageServerEnv(s3));
  ASSERT_TRUE(server.Start()) << server.log_path();
  HttpClient c(server.port());
  ASSERT_EQ(c.Post("/datasets/cpu/ingest", kCpuRowsJson).status, 200);
  ASSERT_EQ(c.Post("/admin/datasets/cpu/flush", "").status, 200);
  ASSERT_EQ(c.Request("PUT", "/admin/datasets/cpu/retention", R"({"coldAfter":"30d"})").status,
            200);
  HttpResult moved = c.Post("/admin/datasets/cpu/enforce-retention", "");
  ASSERT_EQ(moved.status, 200) << moved.body;
  // One more row, in memory only.
  ASSERT_EQ(
      c.Post(
           "/datasets/cpu/ingest",
           R"({"records":[{"timestamp":"2024-05-02T08:00:00Z","hostname":"host_9","usage_user":1.5}]})")
          .status,
      200);
  HttpResult q =
      c.Post("/datasets/cpu/query",
             R"({"timeRange":{"start":"2024-05-01T00:00:00Z","end":"2024-05-03T00:00:00Z"}})");
  ASSERT_NE(q.body.find("\"segmentsRemote\":1"), std::string::npos) << q.body;

  std::string job = ExportByRoute(c, "cpu", R"({"out":"s3://s3/exports","compression":"zstd"})");
  EXPECT_NE(job.find("\"rows\":5"), std::string::npos) << job;
  const std::string day1 =
      s3.ObjectPath(s3.bucket(), "ts/exports/dataset=cpu/date=2024-05-01/part-0.parquet");
  const std::string day2 =
      s3.ObjectPath(s3.bucket(), "ts/exports/dataset=cpu/date=2024-05-02/part-0.parquet");
  ASSERT_TRUE(fs::exists(day1)) << day1;
  ASSERT_TRUE(fs::exists(day2)) << day2;
  EXPECT_TRUE(
      fs::exists(s3.ObjectPath(s3.bucket(), "ts/exports/dataset=cpu/_timestore_export.json")));
  std::string failure;
  auto a = AskDuckDb({"SELECT count(*), sum(usage_user), max(hostname) FROM read_parquet(['" +
                      day1 + "', '" + day2 + "'])"},
                     &failure);
  ASSERT_FALSE(a.empty()) << failure;
  ASSERT_TRUE(a[0].error.empty()) << a[0].error;
  EXPECT_EQ(a[0].rows[0][0], "5");
  EXPECT_EQ(a[0].rows[0][1], "165.25");  // 163.75 + 1.5
  EXPECT_EQ(a[0].rows[0][2], "host_9");
}

}  // namespace
}  // namespace timestore::testing
