// The verifying proxy the S3 tests rely on, checked on its own: bodies pass
// intact in every framing (Range, Content-Length, chunked, close-delimited)
// over kept-alive connections, right signatures pass and wrong ones (bad
// signature, wrong secret, an x-amz-* header added after signing, a body
// that is not the signed one, no signature, another path) are refused, and
// faults and counters work. See `s3_proxy.py --selftest`.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "tests/e2e/s3_test_server.h"

namespace timestore::testing {
namespace {

TEST(S3ProxyTest, SelfTest) {
  if (::access("/usr/bin/python3", X_OK) != 0) {
    GTEST_FAIL() << "/usr/bin/python3 is missing: install Debian's python3 and python3-botocore "
                    "(scripts/install-deps.sh)";
  }
  const std::string cmd =
      std::string("/usr/bin/python3 ") + SourceDir() + "/tests/tiering/s3_proxy.py --selftest 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  const int status = ::pclose(p);
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("s3_proxy selftest: OK"), std::string::npos) << out;
}

}  // namespace
}  // namespace timestore::testing
