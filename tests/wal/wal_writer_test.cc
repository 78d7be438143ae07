// The group-commit WAL writer against a real directory, through Env::Default()
// or a FaultInjectionEnv that fails writes and syncs and simulates power loss.
// Durability is checked the only way that counts: by reading the files back.
#include "wal/wal_writer.h"

#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <latch>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "common/env.h"
#include "common/strings.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "wal/log_reader.h"

namespace timestore::wal {
namespace {

using ::testing::HasSubstr;

// One acknowledgement, as the callback saw it.
struct Ack {
  absl::Status status;
  uint64_t seq;
};

// Collects acknowledgements in the order the writer delivers them.
class Acks {
 public:
  WalWriter::Callback Track(std::string payload) {
    return [this, payload = std::move(payload)](const absl::Status& s, uint64_t seq) {
      std::lock_guard<std::mutex> l(mu_);
      order_.push_back({s, seq});
      if (s.ok()) acked_[seq] = payload;
      cv_.notify_all();
    };
  }
  void WaitFor(size_t n) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return order_.size() >= n; });
  }
  std::vector<Ack> order() {
    std::lock_guard<std::mutex> l(mu_);
    return order_;
  }
  // seq -> payload of every record acknowledged OK.
  std::map<uint64_t, std::string> acked() {
    std::lock_guard<std::mutex> l(mu_);
    return acked_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Ack> order_;
  std::map<uint64_t, std::string> acked_;
};

// A one-shot gate a callback can wait on, stalling the writer thread so that
// later appends pile up behind it.
class Gate {
 public:
  void Wait() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return open_; });
  }
  void Open() {
    std::lock_guard<std::mutex> l(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

// Opens a gate when it goes out of scope. Declare it after the writer so that
// the writer thread is released before the writer is destroyed (joined), even
// when an assertion returns early.
struct OpenOnExit {
  Gate* gate;
  ~OpenOnExit() { gate->Open(); }
};

Ack AppendAndWait(WalWriter* w, std::string payload) {
  std::promise<Ack> p;
  auto f = p.get_future();
  w->Append(RecordType::kRowBatch, std::move(payload), [&p](const absl::Status& s, uint64_t seq) {
    p.set_value({s, seq});
  });
  return f.get();
}

class WalWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/timestore_wal_writer_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    dir_ = JoinPath(root_, "wal");
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  WalOptions Options(SyncMode mode = SyncMode::kAlways) {
    WalOptions o;
    o.dir = dir_;
    o.sync_mode = mode;
    return o;
  }

  std::unique_ptr<WalWriter> Open(Env* env, WalOptions o, uint64_t file_number = 1,
                                  uint64_t last_seq = 0) {
    auto w = WalWriter::Open(env, std::move(o), file_number, last_seq);
    EXPECT_TRUE(w.ok()) << w.status();
    return w.ok() ? std::move(*w) : nullptr;
  }

  std::vector<uint64_t> FileNumbers() {
    std::vector<uint64_t> numbers;
    auto names = Env::Default()->ListDir(dir_);
    EXPECT_TRUE(names.ok()) << names.status();
    for (const auto& n : *names) {
      uint64_t num = ParseWalFileName(n);
      EXPECT_NE(num, 0u) << "unexpected file " << n;
      if (num) numbers.push_back(num);
    }
    std::sort(numbers.begin(), numbers.end());
    return numbers;
  }

  // Reads every log file the way recovery does: older files strictly, the newest
  // tolerating a torn tail. Fails the test on any error; returns seq -> payload.
  std::vector<std::pair<uint64_t, std::string>> ReadAll(bool expect_clean = true) {
    std::vector<std::pair<uint64_t, std::string>> out;
    std::vector<uint64_t> numbers = FileNumbers();
    for (size_t i = 0; i < numbers.size(); ++i) {
      const bool newest = i + 1 == numbers.size();
      const std::string path = JoinPath(dir_, WalFileName(numbers[i]));
      auto log = ReadLog(Env::Default(), path, kWalMagic,
                         newest && !expect_clean ? TailPolicy::kTornTailOnly : TailPolicy::kStrict);
      EXPECT_TRUE(log.ok()) << log.status();
      if (!log.ok()) continue;
      for (const LogRecord& r : log->records) {
        EXPECT_EQ(r.type, RecordType::kRowBatch);
        if (!out.empty()) {
          EXPECT_GT(r.seq, out.back().first) << path;
        }
        out.emplace_back(r.seq, std::string(r.payload));
      }
    }
    return out;
  }

  std::string root_;
  std::string dir_;
};

TEST(WalFileNameTest, FormatAndParse) {
  EXPECT_EQ(WalFileName(1), "000001.wal");
  EXPECT_EQ(WalFileName(123456), "123456.wal");
  EXPECT_EQ(WalFileName(1234567), "1234567.wal");
  EXPECT_EQ(ParseWalFileName("000001.wal"), 1u);
  EXPECT_EQ(ParseWalFileName("1234567.wal"), 1234567u);
  EXPECT_EQ(ParseWalFileName("000001.wal.tmp"), 0u);
  EXPECT_EQ(ParseWalFileName("x00001.wal"), 0u);
  EXPECT_EQ(ParseWalFileName(".wal"), 0u);
  EXPECT_EQ(ParseWalFileName("MANIFEST-000001"), 0u);
}

TEST_F(WalWriterTest, RecordsReadBackInOrderWithIncreasingSeqs) {
  Acks acks;  // outlives the writer, whose callbacks use it
  auto w = Open(Env::Default(), Options(), /*file_number=*/3, /*last_seq=*/41);
  ASSERT_NE(w, nullptr);
  std::vector<std::string> payloads;
  for (int i = 0; i < 100; ++i) {
    payloads.push_back(StrCat("record-", i, std::string(i * 7, 'x')));
    w->Append(RecordType::kRowBatch, payloads.back(), acks.Track(payloads.back()));
  }
  w->Append(RecordType::kRowBatch, "", acks.Track(""));  // empty payloads are records too
  payloads.push_back("");
  ASSERT_TRUE(w->Sync().ok());
  // Callbacks ran in log order, numbering on from last_seq.
  std::vector<Ack> order = acks.order();
  ASSERT_EQ(order.size(), payloads.size());
  for (size_t i = 0; i < order.size(); ++i) {
    EXPECT_TRUE(order[i].status.ok()) << order[i].status;
    EXPECT_EQ(order[i].seq, 42 + i);
  }
  EXPECT_EQ(w->stats().records, payloads.size());
  EXPECT_EQ(w->stats().current_file_number, 3u);
  w->Close();

  EXPECT_EQ(FileNumbers(), std::vector<uint64_t>{3});
  auto records = ReadAll();
  ASSERT_EQ(records.size(), payloads.size());
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].first, 42 + i);
    EXPECT_EQ(records[i].second, payloads[i]);
  }
}

