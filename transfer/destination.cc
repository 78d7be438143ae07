#include "transfer/destination.h"

#include "common/strings.h"
#include "tiering/local_object_store.h"

namespace timestore::transfer {
namespace {

std::string TrimSlashes(std::string_view s) {
  while (!s.empty() && s.front() == '/') s.remove_prefix(1);
  while (!s.empty() && s.back() == '/') s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

absl::StatusOr<Destination> ResolveDestination(std::string_view spec, Env* env,
                                               tiering::StorageTargets* targets,
                                               bool absolute_dirs) {
  if (spec.empty()) return absl::InvalidArgumentError("the destination is empty");
  Destination d;
  std::string_view rest;
  if (ConsumePrefix(&(rest = spec), "s3://") || ConsumePrefix(&(rest = spec), "target://")) {
    const size_t slash = rest.find('/');
    const std::string id(rest.substr(0, slash));
    if (id.empty()) {
      return absl::InvalidArgumentError(
          StrCat("destination \"", spec, "\" names no storage target: use s3://TARGET/PREFIX"));
    }
    if (targets == nullptr) {
      return absl::NotFoundError(
          StrCat("destination \"", spec, "\": no storage targets are configured here"));
    }
    auto store = targets->Store(id);
    if (!store.ok()) {
      return absl::Status(store.status().code(),
                          StrCat("destination \"", spec, "\": ", store.status().message()));
    }
    d.store = *std::move(store);
    d.prefix = slash == std::string_view::npos ? "" : TrimSlashes(rest.substr(slash + 1));
    d.describe = std::string(spec);
    return d;
  }
  std::string path(spec);
  if (ConsumePrefix(&(rest = spec), "file://")) {
    if (rest.empty() || rest.front() != '/') {
      return absl::InvalidArgumentError(
          StrCat("destination \"", spec, "\": file:// needs an absolute path"));
    }
    path = std::string(rest);
  } else if (spec.find("://") != std::string_view::npos) {
    return absl::InvalidArgumentError(StrCat(
        "destination \"", spec, "\": expected a directory, file:///DIR or s3://TARGET/PREFIX"));
  }
  if (absolute_dirs && path.front() != '/') {
    return absl::InvalidArgumentError(
        StrCat("destination \"", spec,
               "\": a directory on the server must be an absolute path (a relative one would "
               "be taken from the server's working directory)"));
  }
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  d.store = std::make_shared<tiering::LocalObjectStore>(env, path);
  d.describe = d.store->Describe();
  d.local = true;
  return d;
}

}  // namespace timestore::transfer
