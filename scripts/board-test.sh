#!/usr/bin/env bash
# board-test.sh: the board stage of scripts/test.sh. Builds (or reuses) the
# board VM image, boots the Debian variant and runs every board test on it
# (facts, probe, the cached agent's verification, validate end to end with
# both runtimes, the corpus x86 vs ARM, the faults), then boots the BusyBox
# variant and runs the deployment, probe and end-to-end tests there. The VMs
# are stopped on exit, whatever happens. It prints how long each part took.
#
#   bash scripts/board-test.sh
#
# EDGEVAL_BOARD_CORPUS_PER_FAMILY (default 2) sets how many float32 corpus
# models of each op family run on the board (plus every float16, dynamic and
# int8 one).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

t0=$SECONDS
# This machine's TFLite C library: the corpus test compares the board with it.
eval "$(bash scripts/get-tflite-c.sh)"
trap 'bash scripts/board-vm.sh stop --variant all >/dev/null 2>&1 || true' EXIT

tb=$SECONDS
bash scripts/board-vm.sh build >/dev/null
build_s=$((SECONDS - tb))

ts=$SECONDS
vm="$(bash scripts/board-vm.sh start)"
start_debian_s=$((SECONDS - ts))
tt=$SECONDS
EDGEVAL_BOARD_VM="$vm" go test -count=1 -tags tflite -timeout 30m -v -run 'TestBoardVM' ./devices/ |
	grep -v -E '^(=== (RUN|PAUSE|CONT)|INFO: Created TensorFlow Lite)'
test_debian_s=$((SECONDS - tt))
# Issue 18's acceptance: the suite on the LAVA lab's qemu board equals the same suite over SSH on this VM.
tl=$SECONDS
EDGEVAL_BOARD_VM="$vm" go test -count=1 -timeout 40m -v -run 'TestLAVAEndToEnd' ./internal/cli/ |
	grep -v -E '^=== (RUN|PAUSE|CONT)'
test_lava_s=$((SECONDS - tl))
boot_debian_s="$(cat "$vm/boot-seconds")"
bash scripts/board-vm.sh stop

ts=$SECONDS
vm="$(bash scripts/board-vm.sh start --variant busybox)"
start_busybox_s=$((SECONDS - ts))
tt=$SECONDS
EDGEVAL_BOARD_VM="$vm" go test -count=1 -tags tflite -timeout 20m -v -run 'TestBoardVM(Probe|AgentOverwritten|CLI)$' ./devices/ |
	grep -v -E '^(=== (RUN|PAUSE|CONT)|INFO: Created TensorFlow Lite)'
test_busybox_s=$((SECONDS - tt))
boot_busybox_s="$(cat "$vm/boot-seconds")"
bash scripts/board-vm.sh stop --variant busybox

echo "board stage: image ${build_s}s; debian: start ${start_debian_s}s (boot ${boot_debian_s}s), tests ${test_debian_s}s, LAVA vs SSH ${test_lava_s}s; busybox: start ${start_busybox_s}s (boot ${boot_busybox_s}s), tests ${test_busybox_s}s; total $((SECONDS - t0))s" >&2
