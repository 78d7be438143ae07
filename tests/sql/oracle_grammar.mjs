// The statement generator of the DuckDB differential oracle (duckdb_oracle.mjs):
// random SELECTs from the subset Timestore's SQL supports (sql/planner*.cc), each
// written twice, once in Timestore's (PostgreSQL's) spelling and once as DuckDB SQL
// with PostgreSQL's meaning. DuckDB differs from PostgreSQL in places, and those
// are translated here, not left to the comparison:
//   - double arithmetic: PostgreSQL raises 22003 on overflow/underflow and 22012 on
//     x / 0 (NaN / 0 is NaN); DuckDB follows IEEE. pg_add/pg_sub/pg_mul/pg_div are
//     macros with PostgreSQL's checks (PG_MACROS).
//   - bigint / bigint truncates in PostgreSQL: DuckDB's // (pg_idiv, which also
//     raises on a zero divisor, where DuckDB answers NULL); x % -1 is 0 (pg_imod).
//   - LIKE's default escape is backslash in PostgreSQL, none in DuckDB: ESCAPE '\'.
//   - ~ is a regular-expression search in PostgreSQL, a full match in DuckDB:
//     regexp_matches.
//   - round(double) rounds half to even in PostgreSQL (rint): round_even;
//     round(double, n) (a Timestore extension) keeps NaN and ±Infinity: pg_round.
//   - IN and BETWEEN over a bigint: DuckDB unifies the list with a double item
//     to double; PostgreSQL compares item by item, exactly: ORs and ANDs.
//   - date_part('second') has the fraction in PostgreSQL, not in DuckDB.
//   - time_bucket counts from 2000-01-03 in DuckDB, from the Unix epoch in
//     Timestore: DuckDB is given the origin 1970-01-01.
//   - first/last(x, time): arg_min/arg_max over (time, rid) of the non-null x,
//     rid being the ingest order (Timestore breaks time ties by ingest order).
//   - median/percentile_cont: PostgreSQL's interpolation over the sorted values
//     as doubles (pg_percentile_cont), not quantile_cont's.
//   - lower/upper fold ASCII letters only in Timestore (as PostgreSQL in the C
//     locale): ascii_lower/ascii_upper. See docs/sql.md.
//   - literals: integers are bigint and decimals double in Timestore; DuckDB gets
//     casts so that neither INTEGER overflow nor DECIMAL arithmetic intervenes.
//
// Every generated statement is an object
//   {kind, ts, dk, order: {mode, keys}, limited}
// where ts/dk are the two texts, order.mode is 'total' (the row sequence is
// determined), 'prefix' (only the sequence of the output columns order.keys is)
// or 'none' (compare as multisets), and limited says LIMIT/OFFSET cut the rows.

export const TABLE_COLUMNS = [
  {name: 'timestamp', type: 'ts', duck: 'TIMESTAMPTZ'},
  {name: 'host', type: 'text', duck: 'VARCHAR'},
  {name: 'region', type: 'text', duck: 'VARCHAR'},
  {name: 'rid', type: 'text', duck: 'VARCHAR'},
  {name: 'v', type: 'double', duck: 'DOUBLE'},
  {name: 'w', type: 'double', duck: 'DOUBLE'},
  {name: 'value', type: 'double', duck: 'DOUBLE'},
  {name: 'n', type: 'int', duck: 'BIGINT'},
  {name: 'big', type: 'int', duck: 'BIGINT'},
  {name: 'b', type: 'bool', duck: 'BOOLEAN'},
  {name: '__name__', type: 'text', duck: 'VARCHAR'},
];

export const HOSTS = ['alpha', 'beta', 'Gamma', 'delta_1', 'epsilon%2', 'zürich', '東京', 'ΩMEGA'];
export const REGIONS = ['eu', 'us', 'ap', 'EU', ''];
export const METRICS = ['m_up', 'm_down'];

// DuckDB macros giving PostgreSQL's meaning (see the top of this file).
export const PG_MACROS = [
  `CREATE MACRO pg_add(a, b) AS CASE WHEN isinf(a + b) AND NOT isinf(a) AND NOT isinf(b)
     THEN error('value out of range: overflow') ELSE a + b END`,
  `CREATE MACRO pg_sub(a, b) AS CASE WHEN isinf(a - b) AND NOT isinf(a) AND NOT isinf(b)
     THEN error('value out of range: overflow') ELSE a - b END`,
  `CREATE MACRO pg_mul(a, b) AS CASE
     WHEN isinf(a * b) AND NOT isinf(a) AND NOT isinf(b) THEN error('value out of range: overflow')
     WHEN a * b = 0 AND a <> 0 AND b <> 0 THEN error('value out of range: underflow')
     ELSE a * b END`,
  `CREATE MACRO pg_div(a, b) AS CASE
     WHEN b = 0 AND NOT isnan(a) THEN error('division by zero')
     WHEN isinf(a / b) AND NOT isinf(a) AND b <> 0 THEN error('value out of range: overflow')
     WHEN a / b = 0 AND a <> 0 AND NOT isinf(b) THEN error('value out of range: underflow')
     ELSE a / b END`,
  `CREATE MACRO pg_idiv(a, b) AS CASE WHEN b = 0 THEN error('division by zero') ELSE a // b END`,
  `CREATE MACRO pg_imod(a, b) AS CASE WHEN b = 0 THEN error('division by zero')
     WHEN b = -1 THEN 0::BIGINT ELSE a % b END`,
  // percentile_cont over the sorted values `l` as PostgreSQL computes it
  // (percentile_cont_final_common and float8_lerp): lo + p * (hi - lo) between
  // the neighbouring ranks, so {Infinity, Infinity} at a fractional rank is NaN,
  // where DuckDB's quantile_cont answers Infinity.
  `CREATE MACRO pg_percentile_cont(l, p) AS CASE
     WHEN len(l) = 0 THEN NULL
     WHEN ceil(p * (len(l) - 1)) > floor(p * (len(l) - 1)) THEN
       l[CAST(floor(p * (len(l) - 1)) AS BIGINT) + 1] +
       ((p * (len(l) - 1) - floor(p * (len(l) - 1))) *
        (l[CAST(ceil(p * (len(l) - 1)) AS BIGINT) + 1] - l[CAST(floor(p * (len(l) - 1)) AS BIGINT) + 1]))
     ELSE l[CAST(floor(p * (len(l) - 1)) AS BIGINT) + 1] END`,
  // round(x, n) keeps NaN and ±Infinity (DuckDB answers 0 for n < 0).
  `CREATE MACRO pg_round(x, n) AS CASE WHEN isnan(x) OR isinf(x) THEN x ELSE round(x, n) END`,
  `CREATE MACRO ascii_lower(s) AS translate(s, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')`,
  `CREATE MACRO ascii_upper(s) AS translate(s, 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ')`,
];

