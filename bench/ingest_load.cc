// timestore-ingest-bench: whole-server ingest throughput and ack latency with TSBS
// cpu-only rows (bench/README.md).
//
// Every request body is generated and serialised before the timed phase, so the numbers
// measure the server (and loopback), not the generator. N connections, one thread each,
// send the batches over keep-alive HTTP/1.1, each taking the next batch from a shared
// atomic index; a request's ack latency runs from the start of sending it to the end of
// reading its response.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/http/span_body.hpp>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "bench/tsbs/cpu_generator.h"
#include "bench/tsbs/formats.h"

namespace timestore::bench {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr int kMaxErrorsPrinted = 5;
constexpr int kMaxRetries = 120;  // per batch, on 503 / 429 (about two minutes)
constexpr auto kProgressPeriod = std::chrono::milliseconds(500);

double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// "1d", "6h", "30m", "10s", "500ms", "2w"; a bare number is seconds.
std::optional<int64_t> ParseDurationNs(std::string_view s) {
  int64_t n = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || ptr == s.data() || n < 0) return std::nullopt;
  const std::string_view unit(ptr, s.data() + s.size() - ptr);
  int64_t scale;
  if (unit.empty() || unit == "s") {
    scale = tsbs::kNanosPerSecond;
  } else if (unit == "ms") {
    scale = 1'000'000;
  } else if (unit == "m") {
    scale = 60 * tsbs::kNanosPerSecond;
  } else if (unit == "h") {
    scale = 3600 * tsbs::kNanosPerSecond;
  } else if (unit == "d") {
    scale = 86400 * tsbs::kNanosPerSecond;
  } else if (unit == "w") {
    scale = 7 * 86400 * tsbs::kNanosPerSecond;
  } else {
    return std::nullopt;
  }
  if (n > INT64_MAX / scale) return std::nullopt;
  return n * scale;
}

// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// "YYYY-MM-DDTHH:MM:SSZ" (UTC only; this is a benchmark flag, not the server's parser).
std::optional<int64_t> ParseStartNs(std::string_view s) {
  if (s.size() != 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
      s[13] != ':' || s[16] != ':' || (s[19] != 'Z' && s[19] != 'z')) {
    return std::nullopt;
  }
  auto num = [&](size_t pos, size_t len) -> std::optional<int64_t> {
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(s.data() + pos, s.data() + pos + len, v);
    if (ec != std::errc() || ptr != s.data() + pos + len) return std::nullopt;
    return v;
  };
  auto y = num(0, 4), mo = num(5, 2), d = num(8, 2), h = num(11, 2), mi = num(14, 2),
       sec = num(17, 2);
  if (!y || !mo || !d || !h || !mi || !sec || *mo < 1 || *mo > 12 || *d < 1 || *d > 31 || *h > 23 ||
      *mi > 59 || *sec > 59) {
    return std::nullopt;
  }
  const int64_t secs = DaysFromCivil(*y, *mo, *d) * 86400 + *h * 3600 + *mi * 60 + *sec;
  return secs * tsbs::kNanosPerSecond;
}

bool ValidSlug(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '_' && c != '-'))) return false;
  }
  return true;
}

struct Batch {
  std::string body;
  int64_t rows = 0;
};

struct Generated {
  std::vector<Batch> batches;
  int64_t rows = 0;
  int64_t rows_delayed = 0;  // late data: rows given a delay
  uint64_t bytes = 0;
  double seconds = 0;
};

