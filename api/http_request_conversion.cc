#include "api/http_request_conversion.h"

#include <iterator>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "common/strings.h"

namespace timestore::api {
namespace {

std::string_view ToStd(boost::beast::string_view s) { return {s.data(), s.size()}; }

}  // namespace

absl::StatusOr<HttpRequest> ToHttpRequest(
    boost::beast::http::request<boost::beast::http::string_body>&& message,
    std::string remote_address) {
  HttpRequest request;
  request.method = std::string(ToStd(message.method_string()));
  const std::string_view target = ToStd(message.target());
  const size_t question = target.find('?');
  if (question != std::string_view::npos) request.query = std::string(target.substr(question + 1));
  if (!PercentDecode(target.substr(0, question), /*plus_as_space=*/false, &request.path)) {
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