// A seeded PRNG (mulberry32): the same seed gives the same data and statements.
export class Rng {
  constructor(seed) {
    this.s = seed >>> 0;
  }
  next() {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo, hi) {  // inclusive
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p) {
    return this.next() < p;
  }
  pick(a) {
    return a[Math.floor(this.next() * a.length)];
  }
  // Picks by weight from [[weight, value], ...].
  weighted(pairs) {
    let total = 0;
    for (const [w] of pairs) total += w;
    let x = this.next() * total;
    for (const [w, v] of pairs) {
      if ((x -= w) < 0) return v;
    }
    return pairs[pairs.length - 1][1];
  }
  gaussian() {
    const u = 1 - this.next(), v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

// ---------------------------------------------------------------------------
// Expressions: {ts, dk, type} with type one of int, double, text, bool, ts.

const E = (ts, dk, type) => ({ts, dk, type});
const sqlString = (s) => `'${s.replaceAll('\'', '\'\'')}'`;
const isNum = (t) => t === 'int' || t === 'double';

function colRef(rng, name) {
  // Quoting is optional for the lower-case names; both spellings are exercised.
  const needs = name === 'timestamp' || name === 'value' || name === '__name__';
  const q = needs || rng.chance(0.3) ? `"${name}"` : name;
  return q;
}

function column(rng, name) {
  const c = TABLE_COLUMNS.find((x) => x.name === name);
  const q = colRef(rng, name);
  return {...E(q, q, c.type), isCol: true};
}

function fmtDouble(x) {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (Object.is(x, -0)) return '-0';
  return String(x);
}

export function isoMs(ms) {
  return new Date(ms).toISOString();
}

export class Grammar {
  // `data` gives the literals something to hit: {timestamps: [ms...], t0, t1}.
  constructor(rng, data) {
    this.rng = rng;
    this.data = data;
  }

  // ---- literals ----------------------------------------------------------
  intLit() {
    const r = this.rng;
    const v = r.weighted([
      [6, () => BigInt(r.int(-12, 12))],
      [3, () => BigInt(r.pick([25, 42, 50, -50, 100, 1000]))],
      [
        1, () => r.pick([
          2147483648n, 9007199254740993n, 9223372036854775807n, -9223372036854775807n,
          4611686018427387904n
        ])
      ],
    ])();
    // Negative literals in the spellings PostgreSQL folds into one constant.
    const mag = v < 0n ? -v : v;
    const ts = v < 0n ? r.pick([`(${v})`, `(- ${mag})`, `(-(${mag}))`, `(-/*c*/${mag})`]) : `${v}`;
    return E(ts, `(${v})::BIGINT`, 'int');
  }

  doubleLit(special = true) {
    const r = this.rng;
    const v = r.weighted([
      [6, () => r.pick([0.5, 1.5, 2.5, -2.5, -0.5, 0.1, 3.0, 10.25, -7.75, 99.5, 1e6])],
      [2, () => Math.round(r.gaussian() * 100000) / 1000],
      [special ? 2 : 0, () => r.pick([NaN, NaN, Infinity, -Infinity, -0, 1e300, 1e-300, 5e-324])],
    ])();
    const text = fmtDouble(v);
    let ts;
    if (!Number.isFinite(v) || Object.is(v, -0) || r.chance(0.2)) {
      ts = r.chance(0.5) ? `'${text}'::float8` : `CAST('${text}' AS double precision)`;
    } else {
      // A plain numeric literal; 3.0 must stay a double, so keep a point or an exponent.
      ts = /[.e]/.test(text) ? text : `${text}.0`;
      if (v < 0) ts = `(${ts})`;
    }
    return E(ts, `'${text}'::DOUBLE`, 'double');
  }

  textLit() {
    const r = this.rng;
    const s = r.weighted([
      [5, () => r.pick(HOSTS)],
      [3, () => r.pick(REGIONS)],
      [2, () => r.pick(['zzz', 'Alpha', 'r00010', 'm_up', 'a', 'é', 'EU'])],
    ])();
    return E(sqlString(s), sqlString(s), 'text');
  }

  boolLit() {
    const v = this.rng.pick(['true', 'false']);
    return E(v, v, 'bool');
  }

  // An instant near the data (often one of its timestamps), in one of
  // PostgreSQL's input forms for Timestore and canonical for DuckDB.
  tsMs() {
    const r = this.rng;
    const d = this.data;
    return r.weighted([
      [5, () => r.pick(d.timestamps)],
      [3, () => d.t0 + r.int(0, 16) * 6 * 3600 * 1000],
      [2, () => d.t0 + r.int(-3600 * 1000, d.t1 - d.t0 + 3600 * 1000)],
    ])();
  }

  // Untyped ('...') literals take their type from what they meet, as in
  // PostgreSQL; `typed` casts them, for where they meet an interval or nothing.
  tsLit(typed = false) {
    const r = this.rng;
    const ms = this.tsMs();
    const iso = isoMs(ms);  // 2024-02-27T00:00:00.000Z
    const ymd = iso.slice(0, 10);
    const hms = iso.slice(11, 23);
    const whole = ms % 1000 === 0;
    const midnight = ms % 86400000 === 0;
    let text = r.weighted([
      [3, `${ymd} ${whole ? hms.slice(0, 8) : hms}+00`],
      [2, iso],
      [1, `${ymd} ${hms}`],
      [midnight ? 2 : 0, ymd],
    ]);
    const ts = typed || r.chance(0.3) ? `'${text}'::timestamptz` : `'${text}'`;
    return E(ts, `TIMESTAMPTZ '${ymd} ${hms}+00'`, 'ts');
  }

  intervalLit(fixedOnly = false) {
    const r = this.rng;
    const iv = r.weighted([
      [4, `${r.pick([1, 2, 5, 7, 10, 15, 30, 45, 90])} minutes`],
      [3, `${r.pick([1, 2, 3, 5, 6, 12])} hours`],
      [2, `${r.pick([1, 2, 3])} days`],
      [1, '1 week'],
      [1, `${r.pick([10, 30, 90])} seconds`],
      [fixedOnly ? 0 : 1, `${r.pick([1, 2, 3])} month${'s'}`],
    ]);
    return iv;
  }

  literal(type) {
    switch (type) {
      case 'int':
        return this.intLit();
      case 'double':
        return this.doubleLit();
      case 'text':
        return this.textLit();
      case 'bool':
        return this.boolLit();
      case 'ts':
        return this.tsLit(true);
    }
    throw new Error(type);
  }

  // ---- expressions --------------------------------------------------------
  // ctx: {cols: [names] usable as plain references (none: constants only)}
  colOf(ctx, type) {
    const names = ctx.cols.filter((n) => TABLE_COLUMNS.find((c) => c.name === n).type === type);
    if (names.length === 0) return null;
    return column(this.rng, this.rng.pick(names));
  }

  leaf(ctx, type) {
    if (this.rng.chance(0.7)) {
      const c = this.colOf(ctx, type);
      if (c) return c;
    }
    if (type === 'ts') {
      const c = this.colOf(ctx, 'ts');
      if (c) return c;
    }
    return this.literal(type);
  }

  expr(ctx, type, depth) {
    if (depth <= 0 || this.rng.chance(0.35)) return this.leaf(ctx, type);
    switch (type) {
      case 'int':
        return this.intExpr(ctx, depth - 1);
      case 'double':
        return this.doubleExpr(ctx, depth - 1);
      case 'text':
        return this.textExpr(ctx, depth - 1);
      case 'bool':
        return this.pred(ctx, depth);
      case 'ts':
        return this.tsExpr(ctx, depth - 1);
    }
    throw new Error(type);
  }

  numExpr(ctx, depth) {
    return this.expr(ctx, this.rng.chance(0.5) ? 'int' : 'double', depth);
  }

  asDouble(e) {
    return e.type === 'double' ? e.dk : `CAST(${e.dk} AS DOUBLE)`;
  }

  // Shared by all types: coalesce, nullif, CASE, greatest/least.
  generic(ctx, type, depth) {
    const r = this.rng;
    const a = this.expr(ctx, type, depth), b = this.expr(ctx, type, depth);
    return r.weighted([
      [3, () => E(`coalesce(${a.ts}, ${b.ts})`, `coalesce(${a.dk}, ${b.dk})`, type)],
      [1, () => E(`nullif(${a.ts}, ${b.ts})`, `nullif(${a.dk}, ${b.dk})`, type)],
      [
        3,
        () => {
          const p = this.pred(ctx, depth);
          return E(
              `CASE WHEN ${p.ts} THEN ${a.ts} ELSE ${b.ts} END`,
              `CASE WHEN ${p.dk} THEN ${a.dk} ELSE ${b.dk} END`, type);
        }
      ],
      [
        1,
        () => {
          const c = this.leaf(ctx, type);
          return E(
              `CASE ${a.ts} WHEN ${c.ts} THEN ${b.ts} END`,
              `CASE ${a.dk} WHEN ${c.dk} THEN ${b.dk} END`, type);
        }
      ],
      [
        type === 'bool' ? 0 : 2,
        () => {
          const f = r.pick(['greatest', 'least']);
          return E(`${f}(${a.ts}, ${b.ts})`, `${f}(${a.dk}, ${b.dk})`, type);
        }
      ],
    ])();
  }

  intExpr(ctx, depth) {
    const r = this.rng;
    return r.weighted([
      [
        4,
        () => {
          const a = this.expr(ctx, 'int', depth), b = this.expr(ctx, 'int', depth);
          const op = r.pick(['+', '-', '*', '/', '%', '+', '-']);
          const ts = `(${a.ts} ${op} ${b.ts})`;
          if (op === '/') return E(ts, `pg_idiv(${a.dk}, ${b.dk})`, 'int');
          if (op === '%') return E(ts, `pg_imod(${a.dk}, ${b.dk})`, 'int');
          return E(ts, `(${a.dk} ${op} ${b.dk})`, 'int');
        }
      ],
      [
        1,
        () => {
          const a = this.expr(ctx, 'int', depth);
          return E(`(- ${a.ts})`, `(- ${a.dk})`, 'int');
        }
      ],
      [
        1,
        () => {
          const a = this.expr(ctx, 'int', depth);
          return E(`abs(${a.ts})`, `abs(${a.dk})`, 'int');
        }
      ],
      [
        1,
        () => {
          const a = this.expr(ctx, 'text', depth);
          return E(`length(${a.ts})`, `length(${a.dk})`, 'int');
        }
      ],
      [
        1,
        () => {
          const a = this.expr(ctx, 'double', depth);
          const ts = r.chance(0.5) ? `CAST(${a.ts} AS bigint)` : `${wrap(a.ts)}::int8`;
          return E(ts, `CAST(${a.dk} AS BIGINT)`, 'int');
        }
      ],
      [
        1,
        () => {
          const a = this.expr(ctx, 'bool', depth);
          return E(`CAST(${a.ts} AS int8)`, `CAST(${a.dk} AS BIGINT)`, 'int');
        }
      ],
      [2, () => this.generic(ctx, 'int', depth)],
    ])();
  }

  doubleExpr(ctx, depth) {
    const r = this.rng;
    return r.weighted([
      [
        5,
        () => {
          // At least one side is a double: the arithmetic is float8's.
          const a = this.expr(ctx, 'double', depth);
          const b = this.numExpr(ctx, depth);
          const [x, y] = r.chance(0.5) ? [a, b] : [b, a];
          const op = r.pick(['+', '-', '*', '/']);
          const fn = {'+': 'pg_add', '-': 'pg_sub', '*': 'pg_mul', '/': 'pg_div'}[op];
          return E(
              `(${x.ts} ${op} ${y.ts})`, `${fn}(${this.asDouble(x)}, ${this.asDouble(y)})`,
              'double');
        }
      ],
      [
        1,
        () => {
          const a = this.expr(ctx, 'double', depth);
          return E(`(- ${a.ts})`, `(- ${a.dk})`, 'double');
        }
      ],
      [
        2,
        () => {
          const a = this.expr(ctx, 'double', depth);
          const f = r.pick(['abs', 'floor', 'ceil', 'trunc', 'round', 'round2']);
          if (f === 'round') return E(`round(${a.ts})`, `round_even(${a.dk}, 0)`, 'double');
          if (f === 'round2') {
            const k = r.pick([0, 1, 2, 3, -1]);
            return E(
                `round(${a.ts}, ${k < 0 ? `(${k})` : k})`, `pg_round(${a.dk}, ${k})`, 'double');
          }
          return E(`${f}(${a.ts})`, `${f}(${a.dk})`, 'double');
        }
      ],
      [
        1,
        () => {
          const a = this.expr(ctx, 'double', depth);
          const f = r.pick(['sqrt', 'ln', 'log']);
          const arg = `abs(${a.ts}) + 1`;
          const dk = `${f === 'log' ? 'log10' : f}(pg_add(abs(${a.dk}), 1::DOUBLE))`;
          return E(`${f}(${arg})`, dk, 'double');
        }
      ],
      [
        1,
        () => {
          const a = this.expr(ctx, 'int', depth);
          const ts = r.chance(0.5) ? `CAST(${a.ts} AS double precision)` : `${wrap(a.ts)}::float8`;
          return E(ts, `CAST(${a.dk} AS DOUBLE)`, 'double');
        }
      ],
      [
        1,
        () => {
          const t = this.expr(ctx, 'ts', depth);
          const field = r.pick([
            'year', 'month', 'day', 'hour', 'minute', 'second', 'dow', 'isodow', 'doy', 'quarter',
            'epoch', 'milliseconds'
          ]);
          const ts =
              r.chance(0.7) ? `date_part('${field}', ${t.ts})` : `extract(${field} from ${t.ts})`;
          let dk;
          if (field === 'second') {
            dk = `(CAST(date_part('millisecond', ${t.dk}) AS DOUBLE) / 1000)`;
          } else {
            dk = `CAST(date_part('${field}', ${t.dk}) AS DOUBLE)`;
          }
          return E(ts, dk, 'double');
        }
      ],
      [2, () => this.generic(ctx, 'double', depth)],
    ])();
  }

  textExpr(ctx, depth) {
    const r = this.rng;
    return r.weighted([
      [
        2,
        () => {
          const a = this.expr(ctx, 'text', depth);
          const f = r.pick(['lower', 'upper']);
          return E(`${f}(${a.ts})`, `ascii_${f}(${a.dk})`, 'text');
        }
      ],
      [
        2,
        () => {
          const a = this.expr(ctx, 'text', depth);
          const b = r.chance(0.8) ? this.expr(ctx, 'text', depth) : this.expr(ctx, 'int', depth);
          return E(`(${a.ts} || ${b.ts})`, `(${a.dk} || ${b.dk})`, 'text');
        }
      ],
      [
        1,
        () => {
          const a = this.expr(ctx, 'text', depth), b = this.expr(ctx, 'text', depth);
          const c = this.intLit();
          return E(
              `concat(${a.ts}, ${c.ts}, ${b.ts})`, `concat(${a.dk}, ${c.dk}, ${b.dk})`, 'text');
        }
      ],
      [
        2,
        () => {
          const a = this.expr(ctx, 'text', depth);
          const s = r.int(1, 4), l = r.int(0, 4);
          if (r.chance(0.3)) return E(`substr(${a.ts}, ${s})`, `substr(${a.dk}, ${s})`, 'text');
          return E(`substr(${a.ts}, ${s}, ${l})`, `substr(${a.dk}, ${s}, ${l})`, 'text');
        }
      ],
      [
        1,
        () => {
          const a = this.expr(ctx, r.pick(['int', 'bool', 'ts']), depth);
          // || '': DuckDB rewrites CAST(x AS VARCHAR) < 'zzz' into x < CAST('zzz' AS ...),
          // which fails or matches nothing.
          return E(`CAST(${a.ts} AS text)`, `(CAST(${a.dk} AS VARCHAR) || '')`, 'text');
        }
      ],
      [2, () => this.generic(ctx, 'text', depth)],
    ])();
  }

  tsExpr(ctx, depth) {
    const r = this.rng;
    const base = () => this.colOf(ctx, 'ts') || this.tsLit(true);
    return r.weighted([
      [
        2,
        () => {
          const t = base();
          const iv = this.intervalLit();
          const op = r.pick(['+', '-']);
          return E(`(${t.ts} ${op} interval '${iv}')`, `(${t.dk} ${op} INTERVAL '${iv}')`, 'ts');
        }
      ],
      [
        2,
        () => {
          const t = base();
          const u = r.pick(['minute', 'hour', 'day', 'week', 'month', 'second', 'quarter']);
          return E(`date_trunc('${u}', ${t.ts})`, `date_trunc('${u}', ${t.dk})`, 'ts');
        }
      ],
      [
        2,
        () => {
          const t = base();
          const iv = this.intervalLit();
          return E(
              `time_bucket('${iv}', ${t.ts})`,
              `time_bucket(INTERVAL '${iv}', ${t.dk}, TIMESTAMPTZ '1970-01-01 00:00:00+00')`, 'ts');
        }
      ],
      [
        1,
        () => {
          const t = base();
          const iv = this.intervalLit(true);
          const origin = this.tsLit();
          return E(
              `date_bin('${iv}', ${t.ts}, ${origin.ts})`,
              `time_bucket(INTERVAL '${iv}', ${t.dk}, ${origin.dk})`, 'ts');
        }
      ],
      [1, () => this.generic(ctx, 'ts', depth)],
    ])();
  }

  // A LIKE pattern that often matches the data: pieces of a host or region
  // with % and _ and escaped metacharacters.
  likePattern() {
    const r = this.rng;
    const s = r.chance(0.8) ? r.pick(HOSTS) : r.pick(REGIONS.concat(['m_up', 'r0001']));
    const chars = Array.from(s);
    let out = '';
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i];
      const roll = r.next();
      if (roll < 0.15) {
        out += '_';
      } else if (roll < 0.25) {
        out += '%';
        i += r.int(0, 2);
      } else if (c === '_' || c === '%') {
        out += r.chance(0.7) ? `\\${c}` : c;
      } else if (r.chance(0.15)) {
        out += c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase();
      } else {
        out += c;
      }
    }
    if (r.chance(0.3)) out = '%' + out;
    if (r.chance(0.3)) out += '%';
    return out;
  }

