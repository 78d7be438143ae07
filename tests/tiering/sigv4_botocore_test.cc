// Our SigV4 against botocore's S3SigV4Auth (the signer of the AWS CLI and
// boto3), over the requests S3ObjectStore makes: awkward keys, every query
// it sends, session tokens, virtual-hosted and path-style URLs, GCS. The
// URLs come from S3ObjectStore itself, so this checks the URL builder and
// the signer together. botocore signs S3 URLs as they are (it neither
// decodes nor re-encodes path or query), so agreeing with it also proves the
// URLs we send are already in canonical form.
//
// Runs tests/tiering/sigv4_botocore.py with Debian's /usr/bin/python3.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/json_writer.h"
#include "common/strings.h"
#include "tests/e2e/s3_test_server.h"
#include "tests/e2e/test_server.h"
#include "tiering/s3_object_store.h"
#include "tiering/sigv4.h"

namespace timestore::tiering {
namespace {

struct Case {
  std::string name;
  S3Options options;
  HttpRequest request;  // before signing
  std::string token;
  bool unsigned_payload = false;
};

std::string Json(std::string_view s) {
  std::string out;
  AppendJsonString(&out, s);
  return out;
}

// The value of "name": "..." in one line of botocore's JSON (ASCII, escaped).
std::string JsonField(const std::string& line, const std::string& name) {
  const std::string start = "\"" + name + "\": \"";
  size_t at = line.find(start);
  if (at == std::string::npos) return "";
  std::string out;
  for (size_t i = at + start.size(); i < line.size() && line[i] != '"'; ++i) {
    if (line[i] == '\\' && i + 1 < line.size()) {
      ++i;
      out.push_back(line[i] == 'n' ? '\n' : line[i]);
    } else {
      out.push_back(line[i]);
    }
  }
  return out;
}

std::string HeaderOf(const HttpRequest& r, const std::string& lower_name) {
  for (const auto& [k, v] : r.headers) {
    if (k == lower_name) return v;
  }
  return "";
}

std::vector<Case> Cases() {
  S3Options local;
  local.endpoint = "http://127.0.0.1:9000";
  local.bucket = "timestore-test";
  local.prefix = "pre fix";
  local.access_key_id = "S3RVER";
  local.secret_access_key = "S3RVER";
  S3Options aws = local;
  aws.endpoint = "";
  aws.region = "eu-west-1";
  aws.bucket = "ts-cold";
  aws.prefix = "";
  aws.access_key_id = "AKIAIOSFODNN7EXAMPLE";
  aws.secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  S3Options gcs = aws;
  gcs.endpoint = "https://storage.googleapis.com";
  gcs.region = "auto";
  gcs.access_key_id = "GOOG1EXAMPLE";
  S3Options tls_port = aws;
  tls_port.endpoint = "https://s3.example.com:8443";
  tls_port.force_path_style = true;

  std::vector<Case> cases;
  auto add = [&](std::string name, const S3Options& o, std::string method, std::string url,
                 std::vector<std::pair<std::string, std::string>> headers = {},
                 std::string body = "", std::string token = "", bool unsigned_payload = false) {
    Case c;
    c.name = std::move(name);
    c.options = o;
    c.request.method = std::move(method);
    c.request.url = std::move(url);
    c.request.headers = std::move(headers);
    c.request.body = std::move(body);
    c.token = std::move(token);
    c.unsigned_payload = unsigned_payload;
    cases.push_back(std::move(c));
  };
  S3ObjectStore l(local), a(aws), g(gcs), t(tls_port);
  const std::vector<std::string> keys = {
      "d/plain.tseg",
      "sp ace/file name.tseg",
      "plus+sign/a+b",
      "unicode/\xC3\xBC-\xE1\x88\xB4-\xF0\x9F\x98\x80",
      "tilde~/x_y-z.0",
      "percent/%20literal%",
      "reserved/!$&'()*,;=:@?#[]",
      "dots/./a/../b",
      "double//slash",
      "trailing/",
  };
  for (const std::string& k : keys) {
    add("GET " + k, local, "GET", l.ObjectUrl(k), {{"range", "bytes=0-99"}});
    add("HEAD vhost " + k, aws, "HEAD", a.ObjectUrl(k));
  }
  add("PUT with metadata", local, "PUT", l.ObjectUrl("sp ace/obj"),
      {{"content-type", "application/octet-stream"},
       {"x-amz-meta-segment-id", "42"},
       {"x-amz-meta-note", "two  spaces"}},
      std::string("binary\0body\xff", 12));
  add("PUT empty body", local, "PUT", l.ObjectUrl("empty"), {}, "");
  add("CreateMultipartUpload", local, "POST", l.ObjectUrl("a=b&c/d", "uploads"),
      {{"content-type", "application/octet-stream"}});
  add("UploadPart", local, "PUT",
      l.ObjectUrl("mp/obj", "partNumber=7&uploadId=" + UriEncode("2~abc/def+g==", false)), {},
      std::string(1000, 'p'));
  add("CompleteMultipartUpload", aws, "POST",
      a.ObjectUrl("mp/obj", "uploadId=" + UriEncode("VXBsb2Fk+/=", false)),
      {{"content-type", "application/xml"}},
      CompleteMultipartUploadBody({"\"etag1\"", "\"etag2\""}));
  add("AbortMultipartUpload with session token", aws, "DELETE",
      a.ObjectUrl("mp/obj", "uploadId=abc"), {}, "",
      "AQoDYXdzEPT//////////"
      "wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPf+"
      "IeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/"
      "kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYw==");
  add("ListObjectsV2 with a continuation token", local, "GET",
      l.BucketUrl("list-type=2&max-keys=7&prefix=" + UriEncode("pre fix/p q+r/", false) +
                  "&continuation-token=" + UriEncode("1/abc+def==", false)));
  add("ListObjectsV2 vhost, empty prefix", aws, "GET", a.BucketUrl("list-type=2&prefix="));
  add("ListMultipartUploads", aws, "GET",
      a.BucketUrl("max-uploads=1000&prefix=" + UriEncode("x y", false) +
                  "&uploads&key-marker=" + UriEncode("k~ü", false) + "&upload-id-marker=u"));
  add("GCS ranged GET", gcs, "GET", g.ObjectUrl("d/1.tseg"), {{"range", "bytes=100-199"}});
  add("GCS PUT", gcs, "PUT", g.ObjectUrl("d/1.tseg"), {{"x-amz-meta-a", "b"}}, "gcs body");
  add("non-default https port", tls_port, "GET", t.ObjectUrl("k"));
  add("default port in the endpoint", aws, "GET",
      "https://ts-cold.s3.eu-west-1.amazonaws.com:443/k");
  add("UNSIGNED-PAYLOAD over https", aws, "PUT", a.ObjectUrl("big"), {}, "lots of bytes", "",
      /*unsigned_payload=*/true);
  add("header values trimmed and collapsed", aws, "GET", a.ObjectUrl("k"),
      {{"x-amz-meta-x", "  a   b  "}, {"Range", " bytes=1-2"}});
  return cases;
}

TEST(SigV4BotocoreTest, SameAuthorizationAsBotocore) {
  const std::string script = std::string(testing::SourceDir()) + "/tests/tiering/sigv4_botocore.py";
  if (::access("/usr/bin/python3", X_OK) != 0) {
    GTEST_FAIL() << "/usr/bin/python3 is missing: install Debian's python3 and python3-botocore "
                    "(scripts/install-deps.sh)";
  }
  const std::string dir = testing::MakeTempDir();
  const std::vector<Case> cases = Cases();
  const auto when = std::chrono::system_clock::time_point(std::chrono::seconds(1715000000));
  std::vector<HttpRequest> signed_requests;
  {
    std::ofstream in(dir + "/in.jsonl", std::ios::binary);
    for (const Case& c : cases) {
      HttpRequest r = c.request;
      ASSERT_TRUE(
          SignRequest(&r, {c.options.access_key_id, c.options.secret_access_key, c.token},
                      c.options.region, "s3", when,
                      c.unsigned_payload ? PayloadSigning::kUnsigned : PayloadSigning::kSigned)
              .ok())
          << c.name;
      signed_requests.push_back(std::move(r));
      std::string headers = "[";
      for (const auto& [k, v] : c.request.headers) {
        if (headers.size() > 1) headers += ", ";
        headers += "[" + Json(k) + ", " + Json(v) + "]";
      }
      headers += "]";
      in << "{\"method\": " << Json(c.request.method) << ", \"url\": " << Json(c.request.url)
         << ", \"headers\": " << headers << ", \"body_hex\": " << Json(HexEncode(c.request.body))
         << ", \"access_key\": " << Json(c.options.access_key_id)
         << ", \"secret_key\": " << Json(c.options.secret_access_key)
         << ", \"token\": " << Json(c.token) << ", \"region\": " << Json(c.options.region)
         << ", \"service\": \"s3\", \"amz_date\": " << Json(AmzDate(when))
         << ", \"unsigned_payload\": " << (c.unsigned_payload ? "true" : "false") << "}\n";
    }
  }
  const std::string cmd = "/usr/bin/python3 " + script + " < " + dir + "/in.jsonl > " + dir +
                          "/out.jsonl 2> " + dir + "/err.txt";
  const int rc = std::system(cmd.c_str());
  std::ifstream err(dir + "/err.txt");
  std::stringstream err_text;
  err_text << err.rdbuf();
  ASSERT_EQ(rc, 0) << "sigv4_botocore.py failed (is python3-botocore installed?): "
                   << err_text.str();
  std::ifstream out(dir + "/out.jsonl");
  std::string line;
  size_t i = 0;
  while (std::getline(out, line)) {
    ASSERT_LT(i, cases.size());
    SCOPED_TRACE(cases[i].name + "  " + cases[i].request.url);
    const HttpRequest& ours = signed_requests[i];
    EXPECT_EQ(HeaderOf(ours, "authorization"), JsonField(line, "authorization"))
        << "botocore's canonical request:\n"
        << JsonField(line, "canonical_request");
    EXPECT_EQ(HeaderOf(ours, "x-amz-content-sha256"), JsonField(line, "x-amz-content-sha256"));
    ++i;
  }
  EXPECT_EQ(i, cases.size());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace timestore::tiering
