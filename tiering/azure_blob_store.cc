#include "tiering/azure_blob_store.h"

#include <strings.h>

#include <algorithm>
#include <optional>
#include <random>
#include <thread>

#include "common/status_macros.h"
#include "common/strings.h"
#include "tiering/http_util.h"
#include "tiering/xml.h"

namespace timestore::tiering {
namespace {

constexpr uint64_t kMaxBlocks = 50000;  // per blob, by the service
constexpr size_t kMaxKeyBytes = 1024;
constexpr uint64_t kMaxErrorBytes = 64 << 10;  // an <Error> document is ~300 bytes

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::string FirstLine(std::string_view s) {
  s = StripWhitespace(s);
  return std::string(s.substr(0, s.find_first_of("\r\n")));
}

// A fresh 12-hex-digit tag for the block ids of one upload, so that blocks
// staged by another upload of the same blob never mix with ours.
std::string UploadNonce() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* kHex = "0123456789abcdef";
  std::string out(12, '0');
  uint64_t v = rng();
  for (char& c : out) {
    c = kHex[v & 15];
    v >>= 4;
  }
  return out;
}

std::string BlockId(std::string_view nonce, uint64_t index) {
  std::string digits = StrCat(index);
  return Base64Encode(
      StrCat(nonce, "-", std::string(5 - std::min<size_t>(5, digits.size()), '0'), digits));
}

}  // namespace

absl::StatusOr<AzureListPage> ParseListBlobsResponse(std::string_view xml) {
  ASSIGN_OR_RETURN(XmlNode root, ParseXml(xml));
  if (root.name != "EnumerationResults") {
    return absl::InvalidArgumentError(
        StrCat("a List Blobs answer is <EnumerationResults>, not <", root.name, ">"));
  }
  AzureListPage page;
  page.next_marker = root.ChildText("NextMarker");
  const XmlNode* blobs = root.Child("Blobs");
  if (blobs == nullptr) return page;
  for (const XmlNode* b : blobs->Children("Blob")) {
    ObjectInfo info;
    info.key = b->ChildText("Name");
    if (info.key.empty()) return absl::InvalidArgumentError("a listed blob has no <Name>");
    const XmlNode* props = b->Child("Properties");
    if (props == nullptr) {
      return absl::InvalidArgumentError(StrCat("listed blob '", info.key, "' has no <Properties>"));
    }
    if (!ParseInt(props->ChildText("Content-Length"), &info.size)) {
      return absl::InvalidArgumentError(
          StrCat("listed blob '", info.key, "' has no valid <Content-Length>"));
    }
    info.etag = StripQuotes(props->ChildText("Etag"));
    if (auto t = ParseHttpDate(props->ChildText("Last-Modified")); t.ok())
      info.last_modified_ns = *t;
    page.blobs.push_back(std::move(info));
  }
  return page;
}

absl::StatusOr<AzureErrorBody> ParseAzureError(std::string_view xml) {
  ASSIGN_OR_RETURN(XmlNode root, ParseXml(xml));
  if (root.name != "Error") {
    return absl::InvalidArgumentError(StrCat("an error answer is <Error>, not <", root.name, ">"));
  }
  return AzureErrorBody{std::string(StripWhitespace(root.ChildText("Code"))),
                        FirstLine(root.ChildText("Message"))};
}

