#include "tiering/http_util.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "common/strings.h"

namespace timestore::tiering {
namespace {

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

std::string HexEncode(std::string_view data) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (unsigned char c : data) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(digest), len));
}

std::string Md5(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_md5(), nullptr);
  return std::string(reinterpret_cast<const char*>(digest), len);
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &len);
  return std::string(reinterpret_cast<const char*>(digest), len);
}

std::string Base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

absl::StatusOr<std::string> Base64Decode(std::string_view text) {
  // EVP_DecodeBlock skips whitespace and counts padding as zero bytes; check
  // the text first so that only canonical base64 is accepted.
  if (text.size() % 4 != 0) {
    return absl::InvalidArgumentError(
        StrCat("base64 text of ", text.size(), " characters is not a multiple of 4"));
  }
  size_t padding = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '=') {
      if (i + 2 < text.size()) return absl::InvalidArgumentError("misplaced base64 padding");
      ++padding;
      continue;
    }
    if (padding > 0 || Base64Value(c) < 0) {
      return absl::InvalidArgumentError(StrCat("invalid base64 character at offset ", i));
    }
  }
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return absl::InvalidArgumentError("invalid base64");
  out.resize(static_cast<size_t>(n) - padding);
  return out;
}

std::string FormatHttpDate(std::chrono::system_clock::time_point t) {
  static constexpr const char* kWeekdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const time_t secs = std::chrono::system_clock::to_time_t(t);
  struct tm g {};
  gmtime_r(&secs, &g);
  char buf[40];
  snprintf(buf, sizeof(buf), "%s, %02d %s %04d %02d:%02d:%02d GMT", kWeekdays[g.tm_wday], g.tm_mday,
           kMonths[g.tm_mon], g.tm_year + 1900, g.tm_hour, g.tm_min, g.tm_sec);
  return buf;
}

absl::StatusOr<int64_t> ParseHttpDate(std::string_view date) {
  // "Wed, 12 Oct 2009 17:50:00 GMT"
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  auto bad = [&] { return absl::InvalidArgumentError(StrCat("bad HTTP date \"", date, "\"")); };
  std::string_view s = StripWhitespace(date);
  const size_t comma = s.find(", ");
  if (comma == std::string_view::npos || s.size() != comma + 2 + 24) return bad();
  s.remove_prefix(comma + 2);  // "12 Oct 2009 17:50:00 GMT"
  int day, year, hh, mm, ss;
  if (s[2] != ' ' || s[6] != ' ' || s[11] != ' ' || s[14] != ':' || s[17] != ':' ||
      s.substr(20) != " GMT" || !ParseInt(s.substr(0, 2), &day) ||
      !ParseInt(s.substr(7, 4), &year) || !ParseInt(s.substr(12, 2), &hh) ||
      !ParseInt(s.substr(15, 2), &mm) || !ParseInt(s.substr(18, 2), &ss)) {
    return bad();
  }
  const auto m = std::find(std::begin(kMonths), std::end(kMonths), s.substr(3, 3));
  if (m == std::end(kMonths) || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60) return bad();
  const std::chrono::year_month_day ymd{
      std::chrono::year(year),
      std::chrono::month(static_cast<unsigned>(m - std::begin(kMonths) + 1)),
      std::chrono::day(static_cast<unsigned>(day))};
  if (!ymd.ok()) return bad();
  const int64_t days = std::chrono::sys_days(ymd).time_since_epoch().count();
  return ((days * 24 + hh) * 60 + mm) * 60'000'000'000LL + ss * 1'000'000'000LL;
}

std::string StripQuotes(std::string_view s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return std::string(s);
}

}  // namespace timestore::tiering
