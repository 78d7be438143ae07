// Slowloris mode of timestore-http-load: half-open connections that send a
// partial request head (and maybe a byte now and then) are held while normal
// requests on fresh connections are timed.
#include "bench/http_load_common.h"

namespace timestore::bench {
namespace {

struct SlowShared {
  Options options;
  tcp::endpoint endpoint;
  std::atomic<bool> stop{false};
  std::atomic<int> held{0};       // connections open with a partial head sent
  std::atomic<int64_t> drops{0};  // closed by the server
  std::atomic<int64_t> connect_errors{0};
  std::mutex mu;
  std::vector<double> held_s;  // how long each dropped connection was held
};

// Sends a partial head, trickles a byte every trickle_ms, reopens when dropped.
class SlowConnection : public std::enable_shared_from_this<SlowConnection> {
 public:
  SlowConnection(net::io_context& ioc, SlowShared& shared)
      : socket_(ioc), timer_(ioc), shared_(shared) {}

  void Start() {
    if (shared_.stop.load()) return;
    const uint64_t gen = gen_;
    socket_.async_connect(shared_.endpoint, [self = shared_from_this(), gen](beast::error_code ec) {
      if (gen != self->gen_) return;
      if (ec) {
        self->shared_.connect_errors.fetch_add(1);
        self->Reopen(std::chrono::milliseconds(100));
        return;
      }
      static constexpr std::string_view kHead =
          "POST /datasets/load0/ingest HTTP/1.1\r\nHost: slow\r\nX-Slow: ";
      net::async_write(self->socket_, net::buffer(kHead.data(), kHead.size()),
                       [self, gen](beast::error_code ec, size_t) {
                         if (gen != self->gen_) return;
                         if (ec) return self->Dropped();
                         self->since_ = Clock::now();
                         self->holding_ = true;
                         self->shared_.held.fetch_add(1);
                         self->WatchClose();
                         self->Trickle();
                       });
    });
  }

  void Stop() {
    ++gen_;
    if (holding_) {
      holding_ = false;
      shared_.held.fetch_sub(1);
    }
    beast::error_code ignored;
    timer_.cancel();
    socket_.close(ignored);
  }

 private:
  void WatchClose() {
    socket_.async_read_some(net::buffer(scratch_),
                            [self = shared_from_this(), gen = gen_](beast::error_code ec, size_t) {
                              if (gen != self->gen_) return;
                              if (ec) return self->Dropped();
                              self->WatchClose();  // a 400 or 408 body: wait for the close
                            });
  }

  void Trickle() {
    if (shared_.options.trickle_ms <= 0) return;
    timer_.expires_after(std::chrono::milliseconds(shared_.options.trickle_ms));
    timer_.async_wait([self = shared_from_this(), gen = gen_](beast::error_code ec) {
      if (ec || gen != self->gen_ || !self->holding_) return;
      static constexpr char kByte = 'a';
      net::async_write(self->socket_, net::buffer(&kByte, 1),
                       [self, gen](beast::error_code ec, size_t) {
                         if (gen != self->gen_) return;
                         if (ec) return self->Dropped();
                         self->Trickle();
                       });
    });
  }

  void Dropped() {
    if (holding_) {
      holding_ = false;
      shared_.held.fetch_sub(1);
      if (!shared_.stop.load()) {
        shared_.drops.fetch_add(1);
        std::lock_guard<std::mutex> l(shared_.mu);
        shared_.held_s.push_back(SecondsSince(since_));
      }
    }
    Reopen(std::chrono::milliseconds(0));
  }

  void Reopen(std::chrono::milliseconds after) {
    ++gen_;  // callbacks of the old socket are ignored from here on
    beast::error_code ignored;
    timer_.cancel();
    socket_.close(ignored);
    if (shared_.stop.load()) return;
    auto t = std::make_shared<net::steady_timer>(socket_.get_executor());
    t->expires_after(after);
    t->async_wait([self = shared_from_this(), t](beast::error_code) { self->Start(); });
  }