TEST_F(WalWriterTest, GroupCommitSharesFsyncs) {
  constexpr int kThreads = 8, kPerThread = 200, kTotal = kThreads * kPerThread;
  // The first acknowledgement holds the writer until every thread has appended,
  // so the rest must share groups: deterministic, no timing involved.
  std::latch all_appended(kTotal);
  std::mutex mu;
  std::vector<uint64_t> delivered;         // seqs in callback order
  std::map<uint64_t, std::string> by_seq;  // what each seq carried
  std::vector<std::vector<uint64_t>> per_thread(kThreads);
  std::atomic<int> failures{0};
  auto w = Open(Env::Default(), Options(SyncMode::kAlways));
  ASSERT_NE(w, nullptr);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string payload = StrCat("t", t, "-", i);
        w->Append(RecordType::kRowBatch, payload,
                  [&, t, payload](const absl::Status& s, uint64_t seq) {
                    if (!s.ok()) failures.fetch_add(1);
                    {
                      std::lock_guard<std::mutex> l(mu);
                      delivered.push_back(seq);
                      by_seq[seq] = payload;
                      per_thread[t].push_back(seq);
                    }
                    if (seq == 1) all_appended.wait();
                  });
        all_appended.count_down();
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_TRUE(w->Sync().ok());

  EXPECT_EQ(failures.load(), 0);
  ASSERT_EQ(delivered.size(), static_cast<size_t>(kTotal));
  for (size_t i = 0; i < delivered.size(); ++i) ASSERT_EQ(delivered[i], i + 1);
  // Each thread's appends kept their order.
  for (const auto& seqs : per_thread) {
    ASSERT_EQ(seqs.size(), static_cast<size_t>(kPerThread));
    EXPECT_TRUE(std::is_sorted(seqs.begin(), seqs.end()));
  }
  WalWriter::Stats stats = w->stats();
  EXPECT_EQ(stats.records, static_cast<uint64_t>(kTotal));
  EXPECT_LT(stats.fsyncs, stats.records);
  EXPECT_LT(stats.groups, stats.records);
  w->Close();

  auto records = ReadAll();
  ASSERT_EQ(records.size(), static_cast<size_t>(kTotal));
  for (const auto& [seq, payload] : records) EXPECT_EQ(by_seq[seq], payload) << seq;
}

