// S3ObjectStore: the ObjectStore of Amazon S3 and S3-compatible stores, over
// HttpClient (libcurl) with our own SigV4 signing (tiering/sigv4.h).
//
// Requests:
//   Put          PUT /key                    x-amz-meta-* from PutOptions
//   PutFile      one PUT up to multipart_threshold, else
//                POST /key?uploads, PUT /key?partNumber=N&uploadId=U (up to
//                upload_parallelism at once), POST /key?uploadId=U; any failure
//                sends DELETE /key?uploadId=U (AbortMultipartUpload)
//   Head         HEAD /key
//   GetRanges    GET /key, Range: bytes=first-last (never a suffix range), all
//                at once through HttpClient::PerformAll
//   Get          GET /key
//   List         GET /?list-type=2&prefix=P[&continuation-token=T]&max-keys=N
//   Delete       DELETE /key                 (204 and 404 are both success)
//   ListPendingUploads  GET /?uploads&prefix=P[&key-marker&upload-id-marker]
//   AbortUpload  DELETE /key?uploadId=U      (404 NoSuchUpload is success)
//
// URLs: virtual-hosted ("https://bucket.s3.us-east-1.amazonaws.com/key") by
// default; path-style ("http://127.0.0.1:9000/bucket/key") when
// force_path_style is set, when the endpoint's host is an IP address or
// "localhost", or when the bucket name is not a DNS label (dots break the
// TLS wildcard certificate, upper case and '_' are not host names). Keys are
// percent-encoded once, '/' kept (sigv4.h); they must be valid UTF-8-ish
// bytes without control characters (XML 1.0, used by LIST answers, cannot
// carry them) and at most 1024 bytes with the prefix.
//
// Errors, per object_store.h; every message names Describe(), the operation,
// the key and the HTTP status and S3 error code:
//   404, NoSuchKey, NoSuchBucket, NoSuchUpload     NotFound
//   401, 403 (AccessDenied, SignatureDoesNotMatch, InvalidAccessKeyId, ...)
//                                                  PermissionDenied, not retried
//   500, 502, 503, 504, 429 and the codes AWS documents as retryable (AWS SDK
//   "standard" retry mode, docs.aws.amazon.com/sdkref/latest/guide/
//   feature-retry-behavior.html): SlowDown, RequestTimeout (400), InternalError,
//   ServiceUnavailable, Throttling, ThrottlingException, RequestThrottled,
//   TooManyRequestsException, RequestLimitExceeded, BandwidthLimitExceeded,
//   PriorRequestNotComplete, OperationAborted (409, "try again"); transport
//   errors (refused, reset, cut short)
//                                                  retried with Backoff(), then
//                                                  Unavailable
//   RequestTimeTooSkewed, RequestExpired, RequestInTheFuture (403)
//                                                  the clock offset is taken from
//                                                  the answer (ServerTime, else
//                                                  Date) and the request retried
//                                                  once; then PermissionDenied
//   501 NotImplemented                             Unimplemented (s3rver answers
//                                                  it to ListMultipartUploads)
//   400, 411, 413, 414, 416 (InvalidRange)         InvalidArgument
//   other 4xx (405, 409, 412, 301 PermanentRedirect: wrong region, ...)
//                                                  FailedPrecondition
//   a ranged GET answered without exactly the bytes asked for, a 2xx whose
//   XML cannot be parsed                           DataLoss
//   the call's deadline passed                     DeadlineExceeded
// Secrets are never logged nor put in a message.
//
// Retries re-sign every attempt. Every request the store sends is idempotent
// but CreateMultipartUpload: a retried one may leave an extra, empty upload
// behind (ListPendingUploads / AbortUpload clean those up). A retried
// CompleteMultipartUpload whose first attempt did reach S3 finds the upload
// gone (NoSuchUpload); the object then counts as stored if its ETag is the
// multipart ETag of the parts sent.
//
// Google Cloud Storage through its XML API ("interoperability"): endpoint
// https://storage.googleapis.com, region "auto", an HMAC key of a service
// account (Cloud Storage > Settings > Interoperability): its access ID
// ("GOOG1E...") is access_key_id and its secret is secret_access_key; there is
// no session token. Requests are signed with service "s3" and scope
// <date>/auto/s3/aws4_request, which GCS accepts. GCS answers user metadata as
// x-goog-meta-*, which Head reads as well as x-amz-meta-*. GCS supports
// ListObjectsV2 and multipart uploads on the XML API.
//
// Thread-safe; the HttpClient may be shared with other stores.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tiering/http_client.h"
#include "tiering/http_util.h"
#include "tiering/object_store.h"
#include "tiering/s3_answers.h"
#include "tiering/sigv4.h"

