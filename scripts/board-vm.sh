#!/usr/bin/env bash
# board-vm.sh: a virtual Raspberry Pi 4 to try `validate --device` without a
# board: a Debian 12 arm64 system made from Debian's packages (no downloaded
# image) booted under qemu-system-aarch64 -M virt -cpu cortex-a72 (the Pi 4's
# core) with 2 vCPUs and 1.5 GiB, sshd on a loopback port.
#
#   bash scripts/board-vm.sh build    [--force]     make (or reuse) the cached image
#   bash scripts/board-vm.sh start    [--variant debian|busybox] [--port N]
#   bash scripts/board-vm.sh stop     [--variant debian|busybox|all]
#   bash scripts/board-vm.sh status
#   bash scripts/board-vm.sh path     [--variant ...]   print the run directory
#
# Variants (same kernel and packages):
#   debian   Debian 12 userland: GNU coreutils, bash (pi's login shell), dash as /bin/sh.
#   busybox  the userland of Yocto/Buildroot/OpenWrt/Alpine boards: BusyBox is
#            /bin/sh and every utility; no coreutils, bash, dash, grep, sed, ...
#
# build: mmdebstrap --variant=extract lays the arm64 packages (kernel,
# openssh-server, nodejs, busybox-static, ...) in a directory; this script
# then does what maintainer scripts would have (users, sshd keys and config,
# an init), adds the aarch64 TFLite C library 2.17.1 (scripts/get-tflite-c.sh,
# sha256-pinned) in /usr/local/lib and LiteRT's node_modules (the repository's,
# from package-lock.json) in /home/pi/edgeval/node_modules, and writes ext4
# images with mke2fs -d. A small initramfs (the image's BusyBox and nine
# modules) loads virtio and ext4 and switches to the disk. The result is
# cached under $EDGEVAL_BOARD_CACHE (default ~/.cache/edgeval/board-vm),
# keyed by the sha256 of this script's build functions, the package list, the library and
# package-lock.json; a second build with the same inputs does nothing.
#
# start: boots the image with the disk in snapshot mode (the image stays
# pristine; writes, such as the agent cache, last until qemu exits and
# survive a guest reset), user-mode networking restricted to the host
# forward 127.0.0.1:PORT -> guest:22, a 3 MiB ext4 disk mounted at
# /mnt/tiny (owned by pi: the full-disk test's cache dir), a QMP socket
# (run dir, qmp.sock) for resets, and waits for sshd. It cross-builds the two
# arm64 agents from this checkout (validate with CGO_ENABLED=0 for LiteRT, and
# cmd/edgeval-agent with cgo and -tags tflite against the aarch64 library)
# and writes devices.yaml in the run directory with profiles
#   rpi4-vm          runtime tflite, delegate xnnpack, threads 2
#   rpi4-vm-litert   runtime litert under the board's Node 18
# (busybox variant: rpi4-vm-busybox, rpi4-vm-busybox-litert), with the VM's
# own user key and known_hosts line. It also writes ./devices.yaml at the
# repository root with the profiles of every running VM, unless a
# devices.yaml not written by this script is there (then it says so).
#
# Needs root (or sudo) for apt-get and mmdebstrap; scripts/setup.sh installs
# the Debian packages: mmdebstrap qemu-system-arm gcc-aarch64-linux-gnu
# libc6-dev-arm64-cross cpio e2fsprogs qemu-user-static.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
self="$root/scripts/board-vm.sh"
home="${HOME:-$(cd ~ && pwd)}"
cache="${EDGEVAL_BOARD_CACHE:-${XDG_CACHE_HOME:-$home/.cache}/edgeval/board-vm}"
SUITE=bookworm
# Debian packages of the image (arm64), their dependencies come along.
PACKAGES=linux-image-arm64,openssh-server,nodejs,busybox-static,dash,bash,coreutils,libc-bin,grep,sed,findutils,gzip,libstdc++6,tar
# Packages whose files the busybox variant removes (BusyBox applets replace them).
BUSYBOX_STRIP="bash dash coreutils findutils grep sed gzip tar diffutils debianutils sensible-utils procps sysvinit-utils util-linux"
# Modules: the initramfs loads the first list (disk), the system the second (network, entropy).
INITRD_MODULES="virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk crc16 mbcache jbd2 crc32c_generic ext4"
SYSTEM_MODULES="failover net_failover virtio_net virtio-rng"
MEMORY_MB=1536
CPUS=2
BOOT_TIMEOUT=${EDGEVAL_BOARD_BOOT_TIMEOUT:-180}

