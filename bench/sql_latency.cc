// SQL over the PostgreSQL wire protocol next to the JSON query API, on the
// same TSBS queries against the same running server: build/timestore-sql-bench.
//
//   timestore-sql-bench --http-port 4100 --pg-port 5432 --dataset cpu \
//       --hosts 100 --duration 1d --seed 123 --per-type 20 --rounds 5
//
// The data must be loaded already (timestore-tsbs run --load-only ...) with the
// same --hosts/--duration/--seed. Each query instance runs as JSON (HTTP,
// keep-alive) and as SQL (libpq, one connection, the extended protocol's
// unnamed statement as psycopg and JDBC use it) alternately, `rounds` times;
// per type it prints both medians and p99s and the median difference, and
// checks that both answers have the same number of rows.
#include <libpq-fe.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "bench/tsbs/cpu_generator.h"
#include "bench/tsbs/queries.h"
#include "bench/tsbs/timestore_client.h"
#include "simdjson.h"

namespace timestore::bench::tsbs {
namespace {

std::string Rfc3339(int64_t ns) {
  // Whole seconds are all the generator produces.
  time_t s = static_cast<time_t>(ns / 1'000'000'000);
  struct tm tm;
  gmtime_r(&s, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string Bucket(int64_t ns) {
  if (ns == 60'000'000'000) return "1 minute";
  if (ns == 3'600'000'000'000) return "1 hour";
  return std::to_string(ns / 1'000'000'000) + " seconds";
}

std::string HostList(const Query& q) {
  std::string s;
  for (size_t i = 0; i < q.hosts.size(); ++i) s += (i ? ", '" : "'") + q.hosts[i] + "'";
  return s;
}

// The TSBS query as SQL, asking what TimestoreQueryBody asks of the JSON API.
std::string ToSql(const Query& q, const std::string& table) {
  const std::string range =
      "timestamp >= '" + Rfc3339(q.start_ns) + "' AND timestamp < '" + Rfc3339(q.end_ns) + "'";
  std::string hosts = q.hosts.empty() ? "" : " AND hostname IN (" + HostList(q) + ")";
  std::string sql;
  switch (q.kind) {
    case QueryKind::kGroupBy: {
      sql = "SELECT time_bucket('" + Bucket(q.bucket_ns) + "', timestamp) AS t";
      if (q.group_by_host) sql += ", hostname";
      for (const std::string& f : q.fields) {
        sql += std::string(", ") + (q.agg == Agg::kAvg ? "avg(" : "max(") + f + ") AS " + f;
      }
      sql += " FROM " + table + " WHERE " + range + hosts + " GROUP BY 1";
      if (q.group_by_host) sql += ", 2";
      sql += " ORDER BY 1";
      if (q.group_by_host) sql += ", 2";
      return sql;
    }
    case QueryKind::kHighCpu: {
      sql = "SELECT timestamp, hostname";
      for (const std::string& f : q.fields) sql += ", " + f;
      sql += " FROM " + table + " WHERE " + range + hosts + " AND usage_user > " +
             std::to_string(q.threshold.value_or(90));
      return sql;
    }
    case QueryKind::kLastpoint: {
      sql = "SELECT hostname, max(timestamp) AS last_time";
      for (const std::string& f : q.fields) sql += ", last(" + f + ", timestamp) AS " + f;
      sql += " FROM " + table + " GROUP BY hostname";
      return sql;
    }
    case QueryKind::kGroupByOrderByLimit:
      return "SELECT time_bucket('1 minute', timestamp) AS t, max(usage_user) FROM " + table +
             " WHERE timestamp < '" + Rfc3339(q.end_ns) + "' GROUP BY 1 ORDER BY 1 DESC LIMIT " +
             std::to_string(q.limit.value_or(5));
  }
  return sql;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

int Main(int argc, char** argv) {
  CLI::App app{"SQL over pgwire next to the JSON query API, on TSBS queries"};
  std::string host = "127.0.0.1", dataset = "cpu", duration = "1d", user = "bench", password;
  int http_port = 4100, pg_port = 5432, per_type = 20, rounds = 5;
  int64_t hosts = 100;
  uint64_t seed = 123;
  app.add_option("--host", host)->capture_default_str();
  app.add_option("--http-port", http_port)->capture_default_str();
  app.add_option("--pg-port", pg_port)->capture_default_str();
  app.add_option("--user", user)->capture_default_str();
  app.add_option("--password", password);
  app.add_option("--dataset", dataset)->capture_default_str();
  app.add_option("--hosts", hosts)->capture_default_str();
  app.add_option("--duration", duration)->capture_default_str();
  app.add_option("--seed", seed)->capture_default_str();
  app.add_option("--per-type", per_type, "Query instances per type")->capture_default_str();
  app.add_option("--rounds", rounds, "Times each instance runs per front end")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  QueryDataSpec spec;
  spec.hosts = hosts;
  spec.start_ns = Options{}.start_ns;
  spec.duration_ns = ParseDurationNs(duration).value_or(86400'000'000'000);
  if (std::string e = ValidateQueryDataSpec(spec); !e.empty()) {
    std::fprintf(stderr, "error: %s\n", e.c_str());
    return 2;
  }
  std::string conninfo = "host=" + host + " port=" + std::to_string(pg_port) + " user=" + user +
                         " dbname=timestore sslmode=disable";
  if (!password.empty()) conninfo += " password=" + password;
  PGconn* pg = PQconnectdb(conninfo.c_str());
  if (PQstatus(pg) != CONNECTION_OK) {
    std::fprintf(stderr, "error: pgwire connect: %s\n", PQerrorMessage(pg));
    return 1;
  }
  HttpConnection http(host, http_port);
  const std::string target = "/datasets/" + dataset + "/query?precision=ns";
  simdjson::dom::parser parser;

  std::printf("%-24s %10s %10s %10s %10s %10s\n", "type", "json p50", "sql p50", "json p99",
              "sql p99", "sql-json");
  std::vector<double> all_json, all_sql;
  int mismatches = 0;
  for (const std::string& type : AllQueryTypes()) {
    std::vector<Query> qs = GenerateQueries(spec, type, per_type, seed);
    std::vector<double> tj, ts, diffs;
    for (const Query& q : qs) {
      const std::string body = TimestoreQueryBody(q);
      const std::string sql = ToSql(q, dataset);
      for (int r = 0; r < rounds; ++r) {
        auto t0 = std::chrono::steady_clock::now();
        HttpResponse resp = http.Request("POST", target, body);
        auto t1 = std::chrono::steady_clock::now();
        PGresult* res = PQexecParams(pg, sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0);
        auto t2 = std::chrono::steady_clock::now();
        double j = std::chrono::duration<double, std::milli>(t1 - t0).count();
        double s = std::chrono::duration<double, std::milli>(t2 - t1).count();
        tj.push_back(j);
        ts.push_back(s);
        diffs.push_back(s - j);
        if (r == 0) {
          simdjson::dom::element doc;
          simdjson::dom::array rows;
          size_t json_rows = 0;
          if (resp.status == 200 && !parser.parse(resp.body).get(doc) && !doc["rows"].get(rows)) {
            json_rows = rows.size();
          }
          if (PQresultStatus(res) != PGRES_TUPLES_OK ||
              static_cast<size_t>(PQntuples(res)) != json_rows) {
            if (mismatches++ < 5) {
              std::fprintf(stderr, "mismatch on %s: json %d rows %zu, sql %s rows %d\n  %s\n",
                           type.c_str(), resp.status, json_rows, PQresStatus(PQresultStatus(res)),
                           PQntuples(res), PQerrorMessage(pg));
              std::fprintf(stderr, "  %s\n", sql.c_str());
            }
          }
        }
        PQclear(res);
      }
    }
    all_json.insert(all_json.end(), tj.begin(), tj.end());
    all_sql.insert(all_sql.end(), ts.begin(), ts.end());
    std::printf("%-24s %10.3f %10.3f %10.3f %10.3f %+10.3f\n", type.c_str(), Percentile(tj, 0.5),
                Percentile(ts, 0.5), Percentile(tj, 0.99), Percentile(ts, 0.99),
                Percentile(diffs, 0.5));
  }
  std::printf("%-24s %10.3f %10.3f %10.3f %10.3f\n", "all", Percentile(all_json, 0.5),
              Percentile(all_sql, 0.5), Percentile(all_json, 0.99), Percentile(all_sql, 0.99));
  std::printf("row-count mismatches: %d\n", mismatches);
  PQfinish(pg);
  return mismatches == 0 ? 0 : 1;
}

}  // namespace
}  // namespace timestore::bench::tsbs

int main(int argc, char** argv) { return timestore::bench::tsbs::Main(argc, argv); }
