#include "parquet/parquet_writer.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "parquet/parquet_format.h"
#include "parquet/parquet_internal.h"
#include "parquet/thrift_compact.h"

#ifndef TIMESTORE_VERSION
#define TIMESTORE_VERSION "0.1.0"
#endif

namespace timestore::parquet {

using internal::PutU32;

ParquetWriter::ParquetWriter(ParquetSink* sink, std::vector<ParquetColumn> schema,
                             ParquetWriterOptions options)
    : sink_(sink), schema_(std::move(schema)), options_(std::move(options)) {
  for (const ParquetColumn& c : schema_) {
    columns_.push_back(std::make_unique<ColumnChunkWriter>(c, options_));
  }
}

ParquetWriter::~ParquetWriter() = default;

absl::StatusOr<std::unique_ptr<ParquetWriter>> ParquetWriter::Create(
    ParquetSink* sink, std::vector<ParquetColumn> schema, ParquetWriterOptions options) {
  if (schema.empty()) return absl::InvalidArgumentError("parquet: a schema needs a column");
  absl::flat_hash_set<std::string> names;
  for (const ParquetColumn& c : schema) {
    if (c.name.empty()) return absl::InvalidArgumentError("parquet: a column has an empty name");
    if (!names.insert(c.name).second) {
      return absl::InvalidArgumentError(StrCat("parquet: column '", c.name, "' appears twice"));
    }
  }
  if (options.page_size == 0 || options.row_group_rows == 0 || options.row_group_bytes == 0) {
    return absl::InvalidArgumentError("parquet: page and row group bounds must be positive");
  }
  if (options.created_by.empty()) options.created_by = "timestore version " TIMESTORE_VERSION;
  std::unique_ptr<ParquetWriter> w(new ParquetWriter(sink, std::move(schema), std::move(options)));
  RETURN_IF_ERROR(w->Write(std::string_view(kMagic, 4)));
  return w;
}

absl::Status ParquetWriter::Write(std::string_view data) {
  absl::Status s = sink_->Append(data);
  if (!s.ok()) {
    broken_ = s;
    return s;
  }
  offset_ += data.size();
  return absl::OkStatus();
}

absl::Status ParquetWriter::Check(std::span<const ColumnVector> columns) const {
  if (columns.size() != schema_.size()) {
    return absl::InvalidArgumentError(
        StrCat("parquet: ", columns.size(), " columns given for a schema of ", schema_.size()));
  }
  for (size_t c = 0; c < columns.size(); ++c) {
    const ColumnVector& v = columns[c];
    const ParquetColumn& col = schema_[c];
    if (v.type != col.type) {
      return absl::InvalidArgumentError(StrCat("parquet: column '", col.name, "' is ",
                                               ColumnTypeName(col.type), ", given ",
                                               ColumnTypeName(v.type)));
    }
    if (v.length != columns[0].length) {
      return absl::InvalidArgumentError(StrCat("parquet: column '", col.name, "' has ", v.length,
                                               " rows, column '", schema_[0].name, "' ",
                                               columns[0].length));
    }
    if (!v.valid.empty() && v.valid.size() < v.length) {
      return absl::InvalidArgumentError(
          StrCat("parquet: column '", col.name, "': validity shorter than its rows"));
    }
    if (!v.all_null) {
      size_t have = 0;
      switch (v.type) {
        case ColumnType::kTimestamp:
        case ColumnType::kInteger:
          have = v.ints.size();
          break;
        case ColumnType::kDouble:
          have = v.doubles.size();
          break;
        case ColumnType::kBoolean:
          have = v.bools.size();
          break;
        TIMESTORE_STRING_LIKE_CASES:
          have = v.ids.size();
          break;
      }
      if (have < v.length) {
        return absl::InvalidArgumentError(
            StrCat("parquet: column '", col.name, "': values shorter than its rows"));
      }
    }
    if (!col.nullable && v.HasNulls()) {
      for (size_t r = 0; r < v.length; ++r) {
        if (v.IsNull(r)) {
          return absl::InvalidArgumentError(
              StrCat("parquet: column '", col.name, "' is not nullable but row ", r, " is null"));
        }
      }
    }
  }
  return absl::OkStatus();
}

absl::Status ParquetWriter::Append(std::span<const ColumnVector> columns) {
  if (finished_) return absl::FailedPreconditionError("parquet: the file is finished");
  RETURN_IF_ERROR(broken_);
  RETURN_IF_ERROR(Check(columns));
  const size_t n = columns[0].length;
  size_t pos = 0;
  while (pos < n) {
    // Slices small enough that the byte bound is checked often.
    const size_t take = std::min<uint64_t>(
        {n - pos, options_.row_group_rows - group_rows_, static_cast<uint64_t>(64 * 1024)});
    for (size_t c = 0; c < columns_.size(); ++c) {
      absl::Status s = columns_[c]->Add(columns[c], pos, pos + take);
      if (!s.ok()) {
        broken_ = s;
        return s;
      }
    }
    pos += take;
    group_rows_ += take;
    rows_ += take;
    uint64_t bytes = 0;
    for (const auto& c : columns_) bytes += c->BufferedBytes();
    if (group_rows_ >= options_.row_group_rows || bytes >= options_.row_group_bytes) {
      RETURN_IF_ERROR(FlushRowGroup());
    }
  }
  return absl::OkStatus();
}

absl::Status ParquetWriter::WriteRowGroup(std::span<const ColumnVector> columns) {
  RETURN_IF_ERROR(Append(columns));
  return FlushRowGroup();
}

absl::Status ParquetWriter::FlushRowGroup() {
  if (finished_) return absl::FailedPreconditionError("parquet: the file is finished");
  RETURN_IF_ERROR(broken_);
  if (group_rows_ == 0) return absl::OkStatus();
  const uint64_t group_offset = offset_;
  std::string metas;
  int64_t uncompressed = 0, compressed = 0;
  for (auto& c : columns_) {
    std::string bytes;
    absl::Status s = c->Finish(offset_, &bytes, &metas, &uncompressed, &compressed);
    if (!s.ok()) {
      broken_ = s;
      return s;
    }
    RETURN_IF_ERROR(Write(bytes));
  }
  std::string rg;
  CompactWriter w(&rg);
  w.StructBegin();
  w.FieldListBegin(field::kRowGroupColumns, CompactType::kStruct, columns_.size());
  rg.append(metas);
  w.FieldI64(field::kRowGroupTotalByteSize, uncompressed);
  w.FieldI64(field::kRowGroupNumRows, static_cast<int64_t>(group_rows_));
  w.FieldI64(field::kRowGroupFileOffset, static_cast<int64_t>(group_offset));
  w.FieldI64(field::kRowGroupTotalCompressedSize, compressed);
  w.FieldI16(field::kRowGroupOrdinal, static_cast<int16_t>(row_group_meta_.size()));
  w.StructEnd();
  row_group_meta_.push_back(std::move(rg));
  group_rows_ = 0;
  return absl::OkStatus();
}

absl::Status ParquetWriter::Finish() {
  RETURN_IF_ERROR(FlushRowGroup());
  std::string meta;
  CompactWriter w(&meta);
  w.StructBegin();
  w.FieldI32(field::kFileVersion, 2);
  size_t elements = 1;
  for (const ParquetColumn& c : schema_) elements += IsArrayType(c.type) ? 3 : 1;
  w.FieldListBegin(field::kFileSchema, CompactType::kStruct, elements);
  w.StructBegin();  // the root
  w.FieldBinary(field::kSchemaName, "schema");
  w.FieldI32(field::kSchemaNumChildren, static_cast<int32_t>(schema_.size()));
  w.StructEnd();
  for (const ParquetColumn& c : schema_) internal::WriteSchemaElements(w, c);
  w.FieldI64(field::kFileNumRows, static_cast<int64_t>(rows_));
  w.FieldListBegin(field::kFileRowGroups, CompactType::kStruct, row_group_meta_.size());
  for (const std::string& rg : row_group_meta_) meta.append(rg);
  if (!options_.key_value_metadata.empty()) {
    w.FieldListBegin(field::kFileKeyValue, CompactType::kStruct,
                     options_.key_value_metadata.size());
    for (const auto& [k, v] : options_.key_value_metadata) {
      w.StructBegin();
      w.FieldBinary(field::kKey, k);
      w.FieldBinary(field::kValue, v);
      w.StructEnd();
    }
  }
  w.FieldBinary(field::kFileCreatedBy, options_.created_by);
  // One per leaf column: every column has one leaf.
  w.FieldListBegin(field::kFileColumnOrders, CompactType::kStruct, schema_.size());
  for (size_t i = 0; i < schema_.size(); ++i) {
    w.StructBegin();
    w.FieldStructBegin(field::kColumnOrderTypeDefined);
    w.StructEnd();
    w.StructEnd();
  }
  w.StructEnd();
  PutU32(&meta, static_cast<uint32_t>(meta.size()));
  meta.append(kMagic, 4);
  RETURN_IF_ERROR(Write(meta));
  finished_ = true;
  return absl::OkStatus();
}

}  // namespace timestore::parquet
