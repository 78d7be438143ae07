// S3 XML answers: every parser of tiering/s3_object_store.h (errors,
// ListObjectsV2, multipart replies, ListMultipartUploads) and the HTTP date
// parser on the same bytes. Seeds: fuzz/corpus/s3_xml (AWS's sample answers).
#include <cstdint>
#include <string_view>

#include "tiering/s3_object_store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace timestore::tiering;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  (void)ParseS3Error(bytes);
  (void)ParseListObjectsV2(bytes);
  (void)ParseInitiateMultipartUpload(bytes);
  S3ErrorInfo error;
  (void)ParseCompleteMultipartUpload(bytes, &error);
  (void)ParseListMultipartUploads(bytes);
  (void)ParseHttpDate(bytes);
  return 0;
}
