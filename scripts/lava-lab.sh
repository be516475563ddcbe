#!/usr/bin/env bash
# lava-lab.sh: a real LAVA lab on loopback for the tests: Debian 12's
# lava-server 2023.01 (gunicorn + scheduler) and a lava-worker, on a private
# PostgreSQL cluster run by an unprivileged user, with one `qemu` device that
# boots the board VM image of scripts/board-vm.sh (Debian 12 arm64,
# qemu-system-aarch64 -M virt -cpu cortex-a72, 2 vCPUs, 1.5 GiB, TCG).
#
#   bash scripts/lava-lab.sh start [--lease PID]   start (or reuse) the lab
#   bash scripts/lava-lab.sh stop  [--lease PID]   stop it (unless other leases live)
#   bash scripts/lava-lab.sh status
#   bash scripts/lava-lab.sh env                   KEY=VALUE lines for clients
#   bash scripts/lava-lab.sh device-good           set the device's health back to Good
#
# Everything lives in the run directory $EDGEVAL_LAVA_CACHE (default
# /var/tmp/edgeval-lava-lab: the services run as the unprivileged user
# `lavaserver`, which must reach it, and a $HOME under /root is closed to it).
# Nothing under /etc is changed: lava-server 2023.01's settings
# (lava_server/settings/prod.py) take the database from $DATABASE_URL and any
# setting from $LAVA_SETTINGS_<NAME>, so the media, device dictionaries,
# health checks and dispatcher configs point into the run directory.
#
# start (idempotent; a second start finds everything running and returns):
#   - installs lava-server lava-dispatcher lavacli with apt-get if missing;
#   - initdb (once) and starts PostgreSQL as `lavaserver` on a loopback port,
#     fsync off, socket in the run directory;
#   - migrates LAVA's database, creates the superuser `admin`, its API token,
#     the worker `lab-worker`, the device type `qemu` and the device
#     `qemu-rpi4-01` (device dictionary: arch arm64, cpu cortex-a72, 1536 MiB,
#     2 vCPUs; no health check: its health is set to Good);
#   - makes the lab's boot images (below) and serves the run directory's www/
#     over HTTP on a loopback port (python3 -m http.server): the dispatcher
#     downloads the images from 127.0.0.1, a guest reaches the same server as
#     10.0.2.2 (qemu user networking);
#   - starts gunicorn3 lava_server.wsgi (loopback port), `lava-server manage
#     lava-scheduler` and `lava-worker` (as root: it runs qemu), waits until the
#     API answers and the worker is online.
#
# The boot images (www/board/): the kernel of the cached board image; its
# initramfs, uncompressed, with two lines added to its init: before
# switch_root it copies LAVA's test overlay (/lava-<job>, which LAVA appends
# to this initramfs: `format: cpio.newc` with `overlays: {lava: true}` in the
# job) onto the root disk, and adds a root shell on the serial console
# (ttyAMA0, prompt `root@rpi4-vm:~# `) to the disk's inittab (the board image
# itself only runs sshd); and the board's Debian ext4 root file system shrunk
# to its contents plus 256 MiB (LAVA copies every image per job). qemu opens
# the disk with snapshot=on, so a job's writes never reach the image.
# Why the initramfs: LAVA's other two ways of placing the overlay with
# deploy-to-tmpfs need libguestfs (a qcow2 "guest" disk, or the overlay
# written into the ext4 image), whose appliance aborts on this kind of
# machine (/dev/kvm is there but unusable: qemu-system-x86_64 fails to set
# MSR 0x10a; forced to TCG it takes 34 s per job); the `transfer_overlay`
# boot option still builds the guestfs disk first.
#
# The leases: start --lease PID records that process PID uses the lab; stop
# --lease PID removes that record and stops the lab only when no live process
# holds another lease (tests of several packages may share one lab). Without
# --lease, stop always stops.
#
# Needs root (or password-less sudo: the script re-runs itself with sudo -n).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
self="$root/scripts/lava-lab.sh"
run="${EDGEVAL_LAVA_CACHE:-/var/tmp/edgeval-lava-lab}"
SVC=lavaserver
WORKER=lab-worker
DEVICE_TYPE=qemu
DEVICE=qemu-rpi4-01
LAB_USER=admin
GUEST_HOST=10.0.2.2
START_TIMEOUT=${EDGEVAL_LAVA_START_TIMEOUT:-300}

