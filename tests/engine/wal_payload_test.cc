// The kRowBatch WAL payload: every column type and null pattern round-trips
// bit for bit, the layout matches the grammar in engine/wal_payload.h, and the
// decoder survives every truncation and random damage without crashing.
#include "engine/wal_payload.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/coding.h"
#include "common/strings.h"
#include "engine/chunk.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "segment/column.h"

namespace timestore {
namespace {

using ::testing::HasSubstr;

ChunkPtr MakeChunk(std::vector<ColumnVector> columns, int time_index) {
  auto c = std::make_shared<Chunk>();
  c->rows = columns[time_index].length;
  c->columns = std::move(columns);
  c->time_index = time_index;
  c->ComputeStats();
  return c;
}

ColumnVector Times(uint32_t rows, int64_t start = 1714564800'000000000, int64_t step = 1000) {
  ColumnBuilder b(ColumnType::kTimestamp);
  for (uint32_t i = 0; i < rows; ++i) b.AppendInt(start + static_cast<int64_t>(i) * step);
  return b.Finish();
}

ColumnVector Strings(const std::vector<std::string>& values) {
  ColumnBuilder b(ColumnType::kString);
  for (const auto& v : values) b.AppendString(v);
  return b.Finish();
}

// A chunk with every column type; about `null_percent`% nulls outside the time column.
ChunkPtr RandomChunk(std::mt19937_64& rng, uint32_t rows, int null_percent) {
  std::vector<ColumnVector> cols;
  cols.push_back(Strings({}));  // replaced below; the time column sits in the middle
  ColumnBuilder d(ColumnType::kDouble), i(ColumnType::kInteger), s(ColumnType::kString),
      b(ColumnType::kBoolean);
  const std::vector<std::string> words = {
      "", "cpu", "héllo wörld", "日本語", std::string("x\0y", 3), "🙂"};
  for (uint32_t r = 0; r < rows; ++r) {
    auto null = [&] { return static_cast<int>(rng() % 100) < null_percent; };
    if (null()) {
      d.AppendNull();
    } else {
      double special[] = {0.0,
                          -0.0,
                          std::numeric_limits<double>::infinity(),
                          std::numeric_limits<double>::quiet_NaN(),
                          std::numeric_limits<double>::denorm_min(),
                          1e308};
      d.AppendDouble(rng() % 5 == 0 ? special[rng() % 6]
                                    : std::bit_cast<double>(rng() & 0x7fefffffffffffff));
    }
    if (null()) {
      i.AppendNull();
    } else {
      i.AppendInt(static_cast<int64_t>(rng()));
    }
    if (null()) {
      s.AppendNull();
    } else {
      s.AppendString(rng() % 2 ? words[rng() % words.size()] : StrCat("host-", rng() % 50));
    }
    if (null()) {
      b.AppendNull();
    } else {
      b.AppendBool(rng() % 2);
    }
  }
  cols[0] = d.Finish();
  cols.push_back(i.Finish());
  cols.push_back(Times(rows, static_cast<int64_t>(rng() >> 2) - (int64_t{1} << 61), -7));
  cols.push_back(s.Finish());
  cols.push_back(b.Finish());
  return MakeChunk(std::move(cols), 2);
}

void ExpectColumnEq(const ColumnVector& want, const ColumnVector& got, size_t col) {
  SCOPED_TRACE(StrCat("column ", col));
  EXPECT_EQ(got.type, want.type);
  EXPECT_EQ(got.length, want.length);
  EXPECT_EQ(got.all_null, want.all_null);
  EXPECT_EQ(got.valid, want.valid);
  EXPECT_EQ(got.ints, want.ints);
  ASSERT_EQ(got.doubles.size(), want.doubles.size());
  // Bit for bit: NaN payloads and -0.0 survive.
  if (!want.doubles.empty()) {
    EXPECT_EQ(std::memcmp(got.doubles.data(), want.doubles.data(), want.doubles.size() * 8), 0);
  }
  EXPECT_EQ(got.bools, want.bools);
  EXPECT_EQ(got.dict, want.dict);
  EXPECT_EQ(got.ids, want.ids);
}

void ExpectRecordEq(const BatchRecord& want, const BatchRecord& got) {
  EXPECT_EQ(got.dataset_id, want.dataset_id);
  EXPECT_EQ(got.schema_version, want.schema_version);
  ASSERT_EQ(got.idempotency.has_value(), want.idempotency.has_value());
  if (want.idempotency) {
    const IdempotencyInfo& w = *want.idempotency;
    const IdempotencyInfo& g = *got.idempotency;
    EXPECT_EQ(g.key, w.key);
    EXPECT_EQ(g.request_hash, w.request_hash);
    EXPECT_EQ(g.created_ns, w.created_ns);
    EXPECT_EQ(g.answer.rows, w.answer.rows);
    EXPECT_EQ(g.answer.schema_version, w.answer.schema_version);
    EXPECT_EQ(g.answer.watermark, w.answer.watermark);
  }
  const Chunk& wc = *want.chunk;
  const Chunk& gc = *got.chunk;
  EXPECT_EQ(gc.rows, wc.rows);
  EXPECT_EQ(gc.time_index, wc.time_index);
  EXPECT_EQ(gc.min_ts, wc.min_ts);
  EXPECT_EQ(gc.max_ts, wc.max_ts);
  ASSERT_EQ(gc.columns.size(), wc.columns.size());
  for (size_t i = 0; i < wc.columns.size(); ++i) ExpectColumnEq(wc.columns[i], gc.columns[i], i);
}

BatchRecord RoundTrip(const BatchRecord& r) {
  std::string bytes = EncodeBatchRecord(r);
  auto got = DecodeBatchRecord(bytes);
  EXPECT_TRUE(got.ok()) << got.status();
  if (!got.ok()) return {};
  ExpectRecordEq(r, *got);
  // Encoding is deterministic: the decoded record encodes to the same bytes.
  EXPECT_EQ(EncodeBatchRecord(*got), bytes);
  return std::move(*got);
}

IdempotencyInfo Idem(std::optional<int64_t> watermark) {
  IdempotencyInfo i;
  i.key = "req-7f3a9c";
  i.request_hash = 0xfeedfacecafebeef;
  i.created_ns = -5;
  i.answer.rows = 1234;
  i.answer.schema_version = 9;
  i.answer.watermark = watermark;
  return i;
}

TEST(WalPayload, EveryColumnTypeWithNulls) {
  std::mt19937_64 rng(1);
  for (int null_percent : {0, 20, 90}) {
    SCOPED_TRACE(null_percent);
    BatchRecord r;
    r.dataset_id = 0x0123456789abcdef;
    r.schema_version = 42;
    r.chunk = RandomChunk(rng, 1000, null_percent);
    RoundTrip(r);
  }
}

TEST(WalPayload, IdempotencyInfoWithAndWithoutWatermark) {
  std::mt19937_64 rng(2);
  for (std::optional<int64_t> wm : {std::optional<int64_t>(), std::optional<int64_t>(0),
                                    std::optional<int64_t>(std::numeric_limits<int64_t>::min()),
                                    std::optional<int64_t>(1714564800'000000000)}) {
    BatchRecord r;
    r.dataset_id = 3;
    r.chunk = RandomChunk(rng, 17, 10);
    r.idempotency = Idem(wm);
    BatchRecord got = RoundTrip(r);
    ASSERT_TRUE(got.idempotency.has_value());
    EXPECT_EQ(got.idempotency->answer.watermark, wm);
  }
  // Empty and long keys.
  for (std::string key : {std::string(), std::string(300, 'k')}) {
    BatchRecord r;
    r.chunk = RandomChunk(rng, 3, 0);
    r.idempotency = Idem(7);
    r.idempotency->key = key;
    EXPECT_EQ(RoundTrip(r).idempotency->key, key);
  }
}

TEST(WalPayload, AllNullColumns) {
  const uint32_t rows = 37;
  std::vector<ColumnVector> cols = {Times(rows)};
  for (ColumnType t : {ColumnType::kDouble, ColumnType::kInteger, ColumnType::kString,
                       ColumnType::kBoolean, ColumnType::kTimestamp}) {
    // Both ways an all-null column is made.
    cols.push_back(ColumnVector::AllNull(t, rows));
    ColumnBuilder b(t);
    b.PadNullsTo(rows);
    cols.push_back(b.Finish());
    EXPECT_TRUE(cols.back().all_null);
  }
  BatchRecord r;
  r.chunk = MakeChunk(std::move(cols), 0);
  BatchRecord got = RoundTrip(r);
  for (size_t i = 1; i < got.chunk->columns.size(); ++i) {
    EXPECT_EQ(got.chunk->columns[i].NullCount(), rows);
  }
}

TEST(WalPayload, Strings) {
  std::vector<std::string> values = {"",
                                     "",
                                     "ascii",
                                     "naïve café",
                                     "Ελληνικά",
                                     "中文字符",
                                     "emoji 🚀🙂",
                                     std::string("nul\0inside", 10),
                                     std::string("\xff\xfe not utf-8", 13),
                                     std::string(100000, 'L'),
                                     std::string(128, 'm'),  // varint length boundary
                                     std::string(127, 'm'),
                                     "ascii"};
  BatchRecord r;
  r.chunk = MakeChunk({Times(values.size()), Strings(values)}, 0);
  BatchRecord got = RoundTrip(r);
  const ColumnVector& c = got.chunk->columns[1];
  for (size_t i = 0; i < values.size(); ++i) EXPECT_EQ(c.dict[c.ids[i]], values[i]) << i;
}

// The id width follows the dictionary size: 1 byte up to 255 entries, 2 up to
// 65535, else 4. Checked by the exact encoded size, then by round trip.
TEST(WalPayload, StringIdWidths) {
  auto varint_size = [](uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) {
      v >>= 7;
      ++n;
    }
    return n;
  };
  for (uint32_t distinct : {1u, 255u, 256u, 65535u, 65536u, 70000u}) {
    SCOPED_TRACE(distinct);
    std::vector<std::string> values;
    size_t dict_bytes = 0;
    for (uint32_t i = 0; i < distinct; ++i) {
      values.push_back(StrCat("v", i));
      dict_bytes += varint_size(values.back().size()) + values.back().size();
    }
    values.push_back("v0");  // a repeat adds a row, not an entry
    const uint32_t rows = static_cast<uint32_t>(values.size());
    BatchRecord r;
    r.chunk = MakeChunk({Times(rows), Strings(values)}, 0);
    const size_t width = distinct <= 255 ? 1 : distinct <= 65535 ? 2 : 4;
    const size_t header = 8 + 4 + 1 + 4 + 4 + 4;
    const size_t time_col = 6 + 8 * rows;
    const size_t string_col = 6 + varint_size(distinct) + dict_bytes + 1 + width * rows;
    std::string bytes = EncodeBatchRecord(r);
    EXPECT_EQ(bytes.size(), header + time_col + string_col);
    EXPECT_EQ(static_cast<size_t>(bytes[bytes.size() - width * rows - 1]), width);
    BatchRecord got = RoundTrip(r);
    EXPECT_EQ(got.chunk->columns[1].dict.size(), distinct);
    EXPECT_EQ(got.chunk->columns[1].ids.back(), 0u);
    EXPECT_EQ(got.chunk->columns[1].ids[distinct - 1], distinct - 1);
  }
}

TEST(WalPayload, ZeroAndOneRow) {
  for (uint32_t rows : {0u, 1u}) {
    SCOPED_TRACE(rows);
    std::mt19937_64 rng(rows);
    BatchRecord r;
    r.dataset_id = rows;
    r.chunk = RandomChunk(rng, rows, 50);
    BatchRecord got = RoundTrip(r);
    EXPECT_EQ(got.chunk->rows, rows);
    // An all-null column of zero rows has no nulls to speak of.
    r.chunk = MakeChunk({Times(rows), ColumnVector::AllNull(ColumnType::kDouble, rows)}, 0);
    got = RoundTrip(r);
    EXPECT_EQ(got.chunk->columns[1].NullCount(), rows);
  }
}

TEST(WalPayload, ExactLayout) {
  // One row, a time column and a boolean column with a null: every byte by hand,
  // following the grammar in wal_payload.h.
  ColumnBuilder b(ColumnType::kBoolean);
  b.AppendBool(true);
  ColumnBuilder t(ColumnType::kTimestamp);
  t.AppendInt(0x0102030405060708);
  BatchRecord r;
  r.dataset_id = 7;
  r.schema_version = 3;
  r.idempotency = Idem(std::nullopt);
  r.idempotency->key = "k";
  r.chunk = MakeChunk({b.Finish(), t.Finish(), Strings({"ab"})}, 1);

  std::string want;
  PutFixed64(&want, 7);
  PutFixed32(&want, 3);
  PutFixed8(&want, 1);  // flags: idempotency block follows
  want += std::string("\x01k", 2);
  PutFixed64(&want, 0xfeedfacecafebeef);
  PutFixed64(&want, static_cast<uint64_t>(-5));
  PutFixed64(&want, 1234);
  PutFixed32(&want, 9);
  PutFixed8(&want, 0);                             // no watermark
  PutFixed64(&want, 0);                            // ...but its slot is still written
  PutFixed32(&want, 1);                            // rows
  PutFixed32(&want, 1);                            // time_index
  PutFixed32(&want, 3);                            // ncols
  want += std::string("\0\0\0\0\x05\x01\x01", 7);  // col 0: boolean, no nulls, bitmap 0b1
  want += std::string("\x01\0\0\0\x01\x01", 6);    // col 1: timestamp, no nulls
  PutFixed64(&want, 0x0102030405060708);
  want += std::string("\x02\0\0\0\x04\x01", 6);  // col 2: string, no nulls
  want += std::string(
      "\x01\x02"
      "ab"
      "\x01\x00",
      6);  // 1 entry "ab", width 1, id 0
  EXPECT_EQ(EncodeBatchRecord(r), want);

  // Nulls add a validity bitmap, LSB first; null slots hold 0.
  ColumnBuilder n(ColumnType::kInteger);
  for (int i = 0; i < 9; ++i) {
    if (i == 1 || i == 8) {
      n.AppendNull();
    } else {
      n.AppendInt(i);
    }
  }
  r.idempotency.reset();
  r.chunk = MakeChunk({Times(9, 0, 1), n.Finish()}, 0);
  std::string bytes = EncodeBatchRecord(r);
  std::string col1;
  PutFixed32(&col1, 1);
  PutFixed8(&col1, 3);
  PutFixed8(&col1, 2);  // validity bitmap follows
  col1 += std::string("\xfd\x00", 2);
  for (int i = 0; i < 9; ++i) PutFixed64(&col1, (i == 1 || i == 8) ? 0 : i);
  ASSERT_GE(bytes.size(), col1.size());
  EXPECT_EQ(bytes.substr(bytes.size() - col1.size()), col1);
  RoundTrip(r);
}

// Hand-built payloads around a one-row chunk: header, then columns.
std::string Header(uint32_t rows, uint32_t time_index, uint32_t ncols) {
  std::string p;
  PutFixed64(&p, 1);
  PutFixed32(&p, 1);
  PutFixed8(&p, 0);
  PutFixed32(&p, rows);
  PutFixed32(&p, time_index);
  PutFixed32(&p, ncols);
  return p;
}
std::string TimeColumn(uint32_t index = 0) {
  std::string p;
  PutFixed32(&p, index);
  PutFixed8(&p, 1);
  PutFixed8(&p, 1);
  PutFixed64(&p, 1000);
  return p;
}

void ExpectCorrupt(const std::string& payload, std::string_view why) {
  auto r = DecodeBatchRecord(payload);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(ToStd(r.status().message()), HasSubstr(std::string(why)));
}

TEST(WalPayload, RejectsMalformedPayloads) {
  ASSERT_TRUE(DecodeBatchRecord(Header(1, 0, 1) + TimeColumn()).ok());
  ExpectCorrupt("", "truncated header");
  ExpectCorrupt(Header(1, 0, 1) + TimeColumn() + "x", "trailing bytes");
  ExpectCorrupt(Header(1, 0, 0), "bad column count");
  ExpectCorrupt(Header(1, 1, 1) + TimeColumn(), "bad column count");
  ExpectCorrupt(Header(1, 0, 100001), "bad column count");
  ExpectCorrupt(Header(1000, 0, 1) + TimeColumn(), "row count exceeds the payload");
  ExpectCorrupt(Header(1, 0, 1) + TimeColumn(1), "bad column header");
  {
    std::string p = Header(1, 0, 1) + TimeColumn();
    for (char bad_type : {'\0', '\x0c', '\xff'}) {
      p[29] = bad_type;  // after the 25-byte header and the u32 column index
      ExpectCorrupt(p, "bad column header");
    }
    p = Header(1, 0, 1) + TimeColumn();
    p[30] = 3;  // encoding
    ExpectCorrupt(p, "bad column header");
  }
  // The time column must be a timestamp column without nulls.
  {
    std::string p = Header(1, 0, 1);
    PutFixed32(&p, 0);
    PutFixed8(&p, 3);  // integer
    PutFixed8(&p, 1);
    PutFixed64(&p, 1000);
    ExpectCorrupt(p, "time column missing or null");
    p = Header(1, 0, 1);
    PutFixed32(&p, 0);
    PutFixed8(&p, 1);
    PutFixed8(&p, 0);  // all null
    ExpectCorrupt(p, "time column missing or null");
    p = Header(1, 0, 1);
    PutFixed32(&p, 0);
    PutFixed8(&p, 1);
    PutFixed8(&p, 2);  // with a validity bitmap
    PutFixed8(&p, 0);
    PutFixed64(&p, 0);
    ExpectCorrupt(p, "time column missing or null");
  }
  // String columns: id width and id range.
  auto string_col = [](uint64_t dict_count, uint8_t width, uint32_t id) {
    std::string p;
    PutFixed32(&p, 1);
    PutFixed8(&p, 4);
    PutFixed8(&p, 1);
    PutVarint64(&p, dict_count);
    for (uint64_t i = 0; i < dict_count; ++i) PutLengthPrefixed(&p, StrCat("s", i));
    PutFixed8(&p, width);
    p.append(reinterpret_cast<const char*>(&id), width);
    return p;
  };
  ASSERT_TRUE(DecodeBatchRecord(Header(1, 0, 2) + TimeColumn() + string_col(2, 1, 1)).ok());
  ExpectCorrupt(Header(1, 0, 2) + TimeColumn() + string_col(2, 1, 2), "string id out of range");
  ExpectCorrupt(Header(1, 0, 2) + TimeColumn() + string_col(0, 1, 0), "string id out of range");
  ExpectCorrupt(Header(1, 0, 2) + TimeColumn() + string_col(2, 3, 0), "bad id width");
  ExpectCorrupt(Header(1, 0, 2) + TimeColumn() + string_col(2, 0, 0), "bad id width");
  {
    std::string p = Header(1, 0, 2) + TimeColumn();
    PutFixed32(&p, 1);
    PutFixed8(&p, 4);
    PutFixed8(&p, 1);
    PutVarint64(&p, 1'000'000'000);  // a dictionary larger than the payload
    ExpectCorrupt(p, "bad dictionary");
  }
  // The idempotency flag without its block.
  {
    std::string p = Header(1, 0, 1) + TimeColumn();
    p[12] = 1;
    ExpectCorrupt(p, "");
  }
}

// A payload exercising every branch of the decoder, small enough to damage exhaustively.
std::string FuzzSeed() {
  std::mt19937_64 rng(99);
  BatchRecord r;
  r.dataset_id = 11;
  r.schema_version = 2;
  r.idempotency = Idem(123);
  std::vector<ColumnVector> cols = RandomChunk(rng, 40, 25)->columns;
  cols.push_back(ColumnVector::AllNull(ColumnType::kString, 40));
  std::vector<std::string> many;
  for (int i = 0; i < 40; ++i) many.push_back(StrCat(i * 7919));
  cols.push_back(Strings(many));
  r.chunk = MakeChunk(std::move(cols), 2);
  return EncodeBatchRecord(r);
}

// A decoded record is self-consistent: everything a reader indexes is in bounds.
void ExpectConsistent(const BatchRecord& r) {
  const Chunk& c = *r.chunk;
  ASSERT_LT(static_cast<size_t>(c.time_index), c.columns.size());
  for (const ColumnVector& col : c.columns) {
    ASSERT_EQ(col.length, c.rows);
    ASSERT_TRUE(col.valid.empty() || col.valid.size() == c.rows);
    if (col.all_null) continue;
    switch (col.type) {
      case ColumnType::kTimestamp:
      case ColumnType::kInteger:
        ASSERT_EQ(col.ints.size(), c.rows);
        break;
      case ColumnType::kDouble:
        ASSERT_EQ(col.doubles.size(), c.rows);
        break;
      case ColumnType::kBoolean:
        ASSERT_EQ(col.bools.size(), c.rows);
        for (uint8_t v : col.bools) ASSERT_LE(v, 1);
        break;
      case ColumnType::kString:
        ASSERT_EQ(col.ids.size(), c.rows);
        for (uint32_t i = 0; i < c.rows; ++i) {
          if (!col.IsNull(i)) {
            ASSERT_LT(col.ids[i], col.dict.size());
          }
        }
        break;
    }
  }
  const ColumnVector& t = c.columns[c.time_index];
  ASSERT_EQ(t.type, ColumnType::kTimestamp);
  ASSERT_FALSE(t.HasNulls());
  if (c.rows > 0) {
    ASSERT_LE(c.min_ts, c.max_ts);
  }
}

TEST(WalPayload, EveryTruncationIsAnError) {
  const std::string seed = FuzzSeed();
  ASSERT_TRUE(DecodeBatchRecord(seed).ok());
  for (size_t n = 0; n < seed.size(); ++n) {
    auto r = DecodeBatchRecord(std::string_view(seed).substr(0, n));
    ASSERT_FALSE(r.ok()) << "prefix of " << n << " bytes decoded";
    ASSERT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << n;
  }
}

TEST(WalPayload, RandomDamageNeverCrashes) {
  const std::string seed = FuzzSeed();
  std::mt19937_64 rng(4242);
  int ok = 0, errors = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::string p = seed;
    const int flips = 1 + static_cast<int>(rng() % 3);
    for (int f = 0; f < flips; ++f) {
      size_t at = rng() % p.size();
      if (rng() % 2) {
        p[at] ^= static_cast<char>(1u << (rng() % 8));  // one bit
      } else {
        p[at] = static_cast<char>(rng());  // a whole byte
      }
    }
    if (rng() % 4 == 0) p.resize(rng() % (p.size() + 1));  // and sometimes cut short
    auto r = DecodeBatchRecord(p);
    if (r.ok()) {
      ++ok;
      ExpectConsistent(*r);
      if (::testing::Test::HasFatalFailure()) FAIL() << "iteration " << iter;
    } else {
      ++errors;
      ASSERT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
    }
  }
  // Both outcomes happen: values can change freely, structure cannot.
  EXPECT_GT(ok, 0);
  EXPECT_GT(errors, 0);
}

}  // namespace
}  // namespace timestore
