// MakeObjectStore: a target's config to its driver. The one place that knows
// every driver.
#include "common/strings.h"
#include "tiering/azure_blob_store.h"
#include "tiering/s3_object_store.h"
#include "tiering/storage_targets.h"

namespace timestore::tiering {

absl::StatusOr<std::shared_ptr<ObjectStore>> MakeObjectStore(const StorageTargetConfig& c) {
  if (c.driver == "s3" || c.driver == "gcs") {
    S3Options o;
    o.endpoint = c.endpoint;
    o.region = c.region.empty() ? (c.driver == "gcs" ? "auto" : "us-east-1") : c.region;
    o.bucket = c.bucket;
    o.prefix = c.prefix;
    o.force_path_style = c.force_path_style;
    o.access_key_id = c.access_key_id;
    o.secret_access_key = c.secret_access_key;
    o.session_token = c.session_token;
    if (c.multipart_threshold > 0) o.multipart_threshold = c.multipart_threshold;
    if (c.part_size > 0) o.part_size = c.part_size;
    if (c.driver == "gcs" && o.endpoint.empty()) o.endpoint = "https://storage.googleapis.com";
    if (absl::Status s = S3ObjectStore::ValidateOptions(o); !s.ok()) {
      return absl::InvalidArgumentError(
          StrCat("storage target \"", c.id, "\": ", ToStd(s.message())));
    }
    return std::shared_ptr<ObjectStore>(std::make_shared<S3ObjectStore>(std::move(o)));
  }
  if (c.driver == "azure_blob") {
    AzureOptions o;
    o.endpoint = c.endpoint;
    o.account_name = c.account_name;
    o.account_key = c.account_key;
    o.sas_token = c.sas_token;
    o.container = c.container;
    o.prefix = c.prefix;
    if (c.multipart_threshold > 0) o.block_threshold = c.multipart_threshold;
    if (c.part_size > 0) o.block_size = c.part_size;
    if (absl::Status s = ValidateAzureOptions(o); !s.ok()) {
      return absl::InvalidArgumentError(
          StrCat("storage target \"", c.id, "\": ", ToStd(s.message())));
    }
    return std::shared_ptr<ObjectStore>(std::make_shared<AzureBlobStore>(std::move(o)));
  }
  return absl::InvalidArgumentError(
      StrCat("storage target \"", c.id, "\": driver ", c.driver, " is not built in"));
}

}  // namespace timestore::tiering
