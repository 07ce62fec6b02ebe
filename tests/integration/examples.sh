# Shared by the test_example_*.sh tests (sourced after lib.sh): each runs
# one spec of examples/ with `kiln run`, reproduces its protocol with
# scikit-learn (ref_examples.py: the same rows, the same test hold-out and
# the same CV folds) and compares the scores, then checks the artifact and
# the registration.
EXAMPLES=$(cd "$(dirname "$0")/../../examples" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)

# example_setup: a copy of examples/ in $W/ex (specs name their data by
# relative paths; the SQLite example's database is built there).
example_setup() {
    cp -r "$EXAMPLES" "$W/ex"
}

# example_run NAME [kiln run options]: $W/NAME.run.json, the artifact also
# written to $W/NAME.kiln, the run recorded in the store $W/store.
example_run() {
    local name=$1; shift
    "$KILN" --json run "$W/ex/$name.yaml" --store "$W/store" --out "$W/$name.kiln" "$@" \
        > "$W/$name.run.json" 2> "$W/$name.run.err" || fail "kiln run $name.yaml: $(cat "$W/$name.run.err")"
}

# example_ref NAME [CSV]: scikit-learn's scores in $W/NAME.ref.json.
example_ref() {
    $py "$HERE/ref_examples.py" "$1" "$W/ex" "$W" ${2:+"$2"} || fail "reference $1"
}

# example_compare NAME TOLERANCES: Kiln's scores against scikit-learn's.
# TOLERANCES is a Python dict literal, metric -> rule:
#   ("rel", t): every CV fold, the CV mean and the test score within t
#               relative (of max(1, |reference|)); the same folds, so
#               fold by fold;
#   ("below", t): the CV mean and the test score at most t below the
#               reference (higher is better); ("above", t): at most t
#               relative above (lower is better).
example_compare() {
    $py - "$W/$1.run.json" "$W/$1.ref.json" "$1" "$2" <<'PY' || fail "$1: scores differ from scikit-learn's"
import json, sys
got, ref, name, tol = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3], eval(sys.argv[4])
rows = got["rows"]
assert (rows["train"], rows["test"]) == (ref["rows_train"], ref["rows_test"]), (rows, ref["rows_train"], ref["rows_test"])
assert got["cv"]["k"] == len(ref["cv"]["folds"]), got["cv"]["k"]
ok = True
for m, (rule, t) in tol.items():
    pairs = [("cv mean", got["cv"]["mean"][m], ref["cv"]["mean"][m]), ("test", got["test"][m], ref["test"][m])]
    if rule == "rel":
        pairs += [(f"fold {i + 1}", f[m], r[m]) for i, (f, r) in enumerate(zip(got["cv"]["folds"], ref["cv"]["folds"]))]
    worst = 0.0
    for what, k, s in pairs:
        if rule == "rel":
            d = abs(k - s) / max(1.0, abs(s)); good = d <= t
        elif rule == "below":
            d = s - k; good = d <= t
        else:
            d = (k - s) / max(1e-12, abs(s)); good = d <= t
        worst = max(worst, d)
        if not good:
            print(f"  {name} {m} {what}: kiln {k:.10g}, scikit-learn {s:.10g} ({rule} {t})", file=sys.stderr)
            ok = False
    print(f"{name:13s} {m:18s} cv {got['cv']['mean'][m]:.4f} (sklearn {ref['cv']['mean'][m]:.4f}), "
          f"test {got['test'][m]:.4f} (sklearn {ref['test'][m]:.4f}); worst {rule} {worst:.2g} (limit {t})")
sys.exit(0 if ok else 1)
PY
}

# example_registered NAME MODEL STAGE VERSION DATA: the run of NAME.yaml
# registered MODEL as VERSION at STAGE (its JSON, and `kiln models versions`
# with the run and the artifact's hash), its artifact is in the store and
# equals the --out copy, and the registered model loads and scores by name
# (MODEL@STAGE) on DATA.
example_registered() {
    local name=$1 model=$2 stage=$3 version=$4 data=$5
    $py - "$W/$name.run.json" "$model" "$stage" "$version" > "$W/$name.hash" <<'PY' || fail "$name: not registered: $(cat "$W/$name.run.json")"
import json, sys
r = json.load(open(sys.argv[1]))
assert {k: r["registered"][k] for k in ("name", "stage", "version")} == {"name": sys.argv[2], "stage": sys.argv[3], "version": int(sys.argv[4])}, r["registered"]
print(r["artifact"]["hash"])
PY
    "$KILN" --json models versions "$model" --store "$W/store" > "$W/$name.versions.json" ||
        fail "kiln models versions $model"
    $py - "$W/$name.versions.json" "$W/$name.run.json" "$stage" "$version" <<'PY' || fail "$model: versions: $(cat "$W/$name.versions.json")"
import json, sys
v, r = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
mine = [x for x in v["versions"] if x["version"] == int(sys.argv[4])]
assert len(mine) == 1, v
assert (mine[0]["stage"], mine[0]["run"], mine[0]["artifact_hash"]) == (sys.argv[3], r["run_id"], r["artifact"]["hash"]), (mine, r["run_id"])
PY
    local stored="$W/store/artifacts/$(cat "$W/$name.hash").kiln"
    [ -s "$W/$name.kiln" ] || fail "$name: no artifact written"
    cmp -s "$stored" "$W/$name.kiln" || fail "$name: the store's artifact $stored differs from --out"
    KILN_STORE="$W/store" "$KILN" -q predict --model "$model@$stage" --data "$data" --out "$W/$name.pred.csv" \
        2> "$W/$name.pred.err" || fail "$model@$stage does not predict: $(cat "$W/$name.pred.err")"
    [ "$(wc -l < "$W/$name.pred.csv")" -gt 1 ] || fail "$model@$stage: no predictions"
    echo "$name: registered as $model v$version ($stage); the artifact is in the store and predicts by name"
}
