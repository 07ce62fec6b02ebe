#!/bin/bash
# .kiln artifacts from the real binary: kiln train --out NAME.kiln, kiln
# keygen, kiln inspect, kiln predict / eval --model FILE.kiln (predictions
# equal the .kmd route's; rows that break the artifact's input schema are
# reported and quarantined, never scored), signatures (--sign-key,
# --verify-key), byte-identical files for the same data and seed on 1 and 2
# threads, and clear errors with exit codes for tampered, truncated,
# missing and wrongly signed files.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=${KILN_TEST_DATA:?tests/data}
. "$(dirname "$0")/lib.sh"
cd "$W"
unset KILN_STORE # no store: a missing file is not looked up

lc="$DATA/lending_club.csv"
train_lc() { # OUT [options]: a small gbdt on lending_club (text columns as they are)
    local out=$1; shift
    "$KILN" -q train --data "$lc" --target Class --model gbdt --param n_estimators=10 \
        --seed 3 --out "$out" "$@" > /dev/null
}

# ---- keys ----
"$KILN" -q keygen --out team
"$KILN" -q keygen --out other
[ "$(stat -c %a team.key)" = 600 ] || fail "secret key mode $(stat -c %a team.key)"
grep -q '^kiln-public-key [0-9a-f]\{64\}$' team.pub || fail "public key: $(cat team.pub)"
cp team.key team.key.before
expect "already exists" 1 "$KILN" keygen --out team
cmp -s team.key team.key.before || fail "keygen replaced an existing key"

# ---- train -> artifact; predictions equal the .kmd route's ----
train_lc m.kiln
train_lc m.kmd
"$KILN" -q predict --model m.kiln --data "$lc" --proba --keep addr_state,Class --out p_kiln.csv
"$KILN" -q predict --model m.kmd --data "$lc" --proba --keep addr_state,Class --out p_kmd.csv
cmp -s p_kiln.csv p_kmd.csv || fail "predictions differ: $(diff p_kiln.csv p_kmd.csv | head -5)"
[ "$(wc -l < p_kiln.csv)" = 9858 ] || fail "rows: $(wc -l < p_kiln.csv)"
head -1 p_kiln.csv | grep -q '^addr_state,Class,prediction,proba_bad,proba_good$' ||
    fail "header: $(head -1 p_kiln.csv)"
"$KILN" eval --model m.kiln --data "$lc" > e_kiln.txt
"$KILN" eval --model m.kmd --data "$lc" > e_kmd.txt
cmp -s e_kiln.txt e_kmd.txt || fail "eval differs: $(cat e_kiln.txt e_kmd.txt)"
# a regressor, through stdout
"$KILN" -q train --data "$DATA/concrete.csv" --target compressive_strength --model ridge \
    --out r.kiln > /dev/null
"$KILN" -q train --data "$DATA/concrete.csv" --target compressive_strength --model ridge \
    --out r.kmd > /dev/null
cmp -s <("$KILN" -q predict --model r.kiln --data "$DATA/concrete.csv" --out -) \
    <("$KILN" -q predict --model r.kmd --data "$DATA/concrete.csv" --out -) ||
    fail "regression predictions differ"
expect "regression model.*drop --proba" 1 "$KILN" predict --model r.kiln \
    --data "$DATA/concrete.csv" --proba --out x.csv

# ---- byte-identical for the same data and seed, 1 or 2 threads ----
KILN_DETERMINISTIC_TIME=1 train_lc d1.kiln --threads 1
KILN_DETERMINISTIC_TIME=1 train_lc d2.kiln --threads 2
cmp -s d1.kiln d2.kiln || fail "the same data and seed gave different artifacts"

# ---- inspect ----
"$KILN" inspect m.kiln > i.txt
grep -q '^kind: *artifact (.kiln), format version 1, [0-9]* bytes$' i.txt || fail "kind: $(cat i.txt)"
grep -q '^signed: *no$' i.txt || fail "signed: $(cat i.txt)"
grep -q '^  pipeline ' i.txt && grep -q '^  schema ' i.txt && grep -q '^  heldout ' i.txt ||
    fail "sections: $(cat i.txt)"
grep -q '^pipeline: *gbdt (classification, 22 features)' i.txt || fail "pipeline: $(cat i.txt)"
"$KILN" --json inspect m.kiln > i.json
$py - i.json "$lc" m.kiln <<'PY' || fail "inspect --json: $(cat i.json)"
import hashlib, json, sys
j = json.load(open(sys.argv[1]))
assert j["kind"] == "artifact" and j["format_version"] == "1" and j["signed"] is False, j
src = j["lineage"]["sources"][0]
assert src["hash"] == hashlib.blake2b(open(sys.argv[2], "rb").read(), digest_size=32).hexdigest()
assert src["rows"] == 9857 and j["lineage"]["seed"] == 3
assert j["hash"] == hashlib.blake2b(open(sys.argv[3], "rb").read(), digest_size=32).hexdigest()
assert j["metrics"]["rows"]["test"] == 1971 and 0.5 < j["metrics"]["test"]["accuracy"] <= 1
assert j["pipeline"]["target"] == "Class" and j["pipeline"]["model"]["name"] == "gbdt"
PY

# ---- signatures ----
train_lc s.kiln --sign-key team.key
"$KILN" inspect s.kiln | grep -q '^signed: *yes$' || fail "signed artifact not shown signed"
"$KILN" -q predict --model s.kiln --data "$lc" --proba --keep addr_state,Class \
    --verify-key team.pub --out p_signed.csv
