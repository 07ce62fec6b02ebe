#!/bin/bash
# Parity with scikit-learn (Debian's python3-sklearn through /usr/bin/python3):
# each kiln step on real data (concrete.csv, with every 7th cell blanked so the
# missing-value paths run) must match the scikit-learn transformer's output to
# 1e-9 (absolute), missing cells included. Skips (exit 77) only outside CI when
# scikit-learn is absent.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=${KILN_TEST_DATA:?tests/data}
py=/usr/bin/python3
if ! $py -c 'import sklearn' 2>/dev/null; then
    if [ "${CI:-}" = true ]; then echo "FAIL: python3-sklearn is missing in CI" >&2; exit 1; fi
    echo "SKIP: python3-sklearn not installed (scripts/bootstrap installs it)"; exit 77
fi
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

$py - "$DATA/concrete.csv" "$W/planted.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
out = csv.writer(open(sys.argv[2], "w", newline=""))
out.writerow(rows[0])
k = 0
for r in rows[1:]:
    for j in range(len(r)):
        k += 1
        if k % 7 == 0: r[j] = ""
    out.writerow(r)
PY

check() { # name, kiln --step args..., then python expression after '--'
    INPUT="$W/planted.csv" check_on "$@"
}

check_on() { # like check, on $INPUT
    local name=$1; shift
    local args=()
    while [ "$1" != "--" ]; do args+=(--step "$1"); shift; done
    shift
    "$KILN" -q prep "$INPUT" "$W/$name.csv" "${args[@]}"
    $py - "$INPUT" "$W/$name.csv" "$name" "$1" <<'PY'
import sys, warnings, numpy as np
warnings.simplefilter("ignore")
from sklearn.preprocessing import StandardScaler, MinMaxScaler, RobustScaler, MaxAbsScaler
from sklearn.preprocessing import FunctionTransformer, PolynomialFeatures, KBinsDiscretizer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
X = np.genfromtxt(sys.argv[1], delimiter=",", skip_header=1)
got = np.genfromtxt(sys.argv[2], delimiter=",", skip_header=1)
want = eval(sys.argv[4]).fit_transform(X)
assert got.shape == want.shape, (sys.argv[3], got.shape, want.shape)
same_nan = np.array_equal(np.isnan(got), np.isnan(want))
diff = np.nanmax(np.abs(got - want)) if np.isfinite(want).any() else 0.0
print(f"{sys.argv[3]:32s} max |kiln - sklearn| = {diff:.3g}")
assert same_nan, sys.argv[3] + ": missing cells differ"
assert diff <= 1e-9, sys.argv[3] + ": differs by %g" % diff
PY
}

check standard standard_scaler -- "StandardScaler()"
check standard_nomean "standard_scaler:with_mean=false" -- "StandardScaler(with_mean=False)"
check minmax minmax_scaler -- "MinMaxScaler()"
check minmax_range "minmax_scaler:min=-1;max=2" -- "MinMaxScaler(feature_range=(-1, 2))"
check robust robust_scaler -- "RobustScaler()"
check robust_q "robust_scaler:q_low=10;q_high=90" -- "RobustScaler(quantile_range=(10, 90))"
check maxabs maxabs_scaler -- "MaxAbsScaler()"
check impute_mean simple_imputer -- "SimpleImputer(strategy='mean')"
check impute_median "simple_imputer:strategy=median" -- "SimpleImputer(strategy='median')"
check impute_mode "simple_imputer:strategy=most_frequent" -- "SimpleImputer(strategy='most_frequent')"
check impute_const "simple_imputer:strategy=constant;fill_value=-7" -- "SimpleImputer(strategy='constant', fill_value=-7)"
check impute_indicator "simple_imputer:strategy=median;add_indicator=true" -- "SimpleImputer(strategy='median', add_indicator=True)"
check chain "simple_imputer:strategy=median" standard_scaler -- "make_pipeline(SimpleImputer(strategy='median'), StandardScaler())"
check log1p log1p_transform -- "FunctionTransformer(np.log1p)"
# PolynomialFeatures and KBinsDiscretizer take no missing values: the original file
INPUT="$DATA/concrete.csv" check_on poly polynomial_features -- "PolynomialFeatures(degree=2, include_bias=False)"
INPUT="$DATA/concrete.csv" check_on poly_inter "polynomial_features:interaction_only=true" -- "PolynomialFeatures(degree=2, interaction_only=True, include_bias=False)"
INPUT="$DATA/concrete.csv" check_on kbins_quantile kbins_discretizer -- "KBinsDiscretizer(encode='ordinal')"
INPUT="$DATA/concrete.csv" check_on kbins_uniform "kbins_discretizer:strategy=uniform;n_bins=7" -- "KBinsDiscretizer(n_bins=7, strategy='uniform', encode='ordinal')"
INPUT="$DATA/concrete.csv" check_on kbins_many "kbins_discretizer:n_bins=20" -- "KBinsDiscretizer(n_bins=20, encode='ordinal')"
echo "19 passed, 0 failed"
