// The Beast request → HttpRequest step the server and fuzz/http_fuzz.cc share.
#include "api/http_request_conversion.h"

#include <gtest/gtest.h>

namespace timestore::api {
namespace {

namespace http = boost::beast::http;

http::request<http::string_body> Message(std::string target) {
  http::request<http::string_body> m;
  m.method_string("POST");
  m.target(target);
  m.version(11);
  m.insert("X-IAM-Scopes", "read");
  m.insert("Authorization", "Bearer tsk_x");
  m.body() = "{}";
  return m;
}

TEST(HttpRequestConversionTest, SplitsTargetDecodesPathAndLowerCasesHeaderNames) {
  auto r = ToHttpRequest(Message("/datasets/c%70u/query?a=%41&b=+"), "127.0.0.1:5");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->method, "POST");
  EXPECT_EQ(r->path, "/datasets/cpu/query");
  EXPECT_EQ(r->query, "a=%41&b=+");  // raw: the routes decode their own parameters
  EXPECT_EQ(r->Header("x-iam-scopes"), "read");
  EXPECT_EQ(r->headers[1].first, "authorization");
  EXPECT_EQ(r->headers[1].second, "Bearer tsk_x");
  EXPECT_EQ(r->body, "{}");
  EXPECT_EQ(r->remote_address, "127.0.0.1:5");
}

TEST(HttpRequestConversionTest, MalformedPercentEncodingIsInvalidArgument) {
  for (const char* target : {"/a%", "/a%4", "/a%zz", "/%g1?x=1"}) {
    auto r = ToHttpRequest(Message(target), "");
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << target;
  }
  // Only the path is decoded: a bad escape in the query string is the route's business.
  EXPECT_TRUE(ToHttpRequest(Message("/health?%zz"), "").ok());
  // '+' stays '+' and %00 decodes to a NUL byte in the path.
  auto r = ToHttpRequest(Message("/a+b%00"), "");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->path, std::string("/a+b\0", 5));
}

}  // namespace
}  // namespace timestore::api
