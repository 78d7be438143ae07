#!/usr/bin/env node
// The DuckDB differential oracle for Timestore's SQL (issue 12): random data with
// nulls, NaN, ±Infinity, ±0.0, extremes and tied timestamps goes into a running
// Timestore (JSON ingest and Prometheus remote write, part of it sealed and
// compacted, the rest in memory) and into an in-memory DuckDB table; a few hundred
// generated SELECTs (tests/sql/oracle_grammar.mjs) run in both, and the answers must
// match. DuckDB is asked with PostgreSQL's meaning (see the grammar's header), so a
// mismatch is Timestore departing from PostgreSQL, not DuckDB's dialect.
//
//   node tests/sql/duckdb_oracle.mjs --port P [--seed S] [--count N] [--rows R]
//        [--only I] [--verbose] [--max-print K]
//
// --port     a Timestore serving POST /sql (tests/e2e/sql_oracle_test.cc starts one)
// --seed     data and statements (default 1); the same seed gives the same run
// --count    statements to run (default 400); --rows dataset rows (default 3000)
// --only I   run only statement I (0-based) of the seed's sequence, printing both answers
//
// NaN and ±Infinity come in through Prometheus remote write (JSON ingest cannot
// carry them; the line protocol refuses them) into the same dataset's `value`
// column. Answers compare column names, type families (number, text, boolean,
// timestamp) and values: doubles within 1e-9 (relative, or absolute near 0), NaN
// equal to NaN, timestamps as instants. The row sequence is compared when the
// ORDER BY determines it, only the ORDER BY columns when it orders them alone,
// multisets otherwise (and no rows at all past a LIMIT that ties could cut
// anywhere); rows that ORDER BY values off in their last bits put elsewhere
// match if both answers are sorted and hold the same rows. A first()/last() cell
// matches anything where rows tied at the extreme time hold different values
// (Timestore breaks that tie by storage order; DuckDB says where).
//
// Prints each mismatch (both statements, both answers), then one summary line:
//   duckdb_oracle: seed S: N statements, M matched (E both errors), K known
//   differences, X skipped, F mismatched
// and exits 1 when F > 0 (2 on a setup failure). Known differences are intended
// ones of docs/sql.md ("Differences from PostgreSQL and DuckDB") that the grammar
// cannot steer around; skipped are statements where only one engine raised a
// data exception (class 22), which PostgreSQL leaves to the implementation
// (which subexpressions run, and in what order); both are counted by reason.
import {createRequire} from 'node:module';
import {fileURLToPath} from 'node:url';
import path from 'node:path';

import {Grammar, HOSTS, METRICS, PG_MACROS, REGIONS, Rng, TABLE_COLUMNS, isoMs} from './oracle_grammar.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const nodeDir = process.env.TIMESTORE_NODE_DIR || path.join(here, '..', 'node');

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}
const PORT = parseInt(arg('--port', '0'), 10);
const SEED = parseInt(arg('--seed', '1'), 10);
const COUNT = parseInt(arg('--count', '400'), 10);
const ROWS = parseInt(arg('--rows', '3000'), 10);
const ONLY = arg('--only', null) === null ? -1 : parseInt(arg('--only'), 10);
const VERBOSE = process.argv.includes('--verbose');
const MAX_PRINT = parseInt(arg('--max-print', '25'), 10);
if (!(PORT > 0) || !(COUNT >= 0) || !(ROWS >= 10)) {
  process.stderr.write(
      'usage: duckdb_oracle.mjs --port P [--seed S] [--count N] [--rows R] ' +
      '[--only I] [--verbose] [--max-print K]\n');
  process.exit(2);
}
const BASE = `http://127.0.0.1:${PORT}`;

function die(msg) {
  process.stderr.write(`duckdb_oracle: ${msg}\n`);
  process.exit(2);
}

let duckdb;
try {
  duckdb = createRequire(path.join(nodeDir, 'package.json'))('@duckdb/node-api');
} catch (e) {
  die(`cannot load @duckdb/node-api from ${nodeDir} (scripts/install-deps.sh, or: ` +
      `cd tests/node && npm ci): ${e.message}`);
}

// ---------------------------------------------------------------------------
// The data: one row object per stored row, in ingest order (rid follows it).

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;
const T0 = Date.UTC(2024, 1, 27);  // 2024-02-27: the span crosses Feb 29 and Mar 1
const SPAN = 4 * 86400000;

