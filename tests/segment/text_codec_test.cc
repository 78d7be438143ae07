// The codecs of the typed-text columns (json, uuid, arrays; segment/typed_text.h):
// round trips of every codec that may hold each type, on nulls (empty text),
// unicode, long json, many distinct values and edge elements; the chooser's
// picks; refusals of text that is not canonical; and damaged payloads.
#include <gtest/gtest.h>
#include <zstd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "common/coding.h"
#include "common/strings.h"
#include "segment/array_text.h"
#include "segment/codec/codec.h"
#include "segment/codec/zstd_dictionary.h"
#include "segment/typed_text.h"

namespace timestore {
namespace {

struct TextCase {
  std::string name;
  ColumnType type;
  std::vector<std::string> v;  // canonical text; "" is a null row
};

std::string Canon(ColumnType type, std::string_view text) {
  auto c = CanonicalTypedText(type, text);
  EXPECT_TRUE(c.ok()) << text << ": " << c.status().message();
  return c.value_or("");
}

std::string RandomUuid(std::mt19937_64& rng) {
  uint8_t b[16];
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return UuidFromBytes(b);
}

// An OTLP-like attributes object: the same keys, varying values.
std::string Attributes(std::mt19937_64& rng, int i) {
  return Canon(ColumnType::kJson,
               StrCat(R"({"http":{"method":")", i % 3 ? "GET" : "POST", R"(","status":)",
                      200 + static_cast<int>(rng() % 4) * 100, R"(,"route":"/api/v1/items/)",
                      rng() % 1000, R"("},"service.name":"checkout","duration_ms":)",
                      static_cast<double>(rng() % 100000) / 100, R"(,"tags":["a","b"],"ok":)",
                      i % 7 ? "true" : "false", "}"));
}

