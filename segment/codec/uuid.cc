#include "segment/codec/uuid.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "segment/codec/codec_internal.h"
#include "segment/codec/dictionary.h"
#include "segment/typed_text.h"

namespace timestore::codec::uuid {

absl::Status EncodeText(ColumnType type, std::span<const std::string_view> values,
                        std::string* out) {
  if (type != ColumnType::kUuid) return CannotEncode(kName, "holds only uuid columns");
  const size_t n = values.size();
  if (n > UINT32_MAX) return CannotEncode(kName, "block of ", n, " rows");
  std::vector<std::string_view> entries;
  std::vector<int64_t> ids;
  dictionary::BuildDictionary(values, &entries, &ids, /*distinct_hint=*/n);
  uint64_t empty_entry = 0;
  for (size_t k = 0; k < entries.size(); ++k) {
    if (entries[k].empty()) {
      empty_entry = k + 1;
    } else if (!IsCanonicalUuid(entries[k])) {
      // Entries are in order of first appearance: name the row that brought it.
      const size_t row = std::find(ids.begin(), ids.end(), static_cast<int64_t>(k)) - ids.begin();
      return CannotEncode(kName, "value ", row, " is not a canonical uuid");
    }
  }
  PutVarint64(out, entries.size());
  PutVarint64(out, empty_entry);
  for (std::string_view s : entries) {
    if (s.empty()) continue;
    uint8_t bytes[16];
    UuidToBytes(s, bytes);
    out->append(reinterpret_cast<const char*>(bytes), 16);
  }
  return dictionary::PutDictionaryIds(ids, out);
}

absl::Status DecodeText(ColumnType type, std::string_view in, size_t n,
                        std::vector<std::string>* dict, std::vector<uint32_t>* ids) {
  dict->clear();
  ids->clear();
  if (type != ColumnType::kUuid) return Corrupt(kName, "holds only uuid columns");
  Decoder d(in);
  uint64_t count, empty_entry;
  if (!d.GetVarint64(&count) || !d.GetVarint64(&empty_entry)) {
    return Corrupt(kName, "missing entry count");
  }
  if (count > n || (count == 0 && n > 0)) return Corrupt(kName, count, " entries for ", n, " rows");
  if (empty_entry > count) return Corrupt(kName, "empty entry ", empty_entry, " of ", count);
  const uint64_t stored = count - (empty_entry > 0 ? 1 : 0);
  if (stored > d.remaining() / 16) return Corrupt(kName, count, " entries truncated");
  dict->reserve(count);
  absl::flat_hash_set<std::string_view> seen;
  seen.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    if (empty_entry == i + 1) {
      dict->emplace_back();
      continue;
    }
    std::string_view bytes;
    d.GetBytes(16, &bytes);
    if (!seen.insert(bytes).second) return Corrupt(kName, "entry ", i, " repeats an earlier one");
    dict->push_back(UuidFromBytes(reinterpret_cast<const uint8_t*>(bytes.data())));
  }
  return dictionary::DecodeDictionaryIds(kName, &d, n, count, ids);
}

}  // namespace timestore::codec::uuid