log() { echo "board-vm: $*" >&2; }
die() {
	echo "board-vm: $*" >&2
	exit 3
}

need() {
	local missing=()
	for c in "$@"; do command -v "$c" >/dev/null 2>&1 || missing+=("$c"); done
	if [ ${#missing[@]} -gt 0 ]; then
		die "missing ${missing[*]}: run scripts/setup.sh (Debian packages mmdebstrap qemu-system-arm gcc-aarch64-linux-gnu libc6-dev-arm64-cross cpio e2fsprogs qemu-user-static)"
	fi
}

# tflite_env prints the build environment of the aarch64 TFLite C library,
# fetching it (pinned) into third_party/tflite-c-aarch64.
tflite_aarch64_dir="$root/third_party/tflite-c-aarch64"
fetch_tflite_aarch64() {
	TFLITE_C_ARCH=aarch64 TFLITE_C_DIR="$tflite_aarch64_dir" bash "$root/scripts/get-tflite-c.sh" >/dev/null
}

image_key() {
	fetch_tflite_aarch64
	{
		declare -f write_initramfs configure_rootfs make_busybox_variant cmd_build
		echo "$SUITE $PACKAGES | $BUSYBOX_STRIP | $INITRD_MODULES | $SYSTEM_MODULES"
		sha256sum "$tflite_aarch64_dir/lib/libtensorflowlite_c.so" | cut -d' ' -f1
		sha256sum "$root/package-lock.json" | cut -d' ' -f1
	} | sha256sum | cut -c1-16
}

# ---------------------------------------------------------------- build

write_initramfs() { # rootfs kver out
	local r="$1" kver="$2" out="$3" i
	i="$(mktemp -d)"
	mkdir -p "$i/bin" "$i/lib/m" "$i/proc" "$i/sys" "$i/dev" "$i/newroot"
	cp "$r/bin/busybox" "$i/bin/busybox"
	mknod -m 600 "$i/dev/console" c 5 1
	for m in $INITRD_MODULES; do
		cp "$(find "$r/lib/modules/$kver" -name "$m.ko" | head -1)" "$i/lib/m/" || die "module $m.ko not in the kernel package"
	done
	cat >"$i/init" <<EOF
#!/bin/busybox sh
# edgeval board VM, stage 1: load virtio and ext4, mount /dev/vda, switch to it.
b=/bin/busybox
\$b mount -t proc proc /proc
\$b mount -t devtmpfs dev /dev
for m in $INITRD_MODULES; do \$b insmod /lib/m/\$m.ko || echo "init: insmod \$m failed"; done
n=0
while [ ! -b /dev/vda ] && [ \$n -lt 100 ]; do \$b sleep 0.1; n=\$((n + 1)); done
\$b mount -t ext4 -o rw,noatime /dev/vda /newroot || { echo "init: cannot mount /dev/vda"; exec \$b sh; }
\$b umount /proc
\$b mount --move /dev /newroot/dev
exec \$b switch_root /newroot /bin/busybox init
EOF
	chmod 755 "$i/init"
	(cd "$i" && find . | cpio -o -H newc --quiet | gzip -1) >"$out"
	rm -rf "$i"
}

configure_rootfs() { # rootfs kver keydir
	local r="$1" kver="$2" keys="$3"
	# The system's modules, flat; the rest of /lib/modules and /boot go.
	mkdir -p "$r/lib/edgeval-modules"
	for m in $SYSTEM_MODULES; do
		cp "$(find "$r/lib/modules/$kver" -name "$m.ko" | head -1)" "$r/lib/edgeval-modules/" || die "module $m.ko missing"
	done
	rm -rf "$r/lib/modules" "$r/boot"/* "$r/usr/share/doc" "$r/usr/share/man" "$r/usr/share/locale" "$r/usr/share/info"

	# What maintainer scripts would have made: accounts, dirs, the shell link.
	cat >"$r/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
sshd:x:100:65534::/run/sshd:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
pi:x:1000:1000:pi:/home/pi:/bin/bash
EOF
	cat >"$r/etc/group" <<'EOF'
root:x:0:
daemon:x:1:
tty:x:5:
pi:x:1000:
nogroup:x:65534:
EOF
	printf 'root:*:19700:0:99999:7:::\nsshd:*:19700:0:99999:7:::\npi:*:19700:0:99999:7:::\n' >"$r/etc/shadow"
	chmod 640 "$r/etc/shadow"
	[ -e "$r/bin/sh" ] || ln -s dash "$r/bin/sh"
	echo rpi4-vm >"$r/etc/hostname"
	printf '127.0.0.1 localhost\n127.0.1.1 rpi4-vm\n' >"$r/etc/hosts"
	printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files\n' >"$r/etc/nsswitch.conf"
	mkdir -p "$r/root" "$r/mnt/tiny" "$r/run" "$r/tmp" "$r/proc" "$r/sys" "$r/dev"
	chmod 1777 "$r/tmp"

	# sshd: our host key (so the known_hosts line is known in advance), pi's key.
	install -m 600 "$keys/ssh_host_ed25519_key" "$r/etc/ssh/ssh_host_ed25519_key"
	install -m 644 "$keys/ssh_host_ed25519_key.pub" "$r/etc/ssh/ssh_host_ed25519_key.pub"
	cat >"$r/etc/ssh/sshd_config" <<'EOF'
# edgeval board VM
Port 22
HostKey /etc/ssh/ssh_host_ed25519_key
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin no
AllowUsers pi
UseDNS no
PidFile /run/sshd.pid
MaxStartups 50
Subsystem sftp internal-sftp
EOF
	mkdir -p "$r/home/pi/.ssh" "$r/home/pi/edgeval"
	install -m 600 "$keys/id_ed25519.pub" "$r/home/pi/.ssh/authorized_keys"
	cp -a "$root/node_modules" "$r/home/pi/edgeval/node_modules"
	chown -R 1000:1000 "$r/home/pi"
	chmod 700 "$r/home/pi/.ssh"

	# The TFLite C runtime where a Pi user would put it.
	mkdir -p "$r/usr/local/lib"
	install -m 644 "$tflite_aarch64_dir/lib/libtensorflowlite_c.so" "$r/usr/local/lib/libtensorflowlite_c.so"

	# Init: BusyBox init runs the rc script, then keeps sshd running.
	mkdir -p "$r/etc/edgeval"
	cat >"$r/etc/inittab" <<'EOF'
::sysinit:/bin/busybox sh /etc/edgeval/rc
::respawn:/usr/sbin/sshd -D -e
::ctrlaltdel:/bin/busybox reboot
::shutdown:/bin/busybox sync
EOF
	cat >"$r/etc/edgeval/rc" <<EOF
# edgeval board VM, stage 2 (run by BusyBox init).
b=/bin/busybox
\$b mount -t proc proc /proc
\$b mount -t sysfs sys /sys
\$b mkdir -p /dev/pts /dev/shm
\$b mount -t devpts -o gid=5,mode=620 devpts /dev/pts
\$b mount -t tmpfs -o mode=755 tmpfs /run
\$b mount -t tmpfs -o mode=1777 tmpfs /tmp
\$b mount -t tmpfs -o mode=1777 tmpfs /dev/shm
\$b hostname -F /etc/hostname
for m in $SYSTEM_MODULES; do \$b insmod /lib/edgeval-modules/\$m.ko || echo "rc: insmod \$m failed"; done
n=0
while [ ! -e /sys/class/net/eth0 ] && [ \$n -lt 50 ]; do \$b sleep 0.1; n=\$((n + 1)); done
\$b ip link set lo up
\$b ip link set eth0 up
\$b ip addr add 10.0.2.15/24 dev eth0
\$b ip route add default via 10.0.2.2
\$b mkdir -p /run/sshd
\$b chmod 755 /run/sshd
if [ -b /dev/vdb ]; then \$b mount -t ext4 -o noatime /dev/vdb /mnt/tiny; fi
echo "edgeval board VM: up (\$(\$b uname -r), \$(\$b cat /etc/edgeval/variant))"
EOF
}

make_busybox_variant() { # rootfs pkglists
	local r="$1" lists="$2" p f
	for p in $BUSYBOX_STRIP; do
		[ -f "$lists/$p.list" ] || continue
		while IFS= read -r f; do
			f="${f#.}"
			[ -n "$f" ] || continue
			if [ -L "$r$f" ] || [ -f "$r$f" ]; then rm -f "$r$f"; fi
		done <"$lists/$p.list"
	done
	# Every BusyBox applet where the removed tools were (and /bin/sh).
	local applet
	while IFS= read -r applet; do
		case "$applet" in
		/*) ;;
		*) continue ;;
		esac
		[ -e "$r$applet" ] || [ -L "$r$applet" ] || ln -s /bin/busybox "$r$applet"
	done < <(qemu-aarch64-static "$r/bin/busybox" --list-full | sed 's|^|/|')
	ln -sf busybox "$r/bin/sh"
	sed -i 's|^pi:\(.*\):/bin/bash$|pi:\1:/bin/sh|' "$r/etc/passwd"
	for f in bash dash; do
		[ ! -e "$r/bin/$f" ] || die "busybox variant: /bin/$f is still there"
	done
	[ ! -e "$r/usr/bin/sha256sum" ] || [ "$(readlink "$r/usr/bin/sha256sum")" = /bin/busybox ] || die "busybox variant: GNU sha256sum still there"
}

cmd_build() {
	local force=0
	while [ $# -gt 0 ]; do
		case "$1" in
		--force) force=1 ;;
		*) die "build: unknown argument $1" ;;
		esac
		shift
	done
	need mmdebstrap mke2fs cpio gzip ssh-keygen qemu-aarch64-static sha256sum
	[ -f "$root/node_modules/@litertjs/core/package.json" ] || die "node_modules/@litertjs/core is missing: run scripts/setup.sh (npm ci) first"
	local key dir
	key="$(image_key)"
	dir="$cache/image-$key"
	if [ -f "$dir/.done" ] && [ $force -eq 0 ]; then
		log "image $key is cached in $dir"
		echo "$dir"
		return
	fi
	[ "$(id -u)" -eq 0 ] || die "build needs root (mmdebstrap lays files owned by root; mke2fs -d keeps owners)"
	local t0=$SECONDS
	mkdir -p "$cache"
	rm -rf "$cache"/build.*
	build_work="$(mktemp -d "$cache/build.XXXXXX")"
	local work="$build_work"
	trap 'rm -rf "$build_work"' EXIT
	local r="$work/rootfs"
	log "mmdebstrap $SUITE arm64 (extract): $PACKAGES"
	mmdebstrap --quiet --arch=arm64 --variant=extract --include="$PACKAGES" \
		--extract-hook='mkdir -p "$1/var/lib/edgeval-pkglists"; for d in "$1"/var/cache/apt/archives/*.deb; do p=$(dpkg-deb -f "$d" Package); dpkg-deb --fsys-tarfile "$d" | tar -t > "$1/var/lib/edgeval-pkglists/$p.list"; done' \
		"$SUITE" "$r" >&2
	mv "$r/var/lib/edgeval-pkglists" "$work/pkglists"
	local kver
	kver="$(ls "$r/lib/modules")"
	[ -f "$r/boot/vmlinuz-$kver" ] || die "no kernel in the image (vmlinuz-$kver)"
	local out="$work/out"
	mkdir -p "$out/keys"
	ssh-keygen -q -t ed25519 -N '' -C "edgeval-board-vm host" -f "$out/keys/ssh_host_ed25519_key"
	ssh-keygen -q -t ed25519 -N '' -C "edgeval-board-vm pi" -f "$out/keys/id_ed25519"
	cp "$r/boot/vmlinuz-$kver" "$out/vmlinuz"
	write_initramfs "$r" "$kver" "$out/initrd.img"
	configure_rootfs "$r" "$kver" "$out/keys"
	log "busybox variant"
	cp -a "$r" "$work/rootfs-busybox"
	make_busybox_variant "$work/rootfs-busybox" "$work/pkglists"
	echo debian >"$r/etc/edgeval/variant"
	echo busybox >"$work/rootfs-busybox/etc/edgeval/variant"
	log "ext4 images"
	mke2fs -q -t ext4 -L edgeval-root -d "$r" "$out/debian.img" 2G >&2
	mke2fs -q -t ext4 -L edgeval-root -d "$work/rootfs-busybox" "$out/busybox.img" 2G >&2
	mke2fs -q -t ext4 -L edgeval-tiny -E root_owner=1000:1000 "$out/tiny.img" 3M >&2
	echo "$kver" >"$out/kernel-version"
	echo "$key" >"$out/key"
	touch "$out/.done"
	rm -rf "$dir"
	mv "$out" "$dir"
	# Older images are of no use any more, unless a running VM boots from one.
	for old in "$cache"/image-*; do
		[ "$old" = "$dir" ] || in_use "$old" || rm -rf "$old"
	done
	log "built image $key in $((SECONDS - t0)) s: $dir"
	echo "$dir"
}

# ---------------------------------------------------------------- start/stop

variant_arg() { # parses --variant into $variant, --port into $port
	variant=debian
	port=""
	while [ $# -gt 0 ]; do
		case "$1" in
		--variant) variant="$2"; shift ;;
		--variant=*) variant="${1#*=}" ;;
		--port) port="$2"; shift ;;
		--port=*) port="${1#*=}" ;;
		*) die "unknown argument $1" ;;
		esac
		shift
	done
	case "$variant" in debian | busybox | all) ;; *) die "--variant: want debian or busybox" ;; esac
}

rundir() { echo "$cache/run/$1"; }

in_use() { # image dir: true when a running VM boots from it
	local v
	for v in debian busybox; do
		running "$v" && [ "$(cat "$(rundir "$v")/image" 2>/dev/null)" = "$1" ] && return 0
	done
	return 1
}

alive() { # pid: true for a live qemu process. kill -0 is not enough: a
	# qemu killed by a test (power loss) stays a zombie until this sandbox's
	# init reaps it, and a pid can be reused by another process.
	local st
	st="$(sed -n 's/^[0-9]* (.*) \([A-Za-z]\) .*/\1/p' "/proc/$1/stat" 2>/dev/null)"
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ] && grep -qa qemu "/proc/$1/cmdline" 2>/dev/null
}

running() { # variant
	local pidf
	pidf="$(rundir "$1")/qemu.pid"
	[ -f "$pidf" ] && alive "$(cat "$pidf")"
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

ssh_banner() { # port: true when sshd answers with its banner
	local line
	exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
	IFS= read -r -t 5 line <&3 || line=""
	exec 3<&- 3>&-
	[[ "$line" == SSH-2.0-* ]]
}

build_agents() { # dir
	local d="$1"
	need aarch64-linux-gnu-gcc go
	fetch_tflite_aarch64
	log "building the arm64 agents (validate, CGO_ENABLED=0; edgeval-agent, cgo -tags tflite)"
	(cd "$root" && CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -trimpath -ldflags="-s -w" -o "$d/validate-arm64.new" ./cmd/validate)
	(cd "$root" && CGO_ENABLED=1 GOOS=linux GOARCH=arm64 CC=aarch64-linux-gnu-gcc \
		CGO_CFLAGS="-I$tflite_aarch64_dir/include" \
		CGO_LDFLAGS="-L$tflite_aarch64_dir/lib -Wl,-rpath,/usr/local/lib" \
		go build -trimpath -tags tflite -ldflags="-s -w" -o "$d/edgeval-agent-arm64-tflite.new" ./cmd/edgeval-agent)
	mv -f "$d/validate-arm64.new" "$d/validate-arm64"
	mv -f "$d/edgeval-agent-arm64-tflite.new" "$d/edgeval-agent-arm64-tflite"
}

write_profiles() { # variant dir port keydir
	local v="$1" d="$2" p="$3" keys="$4" name=rpi4-vm
	[ "$v" = debian ] || name="rpi4-vm-$v"
	printf '[127.0.0.1]:%s %s\n' "$p" "$(cut -d' ' -f1-2 "$keys/ssh_host_ed25519_key.pub")" >"$d/known_hosts"
	cat >"$d/devices.yaml" <<EOF
# written by scripts/board-vm.sh: the $v board VM (qemu-system-aarch64 -M virt -cpu cortex-a72)
devices:
  $name:
    host: 127.0.0.1
    port: $p
    user: pi
    identity_file: $keys/id_ed25519
    known_hosts: $d/known_hosts
    runtime: tflite
    delegate: xnnpack
    threads: 2
    agent_binary: $d/edgeval-agent-arm64-tflite
    node_modules: /home/pi/edgeval/node_modules
    timeout: 5m
  $name-litert:
    host: 127.0.0.1
    port: $p
    user: pi
    identity_file: $keys/id_ed25519
    known_hosts: $d/known_hosts
    runtime: litert
    agent_binary: $d/validate-arm64
    node_modules: /home/pi/edgeval/node_modules
    timeout: 5m
EOF
}

# write_root_profiles puts the profiles of every running VM in ./devices.yaml
# at the repository root, unless someone else's devices.yaml is there.
write_root_profiles() {
	local f="$root/devices.yaml" v
	if [ -f "$f" ] && ! head -1 "$f" | grep -q 'written by scripts/board-vm.sh'; then
		log "$f exists and was not written by this script: left alone; use --devices $(rundir debian)/devices.yaml"
		return
	fi
	local tmp="$f.tmp.$$"
	{
		echo "# written by scripts/board-vm.sh: profiles of the running board VMs (removed by stop)"
		echo "devices:"
		for v in debian busybox; do
			running "$v" || continue
			sed -n '/^devices:/,$p' "$(rundir "$v")/devices.yaml" | tail -n +2
		done
	} >"$tmp"
	if grep -q '^  [a-z]' "$tmp"; then mv -f "$tmp" "$f"; else rm -f "$tmp" "$f"; fi
}

cmd_start() {
	variant_arg "$@"
	[ "$variant" != all ] || die "start: one variant at a time"
	need qemu-system-aarch64
	local img d
	img="$(cmd_build)"
	d="$(rundir "$variant")"
	mkdir -p "$d"
	chmod 700 "$d"
	build_agents "$d"
	if running "$variant"; then
		if [ "$(cat "$d/image" 2>/dev/null)" = "$img" ]; then
			log "$variant VM already running (pid $(cat "$d/qemu.pid"), port $(cat "$d/port")); agents rebuilt"
			echo "$d"
			return
		fi
		log "$variant VM runs an older image: restarting it"
		stop_one "$variant"
	fi
	if [ -z "$port" ]; then
		port=10022
		[ "$variant" = debian ] || port=10023
		while ! port_free "$port"; do port=$((port + 2)); done
	fi
	port_free "$port" || die "port $port is in use"
	rm -f "$d/qmp.sock" "$d/qemu.pid"
	local t0=$SECONDS
	log "booting the $variant VM (qemu-system-aarch64 -M virt -cpu cortex-a72 -smp $CPUS -m $MEMORY_MB), ssh on 127.0.0.1:$port"
	qemu-system-aarch64 -M virt -cpu cortex-a72 -smp "$CPUS" -m "$MEMORY_MB" \
		-kernel "$img/vmlinuz" -initrd "$img/initrd.img" \
		-append "console=ttyAMA0 panic=-1 quiet" \
		-drive "file=$img/$variant.img,format=raw,if=none,id=root,snapshot=on" -device virtio-blk-pci,drive=root \
		-drive "file=$img/tiny.img,format=raw,if=none,id=tiny,snapshot=on" -device virtio-blk-pci,drive=tiny \
		-netdev "user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:$port-:22" -device virtio-net-pci,netdev=net0,romfile= \
		-device virtio-rng-pci \
		-display none -serial "file:$d/console.log" -monitor none \
		-qmp "unix:$d/qmp.sock,server=on,wait=off" \
		-pidfile "$d/qemu.pid" -daemonize
	echo "$port" >"$d/port"
	echo "$variant" >"$d/variant"
	echo "$img" >"$d/image"
	write_profiles "$variant" "$d" "$port" "$img/keys"
	local deadline=$((SECONDS + BOOT_TIMEOUT))
	until ssh_banner "$port" 2>/dev/null; do
		if ! running "$variant"; then
			tail -20 "$d/console.log" >&2 || true
			die "qemu exited while booting (console: $d/console.log)"
		fi
		if [ $SECONDS -ge $deadline ]; then
			tail -20 "$d/console.log" >&2 || true
			die "sshd did not answer on 127.0.0.1:$port within ${BOOT_TIMEOUT}s (console: $d/console.log)"
		fi
		sleep 1
	done
	echo "$((SECONDS - t0))" >"$d/boot-seconds"
	log "$variant VM up in $((SECONDS - t0)) s: profiles in $d/devices.yaml"
	write_root_profiles
	echo "$d"
}

stop_one() { # variant
	local d pid
	d="$(rundir "$1")"
	running "$1" || { rm -f "$d/qemu.pid"; return 0; }
	pid="$(cat "$d/qemu.pid")"
	kill -TERM "$pid"
	for _ in $(seq 100); do
		alive "$pid" || break
		sleep 0.1
	done
	if alive "$pid"; then kill -KILL "$pid"; fi
	rm -f "$d/qemu.pid" "$d/qmp.sock"
	log "$1 VM stopped"
}

cmd_stop() {
	variant_arg "$@"
	if [ "$variant" = all ]; then
		stop_one debian
		stop_one busybox
	else
		stop_one "$variant"
	fi
	write_root_profiles
}

cmd_status() {
	local v d
	for v in debian busybox; do
		d="$(rundir "$v")"
		if running "$v"; then
			echo "$v: running, pid $(cat "$d/qemu.pid"), ssh 127.0.0.1:$(cat "$d/port"), profiles $d/devices.yaml"
		else
			echo "$v: stopped"
		fi
	done
	local img
	img="$cache/image-$(image_key)"
	if [ -f "$img/.done" ]; then echo "image: $img"; else echo "image: not built for this checkout"; fi
}

cmd="${1:-}"
[ $# -eq 0 ] || shift
case "$cmd" in
build) cmd_build "$@" ;;
start) cmd_start "$@" ;;
stop) cmd_stop "$@" ;;
status) cmd_status ;;
path)
	variant_arg "$@"
	rundir "$variant"
	;;
*)
	echo "usage: bash scripts/board-vm.sh build [--force] | start [--variant debian|busybox] [--port N] | stop [--variant debian|busybox|all] | status | path [--variant V]" >&2
	exit 2
	;;
esac