Generated Generate(const tsbs::Options& options, const std::string& format, int64_t batch_rows,
                   bool progress) {
  const bool ndjson = format == "ndjson";
  const bool influx = format == "influx";
  Generated g;
  const auto t0 = Clock::now();
  auto last_progress = t0;
  std::string json_prefix;
  if (!ndjson && !influx) {
    json_prefix = "{\"schema\":";
    tsbs::AppendSchemaJson(&json_prefix);
    json_prefix += ",\"timestampColumn\":\"";
    json_prefix += tsbs::kTimestampName;
    json_prefix += "\",\"records\":[";
  }
  tsbs::CpuGenerator gen(options);
  const int64_t total = gen.total_rows();
  g.batches.reserve(static_cast<size_t>((total + batch_rows - 1) / batch_rows));
  size_t reserve_hint = 0;
  tsbs::Row row;
  while (gen.rows_emitted() < total) {
    Batch& b = g.batches.emplace_back();
    b.body.reserve(reserve_hint);
    if (!ndjson && !influx) b.body.append(json_prefix);
    while (b.rows < batch_rows && gen.Next(&row)) {
      if (influx) {
        tsbs::AppendInfluxLine(row, &b.body);
      } else if (ndjson) {
        tsbs::AppendNdjsonLine(row, &b.body);
      } else {
        if (b.rows > 0) b.body.push_back(',');
        tsbs::AppendJsonRecord(row, &b.body);
      }
      ++b.rows;
    }
    if (!ndjson && !influx) b.body += "]}";
    g.rows += b.rows;
    g.bytes += b.body.size();
    // Later batches are about as large as the first; reserving avoids regrowth copies.
    reserve_hint = std::max(reserve_hint, b.body.size() + b.body.size() / 16);
    if (progress && Clock::now() - last_progress >= kProgressPeriod) {
      last_progress = Clock::now();
      std::fprintf(stderr, "\r\033[Kgenerating: %lld/%lld rows (%.0f%%), %.1f MB",
                   static_cast<long long>(g.rows), static_cast<long long>(total),
                   100.0 * static_cast<double>(g.rows) / static_cast<double>(total),
                   static_cast<double>(g.bytes) / 1e6);
    }
  }
  if (progress) std::fprintf(stderr, "\r\033[K");
  g.rows_delayed = gen.rows_delayed();
  g.seconds = SecondsSince(t0);
  return g;
}

struct Target {
  std::string host;
  std::string port;
  std::string path;  // /datasets/<slug>/ingest?precision=ms
  std::string content_type;
  std::string scopes;
  bool influx = false;  // line protocol: 204 and no body on success
};

// State shared by the connection threads and the progress reporter.
struct Shared {
  const std::vector<Batch>* batches = nullptr;
  std::atomic<size_t> next{0};
  std::atomic<int64_t> rows_ok{0};
  std::atomic<int64_t> bytes_sent{0};
  std::atomic<int64_t> requests_done{0};
  std::atomic<int64_t> failures{0};
  // 503 (back-pressure) and 429 answers retried after their Retry-After, as
  // a well-behaved client does; a batch is a failure after kMaxRetries.
  std::atomic<int64_t> retries{0};
  std::atomic<int> errors_printed{0};
  bool tty = false;

  std::mutex mu;
  std::condition_variable cv;
  int running = 0;  // guarded by mu

  // Prints the first kMaxErrorsPrinted errors, each on its own line.
  void ReportError(const std::string& message) {
    if (errors_printed.fetch_add(1) >= kMaxErrorsPrinted) return;
    std::lock_guard<std::mutex> lock(mu);
    std::fprintf(stderr, "%serror: %s\n", tty ? "\r\033[K" : "", message.c_str());
  }
};

std::optional<int64_t> RowsIngested(std::string_view body) {
  constexpr std::string_view kKey = "\"rowsIngested\"";
  size_t pos = body.find(kKey);
  if (pos == std::string_view::npos) return std::nullopt;
  pos += kKey.size();
  while (pos < body.size() && (body[pos] == ' ' || body[pos] == ':' || body[pos] == '\t' ||
                               body[pos] == '\n' || body[pos] == '\r')) {
    ++pos;
  }
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(body.data() + pos, body.data() + body.size(), v);
  if (ec != std::errc() || ptr == body.data() + pos) return std::nullopt;
  return v;
}

