#!/bin/bash
# examples/wages.yaml end to end: `kiln run` (ridge on one-hot encoded,
# standardised CPS 1985 data) against scikit-learn's Pipeline(OneHotEncoder,
# StandardScaler, Ridge) on the same test hold-out and the same 5 shuffled
# folds (ref_examples.py reproduces Kiln's seeded splits): RMSE, MAE and R^2
# within 1e-9 relative, fold by fold, CV mean and test; then the artifact
# and the registration (wages v1, staging).
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/examples.sh"
require_sklearn
example_setup
example_run wages
example_ref wages
example_compare wages '{"rmse": ("rel", 1e-9), "mae": ("rel", 1e-9), "r2": ("rel", 1e-9)}'
example_registered wages wages staging 1 "$W/ex/data/cps1985.csv"
echo "wages: all passed"
