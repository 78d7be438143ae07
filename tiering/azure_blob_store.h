// AzureBlobStore: an ObjectStore on Azure Blob Storage (block blobs) over the
// REST API, authorized with Shared Key or a SAS token (tiering/azure_auth.h).
// Tested against Microsoft's emulator, azurite, which verifies both.
//
// Requests, all with x-ms-version kAzureApiVersion:
//   Put        Put Blob (x-ms-blob-type: BlockBlob), metadata as x-ms-meta-*
//   PutFile    Put Blob up to block_threshold bytes; above it Put Block for
//              every block_size bytes (upload_parallelism at a time, each
//              block id the base64 of "<12 random hex>-<5-digit index>", all of
//              one length), then Put Block List, which alone makes the blob
//              visible. When any block fails nothing is committed: the staged
//              blocks are garbage-collected by Azure after 7 days and cost
//              nothing visible meanwhile, so ListPendingUploads lists none.
//   Head       Get Blob Properties (size, ETag without quotes, Last-Modified,
//              x-ms-meta-*)
//   GetRanges  Get Blob with x-ms-range, every range concurrently through
//              HttpClient::PerformAll; an answer other than 206 with exactly
//              the bytes asked for is DataLoss; a zero-length read sends nothing
//   Get        Get Blob
//   List       List Blobs (prefix, maxresults, marker) page by page
//   Delete     Delete Blob; 202 and any 404 (a missing container too) are success
//
// Errors follow object_store.h. The service's code (x-ms-error-code, or
// <Error><Code> in the body) decides: BlobNotFound / ContainerNotFound /
// any 404 -> NotFound; 401/403 (AuthenticationFailed, AuthorizationFailure,
// ...) -> PermissionDenied; 409/412 -> FailedPrecondition; 429, 408 and 5xx
// (ServerBusy, OperationTimedOut, InternalError) and transport errors are
// retried with Backoff() and then reported as Unavailable; other 4xx are
// InvalidArgument and never retried. Every message names Describe(), the key,
// and the HTTP status and code; no message holds the account key or a SAS
// signature.
//
// Metadata names: Azure requires C# identifiers, so the [a-z0-9-] names of
// PutOptions are sent with '-' as '_' and read back with '_' as '-'; a name
// starting with a digit, or a value that is not printable ASCII without
// surrounding spaces, is InvalidArgument before anything is sent.
//
// Keys: at most 1024 bytes with the prefix, no control characters, no "." or
// ".." path segments (HTTP clients fold them); anything else is percent-encoded.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "tiering/azure_auth.h"
#include "tiering/http_client.h"
#include "tiering/object_store.h"

namespace timestore::tiering {

// The emulator's well-known development account (documented by Microsoft;
// not a secret).
inline constexpr char kDevStoreAccount[] = "devstoreaccount1";
inline constexpr char kDevStoreKey[] =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

struct AzureOptions {
  // "https://<account>.blob.core.windows.net" or, path-style as for the
  // emulator, "http://127.0.0.1:10000/devstoreaccount1"; empty: derived from
  // account_name.
  std::string endpoint;
  std::string account_name;
  std::string account_key;  // base64 (Shared Key); empty when a SAS token is used
  std::string sas_token;    // with or without the leading '?'
  std::string container;
  std::string prefix;                      // keys are relative to it
  uint64_t block_threshold = 64ull << 20;  // PutFile above this: Put Block + Put Block List
  uint64_t block_size = 16ull << 20;       // raised so that no blob has over 50,000 blocks
  int upload_parallelism = 4;              // Put Block requests in flight per PutFile
  int max_connections = 16;                // of the HttpClient made when none is given
  int list_max_results = 5000;             // maxresults of one List Blobs page (1..5000)
  std::chrono::milliseconds request_timeout{30000};  // one HTTP request, one attempt
  RetryPolicy retry;
};

// Parses an Azure Storage connection string:
//   "DefaultEndpointsProtocol=http;AccountName=...;AccountKey=...;BlobEndpoint=...;"
//   "BlobEndpoint=https://...;SharedAccessSignature=sv=...&sig=..."
//   "UseDevelopmentStorage=true[;DevelopmentStorageProxyUri=http://host]" (azurite
//   on 127.0.0.1:10000 with its well-known account)
// EndpointSuffix (default core.windows.net) is honoured. container and prefix
// stay empty. InvalidArgument naming the setting at fault, never its value.
absl::StatusOr<AzureOptions> ParseAzureConnectionString(std::string_view s);

// OK when `options` can make a store: a container, an account (or an
// endpoint to derive it from) and exactly one of account_key and sas_token.
absl::Status ValidateAzureOptions(const AzureOptions& options);

// One page of a List Blobs answer. Names are full blob names, as sent.
struct AzureListPage {
  std::vector<ObjectInfo> blobs;  // key, size, etag, last_modified_ns
  std::string next_marker;        // empty on the last page
};
// Parses <EnumerationResults>; InvalidArgument on anything else. A name the
// service percent-encoded (<Name Encoded="true">, only for characters XML 1.0
// cannot carry, which keys may not hold) is returned as sent: the XML DOM
// keeps no attributes.
absl::StatusOr<AzureListPage> ParseListBlobsResponse(std::string_view xml);

struct AzureErrorBody {
  std::string code;     // "BlobNotFound"
  std::string message;  // the first line of <Message>
};
// Parses <Error><Code>..</Code><Message>..</Message></Error>.
absl::StatusOr<AzureErrorBody> ParseAzureError(std::string_view xml);

class AzureBlobStore : public ObjectStore {
 public:
  // With invalid options (see ValidateAzureOptions) every call fails with
  // that InvalidArgument; Create reports it up front. Without `http` the store
  // makes its own client of options.max_connections.
  explicit AzureBlobStore(AzureOptions options, std::shared_ptr<HttpClient> http = nullptr);
  static absl::StatusOr<std::unique_ptr<AzureBlobStore>> Create(
      AzureOptions options, std::shared_ptr<HttpClient> http = nullptr);