  // A boolean expression. With ctx.pushable, only what Timestore pushes into
  // the scan (a column compared with constants, IN, BETWEEN, IS NULL, boolean
  // columns, AND/OR/NOT of those): required in aggregate queries.
  pred(ctx, depth) {
    const r = this.rng;
    if (depth <= 0) return this.atom(ctx);
    return r.weighted([
      [5, () => this.atom(ctx)],
      [
        2,
        () => {
          const a = this.pred(ctx, depth - 1), b = this.pred(ctx, depth - 1);
          const op = r.pick(['AND', 'OR']);
          return E(`(${a.ts} ${op} ${b.ts})`, `(${a.dk} ${op} ${b.dk})`, 'bool');
        }
      ],
      [
        1,
        () => {
          const a = this.pred(ctx, depth - 1);
          return E(`NOT (${a.ts})`, `NOT (${a.dk})`, 'bool');
        }
      ],
      [
        ctx.pushable ? 0 : 1,
        () => {
          const a = this.pred(ctx, depth - 1);
          const t = r.pick(['TRUE', 'FALSE']);
          const neg = r.chance(0.5) ? ' NOT' : '';
          return E(`(${a.ts}) IS${neg} ${t}`, `(${a.dk}) IS${neg} ${t}`, 'bool');
        }
      ],
      [ctx.pushable ? 0 : 1, () => this.generic(ctx, 'bool', depth - 1)],
    ])();
  }

