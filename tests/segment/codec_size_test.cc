// What the codecs take: exact and entropy-near sizes of the integer codecs,
// the decimal codec's scale and its size against gorilla, the chooser picking
// the smallest codec, and the bit helpers they are built on.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "common/strings.h"
#include "segment/codec/bit_reader.h"
#include "segment/codec/bit_writer.h"
#include "segment/codec/codec.h"
#include "segment/codec/decimal.h"
#include "segment/codec/int_delta_bitpack.h"
#include "segment/codec/int_delta_huffman.h"
#include "segment/codec/zigzag.h"
#include "tests/segment/codec_test_data.h"

namespace timestore {
namespace {

using codec::BitReader;
using codec::BitWriter;
using codec::testing::BoolCase;
using codec::testing::BoolCases;
using codec::testing::DoubleCase;
using codec::testing::DoubleCases;
using codec::testing::ExpectBoolsRoundTrip;
using codec::testing::ExpectDoublesRoundTrip;
using codec::testing::ExpectIntsRoundTrip;
using codec::testing::ExpectStringsRoundTrip;
using codec::testing::FromBits;
using codec::testing::IntCase;
using codec::testing::IntCases;
using codec::testing::kMax;
using codec::testing::kMin;
using codec::testing::StringCase;
using codec::testing::StringCases;
using codec::testing::Views;

// ---------------------------------------------------------------- integer codecs

TEST(IntCodecs, EncodedSizeIsExact) {
  for (const IntCase& c : IntCases()) {
    SCOPED_TRACE(c.name);
    std::string pack, huff;
    ASSERT_TRUE(EncodeInts(CodecId::kIntDeltaBitpack, c.v, &pack).ok());
    ASSERT_TRUE(EncodeInts(CodecId::kIntDeltaHuffman, c.v, &huff).ok());
    EXPECT_EQ(codec::int_delta_bitpack::EncodedSize(c.v), pack.size());
    EXPECT_EQ(codec::int_delta_huffman::EncodedSize(c.v), huff.size());
  }
}

TEST(IntCodecs, CommonStepShrinksMillisecondTimes) {
  // Millisecond-precision times with jitter, stored in nanoseconds: residuals are
  // multiples of 10^6, which the step divides out.
  std::mt19937_64 rng(8);
  std::vector<int64_t> v;
  int64_t t = 1451606400000000000LL;
  for (int i = 0; i < 8192; ++i) {
    t += (10000 + static_cast<int64_t>(rng() % 21) - 10) * 1000000LL;
    v.push_back(t);
  }
  std::string enc;
  auto id = EncodeIntsBest(v, true, &enc);
  ASSERT_TRUE(id.ok());
  ExpectIntsRoundTrip(*id, v, enc);
  EXPECT_LT(enc.size(), 8192u * 5 / 8);  // under 5 bits a value (the jitter is 21 steps)
}

TEST(IntCodecs, HuffmanNearEntropyOnRandomWalk) {
  // Integer random walk with N(0, 1) steps: about 2.1 bits of entropy per delta.
  std::mt19937_64 rng(4);
  std::normal_distribution<double> step(0, 1);
  std::vector<int64_t> v;
  double x = 1e6;
  for (int i = 0; i < 8192; ++i) {
    x += step(rng);
    v.push_back(static_cast<int64_t>(x));
  }
  std::string huff, pack;
  ASSERT_TRUE(EncodeInts(CodecId::kIntDeltaHuffman, v, &huff).ok());
  ASSERT_TRUE(EncodeInts(CodecId::kIntDeltaBitpack, v, &pack).ok());
  ExpectIntsRoundTrip(CodecId::kIntDeltaHuffman, v, huff);
  EXPECT_LT(huff.size() * 8.0 / v.size(), 2.4);
  EXPECT_LT(huff.size(), pack.size());
  EXPECT_EQ(ChooseIntCodec(v, false), CodecId::kIntDeltaHuffman);
}

TEST(IntCodecs, HuffmanEscapesOutsideTheWindow) {
  // Most values in a narrow band far above the minimum, a few far outliers on both sides:
  // the symbol window sits on the band and the outliers are escaped.
  std::mt19937_64 rng(12);
  std::vector<int64_t> v;
  for (int i = 0; i < 3000; ++i) {
    int64_t x = 1000000 + static_cast<int64_t>(rng() % 9);
    if (i % 500 == 7) x = kMin + static_cast<int64_t>(rng() % 5);
    if (i % 700 == 3) x = kMax - static_cast<int64_t>(rng() % 5);
    v.push_back(x);
  }
  std::string enc;
  ASSERT_TRUE(EncodeInts(CodecId::kIntDeltaHuffman, v, &enc).ok());
  ExpectIntsRoundTrip(CodecId::kIntDeltaHuffman, v, enc);
  EXPECT_LT(enc.size(), 3000u * 6 / 8);
}

// ---------------------------------------------------------------- decimal

TEST(Decimal, FindsSmallestScale) {
  using codec::decimal::FindScale;
  EXPECT_EQ(FindScale(std::vector<double>{58.0, 12.0, -3.0}), 0);
  EXPECT_EQ(FindScale(std::vector<double>{58.0, 12.5}), 1);
  EXPECT_EQ(FindScale(std::vector<double>{0.1, 0.25}), 2);
  EXPECT_EQ(FindScale(std::vector<double>{1999.99, 0.001}), 3);
  EXPECT_EQ(FindScale(std::vector<double>{0.123456789}), 9);
  EXPECT_EQ(FindScale(std::vector<double>{}), 0);
  EXPECT_EQ(FindScale(std::vector<double>{0.1 + 0.2}), std::nullopt);  // 0.30000000000000004
  EXPECT_EQ(FindScale(std::vector<double>{1.0, -0.0}), std::nullopt);
  EXPECT_EQ(FindScale(std::vector<double>{1.0, std::nan("")}), std::nullopt);
  EXPECT_EQ(FindScale(std::vector<double>{1.0, HUGE_VAL}), std::nullopt);
  EXPECT_EQ(FindScale(std::vector<double>{std::numeric_limits<double>::denorm_min()}),
            std::nullopt);
  EXPECT_EQ(FindScale(std::vector<double>{9007199254740992.0}), 0);
  EXPECT_EQ(FindScale(std::vector<double>{18014398509481984.0}), std::nullopt);  // 2^54
  EXPECT_EQ(FindScale(std::vector<double>{0.0000000001}), std::nullopt);         // 10 digits
}

TEST(Decimal, ChosenForDecimalsAndSmallerThanGorilla) {
  std::vector<double> v;  // a walk in steps of 0.5
  std::mt19937_64 rng(1);
  int64_t halves = 100;
  for (int i = 0; i < 8192; ++i) {
    halves += static_cast<int64_t>(rng() % 7) - 3;
    v.push_back(static_cast<double>(halves) / 2);
  }
  std::string best, gorilla;
  auto id = EncodeDoublesBest(v, &best);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, CodecId::kDecimal);
  ASSERT_TRUE(EncodeDoubles(CodecId::kGorillaXor, v, &gorilla).ok());
  EXPECT_LT(best.size() * 2, gorilla.size());
  EXPECT_EQ(best[0], 1);  // scale 10^1
}

TEST(Decimal, NegativeZeroFallsBack) {
  std::vector<double> v(100, 3.0);
  v[50] = -0.0;
  std::string enc;
  EXPECT_EQ(EncodeDoubles(CodecId::kDecimal, v, &enc).code(), absl::StatusCode::kInvalidArgument);
  auto id = EncodeDoublesBest(v, &enc);
  ASSERT_TRUE(id.ok());
  EXPECT_NE(*id, CodecId::kDecimal);
  ExpectDoublesRoundTrip(*id, v, enc);
}

// ---------------------------------------------------------------- chooser

template <typename T, typename EncodeFn>
void ExpectSmallest(std::span<const T> v, uint8_t domain, size_t best_size, EncodeFn encode,
                    bool skip_dod) {
  for (const CodecInfo& info : AllCodecs()) {
    if (!(info.domains & domain)) continue;
    if (skip_dod && info.id == CodecId::kDeltaOfDelta) continue;
    // Compressed already; compared after compression, for typed text only (EncodeTextBest).
    if (info.id == CodecId::kZstdDictionary) continue;
    std::string enc;
    if (!encode(info.id, v, &enc).ok()) continue;
    EXPECT_LE(best_size, enc.size()) << info.name << " is smaller";
  }
}

TEST(Chooser, PicksTheSmallest) {
  for (const IntCase& c : IntCases()) {
    SCOPED_TRACE(c.name);
    for (bool ts : {false, true}) {
      std::string best;
      auto id = EncodeIntsBest(c.v, ts, &best);
      ASSERT_TRUE(id.ok());
      EXPECT_EQ(ChooseIntCodec(c.v, ts), *id);
      ExpectIntsRoundTrip(*id, c.v, best);
      ExpectSmallest<int64_t>(
          c.v, kDomainInts, best.size(),
          [](CodecId id, std::span<const int64_t> v, std::string* o) {
            return EncodeInts(id, v, o);
          },
          !ts);
    }
  }
  for (const DoubleCase& c : DoubleCases()) {
    SCOPED_TRACE(c.name);
    std::string best;
    auto id = EncodeDoublesBest(c.v, &best);
    ASSERT_TRUE(id.ok());
    EXPECT_EQ(ChooseDoubleCodec(c.v), *id);
    ExpectDoublesRoundTrip(*id, c.v, best);
    ExpectSmallest<double>(
        c.v, kDomainDoubles, best.size(),
        [](CodecId id, std::span<const double> v, std::string* o) {
          return EncodeDoubles(id, v, o);
        },
        false);
  }
  for (const BoolCase& c : BoolCases()) {
    SCOPED_TRACE(c.name);
    std::string best;
    auto id = EncodeBoolsBest(c.v, &best);
    ASSERT_TRUE(id.ok());
    EXPECT_EQ(ChooseBoolCodec(c.v), *id);
    ExpectBoolsRoundTrip(*id, c.v, best);
    ExpectSmallest<uint8_t>(
        c.v, kDomainBools, best.size(),
        [](CodecId id, std::span<const uint8_t> v, std::string* o) {
          return EncodeBools(id, v, o);
        },
        false);
  }
  for (const StringCase& c : StringCases()) {
    SCOPED_TRACE(c.name);
    auto views = Views(c.v);
    std::string best;
    auto id = EncodeStringsBest(views, &best);
    ASSERT_TRUE(id.ok());
    EXPECT_EQ(ChooseStringCodec(views), *id);
    ExpectStringsRoundTrip(*id, c.v, best);
    ExpectSmallest<std::string_view>(
        views, kDomainStrings, best.size(),
        [](CodecId id, std::span<const std::string_view> v, std::string* o) {
          return EncodeStrings(id, v, o);
        },
        false);
  }
}

TEST(Chooser, ExpectedCodecsForTypicalBlocks) {
  std::vector<int64_t> ts;
  for (int i = 0; i < 8192; ++i) ts.push_back(1451606400000000000LL + i * 10000000000LL);
  std::string enc;
  auto id = EncodeIntsBest(ts, true, &enc);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, CodecId::kIntDeltaBitpack);
  EXPECT_LE(enc.size(), 20u);  // a head and one run chunk
  EXPECT_EQ(ChooseIntCodec(std::vector<int64_t>(100, 5), false), CodecId::kConstant);
  EXPECT_EQ(ChooseDoubleCodec(std::vector<double>(100, -0.0)), CodecId::kConstant);
  std::vector<double> noise;
  std::mt19937_64 rng(3);
  for (int i = 0; i < 1000; ++i) noise.push_back(FromBits(rng()));
  EXPECT_EQ(ChooseDoubleCodec(noise), CodecId::kPlain);
  std::vector<std::string_view> tags(8192, "eu-west-1b");
  enc.clear();
  id = EncodeStringsBest(tags, &enc);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, CodecId::kDictionary);
  EXPECT_LE(enc.size(), 16u);
}

