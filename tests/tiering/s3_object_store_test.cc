// S3ObjectStore without a server: URLs, options, the XML answers (samples
// from the S3 API reference), and what happens when nothing listens.
#include "tiering/s3_object_store.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/strings.h"

namespace timestore::tiering {
namespace {

S3Options Basic() {
  S3Options o;
  o.bucket = "bkt";
  o.access_key_id = "AKID";
  o.secret_access_key = "SECRET";
  return o;
}

std::string HeaderOf(const HttpRequest& r, const std::string& lower_name) {
  for (const auto& [k, v] : r.headers) {
    if (k == lower_name) return v;
  }
  return "";
}

TEST(S3UrlTest, AwsDefaultsToVirtualHostedOnTheRegionalEndpoint) {
  S3Options o = Basic();
  o.region = "eu-west-1";
  o.prefix = "tier/";
  S3ObjectStore s(o);
  EXPECT_TRUE(s.virtual_hosted());
  EXPECT_EQ(s.Describe(), "s3://bkt/tier");
  EXPECT_EQ(s.ObjectUrl("d/1.tseg"), "https://bkt.s3.eu-west-1.amazonaws.com/tier/d/1.tseg");
  EXPECT_EQ(s.BucketUrl("list-type=2"), "https://bkt.s3.eu-west-1.amazonaws.com/?list-type=2");
  // Keys are encoded once, '/' kept; nothing is left for a server to misread.
  EXPECT_EQ(s.ObjectUrl("a b/c+d%e?f#g&h=ü~", "uploads"),
            "https://bkt.s3.eu-west-1.amazonaws.com/tier/a%20b/c%2Bd%25e%3Ff%23g%26h%3D%C3%BC~"
            "?uploads");
}

TEST(S3UrlTest, PathStyleForIpEndpointsForcedOrDottedBuckets) {
  S3Options o = Basic();
  o.endpoint = "http://127.0.0.1:9000/";
  S3ObjectStore ip(o);
  EXPECT_FALSE(ip.virtual_hosted());
  EXPECT_EQ(ip.ObjectUrl("k"), "http://127.0.0.1:9000/bkt/k");
  EXPECT_EQ(ip.BucketUrl("uploads"), "http://127.0.0.1:9000/bkt?uploads");
  EXPECT_EQ(ip.Describe(), "s3://bkt");

  o = Basic();
  o.endpoint = "https://minio.internal:9000";
  EXPECT_TRUE(S3ObjectStore(o).virtual_hosted());
  EXPECT_EQ(S3ObjectStore(o).ObjectUrl("k"), "https://bkt.minio.internal:9000/k");
  o.force_path_style = true;
  EXPECT_EQ(S3ObjectStore(o).ObjectUrl("k"), "https://minio.internal:9000/bkt/k");

  o = Basic();
  o.bucket = "my.dotted.bucket";  // would not match *.s3.amazonaws.com's certificate
  EXPECT_EQ(S3ObjectStore(o).ObjectUrl("k"),
            "https://s3.us-east-1.amazonaws.com/my.dotted.bucket/k");
}

// GCS's XML API with an HMAC key: same requests, its endpoint, region "auto".
TEST(S3UrlTest, GcsInteroperabilityUrlsAndSignature) {
  S3Options o = Basic();
  o.endpoint = "https://storage.googleapis.com";
  o.region = "auto";
  o.bucket = "ts-cold";
  o.prefix = "prod";
  o.access_key_id = "GOOG1EXAMPLEACCESSID";
  o.secret_access_key = "gcs-hmac-secret";
  S3ObjectStore s(o);
  EXPECT_TRUE(s.virtual_hosted());
  const std::string url = s.ObjectUrl("d/1.tseg");
  EXPECT_EQ(url, "https://ts-cold.storage.googleapis.com/prod/d/1.tseg");
  HttpRequest r;
  r.url = url;
  r.headers = {{"range", "bytes=0-99"}};
  const auto t = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  ASSERT_TRUE(SignRequest(&r, {o.access_key_id, o.secret_access_key, ""}, o.region, "s3", t).ok());
  EXPECT_EQ(HeaderOf(r, "host"), "ts-cold.storage.googleapis.com");
  const std::string auth = HeaderOf(r, "authorization");
  EXPECT_TRUE(
      auth.starts_with("AWS4-HMAC-SHA256 Credential=GOOG1EXAMPLEACCESSID/20231114/auto/s3/"
                       "aws4_request, SignedHeaders=host;range;x-amz-content-sha256;"
                       "x-amz-date, Signature="))
      << auth;
  EXPECT_EQ(auth.find("gcs-hmac-secret"), std::string::npos);
  // Recomputed from its parts: the same signature.
  SigV4Input in{"GET",
                "/prod/d/1.tseg",
                "",
                {{"host", "ts-cold.storage.googleapis.com"},
                 {"range", "bytes=0-99"},
                 {"x-amz-content-sha256", std::string(kEmptySha256)},
                 {"x-amz-date", "20231114T221320Z"}},
                std::string(kEmptySha256)};
  EXPECT_EQ(auth, AuthorizationHeader({o.access_key_id, o.secret_access_key, ""},
                                      "20231114T221320Z", "auto", "s3", BuildCanonicalRequest(in)));
}

TEST(S3OptionsTest, InvalidOptionsFailEveryCall) {
  EXPECT_TRUE(S3ObjectStore::ValidateOptions(Basic()).ok());
  S3Options o = Basic();
  o.bucket = "";
  EXPECT_TRUE(absl::IsInvalidArgument(S3ObjectStore::ValidateOptions(o)));
  o = Basic();
  o.endpoint = "127.0.0.1:9000";  // no scheme
  EXPECT_TRUE(absl::IsInvalidArgument(S3ObjectStore::ValidateOptions(o)));
  o.endpoint = "ftp://h";
  EXPECT_TRUE(absl::IsInvalidArgument(S3ObjectStore::ValidateOptions(o)));
  o.endpoint = "http://h/base/path";
  EXPECT_TRUE(absl::IsInvalidArgument(S3ObjectStore::ValidateOptions(o)));
  o = Basic();
  o.secret_access_key = "";
  EXPECT_TRUE(absl::IsInvalidArgument(S3ObjectStore::ValidateOptions(o)));
  S3ObjectStore s(o);
  EXPECT_TRUE(absl::IsInvalidArgument(s.Put("k", "v")));
  EXPECT_TRUE(absl::IsInvalidArgument(s.Head("k").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(s.List("").status()));
  EXPECT_EQ(s.stats().failures, 3u);
  EXPECT_EQ(s.stats().put_requests + s.stats().head_requests + s.stats().list_requests, 0u);
}

TEST(S3OptionsTest, BadKeysAndMetadataAreRefusedBeforeSending) {
  S3Options o = Basic();
  o.endpoint = "http://127.0.0.1:1";
  S3ObjectStore s(o);
  EXPECT_TRUE(absl::IsInvalidArgument(s.Put("", "v")));
  EXPECT_TRUE(absl::IsInvalidArgument(s.Put("a\nb", "v")));
  EXPECT_TRUE(absl::IsInvalidArgument(s.Put(std::string(1025, 'k'), "v")));
  PutOptions bad_name{{{"Upper", "v"}}};
  EXPECT_TRUE(absl::IsInvalidArgument(s.Put("k", "v", bad_name)));
  PutOptions bad_value{{{"name", "caf\xC3\xA9"}}};
  EXPECT_TRUE(absl::IsInvalidArgument(s.Put("k", "v", bad_value)));
  PutOptions padded{{{"name", " v"}}};
  EXPECT_TRUE(absl::IsInvalidArgument(s.Put("k", "v", padded)));
  EXPECT_EQ(s.stats().put_requests, 0u);
}

// A loopback port nobody listens on (bound, then closed).
int ClosedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST(S3ConnectionTest, RefusedIsUnavailableNamingTheEndpointAfterRetries) {
  S3Options o = Basic();
  o.endpoint = StrCat("http://127.0.0.1:", ClosedPort());
  o.retry = {3, 1, 5};
  S3ObjectStore s(o);
  const absl::Status st = s.Put("d/k", "v");
  ASSERT_TRUE(absl::IsUnavailable(st)) << st;
  const std::string msg(ToStd(st.message()));
  EXPECT_NE(msg.find("s3://bkt"), std::string::npos) << msg;
  EXPECT_NE(msg.find("d/k"), std::string::npos) << msg;
  EXPECT_NE(msg.find(o.endpoint), std::string::npos) << msg;
  EXPECT_NE(msg.find("after 3 attempts"), std::string::npos) << msg;
  EXPECT_EQ(s.stats().put_requests, 3u);
  EXPECT_EQ(s.stats().retries, 2u);
  EXPECT_EQ(s.stats().failures, 1u);
  std::string out;
  RangeRead r{"d/k", 0, 10, &out};
  RequestCounters c;
  const absl::Status g = s.GetRanges(std::span(&r, 1), Clock::now() + std::chrono::seconds(20), &c);
  EXPECT_TRUE(absl::IsUnavailable(g)) << g;
  EXPECT_EQ(c.requests, 3u);
  EXPECT_EQ(c.retries, 2u);
}

// ---- XML answers, from the S3 API reference's examples ----

TEST(S3XmlTest, ListObjectsV2) {
  auto page = ParseListObjectsV2(R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name>
  <Prefix/>
  <KeyCount>205</KeyCount>
  <MaxKeys>1000</MaxKeys>
  <IsTruncated>true</IsTruncated>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
  <Contents>
    <Key>my-image.jpg</Key>
    <LastModified>2009-10-12T17:50:30.000Z</LastModified>
    <ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag>
    <Size>434234</Size>
    <StorageClass>STANDARD</StorageClass>
  </Contents>
  <Contents><Key>a &amp; b</Key><Size>0</Size></Contents>
</ListBucketResult>)");
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_TRUE(page->is_truncated);
  EXPECT_EQ(page->next_continuation_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].key, "my-image.jpg");
  EXPECT_EQ(page->objects[0].size, 434234u);
  EXPECT_EQ(page->objects[0].etag, "fba9dede5f27731c9771645a39863328");
  EXPECT_EQ(page->objects[0].last_modified_ns, 1255369830000000000);
  EXPECT_EQ(page->objects[1].key, "a & b");

  // With encoding-type=url the keys come encoded, '+' meaning space.
  auto encoded = ParseListObjectsV2(
      "<ListBucketResult><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>"
      "<Contents><Key>a+b%2Bc%C3%BC</Key><Size>1</Size></Contents></ListBucketResult>");
  ASSERT_TRUE(encoded.ok());
  EXPECT_EQ(encoded->objects[0].key, "a b+c\xC3\xBC");

  for (std::string bad :
       {"<Error><Code>x</Code></Error>", "<ListBucketResult><Contents><Size>1</Size></Contents>",
        "<ListBucketResult><Contents><Key>k</Key><Size>-1</Size></Contents></ListBucketResult>",
        "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>", "", "garbage"}) {
    EXPECT_FALSE(ParseListObjectsV2(bad).ok()) << bad;
  }
}

TEST(S3XmlTest, Error) {
  auto e = ParseS3Error(R"(<?xml version="1.0" encoding="UTF-8"?>
<Error>
  <Code>NoSuchKey</Code>
  <Message>The resource you requested does not exist</Message>
  <Resource>/mybucket/myfoto.jpg</Resource>
  <RequestId>4442587FB7D0A2F9</RequestId>
</Error>)");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->code, "NoSuchKey");
  EXPECT_EQ(e->message, "The resource you requested does not exist");
  EXPECT_EQ(e->request_id, "4442587FB7D0A2F9");
  auto skew = ParseS3Error(
      "<Error><Code>RequestTimeTooSkewed</Code><ServerTime>2024-05-01T12:00:00Z</ServerTime>"
      "</Error>");
  ASSERT_TRUE(skew.ok());
  EXPECT_EQ(skew->server_time, "2024-05-01T12:00:00Z");
  EXPECT_FALSE(ParseS3Error("<Error></Error>").ok());
  EXPECT_FALSE(ParseS3Error("<ListBucketResult/>").ok());
}

TEST(S3XmlTest, Multipart) {
  auto id = ParseInitiateMultipartUpload(R"(<?xml version="1.0" encoding="UTF-8"?>
<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>example-bucket</Bucket>
  <Key>example-object</Key>
  <UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>
</InitiateMultipartUploadResult>)");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA");
  EXPECT_FALSE(ParseInitiateMultipartUpload("<InitiateMultipartUploadResult/>").ok());

