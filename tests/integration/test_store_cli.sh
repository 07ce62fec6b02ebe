#!/bin/bash
# The store's commands with the real binary on real runs (kiln run on
# lending_club.csv): runs list/show/compare (with the corrected resampled
# t-test checked against a computation in Python), models
# list/versions/promote (the gate)/rollback/archive/audit, lineage both
# ways, and the errors: a missing store, unknown runs, models and versions,
# a gate refusal, --force without --reason, a read-only store and a file
# size limit (a full disk), each leaving the store unchanged; and two kiln
# run processes writing one store at once.
set -u
. "$(dirname "$0")/lib.sh"
K=${KILN:?}
D=${KILN_TEST_DATA:?}
FILL=${STORE_FILL:?}
cp "$D/lending_club.csv" "$W/loans.csv"
chmod 755 "$W"
cd "$W" || exit 1

dump() { $py -c 'import sqlite3, sys; print("\n".join(sqlite3.connect(sys.argv[1]).iterdump()))' st/kiln.db; }

# 1. no store yet: say how to make one
expect "no store at nowhere.*kiln run SPEC" 1 $K runs list --store nowhere
expect "no store at nowhere" 1 $K models list --store nowhere

cat > a.yaml <<'EOF'
sources:
  loans: {file: loans.csv}
target: Class
steps:
  - simple_imputer: {strategy: median}
model:
  gbdt: {n_estimators: 30, learning_rate: 0.1}
evaluation:
  cv: {folds: 3, split: stratified}
  metrics: [roc_auc, accuracy]
  positive_class: bad
  test: {fraction: 0.25}
register: {name: loans, stage: production}
seed: 3
EOF
# b: a much weaker model (one stump); c: a little different, to staging
sed 's/n_estimators: 30, learning_rate: 0.1/n_estimators: 1, learning_rate: 0.1, max_leaves: 2/; s/stage: production/stage: none/' a.yaml > b.yaml
sed 's/n_estimators: 30, learning_rate: 0.1/n_estimators: 40, learning_rate: 0.1/; s/stage: production/stage: staging/' a.yaml > c.yaml
for s in a b c; do $K run $s.yaml --store st > $s.out 2>&1 || fail "run $s: $(cat $s.out)"; done

# 2. runs list, text and JSON (newest first)
$K runs list --store st > list.txt || fail "runs list"
head -2 list.txt | grep -q "^r000003 .*finished.*gbdt.*test roc_auc" || fail "runs list: $(cat list.txt)"
grep -q "3 of 3 runs in store st" list.txt || fail "runs list count: $(cat list.txt)"
KILN_STORE=st $K --json runs list --limit 2 > list.json || fail "runs list --json"
$py - list.json <<'PY' || fail "runs list --json: $(cat list.json)"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["command"] == "runs list" and r["total"] == 3, r
assert [x["id"] for x in r["runs"]] == ["r000003", "r000002"], r
assert r["runs"][0]["metric"]["name"] == "roc_auc" and r["runs"][0]["metric"]["scope"] == "test"
assert r["runs"][0]["cost"] > 0
PY

# 3. runs show: what the run recorded, its source hashed as BLAKE2b of the file's bytes
$K --json runs show r1 --store st > show.json || fail "runs show"
$py - show.json loans.csv <<'PY' || fail "runs show --json: $(head -c 2000 show.json)"
import json, sys, hashlib
r = json.load(open(sys.argv[1]))
assert r["id"] == "r000001" and r["status"] == "finished" and r["seed"] == 3, r
assert r["parameters"]["n_estimators"] == "30", r["parameters"]
folds = [m for m in r["metrics"] if m["scope"] == "cv" and m["name"] == "roc_auc"]  # numbered from 1, as kiln run and kiln cv print them
assert [m["fold"] for m in folds] == [1, 2, 3], folds
src = r["sources"][0]
assert src["hash"] == hashlib.blake2b(open(sys.argv[2], "rb").read(), digest_size=32).hexdigest(), src
assert src["rows"] == 9857
assert r["artifact"]["bytes"] > 1000 and r["cost"] > 0
names = [s["name"] for s in r["run_stages"]]
assert "cv" in names and "fit" in names, names
PY
$K runs show latest --store st | grep -q "^run r000003" || fail "runs show latest"
expect "has no run 'r42'; the latest are r000003, r000002, r000001" 1 $K runs show r42 --store st

