#include "tiering/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>

#include "common/strings.h"

namespace timestore::tiering {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Headers that are never signed: Authorization is the signature itself; the
// others are added or changed by HTTP clients and proxies on the way.
bool IsUnsignedHeader(std::string_view lower_name) {
  return lower_name == "authorization" || lower_name == "user-agent" || lower_name == "expect" ||
         lower_name == "content-length" || lower_name == "x-amzn-trace-id";
}

void SetHeader(HttpRequest* request, std::string_view lower_name, std::string value) {
  auto& h = request->headers;
  h.erase(std::remove_if(h.begin(), h.end(),
                         [&](const auto& kv) { return Lower(kv.first) == lower_name; }),
          h.end());
  h.emplace_back(std::string(lower_name), std::move(value));
}

}  // namespace

std::string AmzDate(std::chrono::system_clock::time_point time) {
  const std::time_t t =
      std::chrono::system_clock::to_time_t(std::chrono::floor<std::chrono::seconds>(time));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

std::string CanonicalUri(std::string_view path) {
  if (path.empty()) return "/";
  return UriEncode(PercentDecode(path), /*keep_slash=*/true);
}

std::string CanonicalQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> pairs;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;  // "a=1&&b=2"
    const size_t eq = pair.find('=');
    std::string_view name = pair.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    pairs.emplace_back(UriEncode(PercentDecode(name), false),
                       UriEncode(PercentDecode(value), false));
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [name, value] : pairs) {
    if (!out.empty()) out.push_back('&');
    StrAppend(&out, name, "=", value);
  }
  return out;
}

std::string CanonicalHeaderValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  bool space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

CanonicalRequest BuildCanonicalRequest(const SigV4Input& input) {
  // std::map sorts by name; values of a repeated name keep their order.
  std::map<std::string, std::string> headers;
  for (const auto& [name, value] : input.headers) {
    std::string lower = Lower(StripWhitespace(name));
    auto [it, inserted] = headers.try_emplace(std::move(lower), CanonicalHeaderValue(value));
    if (!inserted) StrAppend(&it->second, ",", CanonicalHeaderValue(value));
  }
  CanonicalRequest out;
  out.text =
      StrCat(input.method, "\n", CanonicalUri(input.path), "\n", CanonicalQuery(input.query), "\n");
  for (const auto& [name, value] : headers) {
    StrAppend(&out.text, name, ":", value, "\n");
    if (!out.signed_headers.empty()) out.signed_headers.push_back(';');
    out.signed_headers.append(name);
  }
  StrAppend(&out.text, "\n", out.signed_headers, "\n", input.payload_hash);
  return out;
}

std::string CredentialScope(std::string_view amz_date, std::string_view region,
                            std::string_view service) {
  return StrCat(amz_date.substr(0, 8), "/", region, "/", service, "/aws4_request");
}

std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request) {
  return StrCat(kSigV4Algorithm, "\n", amz_date, "\n", scope, "\n", Sha256Hex(canonical_request));
}

std::string SigningKey(std::string_view secret, std::string_view yyyymmdd, std::string_view region,
                       std::string_view service) {
  std::string k = HmacSha256(StrCat("AWS4", secret), yyyymmdd);
  k = HmacSha256(k, region);
  k = HmacSha256(k, service);
  return HmacSha256(k, "aws4_request");
}

std::string Signature(std::string_view secret, std::string_view amz_date, std::string_view region,
                      std::string_view service, std::string_view string_to_sign) {
  return HexEncode(
      HmacSha256(SigningKey(secret, amz_date.substr(0, 8), region, service), string_to_sign));
}

std::string AuthorizationHeader(const AwsCredentials& credentials, std::string_view amz_date,
                                std::string_view region, std::string_view service,
                                const CanonicalRequest& canonical) {
  const std::string scope = CredentialScope(amz_date, region, service);
  const std::string sts = StringToSign(amz_date, scope, canonical.text);
  return StrCat(kSigV4Algorithm, " Credential=", credentials.access_key_id, "/", scope,
                ", SignedHeaders=", canonical.signed_headers, ", Signature=",
                Signature(credentials.secret_access_key, amz_date, region, service, sts));
}

absl::StatusOr<UrlParts> SplitUrl(std::string_view url) {
  UrlParts out;
  const size_t sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0) {
    return absl::InvalidArgumentError(StrCat("not an absolute URL: \"", url, "\""));
  }
  out.scheme = Lower(url.substr(0, sep));
  std::string_view rest = url.substr(sep + 3);
  const size_t path_at = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_at);
  rest = path_at == std::string_view::npos ? std::string_view() : rest.substr(path_at);
  if (const size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);  // user:password@ is never part of Host
  }
  if (authority.empty()) return absl::InvalidArgumentError(StrCat("no host in URL \"", url, "\""));
  // The port, unless this is a bare IPv6 literal ("[::1]").
  std::string_view host = authority, port;
  if (const size_t colon = authority.rfind(':');
      colon != std::string_view::npos && authority.find(']', colon) == std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    int p = 0;
    if (!ParseInt(port, &p) || p <= 0 || p > 65535) {
      return absl::InvalidArgumentError(StrCat("bad port in URL \"", url, "\""));
    }
  }
  out.host = Lower(host);
  const bool default_port =
      (out.scheme == "http" && port == "80") || (out.scheme == "https" && port == "443");
  if (!port.empty() && !default_port) StrAppend(&out.host, ":", port);
  if (const size_t hash = rest.find('#'); hash != std::string_view::npos)
    rest = rest.substr(0, hash);
  const size_t q = rest.find('?');
  // (push_back, not = "/": GCC 12 warns falsely of an overlapping memcpy.)
  out.path = std::string(rest.substr(0, q));
  if (out.path.empty()) out.path.push_back('/');
  if (q != std::string_view::npos) out.query = std::string(rest.substr(q + 1));
  return out;
}

absl::Status SignRequest(HttpRequest* request, const AwsCredentials& credentials,
                         std::string_view region, std::string_view service,
                         std::chrono::system_clock::time_point time, PayloadSigning payload) {
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    return absl::InvalidArgumentError("SigV4: no access key id or secret access key");
  }
  auto url = SplitUrl(request->url);
  if (!url.ok()) return url.status();
  const std::string amz_date = AmzDate(time);
  std::string payload_hash = payload == PayloadSigning::kUnsigned ? std::string(kUnsignedPayload)
                                                                  : Sha256Hex(request->body);
  SetHeader(request, "host", url->host);
  SetHeader(request, "x-amz-date", amz_date);
  SetHeader(request, "x-amz-content-sha256", payload_hash);
  if (!credentials.session_token.empty()) {
    SetHeader(request, "x-amz-security-token", credentials.session_token);
  }
  SigV4Input input;
  input.method = request->method;
  input.path = url->path;
  input.query = url->query;
  input.payload_hash = std::move(payload_hash);
  for (const auto& [name, value] : request->headers) {
    if (!IsUnsignedHeader(Lower(name))) input.headers.emplace_back(name, value);
  }
  const CanonicalRequest canonical = BuildCanonicalRequest(input);
  SetHeader(request, "authorization",
            AuthorizationHeader(credentials, amz_date, region, service, canonical));
  return absl::OkStatus();
}

}  // namespace timestore::tiering
