// S3ObjectStore against a real S3-compatible server: s3rver behind
// tests/tiering/s3_proxy.py, which checks every request's SigV4 signature
// with botocore (a mismatch is a 403 the test would see) and injects the
// faults. One server serves the whole suite; each test has its own prefix
// and starts with the proxy's faults and counters reset.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>

#include "common/env.h"
#include "common/strings.h"
#include "tests/e2e/s3_test_server.h"
#include "tests/e2e/test_server.h"
#include "tiering/s3_object_store.h"

namespace timestore::tiering {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::ProxyFault;
using testing::S3TestServer;

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

bool Contains(const absl::Status& s, std::string_view part) {
  return ToStd(s.message()).find(part) != std::string_view::npos;
}

class S3ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new S3TestServer();
    if (!server_->Start()) start_error_ = server_->error();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    ASSERT_TRUE(start_error_.empty()) << start_error_;
    ASSERT_TRUE(server_->ResetProxy());
    prefix_ = StrCat("t/", ::testing::UnitTest::GetInstance()->current_test_info()->name());
    dir_ = testing::MakeTempDir();
  }
  void TearDown() override {
    if (server_ != nullptr) {
      EXPECT_EQ(server_->ProxyStat("signature_failures"), 0)
          << "botocore disagreed with a signature; see " << server_->root() << "/proxy.log";
    }
    std::filesystem::remove_all(dir_);
  }

  S3Options Options() const {
    S3Options o;
    o.endpoint = server_->endpoint();
    o.bucket = server_->bucket();
    o.prefix = prefix_;
    o.access_key_id = S3TestServer::kAccessKey;
    o.secret_access_key = S3TestServer::kSecretKey;
    o.retry = {4, 5, 20};  // quick retries
    o.request_timeout = seconds(30);
    return o;
  }

  std::string WriteFile(const std::string& name, const std::string& data) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << data;
    return path;
  }

  static inline S3TestServer* server_ = nullptr;
  static inline std::string start_error_;
  std::string prefix_, dir_;
};

TEST_F(S3ServerTest, PutHeadGetAndManyRangesAtOnce) {
  S3ObjectStore s(Options());
  const std::string data = RandomBytes(300'000, 1);
  ASSERT_TRUE(s.Put("seg/1.tseg", data, {{{"segment-id", "42"}, {"codec", "zstd-3"}}}).ok());

  auto info = s.Head("seg/1.tseg");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->size, data.size());
  EXPECT_EQ(info->etag.size(), 32u) << info->etag;  // an MD5, quotes removed
  EXPECT_GT(info->last_modified_ns, 0);
  EXPECT_EQ(info->metadata,
            (std::map<std::string, std::string>{{"codec", "zstd-3"}, {"segment-id", "42"}}));

  auto whole = s.Get("seg/1.tseg");
  ASSERT_TRUE(whole.ok()) << whole.status();
  EXPECT_TRUE(*whole == data);

  // 40 ranges at once, the last one ending at the last byte, one empty.
  std::vector<std::string> outs(42);
  std::vector<RangeRead> reads;
  for (int i = 0; i < 40; ++i) {
    reads.push_back(
        {"seg/1.tseg", static_cast<uint64_t>(i) * 7001, 1000 + static_cast<uint64_t>(i), &outs[i]});
  }
  reads.push_back({"seg/1.tseg", data.size() - 17, 17, &outs[40]});
  reads.push_back({"seg/1.tseg", 5, 0, &outs[41]});
  outs[41] = "junk";
  RequestCounters c;
  ASSERT_TRUE(s.GetRanges(reads, Clock::now() + seconds(30), &c).ok());
  for (const RangeRead& r : reads) EXPECT_TRUE(*r.out == data.substr(r.offset, r.length));
  EXPECT_EQ(outs[41], "");
  EXPECT_EQ(c.requests, 41u);  // the empty range costs nothing
  EXPECT_EQ(c.retries, 0u);
  uint64_t bytes = 0;
  for (size_t i = 0; i < 41; ++i) bytes += reads[i].length;
  EXPECT_EQ(c.bytes_in, bytes);
  EXPECT_EQ(server_->ProxyStat("requests.GET"), 42);

  const ObjectStoreStats st = s.stats();
  EXPECT_EQ(st.put_requests, 1u);
  EXPECT_EQ(st.head_requests, 1u);
  EXPECT_EQ(st.get_requests, 42u);
  EXPECT_EQ(st.failures, 0u);
  EXPECT_GE(st.bytes_out, data.size());
}

