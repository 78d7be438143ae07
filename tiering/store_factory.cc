// MakeObjectStore: a target's config to its driver.
#include "common/strings.h"
#include "tiering/storage_targets.h"

namespace timestore::tiering {

absl::StatusOr<std::shared_ptr<ObjectStore>> MakeObjectStore(const StorageTargetConfig& config) {
  return absl::UnimplementedError(
      StrCat("storage target \"", config.id, "\": driver ", config.driver, " is not built in"));
}

}  // namespace timestore::tiering