std::vector<TextCase> TextCases() {
  std::mt19937_64 rng(7);
  std::vector<TextCase> cases;
  const ColumnType kAll[] = {ColumnType::kJson,        ColumnType::kUuid,
                             ColumnType::kDoubleArray, ColumnType::kIntegerArray,
                             ColumnType::kStringArray, ColumnType::kBooleanArray};
  for (ColumnType t : kAll) {
    cases.push_back({StrCat(ColumnTypeName(t), " one null"), t, {""}});
    cases.push_back({StrCat(ColumnTypeName(t), " all null"), t, std::vector<std::string>(300, "")});
  }
  // uuid
  {
    std::vector<std::string> v;
    for (int i = 0; i < 5000; ++i) v.push_back(i % 11 == 0 ? "" : RandomUuid(rng));
    cases.push_back({"uuid many distinct with nulls", ColumnType::kUuid, v});
    std::vector<std::string> few;
    std::string a = RandomUuid(rng), b = RandomUuid(rng);
    for (int i = 0; i < 1000; ++i) few.push_back(i % 3 ? a : b);
    cases.push_back({"uuid two values", ColumnType::kUuid, few});
    cases.push_back(
        {"uuid edges",
         ColumnType::kUuid,
         {"00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff", "",
          "00000000-0000-0000-0000-000000000000",
          Canon(ColumnType::kUuid, "{123E4567-E89B-12D3-A456-426614174000}")}});
  }
  // json
  {
    std::vector<std::string> v;
    for (int i = 0; i < 3000; ++i) v.push_back(i % 13 == 0 ? "" : Attributes(rng, i));
    cases.push_back({"json many distinct attributes", ColumnType::kJson, v});
    std::string long_doc = "{";
    for (int i = 0; i < 2000; ++i) {
      long_doc += StrCat(i ? "," : "", "\"key", i, "\":[", i, ",\"value ", i * 7, "\",null]");
    }
    long_doc += "}";
    cases.push_back({"json long",
                     ColumnType::kJson,
                     {Canon(ColumnType::kJson, long_doc), "", Canon(ColumnType::kJson, long_doc)}});
    cases.push_back(
        {"json unicode and scalars",
         ColumnType::kJson,
         {Canon(ColumnType::kJson, R"({"名前":"héllo wörld 🎉","esc":"a\"b\\c\n\u0001","z":[]})"),
          "null", "true", "0", "-9223372036854775808", "1.5e+300", R"("")", "[]", "{}",
          Canon(ColumnType::kJson, R"([[[[{"a":[1,2,{"b":null}]}]]]])")}});
  }
  // arrays
  {
    cases.push_back({"double[] edges",
                     ColumnType::kDoubleArray,
                     {Canon(ColumnType::kDoubleArray, "[1, 2.5, -0.0, 5e-324]"), "[]", "",
                      Canon(ColumnType::kDoubleArray,
                            "[1.7976931348623157e308, -1.7976931348623157e308, 0.1, 1e-7]"),
                      "[]", Canon(ColumnType::kDoubleArray, "[3]")}});
    cases.push_back({"integer[] edges",
                     ColumnType::kIntegerArray,
                     {"[-9223372036854775808,9223372036854775807]", "[]", "", "[0]",
                      Canon(ColumnType::kIntegerArray, "[1e3, -2]")}});
    cases.push_back(
        {"string[] unicode and escapes",
         ColumnType::kStringArray,
         {Canon(ColumnType::kStringArray, R"(["", "héllo", "🎉", "a\"b", "\\", "\n\t\u0002"])"),
          "[]", "", R"(["a","b"])", R"(["a","b"])"}});
    cases.push_back({"boolean[]",
                     ColumnType::kBooleanArray,
                     {"[true]", "[]", "", "[false,true,false]", "[true,true]"}});
    std::vector<std::string> ints, doubles, strings, bools;
    for (int i = 0; i < 4000; ++i) {
      std::vector<std::string> parts;
      const size_t len = rng() % 6;
      std::string a = "[", b = "[", c = "[", d = "[";
      for (size_t k = 0; k < len; ++k) {
        const char* sep = k ? "," : "";
        a += StrCat(sep, static_cast<int64_t>(rng() % 100000) - 50000);
        b += StrCat(sep, rng() % 1000, ".", rng() % 9 + 1, rng() % 9 + 1);  // as sensors send
        c += StrCat(sep, "\"tag-", rng() % 50, "\"");
        d += StrCat(sep, rng() % 2 ? "true" : "false");
      }
      const bool null = i % 17 == 0;
      ints.push_back(null ? "" : Canon(ColumnType::kIntegerArray, a + "]"));
      doubles.push_back(null ? "" : Canon(ColumnType::kDoubleArray, b + "]"));
      strings.push_back(null ? "" : Canon(ColumnType::kStringArray, c + "]"));
      bools.push_back(null ? "" : Canon(ColumnType::kBooleanArray, d + "]"));
    }
    cases.push_back({"integer[] many", ColumnType::kIntegerArray, ints});
    cases.push_back({"double[] many", ColumnType::kDoubleArray, doubles});
    cases.push_back({"string[] many", ColumnType::kStringArray, strings});
    cases.push_back({"boolean[] many", ColumnType::kBooleanArray, bools});
  }
  return cases;
}

std::vector<std::string_view> Views(const std::vector<std::string>& v) {
  return std::vector<std::string_view>(v.begin(), v.end());
}

void ExpectRoundTrip(CodecId id, ColumnType type, const std::vector<std::string>& v,
                     const std::string& enc) {
  std::vector<std::string> dict;
  std::vector<uint32_t> ids;
  absl::Status s = DecodeText(id, type, enc, v.size(), &dict, &ids);
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_EQ(ids.size(), v.size());
  StringMap<int> distinct;
  for (const std::string& d : dict) ASSERT_TRUE(distinct.emplace(d, 0).second) << "repeated " << d;
  for (size_t i = 0; i < v.size(); ++i) {
    ASSERT_LT(ids[i], dict.size());
    ASSERT_EQ(dict[ids[i]], v[i]) << "row " << i;
  }
}

