// Test helper: renders a status the way a client sees it (through
// StatusToResponse, the one place statuses become HTTP answers) and reads back
// the JSON error body of API.md "Errors", so tests assert on what goes over
// the wire rather than on payload internals.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "api/service.h"

namespace timestore::api::testing {

struct ErrorResponse {
  int http = 0;
  std::string code;
  std::string message;
  // `details`, each value as text: strings unquoted, numbers in decimal.
  std::map<std::string, std::string> details;
  bool body_is_json = false;

  bool Has(const std::string& key) const { return details.count(key) != 0; }
  std::string Detail(const std::string& key) const {
    auto it = details.find(key);
    return it == details.end() ? "<absent>" : it->second;
  }
};

inline ErrorResponse ToErrorResponse(const absl::Status& status) {
  ErrorResponse out;
  HttpResponse r = StatusToResponse(status);
  out.http = r.status;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(r.body).get(root)) return out;
  simdjson::dom::object error;
  if (root["error"].get(error)) return out;
  out.body_is_json = true;
  std::string_view s;
  if (!error["code"].get(s)) out.code = std::string(s);
  if (!error["message"].get(s)) out.message = std::string(s);
  simdjson::dom::object details;
  if (!error["details"].get(details)) {
    for (auto [key, value] : details) {
      std::string text;
      if (value.is_string()) {
        text = std::string(value.get_string().value_unsafe());
      } else if (value.is_int64()) {
        text = std::to_string(value.get_int64().value_unsafe());
      } else if (value.is_uint64()) {
        text = std::to_string(value.get_uint64().value_unsafe());
      } else {
        text = simdjson::minify(value);
      }
      out.details.emplace(std::string(key), std::move(text));
    }
  }
  return out;
}

}  // namespace timestore::api::testing
