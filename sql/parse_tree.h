// Reading libpg_query's parse tree (its JSON output, parsed by simdjson):
// the accessors the statement builder (ast.cc) and psql's catalog recogniser
// (psql_catalog.cc) share. A missing member reads as empty, never as an error.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "simdjson.h"

namespace timestore::sql::parse_tree {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

// The single key of a node object ("SelectStmt", "A_Const", ...) and its body.
inline bool NodeOf(element e, std::string_view* type, object* body) {
  object o;
  if (e.get(o)) return false;
  for (auto [k, v] : o) {
    *type = k;
    return !v.get(*body);
  }
  return false;
}

inline std::string_view Str(object o, std::string_view key) {
  std::string_view s;
  if (o[key].get(s)) return {};
  return s;
}

inline int64_t Int(object o, std::string_view key, int64_t def = 0) {
  int64_t v;
  if (o[key].get(v)) return def;
  return v;
}

inline bool Bool(object o, std::string_view key) {
  bool v;
  if (o[key].get(v)) return false;
  return v;
}

inline bool Has(object o, std::string_view key) {
  element e;
  return !o[key].get(e);
}

// The elements of array member `key` (none when absent: a default-made
// simdjson array must not be touched).
inline std::vector<element> Arr(object o, std::string_view key) {
  std::vector<element> out;
  array a;
  if (o[key].get(a)) return out;
  for (element e : a) out.push_back(e);
  return out;
}

}  // namespace timestore::sql::parse_tree
