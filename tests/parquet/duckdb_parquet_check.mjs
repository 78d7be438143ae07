#!/usr/bin/env node
// Asks DuckDB, an independent Parquet reader, about files Timestore wrote:
// runs each SQL statement given and prints one JSON line per statement,
//   {"columns": [names], "rows": [[cell, ...], ...]}   or   {"error": "message"}
// with every cell as text (null stays null): integers exact, doubles in
// JavaScript's shortest round-trip form ("NaN", "Infinity", "-0" included),
// booleans "true"/"false", anything else as DuckDB prints it.
//
//   node tests/parquet/duckdb_parquet_check.mjs 'SELECT ...' ['SELECT ...' ...]
//
// Used by tests/parquet/parquet_writer_test.cc and
// tests/e2e/parquet_export_test.cc. Exits 2 when DuckDB cannot be loaded.
import {createRequire} from 'node:module';
import {fileURLToPath} from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const nodeDir = process.env.TIMESTORE_NODE_DIR || path.join(here, '..', 'node');

let duckdb;
try {
  duckdb = createRequire(path.join(nodeDir, 'package.json'))('@duckdb/node-api');
} catch (e) {
  process.stderr.write(`duckdb_parquet_check: cannot load @duckdb/node-api from ${nodeDir}: ` +
                       `${e.message}\n`);
  process.exit(2);
}

function cell(v) {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  return String(v);
}

const instance = await duckdb.DuckDBInstance.create(':memory:', {threads: '1'});
const conn = await instance.connect();
for (const sql of process.argv.slice(2)) {
  try {
    const reader = await conn.runAndReadAll(sql);
    const rows = reader.getRows().map((r) => r.map(cell));
    process.stdout.write(JSON.stringify({columns: reader.columnNames(), rows}) + '\n');
  } catch (e) {
    process.stdout.write(JSON.stringify({error: String(e.message || e)}) + '\n');
  }
}