  // The operand of a comparison: a column (pushable) or any expression.
  operand(ctx, type) {
    if (ctx.pushable) return this.colOf(ctx, type);
    return this.expr(ctx, type, ctx.depth ?? 2);
  }

  // A constant the operand of `type` is compared with.
  constFor(ctx, type) {
    if (type === 'ts') return this.tsLit();
    if (type === 'int') {
      // Integer columns meet integers and doubles (fractional ones are exact
      // in Timestore's pushdown); NaN/Infinity do not push down.
      if (this.rng.chance(0.3)) return this.doubleLit(!ctx.pushable);
      return this.intLit();
    }
    return this.literal(type);
  }

  // Atoms are parenthesized: DuckDB's precedence of IS, BETWEEN and NOT is not
  // PostgreSQL's (x NOT BETWEEN a AND b IS NOT NULL groups differently).
  atom(ctx) {
    const a = this.atomBare(ctx);
    return E(`(${a.ts})`, `(${a.dk})`, 'bool');
  }

  atomBare(ctx) {
    const r = this.rng;
    const types =
        ['int', 'double', 'text', 'bool', 'ts'].filter((t) => !ctx.pushable || this.colOf(ctx, t));
    const type = r.pick(types);
    const a = this.operand(ctx, type);
    if (!a) return this.boolLit();
    const form = r.weighted([
      [6, 'cmp'],
      [2, 'in'],
      [2, 'between'],
      [2, 'null'],
      [type === 'bool' ? 3 : 0, 'bool'],
      [type === 'text' && !ctx.pushable ? 3 : 0, 'like'],
      [type === 'text' && !ctx.pushable ? 1 : 0, 'regex'],
      [ctx.pushable ? 0 : 1, 'distinct'],
      [ctx.pushable ? 0 : 1, 'cmp2'],
    ]);
    switch (form) {
      case 'cmp': {
        const c = this.constFor(ctx, type);
        const op = r.pick(['=', '<>', '<', '<=', '>', '>=', '!=']);
        if (r.chance(0.25)) return E(`${c.ts} ${op} ${a.ts}`, `${c.dk} ${op} ${a.dk}`, 'bool');
        return E(`${a.ts} ${op} ${c.ts}`, `${a.dk} ${op} ${c.dk}`, 'bool');
      }
      case 'cmp2': {
        const b = this.expr(ctx, type === 'int' && r.chance(0.3) ? 'double' : type, 1);
        const op = r.pick(['=', '<>', '<', '<=', '>', '>=']);
        return E(`${a.ts} ${op} ${b.ts}`, `${a.dk} ${op} ${b.dk}`, 'bool');
      }
      case 'in': {
        const k = r.int(1, 4);
        const items = [];
        for (let i = 0; i < k; i++) items.push(this.constFor(ctx, type));
        if (r.chance(0.15)) items.push(E('NULL', 'NULL', type));
        const neg = r.chance(0.35) ? ' NOT' : '';
        const ts = `${a.ts}${neg} IN (${items.map((x) => x.ts).join(', ')})`;
        if (type !== 'int') {
          return E(ts, `${a.dk}${neg} IN (${items.map((x) => x.dk).join(', ')})`, 'bool');
        }
        // DuckDB gives a bigint IN list with a double in it one type, double, so
        // 9223372036854775806 IN (9223372036854775807, 0.5) would hold;
        // PostgreSQL compares each item as its own types (numeric: exactly).
        const ors = items.map((x) => `${a.dk} = ${x.dk}`).join(' OR ');
        return E(ts, `${neg ? 'NOT ' : ''}(${ors})`, 'bool');
      }
      case 'between': {
        const lo = this.constFor(ctx, type), hi = this.constFor(ctx, type);
        const neg = r.chance(0.3) ? ' NOT' : '';
        const ts = `${a.ts}${neg} BETWEEN ${lo.ts} AND ${hi.ts}`;
        if (type !== 'int') {
          return E(ts, `${a.dk}${neg} BETWEEN ${lo.dk} AND ${hi.dk}`, 'bool');
        }
        // As for IN: PostgreSQL's BETWEEN is x >= lo AND x <= hi, each typed alone.
        const and = `${a.dk} >= ${lo.dk} AND ${a.dk} <= ${hi.dk}`;
        return E(ts, neg ? `NOT (${and})` : `(${and})`, 'bool');
      }
      case 'null': {
        const neg = r.chance(0.5) ? ' NOT' : '';
        return E(`${a.ts} IS${neg} NULL`, `${a.dk} IS${neg} NULL`, 'bool');
      }
      case 'bool': {
        const f = r.pick(['plain', 'not', 'is']);
        if (f === 'plain') return a;
        if (f === 'not') return E(`NOT ${a.ts}`, `NOT ${a.dk}`, 'bool');
        const t = r.pick(['TRUE', 'FALSE']);
        const neg = r.chance(0.5) ? ' NOT' : '';
        return E(`${a.ts} IS${neg} ${t}`, `${a.dk} IS${neg} ${t}`, 'bool');
      }
      case 'like': {
        const p = this.likePattern();
        const op = r.pick(['LIKE', 'NOT LIKE', 'ILIKE', 'NOT ILIKE', 'LIKE']);
        // ILIKE folds ASCII only in Timestore: keep non-ASCII letters out of its patterns.
        const pat = op.includes('ILIKE') ? p.replace(/[^\x00-\x7f]/g, '_') : p;
        return E(
            `${a.ts} ${op} ${sqlString(pat)}`, `${a.dk} ${op} ${sqlString(pat)} ESCAPE '\\'`,
            'bool');
      }
      case 'regex': {
        const p = r.pick(['^a', 'a$', 'ph', '[0-9]', '^[a-z]+$', 'ü', 'u|e', '^.{4}$', 'M']);
        const op = r.pick(['~', '!~', '~*', '!~*']);
        const flags = op.includes('*') ? ', \'i\'' : '';
        const neg = op.startsWith('!') ? 'NOT ' : '';
        return E(
            `${a.ts} ${op} ${sqlString(p)}`,
            `${neg}regexp_matches(${a.dk}, ${sqlString(p)}${flags})`, 'bool');
      }
      case 'distinct': {
        const b = this.expr(ctx, type, 1);
        const neg = r.chance(0.5) ? ' NOT' : '';
        return E(
            `${a.ts} IS${neg} DISTINCT FROM ${b.ts}`, `${a.dk} IS${neg} DISTINCT FROM ${b.dk}`,
            'bool');
      }
    }
    throw new Error(form);
  }

