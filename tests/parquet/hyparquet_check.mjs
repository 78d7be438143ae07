#!/usr/bin/env node
// A second independent Parquet reader (hyparquet, pure JavaScript) for what
// DuckDB cannot show: DuckDB reads TIMESTAMP(NANOS) in microseconds, so the
// nanoseconds a file holds are checked here. Prints one JSON line per file,
//   {"columns": [names], "rows": [[cell, ...], ...]}   or   {"error": "message"}
// cells as in duckdb_parquet_check.mjs; timestamps as integer nanoseconds.
// hyparquet decodes uncompressed and snappy pages (not zstd).
//
//   node tests/parquet/hyparquet_check.mjs FILE.parquet [FILE.parquet ...]
import {createRequire} from 'node:module';
import {fileURLToPath, pathToFileURL} from 'node:url';
import fs from 'node:fs';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const nodeDir = process.env.TIMESTORE_NODE_DIR || path.join(here, '..', 'node');

let hyparquet;
try {
  const entry = createRequire(path.join(nodeDir, 'package.json')).resolve('hyparquet');
  hyparquet = await import(pathToFileURL(entry).href);
} catch (e) {
  process.stderr.write(`hyparquet_check: cannot load hyparquet from ${nodeDir}: ${e.message}\n`);
  process.exit(2);
}

function cell(v) {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'string') return v;
  return String(v);
}

// Timestamps stay integers: no Date, no rounding.
const parsers = {
  timestampFromMilliseconds: (v) => BigInt(v) * 1000000n,
  timestampFromMicroseconds: (v) => BigInt(v) * 1000n,
  timestampFromNanoseconds: (v) => BigInt(v),
};

for (const file of process.argv.slice(2)) {
  try {
    const bytes = fs.readFileSync(file);
    const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const asyncBuffer = {byteLength: ab.byteLength, slice: (s, e) => ab.slice(s, e)};
    const metadata = await hyparquet.parquetMetadataAsync(asyncBuffer);
    const columns = metadata.schema.slice(1).map((s) => s.name);
    let rows = [];
    await hyparquet.parquetRead({
      file: asyncBuffer,
      metadata,
      parsers,
      onComplete: (data) => { rows = data; },
    });
    process.stdout.write(JSON.stringify({columns, rows: rows.map((r) => r.map(cell))}) + '\n');
  } catch (e) {
    process.stdout.write(JSON.stringify({error: `${file}: ${e.message || e}`}) + '\n');
  }
}