TEST_F(WalWriterTest, ConcurrentClientsWaitingForAcks) {
  constexpr int kThreads = 4, kPerThread = 25;
  std::mutex mu;
  std::map<uint64_t, std::string> acked;
  auto w = Open(Env::Default(), Options(SyncMode::kAlways));
  ASSERT_NE(w, nullptr);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      uint64_t last = 0;
      for (int i = 0; i < kPerThread; ++i) {
        std::string payload = StrCat("client", t, "/", i);
        Ack ack = AppendAndWait(w.get(), payload);
        EXPECT_TRUE(ack.status.ok()) << ack.status;
        EXPECT_GT(ack.seq, last);
        last = ack.seq;
        std::lock_guard<std::mutex> l(mu);
        EXPECT_TRUE(acked.emplace(ack.seq, payload).second) << "seq reused: " << ack.seq;
      }
    });
  }
  for (auto& th : threads) th.join();
  w->Close();
  auto records = ReadAll();
  ASSERT_EQ(records.size(), acked.size());
  for (const auto& [seq, payload] : records) EXPECT_EQ(acked[seq], payload);
}

// The durability promise: with SyncMode::kAlways, a record is acknowledged only
// once it survives power loss.
TEST_F(WalWriterTest, AlwaysModeAcknowledgedRecordsSurvivePowerLoss) {
  FaultInjectionEnv env(Env::Default());
  WalOptions o = Options(SyncMode::kAlways);
  o.max_file_bytes = 4096;  // rotate a few times on the way
  Acks acks;
  Gate gate;
  auto w = Open(&env, o);
  ASSERT_NE(w, nullptr);
  OpenOnExit release{&gate};
  for (int i = 0; i < 200; ++i) {
    std::string p = StrCat("row batch ", i, std::string(i % 50, '#'));
    w->Append(RecordType::kRowBatch, p, acks.Track(p));
    if (i % 20 == 19) acks.WaitFor(i + 1);  // several groups, several files
  }
  // Stall the writer right after it acknowledged one more record, then "crash".
  w->Append(RecordType::kRowBatch, "last acknowledged", [&](const absl::Status& s, uint64_t seq) {
    acks.Track("last acknowledged")(s, seq);
    gate.Wait();
  });
  acks.WaitFor(201);
  std::map<uint64_t, std::string> acked = acks.acked();
  ASSERT_EQ(acked.size(), 201u);
  ASSERT_TRUE(env.DropUnsyncedData().ok());

  auto records = ReadAll(/*expect_clean=*/false);
  ASSERT_EQ(records.size(), acked.size());
  for (const auto& [seq, payload] : records) EXPECT_EQ(acked[seq], payload) << seq;
  EXPECT_GT(FileNumbers().size(), 2u);
}

TEST_F(WalWriterTest, NoneModeMayLoseRecordsOnPowerLoss) {
  FaultInjectionEnv env(Env::Default());
  Acks acks;
  auto w = Open(&env, Options(SyncMode::kNone));
  ASSERT_NE(w, nullptr);
  for (int i = 0; i < 50; ++i) w->Append(RecordType::kRowBatch, StrCat(i), acks.Track(StrCat(i)));
  acks.WaitFor(50);
  EXPECT_EQ(w->stats().fsyncs, 0u);
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  // Whatever is left must still read as a log (here: the header alone).
  auto records = ReadAll(/*expect_clean=*/false);
  EXPECT_LE(records.size(), 50u);
}

