// timestore-http-load: many concurrent keep-alive HTTP clients against a running
// `timestore serve`, and a slowloris of half-open connections (bench/README.md).
//
// --mode load: N connections, each bounded (send a request, wait for its
// response, send the next), mixing small JSON ingest batches into a few
// datasets with raw range queries and downsampling queries over the last
// minute. Latency runs from the start of writing a request to the end of
// reading its response. Any non-2xx answer, connection error or timeout
// counts as an error.
//
// --mode slowloris: S connections send a partial request head and then one
// byte every --trickle-ms (or nothing), are reopened when the server drops
// them, and are held for --duration; meanwhile a probe thread times
// GET /health and a small query, each on a fresh connection, every
// --probe-interval-ms (before the holders are opened too, as a baseline).
//
// Both modes print a human table and, last on stdout, one JSON line. With
// --server-pid, the server's VmHWM and VmRSS (/proc/<pid>/status) at the end.
// The client runs on the same machine as the server and competes for its CPUs.
#include "bench/http_load_common.h"

namespace timestore::bench {
namespace {

struct ThreadStats {
  std::vector<double> latency_ms[kKinds];
  int64_t ok[kKinds] = {};
  int64_t rows_ingested = 0;
  std::map<std::string, int64_t> errors;  // "http 503", "connect: ...", "read: ..."
  std::vector<std::string> error_samples;
  int64_t reconnects = 0;

  void Error(std::string key, std::string sample) {
    ++errors[std::move(key)];
    if (error_samples.size() < kMaxErrorsKept) error_samples.push_back(std::move(sample));
  }
};

struct LoadShared {
  Options options;
  tcp::endpoint endpoint;
  std::atomic<bool> stop{false};
  std::atomic<int64_t> completed{0};
  std::atomic<int> connected{0};
};

// One keep-alive connection: request, response, next request, until stop.
class LoadConnection : public std::enable_shared_from_this<LoadConnection> {
 public:
  LoadConnection(net::io_context& ioc, LoadShared& shared, ThreadStats& stats, uint64_t seed)
      : stream_(ioc), shared_(shared), stats_(stats), rng_(seed) {}

  void Start() { Connect(); }

 private:
  void Connect() {
    if (shared_.stop.load()) return;
    stream_.expires_after(kRequestTimeout);
    stream_.async_connect(shared_.endpoint, [self = shared_from_this()](beast::error_code ec) {
      if (ec) {
        self->stats_.Error("connect: " + ec.message(), "connect: " + ec.message());
        self->Retry();
        return;
      }
      if (!self->counted_) {
        self->counted_ = true;
        self->shared_.connected.fetch_add(1);
      }
      beast::error_code ignored;
      self->stream_.socket().set_option(tcp::no_delay(true), ignored);
      self->Next();
    });
  }

  // After a connection error: a fresh connection shortly after.
  void Retry() {
    beast::error_code ignored;
    stream_.socket().close(ignored);
    ++stats_.reconnects;
    auto timer = std::make_shared<net::steady_timer>(stream_.get_executor());
    timer->expires_after(std::chrono::milliseconds(10));
    timer->async_wait([self = shared_from_this(), timer](beast::error_code) { self->Connect(); });
  }

  void Next() {
    if (shared_.stop.load()) {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream_.socket().close(ignored);
      return;
    }
    const double pick = std::uniform_real_distribution<double>(0, 1)(rng_);
    const std::string dataset =
        Dataset(static_cast<int>(rng_() % static_cast<uint64_t>(shared_.options.datasets)));
    req_ = {};
    req_.version(11);
    req_.method(http::verb::post);
    req_.set(http::field::host, shared_.options.host);
    req_.set(http::field::content_type, "application/json");
    rows_ = 0;
    if (pick < shared_.options.ingest_fraction) {
      kind_ = kIngest;
      rows_ = shared_.options.min_rows +
              static_cast<int>(rng_() % static_cast<uint64_t>(shared_.options.max_rows -
                                                              shared_.options.min_rows + 1));
      req_.target("/datasets/" + dataset + "/ingest");
      req_.body() = IngestBody(rng_, rows_);
    } else {
      kind_ = rng_() % 2 ? kRawQuery : kDownsample;
      req_.target("/datasets/" + dataset + "/query");
      req_.body() = kind_ == kRawQuery ? RawQueryBody(rng_) : DownsampleQueryBody();
    }
    req_.keep_alive(true);
    req_.prepare_payload();
    t0_ = Clock::now();
    stream_.expires_after(kRequestTimeout);
    http::async_write(stream_, req_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->Failed("write: " + ec.message());
      self->res_.emplace();
      self->res_->body_limit(256 << 20);
      http::async_read(self->stream_, self->buffer_, *self->res_,
                       [self](beast::error_code ec, size_t) { self->OnResponse(ec); });
    });
  }

