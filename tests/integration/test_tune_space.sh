#!/bin/bash
# kiln tune checks its search space against the model's parameter table
# before any work: an unknown parameter, an empty range, a log range
# reaching 0, a range outside the parameter's bounds, a choice the
# parameter refuses, a condition on no choice of the space and a budget of
# 0 trials are each a clear error naming the place, given before the data
# is read (the data file here does not exist, and the error is still the
# space's).
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=${KILN_TEST_DATA:?tests/data}
. "$(dirname "$0")/lib.sh"

bad() { # MESSAGE SPACE-TEXT
    printf '%s\n' "$2" > "$W/space.yaml"
    expect "$1" 1 "$KILN" tune --data "$W/missing.csv" --target y --model gbdt \
        --space "$W/space.yaml" --trials 3
}
bad "space.yaml:2:1: gbdt has no parameter 'lerning_rate' (did you mean 'learning_rate'?); its parameters: .*learning_rate" \
    $'max_depth: {int: [2, 4]}\nlerning_rate: {log: [0.01, 0.3]}'
# a step's parameter as scikit-learn's grids name it (select__k): said so
bad "gbdt has no parameter 'select__k'; its parameters: .* (a space searches the model's parameters only, not a step's" \
    'select__k: {choice: [5, 10]}'
bad "max_depth: int: \[6, 2\] is an empty range" 'max_depth: {int: [6, 2]}'
bad "subsample: uniform: \[0.5, 0.5\] is an empty range" 'subsample: {uniform: [0.5, 0.5]}'
bad "space.yaml:1:22: learning_rate: log: \[0, 0.3\] reaches 0: a log range needs a low end above 0" \
    'learning_rate: {log: [0, 0.3]}'
bad "learning_rate: log: \[-1, 0.3\] reaches below 0" 'learning_rate: {log: [-1, 0.3]}'
bad "max_depth: \[2, 100\] is out of the parameter's bounds \[0, 64\]" 'max_depth: {int: [2, 100]}'
bad "objective: .*must be one of .*got 'bogus'" 'objective: {choice: [log_loss, bogus]}'
bad "huber_quantile: when: 'objective' is not a choice of the space" \
    'huber_quantile: {uniform: [0.5, 0.9], when: objective=huber}'
bad "huber_quantile: when: 'quantile' is not one of objective's choices" \
    $'objective: {choice: [squared_error, huber]}\nhuber_quantile: {uniform: [0.5, 0.9], when: objective=quantile}'
bad "max_depth is an integer parameter: use int:" 'max_depth: {uniform: [2, 5]}'
bad "choice: is a list of one or more values" 'max_depth: {choice: []}'
bad "the search space is empty" ''

printf 'max_depth: {int: [2, 4]}\n' > "$W/ok.yaml"
expect "--trials 0: a search needs at least one trial" 2 "$KILN" tune --data "$W/missing.csv" \
    --target y --model gbdt --space "$W/ok.yaml" --trials 0
expect "no model named" 2 "$KILN" tune --data "$W/missing.csv" --target y --model gbdtt \
    --space "$W/ok.yaml"
expect "max_depth=3: max_depth is searched" 2 "$KILN" tune --data "$W/missing.csv" --target y \
    --model gbdt --space "$W/ok.yaml" --param max_depth=3
# a misspelt --metric is a usage error before any data is read (every trial
# used to fail on it, the name buried in "no trial succeeded")
expect "tune: --metric: no metric named 'acuracy'" 2 "$KILN" tune --data "$W/missing.csv" \
    --target y --model gbdt --space "$W/ok.yaml" --metric acuracy
# grid search over a continuous range needs its points (before any trial)
printf 'subsample: {uniform: [0.5, 1]}\n' > "$W/cont.yaml"
expect "grid search: subsample is a continuous range: give its points" 1 "$KILN" tune \
    --data "$DATA/wine.csv" --target class --model gbdt --space "$W/cont.yaml" --strategy grid
echo OK
