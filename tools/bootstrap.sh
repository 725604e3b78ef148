#!/usr/bin/env bash
# Installs what netspec needs on a fresh Debian 12 (bookworm) or Ubuntu machine.
# Idempotent and quick when everything is already there; run as root or with sudo.
set -euo pipefail

pkgs=(
	build-essential bc bison flex libssl-dev libelf-dev cpio kmod rsync git perl python3 xz-utils
	gcc-arm-linux-gnueabi gcc-aarch64-linux-gnu gcc-riscv64-linux-gnu
	libclang-dev nix-bin python3-ply python3-git python3-pip
	qemu-system-arm qemu-system-x86 qemu-system-misc
	fonts-dejavu-core
)
# The default kernel sources. Debian 12 has them (6.12 from backports);
# elsewhere (Ubuntu) pass a tarball or tree: cargo xtask tree --source ...
sources=(linux-source-6.12 linux-source-6.1)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "bootstrap: all ${#pkgs[@]} packages present"
else
	if [ "$(id -u)" -ne 0 ]; then
		echo "bootstrap: missing ${missing[*]}; run: sudo $0" >&2
		exit 1
	fi
	# QEMU 10 and linux-source-6.12 come from bookworm-backports on Debian 12.
	if grep -q '^VERSION_CODENAME=bookworm' /etc/os-release &&
		! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d; then
		echo 'deb http://deb.debian.org/debian bookworm-backports main' \
			>/etc/apt/sources.list.d/netspec-backports.list
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	bp=()
	grep -q '^VERSION_CODENAME=bookworm' /etc/os-release && bp=(-t bookworm-backports)
	apt-get install -y -q --no-install-recommends "${bp[@]}" "${missing[@]}"
fi

for p in "${sources[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' && continue
	if [ "$(id -u)" -ne 0 ]; then
		echo "bootstrap: $p missing; run: sudo $0" >&2
		exit 1
	fi
	if apt-cache show "$p" >/dev/null 2>&1; then
		bp=()
		grep -q '^VERSION_CODENAME=bookworm' /etc/os-release && bp=(-t bookworm-backports)
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${bp[@]}" "$p"
	else
		echo "bootstrap: $p is not packaged here; give cargo xtask tree --source a kernel tarball or tree" >&2
	fi
done

# checkpatch.pl runs the kernel's scripts/spdxcheck.py with the first python3
# on PATH, which needs ply and GitPython.
if ! python3 -c 'import ply, git' 2>/dev/null; then
	python3 -m pip install --quiet ply GitPython 2>/dev/null ||
		python3 -m pip install --quiet --break-system-packages ply GitPython
fi

if ! command -v cargo >/dev/null; then
	echo "bootstrap: cargo not found; install Rust (rustup or your distribution's cargo) and re-run" >&2
	exit 1
fi