// One keep-alive connection; reconnects after a transport error or "Connection: close".
// Appends each successful request's ack latency (ms) to `latencies_ms`.
void RunConnection(const Target& target, Shared* shared, std::vector<double>* latencies_ms) {
  net::io_context ioc;
  tcp::resolver resolver(ioc);
  tcp::socket socket(ioc);
  beast::flat_buffer buffer;
  bool connected = false;

  http::request<http::span_body<const char>> req{http::verb::post, target.path, 11};
  req.set(http::field::host, target.host + ":" + target.port);
  req.set(http::field::user_agent, "timestore-ingest-bench");
  req.set(http::field::content_type, target.content_type);
  if (!target.scopes.empty()) req.set("x-iam-scopes", target.scopes);
  req.keep_alive(true);

  const std::vector<Batch>& batches = *shared->batches;
  for (;;) {
    const size_t i = shared->next.fetch_add(1);
    if (i >= batches.size()) break;
    const Batch& batch = batches[i];
    beast::error_code ec;
    if (!connected) {
      auto endpoints = resolver.resolve(target.host, target.port, ec);
      if (!ec) net::connect(socket, endpoints, ec);
      if (!ec) socket.set_option(tcp::no_delay(true), ec);
      if (ec) {
        beast::error_code ignored;
        socket.close(ignored);
        shared->failures.fetch_add(1);
        shared->requests_done.fetch_add(1);
        shared->ReportError("connect to " + target.host + ":" + target.port + ": " + ec.message());
        continue;
      }
      connected = true;
      buffer.clear();
    }

    req.body() = {batch.body.data(), batch.body.size()};
    req.prepare_payload();
    http::response<http::string_body> res;
    auto t0 = Clock::now();
    http::write(socket, req, ec);
    if (!ec) http::read(socket, buffer, res, ec);
    // Back-pressure: wait as the server asks (at most 1 s) and send the
    // batch again; the latency recorded is the accepted attempt's.
    for (int attempt = 0; !ec && attempt < kMaxRetries &&
                          (res.result() == http::status::service_unavailable ||
                           res.result() == http::status::too_many_requests);
         ++attempt) {
      shared->retries.fetch_add(1);
      int wait_ms = 100;
      if (auto it = res.find(http::field::retry_after); it != res.end()) {
        int secs = 0;
        std::from_chars(it->value().data(), it->value().data() + it->value().size(), secs);
        wait_ms = std::clamp(secs * 1000, 100, 1000);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
      if (!res.keep_alive()) break;  // reconnect below as for any closed connection
      res = {};
      t0 = Clock::now();
      http::write(socket, req, ec);
      if (!ec) http::read(socket, buffer, res, ec);
    }
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    shared->requests_done.fetch_add(1);
    if (ec) {
      beast::error_code ignored;
      socket.close(ignored);
      connected = false;
      shared->failures.fetch_add(1);
      shared->ReportError("request " + std::to_string(i) + ": " + ec.message());
      continue;
    }
    if (!res.keep_alive()) {
      beast::error_code ignored;
      socket.close(ignored);
      connected = false;
    }
    if (res.result() != (target.influx ? http::status::no_content : http::status::ok)) {
      shared->failures.fetch_add(1);
      shared->ReportError("request " + std::to_string(i) + ": HTTP " +
                          std::to_string(res.result_int()) + ": " + res.body());
      continue;
    }
    const std::optional<int64_t> rows =
        target.influx ? std::optional<int64_t>(batch.rows) : RowsIngested(res.body());  // 204
    if (!rows || *rows != batch.rows) {
      shared->failures.fetch_add(1);
      shared->ReportError("request " + std::to_string(i) + ": sent " + std::to_string(batch.rows) +
                          " rows, response: " + res.body());
      continue;
    }
    latencies_ms->push_back(ms);
    shared->rows_ok.fetch_add(batch.rows);
    shared->bytes_sent.fetch_add(static_cast<int64_t>(batch.body.size()));
  }
  beast::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

// "none", or e.g. "12960 (5.00%), delayed by up to 7200 s".
std::string LateSummary(const tsbs::Options& options, const Generated& g) {
  if (options.late_fraction <= 0) return "none";
  char buf[128];
  std::snprintf(
      buf, sizeof(buf), "%lld (%.2f%%), delayed by up to %.0f s",
      static_cast<long long>(g.rows_delayed),
      g.rows ? 100.0 * static_cast<double>(g.rows_delayed) / static_cast<double>(g.rows) : 0.0,
      static_cast<double>(options.late_max_ns) / 1e9);
  return buf;
}

// The late-data keys of the JSON line (without braces).
std::string LateJson(const tsbs::Options& options, const Generated& g) {
  char buf[128];
  std::snprintf(buf, sizeof(buf), "\"late_fraction\":%g,\"late_max_s\":%.3f,\"late_rows\":%lld",
                options.late_fraction, static_cast<double>(options.late_max_ns) / 1e9,
                static_cast<long long>(g.rows_delayed));
  return buf;
}

// Nearest-rank percentile of sorted `v`; 0 when empty.
double Percentile(const std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size())));
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