function makeRows(rng, count) {
  const rows = [];
  const stamps = [];
  const vs = [];
  for (let i = 0; i < count; i++) {
    const remote = rng.chance(0.05);  // NaN and ±Infinity come in by remote write
    let ts = rng.weighted([
      [stamps.length ? 25 : 0, () => rng.pick(stamps)],
      [10, () => T0 + rng.int(0, SPAN / 900000) * 900000],
      [2, () => Date.UTC(2024, 2, 1)],
      [63, () => T0 + rng.int(0, SPAN - 1)],
    ])();
    stamps.push(ts);
    const row = {ts, host: rng.pick(HOSTS), remote};
    if (remote) {
      row.region = rng.chance(0.25) ? null : rng.pick(REGIONS.filter((r) => r !== ''));
      row.value = rng.pick([NaN, NaN, NaN, Infinity, -Infinity, 0, -0, 1.5, 42]);
      row.__name__ = rng.pick(METRICS);
      row.v = row.w = row.n = row.big = row.b = null;
    } else {
      row.region = rng.chance(0.2) ? null : rng.pick(REGIONS);
      row.v = rng.weighted([
        [10, () => null],
        [5, () => rng.pick([0, -0])],
        [3, () => rng.pick([1e300, 2.5e299, 1e-300, -1e-300, 5e-324, -5e-324])],
        [5, () => rng.pick([0.5, 1.5, 2.5, -0.5, -2.5, 3.5])],
        [vs.length ? 10 : 0, () => rng.pick(vs)],
        [67, () => Math.round(rng.gaussian() * 1e5) / (rng.chance(0.5) ? 1e3 : 7)],
      ])();
      if (row.v !== null) vs.push(row.v);
      row.w = rng.chance(0.15) ? null : rng.chance(0.05) ? -0 : rng.int(0, 9);
      row.value = rng.chance(0.1) ? null : Math.round(rng.gaussian() * 3e5) / 1e3;
      row.n = rng.chance(0.15) ? null : BigInt(rng.int(-50, 50));
      row.big = rng.weighted([
        [20, () => null],
        [10, () => rng.pick([INT64_MIN, INT64_MAX, INT64_MAX - 1n, INT64_MIN + 1n])],
        [10, () => rng.pick([0n, 1n, -1n, 9007199254740993n, -9007199254740993n, 2147483648n])],
        [
          60,
          () =>
              BigInt.asIntN(64, (BigInt(rng.int(0, 2 ** 31)) << 33n) ^ BigInt(rng.int(0, 2 ** 31)))
        ],
      ])();
      row.b = rng.chance(0.25) ? null : rng.chance(0.5);
      row.__name__ = null;
    }
    rows.push(row);
  }
  return rows;
}

// Batches as they are sent: JSON rows then remote-write rows of each chunk, so
// that rid (the order rows are acknowledged in) is also the ingest order that
// Timestore's first/last break timestamp ties with.
function batches(rows, chunks) {
  const out = [];
  const per = Math.ceil(rows.length / chunks);
  let ord = 0;
  for (let c = 0; c < chunks; c++) {
    const part = rows.slice(c * per, (c + 1) * per);
    const json = part.filter((r) => !r.remote), remote = part.filter((r) => r.remote);
    for (const r of json.concat(remote)) r.rid = `r${String(ord++).padStart(6, '0')}`;
    out.push({json, remote});
  }
  return out;
}

// ---------------------------------------------------------------------------
// Timestore over HTTP.

async function http(method, target, body, headers = {}) {
  const res = await fetch(BASE + target, {method, body, headers});
  const text = await res.text();
  return {status: res.status, text};
}

function jsonDouble(x) {
  if (Object.is(x, -0)) return '-0.0';
  return String(x);  // shortest round-trip text: 1e+300, 5e-324 are JSON numbers
}

function recordJson(r, rng) {
  const f = [];
  // Timestamps as integer milliseconds or RFC 3339, both accepted.
  f.push(`"timestamp":${rng.chance(0.5) ? r.ts : JSON.stringify(isoMs(r.ts))}`);
  f.push(`"host":${JSON.stringify(r.host)}`);
  f.push(`"rid":${JSON.stringify(r.rid)}`);
  if (r.region !== null || rng.chance(0.5)) f.push(`"region":${JSON.stringify(r.region)}`);
  for (const k of ['v', 'w', 'value']) {
    if (r[k] !== null)
      f.push(`"${k}":${jsonDouble(r[k])}`);
    else if (rng.chance(0.5))
      f.push(`"${k}":null`);  // null or left out: the same
  }
  for (const k of ['n', 'big'])
    if (r[k] !== null) f.push(`"${k}":${r[k]}`);
  if (r.b !== null) f.push(`"b":${r.b}`);
  return `{${f.join(',')}}`;
}

// Prometheus remote write 1.0: a snappy block (literals only) of a protobuf
// WriteRequest, one series per row (labels name, host, region, rid).
function varint(n) {
  const out = [];
  let x = BigInt(n);
  do {
    let b = Number(x & 0x7fn);
    x >>= 7n;
    if (x) b |= 0x80;
    out.push(b);
  } while (x);
  return Buffer.from(out);
}
const field = (num, wire) => varint((num << 3) | wire);
const lenDelim = (num, buf) => Buffer.concat([field(num, 2), varint(buf.length), buf]);

