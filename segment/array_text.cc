#include "segment/array_text.h"

#include <charconv>
#include <cmath>

#include "common/json_writer.h"
#include "segment/typed_text.h"

namespace timestore {
namespace {

void Truncate(ArrayElements* out, size_t n) {
  out->ints.resize(std::min(out->ints.size(), n));
  out->doubles.resize(std::min(out->doubles.size(), n));
  out->bools.resize(std::min(out->bools.size(), n));
  out->strings.resize(std::min(out->strings.size(), n));
}

void AppendElement(const ArrayElements& in, size_t i, std::string* out) {
  switch (in.element) {
    case ColumnType::kDouble:
      // -0 is 0: equal values have equal text (doubles compare -0 == 0).
      AppendJsonDouble(out, in.doubles[i] == 0 ? 0.0 : in.doubles[i]);
      return;
    case ColumnType::kBoolean:
      out->append(in.bools[i] ? "true" : "false");
      return;
    case ColumnType::kString:
      AppendJsonString(out, in.strings[i]);
      return;
    default:
      AppendJsonInt(out, in.ints[i]);
      return;
  }
}

// Parses one element starting at text[*pos]; leaves *pos after it.
bool ParseElement(std::string_view text, size_t* pos, ArrayElements* out) {
  const size_t start = *pos;
  if (out->element == ColumnType::kString) {
    if (start >= text.size() || text[start] != '"') return false;
    size_t j = start + 1;
    bool escaped = false;
    while (j < text.size() && text[j] != '"') {
      if (text[j] == '\\') {
        escaped = true;
        ++j;
      }
      ++j;
    }
    if (j >= text.size()) return false;
    *pos = j + 1;
    if (!escaped) {
      out->strings.emplace_back(text.substr(start + 1, j - start - 1));
      return true;
    }
    std::optional<std::string> s = JsonStringContent(text.substr(start, j + 1 - start));
    if (!s) return false;
    out->strings.push_back(std::move(*s));
    return true;
  }
  size_t end = start;
  while (end < text.size() && text[end] != ',' && text[end] != ']') ++end;
  const std::string_view token = text.substr(start, end - start);
  *pos = end;
  if (token.empty()) return false;
  const char* first = token.data();
  const char* last = token.data() + token.size();
  switch (out->element) {
    case ColumnType::kBoolean:
      if (token != "true" && token != "false") return false;
      out->bools.push_back(token == "true" ? 1 : 0);
      return true;
    case ColumnType::kDouble: {
      double d;
      auto [p, ec] = std::from_chars(first, last, d);
      if (ec != std::errc() || p != last || !std::isfinite(d)) return false;
      out->doubles.push_back(d);
      return true;
    }
    case ColumnType::kInteger: {
      int64_t v;
      auto [p, ec] = std::from_chars(first, last, v);
      if (ec != std::errc() || p != last) return false;
      out->ints.push_back(v);
      return true;
    }
    default:
      return false;
  }
}

}  // namespace

size_t ArrayElements::size() const {
  switch (element) {
    case ColumnType::kDouble:
      return doubles.size();
    case ColumnType::kBoolean:
      return bools.size();
    case ColumnType::kString:
      return strings.size();
    default:
      return ints.size();
  }
}

void ArrayElements::clear() {
  ints.clear();
  doubles.clear();
  bools.clear();
  strings.clear();
}

std::optional<size_t> ParseArrayText(std::string_view text, ArrayElements* out) {
  const size_t before = out->size();
  auto fail = [&]() -> std::optional<size_t> {
    Truncate(out, before);
    return std::nullopt;
  };
  if (text.size() < 2 || text.front() != '[' || text.back() != ']') return fail();
  if (text.size() > 2) {
    size_t pos = 1;
    while (true) {
      if (!ParseElement(text, &pos, out)) return fail();
      if (pos >= text.size()) return fail();
      if (text[pos] == ']') {
        if (pos + 1 != text.size()) return fail();
        break;
      }
      if (text[pos] != ',') return fail();
      ++pos;
    }
  }
  const size_t count = out->size() - before;
  // Canonical only when writing the elements back gives the same bytes
  // ("1.0", "1e2", "\u0041" parse but are not canonical).
  // Per thread (comparisons parse two values each): kept unless it grew
  // past 1 MiB.
  thread_local std::string again;
  again.clear();
  AppendArrayText(*out, before, count, &again);
  const bool same = again == text;
  if (again.capacity() > (1u << 20)) std::string().swap(again);
  if (!same) return fail();
  return count;
}

void AppendArrayText(const ArrayElements& in, size_t begin, size_t count, std::string* out) {
  out->push_back('[');
  for (size_t i = 0; i < count; ++i) {
    if (i > 0) out->push_back(',');
    AppendElement(in, begin + i, out);
  }
  out->push_back(']');
}

}  // namespace timestore
