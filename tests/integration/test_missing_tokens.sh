#!/bin/bash
# Missing tokens (NA, None, null, ...) and real levels: a text column whose
# level is literally "None" in a thousand rows keeps it (frequent there, and
# the file never uses "None" in a number column); a sparse "NA" in a text
# column and tokens in number columns are missing. The read summary (describe,
# convert, prep; text and JSON) counts per column what each token did, and
# --missing-in-text always or an explicit --missing list forces tokens to
# be missing.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
. "$(dirname "$0")/lib.sh"
cd "$W"

$py - <<'PY'
import csv
with open("orders.csv", "w", newline="") as fp:
    w = csv.writer(fp, lineterminator="\n")
    w.writerow(["id", "status", "city", "amount"])
    for i in range(3000):
        status = "None" if i % 3 == 0 else ("open" if i % 3 == 1 else "closed")
        city = "NA" if i in (10, 2000) else ("Oslo" if i % 2 else "Lima")
        amount = "NA" if i % 30 == 7 else f"{i * 0.5}"
        w.writerow([i, status, city, amount])
PY
"$KILN" describe orders.csv --json > d.json
$py - <<'PY'
import json
d = json.load(open("d.json"))
notes = {(n["column"], n["token"]): n for n in d["read"]["missing_tokens"]}
assert notes[("status", "None")] == {"column": "status", "token": "None", "cells": 1000,
                                     "kept_as_level": True}, notes
assert notes[("city", "NA")]["cells"] == 2 and not notes[("city", "NA")]["kept_as_level"], notes
assert notes[("amount", "NA")]["cells"] == 100 and not notes[("amount", "NA")]["kept_as_level"], notes
assert len(notes) == 3, notes
cols = {c["name"]: c for c in d["profile"]["column_profiles"]}
assert cols["status"]["missing"] == 0 and cols["status"]["distinct"] == 3, cols["status"]
assert cols["city"]["missing"] == 2 and cols["amount"]["missing"] == 100, cols
PY
"$KILN" describe orders.csv > d.txt
grep -q "column 'status': 'None' kept as a category level in 1,000 cells" d.txt || fail "text summary: $(head -5 d.txt)"
grep -q "column 'amount': 100 cells 'NA' read as missing" d.txt || fail "text summary: $(head -5 d.txt)"
"$KILN" convert orders.csv out.csv 2> convert.txt
grep -q "column 'city': 2 cells 'NA' read as missing" convert.txt || fail "convert summary: $(cat convert.txt)"
[ "$(grep -c ',None,' out.csv)" = 1000 ] || fail "None levels written"
[ "$(sed -n 12p out.csv)" = "10,open,,5" ] || fail "sparse NA in a text column: $(sed -n 12p out.csv)"

# told otherwise: every token is missing
"$KILN" describe orders.csv --json --missing-in-text always > a.json
"$KILN" describe orders.csv --json --missing NA,None > m.json
$py - <<'PY'
import json
for f in ("a.json", "m.json"):
    d = json.load(open(f))
    notes = {(n["column"], n["token"]): n for n in d["read"]["missing_tokens"]}
    assert notes[("status", "None")]["cells"] == 1000 and not notes[("status", "None")]["kept_as_level"], (f, notes)
    cols = {c["name"]: c for c in d["profile"]["column_profiles"]}
    assert cols["status"]["missing"] == 1000, (f, cols["status"])
PY

# a file that uses "None" as its missing marker in a number column: missing everywhere
$py - <<'PY'
with open("marker.csv", "w") as fp:
    fp.write("kind,x\n")
    for i in range(300):
        fp.write(("None" if i % 2 else "a") + "," + ("None" if i % 5 == 0 else str(i)) + "\n")
PY
"$KILN" describe marker.csv --json > k.json
$py - <<'PY'
import json
d = json.load(open("k.json"))
notes = {(n["column"], n["token"]): n for n in d["read"]["missing_tokens"]}
assert not notes[("kind", "None")]["kept_as_level"] and notes[("kind", "None")]["cells"] == 150, notes
assert notes[("x", "None")]["cells"] == 60, notes
PY
echo OK
