#!/bin/bash
# kiln prep SPEC.yaml with real sources: a PostgreSQL server started here on
# 127.0.0.1 in a temporary directory (a table loaded, joined with a CSV and
# with a per-customer aggregate of a SQLite table), an HTTP server (python3
# http.server) for a URL source with retries and a fallback, incremental
# loading with a watermark, and the errors when a server is down. Servers are
# stopped on exit. Skips (77) outside CI when PostgreSQL is not installed.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
W=$(mktemp -d)
chmod 755 "$W"
fail() { echo "FAIL: $*" >&2; exit 1; }
py=/usr/bin/python3
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$pgbin" ] || [ ! -x "$pgbin/initdb" ]; then
    if [ "${CI:-}" = true ]; then echo "FAIL: PostgreSQL is missing in CI" >&2; exit 1; fi
    echo "SKIP: PostgreSQL not installed (scripts/bootstrap installs it)"; exit 77
fi
# PostgreSQL refuses to run as root: run it as the postgres user then.
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
port=$($py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
http_port=$($py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
pgdata="$W/pg"
mkdir -p "$pgdata"
[ "$(id -u)" = 0 ] && chown postgres "$pgdata"
http_pid=
cleanup() {
    as_pg "$pgbin/pg_ctl" -D "$pgdata" -m immediate stop > /dev/null 2>&1 || true
    [ -n "$http_pid" ] && kill "$http_pid" 2> /dev/null || true
    rm -rf "$W"
}
trap cleanup EXIT
as_pg "$pgbin/initdb" -D "$pgdata" -U kiln --auth=trust > "$W/initdb.log" 2>&1 || { cat "$W/initdb.log"; fail initdb; }
as_pg "$pgbin/pg_ctl" -D "$pgdata" -l "$pgdata/log" -w \
    -o "-p $port -k $pgdata -c listen_addresses=127.0.0.1" start > /dev/null || { cat "$pgdata/log"; fail "postgres start"; }
export KILN_PG_URI="postgresql://kiln@127.0.0.1:$port/postgres"
as_pg "$pgbin/psql" -q -h 127.0.0.1 -p "$port" -U kiln -d postgres -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE customers (id integer PRIMARY KEY, name text, segment varchar(10),
                        signup timestamptz, credit numeric(10,2), active boolean);
INSERT INTO customers VALUES
  (1, 'ann', 'retail', '2024-01-01 10:00:00+00', 1500.50, true),
  (2, 'bo',  'pro',    '2024-02-01 00:00:00+02', NULL,    false),
  (3, 'cy',  NULL,     NULL,                      20,      true),
  (4, 'di',  'retail', '2024-03-01 12:30:00+00', 0,       true);
SQL

cd "$W"
cat > visits.csv <<'CSV'
customer_id,visits,channel
1,12,web
2,3,store
4,7,web
9,1,web
CSV
$py - <<'PY'
import sqlite3
db = sqlite3.connect("orders.db")
db.execute("CREATE TABLE orders (order_id INTEGER, customer_id INTEGER, amount REAL, ts DATE)")
db.executemany("INSERT INTO orders VALUES (?, ?, ?, ?)", [
    (10, 1, 20.5, "2024-04-01"), (11, 1, 30.0, "2024-04-03"), (12, 2, 100.0, "2024-04-02"),
    (13, 4, 5.25, "2024-04-04")])
db.commit()
PY
cat > spec.yaml <<'YAML'
sources:
  customers:
    postgres: SELECT id, name, segment, signup, credit, active FROM customers ORDER BY id
  visits:
    file: visits.csv
  orders:
    sqlite: SELECT * FROM orders
    path: orders.db
  spend:
    group: orders
    by: [customer_id]
    aggregate: {n_orders: count, total: sum amount, last_amount: last amount by ts}
frame:
  from: customers
  join:
    - {with: visits, on: [id], right_on: [customer_id], how: left}
    - {with: spend, on: [id], right_on: [customer_id], how: inner}
profile: reference.json
output: joined.csv
YAML
"$KILN" prep spec.yaml --json > report.json || { cat report.json; fail "prep with postgres"; }
$py - <<'PY'
import csv, json
rep = json.load(open("report.json"))
assert rep["ok"], rep
src = {s["name"]: s for s in rep["sources"]}
assert src["customers"]["rows"] == 4 and src["visits"]["rows"] == 4 and src["spend"]["rows"] == 3, src
j1, j2 = rep["joins"]
assert j1["left_unmatched"] == 1 and j1["right_unmatched"] == 1 and j1["unmatched_examples"] == ["3"], j1
assert j2["out_rows"] == 3, j2
rows = list(csv.DictReader(open("joined.csv")))
assert [r["id"] for r in rows] == ["1", "2", "4"], rows
a, b, d = rows
assert a["name"] == "ann" and a["segment"] == "retail" and a["signup"] == "2024-01-01T10:00:00Z", a
assert a["credit"] == "1500.5" and a["active"] == "1" and a["visits"] == "12" and a["channel"] == "web", a
assert a["n_orders"] == "2" and a["total"] == "50.5" and a["last_amount"] == "30", a
assert b["signup"] == "2024-01-31T22:00:00Z" and b["credit"] == "" and b["active"] == "0", b
assert d["visits"] == "7" and d["total"] == "5.25", d
prof = json.load(open("reference.json"))
cols = {c["name"]: c for c in prof["column_profiles"]}
assert prof["rows"] == 3 and cols["total"]["max"] == 100 and cols["segment"]["type"] == "categorical", prof
assert list(rows[0].keys()) == ["id", "name", "segment", "signup", "credit", "active", "visits",
                                "channel", "n_orders", "total", "last_amount"], rows[0].keys()
PY

# incremental: orders since a watermark (state file next to the output)
cat > inc.yaml <<'YAML'
sources:
  orders:
    sqlite: SELECT * FROM orders
    path: orders.db
    since: order_id
output: new_orders.csv
YAML
"$KILN" -q prep inc.yaml
[ "$(wc -l < new_orders.csv)" = 5 ] || fail "first incremental run: $(cat new_orders.csv)"
grep -q "orders	13" new_orders.csv.state || fail "watermark: $(cat new_orders.csv.state)"
$py -c 'import sqlite3; db = sqlite3.connect("orders.db"); db.execute("INSERT INTO orders VALUES (14, 3, 9.5, \"2024-04-05\")"); db.commit()'
"$KILN" -q prep inc.yaml
[ "$(wc -l < new_orders.csv)" = 2 ] && grep -q "^14,3,9.5" new_orders.csv || fail "second run: $(cat new_orders.csv)"
"$KILN" -q prep inc.yaml --since 11
[ "$(wc -l < new_orders.csv)" = 4 ] || fail "--since 11: $(cat new_orders.csv)"
"$KILN" -q prep inc.yaml --full
[ "$(wc -l < new_orders.csv)" = 6 ] || fail "--full: $(cat new_orders.csv)"

# HTTP source with a fallback; a dead URL is retried and then replaced
mkdir www && cp visits.csv www/
(cd www && exec $py -m http.server "$http_port" --bind 127.0.0.1 > ../http.log 2>&1) &
http_pid=$!
for _ in $(seq 50); do $py -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$http_port/visits.csv')" 2>/dev/null && break; sleep 0.1; done
cat > web.yaml <<YAML
sources:
  remote:
    url: http://127.0.0.1:$http_port/visits.csv
    timeout: 5
  missing:
    url: http://127.0.0.1:$http_port/nope.csv
    retries: 1
    fallback: remote
frame: {from: missing}
output: web.csv
YAML
"$KILN" prep web.yaml --json > web.json 2> web.err || { cat web.err; fail "http prep"; }
cmp -s web.csv visits.csv || fail "web.csv differs: $(cat web.csv)"
grep -q "HTTP status 404" web.json || fail "fallback report: $(cat web.json)"
grep -q "source 'missing' failed" web.err || fail "fallback warning: $(cat web.err)"

# a server that accepts but never answers: each attempt times out, then retries
# (with backoff) and a named error
$py -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True); time.sleep(30)' > silent.port &
silent_pid=$!
for _ in $(seq 50); do [ -s silent.port ] && break; sleep 0.1; done
cat > silent.yaml <<YAML
sources:
  slow: {url: "http://127.0.0.1:$(cat silent.port)/x.csv", timeout: 0.5, retries: 1}
output: slow.csv
YAML
rc=0
"$KILN" prep silent.yaml 2> silent.err || rc=$?
kill "$silent_pid" 2> /dev/null || true
[ "$rc" = 1 ] && grep -q "source 'slow'.*after 2 attempts" silent.err && grep -qi "timed out\|timeout" silent.err ||
    fail "silent server: rc $rc, $(cat silent.err)"

# a server that is down: the error names the source
as_pg "$pgbin/pg_ctl" -D "$pgdata" -m fast stop > /dev/null
rc=0
"$KILN" prep spec.yaml 2> down.txt || rc=$?
[ "$rc" = 1 ] && grep -q "postgres source kiln@127.0.0.1:$port/postgres: cannot connect" down.txt ||
    fail "server down: rc $rc, $(cat down.txt)"
echo "sources: all passed"
