#!/bin/bash
# Durability of `kiln run` with its store: the real binary is killed with
# SIGKILL at random points 50 times (12 in a sanitizer build); afterwards
# the store opens, passes SQLite's integrity check, every artifact row
# points at a whole file whose BLAKE2b is its name, and `kiln runs list`
# works. Then two `kiln run` processes write one store at once and both
# succeed.
set -u
. "$(dirname "$0")/lib.sh"
K=${KILN:?}
D=${KILN_TEST_DATA:?}
cp "$D/lending_club.csv" "$W/loans.csv"
cd "$W" || exit 1
cat > spec.yaml <<'EOF'
sources:
  loans: {file: loans.csv}
target: Class
model:
  gbdt: {n_estimators: 15}
evaluation:
  cv: {folds: 2}
register: {name: loans, stage: staging}
EOF

# one uninterrupted run: how long a run takes here
start=$(date +%s%N)
$K -q run spec.yaml --store st > /dev/null || fail "first run"
took_ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$took_ms" -lt 50 ] && took_ms=50

RANDOM=17 # the kill points repeat from run to run of this test
kills=50
if sanitized; then # a run takes seconds here: fewer kills, at the same points of a run
    kills=12
    echo "sanitizer build: $kills kills (50 in the release build)"
fi
for i in $(seq 1 "$kills"); do
    $K -q run spec.yaml --store st --seed "$i" > /dev/null 2>&1 &
    pid=$!
    # from half-way through a run to a little past its end, where the store writes
    delay_ms=$(( took_ms / 2 + RANDOM % (took_ms * 3 / 4) ))
    sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
    kill -9 "$pid" 2> /dev/null
    wait "$pid" 2> /dev/null
done

$py - st <<'PY' || fail "store damaged after $kills kills"
import hashlib, os, sqlite3, sys
st = sys.argv[1]
db = sqlite3.connect(os.path.join(st, "kiln.db"))
assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
rows = db.execute("SELECT hash, path, bytes FROM artifacts").fetchall()
assert rows, "no artifact recorded"
for h, path, n in rows:
    p = path if os.path.isabs(path) else os.path.join(st, path)
    data = open(p, "rb").read()                 # never a missing file
    assert len(data) == n, (p, len(data), n)    # never a partial one
    assert hashlib.blake2b(data, digest_size=32).hexdigest() == h, p
print(len(rows), "artifacts checked")
PY
$K runs list --store st > list.txt 2>&1 || fail "runs list after the kills: $(cat list.txt)"
$K models versions loans --store st > versions.txt 2>&1 || fail "versions: $(cat versions.txt)"

# two runs at once on one store: both succeed, each gets its own version
$K -q --json run spec.yaml --store st2 --seed 1 > a.json 2> a.err &
p1=$!
$K -q --json run spec.yaml --store st2 --seed 2 > b.json 2> b.err &
p2=$!
wait $p1 || fail "concurrent run 1: $(cat a.err)"
wait $p2 || fail "concurrent run 2: $(cat b.err)"
$py - a.json b.json <<'PY' || fail "concurrent runs: $(cat a.json b.json)"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
assert a["run_id"] != b["run_id"]
assert sorted([a["registered"]["version"], b["registered"]["version"]]) == [1, 2]
PY
echo ok
