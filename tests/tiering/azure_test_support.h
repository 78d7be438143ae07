// What the Azure Blob store tests share (azure_blob_store_test.cc,
// azure_blob_store_fault_test.cc).
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "common/strings.h"
#include "tiering/azure_blob_store.h"

namespace timestore::tiering::azure_test {

inline std::string Msg(const absl::Status& s) { return std::string(ToStd(s.message())); }

inline bool Contains(const absl::Status& s, std::string_view part) {
  return Msg(s).find(part) != std::string::npos;
}

// Options for a store that is never contacted.
inline AzureOptions OfflineOptions() {
  AzureOptions o;
  o.endpoint = "http://127.0.0.1:9/devstoreaccount1";  // never contacted
  o.account_name = kDevStoreAccount;
  o.account_key = kDevStoreKey;
  o.container = "c";
  return o;
}

}  // namespace timestore::tiering::azure_test