// ---------------------------------------------------------------- bit helpers

TEST(BitHelpers, WriterReaderRoundTrip) {
  std::mt19937_64 rng(5);
  std::vector<std::pair<uint64_t, int>> items;
  std::string buf;
  BitWriter w(&buf);
  for (int i = 0; i < 5000; ++i) {
    int width = static_cast<int>(rng() % 65);
    uint64_t v = width == 64 ? rng() : rng() & ((uint64_t{1} << width) - 1);
    items.push_back({v, width});
    w.Write(v, width);
  }
  uint64_t bits = w.bit_count();
  w.Finish();
  EXPECT_EQ(buf.size(), (bits + 7) / 8);
  BitReader r(buf);
  for (auto [v, width] : items) {
    uint64_t got;
    ASSERT_TRUE(r.Read(width, &got));
    ASSERT_EQ(got, v) << width;
  }
  EXPECT_TRUE(r.AtCleanEnd());
  uint64_t extra;
  EXPECT_FALSE(r.Read(8, &extra));
}

TEST(BitHelpers, ReaderStopsAtEnd) {
  std::string buf("\xff\x01", 2);
  BitReader r(buf);
  uint64_t v;
  EXPECT_TRUE(r.Read(9, &v));
  EXPECT_EQ(v, 0x1ffu);
  EXPECT_TRUE(r.AtCleanEnd());
  EXPECT_FALSE(r.Read(8, &v));
  BitReader r2(std::string_view{});
  EXPECT_FALSE(r2.Read(1, &v));
  EXPECT_EQ(r2.Peek(5, &v), 0);
  BitReader r3(buf);
  EXPECT_FALSE(r3.Read(17, &v));
  BitReader r4(buf);
  EXPECT_TRUE(r4.Read(8, &v));
  EXPECT_FALSE(r4.AtCleanEnd());  // bit 8 is set: not padding
}

TEST(BitHelpers, PackUnpackEveryWidth) {
  std::mt19937_64 rng(6);
  for (int width = 0; width <= 64; ++width) {
    for (size_t n : {0, 1, 2, 7, 8, 9, 63, 64, 65, 127, 128, 129}) {
      std::vector<uint64_t> v(n);
      for (auto& x : v) x = width == 64 ? rng() : rng() & ((uint64_t{1} << width) - 1);
      std::string buf = "ab";
      codec::PackBits(v.data(), n, width, &buf);
      ASSERT_EQ(buf.size(), 2 + codec::PackedBytes(n, width));
      // Unpack from an exactly-sized heap copy so reads past the end would be caught by ASan.
      std::unique_ptr<char[]> exact(new char[buf.size() - 2 + 1]);
      std::memcpy(exact.get(), buf.data() + 2, buf.size() - 2);
      std::vector<uint64_t> out(n + 1, 99);
      codec::UnpackBits(exact.get(), n, width, out.data());
      for (size_t i = 0; i < n; ++i) ASSERT_EQ(out[i], v[i]) << width << " " << n << " " << i;
      EXPECT_EQ(out[n], 99u);
    }
  }
}

}  // namespace
}  // namespace timestore
