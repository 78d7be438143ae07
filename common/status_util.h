// Errors that carry an API error code and structured details, so the HTTP
// layer can answer exactly as API.md says (code, message, details) while the
// engine stays free of HTTP. The details travel as absl::Status payloads.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace timestore {

inline constexpr std::string_view kErrorCodePayload = "timestore/code";
inline constexpr std::string_view kErrorDetailsPayload = "timestore/details";

// `details_json` is a serialised JSON object (or empty).
absl::Status MakeError(absl::StatusCode code, std::string_view api_code, std::string_view message,
                       std::string_view details_json = "");

// Details builder: {"recordIndex":3,"column":"x","expected":"double","got":"string"}.
// The API code a status was tagged with by MakeError, or "" when untagged.
std::string ErrorCodeOf(const absl::Status& status);

std::string ErrorDetails(int64_t record_index, std::string_view column, std::string_view expected,
                         std::string_view got, bool ndjson = false);

}  // namespace timestore