// The codecs that may hold a column of `type`.
std::vector<CodecId> CodecsFor(ColumnType type) {
  std::vector<CodecId> out = {CodecId::kPlain, CodecId::kDictionary, CodecId::kZstdDictionary};
  if (type == ColumnType::kUuid) out.push_back(CodecId::kUuid);
  if (IsArrayType(type)) out.push_back(CodecId::kArray);
  return out;
}

TEST(TextCodec, EveryCodecRoundTripsEveryCase) {
  for (const TextCase& c : TextCases()) {
    for (CodecId id : CodecsFor(c.type)) {
      SCOPED_TRACE(StrCat(c.name, " / ", CodecName(id)));
      std::string enc;
      ASSERT_TRUE(EncodeText(id, c.type, Views(c.v), &enc).ok());
      ExpectRoundTrip(id, c.type, c.v, enc);
    }
  }
}

size_t AfterZstd(const std::string& payload) {
  if (payload.size() < 64) return payload.size();
  std::string z(ZSTD_compressBound(payload.size()), '\0');
  const size_t n = ZSTD_compress(z.data(), z.size(), payload.data(), payload.size(), 3);
  return std::min(n, payload.size());
}

// Smallest after the block compression (zstd level 3), as the writer stores it.
TEST(TextCodec, ChooserRoundTripsAndPicksTheSmallest) {
  for (const TextCase& c : TextCases()) {
    SCOPED_TRACE(c.name);
    std::string best;
    auto id = EncodeTextBest(c.type, Views(c.v), &best);
    ASSERT_TRUE(id.ok()) << id.status();
    ExpectRoundTrip(*id, c.type, c.v, best);
    for (CodecId other : CodecsFor(c.type)) {
      std::string enc;
      if (other != CodecId::kPlain && EncodeText(other, c.type, Views(c.v), &enc).ok()) {
        EXPECT_LE(AfterZstd(best), AfterZstd(enc)) << CodecName(other) << " is smaller";
      }
    }
  }
}

// The chooser's payload is the chosen codec's own, whatever *out held before
// (the writer's validity part), and the frame it hands back is exactly what
// the block compression (ZSTD_compress, level 3) makes of the whole block.
TEST(TextCodec, ChooserHandsBackTheBlockFrameItMeasured) {
  bool saw_frame = false, saw_zstd_dictionary = false;
  for (const TextCase& c : TextCases()) {
    SCOPED_TRACE(c.name);
    const std::string prefix = "\x03\x01\x02\x03";  // as a validity part would be
    std::string block = prefix, frame = "stale";
    auto id = EncodeTextBest(c.type, Views(c.v), &block, &frame);
    ASSERT_TRUE(id.ok()) << id.status();
    ASSERT_EQ(block.substr(0, prefix.size()), prefix);
    std::string own;
    ASSERT_TRUE(EncodeText(*id, c.type, Views(c.v), &own).ok());
    EXPECT_EQ(block.substr(prefix.size()), own) << CodecName(*id);
    if (*id == CodecId::kZstdDictionary || block.size() < 64) {
      EXPECT_TRUE(frame.empty());
      saw_zstd_dictionary |= *id == CodecId::kZstdDictionary;
      continue;
    }
    std::string z(ZSTD_compressBound(block.size()), '\0');
    const size_t n = ZSTD_compress(z.data(), z.size(), block.data(), block.size(), 3);
    ASSERT_FALSE(ZSTD_isError(n));
    z.resize(n);
    EXPECT_EQ(frame, z) << CodecName(*id);
    saw_frame = true;
  }
  EXPECT_TRUE(saw_frame);
  EXPECT_TRUE(saw_zstd_dictionary);
}