function writeRequest(rows) {
  const series = rows.map((r) => {
    const labels = [['__name__', r.__name__], ['host', r.host], ['rid', r.rid]];
    if (r.region) labels.push(['region', r.region]);
    const lb = labels.map(
        ([k, v]) =>
            lenDelim(1, Buffer.concat([lenDelim(1, Buffer.from(k)), lenDelim(2, Buffer.from(v))])));
    const d = Buffer.alloc(8);
    d.writeDoubleLE(r.value);
    const sample = Buffer.concat([field(1, 1), d, field(2, 0), varint(r.ts)]);
    return lenDelim(1, Buffer.concat([...lb, lenDelim(2, sample)]));
  });
  return Buffer.concat(series);
}

function snappyLiterals(buf) {
  const parts = [varint(buf.length)];
  for (let off = 0; off < buf.length; off += 65536) {
    const chunk = buf.subarray(off, Math.min(buf.length, off + 65536));
    const n = chunk.length - 1;
    if (n < 60)
      parts.push(Buffer.from([n << 2]));
    else if (n < 256)
      parts.push(Buffer.from([60 << 2, n]));
    else
      parts.push(Buffer.from([61 << 2, n & 0xff, n >> 8]));
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}

async function ingest(slug, chunks, rng) {
  const schema = {
    fields: TABLE_COLUMNS.map(
        (c) => ({
          name: c.name,
          type:
              {ts: 'timestamp',
               text: 'string',
               double: 'double',
               int: 'integer',
               bool: 'boolean'}[c.type],
        }))
  };
  const stats = {flushes: 0, compactions: 0, inMemory: 0, json: 0, remote: 0};
  const flushAfter = new Set([Math.floor(chunks.length * 0.35), Math.floor(chunks.length * 0.6)]);
  for (let c = 0; c < chunks.length; c++) {
    const {json, remote} = chunks[c];
    if (json.length || c === 0) {
      const body = `{${c === 0 ? `"schema":${JSON.stringify(schema)},` : ''}"records":[` +
          `${json.map((r) => recordJson(r, rng)).join(',')}]}`;
      const res = await http(
          'POST', `/datasets/${slug}/ingest`, body, {'content-type': 'application/json'});
      if (res.status !== 200) die(`ingest of chunk ${c}: ${res.status} ${res.text}`);
      stats.json += json.length;
    }
    if (remote.length) {
      const res = await http(
          'POST', `/api/v1/write?dataset=${slug}`, snappyLiterals(writeRequest(remote)),
          {'content-type': 'application/x-protobuf', 'content-encoding': 'snappy'});
      if (res.status !== 204) die(`remote write of chunk ${c}: ${res.status} ${res.text}`);
      stats.remote += remote.length;
    }
    if (flushAfter.has(c)) {
      const res = await http('POST', `/admin/datasets/${slug}/flush`, '');
      if (res.status !== 200) die(`flush: ${res.status} ${res.text}`);
      stats.flushes++;
      if (stats.flushes === 2) {
        const cres = await http('POST', `/admin/datasets/${slug}/compact`, '');
        if (cres.status !== 200) die(`compact: ${cres.status} ${cres.text}`);
        stats.compactions++;
      }
    } else if (stats.flushes === 2) {
      stats.inMemory += json.length + remote.length;
    }
  }
  return stats;
}

// JSON with integers kept exact: numbers come back as their text.
class Num {
  constructor(s) {
    this.s = s;
  }
}

function parseJson(text) {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\r\n'.includes(text[i])) i++;
  };
  const value = () => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const o = {};
      ws();
      if (text[i] === '}') return i++, o;
      for (;;) {
        ws();
        const k = value();
        ws();
        i++;  // :
        o[k] = value();
        ws();
        if (text[i++] === '}') return o;
      }
    }
    if (c === '[') {
      i++;
      const a = [];
      ws();
      if (text[i] === ']') return i++, a;
      for (;;) {
        a.push(value());
        ws();
        if (text[i++] === ']') return a;
      }
    }
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const s = JSON.parse(text.slice(i, j + 1));
      i = j + 1;
      return s;
    }
    if (text.startsWith('true', i)) return i += 4, true;
    if (text.startsWith('false', i)) return i += 5, false;
    if (text.startsWith('null', i)) return i += 4, null;
    const m = /^-?[0-9.eE+-]+/.exec(text.slice(i, i + 64));
    if (!m) throw new Error(`bad JSON at ${i}: ${text.slice(i, i + 40)}`);
    i += m[0].length;
    return new Num(m[0]);
  };
  return value();
}

function parseCsv(text) {
  const rows = [];
  let row = [], f = '', i = 0, quoted = false;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"')
        f += '"', i += 2;
      else if (c === '"')
        quoted = false, i++;
      else
        f += c, i++;
    } else if (c === '"') {
      quoted = true, i++;
    } else if (c === ',') {
      row.push(f), f = '', i++;
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(f), rows.push(row), row = [], f = '', i += 2;
    } else {
      f += c, i++;
    }
  }
  if (f !== '' || row.length) row.push(f), rows.push(row);
  return rows;
}

