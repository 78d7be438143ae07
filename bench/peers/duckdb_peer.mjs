#!/usr/bin/env node
// DuckDB, embedded through npm @duckdb/node-api (tests/node/package.json, installed by
// scripts/install-deps.sh), driven by bench/peers/tsbs_peer.py (class DuckDB) for the
// TSBS side-by-side benchmark: one JSON command per stdin line, one JSON answer per
// stdout line, so the load, the sizes, the checksums and the output lines are those of
// every other peer while each statement is timed here, in-process (no network).
//
//   node bench/peers/duckdb_peer.mjs --version
//       prints "<DuckDB version> (@duckdb/node-api <version>)" and exits
//   node bench/peers/duckdb_peer.mjs --db FILE [--threads 2]
//       opens (creates) the database file FILE with that many threads, then serves:
//   {"op":"hello"}          -> {"duckdb_version","node_api_version","threads"}
//   {"op":"exec","sql":S}   -> {"ms"}          S run to completion, result dropped
//   {"op":"query","sql":S}  -> {"ms","rows"}   rows: arrays of JSON values
//   {"op":"close"}          -> {"closed":true}, then the process exits
// "ms" is performance.now() around connection.runAndReadAll(S): the statement run and
// every result chunk fetched into memory; turning the chunks into JS values and JSON
// is not timed (as the HTTP peers' JSON parsing is not). BIGINT values (the times, as
// integer seconds) become JS numbers. Any failure answers {"error": message}.
// Environment: TSBS_NODE_DIR, where node_modules/@duckdb/node-api lives (tests/node).

import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const nodeDir = process.env.TSBS_NODE_DIR ||
  fileURLToPath(new URL('../../tests/node/', import.meta.url));
const require = createRequire(path.join(nodeDir, 'package.json'));
let duckdb;
try {
  duckdb = require('@duckdb/node-api');
} catch (e) {
  process.stderr.write(`duckdb_peer: cannot load @duckdb/node-api from ${nodeDir} ` +
    `(scripts/install-deps.sh, or: cd tests/node && npm ci): ${e.message}\n`);
  process.exit(3);
}
const apiVersion = JSON.parse(readFileSync(
  path.join(path.dirname(require.resolve('@duckdb/node-api')), '..', 'package.json'),
  'utf8')).version;

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

if (process.argv.includes('--version')) {
  console.log(`${duckdb.version().replace(/^v/, '')} (@duckdb/node-api ${apiVersion})`);
  process.exit(0);
}

const dbPath = arg('--db');
const threads = parseInt(arg('--threads', '2'), 10);
if (!dbPath || !(threads > 0)) {
  process.stderr.write('usage: duckdb_peer.mjs --db FILE [--threads N] | --version\n');
  process.exit(2);
}

function jsValue(v) {
  if (v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') {
    return v;
  }
  if (typeof v === 'bigint') return Number(v);
  return String(v);  // not produced by the benchmark's queries
}

function answer(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');  // synchronous on a pipe (Linux)
}

const instance = await duckdb.DuckDBInstance.create(dbPath, { threads: String(threads) });
const conn = await instance.connect();
await conn.run(`SET threads = ${threads}`);

async function handle(cmd) {
  switch (cmd.op) {
    case 'hello': {
      const r = await conn.runAndReadAll("SELECT current_setting('threads')");
      return { duckdb_version: duckdb.version(), node_api_version: apiVersion,
               threads: Number(r.getRows()[0][0]) };
    }
    case 'exec': {
      const t0 = performance.now();
      await conn.runAndReadAll(cmd.sql);
      return { ms: performance.now() - t0 };
    }
    case 'query': {
      const t0 = performance.now();
      const reader = await conn.runAndReadAll(cmd.sql);
      const ms = performance.now() - t0;
      return { ms, rows: reader.getRows().map((r) => r.map(jsValue)) };
    }
    case 'close':
      return { closed: true };
    default:
      throw new Error(`unknown op ${cmd.op}`);
  }
}

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of rl) {
  if (!line.trim()) continue;
  let cmd;
  try {
    cmd = JSON.parse(line);
    answer(await handle(cmd));
  } catch (e) {
    answer({ error: String(e && e.message ? e.message : e) });
  }
  if (cmd && cmd.op === 'close') break;
}
// stdin closed or "close": the database file is closed (and checkpointed) before exit.
conn.closeSync();
instance.closeSync();
