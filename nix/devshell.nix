# devShells.default: what `cargo xtask` needs, from nixpkgs.  The cross
# compilers are also linked under the prefixes arch.rs names (Debian's), so
# `cargo xtask kernel --arch A` finds them.
{
  pkgs,
  netspec,
  crossFor,
}:
let
  inherit (pkgs) lib;
  crossArchs = lib.filter (arch: netspec.archs.${arch}.crossCompile != "") netspec.archNames;
  debianNames = pkgs.runCommand "netspec-cross-names" { } (
    "mkdir -p $out/bin\n"
    + lib.concatMapStrings (
      arch:
      let
        cc = (crossFor arch).stdenv.cc;
        want = netspec.archs.${arch}.crossCompile;
      in
      ''
        for t in ${cc}/bin/${cc.targetPrefix}* ${cc.bintools}/bin/${cc.targetPrefix}*; do
          ln -sf "$t" "$out/bin/${want}''${t##*/${cc.targetPrefix}}"
        done
      ''
    ) crossArchs
  );
in
pkgs.mkShell {
  packages = with pkgs; [
    cargo
    rustc
    clippy
    rustfmt
    rustPlatform.bindgenHook
    qemu
    gnumake
    bc
    bison
    flex
    perl
    python3
    openssl
    elfutils
    cpio
    rsync
    git
    debianNames
  ];
}
