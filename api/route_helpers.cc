#include "api/route_helpers.h"

#include "common/json_writer.h"
#include "common/strings.h"

namespace timestore::api {
HttpResponse Json(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpResponse Error(int status, std::string_view code, std::string_view message,
                   std::string_view details) {
  return Json(status, ErrorBody(code, message, details));
}

HttpResponse NotReady() {
  HttpResponse r =
      Error(503, "not_ready", "the server is recovering its write-ahead log; retry shortly");
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

HttpResponse MethodNotAllowed(const HttpRequest& req, std::string_view allow) {
  HttpResponse r = Error(405, "method_not_allowed",
                         StrCat(req.method, " is not allowed on ", req.path, "; use ", allow));
  r.headers.emplace_back("Allow", std::string(allow));
  return r;
}

std::optional<HttpResponse> CheckScope(const HttpRequest& req, const std::string& needed) {
  if (needed.empty()) return std::nullopt;
  std::string_view scopes = req.Header("x-iam-scopes");
  while (!scopes.empty()) {
    size_t comma = scopes.find(',');
    if (StripWhitespace(scopes.substr(0, comma)) == needed) return std::nullopt;
    scopes = comma == std::string_view::npos ? std::string_view() : scopes.substr(comma + 1);
  }
  std::string details;
  JsonWriter(&details).BeginObject().Key("requiredScope").String(needed).EndObject();
  return Error(403, "forbidden",
               StrCat("this route needs the scope \"", needed, "\" in the x-iam-scopes header"),
               details);
}

std::optional<std::string_view> QueryParam(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t eq = part.find('=');
    if (part.substr(0, eq) == name) {
      return eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
    }
  }
  return std::nullopt;
}

}  // namespace timestore::api
