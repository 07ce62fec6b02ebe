# Shared by the serve and monitor tests that set up their data from
# lending_club.csv or concrete.csv (sourced after lib.sh): the kiln binary
# $KILN (required), scikit-learn (require_sklearn), the data folder $D, and
# data_py, their set-up script run after a prelude of the common part.
KILN=${KILN:?set KILN to the kiln binary}
require_sklearn
D="$(cd "$(dirname "${BASH_SOURCE[0]}")/../data" && pwd)"
# data_py [ARGS...] <<'PY' ... PY: the script, run as `$py - $D $W ARGS...`
# (the warm python) after this prelude (a traceback's line numbers count
# its lines), which gives it sys, json, np, pd, d ($D), w ($W) and:
# - lending_club(): lending_club.csv and a permutation of its rows (seed
#   0): lc.iloc[idx[:n]] are n random rows;
# - concrete(seed): concrete.csv with its rows shuffled (seed), index reset;
# - train_live(rows, n, end, target): rows [0, n) written as $W/train.csv;
#   returns rows [n, end) without the target, index reset (the live rows).
IFS= read -r -d '' data_prelude <<'PY' || true
import json, sys, numpy as np, pandas as pd
d, w = sys.argv[1:3]
def lending_club():
    lc = pd.read_csv(f"{d}/lending_club.csv")
    return lc, np.random.RandomState(0).permutation(len(lc))
def concrete(seed):
    c = pd.read_csv(f"{d}/concrete.csv")
    return c.iloc[np.random.RandomState(seed).permutation(len(c))].reset_index(drop=True)
def train_live(rows, n, end, target):
    rows.iloc[:n].to_csv(f"{w}/train.csv", index=False)
    return rows.iloc[n:end].drop(columns=[target]).reset_index(drop=True)
PY
data_py() { $py - "$D" "$W" "$@" <<< "$data_prelude$(cat)"; }