  // A WHERE for the dataset: sometimes a time range, often predicates.
  where(ctx) {
    const r = this.rng;
    const parts = [];
    if (r.chance(0.35)) {
      const lo = this.tsLit(), hi = this.tsLit();
      const t = column(r, 'timestamp');
      parts.push(r.weighted([
        [
          2,
          E(`${t.ts} >= ${lo.ts} AND ${t.ts} < ${hi.ts}`,
            `${t.dk} >= ${lo.dk} AND ${t.dk} < ${hi.dk}`)
        ],
        [1, E(`${t.ts} BETWEEN ${lo.ts} AND ${hi.ts}`, `${t.dk} BETWEEN ${lo.dk} AND ${hi.dk}`)],
        [1, E(`${t.ts} > ${lo.ts}`, `${t.dk} > ${lo.dk}`)],
        [1, E(`${lo.ts} >= ${t.ts}`, `${lo.dk} >= ${t.dk}`)],
        [1, E(`${t.ts} = ${lo.ts}`, `${t.dk} = ${lo.dk}`)],
      ]));
    }
    if (parts.length === 0 || r.chance(0.6)) parts.push(this.pred(ctx, r.int(0, 2)));
    if (r.chance(0.15)) parts.push(this.pred(ctx, 1));
    return E(parts.map((p) => p.ts).join(' AND '), parts.map((p) => p.dk).join(' AND '), 'bool');
  }

  // ---- statements ---------------------------------------------------------
  statement(table) {
    const r = this.rng;
    const kind = r.weighted([
      [34, 'raw'],
      [14, 'global'],
      [30, 'grouped'],
      [7, 'distinct'],
      [6, 'distinct_on'],
      [9, 'constant'],
    ]);
    const st = this[kind](table);
    st.kind = kind;
    return st;
  }

  constant() {
    const r = this.rng;
    const ctx = {cols: []};
    const k = r.int(1, 4);
    const outs = [];
    for (let i = 0; i < k; i++) {
      const t = r.pick(['int', 'double', 'text', 'bool', 'bool', 'ts']);
      const e = t === 'bool' ? this.pred(ctx, 2) : this.expr(ctx, t, 3);
      outs.push(e);
    }
    const sel = outs.map((e, i) => [e.ts, e.dk, `c${i}`]);
    return {
      ts: `SELECT ${sel.map(([t, , a]) => `${t} AS ${a}`).join(', ')}`,
      dk: `SELECT ${sel.map(([, d, a]) => `${d} AS ${a}`).join(', ')}`,
      order: {mode: 'total', keys: []},
      limited: false,
    };
  }

  // The select list of a raw query: columns, *, expressions.
  raw(table) {
    const r = this.rng;
    const all = TABLE_COLUMNS.map((c) => c.name);
    const ctx = {cols: all, depth: 2};
    const outs = [];  // {ts, dk, type, name}
    let star = false;
    if (r.chance(0.15)) {
      star = true;
      for (const c of TABLE_COLUMNS) outs.push({ts: '*', dk: '*', type: c.type, name: c.name});
    } else {
      const k = r.int(1, 5);
      for (let i = 0; i < k; i++) {
        if (r.chance(0.55)) {
          const c = column(r, r.pick(all));
          outs.push({...c, name: null});
        } else {
          const t = r.pick(['int', 'double', 'double', 'text', 'bool', 'ts']);
          outs.push({...this.expr(ctx, t, 3), name: null});
        }
      }
      if (r.chance(0.5)) outs.push({...column(r, 'rid'), name: null});
    }
    const where = r.chance(0.75) ? this.where(ctx) : null;
    return this.finishRaw(table, outs, star, where, ctx, {distinct: false});
  }

