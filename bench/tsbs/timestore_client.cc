#include "bench/tsbs/timestore_client.h"

#include <simdjson.h>
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
#include <condition_variable>
#include <cstdio>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>

#include "bench/tsbs/formats.h"

namespace timestore::bench::tsbs {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr auto kProgressPeriod = std::chrono::milliseconds(500);
constexpr int64_t kQueryLimit = 1'000'000;  // the server's default TIMESTORE_QUERY_MAX_LIMIT
constexpr std::string_view kLastTimeAlias = "last_time";

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') out->push_back('\\');
    out->push_back(c);
  }
  out->push_back('"');
}

void AppendNumber(auto v, std::string* out) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, r.ptr);
}

void AppendAggregation(std::string_view fn, std::string_view column, std::string_view alias,
                       std::string* out) {
  *out += "{\"fn\":";
  AppendJsonString(fn, out);
  *out += ",\"column\":";
  AppendJsonString(column, out);
  *out += ",\"alias\":";
  AppendJsonString(alias, out);
  out->push_back('}');
}

std::optional<double> NumberOrNull(simdjson::dom::element e) {
  if (e.is_null()) return std::nullopt;
  if (e.is_double()) return e.get_double().value_unsafe();
  if (e.is_int64()) return static_cast<double>(e.get_int64().value_unsafe());
  if (e.is_uint64()) return static_cast<double>(e.get_uint64().value_unsafe());
  return std::nullopt;
}

double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::optional<int64_t> RowsIngested(std::string_view body) {
  constexpr std::string_view kKey = "\"rowsIngested\":";
  size_t pos = body.find(kKey);
  if (pos == std::string_view::npos) return std::nullopt;
  pos += kKey.size();
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(body.data() + pos, body.data() + body.size(), v);
  if (ec != std::errc() || ptr == body.data() + pos) return std::nullopt;
  return v;
}

}  // namespace

struct HttpConnection::Impl {
  std::string host;
  std::string port;
  std::string scopes;
  net::io_context ioc;
  tcp::resolver resolver{ioc};
  tcp::socket socket{ioc};
  beast::flat_buffer buffer;
  bool connected = false;

  void Close() {
    beast::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
    connected = false;
    buffer.clear();
  }
};

HttpConnection::HttpConnection(std::string host, int port, std::string scopes)
    : impl_(std::make_unique<Impl>()) {
  impl_->host = std::move(host);
  impl_->port = std::to_string(port);
  impl_->scopes = std::move(scopes);
}

HttpConnection::~HttpConnection() { impl_->Close(); }

HttpResponse HttpConnection::Request(std::string_view method, const std::string& target,
                                     std::string_view body, std::string_view content_type) {
  Impl& c = *impl_;
  HttpResponse out;
  // A keep-alive connection the server closed fails on first use: retry once.
  for (int attempt = 0; attempt < 2; ++attempt) {
    beast::error_code ec;
    const bool fresh = !c.connected;
    if (!c.connected) {
      auto endpoints = c.resolver.resolve(c.host, c.port, ec);
      if (!ec) net::connect(c.socket, endpoints, ec);
      if (!ec) c.socket.set_option(tcp::no_delay(true), ec);
      if (ec) {
        c.Close();
        out.body = "connect to " + c.host + ":" + c.port + ": " + ec.message();
        return out;
      }
      c.connected = true;
    }
    http::request<http::span_body<const char>> req{
        http::string_to_verb(beast::string_view(method.data(), method.size())), target, 11};
    req.set(http::field::host, c.host + ":" + c.port);
    req.set(http::field::user_agent, "timestore-tsbs");
    req.set(http::field::content_type,
            beast::string_view(content_type.data(), content_type.size()));
    if (!c.scopes.empty()) req.set("x-iam-scopes", c.scopes);
    req.keep_alive(true);
    req.body() = {body.data(), body.size()};
    req.prepare_payload();
    http::response_parser<http::string_body> parser;
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    http::write(c.socket, req, ec);
    if (!ec) http::read(c.socket, c.buffer, parser, ec);
    if (ec) {
      c.Close();
      out.body = std::string(method) + " " + target + ": " + ec.message();
      if (!fresh) continue;
      return out;
    }
    auto res = parser.release();
    if (!res.keep_alive()) c.Close();
    out.status = static_cast<int>(res.result_int());
    out.body = std::move(res.body());
    return out;
  }
  return out;
}

