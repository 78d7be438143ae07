// Codecs through the registry (ids, names, domains, nested descriptions) and
// round trips on edge values with every codec and through the chooser. Sizes
// and the chooser's picks are in codec_size_test.cc, corruption of encoded
// blocks in codec_corruption_test.cc.
#include "segment/codec/codec.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "common/strings.h"
#include "segment/codec/int_delta_bitpack.h"
#include "segment/codec/zigzag.h"
#include "tests/segment/codec_test_data.h"

namespace timestore {
namespace {

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
using codec::testing::StringCase;
using codec::testing::StringCases;
using codec::testing::Views;

TEST(CodecRegistry, IdsNamesAndDomains) {
  auto codecs = AllCodecs();
  ASSERT_EQ(codecs.size(), 13u);
  for (size_t i = 0; i < codecs.size(); ++i) {
    const CodecInfo& c = codecs[i];
    EXPECT_EQ(static_cast<size_t>(c.id), i);
    EXPECT_EQ(FindCodec(static_cast<uint8_t>(i)), &c);
    EXPECT_EQ(ParseCodecName(c.name), c.id);
    EXPECT_EQ(CodecName(c.id), c.name);
    EXPECT_EQ((c.domains & kDomainInts) != 0, c.encode_ints != nullptr) << c.name;
    EXPECT_EQ((c.domains & kDomainInts) != 0, c.decode_ints != nullptr) << c.name;
    EXPECT_EQ((c.domains & kDomainDoubles) != 0, c.decode_doubles != nullptr) << c.name;
    EXPECT_EQ((c.domains & kDomainBools) != 0, c.decode_bools != nullptr) << c.name;
    EXPECT_EQ((c.domains & kDomainStrings) != 0, c.decode_strings != nullptr) << c.name;
    EXPECT_EQ((c.domains & kDomainText) != 0, c.encode_text != nullptr) << c.name;
    EXPECT_EQ((c.domains & kDomainText) != 0, c.decode_text != nullptr) << c.name;
  }
  // Frozen on disk.
  EXPECT_EQ(static_cast<int>(CodecId::kPlain), 0);
  EXPECT_EQ(static_cast<int>(CodecId::kDeltaOfDelta), 1);
  EXPECT_EQ(static_cast<int>(CodecId::kGorillaXor), 2);
  EXPECT_EQ(static_cast<int>(CodecId::kDecimal), 3);
  EXPECT_EQ(static_cast<int>(CodecId::kIntDeltaBitpack), 4);
  EXPECT_EQ(static_cast<int>(CodecId::kRunLength), 5);
  EXPECT_EQ(static_cast<int>(CodecId::kDictionary), 6);
  EXPECT_EQ(static_cast<int>(CodecId::kBitmap), 7);
  EXPECT_EQ(static_cast<int>(CodecId::kConstant), 8);
  EXPECT_EQ(static_cast<int>(CodecId::kIntDeltaHuffman), 9);
  EXPECT_EQ(static_cast<int>(CodecId::kUuid), 10);
  EXPECT_EQ(static_cast<int>(CodecId::kZstdDictionary), 11);
  EXPECT_EQ(static_cast<int>(CodecId::kArray), 12);
  EXPECT_EQ(FindCodec(uint8_t{13}), nullptr);
  EXPECT_EQ(FindCodec(uint8_t{255}), nullptr);
  EXPECT_EQ(CodecName(static_cast<CodecId>(200)), "unknown(200)");
  EXPECT_EQ(ParseCodecName("zstd"), std::nullopt);
}

TEST(CodecRegistry, DescribePayloadNamesNestedCodecs) {
  std::vector<double> halves = {1.5, 2.0, 2.5, 3.0, 3.5};
  std::string enc;
  ASSERT_TRUE(EncodeDoubles(CodecId::kDecimal, halves, &enc).ok());
  EXPECT_EQ(DescribePayload(CodecId::kDecimal, enc).substr(0, 16), "decimal(scale=1,");
  std::vector<std::string_view> tags(100, "x");
  enc.clear();
  ASSERT_TRUE(EncodeStrings(CodecId::kDictionary, tags, &enc).ok());
  EXPECT_EQ(DescribePayload(CodecId::kDictionary, enc), "dictionary(entries=1,constant)");
  // decimal inside decimal is not an int codec: named, not followed.
  EXPECT_EQ(DescribePayload(CodecId::kDecimal, std::string("\x01\x03\x01\x03", 4)),
            "decimal(scale=1,invalid(3))");
  EXPECT_EQ(DescribePayload(CodecId::kDecimal, ""), "decimal");
  EXPECT_EQ(DescribePayload(static_cast<CodecId>(77), "abc"), "unknown(77)");
}

TEST(CodecRegistry, WrongDomainIsRejected) {
  std::string out;
  std::vector<int64_t> ints = {1, 2};
  EXPECT_EQ(EncodeInts(CodecId::kGorillaXor, ints, &out).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(EncodeInts(static_cast<CodecId>(99), ints, &out).code(),
            absl::StatusCode::kInvalidArgument);
  int64_t v[2];
  // An id read from disk that does not fit the column is corruption.
  EXPECT_EQ(DecodeInts(CodecId::kDictionary, "", 2, v).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodeInts(static_cast<CodecId>(99), "", 2, v).code(), absl::StatusCode::kDataLoss);
  double d[2];
  EXPECT_EQ(DecodeDoubles(CodecId::kDeltaOfDelta, "", 2, d).code(), absl::StatusCode::kDataLoss);
}

// Every int codec on every int case: encode where the codec applies, decode exactly.
TEST(CodecRoundTrip, IntsEveryCodec) {
  for (const IntCase& c : IntCases()) {
    for (const CodecInfo& info : AllCodecs()) {
      if (!(info.domains & kDomainInts)) continue;
      SCOPED_TRACE(StrCat(c.name, " / ", info.name));
      std::string enc = "prefix";  // encoders append
      absl::Status s = EncodeInts(info.id, c.v, &enc);
      if (info.id == CodecId::kConstant && !s.ok()) {
        EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
        continue;
      }
      ASSERT_TRUE(s.ok()) << s;
      ASSERT_EQ(enc.substr(0, 6), "prefix");
      ExpectIntsRoundTrip(info.id, c.v, enc.substr(6));
    }
  }
}

TEST(CodecRoundTrip, IntDeltaBitpackEveryOrder) {
  for (const IntCase& c : IntCases()) {
    for (int order = 0; order <= 2; ++order) {
      SCOPED_TRACE(StrCat(c.name, " / order ", order));
      std::string enc;
      ASSERT_TRUE(codec::int_delta_bitpack::EncodeIntsWithOrder(c.v, order, &enc).ok());
      ExpectIntsRoundTrip(CodecId::kIntDeltaBitpack, c.v, enc);
    }
  }
}

TEST(CodecRoundTrip, DoublesEveryCodec) {
  for (const DoubleCase& c : DoubleCases()) {
    for (const CodecInfo& info : AllCodecs()) {
      if (!(info.domains & kDomainDoubles)) continue;
      SCOPED_TRACE(StrCat(c.name, " / ", info.name));
      std::string enc;
      absl::Status s = EncodeDoubles(info.id, c.v, &enc);
      if ((info.id == CodecId::kConstant || info.id == CodecId::kDecimal) && !s.ok()) {
        EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
        continue;
      }
      ASSERT_TRUE(s.ok()) << s;
      ExpectDoublesRoundTrip(info.id, c.v, enc);
    }
  }
}

TEST(CodecRoundTrip, BoolsEveryCodec) {
  for (const BoolCase& c : BoolCases()) {
    for (const CodecInfo& info : AllCodecs()) {
      if (!(info.domains & kDomainBools)) continue;
      SCOPED_TRACE(StrCat(c.name, " / ", info.name));
      std::string enc;
      absl::Status s = EncodeBools(info.id, c.v, &enc);
      if (info.id == CodecId::kConstant && !s.ok()) continue;
      ASSERT_TRUE(s.ok()) << s;
      ExpectBoolsRoundTrip(info.id, c.v, enc);
    }
    std::string enc;
    ASSERT_TRUE(EncodeValidity(c.v, &enc).ok());
    EXPECT_EQ(enc.size(), (c.v.size() + 7) / 8);
    std::vector<uint8_t> out(c.v.size());
    ASSERT_TRUE(DecodeValidity(enc, c.v.size(), out.data()).ok());
    EXPECT_EQ(out, c.v);
  }
}

TEST(CodecRoundTrip, BoolsMustBeZeroOrOne) {
  std::vector<uint8_t> v = {0, 1, 2};
  std::string enc;
  for (CodecId id : {CodecId::kPlain, CodecId::kBitmap, CodecId::kRunLength, CodecId::kConstant}) {
    EXPECT_EQ(EncodeBools(id, v, &enc).code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(EncodeValidity(v, &enc).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(EncodeBoolsBest(v, &enc).ok());
}

TEST(CodecRoundTrip, StringsEveryCodec) {
  int zstd_dictionary_encoded = 0;
  for (const StringCase& c : StringCases()) {
    auto views = Views(c.v);
    for (const CodecInfo& info : AllCodecs()) {
      if (!(info.domains & kDomainStrings)) continue;
      SCOPED_TRACE(StrCat(c.name, " / ", info.name));
      std::string enc;
      absl::Status s = EncodeStrings(info.id, views, &enc);
      // zstd_dictionary refuses text compressing beyond its ratio bound.
      if (info.id == CodecId::kZstdDictionary && s.code() == absl::StatusCode::kInvalidArgument) {
        continue;
      }
      ASSERT_TRUE(s.ok()) << s;
      if (info.id == CodecId::kZstdDictionary) ++zstd_dictionary_encoded;
      ExpectStringsRoundTrip(info.id, c.v, enc);
    }
  }
  // The refusal above is the exception: most cases go through it.
  EXPECT_GT(zstd_dictionary_encoded, static_cast<int>(StringCases().size()) / 2);
}

// Random data of random shapes, many times, through the chooser.
TEST(CodecRoundTrip, RandomBlocksThroughChooser) {
  std::mt19937_64 rng(2024);
  for (int iter = 0; iter < 300; ++iter) {
    size_t n = rng() % 2000;
    int shape = static_cast<int>(rng() % 4);
    std::vector<int64_t> ints(n);
    std::vector<double> doubles(n);
    int64_t x = static_cast<int64_t>(rng());
    for (size_t i = 0; i < n; ++i) {
      switch (shape) {
        case 0:
          x = static_cast<int64_t>(rng());
          break;
        case 1:
          x += static_cast<int64_t>(rng() % 7) - 3;
          break;
        case 2:
          if (rng() % 50 == 0) x = static_cast<int64_t>(rng() % 10);
          break;
        default:
          x = codec::WrapAdd(x, static_cast<int64_t>(rng() >> (rng() % 64)));
      }
      ints[i] = x;
      doubles[i] = shape == 0 ? FromBits(rng()) : static_cast<double>(x % 100000) / 100;
    }
    SCOPED_TRACE(StrCat("iter ", iter, " n ", n, " shape ", shape));
    std::string enc;
    auto id = EncodeIntsBest(ints, iter % 2 == 0, &enc);
    ASSERT_TRUE(id.ok());
    ExpectIntsRoundTrip(*id, ints, enc);
    enc.clear();
    auto did = EncodeDoublesBest(doubles, &enc);
    ASSERT_TRUE(did.ok());
    ExpectDoublesRoundTrip(*did, doubles, enc);
  }
}

}  // namespace
}  // namespace timestore
