#!/usr/bin/env python3
"""The data inventory in docs/security.md must describe every table and column of the schema, and
nothing that is not in it: the SQLite migrations (schemas/sql/sqlite, the same tables and columns
as PostgreSQL's) applied to an empty in-memory database give the schema; the inventory's
`### table` sections and their `| column | ...` rows give what is documented. A column added by a
migration without an inventory entry fails this check, naming it.

    check_inventory.py SOURCE_DIR"""

import glob
import os
import re
import sqlite3
import sys

# Tables the migrator keeps itself (not created by a migration file), documented like the others.
MIGRATOR_TABLES = {"schema_migrations": {"version", "name", "checksum", "applied_at"}}


def schema(source):
    db = sqlite3.connect(":memory:")
    for path in sorted(glob.glob(os.path.join(source, "schemas", "sql", "sqlite", "*.sql"))):
        with open(path) as f:
            db.executescript(f.read())
    out = {}
    for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"):
        out[table] = {row[1] for row in db.execute("PRAGMA table_info(%s)" % table)}
    out.update({t: set(c) for t, c in MIGRATOR_TABLES.items()})
    return out


def documented(source):
    with open(os.path.join(source, "docs", "security.md")) as f:
        text = f.read()
    marker = "## Data inventory"
    if marker not in text:
        raise SystemExit("docs/security.md has no '%s' section" % marker)
    out, table = {}, None
    for line in text.split(marker, 1)[1].splitlines():
        m = re.match(r"^### ([a-z_]+)\s*$", line)
        if m:
            table = m.group(1)
            if table in out:
                raise SystemExit("docs/security.md documents table %s twice" % table)
            out[table] = set()
            continue
        if line.startswith("## "):
            table = None
        m = re.match(r"^\| ([a-z_0-9]+) \|", line)
        if table and m and m.group(1) != "column":
            out[table].add(m.group(1))
    return out


def main():
    source = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    have, doc = schema(source), documented(source)
    problems = []
    for table in sorted(set(have) | set(doc)):
        if table not in doc:
            problems.append("table %s is in the schema but not in the inventory" % table)
            continue
        if table not in have:
            problems.append("table %s is in the inventory but not in the schema" % table)
            continue
        for column in sorted(have[table] - doc[table]):
            problems.append("column %s.%s is in the schema but not in the inventory (docs/security.md)" % (table, column))
        for column in sorted(doc[table] - have[table]):
            problems.append("column %s.%s is in the inventory but not in the schema" % (table, column))
    if problems:
        print("\n".join(problems))
        return 1
    print("inventory complete: %d tables, %d columns" % (len(have), sum(len(c) for c in have.values())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
