// ErrorBody: every error answer is valid JSON, whatever the client sent.
#include <gtest/gtest.h>

#include "api/http_server.h"
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

}  // namespace
}  // namespace timestore::api