log() { echo "lava-lab: $*" >&2; }
die() {
	echo "lava-lab: $*" >&2
	exit 3
}

if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		home="${HOME:-$(cd ~ && pwd)}"
		exec sudo -n EDGEVAL_LAVA_CACHE="$run" \
			EDGEVAL_BOARD_CACHE="${EDGEVAL_BOARD_CACHE:-${XDG_CACHE_HOME:-$home/.cache}/edgeval/board-vm}" \
			bash "$self" "$@"
	fi
	echo "lava-lab: needs root or password-less sudo (apt-get, an unprivileged service user, qemu under lava-worker)" >&2
	exit 2
fi

# ---------------------------------------------------------------- helpers

pgbin() {
	local d
	d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
	[ -n "$d" ] && [ -x "$d/postgres" ] || die "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin: run scripts/setup.sh (Debian package postgresql)"
	echo "$d"
}

# as_svc runs a command as the service user, with LAVA's environment.
as_svc() { "${svc[@]}" "$@"; }

lava_manage() { as_svc lava-server manage "$@"; }

load_env() {
	local pgport
	pgport="$(cat "$run/pg/port")"
	lava_env=(
		"DATABASE_URL=postgres://$SVC@127.0.0.1:$pgport/lavaserver"
		"ALLOWED_HOSTS=127.0.0.1,localhost"
		"LAVA_SETTINGS_MEDIA_ROOT=$run/media/"
		"LAVA_SETTINGS_DJANGO_LOGFILE=$run/log/django.log"
		"LAVA_SETTINGS_DEVICES_PATH=$run/config/devices"
		"LAVA_SETTINGS_HEALTH_CHECKS_PATH=$run/config/health-checks"
		"LAVA_SETTINGS_DISPATCHER_CONFIG_PATH=$run/config/dispatcher.d"
	)
	svc=(setpriv --reuid="$SVC" --regid="$SVC" --init-groups env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$run/home" LANG=C.UTF-8 "${lava_env[@]}")
}

free_port() { # preferred: the first free port from $1 upwards
	local p="$1"
	while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
	echo "$p"
}

port_of() { # name default: the port recorded for name, else a free one (recorded)
	local f="$run/ports/$1"
	if [ ! -s "$f" ]; then free_port "$2" >"$f"; fi
	cat "$f"
}

alive() { # pidfile: true when the recorded process lives (not a zombie)
	local pid st
	[ -s "$1" ] || return 1
	pid="$(cat "$1")"
	st="$(sed -n 's/^[0-9]* (.*) \([A-Za-z]\) .*/\1/p' "/proc/$pid/stat" 2>/dev/null)"
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# daemon name cmd...: starts cmd in its own session (pid = process group),
# output to log/name.out, pid in pids/name.pid.
daemon() {
	local name="$1"
	shift
	# 9>&-: the daemon must not hold the lock of this script. It starts in
	# the run directory: the service user may not enter the caller's (a
	# clone under a 0700 directory such as mktemp -d's or /root: gunicorn
	# then exits with "can't chdir").
	(cd "$run" && exec setsid "$@" </dev/null >>"$run/log/$name.out" 2>&1 9>&-) &
	echo $! >"$run/pids/$name.pid"
}

stop_daemon() { # name
	local f="$run/pids/$1.pid" pid
	alive "$f" || { rm -f "$f"; return 0; }
	pid="$(cat "$f")"
	kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 100); do
		alive "$f" || break
		sleep 0.1
	done
	if alive "$f"; then kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true; fi
	rm -f "$f"
	log "$1 stopped"
}

http_ok() { # url
	/usr/bin/python3 - "$1" <<'EOF' 2>/dev/null
import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=5).read()
EOF
}

# ---------------------------------------------------------------- packages