TEST_F(WalWriterTest, SyncIsADurabilityBarrier) {
  FaultInjectionEnv env(Env::Default());
  Acks acks;
  auto w = Open(&env, Options(SyncMode::kNone));
  ASSERT_NE(w, nullptr);
  EXPECT_TRUE(w->Sync().ok());  // nothing pending
  for (int i = 0; i < 30; ++i) w->Append(RecordType::kRowBatch, StrCat(i), acks.Track(StrCat(i)));
  ASSERT_TRUE(w->Sync().ok());
  EXPECT_EQ(acks.order().size(), 30u);  // everything appended before Sync is done
  EXPECT_GE(w->stats().fsyncs, 1u);
  EXPECT_EQ(w->stats().records, 30u);  // the barrier is not a record
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  auto records = ReadAll();
  ASSERT_EQ(records.size(), 30u);
  for (size_t i = 0; i < 30; ++i) EXPECT_EQ(records[i].second, StrCat(i));
}

TEST_F(WalWriterTest, BatchModeSyncsOnItsOwn) {
  FaultInjectionEnv env(Env::Default());
  WalOptions o = Options(SyncMode::kBatch);
  o.sync_interval_ms = 1;
  Acks acks;
  auto w = Open(&env, o);
  ASSERT_NE(w, nullptr);
  for (int i = 0; i < 10; ++i) w->Append(RecordType::kRowBatch, StrCat(i), acks.Track(StrCat(i)));
  acks.WaitFor(10);
  // No Sync() call: the writer's own timer must make the records durable. Wait
  // for it (bounded), then lose power.
  for (int i = 0; i < 10000 && w->stats().fsyncs == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_GE(w->stats().fsyncs, 1u);
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  EXPECT_EQ(ReadAll().size(), 10u);
}

TEST_F(WalWriterTest, RotationProducesSeveralReadableFiles) {
  WalOptions o = Options(SyncMode::kAlways);
  o.max_file_bytes = 512;
  auto w = Open(Env::Default(), o);
  ASSERT_NE(w, nullptr);
  std::vector<std::string> payloads;
  for (int i = 0; i < 40; ++i) {
    payloads.push_back(StrCat(i, ":", std::string(80, 'a' + i % 26)));
    Ack ack = AppendAndWait(w.get(), payloads.back());
    ASSERT_TRUE(ack.status.ok()) << ack.status;
    ASSERT_EQ(ack.seq, static_cast<uint64_t>(i + 1));
  }
  const uint64_t current = w->stats().current_file_number;
  w->Close();
  std::vector<uint64_t> numbers = FileNumbers();
  ASSERT_GE(numbers.size(), 5u);
  EXPECT_EQ(numbers.back(), current);
  for (size_t i = 0; i < numbers.size(); ++i) {
    EXPECT_EQ(numbers[i], i + 1);  // consecutive, no gaps
    // A file grows past the limit by at most one group before rotating.
    auto size = Env::Default()->FileSize(JoinPath(dir_, WalFileName(numbers[i])));
    EXPECT_LT(*size, 512u + 200u);
  }
  auto records = ReadAll();  // every file, the newest included, reads strictly
  ASSERT_EQ(records.size(), payloads.size());
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].first, i + 1);
    EXPECT_EQ(records[i].second, payloads[i]);
  }
}

// ENOSPC: the failing group is refused, later groups succeed once space is back,
// and no file is left with a partial record or without a header.
TEST_F(WalWriterTest, FailedAppendsRecoverAfterSpaceReturns) {
  FaultInjectionEnv env(Env::Default());
  auto w = Open(&env, Options(SyncMode::kAlways));
  ASSERT_NE(w, nullptr);
  std::map<uint64_t, std::string> acked;
  auto append = [&](const std::string& p) {
    Ack a = AppendAndWait(w.get(), p);
    if (a.status.ok()) acked[a.seq] = p;
    return a;
  };
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(append(StrCat("before ", i)).status.ok());

  const absl::Status enospc = absl::ResourceExhaustedError("injected: No space left on device");
  env.FailAppends(enospc);
  for (int i = 0; i < 3; ++i) {
    Ack a = append(StrCat("refused ", i));
    EXPECT_EQ(a.status, enospc);
    EXPECT_EQ(a.seq, 0u);
  }
  // A Sync() barrier while the disk is full has nothing to write: fine.
  EXPECT_TRUE(w->Sync().ok());
  env.ClearFaults();

  for (int i = 0; i < 5; ++i) {
    Ack a = append(StrCat("after ", i));
    ASSERT_TRUE(a.status.ok()) << a.status;
    EXPECT_EQ(a.seq, static_cast<uint64_t>(6 + i));  // refused records used no seq
  }
  w->Close();
  ASSERT_TRUE(env.DropUnsyncedData().ok());

  EXPECT_GE(FileNumbers().size(), 2u);  // moved to a fresh file after the failure
  auto records = ReadAll();             // strict everywhere: no partial record anywhere
  ASSERT_EQ(records.size(), acked.size());
  for (const auto& [seq, payload] : records) EXPECT_EQ(acked[seq], payload) << seq;
}

