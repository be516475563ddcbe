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
# ../shared/fixtures, the zoo's MobileNetV2 and ResNet50 when $EDGEVAL_ZOO
# (default /tmp/edgeval-zoo) holds them, and the torchvision zoo's resnet18
# .pt2 when $EDGEVAL_TORCH_ZOO (default /tmp/edgeval-torch-zoo) does; then
# it also prints the reference's acceptance table (bench.BenchmarkReference
# on the same zoo: the Go reference against TFLite C XNNPACK per sample with
# one and two threads, NCHW against NHWC; wall and CPU time, the same
# -rounds interleaved). With -reference-only it prints only that table.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bin="$(mktemp -d)"
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/validate" ./cmd/validate
go build -o "$bin/benchtable" ./internal/benchtable
go test -c -o "$bin/bench.test" ./bench/

flags=()
refonly=false
while [[ $# -gt 0 && "$1" == -* ]]; do
	if [[ "$1" == -reference-only ]]; then
		refonly=true
		shift
		continue
	fi
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
	tzoo="${EDGEVAL_TORCH_ZOO:-/tmp/edgeval-torch-zoo}"
	for m in mobilenet_v2 resnet50; do
		[[ -f "$zoo/keras/$m/model_k2.h5" ]] && models+=("$zoo/keras/$m/model_k2.h5")
	done
	[[ -f "$tzoo/torch/resnet18/model.pt2" ]] && models+=("$tzoo/torch/resnet18/model.pt2")
	flags+=(-reference "$bin/bench.test")
fi
if $refonly; then
	models=()
fi
"$bin/benchtable" -validate "$bin/validate" "${flags[@]}" "${models[@]}"