# 4. runs compare: side by side; the paired test on runs with the same folds
$K runs compare r1 r2 --store st > cmp.txt || fail "runs compare"
grep -q '^\* n_estimators  *30  *1' cmp.txt || fail "compare params: $(cat cmp.txt)"
grep -q 'test roc_auc' cmp.txt || fail "compare metrics: $(cat cmp.txt)"
a=$($FILL st folds-x roc_auc 0.81,0.83,0.80,0.82,0.84,0.79,0.85,0.80,0.83,0.82 depth=3) || fail "fill a"
b=$($FILL st folds-x roc_auc 0.80,0.81,0.80,0.80,0.82,0.79,0.83,0.78,0.82,0.80 depth=2) || fail "fill b"
c=$($FILL st folds-y roc_auc 0.70,0.71,0.70,0.70,0.72,0.69,0.73,0.68,0.72,0.70 depth=1) || fail "fill c"
$K --json runs compare $a $b $c --store st > cmp.json || fail "compare --json"
$py - cmp.json <<'PY' || fail "paired test: $(cat cmp.json)"
import json, math, sys
r = json.load(open(sys.argv[1]))
t1, t2 = r["tests"]
a = [0.81,0.83,0.80,0.82,0.84,0.79,0.85,0.80,0.83,0.82]
b = [0.80,0.81,0.80,0.80,0.82,0.79,0.83,0.78,0.82,0.80]
d = [x - y for x, y in zip(a, b)]
k = len(d); m = sum(d) / k; v = sum((x - m) ** 2 for x in d) / (k - 1)
t = m / math.sqrt((1 / k + 1 / (k - 1)) * v)   # Nadeau & Bengio, n_test/n_train = 1/(k-1)
df = k - 1
pdf = lambda x: math.gamma((df + 1) / 2) / (math.sqrt(df * math.pi) * math.gamma(df / 2)) * (1 + x * x / df) ** (-(df + 1) / 2)
n = 20000; h = abs(t) / n   # two-sided p = 1 - 2 * integral of the density over [0, |t|] (Simpson)
p = 1 - 2 * h / 3 * (pdf(0) + pdf(abs(t)) + sum((4 if i % 2 else 2) * pdf(i * h) for i in range(1, n)))
assert t1["folds"] == 10 and t1["df"] == 9, t1
assert abs(t1["t"] - t) < 1e-9 and abs(t1["p_value"] - p) < 1e-9, (t1, t, p)
assert t1["verdict"] == ("a better" if p < 0.05 else "no clear difference"), (t1, p)
assert "different CV folds" in t2["skipped"], t2
assert r["parameters"]["depth"] == ["3", "2", "1"], r["parameters"]
PY
$K runs compare $a $b --store st | grep -q "over 10 folds: mean difference +0.014, t = 3.613 (df 9), p = 0.00563: $a is better" \
    || fail "verdict: $($K runs compare $a $b --store st)"

# 5. the registry: list, versions, the gate refuses the weak model and changes nothing
$K models list --store st | grep -q "^loans  *3  *v1  *v3" || fail "models list: $($K models list --store st)"
$K --json models versions loans --store st > ver.json || fail "versions"
$py -c 'import json,sys; v=json.load(open(sys.argv[1]))["versions"]; assert [(x["version"],x["stage"],x["run"]) for x in v]==[(3,"staging","r000003"),(2,"none","r000002"),(1,"production","r000001")], v' ver.json || fail "versions: $(cat ver.json)"
dump > before.sql
expect "gate: metric check failed: held-out roc_auc 0.6[0-9]* is worse than production v1's 0.7[0-9]* by" 1 \
    $K models promote loans 2 --stage production --store st
expect "force needs --reason" 2 $K models promote loans 2 --stage production --force --store st
expect "model 'loans' has no version 9; its versions: v1, v2, v3" 1 $K models promote loans 9 --stage staging --store st
expect "has no model 'credit'; its models: loans" 1 $K models versions credit --store st
expect "has no model 'credit'; its models: loans" 1 $K lineage credit@v1 --store st
expect "VERSION 'x2' is a version number" 2 $K models promote loans x2 --stage staging --store st
dump > after.sql
cmp -s before.sql after.sql || fail "a refused promotion changed the store: $(diff before.sql after.sql | head)"

# 6. the gate passes v3 (schema, metric within the margin, latency); forced v2 with its reason; rollbacks
$K models promote loans 3 --stage production --store st --actor ana > p3.txt || fail "promote v3: $(cat p3.txt)"
$K models promote loans v2 --stage production --force --reason "incident 42" --actor bob --store st \
    > /dev/null || fail "forced promote"
$K models rollback loans --store st | grep -q "production is v3 again" || fail "rollback to v3"
$K models rollback loans --store st | grep -q "production is v1 again" || fail "rollback to v1"
expect "v1 is the first version in production" 1 $K models rollback loans --store st
expect "is in production: moving it to archived would leave 'loans' with no version in production; promote another version or roll back first" 1 $K models archive loans 1 --store st
# promote to staging or none moves production out too: refused as archive is
expect "version 1 of 'loans' is in production: moving it to staging would leave 'loans' with no version in production" 1 \
    $K models promote loans 1 --stage staging --store st