TEST_F(S3ServerTest, RangedReadsRunConcurrently) {
  ASSERT_TRUE(server_->SetLatency(200));
  S3ObjectStore s(Options());
  ASSERT_TRUE(s.Put("k", RandomBytes(10'000, 2)).ok());
  std::vector<std::string> outs(12);
  std::vector<RangeRead> reads;
  for (int i = 0; i < 12; ++i)
    reads.push_back({"k", static_cast<uint64_t>(i) * 100, 100, &outs[i]});
  const auto start = Clock::now();
  ASSERT_TRUE(s.GetRanges(reads, Clock::now() + seconds(60)).ok());
  // One after another would take 12 * 200 ms; allow a loaded machine plenty.
  EXPECT_LT(Clock::now() - start, milliseconds(12 * 200 - 200));
}

TEST_F(S3ServerTest, RangesPastTheEndAreErrors) {
  S3ObjectStore s(Options());
  ASSERT_TRUE(s.Put("k", "0123456789").ok());
  std::string out;
  RangeRead beyond{"k", 5, 10, &out};  // S3 answers bytes 5-9 only
  absl::Status st = s.GetRanges(std::span(&beyond, 1), Clock::now() + seconds(30));
  EXPECT_TRUE(absl::IsDataLoss(st)) << st;
  EXPECT_TRUE(Contains(st, "k")) << st;
  RangeRead outside{"k", 10, 1, &out};  // 416 InvalidRange
  st = s.GetRanges(std::span(&outside, 1), Clock::now() + seconds(30));
  EXPECT_TRUE(absl::IsInvalidArgument(st)) << st;
  RangeRead missing{"nope", 0, 1, &out};
  st = s.GetRanges(std::span(&missing, 1), Clock::now() + seconds(30));
  EXPECT_TRUE(absl::IsNotFound(st)) << st;
  EXPECT_TRUE(Contains(st, "s3://")) << st;
  EXPECT_TRUE(Contains(st, "nope")) << st;
  EXPECT_TRUE(Contains(st, "404")) << st;
}

TEST_F(S3ServerTest, ListPaginatesSortsAndStripsThePrefix) {
  S3Options o = Options();
  o.list_page_size = 3;
  S3ObjectStore s(o);
  std::vector<std::string> want;
  for (int i = 12; i >= 0; --i) {
    const std::string key = StrCat("page/", i, ".tseg");
    ASSERT_TRUE(s.Put(key, std::string(static_cast<size_t>(i), 'x')).ok());
    want.push_back(key);
  }
  ASSERT_TRUE(s.Put("pagex/not-this", "x").ok());
  ASSERT_TRUE(s.Put("other/not-this", "x").ok());
  std::sort(want.begin(), want.end());
  server_->ResetProxy();
  auto list = s.List("page/");
  ASSERT_TRUE(list.ok()) << list.status();
  std::vector<std::string> got;
  for (const ObjectInfo& i : *list) got.push_back(i.key);
  EXPECT_EQ(got, want);
  for (const ObjectInfo& i : *list) {
    int n = 0;
    ASSERT_TRUE(ParseInt(std::string_view(i.key).substr(5, i.key.size() - 10), &n)) << i.key;
    EXPECT_EQ(i.size, static_cast<uint64_t>(n));
    EXPECT_GT(i.last_modified_ns, 0);
  }
  EXPECT_EQ(server_->ProxyStat("requests.GET"), 5);  // 13 keys, 3 a page

  auto all = s.List("");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 15u);
  auto none = s.List("zzz");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(S3ServerTest, DeleteIsIdempotent) {
  S3ObjectStore s(Options());
  ASSERT_TRUE(s.Put("k", "v").ok());
  ASSERT_TRUE(s.Delete("k").ok());
  ASSERT_TRUE(s.Delete("k").ok());
  ASSERT_TRUE(s.Delete("never-was").ok());
  const auto head = s.Head("k");
  EXPECT_TRUE(absl::IsNotFound(head.status())) << head.status();
  const auto get = s.Get("k");
  EXPECT_TRUE(absl::IsNotFound(get.status())) << get.status();
  EXPECT_TRUE(Contains(get.status(), "NoSuchKey")) << get.status();
  EXPECT_EQ(s.stats().delete_requests, 3u);
  EXPECT_EQ(s.stats().failures, 2u);
}

TEST_F(S3ServerTest, AwkwardKeysRoundTrip) {
  S3ObjectStore s(Options());
  const std::vector<std::string> keys = {
      "sp ace/file name.tseg",
      "plus+sign/a+b",
      "unicode/\xC3\xBC-\xE1\x88\xB4-\xF0\x9F\x98\x80",
      "tilde~/x_y-z.0",
      "percent/%20literal%",
      "reserved/!$&'()*,;=:@?#[]",
      "quote\"back\\slash<>{}|^`",
  };
  for (size_t i = 0; i < keys.size(); ++i) {
    SCOPED_TRACE(keys[i]);
    const std::string data = StrCat("object ", i, " ", keys[i]);
    ASSERT_TRUE(s.Put(keys[i], data).ok());
    auto got = s.Get(keys[i]);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, data);
    auto head = s.Head(keys[i]);
    ASSERT_TRUE(head.ok()) << head.status();
    EXPECT_EQ(head->size, data.size());
    std::string part;
    RangeRead r{keys[i], 1, 3, &part};
    ASSERT_TRUE(s.GetRanges(std::span(&r, 1), Clock::now() + seconds(30)).ok());
    EXPECT_EQ(part, data.substr(1, 3));
  }
  auto list = s.List("");
  ASSERT_TRUE(list.ok()) << list.status();
  std::vector<std::string> got, want = keys;
  for (const ObjectInfo& i : *list) got.push_back(i.key);
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);
  for (const std::string& k : keys) EXPECT_TRUE(s.Delete(k).ok()) << k;
}

// A bug fixed: curl squashed "/./" and "/../" in URLs, so a key holding them
// was sent (and stored) under another path than the one signed.
TEST_F(S3ServerTest, HttpClientSendsDotSegmentsAsIs) {
  S3ObjectStore s(Options());
  ASSERT_TRUE(s.Put("dots/./a/../b", "dotted").ok());
  bool seen = false;
  for (const std::string& line : server_->ProxyLog()) {
    seen |= line == StrCat("PUT 200 /", server_->bucket(), "/", prefix_, "/dots/./a/../b");
  }
  EXPECT_TRUE(seen) << "the PUT did not arrive with its path as signed";
}

TEST_F(S3ServerTest, MultipartUploadAboveTheThreshold) {
  S3Options o = Options();
  o.multipart_threshold = 100'000;
  o.part_size = 64 << 10;  // below AWS's 5 MiB minimum; s3rver takes it
  o.upload_parallelism = 3;
  S3ObjectStore s(o);
  const std::string data = RandomBytes(1'000'123, 3);
  const std::string path = WriteFile("big", data);
  ASSERT_TRUE(s.PutFile("mp/big.tseg", Env::Default(), path, {{{"kind", "segment"}}}).ok());
  auto got = s.Get("mp/big.tseg");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(*got == data);
  auto head = s.Head("mp/big.tseg");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->metadata["kind"], "segment");
  // 16 parts (15 of 64 KiB and the rest), initiated and completed once.
  EXPECT_EQ(server_->ProxyStat("requests.PUT"), 16);
  EXPECT_EQ(server_->ProxyStat("requests.POST"), 2);
  EXPECT_EQ(s.stats().put_requests, 16u);
  EXPECT_EQ(s.stats().other_requests, 2u);

  // At the threshold: one PUT.
  server_->ResetProxy();
  const std::string small = WriteFile("small", RandomBytes(100'000, 4));
  ASSERT_TRUE(s.PutFile("mp/small", Env::Default(), small).ok());
  EXPECT_EQ(server_->ProxyStat("requests.PUT"), 1);
  EXPECT_EQ(server_->ProxyStat("requests.POST"), 0);
}

TEST_F(S3ServerTest, FailedPartAbortsTheUpload) {
  S3Options o = Options();
  o.multipart_threshold = 1000;
  o.part_size = 1000;
  o.upload_parallelism = 2;
  S3ObjectStore s(o);
  const std::string path = WriteFile("f", RandomBytes(10'000, 5));
  ASSERT_TRUE(server_->InjectFaults(
      {ProxyFault::Error(500, "InternalError", "PUT", -1).OnQuery("partNumber=4&")}));
  const absl::Status st = s.PutFile("mp/fails", Env::Default(), path);
  ASSERT_TRUE(absl::IsUnavailable(st)) << st;
  EXPECT_TRUE(Contains(st, "UploadPart 4/10")) << st;
  EXPECT_TRUE(Contains(st, "InternalError")) << st;
  // s3rver answers 405 to AbortMultipartUpload (unimplemented), so the abort
  // is reported as failed; what matters is that it was sent.
  EXPECT_TRUE(Contains(st, "abort")) << st;
  int aborts = 0, part4 = 0;
  for (const std::string& line : server_->ProxyLog()) {
    if (line.starts_with("DELETE ") && line.find("/mp/fails?uploadId=") != std::string::npos) {
      ++aborts;
    }
    if (line.find("partNumber=4&") != std::string::npos) ++part4;
  }
  EXPECT_GE(aborts, 1);
  EXPECT_EQ(part4, 4);  // every attempt of the policy
  EXPECT_EQ(s.stats().failures, 1u);
  EXPECT_TRUE(absl::IsNotFound(s.Head("mp/fails").status()));
}

TEST_F(S3ServerTest, CompleteAnswering200WithAnErrorIsRetried) {
  S3Options o = Options();
  o.multipart_threshold = 1000;
  o.part_size = 4000;
  S3ObjectStore s(o);
  const std::string data = RandomBytes(9000, 6);
  const std::string path = WriteFile("f", data);
  ASSERT_TRUE(server_->InjectFaults(
      {ProxyFault::Error(200, "InternalError", "POST").OnQuery("^uploadId=")}));
  ASSERT_TRUE(s.PutFile("mp/complete", Env::Default(), path).ok());
  auto got = s.Get("mp/complete");
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(*got == data);
  EXPECT_EQ(s.stats().retries, 1u);
  EXPECT_EQ(server_->ProxyStat("faults"), 1);

  // A non-retryable error in a 200: the upload fails and is aborted.
  ASSERT_TRUE(
      server_->InjectFaults({ProxyFault::Error(200, "InvalidPart", "POST").OnQuery("^uploadId=")}));
  const absl::Status st = s.PutFile("mp/complete2", Env::Default(), path);
  EXPECT_TRUE(absl::IsFailedPrecondition(st)) << st;
  EXPECT_TRUE(Contains(st, "InvalidPart")) << st;
}

TEST_F(S3ServerTest, SlowDownIsRetriedThenSucceeds) {
  S3ObjectStore s(Options());
  ASSERT_TRUE(s.Put("k", "value").ok());
  ASSERT_TRUE(
      server_->InjectFaults({ProxyFault::Error(503, "SlowDown", "GET", 2)}));  // 503 SlowDown
  auto got = s.Get("k");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "value");
  EXPECT_EQ(s.stats().retries, 2u);
  EXPECT_EQ(s.stats().get_requests, 3u);
  EXPECT_EQ(server_->ProxyStat("requests.GET"), 3);

  // The same through GetRanges, counted in its counters.
  ASSERT_TRUE(server_->InjectFaults({ProxyFault::Error(500, "InternalError", "GET", 2)}));
  std::string a, b;
  RangeRead reads[] = {{"k", 0, 2, &a}, {"k", 2, 3, &b}};
  RequestCounters c;
  ASSERT_TRUE(s.GetRanges(reads, Clock::now() + seconds(30), &c).ok());
  EXPECT_EQ(a + b, "value");
  EXPECT_EQ(c.requests, 4u);
  EXPECT_EQ(c.retries, 2u);
}

TEST_F(S3ServerTest, PersistentSlowDownIsUnavailableAfterTheAttempts) {
  S3Options o = Options();
  o.retry = {3, 5, 20};
  S3ObjectStore s(o);
  ASSERT_TRUE(server_->InjectFaults({ProxyFault::Error(503, "SlowDown", "HEAD", -1)}));
  const auto head = s.Head("k");
  ASSERT_TRUE(absl::IsUnavailable(head.status())) << head.status();
  EXPECT_TRUE(Contains(head.status(), "503")) << head.status();
  EXPECT_TRUE(Contains(head.status(), "after 3 attempts")) << head.status();
  EXPECT_EQ(server_->ProxyStat("requests.HEAD"), 3);

  // XML-bodied, through GetRanges.
  ASSERT_TRUE(server_->InjectFaults({ProxyFault::Error(503, "SlowDown", "GET", -1)}));
  std::string out;
  RangeRead r{"k", 0, 1, &out};
  const absl::Status st = s.GetRanges(std::span(&r, 1), Clock::now() + seconds(30));
  EXPECT_TRUE(absl::IsUnavailable(st)) << st;
  EXPECT_TRUE(Contains(st, "SlowDown")) << st;
  EXPECT_EQ(server_->ProxyStat("requests.GET"), 3);
}

TEST_F(S3ServerTest, ForbiddenIsPermissionDeniedAndNotRetried) {
  S3ObjectStore s(Options());
  ASSERT_TRUE(server_->InjectFaults({ProxyFault::Error(403, "AccessDenied", "PUT", -1)}));
  const absl::Status st = s.Put("k", "v");
  EXPECT_TRUE(absl::IsPermissionDenied(st)) << st;
  EXPECT_TRUE(Contains(st, "AccessDenied")) << st;
  EXPECT_EQ(server_->ProxyStat("requests.PUT"), 1);
  EXPECT_EQ(s.stats().retries, 0u);
}

// Not injected: the proxy's own verification rejects a wrong secret.
TEST_F(S3ServerTest, WrongSecretIsSignatureDoesNotMatch) {
  S3Options o = Options();
  o.secret_access_key = "not-the-secret";
  S3ObjectStore s(o);
  const auto head = s.Head("k");
  EXPECT_TRUE(absl::IsPermissionDenied(head.status())) << head.status();
  const absl::Status st = s.Put("k", "v");
  EXPECT_TRUE(absl::IsPermissionDenied(st)) << st;
  EXPECT_TRUE(Contains(st, "SignatureDoesNotMatch")) << st;
  EXPECT_EQ(server_->ProxyStat("requests"), 2);
  EXPECT_EQ(server_->ProxyStat("signature_failures"), 2);
  ASSERT_TRUE(server_->ResetProxy());  // expected failures, not a signing bug
}

// Temporary credentials: x-amz-security-token is sent and signed (the proxy
// recomputes the signature over it; s3rver itself ignores it).
TEST_F(S3ServerTest, SessionTokenIsSigned) {
  S3Options o = Options();
  o.session_token = "FwoGZXIvYXdzEP//////////wEaDFAKE+TOKEN/==";
  S3ObjectStore s(o);
  ASSERT_TRUE(s.Put("k", "v").ok());
  auto got = s.Get("k");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "v");
}

TEST_F(S3ServerTest, GetRangesGivesUpAtItsDeadline) {
  S3ObjectStore s(Options());
  ASSERT_TRUE(s.Put("k", "0123456789").ok());
  ASSERT_TRUE(server_->InjectFaults({ProxyFault::Delay(3000, "GET")}));
  std::string a, b;
  RangeRead reads[] = {{"k", 0, 5, &a}, {"k", 5, 5, &b}};
  const auto start = Clock::now();
  const absl::Status st = s.GetRanges(reads, start + milliseconds(300));
  const auto took = Clock::now() - start;
  EXPECT_TRUE(absl::IsDeadlineExceeded(st)) << st;
  EXPECT_TRUE(Contains(st, "s3://")) << st;
  EXPECT_TRUE(Contains(st, "k")) << st;
  EXPECT_GE(took, milliseconds(290));
  EXPECT_LT(took, milliseconds(300 + 1500));  // at the deadline, not after the 3 s delay
}

// Requests waiting for a connection (more than max_connections at once) are
// bound by the same deadline as those on the wire.
TEST_F(S3ServerTest, DeadlineHoldsForRequestsQueuedBehindTheConnectionLimit) {
  S3Options o = Options();
  o.max_connections = 1;
  S3ObjectStore s(o);
  ASSERT_TRUE(s.Put("k", "0123456789").ok());
  ASSERT_TRUE(server_->InjectFaults({ProxyFault::Delay(1000, "GET")}));
  std::vector<std::string> outs(4);
  std::vector<RangeRead> reads;
  for (int i = 0; i < 4; ++i) reads.push_back({"k", static_cast<uint64_t>(i), 1, &outs[i]});
  const auto start = Clock::now();
  const absl::Status st = s.GetRanges(reads, start + milliseconds(400));
  const auto took = Clock::now() - start;
  EXPECT_TRUE(absl::IsDeadlineExceeded(st)) << st;
  EXPECT_LT(took, milliseconds(400 + 1000)) << "queued requests outlived the deadline";
}

TEST_F(S3ServerTest, ShortAndCutAnswers) {
  S3ObjectStore s(Options());
  ASSERT_TRUE(s.Put("k", "0123456789").ok());
  // Fewer bytes than asked, framed as complete: never trusted.
  ASSERT_TRUE(server_->InjectFaults({ProxyFault::Short(3, "GET", -1)}));
  std::string out;
  RangeRead r{"k", 2, 6, &out};
  absl::Status st = s.GetRanges(std::span(&r, 1), Clock::now() + seconds(30));
  EXPECT_TRUE(absl::IsDataLoss(st)) << st;
  EXPECT_TRUE(Contains(st, "answered 3 bytes")) << st;
  // A connection cut mid-body, then a good answer: retried.
  ASSERT_TRUE(server_->InjectFaults({ProxyFault::Truncate(2, "GET")}));
  RequestCounters c;
  ASSERT_TRUE(s.GetRanges(std::span(&r, 1), Clock::now() + seconds(30), &c).ok());
  EXPECT_EQ(out, "234567");
  EXPECT_EQ(c.retries, 1u);
  // A dropped connection and a reset one: retried too.
  ASSERT_TRUE(server_->InjectFaults({ProxyFault::Drop("GET"), ProxyFault::Reset("GET")}));
  auto got = s.Get("k");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "0123456789");
}

TEST_F(S3ServerTest, ClockSkewIsCorrectedFromTheServersAnswer) {
  S3Options o = Options();
  o.clock = [] { return std::chrono::system_clock::now() - std::chrono::hours(2); };
  S3ObjectStore s(o);
  ASSERT_TRUE(s.Put("k", "v").ok());
  EXPECT_EQ(s.stats().retries, 1u);  // one RequestTimeTooSkewed, then right
  EXPECT_EQ(server_->ProxyStat("status.403"), 1);
  ASSERT_TRUE(s.Head("k").ok());
  EXPECT_EQ(s.stats().retries, 1u);
}

TEST_F(S3ServerTest, ListPendingUploadsIsUnimplementedOnS3rver) {
  // s3rver answers ListMultipartUploads with 501 NotImplemented: reported at
  // once, not retried (the parser is tested on AWS's sample answer).
  S3ObjectStore s(Options());
  const auto pending = s.ListPendingUploads("");
  EXPECT_TRUE(absl::IsUnimplemented(pending.status())) << pending.status();
  EXPECT_EQ(server_->ProxyStat("requests.GET"), 1);
  // And AbortMultipartUpload with 405 MethodNotAllowed: not retried either.
  const absl::Status abort = s.AbortUpload({"k", "no-such-upload", 0});
  EXPECT_TRUE(absl::IsFailedPrecondition(abort)) << abort;
  EXPECT_EQ(server_->ProxyStat("requests.DELETE"), 1);
}

TEST_F(S3ServerTest, AwsCliReadsWhatTheStoreWrote) {
  S3ObjectStore s(Options());
  const std::string data = RandomBytes(200'000, 7);
  const std::string key = "cli/a b+c.tseg";
  ASSERT_TRUE(s.Put(key, data).ok());
  std::string out;
  ASSERT_EQ(server_->RunAwsCli(StrCat("s3api list-objects-v2 --bucket ", server_->bucket(),
                                      " --prefix '", prefix_, "/cli/'"),
                               &out),
            0)
      << out;
  EXPECT_NE(out.find("\"Key\": \"" + prefix_ + "/cli/a b+c.tseg\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"Size\": 200000"), std::string::npos) << out;
  const std::string file = dir_ + "/from-cli";
  ASSERT_EQ(server_->RunAwsCli(StrCat("s3api get-object --bucket ", server_->bucket(), " --key '",
                                      prefix_, "/", key, "' ", file),
                               &out),
            0)
      << out;
  std::ifstream in(file, std::ios::binary);
  const std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(got == data) << "aws s3api get-object read " << got.size() << " bytes";
  EXPECT_EQ(server_->ProxyStat("signature_failures"), 0);  // the CLI's requests verify too
}

TEST_F(S3ServerTest, ObjectsLieInTheDataDirectory) {
  S3ObjectStore s(Options());
  ASSERT_TRUE(s.Put("on/disk", "0123456789").ok());
  const std::string path = server_->ObjectPath(server_->bucket(), prefix_ + "/on/disk");
  std::ifstream in(path, std::ios::binary);
  const std::string stored((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(stored, "0123456789") << path;
  // Flip a byte behind the store's back: it reads what is there.
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(3);
    f.put('X');
  }
  auto got = s.Get("on/disk");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "012X456789");
}

}  // namespace
}  // namespace timestore::tiering
