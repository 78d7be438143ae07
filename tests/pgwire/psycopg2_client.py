#!/usr/bin/env python3
"""psycopg2 (libpq underneath) against Timestore's PostgreSQL protocol.

Usage: psycopg2_client.py PORT USER PASSWORD
Expects the dataset `cpu` of tests/pgwire/clients_test.cc. Prints one line per
check and exits 1 at the first failure, naming it.
"""
import datetime
import sys

import psycopg2
import psycopg2.extensions


def check(name, got, want):
    if got != want:
        print(f"FAIL {name}: got {got!r}, want {want!r}")
        sys.exit(1)
    print(f"ok {name}")


def main():
    port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    conn = psycopg2.connect(host="127.0.0.1", port=port, user=user,
                            password=password or None, dbname="timestore",
                            application_name="psycopg2-test")
    check("server_version", conn.get_parameter_status("server_version").startswith("15.0"), True)
    check("application_name", conn.get_parameter_status("application_name"), "psycopg2-test")
    cur = conn.cursor()

    # psycopg2 interpolates parameters itself and sends simple queries.
    cur.execute("SELECT hostname, usage_user, timestamp FROM cpu "
                "WHERE usage_user > %s ORDER BY timestamp LIMIT %s", (20, 2))
    check("description", [(d.name, d.type_code) for d in cur.description],
          [("hostname", 25), ("usage_user", 701), ("timestamp", 1184)])
    rows = cur.fetchall()
    utc = datetime.timezone.utc
    check("rows", rows, [("host_0", 42.5, datetime.datetime(2024, 5, 1, 12, 0, tzinfo=utc)),
                         ("host_2", 99.25, datetime.datetime(2024, 5, 1, 12, 0, 20, tzinfo=utc))])

    cur.execute("SELECT count(*) FROM cpu")
    check("count", cur.fetchone()[0], 4)
    cur.execute("SELECT avg(usage_user) FROM cpu WHERE hostname = %s", ("host_1",))
    check("avg", cur.fetchone()[0], 17.0)
    cur.execute("SELECT 1 AS one, 'two' AS two")
    check("constants", cur.fetchone(), (1, "two"))

    # A syntax error carries its SQLSTATE; psycopg2's implicit BEGIN block
    # is then failed until ROLLBACK.
    try:
        cur.execute("SELEC 1")
        check("syntax error raised", False, True)
    except psycopg2.Error as e:
        check("syntax error sqlstate", e.pgcode, "42601")
    check("failed block", conn.get_transaction_status(),
          psycopg2.extensions.TRANSACTION_STATUS_INERROR)
    conn.rollback()
    cur.execute("SELECT 2")
    check("after rollback", cur.fetchone()[0], 2)

    # A CancelRequest with nothing running is harmless (libpq's PQcancel).
    conn.cancel()
    cur.execute("SELECT 3")
    check("after cancel", cur.fetchone()[0], 3)

    conn.commit()
    conn.autocommit = True
    cur.execute("SET application_name = 'renamed'")
    check("ParameterStatus after SET", conn.get_parameter_status("application_name"), "renamed")
    conn.close()
    print("OK")


if __name__ == "__main__":
    main()