expect "moving it to none would leave" 1 $K models promote loans 1 --stage none --store st
$K --json models list --store st | $py -c 'import json, sys; m = json.load(sys.stdin)["models"]; sys.exit(0 if m[0]["production"] == 1 else 1)' ||
    fail "production is no longer v1: $($K models list --store st)"
$K models promote loans 3 --stage staging --store st > /dev/null || fail "v3 to staging"
$K models archive loans 3 --store st > /dev/null || fail "archive v3"
$K --json models audit loans --store st > audit.json || fail "audit"
$py - audit.json <<'PY' || fail "audit: $(cat audit.json)"
import json, sys
a = json.load(open(sys.argv[1]))["audit"]
acts = [(e["action"], e["version"], e["from"], e["to"]) for e in a]
assert acts[0] == ("archive", 3, "staging", "archived"), acts
forced = [e for e in a if e["action"] == "promote (forced)"]
assert len(forced) == 1 and forced[0]["reason"] == "incident 42" and forced[0]["actor"] == "bob", forced
gate = [e for e in a if e["action"] == "promote" and e["actor"] == "ana"]
assert gate and "schema compatible" in gate[0]["detail"] and "latency" in gate[0]["detail"], gate
assert sum(e["action"] == "rollback" for e in a) == 4, acts
assert all(e["time"] > 1.7e9 for e in a)
PY

# 7. lineage both ways
$K lineage loans@v1 --store st > lin.txt || fail "lineage"
h=$($py -c 'import hashlib,sys; print(hashlib.blake2b(open(sys.argv[1],"rb").read(), digest_size=32).hexdigest())' loans.csv)
grep -q "version 1, made by run r000001" lin.txt && grep -q "source loans (file .*9857 rows, blake2b $h" lin.txt \
    || fail "lineage: $(cat lin.txt)"
$K lineage --data loans.csv --store st > use.txt || fail "lineage --data"
grep -q "run r000003 read it" use.txt && grep -q "run r000001 read it" use.txt && grep -q -- "-> model loans v1 (production)" use.txt \
    || fail "lineage --data: $(cat use.txt)"
cp loans.csv other.csv && echo "1,2,3" >> other.csv
$K lineage --data other.csv --store st | grep -q "no run in store st read these bytes" || fail "lineage of other bytes"
expect "give a model version" 2 $K lineage --store st

# 8. a read-only store: reads work, writes fail clearly, nothing changes
dump > before.sql
if [ "$(id -u)" = 0 ]; then as_other="setpriv --reuid=65534 --regid=65534 --clear-groups"; else as_other=""; chmod a-w st st/kiln.db; fi
$as_other $K runs list --store st > /dev/null || fail "runs list on a read-only store"
expect "read-only: make it writable or choose another store" 1 $as_other $K models promote loans 2 --stage staging --store st
[ -z "$as_other" ] && chmod u+w st st/kiln.db
dump > after.sql
cmp -s before.sql after.sql || fail "a read-only store changed"

# 9. a full disk (a file size limit: writes past it fail): a clear error, nothing changes
(trap '' XFSZ; ulimit -f 1; $K models promote loans 2 --stage staging --store st) > /dev/null 2> full.err
rc=$?
[ $rc = 1 ] && grep -q "the disk may be full or a file size limit reached; nothing was changed" full.err \
    || fail "full disk: rc $rc, $(cat full.err)"
dump > after.sql
cmp -s before.sql after.sql || fail "a failed write changed the store"
# 10. two kiln run processes writing one new store at once: both succeed
sed 's/stage: production/stage: staging/' a.yaml > s1.yaml
sed 's/n_estimators: 30/n_estimators: 20/; s/stage: production/stage: staging/' a.yaml > s2.yaml
$K run s1.yaml --store two > s1.out 2>&1 &
p1=$!
$K run s2.yaml --store two > s2.out 2>&1 &
p2=$!
wait $p1 || fail "first of two runs at once: $(cat s1.out)"
wait $p2 || fail "second of two runs at once: $(cat s2.out)"
$K --json models versions loans --store two > two.json || fail "versions after two runs"
$py -c 'import json,sys; v=json.load(open(sys.argv[1]))["versions"]; assert sorted(x["version"] for x in v)==[1,2] and sorted(x["run"] for x in v)==["r000001","r000002"], v' two.json \
    || fail "two runs at once: $(cat two.json)"
echo "ok"
