// What S3 answers, parsed: its XML documents (errors, listings, multipart
// uploads) and object sizes. Used by S3ObjectStore (s3_object_store.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "tiering/http_util.h"
#include "tiering/object_store.h"

namespace timestore::tiering {

// A decimal object size (Content-Length, <Size>).
absl::StatusOr<uint64_t> ParseObjectSize(std::string_view s);

// S3 XML answers (free functions so tests and fuzz/s3_xml_fuzz.cc reach
// them). Every malformed document is an error, never a crash.

struct S3ErrorInfo {
  std::string code;     // "NoSuchKey", "SlowDown", ...
  std::string message;  // the server's human-readable text
  std::string request_id;
  std::string server_time;  // RequestTimeTooSkewed: the server's clock (ISO 8601)
};
// An <Error> document.
absl::StatusOr<S3ErrorInfo> ParseS3Error(std::string_view xml);

struct ListObjectsPage {
  std::vector<ObjectInfo> objects;  // keys as stored (the full key), in answer order
  bool is_truncated = false;
  std::string next_continuation_token;
};
// A ListBucketResult (ListObjectsV2). When the answer says
// <EncodingType>url</EncodingType>, keys are decoded ('+' is a space).
absl::StatusOr<ListObjectsPage> ParseListObjectsV2(std::string_view xml);

// The UploadId of an InitiateMultipartUploadResult.
absl::StatusOr<std::string> ParseInitiateMultipartUpload(std::string_view xml);

// A CompleteMultipartUploadResult (its ETag); an <Error> document, which S3
// may send with status 200, is the error it describes (`*error` filled).
absl::StatusOr<std::string> ParseCompleteMultipartUpload(std::string_view xml,
                                                         S3ErrorInfo* error = nullptr);
// The CompleteMultipartUpload request body for parts 1..etags.size().
std::string CompleteMultipartUploadBody(const std::vector<std::string>& etags);

struct ListUploadsPage {
  std::vector<PendingUpload> uploads;  // keys as stored (the full key)
  bool is_truncated = false;
  std::string next_key_marker, next_upload_id_marker;
};
// A ListMultipartUploadsResult.
absl::StatusOr<ListUploadsPage> ParseListMultipartUploads(std::string_view xml);

}  // namespace timestore::tiering
