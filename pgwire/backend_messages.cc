#include "pgwire/backend_messages.h"

#include <charconv>

namespace timestore::pgwire {
namespace {

// A String field cannot hold a NUL: the client would end it there and read
// the rest as the next field. Names, tags and error texts come from user
// input (quoted identifiers can hold anything the grammar allows), so any
// NUL is dropped rather than corrupting the stream.
std::string_view NoNul(std::string_view s, std::string* scratch) {
  if (s.find('\0') == std::string_view::npos) return s;
  scratch->clear();
  for (char c : s)
    if (c != '\0') scratch->push_back(c);
  return *scratch;
}

// pg_type's typlen: the fixed size of a value, -1 for variable-length types.
int16_t TypeSize(uint32_t oid) {
  switch (oid) {
    case sql::oid::kBool:
      return 1;
    case sql::oid::kInt2:
      return 2;
    case sql::oid::kInt4:
    case sql::oid::kOid:
    case sql::oid::kFloat4:
      return 4;
    case sql::oid::kInt8:
    case sql::oid::kFloat8:
    case sql::oid::kTimestamp:
    case sql::oid::kTimestamptz:
      return 8;
    case sql::oid::kName:
      return 64;
    case sql::oid::kInterval:
      return 16;
    case sql::oid::kUnknown:
      return -2;  // a C string, as PostgreSQL describes it
  }
  return -1;
}

}  // namespace

void StoreBigEndian32(char* p, uint32_t v) {
  p[0] = static_cast<char>(v >> 24);
  p[1] = static_cast<char>(v >> 16);
  p[2] = static_cast<char>(v >> 8);
  p[3] = static_cast<char>(v);
}

void BackendWriter::Int16(int16_t v) {
  const auto u = static_cast<uint16_t>(v);
  out_.push_back(static_cast<char>(u >> 8));
  out_.push_back(static_cast<char>(u));
}

void BackendWriter::Int32(int32_t v) {
  char b[4];
  StoreBigEndian32(b, static_cast<uint32_t>(v));
  out_.append(b, 4);
}

void BackendWriter::String(std::string_view s) {
  std::string scratch;
  out_.append(NoNul(s, &scratch));
  out_.push_back('\0');
}

size_t BackendWriter::BeginMessage(char type) {
  const size_t start = out_.size();
  out_.push_back(type);
  out_.append(4, '\0');
  return start;
}

void BackendWriter::EndMessage(size_t start) {
  StoreBigEndian32(out_.data() + start + 1, static_cast<uint32_t>(out_.size() - start - 1));
}

void BackendWriter::Empty(char type) { EndMessage(BeginMessage(type)); }

void BackendWriter::Authentication(int32_t code, std::string_view data) {
  const size_t start = BeginMessage('R');
  Int32(code);
  out_.append(data);
  EndMessage(start);
}

void BackendWriter::AuthenticationSasl(const std::vector<std::string>& mechanisms) {
  const size_t start = BeginMessage('R');
  Int32(10);
  for (const auto& m : mechanisms) String(m);
  out_.push_back('\0');
  EndMessage(start);
}

void BackendWriter::ParameterStatus(std::string_view name, std::string_view value) {
  const size_t start = BeginMessage('S');
  String(name);
  String(value);
  EndMessage(start);
}

void BackendWriter::BackendKeyData(int32_t pid, int32_t secret) {
  const size_t start = BeginMessage('K');
  Int32(pid);
  Int32(secret);
  EndMessage(start);
}

void BackendWriter::ReadyForQuery(char status) {
  const size_t start = BeginMessage('Z');
  out_.push_back(status);
  EndMessage(start);
}

void BackendWriter::NegotiateProtocolVersion(int32_t newest_minor,
                                             const std::vector<std::string>& options) {
  const size_t start = BeginMessage('v');
  Int32(newest_minor);
  Int32(static_cast<int32_t>(options.size()));
  for (const auto& o : options) String(o);
  EndMessage(start);
}

void BackendWriter::RowDescription(const std::vector<sql::SqlColumn>& columns,
                                   const std::vector<int16_t>& formats) {
  const size_t start = BeginMessage('T');
  Int16(static_cast<int16_t>(columns.size()));
  for (size_t i = 0; i < columns.size(); ++i) {
    String(columns[i].name);
    Int32(0);  // not a table column
    Int16(0);
    Int32(static_cast<int32_t>(columns[i].type_oid));
    Int16(TypeSize(columns[i].type_oid));
    Int32(-1);  // no type modifier
    Int16(i < formats.size() ? formats[i] : 0);
  }
  EndMessage(start);
}

void BackendWriter::CommandComplete(std::string_view tag) {
  const size_t start = BeginMessage('C');
  String(tag);
  EndMessage(start);
}

void BackendWriter::Fields(char type, const ErrorFields& f) {
  const size_t start = BeginMessage(type);
  auto field = [this](char code, std::string_view value) {
    out_.push_back(code);
    String(value);
  };
  field('S', f.severity);
  field('V', f.severity);  // the non-localized severity (9.6+); we never localize
  field('C', f.sqlstate);
  field('M', f.message);
  if (!f.detail.empty()) field('D', f.detail);
  if (!f.hint.empty()) field('H', f.hint);
  if (f.position > 0) {
    char buf[16];
    auto r = std::to_chars(buf, buf + sizeof(buf), f.position);
    field('P', std::string_view(buf, r.ptr - buf));
  }
  out_.push_back('\0');
  EndMessage(start);
}

void BackendWriter::ParameterDescription(const std::vector<uint32_t>& types) {
  const size_t start = BeginMessage('t');
  Int16(static_cast<int16_t>(types.size()));
  for (uint32_t t : types) Int32(static_cast<int32_t>(t));
  EndMessage(start);
}

void BackendWriter::BeginDataRow(int16_t columns) {
  message_start_ = BeginMessage('D');
  Int16(columns);
}

size_t BackendWriter::BeginValue() {
  const size_t mark = out_.size();
  out_.append(4, '\0');
  return mark;
}

void BackendWriter::EndValue(size_t mark) {
  StoreBigEndian32(out_.data() + mark, static_cast<uint32_t>(out_.size() - mark - 4));
}

}  // namespace timestore::pgwire