ensure_packages() {
	local t0=$SECONDS
	if command -v lava-worker >/dev/null && command -v gunicorn3 >/dev/null && [ -x /usr/bin/lava-server ] && command -v lavacli >/dev/null; then
		return
	fi
	log "installing lava-server lava-dispatcher lavacli (Debian 12: LAVA 2023.01)"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq lava-server lava-dispatcher lavacli >"$run/log/apt.log" 2>&1 ||
		{ tail -30 "$run/log/apt.log" >&2; die "apt-get install failed (log: $run/log/apt.log)"; }
	log "installed in $((SECONDS - t0)) s"
}

# ---------------------------------------------------------------- images

# patch_init adds the lab's lines to the board initramfs's init: the LAVA
# overlay onto the disk, a root shell on the serial console.
patch_init() { # init file
	local init="$1"
	grep -q 'switch_root /newroot' "$init" || die "the board initramfs's init has no switch_root line: scripts/board-vm.sh changed"
	local add
	add="$(
		cat <<'EOF'
# edgeval LAVA lab: LAVA's test overlay (appended to this initramfs) onto the disk,
# and a root shell on the serial console for LAVA (the disk is opened with snapshot=on).
for d in /lava-*; do [ -d "$d" ] && $b cp -a "$d" /newroot/; done
$b cat >/newroot/sbin/edgeval-console-shell <<'SH'
#!/bin/sh
export HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin TERM=vt100 PS1='root@rpi4-vm:~# '
cd /root
exec /bin/sh -i
SH
$b chmod 755 /newroot/sbin/edgeval-console-shell
$b grep -q edgeval-console-shell /newroot/etc/inittab || echo 'ttyAMA0::respawn:/sbin/edgeval-console-shell' >>/newroot/etc/inittab
EOF
	)"
	local tmp="$init.new"
	awk -v add="$add" '/switch_root \/newroot/ && !done { print add; done = 1 } { print }' "$init" >"$tmp"
	mv "$tmp" "$init"
	chmod 755 "$init"
}

build_images() {
	local board key dir
	board="$(bash "$root/scripts/board-vm.sh" build)" || die "scripts/board-vm.sh build failed"
	key="$({
		cat "$board/key"
		declare -f patch_init build_images
	} | sha256sum | cut -c1-16)"
	dir="$run/www/board"
	if [ -f "$dir/.done" ] && [ "$(cat "$dir/.key")" = "$key" ]; then
		return
	fi
	local t0=$SECONDS
	log "making the lab's boot images from $board"
	rm -rf "$dir" "$dir.tmp"
	mkdir -p "$dir.tmp/initrd"
	cp "$board/vmlinuz" "$dir.tmp/vmlinuz"
	(cd "$dir.tmp/initrd" && gzip -dc "$board/initrd.img" | cpio -id --quiet)
	patch_init "$dir.tmp/initrd/init"
	(cd "$dir.tmp/initrd" && find . | cpio -o -H newc --quiet) >"$dir.tmp/initrd.cpio"
	rm -rf "$dir.tmp/initrd"
	cp --sparse=always "$board/debian.img" "$dir.tmp/rootfs.ext4"
	e2fsck -fy "$dir.tmp/rootfs.ext4" >/dev/null 2>&1 || true
	resize2fs -M "$dir.tmp/rootfs.ext4" >/dev/null 2>&1 || die "resize2fs -M failed"
	local blocks
	blocks="$(dumpe2fs -h "$dir.tmp/rootfs.ext4" 2>/dev/null | sed -n 's/^Block count: *//p')"
	resize2fs "$dir.tmp/rootfs.ext4" "$((blocks + 65536))" >/dev/null 2>&1 || die "resize2fs failed"
	echo "$key" >"$dir.tmp/.key"
	touch "$dir.tmp/.done"
	mv "$dir.tmp" "$dir"
	log "boot images made in $((SECONDS - t0)) s: $(du -h --apparent-size "$dir/rootfs.ext4" | cut -f1) root file system"
}

# ---------------------------------------------------------------- services