std::string TimestoreQueryBody(const Query& q) {
  std::string out = "{\"timeRange\":{\"start\":";
  AppendNumber(q.start_ns, &out);
  out += ",\"end\":";
  AppendNumber(q.end_ns, &out);
  out += "}";
  std::vector<std::string> filters;
  if (q.hosts.size() == 1) {
    std::string f = "{\"column\":\"hostname\",\"op\":\"eq\",\"value\":";
    AppendJsonString(q.hosts[0], &f);
    filters.push_back(f + "}");
  } else if (!q.hosts.empty()) {
    std::string f = "{\"column\":\"hostname\",\"op\":\"in\",\"value\":[";
    for (size_t i = 0; i < q.hosts.size(); ++i) {
      if (i) f.push_back(',');
      AppendJsonString(q.hosts[i], &f);
    }
    filters.push_back(f + "]}");
  }
  if (q.threshold) {
    std::string f = "{\"column\":\"usage_user\",\"op\":\"gt\",\"value\":";
    AppendNumber(*q.threshold, &f);
    filters.push_back(f + "}");
  }
  if (!filters.empty()) {
    out += ",\"filters\":[";
    for (size_t i = 0; i < filters.size(); ++i) {
      if (i) out.push_back(',');
      out += filters[i];
    }
    out += "]";
  }
  switch (q.kind) {
    case QueryKind::kHighCpu:
      out += ",\"columns\":[\"hostname\"";
      for (const std::string& f : q.fields) {
        out.push_back(',');
        AppendJsonString(f, &out);
      }
      out += "]";
      break;
    case QueryKind::kLastpoint:
      out += ",\"downsample\":{\"groupBy\":[\"hostname\"],\"aggregations\":[";
      AppendAggregation("max", kTimestampName, kLastTimeAlias, &out);
      for (const std::string& f : q.fields) {
        out.push_back(',');
        AppendAggregation("last", f, f, &out);
      }
      out += "]}";
      break;
    case QueryKind::kGroupBy:
    case QueryKind::kGroupByOrderByLimit: {
      out += ",\"downsample\":{\"intervalUnit\":";
      out += q.bucket_ns == 60 * kNanosPerSecond ? "\"minute\"" : "\"hour\"";
      if (q.group_by_host) out += ",\"groupBy\":[\"hostname\"]";
      out += ",\"aggregations\":[";
      const std::string_view fn = q.agg == Agg::kAvg ? "avg" : "max";
      for (size_t i = 0; i < q.fields.size(); ++i) {
        if (i) out.push_back(',');
        AppendAggregation(fn, q.fields[i], q.fields[i], &out);
      }
      out += "]}";
      break;
    }
  }
  if (q.limit) {
    out += ",\"order\":\"desc\",\"limit\":";
    AppendNumber(*q.limit, &out);
  } else {
    out += ",\"limit\":";
    AppendNumber(kQueryLimit, &out);
  }
  out += ",\"timestampFormat\":\"epoch_ns\"}";
  return out;
}

bool ParseTimestoreRows(const Query& q, std::string_view body, std::vector<ResultRow>* rows,
                        std::string* error) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto err = parser.parse(body.data(), body.size()).get(root)) {
    *error = std::string("malformed JSON answer: ") + simdjson::error_message(err);
    return false;
  }
  simdjson::dom::array array;
  if (root["rows"].get(array)) {
    *error = "the answer has no \"rows\" array";
    return false;
  }
  const std::string_view time_key =
      q.kind == QueryKind::kLastpoint ? kLastTimeAlias : kTimestampName;
  rows->clear();
  for (simdjson::dom::element e : array) {
    simdjson::dom::object o;
    if (e.get(o)) {
      *error = "a row is not an object";
      return false;
    }
    ResultRow r;
    int64_t t = 0;
    if (o[time_key].get(t)) {
      *error = "a row has no integer \"" + std::string(time_key) + "\"";
      return false;
    }
    r.t_s = FloorSeconds(t);
    if (q.group_by_host) {
      std::string_view host;
      if (o["hostname"].get(host)) {
        *error = "a row has no string \"hostname\"";
        return false;
      }
      r.group = std::string(host);
    }
    for (const std::string& f : q.fields) {
      simdjson::dom::element v;
      if (o[f].get(v)) {
        *error = "a row has no \"" + f + "\"";
        return false;
      }
      r.values.push_back(NumberOrNull(v));
    }
    rows->push_back(std::move(r));
  }
  return true;
}

namespace {

struct Batch {
  std::string body;
  int64_t rows = 0;
};

struct LoadShared {
  const std::vector<Batch>* batches = nullptr;
  std::atomic<size_t> next{0};
  std::atomic<int64_t> rows_ok{0};
  std::atomic<int64_t> requests_done{0};
  std::atomic<int64_t> failures{0};
  std::atomic<int64_t> retries{0};
  std::mutex mu;
  std::condition_variable cv;
  int running = 0;          // guarded by mu
  std::string first_error;  // guarded by mu

  void Fail(std::string message) {
    failures.fetch_add(1);
    std::lock_guard<std::mutex> lock(mu);
    if (first_error.empty()) first_error = std::move(message);
  }
};

}  // namespace

