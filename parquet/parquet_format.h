// The Apache Parquet file format, as much of it as ParquetWriter writes
// (apache/parquet-format: parquet.thrift, Encodings.md). Every number here is
// fixed by that specification: never renumber.
//
//   file        := "PAR1" | row group* | FileMetaData | u32le length | "PAR1"
//   row group   := column chunk per column, in schema order
//   column chunk:= [dictionary page] | data page+
//   page        := PageHeader (Thrift compact) | body (compressed as a whole)
//   data page v1 body (uncompressed):
//                  [u32le length | repetition levels]   LIST columns only
//                  [u32le length | definition levels]   OPTIONAL and LIST columns
//                  values
//   definition levels: RLE/bit-packed hybrid, bit width 1 (1 = value present);
//                  LIST columns (3-level: optional group (LIST) | repeated
//                  group list | required element): 0 null, 1 empty, 2 an
//                  element (one less for a column that is not nullable), and
//                  repetition levels of width 1 (0 starts a row)
//   values:  PLAIN: INT64/DOUBLE 8 bytes little-endian, BOOLEAN one bit each
//                   (LSB first), BYTE_ARRAY u32le length | bytes,
//                   FIXED_LEN_BYTE_ARRAY (uuid) 16 bytes; nulls are
//                   not stored
//            RLE_DICTIONARY: u8 bit width | RLE/bit-packed hybrid of indices
//                   into the chunk's dictionary page (PLAIN values)
//   RLE/bit-packed hybrid := run*
//      run := varint(count << 1) | value in ceil(width / 8) bytes little-endian
//           | varint(groups << 1 | 1) | groups * 8 values of `width` bits,
//             packed LSB first (the last group padded with zeros)
#pragma once

#include <cstdint>

namespace timestore::parquet {

inline constexpr char kMagic[] = "PAR1";

enum class PhysicalType : int32_t {
  kBoolean = 0,
  kInt32 = 1,
  kInt64 = 2,
  kInt96 = 3,
  kFloat = 4,
  kDouble = 5,
  kByteArray = 6,
  kFixedLenByteArray = 7,
};

enum class ConvertedType : int32_t { kUtf8 = 0, kList = 3, kInt64 = 18, kJson = 19 };

enum class Repetition : int32_t { kRequired = 0, kOptional = 1, kRepeated = 2 };

enum class Encoding : int32_t {
  kPlain = 0,
  kPlainDictionary = 2,  // deprecated: PLAIN dictionary pages + RLE_DICTIONARY instead
  kRle = 3,
  kBitPacked = 4,
  kRleDictionary = 8,
};

enum class CompressionCodec : int32_t { kUncompressed = 0, kSnappy = 1, kZstd = 6 };

enum class PageType : int32_t {
  kDataPage = 0,
  kIndexPage = 1,
  kDictionaryPage = 2,
  kDataPageV2 = 3
};

// Field ids of the Thrift structs written (parquet.thrift).
namespace field {
// FileMetaData
inline constexpr int16_t kFileVersion = 1, kFileSchema = 2, kFileNumRows = 3, kFileRowGroups = 4,
                         kFileKeyValue = 5, kFileCreatedBy = 6, kFileColumnOrders = 7;
// SchemaElement
inline constexpr int16_t kSchemaType = 1, kSchemaTypeLength = 2, kSchemaRepetition = 3,
                         kSchemaName = 4, kSchemaNumChildren = 5, kSchemaConvertedType = 6,
                         kSchemaLogicalType = 10;
// LogicalType (a union)
inline constexpr int16_t kLogicalString = 1, kLogicalList = 3, kLogicalTimestamp = 8,
                         kLogicalInteger = 10, kLogicalJson = 12, kLogicalUuid = 14;
// TimestampType, TimeUnit, IntType
inline constexpr int16_t kTimestampAdjustedToUtc = 1, kTimestampUnit = 2;
inline constexpr int16_t kUnitMillis = 1, kUnitMicros = 2, kUnitNanos = 3;
inline constexpr int16_t kIntBitWidth = 1, kIntSigned = 2;
// RowGroup
inline constexpr int16_t kRowGroupColumns = 1, kRowGroupTotalByteSize = 2, kRowGroupNumRows = 3,
                         kRowGroupFileOffset = 5, kRowGroupTotalCompressedSize = 6,
                         kRowGroupOrdinal = 7;
// ColumnChunk
inline constexpr int16_t kChunkFileOffset = 2, kChunkMetaData = 3;
// ColumnMetaData
inline constexpr int16_t kMetaType = 1, kMetaEncodings = 2, kMetaPath = 3, kMetaCodec = 4,
                         kMetaNumValues = 5, kMetaTotalUncompressed = 6, kMetaTotalCompressed = 7,
                         kMetaDataPageOffset = 9, kMetaDictionaryPageOffset = 11,
                         kMetaStatistics = 12, kMetaEncodingStats = 13;
// Statistics
inline constexpr int16_t kStatsNullCount = 3, kStatsMaxValue = 5, kStatsMinValue = 6;
// PageEncodingStats
inline constexpr int16_t kPesPageType = 1, kPesEncoding = 2, kPesCount = 3;
// PageHeader, DataPageHeader, DictionaryPageHeader
inline constexpr int16_t kPageType = 1, kPageUncompressedSize = 2, kPageCompressedSize = 3,
                         kPageDataHeader = 5, kPageDictionaryHeader = 7;
inline constexpr int16_t kDataNumValues = 1, kDataEncoding = 2, kDataDefinitionEncoding = 3,
                         kDataRepetitionEncoding = 4;
inline constexpr int16_t kDictNumValues = 1, kDictEncoding = 2;
// KeyValue
inline constexpr int16_t kKey = 1, kValue = 2;
// ColumnOrder (a union)
inline constexpr int16_t kColumnOrderTypeDefined = 1;
}  // namespace field

}  // namespace timestore::parquet