  // Creates the container (Create Container); OK when it exists already.
  absl::Status CreateContainer();

  // "azure://account/container/prefix" (no trailing '/' without a prefix).
  const std::string& Describe() const override { return describe_; }
  // The endpoint requests go to, e.g. "http://127.0.0.1:10000/devstoreaccount1".
  const std::string& endpoint() const { return endpoint_; }

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
  ObjectStoreStats stats() const override;

 private:
  enum class Kind { kGet, kPut, kHead, kList, kDelete, kOther };
  // One request of a batch, retried on its own.
  struct Call {
    Call(std::string where, std::string operation, std::string method, std::string url,
         std::vector<long> ok_statuses)
        : key(std::move(where)), op(std::move(operation)), ok(std::move(ok_statuses)) {
      request.method = std::move(method);
      request.url = std::move(url);
    }
    std::string key;        // for messages (relative)
    std::string op;         // "Put Blob", for messages
    HttpRequest request;    // unsigned; signed again for every attempt
    std::vector<long> ok;   // the statuses that mean success
    HttpResponse response;  // the last answer
    absl::Status status;    // the outcome
  };

  // Runs every call concurrently, retrying each retryable failure with
  // Backoff() until it succeeds, fails for good, runs out of attempts or would
  // pass `deadline` (then DeadlineExceeded). Stops at the first call that
  // fails for good. Returns the first failure in call order.
  absl::Status Run(Kind kind, std::span<Call> calls, Clock::time_point deadline,
                   RequestCounters* counters);
  absl::Status RunOne(Kind kind, Call* call);
  // The status for a failed answer (or OK when its status is in `call.ok`).
  absl::Status Classify(const Call& call, bool caller_deadline) const;
  absl::Status CheckKey(std::string_view key) const;
  absl::Status Fail(absl::Status status);  // counts a failed call

  std::string BlobUrl(std::string_view key, std::string_view query = {}) const;
  std::string ContainerUrl(std::string_view query) const;
  void Authorize(HttpRequest* request) const;
  absl::Status AddMetadata(const PutOptions& options, HttpRequest* request) const;
  absl::Status PutBlocks(std::string_view key, RandomAccessFile* file, uint64_t size,
                         const PutOptions& options);

  const AzureOptions options_;
  absl::Status init_status_;
  std::string prefix_;  // without leading or trailing '/'
  std::string endpoint_;
  std::string account_;
  std::string sas_token_;
  std::unique_ptr<SharedKeyCredential> credential_;  // null with a SAS token
  std::string describe_;
  std::shared_ptr<HttpClient> http_;

  mutable std::mutex mu_;
  ObjectStoreStats stats_;  // guarded by mu_
};

}  // namespace timestore::tiering
