// Segment files end to end: random columns of every type (with nulls, an
// all-null block, an all-null column) written under every compression policy
// and read back identically; then the bytes are attacked (LevelDB's
// log_test.cc): a flipped byte in each block, in the footer and the trailer,
// truncation anywhere, and a footer whose checksum is fixed up after a block
// offset was moved outside the file. Also what `timestore inspect` prints.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/checksum.h"
#include "common/coding.h"
#include "common/strings.h"
#include "segment/codec/codec.h"
#include "segment/segment_footer_generated.h"
#include "segment/segment_inspect.h"
#include "segment/segment_reader.h"
#include "segment/segment_writer.h"
#include "simdjson.h"

namespace timestore::segment {
namespace {

constexpr int64_t kBase = 1'700'000'000'000'000'000LL;  // 2023-11-14T22:13:20Z
constexpr uint32_t kRows = 1037;                        // 10 full blocks and a short one
constexpr uint32_t kBlockRows = 100;
const char* const kPath = "/data/datasets/00000000000000ab/0/0000000000000007.tseg";

struct Columns {
  std::vector<ColumnSpec> specs;
  std::vector<ColumnVector> columns;
};

// Every type with nulls; the time column first. Values repeat enough for the
// chooser to pick several codecs (dictionary, decimal, run_length, constant).
Columns RandomColumns(uint64_t seed, uint32_t rows) {
  std::mt19937_64 rng(seed);
  auto pick = [&](uint64_t m) { return rng() % m; };
  ColumnBuilder ts(ColumnType::kTimestamp), host(ColumnType::kString), usage(ColumnType::kDouble),
      raw(ColumnType::kDouble), n(ColumnType::kInteger), ok(ColumnType::kBoolean),
      region(ColumnType::kString), gone(ColumnType::kInteger);
  int64_t t = kBase;
  for (uint32_t i = 0; i < rows; ++i) {
    t += 1'000'000'000 + static_cast<int64_t>(pick(3)) * 1'000'000;
    ts.AppendInt(t);
    pick(10) ? host.AppendString(StrCat("host_", pick(20))) : host.AppendNull();
    pick(8) ? usage.AppendDouble(static_cast<double>(pick(1000)) / 10) : usage.AppendNull();
    if (pick(7) == 0) {
      raw.AppendNull();
    } else {
      const double special[] = {NAN, -0.0, INFINITY, -INFINITY, 5e-324, 1.0 / 3};
      raw.AppendDouble(pick(20) == 0 ? special[pick(6)]
                                     : std::bit_cast<double>(rng() & 0x7fefffffffffffffull));
    }
    // Rows 200..299 all null: one whole block of nulls.
    (i >= 200 && i < 300) || pick(9) == 0
        ? n.AppendNull()
        : n.AppendInt(static_cast<int64_t>(pick(2000)) - 1000 + (pick(50) == 0 ? INT64_MIN : 0));
    pick(6) ? ok.AppendBool(pick(2)) : ok.AppendNull();
    // Long runs of one value, with a byte string that is not UTF-8.
    (i / 150) % 4 == 3 ? region.AppendNull()
                       : region.AppendString((i / 150) % 2 ? std::string("eu\0\xff", 4) : "us");
    gone.AppendNull();
  }
  Columns c;
  c.specs = {{"timestamp", ColumnType::kTimestamp}, {"host", ColumnType::kString},
             {"usage", ColumnType::kDouble},        {"raw", ColumnType::kDouble},
             {"n", ColumnType::kInteger},           {"ok", ColumnType::kBoolean},
             {"region", ColumnType::kString},       {"gone", ColumnType::kInteger}};
  for (ColumnBuilder* b : {&ts, &host, &usage, &raw, &n, &ok, &region, &gone}) {
    c.columns.push_back(b->Finish());
  }
  return c;
}

SegmentContents Contents(const Columns& c, uint32_t rows) {
  SegmentContents s;
  s.dataset_id = 0xab;
  s.segment_id = 7;
  s.schema_version = 3;
  s.partition_start = 0;
  s.partition_interval = 86'400'000'000'000;
  s.level = 1;
  s.created_ns = kBase;
  s.time_column = 0;
  s.sort_key = {"host", "timestamp"};
  s.specs = c.specs;
  for (const auto& col : c.columns) s.columns.push_back(&col);
  s.rows = rows;
  return s;
}

std::string Encode(const Columns& c, CompressionPolicy policy = CompressionPolicy::kAuto,
                   uint32_t rows = kRows) {
  WriteOptions o;
  o.block_rows = kBlockRows;
  o.compression = policy;
  std::string out;
  auto w = EncodeSegment(Contents(c, rows), o, &out);
  EXPECT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(w->bytes, out.size());
  return out;
}

// Row `first + i` of `want` equals row i of `got`, null for null; doubles bit for bit.
void ExpectSameRows(const ColumnVector& want, size_t first, const ColumnVector& got,
                    const std::string& where) {
  ASSERT_EQ(got.type, want.type) << where;
  for (size_t i = 0; i < got.size(); ++i) {
    const size_t r = first + i;
    ASSERT_EQ(got.IsNull(i), want.IsNull(r)) << where << " row " << r;
    if (want.IsNull(r)) continue;
    switch (want.type) {
      case ColumnType::kTimestamp:
      case ColumnType::kInteger:
        ASSERT_EQ(got.ints[i], want.ints[r]) << where << " row " << r;
        break;
      case ColumnType::kDouble:
        ASSERT_EQ(std::bit_cast<uint64_t>(got.doubles[i]), std::bit_cast<uint64_t>(want.doubles[r]))
            << where << " row " << r;
        break;
      case ColumnType::kBoolean:
        ASSERT_EQ(got.bools[i], want.bools[r]) << where << " row " << r;
        break;
      TIMESTORE_STRING_LIKE_CASES:
        ASSERT_EQ(got.dict[got.ids[i]], want.dict[want.ids[r]]) << where << " row " << r;
        break;
    }
  }
}

// Every row of `c` read back in order, block after block. With
// `uniform_blocks` every block but the last holds kBlockRows rows.
void ExpectReadsBack(const SegmentReader& reader, const Columns& c, uint32_t rows,
                     bool uniform_blocks = true) {
  const SegmentMeta& m = reader.meta();
  ASSERT_EQ(m.rows, rows);
  ASSERT_EQ(m.columns.size(), c.columns.size());
  if (uniform_blocks) ASSERT_EQ(m.num_blocks(), (rows + kBlockRows - 1) / kBlockRows);
  std::vector<size_t> blocks(m.num_blocks());
  for (size_t b = 0; b < blocks.size(); ++b) blocks[b] = b;
  std::vector<int> cols(m.columns.size());
  for (size_t k = 0; k < cols.size(); ++k) cols[k] = static_cast<int>(k);
  uint64_t bytes_read = 0;
  auto got = reader.ReadBlocks(blocks, cols, &bytes_read);
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_GT(bytes_read, 0u);
  size_t first = 0;
  for (size_t b = 0; b < blocks.size(); ++b) {
    uint32_t block_rows = m.columns[0].blocks[b].rows;
    for (size_t k = 0; k < cols.size(); ++k) {
      ASSERT_EQ((*got)[b][k].size(), block_rows);
      ExpectSameRows(c.columns[k], first, (*got)[b][k],
                     StrCat("column ", m.columns[k].name, " block ", b));
    }
    first += block_rows;
  }
  EXPECT_EQ(first, rows);
  EXPECT_TRUE(reader.Verify().ok());
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/timestore-segfile-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void WriteBytes(const std::string& path, std::string_view bytes) {
  auto f = Env::Default()->NewWritableFile(path);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append(bytes).ok());
  ASSERT_TRUE((*f)->Close().ok());
}

// The bytes of the footer: [footer_offset, file size - trailer).
uint64_t FooterOffset(const std::string& bytes) {
  return bytes.size() - kTrailerSize - DecodeFixed32(bytes.data() + bytes.size() - kTrailerSize);
}

void FixFooterChecksum(std::string* bytes) {
  const uint64_t off = FooterOffset(*bytes);
  std::string_view footer(bytes->data() + off, bytes->size() - kTrailerSize - off);
  std::string sum;
  PutFixed64(&sum, Checksum64(footer));
  bytes->replace(bytes->size() - kTrailerSize + 8, 8, sum);
}

std::string Msg(const absl::Status& s) { return std::string(ToStd(s.message())); }

// ---------------------------------------------------------------- round trips

TEST(SegmentFileTest, EveryCompressionPolicyReadsBackIdentically) {
  const Columns c = RandomColumns(1, kRows);
  for (auto policy : {CompressionPolicy::kNone, CompressionPolicy::kLz4, CompressionPolicy::kZstd,
                      CompressionPolicy::kAuto}) {
    SCOPED_TRACE(static_cast<int>(policy));
    const std::string bytes = Encode(c, policy);
    auto reader = SegmentReader::FromBytes(kPath, bytes);
    ASSERT_TRUE(reader.ok()) << reader.status().message();
    const SegmentMeta& m = (*reader)->meta();
    EXPECT_EQ(m.dataset_id, 0xabu);
    EXPECT_EQ(m.segment_id, 7u);
    EXPECT_EQ(m.schema_version, 3u);
    EXPECT_EQ(m.level, 1u);
    EXPECT_EQ(m.sort_key, (std::vector<std::string>{"host", "timestamp"}));
    EXPECT_EQ(m.min_ts, c.columns[0].ints.front());
    EXPECT_EQ(m.max_ts, c.columns[0].ints.back());
    EXPECT_EQ(m.file_bytes, bytes.size());
    ExpectReadsBack(**reader, c, kRows);

    // The policy bounds what a block may use; uncompressible blocks stay raw.
    size_t compressed = 0;
    for (const ColumnInfo& col : m.columns) {
      for (const BlockInfo& b : col.blocks) {
        compressed += b.compression != Compression::kNone;
        const bool allowed =
            b.compression == Compression::kNone || policy == CompressionPolicy::kAuto ||
            (policy == CompressionPolicy::kLz4) == (b.compression == Compression::kLz4);
        EXPECT_TRUE(allowed) << static_cast<int>(b.compression);
        EXPECT_TRUE(b.compression != Compression::kNone || b.length == b.raw_length);
      }
    }
    EXPECT_EQ(compressed > 0, policy != CompressionPolicy::kNone);
    // The all-null column and block read as nulls with no min/max.
    EXPECT_FALSE(m.columns[7].blocks[0].has_minmax);
    EXPECT_EQ(m.columns[4].blocks[2].null_count, kBlockRows);
  }
}

TEST(SegmentFileTest, WrittenFileOpensThroughTheEnv) {
  TempDir dir;
  const Columns c = RandomColumns(2, kRows);
  const std::string path = JoinPath(dir.path(), "s.tseg");
  WriteOptions o;
  o.block_rows = kBlockRows;
  auto w = WriteSegmentFile(Env::Default(), path, Contents(c, kRows), o);
  ASSERT_TRUE(w.ok()) << w.status().message();
  auto reader = SegmentReader::Open(Env::Default(), path);
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  EXPECT_EQ((*reader)->meta().file_bytes, w->bytes);
  ExpectReadsBack(**reader, c, kRows);
}

TEST(SegmentFileTest, OneRowAndOneBlockShapes) {
  for (uint32_t rows : {1u, 99u, 100u, 101u}) {
    SCOPED_TRACE(rows);
    const Columns c = RandomColumns(rows, rows);
    auto reader = SegmentReader::FromBytes(kPath, Encode(c, CompressionPolicy::kAuto, rows));
    ASSERT_TRUE(reader.ok()) << reader.status().message();
    ExpectReadsBack(**reader, c, rows);
  }
}

// Long text ends a block before block_rows, in EncodeSegment and in the
// streaming builder alike, so no block grows past what readers accept
// (kMaxBlockRawBytes); the rows read back in order across the short blocks.
std::vector<uint32_t> BlockRows(const SegmentReader& reader) {
  std::vector<uint32_t> rows;
  for (const BlockInfo& b : reader.meta().columns[0].blocks) rows.push_back(b.rows);
  return rows;
}

Columns LongText(uint32_t rows, size_t length) {
  ColumnBuilder ts(ColumnType::kTimestamp), body(ColumnType::kString), n(ColumnType::kInteger);
  for (uint32_t i = 0; i < rows; ++i) {
    ts.AppendInt(kBase + i);
    i % 7 == 3 ? body.AppendNull() : body.AppendString(StrCat(i, std::string(length, 'x')));
    n.AppendInt(i);
  }
  Columns c;
  c.specs = {{"timestamp", ColumnType::kTimestamp},
             {"body", ColumnType::kString},
             {"n", ColumnType::kInteger}};
  for (ColumnBuilder* b : {&ts, &body, &n}) c.columns.push_back(b->Finish());
  return c;
}

TEST(SegmentFileTest, LongTextEndsABlockEarly) {
  const Columns c = LongText(50, 1000);  // a row weighs 1,001 or 1,002 + 16 bytes; nulls 0
  SegmentContents contents = Contents(c, 50);
  contents.sort_key = {"timestamp"};
  WriteOptions o;
  o.block_rows = 100;
  o.block_text_bytes = 5000;
  std::string bytes;
  ASSERT_TRUE(EncodeSegment(contents, o, &bytes).ok());
  auto reader = SegmentReader::FromBytes(kPath, bytes);
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  // Five text rows pass 5,000 bytes; a block holding a null row (3, 10, 17,
  // ...) takes one more row; the last block holds what is left.
  const std::vector<uint32_t> want = {6, 6, 5, 6, 6, 6, 6, 6, 3};
  EXPECT_EQ(BlockRows(**reader), want);
  ExpectReadsBack(**reader, c, 50, /*uniform_blocks=*/false);

  // The streaming builder, handed all 50 rows as one block, cuts the same.
  TempDir dir;
  const std::string path = JoinPath(dir.path(), "s.tseg");
  SegmentContents header = contents;
  header.columns.clear();
  header.rows = 0;
  auto builder = SegmentFileBuilder::Create(Env::Default(), path, header, o);
  ASSERT_TRUE(builder.ok()) << builder.status();
  std::vector<const ColumnVector*> block;
  for (const ColumnVector& v : c.columns) block.push_back(&v);
  ASSERT_TRUE((*builder)->AddBlock(block).ok());
  ASSERT_TRUE((*builder)->Finish().ok());
  auto streamed = SegmentReader::Open(Env::Default(), path);
  ASSERT_TRUE(streamed.ok()) << streamed.status();
  EXPECT_EQ(BlockRows(**streamed), want);
  ExpectReadsBack(**streamed, c, 50, /*uniform_blocks=*/false);
}

TEST(SegmentFileTest, DefaultOptionsKeepBlocksOfMegabyteValuesReadable) {
  // 35 values of 1 MiB in 40 rows: an 8,192-row block would hold them all;
  // the default ends it at 32 MiB of text.
  const Columns c = LongText(40, 1 << 20);
  SegmentContents contents = Contents(c, 40);
  contents.sort_key = {"timestamp"};
  std::string bytes;
  ASSERT_TRUE(EncodeSegment(contents, WriteOptions(), &bytes).ok());
  auto reader = SegmentReader::FromBytes(kPath, bytes);
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  const std::vector<uint32_t> rows = BlockRows(**reader);
  EXPECT_EQ(rows, (std::vector<uint32_t>{37, 3}));  // 32 values, then 3
  for (const BlockInfo& b : (*reader)->meta().columns[1].blocks) {
    EXPECT_LE(b.raw_length, kDefaultBlockTextBytes + (1u << 20) + 1024);
  }
  ExpectReadsBack(**reader, c, 40, /*uniform_blocks=*/false);
}

// ---------------------------------------------------------------- attacks

TEST(SegmentFileTest, FlippedByteInABlockIsDataLossNamingPathAndOffset) {
  const Columns c = RandomColumns(3, kRows);
  for (auto policy : {CompressionPolicy::kNone, CompressionPolicy::kAuto}) {
    const std::string good = Encode(c, policy);
    auto clean = SegmentReader::FromBytes(kPath, good);
    ASSERT_TRUE(clean.ok());
    const SegmentMeta meta = (*clean)->meta();
    for (size_t ci = 0; ci < meta.columns.size(); ++ci) {
      for (size_t bi = 0; bi < meta.num_blocks(); ++bi) {
        const BlockInfo& b = meta.columns[ci].blocks[bi];
        for (uint64_t at : {b.offset, b.offset + b.length / 2, b.offset + b.length - 1}) {
          SCOPED_TRACE(StrCat("column ", ci, " block ", bi, " byte ", at));
          std::string bad = good;
          bad[at] ^= 0x20;
          auto reader = SegmentReader::FromBytes(kPath, bad);
          ASSERT_TRUE(reader.ok()) << "the footer is intact: " << reader.status().message();
          const size_t block[] = {bi};
          const int col[] = {static_cast<int>(ci)};
          auto got = (*reader)->ReadBlocks(block, col);
          ASSERT_EQ(got.status().code(), absl::StatusCode::kDataLoss);
          EXPECT_NE(Msg(got.status()).find(kPath), std::string::npos) << got.status();
          EXPECT_NE(Msg(got.status()).find(StrCat("offset ", b.offset, ":")), std::string::npos)
              << got.status();
          EXPECT_NE(Msg(got.status()).find("block checksum mismatch"), std::string::npos);
          EXPECT_EQ((*reader)->Verify().code(), absl::StatusCode::kDataLoss);
          // The neighbours still read: another block of the column, another
          // column of the block.
          const size_t other_block[] = {bi == 0 ? 1u : bi - 1};
          const int other_col[] = {static_cast<int>(ci == 0 ? 1 : ci - 1)};
          EXPECT_TRUE((*reader)->ReadBlocks(other_block, col).ok());
          EXPECT_TRUE((*reader)->ReadBlocks(block, other_col).ok());
        }
      }
    }
  }
}

TEST(SegmentFileTest, FlippedByteInTheFooterFailsOpenWithFooterChecksum) {
  const std::string good = Encode(RandomColumns(4, kRows));
  const uint64_t footer = FooterOffset(good);
  const uint64_t end = good.size() - kTrailerSize;
  for (uint64_t at = footer; at < end; at += std::max<uint64_t>(1, (end - footer) / 50)) {
    SCOPED_TRACE(at);
    std::string bad = good;
    bad[at] ^= 0x01;
    auto reader = SegmentReader::FromBytes(kPath, bad);
    ASSERT_EQ(reader.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_NE(Msg(reader.status()).find("footer checksum"), std::string::npos) << reader.status();
    EXPECT_NE(Msg(reader.status()).find(StrCat(kPath, ": corrupt segment at offset ", footer)),
              std::string::npos)
        << reader.status();
  }
  // The same through a file.
  TempDir dir;
  const std::string path = JoinPath(dir.path(), "bad.tseg");
  std::string bad = good;
  bad[footer + 3] ^= 0x80;
  WriteBytes(path, bad);
  auto reader = SegmentReader::Open(Env::Default(), path);
  ASSERT_EQ(reader.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(Msg(reader.status()).find(path), std::string::npos);
  EXPECT_NE(Msg(reader.status()).find("footer checksum mismatch"), std::string::npos);
}

TEST(SegmentFileTest, DamagedTrailerIsReportedForWhatItIs) {
  const std::string good = Encode(RandomColumns(5, kRows));
  const size_t trailer = good.size() - kTrailerSize;
  struct Case {
    size_t at;
    absl::StatusCode code;
    std::string message;
  } cases[] = {
      {trailer + 0, absl::StatusCode::kDataLoss, "footer"},  // footer_length
      {trailer + 3, absl::StatusCode::kDataLoss, "footer length"},
      {trailer + 8, absl::StatusCode::kDataLoss, "footer checksum mismatch"},
      {trailer + 15, absl::StatusCode::kDataLoss, "footer checksum mismatch"},
      {trailer + 16, absl::StatusCode::kFailedPrecondition, "format version"},
      {trailer + 24, absl::StatusCode::kDataLoss, "bad trailer magic"},
      {trailer + 31, absl::StatusCode::kDataLoss, "bad trailer magic"},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.at - trailer);
    std::string bad = good;
    bad[k.at] ^= 0x40;
    auto reader = SegmentReader::FromBytes(kPath, bad);
    ASSERT_EQ(reader.status().code(), k.code) << reader.status();
    EXPECT_NE(Msg(reader.status()).find(k.message), std::string::npos) << reader.status();
    EXPECT_NE(Msg(reader.status()).find(kPath), std::string::npos);
  }
}

TEST(SegmentFileTest, TruncationAnywhereIsACleanError) {
  const std::string good = Encode(RandomColumns(6, kRows));
  auto clean = SegmentReader::FromBytes(kPath, good);
  ASSERT_TRUE(clean.ok());
  const SegmentMeta& m = (*clean)->meta();
  const uint64_t footer = FooterOffset(good);
  const uint64_t block = m.columns[3].blocks[5].offset;
  std::vector<uint64_t> cuts = {0,
                                1,
                                kHeaderSize - 1,
                                kHeaderSize,
                                kHeaderSize + kTrailerSize - 1,
                                block,
                                block + 7,
                                footer - 1,
                                footer,
                                footer + 1,
                                (footer + good.size()) / 2,
                                good.size() - kTrailerSize,
                                good.size() - 20,
                                good.size() - 8,
                                good.size() - 1};
  TempDir dir;
  for (uint64_t cut : cuts) {
    SCOPED_TRACE(cut);
    const std::string bad = good.substr(0, cut);
    auto reader = SegmentReader::FromBytes(kPath, bad);
    ASSERT_FALSE(reader.ok());
    EXPECT_EQ(reader.status().code(), absl::StatusCode::kDataLoss) << reader.status();
    EXPECT_NE(Msg(reader.status()).find(kPath), std::string::npos) << reader.status();
    const std::string path = JoinPath(dir.path(), StrCat("cut", cut, ".tseg"));
    WriteBytes(path, bad);
    auto opened = SegmentReader::Open(Env::Default(), path);
    EXPECT_EQ(opened.status().code(), absl::StatusCode::kDataLoss) << opened.status();
    EXPECT_NE(Msg(opened.status()).find(path), std::string::npos) << opened.status();
  }
}

// Checksums protect against accidents; the footer's bounds checks protect the
// reader from a footer that is well-formed but wrong (a bug, or a hand edit).
TEST(SegmentFileTest, FixedUpFooterPointingOutsideTheFileFailsTheBoundsCheck) {
  const std::string good = Encode(RandomColumns(7, kRows));
  auto clean = SegmentReader::FromBytes(kPath, good);
  ASSERT_TRUE(clean.ok());
  const SegmentMeta& m = (*clean)->meta();
  const uint64_t footer = FooterOffset(good);
  std::string_view footer_bytes(good.data() + footer, good.size() - kTrailerSize - footer);
  // Find a block whose offset, as a u64le, occurs exactly once in the footer.
  int edited = 0;
  for (size_t ci = 0; ci < m.columns.size() && edited < 3; ++ci) {
    for (size_t bi = 0; bi < m.num_blocks() && edited < 3; ++bi) {
      std::string pattern;
      PutFixed64(&pattern, m.columns[ci].blocks[bi].offset);
      const size_t at = footer_bytes.find(pattern);
      if (at == std::string_view::npos || footer_bytes.find(pattern, at + 1) != std::string::npos)
        continue;
      for (uint64_t moved : {uint64_t{good.size()} + 4096, footer - 1, uint64_t{0}, ~uint64_t{0}}) {
        SCOPED_TRACE(StrCat("column ", ci, " block ", bi, " moved to ", moved));
        std::string bad = good;
        std::string value;
        PutFixed64(&value, moved);
        bad.replace(footer + at, 8, value);
        FixFooterChecksum(&bad);
        auto reader = SegmentReader::FromBytes(kPath, bad);
        ASSERT_EQ(reader.status().code(), absl::StatusCode::kDataLoss) << reader.status();
        EXPECT_NE(Msg(reader.status())
                      .find(StrCat("block ", bi, " of column ", m.columns[ci].name,
                                   " lies outside the data")),
                  std::string::npos)
            << reader.status();
      }
      ++edited;
    }
  }
  EXPECT_EQ(edited, 3);
}

// Fuzz-found: ParseFooter on a view into the whole file read FlatBuffers
// scalars at misaligned addresses (UB; UBSan stops on it). It now copies a
// misaligned footer first.
TEST(SegmentFileTest, ParseFooterOnAMisalignedView) {
  const std::string good = Encode(RandomColumns(10, kRows));
  const uint64_t footer = FooterOffset(good);
  const size_t footer_len = good.size() - kTrailerSize - footer;
  for (size_t shift = 0; shift < 8; ++shift) {
    SCOPED_TRACE(shift);
    std::string buf(shift, '\0');
    buf.append(good, footer, footer_len);
    auto m = ParseFooter(kPath, std::string_view(buf).substr(shift), good.size());
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(m->rows, kRows);
    EXPECT_EQ(m->columns.size(), 8u);
    EXPECT_EQ(m->footer_bytes, footer_len);
  }
}

// A footer that is well-formed and checksummed but claims a block of 2^32 - 1
// rows: without a bound, decoding allocates rows x 8 bytes (32 GiB) for a
// `constant` block of a few bytes. Found by reading the fuzzer's big mallocs.
TEST(SegmentFileTest, FooterClaimingAHugeBlockIsRejectedBeforeAllocating) {
  const std::string good = Encode(RandomColumns(11, kRows));
  auto clean = SegmentReader::FromBytes(kPath, good);
  ASSERT_TRUE(clean.ok());
  const SegmentMeta& m = (*clean)->meta();
  for (uint32_t rows : {kMaxBlockRows, kMaxBlockRows + 1, 0xffffffffu}) {
    SCOPED_TRACE(rows);
    // Every column's first block claims `rows`, the segment as many more, so
    // that only the bound can object.
    flatbuffers::FlatBufferBuilder fbb;
    std::vector<flatbuffers::Offset<fb::ColumnMeta>> cols;
    for (const ColumnInfo& c : m.columns) {
      std::vector<flatbuffers::Offset<fb::BlockMeta>> blocks;
      for (size_t bi = 0; bi < c.blocks.size(); ++bi) {
        const BlockInfo& b = c.blocks[bi];
        blocks.push_back(fb::CreateBlockMeta(fbb, b.offset, b.length, b.raw_length,
                                             bi == 0 ? rows : b.rows, b.codec,
                                             static_cast<uint8_t>(b.compression), 0, b.checksum));
      }
      auto name = fbb.CreateString(c.name);
      auto vec = fbb.CreateVector(blocks);
      cols.push_back(fb::CreateColumnMeta(fbb, name, static_cast<uint8_t>(c.type), vec));
    }
    auto cols_vec = fbb.CreateVector(cols);
    fb::FooterBuilder f(fbb);
    f.add_format_version(kSegmentFormatVersion);
    f.add_rows(m.rows - m.columns[0].blocks[0].rows + rows);
    f.add_columns(cols_vec);
    fbb.Finish(f.Finish());
    std::string bytes = good.substr(0, FooterOffset(good));
    bytes.append(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
    PutFixed32(&bytes, fbb.GetSize());
    bytes.append(good, good.size() - kTrailerSize + 4, kTrailerSize - 4);
    FixFooterChecksum(&bytes);
    auto reader = SegmentReader::FromBytes(kPath, bytes);
    if (rows == kMaxBlockRows) {
      // Allowed; the block then fails to decode as that many rows (the payload
      // holds 100) without allocating more than the bound.
      ASSERT_TRUE(reader.ok()) << reader.status();
      EXPECT_EQ((*reader)->meta().columns[0].blocks[0].rows, kMaxBlockRows);
      continue;
    }
    ASSERT_EQ(reader.status().code(), absl::StatusCode::kDataLoss) << reader.status();
    EXPECT_NE(Msg(reader.status()).find("block 0 of column timestamp has a bad header"),
              std::string::npos)
        << reader.status();
  }
}

// ---------------------------------------------------------------- inspect

TEST(SegmentFileTest, InspectNamesEveryColumnAndCodec) {
  const Columns c = RandomColumns(8, kRows);
  auto reader = SegmentReader::FromBytes(kPath, Encode(c));
  ASSERT_TRUE(reader.ok());
  const SegmentMeta& m = (*reader)->meta();
  SegmentInspection text = InspectSegment(**reader, InspectFormat::kText);
  EXPECT_EQ(text.damaged_blocks, 0u);
  const std::string& out = text.output;
  EXPECT_NE(out.find(kPath), std::string::npos);
  EXPECT_NE(out.find("00000000000000ab"), std::string::npos);
  EXPECT_NE(out.find("1970-01-01T00:00:00Z (interval 1d)"), std::string::npos) << out;
  EXPECT_NE(out.find(StrCat("rows            ", kRows, " in 11 blocks")), std::string::npos) << out;
  EXPECT_NE(out.find("sort key        host, timestamp"), std::string::npos) << out;
  EXPECT_NE(out.find("2023-11-14T22:13:2"), std::string::npos) << out;
  std::set<std::string> codecs;
  for (const ColumnInfo& col : m.columns) {
    EXPECT_NE(out.find(StrCat("\ncolumn ", col.name, " (", ColumnTypeName(col.type))),
              std::string::npos)
        << col.name;
    for (const BlockInfo& b : col.blocks) {
      codecs.insert(CodecName(static_cast<CodecId>(b.codec)));
      EXPECT_NE(out.find(CodecName(static_cast<CodecId>(b.codec))), std::string::npos);
    }
  }
  // The data set makes the chooser use several codecs, and the nested ones show.
  EXPECT_GE(codecs.size(), 4u) << out;
  EXPECT_TRUE(codecs.contains("dictionary")) << out;
  EXPECT_NE(out.find("dictionary(entries="), std::string::npos) << out;
  EXPECT_NE(out.find("decimal(scale=1,"), std::string::npos) << out;

  SegmentInspection json = InspectSegment(**reader, InspectFormat::kJson);
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(json.output).get(root), simdjson::SUCCESS) << json.output;
  EXPECT_EQ(root["datasetId"].get_string().value(), "00000000000000ab");
  EXPECT_EQ(root["rows"].get_uint64().value(), kRows);
  EXPECT_EQ(root["fileBytes"].get_uint64().value(), m.file_bytes);
  // "eu\0\xff" is no UTF-8: the 0xff byte shows as U+FFFD.
  EXPECT_NE(json.output.find("\"eu\\u0000\xef\xbf\xbd\""), std::string::npos);
  simdjson::dom::array cols = root["columns"].get_array().value();
  ASSERT_EQ(cols.size(), m.columns.size());
  size_t ci = 0;
  for (simdjson::dom::element col : cols) {
    EXPECT_EQ(col["name"].get_string().value(), m.columns[ci].name);
    simdjson::dom::array blocks = col["blocks"].get_array().value();
    ASSERT_EQ(blocks.size(), m.num_blocks());
    size_t bi = 0;
    for (simdjson::dom::element b : blocks) {
      const BlockInfo& want = m.columns[ci].blocks[bi++];
      EXPECT_EQ(b["offset"].get_uint64().value(), want.offset);
      std::string_view codec = b["codec"].get_string().value();
      EXPECT_EQ(codec.substr(0, codec.find('(')), CodecName(static_cast<CodecId>(want.codec)));
    }
    ++ci;
  }
}

TEST(SegmentFileTest, InspectReportsADamagedBlockAndGoesOn) {
  std::string bytes = Encode(RandomColumns(9, kRows));
  auto clean = SegmentReader::FromBytes(kPath, bytes);
  ASSERT_TRUE(clean.ok());
  const BlockInfo b = (*clean)->meta().columns[2].blocks[4];
  bytes[b.offset + 1] ^= 0x10;
  auto reader = SegmentReader::FromBytes(kPath, bytes);
  ASSERT_TRUE(reader.ok());
  for (auto format : {InspectFormat::kText, InspectFormat::kJson}) {
    SegmentInspection r = InspectSegment(**reader, format);
    EXPECT_EQ(r.damaged_blocks, 1u);
    EXPECT_NE(r.first_damage.find(StrCat("offset ", b.offset, ": block checksum mismatch")),
              std::string::npos)
        << r.first_damage;
    EXPECT_NE(r.output.find("block checksum mismatch"), std::string::npos);
    EXPECT_NE(r.output.find("timestamp"), std::string::npos);  // the rest is still there
  }
}

}  // namespace
}  // namespace timestore::segment
