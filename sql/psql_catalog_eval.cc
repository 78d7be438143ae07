// Expressions of psql's catalog queries (psql_catalog_internal.h): typed
// values, PostgreSQL's coercions and comparisons, the pg_catalog functions
// psql calls, and evaluation over a catalog row with three-valued logic.
#include <algorithm>
#include <cstdlib>

#include "common/strings.h"
#include "engine/engine.h"
#include "re2/re2.h"
#include "sql/psql_catalog_internal.h"
#include "sql/value.h"

namespace timestore::sql::psql_internal {

Node Const(uint32_t type, Val v) {
  Node n;
  n.kind = Node::Kind::kConst;
  n.type = type;
  n.value = std::move(v);
  return n;
}

bool Coerce(Node* n, uint32_t to) {
  if (n->type == oid::kUnknown && n->kind == Node::Kind::kConst) {
    if (n->value.null) {
      n->type = to;
      return true;
    }
    if (IsStringType(to)) {
      n->type = to == oid::kUnknown ? oid::kText : to;
      return true;
    }
    if (to == oid::kBool) {
      std::string v = AsciiLower(n->value.s);
      if (v == "t" || v == "true" || v == "yes" || v == "on" || v == "1") {
        n->value = Val::Int(1);
      } else if (v == "f" || v == "false" || v == "no" || v == "off" || v == "0") {
        n->value = Val::Int(0);
      } else {
        return false;
      }
      n->type = to;
      return true;
    }
    if (IsIntType(to)) {
      int64_t v;
      if (!SimpleAtoi(n->value.s, &v)) return false;
      n->value = Val::Int(v);
      n->type = to;
      return true;
    }
    return false;
  }
  if (IsIntType(to)) return IsIntType(n->type) && (n->type == oid::kBool) == (to == oid::kBool);
  if (IsStringType(to)) return IsStringType(n->type);
  return n->type == to;
}

std::optional<uint32_t> CommonType(Node* a, Node* b) {
  if (a->type == oid::kUnknown && b->type == oid::kUnknown) {
    if (!Coerce(a, oid::kText) || !Coerce(b, oid::kText)) return std::nullopt;
    return oid::kText;
  }
  if (a->type == oid::kUnknown) {
    if (!Coerce(a, b->type)) return std::nullopt;
    return b->type;
  }
  if (b->type == oid::kUnknown) {
    if (!Coerce(b, a->type)) return std::nullopt;
    return a->type;
  }
  if (IsStringType(a->type) && IsStringType(b->type)) return oid::kText;
  if (IsIntType(a->type) && IsIntType(b->type) &&
      (a->type == oid::kBool) == (b->type == oid::kBool)) {
    return a->type;
  }
  return std::nullopt;
}

int CompareVals(const Val& a, const Val& b, uint32_t type) {
  if (IsIntType(type)) return a.i < b.i ? -1 : a.i > b.i ? 1 : 0;
  int c = a.s.compare(b.s);  // C collation: bytes
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}

Val Bool(bool b) { return Val::Int(b ? 1 : 0); }

const std::vector<FnDef>& Functions() {
  static const std::vector<FnDef> kFunctions = {
      {"pg_get_userbyid",
       {oid::kOid},
       oid::kName,
       [](const std::vector<Val>& a, const Snapshot& s) {
         if (a[0].null) return Val();
         if (a[0].i == kOwnerOid) return Val::Str(s.ctx->user);
         return Val::Str(StrCat("unknown (OID=", a[0].i, ")"));
       }},
      // The search path is pg_catalog, public (information_schema is not on it).
      {"pg_table_is_visible",
       {oid::kOid},
       oid::kBool,
       [](const std::vector<Val>& a, const Snapshot& s) {
         const CatalogRelation* r = a[0].null ? nullptr : s.Find(a[0].i);
         if (r == nullptr) return Val();
         return Bool(r->namespace_oid != kInformationSchemaNamespaceOid);
       }},
      {"format_type",
       {oid::kOid, oid::kInt4},
       oid::kText,
       [](const std::vector<Val>& a, const Snapshot&) {
         if (a[0].null) return Val();
         return Val::Str(std::string(FormatTypeName(a[0].i)));
       }},
      {"pg_size_pretty",
       {oid::kInt8},
       oid::kText,
       [](const std::vector<Val>& a, const Snapshot&) {
         return a[0].null ? Val() : Val::Str(SizePretty(a[0].i));
       }},
      // A dataset's size is its segments' bytes (local and in object storage).
      {"pg_table_size",
       {oid::kOid},
       oid::kInt8,
       [](const std::vector<Val>& a, const Snapshot& s) {
         size_t k;
         if (a[0].null || s.Find(a[0].i, &k) == nullptr) return Val();
         return Val::Int(s.bytes[k]);
       }},
      {"pg_total_relation_size",
       {oid::kOid},
       oid::kInt8,
       [](const std::vector<Val>& a, const Snapshot& s) {
         size_t k;
         if (a[0].null || s.Find(a[0].i, &k) == nullptr) return Val();
         return Val::Int(s.bytes[k]);
       }},
      {"pg_database_size",
       {oid::kName},
       oid::kInt8,
       [](const std::vector<Val>& a, const Snapshot& s) {
         if (a[0].null || a[0].s != s.ctx->database) return Val();
         return Val::Int(s.total_bytes);
       }},
      // A dataset's description (PUT /datasets/{slug}/settings) is its comment.
      {"obj_description",
       {oid::kOid, oid::kName},
       oid::kText,
       [](const std::vector<Val>& a, const Snapshot& s) {
         if (a[0].null || a[1].null) return Val();
         // Schemas have PostgreSQL's comments.
         if (a[1].s == "pg_namespace") {
           if (a[0].i == kPublicNamespaceOid) return Val::Str("standard public schema");
           if (a[0].i == kPgCatalogNamespaceOid) return Val::Str("system catalog schema");
           return Val();
         }
         size_t k;
         if (a[1].s != "pg_class" || s.Find(a[0].i, &k) == nullptr || s.descriptions[k].empty()) {
           return Val();
         }
         return Val::Str(s.descriptions[k]);
       }},
      {"col_description",
       {oid::kOid, oid::kInt4},
       oid::kText,
       [](const std::vector<Val>&, const Snapshot&) { return Val(); }},
      {"shobj_description",
       {oid::kOid, oid::kName},
       oid::kText,
       [](const std::vector<Val>&, const Snapshot&) { return Val(); }},
      {"pg_encoding_to_char",
       {oid::kInt4},
       oid::kName,
       [](const std::vector<Val>& a, const Snapshot&) {
         if (a[0].null) return Val();
         return Val::Str(a[0].i == kUtf8Encoding ? "UTF8" : "");
       }},
      // Arrays here are privileges and options, which are always NULL.
      {"array_to_string",
       {kAclArrayOid, oid::kText},
       oid::kText,
       [](const std::vector<Val>&, const Snapshot&) { return Val(); }},
      {"has_database_privilege",
       {oid::kName, oid::kText},
       oid::kBool,
       [](const std::vector<Val>& a, const Snapshot& s) {
         if (a[0].null || a[1].null) return Val();
         return Bool(a[0].s == s.ctx->database);
       }},
  };
  return kFunctions;
}

std::optional<bool> Truth(const Node& n, const Row& row, const Snapshot& snap) {
  Val v = Eval(n, row, snap);
  if (v.null) return std::nullopt;
  return v.i != 0;
}

Val Eval(const Node& n, const Row& row, const Snapshot& snap) {
  using K = Node::Kind;
  switch (n.kind) {
    case K::kField:
      return row[n.field];
    case K::kConst:
      return n.value;
    case K::kCompare: {
      Val a = Eval(n.args[0], row, snap), b = Eval(n.args[1], row, snap);
      if (a.null || b.null) return Val();
      int c = CompareVals(a, b, static_cast<uint32_t>(n.value.i));
      if (n.op == "=") return Bool(c == 0);
      if (n.op == "<>") return Bool(c != 0);
      if (n.op == "<") return Bool(c < 0);
      if (n.op == "<=") return Bool(c <= 0);
      if (n.op == ">") return Bool(c > 0);
      return Bool(c >= 0);
    }
    case K::kRegex: {
      Val a = Eval(n.args[0], row, snap);
      if (a.null || n.re == nullptr) return Val();
      return Bool(RE2::PartialMatch(a.s, *n.re) != n.negated);
    }
    case K::kIn: {
      Val a = Eval(n.args[0], row, snap);
      if (a.null) return Val();
      const uint32_t type = IsIntType(n.args[0].type) ? n.args[0].type : oid::kText;
      bool saw_null = false;
      for (size_t k = 1; k < n.args.size(); ++k) {
        const Val& v = n.args[k].value;
        if (v.null) {
          saw_null = true;
        } else if (CompareVals(a, v, type) == 0) {
          return Bool(!n.negated);
        }
      }
      if (saw_null) return Val();
      return Bool(n.negated);
    }
    case K::kAnd: {
      bool unknown = false;
      for (const Node& a : n.args) {
        auto t = Truth(a, row, snap);
        if (t.has_value() && !*t) return Bool(false);
        if (!t.has_value()) unknown = true;
      }
      return unknown ? Val() : Bool(true);
    }
    case K::kOr: {
      bool unknown = false;
      for (const Node& a : n.args) {
        auto t = Truth(a, row, snap);
        if (t.has_value() && *t) return Bool(true);
        if (!t.has_value()) unknown = true;
      }
      return unknown ? Val() : Bool(false);
    }
    case K::kNot: {
      auto t = Truth(n.args[0], row, snap);
      return t.has_value() ? Bool(!*t) : Val();
    }
    case K::kIsNull:
      return Bool(Eval(n.args[0], row, snap).null != n.negated);
    case K::kCase: {
      size_t k = 0;
      Val operand;
      if (n.has_arg) operand = Eval(n.args[k++], row, snap);
      const size_t pairs_end = n.args.size() - (n.has_else ? 1 : 0);
      for (; k < pairs_end; k += 2) {
        bool hit;
        if (n.has_arg) {
          Val w = Eval(n.args[k], row, snap);
          const uint32_t type = IsIntType(n.args[k].type) ? n.args[k].type : oid::kText;
          hit = !operand.null && !w.null && CompareVals(operand, w, type) == 0;
        } else {
          hit = Truth(n.args[k], row, snap).value_or(false);
        }
        if (hit) return Eval(n.args[k + 1], row, snap);
      }
      return n.has_else ? Eval(n.args.back(), row, snap) : Val();
    }
    case K::kFunc: {
      std::vector<Val> args;
      for (const Node& a : n.args) args.push_back(Eval(a, row, snap));
      return n.fn(args, snap);
    }
    case K::kCast: {
      const Node& arg = n.args[0];
      Val v = Eval(arg, row, snap);
      if (v.null) return v;
      if (n.type == kRegtypeOid) return Val::Str(std::string(FormatTypeName(v.i)));
      if (n.type == kRegclassOid) {
        const CatalogRelation* rel = snap.Find(v.i);
        if (rel == nullptr) return Val::Str(StrCat(v.i));
        // Qualified when its schema is not on the search path.
        std::string name = QuoteIdent(rel->name);
        if (rel->namespace_oid == kInformationSchemaNamespaceOid) {
          name = StrCat("information_schema.", name);
        }
        return Val::Str(std::move(name));
      }
      if (IsStringType(n.type) && IsIntType(arg.type)) return Val::Str(StrCat(v.i));
      return v;
    }
  }
  return Val();
}

}  // namespace timestore::sql::psql_internal
