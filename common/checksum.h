// xxh3-64: the one checksum of every on-disk record, block and footer.
#pragma once

#include <xxhash.h>

#include <cstdint>
#include <string_view>

namespace timestore {

inline uint64_t Checksum64(const void* data, size_t n) { return XXH3_64bits(data, n); }
inline uint64_t Checksum64(std::string_view s) { return XXH3_64bits(s.data(), s.size()); }

}  // namespace timestore
