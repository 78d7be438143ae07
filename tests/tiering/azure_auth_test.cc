#include "tiering/azure_auth.h"

#include <gtest/gtest.h>

#include "tiering/azure_blob_store.h"

namespace timestore::tiering {
namespace {

using std::chrono::system_clock;

// Every expected string and signature below was computed by
// tests/tiering/azure_auth_vectors.py, which implements Microsoft's documented
// algorithms with Python's standard library alone and shares no code with
// azure_auth.cc. (azurite accepting the same signatures is checked in
// azure_blob_store_test.cc.)

// Tue, 02 Dec 2025 23:05:00 GMT
const system_clock::time_point kDate = system_clock::from_time_t(1764716700);
const system_clock::time_point k2025 = system_clock::from_time_t(1735689600);  // 2025-01-01
const system_clock::time_point k2030 = system_clock::from_time_t(1893456000);  // 2030-01-01
constexpr char kBase[] = "http://127.0.0.1:10000/devstoreaccount1/timestore";

SharedKeyCredential DevCredential() {
  auto c = SharedKeyCredential::Create(kDevStoreAccount, kDevStoreKey);
  EXPECT_TRUE(c.ok()) << c.status();
  return *c;
}

TEST(AzureAuthTest, DatesAndBase64) {
  EXPECT_EQ(FormatHttpDate(kDate), "Tue, 02 Dec 2025 23:05:00 GMT");
  EXPECT_EQ(FormatSasTime(k2030), "2030-01-01T00:00:00Z");
  auto t = ParseHttpDate("Tue, 02 Dec 2025 23:05:00 GMT");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(*t, 1764716700ll * 1000000000);
  for (const char* bad : {"", "Tue, 02 Dec 2025 23:05:00", "Tue, 02 Foo 2025 23:05:00 GMT",
                          "Tue, 2 Dec 2025 23:05:00 GMT", "garbage"}) {
    EXPECT_FALSE(ParseHttpDate(bad).ok()) << bad;
  }
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(*Base64Decode("Zm9vYmFy"), "foobar");
  EXPECT_EQ(*Base64Decode("Zm9vYg=="), "foob");
  EXPECT_EQ(*Base64Decode("Zm9vYmE="), "fooba");
  for (const char* bad : {"Zm9", "Zm9vY===", "Zg=a", "Zm 9v", "Zm9v\n", "=Zm9", "Z!9v"}) {
    EXPECT_FALSE(Base64Decode(bad).ok()) << bad;
  }
  EXPECT_EQ(*UriDecode("a%20b%2Bc+d%C3%A9"), "a b+c+d\xc3\xa9");
  EXPECT_FALSE(UriDecode("a%2").ok());
  EXPECT_FALSE(UriDecode("a%zz").ok());
}

TEST(AzureAuthTest, PutBlockStringToSignMatchesPython) {
  HttpRequest r;
  r.method = "PUT";
  r.url = std::string(kBase) + "/dir%20a/b%2Bc%C3%A9.tseg?comp=block&blockid=YWJjZGVm%2Bx%2F%3D";
  r.headers = {{"x-ms-version", "2021-08-06"},
               {"x-ms-date", "Tue, 02 Dec 2025 23:05:00 GMT"},
               {"X-Ms-Meta-Segment_Id", "  42 "},
               {"x-ms-blob-type", "BlockBlob"}};
  r.body = "hello";
  const std::string sts = SharedKeyStringToSign(kDevStoreAccount, r);
  EXPECT_EQ(
      sts,
      "PUT\n\n\n5\n\n\n\n\n\n\n\n\nx-ms-blob-type:BlockBlob\nx-ms-date:Tue, 02 Dec 2025 "
      "23:05:00 GMT\nx-ms-meta-segment_id:42\nx-ms-version:2021-08-06\n/devstoreaccount1/"
      "devstoreaccount1/timestore/dir%20a/b%2Bc%C3%A9.tseg\nblockid:YWJjZGVm+x/=\ncomp:block");
  EXPECT_EQ(DevCredential().Sign(sts), "/6fwyfdfdy0tkREu/9c84n9sA66nypancQ6C1MjmihU=");
}

TEST(AzureAuthTest, RangedGetStringToSignMatchesPython) {
  HttpRequest r;
  r.url = std::string(kBase) + "/a/b.tseg";
  r.headers = {{"x-ms-range", "bytes=100-199"}};
  // SignRequest adds x-ms-date and x-ms-version and the Authorization header.
  DevCredential().SignRequest(&r, kDate);
  const std::string sts = SharedKeyStringToSign(kDevStoreAccount, r);
  EXPECT_EQ(sts,
            "GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:Tue, 02 Dec 2025 23:05:00 "
            "GMT\nx-ms-range:bytes=100-199\nx-ms-version:2021-08-06\n/devstoreaccount1/"
            "devstoreaccount1/timestore/a/b.tseg");
  ASSERT_EQ(r.headers.back().first, "Authorization");
  EXPECT_EQ(r.headers.back().second,
            "SharedKey devstoreaccount1:oAE1HQh9L7qam1QKHxlQWklEfIHohbFWGY505kuWcnU=");
  // Signing again (a retry) replaces the date and the signature, never adds.
  DevCredential().SignRequest(&r, kDate + std::chrono::seconds(1));
  int dates = 0, auths = 0;
  for (const auto& [n, v] : r.headers) {
    dates += n == "x-ms-date";
    auths += n == "Authorization";
  }
  EXPECT_EQ(dates, 1);
  EXPECT_EQ(auths, 1);
}

TEST(AzureAuthTest, ListStringToSignSortsAndDecodesTheQuery) {
  HttpRequest r;
  r.url =
      std::string(kBase) + "?restype=container&comp=list&prefix=p%2Fq%20r&Marker=m1&maxresults=2";
  r.headers = {{"x-ms-date", "Tue, 02 Dec 2025 23:05:00 GMT"}, {"x-ms-version", "2021-08-06"}};
  const std::string sts = SharedKeyStringToSign(kDevStoreAccount, r);
  EXPECT_EQ(sts,
            "GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:Tue, 02 Dec 2025 23:05:00 "
            "GMT\nx-ms-version:2021-08-06\n/devstoreaccount1/devstoreaccount1/timestore\ncomp:"
            "list\nmarker:m1\nmaxresults:2\nprefix:p/q r\nrestype:container");
  EXPECT_EQ(DevCredential().Sign(sts), "TlOaS6CW50sWDQeq9fh2aQ474//ip1N9HKtxtKb7jNk=");
}

TEST(AzureAuthTest, EmptyPutSignsContentLengthZeroAsEmpty) {
  HttpRequest r;
  r.method = "PUT";
  r.url = std::string(kBase) + "/empty";
  r.headers = {{"x-ms-blob-type", "BlockBlob"}};
  DevCredential().SignRequest(&r, kDate);
  EXPECT_EQ(SharedKeyStringToSign(kDevStoreAccount, r),
            "PUT\n\n\n\n\n\n\n\n\n\n\n\nx-ms-blob-type:BlockBlob\nx-ms-date:Tue, 02 Dec 2025 "
            "23:05:00 GMT\nx-ms-version:2021-08-06\n/devstoreaccount1/devstoreaccount1/"
            "timestore/empty");
  EXPECT_EQ(r.headers.back().second,
            "SharedKey devstoreaccount1:Z6GuhgUCsiOKXQzEgtflAi8wTfOs/90+D8/WMHoIhNE=");
}

TEST(AzureAuthTest, AccountSasMatchesPython) {
  AccountSasParams p;
  p.expiry = k2030;
  EXPECT_EQ(AccountSasStringToSign(kDevStoreAccount, p),
            "devstoreaccount1\nrwdlac\nb\nsco\n\n2030-01-01T00:00:00Z\n\n\n2021-08-06\n\n");
  EXPECT_EQ(MakeAccountSas(DevCredential(), p),
            "sv=2021-08-06&ss=b&srt=sco&sp=rwdlac&se=2030-01-01T00%3A00%3A00Z&sig="
            "FRJGODtjQViafZP%2BRLHAYDyy2CBMTP2juNfI2mWMN%2Fg%3D");
}

TEST(AzureAuthTest, ContainerSasMatchesPython) {
  ContainerSasParams p;
  p.container = "timestore";
  p.start = k2025;
  p.expiry = k2030;
  p.ip = "127.0.0.1";
  p.protocol = "https,http";
  EXPECT_EQ(ContainerSasStringToSign(kDevStoreAccount, p),
            "racwdl\n2025-01-01T00:00:00Z\n2030-01-01T00:00:00Z\n/blob/devstoreaccount1/"
            "timestore\n\n127.0.0.1\nhttps,http\n2021-08-06\nc\n\n\n\n\n\n\n");
  EXPECT_EQ(MakeContainerSas(DevCredential(), p),
            "sv=2021-08-06&sr=c&sp=racwdl&st=2025-01-01T00%3A00%3A00Z&se=2030-01-01T00%3A00%"
            "3A00Z&sip=127.0.0.1&spr=https%2Chttp&sig=vxQG5EbgEHRvSws2sUMi0NM05%"
            "2F6tJPWIuQ0W8SyeWhY%3D");
}

TEST(AzureAuthTest, SasTokensAreNormalizedAndRedacted) {
  EXPECT_EQ(*NormalizeSasToken(" ?sv=1&sig=abc\n"), "sv=1&sig=abc");
  EXPECT_EQ(*NormalizeSasToken("sig=abc&sv=1"), "sig=abc&sv=1");
  for (const char* bad : {"", "?", "sv=1", "sv=1&sig=", "sv=1&xsig=abc"}) {
    auto s = NormalizeSasToken(bad);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_TRUE(absl::IsInvalidArgument(s.status()));
  }
  auto missing = NormalizeSasToken("sv=2021&se=secretish");
  EXPECT_EQ(std::string(missing.status().message()).find("secretish"), std::string::npos);

  EXPECT_EQ(AppendQuery("http://h/c/b", "sv=1&sig=x"), "http://h/c/b?sv=1&sig=x");
  EXPECT_EQ(AppendQuery("http://h/c?comp=list", "sv=1"), "http://h/c?comp=list&sv=1");
  EXPECT_EQ(AppendQuery("http://h/c", ""), "http://h/c");
  EXPECT_EQ(RedactSas("http://h/c/b?sv=1&sig=abc%2B%3D&se=2"),
            "http://h/c/b?sv=1&sig=REDACTED&se=2");
  EXPECT_EQ(RedactSas("sig=abc"), "sig=REDACTED");
  EXPECT_EQ(RedactSas("url 'http://h/?sig=abc' failed; SharedAccessSignature=sv=1&sig=def"),
            "url 'http://h/?sig=REDACTED' failed; SharedAccessSignature=sv=1&sig=REDACTED");
  EXPECT_EQ(RedactSas("nosig=here"), "nosig=here");
}

TEST(AzureAuthTest, CredentialRejectsABadKeyWithoutQuotingIt) {
  auto c = SharedKeyCredential::Create("acct", "not base64!");
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(c.status()));
  EXPECT_EQ(std::string(c.status().message()).find("not base64!"), std::string::npos);
  EXPECT_FALSE(SharedKeyCredential::Create("", kDevStoreKey).ok());
}

}  // namespace
}  // namespace timestore::tiering
