// Codec round trips on edge values, forced codecs through the registry, the chooser,
// and corruption of encoded blocks (truncation, trailing bytes, byte flips).
#include "segment/codec/codec.h"

#include <gtest/gtest.h>

#include <bit>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "common/strings.h"
#include "segment/codec/bit_reader.h"
#include "segment/codec/bit_writer.h"
#include "segment/codec/decimal.h"
#include "segment/codec/int_delta_bitpack.h"
#include "segment/codec/int_delta_huffman.h"
#include "segment/codec/zigzag.h"

namespace timestore {
namespace {

using codec::BitReader;
using codec::BitWriter;

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

uint64_t Bits(double d) { return std::bit_cast<uint64_t>(d); }
double FromBits(uint64_t b) { return std::bit_cast<double>(b); }

// ---------------------------------------------------------------- data sets

struct IntCase {
  std::string name;
  std::vector<int64_t> v;
};

std::vector<IntCase> IntCases() {
  std::mt19937_64 rng(42);
  std::vector<IntCase> cases;
  cases.push_back({"empty", {}});
  cases.push_back({"one_zero", {0}});
  cases.push_back({"one_min", {kMin}});
  cases.push_back({"one_max", {kMax}});
  cases.push_back({"two", {kMax, kMin}});
  cases.push_back({"three_extremes", {kMin, kMax, kMin}});
  {
    std::vector<int64_t> v;
    for (int i = 0; i < 300; ++i) v.push_back(i % 2 ? kMin : kMax);
    cases.push_back({"alternating_extremes", v});
  }
  {
    std::vector<int64_t> v;
    for (int i = 0; i < 1000; ++i) v.push_back(i % 3 == 0 ? 0 : (i % 3 == 1 ? kMax : -1));
    cases.push_back({"mixed_extremes", v});
  }
  cases.push_back({"constant", std::vector<int64_t>(8192, -77)});
  cases.push_back({"constant_min", std::vector<int64_t>(129, kMin)});
  {
    std::vector<int64_t> v;
    for (int i = 0; i < 8192; ++i) v.push_back(1451606400000000000LL + i * 10000000000LL);
    cases.push_back({"regular_timestamps", v});
  }
  {
    std::vector<int64_t> v;
    int64_t t = 1451606400000000000LL;
    for (int i = 0; i < 5000; ++i) {
      t += 1000000000LL + static_cast<int64_t>(rng() % 2001) - 1000;
      v.push_back(t);
    }
    cases.push_back({"jittered_timestamps", v});
  }
  {
    std::vector<int64_t> v;
    for (int i = 0; i < 4097; ++i) v.push_back(static_cast<int64_t>(rng()));
    cases.push_back({"random_64bit", v});
  }
  {
    std::vector<int64_t> v;
    for (int i = 0; i < 3000; ++i) v.push_back(static_cast<int64_t>(rng() % 100) - 50);
    cases.push_back({"random_small", v});
  }
  {
    std::vector<int64_t> v;
    int64_t x = 50;
    for (int i = 0; i < 8192; ++i) {
      x += static_cast<int64_t>(rng() % 5) - 2;
      x = std::clamp<int64_t>(x, 0, 100);
      v.push_back(x);
    }
    cases.push_back({"clamped_walk", v});
  }
  {
    std::vector<int64_t> v;
    for (int r = 0; r < 40; ++r) {
      int64_t value = static_cast<int64_t>(rng() % 1000000);
      size_t len = 1 + rng() % 300;
      for (size_t k = 0; k < len; ++k) v.push_back(value);
    }
    cases.push_back({"runs", v});
  }
  {
    std::vector<int64_t> v;  // long run inside otherwise wide data: run chunks mid-stream
    for (int i = 0; i < 200; ++i) v.push_back(static_cast<int64_t>(rng()));
    for (int i = 0; i < 500; ++i) v.push_back(5);
    for (int i = 0; i < 77; ++i) v.push_back(static_cast<int64_t>(rng() % 1000));
    for (int i = 0; i < 40; ++i) v.push_back(kMin);
    cases.push_back({"wide_with_runs", v});
  }
  for (size_t n : {1, 2, 3, 7, 8, 9, 127, 128, 129, 130, 255, 256, 257, 1000}) {
    std::vector<int64_t> v;
    for (size_t i = 0; i < n; ++i) v.push_back(static_cast<int64_t>(rng() >> (rng() % 64)));
    cases.push_back({StrCat("size_", n), v});
  }
  for (int width = 1; width <= 64; width += 7) {
    std::vector<int64_t> v;
    for (int i = 0; i < 300; ++i) {
      uint64_t r = rng();
      v.push_back(static_cast<int64_t>(width == 64 ? r : r & ((uint64_t{1} << width) - 1)));
    }
    cases.push_back({StrCat("width_", width), v});
  }
  return cases;
}

struct DoubleCase {
  std::string name;
  std::vector<double> v;
};

std::vector<double> SpecialDoubles() {
  const double inf = std::numeric_limits<double>::infinity();
  return {0.0,
          -0.0,
          inf,
          -inf,
          std::numeric_limits<double>::quiet_NaN(),
          -std::numeric_limits<double>::quiet_NaN(),
          FromBits(0x7ff0000000000001ULL),  // signalling NaN
          FromBits(0x7ff8dead0000beefULL),  // NaN with payload
          FromBits(0xfff0000000000123ULL),
          std::numeric_limits<double>::denorm_min(),
          -std::numeric_limits<double>::denorm_min(),
          FromBits(0x000fffffffffffffULL),  // largest denormal
          std::numeric_limits<double>::min(),
          std::numeric_limits<double>::max(),
          std::numeric_limits<double>::lowest(),
          1.0,
          -1.0,
          0.1,
          9007199254740993.0,
          1e300};
}

std::vector<DoubleCase> DoubleCases() {
  std::mt19937_64 rng(7);
  std::vector<DoubleCase> cases;
  cases.push_back({"empty", {}});
  for (double d : SpecialDoubles()) cases.push_back({StrCat("one_", Bits(d)), {d}});
  cases.push_back({"specials", SpecialDoubles()});
  {
    std::vector<double> v;
    for (int i = 0; i < 500; ++i) {
      auto s = SpecialDoubles();
      v.push_back(s[rng() % s.size()]);
    }
    cases.push_back({"specials_shuffled", v});
  }
  cases.push_back({"constant", std::vector<double>(1000, 58.0)});
  cases.push_back({"constant_nan", std::vector<double>(10, FromBits(0x7ff8dead0000beefULL))});
  cases.push_back({"constant_neg_zero", std::vector<double>(10, -0.0)});
  {
    std::vector<double> v;
    for (int i = 0; i < 4000; ++i) v.push_back(FromBits(rng()));
    cases.push_back({"random_bits", v});
  }
  {
    std::vector<double> v;
    std::normal_distribution<double> step(0, 1);
    double x = 50;
    for (int i = 0; i < 8192; ++i) {
      x = std::clamp(x + step(rng), 0.0, 100.0);
      v.push_back(std::trunc(x));
    }
    cases.push_back({"integer_walk", v});
  }
  {
    std::vector<double> v;
    std::normal_distribution<double> step(0, 1);
    double x = 50;
    for (int i = 0; i < 3000; ++i) {
      x += step(rng);
      v.push_back(x);
    }
    cases.push_back({"float_walk", v});
  }
  {
    std::vector<double> v;
    for (int i = 0; i < 2000; ++i) v.push_back(static_cast<double>(rng() % 100000) / 100.0);
    cases.push_back({"two_decimals", v});
  }
  {
    std::vector<double> v;
    for (int i = 0; i < 1000; ++i) v.push_back(i * 0.1);  // accumulates binary error
    cases.push_back({"tenths_product", v});
  }
  {
    std::vector<double> v = {58.0, 12.5, -3.25, 0.125, 1999.99, -0.001, 123456789.0};
    cases.push_back({"decimals", v});
  }
  {
    std::vector<double> v = {1.0, 2.0, -0.0, 3.0};
    cases.push_back({"decimals_with_neg_zero", v});
  }
  {
    std::vector<double> v = {1.0, 2.0, std::numeric_limits<double>::quiet_NaN()};
    cases.push_back({"decimals_with_nan", v});
  }
  {
    std::vector<double> v = {9007199254740992.0, -9007199254740992.0, 1.0};
    cases.push_back({"decimals_at_2p53", v});
  }
  for (size_t n : {1, 2, 3, 63, 64, 65, 127, 128, 129, 1000}) {
    std::vector<double> v;
    for (size_t i = 0; i < n; ++i) v.push_back(static_cast<double>(rng() % 1000) / 8);
    cases.push_back({StrCat("size_", n), v});
  }
  return cases;
}

struct BoolCase {
  std::string name;
  std::vector<uint8_t> v;
};

std::vector<BoolCase> BoolCases() {
  std::mt19937_64 rng(9);
  std::vector<BoolCase> cases;
  cases.push_back({"empty", {}});
  cases.push_back({"one_true", {1}});
  cases.push_back({"one_false", {0}});
  cases.push_back({"all_true", std::vector<uint8_t>(8192, 1)});
  for (size_t n : {7, 8, 9, 15, 16, 17, 1000, 8191}) {
    std::vector<uint8_t> v;
    for (size_t i = 0; i < n; ++i) v.push_back(rng() & 1);
    cases.push_back({StrCat("random_", n), v});
  }
  {
    std::vector<uint8_t> v;
    for (int i = 0; i < 1001; ++i) v.push_back(i % 2);
    cases.push_back({"alternating", v});
  }
  {
    std::vector<uint8_t> v;
    for (int r = 0; r < 20; ++r) v.insert(v.end(), 1 + rng() % 500, r % 2);
    cases.push_back({"runs", v});
  }
  return cases;
}

struct StringCase {
  std::string name;
  std::vector<std::string> v;
};

std::vector<StringCase> StringCases() {
  std::mt19937_64 rng(11);
  std::vector<StringCase> cases;
  cases.push_back({"empty", {}});
  cases.push_back({"one", {"host_0"}});
  cases.push_back({"one_empty_string", {""}});
  cases.push_back({"empty_strings", std::vector<std::string>(100, "")});
  cases.push_back({"constant", std::vector<std::string>(8192, "us-east-1a")});
  cases.push_back({"non_ascii",
                   {"température", "日本語", "😀", std::string("a\0b", 3),
                    std::string("\xff\xfe", 2), "température"}});
  cases.push_back({"long", {std::string(100000, 'x'), "y", std::string(70000, 'z')}});
  {
    std::vector<std::string> v;
    for (int i = 0; i < 5000; ++i) v.push_back(StrCat("rack_", rng() % 7));
    cases.push_back({"low_cardinality", v});
  }
  {
    std::vector<std::string> v;
    for (int i = 0; i < 3000; ++i) v.push_back(StrCat("id-", rng()));
    cases.push_back({"all_distinct", v});
  }
  {
    std::vector<std::string> v;
    for (int i = 0; i < 2000; ++i) v.push_back(StrCat("user-", rng() % 1500));
    cases.push_back({"high_cardinality_repeats", v});
  }
  {
    std::vector<std::string> v;
    for (int h = 0; h < 3; ++h) v.insert(v.end(), 3000, StrCat("host_", h));
    cases.push_back({"sorted_runs", v});
  }
  return cases;
}

std::vector<std::string_view> Views(const std::vector<std::string>& v) {
  return {v.begin(), v.end()};
}

// ---------------------------------------------------------------- round trips

void ExpectIntsRoundTrip(CodecId id, const std::vector<int64_t>& v, const std::string& enc) {
  std::vector<int64_t> out(v.size() + 1, 12345);
  absl::Status s = DecodeInts(id, enc, v.size(), out.data());
  ASSERT_TRUE(s.ok()) << s;
  for (size_t i = 0; i < v.size(); ++i) ASSERT_EQ(out[i], v[i]) << "row " << i;
  EXPECT_EQ(out[v.size()], 12345) << "wrote past n";
}

void ExpectDoublesRoundTrip(CodecId id, const std::vector<double>& v, const std::string& enc) {
  std::vector<double> out(v.size() + 1, 12345.0);
  absl::Status s = DecodeDoubles(id, enc, v.size(), out.data());
  ASSERT_TRUE(s.ok()) << s;
  for (size_t i = 0; i < v.size(); ++i) ASSERT_EQ(Bits(out[i]), Bits(v[i])) << "row " << i;
  EXPECT_EQ(out[v.size()], 12345.0) << "wrote past n";
}

void ExpectBoolsRoundTrip(CodecId id, const std::vector<uint8_t>& v, const std::string& enc) {
  std::vector<uint8_t> out(v.size() + 1, 7);
  absl::Status s = DecodeBools(id, enc, v.size(), out.data());
  ASSERT_TRUE(s.ok()) << s;
  for (size_t i = 0; i < v.size(); ++i) ASSERT_EQ(out[i], v[i]) << "row " << i;
  EXPECT_EQ(out[v.size()], 7) << "wrote past n";
}

void ExpectStringsRoundTrip(CodecId id, const std::vector<std::string>& v, const std::string& enc) {
  std::vector<std::string> dict;
  std::vector<uint32_t> ids;
  absl::Status s = DecodeStrings(id, enc, v.size(), &dict, &ids);
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_EQ(ids.size(), v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    ASSERT_LT(ids[i], dict.size());
    ASSERT_EQ(dict[ids[i]], v[i]) << "row " << i;
  }
  StringMap<int> distinct;
  for (const std::string& d : dict) EXPECT_TRUE(distinct.emplace(d, 0).second) << "repeated " << d;
}

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