// A timestamp, as nanoseconds since the epoch.
class Ts {
  constructor(ns) {
    this.ns = ns;
  }
  toString() {
    const ms = this.ns / 1000000n;
    const sub = this.ns % 1000000n;
    return new Date(Number(ms)).toISOString().replace('Z', sub ? `${sub}Z` : 'Z');
  }
}

function rfc3339ToNs(s) {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(s);
  if (!m) throw new Error(`not an RFC 3339 UTC time: ${s}`);
  const secs = BigInt(Date.parse(m[1] + 'Z')) / 1000n;
  const frac = BigInt((m[2] || '').padEnd(9, '0'));
  return secs * 1000000000n + frac;
}

const TS_FAMILY = {
  'bigint': 'num',
  'double precision': 'num',
  'text': 'text',
  'boolean': 'bool',
  'timestamp with time zone': 'ts',
};

async function askTimestore(sql) {
  const res = await http(
      'POST', '/sql', JSON.stringify({query: sql}), {'content-type': 'application/json'});
  const body = parseJson(res.text);
  if (res.status !== 200 || body.error) {
    const e = body.error || {};
    return {
      error: {
        status: res.status,
        code: e.code,
        message: e.message,
        sqlstate: e.details && e.details.sqlstate
      }
    };
  }
  const columns =
      body.columns.map((c) => ({name: c.name, type: c.type, family: TS_FAMILY[c.type] || c.type}));
  const rows = body.rows.map((row) => row.map((v, k) => {
    if (v === null) return null;
    switch (columns[k].type) {
      case 'bigint':
        return BigInt(v.s);
      case 'double precision':
        return Number(v.s);
      case 'timestamp with time zone':
        return new Ts(rfc3339ToNs(v));
      default:
        return v instanceof Num ? v.s : v;
    }
  }));
  // JSON writes NaN and ±Infinity as null: CSV spells them out.
  const doubleNull =
      columns.some((c, k) => c.type === 'double precision' && rows.some((r) => r[k] === null));
  if (doubleNull) {
    const csv = await http(
        'POST', '/sql', JSON.stringify({query: sql}),
        {'content-type': 'application/json', 'accept': 'text/csv'});
    const table = parseCsv(csv.text).slice(1);
    if (table.length !== rows.length)
      throw new Error(`CSV has ${table.length} rows, JSON ${rows.length}`);
    columns.forEach((c, k) => {
      if (c.type !== 'double precision') return;
      rows.forEach((r, i) => {
        if (r[k] !== null) return;
        const f = table[i][k];
        r[k] = f === ''  ? null :
            f === 'nan'  ? NaN :
            f === 'inf'  ? Infinity :
            f === '-inf' ? -Infinity :
                           Number(f);
      });
    });
  }
  return {columns, rows};
}

// ---------------------------------------------------------------------------
// DuckDB.

function duckFamily(t) {
  if (/^(BIGINT|INTEGER|SMALLINT|TINYINT|HUGEINT|UBIGINT|UINTEGER|DOUBLE|FLOAT|DECIMAL)/.test(t)) {
    return 'num';
  }
  if (t === 'VARCHAR') return 'text';
  if (t === 'BOOLEAN') return 'bool';
  if (t.startsWith('TIMESTAMP')) return 'ts';
  if (t === '"NULL"' || t === 'NULL') return 'null';
  return t;
}

async function askDuck(conn, sql) {
  let reader;
  try {
    reader = await conn.runAndReadAll(sql);
  } catch (e) {
    return {error: {message: e.message.split('\n')[0]}};
  }
  const types = reader.columnTypes().map(String);
  const columns =
      reader.columnNames().map((name, k) => ({name, type: types[k], family: duckFamily(types[k])}));
  const rows = reader.getRows().map((row) => row.map((v, k) => {
    if (v === null || v === undefined) return null;
    if (typeof v === 'bigint') return v;
    if (typeof v === 'number') return /INT/.test(types[k]) ? BigInt(v) : v;
    if (typeof v === 'string' || typeof v === 'boolean') return v;
    if (v.micros !== undefined) return new Ts(BigInt(v.micros) * 1000n);
    if (types[k].startsWith('DECIMAL')) return Number(String(v));
    return String(v);
  }));
  return {columns, rows};
}

