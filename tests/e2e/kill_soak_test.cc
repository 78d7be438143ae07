// The kill -9 soak (issue 13, "Proof under faults and load"): trial after
// trial, writers post numbered, Idempotency-Key'd batches to the real server
// while it seals, compacts and enforces retention all the time (small
// thresholds, varied per trial); the server is killed with SIGKILL at a random
// moment and restarted. After each restart:
//   - every acknowledged batch is present exactly once, every other batch is
//     whole or absent, and nothing is present that was never posted;
//   - each writer's batch in flight at the kill, posted again with its key, is
//     then present exactly once (stored before the kill: the key answers it);
//   - batches of earlier trials on the same root are exactly as they were;
//   - after a graceful stop, `timestore verify` finds every file intact.
// Retention cannot make the check ambiguous: the checked batches carry
// current timestamps, and a second dataset written three days in the past is
// what retention drops.
//
// KillSoakTest runs 3 trials in the default suite. KillSoakSlowTest (ctest
// label "slow") runs TIMESTORE_SOAK_TRIALS trials (default 1000); it prints a
// summary table, and with TIMESTORE_SOAK_LOG=<file> one JSON line per trial.
// TIMESTORE_SOAK_SEED repeats a run.
#include <gtest/gtest.h>
#include <signal.h>
#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "common/strings.h"
#include "tests/e2e/test_server.h"

