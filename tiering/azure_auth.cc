#include "tiering/azure_auth.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <strings.h>
#include <time.h>

#include <algorithm>
#include <map>
#include <vector>

#include "common/strings.h"

namespace timestore::tiering {
namespace {

constexpr const char* kWeekdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The value of header `name` (any case), "" when absent.
std::string HeaderValue(const HttpRequest& request, std::string_view name) {
  for (const auto& [n, v] : request.headers)
    if (EqualsIgnoreCase(n, name)) return v;
  return "";
}

bool HasHeader(const HttpRequest& request, std::string_view name) {
  for (const auto& [n, v] : request.headers)
    if (EqualsIgnoreCase(n, name)) return true;
  return false;
}

void RemoveHeader(HttpRequest* request, std::string_view name) {
  auto& h = request->headers;
  h.erase(std::remove_if(h.begin(), h.end(),
                         [&](const auto& kv) { return EqualsIgnoreCase(kv.first, name); }),
          h.end());
}

// The path of `url` ("scheme://host[:port]/path?query"), still encoded.
std::string_view UrlPath(std::string_view url, std::string_view* query) {
  *query = {};
  size_t start = url.find("://");
  start = start == std::string_view::npos ? 0 : start + 3;
  const size_t slash = url.find('/', start);
  const size_t q = url.find('?', start);
  if (q != std::string_view::npos) *query = url.substr(q + 1);
  if (slash == std::string_view::npos || (q != std::string_view::npos && slash > q)) return "/";
  return url.substr(slash, q == std::string_view::npos ? std::string_view::npos : q - slash);
}

struct tm Gmt(std::chrono::system_clock::time_point t) {
  const time_t secs = std::chrono::system_clock::to_time_t(t);
  struct tm out {};
  gmtime_r(&secs, &out);
  return out;
}

std::string TwoDigits(int v) {
  return StrCat(static_cast<char>('0' + v / 10 % 10), static_cast<char>('0' + v % 10));
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string FormatSasTime(std::chrono::system_clock::time_point t) {
  const struct tm g = Gmt(t);
  return StrCat(g.tm_year + 1900, "-", TwoDigits(g.tm_mon + 1), "-", TwoDigits(g.tm_mday), "T",
                TwoDigits(g.tm_hour), ":", TwoDigits(g.tm_min), ":", TwoDigits(g.tm_sec), "Z");
}

absl::StatusOr<std::string> UriDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) {
      return absl::InvalidArgumentError(StrCat("a '%' escape is cut short at offset ", i));
    }
    const int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
    if (hi < 0 || lo < 0) return absl::InvalidArgumentError(StrCat("bad '%' escape at offset ", i));
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

std::string SharedKeyStringToSign(std::string_view account, const HttpRequest& request) {
  std::string length = HeaderValue(request, "content-length");
  if (!HasHeader(request, "content-length") &&
      (request.method == "PUT" || request.method == "POST" || !request.body.empty())) {
    length = StrCat(request.body.size());
  }
  if (length == "0") length.clear();

  std::string out = StrCat(request.method, "\n");
  for (std::string_view name :
       {"content-encoding", "content-language", "", "content-md5", "content-type", "date",
        "if-modified-since", "if-match", "if-none-match", "if-unmodified-since", "range"}) {
    StrAppend(&out, name.empty() ? length : HeaderValue(request, name), "\n");
  }

  std::map<std::string, std::string> ms_headers;
  for (const auto& [name, value] : request.headers) {
    std::string lower = Lower(name);
    if (!lower.starts_with("x-ms-")) continue;
    std::string v(StripWhitespace(value));
    auto [it, fresh] = ms_headers.emplace(std::move(lower), v);
    if (!fresh) StrAppend(&it->second, ",", v);
  }
  for (const auto& [name, value] : ms_headers) StrAppend(&out, name, ":", value, "\n");

  std::string_view query;
  const std::string_view path = UrlPath(request.url, &query);
  StrAppend(&out, "/", account, path);
  std::map<std::string, std::vector<std::string>> params;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    std::string_view name = pair.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
    // A broken escape is signed as sent; the service will refuse it anyway.
    auto n = UriDecode(name);
    auto v = UriDecode(value);
    params[Lower(n.ok() ? *n : std::string(name))].push_back(v.ok() ? *v : std::string(value));
  }
  for (auto& [name, values] : params) {
    std::sort(values.begin(), values.end());
    StrAppend(&out, "\n", name, ":");
    for (size_t i = 0; i < values.size(); ++i) StrAppend(&out, i ? "," : "", values[i]);
  }
  return out;
}

absl::StatusOr<SharedKeyCredential> SharedKeyCredential::Create(std::string account,
                                                                std::string_view base64_key) {
  if (account.empty()) return absl::InvalidArgumentError("the Azure account name is empty");
  auto key = Base64Decode(StripWhitespace(base64_key));
  if (!key.ok() || key->empty()) {
    return absl::InvalidArgumentError(
        StrCat("the key of Azure account '", account, "' is not base64"));
  }
  return SharedKeyCredential(std::move(account), *std::move(key));
}

std::string SharedKeyCredential::Sign(std::string_view string_to_sign) const {
  return Base64Encode(HmacSha256(key_, string_to_sign));
}

void SharedKeyCredential::SignRequest(HttpRequest* request,
                                      std::chrono::system_clock::time_point now) const {
  RemoveHeader(request, "authorization");
  RemoveHeader(request, "x-ms-date");
  request->headers.emplace_back("x-ms-date", FormatHttpDate(now));
  if (!HasHeader(*request, "x-ms-version")) {
    request->headers.emplace_back("x-ms-version", kAzureApiVersion);
  }
  request->headers.emplace_back(
      "Authorization",
      StrCat("SharedKey ", account_, ":", Sign(SharedKeyStringToSign(account_, *request))));
}

absl::StatusOr<std::string> NormalizeSasToken(std::string_view token) {
  token = StripWhitespace(token);
  if (!token.empty() && token.front() == '?') token.remove_prefix(1);
  if (token.empty()) return absl::InvalidArgumentError("the SAS token is empty");
  bool has_sig = false;
  for (std::string_view rest = token; !rest.empty();) {
    const size_t amp = rest.find('&');
    if (rest.substr(0, amp).starts_with("sig=") && rest.size() > 4) has_sig = true;
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
  }
  if (!has_sig) {
    return absl::InvalidArgumentError(
        "the SAS token has no signature (sig=); paste the whole query string");
  }
  return std::string(token);
}

std::string AppendQuery(std::string_view url, std::string_view query) {
  if (query.empty()) return std::string(url);
  const char sep = url.find('?') == std::string_view::npos ? '?' : '&';
  return StrCat(url, sep, query);
}

std::string RedactSas(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const size_t at = text.find("sig=", i);
    if (at == std::string_view::npos) break;
    const bool starts_param = at == 0 || text[at - 1] == '?' || text[at - 1] == '&' ||
                              text[at - 1] == ' ' || text[at - 1] == '\'' || text[at - 1] == '"' ||
                              text[at - 1] == ';';
    out.append(text.substr(i, at + 4 - i));
    i = at + 4;
    if (!starts_param) continue;
    size_t end = i;
    while (end < text.size() && text[end] != '&' && text[end] != ' ' && text[end] != '\'' &&
           text[end] != '"' && text[end] != '#' && text[end] != ';' && text[end] != '\n' &&
           text[end] != '\r' && text[end] != '\t') {
      ++end;
    }
    out.append("REDACTED");
    i = end;
  }
  out.append(text.substr(i));
  return out;
}

