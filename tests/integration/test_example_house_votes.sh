#!/bin/bash
# examples/house_votes.yaml end to end: `kiln run` against scikit-learn's
# Pipeline(SimpleImputer(constant), OneHotEncoder, LogisticRegression) on
# the same test hold-out and the same 5 stratified folds (ref_examples.py):
# scikit-learn solves with newton-cholesky to tol 1e-12 (its lbfgs stops
# ~1e-5 short of the optimum), so both sit at the optimum: accuracy,
# balanced accuracy and ROC-AUC equal (1e-9), log loss within 1e-8
# relative, fold by fold, CV mean and test; then the artifact and the
# registration (house_votes v1, staging).
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/examples.sh"
require_sklearn
example_setup
example_run house_votes
example_ref house_votes
example_compare house_votes '{"accuracy": ("rel", 1e-9), "balanced_accuracy": ("rel", 1e-9),
                             "roc_auc": ("rel", 1e-9), "log_loss": ("rel", 1e-8)}'
example_registered house_votes house_votes staging 1 "$W/ex/data/house_votes84.csv"
echo "house_votes: all passed"
