#include "api/http_request_conversion.h"

#include <iterator>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"

namespace timestore::api {
namespace {

std::string_view ToStd(boost::beast::string_view s) { return {s.data(), s.size()}; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes ('+' stays '+': this is a path, not a form). False on a
// truncated or non-hex escape.
bool PercentDecode(std::string_view in, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out->push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int hi = HexValue(in[i + 1]);
    const int lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

}  // namespace

absl::StatusOr<HttpRequest> ToHttpRequest(
    boost::beast::http::request<boost::beast::http::string_body>&& message,
    std::string remote_address) {
  HttpRequest request;
  request.method = std::string(ToStd(message.method_string()));
  const std::string_view target = ToStd(message.target());
  const size_t question = target.find('?');
  if (question != std::string_view::npos) request.query = std::string(target.substr(question + 1));
  if (!PercentDecode(target.substr(0, question), &request.path)) {
    return absl::InvalidArgumentError("malformed percent-encoding in the request path");
  }
  request.headers.reserve(std::distance(message.begin(), message.end()));
  for (const auto& field : message) {
    std::string name(ToStd(field.name_string()));
    for (char& c : name) c = absl::ascii_tolower(static_cast<unsigned char>(c));
    request.headers.emplace_back(std::move(name), std::string(ToStd(field.value())));
  }
  request.body = std::move(message.body());
  request.remote_address = std::move(remote_address);
  return request;
}

}  // namespace timestore::api
