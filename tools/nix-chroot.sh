#!/usr/bin/env bash
# Makes a Debian 13 (trixie) root holding Nix 2.26 and nixpkgs' lib, for the
# optional step of `cargo xtask nix-check` (nix/platform-check.nix): Debian 12's
# own nix-bin (2.8) is too old for today's nixpkgs lib.
#
#   sudo tools/nix-chroot.sh LIB_TARBALL [DIR]
#
# LIB_TARBALL: nixpkgs' lib/ as a tarball with one top folder holding lib/
# (nix-community/nixpkgs.lib, e.g. its GitHub archive of a commit).
# DIR: where the root goes; $NETSPEC_NIX_ROOT, else /srv/netspec-nix, which is
# where nix-check looks (it reads $NETSPEC_NIX_ROOT too).
#
# Nothing runs chrooted afterwards: DIR/netspec-nix-instantiate and
# DIR/netspec-nix run DIR's nix-instantiate and nix through DIR's own dynamic
# loader, as any user; nix-check evaluates with a dummy store, and checks
# flake.lock with a store under target/, so neither root, mounts nor /nix
# are needed.
# The first run takes about 75 s and 600 MB (debootstrap, then nix-bin from
# deb.debian.org); later runs only refresh the lib and the launcher.
set -euo pipefail

usage() {
	echo "usage: sudo $0 LIB_TARBALL [DIR]" >&2
	exit 2
}
[ $# -ge 1 ] && [ $# -le 2 ] || usage
tarball=$1
dir=${2:-${NETSPEC_NIX_ROOT:-/srv/netspec-nix}}
mirror=http://deb.debian.org/debian

[ -f "$tarball" ] || {
	echo "nix-chroot: no such file: $tarball" >&2
	exit 2
}
if [ "$(id -u)" -ne 0 ]; then
	echo "nix-chroot: debootstrap and apt-get need root; run: sudo $0 $*" >&2
	exit 1
fi

if [ ! -x "$dir/usr/bin/nix-instantiate" ]; then
	if ! command -v debootstrap >/dev/null; then
		echo "nix-chroot: debootstrap not found; on Debian 12: apt-get install -t bookworm-backports debootstrap" >&2
		exit 1
	fi
	[ -x "$dir/usr/bin/apt-get" ] || debootstrap --variant=minbase trixie "$dir" "$mirror"
	cp /etc/resolv.conf "$dir/etc/resolv.conf"
	mount -t proc proc "$dir/proc"
	mount --bind /dev "$dir/dev"
	trap 'umount "$dir/dev" "$dir/proc"' EXIT
	chroot "$dir" env DEBIAN_FRONTEND=noninteractive apt-get update -q
	chroot "$dir" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends nix-bin
fi

rm -rf "$dir/opt/nixpkgs-lib.new"
mkdir -p "$dir/opt/nixpkgs-lib.new"
tar -xf "$tarball" --strip-components=1 -C "$dir/opt/nixpkgs-lib.new"
if [ ! -f "$dir/opt/nixpkgs-lib.new/lib/default.nix" ]; then
	echo "nix-chroot: $tarball has no <top>/lib/default.nix; is it nixpkgs' lib?" >&2
	exit 1
fi
rm -rf "$dir/opt/nixpkgs-lib"
mv "$dir/opt/nixpkgs-lib.new" "$dir/opt/nixpkgs-lib"

multiarch=$(uname -m)-linux-gnu
loader=
for l in "$dir"/lib64/ld-linux-*.so.* "$dir"/lib/ld-linux-*.so.*; do
	[ -e "$l" ] && loader=${l#"$dir"/} && break
done
[ -n "$loader" ] || {
	echo "nix-chroot: no ld-linux loader under $dir/lib64 or $dir/lib" >&2
	exit 1
}
for prog in nix-instantiate nix; do
	cat >"$dir/netspec-$prog" <<EOF
#!/bin/sh
# Written by tools/nix-chroot.sh: this root's $prog, run from outside it.
exec "$dir/$loader" --library-path "$dir/usr/lib/$multiarch:$dir/lib/$multiarch" "$dir/usr/bin/$prog" "\$@"
EOF
	chmod 755 "$dir/netspec-$prog"
done
"$dir/netspec-nix-instantiate" --version
echo "nix-chroot: nixpkgs lib $(cat "$dir/opt/nixpkgs-lib/lib/.version" 2>/dev/null || echo '(no lib/.version)') in $dir/opt/nixpkgs-lib"
