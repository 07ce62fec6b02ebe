#!/bin/bash
# examples/loans_sqlite.yaml end to end: Lending Club loans (CSV) left-joined
# on the borrower's state to a SQLite table of US Census regions, built here
# from examples/data/us_states.csv. `kiln run` (logistic regression on
# one-hot encoded, standardised columns) against scikit-learn on the same
# joined rows (pandas merge), the same test hold-out and the same 5
# stratified folds (scikit-learn's newton-cholesky to tol 1e-12, so both
# fits sit at the optimum): accuracy, ROC-AUC and average precision equal
# (1e-9), log loss within 1e-8 relative, fold by fold, CV mean and test; the join
# report (every loan matched); the artifact and the registration (loans v1,
# staging). A database without the table is a clear error naming it.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/examples.sh"
require_sklearn
example_setup
$py - "$W/ex/data/us_states.csv" "$W/ex/data/us_states.db" <<'PY'
import csv, sqlite3, sys
rows = list(csv.DictReader(open(sys.argv[1])))
db = sqlite3.connect(sys.argv[2])
db.execute("CREATE TABLE states (state TEXT PRIMARY KEY, census_region TEXT, census_division TEXT)")
db.executemany("INSERT INTO states VALUES (:state, :census_region, :census_division)", rows)
db.commit()
PY
example_run loans_sqlite
$py - "$W/loans_sqlite.run.json" <<'PY' || fail "rows: $(cat "$W/loans_sqlite.run.json")"
import json, sys
r = json.load(open(sys.argv[1]))["rows"]
assert r["in"] == r["kept"] == 9857 and r["quarantined"] == 0, r  # the schema: every state matched
PY
example_ref loans_sqlite
example_compare loans_sqlite '{"accuracy": ("rel", 1e-9), "roc_auc": ("rel", 1e-9),
                              "average_precision": ("rel", 1e-9), "log_loss": ("rel", 1e-8)}'
# the registered model scores raw loans: it needs the joined columns too
$py - "$W/ex/data/lending_club.csv" "$W/ex/data/us_states.csv" "$W/joined.csv" <<'PY'
import sys, pandas as pd
d = pd.read_csv(sys.argv[1]).merge(pd.read_csv(sys.argv[2]), how="left", left_on="addr_state", right_on="state")
d.drop(columns="state").to_csv(sys.argv[3], index=False)
PY
example_registered loans_sqlite loans staging 1 "$W/joined.csv"
# a database without the table: a clear error, nothing registered
rm "$W/ex/data/us_states.db"
$py -c "import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute('CREATE TABLE other (x)')" "$W/ex/data/us_states.db"
expect "no such table: states" 1 "$KILN" run "$W/ex/loans_sqlite.yaml" --store "$W/store"
echo "loans_sqlite: all passed"
