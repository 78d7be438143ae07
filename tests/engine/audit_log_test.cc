// The audit log file: round trip across reopen, a torn last line, a corrupt
// line in the middle, rotation, the in-memory window, queries, and what a
// failed append or a power loss leaves behind.
#include "engine/audit_log.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "common/strings.h"

namespace timestore {
namespace {

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/timestore-audit-XXXXXX";
    root_ = mkdtemp(tmpl);
    path_ = JoinPath(root_, "audit.log");
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  static AuditEvent Event(int n, std::string dataset_id = "00000000000000aa") {
    AuditEvent e;
    e.time_ns = 1'714'564'800'000'000'000 + n * 1'000'000'000LL;
    e.actor = StrCat("user", n);
    e.action = "settings.update";
    e.dataset_id = std::move(dataset_id);
    e.dataset = "cpu";
    e.before = StrCat("{\"n\":", n - 1, "}");
    e.after = StrCat("{\"n\":", n, "}");
    return e;
  }

  std::string Read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  void Write(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  }
  void AppendRaw(const std::string& text) {
    std::ofstream(path_, std::ios::binary | std::ios::app) << text;
  }

  std::string root_;
  std::string path_;
};

TEST_F(AuditLogTest, RoundTripAcrossReopen) {
  {
    auto log = AuditLog::Open(Env::Default(), path_);
    EXPECT_EQ(log->open_report().events_loaded, 0u);
    ASSERT_TRUE(log->Append(Event(1), true).ok());
    AuditEvent anonymous = Event(2);
    anonymous.actor.reset();
    anonymous.before = "null";
    anonymous.after = R"({"rows":3,"s":"a\"b\n"})";
    ASSERT_TRUE(log->Append(anonymous, false).ok());
    ASSERT_TRUE(log->Append(Event(3), true).ok());
  }
  // One JSON object per line, in append order.
  std::string text = Read(path_);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3);
  EXPECT_EQ(text.substr(0, text.find('\n')),
            R"({"time":"2024-05-01T12:00:01Z","actor":"user1","action":"settings.update",)"
            R"("datasetId":"00000000000000aa","dataset":"cpu","before":{"n":0},"after":{"n":1}})");

  auto log = AuditLog::Open(Env::Default(), path_);
  EXPECT_EQ(log->open_report().events_loaded, 3u);
  EXPECT_TRUE(log->open_report().skipped_lines.empty());
  auto events = log->Query("", 10);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].actor, "user3");  // newest first
  EXPECT_FALSE(events[1].actor.has_value());
  EXPECT_EQ(events[1].before, "null");
  EXPECT_EQ(events[1].after, R"({"rows":3,"s":"a\"b\n"})");
  EXPECT_EQ(events[2].time_ns, Event(1).time_ns);
  EXPECT_EQ(events[2].action, "settings.update");
  EXPECT_EQ(events[2].dataset_id, "00000000000000aa");
  EXPECT_EQ(events[2].dataset, "cpu");
  EXPECT_EQ(events[2].before, R"({"n":0})");
  EXPECT_EQ(AuditEventJson(events[2]), AuditEventJson(Event(1)));
}

TEST_F(AuditLogTest, TornLastLineIsDroppedAndCut) {
  {
    auto log = AuditLog::Open(Env::Default(), path_);
    ASSERT_TRUE(log->Append(Event(1), true).ok());
    ASSERT_TRUE(log->Append(Event(2), true).ok());
  }
  const std::string whole = Read(path_);
  std::string third = AuditEventJson(Event(3));
  AppendRaw(third.substr(0, 25));  // a crash in the middle of the third append
  {
    auto log = AuditLog::Open(Env::Default(), path_);
    EXPECT_EQ(log->open_report().torn_tail_bytes, 25u);
    EXPECT_TRUE(log->open_report().skipped_lines.empty());
    EXPECT_EQ(log->Query("", 10).size(), 2u);
    EXPECT_EQ(Read(path_), whole);  // the fragment is cut from the file
    ASSERT_TRUE(log->Append(Event(4), true).ok());
  }
  auto log = AuditLog::Open(Env::Default(), path_);
  EXPECT_EQ(log->open_report().torn_tail_bytes, 0u);
  EXPECT_TRUE(log->open_report().skipped_lines.empty());
  auto events = log->Query("", 10);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].actor, "user4");
}