  distinct(table) {
    const r = this.rng;
    const ctx = {cols: TABLE_COLUMNS.map((c) => c.name), depth: 1};
    const outs = [];
    const k = r.int(1, 3);
    for (let i = 0; i < k; i++) {
      if (r.chance(0.7)) {
        outs.push({
          ...column(r, r.pick(['host', 'region', 'b', 'n', 'w', 'value', '__name__'])),
          name: null
        });
      } else {
        const t = r.pick(['int', 'double', 'text', 'bool', 'ts']);
        outs.push({...this.expr(ctx, t, 2), name: null});
      }
    }
    const where = r.chance(0.5) ? this.where(ctx) : null;
    return this.finishRaw(table, outs, false, where, ctx, {distinct: true});
  }

  distinct_on(table) {
    const r = this.rng;
    const ctx = {cols: TABLE_COLUMNS.map((c) => c.name), depth: 1};
    const key = column(r, r.pick(['host', 'region', 'b', 'n', 'w']));
    const outs = [{...key, name: null}];
    const k = r.int(1, 3);
    for (let i = 0; i < k; i++) {
      outs.push({...column(r, r.pick(['timestamp', 'v', 'value', 'n', 'rid', 'big'])), name: null});
    }
    const where = r.chance(0.5) ? this.where(ctx) : null;
    // ORDER BY the key, then something that picks the row, made total with rid.
    const desc = r.chance(0.5) ? ' DESC' : '';
    const pickBy = r.pick(['timestamp', 'v', 'value', 'n']);
    const tie = r.chance(0.5) ? 'rid' : 'rid DESC';
    const p = column(r, pickBy);
    const order = `${key.ts}${desc}, ${p.ts}${
        r.pick(['', ' DESC', ' NULLS FIRST', ' DESC NULLS LAST'])}, ${tie}`;
    const orderDk = order.replaceAll(key.ts, key.dk);
    let ts = `SELECT DISTINCT ON (${key.ts}) ${outs.map((o) => o.ts).join(', ')} FROM ${table}`;
    let dk = `SELECT DISTINCT ON (${key.dk}) ${outs.map((o) => o.dk).join(', ')} FROM ${table}`;
    if (where) {
      ts += ` WHERE ${where.ts}`;
      dk += ` WHERE ${where.dk}`;
    }
    ts += ` ORDER BY ${order}`;
    dk += ` ORDER BY ${orderDk}`;
    let limited = false;
    if (r.chance(0.3)) {
      const l = r.int(1, 5);
      ts += ` LIMIT ${l}`;
      dk += ` LIMIT ${l}`;
      limited = true;
    }
    return {ts, dk, order: {mode: 'total', keys: []}, limited};
  }

  // ORDER BY, LIMIT and OFFSET of a raw or DISTINCT query, and how its answer
  // may be compared.
  finishRaw(table, outs, star, where, ctx, {distinct}) {
    const r = this.rng;
    // Output names: aliases for expressions, sometimes for columns too.
    const sel = [];
    outs.forEach((o, i) => {
      if (o.ts === '*') {
        if (i === 0) sel.push(['*', '*']);
        return;
      }
      // Expressions get aliases: PostgreSQL's default names ("bool" for true,
      // "?column?") are not DuckDB's.
      if (!o.isCol || r.chance(0.2)) {
        sel.push([`${o.ts} AS o${i}`, `${o.dk} AS o${i}`]);
      } else {
        sel.push([o.ts, o.dk]);
      }
    });
    let ts =
        `SELECT ${distinct ? 'DISTINCT ' : ''}${sel.map((s) => s[0]).join(', ')} FROM ${table}`;
    let dk =
        `SELECT ${distinct ? 'DISTINCT ' : ''}${sel.map((s) => s[1]).join(', ')} FROM ${table}`;
    if (where) {
      ts += ` WHERE ${where.ts}`;
      dk += ` WHERE ${where.dk}`;
    }
    const ridOut = outs.findIndex((o) => o.name === 'rid' || o.ts === 'rid' || o.ts === '"rid"');
    let mode = 'none';
    const keys = [];
    const dirs = [];
    const items = [];
    if (r.chance(0.7)) {
      const nk = r.int(1, 3);
      for (let i = 0; i < nk; i++) {
        const dir = r.weighted([
          [3, ''], [2, ' DESC'], [1, ' ASC'], [1, ' NULLS FIRST'], [1, ' DESC NULLS LAST'],
          [1, ' ASC NULLS LAST'], [1, ' DESC NULLS FIRST']
        ]);
        if (distinct || r.chance(0.7)) {
          const j = r.int(0, outs.length - 1);
          items.push([`${j + 1}${dir}`, `${j + 1}${dir}`]);
          keys.push(j);
          dirs.push(dirOf(dir));
        } else {
          // An expression over a column: PostgreSQL reads an integer constant
          // as a position (- (- 2) is 2) and refuses other constants.
          const e = this.expr(ctx, r.pick(['int', 'double', 'text', 'ts']), 2);
          if (!/"?\b(timestamp|host|region|rid|v|w|value|n|big|b|__name__)\b"?/.test(e.ts) ||
              /^'/.test(e.ts)) {
            items.push([`rid${dir}`, `rid${dir}`]);
          } else {
            items.push([`${e.ts}${dir}`, `${e.dk}${dir}`]);
          }
          keys.push(-1);
          dirs.push(dirOf(dir));
        }
      }
      // A prefix of output columns fixes the sequence of those columns.
      const prefix = [];
      for (const k of keys) {
        if (k < 0) break;
        prefix.push(k);
      }
      let total = keys.includes(ridOut) && ridOut >= 0 && !distinct;
      if (!total && !distinct && r.chance(0.6)) {
        const dir = r.pick(['', ' DESC']);
        items.push([`rid${dir}`, `rid${dir}`]);
        total = true;
      }
      if (distinct && new Set(keys).size === outs.length) total = true;
      mode = total ? 'total' : prefix.length > 0 ? 'prefix' : 'none';
      keys.length = 0;
      keys.push(...prefix);
      dirs.length = prefix.length;
      ts += ` ORDER BY ${items.map((x) => x[0]).join(', ')}`;
      dk += ` ORDER BY ${items.map((x) => x[1]).join(', ')}`;
    }
    let limited = false;
    if (mode !== 'none' && r.chance(0.4)) {
      const l = r.pick([1, 3, 10, 50]);  // LIMIT 0 would skip evaluating the sort keys
      ts += ` LIMIT ${l}`;
      dk += ` LIMIT ${l}`;
      limited = true;
      if (r.chance(0.4)) {
        const o = r.pick([0, 1, 5, 20]);
        ts += ` OFFSET ${o}`;
        dk += ` OFFSET ${o}`;
      }
    } else if (mode !== 'none' && r.chance(0.1)) {
      const o = r.pick([1, 5, 100]);
      ts += ` OFFSET ${o}`;
      dk += ` OFFSET ${o}`;
      limited = true;
    }
    return {ts, dk, order: {mode, keys, dirs}, limited};
  }