  auto done = ParseCompleteMultipartUpload(R"(<CompleteMultipartUploadResult>
  <Location>http://Example-Bucket.s3.region.amazonaws.com/Example-Object</Location>
  <Bucket>Example-Bucket</Bucket><Key>Example-Object</Key>
  <ETag>"3858f62230ac3c915f300c664312c11f-9"</ETag>
</CompleteMultipartUploadResult>)");
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(*done, "3858f62230ac3c915f300c664312c11f-9");
  // The 200 answer that is an error after all.
  S3ErrorInfo err;
  auto failed = ParseCompleteMultipartUpload(R"(<?xml version="1.0" encoding="UTF-8"?>

<Error>
<Code>InternalError</Code>
<Message>We encountered an internal error. Please try again.</Message>
<RequestId>656c76696e6727732072657175657374</RequestId>
</Error>)",
                                             &err);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(err.code, "InternalError");
  EXPECT_EQ(CompleteMultipartUploadBody({"\"a\"", "b&"}),
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&quot;a&quot;</ETag>"
            "</Part><Part><PartNumber>2</PartNumber><ETag>b&amp;</ETag></Part>"
            "</CompleteMultipartUpload>");

  auto uploads = ParseListMultipartUploads(R"(<?xml version="1.0" encoding="UTF-8"?>
<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>bucket</Bucket>
  <KeyMarker></KeyMarker>
  <UploadIdMarker></UploadIdMarker>
  <NextKeyMarker>my-movie.m2ts</NextKeyMarker>
  <NextUploadIdMarker>YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ</NextUploadIdMarker>
  <MaxUploads>3</MaxUploads>
  <IsTruncated>true</IsTruncated>
  <Upload>
    <Key>my-divisor</Key>
    <UploadId>XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw</UploadId>
    <Initiator><ID>arn:aws:iam::111122223333:user/user1-11111a31-17b5-4fb7-9df5-b111111f13de</ID><DisplayName>user1-11111a31-17b5-4fb7-9df5-b111111f13de</DisplayName></Initiator>
    <StorageClass>STANDARD</StorageClass>
    <Initiated>2010-11-10T20:48:33.000Z</Initiated>
  </Upload>
  <Upload>
    <Key>my-movie.m2ts</Key>
    <UploadId>VXBsb2FkIElEIGZvciBlbHZpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>
    <Initiated>2010-11-10T20:48:33.000Z</Initiated>
  </Upload>
</ListMultipartUploadsResult>)");
  ASSERT_TRUE(uploads.ok()) << uploads.status();
  EXPECT_TRUE(uploads->is_truncated);
  EXPECT_EQ(uploads->next_key_marker, "my-movie.m2ts");
  EXPECT_EQ(uploads->next_upload_id_marker, "YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ");
  ASSERT_EQ(uploads->uploads.size(), 2u);
  EXPECT_EQ(uploads->uploads[0].key, "my-divisor");
  EXPECT_EQ(uploads->uploads[0].upload_id, "XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw");
  EXPECT_EQ(uploads->uploads[0].initiated_ns, 1289422113000000000);
  EXPECT_FALSE(ParseListMultipartUploads("<ListMultipartUploadsResult><Upload><Key>k</Key>"
                                         "</Upload></ListMultipartUploadsResult>")
                   .ok());
}

TEST(S3XmlTest, HttpDate) {
  auto t = ParseHttpDate("Wed, 12 Oct 2009 17:50:00 GMT");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(*t, 1255369800000000000);
  EXPECT_EQ(*ParseHttpDate("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
  for (std::string bad : {"", "Wed, 12 Oct 2009 17:50:00 UTC", "Wed, 32 Oct 2009 17:50:00 GMT",
                          "Wed, 12 Foo 2009 17:50:00 GMT", "12 Oct 2009 17:50:00 GMT",
                          "Wed, 30 Feb 2009 17:50:00 GMT"}) {
    EXPECT_FALSE(ParseHttpDate(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace timestore::tiering
