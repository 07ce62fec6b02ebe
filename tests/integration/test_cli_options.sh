#!/bin/bash
# Options as tables: every command's options come from one table that both
# the parser and `kiln help CMD` read. Uniform usage errors (exit 2, the
# command named), --read for reader options everywhere (--param as the
# deprecated spelling in describe/convert/prep), no caps on repeatable
# options, and help that lists exactly what is parsed.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=${KILN_TEST_DATA:?tests/data}
. "$(dirname "$0")/lib.sh"
cd "$W"
wine=$DATA/wine.csv
train=("$KILN" train --data "$wine" --target class --model logistic_regression --out m.kmd)

# ---- uniform errors: exit 2, the command named ----
expect "train: unknown option --tagret; did you mean --target?" 2 \
    "$KILN" train --data "$wine" --tagret class --model ridge --out m.kmd
expect "cv: unknown option --fodls; did you mean --folds?" 2 \
    "$KILN" cv --data "$wine" --target class --model ridge --fodls 3
# reader options and global options are suggested too
expect "describe: unknown option --delimeter; did you mean --delimiter?" 2 \
    "$KILN" describe "$wine" --delimeter ';'
expect "describe: unknown option --qiuet; did you mean --quiet?" 2 "$KILN" describe "$wine" --qiuet
expect "predict: unknown option --zzz-nothing-like-it; see 'kiln help predict'" 2 \
    "$KILN" predict --zzz-nothing-like-it
# a missing value
expect "train: --target needs a value (COLUMN)" 2 "$KILN" train --data "$wine" --target
expect "cv: --folds needs a value" 2 "$KILN" cv --data "$wine" --target class --folds --shuffle
# numbers are checked against the table's bounds
expect "train: --test-size 2: must be between 0 and 1" 2 "${train[@]}" --test-size 2
expect "train: --test-size x: must be a number" 2 "${train[@]}" --test-size x
expect "cv: --folds 1: must be between 2 and" 2 "$KILN" cv --data "$wine" --target class \
    --model ridge --folds 1
expect "cv: --jobs 2.5: must be a whole number" 2 "$KILN" cv --data "$wine" --target class \
    --model ridge --jobs 2.5
expect "schema: --max-categories -1: must be between 0 and" 2 "$KILN" schema infer "$wine" \
    --max-categories -1
expect "eval: --importance 0: must be between 1 and 1000" 2 "$KILN" eval --model m.kmd \
    --data "$wine" --importance 0
expect "demo: --rows 0: must be between 1 and" 2 "$KILN" demo --out d --rows 0
# seeds: a whole number from 0 to 2^64 - 1, in every command that takes one
expect "train: --seed -1: must be a whole number from 0 to 18446744073709551615" 2 \
    "${train[@]}" --seed -1
expect "cv: --seed 18446744073709551616: must be a whole number from 0 to" 2 \
    "$KILN" cv --data "$wine" --target class --model ridge --seed 18446744073709551616
expect "demo: --seed abc: must be a whole number from 0 to" 2 "$KILN" demo --out d --seed abc
# global options, before or after the command, by the same rules
expect "kiln: error: --threads abc: must be a whole number from 0 to 1024; see 'kiln help'" 2 \
    "$KILN" --threads abc describe "$wine"
expect "describe: --threads 2000: must be between 0 and 1024" 2 "$KILN" describe "$wine" \
    --threads 2000
expect "describe: --log-format xml: must be one of human,json" 2 "$KILN" describe "$wine" \
    --log-format xml
expect "unknown option --jsno; did you mean --json?" 2 "$KILN" --jsno describe "$wine"
# choices
expect "train: --task both: must be one of classification,regression" 2 "${train[@]}" --task both
# an option given twice (repeatable ones are --param, --step, --read)
expect "train: --target given twice" 2 "${train[@]}" --target class
expect "describe: --delimiter given twice" 2 "$KILN" describe "$wine" --delimiter , --delimiter ';'
expect "convert: --overwrite-input given twice" 2 "$KILN" convert "$wine" o.csv \
    --overwrite-input --overwrite-input
# flags take no value; arguments are counted
expect "cv: --shuffle takes no value" 2 "$KILN" cv --data "$wine" --target class --shuffle=yes
expect "describe: too many arguments (b.csv)" 2 "$KILN" describe "$wine" b.csv
expect "train: missing --model NAME" 2 "$KILN" train --data "$wine" --target class --out m.kmd
[ ! -e d ] || fail "demo ran despite a usage error"

# ---- --read NAME=VALUE: reader options in every command that reads data ----
tr , ';' < "$wine" > semi.csv
cols() { $py -c 'import json,sys; print(json.load(sys.stdin)["profile"]["columns"])'; }
[ "$("$KILN" --json describe semi.csv | cols)" = 14 ] || fail "semicolons found by default"
[ "$("$KILN" --json describe semi.csv --read delimiter=, | cols)" = 1 ] || fail "describe --read"
[ "$("$KILN" --json describe semi.csv --read=delimiter=, | cols)" = 1 ] || fail "--read=N=V"
rows=$("$KILN" --json describe "$wine" --read header=false |
    $py -c 'import json,sys; print(json.load(sys.stdin)["profile"]["rows"])')
