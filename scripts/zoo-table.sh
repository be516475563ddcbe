#!/usr/bin/env bash
# zoo-table.sh [zootable flags]: build validate (with cgo, as the README
# builds it) and print issue 12's evidence table in Markdown: every model of
# the keras.applications zoo ($EDGEVAL_ZOO, default /tmp/edgeval-zoo) and the
# torchvision zoo ($EDGEVAL_TORCH_ZOO, default /tmp/edgeval-torch-zoo) in
# every format, and the recurrent, attention and normalization families of
# testdata/corpus, each validated against the framework's own outputs
# (--expected), plus the real TF converter's float32 files (--tflite). See
# internal/zootable for the columns and flags (-cases REGEXP, -formats REGEXP, -no-float64).
#
# The zoos are made by testdata/gen/zoo.py DIR and
# testdata/gen/gen_torchvision.py DIR --tier=zoo (--pickle-only adds the full
# pickles, --f64-only the float64 outputs to a zoo made earlier); a zoo
# directory that does not exist is left out with a note.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bin="$(mktemp -d)"
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/validate" ./cmd/validate
go build -o "$bin/zootable" ./internal/zootable

zoo="${EDGEVAL_ZOO:-/tmp/edgeval-zoo}"
tzoo="${EDGEVAL_TORCH_ZOO:-/tmp/edgeval-torch-zoo}"
for d in "$zoo" "$tzoo"; do
	[[ -d "$d" ]] || echo "zoo-table.sh: $d does not exist: left out" >&2
done
[[ -d "$zoo" ]] || zoo=""
[[ -d "$tzoo" ]] || tzoo=""
"$bin/zootable" -validate "$bin/validate" -zoo "$zoo" -torch-zoo "$tzoo" -corpus "$root/testdata/corpus" "$@"
