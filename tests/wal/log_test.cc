// Log framing and recovery, in the manner of LevelDB's log_test.cc: build a log
// in memory, damage it byte by byte, and check exactly what ParseLog reports
// and which records survive.
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/checksum.h"
#include "common/coding.h"
#include "common/env.h"
#include "common/strings.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "wal/log_reader.h"
#include "wal/log_writer.h"
#include "wal/wal_format.h"

namespace timestore::wal {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kPath[] = "/data/wal/000007.wal";

struct Rec {
  RecordType type;
  uint64_t seq;
  std::string payload;
};

struct Log {
  std::string bytes;
  std::vector<uint64_t> offsets;  // of each record header
};

Log Build(const std::vector<Rec>& recs, uint32_t magic = kWalMagic) {
  Log log;
  log.bytes = EncodeFileHeader(magic);
  for (const Rec& r : recs) {
    log.offsets.push_back(log.bytes.size());
    AppendFramedRecord(&log.bytes, r.type, r.seq, r.payload);
  }
  return log;
}

std::string RandomBytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

// Five records of 100 random bytes, seqs 1..5.
std::vector<Rec> FiveRecords() {
  std::mt19937_64 rng(5);
  std::vector<Rec> recs;
  for (uint64_t i = 1; i <= 5; ++i)
    recs.push_back({RecordType::kRowBatch, i, RandomBytes(rng, 100)});
  return recs;
}

absl::StatusOr<LogFile> Parse(std::string bytes, TailPolicy policy) {
  return ParseLog(kPath, std::move(bytes), kWalMagic, policy);
}

// The first `n` records of `log` are exactly `want[0..n)`, and nothing more.
void ExpectRecords(const LogFile& log, const std::vector<Rec>& want, size_t n) {
  ASSERT_EQ(log.records.size(), n);
  for (size_t i = 0; i < n; ++i) {
    EXPECT_EQ(log.records[i].type, want[i].type) << i;
    EXPECT_EQ(log.records[i].seq, want[i].seq) << i;
    EXPECT_EQ(log.records[i].payload, want[i].payload) << i;
  }
}

std::string CorruptAt(uint64_t offset) {
  return StrCat(kPath, ": corrupt record at offset ", offset, ": ");
}

// Each header field and the payload, as offsets inside a record.
struct Region {
  const char* name;
  size_t offset;
};
constexpr Region kRegions[] = {
    {"checksum low", 0}, {"checksum high", 7},  {"length low", 8}, {"length high", 11},
    {"type", 12},        {"seq low", 13},       {"seq high", 20},  {"payload first", 21},
    {"payload mid", 71}, {"payload last", 120},
};
constexpr uint8_t kMasks[] = {0x01, 0x04, 0x80, 0xff};

TEST(LogFormat, FileHeaderBytes) {
  EXPECT_EQ(EncodeFileHeader(kWalMagic), std::string("TSWL\x01\0\0\0\0\0\0\0\0\0\0\0", 16));
  EXPECT_EQ(EncodeFileHeader(kManifestMagic), std::string("TSMF\x01\0\0\0\0\0\0\0\0\0\0\0", 16));
  EXPECT_EQ(EncodeFileHeader(kWalMagic).size(), kFileHeaderSize);
}

TEST(LogFormat, RecordBytes) {
  std::string framed;
  AppendFramedRecord(&framed, RecordType::kManifestEdit, 0x0102030405060708, "abc");
  ASSERT_EQ(framed.size(), kRecordHeaderSize + 3);
  EXPECT_EQ(DecodeFixed64(framed.data()), Checksum64(framed.data() + 8, framed.size() - 8));
  EXPECT_EQ(framed.substr(8), std::string("\x03\0\0\0"
                                          "\x02"
                                          "\x08\x07\x06\x05\x04\x03\x02\x01"
                                          "abc",
                                          16));
  // Appends rather than overwrites.
  AppendFramedRecord(&framed, RecordType::kRowBatch, 9, "");
  EXPECT_EQ(framed.size(), 2 * kRecordHeaderSize + 3);
}

TEST(LogReader, HeaderOnly) {
  auto log = Parse(EncodeFileHeader(kWalMagic), TailPolicy::kStrict);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_TRUE(log->records.empty());
  EXPECT_EQ(log->valid_bytes, kFileHeaderSize);
  EXPECT_EQ(log->dropped_bytes, 0u);
  EXPECT_EQ(log->drop_reason, "");
  EXPECT_EQ(log->path, kPath);
}

TEST(LogReader, RoundTripManyRecords) {
  std::mt19937_64 rng(1);
  std::vector<Rec> recs;
  uint64_t seq = 0;
  for (size_t size : {0, 1, 20, 21, 100, 4095, 4096, 70000, 1 << 20, 0, 3}) {
    seq += 1 + rng() % 3;  // gaps are fine, only strictly increasing matters
    recs.push_back(
        {seq % 2 ? RecordType::kRowBatch : RecordType::kManifestEdit, seq, RandomBytes(rng, size)});
  }
  for (int i = 0; i < 500; ++i)
    recs.push_back({RecordType::kRowBatch, ++seq, RandomBytes(rng, rng() % 300)});
  Log built = Build(recs);
  for (TailPolicy policy :
       {TailPolicy::kStrict, TailPolicy::kTornTailOnly, TailPolicy::kTruncate}) {
    auto log = Parse(built.bytes, policy);
    ASSERT_TRUE(log.ok()) << log.status();
    ExpectRecords(*log, recs, recs.size());
    for (size_t i = 0; i < recs.size(); ++i) EXPECT_EQ(log->records[i].offset, built.offsets[i]);
    EXPECT_EQ(log->valid_bytes, built.bytes.size());
    EXPECT_EQ(log->dropped_bytes, 0u);
    EXPECT_EQ(log->drop_reason, "");
  }
}

TEST(LogReader, PayloadsPointIntoContentsAfterMove) {
  Log built = Build(FiveRecords());
  auto parsed = Parse(built.bytes, TailPolicy::kStrict);
  ASSERT_TRUE(parsed.ok());
  LogFile log = std::move(*parsed);
  for (const LogRecord& r : log.records) {
    EXPECT_GE(r.payload.data(), log.contents.data());
    EXPECT_LE(r.payload.data() + r.payload.size(), log.contents.data() + log.contents.size());
    EXPECT_EQ(r.payload, std::string_view(built.bytes).substr(r.offset + kRecordHeaderSize, 100));
  }
}

TEST(LogReader, ReadLogThroughEnv) {
  char tmpl[] = "/tmp/timestore_log_test.XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  const std::string path = JoinPath(dir, "000001.wal");
  auto w = LogWriter::Create(Env::Default(), path, kWalMagic);
  ASSERT_TRUE(w.ok()) << w.status();
  std::vector<Rec> recs = FiveRecords();
  for (const Rec& r : recs) ASSERT_TRUE((*w)->AddRecord(r.type, r.seq, r.payload).ok());
  ASSERT_TRUE((*w)->Sync().ok());
  EXPECT_EQ((*w)->size(), Build(recs).bytes.size());
  EXPECT_EQ((*w)->path(), path);
  ASSERT_TRUE((*w)->Close().ok());
  auto log = ReadLog(Env::Default(), path, kWalMagic, TailPolicy::kStrict);
  ASSERT_TRUE(log.ok()) << log.status();
  ExpectRecords(*log, recs, recs.size());
  EXPECT_EQ(Build(recs).bytes, log->contents);
  EXPECT_EQ(ReadLog(Env::Default(), path + "x", kWalMagic, TailPolicy::kStrict).status().code(),
            absl::StatusCode::kNotFound);
  std::filesystem::remove_all(dir);
}

TEST(LogReader, CorruptMiddleRecordIsDataLossNamingPathAndOffset) {
  const std::vector<Rec> recs = FiveRecords();
  const Log built = Build(recs);
  const uint64_t off = built.offsets[2];
  for (const Region& region : kRegions) {
    for (uint8_t mask : kMasks) {
      SCOPED_TRACE(StrCat(region.name, " ^ ", int{mask}));
      std::string bytes = built.bytes;
      bytes[off + region.offset] ^= static_cast<char>(mask);
      for (TailPolicy policy : {TailPolicy::kTornTailOnly, TailPolicy::kStrict}) {
        auto log = Parse(bytes, policy);
        ASSERT_FALSE(log.ok());
        EXPECT_EQ(log.status().code(), absl::StatusCode::kDataLoss);
        EXPECT_THAT(ToStd(log.status().message()), StartsWith(CorruptAt(off)));
        EXPECT_THAT(
            ToStd(log.status().message()),
            EndsWith(StrCat("(", bytes.size() - off, " bytes from there on cannot be read)")));
      }
      // The operator override keeps everything before the damage and says why.
      auto log = Parse(bytes, TailPolicy::kTruncate);
      ASSERT_TRUE(log.ok()) << log.status();
      ExpectRecords(*log, recs, 2);
      EXPECT_EQ(log->valid_bytes, off);
      EXPECT_EQ(log->dropped_bytes, bytes.size() - off);
      EXPECT_THAT(log->drop_reason, EndsWith(StrCat(" at offset ", off)));
    }
  }
}

TEST(LogReader, ChecksumMismatchExactMessage) {
  const Log built = Build(FiveRecords());
  std::string bytes = built.bytes;
  bytes[built.offsets[1] + 50] ^= 1;
  auto log = Parse(bytes, TailPolicy::kTornTailOnly);
  EXPECT_EQ(log.status(),
            absl::DataLossError(StrCat(kPath, ": corrupt record at offset ", built.offsets[1],
                                       ": checksum mismatch (", bytes.size() - built.offsets[1],
                                       " bytes from there on cannot be read)")));
}

// A flipped high length byte in a middle record claims a record running past
// the end of the file. That used to be taken for a torn tail, silently dropping
// every acknowledged record after it.
TEST(LogReader, LengthPointingPastEndInMiddleRecordIsNotTornTail) {
  const std::vector<Rec> recs = FiveRecords();
  const Log built = Build(recs);
  std::string bytes = built.bytes;
  bytes[built.offsets[1] + 10] ^= 0x01;  // length += 65536
  auto log = Parse(bytes, TailPolicy::kTornTailOnly);
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(ToStd(log.status().message()), StartsWith(CorruptAt(built.offsets[1])));
  EXPECT_THAT(ToStd(log.status().message()), HasSubstr("extends past the end of the file"));
}

TEST(LogReader, CorruptLastRecordIsTornTail) {
  const std::vector<Rec> recs = FiveRecords();
  const Log built = Build(recs);
  const uint64_t off = built.offsets[4];
  for (const Region& region : kRegions) {
    for (uint8_t mask : kMasks) {
      SCOPED_TRACE(StrCat(region.name, " ^ ", int{mask}));
      std::string bytes = built.bytes;
      bytes[off + region.offset] ^= static_cast<char>(mask);
      auto log = Parse(bytes, TailPolicy::kTornTailOnly);
      ASSERT_TRUE(log.ok()) << log.status();
      ExpectRecords(*log, recs, 4);
      EXPECT_EQ(log->valid_bytes, off);
      EXPECT_EQ(log->dropped_bytes, bytes.size() - off);
      EXPECT_THAT(log->drop_reason, EndsWith(StrCat(" at offset ", off)));

      // Older files were complete when rotated: the same damage there is DataLoss.
      auto strict = Parse(bytes, TailPolicy::kStrict);
      EXPECT_EQ(strict.status().code(), absl::StatusCode::kDataLoss);
      EXPECT_THAT(ToStd(strict.status().message()), StartsWith(CorruptAt(off)));
    }
  }
}

TEST(LogReader, TruncatedLastRecordIsTornTail) {
  const std::vector<Rec> recs = FiveRecords();
  const Log built = Build(recs);
  const uint64_t off = built.offsets[4];
  for (uint64_t cut = off + 1; cut < built.bytes.size(); ++cut) {
    SCOPED_TRACE(StrCat("cut at ", cut));
    std::string bytes = built.bytes.substr(0, cut);
    auto log = Parse(bytes, TailPolicy::kTornTailOnly);
    ASSERT_TRUE(log.ok()) << log.status();
    ExpectRecords(*log, recs, 4);
    EXPECT_EQ(log->valid_bytes, off);
    EXPECT_EQ(log->dropped_bytes, cut - off);
    EXPECT_THAT(log->drop_reason,
                HasSubstr(cut - off < kRecordHeaderSize ? "incomplete record header"
                                                        : "extends past the end of the file"));
    EXPECT_THAT(log->drop_reason, EndsWith(StrCat(" at offset ", off)));

    auto truncate = Parse(bytes, TailPolicy::kTruncate);
    ASSERT_TRUE(truncate.ok());
    EXPECT_EQ(truncate->records.size(), 4u);
    EXPECT_EQ(truncate->dropped_bytes, cut - off);

    auto strict = Parse(bytes, TailPolicy::kStrict);
    EXPECT_EQ(strict.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(ToStd(strict.status().message()), StartsWith(CorruptAt(off)));
  }
  // Cut exactly at a record boundary: a clean, shorter log.
  auto log = Parse(built.bytes.substr(0, off), TailPolicy::kStrict);
  ASSERT_TRUE(log.ok());
  ExpectRecords(*log, recs, 4);
  EXPECT_EQ(log->dropped_bytes, 0u);
}

TEST(LogReader, ShorterThanFileHeader) {
  const Log built = Build(FiveRecords());
  for (size_t n = 0; n < kFileHeaderSize; ++n) {
    SCOPED_TRACE(n);
    std::string bytes = built.bytes.substr(0, n);
    auto log = Parse(bytes, TailPolicy::kTornTailOnly);
    ASSERT_TRUE(log.ok()) << log.status();
    EXPECT_TRUE(log->records.empty());
    EXPECT_EQ(log->dropped_bytes, n);
    EXPECT_EQ(log->valid_bytes, 0u);
    EXPECT_EQ(log->drop_reason, "file header incomplete");
    EXPECT_TRUE(Parse(bytes, TailPolicy::kTruncate).ok());
    EXPECT_EQ(Parse(bytes, TailPolicy::kStrict).status(),
              absl::DataLossError(
                  StrCat(kPath, ": file is ", n, " bytes, shorter than the log file header")));
  }
}

TEST(LogReader, ZeroFilledTailIsTorn) {
  const std::vector<Rec> recs = FiveRecords();
  const Log built = Build(recs);
  // Preallocated or never-written blocks read back as zeros after a crash.
  for (size_t zeros : {1, 20, 21, 22, 4096}) {
    SCOPED_TRACE(zeros);
    std::string bytes = built.bytes + std::string(zeros, '\0');
    auto log = Parse(bytes, TailPolicy::kTornTailOnly);
    ASSERT_TRUE(log.ok()) << log.status();
    ExpectRecords(*log, recs, 5);
    EXPECT_EQ(log->valid_bytes, built.bytes.size());
    EXPECT_EQ(log->dropped_bytes, zeros);
    EXPECT_EQ(log->drop_reason,
              StrCat(zeros < kRecordHeaderSize ? "incomplete record header"
                                               : "zero-filled bytes where a record header was "
                                                 "expected",
                     " at offset ", built.bytes.size()));
    EXPECT_EQ(Parse(bytes, TailPolicy::kStrict).status().code(), absl::StatusCode::kDataLoss);
  }
  // The last record's own bytes zeroed from some point on (a torn page).
  std::string bytes = built.bytes;
  std::fill(bytes.begin() + built.offsets[4] + 30, bytes.end(), '\0');
  auto log = Parse(bytes, TailPolicy::kTornTailOnly);
  ASSERT_TRUE(log.ok()) << log.status();
  ExpectRecords(*log, recs, 4);
  EXPECT_EQ(log->drop_reason, StrCat("checksum mismatch at offset ", built.offsets[4]));
}

TEST(LogReader, GarbageTailIsTorn) {
  const std::vector<Rec> recs = FiveRecords();
  const Log built = Build(recs);
  std::mt19937_64 rng(3);
  for (int i = 0; i < 50; ++i) {
    std::string tail = RandomBytes(rng, 1 + rng() % 200);
    auto log = Parse(built.bytes + tail, TailPolicy::kTornTailOnly);
    ASSERT_TRUE(log.ok()) << log.status();
    ExpectRecords(*log, recs, 5);
    EXPECT_EQ(log->dropped_bytes, tail.size());
  }
}

TEST(LogReader, ZeroedMiddleRecordIsDataLoss) {
  const Log built = Build(FiveRecords());
  std::string bytes = built.bytes;
  std::fill(bytes.begin() + built.offsets[2], bytes.begin() + built.offsets[3], '\0');
  auto log = Parse(bytes, TailPolicy::kTornTailOnly);
  EXPECT_EQ(log.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(ToStd(log.status().message()), StartsWith(CorruptAt(built.offsets[2])));
  EXPECT_THAT(ToStd(log.status().message()), HasSubstr("zero-filled"));
}

TEST(LogReader, TruncatePolicyDropsFromMidFileCorruption) {
  const std::vector<Rec> recs = FiveRecords();
  const Log built = Build(recs);
  std::string bytes = built.bytes;
  bytes[built.offsets[1] + 40] ^= 0x10;
  auto log = Parse(bytes, TailPolicy::kTruncate);
  ASSERT_TRUE(log.ok()) << log.status();
  ExpectRecords(*log, recs, 1);
  EXPECT_EQ(log->valid_bytes, built.offsets[1]);
  EXPECT_EQ(log->dropped_bytes, bytes.size() - built.offsets[1]);
  EXPECT_EQ(log->drop_reason, StrCat("checksum mismatch at offset ", built.offsets[1]));
}

TEST(LogReader, BadMagic) {
  const Log built = Build(FiveRecords());
  for (TailPolicy policy :
       {TailPolicy::kStrict, TailPolicy::kTornTailOnly, TailPolicy::kTruncate}) {
    // A manifest is not a WAL, and vice versa.
    auto log = ParseLog(kPath, built.bytes, kManifestMagic, policy);
    EXPECT_EQ(log.status(),
              absl::DataLossError(
                  StrCat(kPath, ": bad magic at offset 0 (not a Timestore log of this kind)")));
    std::string bytes = built.bytes;
    bytes[0] ^= 0x20;  // "tSWL"
    EXPECT_EQ(Parse(bytes, policy).status().code(), absl::StatusCode::kDataLoss);
  }
  auto manifest = ParseLog(kPath, Build(FiveRecords(), kManifestMagic).bytes, kManifestMagic,
                           TailPolicy::kStrict);
  ASSERT_TRUE(manifest.ok());
  EXPECT_EQ(manifest->records.size(), 5u);
}

TEST(LogReader, WrongVersion) {
  std::string bytes = Build(FiveRecords()).bytes;
  for (uint32_t version : {0u, 2u, 0x01000000u}) {
    EncodeFixed32(bytes.data() + 4, version);
    for (TailPolicy policy :
         {TailPolicy::kStrict, TailPolicy::kTornTailOnly, TailPolicy::kTruncate}) {
      auto log = Parse(bytes, policy);
      EXPECT_EQ(log.status().code(), absl::StatusCode::kFailedPrecondition);
      EXPECT_THAT(ToStd(log.status().message()),
                  HasSubstr(StrCat("log format version ", version, " is not supported")));
    }
  }
}

TEST(LogReader, NonIncreasingSeqIsCorrupt) {
  for (uint64_t bad_seq : {uint64_t{2}, uint64_t{1}, uint64_t{0}}) {
    SCOPED_TRACE(bad_seq);
    std::vector<Rec> recs = FiveRecords();
    recs[2].seq = bad_seq;  // follows seq 2
    const Log built = Build(recs);
    // The checksums are intact, so this is never a torn tail, not even at the end.
    for (size_t last : {size_t{5}, size_t{3}}) {
      std::string bytes = built.bytes.substr(0, last == 5 ? built.bytes.size() : built.offsets[3]);
      for (TailPolicy policy : {TailPolicy::kTornTailOnly, TailPolicy::kStrict}) {
        auto log = Parse(bytes, policy);
        EXPECT_EQ(log.status().code(), absl::StatusCode::kDataLoss);
        EXPECT_THAT(ToStd(log.status().message()),
                    StartsWith(StrCat(CorruptAt(built.offsets[2]), "sequence number ", bad_seq,
                                      " does not follow 2")));
      }
      auto log = Parse(bytes, TailPolicy::kTruncate);
      ASSERT_TRUE(log.ok());
      ExpectRecords(*log, recs, 2);
    }
  }
}

TEST(LogReader, FirstRecordMayHaveAnySeq) {
  for (uint64_t seq : {uint64_t{0}, uint64_t{1}, uint64_t{1} << 63, ~uint64_t{0}}) {
    auto log = Parse(Build({{RecordType::kRowBatch, seq, "x"}}).bytes, TailPolicy::kStrict);
    ASSERT_TRUE(log.ok()) << seq;
    EXPECT_EQ(log->records[0].seq, seq);
  }
}

TEST(LogReader, TypeZeroWithValidChecksumIsCorruptEvenAtTheEnd) {
  std::vector<Rec> recs = FiveRecords();
  recs[4].type = RecordType::kInvalid;
  const Log built = Build(recs);
  auto log = Parse(built.bytes, TailPolicy::kTornTailOnly);
  EXPECT_EQ(log.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(ToStd(log.status().message()),
              StartsWith(StrCat(CorruptAt(built.offsets[4]), "record type 0")));
}

TEST(LogReader, FixedUpChecksumIsAccepted) {
  // The checksum is the only guard: repair it after an edit and the edit reads back.
  const std::vector<Rec> recs = FiveRecords();
  const Log built = Build(recs);
  std::string bytes = built.bytes;
  const uint64_t off = built.offsets[2];
  bytes[off + kRecordHeaderSize] ^= 0x55;
  EncodeFixed64(bytes.data() + off,
                Checksum64(bytes.data() + off + 8, kRecordHeaderSize - 8 + 100));
  auto log = Parse(bytes, TailPolicy::kStrict);
  ASSERT_TRUE(log.ok()) << log.status();
  ASSERT_EQ(log->records.size(), 5u);
  EXPECT_EQ(log->records[2].payload[0], static_cast<char>(recs[2].payload[0] ^ 0x55));
}

TEST(LogReader, LengthAboveMaximumIsCorrupt) {
  std::vector<Rec> recs = FiveRecords();
  const Log built = Build(recs);
  std::string bytes = built.bytes;
  const uint64_t off = built.offsets[2];
  EncodeFixed32(bytes.data() + off + 8, kMaxPayloadBytes + 1);
  auto log = Parse(bytes, TailPolicy::kTornTailOnly);
  EXPECT_EQ(log.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(ToStd(log.status().message()),
              HasSubstr(StrCat("record length ", kMaxPayloadBytes + 1, " exceeds the maximum")));
}

}  // namespace
}  // namespace timestore::wal
