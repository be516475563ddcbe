#!/usr/bin/env bash
# fuzz.sh [SECONDS]: run every fuzz target of the repository (every
# `func FuzzX` in a *_test.go file) for SECONDS each (default 60), one after
# the other with -parallel 2, and print a table of target -> execs.
#
# It fails when a target finds a crasher (Go writes the input to the
# package's testdata/fuzz/FuzzX/ and the table names it), does not build, or
# makes fewer than 10,000 execs per 60 s (scaled to SECONDS): a target that
# slow is not really being fuzzed.
#
# New interesting inputs are minimised for at most 1 s (-fuzzminimizetime):
# with Go's default of 60 s, targets whose seeds are large real files spend
# the whole run minimising and make only a few dozen execs.
# Logs are kept in $FUZZ_LOGS (default: a temporary directory, printed);
# FUZZ_ONLY=REGEXP runs only the targets whose "dir FuzzName" matches it.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

secs="${1:-60}"
if ! [[ "$secs" =~ ^[0-9]+$ ]] || [ "$secs" -lt 1 ]; then
	echo "usage: $0 [SECONDS]  (a whole number of seconds per target, default 60)" >&2
	exit 2
fi
min=$(((10000 * secs + 59) / 60))
logs="${FUZZ_LOGS:-$(mktemp -d -t edgeval-fuzz.XXXXXX)}"
mkdir -p "$logs"
echo "fuzzing every target for ${secs}s each (-parallel 2), at least $min execs each; logs in $logs" >&2

# "package-dir FuzzName" for every fuzz target, in a stable order.
targets=$(git grep -E '^func Fuzz[A-Za-z0-9_]*\(' -- '*_test.go' |
	sed -E 's#^(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*)\(.*#\1 \2#' | sort -u |
	grep -E -- "${FUZZ_ONLY:-.}")
if [ -z "$targets" ]; then
	echo "no fuzz targets found" >&2
	exit 2
fi

status=0
table=$(printf '%-48s %10s  %s\n' target execs result)
while read -r dir name; do
	log="$logs/$(echo "$dir" | tr / _)_$name.log"
	go test -run '^$' -fuzz "^${name}\$" -fuzztime "${secs}s" -fuzzminimizetime 1s -parallel 2 "./$dir/" >"$log" 2>&1
	rc=$?
	# The last progress line holds the total: "fuzz: elapsed: 60s, execs: 123456 (...)".
	execs=$(grep -o 'execs: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')
	execs=${execs:-0}
	if [ $rc -ne 0 ]; then
		crasher=$(grep -o 'testdata/fuzz/[^ ]*' "$log" | tail -1)
		if [ -n "$crasher" ]; then
			result="FAIL: crasher ./$dir/$crasher (see $log)"
		else
			result="FAIL: exit $rc (see $log)"
		fi
		status=1
	elif [ "$execs" -lt "$min" ]; then
		result="FAIL: fewer than $min execs"
		status=1
	else
		result=ok
	fi
	line=$(printf '%-48s %10s  %s' "./$dir $name" "$execs" "$result")
	echo "$line" >&2
	table+=$'\n'"$line"
done <<<"$targets"

echo
echo "$table"
exit $status