TEST_F(AuditLogTest, CorruptMiddleLineIsSkippedNamingTheLine) {
  Write(path_, StrCat(AuditEventJson(Event(1)), "\n", "{\"time\":\"2024-05-01T1\x01garbage\n",
                      "[1,2]\n", R"({"time":"yesterday","action":"x"})", "\n",
                      R"({"time":"2024-05-01T12:00:00Z"})", "\n", AuditEventJson(Event(2)), "\n"));
  auto log = AuditLog::Open(Env::Default(), path_);
  const auto& report = log->open_report();
  EXPECT_EQ(report.events_loaded, 2u);
  EXPECT_EQ(report.torn_tail_bytes, 0u);
  ASSERT_EQ(report.skipped_lines.size(), 4u);
  EXPECT_NE(report.skipped_lines[0].find(StrCat(path_, " line 2: not JSON")), std::string::npos)
      << report.skipped_lines[0];
  EXPECT_NE(report.skipped_lines[1].find("line 3: not a JSON object"), std::string::npos);
  EXPECT_NE(report.skipped_lines[2].find("line 4: \"time\" is not RFC 3339"), std::string::npos);
  EXPECT_NE(report.skipped_lines[3].find("line 5: \"action\" is missing"), std::string::npos);
  auto events = log->Query("", 10);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].actor, "user2");
  EXPECT_EQ(events[1].actor, "user1");
  // The log keeps working after the damage.
  EXPECT_TRUE(log->Append(Event(3), true).ok());
  EXPECT_EQ(log->Query("", 10).size(), 3u);
}

TEST_F(AuditLogTest, UnreadableFileStartsEmptyAndKeepsRunning) {
  std::filesystem::create_directory(path_);  // a directory cannot be read as a file
  auto log = AuditLog::Open(Env::Default(), path_);
  EXPECT_TRUE(log->Query("", 10).empty());
  EXPECT_FALSE(log->Append(Event(1), true).ok());
  EXPECT_TRUE(log->Query("", 10).empty());  // a failed append is not remembered
}

TEST_F(AuditLogTest, RotatesAndReloadsBothFiles) {
  // Events 11..20 all have lines of the same length.
  const size_t line = AuditEventJson(Event(11)).size() + 1;
  AuditLogOptions opts;
  opts.max_file_bytes = 4 * line;  // four events a file
  {
    auto log = AuditLog::Open(Env::Default(), path_, opts);
    for (int n = 11; n <= 20; ++n) ASSERT_TRUE(log->Append(Event(n), n % 2 == 0).ok());
    EXPECT_EQ(log->Query("", 100).size(), 10u);  // memory holds what rotation moved away
  }
  // 11-14 filled the first file, 15-18 the second; 19 rotated the second to
  // audit.log.1, replacing the first.
  std::string current = Read(path_);
  std::string rotated = Read(StrCat(path_, ".1"));
  EXPECT_EQ(std::count(current.begin(), current.end(), '\n'), 2);
  EXPECT_EQ(std::count(rotated.begin(), rotated.end(), '\n'), 4);
  EXPECT_EQ(rotated.size(), opts.max_file_bytes);
  EXPECT_FALSE(std::filesystem::exists(StrCat(path_, ".2")));

  auto log = AuditLog::Open(Env::Default(), path_, opts);
  auto events = log->Query("", 100);
  ASSERT_EQ(events.size(), 6u);  // 20..15, newest first
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].actor, StrCat("user", 20 - static_cast<int>(i)));
  }
}

