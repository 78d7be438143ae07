// ErrorBody: every error answer is valid JSON, whatever the client sent.
#include <gtest/gtest.h>

#include <random>

#include "api/http_server.h"
#include "common/json_writer.h"
#include "simdjson.h"

namespace timestore::api {
namespace {

std::string MessageOf(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  EXPECT_FALSE(parser.parse(body).get(doc)) << body;
  std::string_view m;
  EXPECT_FALSE(doc["error"]["message"].get(m)) << body;
  return std::string(m);
}

// Found by fuzz/http_fuzz.cc: GET /s\x8c\x9etus answered 404 with the raw path
// in the message, which no JSON parser accepts.
TEST(ErrorBodyTest, BytesThatAreNotUtf8BecomeReplacementCharacters) {
  EXPECT_EQ(MessageOf(ErrorBody("route_not_found", "no route GET /s\x8c\x9etus")),
            "no route GET /s\xEF\xBF\xBD\xEF\xBF\xBDtus");
  // Overlong, surrogate, past U+10FFFF, truncated at the end.
  EXPECT_EQ(MessageOf(ErrorBody("x", "\xC0\xAF|\xED\xA0\x80|\xF4\x90\x80\x80|\xE2\x82")),
            "\xEF\xBF\xBD\xEF\xBF\xBD|\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD|"
            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD|\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(ErrorBodyTest, WellFormedUtf8AndControlCharactersSurvive) {
  const std::string m = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \"q\" \\ \n\x01";
  EXPECT_EQ(MessageOf(ErrorBody("x", m)), m);
}

// Found by fuzz/http_fuzz.cc in token mode: a line-protocol field key with
// bytes that are not UTF-8 came back in the InfluxDB-shaped error body (written
// with JsonWriter, not ErrorBody) as invalid JSON. Every JSON string the
// server writes now goes through AppendJsonString's check.
// JsonStringLength is the size AppendJsonString writes, for any bytes.
TEST(ErrorBodyTest, JsonStringLengthIsWhatAppendJsonStringWrites) {
  std::mt19937 rng(7);
  for (int round = 0; round < 2000; ++round) {
    std::string s(rng() % 40, '\0');
    for (char& c : s)
      c = static_cast<char>(round % 2 ? rng()
                                      : "a\"\\\n\x01\xC3\xA9\xF0\x9F\x98\x80\xED"[rng() % 12]);
    std::string out;
    AppendJsonString(&out, s);
    ASSERT_EQ(JsonStringLength(s), out.size()) << out;
  }
}

TEST(ErrorBodyTest, JsonWriterStringsAreAlwaysValidJson) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject().Key("error").BeginObject().Key("message");
  const std::string raw(
      "field \x01\x00"
      "a`\x00"
      "b\xfa\x81"
      "up and caf\xC3\xA9",
      26);
  w.String(raw);
  w.EndObject().EndObject();
  EXPECT_EQ(MessageOf(out), std::string("field \x01\x00"
                                        "a`\x00"
                                        "b\xEF\xBF\xBD\xEF\xBF\xBD"
                                        "up and caf\xC3\xA9",
                                        30));
}

}  // namespace
}  // namespace timestore::api
