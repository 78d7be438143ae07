#include "api/body_decoding.h"

#include <snappy.h>
#include <zlib.h>

#include "common/status_macros.h"
#include "common/status_util.h"
#include "common/strings.h"

namespace timestore::api {
namespace {

absl::Status TooLarge(uint64_t max_bytes, std::string_view encoding) {
  return MakeError(absl::StatusCode::kInvalidArgument, "payload_too_large",
                   StrCat("the ", encoding, " body decodes to more than the limit of ", max_bytes,
                          " bytes (TIMESTORE_MAX_BODY_BYTES)"));
}

absl::Status Corrupt(std::string_view encoding, std::string_view what) {
  return MakeError(
      absl::StatusCode::kInvalidArgument, "invalid_body",
      StrCat("the body is not valid ", encoding, " (Content-Encoding: ", encoding, "): ", what));
}

// Inflates gzip or zlib streams (window_bits picks which), including several
// gzip members one after another, as `cat a.gz b.gz` makes.
absl::Status Inflate(std::string_view in, int window_bits, std::string_view encoding,
                     uint64_t max_bytes, std::string* out) {
  z_stream zs{};
  if (inflateInit2(&zs, window_bits) != Z_OK) return absl::InternalError("inflateInit2 failed");
  struct Closer {
    z_stream* z;
    ~Closer() { inflateEnd(z); }
  } closer{&zs};
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  out->clear();
  // Grow in steps, never past the limit plus one byte (which proves "over").
  size_t capacity = std::min<uint64_t>(max_bytes + 1, std::max<size_t>(in.size() * 4, 64 << 10));
  out->resize(capacity);
  size_t produced = 0;
  for (;;) {
    if (produced == out->size()) {
      if (out->size() > max_bytes) return TooLarge(max_bytes, encoding);
      out->resize(std::min<uint64_t>(max_bytes + 1, out->size() * 2));
    }
    zs.next_out = reinterpret_cast<Bytef*>(out->data() + produced);
    zs.avail_out = static_cast<uInt>(std::min<size_t>(out->size() - produced, 1u << 30));
    const uInt before = zs.avail_out;
    int rc = inflate(&zs, Z_NO_FLUSH);
    produced += before - zs.avail_out;
    if (produced > max_bytes) return TooLarge(max_bytes, encoding);
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) break;
      // Another gzip member follows (only gzip has members; zlib data after
      // its end is garbage).
      if (window_bits < 16 + 8) return Corrupt(encoding, "data after the end of the stream");
      if (inflateReset(&zs) != Z_OK) return Corrupt(encoding, "cannot restart");
      continue;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) return Corrupt(encoding, "truncated stream");
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      return Corrupt(encoding, zs.msg != nullptr ? zs.msg : "bad data");
    }
  }
  out->resize(produced);
  return absl::OkStatus();
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

absl::Status SnappyDecode(std::string_view in, uint64_t max_bytes, std::string* out) {
  size_t n = 0;
  if (!snappy::GetUncompressedLength(in.data(), in.size(), &n)) {
    return Corrupt("snappy", "bad length preamble");
  }
  if (n > max_bytes) return TooLarge(max_bytes, "snappy");
  if (!snappy::IsValidCompressedBuffer(in.data(), in.size())) {
    return Corrupt("snappy", "corrupt block");
  }
  std::string decoded;
  if (!snappy::Uncompress(in.data(), in.size(), &decoded)) {
    return Corrupt("snappy", "corrupt block");
  }
  *out = std::move(decoded);
  return absl::OkStatus();
}

std::string SnappyEncode(std::string_view in) {
  std::string out;
  snappy::Compress(in.data(), in.size(), &out);
  return out;
}

absl::Status DecodeBody(std::string_view content_encoding, uint64_t max_bytes, std::string* body) {
  std::string encoding = Lower(StripWhitespace(content_encoding));
  if (encoding.empty() || encoding == "identity") return absl::OkStatus();
  std::string decoded;
  if (encoding == "gzip" || encoding == "x-gzip") {
    RETURN_IF_ERROR(Inflate(*body, 16 + MAX_WBITS, "gzip", max_bytes, &decoded));
  } else if (encoding == "deflate") {
    // HTTP's deflate is the zlib format; 32 also takes a gzip header, as
    // some clients send under this name.
    RETURN_IF_ERROR(Inflate(*body, 32 + MAX_WBITS, "deflate", max_bytes, &decoded));
  } else if (encoding == "snappy") {
    RETURN_IF_ERROR(SnappyDecode(*body, max_bytes, &decoded));
  } else {
    return MakeError(absl::StatusCode::kInvalidArgument, "unsupported_encoding",
                     StrCat("Content-Encoding \"", content_encoding.substr(0, 64),
                            "\" is not supported; send gzip, deflate, snappy or identity"));
  }
  *body = std::move(decoded);
  return absl::OkStatus();
}

}  // namespace timestore::api