[ "$rows" = 179 ] || fail "describe --read header=false: $rows rows"
"$KILN" -q convert semi.csv c.csv --read "delimiter=;"
[ "$(head -c 16 c.csv)" = "alcohol,malic_ac" ] || fail "convert --read: $(head -1 c.csv)"
# train reads with --read too: a delimiter that splits nothing leaves no 'class' column
"$KILN" -q train --data semi.csv --read 'delimiter=;' --target class --model logistic_regression \
    --param max_iter=2000 --out m.kmd > /dev/null 2>&1
expect "class" 1 "$KILN" train --data "$wine" --read 'delimiter=;' --target class --model ridge \
    --out m2.kmd
"$KILN" -q eval --model m.kmd --data semi.csv --read 'delimiter=;' > /dev/null
expect "--read delimiter: expected name=value" 2 "$KILN" train --data "$wine" --read delimiter \
    --target class --model ridge --out m2.kmd
expect "describe: --read colour=red: unknown parameter 'colour'" 2 "$KILN" describe "$wine" \
    --read colour=red
# the old spelling still works in describe/convert/prep, with a warning
"$KILN" --json describe semi.csv --param delimiter=, > p.json 2> p.err
[ "$(cols < p.json)" = 1 ] || fail "--param delimiter= no longer sets the delimiter"
grep -q -- "--param for reader options is deprecated; use --read delimiter=," p.err ||
    fail "no deprecation warning: $(cat p.err)"
"$KILN" convert semi.csv c2.csv --param 'delimiter=;' 2> p.err
grep -q "deprecated; use --read delimiter=;" p.err || fail "convert --param: $(cat p.err)"
cmp -s c.csv c2.csv || fail "convert --param differs from --read"
"$KILN" prep semi.csv p.csv --param 'delimiter=;' --step standard_scaler 2> p.err
grep -q "deprecated; use --read delimiter=;" p.err || fail "prep --param: $(cat p.err)"
# in train and cv --param is the model's: a reader option there is an error naming the model
expect "unknown parameter 'delimiter'" 2 "${train[@]}" --param delimiter=,

# ---- library messages name parameters; the CLI shows the flag that sets them ----
printf 'a,b\n1,2\n3\n' > ragged.csv
expect "ragged.csv:3:2: .*; fix the row, or pass --on-bad-rows skip (or quarantine)" 1 \
    "$KILN" describe ragged.csv
expect "2000 folds for 1030 rows; lower --folds to at most 1030" 1 "$KILN" cv \
    --data "$DATA/concrete.csv" --target compressive_strength --model ridge --folds 2000
! grep -q "reader option\|split option" "$W/err" || fail "a library phrase reached the user"

# ---- no caps on repeatable options ----
steps=()
for _ in $(seq 70); do steps+=(--step standard_scaler); done
"$KILN" -q prep "$wine" s.csv "${steps[@]}" || fail "70 --step in prep"
params=()
for i in $(seq 70); do params+=(--param "max_iter=$((1000 + i))"); done
"${train[@]}" -q "${params[@]}" > /dev/null 2>&1 || fail "70 --param in train"
"$KILN" --json inspect m.kmd | grep -q '"max_iter": 1070' || fail "the last --param wins"
"$KILN" -q cv --data "$wine" --target class --model logistic_regression --folds 2 \
    "${params[@]}" "${steps[@]}" > /dev/null 2>&1 || fail "70 --param and --step in cv"

# ---- help lists what is parsed, and only that ----
# (one kiln per option: the sanitizer build, where each start costs several
# times more, checks the option parser's memory on three commands' options;
# the release build checks every command's)
all_cmds="describe convert prep transform schema validate train predict eval cv inspect demo"
for cmd in $all_cmds; do
    if sanitized && [[ " describe train cv " != *" $cmd "* ]]; then
        expect "$cmd: unknown option --zz-not-an-option" 2 "$KILN" "$cmd" --zz-not-an-option
        continue
    fi
    "$KILN" help "$cmd" > h.txt
    "$KILN" "$cmd" --help > h2.txt
    cmp -s h.txt h2.txt || fail "kiln $cmd --help differs from kiln help $cmd"
    opts=$(sed -n 's/^  \(-[a-z], \)\{0,1\}\(--[a-z-]*\)\( [^ ]*\)\{0,1\}.*/\2\3/p' h.txt |
        grep -v -- '^--help' | tr ' ' '=' || true)
    [ -n "$opts" ] || [ "$cmd" = inspect ] || fail "kiln help $cmd lists no options"
    for o in $opts; do
        name=${o%%=*}
        # a value "2" where the option takes one; --zz stops the command before it runs
        arg=$name
        [ "$o" = "$name" ] || arg="$name=2"
        rc=0
        "$KILN" "$cmd" "$arg" --zz-not-an-option > /dev/null 2> e.txt || rc=$?
        [ "$rc" = 2 ] || fail "kiln $cmd $arg: rc $rc"
        ! grep -q -- "unknown option $name" e.txt || fail "kiln $cmd: help lists $name, parser refuses it"
    done
    expect "$cmd: unknown option --zz-not-an-option" 2 "$KILN" "$cmd" --zz-not-an-option
done
# options of other commands are not accepted
expect "describe: unknown option --model" 2 "$KILN" describe "$wine" --model ridge
expect "predict: unknown option --curves" 2 "$KILN" predict --model m.kmd --data "$wine" \
    --out p.csv --curves c.json
echo "cli options: ok"
