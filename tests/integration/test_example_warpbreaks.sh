#!/bin/bash
# examples/warpbreaks.yaml end to end: `kiln run` (a Poisson GLM, log link,
# no penalty, on one-hot encoded wool and tension with the first level of
# each dropped) against scikit-learn's Pipeline(OneHotEncoder(drop=first),
# PoissonRegressor(alpha=0)) on the same test hold-out and the same 5
# shuffled folds: mean Poisson deviance, RMSE and MAE within 1e-6 relative
# (the GLM parity tolerance: sklearn's lbfgs against Kiln's Newton), fold by
# fold, CV mean and test; then the artifact and the registration
# (warpbreaks v1, staging).
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/examples.sh"
require_sklearn
example_setup
example_run warpbreaks
example_ref warpbreaks
example_compare warpbreaks '{"poisson_deviance": ("rel", 1e-6), "rmse": ("rel", 1e-6), "mae": ("rel", 1e-6)}'
example_registered warpbreaks warpbreaks staging 1 "$W/ex/data/warpbreaks.csv"
echo "warpbreaks: all passed"
