// Ordering and identity of single values across column vectors: the sort key
// order of sealing and compaction, and the keys of deduplication.
#pragma once

#include <cstring>
#include <string>

#include "engine/query_executor.h"
#include "segment/column.h"

namespace timestore {

// Three-way comparison of a[ra] and b[rb] (same type; a null pointer or an
// all-null vector reads as null). Nulls sort last; doubles by DoubleLess.
inline int CompareCells(const ColumnVector* a, size_t ra, const ColumnVector* b, size_t rb) {
  const bool na = a == nullptr || a->IsNull(ra), nb = b == nullptr || b->IsNull(rb);
  if (na || nb) return na == nb ? 0 : (na ? 1 : -1);
  switch (a->type) {
  TIMESTORE_STRING_LIKE_CASES : {
    int c = a->dict[a->ids[ra]].compare(b->dict[b->ids[rb]]);
    return c < 0 ? -1 : c > 0;
  }
  case ColumnType::kDouble: {
    double x = a->doubles[ra], y = b->doubles[rb];
    return DoubleLess(x, y) ? -1 : DoubleLess(y, x);
  }
  case ColumnType::kBoolean:
    return a->bools[ra] < b->bools[rb] ? -1 : a->bools[ra] > b->bools[rb];
    default:
      return a->ints[ra] < b->ints[rb] ? -1 : a->ints[ra] > b->ints[rb];
  }
}

// Appends a byte encoding of v[row] to `key` such that two cells encode
// equally exactly when they are the same value (null is a value; -0.0 equals
// 0.0; every NaN equals every NaN).
inline void AppendCellKey(const ColumnVector* v, size_t row, std::string* key) {
  if (v == nullptr || v->IsNull(row)) {
    key->push_back('\0');
    return;
  }
  key->push_back('\1');
  switch (v->type) {
  TIMESTORE_STRING_LIKE_CASES : {
    const std::string& s = v->dict[v->ids[row]];
    uint32_t n = static_cast<uint32_t>(s.size());
    key->append(reinterpret_cast<const char*>(&n), sizeof n);
    key->append(s);
    break;
  }
  case ColumnType::kDouble: {
    double d = v->doubles[row];
    if (d == 0) d = 0;                  // -0.0 -> 0.0
    if (d != d) d = __builtin_nan("");  // one NaN
    key->append(reinterpret_cast<const char*>(&d), sizeof d);
    break;
  }
  case ColumnType::kBoolean:
    key->push_back(static_cast<char>(v->bools[row]));
    break;
    default:
      key->append(reinterpret_cast<const char*>(&v->ints[row]), sizeof(int64_t));
      break;
  }
}

}  // namespace timestore