async function loadDuck(conn, slug, rows) {
  await conn.run('SET TimeZone = \'UTC\'');
  await conn.run('SET default_null_order = \'nulls_last_on_asc_first_on_desc\'');  // PostgreSQL's
  for (const m of PG_MACROS) await conn.run(m);
  await conn.run(
      `CREATE TABLE ${slug} (${TABLE_COLUMNS.map((c) => `"${c.name}" ${c.duck}`).join(', ')})`);
  const app = await conn.createAppender(slug);
  const sorted = rows.slice().sort((a, b) => (a.rid < b.rid ? -1 : 1));
  for (const r of sorted) {
    app.appendTimestampTZ(new duckdb.DuckDBTimestampTZValue(BigInt(r.ts) * 1000n));
    for (const k of ['host', 'region', 'rid'])
      r[k] === null ? app.appendNull() : app.appendVarchar(r[k]);
    for (const k of ['v', 'w', 'value']) r[k] === null ? app.appendNull() : app.appendDouble(r[k]);
    for (const k of ['n', 'big']) r[k] === null ? app.appendNull() : app.appendBigInt(r[k]);
    r.b === null ? app.appendNull() : app.appendBoolean(r.b);
    r.__name__ === null ? app.appendNull() : app.appendVarchar(r.__name__);
    app.endRow();
  }
  app.closeSync();
}

// ---------------------------------------------------------------------------
// Comparison.

const isNumV = (x) => typeof x === 'number' || typeof x === 'bigint';

function valEq(a, b) {
  if (a === null || b === null) return a === b;
  if (a instanceof Ts || b instanceof Ts)
    return a instanceof Ts && b instanceof Ts && a.ns === b.ns;
  if (isNumV(a) && isNumV(b)) {
    if (typeof a === 'bigint' && typeof b === 'bigint') return a === b;
    const x = Number(a), y = Number(b);
    if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) && Number.isNaN(y);
    if (x === y) return true;  // also -0 = 0, Infinity = Infinity
    if (!Number.isFinite(x) || !Number.isFinite(y)) return false;
    const d = Math.abs(x - y);
    return d <= 1e-9 * Math.max(Math.abs(x), Math.abs(y)) || d <= 1e-9;
  }
  return a === b;
}

const rank = (v) => v === null ? 0 :
    typeof v === 'boolean'     ? 1 :
    isNumV(v)                  ? 2 :
    typeof v === 'string'      ? 3 :
                                 4;

// A total order for sorting answers into a canonical order (doubles rounded, so
// that last-bit differences do not reorder rows).
function cmpVal(a, b) {
  const ra = rank(a), rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 0) return 0;
  if (ra === 2) {
    if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
    const x = Number(Number(a).toPrecision(8)), y = Number(Number(b).toPrecision(8));
    if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) - Number.isNaN(y);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (ra === 4) return a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0;
  return a < b ? -1 : a > b ? 1 : 0;
}

const cmpRow = (x, y) => {
  for (let k = 0; k < x.length; k++) {
    const c = cmpVal(x[k], y[k]);
    if (c) return c;
  }
  return 0;
};

// The first row where `a` and `b` differ (-1: none); cells that `wild` (per
// row of b: a Set of columns) marks match anything.
function firstDiff(a, b, wild = null) {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    for (let k = 0; k < a[i].length; k++) {
      if (wild && wild[i].has(k)) continue;
      if (!valEq(a[i][k], b[i][k])) return i;
    }
  }
  return a.length === b.length ? -1 : Math.min(a.length, b.length);
}

// Takes DuckDB's trailing ambiguity columns off its answer (see hiddenColumns in
// oracle_grammar.mjs): d.wild[i] is the set of row i's cells any value matches.
function stripHidden(st, d) {
  const hidden = st.hidden || [];
  if (d.error) return d;
  const n = d.columns.length - hidden.length;
  const wild = d.rows.map((r) => new Set(hidden.filter((c, j) => r[n + j] === true)));
  return {
    columns: d.columns.slice(0, n),
    rows: d.rows.map((r) => r.slice(0, n)),
    wild,
    hiddenCols: new Set(hidden)
  };
}