LoadResult LoadTimestore(const Options& options, const LoadOptions& load) {
  LoadResult result;
  const auto g0 = Clock::now();
  std::vector<Batch> batches;
  const bool influx = load.format == "influx";
  {
    CpuGenerator gen(options);
    const int64_t total = gen.total_rows();
    batches.reserve(static_cast<size_t>((total + load.batch_rows - 1) / load.batch_rows));
    size_t reserve_hint = 0;
    auto last_progress = g0;
    Row row;
    int64_t done = 0;
    while (gen.rows_emitted() < total) {
      Batch& b = batches.emplace_back();
      b.body.reserve(reserve_hint);
      while (b.rows < load.batch_rows && gen.Next(&row)) {
        if (influx) {
          AppendInfluxLine(row, &b.body);
        } else {
          AppendNdjsonLine(row, &b.body);
        }
        ++b.rows;
      }
      done += b.rows;
      result.bytes += b.body.size();
      reserve_hint = std::max(reserve_hint, b.body.size() + b.body.size() / 16);
      if (load.progress && Clock::now() - last_progress >= kProgressPeriod) {
        last_progress = Clock::now();
        std::fprintf(stderr, "\r\033[Kgenerating: %lld/%lld rows (%.0f%%)",
                     static_cast<long long>(done), static_cast<long long>(total),
                     100.0 * static_cast<double>(done) / static_cast<double>(total));
      }
    }
    if (load.progress) std::fprintf(stderr, "\r\033[K");
  }
  result.gen_seconds = SecondsSince(g0);
  result.requests = static_cast<int64_t>(batches.size());

  LoadShared shared;
  shared.batches = &batches;
  shared.running = load.connections;
  // Line protocol names the database; the dataset is "<db>_cpu".
  const std::string target = influx
                                 ? "/write?db=" + load.dataset.substr(0, load.dataset.rfind("_cpu"))
                                 : "/datasets/" + load.dataset + "/ingest?precision=ms";
  const char* content_type = influx ? "text/plain; charset=utf-8" : "application/x-ndjson";
  const int ok_status = influx ? 204 : 200;
  const auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < load.connections; ++c) {
    threads.emplace_back([&] {
      HttpConnection conn(load.host, load.port, load.scopes);
      for (;;) {
        const size_t i = shared.next.fetch_add(1);
        if (i >= batches.size()) break;
        const Batch& b = batches[i];
        HttpResponse res = conn.Request("POST", target, b.body, content_type);
        // Back-pressure: wait for sealing to catch up, then send the batch again.
        auto pause = std::chrono::milliseconds(20);
        const auto give_up = Clock::now() + std::chrono::minutes(1);
        while (res.status == 503 && Clock::now() < give_up) {
          shared.retries.fetch_add(1);
          std::this_thread::sleep_for(pause);
          pause = std::min(pause * 2, std::chrono::milliseconds(500));
          res = conn.Request("POST", target, b.body, content_type);
        }
        shared.requests_done.fetch_add(1);
        if (res.status != ok_status) {
          shared.Fail("request " + std::to_string(i) + ": " +
                      (res.status ? "HTTP " + std::to_string(res.status) + ": " : "") +
                      res.body.substr(0, 500));
          continue;
        }
        const std::optional<int64_t> n = influx ? std::optional<int64_t>(b.rows)  // 204
                                                : RowsIngested(res.body);
        if (!n || *n != b.rows) {
          shared.Fail("request " + std::to_string(i) + ": sent " + std::to_string(b.rows) +
                      " rows, answer: " + res.body.substr(0, 500));
          continue;
        }
        shared.rows_ok.fetch_add(b.rows);
      }
      std::lock_guard<std::mutex> lock(shared.mu);
      --shared.running;
      shared.cv.notify_all();
    });
  }
  {
    std::unique_lock<std::mutex> lock(shared.mu);
    while (!shared.cv.wait_for(lock, kProgressPeriod, [&] { return shared.running == 0; })) {
      if (!load.progress) continue;
      const int64_t rows = shared.rows_ok.load();
      std::fprintf(stderr, "\r\033[Kload: %lld/%zu requests, %lld rows, %.0f rows/s, %lld failures",
                   static_cast<long long>(shared.requests_done.load()), batches.size(),
                   static_cast<long long>(rows), static_cast<double>(rows) / SecondsSince(t0),
                   static_cast<long long>(shared.failures.load()));
    }
    if (load.progress) std::fprintf(stderr, "\r\033[K");
  }
  for (auto& t : threads) t.join();
  result.seconds = SecondsSince(t0);
  result.rows = shared.rows_ok.load();
  result.failures = shared.failures.load();
  result.retries = shared.retries.load();
  result.first_error = shared.first_error;
  return result;
}

}  // namespace timestore::bench::tsbs
