// AWS Signature Version 4 (header auth), written over OpenSSL's SHA-256 and
// HMAC-SHA256, for S3 and S3-compatible stores (GCS's XML API with HMAC keys).
// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
//
// The signature covers:
//   CanonicalRequest := Method '\n' CanonicalURI '\n' CanonicalQuery '\n'
//                       CanonicalHeaders '\n' SignedHeaders '\n' PayloadHash
//   CanonicalURI     := the path, each byte outside A-Z a-z 0-9 - . _ ~ and '/'
//                       percent-encoded once (%XX upper-case). The path is
//                       decoded first, so a raw path and the same path already
//                       encoded give one URI: S3 keys are never double-encoded.
//                       Dot segments are kept (S3 does not normalise paths).
//   CanonicalQuery   := name=value pairs, each side decoded and re-encoded as
//                       above ('/' encoded too, '+' taken literally: %2B, space
//                       %20), sorted by encoded name then value, joined by '&';
//                       a parameter without a value keeps its '=' ("uploads=").
//   CanonicalHeaders := for each signed header, sorted by lower-case name:
//                       name ':' value '\n', the value trimmed and runs of
//                       spaces collapsed; a repeated name's values joined by ','.
//   StringToSign     := "AWS4-HMAC-SHA256" '\n' AmzDate '\n' Scope '\n'
//                       hex(SHA256(CanonicalRequest))
//   Scope            := yyyymmdd '/' region '/' service '/' "aws4_request"
//   Signature        := hex(HMAC(HMAC(HMAC(HMAC(HMAC("AWS4" secret, yyyymmdd),
//                       region), service), "aws4_request"), StringToSign))
//
// The payload hash: SignRequest puts the hex SHA-256 of the body in
// x-amz-content-sha256 (S3 then rejects a body altered on the way with
// XAmzContentSHA256Mismatch), or "UNSIGNED-PAYLOAD" when the caller asks for
// it, which is only sound over https (TLS protects the body instead); the S3
// driver signs payloads unless told otherwise (S3Options::sign_payload).
//
// Every function is thread-safe (pure). Secrets never appear in any output
// but the derived signature.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tiering/http_client.h"
#include "tiering/http_util.h"

namespace timestore::tiering {

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty: long-term keys (sent as x-amz-security-token)
};

inline constexpr std::string_view kSigV4Algorithm = "AWS4-HMAC-SHA256";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
// SHA-256 of no bytes: the payload hash of GET, HEAD and DELETE.
inline constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// "20150830T123600Z": `time` in UTC, whole seconds.
std::string AmzDate(std::chrono::system_clock::time_point time);

// Decodes %XX escapes (an invalid escape is kept as is); '+' stays '+'.
std::string PercentDecode(std::string_view s);

// The canonical URI of a URL path ("" is "/"); see the grammar above.
std::string CanonicalUri(std::string_view path);
// The canonical query of a URL query (without '?'); see the grammar above.
std::string CanonicalQuery(std::string_view query);
// A header value trimmed, with runs of spaces and tabs collapsed to one space.
std::string CanonicalHeaderValue(std::string_view value);

// What a canonical request is built from. `path` and `query` are as they
// appear in the request line (encoded or not); header names in any case.
struct SigV4Input {
  std::string method;
  std::string path;
  std::string query;
  std::vector<std::pair<std::string, std::string>> headers;  // the ones to sign
  std::string payload_hash;  // hex SHA-256 of the body, or kUnsignedPayload
};

struct CanonicalRequest {
  std::string text;            // the canonical request itself
  std::string signed_headers;  // "host;x-amz-content-sha256;x-amz-date"
};
CanonicalRequest BuildCanonicalRequest(const SigV4Input& input);

// "20150830/us-east-1/service/aws4_request" for an AmzDate.
std::string CredentialScope(std::string_view amz_date, std::string_view region,
                            std::string_view service);
std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request);
// The derived key (raw bytes) of one day, region and service.
std::string SigningKey(std::string_view secret, std::string_view yyyymmdd, std::string_view region,
                       std::string_view service);
// Lower-case hex signature of `string_to_sign`.
std::string Signature(std::string_view secret, std::string_view amz_date, std::string_view region,
                      std::string_view service, std::string_view string_to_sign);

// The Authorization header value of an already-built canonical request.
std::string AuthorizationHeader(const AwsCredentials& credentials, std::string_view amz_date,
                                std::string_view region, std::string_view service,
                                const CanonicalRequest& canonical);

enum class PayloadSigning {
  kSigned,    // x-amz-content-sha256: hex SHA-256 of the body
  kUnsigned,  // x-amz-content-sha256: UNSIGNED-PAYLOAD (only sound over https)
};

// Signs `request` in place at `time`: sets Host (from the URL: lower-case,
// without a default port, so what curl sends is what was signed),
// x-amz-date, x-amz-content-sha256, x-amz-security-token (when the
// credentials carry a session token) and Authorization, replacing any of
// them already present. Every header of the request is signed except
// Authorization, User-Agent, Expect and Content-Length. InvalidArgument if the
// URL cannot be parsed or the credentials are empty.
absl::Status SignRequest(HttpRequest* request, const AwsCredentials& credentials,
                         std::string_view region, std::string_view service,
                         std::chrono::system_clock::time_point time,
                         PayloadSigning payload = PayloadSigning::kSigned);

// The parts of an absolute URL "scheme://host[:port]/path?query".
struct UrlParts {
  std::string scheme;  // lower-case
  std::string host;    // the Host header: lower-case, port only when not the default
  std::string path;    // "/" when empty
  std::string query;   // without '?'
};
absl::StatusOr<UrlParts> SplitUrl(std::string_view url);

}  // namespace timestore::tiering
