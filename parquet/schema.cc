// The Parquet schema of Timestore columns (the type mapping of
// parquet_writer.h and docs/export.md).
#include <string>
#include <vector>

#include "parquet/parquet_internal.h"

namespace timestore::parquet::internal {
namespace {

void EmptyStruct(CompactWriter& w, int16_t id) {
  w.FieldStructBegin(id);
  w.StructEnd();
}

// A logical type: a union holding one empty struct (STRING, JSON, UUID, LIST).
void LogicalType(CompactWriter& w, int16_t member) {
  w.FieldStructBegin(field::kSchemaLogicalType);
  EmptyStruct(w, member);
  w.StructEnd();
}

// The element of one leaf of type `t` (a scalar or an array's element).
void WriteLeaf(CompactWriter& w, std::string_view name, ColumnType t, Repetition repetition) {
  w.StructBegin();
  w.FieldI32(field::kSchemaType, static_cast<int32_t>(PhysicalOf(t)));
  if (t == ColumnType::kUuid) w.FieldI32(field::kSchemaTypeLength, 16);
  w.FieldI32(field::kSchemaRepetition, static_cast<int32_t>(repetition));
  w.FieldBinary(field::kSchemaName, name);
  switch (t) {
    case ColumnType::kTimestamp:
      w.FieldStructBegin(field::kSchemaLogicalType);
      w.FieldStructBegin(field::kLogicalTimestamp);
      w.FieldBool(field::kTimestampAdjustedToUtc, true);
      w.FieldStructBegin(field::kTimestampUnit);
      EmptyStruct(w, field::kUnitNanos);
      w.StructEnd();  // TimeUnit
      w.StructEnd();  // TimestampType
      w.StructEnd();  // LogicalType
      break;
    case ColumnType::kInteger:
      w.FieldI32(field::kSchemaConvertedType, static_cast<int32_t>(ConvertedType::kInt64));
      w.FieldStructBegin(field::kSchemaLogicalType);
      w.FieldStructBegin(field::kLogicalInteger);
      w.FieldI8(field::kIntBitWidth, 64);
      w.FieldBool(field::kIntSigned, true);
      w.StructEnd();
      w.StructEnd();
      break;
    case ColumnType::kString:
      w.FieldI32(field::kSchemaConvertedType, static_cast<int32_t>(ConvertedType::kUtf8));
      LogicalType(w, field::kLogicalString);
      break;
    case ColumnType::kJson:
      w.FieldI32(field::kSchemaConvertedType, static_cast<int32_t>(ConvertedType::kJson));
      LogicalType(w, field::kLogicalJson);
      break;
    case ColumnType::kUuid:
      LogicalType(w, field::kLogicalUuid);
      break;
    default:  // double, boolean
      break;
  }
  w.StructEnd();
}

}  // namespace

PhysicalType PhysicalOf(ColumnType t) {
  switch (ArrayElementType(t)) {
    case ColumnType::kTimestamp:
    case ColumnType::kInteger:
      return PhysicalType::kInt64;
    case ColumnType::kDouble:
      return PhysicalType::kDouble;
    case ColumnType::kBoolean:
      return PhysicalType::kBoolean;
    case ColumnType::kUuid:
      return PhysicalType::kFixedLenByteArray;
    default:  // string, json
      return PhysicalType::kByteArray;
  }
}

std::vector<std::string> LeafPath(const ParquetColumn& c) {
  if (IsArrayType(c.type)) return {c.name, "list", "element"};
  return {c.name};
}

void WriteSchemaElements(CompactWriter& w, const ParquetColumn& c) {
  const Repetition outer = c.nullable ? Repetition::kOptional : Repetition::kRequired;
  if (!IsArrayType(c.type)) {
    WriteLeaf(w, c.name, c.type, outer);
    return;
  }
  // The 3-level LIST of the specification (LogicalTypes.md, "Lists"):
  //   <optional|required> group <name> (LIST) { repeated group list { required <type> element; } }
  // Elements are never null (canonical arrays hold none).
  w.StructBegin();
  w.FieldI32(field::kSchemaRepetition, static_cast<int32_t>(outer));
  w.FieldBinary(field::kSchemaName, c.name);
  w.FieldI32(field::kSchemaNumChildren, 1);
  w.FieldI32(field::kSchemaConvertedType, static_cast<int32_t>(ConvertedType::kList));
  LogicalType(w, field::kLogicalList);
  w.StructEnd();
  w.StructBegin();
  w.FieldI32(field::kSchemaRepetition, static_cast<int32_t>(Repetition::kRepeated));
  w.FieldBinary(field::kSchemaName, "list");
  w.FieldI32(field::kSchemaNumChildren, 1);
  w.StructEnd();
  WriteLeaf(w, "element", ArrayElementType(c.type), Repetition::kRequired);
}

}  // namespace timestore::parquet::internal