namespace timestore::testing {
namespace {

constexpr int kClients = 3;
constexpr int kRowsPerBatch = 20;
constexpr int kTrialsPerRoot = 20;  // then a fresh storage root, so checks stay cheap

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

uint64_t EnvNumber(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

// Batch ids ("bid") name the trial, the client and the batch: t<trial>-c<client>-b<batch>.
std::string BatchId(int trial, int client, int batch) {
  return StrCat("t", trial, "-c", client, "-b", batch);
}

std::string BatchBody(int trial, int client, int batch, int64_t base_ms) {
  std::string body;
  const std::string bid = BatchId(trial, client, batch);
  for (int k = 0; k < kRowsPerBatch; ++k) {
    StrAppend(&body, "{\"timestamp\":", base_ms + batch * kRowsPerBatch + k, ",\"client\":\"c",
              client, "\",\"bid\":\"", bid, "\",\"row\":", k, ",\"v\":", (batch * 31 + k) % 97,
              "}\n");
  }
  return body;
}

const std::vector<std::pair<std::string, std::string>> kNdjson = {
    {"Content-Type", "application/x-ndjson"}};

struct TrialRecord {
  int trial = 0;
  std::string config;
  double kill_after_s = 0;
  int acked = 0;           // acknowledged before the kill
  int in_flight = 0;       // posted, unanswered at the kill
  int in_flight_kept = 0;  // of those, present after the restart
  int errors = 0;          // answers other than 200 before the kill (503 etc.)
  uint64_t wal_bytes = 0;  // WAL files' bytes right after the kill
  double ready_s = 0;      // restart to /ready 200
  int failures = 0;        // check violations
};

struct SoakConfig {
  int trials = 3;
  uint64_t seed = 0;
  bool report = false;  // print the summary table
  std::string log_path;
};

// What the server holds of dataset "soak": bid -> (rows, distinct rows).
std::optional<std::map<std::string, std::pair<int64_t, int64_t>>> PresentBatches(int port,
                                                                                 std::string* err) {
  HttpClient c(port);
  auto r = c.Post(
      "/datasets/soak/query",
      R"({"timeRange":{"start":0,"end":"2100-01-01T00:00:00Z"},)"
      R"("downsample":{"groupBy":["bid"],"aggregations":[)"
      R"({"fn":"count","alias":"rows"},{"fn":"count_distinct","column":"row","alias":"distinct"}]},)"
      R"("limit":1000000})");
  std::map<std::string, std::pair<int64_t, int64_t>> out;
  if (r.status == 404) return out;  // nothing was ever stored
  if (r.status != 200) {
    *err = StrCat("query answered ", r.status, ": ", r.body);
    return std::nullopt;
  }
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  if (p.parse(r.body).get(doc)) {
    *err = "query answer is not JSON: " + r.body;
    return std::nullopt;
  }
  simdjson::dom::array rows;
  if (doc["rows"].get(rows)) {
    *err = "query answer has no rows: " + r.body;
    return std::nullopt;
  }
  for (auto row : rows) {
    std::string_view bid;
    int64_t n = 0, distinct = 0;
    if (row["bid"].get(bid) || row["rows"].get(n) || row["distinct"].get(distinct)) {
      *err = "unexpected row in: " + r.body;
      return std::nullopt;
    }
    out[std::string(bid)] = {n, distinct};
  }
  return out;
}

class Soak {
 public:
  explicit Soak(SoakConfig config) : config_(std::move(config)), rng_(config_.seed) {}
  ~Soak() {
    server_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  void Run() {
    std::FILE* log = nullptr;
    if (!config_.log_path.empty()) log = std::fopen(config_.log_path.c_str(), "w");
    const auto t0 = std::chrono::steady_clock::now();
    for (int t = 0; t < config_.trials; ++t) {
      if (t % kTrialsPerRoot == 0) FreshRoot();
      TrialRecord rec = Trial(t);
      if (log != nullptr) {
        std::fprintf(log,
                     "{\"trial\":%d,\"config\":\"%s\",\"killAfterS\":%.3f,\"acked\":%d,"
                     "\"inFlight\":%d,\"inFlightKept\":%d,\"errors\":%d,\"walBytes\":%llu,"
                     "\"readyS\":%.4f,\"failures\":%d}\n",
                     rec.trial, rec.config.c_str(), rec.kill_after_s, rec.acked, rec.in_flight,
                     rec.in_flight_kept, rec.errors, static_cast<unsigned long long>(rec.wal_bytes),
                     rec.ready_s, rec.failures);
        std::fflush(log);
      }
      records_.push_back(rec);
      if (config_.report && ((t + 1) % 10 == 0 || t + 1 == config_.trials)) {
        int failures = 0;
        for (const auto& r : records_) failures += r.failures;
        const double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::fprintf(stderr, "soak: %d/%d trials, %d failures, %.0f s\n", t + 1, config_.trials,
                     failures, secs);
      }
      if (::testing::Test::HasFatalFailure()) break;
    }
    if (log != nullptr) std::fclose(log);
    if (config_.report) PrintSummary();
  }

  const std::vector<TrialRecord>& records() const { return records_; }

 private:
  void FreshRoot() {
    server_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
    dir_ = MakeTempDir();
    expected_.clear();
  }

  std::map<std::string, std::string> TrialEnv(std::string* config) {
    auto pick = [&](std::initializer_list<const char*> v) {
      return std::string(*(v.begin() + rng_() % v.size()));
    };
    std::map<std::string, std::string> env = {
        // The largest thresholds let the WAL grow across trials (a graceful
        // stop seals nothing), for time to ready against WAL size.
        {"TIMESTORE_SEAL_MAX_ROWS", pick({"300", "2000", "20000", "200000"})},
        {"TIMESTORE_SEAL_MAX_AGE_MS", pick({"20", "200", "2000", "30000"})},
        {"TIMESTORE_WAL_MAX_FILE_BYTES", pick({"16KiB", "256KiB", "4MiB"})},
        {"TIMESTORE_COMPACTION_MIN_SEGMENTS", "2"},
        {"TIMESTORE_COMPACTION_INTERVAL_MS", "20"},
        {"TIMESTORE_COMPACTION_QUIET", "200ms"},
        {"TIMESTORE_PARTITION_INTERVAL", "1h"},
        {"TIMESTORE_RETENTION_DEFAULT", "1d"},
        {"TIMESTORE_RETENTION_CHECK_INTERVAL", "100ms"},
    };
    *config =
        StrCat("rows=", env["TIMESTORE_SEAL_MAX_ROWS"], " age=", env["TIMESTORE_SEAL_MAX_AGE_MS"],
               "ms wal=", env["TIMESTORE_WAL_MAX_FILE_BYTES"]);
    return env;
  }

  void Fail(TrialRecord* rec, const std::string& what) {
    ++rec->failures;
    if (rec->failures <= 5) ADD_FAILURE() << "trial " << rec->trial << ": " << what;
  }

  TrialRecord Trial(int trial) {
    TrialRecord rec;
    rec.trial = trial;
    auto env = TrialEnv(&rec.config);
    server_ = std::make_unique<TestServer>(dir_, env);
    server_->set_ready_poll_ms(2);
    if (!server_->Start()) {
      Fail(&rec, "the server did not start; see " + server_->log_path());
      return rec;
    }

    // Writers: numbered, keyed batches of current time until the kill.
    std::atomic<bool> stop{false};
    std::mutex mu;
    std::set<std::string> acked;
    std::vector<std::optional<int>> in_flight(kClients);
    std::vector<int> next_batch(kClients, 0);
    std::atomic<int> errors{0};
    const int64_t base_ms = NowMillis();
    std::vector<std::thread> threads;
    for (int cl = 0; cl < kClients; ++cl) {
      threads.emplace_back([&, cl] {
        HttpClient c(server_->port());
        for (int b = 0; !stop.load();) {
          const std::string bid = BatchId(trial, cl, b);
          {
            std::lock_guard<std::mutex> l(mu);
            in_flight[cl] = b;
            next_batch[cl] = b + 1;
          }
          auto r = c.Post("/datasets/soak/ingest", BatchBody(trial, cl, b, base_ms),
                          {kNdjson[0], {"Idempotency-Key", bid}});
          if (r.status == 0) break;  // the server is gone: the outcome is unknown
          if (r.status != 200) {
            // 503 (back-pressure, storage): the same batch, with its key, again.
            ++errors;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            continue;
          }
          std::lock_guard<std::mutex> l(mu);
          acked.insert(bid);
          in_flight[cl].reset();
          ++b;
        }
      });
    }
    // A dataset three days old, which retention (1d) drops partition by partition.
    threads.emplace_back([&] {
      HttpClient c(server_->port());
      const int64_t old_base = NowMillis() - 3 * 86'400'000LL;
      for (int b = 0; !stop.load(); ++b) {
        std::string body;
        for (int k = 0; k < 50; ++k) {
          StrAppend(&body, "{\"timestamp\":", old_base + (b * 50 + k) * 60'000LL % 36'000'000,
                    ",\"host\":\"h", k % 4, "\",\"v\":", k, "}\n");
        }
        if (c.Post("/datasets/old/ingest", body, kNdjson).status == 0) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    });

    const int kill_ms = 20 + static_cast<int>(rng_() % 1200);
    rec.kill_after_s = kill_ms / 1000.0;
    std::this_thread::sleep_for(std::chrono::milliseconds(kill_ms));
    server_->Stop(SIGKILL);
    rec.wal_bytes = DirectoryBytes(server_->storage_root() + "/wal");
    stop = true;
    for (auto& t : threads) t.join();
    rec.acked = static_cast<int>(acked.size());
    rec.errors = errors.load();

    const auto r0 = std::chrono::steady_clock::now();
    if (!server_->Start()) {
      Fail(&rec, "the server did not restart after the kill; see " + server_->log_path());
      return rec;
    }
    rec.ready_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - r0).count();

    // 1. Acknowledged: present exactly once. Others: whole or absent.
    std::string err;
    auto present = PresentBatches(server_->port(), &err);
    if (!present) {
      Fail(&rec, err);
      return rec;
    }
    std::set<std::string> posted = acked;
    for (int cl = 0; cl < kClients; ++cl) {
      if (in_flight[cl]) posted.insert(BatchId(trial, cl, *in_flight[cl]));
    }
    const std::string prefix = StrCat("t", trial, "-");
    for (const auto& [bid, counts] : *present) {
      if (counts.first != kRowsPerBatch || counts.second != kRowsPerBatch) {
        Fail(&rec, StrCat("batch ", bid, " has ", counts.first, " rows, ", counts.second,
                          " distinct (", kRowsPerBatch, " expected): partial or doubled"));
      }
      if (bid.rfind(prefix, 0) == 0) {
        if (!posted.count(bid)) Fail(&rec, StrCat("batch ", bid, " was never posted"));
      } else if (!expected_.count(bid)) {
        Fail(&rec, StrCat("batch ", bid, " of an earlier trial appeared"));
      }
    }
    for (const auto& bid : acked) {
      if (!present->count(bid)) Fail(&rec, StrCat("acknowledged batch ", bid, " was lost"));
    }
    for (const auto& bid : expected_) {
      if (!present->count(bid)) Fail(&rec, StrCat("batch ", bid, " of an earlier trial was lost"));
    }

    // 2. The batches in flight at the kill, posted again with their keys:
    // stored once whether or not the first attempt was.
    HttpClient c(server_->port());
    for (int cl = 0; cl < kClients; ++cl) {
      if (!in_flight[cl]) continue;
      ++rec.in_flight;
      const std::string bid = BatchId(trial, cl, *in_flight[cl]);
      rec.in_flight_kept += present->count(bid) ? 1 : 0;
      HttpResult r;
      for (int attempt = 0; attempt < 50; ++attempt) {
        r = c.Post("/datasets/soak/ingest", BatchBody(trial, cl, *in_flight[cl], base_ms),
                   {kNdjson[0], {"Idempotency-Key", bid}});
        if (r.status != 503) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      if (r.status != 200) {
        Fail(&rec, StrCat("batch ", bid, " posted again answered ", r.status, ": ", r.body));
      } else {
        acked.insert(bid);
      }
    }
    for (const auto& bid : acked) expected_.insert(bid);
    present = PresentBatches(server_->port(), &err);
    if (!present) {
      Fail(&rec, err);
      return rec;
    }
    for (const auto& [bid, counts] : *present) {
      if (counts.first != kRowsPerBatch || counts.second != kRowsPerBatch) {
        Fail(&rec, StrCat("after the retries, batch ", bid, " has ", counts.first, " rows, ",
                          counts.second, " distinct"));
      }
    }
    std::set<std::string> have;
    for (const auto& [bid, counts] : *present) have.insert(bid);
    if (have != expected_) {
      std::vector<std::string> missing, extra;
      std::set_difference(expected_.begin(), expected_.end(), have.begin(), have.end(),
                          std::back_inserter(missing));
      std::set_difference(have.begin(), have.end(), expected_.begin(), expected_.end(),
                          std::back_inserter(extra));
      Fail(&rec, StrCat("after the retries: ", missing.size(), " batches missing (first ",
                        missing.empty() ? "-" : missing[0], "), ", extra.size(),
                        " unexpected (first ", extra.empty() ? "-" : extra[0], ")"));
    }

    // 3. A graceful stop, then every file verifies.
    server_->Stop(SIGTERM);
    auto [rc, out] = VerifyStorageRoot(server_->storage_root());
    if (rc != 0) Fail(&rec, "timestore verify failed:\n" + out);
    return rec;
  }

  static double Percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(i, v.size() - 1)];
  }

  void PrintSummary() const {
    int acked = 0, failures = 0, in_flight = 0, kept = 0, errors = 0;
    for (const auto& r : records_) {
      acked += r.acked;
      failures += r.failures;
      in_flight += r.in_flight;
      kept += r.in_flight_kept;
      errors += r.errors;
    }
    std::printf(
        "kill -9 soak: seed %llu, %zu trials, %d acknowledged batches (%d rows each), "
        "%d in flight at the kill (%d of them stored), %d non-200 answers before the "
        "kill, %d failures\n",
        static_cast<unsigned long long>(config_.seed), records_.size(), acked, kRowsPerBatch,
        in_flight, kept, errors, failures);
    struct Bucket {
      const char* name;
      uint64_t below;
    };
    const Bucket buckets[] = {{"< 64 KiB", 64ull << 10},
                              {"64 KiB - 1 MiB", 1ull << 20},
                              {"1 - 8 MiB", 8ull << 20},
                              {">= 8 MiB", ~0ull}};
    std::printf("%-16s %7s %10s %10s %10s %10s\n", "WAL at kill", "trials", "ready p50",
                "ready p99", "ready max", "WAL max");
    uint64_t lower = 0;
    for (const auto& b : buckets) {
      std::vector<double> ready;
      uint64_t wal_max = 0;
      for (const auto& r : records_) {
        if (r.ready_s > 0 && r.wal_bytes >= lower && r.wal_bytes < b.below) {
          ready.push_back(r.ready_s * 1000);
          wal_max = std::max(wal_max, r.wal_bytes);
        }
      }
      lower = b.below;
      if (ready.empty()) continue;
      std::printf("%-16s %7zu %8.1fms %8.1fms %8.1fms %8.2fMiB\n", b.name, ready.size(),
                  Percentile(ready, 0.5), Percentile(ready, 0.99),
                  *std::max_element(ready.begin(), ready.end()),
                  static_cast<double>(wal_max) / (1 << 20));
    }
    std::vector<double> all;  // trials whose server came back
    for (const auto& r : records_) {
      if (r.ready_s > 0) all.push_back(r.ready_s * 1000);
    }
    std::printf("%-16s %7zu %8.1fms %8.1fms %8.1fms\n", "all", all.size(), Percentile(all, 0.5),
                Percentile(all, 0.99), all.empty() ? 0 : *std::max_element(all.begin(), all.end()));
    std::fflush(stdout);
  }

  SoakConfig config_;
  std::mt19937_64 rng_;
  std::string dir_;
  std::unique_ptr<TestServer> server_;
  std::set<std::string> expected_;  // batches of this root acknowledged so far
  std::vector<TrialRecord> records_;
};

uint64_t SeedFromEnv() {
  uint64_t seed = EnvNumber("TIMESTORE_SOAK_SEED", 0);
  return seed != 0 ? seed : std::random_device{}();
}

// Three trials in the default suite.
TEST(KillSoakTest, ThreeTrials) {
  SoakConfig c;
  c.trials = 3;
  c.seed = SeedFromEnv();
  SCOPED_TRACE(StrCat("TIMESTORE_SOAK_SEED=", c.seed));
  Soak soak(c);
  soak.Run();
  ASSERT_EQ(soak.records().size(), 3u);
  int acked = 0;
  for (const auto& r : soak.records()) acked += r.acked;
  EXPECT_GT(acked, 0) << "no batch was acknowledged in three trials";
}

// The soak: TIMESTORE_SOAK_TRIALS (default 1000) trials, with a summary.
TEST(KillSoakSlowTest, Trials) {
  SoakConfig c;
  c.trials = static_cast<int>(EnvNumber("TIMESTORE_SOAK_TRIALS", 1000));
  c.seed = SeedFromEnv();
  c.report = true;
  if (const char* log = std::getenv("TIMESTORE_SOAK_LOG")) c.log_path = log;
  SCOPED_TRACE(StrCat("TIMESTORE_SOAK_SEED=", c.seed));
  Soak soak(c);
  soak.Run();
  int failures = 0;
  for (const auto& r : soak.records()) failures += r.failures;
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(soak.records().size(), static_cast<size_t>(c.trials));
}

}  // namespace
}  // namespace timestore::testing