start_pg() {
	local bin data port
	bin="$(pgbin)"
	data="$run/pg/data"
	if [ ! -f "$data/PG_VERSION" ]; then
		log "initdb (PostgreSQL as $SVC)"
		rm -rf "$data"
		setpriv --reuid="$SVC" --regid="$SVC" --init-groups "$bin/initdb" -D "$data" -U "$SVC" --auth=trust -E UTF8 --no-sync --no-locale >"$run/log/initdb.log" 2>&1 ||
			{ cat "$run/log/initdb.log" >&2; die "initdb failed"; }
	fi
	port="$(port_of pg 15432)"
	echo "$port" >"$run/pg/port"
	if setpriv --reuid="$SVC" --regid="$SVC" --init-groups "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
		return
	fi
	setpriv --reuid="$SVC" --regid="$SVC" --init-groups "$bin/pg_ctl" -D "$data" -l "$run/log/postgres.log" -w -t 60 \
		-o "-p $port -k $run/pg -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60 -c shared_buffers=32MB" start >/dev/null 9>&- ||
		{ tail -20 "$run/log/postgres.log" >&2; die "PostgreSQL did not start (log: $run/log/postgres.log)"; }
	if ! setpriv --reuid="$SVC" --regid="$SVC" --init-groups "$bin/psql" -h "$run/pg" -p "$port" -U "$SVC" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='lavaserver'" | grep -q 1; then
		setpriv --reuid="$SVC" --regid="$SVC" --init-groups "$bin/createdb" -h "$run/pg" -p "$port" -U "$SVC" lavaserver
	fi
}

stop_pg() {
	local bin
	bin="$(pgbin)"
	[ -f "$run/pg/data/PG_VERSION" ] || return 0
	if setpriv --reuid="$SVC" --regid="$SVC" --init-groups "$bin/pg_ctl" -D "$run/pg/data" status >/dev/null 2>&1; then
		setpriv --reuid="$SVC" --regid="$SVC" --init-groups "$bin/pg_ctl" -D "$run/pg/data" -m fast -w stop >/dev/null
		log "PostgreSQL stopped"
	fi
}