  void OnResponse(beast::error_code ec) {
    if (ec) return Failed("read: " + ec.message());
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0_).count();
    auto& res = res_->get();
    const unsigned status = res.result_int();
    shared_.completed.fetch_add(1, std::memory_order_relaxed);
    if (status >= 200 && status < 300) {
      stats_.latency_ms[kind_].push_back(ms);
      ++stats_.ok[kind_];
      stats_.rows_ingested += rows_;
    } else {
      stats_.Error("http " + std::to_string(status), std::string(kKindNames[kind_]) + " " +
                                                         std::to_string(status) + ": " +
                                                         res.body().substr(0, 300));
    }
    if (!res.keep_alive()) {
      stats_.Error("server closed keep-alive", "server closed a keep-alive connection");
      return Retry();
    }
    Next();
  }

  void Failed(std::string what) {
    if (shared_.stop.load() && what.find("operation aborted") != std::string::npos) return;
    stats_.Error(what, std::string(kKindNames[kind_]) + " " + what);
    buffer_.clear();
    Retry();
  }

  beast::tcp_stream stream_;
  LoadShared& shared_;
  ThreadStats& stats_;
  std::mt19937_64 rng_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  std::optional<http::response_parser<http::string_body>> res_;
  Kind kind_ = kIngest;
  int rows_ = 0;
  Clock::time_point t0_;
  bool counted_ = false;
};

}  // namespace

int RunLoad(const Options& o) {
  auto addr = Resolve(o);
  if (!addr) {
    std::fprintf(stderr, "--host must be an IPv4 address\n");
    return 2;
  }
  if (!Prime(o, *addr)) return 1;
  LoadShared shared;
  shared.options = o;
  shared.endpoint = tcp::endpoint(net::ip::make_address(o.host), o.port);
  const int threads = std::max(1, o.threads);
  std::vector<std::unique_ptr<net::io_context>> iocs;
  std::vector<ThreadStats> stats(threads);
  for (int t = 0; t < threads; ++t) iocs.push_back(std::make_unique<net::io_context>(1));
  for (int c = 0; c < o.connections; ++c) {
    const int t = c % threads;
    std::make_shared<LoadConnection>(*iocs[t], shared, stats[t], o.seed * 1'000'003 + c)->Start();
  }
  const auto t0 = Clock::now();
  std::vector<std::thread> runners;
  for (int t = 0; t < threads; ++t) runners.emplace_back([&, t] { iocs[t]->run(); });

  const bool tty = isatty(STDERR_FILENO) != 0;
  double connect_s = -1;
  int64_t last = 0;
  auto last_t = t0;
  while (SecondsSince(t0) < o.duration_s) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (connect_s < 0 && shared.connected.load() >= o.connections) connect_s = SecondsSince(t0);
    if (tty && Clock::now() - last_t >= std::chrono::seconds(1)) {
      const int64_t done = shared.completed.load();
      std::fprintf(stderr, "\r\033[K%.0f s: %d connected, %lld requests, %.0f req/s",
                   SecondsSince(t0), shared.connected.load(), static_cast<long long>(done),
                   static_cast<double>(done - last) / SecondsSince(last_t));
      last = done;
      last_t = Clock::now();
    }
  }
  shared.stop = true;
  const double elapsed = SecondsSince(t0);
  const int64_t completed_at_stop = shared.completed.load();
  // Requests in flight finish (bounded by their timeout); connections close.
  for (auto& r : runners) r.join();
  if (tty) std::fprintf(stderr, "\r\033[K");

  ThreadStats all;
  for (auto& s : stats) {
    for (int k = 0; k < kKinds; ++k) {
      all.latency_ms[k].insert(all.latency_ms[k].end(), s.latency_ms[k].begin(),
                               s.latency_ms[k].end());
      all.ok[k] += s.ok[k];
    }
    all.rows_ingested += s.rows_ingested;
    all.reconnects += s.reconnects;
    for (auto& [k, v] : s.errors) all.errors[k] += v;
    for (auto& e : s.error_samples)
      if (all.error_samples.size() < kMaxErrorsKept) all.error_samples.push_back(e);
  }
  int64_t errors = 0;
  for (auto& [k, v] : all.errors) errors += v;
  const auto [hwm_kb, rss_kb] = ServerMemoryKb(o.server_pid);

  std::printf(
      "timestore-http-load: %d keep-alive connections, %.0f s, %.0f%% ingest (%d-%d rows, "
      "%d datasets), client threads %d\n",
      o.connections, o.duration_s, o.ingest_fraction * 100, o.min_rows, o.max_rows, o.datasets,
      threads);
  std::printf("%-18s %10s %10s %10s %10s %10s\n", "kind", "ok", "req/s", "p50 ms", "p99 ms",
              "max ms");
  std::vector<double> every;
  Percentiles per_kind[kKinds];
  for (int k = 0; k < kKinds; ++k) {
    per_kind[k] = Summarize(all.latency_ms[k]);
    every.insert(every.end(), all.latency_ms[k].begin(), all.latency_ms[k].end());
    std::printf("%-18s %10lld %10.0f %10.2f %10.2f %10.2f\n", kKindNames[k],
                static_cast<long long>(all.ok[k]), static_cast<double>(all.ok[k]) / elapsed,
                per_kind[k].p50, per_kind[k].p99, per_kind[k].max);
  }
  const Percentiles total = Summarize(every);
  std::printf("%-18s %10zu %10.0f %10.2f %10.2f %10.2f\n", "all", total.n,
              static_cast<double>(total.n) / elapsed, total.p50, total.p99, total.max);
  std::printf(
      "rows ingested %lld (%.0f rows/s); all %d connected after %.1f s; errors %lld; "
      "reconnects %lld\n",
      static_cast<long long>(all.rows_ingested), static_cast<double>(all.rows_ingested) / elapsed,
      shared.connected.load(), connect_s, static_cast<long long>(errors),
      static_cast<long long>(all.reconnects));
  for (auto& [k, v] : all.errors) std::printf("  error %s: %lld\n", k.c_str(), (long long)v);
  for (auto& e : all.error_samples) std::printf("  e.g. %s\n", e.c_str());
  if (o.server_pid > 0) {
    std::printf("server pid %d: VmHWM %.1f MiB, VmRSS %.1f MiB\n", o.server_pid, hwm_kb / 1024.0,
                rss_kb / 1024.0);
  }

  std::string json = "{\"bench\":\"http_load\",\"mode\":\"load\",\"connections\":" +
                     std::to_string(o.connections) + ",\"duration_s\":" + std::to_string(elapsed) +
                     ",\"requests\":" + std::to_string(total.n) + ",\"requests_per_sec\":" +
                     std::to_string(static_cast<double>(total.n) / elapsed) +
                     ",\"completed_at_stop\":" + std::to_string(completed_at_stop) +
                     ",\"rows_ingested\":" + std::to_string(all.rows_ingested) +
                     ",\"errors\":" + std::to_string(errors) + ",\"all\":" + PercentilesJson(total);
  for (int k = 0; k < kKinds; ++k) {
    json += ",\"" + std::string(kKindNames[k]) + "\":" + PercentilesJson(per_kind[k]);
  }
  json += ",\"server_vmhwm_kb\":" + std::to_string(hwm_kb) +
          ",\"server_vmrss_kb\":" + std::to_string(rss_kb) + "}";
  std::printf("%s\n", json.c_str());
  return errors == 0 ? 0 : 1;
}

}  // namespace timestore::bench