int Main(int argc, char** argv) {
  CLI::App app{"Timestore ingest benchmark: TSBS cpu-only rows over HTTP (bench/README.md)",
               "timestore-ingest-bench"};
  int64_t hosts = 100;
  std::string duration = "1d";
  std::string interval = "10s";
  std::string start = "2016-01-01T00:00:00Z";
  uint64_t seed = 123;
  bool float_values = false;
  double late_fraction = 0;
  std::string late_max = "0";
  int64_t batch_rows = 10000;
  std::string format = "ndjson";
  int connections = 4;
  std::string host = "127.0.0.1";
  int port = 4100;
  std::string dataset = "cpu";
  std::string scopes;
  bool dry_run = false;
  app.add_option("--hosts", hosts, "Number of hosts (TSBS scale)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--duration", duration, "Time span of the data: 1d, 6h, 30m, 90s ...")
      ->capture_default_str();
  app.add_option("--interval", interval, "Time between a host's rows")->capture_default_str();
  app.add_option("--start", start, "First timestamp, RFC 3339 UTC (YYYY-MM-DDTHH:MM:SSZ)")
      ->capture_default_str();
  app.add_option("--seed", seed, "Generator seed")->capture_default_str();
  app.add_flag("--float-values", float_values,
               "Full-precision double values instead of TSBS's truncated integers");
  app.add_option("--late-fraction", late_fraction,
                 "Fraction of rows delayed (late data): each is sent where data time has "
                 "reached its timestamp + a uniform delay in (0, --late-max]")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--late-max", late_max, "Largest delay of a late row: 2h, 30m ...")
      ->capture_default_str();
  app.add_option("--batch-rows", batch_rows, "Rows per request")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--format", format, "Request body format")
      ->capture_default_str()
      ->check(CLI::IsMember({"ndjson", "json", "influx"}));
  app.add_option("--connections", connections, "Concurrent keep-alive connections")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  app.add_option("--host", host, "Server address")->capture_default_str();
  app.add_option("--port", port, "Server port")->capture_default_str()->check(CLI::Range(1, 65535));
  app.add_option("--dataset", dataset, "Dataset slug to ingest into")->capture_default_str();
  app.add_option("--scopes", scopes, "x-iam-scopes header value (when ingest needs a scope)");
  app.add_flag("--dry-run", dry_run, "Only generate and serialise the bodies; no server needed");
  CLI11_PARSE(app, argc, argv);

  tsbs::Options options;
  options.hosts = hosts;
  options.seed = seed;
  options.integer_values = !float_values;
  auto duration_ns = ParseDurationNs(duration);
  auto interval_ns = ParseDurationNs(interval);
  auto start_ns = ParseStartNs(start);
  auto late_max_ns = ParseDurationNs(late_max);
  if (!duration_ns || !interval_ns || !start_ns || !late_max_ns) {
    std::fprintf(stderr, "error: bad %s\n",
                 !duration_ns   ? "--duration (e.g. 1d, 6h, 30m, 90s)"
                 : !interval_ns ? "--interval (e.g. 10s)"
                 : !start_ns    ? "--start (e.g. 2016-01-01T00:00:00Z)"
                                : "--late-max (e.g. 2h, 30m)");
    return 2;
  }
  options.duration_ns = *duration_ns;
  options.interval_ns = *interval_ns;
  options.start_ns = *start_ns;
  options.late_fraction = late_fraction;
  options.late_max_ns = *late_max_ns;
  if (late_fraction > 0 && *late_max_ns == 0) {
    std::fprintf(stderr, "error: --late-fraction needs --late-max (e.g. --late-max 2h)\n");
    return 2;
  }
  if (std::string err = tsbs::ValidateOptions(options); !err.empty()) {
    std::fprintf(stderr, "error: %s\n", err.c_str());
    return 2;
  }
  if (!ValidSlug(dataset)) {
    std::fprintf(stderr, "error: --dataset must match [a-z0-9][a-z0-9_-]{0,63}\n");
    return 2;
  }

  const bool ndjson = format == "ndjson";
  const bool tty = isatty(STDERR_FILENO) != 0;
  Generated g = Generate(options, format, batch_rows, tty);
  const double mb = static_cast<double>(g.bytes) / 1e6;

  if (dry_run) {
    std::printf("timestore-ingest-bench --dry-run (no server contacted)\n");
    std::printf("  %-18s %s\n", "format", format.c_str());
    std::printf("  %-18s %lld\n", "hosts", static_cast<long long>(hosts));
    std::printf("  %-18s %lld\n", "rows", static_cast<long long>(g.rows));
    std::printf("  %-18s %lld\n", "values", static_cast<long long>(g.rows * tsbs::kNumFields));
    std::printf("  %-18s %s\n", "late rows", LateSummary(options, g).c_str());
    std::printf("  %-18s %zu x <= %lld rows\n", "requests", g.batches.size(),
                static_cast<long long>(batch_rows));
    std::printf("  %-18s %llu (%.1f MB, %.1f bytes/row)\n", "body bytes",
                static_cast<unsigned long long>(g.bytes), mb,
                g.rows ? static_cast<double>(g.bytes) / static_cast<double>(g.rows) : 0.0);
    std::printf("  %-18s %.3f s (%.0f rows/s, %.1f MB/s)\n", "generation", g.seconds,
                static_cast<double>(g.rows) / g.seconds, mb / g.seconds);
    std::printf(
        "{\"bench\":\"ingest\",\"dry_run\":true,\"format\":\"%s\",\"hosts\":%lld,\"rows\":%lld,"
        "\"values\":%lld,\"batch_rows\":%lld,\"requests\":%zu,\"bytes\":%llu,"
        "\"gen_seconds\":%.3f,%s}\n",
        format.c_str(), static_cast<long long>(hosts), static_cast<long long>(g.rows),
        static_cast<long long>(g.rows * tsbs::kNumFields), static_cast<long long>(batch_rows),
        g.batches.size(), static_cast<unsigned long long>(g.bytes), g.seconds,
        LateJson(options, g).c_str());
    return 0;
  }

  Target target;
  target.host = host;
  target.port = std::to_string(port);
  // Line protocol goes to POST /write?db=<dataset>: the rows land in dataset
  // "<dataset>_cpu".
  target.path =
      format == "influx" ? "/write?db=" + dataset : "/datasets/" + dataset + "/ingest?precision=ms";
  target.content_type = format == "influx" ? "text/plain; charset=utf-8"
                        : ndjson           ? "application/x-ndjson"
                                           : "application/json";
  target.influx = format == "influx";
  target.scopes = scopes;

  Shared shared;
  shared.batches = &g.batches;
  shared.tty = tty;
  shared.running = connections;
  std::vector<std::vector<double>> latencies(static_cast<size_t>(connections));
  for (auto& l : latencies) l.reserve(g.batches.size());

  const auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&, c] {
      RunConnection(target, &shared, &latencies[static_cast<size_t>(c)]);
      std::lock_guard<std::mutex> lock(shared.mu);
      --shared.running;
      shared.cv.notify_all();
    });
  }
  {
    std::unique_lock<std::mutex> lock(shared.mu);
    while (!shared.cv.wait_for(lock, kProgressPeriod, [&] { return shared.running == 0; })) {
      if (!tty) continue;
      const double s = SecondsSince(t0);
      const int64_t rows = shared.rows_ok.load();
      std::fprintf(stderr,
                   "\r\033[Kingest: %lld/%zu requests, %lld rows, %.0f rows/s, %lld failures",
                   static_cast<long long>(shared.requests_done.load()), g.batches.size(),
                   static_cast<long long>(rows), static_cast<double>(rows) / s,
                   static_cast<long long>(shared.failures.load()));
    }
    if (tty) std::fprintf(stderr, "\r\033[K");
  }
  for (auto& t : threads) t.join();
  const double seconds = SecondsSince(t0);

  std::vector<double> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  const int64_t rows = shared.rows_ok.load();
  const int64_t failures = shared.failures.load();
  const double rows_per_sec = static_cast<double>(rows) / seconds;
  const double values_per_sec = rows_per_sec * tsbs::kNumFields;
  const double mb_per_sec = static_cast<double>(shared.bytes_sent.load()) / 1e6 / seconds;
  const double p50 = Percentile(all, 0.50), p99 = Percentile(all, 0.99);
  const double max = all.empty() ? 0 : all.back();

  std::printf("timestore-ingest-bench: %s:%d /datasets/%s, format %s\n", host.c_str(), port,
              dataset.c_str(), format.c_str());
  std::printf("  %-18s %lld hosts, %lld rows generated in %.3f s (%.1f MB)\n", "data",
              static_cast<long long>(hosts), static_cast<long long>(g.rows), g.seconds, mb);
  std::printf("  %-18s %s\n", "late rows", LateSummary(options, g).c_str());
  std::printf("  %-18s %zu x <= %lld rows over %d connections\n", "requests", g.batches.size(),
              static_cast<long long>(batch_rows), connections);
  std::printf("  %-18s %lld rows, %lld values\n", "acknowledged", static_cast<long long>(rows),
              static_cast<long long>(rows * tsbs::kNumFields));
  std::printf("  %-18s %.3f s\n", "elapsed", seconds);
  std::printf("  %-18s %.0f\n", "rows/s", rows_per_sec);
  std::printf("  %-18s %.0f\n", "values/s", values_per_sec);
  std::printf("  %-18s %.1f\n", "MB/s (bodies)", mb_per_sec);
  std::printf("  %-18s %.2f / %.2f / %.2f\n", "ack ms p50/p99/max", p50, p99, max);
  std::printf("  %-18s %lld\n", "failures", static_cast<long long>(failures));
  std::printf("  %-18s %lld\n", "503/429 retries", static_cast<long long>(shared.retries.load()));
  std::printf(
      "{\"bench\":\"ingest\",\"format\":\"%s\",\"hosts\":%lld,\"rows\":%lld,\"values\":%lld,"
      "\"connections\":%d,\"batch_rows\":%lld,\"seconds\":%.3f,\"rows_per_sec\":%.0f,"
      "\"values_per_sec\":%.0f,\"mb_per_sec\":%.2f,\"ack_p50_ms\":%.3f,\"ack_p99_ms\":%.3f,"
      "\"ack_max_ms\":%.3f,\"failures\":%lld,\"retries\":%lld,\"requests\":%zu,"
      "\"bytes\":%llu,"
      "\"gen_seconds\":%.3f,%s}\n",
      format.c_str(), static_cast<long long>(hosts), static_cast<long long>(rows),
      static_cast<long long>(rows * tsbs::kNumFields), connections,
      static_cast<long long>(batch_rows), seconds, rows_per_sec, values_per_sec, mb_per_sec, p50,
      p99, max, static_cast<long long>(failures), static_cast<long long>(shared.retries.load()),
      g.batches.size(), static_cast<unsigned long long>(g.bytes), g.seconds,
      LateJson(options, g).c_str());
  std::fflush(stdout);
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace timestore::bench

int main(int argc, char** argv) { return timestore::bench::Main(argc, argv); }