write_device_dict() {
	cat >"$run/config/devices/$DEVICE.jinja2" <<'EOF'
{# edgeval LAVA lab (scripts/lava-lab.sh): the board VM of scripts/board-vm.sh, an emulated Raspberry Pi 4 #}
{% extends 'qemu.jinja2' %}
{% set arch = 'arm64' %}
{% set cpu = 'cortex-a72' %}
{% set machine = 'virt' %}
{% set memory = 1536 %}
{% set mac_addr = '52:54:00:12:34:59' %}
{% set guestfs_interface = 'virtio' %}
{% set extra_options = ['-smp 2', '-global virtio-net-pci.romfile=', '-device virtio-rng-pci'] %}
EOF
	chown "$SVC:" "$run/config/devices/$DEVICE.jinja2"
}

# provision: database schema, user, token, worker, device type, device.
provision() {
	local t0=$SECONDS
	if [ ! -f "$run/state/migrated" ]; then
		log "migrating LAVA's database"
		lava_manage migrate --noinput >"$run/log/migrate.log" 2>&1 || { tail -30 "$run/log/migrate.log" >&2; die "migrate failed"; }
		touch "$run/state/migrated"
	fi
	if [ ! -s "$run/state/token" ]; then
		lava_manage users add --superuser --staff --passwd "$(head -c 18 /dev/urandom | base64)" "$LAB_USER" >/dev/null 2>&1 || true
		local tok
		tok="$(lava_manage tokens add --user "$LAB_USER" --description edgeval-lab | tail -1 | tr -d '[:space:]')"
		[ -n "$tok" ] || die "no API token made for $LAB_USER"
		echo "$tok" >"$run/state/token"
	fi
	if [ ! -f "$run/state/devices" ]; then
		lava_manage workers add --health ACTIVE --description "edgeval loopback lab" "$WORKER" >/dev/null 2>&1 || true
		lava_manage device-types add "$DEVICE_TYPE" >/dev/null 2>&1 || true
		write_device_dict
		lava_manage devices add --device-type "$DEVICE_TYPE" --worker "$WORKER" \
			--description "qemu-system-aarch64 -M virt -cpu cortex-a72 (emulated Raspberry Pi 4)" "$DEVICE" >/dev/null 2>&1 || true
		lava_manage devices update --health GOOD "$DEVICE" >/dev/null
		touch "$run/state/devices"
	fi
	write_device_dict
	if [ ! -s "$run/state/worker-token" ]; then
		lava_manage shell -c "from lava_scheduler_app.models import Worker; print(Worker.objects.get(hostname='$WORKER').token)" | tail -1 | tr -d '[:space:]' >"$run/state/worker-token"
	fi
	[ $((SECONDS - t0)) -lt 2 ] || log "database provisioned in $((SECONDS - t0)) s"
}

start_services() {
	local port aport
	port="$(port_of http 18080)"
	aport="$(port_of artifacts 18180)"
	if ! alive "$run/pids/artifacts.pid"; then
		daemon artifacts setpriv --reuid="$SVC" --regid="$SVC" --init-groups /usr/bin/python3 -m http.server --bind 127.0.0.1 --directory "$run/www" "$aport"
	fi
	if ! alive "$run/pids/gunicorn.pid"; then
		daemon gunicorn "${svc[@]}" gunicorn3 lava_server.wsgi --bind "127.0.0.1:$port" --workers 2 --worker-class sync \
			--timeout 300 --log-level info --log-file "$run/log/gunicorn.log"
	fi
	if ! alive "$run/pids/scheduler.pid"; then
		daemon scheduler "${svc[@]}" lava-server manage lava-scheduler --level INFO --log-file "$run/log/scheduler.log"
	fi
	local deadline=$((SECONDS + START_TIMEOUT))
	until http_ok "http://127.0.0.1:$port/api/v0.2/system/version/"; do
		alive "$run/pids/gunicorn.pid" || { tail -20 "$run/log/gunicorn.log" "$run/log/gunicorn.out" >&2 || true; die "gunicorn exited"; }
		[ $SECONDS -lt $deadline ] || die "LAVA's API did not answer on 127.0.0.1:$port within ${START_TIMEOUT}s (log: $run/log/gunicorn.log)"
		sleep 0.5
	done
	if ! alive "$run/pids/worker.pid"; then
		mkdir -p "$run/worker"
		daemon worker lava-worker --name "$WORKER" --url "http://127.0.0.1:$port/" --token "$(cat "$run/state/worker-token")" \
			--worker-dir "$run/worker" --ping-interval 2 --job-log-interval 2 --log-file "$run/log/worker.log" --level INFO
	fi
	until worker_online "$port"; do
		alive "$run/pids/worker.pid" || { tail -20 "$run/log/worker.log" "$run/log/worker.out" >&2 || true; die "lava-worker exited"; }
		[ $SECONDS -lt $deadline ] || die "lava-worker did not come online within ${START_TIMEOUT}s (log: $run/log/worker.log)"
		sleep 0.5
	done
}

worker_online() { # port
	/usr/bin/python3 - "http://127.0.0.1:$1/api/v0.2/workers/$WORKER/" "$(cat "$run/state/token")" <<'EOF' 2>/dev/null
import json, sys, urllib.request
req = urllib.request.Request(sys.argv[1], headers={"Authorization": "Token " + sys.argv[2]})
w = json.load(urllib.request.urlopen(req, timeout=5))
sys.exit(0 if w.get("state") == "Online" else 1)
EOF
}

# ---------------------------------------------------------------- leases

lease_arg() {
	lease=""
	while [ $# -gt 0 ]; do
		case "$1" in
		--lease) lease="$2"; shift ;;
		--lease=*) lease="${1#*=}" ;;
		*) die "unknown argument $1" ;;
		esac
		shift
	done
	case "$lease" in "" | *[!0-9]*) [ -z "$lease" ] || die "--lease wants a pid" ;; esac
}