  // ---- aggregates ---------------------------------------------------------
  aggregate() {
    const r = this.rng;
    const num = ['v', 'w', 'value', 'n'];
    const any = ['v', 'w', 'value', 'n', 'big', 'host', 'region', 'b', 'timestamp', 'rid'];
    const fn = r.weighted([
      [3, 'count*'],
      [2, 'count'],
      [2, 'count_distinct'],
      [3, 'sum'],
      [3, 'avg'],
      [3, 'min'],
      [3, 'max'],
      [2, 'median'],
      [2, 'percentile'],
      [2, 'first'],
      [2, 'last'],
      [1, 'sum_big'],
    ]);
    const col = (names) => column(r, r.pick(names));
    switch (fn) {
      case 'count*': {
        const f = r.chance(0.8) ? 'count(*)' : 'count(1)';
        return E(f, 'count(*)', 'int');
      }
      case 'count': {
        const c = col(any);
        return E(`count(${c.ts})`, `count(${c.dk})`, 'int');
      }
      case 'count_distinct': {
        const c = col(['host', 'region', 'n', 'w', 'value', 'b', 'big', 'timestamp']);
        return E(`count(DISTINCT ${c.ts})`, `count(DISTINCT ${c.dk})`, 'int');
      }
      case 'sum':
      case 'avg': {
        const c = col(num);
        const type = fn === 'avg' || c.type === 'double' ? 'double' : 'int';
        return E(`${fn}(${c.ts})`, `${fn}(${c.dk})`, type);
      }
      case 'sum_big': {
        const c = column(r, 'big');
        return E(`sum(${c.ts})`, `sum(${c.dk})`, 'int');
      }
      case 'min':
      case 'max': {
        const c = col(any);
        return E(`${fn}(${c.ts})`, `${fn}(${c.dk})`, c.type);
      }
      case 'median': {
        const c = col(num.concat(['big']));
        return E(`median(${c.ts})`, `pg_percentile_cont(${pctList(c.dk)}, 0.5::DOUBLE)`, 'double');
      }
      case 'percentile': {
        const c = col(num);
        const p = r.pick([0, 0.1, 0.25, 0.5, 0.9, 0.99, 1, 0.333]);
        return E(
            `percentile_cont(${p}) WITHIN GROUP (ORDER BY ${c.ts})`,
            `pg_percentile_cont(${pctList(c.dk)}, ${p}::DOUBLE)`, 'double');
      }
      case 'first':
      case 'last': {
        const c = col(['v', 'w', 'value', 'n', 'host', 'region', 'b', 'big']);
        const t = column(r, 'timestamp');
        const dfn = fn === 'first' ? 'arg_min' : 'arg_max';
        // Rows tied at the extreme time with different values: Timestore takes
        // one by storage order (see docs/sql.md), so DuckDB flags the cell as
        // ambiguous (the smallest and the largest candidate differ).
        const nn = `FILTER (WHERE ${c.dk} IS NOT NULL)`;
        const us = `epoch_us(${t.dk})`;
        const lo = fn === 'first' ? `arg_min(${c.dk}, (${t.dk}, ${c.dk})) ${nn}` :
                                    `arg_max(${c.dk}, (${t.dk}, ${c.dk})) ${nn}`;
        const hi = fn === 'first' ? `arg_max(${c.dk}, (-${us}, ${c.dk})) ${nn}` :
                                    `arg_min(${c.dk}, (-${us}, ${c.dk})) ${nn}`;
        return {
          ...E(`${fn}(${c.ts}, ${t.ts})`, `${dfn}(${c.dk}, (${t.dk}, rid)) ${nn}`, c.type),
          amb: `(${lo}) IS DISTINCT FROM (${hi})`
        };
      }
    }
    throw new Error(fn);
  }

  // An aggregate output: the aggregate, or arithmetic over aggregates.
  aggOutput() {
    const r = this.rng;
    const a = this.aggregate();
    if (!isNum(a.type) || a.amb || r.chance(0.75)) return a;
    const b =
        r.chance(0.5) ? this.aggregate() : (r.chance(0.5) ? this.intLit() : this.doubleLit(false));
    if (!isNum(b.type) || b.amb) return a;
    const op = r.pick(['+', '-', '*']);
    if (a.type === 'int' && b.type === 'int') {
      return E(`(${a.ts} ${op} ${b.ts})`, `(${a.dk} ${op} ${b.dk})`, 'int');
    }
    const fn = {'+': 'pg_add', '-': 'pg_sub', '*': 'pg_mul'}[op];
    return E(
        `(${a.ts} ${op} ${b.ts})`, `${fn}(${this.asDouble(a)}, ${this.asDouble(b)})`, 'double');
  }

  global(table) {
    const r = this.rng;
    const ctx = {cols: TABLE_COLUMNS.map((c) => c.name), pushable: true};
    const k = r.int(1, 5);
    const outs = [];
    for (let i = 0; i < k; i++) outs.push(this.aggOutput());
    const {dkHidden, hidden} = hiddenColumns(outs);
    let ts = `SELECT ${outs.map((o, i) => `${o.ts} AS a${i}`).join(', ')} FROM ${table}`;
    let dk = `SELECT ${outs.map((o, i) => `${o.dk} AS a${i}`).join(', ')}${dkHidden} FROM ${table}`;
    if (r.chance(0.7)) {
      const w = this.where(ctx);
      ts += ` WHERE ${w.ts}`;
      dk += ` WHERE ${w.dk}`;
    }
    return {ts, dk, order: {mode: 'total', keys: []}, limited: false, hidden};
  }

  // A GROUP BY key: a column or a time bucket.
  groupKey() {
    const r = this.rng;
    const kind = r.weighted(
        [[6, 'col'], [3, 'time_bucket'], [2, 'date_trunc'], [1, 'date_bin'], [1, 'time']]);
    const t = column(r, 'timestamp');
    switch (kind) {
      case 'col': {
        const c = column(r, r.pick(['host', 'region', 'b', 'n', 'w', 'value', '__name__', 'big']));
        return {...c, bucket: false};
      }
      case 'time_bucket': {
        const iv = this.intervalLit();
        return {
          ts: `time_bucket('${iv}', ${t.ts})`,
          dk: `time_bucket(INTERVAL '${iv}', ${t.dk}, TIMESTAMPTZ '1970-01-01 00:00:00+00')`,
          type: 'ts',
          bucket: true
        };
      }
      case 'date_trunc': {
        const u = r.pick(['minute', 'hour', 'day', 'week', 'month']);
        return {
          ts: `date_trunc('${u}', ${t.ts})`,
          dk: `date_trunc('${u}', ${t.dk})`,
          type: 'ts',
          bucket: true
        };
      }
      case 'date_bin': {
        const iv = r.pick(['15 minutes', '1 hour', '6 hours', '1 day', '10 minutes']);
        return {
          ts: `date_bin('${iv}', ${t.ts}, '1970-01-01')`,
          dk: `time_bucket(INTERVAL '${iv}', ${t.dk}, TIMESTAMPTZ '1970-01-01 00:00:00+00')`,
          type: 'ts',
          bucket: true
        };
      }
      case 'time':
        return {...t, bucket: true};
    }
    throw new Error(kind);
  }