namespace timestore::tiering {

struct S3Options {
  // "http://127.0.0.1:9000", "https://storage.googleapis.com" (scheme and
  // host[:port], no path); empty: https://s3.<region>.amazonaws.com.
  std::string endpoint;
  std::string region = "us-east-1";  // GCS: "auto"
  std::string bucket;
  std::string prefix;             // keys passed to the store are relative to it
  bool force_path_style = false;  // false: virtual-hosted (bucket.host) where possible
  std::string access_key_id, secret_access_key, session_token;
  // PutFile above this size: a multipart upload.
  uint64_t multipart_threshold = 64ull << 20;
  // Bytes per part. AWS requires >= 5 MiB for every part but the last (and at
  // most 10,000 parts: larger files get larger parts); s3rver and the tests
  // accept smaller ones. The memory PutFile holds is upload_parallelism parts.
  uint64_t part_size = 16ull << 20;
  int upload_parallelism = 4;
  int max_connections = 16;  // of the HttpClient created when none is passed
  // The deadline of one S3 operation (one PUT, one part, one LIST page), its
  // retries included; GetRanges takes its deadline from the caller instead.
  std::chrono::milliseconds request_timeout{30000};
  RetryPolicy retry;
  // Items per LIST page (max-keys / max-uploads; S3 answers at most 1000).
  int list_page_size = 1000;
  // true: bodies carry their hex SHA-256 in x-amz-content-sha256 (checked by
  // the server). false: "UNSIGNED-PAYLOAD" on https endpoints (TLS protects
  // the body; saves hashing every byte uploaded); http always signs.
  bool sign_payload = true;
  // TLS: verify the server's certificate against `ca_file` (empty: the
  // system's store).
  bool verify_tls = true;
  std::string ca_file;
  // The clock requests are signed with (null: the system clock). Tests skew it.
  std::function<std::chrono::system_clock::time_point()> clock;
};

class S3ObjectStore : public ObjectStore {
 public:
  // An invalid `options` (see ValidateOptions) makes every call fail with
  // InvalidArgument. Without `http`, the store makes its own client.
  explicit S3ObjectStore(S3Options options, std::shared_ptr<HttpClient> http = nullptr);
  ~S3ObjectStore() override;

  // InvalidArgument naming the problem: no bucket, an endpoint that is not
  // http(s)://host[:port], empty credentials, part_size or parallelism < 1.
  static absl::Status ValidateOptions(const S3Options& options);

  const std::string& Describe() const override { return describe_; }
  absl::Status Put(std::string_view key, std::string_view data,
                   const PutOptions& options = {}) override;
  absl::Status PutFile(std::string_view key, Env* env, const std::string& path,
                       const PutOptions& options = {}) override;
  absl::StatusOr<ObjectInfo> Head(std::string_view key) override;
  absl::Status GetRanges(std::span<RangeRead> reads, Clock::time_point deadline,
                         RequestCounters* counters = nullptr) override;
  absl::StatusOr<std::string> Get(std::string_view key) override;
  absl::StatusOr<std::vector<ObjectInfo>> List(std::string_view prefix) override;
  absl::Status Delete(std::string_view key) override;
  absl::StatusOr<std::vector<PendingUpload>> ListPendingUploads(std::string_view prefix) override;
  absl::Status AbortUpload(const PendingUpload& upload) override;
  ObjectStoreStats stats() const override;

  // The URL of `key` (relative to the prefix) with `query` ("" or already
  // encoded "a=1&b"), and of the bucket itself.
  std::string ObjectUrl(std::string_view key, std::string_view query = "") const;
  std::string BucketUrl(std::string_view query = "") const;
  // True when URLs name the bucket in the host.
  bool virtual_hosted() const { return virtual_hosted_; }
  const S3Options& options() const { return options_; }

 private:
  enum class Op { kGet, kPut, kHead, kList, kDelete, kOther };
  struct Attempt;

  std::chrono::system_clock::time_point SigningTime() const;
  // Signs `request` for this store (at SigningTime()).
  absl::Status Sign(HttpRequest* request) const;
  // Sends `request` (signing every attempt) until it succeeds, fails for
  // good, runs out of attempts or reaches `deadline`. A 2xx answer (and 404
  // when `not_found_ok`) is returned; anything else as the mapped status.
  absl::StatusOr<HttpResponse> Execute(HttpRequest request, Op op, std::string_view what,
                                       std::string_view key, Clock::time_point deadline,
                                       RequestCounters* counters = nullptr,
                                       bool not_found_ok = false);
  enum class Next {
    kFail,      // final
    kRetry,     // after a backoff, while attempts and time last
    kRetryNow,  // the clock offset was just corrected: once, at once
  };
  // The status for an answer that is not a success, and what to do next.
  // Adjusts the clock offset on clock-skew answers.
  absl::Status ErrorFor(const HttpResponse& response, std::string_view what, std::string_view key,
                        Clock::time_point deadline, Next* next);
  // Sleeps the backoff before `attempt`; false if that would pass `deadline`.
  bool WaitBeforeRetry(int attempt, Clock::time_point deadline) const;
  void Count(Op op, const HttpRequest& request, const HttpResponse& response);
  absl::Status Fail(absl::Status status);  // counts a failed call
  absl::Status CheckKey(std::string_view key) const;
  absl::Status PutMultipart(std::string_view key, RandomAccessFile* file, uint64_t size,
                            const PutOptions& options);
  absl::Status AbortMultipart(std::string_view key, const std::string& upload_id);
  absl::StatusOr<ObjectInfo> HeadImpl(std::string_view key);  // Head, not counted as a failure
  Clock::time_point OpDeadline() const { return Clock::now() + options_.request_timeout; }

  const S3Options options_;
  const absl::Status config_status_;
  std::shared_ptr<HttpClient> http_;
  std::string describe_;
  std::string scheme_, authority_;  // of the endpoint
  bool virtual_hosted_ = false;
  PayloadSigning body_signing_ = PayloadSigning::kSigned;
  AwsCredentials credentials_;
  // Server time minus local time, learnt from RequestTimeTooSkewed answers.
  std::atomic<int64_t> clock_offset_ms_{0};

  std::atomic<uint64_t> get_requests_{0}, put_requests_{0}, head_requests_{0}, list_requests_{0},
      delete_requests_{0}, other_requests_{0}, bytes_in_{0}, bytes_out_{0}, retries_{0},
      failures_{0};
};

}  // namespace timestore::tiering
