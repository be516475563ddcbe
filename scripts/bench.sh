#!/usr/bin/env bash
# bench.sh [benchtable flags] MODEL...: build validate (with cgo, as the
# README builds it) and print, side by side for each model, the Go
# reference's ms per sample, the TFLite C runtime's and LiteRT-WASM's
# invoke ms per sample on the same .tflite, the conversion's ms and MB/s,
# and the peak RSS of the whole run with every process counted. See
# internal/benchtable for the flags (-rounds, -samples, -runtimes,
# -benchfmt FILE for benchstat).
#
# Without a model it measures issue 16's list: vww_96 and ResNet-8 from
# ../shared/fixtures, and the zoo's MobileNetV2 and ResNet50 when
# $EDGEVAL_ZOO (default /tmp/edgeval-zoo) holds them.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bin="$(mktemp -d)"
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/validate" ./cmd/validate
go build -o "$bin/benchtable" ./internal/benchtable

flags=()
while [[ $# -gt 0 && "$1" == -* ]]; do
	flags+=("$1")
	if [[ "$1" != *=* && $# -gt 1 ]]; then
		flags+=("$2")
		shift
	fi
	shift
done
models=("$@")
if [[ ${#models[@]} -eq 0 ]]; then
	fx="${EDGEVAL_FIXTURES:-$root/../shared/fixtures}"
	zoo="${EDGEVAL_ZOO:-/tmp/edgeval-zoo}"
	models=("$fx/keras/mlcommons-tiny/vww_96.h5" "$fx/keras/mlcommons-tiny/pretrainedResnet.h5")
	for m in mobilenet_v2 resnet50; do
		[[ -f "$zoo/keras/$m/model_k2.h5" ]] && models+=("$zoo/keras/$m/model_k2.h5")
	done
fi
"$bin/benchtable" -validate "$bin/validate" "${flags[@]}" "${models[@]}"