live_leases() { # prints the live leases' pids
	local f
	for f in "$run/leases"/*; do
		[ -e "$f" ] || continue
		if [ -d "/proc/$(basename "$f")" ]; then basename "$f"; else rm -f "$f"; fi
	done
}

# ---------------------------------------------------------------- commands

lock() {
	mkdir -p "$run"
	exec 9>"$run/.lock"
	flock 9
}

cmd_start() {
	lease_arg "$@"
	lock
	local t0=$SECONDS
	mkdir -p "$run"/{log,pids,ports,state,leases,home,media,www/artifacts,config/devices,config/health-checks,config/dispatcher.d,pg}
	chmod 755 "$run"
	ensure_packages
	getent passwd "$SVC" >/dev/null || die "no user $SVC (made by the lava-server package)"
	chown "$SVC:" "$run"/{log,home,media,www,www/artifacts,config,config/devices,config/health-checks,config/dispatcher.d,pg}
	chmod 700 "$run/pg"
	build_images
	start_pg
	load_env
	provision
	start_services
	[ -z "$lease" ] || touch "$run/leases/$lease"
	echo "$((SECONDS - t0))" >"$run/state/start-seconds"
	log "lab up in $((SECONDS - t0)) s: $(url)"
}

cmd_stop() {
	lease_arg "$@"
	lock
	if [ -n "$lease" ]; then
		rm -f "$run/leases/$lease"
		local others
		others="$(live_leases | tr '\n' ' ')"
		if [ -n "$others" ]; then
			log "left running: still leased by pid $others"
			return
		fi
	fi
	stop_daemon worker
	stop_daemon scheduler
	stop_daemon gunicorn
	stop_daemon artifacts
	stop_pg
}

url() { echo "http://127.0.0.1:$(cat "$run/ports/http")"; }

cmd_status() {
	local n up=0
	for n in gunicorn scheduler worker artifacts; do
		if alive "$run/pids/$n.pid"; then
			echo "$n: running, pid $(cat "$run/pids/$n.pid")"
			up=$((up + 1))
		else
			echo "$n: stopped"
		fi
	done
	if [ -f "$run/pg/data/PG_VERSION" ] && setpriv --reuid="$SVC" --regid="$SVC" --init-groups "$(pgbin)/pg_ctl" -D "$run/pg/data" status >/dev/null 2>&1; then
		echo "postgresql: running, port $(cat "$run/pg/port")"
		up=$((up + 1))
	else
		echo "postgresql: stopped"
	fi
	echo "leases: $(live_leases | tr '\n' ' ')"
	[ $up -eq 5 ]
}

cmd_env() {
	[ -s "$run/state/token" ] && [ -s "$run/ports/http" ] || die "the lab was never started ($run)"
	local aport
	aport="$(cat "$run/ports/artifacts")"
	cat <<EOF
LAVA_URL=$(url)
LAVA_TOKEN=$(cat "$run/state/token")
LAVA_USER=$LAB_USER
LAVA_DEVICE_TYPE=$DEVICE_TYPE
LAVA_DEVICE=$DEVICE
LAVA_WORKER=$WORKER
LAVA_IMAGE_URL=http://127.0.0.1:$aport/board
LAVA_ARTIFACT_DIR=$run/www/artifacts
LAVA_ARTIFACT_URL=http://$GUEST_HOST:$aport/artifacts
LAVA_GUEST_HOST=$GUEST_HOST
LAVA_RUN_DIR=$run
EOF
}

cmd_device_good() {
	[ -s "$run/pg/port" ] || die "the lab was never started ($run)"
	load_env
	lava_manage devices update --health GOOD "$DEVICE" >/dev/null
}

cmd="${1:-}"
[ $# -eq 0 ] || shift
case "$cmd" in
start) cmd_start "$@" ;;
stop) cmd_stop "$@" ;;
status) cmd_status ;;
env) cmd_env ;;
device-good) cmd_device_good ;;
*)
	echo "usage: bash scripts/lava-lab.sh start [--lease PID] | stop [--lease PID] | status | env | device-good" >&2
	exit 2
	;;
esac