  grouped(table) {
    const r = this.rng;
    const ctx = {cols: TABLE_COLUMNS.map((c) => c.name), pushable: true};
    // Keys: at most one time bucket, distinct columns.
    const keys = [];
    const nk = r.int(1, 3);
    for (let i = 0; i < nk * 3 && keys.length < nk; i++) {
      const g = this.groupKey();
      if (g.bucket && keys.some((k) => k.bucket)) continue;
      if (keys.some((k) => k.dk === g.dk)) continue;
      keys.push(g);
    }
    // The select list: the keys (sometimes under an expression, or left out),
    // then aggregates, in a shuffled order.
    const outs = [];
    let keysInOutput = true;
    for (const g of keys) {
      const roll = r.next();
      if (roll < 0.08) {
        keysInOutput = false;  // grouped by, not shown
      } else if (roll < 0.18 && g.type === 'text') {
        outs.push({ts: `lower(${g.ts})`, dk: `ascii_lower(${g.dk})`, type: 'text', key: null});
        keysInOutput = false;
      } else {
        outs.push({...g, key: g});
      }
    }
    const na = r.int(0, 3);
    for (let i = 0; i < na; i++) outs.push({...this.aggOutput(), key: null});
    if (outs.length === 0) outs.push({...this.aggregate(), key: null});
    for (let i = outs.length - 1; i > 0; i--) {
      const j = r.int(0, i);
      [outs[i], outs[j]] = [outs[j], outs[i]];
    }
    const alias = (i) => `g${i}`;
    const {dkHidden, hidden} = hiddenColumns(outs);
    let ts = `SELECT ${outs.map((o, i) => `${o.ts} AS ${alias(i)}`).join(', ')} FROM ${table}`;
    let dk = `SELECT ${outs.map((o, i) => `${o.dk} AS ${alias(i)}`).join(', ')}${dkHidden} FROM ${
        table}`;
    if (r.chance(0.6)) {
      const w = this.where(ctx);
      ts += ` WHERE ${w.ts}`;
      dk += ` WHERE ${w.dk}`;
    }
    // GROUP BY by expression, position or alias.
    const gts = [], gdk = [];
    for (const g of keys) {
      const pos = outs.findIndex((o) => o.key === g);
      const how = pos >= 0 ? r.weighted([[3, 'expr'], [2, 'pos'], [1, 'alias']]) : 'expr';
      if (how === 'pos') {
        gts.push(`${pos + 1}`);
        gdk.push(`${pos + 1}`);
      } else if (how === 'alias' && !/^"?[a-z_]+"?$/.test(g.ts)) {
        gts.push(alias(pos));
        gdk.push(alias(pos));
      } else {
        gts.push(g.ts);
        gdk.push(g.dk);
      }
    }
    ts += ` GROUP BY ${gts.join(', ')}`;
    dk += ` GROUP BY ${gdk.join(', ')}`;
    if (r.chance(0.3)) {
      const h = this.having(keys);
      ts += ` HAVING ${h.ts}`;
      dk += ` HAVING ${h.dk}`;
    }
    // ORDER BY: output positions, or an aggregate; total when every key is in.
    let mode = 'none';
    let prefix = [];
    const dirs = [];
    if (r.chance(0.75)) {
      const items = [];
      const used = new Set();
      const order = [];
      const n = r.int(1, outs.length);
      for (let i = 0; i < n; i++) {
        const j = r.int(0, outs.length - 1);
        if (used.has(j) || outs[j].amb) continue;  // first/last may be ambiguous
        used.add(j);
        order.push(j);
      }
      // Often: every key, so the order is total.
      if (keysInOutput && r.chance(0.7)) {
        outs.forEach((o, j) => {
          if (o.key && !used.has(j)) {
            used.add(j);
            order.push(j);
          }
        });
      }
      for (const j of order) {
        const dir = r.pick(['', ' DESC', ' NULLS FIRST', ' DESC NULLS LAST', ' ASC']);
        const by = r.chance(0.7) ? `${j + 1}` : alias(j);
        items.push(`${by}${dir}`);
        dirs.push(dirOf(dir));
      }
      let extra = false;
      const a = this.aggregate();
      if (!a.amb && r.chance(0.15)) {
        items.push(`${a.ts} DESC`);
        ts += ` ORDER BY ${items.join(', ')}`;
        items[items.length - 1] = `${a.dk} DESC`;
        dk += ` ORDER BY ${items.join(', ')}`;
        extra = true;
      } else {
        ts += ` ORDER BY ${items.join(', ')}`;
        dk += ` ORDER BY ${items.join(', ')}`;
      }
      const allKeys =
          keysInOutput && outs.every((o, j) => !o.key || used.has(j)) && keys.length > 0;
      prefix = order;
      mode = allKeys ? 'total' : 'prefix';
      if (extra && !allKeys) mode = 'prefix';
    }
    let limited = false;
    if (mode === 'total' && r.chance(0.35)) {
      const l = r.pick([1, 2, 5, 20]);
      ts += ` LIMIT ${l}`;
      dk += ` LIMIT ${l}`;
      limited = true;
      if (r.chance(0.3)) {
        ts += ' OFFSET 2';
        dk += ' OFFSET 2';
      }
    }
    return {ts, dk, order: {mode, keys: prefix, dirs}, limited, hidden};
  }

  having(keys) {
    const r = this.rng;
    const one = () => {
      if (keys.length > 0 && r.chance(0.25)) {
        const g = r.pick(keys);
        if (g.type !== 'ts') {
          const c = this.constFor({pushable: true}, g.type);
          const op = r.pick(['=', '<>', '<', '>=']);
          return E(`${g.ts} ${op} ${c.ts}`, `${g.dk} ${op} ${c.dk}`, 'bool');
        }
      }
      const a = this.aggregate();
      if (a.type === 'bool' || a.type === 'ts' || a.type === 'text' || a.amb) {
        return E(`${a.ts} IS NOT NULL`, `${a.dk} IS NOT NULL`, 'bool');
      }
      const c = a.type === 'int' ? this.intLit() : this.doubleLit();
      const op = r.pick(['<', '<=', '>', '>=', '=', '<>']);
      return E(`${a.ts} ${op} ${c.ts}`, `${a.dk} ${op} ${c.dk}`, 'bool');
    };
    if (r.chance(0.3)) {
      const a = one(), b = one();
      const op = r.pick(['AND', 'OR']);
      return E(`(${a.ts} ${op} ${b.ts})`, `(${a.dk} ${op} ${b.dk})`, 'bool');
    }
    return one();
  }
}

// The sorted non-null values of `x` as doubles, for pg_percentile_cont.
function pctList(x) {
  return `list_sort(list(CAST(${x} AS DOUBLE)) FILTER (WHERE ${x} IS NOT NULL))`;
}

// DuckDB-only trailing columns saying which first/last cells are ambiguous:
// {dkHidden: ', amb AS __amb0, ...', hidden: [output index, ...]}.
function hiddenColumns(outs) {
  const hidden = [];
  let dkHidden = '';
  outs.forEach((o, i) => {
    if (!o.amb) return;
    dkHidden += `, ${o.amb} AS __amb${hidden.length}`;
    hidden.push(i);
  });
  return {dkHidden, hidden};
}

// The direction of an ORDER BY item from its suffix (" DESC NULLS LAST").
function dirOf(suffix) {
  const desc = /DESC/.test(suffix);
  const nullsFirst = /NULLS FIRST/.test(suffix) ? true : /NULLS LAST/.test(suffix) ? false : desc;
  return {desc, nullsFirst};
}

function wrap(s) {
  return /^[A-Za-z0-9_."']+$/.test(s) ? s : `(${s})`;
}
