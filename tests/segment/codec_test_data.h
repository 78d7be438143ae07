// The codec tests' data sets (edge and random ints, doubles, bools and
// strings) and the checks that a block decodes back to exactly what was
// encoded, shared by codec_test.cc, codec_size_test.cc and
// codec_corruption_test.cc.
#pragma once

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "common/strings.h"
#include "segment/codec/codec.h"

namespace timestore::codec::testing {

inline constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
inline constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

inline uint64_t Bits(double d) { return std::bit_cast<uint64_t>(d); }
inline double FromBits(uint64_t b) { return std::bit_cast<double>(b); }

// ---------------------------------------------------------------- data sets

struct IntCase {
  std::string name;
  std::vector<int64_t> v;
};

inline std::vector<IntCase> IntCases() {
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

inline std::vector<double> SpecialDoubles() {
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

inline std::vector<DoubleCase> DoubleCases() {
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

inline std::vector<BoolCase> BoolCases() {
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

inline std::vector<StringCase> StringCases() {
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

inline std::vector<std::string_view> Views(const std::vector<std::string>& v) {
  return {v.begin(), v.end()};
}

// ---------------------------------------------------------------- round-trip checks

inline void ExpectIntsRoundTrip(CodecId id, const std::vector<int64_t>& v, const std::string& enc) {
  std::vector<int64_t> out(v.size() + 1, 12345);
  absl::Status s = DecodeInts(id, enc, v.size(), out.data());
  ASSERT_TRUE(s.ok()) << s;
  for (size_t i = 0; i < v.size(); ++i) ASSERT_EQ(out[i], v[i]) << "row " << i;
  EXPECT_EQ(out[v.size()], 12345) << "wrote past n";
}

inline void ExpectDoublesRoundTrip(CodecId id, const std::vector<double>& v,
                                   const std::string& enc) {
  std::vector<double> out(v.size() + 1, 12345.0);
  absl::Status s = DecodeDoubles(id, enc, v.size(), out.data());
  ASSERT_TRUE(s.ok()) << s;
  for (size_t i = 0; i < v.size(); ++i) ASSERT_EQ(Bits(out[i]), Bits(v[i])) << "row " << i;
  EXPECT_EQ(out[v.size()], 12345.0) << "wrote past n";
}

inline void ExpectBoolsRoundTrip(CodecId id, const std::vector<uint8_t>& v,
                                 const std::string& enc) {
  std::vector<uint8_t> out(v.size() + 1, 7);
  absl::Status s = DecodeBools(id, enc, v.size(), out.data());
  ASSERT_TRUE(s.ok()) << s;
  for (size_t i = 0; i < v.size(); ++i) ASSERT_EQ(out[i], v[i]) << "row " << i;
  EXPECT_EQ(out[v.size()], 7) << "wrote past n";
}

inline void ExpectStringsRoundTrip(CodecId id, const std::vector<std::string>& v,
                                   const std::string& enc) {
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

}  // namespace timestore::codec::testing