TEST_F(AuditLogTest, MemoryKeepsTheNewestEventsAcrossFiles) {
  const size_t line = AuditEventJson(Event(11)).size() + 1;
  AuditLogOptions opts;
  opts.max_file_bytes = 4 * line;
  opts.max_events = 5;
  {
    auto log = AuditLog::Open(Env::Default(), path_, opts);
    for (int n = 11; n <= 17; ++n) ASSERT_TRUE(log->Append(Event(n), false).ok());
    auto events = log->Query("", 100);
    ASSERT_EQ(events.size(), 5u);
    EXPECT_EQ(events.front().actor, "user17");
    EXPECT_EQ(events.back().actor, "user13");
  }
  // audit.log holds 15-17, audit.log.1 11-14: the newest five span both.
  auto log = AuditLog::Open(Env::Default(), path_, opts);
  EXPECT_EQ(log->open_report().events_loaded, 5u);
  auto events = log->Query("", 100);
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events.front().actor, "user17");
  EXPECT_EQ(events.back().actor, "user13");
}

TEST_F(AuditLogTest, QueryFiltersByDatasetAndLimits) {
  auto log = AuditLog::Open(Env::Default(), path_);
  for (int n = 0; n < 10; ++n) {
    ASSERT_TRUE(
        log->Append(Event(n, n % 3 == 0 ? "00000000000000aa" : "00000000000000bb"), false).ok());
  }
  AuditEvent global = Event(10, "");
  global.action = "storage_target.update";
  ASSERT_TRUE(log->Append(global, false).ok());

  auto a = log->Query("00000000000000aa", 100);
  ASSERT_EQ(a.size(), 4u);  // 9, 6, 3, 0
  EXPECT_EQ(a[0].actor, "user9");
  EXPECT_EQ(a[3].actor, "user0");
  auto b = log->Query("00000000000000bb", 2);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0].actor, "user8");
  EXPECT_EQ(b[1].actor, "user7");
  auto all = log->Query("", 3);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].action, "storage_target.update");
  EXPECT_TRUE(log->Query("0000000000000000", 10).empty());
  EXPECT_TRUE(log->Query("", 0).empty());
}

TEST_F(AuditLogTest, FailedAppendLeavesNoHalfLineBehind) {
  FaultInjectionEnv env(Env::Default());
  {
    auto log = AuditLog::Open(&env, path_);
    ASSERT_TRUE(log->Append(Event(1), true).ok());
    env.ShortWriteNext(20, "audit.log");
    EXPECT_FALSE(log->Append(Event(2), true).ok());
    env.FailAppends(absl::ResourceExhaustedError("injected ENOSPC"));
    EXPECT_FALSE(log->Append(Event(3), true).ok());
    env.ClearFaults();
    EXPECT_EQ(log->Query("", 10).size(), 1u);  // failed appends are not remembered
    ASSERT_TRUE(log->Append(Event(4), true).ok());
  }
  // The 20-byte fragment was closed by a newline: one skipped line, no merged event.
  auto log = AuditLog::Open(Env::Default(), path_);
  ASSERT_EQ(log->open_report().skipped_lines.size(), 1u);
  EXPECT_NE(log->open_report().skipped_lines[0].find("line 2"), std::string::npos);
  auto events = log->Query("", 10);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].actor, "user4");
  EXPECT_EQ(events[1].actor, "user1");
}

TEST_F(AuditLogTest, PowerLossKeepsSyncedEventsOnly) {
  FaultInjectionEnv env(Env::Default());
  {
    auto log = AuditLog::Open(&env, path_);
    ASSERT_TRUE(log->Append(Event(1), false).ok());  // an ingest event
    ASSERT_TRUE(log->Append(Event(2), true).ok());   // an admin change: its sync covers 1
    ASSERT_TRUE(log->Append(Event(3), false).ok());  // not synced
  }
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  auto log = AuditLog::Open(Env::Default(), path_);
  auto events = log->Query("", 10);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].actor, "user2");
  EXPECT_EQ(events[1].actor, "user1");
}

}  // namespace
}  // namespace timestore