// The measurement behind docs/storage.md: bytes per row of each codec, as
// encoded and after zstd level 3, on the typical data sets. Printed, not asserted.
TEST(TextCodec, SizesOnTypicalData) {
  for (const TextCase& c : TextCases()) {
    if (c.v.size() < 1000) continue;
    std::string line = StrCat(c.name, ":");
    for (CodecId id : CodecsFor(c.type)) {
      std::string enc;
      if (!EncodeText(id, c.type, Views(c.v), &enc).ok()) continue;
      char buf[96];
      snprintf(buf, sizeof(buf), " %s %.2f/%.2f", CodecName(id).c_str(),
               static_cast<double>(enc.size()) / c.v.size(),
               static_cast<double>(AfterZstd(enc)) / c.v.size());
      line += buf;
      if (id == CodecId::kArray) line += StrCat(" ", DescribePayload(id, enc));
    }
    printf("%s\n", line.c_str());
  }
}

TEST(TextCodec, ChooserPicksTheTypedCodecsOnTypicalData) {
  for (const TextCase& c : TextCases()) {
    std::string best;
    auto id = EncodeTextBest(c.type, Views(c.v), &best);
    ASSERT_TRUE(id.ok());
    if (c.name == "uuid many distinct with nulls") {
      EXPECT_EQ(*id, CodecId::kUuid);
      EXPECT_LT(best.size(), c.v.size() * 16 + 64);  // 16 bytes a value and a few more
    }
    if (c.name == "json many distinct attributes" || c.name == "json long") {
      EXPECT_EQ(*id, CodecId::kZstdDictionary) << c.name;
    }
    if (c.name == "integer[] many" || c.name == "double[] many" || c.name == "boolean[] many") {
      EXPECT_EQ(*id, CodecId::kArray) << c.name;
    }
  }
}

TEST(TextCodec, TypedCodecsRefuseTextThatIsNotCanonicalAndTheChooserFallsBack) {
  struct Bad {
    ColumnType type;
    std::string value;
  };
  const Bad bad[] = {{ColumnType::kUuid, "123E4567-E89B-12D3-A456-426614174000"},
                     {ColumnType::kUuid, "not a uuid"},
                     {ColumnType::kIntegerArray, "[1.0]"},
                     {ColumnType::kIntegerArray, "[ 1]"},
                     {ColumnType::kIntegerArray, "[1,]"},
                     {ColumnType::kDoubleArray, "[1.50]"},
                     {ColumnType::kDoubleArray, "[1e2]"},
                     {ColumnType::kStringArray, R"(["\u0041"])"},
                     {ColumnType::kStringArray, R"(["a)"},
                     {ColumnType::kBooleanArray, "[True]"},
                     {ColumnType::kBooleanArray, "[1]"}};
  for (const Bad& b : bad) {
    SCOPED_TRACE(b.value);
    std::vector<std::string> v = {b.value, ""};
    const CodecId typed = b.type == ColumnType::kUuid ? CodecId::kUuid : CodecId::kArray;
    std::string enc;
    EXPECT_EQ(EncodeText(typed, b.type, Views(v), &enc).code(), absl::StatusCode::kInvalidArgument);
    std::string best;
    auto id = EncodeTextBest(b.type, Views(v), &best);
    ASSERT_TRUE(id.ok());
    EXPECT_NE(*id, typed);
    ExpectRoundTrip(*id, b.type, v, best);
  }
}

TEST(TextCodec, TypedCodecsHoldOnlyTheirTypes) {
  std::vector<std::string> uuids = {"00000000-0000-0000-0000-000000000001"};
  std::vector<std::string> ints = {"[1,2]"};
  std::string enc;
  EXPECT_FALSE(EncodeText(CodecId::kUuid, ColumnType::kJson, Views(uuids), &enc).ok());
  EXPECT_FALSE(EncodeText(CodecId::kArray, ColumnType::kJson, Views(ints), &enc).ok());
  std::vector<std::string> dict;
  std::vector<uint32_t> ids;
  std::string u;
  ASSERT_TRUE(EncodeText(CodecId::kUuid, ColumnType::kUuid, Views(uuids), &u).ok());
  EXPECT_EQ(DecodeText(CodecId::kUuid, ColumnType::kJson, u, 1, &dict, &ids).code(),
            absl::StatusCode::kDataLoss);
  std::string a;
  ASSERT_TRUE(EncodeText(CodecId::kArray, ColumnType::kIntegerArray, Views(ints), &a).ok());
  EXPECT_EQ(DecodeText(CodecId::kArray, ColumnType::kDoubleArray, a, 1, &dict, &ids).code(),
            absl::StatusCode::kDataLoss);
  EXPECT_TRUE(DecodeText(CodecId::kArray, ColumnType::kIntegerArray, a, 1, &dict, &ids).ok());
  // A strings column never decodes a text codec.
  EXPECT_EQ(DecodeStrings(CodecId::kUuid, u, 1, &dict, &ids).code(), absl::StatusCode::kDataLoss);
}

