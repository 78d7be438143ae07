// WAL files: the log reader under every tail policy, and every record it
// accepts through the row-batch decoder.
#include <cstdint>
#include <string>

#include "engine/wal_payload.h"
#include "wal/log_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace timestore;
  std::string bytes(reinterpret_cast<const char*>(data), size);
  // Raw payloads straight into the decoder.
  (void)DecodeBatchRecord(bytes);
  for (auto policy :
       {wal::TailPolicy::kStrict, wal::TailPolicy::kTornTailOnly, wal::TailPolicy::kTruncate}) {
    auto log = wal::ParseLog("fuzz.wal", bytes, wal::kWalMagic, policy);
    if (!log.ok()) continue;
    for (const auto& r : log->records) (void)DecodeRowRecord(r.type, r.payload);
  }
  return 0;
}
