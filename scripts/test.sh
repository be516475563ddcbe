#!/usr/bin/env bash
# test.sh: set everything up (scripts/setup.sh) and run the whole test suite:
# formatting and vet, the agent build without cgo, `go test ./...` (LiteRT
# WebAssembly runtime, real HDF5, real fixtures from ../shared/fixtures), and
# the -tags tflite tests against the real TFLite C library, and the board
# stage (scripts/board-test.sh: the board VM of scripts/board-vm.sh).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/setup.sh
# set -e stops here when the download fails, instead of a link error later.
tflite_env="$(bash scripts/get-tflite-c.sh)"
eval "$tflite_env"

# Every step says when it started (minutes:seconds since this script began).
step() { printf '== [%d:%02d] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*" >&2; }

# Time guard: CI stops a run at 90 minutes. The board stage (emulated boards,
# the LAVA lab's jobs) is the longest and least predictable part, so it gets
# what is left of EDGEVAL_CI_BUDGET_S (default 85 minutes) counted from the
# start of this script; an overrun fails with this message instead of being
# cut off by CI without one.
budget_s="${EDGEVAL_CI_BUDGET_S:-5100}"

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change:" >&2
	echo "$unformatted" >&2
	exit 1
fi
step "go vet"
go vet ./...
go vet -tags tflite ./...
step "staticcheck (pinned)"
# A pinned version from the Go module proxy; `go run pkg@version` builds it
# once into the module cache and never touches go.mod.
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 -tags tflite ./...
step "CGO_ENABLED=0 go build ./... (and the agent for 64- and 32-bit ARM boards)"
CGO_ENABLED=0 go build ./...
CGO_ENABLED=0 GOARCH=arm64 go build -o /dev/null ./cmd/validate
CGO_ENABLED=0 GOARCH=arm GOARM=7 go build -o /dev/null ./cmd/validate
# --- LAVA lab (owner: lava-lab): the cold part of the lab's start (LAVA packages, the board image, LAVA's
# database) runs here, outside go test's 10-minute limit per package; the tests of internal/lavalab and lava
# then start and stop it in seconds (scripts/lava-lab.sh, docs/lava.md).
step "LAVA lab: scripts/lava-lab.sh start"
bash scripts/lava-lab.sh start
# --- end of the LAVA lab
step "go test ./..."
go test -count=1 ./...
bash scripts/lava-lab.sh stop
step "go test -tags tflite (real TFLite C runtime)"
go test -count=1 -tags tflite ./runtime/... ./corpus/ ./devices/...
# --- board stage (owner: devices): an emulated Raspberry Pi 4, see scripts/board-test.sh ---
step "board VM: validate --device on an emulated Raspberry Pi 4 (scripts/board-test.sh)"
left_s=$((budget_s - SECONDS))
if [ "$left_s" -lt 300 ]; then
	echo "time guard: ${SECONDS}s used of the ${budget_s}s budget; no time left for the board stage" >&2
	exit 1
fi
rc=0
timeout -k 60 "$left_s" bash scripts/board-test.sh || rc=$?
if [ "$rc" -eq 124 ]; then
	echo "time guard: the board stage did not finish in the ${left_s}s left of the ${budget_s}s budget (EDGEVAL_CI_BUDGET_S)" >&2
fi
[ "$rc" -eq 0 ] || exit "$rc"
# --- end of the board stage ---