// A rotation attempted while the disk is full must not wedge the writer either.
TEST_F(WalWriterTest, RotationWhileDiskFullRecovers) {
  FaultInjectionEnv env(Env::Default());
  WalOptions o = Options(SyncMode::kAlways);
  o.max_file_bytes = 100;
  auto w = Open(&env, o);
  ASSERT_NE(w, nullptr);
  std::map<uint64_t, std::string> acked;
  auto append = [&](const std::string& p) {
    Ack a = AppendAndWait(w.get(), p);
    if (a.status.ok()) acked[a.seq] = p;
    return a;
  };
  ASSERT_TRUE(append(std::string(100, 'x')).status.ok());  // file 1 is now full
  env.FailAppends(absl::ResourceExhaustedError("disk full"));
  EXPECT_EQ(append("a").status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(append("b").status.code(), absl::StatusCode::kResourceExhausted);
  env.ClearFaults();
  ASSERT_TRUE(append("c").status.ok());
  ASSERT_TRUE(append("d").status.ok());
  w->Close();
  auto records = ReadAll();
  ASSERT_EQ(records.size(), acked.size());
  for (const auto& [seq, payload] : records) EXPECT_EQ(acked[seq], payload) << seq;
}

TEST_F(WalWriterTest, ShortWriteIsCutOffAndWritingContinues) {
  FaultInjectionEnv env(Env::Default());
  auto w = Open(&env, Options(SyncMode::kAlways));
  ASSERT_NE(w, nullptr);
  std::map<uint64_t, std::string> acked;
  for (int i = 0; i < 3; ++i) {
    Ack a = AppendAndWait(w.get(), StrCat("ok ", i));
    ASSERT_TRUE(a.status.ok());
    acked[a.seq] = StrCat("ok ", i);
  }
  env.ShortWriteNext(30);  // header and a few payload bytes hit the disk
  EXPECT_EQ(AppendAndWait(w.get(), std::string(500, 'p')).status.code(),
            absl::StatusCode::kResourceExhausted);
  for (int i = 0; i < 3; ++i) {
    Ack a = AppendAndWait(w.get(), StrCat("later ", i));
    ASSERT_TRUE(a.status.ok()) << a.status;
    acked[a.seq] = StrCat("later ", i);
  }
  w->Close();
  auto records = ReadAll();  // strict: file 1 ends on a complete record
  ASSERT_EQ(records.size(), acked.size());
  for (const auto& [seq, payload] : records) EXPECT_EQ(acked[seq], payload) << seq;
}

// Sync() promises that everything acknowledged before it is durable. Under
// kBatch, records acknowledged in a file whose later write failed were never
// fsynced once the writer had moved on to a new file.
TEST_F(WalWriterTest, SyncAfterFailedWriteCoversTheEarlierFile) {
  FaultInjectionEnv env(Env::Default());
  WalOptions o = Options(SyncMode::kBatch);
  o.sync_interval_ms = 3'600'000;  // only Sync() makes anything durable here
  auto w = Open(&env, o);
  ASSERT_NE(w, nullptr);
  std::map<uint64_t, std::string> acked;
  auto append = [&](const std::string& p) {
    Ack a = AppendAndWait(w.get(), p);
    if (a.status.ok()) acked[a.seq] = p;
    return a;
  };
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(append(StrCat("early ", i)).status.ok());
  env.FailAppends(absl::ResourceExhaustedError("disk full"));
  EXPECT_FALSE(append("refused").status.ok());
  env.ClearFaults();
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(append(StrCat("late ", i)).status.ok());
  ASSERT_TRUE(w->Sync().ok());
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  auto records = ReadAll();
  ASSERT_EQ(records.size(), acked.size());
  for (const auto& [seq, payload] : records) EXPECT_EQ(acked[seq], payload) << seq;
}

TEST_F(WalWriterTest, FailedSyncPoisonsTheWriter) {
  FaultInjectionEnv env(Env::Default());
  auto w = Open(&env, Options(SyncMode::kAlways));
  ASSERT_NE(w, nullptr);
  std::map<uint64_t, std::string> acked;
  for (int i = 0; i < 3; ++i) {
    Ack a = AppendAndWait(w.get(), StrCat(i));
    ASSERT_TRUE(a.status.ok());
    acked[a.seq] = StrCat(i);
  }
  env.FailSyncs(absl::InternalError("injected EIO"));
  Ack failed = AppendAndWait(w.get(), "not durable");
  EXPECT_EQ(failed.status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(ToStd(failed.status.message()), HasSubstr("fsync failed"));
  EXPECT_THAT(ToStd(failed.status.message()), HasSubstr("injected EIO"));
  env.ClearFaults();
  // After a failed fsync the kernel may have dropped the dirty pages: nothing
  // more is accepted, even though the fault is gone.
  for (int i = 0; i < 3; ++i) {
    Ack a = AppendAndWait(w.get(), "refused");
    EXPECT_EQ(a.status, failed.status);
    EXPECT_EQ(a.seq, 0u);
  }
  EXPECT_EQ(w->Sync(), failed.status);
  w->Close();
  // What was acknowledged is there; the unacknowledged record may or may not be.
  auto records = ReadAll(/*expect_clean=*/false);
  ASSERT_GE(records.size(), acked.size());
  for (const auto& [seq, payload] : acked) EXPECT_EQ(records[seq - 1].second, payload);
}

TEST_F(WalWriterTest, CloseDrainsPending) {
  Acks acks;
  Gate gate;
  auto w = Open(Env::Default(), Options(SyncMode::kAlways));
  ASSERT_NE(w, nullptr);
  OpenOnExit release{&gate};
  w->Append(RecordType::kRowBatch, "first", [&](const absl::Status& s, uint64_t seq) {
    acks.Track("first")(s, seq);
    gate.Wait();
  });
  // Queue up behind the stalled writer, then close while they are pending.
  for (int i = 0; i < 100; ++i) w->Append(RecordType::kRowBatch, StrCat(i), acks.Track(StrCat(i)));
  gate.Open();
  w->Close();
  std::vector<Ack> order = acks.order();
  ASSERT_EQ(order.size(), 101u);
  for (size_t i = 0; i < order.size(); ++i) {
    EXPECT_TRUE(order[i].status.ok());
    EXPECT_EQ(order[i].seq, i + 1);
  }
  // Closed: new appends fail at once, on the caller's thread.
  bool called = false;
  w->Append(RecordType::kRowBatch, "late", [&](const absl::Status& s, uint64_t seq) {
    called = true;
    EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(seq, 0u);
  });
  EXPECT_TRUE(called);
  EXPECT_EQ(w->Sync().code(), absl::StatusCode::kUnavailable);
  w->Close();  // idempotent
  EXPECT_EQ(ReadAll().size(), 101u);
}

TEST_F(WalWriterTest, CloseSyncsInNoneMode) {
  FaultInjectionEnv env(Env::Default());
  auto w = Open(&env, Options(SyncMode::kNone));
  ASSERT_NE(w, nullptr);
  for (int i = 0; i < 20; ++i) w->Append(RecordType::kRowBatch, StrCat(i), [](auto&, uint64_t) {});
  w.reset();  // the destructor closes
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  EXPECT_EQ(ReadAll().size(), 20u);
}

TEST_F(WalWriterTest, OpenFailsWhenTheDirectoryCannotBeCreated) {
  ASSERT_TRUE(Env::Default()->CreateDirs(root_).ok());
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), dir_, "a file, not a directory").ok());
  auto w = WalWriter::Open(Env::Default(), Options(), 1, 0);
  EXPECT_FALSE(w.ok());
}

}  // namespace
}  // namespace timestore::wal
