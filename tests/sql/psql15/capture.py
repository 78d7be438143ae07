#!/usr/bin/python3
"""Captures what psql sends for its catalog commands, and what PostgreSQL answers.

Not run by the tests: it produced the files beside it (see README.md), against a
real PostgreSQL 15 started with log_statement=all, holding the tables

  CREATE TABLE cpu(timestamp timestamptz NOT NULL, hostname text,
                   usage_user double precision, n bigint, ok boolean);
  CREATE TABLE mem(timestamp timestamptz NOT NULL, host text, used bigint);

in database "timestore" owned by role "timestore".

  capture.py HOST PORT SERVER_LOG OUT_DIR

For each command NAME it writes NAME.sql (the statements psql sent, in order),
NAME.expected (each statement's columns as "name type" and PostgreSQL's rows,
cells joined by '|', NULL as "NULL", newlines as \\n) and NAME.psql (what psql printed).
"""
import os
import re
import subprocess
import sys
import time

import psycopg2

COMMANDS = [
    ("dt", r"\dt"),
    ("dt_plus", r"\dt+"),
    ("dt_cpu", r"\dt cpu"),
    ("dt_public_star", r"\dt public.*"),
    ("d", r"\d"),
    ("d_plus", r"\d+"),
    ("d_cpu", r"\d cpu"),
    ("d_plus_cpu", r"\d+ cpu"),
    ("d_public_cpu", r"\d public.cpu"),
    ("d_nosuch", r"\d nosuch"),
    ("di", r"\di"),
    ("dv", r"\dv"),
    ("ds", r"\ds"),
    ("dm", r"\dm"),
    ("l", r"\l"),
    ("l_plus", r"\l+"),
    ("dn", r"\dn"),
    ("dn_plus", r"\dn+"),
]

STATEMENT = re.compile(r"^\S+ \S+ \S+ \[\d+\] LOG:  statement: ", re.M)


def statements(log_text):
    """The statements in a slice of the server log (continuation lines start with a tab)."""
    out = []
    for part in STATEMENT.split(log_text)[1:]:
        lines = part.split("\n")
        stmt = [lines[0]]
        for line in lines[1:]:
            if not line.startswith("\t"):
                break
            stmt.append(line[1:])
        out.append("\n".join(stmt).rstrip())
    return out


def cell(v):
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "t" if v else "f"
    return str(v).replace("\\", "\\\\").replace("\n", "\\n")


def main():
    host, port, log_path, out_dir = sys.argv[1:5]
    conn = psycopg2.connect(host=host, port=port, user="timestore", dbname="timestore")
    conn.autocommit = True
    cur = conn.cursor()
    type_names = {}

    def type_name(oid):
        if oid not in type_names:
            cur.execute("SELECT pg_catalog.format_type(%s, NULL)", (oid,))
            type_names[oid] = cur.fetchone()[0]
        return type_names[oid]

    for name, command in COMMANDS:
        before = os.path.getsize(log_path)
        printed = subprocess.run(
            ["psql", "-X", "-h", host, "-p", port, "-U", "timestore", "timestore", "-c", command],
            capture_output=True, text=True)
        time.sleep(0.5)
        with open(log_path) as f:
            f.seek(before)
            sent = statements(f.read())
        with open(os.path.join(out_dir, name + ".sql"), "w") as f:
            f.write(f"-- psql 15: {command}\n")
            for s in sent:
                f.write("\n" + s + ("" if s.endswith(";") else ";") + "\n")
        with open(os.path.join(out_dir, name + ".psql"), "w") as f:
            f.write(printed.stdout + printed.stderr)
        with open(os.path.join(out_dir, name + ".expected"), "w") as f:
            for i, s in enumerate(sent):
                cur.execute(s)
                description, rows = cur.description, cur.fetchall()
                cols = ", ".join(f"{d.name} {type_name(d.type_code)}" for d in description)
                f.write(f"-- statement {i + 1}\n-- columns: {cols}\n")
                for row in rows:
                    f.write("|".join(cell(v) for v in row) + "\n")


if __name__ == "__main__":
    main()