// Truncations and byte flips of every codec's payload: a clean error or
// in-range ids, never a crash (the fuzzer goes further).
TEST(TextCodec, DamagedPayloadsFailCleanly) {
  std::mt19937_64 rng(99);
  for (const TextCase& c : TextCases()) {
    if (c.v.size() > 400) continue;
    for (CodecId id : CodecsFor(c.type)) {
      SCOPED_TRACE(StrCat(c.name, " / ", CodecName(id)));
      std::string enc;
      ASSERT_TRUE(EncodeText(id, c.type, Views(c.v), &enc).ok());
      std::vector<std::string> dict;
      std::vector<uint32_t> ids;
      for (size_t len = 0; len < enc.size(); ++len) {
        absl::Status s = DecodeText(id, c.type, enc.substr(0, len), c.v.size(), &dict, &ids);
        if (s.ok()) {
          for (uint32_t x : ids) ASSERT_LT(x, dict.size());
        } else {
          EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
        }
      }
      for (int k = 0; k < 200 && !enc.empty(); ++k) {
        std::string bad = enc;
        bad[rng() % bad.size()] ^= static_cast<char>(1 + rng() % 255);
        if (DecodeText(id, c.type, bad, c.v.size(), &dict, &ids).ok()) {
          ASSERT_EQ(ids.size(), c.v.size());
          for (uint32_t x : ids) ASSERT_LT(x, dict.size());
        }
      }
      EXPECT_FALSE(DecodeText(id, c.type, enc + "x", c.v.size(), &dict, &ids).ok())
          << "trailing bytes";
    }
  }
}

TEST(TextCodec, ZstdDictionaryRefusesAnImpossibleRawLength) {
  std::vector<std::string> v(1000, "{\"a\":1}");
  std::string enc;
  ASSERT_TRUE(EncodeText(CodecId::kZstdDictionary, ColumnType::kJson, Views(v), &enc).ok());
  // raw_length is the leading varint; claim far more than the frame may hold.
  std::string bad;
  PutVarint64(&bad, codec::zstd_dictionary::MaxRawLength(enc.size()) + 1);
  uint64_t raw;
  Decoder d(enc);
  ASSERT_TRUE(d.GetVarint64(&raw));
  bad.append(enc.substr(enc.size() - d.remaining()));
  std::vector<std::string> dict;
  std::vector<uint32_t> ids;
  EXPECT_EQ(
      DecodeText(CodecId::kZstdDictionary, ColumnType::kJson, bad, v.size(), &dict, &ids).code(),
      absl::StatusCode::kDataLoss);
}

// A string[] payload by hand: `rows` rows of `per_row` elements each, every
// element the one dictionary entry `entry` (ids through `constant`).
std::string StringArrayOfOneEntry(std::string_view entry, int64_t per_row) {
  std::string p;
  PutFixed8(&p, static_cast<uint8_t>(ColumnType::kString));
  PutFixed8(&p, static_cast<uint8_t>(CodecId::kConstant));
  std::string counts;
  EXPECT_TRUE(EncodeInts(CodecId::kConstant, std::vector<int64_t>{per_row}, &counts).ok());
  PutLengthPrefixed(&p, counts);
  PutFixed8(&p, static_cast<uint8_t>(CodecId::kDictionary));
  PutVarint64(&p, 1);  // one entry
  PutLengthPrefixed(&p, entry);
  PutFixed8(&p, static_cast<uint8_t>(CodecId::kConstant));
  EXPECT_TRUE(EncodeInts(CodecId::kConstant, std::vector<int64_t>{0}, &p).ok());
  return p;
}

