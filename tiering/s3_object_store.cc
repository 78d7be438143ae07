#include "tiering/s3_object_store.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <thread>

#include "common/crash_point.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "common/time_util.h"

namespace timestore::tiering {
namespace {

// Answer bodies we read whole (errors, listings, multipart replies).
constexpr uint64_t kMaxXmlAnswerBytes = 16u << 20;
// A ranged GET may carry an error document instead of the bytes.
constexpr uint64_t kMinRangeAnswerBytes = 64u << 10;
// S3's limits.
constexpr size_t kMaxKeyBytes = 1024;
constexpr uint64_t kMaxParts = 10000;
constexpr size_t kMaxMetadataBytes = 2048;
constexpr int kMaxListPages = 1000000;

bool IsRetryableCode(std::string_view code) {
  static constexpr std::string_view kCodes[] = {
      "SlowDown",
      "RequestTimeout",
      "RequestTimeoutException",
      "InternalError",
      "ServiceUnavailable",
      "Throttling",
      "ThrottlingException",
      "ThrottledException",
      "RequestThrottled",
      "RequestThrottledException",
      "TooManyRequestsException",
      "RequestLimitExceeded",
      "BandwidthLimitExceeded",
      "PriorRequestNotComplete",
      "OperationAborted",
      "EC2ThrottledException",
      "TransactionInProgressException",
      "ProvisionedThroughputExceededException",
      "LimitExceededException",
  };
  return std::find(std::begin(kCodes), std::end(kCodes), code) != std::end(kCodes);
}

bool IsClockSkewCode(std::string_view code) {
  return code == "RequestTimeTooSkewed" || code == "RequestExpired" || code == "RequestInTheFuture";
}

bool IsIpOrLocalhost(std::string_view host) {
  if (const size_t colon = host.rfind(':');
      colon != std::string_view::npos && host.find(']') == std::string_view::npos) {
    host = host.substr(0, colon);
  }
  if (host == "localhost" || host.starts_with("[")) return true;
  return !host.empty() && std::all_of(host.begin(), host.end(),
                                      [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

// A bucket name that can be the first label of a TLS-covered host name.
bool IsDnsCompatibleBucket(std::string_view b) {
  if (b.size() < 3 || b.size() > 63) return false;
  for (char c : b) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return b.front() != '-' && b.back() != '-';
}

absl::Status CheckMetadata(const PutOptions& options) {
  size_t total = 0;
  for (const auto& [name, value] : options.metadata) {
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
        })) {
      return absl::InvalidArgumentError(
          StrCat("metadata name \"", name, "\" is not lower-case [a-z0-9-]"));
    }
    // Header values: printable ASCII, and servers trim the ends.
    const bool printable =
        std::all_of(value.begin(), value.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
    if (!printable || (!value.empty() && (value.front() == ' ' || value.back() == ' '))) {
      return absl::InvalidArgumentError(StrCat("metadata \"", name,
                                               "\": the value must be printable ASCII without ",
                                               "leading or trailing spaces"));
    }
    total += name.size() + value.size();
  }
  if (total > kMaxMetadataBytes) {
    return absl::InvalidArgumentError(
        StrCat("metadata of ", total, " bytes is larger than S3's ", kMaxMetadataBytes));
  }
  return absl::OkStatus();
}

void AddMetadata(const PutOptions& options, HttpRequest* r) {
  for (const auto& [name, value] : options.metadata) {
    r->headers.emplace_back(StrCat("x-amz-meta-", name), value);
  }
}

// The ETag S3 gives an object assembled from parts with these ETags: the MD5
// of the parts' binary MD5s, "-", the number of parts. Empty when a part's
// ETag is not an MD5 (other stores).
std::string MultipartEtag(const std::vector<std::string>& part_etags) {
  std::string md5s;
  for (const std::string& e : part_etags) {
    const std::string hex = StripQuotes(e);
    if (hex.size() != 32) return "";
    for (size_t i = 0; i < 32; i += 2) {
      uint8_t byte = 0;
      if (!ParseInt(std::string_view(hex).substr(i, 2), &byte, 16)) return "";
      md5s.push_back(static_cast<char>(byte));
    }
  }
  return StrCat(HexEncode(Md5(md5s)), "-", part_etags.size());
}

}  // namespace

// ---- the store ----

S3ObjectStore::S3ObjectStore(S3Options options, std::shared_ptr<HttpClient> http)
    : options_(std::move(options)),
      config_status_(ValidateOptions(options_)),
      http_(std::move(http)) {
  describe_ = StrCat("s3://", options_.bucket);
  std::string_view prefix = options_.prefix;
  while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
  if (!prefix.empty()) StrAppend(&describe_, "/", prefix);
  const std::string endpoint = options_.endpoint.empty()
                                   ? StrCat("https://s3.", options_.region, ".amazonaws.com")
                                   : options_.endpoint;
  if (auto url = SplitUrl(endpoint); url.ok()) {
    scheme_ = url->scheme;
    authority_ = url->host;
  }
  virtual_hosted_ = !options_.force_path_style && !IsIpOrLocalhost(authority_) &&
                    IsDnsCompatibleBucket(options_.bucket);
  body_signing_ = (!options_.sign_payload && scheme_ == "https") ? PayloadSigning::kUnsigned
                                                                 : PayloadSigning::kSigned;
  credentials_ = {options_.access_key_id, options_.secret_access_key, options_.session_token};
  if (http_ == nullptr) {
    HttpClientOptions ho;
    ho.max_connections = std::max(1, options_.max_connections);
    ho.verify_tls = options_.verify_tls;
    ho.ca_file = options_.ca_file;
    http_ = std::make_shared<HttpClient>(ho);
  }
}

S3ObjectStore::~S3ObjectStore() = default;

absl::Status S3ObjectStore::ValidateOptions(const S3Options& o) {
  if (o.bucket.empty()) return absl::InvalidArgumentError("S3: no bucket");
  if (o.bucket.find('/') != std::string::npos || o.bucket.size() > 255) {
    return absl::InvalidArgumentError(StrCat("S3: bad bucket name \"", o.bucket, "\""));
  }
  if (o.region.empty()) return absl::InvalidArgumentError("S3: no region");
  if (!o.endpoint.empty()) {
    auto url = SplitUrl(o.endpoint);
    if (!url.ok() || (url->scheme != "http" && url->scheme != "https") ||
        (url->path != "/" && !url->path.empty()) || !url->query.empty()) {
      return absl::InvalidArgumentError(
          StrCat("S3: endpoint \"", o.endpoint, "\" is not http(s)://host[:port]"));
    }
  }
  if (o.access_key_id.empty() || o.secret_access_key.empty()) {
    return absl::InvalidArgumentError("S3: no access key id or secret access key");
  }
  if (o.part_size < 1 || o.upload_parallelism < 1 || o.list_page_size < 1) {
    return absl::InvalidArgumentError("S3: part_size, upload_parallelism and list_page_size >= 1");
  }
  return absl::OkStatus();
}

std::string S3ObjectStore::BucketUrl(std::string_view query) const {
  std::string url =
      virtual_hosted_ ? StrCat(scheme_, "://", options_.bucket, ".", authority_, "/")
                      : StrCat(scheme_, "://", authority_, "/", UriEncode(options_.bucket, false));
  if (!query.empty()) StrAppend(&url, "?", query);
  return url;
}

std::string S3ObjectStore::ObjectUrl(std::string_view key, std::string_view query) const {
  const std::string path = UriEncode(JoinKey(options_.prefix, key), /*keep_slash=*/true);
  std::string url =
      virtual_hosted_
          ? StrCat(scheme_, "://", options_.bucket, ".", authority_, "/", path)
          : StrCat(scheme_, "://", authority_, "/", UriEncode(options_.bucket, false), "/", path);
  if (!query.empty()) StrAppend(&url, "?", query);
  return url;
}

std::chrono::system_clock::time_point S3ObjectStore::SigningTime() const {
  const auto now = options_.clock ? options_.clock() : std::chrono::system_clock::now();
  return now + std::chrono::milliseconds(clock_offset_ms_.load(std::memory_order_relaxed));
}

absl::Status S3ObjectStore::Sign(HttpRequest* request) const {
  return SignRequest(request, credentials_, options_.region, "s3", SigningTime(),
                     request->body.empty() ? PayloadSigning::kSigned : body_signing_);
}

absl::Status S3ObjectStore::CheckKey(std::string_view key) const {
  RETURN_IF_ERROR(config_status_);
  const std::string full = JoinKey(options_.prefix, key);
  if (key.empty() || full.size() > kMaxKeyBytes) {
    return absl::InvalidArgumentError(
        StrCat(describe_, ": key \"", key, "\" is empty or longer than ", kMaxKeyBytes, " bytes"));
  }
  for (unsigned char c : key) {
    if (c < 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError(
          StrCat(describe_, ": key \"", key, "\" holds a control character"));
    }
  }
  return absl::OkStatus();
}

void S3ObjectStore::Count(Op op, const HttpRequest& request, const HttpResponse& response) {
  switch (op) {
    case Op::kGet:
      ++get_requests_;
      break;
    case Op::kPut:
      ++put_requests_;
      break;
    case Op::kHead:
      ++head_requests_;
      break;
    case Op::kList:
      ++list_requests_;
      break;
    case Op::kDelete:
      ++delete_requests_;
      break;
    case Op::kOther:
      ++other_requests_;
      break;
  }
  bytes_out_ += request.body.size();
  bytes_in_ += response.body.size();
}

absl::Status S3ObjectStore::Fail(absl::Status status) {
  if (!status.ok()) ++failures_;
  return status;
}

bool S3ObjectStore::WaitBeforeRetry(int attempt, Clock::time_point deadline) const {
  const auto wait = Backoff(options_.retry, attempt);
  if (Clock::now() + wait >= deadline) return false;
  std::this_thread::sleep_for(wait);
  return true;
}

absl::Status S3ObjectStore::ErrorFor(const HttpResponse& r, std::string_view what,
                                     std::string_view key, Clock::time_point deadline, Next* next) {
  *next = Next::kFail;
  const std::string where = StrCat(describe_, ": ", what, " ", key, ": ");
  if (r.status == 0) {
    if (r.timed_out && Clock::now() >= deadline) {
      return absl::DeadlineExceededError(StrCat(where, "no answer before the deadline"));
    }
    if (r.too_large) {
      return absl::DataLossError(StrCat(where, "the answer is larger than asked for"));
    }
    *next = Next::kRetry;
    return absl::UnavailableError(
        StrCat(where, "cannot reach ", scheme_, "://", authority_, ": ", r.error));
  }
  S3ErrorInfo info;
  if (!r.body.empty()) {
    if (auto parsed = ParseS3Error(r.body); parsed.ok()) info = std::move(*parsed);
  }
  std::string text = StrCat(where, "HTTP ", r.status);
  if (!info.code.empty()) StrAppend(&text, " ", info.code);
  if (!info.message.empty()) StrAppend(&text, ": ", info.message);
  if (!info.request_id.empty()) StrAppend(&text, " (request id ", info.request_id, ")");
  const std::string& code = info.code;

  if (IsClockSkewCode(code)) {
    // Learn the server's clock: its ServerTime, else its Date header.
    int64_t server_ns = 0;
    if (auto t = ParseRfc3339(info.server_time); t.ok()) {
      server_ns = *t;
    } else if (auto d = ParseHttpDate(r.Header("date")); d.ok()) {
      server_ns = *d;
    }
    if (server_ns != 0) {
      const auto local = options_.clock ? options_.clock() : std::chrono::system_clock::now();
      const int64_t local_ns =
          std::chrono::duration_cast<std::chrono::nanoseconds>(local.time_since_epoch()).count();
      clock_offset_ms_ = (server_ns - local_ns) / 1'000'000;
      *next = Next::kRetryNow;
      StrAppend(&text, " (local clock off by ", (server_ns - local_ns) / 1'000'000'000,
                " s; corrected)");
    }
    return absl::PermissionDeniedError(text);
  }
  if (IsRetryableCode(code) || r.status == 429 || (r.status >= 500 && r.status != 501)) {
    *next = Next::kRetry;
    return absl::UnavailableError(text);
  }
  if (r.status == 404 || code == "NoSuchKey" || code == "NoSuchBucket" || code == "NoSuchUpload") {
    return absl::NotFoundError(text);
  }
  if (r.status == 401 || r.status == 403) return absl::PermissionDeniedError(text);
  if (r.status == 501) return absl::UnimplementedError(text);
  if (r.status == 400 || r.status == 411 || r.status == 413 || r.status == 414 || r.status == 416) {
    return absl::InvalidArgumentError(text);
  }
  return absl::FailedPreconditionError(text);
}

absl::StatusOr<HttpResponse> S3ObjectStore::Execute(HttpRequest request, Op op,
                                                    std::string_view what, std::string_view key,
                                                    Clock::time_point deadline,
                                                    RequestCounters* counters, bool not_found_ok) {
  if (request.max_response_bytes == 0 && op != Op::kGet) {
    request.max_response_bytes = kMaxXmlAnswerBytes;
  }
  const int attempts = std::max(1, options_.retry.max_attempts);
  bool skew_corrected = false;
  absl::Status last;
  for (int attempt = 0;; ++attempt) {
    RETURN_IF_ERROR(Sign(&request));
    HttpResponse response = http_->Perform(request, deadline);
    Count(op, request, response);
    if (counters != nullptr) {
      ++counters->requests;
      counters->bytes_out += request.body.size();
      counters->bytes_in += response.body.size();
    }
    if ((response.status >= 200 && response.status < 300) ||
        (not_found_ok && response.status == 404)) {
      return response;
    }
    Next next;
    last = ErrorFor(response, what, key, deadline, &next);
    if (next == Next::kFail) return last;
    if (next == Next::kRetryNow) {
      if (skew_corrected) return last;  // corrected once already: the clock is not the problem
      skew_corrected = true;
    } else {
      if (attempt + 1 >= attempts) {
        return absl::Status(last.code(),
                            StrCat(ToStd(last.message()), " (after ", attempt + 1, " attempts)"));
      }
      if (!WaitBeforeRetry(attempt + 1, deadline)) {
        return absl::Status(last.code(), StrCat(ToStd(last.message()), " (after ", attempt + 1,
                                                " attempts; no time left for another)"));
      }
    }
    ++retries_;
    if (counters != nullptr) ++counters->retries;
  }
}

// ---- operations ----

absl::Status S3ObjectStore::Put(std::string_view key, std::string_view data,
                                const PutOptions& options) {
  if (absl::Status s = CheckKey(key); !s.ok()) return Fail(s);
  if (absl::Status s = CheckMetadata(options); !s.ok()) {
    return Fail(
        absl::InvalidArgumentError(StrCat(describe_, ": PUT ", key, ": ", ToStd(s.message()))));
  }
  HttpRequest r;
  r.method = "PUT";
  r.url = ObjectUrl(key);
  r.headers.emplace_back("content-type", "application/octet-stream");
  AddMetadata(options, &r);
  r.body.assign(data);
  return Fail(Execute(std::move(r), Op::kPut, "PUT", key, OpDeadline()).status());
}

absl::Status S3ObjectStore::PutFile(std::string_view key, Env* env, const std::string& path,
                                    const PutOptions& options) {
  if (absl::Status s = CheckKey(key); !s.ok()) return Fail(s);
  if (absl::Status s = CheckMetadata(options); !s.ok()) {
    return Fail(
        absl::InvalidArgumentError(StrCat(describe_, ": PUT ", key, ": ", ToStd(s.message()))));
  }
  auto size = env->FileSize(path);
  if (!size.ok()) return Fail(size.status());
  if (*size <= options_.multipart_threshold) {
    auto data = env->ReadFile(path);
    if (!data.ok()) return Fail(data.status());
    return Put(key, *data, options);  // counts its own failure
  }
  auto file = env->NewRandomAccessFile(path);
  if (!file.ok()) return Fail(file.status());
  return Fail(PutMultipart(key, file->get(), *size, options));
}

absl::Status S3ObjectStore::PutMultipart(std::string_view key, RandomAccessFile* file,
                                         uint64_t size, const PutOptions& options) {
  // At most 10,000 parts: a larger file gets larger parts (whole MiB).
  uint64_t part = options_.part_size;
  if ((size + part - 1) / part > kMaxParts) {
    part = ((size + kMaxParts - 1) / kMaxParts + (1u << 20) - 1) & ~((uint64_t{1} << 20) - 1);
  }
  const size_t parts = static_cast<size_t>((size + part - 1) / part);

  HttpRequest init;
  init.method = "POST";
  init.url = ObjectUrl(key, "uploads");
  init.headers.emplace_back("content-type", "application/octet-stream");
  AddMetadata(options, &init);
  ASSIGN_OR_RETURN(HttpResponse created, Execute(std::move(init), Op::kOther,
                                                 "CreateMultipartUpload", key, OpDeadline()));
  auto parsed_id = ParseInitiateMultipartUpload(created.body);
  if (!parsed_id.ok()) {
    return absl::DataLossError(StrCat(describe_, ": CreateMultipartUpload ", key, ": ",
                                      ToStd(parsed_id.status().message())));
  }
  const std::string upload_id = *parsed_id;
  const std::string id_param = StrCat("uploadId=", UriEncode(upload_id, false));

  // Parts go up from a shared counter, `upload_parallelism` at a time; the
  // first failure stops the others after their current part.
  std::vector<std::string> etags(parts);
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  absl::Status first_error;
  auto worker = [&] {
    std::string buf;
    while (!failed.load()) {
      const size_t i = next++;
      if (i >= parts) return;
      const uint64_t offset = i * part;
      const uint64_t len = std::min<uint64_t>(part, size - offset);
      absl::Status s = file->ReadAt(offset, static_cast<size_t>(len), &buf);
      if (s.ok()) {
        HttpRequest r;
        r.method = "PUT";
        r.url = ObjectUrl(key, StrCat("partNumber=", i + 1, "&", id_param));
        r.body = std::move(buf);
        auto answer = Execute(std::move(r), Op::kPut, StrCat("UploadPart ", i + 1, "/", parts), key,
                              OpDeadline());
        if (answer.ok()) {
          // A kill -9 here leaves a multipart upload begun and never
          // finished: the end-to-end crash tests stop at this point.
          CrashPoint("s3.part_uploaded");
          etags[i] = answer->Header("etag");
          if (etags[i].empty()) {
            s = absl::DataLossError(
                StrCat(describe_, ": UploadPart ", i + 1, " ", key, ": no ETag in the answer"));
          }
        } else {
          s = answer.status();
        }
      }
      if (!s.ok()) {
        std::lock_guard<std::mutex> l(mu);
        if (first_error.ok()) first_error = s;
        failed = true;
        return;
      }
    }
  };
  const size_t threads = std::min<size_t>(parts, static_cast<size_t>(options_.upload_parallelism));
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();

  absl::Status result = first_error;
  if (result.ok()) {
    // CompleteMultipartUpload may answer 200 and still fail (an <Error> body,
    // sent once the upload has been assembled): such an answer is retried
    // like the status its code stands for.
    const Clock::time_point deadline = OpDeadline();
    for (int attempt = 0;; ++attempt) {
      HttpRequest r;
      r.method = "POST";
      r.url = ObjectUrl(key, id_param);
      r.headers.emplace_back("content-type", "application/xml");
      r.body = CompleteMultipartUploadBody(etags);
      auto answer = Execute(std::move(r), Op::kOther, "CompleteMultipartUpload", key, deadline);
      if (!answer.ok()) {
        result = answer.status();
        // A retried Complete whose first attempt did reach S3 finds the upload
        // gone: the object is there if its ETag is the one of these parts.
        if (absl::IsNotFound(result)) {
          const std::string expected = MultipartEtag(etags);
          auto head = HeadImpl(key);
          if (!expected.empty() && head.ok() && head->etag == expected && head->size == size) {
            return absl::OkStatus();
          }
        }
        break;
      }
      S3ErrorInfo info;
      auto etag = ParseCompleteMultipartUpload(answer->body, &info);
      if (etag.ok()) return absl::OkStatus();
      result = absl::Status(info.code.empty()            ? absl::StatusCode::kDataLoss
                            : IsRetryableCode(info.code) ? absl::StatusCode::kUnavailable
                                                         : absl::StatusCode::kFailedPrecondition,
                            StrCat(describe_, ": CompleteMultipartUpload ", key, ": HTTP ",
                                   answer->status, " ", ToStd(etag.status().message())));
      if (!IsRetryableCode(info.code) || attempt + 1 >= std::max(1, options_.retry.max_attempts) ||
          !WaitBeforeRetry(attempt + 1, deadline)) {
        break;
      }
      ++retries_;
    }
  }
  // Every failure after the upload began: abort it, or it costs storage.
  absl::Status aborted = AbortMultipart(key, upload_id);
  if (aborted.ok()) {
    return absl::Status(result.code(),
                        StrCat(ToStd(result.message()), " (multipart upload aborted)"));
  }
  return absl::Status(result.code(),
                      StrCat(ToStd(result.message()), " (and aborting upload ", upload_id,
                             " failed, it stays pending: ", ToStd(aborted.message()), ")"));
}

absl::Status S3ObjectStore::AbortMultipart(std::string_view key, const std::string& upload_id) {
  HttpRequest r;
  r.method = "DELETE";
  r.url = ObjectUrl(key, StrCat("uploadId=", UriEncode(upload_id, false)));
  return Execute(std::move(r), Op::kOther, "AbortMultipartUpload", key, OpDeadline(), nullptr,
                 /*not_found_ok=*/true)
      .status();
}

absl::StatusOr<ObjectInfo> S3ObjectStore::Head(std::string_view key) {
  auto info = HeadImpl(key);
  if (!info.ok()) return Fail(info.status());
  return info;
}

absl::StatusOr<ObjectInfo> S3ObjectStore::HeadImpl(std::string_view key) {
  RETURN_IF_ERROR(CheckKey(key));
  HttpRequest r;
  r.method = "HEAD";
  r.url = ObjectUrl(key);
  auto answer = Execute(std::move(r), Op::kHead, "HEAD", key, OpDeadline());
  if (!answer.ok()) return answer.status();
  ObjectInfo info;
  info.key = std::string(key);
  auto size = ParseObjectSize(answer->Header("content-length"));
  if (!size.ok()) {
    return absl::DataLossError(
        StrCat(describe_, ": HEAD ", key, ": no Content-Length in the answer"));
  }
  info.size = *size;
  info.etag = StripQuotes(answer->Header("etag"));
  if (auto t = ParseHttpDate(answer->Header("last-modified")); t.ok()) info.last_modified_ns = *t;
  for (const auto& [name, value] : answer->headers) {
    for (std::string_view p : {"x-amz-meta-", "x-goog-meta-"}) {
      if (name.size() > p.size() && name.starts_with(p)) {
        info.metadata[name.substr(p.size())] = value;
      }
    }
  }
  return info;
}

absl::Status S3ObjectStore::GetRanges(std::span<RangeRead> reads, Clock::time_point deadline,
                                      RequestCounters* counters) {
  if (!config_status_.ok()) return Fail(config_status_);
  std::vector<size_t> pending;
  for (size_t i = 0; i < reads.size(); ++i) {
    RangeRead& r = reads[i];
    if (absl::Status s = CheckKey(r.key); !s.ok()) return Fail(s);
    if (r.out == nullptr || r.offset + r.length < r.offset) {
      return Fail(absl::InvalidArgumentError(
          StrCat(describe_, ": GET ", r.key, ": bad range ", r.offset, "+", r.length)));
    }
    if (r.length == 0) {
      r.out->clear();  // nothing to ask for (and "bytes=a-(a-1)" is not a range)
      continue;
    }
    pending.push_back(i);
  }
  const int attempts = std::max(1, options_.retry.max_attempts);
  bool skew_corrected = false;
  for (int attempt = 0; !pending.empty(); ++attempt) {
    std::vector<HttpRequest> requests(pending.size());
    for (size_t j = 0; j < pending.size(); ++j) {
      const RangeRead& rr = reads[pending[j]];
      HttpRequest& req = requests[j];
      req.url = ObjectUrl(rr.key);
      req.headers.emplace_back("range",
                               StrCat("bytes=", rr.offset, "-", rr.offset + rr.length - 1));
      req.max_response_bytes = std::max<uint64_t>(rr.length, kMinRangeAnswerBytes);
      if (absl::Status s = Sign(&req); !s.ok()) return Fail(s);
    }
    std::vector<HttpResponse> responses(requests.size());
    http_->PerformAll(requests, responses, deadline);
    std::vector<size_t> again;
    absl::Status last;
    bool skew_seen = false;
    for (size_t j = 0; j < pending.size(); ++j) {
      RangeRead& rr = reads[pending[j]];
      HttpResponse& resp = responses[j];
      Count(Op::kGet, requests[j], resp);
      if (counters != nullptr) {
        ++counters->requests;
        counters->bytes_in += resp.body.size();
      }
      const std::string where =
          StrCat(describe_, ": GET ", rr.key, " bytes ", rr.offset, "+", rr.length, ": ");
      if (resp.status == 206 || resp.status == 200) {
        // Exactly the bytes asked for, or the answer is not to be trusted.
        const std::string expected_range =
            StrCat("bytes ", rr.offset, "-", rr.offset + rr.length - 1, "/");
        const std::string content_range = resp.Header("content-range");
        const bool range_ok =
            resp.status == 206 ? content_range.starts_with(expected_range) : rr.offset == 0;
        if (!range_ok || resp.body.size() != rr.length) {
          return Fail(absl::DataLossError(StrCat(
              where, "HTTP ", resp.status, " answered ", resp.body.size(), " bytes (",
              content_range.empty() ? "no Content-Range" : "Content-Range " + content_range, ")")));
        }
        *rr.out = std::move(resp.body);
        continue;
      }
      Next next;
      absl::Status s = ErrorFor(resp, StrCat("GET bytes ", rr.offset, "+", rr.length, " of"),
                                rr.key, deadline, &next);
      if (next == Next::kFail || (next == Next::kRetryNow && skew_corrected)) return Fail(s);
      if (next == Next::kRetryNow) skew_seen = true;
      last = s;
      again.push_back(pending[j]);
    }
    pending = std::move(again);
    if (pending.empty()) break;
    if (skew_seen && !skew_corrected) {
      skew_corrected = true;  // one immediate attempt with the corrected clock
    } else {
      if (Clock::now() >= deadline) {
        return Fail(absl::DeadlineExceededError(StrCat(
            ToStd(last.message()), " (the deadline passed after ", attempt + 1, " attempts)")));
      }
      if (attempt + 1 >= attempts) {
        return Fail(absl::Status(
            last.code(), StrCat(ToStd(last.message()), " (after ", attempt + 1, " attempts)")));
      }
      if (!WaitBeforeRetry(attempt + 1, deadline)) {
        return Fail(absl::DeadlineExceededError(
            StrCat(ToStd(last.message()), " (no time left before the deadline for attempt ",
                   attempt + 2, ")")));
      }
    }
    retries_ += pending.size();
    if (counters != nullptr) counters->retries += pending.size();
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> S3ObjectStore::Get(std::string_view key) {
  if (absl::Status s = CheckKey(key); !s.ok()) return Fail(s);
  HttpRequest r;
  r.url = ObjectUrl(key);
  auto answer = Execute(std::move(r), Op::kGet, "GET", key, OpDeadline());
  if (!answer.ok()) return Fail(answer.status());
  if (answer->status != 200) {
    return Fail(absl::DataLossError(
        StrCat(describe_, ": GET ", key, ": HTTP ", answer->status, " instead of 200")));
  }
  return std::move(answer->body);
}

absl::StatusOr<std::vector<ObjectInfo>> S3ObjectStore::List(std::string_view prefix) {
  if (!config_status_.ok()) return Fail(config_status_);
  const std::string base = options_.prefix.empty() ? "" : JoinKey(options_.prefix, "");
  const std::string full_prefix = base + std::string(prefix);
  std::vector<ObjectInfo> out;
  std::string token;
  for (int page = 0;; ++page) {
    if (page >= kMaxListPages) {
      return Fail(absl::DataLossError(StrCat(describe_, ": LIST ", prefix, ": endless listing")));
    }
    std::string query = StrCat("list-type=2&max-keys=", options_.list_page_size,
                               "&prefix=", UriEncode(full_prefix, false));
    if (!token.empty()) StrAppend(&query, "&continuation-token=", UriEncode(token, false));
    HttpRequest r;
    r.url = BucketUrl(query);
    auto answer = Execute(std::move(r), Op::kList, "LIST", prefix, OpDeadline());
    if (!answer.ok()) return Fail(answer.status());
    auto parsed = ParseListObjectsV2(answer->body);
    if (!parsed.ok()) {
      return Fail(absl::DataLossError(
          StrCat(describe_, ": LIST ", prefix, ": ", ToStd(parsed.status().message()))));
    }
    for (ObjectInfo& o : parsed->objects) {
      // Keys outside what was asked for (a server that ignores prefix) are not ours.
      if (!o.key.starts_with(full_prefix)) continue;
      o.key.erase(0, base.size());
      out.push_back(std::move(o));
    }
    if (!parsed->is_truncated) break;
    if (parsed->next_continuation_token == token) {
      return Fail(absl::DataLossError(
          StrCat(describe_, ": LIST ", prefix, ": the continuation token did not advance")));
    }
    token = std::move(parsed->next_continuation_token);
  }
  // The interface promises key order; not every S3-compatible server keeps it.
  std::sort(out.begin(), out.end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

absl::Status S3ObjectStore::Delete(std::string_view key) {
  if (absl::Status s = CheckKey(key); !s.ok()) return Fail(s);
  HttpRequest r;
  r.method = "DELETE";
  r.url = ObjectUrl(key);
  return Fail(Execute(std::move(r), Op::kDelete, "DELETE", key, OpDeadline(), nullptr,
                      /*not_found_ok=*/true)
                  .status());
}

absl::StatusOr<std::vector<PendingUpload>> S3ObjectStore::ListPendingUploads(
    std::string_view prefix) {
  if (!config_status_.ok()) return Fail(config_status_);
  const std::string base = options_.prefix.empty() ? "" : JoinKey(options_.prefix, "");
  const std::string full_prefix = base + std::string(prefix);
  std::vector<PendingUpload> out;
  std::string key_marker, id_marker;
  for (int page = 0;; ++page) {
    if (page >= kMaxListPages) {
      return Fail(absl::DataLossError(
          StrCat(describe_, ": ListMultipartUploads ", prefix, ": endless listing")));
    }
    std::string query = StrCat("max-uploads=", options_.list_page_size,
                               "&prefix=", UriEncode(full_prefix, false), "&uploads");
    if (!key_marker.empty()) StrAppend(&query, "&key-marker=", UriEncode(key_marker, false));
    if (!id_marker.empty()) StrAppend(&query, "&upload-id-marker=", UriEncode(id_marker, false));
    HttpRequest r;
    r.url = BucketUrl(query);
    auto answer = Execute(std::move(r), Op::kList, "ListMultipartUploads", prefix, OpDeadline());
    if (!answer.ok()) return Fail(answer.status());
    auto parsed = ParseListMultipartUploads(answer->body);
    if (!parsed.ok()) {
      return Fail(absl::DataLossError(StrCat(describe_, ": ListMultipartUploads ", prefix, ": ",
                                             ToStd(parsed.status().message()))));
    }
    for (PendingUpload& u : parsed->uploads) {
      if (!u.key.starts_with(full_prefix)) continue;
      u.key.erase(0, base.size());
      out.push_back(std::move(u));
    }
    if (!parsed->is_truncated) break;
    if (parsed->next_key_marker == key_marker && parsed->next_upload_id_marker == id_marker) {
      return Fail(absl::DataLossError(
          StrCat(describe_, ": ListMultipartUploads ", prefix, ": the markers did not advance")));
    }
    key_marker = std::move(parsed->next_key_marker);
    id_marker = std::move(parsed->next_upload_id_marker);
  }
  return out;
}

absl::Status S3ObjectStore::AbortUpload(const PendingUpload& upload) {
  if (absl::Status s = CheckKey(upload.key); !s.ok()) return Fail(s);
  if (upload.upload_id.empty()) {
    return Fail(absl::InvalidArgumentError(
        StrCat(describe_, ": AbortMultipartUpload ", upload.key, ": no upload id")));
  }
  return Fail(AbortMultipart(upload.key, upload.upload_id));
}

ObjectStoreStats S3ObjectStore::stats() const {
  ObjectStoreStats s;
  s.get_requests = get_requests_;
  s.put_requests = put_requests_;
  s.head_requests = head_requests_;
  s.list_requests = list_requests_;
  s.delete_requests = delete_requests_;
  s.other_requests = other_requests_;
  s.bytes_in = bytes_in_;
  s.bytes_out = bytes_out_;
  s.retries = retries_;
  s.failures = failures_;
  return s;
}

}  // namespace timestore::tiering
