# checks.<system>.vm-<arch>: boots the arch's kernel under TCG with the guest
# programs, as `cargo xtask vm-test` does (tools/xtask/src/vmtest.rs), and
# judges the console with nix/verdict.awk.  Needs no `kvm` system feature.
{
  netspec,
  pkgs, # nixpkgs of the build system: QEMU, gen_init_cpio
  built, # nix/kernel.nix for the arch
  arch,
  timeout ? 900, # seconds, vm-test's default --timeout
}:
let
  a = netspec.archs.${arch};
  # Not `remote`: it talks to netspecd on the host over a serial port,
  # which vm-test starts and this sandboxed check does not.
  suites = builtins.filter (s: s != "remote") netspec.suites;
  list = pkgs.writeText "initramfs.list" (
    netspec.initramfsList "${built.guest}/bin" "netspec-suites" suites
  );
  # After the end marker: collie cannot reset, so the harness stops it at
  # once; the others reset and QEMU exits (-no-reboot), given time.
  grace = if a.runEnd == "harness-stops" then 1 else 30;
in
pkgs.runCommandCC "netspec-vm-${arch}"
  {
    nativeBuildInputs = [
      pkgs.qemu
      pkgs.gawk
    ];
  }
  ''
    cc -O2 -o gen_init_cpio ${built.src}/usr/gen_init_cpio.c
    printf '%s\n' ${toString suites} > netspec-suites
    ./gen_init_cpio -t 0 ${list} > initramfs.cpio

    ${a.qemu} ${
      pkgs.lib.escapeShellArgs (netspec.qemuArgs arch built.image "initramfs.cpio" "")
    } < /dev/null > console.log 2>&1 &
    qemu=$!
    deadline=$((SECONDS + ${toString timeout}))
    stop=
    while kill -0 $qemu 2>/dev/null; do
      if [ -z "$stop" ]; then
        if grep -q 'Kernel panic - not syncing' console.log; then
          stop=$((SECONDS + 3))
        elif tr -d '\r' < console.log | grep -Eq '(^|\] )${netspec.endMarker}[[:space:]]*$'; then
          stop=$((SECONDS + ${toString grace}))
        fi
      fi
      if [ $SECONDS -ge $deadline ]; then echo "timed out after ${toString timeout}s" >> console.log; kill $qemu; break; fi
      if [ -n "$stop" ] && [ $SECONDS -ge $stop ]; then kill $qemu; break; fi
      sleep 1
    done
    wait $qemu || true

    if ! awk -f ${./verdict.awk} console.log; then
      echo "--- last 40 console lines (${arch}) ---"
      tail -n 40 console.log
      exit 1
    fi
    mkdir -p $out
    cp console.log $out/${arch}-vm-test.log
  ''
