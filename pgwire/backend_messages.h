// What the server sends (PostgreSQL protocol 3.0): each message is
//   type u8 | length i32 (big-endian, includes itself, not the type) | body
// and BackendWriter appends them to one output buffer, which the connection
// flushes to the socket when the client waits for an answer (ReadyForQuery,
// Flush, or the buffer growing large).
//
//   'R' Authentication  code i32 | data   (0 Ok, 3 cleartext, 5 MD5 + salt[4],
//                       10 SASL + mechanism String* + NUL, 11 SASL continue, 12 SASL final)
//   'S' ParameterStatus name String | value String
//   'K' BackendKeyData  pid i32 | secret i32
//   'Z' ReadyForQuery   status u8 ('I' idle, 'T' in a block, 'E' in a failed block)
//   'T' RowDescription  n i16 | (name String | table oid i32 | column i16 | type oid i32 |
//                       type size i16 | type modifier i32 | format i16) * n
//   'D' DataRow         n i16 | (length i32 (-1 = NULL) | bytes) * n
//   'C' CommandComplete tag String     'I' EmptyQueryResponse
//   'E' ErrorResponse, 'N' NoticeResponse  (field code u8 | value String)* | NUL
//   '1' ParseComplete  '2' BindComplete  '3' CloseComplete  'n' NoData  's' PortalSuspended
//   't' ParameterDescription n i16 | type oid i32 * n
//   'v' NegotiateProtocolVersion newest minor i32 | n i32 | option String * n
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sql/sql_result.h"

namespace timestore::pgwire {

// The fields of an ErrorResponse or NoticeResponse.
struct ErrorFields {
  std::string severity = "ERROR";  // ERROR, FATAL, WARNING, NOTICE, ...
  std::string sqlstate = "XX000";
  std::string message;
  std::string detail;  // optional fields: empty is left out
  std::string hint;
  int position = 0;  // 1-based character offset into the query; 0 is left out
};

// Not thread-safe.
class BackendWriter {
 public:
  void AuthenticationOk() { Authentication(0, ""); }
  void AuthenticationCleartextPassword() { Authentication(3, ""); }
  void AuthenticationMd5Password(std::string_view salt4) { Authentication(5, salt4); }
  void AuthenticationSasl(const std::vector<std::string>& mechanisms);
  void AuthenticationSaslContinue(std::string_view data) { Authentication(11, data); }
  void AuthenticationSaslFinal(std::string_view data) { Authentication(12, data); }

  void ParameterStatus(std::string_view name, std::string_view value);
  void BackendKeyData(int32_t pid, int32_t secret);
  void ReadyForQuery(char status);
  void NegotiateProtocolVersion(int32_t newest_minor, const std::vector<std::string>& options);

  // `formats` has one code per column (0 text, 1 binary), or is empty (text).
  void RowDescription(const std::vector<sql::SqlColumn>& columns,
                      const std::vector<int16_t>& formats);
  void CommandComplete(std::string_view tag);
  void EmptyQueryResponse() { Empty('I'); }
  void ErrorResponse(const ErrorFields& error) { Fields('E', error); }
  void NoticeResponse(const ErrorFields& notice) { Fields('N', notice); }
  void ParseComplete() { Empty('1'); }
  void BindComplete() { Empty('2'); }
  void CloseComplete() { Empty('3'); }
  void NoData() { Empty('n'); }
  void PortalSuspended() { Empty('s'); }
  void ParameterDescription(const std::vector<uint32_t>& types);

  // A DataRow is built in place: BeginDataRow, then for each column either
  // NullValue or BeginValue + append the bytes to buffer() + EndValue, then
  // EndDataRow.
  void BeginDataRow(int16_t columns);
  void NullValue() { Int32(-1); }
  size_t BeginValue();
  void EndValue(size_t mark);
  void EndDataRow() { EndMessage(message_start_); }

  std::string* buffer() { return &out_; }
  size_t size() const { return out_.size(); }
  void Clear() { out_.clear(); }
  // Drops everything written since `size` (a message being built that failed).
  void Truncate(size_t size) { out_.resize(size); }

 private:
  void Authentication(int32_t code, std::string_view data);
  void Fields(char type, const ErrorFields& fields);
  void Empty(char type);
  size_t BeginMessage(char type);
  void EndMessage(size_t start);  // patches the length of the message begun at `start`
  void Int16(int16_t v);
  void Int32(int32_t v);
  void String(std::string_view s);  // bytes and a NUL

  std::string out_;
  size_t message_start_ = 0;
};

// Writes `v` big-endian at `p` (used by the value encoders too).
void StoreBigEndian32(char* p, uint32_t v);

}  // namespace timestore::pgwire
