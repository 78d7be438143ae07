// Azure Blob Storage answers: the List Blobs page and <Error> parsers (and the
// expat DOM beneath them) on arbitrary bytes, plus the HTTP date and the
// connection-string parsers that also read outside text.
#include <cstdint>
#include <string_view>

#include "tiering/azure_auth.h"
#include "tiering/azure_blob_store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace timestore::tiering;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (auto page = ParseListBlobsResponse(bytes); page.ok()) {
    for (const ObjectInfo& b : page->blobs) (void)b.key.size();
  }
  (void)ParseAzureError(bytes);
  (void)ParseHttpDate(bytes);
  (void)ParseAzureConnectionString(bytes);
  (void)UriDecode(bytes);
  (void)Base64Decode(bytes);
  (void)RedactSas(bytes);
  return 0;
}
