// Authorization for Azure Blob Storage: Shared Key signing of requests and
// shared access signatures (SAS), as documented in "Authorize with Shared
// Key", "Create a service SAS" and "Create an account SAS"
// (learn.microsoft.com/rest/api/storageservices).
//
// Shared Key, for the Blob service from version 2009-09-19 on:
//
//   StringToSign := VERB "\n" Content-Encoding "\n" Content-Language "\n"
//                   Content-Length "\n"            ("" when 0, from 2015-02-21)
//                   Content-MD5 "\n" Content-Type "\n" Date "\n"
//                   If-Modified-Since "\n" If-Match "\n" If-None-Match "\n"
//                   If-Unmodified-Since "\n" Range "\n"
//                   CanonicalizedHeaders CanonicalizedResource
//   CanonicalizedHeaders  := { name ":" value "\n" } for every x-ms-* header,
//                   names lower-case, sorted bytewise, values trimmed
//   CanonicalizedResource := "/" account url-path      (as sent, still encoded)
//                   { "\n" name ":" value[,value...] } for every query
//                   parameter, names lower-case and sorted, values decoded
//   Authorization := "SharedKey " account ":" Base64(HMAC-SHA256(key, StringToSign))
//
// With a path-style endpoint (the emulator: http://127.0.0.1:10000/devstoreaccount1)
// the account appears twice: "/devstoreaccount1/devstoreaccount1/container/blob".
//
// A SAS is a query string ("sv=...&sp=...&sig=...") appended to every URL;
// requests carrying one are not signed. The token is a secret: print URLs
// only through RedactSas.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "tiering/http_client.h"
#include "tiering/http_util.h"

namespace timestore::tiering {

// The x-ms-version sent with every request, and the signed version (sv) of
// the SASes made here. Azurite 3.37 accepts it without --skipApiVersionCheck.
inline constexpr char kAzureApiVersion[] = "2021-08-06";

// ISO 8601 in UTC to the second, as SAS start and expiry: "2030-01-01T00:00:00Z".
std::string FormatSasTime(std::chrono::system_clock::time_point t);

// Decodes %XX escapes ('+' stays '+'); InvalidArgument on a broken escape.
absl::StatusOr<std::string> UriDecode(std::string_view s);

// The Shared Key string to sign of `request` for `account`. Content-Length is
// the one HttpClient sends: body.size() for PUT and POST or any request with a
// body (empty when 0), else none, unless the request sets the header itself.
// x-ms-date and x-ms-version must already be among the headers.
std::string SharedKeyStringToSign(std::string_view account, const HttpRequest& request);

// An account name and its key. Immutable; thread-safe.
class SharedKeyCredential {
 public:
  // `base64_key` as the portal and connection strings show it; InvalidArgument
  // (not naming the key) when it is not base64.
  static absl::StatusOr<SharedKeyCredential> Create(std::string account,
                                                    std::string_view base64_key);

  const std::string& account() const { return account_; }
  // Base64(HMAC-SHA256(key, string_to_sign)).
  std::string Sign(std::string_view string_to_sign) const;
  // Sets x-ms-date to `now`, x-ms-version to kAzureApiVersion unless present,
  // and Authorization, replacing any from an earlier attempt.
  void SignRequest(HttpRequest* request, std::chrono::system_clock::time_point now =
                                             std::chrono::system_clock::now()) const;

 private:
  SharedKeyCredential(std::string account, std::string key)
      : account_(std::move(account)), key_(std::move(key)) {}
  std::string account_;
  std::string key_;  // decoded
};

// A SAS token as users paste it: surrounding whitespace and one leading '?'
// are dropped. InvalidArgument when it is empty or has no "sig=" parameter
// (the message never quotes the token).
absl::StatusOr<std::string> NormalizeSasToken(std::string_view token);
// `url` with `query` ("a=1&b=2", no '?') appended after '?' or '&'.
std::string AppendQuery(std::string_view url, std::string_view query);
// `text` (a URL, token or message) with the value of every sig= parameter
// replaced by "REDACTED".
std::string RedactSas(std::string_view text);

// An account SAS (version 2020-12-06 and later string to sign):
//   account "\n" sp "\n" ss "\n" srt "\n" st "\n" se "\n" sip "\n" spr "\n" sv "\n" ses "\n"
struct AccountSasParams {
  std::string permissions = "rwdlac";             // sp
  std::string services = "b";                     // ss
  std::string resource_types = "sco";             // srt
  std::chrono::system_clock::time_point start{};  // st; epoch: omitted
  std::chrono::system_clock::time_point expiry;   // se
  std::string ip;                                 // sip, optional
  std::string protocol;                           // spr, optional ("https", "https,http")
  std::string version = kAzureApiVersion;         // sv, >= 2020-12-06
};
std::string AccountSasStringToSign(std::string_view account, const AccountSasParams& params);
// The token, without '?': "sv=...&ss=...&srt=...&sp=...&se=...&sig=...".
std::string MakeAccountSas(const SharedKeyCredential& credential, const AccountSasParams& params);

// A service SAS for a whole container (sr=c; version 2020-12-06 and later):
//   sp "\n" st "\n" se "\n" "/blob/" account "/" container "\n" si "\n" sip "\n"
//   spr "\n" sv "\n" sr "\n" snapshot "\n" ses "\n" rscc "\n" rscd "\n" rsce "\n"
//   rscl "\n" rsct
struct ContainerSasParams {
  std::string container;
  std::string permissions = "racwdl";  // sp, in this order
  std::chrono::system_clock::time_point start{};
  std::chrono::system_clock::time_point expiry;
  std::string identifier;  // si: a stored access policy, optional
  std::string ip;
  std::string protocol;
  std::string version = kAzureApiVersion;
};
std::string ContainerSasStringToSign(std::string_view account, const ContainerSasParams& params);
std::string MakeContainerSas(const SharedKeyCredential& credential,
                             const ContainerSasParams& params);

}  // namespace timestore::tiering
