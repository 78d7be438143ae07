// Encodings and digests the object-store drivers share: hex, base64,
// SHA-256, HMAC-SHA256 (OpenSSL), HTTP dates and ETags.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace timestore::tiering {

// Lower-case hex of the bytes of `data`.
std::string HexEncode(std::string_view data);
// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);
// The 16 raw bytes of MD5(data) (Content-MD5, ETags: integrity, not security).
std::string Md5(std::string_view data);
// The 32 raw bytes of HMAC-SHA256(key, data).
std::string HmacSha256(std::string_view key, std::string_view data);
std::string Base64Encode(std::string_view bytes);
// Strict: padded, standard alphabet, no whitespace; InvalidArgument otherwise.
absl::StatusOr<std::string> Base64Decode(std::string_view text);
// RFC 1123 in GMT, as in x-ms-date: "Sun, 06 Nov 1994 08:49:37 GMT".
std::string FormatHttpDate(std::chrono::system_clock::time_point t);
// Parses that format (Last-Modified, Date) into nanoseconds since the epoch.
absl::StatusOr<int64_t> ParseHttpDate(std::string_view s);
// An ETag without its surrounding double quotes (S3 and Azure send them quoted).
std::string StripQuotes(std::string_view s);

}  // namespace timestore::tiering
