// Request bodies sent compressed: Content-Encoding gzip, deflate (zlib) and
// snappy (the block format of Prometheus remote write). Every ingest route
// decodes through here, so the body limit applies to the decoded size too: a
// small body that inflates past it is a 413, never an allocation of its
// decoded size.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace timestore::api {

// Replaces `*body` with its decoding under `content_encoding` (a header value;
// "" and "identity" leave it as it is). Errors, tagged for the client:
//   payload_too_large    the decoded body would pass `max_bytes` (413);
//   unsupported_encoding an encoding other than gzip, x-gzip, deflate, snappy (415);
//   invalid_body         the bytes are not valid in that encoding (400).
absl::Status DecodeBody(std::string_view content_encoding, uint64_t max_bytes, std::string* body);

// Snappy block decoding on its own, for protocols that compress their payload
// whatever the Content-Encoding says (Prometheus remote write and read).
absl::Status SnappyDecode(std::string_view in, uint64_t max_bytes, std::string* out);
// Snappy block encoding (remote read answers).
std::string SnappyEncode(std::string_view in);

}  // namespace timestore::api