cmp -s p_signed.csv p_kiln.csv || fail "signed artifact predicts otherwise"
expect "signature does not match the public key other.pub" 1 "$KILN" predict --model s.kiln \
    --data "$lc" --verify-key other.pub --out x.csv
expect "not signed" 1 "$KILN" predict --model m.kiln --data "$lc" --verify-key team.pub --out x.csv
expect "not signed" 1 "$KILN" eval --model m.kiln --data "$lc" --verify-key team.pub
expect "secret key: give NAME.pub" 1 "$KILN" predict --model s.kiln --data "$lc" \
    --verify-key team.key --out x.csv
expect "applies to .kiln artifacts" 2 "$KILN" predict --model m.kmd --data "$lc" \
    --verify-key team.pub --out x.csv
expect "signs artifacts" 2 "$KILN" train --data "$lc" --target Class --model gbdt \
    --out y.kmd --sign-key team.key
# a changed signature byte (the last before the end marker) fails with the key
size=$(stat -c %s s.kiln)
$py -c "import sys; b=bytearray(open('s.kiln','rb').read()); b[-9]^=1; open('s_sig.kiln','wb').write(b)"
expect "signature does not match the public key team.pub" 1 "$KILN" predict --model s_sig.kiln \
    --data "$lc" --verify-key team.pub --out x.csv

# ---- damaged files: tampered, truncated, wrong magic, newer, missing ----
$py -c "b=bytearray(open('m.kiln','rb').read()); b[len(b)//2]^=0x20; open('t.kiln','wb').write(b)"
expect "damaged: checksum mismatch" 1 "$KILN" predict --model t.kiln --data "$lc" --out x.csv
expect "damaged: checksum mismatch" 1 "$KILN" inspect t.kiln
head -c 3000 m.kiln > cut.kiln
expect "truncated" 1 "$KILN" predict --model cut.kiln --data "$lc" --out x.csv
expect "truncated" 1 "$KILN" eval --model cut.kiln --data "$lc"
cp "$lc" notmodel.kiln
expect "not a Kiln artifact" 1 "$KILN" predict --model notmodel.kiln --data "$lc" --out x.csv
$py -c "b=bytearray(open('m.kiln','rb').read()); b[8]=9; open('new.kiln','wb').write(b)"
expect "newer than this kiln reads.*upgrade kiln" 1 "$KILN" inspect new.kiln
expect "no such file.*give the path of a model file.*NAME@stage" 1 "$KILN" predict \
    --model missing.kiln --data "$lc" --out x.csv
expect "no such file.*NAME@stage" 1 "$KILN" eval --model credit@production --data "$lc"
[ ! -e x.csv ] || fail "a refused model still wrote predictions"

# ---- the input schema: bad rows reported and quarantined, never scored ----
{
    head -6 "$lc"
    sed -n 7p "$lc" | sed 's/,term_36,/,term_99,/; s/,term_60,/,term_99,/'
    sed -n 8p "$lc" | sed 's/^[0-9]*,/,/'
    sed -n 9,11p "$lc"
} > bad.csv
"$KILN" predict --model m.kiln --data bad.csv --keep addr_state --out pb.csv 2> pb.err ||
    fail "predict with bad rows exited with $?: $(cat pb.err)"
grep -q '2 of 10 rows of bad.csv break the artifact' pb.err || fail "report: $(cat pb.err)"
grep -q 'term categories, 1 row \[quarantine\].*(row 6)' pb.err || fail "category: $(cat pb.err)"
grep -q 'funded_amnt missing, 1 row \[quarantine\].*(row 7)' pb.err || fail "missing: $(cat pb.err)"
[ "$(wc -l < pb.csv)" = 9 ] || fail "scored rows: $(cat pb.csv)"
cut -d, -f1 pb.csv | tr '\n' ' ' | grep -q '^row 1 2 3 4 5 8 9 10 $' || fail "row column: $(cat pb.csv)"
[ "$(wc -l < bad.csv.invalid.csv)" = 3 ] || fail "rejects: $(cat bad.csv.invalid.csv)"
head -1 bad.csv.invalid.csv | grep -q '^_row,_violation,funded_amnt,' || fail "rejects header"
cut -d, -f1 bad.csv.invalid.csv | tr '\n' ' ' | grep -q '^_row 6 7 $' || fail "rejects rows"
# the rows kept predict as they do alone
grep -v term_99 bad.csv | sed '/^,term/d' > good.csv
"$KILN" -q predict --model m.kiln --data good.csv --keep addr_state --out pg.csv
cmp -s <(cut -d, -f2- pb.csv) pg.csv || fail "kept rows predict otherwise: $(diff pb.csv pg.csv)"
"$KILN" -q --json predict --model m.kiln --data bad.csv --out pj.csv --rejects rj.csv > pj.json
$py - pj.json <<'PY' || fail "predict --json: $(cat pj.json)"
import json, sys
j = json.load(open(sys.argv[1]))
s = j["schema"]
assert j["rows"] == 8 and j["rows_set_aside"] == 2 and s["rows_quarantined"] == 2, j
assert s["rejects_file"] == "rj.csv" and sorted(v["example_rows"][0] for v in s["violations"]) == [6, 7]
PY
"$KILN" eval --model m.kiln --data bad.csv > eb.txt 2> eb.err || fail "eval bad rows: $(cat eb.err)"
grep -q '^gbdt (8 rows):' eb.txt || fail "eval scored $(cat eb.txt)"
echo "ok"
