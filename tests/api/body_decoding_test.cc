// Content-Encoding decoding of request bodies: gzip (one or several members),
// deflate (zlib), snappy; the limit on the decoded size; corrupt and unknown
// encodings answered with their codes.
#include "api/body_decoding.h"

#include <gtest/gtest.h>
#include <snappy.h>
#include <zlib.h>

#include <random>

#include "common/status_util.h"
#include "tests/e2e/test_server.h"

namespace timestore::api {
namespace {

using testing::Deflate;
using testing::Gzip;

std::string RandomText(size_t n) {
  std::mt19937 rng(1);
  std::string s;
  for (size_t i = 0; i < n; ++i) s.push_back(static_cast<char>('a' + rng() % 26));
  return s;
}

TEST(BodyDecodingTest, GzipDeflateSnappyRoundTrip) {
  const std::string text = RandomText(300000);
  std::string body = Gzip(text);
  ASSERT_TRUE(DecodeBody("gzip", 1 << 20, &body).ok());
  EXPECT_EQ(body, text);
  body = Gzip(text);
  ASSERT_TRUE(DecodeBody(" X-GZIP ", 1 << 20, &body).ok());
  EXPECT_EQ(body, text);
  body = Deflate(text, MAX_WBITS);  // zlib
  ASSERT_TRUE(DecodeBody("deflate", 1 << 20, &body).ok());
  EXPECT_EQ(body, text);
  snappy::Compress(text.data(), text.size(), &body);
  ASSERT_TRUE(DecodeBody("snappy", 1 << 20, &body).ok());
  EXPECT_EQ(body, text);
  body = text;
  ASSERT_TRUE(DecodeBody("", 1 << 20, &body).ok());
  ASSERT_TRUE(DecodeBody("identity", 1 << 20, &body).ok());
  EXPECT_EQ(body, text);
  // Two gzip members one after the other, as `cat a.gz b.gz` makes.
  body = Gzip("first ") + Gzip("second");
  ASSERT_TRUE(DecodeBody("gzip", 1 << 20, &body).ok());
  EXPECT_EQ(body, "first second");
  body = Gzip("");
  ASSERT_TRUE(DecodeBody("gzip", 1 << 20, &body).ok());
  EXPECT_EQ(body, "");
}

TEST(BodyDecodingTest, TheLimitAppliesToTheDecodedSize) {
  const std::string zeros(10 << 20, '0');
  std::string body = Gzip(zeros);
  ASSERT_LT(body.size(), 64u << 10);
  auto s = DecodeBody("gzip", 1 << 20, &body);
  EXPECT_EQ(ErrorCodeOf(s), "payload_too_large") << s;
  // Exactly at the limit is fine; one byte over is not.
  body = Gzip(std::string(1000, 'x'));
  EXPECT_TRUE(DecodeBody("gzip", 1000, &body).ok());
  body = Gzip(std::string(1001, 'x'));
  EXPECT_EQ(ErrorCodeOf(DecodeBody("gzip", 1000, &body)), "payload_too_large");
  std::string compressed;
  snappy::Compress(zeros.data(), zeros.size(), &compressed);
  EXPECT_EQ(ErrorCodeOf(DecodeBody("snappy", 1 << 20, &compressed)), "payload_too_large");
}

TEST(BodyDecodingTest, CorruptAndUnknownEncodings) {
  std::string body = "not gzip at all";
  EXPECT_EQ(ErrorCodeOf(DecodeBody("gzip", 1 << 20, &body)), "invalid_body");
  body = Gzip(RandomText(1000));
  body.resize(body.size() / 2);  // truncated
  auto s = DecodeBody("gzip", 1 << 20, &body);
  EXPECT_EQ(ErrorCodeOf(s), "invalid_body");
  EXPECT_NE(std::string(s.message()).find("truncated"), std::string::npos) << s;
  body = Gzip("abc") + "garbage after";
  EXPECT_EQ(ErrorCodeOf(DecodeBody("gzip", 1 << 20, &body)), "invalid_body");
  body = "\x05\xff\xff\xffgarbage";  // claims 5 bytes, holds no valid block
  EXPECT_EQ(ErrorCodeOf(DecodeBody("snappy", 1 << 20, &body)), "invalid_body");
  body = "x";
  EXPECT_EQ(ErrorCodeOf(DecodeBody("br", 1 << 20, &body)), "unsupported_encoding");
  EXPECT_EQ(body, "x");  // untouched on error
}

}  // namespace
}  // namespace timestore::api