// 1 MiB of payload, 2^20 ids of its one entry: a TiB of elements and of row
// text, refused before any element is copied.
TEST(TextCodec, ArrayRefusesElementsThatRepeatALongEntryBeyondTheTextLimit) {
  const std::string payload = StringArrayOfOneEntry(std::string(1 << 20, 'a'), 1 << 20);
  std::vector<std::string> dict;
  std::vector<uint32_t> ids;
  absl::Status s = DecodeText(CodecId::kArray, ColumnType::kStringArray, payload, 1, &dict, &ids);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_NE(s.message().find("rows' text of more than"), std::string_view::npos) << s;
}

// 64 KiB of control bytes escape to 384 KiB of text (\u0001 each); 1,024 rows
// of it are 384 MiB of text from 64 MiB of elements: the limit is on the text
// of all rows, repeats included, as the encoder counts it.
TEST(TextCodec, ArrayRefusesRowsWhoseEscapedTextExceedsTheLimit) {
  const std::string payload = StringArrayOfOneEntry(std::string(64 << 10, '\x01'), 1);
  std::vector<std::string> dict;
  std::vector<uint32_t> ids;
  absl::Status s =
      DecodeText(CodecId::kArray, ColumnType::kStringArray, payload, 1024, &dict, &ids);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  // Under the limit the same payload decodes.
  ASSERT_TRUE(DecodeText(CodecId::kArray, ColumnType::kStringArray, payload, 4, &dict, &ids).ok());
  ASSERT_EQ(dict.size(), 1u);
  EXPECT_EQ(dict[0].size(), 6u * (64 << 10) + 4);
}

// One entry of 48 MiB of control bytes is 288 MiB once escaped: refused
// by measuring, before any entry is escaped (which took the 288 MiB first).
TEST(TextCodec, ArrayRefusesElementsWhoseEscapedTextExceedsTheLimit) {
  const std::string payload = StringArrayOfOneEntry(std::string(48 << 20, '\x01'), 1);
  std::vector<std::string> dict;
  std::vector<uint32_t> ids;
  absl::Status s = DecodeText(CodecId::kArray, ColumnType::kStringArray, payload, 1, &dict, &ids);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_NE(s.message().find("string elements whose text is more than"), std::string_view::npos)
      << s;
}

// What the decoder would refuse the encoder refuses, so the writer stores
// such a block with `dictionary`.
TEST(TextCodec, ArrayLeavesBlocksOverTheTextLimitToDictionary) {
  const std::string text = StrCat("[\"", std::string(1 << 20, 'a'), "\"]");
  std::vector<std::string_view> v(300, text);  // 300 MiB of text, one value
  std::string enc;
  EXPECT_EQ(EncodeText(CodecId::kArray, ColumnType::kStringArray, v, &enc).code(),
            absl::StatusCode::kInvalidArgument);
  enc.clear();
  auto id = EncodeTextBest(ColumnType::kStringArray, v, &enc);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_NE(*id, CodecId::kArray);
  std::vector<std::string> dict;
  std::vector<uint32_t> ids;
  ASSERT_TRUE(DecodeText(*id, ColumnType::kStringArray, enc, v.size(), &dict, &ids).ok());
  ASSERT_EQ(dict.size(), 1u);
  EXPECT_EQ(dict[0], text);
}

