// Where export and backup write (and restore reads): a local directory or a
// prefix inside a configured storage target.
//
//   "DIR", "./DIR", "/abs/DIR", "file:///abs/DIR"   a local directory
//   "s3://TARGET/PREFIX"                             storage target TARGET (any
//   "target://TARGET/PREFIX"                         driver: s3, gcs, azure_blob),
//                                                    keys under PREFIX
//
// TARGET is a storage target id as `GET /admin/storage-targets` lists it (the
// environment's target is "s3", "gcs" or "azure"). The store is bound to the
// target's own prefix; PREFIX is added below it.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "tiering/object_store.h"
#include "tiering/storage_targets.h"

namespace timestore::transfer {

struct Destination {
  std::shared_ptr<tiering::ObjectStore> store;
  std::string prefix;    // below the store's own prefix; "" or no trailing '/'
  std::string describe;  // for messages: "file:///backups" or "s3://archive/nightly"
  bool local = false;    // a local directory

  // The store key of `name` (relative to the destination).
  std::string Key(std::string_view name) const { return tiering::JoinKey(prefix, name); }
};

// InvalidArgument naming the spec on a malformed one (and, with
// `absolute_dirs`, on a relative directory: the admin routes require one, as
// a relative path would be taken from the server's working directory);
// NotFound naming the target when `targets` (may be null: local directories
// only) has no such id.
absl::StatusOr<Destination> ResolveDestination(std::string_view spec, Env* env,
                                               tiering::StorageTargets* targets,
                                               bool absolute_dirs = false);

}  // namespace timestore::transfer