absl::StatusOr<AzureOptions> ParseAzureConnectionString(std::string_view s) {
  AzureOptions out;
  std::string protocol = "https", suffix = "core.windows.net", blob_endpoint, dev_proxy;
  bool dev = false;
  size_t index = 0;
  while (!s.empty()) {
    const size_t semi = s.find(';');
    std::string_view part = StripWhitespace(s.substr(0, semi));
    s = semi == std::string_view::npos ? std::string_view() : s.substr(semi + 1);
    ++index;
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      return absl::InvalidArgumentError(
          StrCat("Azure connection string: setting ", index, " has no '='"));
    }
    const std::string_view name = StripWhitespace(part.substr(0, eq));
    const std::string value(StripWhitespace(part.substr(eq + 1)));
    if (EqualsIgnoreCase(name, "DefaultEndpointsProtocol")) {
      if (value != "http" && value != "https") {
        return absl::InvalidArgumentError(
            "Azure connection string: DefaultEndpointsProtocol is neither http nor https");
      }
      protocol = value;
    } else if (EqualsIgnoreCase(name, "AccountName")) {
      out.account_name = value;
    } else if (EqualsIgnoreCase(name, "AccountKey")) {
      out.account_key = value;
    } else if (EqualsIgnoreCase(name, "BlobEndpoint")) {
      blob_endpoint = value;
    } else if (EqualsIgnoreCase(name, "EndpointSuffix")) {
      suffix = value;
    } else if (EqualsIgnoreCase(name, "SharedAccessSignature")) {
      out.sas_token = value;
    } else if (EqualsIgnoreCase(name, "UseDevelopmentStorage")) {
      if (!EqualsIgnoreCase(value, "true")) {
        return absl::InvalidArgumentError(
            "Azure connection string: UseDevelopmentStorage is only ever 'true'");
      }
      dev = true;
    } else if (EqualsIgnoreCase(name, "DevelopmentStorageProxyUri")) {
      dev_proxy = value;
    }
    // Other settings (QueueEndpoint, TableEndpoint, ...) concern other services.
  }
  if (dev) {
    // The emulator's well-known account, path-style on port 10000.
    if (out.account_name.empty()) out.account_name = kDevStoreAccount;
    if (out.account_key.empty() && out.sas_token.empty()) out.account_key = kDevStoreKey;
    if (blob_endpoint.empty()) {
      std::string host = dev_proxy.empty() ? "http://127.0.0.1" : dev_proxy;
      while (!host.empty() && host.back() == '/') host.pop_back();
      blob_endpoint = StrCat(host, ":10000/", out.account_name);
    }
  }
  if (blob_endpoint.empty()) {
    if (out.account_name.empty()) {
      return absl::InvalidArgumentError(
          "Azure connection string: neither AccountName nor BlobEndpoint is set");
    }
    blob_endpoint = StrCat(protocol, "://", out.account_name, ".blob.", suffix);
  }
  out.endpoint = blob_endpoint;
  if (out.account_key.empty() && out.sas_token.empty()) {
    return absl::InvalidArgumentError(
        "Azure connection string: neither AccountKey nor SharedAccessSignature is set");
  }
  if (!out.account_key.empty() && !out.sas_token.empty()) {
    return absl::InvalidArgumentError(
        "Azure connection string: both AccountKey and SharedAccessSignature are set");
  }
  if (!out.account_key.empty() && !Base64Decode(out.account_key).ok()) {
    return absl::InvalidArgumentError("Azure connection string: AccountKey is not base64");
  }
  if (!out.sas_token.empty()) {
    auto sas = NormalizeSasToken(out.sas_token);
    if (!sas.ok()) {
      return absl::InvalidArgumentError(StrCat("Azure connection string: SharedAccessSignature: ",
                                               ToStd(sas.status().message())));
    }
    out.sas_token = *sas;
  }
  return out;
}