int main(int argc, char** argv) {
  using timestore::bench::Options;
  Options o;
  CLI::App app{"timestore-http-load: concurrent keep-alive load, or a slowloris, over HTTP"};
  app.add_option("--host", o.host, "server address (IPv4)");
  app.add_option("--port", o.port, "server port");
  app.add_option("--mode", o.mode, "load | slowloris")->check(CLI::IsMember({"load", "slowloris"}));
  app.add_option("--duration", o.duration_s, "seconds of load, or of probing under slowloris");
  app.add_option("--connections", o.connections, "load: keep-alive connections");
  app.add_option("--threads", o.threads, "load: client I/O threads");
  app.add_option("--ingest-fraction", o.ingest_fraction, "load: share of requests that ingest");
  app.add_option("--datasets", o.datasets, "load: datasets written and queried")
      ->check(CLI::PositiveNumber);
  app.add_option("--min-rows", o.min_rows, "load: fewest rows per ingest batch");
  app.add_option("--max-rows", o.max_rows, "load: most rows per ingest batch");
  app.add_option("--slow-connections", o.slow_connections, "slowloris: half-open connections");
  app.add_option("--trickle-ms", o.trickle_ms,
                 "slowloris: one more header byte this often (0: nothing after the partial head)");
  app.add_option("--probe-interval-ms", o.probe_interval_ms, "slowloris: probe period");
  app.add_option("--baseline", o.baseline_s, "slowloris: seconds of probes before the holders");
  app.add_option("--server-pid", o.server_pid, "report this process's VmHWM/VmRSS at the end");
  app.add_option("--seed", o.seed, "random seed");
  CLI11_PARSE(app, argc, argv);
  if (o.min_rows < 1 || o.max_rows < o.min_rows) {
    std::fprintf(stderr, "need 1 <= --min-rows <= --max-rows\n");
    return 2;
  }
  return o.mode == "load" ? timestore::bench::RunLoad(o) : timestore::bench::RunSlowloris(o);
}
