#!/bin/bash
# profile_call.sh TAG COMMAND ARGS...: runs COMMAND as lib.sh's $KILN or $py
# does when KILN_TEST_PROFILE names a file, and appends a line to that file:
# TAG, wall seconds, user+sys CPU seconds of COMMAND and its children, and
# the first arguments. Standard input, output, error and the exit status are
# COMMAND's; TERM, INT and HUP are passed on, each as itself (a SIGKILL is not: tests that
# kill kiln that way are not for profiling). Used to find where a slow
# test's time goes:
#   KILN_TEST_PROFILE=/tmp/p.txt ctest -R integration_test_x
#   tests/tools/profile_summary.sh /tmp/p.txt
tag=$1
shift
# CPU of children reaped before: a shell's last command replaces the shell
# (exec) and keeps its children's times, so they are counted from here
times > "$KILN_TEST_PROFILE.times.$$"
read -r bu bs < <(tail -n 1 "$KILN_TEST_PROFILE.times.$$")
t0=$EPOCHREALTIME
"$@" <&0 &
child=$!
for sig in TERM INT HUP; do # each passed on as itself (kiln serve reloads on a HUP)
    trap "kill -$sig \$child 2> /dev/null" $sig
done
rc=0
wait $child || rc=$?
while kill -0 $child 2> /dev/null; do wait $child || rc=$?; done
# a wait cut short by a signal passed on gave 128+N; if the child ended after
# it, one more wait gives the child's own status (127: none left to give)
wait $child 2> /dev/null
last=$?
[ "$last" = 127 ] || rc=$last
t1=$EPOCHREALTIME
times > "$KILN_TEST_PROFILE.times.$$" # in this shell: a subshell has its own
read -r cu cs < <(tail -n 1 "$KILN_TEST_PROFILE.times.$$")
rm -f "$KILN_TEST_PROFILE.times.$$"
args="${*:2:6}"
awk -v t="$tag" -v a="${args//$'\n'/ }" -v t0="$t0" -v t1="$t1" -v cu="$cu" -v cs="$cs" -v bu="$bu" -v bs="$bs" 'function sec(x, m) {
    m = x; sub(/m.*/, "", m); sub(/^[0-9]+m/, "", x); sub(/s$/, "", x); return m * 60 + x }
    BEGIN { printf "%s %.3f %.3f %s\n", t, t1 - t0, sec(cu) + sec(cs) - sec(bu) - sec(bs), a }' >> "$KILN_TEST_PROFILE"
exit $rc