// Compares answers as multisets. Rows are bucketed by their exact cells (all
// but doubles and the possibly ambiguous first/last columns in `skip`); within
// a bucket, rows sorted by their first double column are matched within the
// tolerance, each DuckDB row taking an unused Timestore row equal to it
// (ambiguous cells match anything; exact partners are taken before near ones,
// and rows without ambiguous cells first). Returns null, or {why, t, d, row}
// for printing (both sides sorted).
function multisetDiff(trows, drows, dwild, skip) {
  const sorted = (rows) => rows.map((r) => [r.filter((_, k) => !skip.has(k)), r])
                               .sort((x, y) => cmpRow(x[0], y[0]))
                               .map((x) => x[1]);
  const fail = (r) => {
    const dsorted = sorted(drows);
    const row = Math.max(0, dsorted.indexOf(r));
    return {
      why: `no Timestore row for DuckDB's sorted row ${row}`,
      t: sorted(trows),
      d: dsorted,
      row
    };
  };
  if (trows.length !== drows.length) {
    return {why: 'row count', t: sorted(trows), d: sorted(drows), row: 0};
  }
  const width = trows.length ? trows[0].length : 0;
  const dbl = [];
  for (let k = 0; k < width; k++) {
    if (skip.has(k)) continue;
    if (trows.some((r) => typeof r[k] === 'number') ||
        drows.some((r) => typeof r[k] === 'number')) {
      dbl.push(k);
    }
  }
  const c0 = dbl.length ? dbl[0] : -1;
  const exact = (v) => v === null ? 'N' :
      v instanceof Ts             ? `t${v.ns}` :
                  typeof v === 'string' ? `s${v}` :
                                          `${typeof v}${v}`;
  const cls = (v) => typeof v !== 'number' ? exact(v) : Number.isNaN(v) ? 'NaN' : 'num';
  const key = (r) => r.map(
                          (v, k) => skip.has(k) ? '' :
                              k === c0          ? cls(v) :
                              dbl.includes(k)   ? (v === null ? 'N' : '') :
                                                  exact(v))
                         .join('\u0001');
  const buckets = new Map();  // key -> {rows, used} sorted by column c0
  for (const r of trows) {
    const k = key(r);
    if (!buckets.has(k)) buckets.set(k, {rows: [], used: []});
    buckets.get(k).rows.push(r);
  }
  const val = (r) => (c0 >= 0 && typeof r[c0] === 'number' ? r[c0] : 0);
  for (const b of buckets.values()) {
    b.rows.sort((x, y) => val(x) - val(y) || 0);
    b.used = new Array(b.rows.length).fill(false);
  }
  const none = new Set();
  const strictEq = (v, w) => v === w || (Number.isNaN(v) && Number.isNaN(w)) ||
      (isNumV(v) && isNumV(w) && Number(v) === Number(w)) ||
      (v instanceof Ts && w instanceof Ts && v.ns === w.ns);
  const order = drows.map((_, i) => i)
                    .sort((x, y) => (dwild ? dwild[x].size : 0) - (dwild ? dwild[y].size : 0));
  let pending = [];
  for (const strict of [true, false]) {
    const next = [];
    for (const i of strict ? order : pending) {
      const r = drows[i];
      const b = buckets.get(key(r));
      if (!b) return fail(r);
      const wild = dwild ? dwild[i] : none;
      const eq = strict ? strictEq : valEq;
      // The rows whose first double is within tolerance of this one's.
      const x = val(r);
      const tol = Math.max(1e-9, 2e-9 * Math.abs(x));
      let lo = 0, hi = b.rows.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (val(b.rows[mid]) < x - tol)
          lo = mid + 1;
        else
          hi = mid;
      }
      let found = -1;
      for (let j = lo; j < b.rows.length && !(val(b.rows[j]) > x + tol); j++) {
        if (b.used[j]) continue;
        if (b.rows[j].every((v, k) => wild.has(k) || eq(v, r[k]))) {
          found = j;
          break;
        }
      }
      if (found >= 0)
        b.used[found] = true;
      else if (strict)
        next.push(i);
      else
        return fail(r);
    }
    pending = next;
  }
  return null;
}

// Exact comparison in PostgreSQL's order (NaN above every number).
function cmpExact(a, b) {
  if (a instanceof Ts) return a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0;
  if (isNumV(a) && isNumV(b)) {
    if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
    const x = Number(a), y = Number(b);
    if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) - Number.isNaN(y);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;  // strings: UTF-16 order is code point order in the BMP
}

// The first i where rows i and i + 1 are out of ORDER BY order, or -1. Each
// engine sorts its own values, so this compares exactly.
function unsorted(rows, keys, dirs) {
  for (let i = 0; i + 1 < rows.length; i++) {
    for (let j = 0; j < keys.length; j++) {
      const a = rows[i][keys[j]], b = rows[i + 1][keys[j]];
      const {desc, nullsFirst} = dirs[j];
      if (a === null || b === null) {
        if (a === null && b === null) continue;
        if ((a === null) !== nullsFirst) return i;
        break;
      }
      const c = cmpExact(a, b);
      if (c === 0) continue;
      if ((c > 0) !== desc) return i;
      break;
    }
  }
  return -1;
}

// Whether ordered answers that differ are the same up to sort keys that are
// equal within the tolerance (a sum or percentile off in its last bits sorts
// its row elsewhere among near-equal ones): both sorted, and the same rows (or,
// under a LIMIT, the same ORDER BY values).
function nearTies(st, t, d) {
  const {keys, dirs} = st.order;
  if (!keys.length || !dirs) return false;
  const doubles = (rows) => rows.some((r) => keys.some((k) => typeof r[k] === 'number'));
  if (!doubles(t.rows) && !doubles(d.rows)) return false;
  if (unsorted(t.rows, keys, dirs) >= 0 || unsorted(d.rows, keys, dirs) >= 0) return false;
  if (!st.limited) return !multisetDiff(t.rows, d.rows, d.wild, d.hiddenCols || new Set());
  const proj = (rows) => rows.map((r) => keys.map((k) => r[k]));
  return !multisetDiff(proj(t.rows), proj(d.rows), null, new Set());
}

