// Corruption of encoded blocks of every codec: every truncation, trailing
// bytes, a wrong row count and random byte flips fail cleanly (never crash,
// never read past the buffer), and hand-made malformed payloads name what is
// wrong.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "common/strings.h"
#include "segment/codec/bit_writer.h"
#include "segment/codec/codec.h"
#include "tests/segment/codec_test_data.h"

namespace timestore {
namespace {

using codec::BitWriter;
using codec::testing::BoolCase;
using codec::testing::BoolCases;
using codec::testing::DoubleCase;
using codec::testing::DoubleCases;
using codec::testing::IntCase;
using codec::testing::IntCases;
using codec::testing::StringCase;
using codec::testing::StringCases;
using codec::testing::Views;

// ---------------------------------------------------------------- corruption

struct Encoded {
  std::string what;
  CodecId id;
  uint8_t domain;
  size_t n;
  std::string bytes;
};

std::vector<Encoded> EncodedBlocks() {
  std::vector<Encoded> blocks;
  auto small = [](auto v, size_t max) {
    v.resize(std::min(v.size(), max));
    return v;
  };
  for (const IntCase& c : IntCases()) {
    auto v = small(c.v, 300);
    for (const CodecInfo& info : AllCodecs()) {
      if (!(info.domains & kDomainInts)) continue;
      std::string enc;
      if (EncodeInts(info.id, v, &enc).ok()) {
        blocks.push_back({StrCat(c.name, "/", info.name), info.id, kDomainInts, v.size(), enc});
      }
    }
  }
  for (const DoubleCase& c : DoubleCases()) {
    auto v = small(c.v, 300);
    for (const CodecInfo& info : AllCodecs()) {
      if (!(info.domains & kDomainDoubles)) continue;
      std::string enc;
      if (EncodeDoubles(info.id, v, &enc).ok()) {
        blocks.push_back({StrCat(c.name, "/", info.name), info.id, kDomainDoubles, v.size(), enc});
      }
    }
  }
  for (const BoolCase& c : BoolCases()) {
    auto v = small(c.v, 300);
    for (const CodecInfo& info : AllCodecs()) {
      if (!(info.domains & kDomainBools)) continue;
      std::string enc;
      if (EncodeBools(info.id, v, &enc).ok()) {
        blocks.push_back({StrCat(c.name, "/", info.name), info.id, kDomainBools, v.size(), enc});
      }
    }
  }
  for (const StringCase& c : StringCases()) {
    if (c.name == "long") continue;  // every truncation of 170 kB is slow and adds nothing
    auto v = small(c.v, 300);
    auto views = Views(v);
    for (const CodecInfo& info : AllCodecs()) {
      if (!(info.domains & kDomainStrings)) continue;
      std::string enc;
      if (EncodeStrings(info.id, views, &enc).ok()) {
        blocks.push_back({StrCat(c.name, "/", info.name), info.id, kDomainStrings, v.size(), enc});
      }
    }
  }
  return blocks;
}

// Decodes into exactly-sized heap buffers (so ASan sees any overrun).
absl::Status DecodeAny(const Encoded& b, std::string_view bytes, size_t n) {
  // Copy so the decoder sees a buffer that ends where `bytes` ends.
  std::unique_ptr<char[]> copy(new char[bytes.size() + 1]);
  std::memcpy(copy.get(), bytes.data(), bytes.size());
  std::string_view in(copy.get(), bytes.size());
  switch (b.domain) {
    case kDomainInts: {
      std::unique_ptr<int64_t[]> out(new int64_t[n + 1]);
      return DecodeInts(b.id, in, n, out.get());
    }
    case kDomainDoubles: {
      std::unique_ptr<double[]> out(new double[n + 1]);
      return DecodeDoubles(b.id, in, n, out.get());
    }
    case kDomainBools: {
      std::unique_ptr<uint8_t[]> out(new uint8_t[n + 1]);
      return DecodeBools(b.id, in, n, out.get());
    }
    default: {
      std::vector<std::string> dict;
      std::vector<uint32_t> ids;
      return DecodeStrings(b.id, in, n, &dict, &ids);
    }
  }
}

TEST(CodecCorruption, EveryTruncationIsDataLoss) {
  for (const Encoded& b : EncodedBlocks()) {
    SCOPED_TRACE(b.what);
    ASSERT_TRUE(DecodeAny(b, b.bytes, b.n).ok());
    for (size_t len = 0; len < b.bytes.size(); ++len) {
      absl::Status s = DecodeAny(b, std::string_view(b.bytes).substr(0, len), b.n);
      ASSERT_EQ(s.code(), absl::StatusCode::kDataLoss)
          << "kept " << len << " of " << b.bytes.size() << ": " << s;
      ASSERT_FALSE(s.message().empty());
    }
  }
}

TEST(CodecCorruption, TrailingBytesAreDataLoss) {
  for (const Encoded& b : EncodedBlocks()) {
    SCOPED_TRACE(b.what);
    for (char junk : {'\0', '\x01', '\xff'}) {
      std::string longer = b.bytes + junk;
      absl::Status s = DecodeAny(b, longer, b.n);
      EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
    }
  }
}

TEST(CodecCorruption, WrongRowCountNeverCrashes) {
  for (const Encoded& b : EncodedBlocks()) {
    SCOPED_TRACE(b.what);
    for (size_t n : {b.n + 1, b.n + 1000, b.n / 2}) {
      if (n == b.n) continue;
      absl::Status s = DecodeAny(b, b.bytes, n);
      if (!s.ok()) {
        EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
      }
    }
  }
}

TEST(CodecCorruption, RandomByteFlipsNeverCrash) {
  auto blocks = EncodedBlocks();
  std::mt19937_64 rng(99);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  size_t trials = 0, errors = 0;
  for (int round = 0; std::chrono::steady_clock::now() < deadline && round < 1000; ++round) {
    for (const Encoded& b : blocks) {
      if (b.bytes.empty()) continue;
      std::string bad = b.bytes;
      int flips = 1 + static_cast<int>(rng() % 3);
      for (int f = 0; f < flips; ++f) {
        size_t pos = rng() % bad.size();
        // Bias toward the header, where lengths and widths live.
        if (rng() % 2) pos = rng() % std::min<size_t>(bad.size(), 12);
        bad[pos] = static_cast<char>(bad[pos] ^ (1 + rng() % 255));
      }
      absl::Status s = DecodeAny(b, bad, b.n);
      EXPECT_FALSE(DescribePayload(b.id, bad).empty());
      ++trials;
      if (!s.ok()) {
        ++errors;
        ASSERT_EQ(s.code(), absl::StatusCode::kDataLoss) << b.what << ": " << s;
      }
    }
  }
  EXPECT_GT(trials, 1000u);
  EXPECT_GT(errors, 0u);
}

// Hand-made malformed payloads, each naming what is wrong.
TEST(CodecCorruption, SpecificMalformations) {
  int64_t ints[300];
  double doubles[300];
  std::vector<std::string> dict;
  std::vector<uint32_t> ids;
  auto msg = [](const absl::Status& s) { return std::string(ToStd(s.message())); };

  // int_delta_bitpack: order 3; width 65; a run longer than the block.
  absl::Status s = DecodeInts(CodecId::kIntDeltaBitpack, std::string("\x03", 1), 4, ints);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(msg(s).find("order 3"), std::string::npos) << s;
  s = DecodeInts(CodecId::kIntDeltaBitpack, std::string("\x00\x01\x41\x00", 4), 4, ints);
  EXPECT_NE(msg(s).find("bit width 65"), std::string::npos) << s;
  s = DecodeInts(CodecId::kIntDeltaBitpack, std::string("\x00\x01\xff\x05\x00", 5), 4, ints);
  EXPECT_NE(msg(s).find("run of 5"), std::string::npos) << s;
  // A width-64 miniblock claiming 128 values from 3 bytes.
  s = DecodeInts(CodecId::kIntDeltaBitpack, std::string("\x00\x01\x40\x00\x01\x02\x03", 7), 200,
                 ints);
  EXPECT_NE(msg(s).find("needs 1024 bytes"), std::string::npos) << s;

  s = DecodeInts(CodecId::kIntDeltaBitpack, std::string("\x01\x02\x00", 3), 4, ints);
  EXPECT_NE(msg(s).find("zero step"), std::string::npos) << s;

  // int_delta_huffman (order 0, step 1, base 0, lo 0): k = 0; a 12-bit code length;
  // lengths {1, 1, 1} (oversubscribed); no symbol with a code; a code never assigned.
  s = DecodeInts(CodecId::kIntDeltaHuffman, std::string("\x00\x01\x00\x00\x00\x00", 6), 3, ints);
  EXPECT_NE(msg(s).find("0 value symbols"), std::string::npos) << s;
  s = DecodeInts(CodecId::kIntDeltaHuffman, std::string("\x00\x01\x00\x00\x01\x00\x1c\x00", 8), 3,
                 ints);
  EXPECT_NE(msg(s).find("code length 12"), std::string::npos) << s;
  s = DecodeInts(CodecId::kIntDeltaHuffman, std::string("\x00\x01\x00\x00\x02\x00\x11\x01\x00", 9),
                 3, ints);
  EXPECT_NE(msg(s).find("oversubscribed"), std::string::npos) << s;
  s = DecodeInts(CodecId::kIntDeltaHuffman, std::string("\x00\x01\x00\x00\x01\x00\x00\x00", 8), 3,
                 ints);
  EXPECT_NE(msg(s).find("no symbol"), std::string::npos) << s;
  // Symbol 0 has code '0' (length 1), the escape none: a '1' bit is an unassigned code.
  s = DecodeInts(CodecId::kIntDeltaHuffman, std::string("\x00\x01\x00\x00\x01\x00\x01\x02", 8), 3,
                 ints);
  EXPECT_NE(msg(s).find("bad or truncated code at residual 1"), std::string::npos) << s;
  s = DecodeInts(CodecId::kIntDeltaHuffman, std::string("\x00\x01\x00\x00\x01\x00\x01\x00", 8), 3,
                 ints);
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(ints[2], 0);

  // run_length: zero-length run.
  s = DecodeInts(CodecId::kRunLength, std::string("\x02\x00", 2), 3, ints);
  EXPECT_NE(msg(s).find("run of 0"), std::string::npos) << s;

  // gorilla: a window of 31 leading + 64 meaningful bits.
  {
    std::string enc;
    codec::BitWriter w(&enc);
    w.Write(0, 64);
    w.Write(0b11 | (31u << 2) | (63u << 7), 13);
    w.Finish();
    s = DecodeDoubles(CodecId::kGorillaXor, enc, 2, doubles);
    EXPECT_NE(msg(s).find("window"), std::string::npos) << s;
  }

  // decimal: scale 23; inner codec that is not an int codec.
  s = DecodeDoubles(CodecId::kDecimal, std::string("\x17\x04\x00", 3), 1, doubles);
  EXPECT_NE(msg(s).find("scale 23"), std::string::npos) << s;
  s = DecodeDoubles(CodecId::kDecimal, std::string("\x01\x02", 2), 1, doubles);
  EXPECT_NE(msg(s).find("not an integer codec"), std::string::npos) << s;

  // dictionary: an entry count far beyond n must not allocate; an id out of range; a
  // repeated entry.
  s = DecodeStrings(CodecId::kDictionary, std::string("\xff\xff\xff\xff\x0f", 5), 3, &dict, &ids);
  EXPECT_NE(msg(s).find("entries for 3 rows"), std::string::npos) << s;
  s = DecodeStrings(CodecId::kDictionary, std::string("\x01\x01x\x08\x02", 5), 2, &dict, &ids);
  EXPECT_NE(msg(s).find("outside 1 entries"), std::string::npos) << s;
  s = DecodeStrings(CodecId::kDictionary, std::string("\x02\x01x\x01x\x08\x00", 7), 2, &dict, &ids);
  EXPECT_NE(msg(s).find("repeats"), std::string::npos) << s;
  // plain strings: a length beyond the payload.
  s = DecodeStrings(CodecId::kPlain,
                    std::string("\xff\xff\xff\xff\x0f"
                                "abc",
                                8),
                    1, &dict, &ids);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);

  // bitmap: nonzero padding bits.
  uint8_t bools[8];
  s = DecodeBools(CodecId::kBitmap, std::string("\xff", 1), 3, bools);
  EXPECT_NE(msg(s).find("padding"), std::string::npos) << s;
  s = DecodeValidity(std::string("\x07", 1), 3, bools);
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(bools[2], 1);
}

}  // namespace
}  // namespace timestore