std::string AccountSasStringToSign(std::string_view account, const AccountSasParams& p) {
  const std::string start =
      p.start == std::chrono::system_clock::time_point{} ? "" : FormatSasTime(p.start);
  return StrCat(account, "\n", p.permissions, "\n", p.services, "\n", p.resource_types, "\n", start,
                "\n", FormatSasTime(p.expiry), "\n", p.ip, "\n", p.protocol, "\n", p.version, "\n",
                /*ses*/ "", "\n");
}

std::string MakeAccountSas(const SharedKeyCredential& credential, const AccountSasParams& p) {
  const std::string sig = credential.Sign(AccountSasStringToSign(credential.account(), p));
  std::string out =
      StrCat("sv=", UriEncode(p.version, false), "&ss=", UriEncode(p.services, false),
             "&srt=", UriEncode(p.resource_types, false), "&sp=", UriEncode(p.permissions, false));
  if (p.start != std::chrono::system_clock::time_point{}) {
    StrAppend(&out, "&st=", UriEncode(FormatSasTime(p.start), false));
  }
  StrAppend(&out, "&se=", UriEncode(FormatSasTime(p.expiry), false));
  if (!p.ip.empty()) StrAppend(&out, "&sip=", UriEncode(p.ip, false));
  if (!p.protocol.empty()) StrAppend(&out, "&spr=", UriEncode(p.protocol, false));
  StrAppend(&out, "&sig=", UriEncode(sig, false));
  return out;
}

std::string ContainerSasStringToSign(std::string_view account, const ContainerSasParams& p) {
  const std::string start =
      p.start == std::chrono::system_clock::time_point{} ? "" : FormatSasTime(p.start);
  return StrCat(p.permissions, "\n", start, "\n", FormatSasTime(p.expiry), "\n", "/blob/", account,
                "/", p.container, "\n", p.identifier, "\n", p.ip, "\n", p.protocol, "\n", p.version,
                "\n", "c", "\n",
                /*snapshot*/ "", "\n", /*ses*/ "", "\n", /*rscc*/ "", "\n", /*rscd*/ "", "\n",
                /*rsce*/ "", "\n", /*rscl*/ "", "\n", /*rsct*/ "");
}

std::string MakeContainerSas(const SharedKeyCredential& credential, const ContainerSasParams& p) {
  const std::string sig = credential.Sign(ContainerSasStringToSign(credential.account(), p));
  std::string out = StrCat("sv=", UriEncode(p.version, false), "&sr=c");
  if (!p.permissions.empty()) StrAppend(&out, "&sp=", UriEncode(p.permissions, false));
  if (p.start != std::chrono::system_clock::time_point{}) {
    StrAppend(&out, "&st=", UriEncode(FormatSasTime(p.start), false));
  }
  StrAppend(&out, "&se=", UriEncode(FormatSasTime(p.expiry), false));
  if (!p.identifier.empty()) StrAppend(&out, "&si=", UriEncode(p.identifier, false));
  if (!p.ip.empty()) StrAppend(&out, "&sip=", UriEncode(p.ip, false));
  if (!p.protocol.empty()) StrAppend(&out, "&spr=", UriEncode(p.protocol, false));
  StrAppend(&out, "&sig=", UriEncode(sig, false));
  return out;
}

}  // namespace timestore::tiering