// Intended differences the grammar cannot avoid (docs/sql.md): a name, or null.
function knownDifference(st, t, d) {
  const outsideInt64 = (x) => typeof x === 'bigint' && (x > INT64_MAX || x < INT64_MIN);
  // The total may be hidden (LIMIT, HAVING, ORDER BY): a sum over big suffices.
  if (t.error && !d.error && t.error.code === 'sum_overflow' && /sum\("?big"?\)/.test(st.ts) &&
      (d.rows.some((r) => r.some(outsideInt64)) || !/sum\("?big"?\) AS/.test(st.ts) ||
       st.limited)) {
    return 'sum(bigint) beyond int64 is an error (PostgreSQL: numeric, DuckDB: hugeint)';
  }
  return null;
}

// A data exception (SQLSTATE class 22: overflow, division by zero, a bad cast).
const dataError = (e) => (e.sqlstate || '').startsWith('22') ||
    /Out of Range|division by zero|value out of range|Conversion Error|Overflow/i.test(
        e.message || '');

function compare(st, t, dFull) {
  const d = stripHidden(st, dFull);
  // Both failing counts as agreement only when Timestore's refusal is about
  // the data or the statement's meaning: "not supported" would mean the
  // grammar generated what Timestore cannot answer, which is not compared.
  if (t.error && d.error) {
    if (t.error.sqlstate === '0A000') {
      return {verdict: 'skipped', why: `Timestore: ${t.error.message}`};
    }
    return {verdict: 'both_error'};
  }
  const known = knownDifference(st, t, d);
  if (known) return {verdict: 'known', why: known};
  // Which subexpressions get evaluated, and in what order, is up to the
  // implementation (PostgreSQL's manual, 4.2.14): DuckDB folds OR/AND around
  // constants and reorders filters, so a data error in one engine only is not
  // a difference in meaning.
  if ((t.error && dataError(t.error)) || (d.error && dataError(d.error))) {
    return {verdict: 'skipped', why: 'a data error in one engine only (evaluation order)'};
  }
  if (t.error && t.error.sqlstate === '0A000') {
    return {verdict: 'skipped', why: `Timestore: ${t.error.message}`};
  }
  if (t.error) return {verdict: 'mismatch', why: 'only Timestore failed'};
  if (d.error) return {verdict: 'mismatch', why: 'only DuckDB failed'};
  if (t.columns.length !== d.columns.length) return {verdict: 'mismatch', why: 'column count'};
  for (let k = 0; k < t.columns.length; k++) {
    if (t.columns[k].name !== d.columns[k].name) {
      return {verdict: 'mismatch', why: `column ${k + 1} name`};
    }
    // (A column of nulls only has whatever type DuckDB's inference gave it.)
    const tf = t.columns[k].family, df = d.columns[k].family;
    const allNull = t.rows.every((r) => r[k] === null) && d.rows.every((r) => r[k] === null);
    if (tf !== df && df !== 'null' && !allNull) {
      return {verdict: 'mismatch', why: `column ${k + 1} type`};
    }
  }
  if (t.rows.length !== d.rows.length) return {verdict: 'mismatch', why: 'row count'};
  const {mode, keys} = st.order;
  if (mode === 'total') {
    const i = firstDiff(t.rows, d.rows, d.wild);
    if (i >= 0 && !nearTies(st, t, d)) {
      return {verdict: 'mismatch', why: `row ${i} (ordered)`, row: i};
    }
    return {verdict: 'match'};
  }
  if (mode === 'prefix') {
    const proj = (rows) => rows.map((r) => keys.map((k) => r[k]));
    const i = firstDiff(proj(t.rows), proj(d.rows));
    if (i >= 0 && !nearTies(st, t, d)) {
      return {verdict: 'mismatch', why: `row ${i}: ORDER BY columns`, row: i};
    }
  }
  if (st.limited) return {verdict: 'match'};  // which tied rows made it is not determined
  const diff = multisetDiff(t.rows, d.rows, d.wild, d.hiddenCols || new Set());
  if (diff)
    return {
      verdict: 'mismatch',
      why: `rows differ as multisets (${diff.why})`,
      sorted: [diff.t, diff.d],
      row: diff.row
    };
  return {verdict: 'match'};
}

function show(v) {
  if (v === null) return 'null';
  if (typeof v === 'bigint') return `${v}`;
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (v instanceof Ts) return v.toString();
  return JSON.stringify(v);
}

function showAnswer(res, around = 0, rowsOverride = null) {
  if (res.error) {
    const e = res.error;
    return `error ${e.sqlstate ? `${e.sqlstate} ` : ''}${e.code ? `${e.code}: ` : ''}${e.message}`;
  }
  const rows = rowsOverride || res.rows;
  const lines =
      [`${res.columns.map((c) => `${c.name} ${c.type}`).join(', ')} -- ${rows.length} rows`];
  const from = Math.max(0, around - 2), to = Math.min(rows.length, Math.max(around + 3, 5));
  if (from > 0) lines.push('  ...');
  for (let i = from; i < to; i++) {
    lines.push(`  ${i}: [${rows[i].map(show).join(', ')}]`.slice(0, 400));
  }
  if (to < rows.length) lines.push('  ...');
  return lines.join('\n');
}

