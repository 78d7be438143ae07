// The step between Boost.Beast and the Handler: a parsed HTTP/1.1 request
// becomes the HttpRequest the application sees. Shared by the server
// (api/http_server.cc) and the HTTP fuzz target (fuzz/http_fuzz.cc), so what
// the fuzzer routes is exactly what a client's bytes would reach.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "api/http_server.h"

namespace timestore::api {

// The largest request head (request line and headers) the server reads; a
// larger one is answered 400 and the connection closed (API.md, "Errors").
inline constexpr uint32_t kRequestHeaderLimit = 64 << 10;

// Moves `message` into an HttpRequest: the method as sent, the target split
// at the first '?' into a percent-decoded path ('+' stays '+') and the raw
// query, header names lower-cased (values and order kept), the body moved.
// InvalidArgumentError when the path has a truncated or non-hex %-escape (the
// server answers it 400 bad_request and keeps the connection).
absl::StatusOr<HttpRequest> ToHttpRequest(
    boost::beast::http::request<boost::beast::http::string_body>&& message,
    std::string remote_address);

}  // namespace timestore::api
