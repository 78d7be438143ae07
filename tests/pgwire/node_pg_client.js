// node-postgres (npm `pg`, pinned in tests/node) against Timestore's
// PostgreSQL protocol. Queries with parameters go through the extended
// protocol (Parse/Bind/Describe/Execute/Sync); `binary: true` asks for
// binary results.
//
// Usage: NODE_PATH=tests/node/node_modules node node_pg_client.js PORT USER PASSWORD
// Prints one line per check; exits 1 at the first failure, naming it.
'use strict';
const assert = require('assert');
const { Client } = require('pg');

async function main() {
  const [port, user, password] = process.argv.slice(2);
  const client = new Client({
    host: '127.0.0.1', port: Number(port), user, password: password || undefined,
    database: 'timestore', application_name: 'node-pg-test',
  });
  const params = {};
  client.connection.on('parameterStatus', (m) => { params[m.parameterName] = m.parameterValue; });
  await client.connect();
  const check = (name, got, want) => {
    assert.deepStrictEqual(got, want, name);
    console.log(`ok ${name}`);
  };

  // Parameters: the extended protocol with text parameters.
  let r = await client.query(
    'SELECT hostname, usage_user FROM cpu WHERE usage_user > $1 ORDER BY timestamp LIMIT $2',
    [20, 2]);
  check('param rows', r.rows, [{ hostname: 'host_0', usage_user: 42.5 },
                               { hostname: 'host_2', usage_user: 99.25 }]);
  check('param fields', r.fields.map((f) => [f.name, f.dataTypeID]),
        [['hostname', 25], ['usage_user', 701]]);

  // A string parameter and a timestamp result.
  r = await client.query('SELECT timestamp FROM cpu WHERE hostname = $1', ['host_1']);
  check('timestamptz', r.rows[0].timestamp.toISOString(), '2024-05-01T12:00:10.000Z');

  // A named prepared statement, parsed once and bound twice.
  const named = { name: 'by_host', text: 'SELECT count(*) AS n FROM cpu WHERE hostname = $1' };
  r = await client.query({ ...named, values: ['host_0'] });
  check('prepared 1', r.rows[0].n, '1');  // int8 comes back as a string in node-pg
  r = await client.query({ ...named, values: ['nobody'] });
  check('prepared 2', r.rows[0].n, '0');

  // Binary results (format code 1 for every column). node-pg's parser reads
  // every DataRow field as a UTF-8 string before its binary parsers see it,
  // so bytes >= 0x80 arrive mangled (99.25 is 40 58 d0 00...): the value is
  // one whose float8 bytes are all ASCII (42.5 is 40 45 40 00 ...). libpq
  // checks arbitrary binary values (clients_test.cc).
  r = await client.query({
    text: 'SELECT usage_user, hostname FROM cpu WHERE hostname = $1', values: ['host_0'],
    binary: true,
  });
  check('binary float8', r.rows[0].usage_user, 42.5);
  check('binary text', r.rows[0].hostname, 'host_0');

  // Errors carry their SQLSTATE; the connection stays usable.
  try {
    await client.query('SELEC $1', [1]);
    assert.fail('syntax error not raised');
  } catch (e) {
    check('syntax error code', e.code, '42601');
  }
  r = await client.query('SELECT 1 AS one');
  // Number(): node-pg returns int8 as a string and int4 as a number.
  check('after error', Number(r.rows[0].one), 1);

  check('server_version', (params.server_version || '').startsWith('15.0'), true);
  check('application_name', params.application_name, 'node-pg-test');
  await client.end();
  console.log('OK');
}

main().catch((e) => {
  console.log(`FAIL ${e.message}`);
  process.exit(1);
});