  tcp::socket socket_;
  net::steady_timer timer_;
  SlowShared& shared_;
  char scratch_[512];
  Clock::time_point since_;
  bool holding_ = false;
  uint64_t gen_ = 0;  // bumped when the socket is replaced
};

struct ProbeResults {
  std::vector<double> health_ms, query_ms;
  int64_t errors = 0;
  std::vector<std::string> error_samples;
};

// Every interval: GET /health, then a small query, each on a fresh connection.
ProbeResults Probe(const Options& o, const sockaddr_in& addr, double seconds,
                   const std::atomic<bool>* stop_early = nullptr) {
  ProbeResults r;
  std::mt19937_64 rng(o.seed + 7);
  const std::string health =
      "GET /health HTTP/1.1\r\nHost: " + o.host + "\r\nConnection: close\r\n\r\n";
  const auto t0 = Clock::now();
  auto next = t0;
  while (SecondsSince(t0) < seconds && !(stop_early && stop_early->load())) {
    std::this_thread::sleep_until(next);
    next += std::chrono::milliseconds(o.probe_interval_ms);
    for (int which = 0; which < 2; ++which) {
      const std::string req =
          which == 0 ? health : PostRequest(o, "/datasets/load0/query", RawQueryBody(rng));
      std::string error;
      const auto s = Clock::now();
      const int status = BlockingRequest(addr, req, 10'000, &error);
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - s).count();
      if (status >= 200 && status < 300) {
        (which == 0 ? r.health_ms : r.query_ms).push_back(ms);
      } else {
        ++r.errors;
        if (r.error_samples.size() < kMaxErrorsKept) {
          r.error_samples.push_back((which == 0 ? "health " : "query ") + std::to_string(status) +
                                    " " + error);
        }
      }
    }
  }
  return r;
}

}  // namespace

int RunSlowloris(const Options& o) {
  auto addr = Resolve(o);
  if (!addr) {
    std::fprintf(stderr, "--host must be an IPv4 address\n");
    return 2;
  }
  Options primed = o;
  primed.datasets = 1;
  if (!Prime(primed, *addr)) return 1;
  const bool tty = isatty(STDERR_FILENO) != 0;

  if (tty) std::fprintf(stderr, "baseline probes for %.0f s\n", o.baseline_s);
  const ProbeResults baseline = Probe(o, *addr, o.baseline_s);

  SlowShared shared;
  shared.options = o;
  shared.endpoint = tcp::endpoint(net::ip::make_address(o.host), o.port);
  net::io_context ioc(1);
  std::vector<std::shared_ptr<SlowConnection>> conns;
  for (int i = 0; i < o.slow_connections; ++i) {
    conns.push_back(std::make_shared<SlowConnection>(ioc, shared));
    conns.back()->Start();
  }
  auto guard = net::make_work_guard(ioc);
  std::thread io([&] { ioc.run(); });
  const auto t_open = Clock::now();
  while (shared.held.load() < o.slow_connections && SecondsSince(t_open) < 10) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const double open_s = SecondsSince(t_open);
  const int held_at_start = shared.held.load();
  if (tty) {
    std::fprintf(stderr, "%d slow connections held after %.2f s; probing for %.0f s\n",
                 held_at_start, open_s, o.duration_s);
  }
  // Sample how many are held while probing.
  std::atomic<bool> probing{true};
  int held_min = held_at_start, held_max = held_at_start;
  std::thread sampler([&] {
    while (probing.load()) {
      const int h = shared.held.load();
      held_min = std::min(held_min, h);
      held_max = std::max(held_max, h);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  const ProbeResults during = Probe(o, *addr, o.duration_s);
  probing = false;
  sampler.join();
  shared.stop = true;
  net::post(ioc, [&] {
    for (auto& c : conns) c->Stop();
  });
  guard.reset();
  io.join();
  const auto [hwm_kb, rss_kb] = ServerMemoryKb(o.server_pid);

  const Percentiles bh = Summarize(baseline.health_ms), bq = Summarize(baseline.query_ms);
  const Percentiles dh = Summarize(during.health_ms), dq = Summarize(during.query_ms);
  const Percentiles held = Summarize([&] {
    std::vector<double> ms;
    for (double s : shared.held_s) ms.push_back(s * 1000);
    return ms;
  }());
  std::printf(
      "timestore-http-load slowloris: %d half-open connections (%s), probes every %d ms "
      "on fresh connections\n",
      o.slow_connections,
      o.trickle_ms > 0 ? ("1 byte every " + std::to_string(o.trickle_ms) + " ms").c_str()
                       : "nothing after the partial head",
      o.probe_interval_ms);
  std::printf("%-28s %8s %10s %10s %10s\n", "probe", "n", "p50 ms", "p99 ms", "max ms");
  auto row = [](const char* name, const Percentiles& p) {
    std::printf("%-28s %8zu %10.2f %10.2f %10.2f\n", name, p.n, p.p50, p.p99, p.max);
  };
  row("baseline GET /health", bh);
  row("baseline query", bq);
  row("under slowloris GET /health", dh);
  row("under slowloris query", dq);
  std::printf(
      "held: %d after %.2f s, between %d and %d while probing; %lld dropped by the server "
      "(held p50 %.1f s, max %.1f s), %lld connect errors; probe errors %lld + %lld\n",
      held_at_start, open_s, held_min, held_max, static_cast<long long>(shared.drops.load()),
      held.p50 / 1000, held.max / 1000, static_cast<long long>(shared.connect_errors.load()),
      static_cast<long long>(baseline.errors), static_cast<long long>(during.errors));
  for (auto& e : during.error_samples) std::printf("  e.g. %s\n", e.c_str());
  if (o.server_pid > 0) {
    std::printf("server pid %d: VmHWM %.1f MiB, VmRSS %.1f MiB\n", o.server_pid, hwm_kb / 1024.0,
                rss_kb / 1024.0);
  }
  std::printf(
      "{\"bench\":\"http_load\",\"mode\":\"slowloris\",\"slow_connections\":%d,\"trickle_ms\":%d,"
      "\"held_at_start\":%d,\"held_min\":%d,\"held_max\":%d,\"drops\":%lld,\"held_p50_s\":%.3f,"
      "\"connect_errors\":%lld,\"probe_errors\":%lld,\"baseline_health\":%s,\"baseline_query\":%s,"
      "\"health\":%s,\"query\":%s,\"server_vmhwm_kb\":%lld,\"server_vmrss_kb\":%lld}\n",
      o.slow_connections, o.trickle_ms, held_at_start, held_min, held_max,
      static_cast<long long>(shared.drops.load()), held.p50 / 1000,
      static_cast<long long>(shared.connect_errors.load()),
      static_cast<long long>(baseline.errors + during.errors), PercentilesJson(bh).c_str(),
      PercentilesJson(bq).c_str(), PercentilesJson(dh).c_str(), PercentilesJson(dq).c_str(),
      static_cast<long long>(hwm_kb), static_cast<long long>(rss_kb));
  return baseline.errors + during.errors == 0 ? 0 : 1;
}

}  // namespace timestore::bench
