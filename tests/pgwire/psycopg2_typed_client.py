#!/usr/bin/env python3
"""psycopg2 reads json, uuid and array columns from Timestore.

Usage: psycopg2_typed_client.py PORT USER PASSWORD
Expects the dataset `ev` of tests/pgwire/clients_test.cc (PgTypedClientsTest).
Prints one line per check and exits 1 at the first failure, naming it.
"""
import sys
import uuid

import psycopg2
import psycopg2.extras

A = uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
B = uuid.UUID("123e4567-e89b-12d3-a456-426614174000")


def check(name, got, want):
    if got != want:
        print(f"FAIL {name}: got {got!r}, want {want!r}")
        sys.exit(1)
    print(f"ok {name}")


def main():
    port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    conn = psycopg2.connect(host="127.0.0.1", port=port, user=user,
                            password=password or None, dbname="timestore")
    conn.autocommit = True
    # psycopg2 decodes json (114) and the arrays by itself; uuid once registered.
    psycopg2.extras.register_uuid()
    cur = conn.cursor()

    cur.execute("SELECT attrs, id, vals, counts, tags, flags FROM ev ORDER BY time")
    check("type oids", [d.type_code for d in cur.description],
          [114, 2950, 1022, 1016, 1009, 1000])
    rows = cur.fetchall()
    check("row 1", rows[0], ({"http": {"status": 500}, "user": "bob"}, A, [1.0, 2.5], [1, 2],
                             ["a b", "c"], [True, False]))
    check("row 2", rows[1], ({"http": {"status": 200}}, B, [], [3], ["x"], [False]))
    check("uuid type", type(rows[0][1]), uuid.UUID)
    check("json type", type(rows[0][0]), dict)

    # Parameters: a uuid.UUID (sent as '...'::uuid), a tuple for IN, a list
    # (ARRAY[...]), a Json (a quoted string the column's type reads).
    cur.execute("SELECT host FROM ev WHERE id = %s", (B,))
    check("uuid parameter", cur.fetchall(), [("b",)])
    cur.execute("SELECT host FROM ev WHERE id IN %s ORDER BY host", ((str(A).upper(), B),))
    check("uuid IN", cur.fetchall(), [("a",), ("b",)])
    cur.execute("SELECT host FROM ev WHERE tags = %s", (["a b", "c"],))
    check("array parameter", cur.fetchall(), [("a",)])
    cur.execute("SELECT host FROM ev WHERE attrs = %s",
                (psycopg2.extras.Json({"user": "bob", "http": {"status": 500}}),))
    check("json parameter", cur.fetchall(), [("a",)])

    cur.execute("SELECT attrs->'http'->>'status', attrs->'http', attrs #>> '{http,status}' "
                "FROM ev WHERE attrs->>'user' = %s", ("bob",))
    check("json operators", cur.fetchall(), [("500", {"status": 500}, "500")])
    cur.execute("SELECT id::text, vals::text, tags::text FROM ev WHERE host = 'a'")
    check("casts to text", cur.fetchall(),
          [(str(A), "{1,2.5}", '{"a b",c}')])

    try:
        cur.execute("SELECT host FROM ev WHERE id = %s", ("not-a-uuid",))
        check("bad uuid raised", False, True)
    except psycopg2.Error as e:
        check("bad uuid sqlstate", e.pgcode, "22P02")
    conn.close()
    print("OK")


if __name__ == "__main__":
    main()