// A frame that holds raw_length but compresses better than the 255x a decoder
// allows, padded with a skippable frame to pass the ratio check: refused, as
// the payload is not exactly one frame.
TEST(TextCodec, ZstdDictionaryRefusesAFramePaddedWithASkippableFrame) {
  const std::string entry(1 << 20, 'a');
  std::string raw;
  ASSERT_TRUE(EncodeStrings(CodecId::kDictionary, std::vector<std::string_view>{entry}, &raw).ok());
  std::string frame(ZSTD_compressBound(raw.size()), '\0');
  const size_t len = ZSTD_compress(frame.data(), frame.size(), raw.data(), raw.size(), 3);
  ASSERT_FALSE(ZSTD_isError(len));
  frame.resize(len);
  ASSERT_GT(raw.size(), codec::zstd_dictionary::MaxRawLength(frame.size()));
  const uint32_t pad = 8 << 10;
  PutFixed32(&frame, 0x184D2A50);  // skippable frame magic
  PutFixed32(&frame, pad);
  frame.append(pad, '\0');
  ASSERT_LE(raw.size(), codec::zstd_dictionary::MaxRawLength(frame.size()));
  std::string payload;
  PutVarint64(&payload, raw.size());
  payload += frame;
  std::vector<std::string> dict;
  std::vector<uint32_t> ids;
  absl::Status s = DecodeText(CodecId::kZstdDictionary, ColumnType::kJson, payload, 1, &dict, &ids);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_NE(s.message().find("not one zstd frame"), std::string_view::npos) << s;
}

// A frame of raw blocks whose header claims just over the limit (and which is
// large enough for the ratio): refused before the raw length is allocated.
TEST(TextCodec, ZstdDictionaryRefusesARawLengthOverTheLimit) {
  const uint64_t claimed = codec::zstd_dictionary::kMaxRawLength + 1;
  std::string frame;
  PutFixed32(&frame, 0xFD2FB528);  // zstd frame magic
  PutFixed8(&frame, 0xE0);         // 8-byte content size, single segment
  PutFixed64(&frame, claimed);
  const uint32_t block = 128 << 10;
  for (int i = 0; i < 9; ++i) {
    const uint32_t header = (i == 8 ? 1u : 0u) | (block << 3);  // raw block
    for (int b = 0; b < 3; ++b) PutFixed8(&frame, static_cast<uint8_t>(header >> (8 * b)));
    frame.append(block, 'a');
  }
  ASSERT_EQ(ZSTD_findFrameCompressedSize(frame.data(), frame.size()), frame.size());
  ASSERT_EQ(ZSTD_getFrameContentSize(frame.data(), frame.size()), claimed);
  ASSERT_LE(claimed, codec::zstd_dictionary::MaxRawLength(frame.size()));
  std::string payload;
  PutVarint64(&payload, claimed);
  payload += frame;
  std::vector<std::string> dict;
  std::vector<uint32_t> ids;
  absl::Status s = DecodeText(CodecId::kZstdDictionary, ColumnType::kJson, payload, 1, &dict, &ids);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_NE(s.message().find("over the limit"), std::string_view::npos) << s;
}

TEST(ArrayText, ParsesCanonicalTextAndRefusesTheRest) {
  ArrayElements e;
  e.element = ColumnType::kString;
  auto n = ParseArrayText(R"(["a","é\"\\","\n"])", &e);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, 3u);
  EXPECT_EQ(e.strings, (std::vector<std::string>{"a", "é\"\\", "\n"}));
  EXPECT_FALSE(ParseArrayText(R"(["a",1])", &e).has_value());
  EXPECT_EQ(e.size(), 3u);  // a refused value adds nothing
  std::string text;
  AppendArrayText(e, 1, 2, &text);
  EXPECT_EQ(text, R"(["é\"\\","\n"])");

  ArrayElements d;
  d.element = ColumnType::kDouble;
  EXPECT_EQ(ParseArrayText("[]", &d), 0u);
  EXPECT_EQ(ParseArrayText("[0,1.5,1e+300]", &d), 3u);
  EXPECT_FALSE(ParseArrayText("[-0]", &d).has_value());  // -0 is written 0
  EXPECT_FALSE(ParseArrayText("[1.0]", &d).has_value());
  EXPECT_FALSE(ParseArrayText("[1e400]", &d).has_value());
  EXPECT_FALSE(ParseArrayText("[1]x", &d).has_value());
  EXPECT_FALSE(ParseArrayText("", &d).has_value());
  EXPECT_EQ(d.size(), 3u);
}

}  // namespace
}  // namespace timestore
