#!/usr/bin/env bash
# Installs what netspec needs on a fresh Debian 12 (bookworm) or Ubuntu machine.
# Idempotent and quick when everything is already there; run as root or with sudo.
set -euo pipefail

pkgs=(
	build-essential bc bison flex libssl-dev openssl libelf-dev cpio kmod rsync git perl python3 xz-utils patch
	gcc-arm-linux-gnueabi gcc-aarch64-linux-gnu gcc-riscv64-linux-gnu
	libclang-dev nix-bin debootstrap python3-ply python3-git python3-pip
	qemu-system-arm qemu-system-x86 qemu-system-misc
	fonts-dejavu-core
)
# No kernel sources here: cargo xtask fetches each base's linux-source-*
# package itself, as the invoking user, with apt-get download and dpkg-deb
# on a private apt state (target/debian/), from the Debian suite the base
# follows (tools/xtask/src/base.rs). Those two come with every Debian and
# Ubuntu; elsewhere give cargo xtask tree --source a tarball or tree.

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
	# QEMU 10 comes from bookworm-backports on Debian 12.
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

for tool in apt-get dpkg-deb; do
	command -v "$tool" >/dev/null ||
		echo "bootstrap: $tool not found; cargo xtask cannot fetch Debian's kernel sources: give cargo xtask tree --source a tarball or tree" >&2
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

# nix-check's evaluation of the flake needs Nix >= 2.18 and nixpkgs' real lib
# (Debian 12's Nix is 2.8): tools/nix-chroot.sh makes both from Debian trixie
# (about 75 s and 600 MB, once) when a tarball of nixpkgs' lib is at hand:
# $NETSPEC_NIXPKGS_LIB, else the workplace's shared folder beside the checkout.
nix_root=${NETSPEC_NIX_ROOT:-/srv/netspec-nix}
lib_tarball=${NETSPEC_NIXPKGS_LIB:-}
here=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "$lib_tarball" ]; then
	for f in "$here"/../shared/nix/nixpkgs-lib-*.tar.xz /work/shared/nix/nixpkgs-lib-*.tar.xz; do
		[ -f "$f" ] && lib_tarball=$f && break
	done
fi
if [ -x "$nix_root/netspec-nix" ]; then
	echo "bootstrap: Nix 2.26 and nixpkgs' lib in $nix_root"
elif [ -z "$lib_tarball" ]; then
	echo "bootstrap: no nixpkgs lib tarball (set NETSPEC_NIXPKGS_LIB); nix-check will skip the evaluation with Nix 2.26" >&2
elif [ "$(id -u)" -ne 0 ]; then
	echo "bootstrap: run as root to make $nix_root (Nix 2.26) from $lib_tarball" >&2
elif ! NETSPEC_NIX_ROOT=$nix_root bash "$here/tools/nix-chroot.sh" "$lib_tarball"; then
	# Optional: without it nix-check skips the Nix 2.26 steps and says so.
	echo "bootstrap: could not make $nix_root (Nix 2.26); nix-check will skip the evaluation with it" >&2
fi
