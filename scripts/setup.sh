#!/usr/bin/env bash
# setup.sh: install everything edgeval needs on a fresh Debian machine, then
# stop. Idempotent: a second run with everything in place installs nothing.
#
#   Debian packages  libhdf5-dev pkg-config gcc (HDF5 reading through cgo),
#                    nodejs npm (the LiteRT WebAssembly runtime runs in Node),
#                    python3-pip curl unzip (fetching the TFLite C library),
#                    openssh-server qemu-user-static (device tests: a real
#                    sshd on loopback, the arm64 agent under qemu-user)
#                    mmdebstrap qemu-system-arm gcc-aarch64-linux-gnu
#                    libc6-dev-arm64-cross cpio e2fsprogs busybox-static
#                    (the board VM of scripts/board-vm.sh)
#                    chromium libxml2-utils (report tests: the HTML pages
#                    rendered in a headless browser, JUnit checked by xmllint)
#                    postgresql (history tests start a throw-away server)
#                    lava-server lava-dispatcher lavacli (the LAVA lab of
#                    scripts/lava-lab.sh; with their recommended packages,
#                    as measured: ~45 s on a quiet machine)
#   npm packages     `npm ci` from the committed package-lock.json
#   Go modules       `go mod download`
#   TFLite C library scripts/get-tflite-c.sh (real libtensorflowlite_c 2.17.1)
#
# Needs root (or sudo) for apt-get, and Go 1.26 on PATH.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

log() { echo "setup: $*" >&2; }

need_pkgs=()
have_cmd() { command -v "$1" >/dev/null 2>&1; }
have_cmd pkg-config || need_pkgs+=(pkg-config)
[ -e /usr/include/hdf5/serial/hdf5.h ] || [ -e /usr/include/hdf5.h ] || need_pkgs+=(libhdf5-dev)
have_cmd gcc || need_pkgs+=(gcc)
have_cmd node || need_pkgs+=(nodejs)
have_cmd npm || need_pkgs+=(npm)
have_cmd curl || need_pkgs+=(curl)
have_cmd unzip || need_pkgs+=(unzip)
python3 -m pip --version >/dev/null 2>&1 || need_pkgs+=(python3-pip)
[ -x /usr/sbin/sshd ] || need_pkgs+=(openssh-server)        # devices: the SSH integration tests start a real sshd
have_cmd qemu-aarch64-static || need_pkgs+=(qemu-user-static) # devices: runs the arm64 agent under qemu-user
# --- report tests: a real headless browser renders the HTML pages; xmllint checks JUnit against Jenkins' XSD
have_cmd chromium || need_pkgs+=(chromium)
have_cmd xmllint || need_pkgs+=(libxml2-utils)
# --- history: the PostgreSQL store's tests initdb and start a real server of their own (internal/pgtest)
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || have_cmd postgres || need_pkgs+=(postgresql)
# --- board VM (scripts/board-vm.sh): the arm64 image, qemu, the arm64 cross compiler; busybox for the scripts' tests
have_cmd mmdebstrap || need_pkgs+=(mmdebstrap)
have_cmd qemu-system-aarch64 || need_pkgs+=(qemu-system-arm)
have_cmd aarch64-linux-gnu-gcc || need_pkgs+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
have_cmd cpio || need_pkgs+=(cpio)
have_cmd mke2fs || need_pkgs+=(e2fsprogs)
have_cmd busybox || need_pkgs+=(busybox-static)
# --- end board VM
if [ ${#need_pkgs[@]} -gt 0 ]; then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	log "installing Debian packages: ${need_pkgs[*]}"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

# --- LAVA lab (scripts/lava-lab.sh): Debian 12's LAVA 2023.01; a separate install because it is the
# tested set with recommends (the script also installs them when missing).
if ! have_cmd lava-worker || ! have_cmd gunicorn3 || ! have_cmd lavacli || [ ! -x /usr/bin/lava-server ]; then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	log "installing Debian packages: lava-server lava-dispatcher lavacli"
	[ ${#need_pkgs[@]} -gt 0 ] || $sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq lava-server lava-dispatcher lavacli >/dev/null
fi
# --- end LAVA lab

if ! have_cmd go; then
	echo "setup: Go 1.26 is not on PATH; install it first (https://go.dev/doc/install)" >&2
	exit 2
fi

# node_modules/.edgeval-lock records the lockfile npm ci last installed.
if ! cmp -s package-lock.json node_modules/.edgeval-lock 2>/dev/null; then
	log "npm ci (LiteRT WebAssembly runtime, pinned by package-lock.json)"
	npm ci --no-audit --no-fund --loglevel=error >&2
	cp package-lock.json node_modules/.edgeval-lock
fi

log "go mod download"
go mod download

log "TFLite C library (scripts/get-tflite-c.sh)"
bash scripts/get-tflite-c.sh >/dev/null
log "done"