namespace {

// The endpoint without a trailing '/', and the account it names (the first
// label of the host, or the first path segment of a path-style endpoint).
absl::Status ResolveEndpoint(const AzureOptions& o, std::string* endpoint, std::string* account) {
  *account = o.account_name;
  if (o.endpoint.empty()) {
    if (o.account_name.empty()) {
      return absl::InvalidArgumentError("Azure: neither an endpoint nor an account name is set");
    }
    *endpoint = StrCat("https://", o.account_name, ".blob.core.windows.net");
    return absl::OkStatus();
  }
  std::string_view e = o.endpoint;
  while (!e.empty() && e.back() == '/') e.remove_suffix(1);
  std::string_view rest = e;
  if (!ConsumePrefix(&rest, "http://") && !ConsumePrefix(&rest, "https://")) {
    return absl::InvalidArgumentError(
        StrCat("Azure endpoint '", RedactSas(e), "' is not an http:// or https:// URL"));
  }
  if (rest.empty() || e.find_first_of("?#") != std::string_view::npos) {
    return absl::InvalidArgumentError(
        StrCat("Azure endpoint '", RedactSas(e), "' must be scheme://host[:port][/path] only"));
  }
  *endpoint = std::string(e);
  if (account->empty()) {
    const size_t slash = rest.find('/');
    if (slash != std::string_view::npos) {
      std::string_view path = rest.substr(slash + 1);
      *account = std::string(path.substr(0, path.find('/')));
    } else {
      *account = std::string(rest.substr(0, rest.find_first_of(".:")));
    }
  }
  if (account->empty()) return absl::InvalidArgumentError("Azure: the account name is empty");
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateAzureOptions(const AzureOptions& o) {
  std::string endpoint, account;
  RETURN_IF_ERROR(ResolveEndpoint(o, &endpoint, &account));
  if (o.container.empty() || o.container.find_first_of("/?#% ") != std::string::npos) {
    return absl::InvalidArgumentError(
        StrCat("Azure: container name '", o.container, "' is empty or not a name"));
  }
  if (o.account_key.empty() == o.sas_token.empty()) {
    return absl::InvalidArgumentError(
        StrCat("Azure account '", account, "': set exactly one of an account key and a SAS token"));
  }
  if (!o.account_key.empty()) {
    RETURN_IF_ERROR(SharedKeyCredential::Create(account, o.account_key).status());
  }
  if (!o.sas_token.empty()) RETURN_IF_ERROR(NormalizeSasToken(o.sas_token).status());
  if (o.block_size == 0 || o.upload_parallelism < 1 || o.max_connections < 1 ||
      o.list_max_results < 1 || o.list_max_results > 5000 || o.request_timeout.count() <= 0 ||
      o.retry.max_attempts < 1) {
    return absl::InvalidArgumentError(
        "Azure: block_size, upload_parallelism, max_connections, request_timeout and "
        "retry.max_attempts must be positive, list_max_results within 1..5000");
  }
  return absl::OkStatus();
}

AzureBlobStore::AzureBlobStore(AzureOptions options, std::shared_ptr<HttpClient> http)
    : options_(std::move(options)), http_(std::move(http)) {
  init_status_ = ValidateAzureOptions(options_);
  prefix_ = options_.prefix;
  while (!prefix_.empty() && prefix_.front() == '/') prefix_.erase(0, 1);
  while (!prefix_.empty() && prefix_.back() == '/') prefix_.pop_back();
  if (init_status_.ok()) init_status_ = ResolveEndpoint(options_, &endpoint_, &account_);
  describe_ = StrCat("azure://", account_.empty() ? options_.account_name : account_, "/",
                     options_.container, prefix_.empty() ? "" : "/", prefix_);
  if (init_status_.ok()) {
    if (!options_.account_key.empty()) {
      auto c = SharedKeyCredential::Create(account_, options_.account_key);
      credential_ = std::make_unique<SharedKeyCredential>(*std::move(c));
    } else {
      sas_token_ = *NormalizeSasToken(options_.sas_token);
    }
  }
  if (http_ == nullptr) {
    HttpClientOptions h;
    h.max_connections = std::max(1, options_.max_connections);
    http_ = std::make_shared<HttpClient>(h);
  }
}

absl::StatusOr<std::unique_ptr<AzureBlobStore>> AzureBlobStore::Create(
    AzureOptions options, std::shared_ptr<HttpClient> http) {
  RETURN_IF_ERROR(ValidateAzureOptions(options));
  return std::make_unique<AzureBlobStore>(std::move(options), std::move(http));
}

std::string AzureBlobStore::BlobUrl(std::string_view key, std::string_view query) const {
  return AppendQuery(StrCat(endpoint_, "/", UriEncode(options_.container, false), "/",
                            UriEncode(JoinKey(prefix_, key), true)),
                     query);
}

std::string AzureBlobStore::ContainerUrl(std::string_view query) const {
  return AppendQuery(StrCat(endpoint_, "/", UriEncode(options_.container, false)), query);
}

void AzureBlobStore::Authorize(HttpRequest* request) const {
  if (credential_ != nullptr) {
    credential_->SignRequest(request);
    return;
  }
  request->url = AppendQuery(request->url, sas_token_);
  request->headers.emplace_back("x-ms-date", FormatHttpDate(std::chrono::system_clock::now()));
  request->headers.emplace_back("x-ms-version", kAzureApiVersion);
}

absl::Status AzureBlobStore::CheckKey(std::string_view key) const {
  const std::string full = JoinKey(prefix_, key);
  if (key.empty() || full.size() > kMaxKeyBytes) {
    return absl::InvalidArgumentError(
        StrCat(describe_, "/", key, ": a key is 1 to ", kMaxKeyBytes, " bytes with the prefix"));
  }
  for (unsigned char c : key) {
    if (c < 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError(StrCat(
          describe_, ": a key holds no control characters (byte ", static_cast<int>(c), ")"));
    }
  }
  for (std::string_view rest = key; true;) {
    const size_t slash = rest.find('/');
    const std::string_view seg = rest.substr(0, slash);
    if (seg == "." || seg == "..") {
      return absl::InvalidArgumentError(
          StrCat(describe_, "/", key, ": \".\" and \"..\" are not allowed as key segments"));
    }
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  return absl::OkStatus();
}

absl::Status AzureBlobStore::AddMetadata(const PutOptions& options, HttpRequest* request) const {
  for (const auto& [name, value] : options.metadata) {
    bool ok = !name.empty() && !(name[0] >= '0' && name[0] <= '9');
    for (char c : name) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
    if (!ok) {
      return absl::InvalidArgumentError(
          StrCat(describe_, ": metadata name '", name,
                 "' is not [a-z0-9-]+ starting with a letter or '-' (Azure wants C# identifiers)"));
    }
    bool value_ok = !value.empty() && value.front() != ' ' && value.back() != ' ';
    for (unsigned char c : value) value_ok = value_ok && c >= 0x20 && c < 0x7f;
    if (!value_ok) {
      return absl::InvalidArgumentError(
          StrCat(describe_, ": the value of metadata '", name,
                 "' must be non-empty printable ASCII without surrounding spaces"));
    }
    std::string header = StrCat("x-ms-meta-", name);
    std::replace(header.begin() + 10, header.end(), '-', '_');
    request->headers.emplace_back(std::move(header), value);
  }
  return absl::OkStatus();
}

absl::Status AzureBlobStore::Fail(absl::Status status) {
  if (!status.ok()) {
    std::lock_guard<std::mutex> l(mu_);
    ++stats_.failures;
  }
  return status;
}

absl::Status AzureBlobStore::Classify(const Call& call, bool caller_deadline) const {
  const HttpResponse& r = call.response;
  if (r.status == 0) {
    if (r.too_large) {
      return absl::DataLossError(StrCat(call.key, ": ", call.op, " answered more than ",
                                        call.request.max_response_bytes, " bytes"));
    }
    if (r.timed_out) {
      if (caller_deadline) {
        return absl::DeadlineExceededError(
            StrCat(call.key, ": ", call.op, " had no answer from ", endpoint_, " by the deadline"));
      }
      return absl::DeadlineExceededError(StrCat(call.key, ": ", call.op, " had no answer from ",
                                                endpoint_, " within ",
                                                options_.request_timeout.count(), " ms"));
    }
    return absl::UnavailableError(
        StrCat(call.key, ": ", call.op, " could not reach ", endpoint_, ": ", RedactSas(r.error)));
  }
  if (std::find(call.ok.begin(), call.ok.end(), r.status) != call.ok.end()) return absl::OkStatus();
  std::string code = r.Header("x-ms-error-code");
  std::string message;
  if (auto e = ParseAzureError(r.body); e.ok()) {
    if (code.empty()) code = e->code;
    message = e->message;
  }
  const std::string text =
      RedactSas(StrCat(call.key, ": ", call.op, " answered HTTP ", r.status,
                       code.empty() ? "" : " ", code, message.empty() ? "" : ": ", message));
  const long s = r.status;
  if (s == 404) return absl::NotFoundError(text);
  if (s == 401 || s == 403) return absl::PermissionDeniedError(text);
  if (s == 408 || s == 429 || s >= 500) return absl::UnavailableError(text);
  if (s == 409 || s == 412) return absl::FailedPreconditionError(text);
  if (s >= 400) return absl::InvalidArgumentError(text);
  return absl::FailedPreconditionError(StrCat(text, " (unexpected)"));
}

absl::Status AzureBlobStore::Run(Kind kind, std::span<Call> calls, Clock::time_point deadline,
                                 RequestCounters* counters) {
  std::vector<size_t> pending(calls.size());
  for (size_t i = 0; i < calls.size(); ++i) pending[i] = i;
  std::vector<bool> caller_deadline_hit(calls.size(), false);
  std::optional<size_t> first_failure;
  for (int attempt = 0; !pending.empty(); ++attempt) {
    if (attempt > 0) {
      const auto wait = Backoff(options_.retry, attempt);
      if (Clock::now() + wait >= deadline) {
        for (size_t i : pending) {
          calls[i].status = absl::DeadlineExceededError(
              StrCat(ToStd(calls[i].status.message()), "; the deadline passed before attempt ",
                     attempt + 1));
          caller_deadline_hit[i] = true;
          if (!first_failure || i < *first_failure) first_failure = i;
        }
        break;
      }
      std::this_thread::sleep_for(wait);
    }
    const Clock::time_point now = Clock::now();
    const bool caller_deadline = deadline - now <= options_.request_timeout;
    const Clock::time_point attempt_deadline =
        caller_deadline ? deadline : now + options_.request_timeout;
    std::vector<HttpRequest> requests(pending.size());
    uint64_t out_bytes = 0;
    for (size_t k = 0; k < pending.size(); ++k) {
      // Signed afresh each attempt; the body moves there and back, never copied.
      HttpRequest& unsigned_request = calls[pending[k]].request;
      HttpRequest& r = requests[k];
      r.method = unsigned_request.method;
      r.url = unsigned_request.url;
      r.headers = unsigned_request.headers;
      r.body = std::move(unsigned_request.body);
      r.max_response_bytes = unsigned_request.max_response_bytes;
      Authorize(&r);
      out_bytes += r.body.size();
    }
    std::vector<HttpResponse> responses(pending.size());
    http_->PerformAll(requests, responses, attempt_deadline);

    uint64_t in_bytes = 0;
    std::vector<size_t> again;
    bool failed = false;
    for (size_t k = 0; k < pending.size(); ++k) {
      Call& c = calls[pending[k]];
      c.request.body = std::move(requests[k].body);
      c.response = std::move(responses[k]);
      in_bytes += c.response.body.size();
      c.status = Classify(c, caller_deadline);
      if (c.status.ok()) continue;
      const bool out_of_time = c.response.timed_out && caller_deadline;
      if (IsRetryable(c.status) && !out_of_time && attempt + 1 < options_.retry.max_attempts) {
        again.push_back(pending[k]);
        continue;
      }
      caller_deadline_hit[pending[k]] = out_of_time;
      failed = true;
      if (!first_failure || pending[k] < *first_failure) first_failure = pending[k];
    }
    {
      std::lock_guard<std::mutex> l(mu_);
      const uint64_t n = pending.size();
      switch (kind) {
        case Kind::kGet:
          stats_.get_requests += n;
          break;
        case Kind::kPut:
          stats_.put_requests += n;
          break;
        case Kind::kHead:
          stats_.head_requests += n;
          break;
        case Kind::kList:
          stats_.list_requests += n;
          break;
        case Kind::kDelete:
          stats_.delete_requests += n;
          break;
        case Kind::kOther:
          stats_.other_requests += n;
          break;
      }
      stats_.bytes_in += in_bytes;
      stats_.bytes_out += out_bytes;
      if (attempt > 0) stats_.retries += n;
    }
    if (counters != nullptr) {
      counters->requests += pending.size();
      counters->bytes_in += in_bytes;
      counters->bytes_out += out_bytes;
      if (attempt > 0) counters->retries += pending.size();
    }
    if (failed) break;  // the others are abandoned
    pending = std::move(again);
  }
  if (!first_failure) return absl::OkStatus();
  const Call& c = calls[*first_failure];
  // A retryable failure that outlived its attempts is Unavailable; only the
  // caller's deadline makes DeadlineExceeded.
  if (IsRetryable(c.status) && !caller_deadline_hit[*first_failure] &&
      !absl::IsUnavailable(c.status)) {
    return absl::UnavailableError(c.status.message());
  }
  return c.status;
}

absl::Status AzureBlobStore::RunOne(Kind kind, Call* call) {
  return Run(kind, std::span<Call>(call, 1), Clock::time_point::max(), nullptr);
}

absl::Status AzureBlobStore::CreateContainer() {
  if (!init_status_.ok()) return Fail(init_status_);
  Call c(describe_, "Create Container", "PUT", ContainerUrl("restype=container"), {201, 409});
  absl::Status s = RunOne(Kind::kOther, &c);
  if (s.ok() && c.response.status == 409) {
    std::string code = c.response.Header("x-ms-error-code");
    if (code.empty()) {
      if (auto e = ParseAzureError(c.response.body); e.ok()) code = e->code;
    }
    if (code != "ContainerAlreadyExists") {
      c.ok = {201};
      s = Classify(c, false);
    }
  }
  return Fail(s);
}

absl::Status AzureBlobStore::Put(std::string_view key, std::string_view data,
                                 const PutOptions& options) {
  if (!init_status_.ok()) return Fail(init_status_);
  RETURN_IF_ERROR(Fail(CheckKey(key)));
  Call c(StrCat(describe_, "/", key), "Put Blob", "PUT", BlobUrl(key), {201});
  c.request.headers.emplace_back("x-ms-blob-type", "BlockBlob");
  RETURN_IF_ERROR(Fail(AddMetadata(options, &c.request)));
  c.request.body.assign(data);
  // Azure checks the body against it: a transfer that went wrong is refused.
  c.request.headers.emplace_back("Content-MD5", Base64Encode(Md5(c.request.body)));
  return Fail(RunOne(Kind::kPut, &c));
}

absl::Status AzureBlobStore::PutFile(std::string_view key, Env* env, const std::string& path,
                                     const PutOptions& options) {
  if (!init_status_.ok()) return Fail(init_status_);
  RETURN_IF_ERROR(Fail(CheckKey(key)));
  auto file = env->NewRandomAccessFile(path);
  if (!file.ok()) return Fail(file.status());
  const uint64_t size = (*file)->Size();
  if (size <= options_.block_threshold) {
    std::string data;
    RETURN_IF_ERROR(Fail((*file)->ReadAt(0, size, &data)));
    return Put(key, data, options);
  }
  return Fail(PutBlocks(key, file->get(), size, options));
}

absl::Status AzureBlobStore::PutBlocks(std::string_view key, RandomAccessFile* file, uint64_t size,
                                       const PutOptions& options) {
  Call commit(StrCat(describe_, "/", key), "Put Block List", "PUT", BlobUrl(key, "comp=blocklist"),
              {201});
  RETURN_IF_ERROR(AddMetadata(options, &commit.request));
  const uint64_t block = std::max(options_.block_size, (size + kMaxBlocks - 1) / kMaxBlocks);
  const uint64_t blocks = (size + block - 1) / block;
  const std::string nonce = UploadNonce();
  const std::string where = StrCat(describe_, "/", key);
  const uint64_t window = static_cast<uint64_t>(options_.upload_parallelism);
  std::string list = R"(<?xml version="1.0" encoding="utf-8"?><BlockList>)";
  for (uint64_t first = 0; first < blocks; first += window) {
    std::vector<Call> calls;
    for (uint64_t i = first; i < std::min(blocks, first + window); ++i) {
      const std::string id = BlockId(nonce, i);
      StrAppend(&list, "<Latest>", id, "</Latest>");
      Call c(where, StrCat("Put Block ", i, " of ", blocks), "PUT",
             BlobUrl(key, StrCat("comp=block&blockid=", UriEncode(id, false))), {201});
      const uint64_t offset = i * block;
      RETURN_IF_ERROR(file->ReadAt(offset, std::min(block, size - offset), &c.request.body));
      c.request.headers.emplace_back("Content-MD5", Base64Encode(Md5(c.request.body)));
      calls.push_back(std::move(c));
    }
    // Nothing is committed when a block fails: staged blocks expire unseen.
    RETURN_IF_ERROR(Run(Kind::kPut, calls, Clock::time_point::max(), nullptr));
  }
  list += "</BlockList>";
  commit.request.body = std::move(list);
  return RunOne(Kind::kPut, &commit);
}

absl::StatusOr<ObjectInfo> AzureBlobStore::Head(std::string_view key) {
  if (!init_status_.ok()) return Fail(init_status_);
  RETURN_IF_ERROR(Fail(CheckKey(key)));
  Call c(StrCat(describe_, "/", key), "Get Blob Properties", "HEAD", BlobUrl(key), {200});
  RETURN_IF_ERROR(Fail(RunOne(Kind::kHead, &c)));
  const HttpResponse& r = c.response;
  ObjectInfo info;
  info.key = std::string(key);
  if (!ParseInt(r.Header("content-length"), &info.size)) {
    return Fail(absl::DataLossError(
        StrCat(c.key, ": Get Blob Properties answered without a valid Content-Length")));
  }
  info.etag = StripQuotes(r.Header("etag"));
  if (auto t = ParseHttpDate(r.Header("last-modified")); t.ok()) info.last_modified_ns = *t;
  for (const auto& [name, value] : r.headers) {
    std::string_view n = name;
    if (!ConsumePrefix(&n, "x-ms-meta-")) continue;
    std::string m(n);
    std::replace(m.begin(), m.end(), '_', '-');
    info.metadata[m] = value;
  }
  return info;
}

absl::Status AzureBlobStore::GetRanges(std::span<RangeRead> reads, Clock::time_point deadline,
                                       RequestCounters* counters) {
  if (!init_status_.ok()) return Fail(init_status_);
  std::vector<Call> calls;
  std::vector<RangeRead*> targets;
  for (RangeRead& r : reads) {
    RETURN_IF_ERROR(Fail(CheckKey(r.key)));
    if (r.out == nullptr) {
      return Fail(absl::InvalidArgumentError(StrCat(describe_, "/", r.key, ": no output buffer")));
    }
    if (r.length == 0) {
      r.out->clear();
      continue;
    }
    Call c(StrCat(describe_, "/", r.key), StrCat("Get Blob ", r.offset, "+", r.length), "GET",
           BlobUrl(r.key), {200, 206});
    c.request.headers.emplace_back("x-ms-range",
                                   StrCat("bytes=", r.offset, "-", r.offset + r.length - 1));
    // Room for an error document too (larger than a small range): a longer
    // answer is caught below, and one past this bound is cut off as DataLoss.
    c.request.max_response_bytes = r.length + kMaxErrorBytes;
    calls.push_back(std::move(c));
    targets.push_back(&r);
  }
  RETURN_IF_ERROR(Fail(Run(Kind::kGet, calls, deadline, counters)));
  for (size_t i = 0; i < calls.size(); ++i) {
    RangeRead& r = *targets[i];
    HttpResponse& resp = calls[i].response;
    // "bytes <first>-<last>/<size>": the range must start where we asked.
    std::string_view range = resp.headers["content-range"];
    const bool start_ok =
        ConsumePrefix(&range, "bytes ") && range.substr(0, range.find('-')) == StrCat(r.offset);
    // A 200 is the whole blob: the range was ignored.
    if (resp.status != 206 || resp.body.size() != r.length || !start_ok) {
      return Fail(absl::DataLossError(
          StrCat(calls[i].key, ": ", calls[i].op, " answered HTTP ", resp.status, " with ",
                 resp.body.size(), " bytes, Content-Range '", resp.Header("content-range"), "'")));
    }
    *r.out = std::move(resp.body);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> AzureBlobStore::Get(std::string_view key) {
  if (!init_status_.ok()) return Fail(init_status_);
  RETURN_IF_ERROR(Fail(CheckKey(key)));
  Call c(StrCat(describe_, "/", key), "Get Blob", "GET", BlobUrl(key), {200});
  RETURN_IF_ERROR(Fail(RunOne(Kind::kGet, &c)));
  return std::move(c.response.body);
}

absl::StatusOr<std::vector<ObjectInfo>> AzureBlobStore::List(std::string_view prefix) {
  if (!init_status_.ok()) return Fail(init_status_);
  const std::string full = JoinKey(prefix_, prefix);
  // Names come back whole; the store's own prefix (and its '/') is cut off.
  const size_t cut = prefix_.empty() ? 0 : prefix_.size() + 1;
  std::vector<ObjectInfo> out;
  std::string marker;
  do {
    std::string query = "restype=container&comp=list";
    if (!full.empty()) StrAppend(&query, "&prefix=", UriEncode(full, false));
    if (!marker.empty()) StrAppend(&query, "&marker=", UriEncode(marker, false));
    StrAppend(&query, "&maxresults=", options_.list_max_results);
    Call c(StrCat(describe_, " prefix '", prefix, "'"), "List Blobs", "GET", ContainerUrl(query),
           {200});
    c.request.max_response_bytes = kMaxXmlBytes;
    RETURN_IF_ERROR(Fail(RunOne(Kind::kList, &c)));
    auto page = ParseListBlobsResponse(c.response.body);
    if (!page.ok()) {
      return Fail(absl::Status(page.status().code(),
                               StrCat(c.key, ": List Blobs: ", ToStd(page.status().message()))));
    }
    for (ObjectInfo& info : page->blobs) {
      if (!std::string_view(info.key).starts_with(full)) {
        return Fail(absl::DataLossError(
            StrCat(c.key, ": List Blobs answered '", info.key, "', outside the prefix")));
      }
      info.key.erase(0, cut);
      out.push_back(std::move(info));
    }
    if (page->next_marker == marker && !marker.empty()) {
      return Fail(absl::DataLossError(StrCat(c.key, ": List Blobs repeats marker '", marker, "'")));
    }
    marker = std::move(page->next_marker);
  } while (!marker.empty());
  // The service sorts by UTF-16 code unit (Azure) or JavaScript string order
  // (azurite); the interface promises bytewise key order.
  std::sort(out.begin(), out.end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

absl::Status AzureBlobStore::Delete(std::string_view key) {
  if (!init_status_.ok()) return Fail(init_status_);
  RETURN_IF_ERROR(Fail(CheckKey(key)));
  Call c(StrCat(describe_, "/", key), "Delete Blob", "DELETE", BlobUrl(key), {202, 404});
  return Fail(RunOne(Kind::kDelete, &c));
}

ObjectStoreStats AzureBlobStore::stats() const {
  std::lock_guard<std::mutex> l(mu_);
  return stats_;
}

}  // namespace timestore::tiering