// ---------------------------------------------------------------------------

async function main() {
  const started = Date.now();
  const dataRng = new Rng(SEED * 7919 + 17);
  const rows = makeRows(dataRng, ROWS);
  const chunks = batches(rows, 8);
  const slug = `oracle_${SEED}_${process.pid}`;

  const ready = await http('GET', '/ready').catch((e) => die(`no server on ${BASE}: ${e.message}`));
  if (ready.status !== 200) die(`${BASE}/ready answered ${ready.status}`);
  const stats = await ingest(slug, chunks, new Rng(SEED * 31 + 5));

  const instance = await duckdb.DuckDBInstance.create(':memory:', {threads: '1'});
  const conn = await instance.connect();
  await loadDuck(conn, slug, rows);

  const check = await askTimestore(`SELECT count(*) FROM ${slug}`);
  if (check.error || Number(check.rows[0][0]) !== rows.length) {
    die(`Timestore holds ${check.error ? showAnswer(check) : check.rows[0][0]} rows, ` +
        `expected ${rows.length}`);
  }
  const loaded = Date.now();

  const stmtRng = new Rng(SEED * 104729 + 3);
  const grammar = new Grammar(stmtRng, {
    timestamps: rows.map((r) => r.ts),
    t0: T0,
    t1: T0 + SPAN,
  });
  const counts = {match: 0, both_error: 0, known: 0, skipped: 0, mismatch: 0};
  const byKind = {};
  const reasons = new Map();
  let printed = 0;
  for (let i = 0; i < COUNT; i++) {
    const st = grammar.statement(slug);
    if (ONLY >= 0 && i !== ONLY) continue;
    const t = await askTimestore(st.ts);
    const d = await askDuck(conn, st.dk);
    const c = compare(st, t, d);
    counts[c.verdict]++;
    byKind[st.kind] = byKind[st.kind] || {n: 0, bad: 0};
    byKind[st.kind].n++;
    if (c.why && c.verdict !== 'mismatch') {
      const key = `${c.verdict}: ${c.why}`;
      reasons.set(key, (reasons.get(key) || 0) + 1);
    }
    if (VERBOSE || ONLY >= 0) {
      process.stdout.write(`#${i} ${c.verdict}${c.why ? ` (${c.why})` : ''}: ${st.ts}\n`);
    }
    if (c.verdict === 'mismatch') byKind[st.kind].bad++;
    if ((c.verdict === 'mismatch' && printed++ < MAX_PRINT) || ONLY >= 0) {
      const [ts, ds] = c.sorted || [null, null];
      process.stdout.write(
          `\n=== ${c.verdict} #${i} (${st.kind}, order ${st.order.mode}` +
          `${st.limited ? ', limited' : ''}): ${c.why || ''}\n` +
          `Timestore SQL: ${st.ts}\nDuckDB SQL:    ${st.dk}\n` +
          `Timestore: ${showAnswer(t, c.row || 0, ts)}\nDuckDB:    ${
              showAnswer(d, c.row || 0, ds)}\n`);
    }
  }
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  const ran = ONLY >= 0 ? 1 : COUNT;
  process.stdout.write(
      `\nduckdb_oracle: ${rows.length} rows (${stats.json} JSON, ${stats.remote} ` +
      `remote write; ${stats.flushes} flushes, ${stats.compactions} compaction, ` +
      `${stats.inMemory} rows left in memory), loaded in ` +
      `${((loaded - started) / 1000).toFixed(1)} s\n`);
  process.stdout.write(`duckdb_oracle: by kind: ${
      Object.entries(byKind)
          .map(([k, v]) => `${k} ${v.n}${v.bad ? ` (${v.bad} mismatched)` : ''}`)
          .join(', ')}\n`);
  for (const [k, n] of [...reasons.entries()].sort((a, b) => b[1] - a[1])) {
    process.stdout.write(`duckdb_oracle:   ${n} × ${k}\n`);
  }
  process.stdout.write(
      `duckdb_oracle: seed ${SEED}: ${ran} statements, ${counts.match + counts.both_error} ` +
      `matched (${counts.both_error} both errors), ${counts.known} known ` +
      `differences, ${counts.skipped} skipped, ${counts.mismatch} mismatched ` +
      `(${secs} s)\n`);
  // An oracle that compares little proves little: fail when more than a
  // fifth of the statements were errors in both engines or skipped.
  const uncompared = counts.both_error + counts.skipped;
  if (ONLY < 0 && uncompared > ran / 5) {
    process.stdout.write(`duckdb_oracle: ${uncompared} of ${ran} statements were not ` +
                         `compared (both errors or skipped): more than a fifth\n`);
    process.exitCode = 1;
    return;
  }
  process.exitCode = counts.mismatch > 0 ? 1 : 0;
}

main().catch((e) => die(e.stack || String(e)));
