#include "common/status_util.h"

#include "absl/strings/cord.h"
#include "common/json_writer.h"
#include "common/strings.h"

namespace timestore {

absl::Status MakeError(absl::StatusCode code, std::string_view api_code, std::string_view message,
                       std::string_view details_json) {
  absl::Status s(code, ToAbsl(message));
  s.SetPayload(ToAbsl(kErrorCodePayload), absl::Cord(ToAbsl(api_code)));
  if (!details_json.empty())
    s.SetPayload(ToAbsl(kErrorDetailsPayload), absl::Cord(ToAbsl(details_json)));
  return s;
}

std::string ErrorCodeOf(const absl::Status& status) {
  auto p = status.GetPayload(ToAbsl(kErrorCodePayload));
  return p ? std::string(*p) : "";
}

std::string ErrorDetails(int64_t record_index, std::string_view column, std::string_view expected,
                         std::string_view got, bool ndjson) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  if (record_index >= 0) {
    if (ndjson) {
      w.Key("line").Int(record_index + 1);
    } else {
      w.Key("recordIndex").Int(record_index);
    }
  }
  if (!column.empty()) w.Key("column").String(column);
  if (!expected.empty()) w.Key("expected").String(expected);
  if (!got.empty()) w.Key("got").String(got);
  w.EndObject();
  return out;
}

}  // namespace timestore
