# What nixpkgs' `lib` makes of each arch's platform, for `cargo xtask nix-check`
# to run when a Nix >= 2.18 and the real lib are at hand (tools/nix-chroot.sh):
# lib.systems.elaborate of the arch's pkgsCross example must give a system in
# lib.platforms.linux (linuxManualConfig's and glibc's meta.platforms) and
# arch.rs's linuxArch.  Needs no nixpkgs beyond lib, no store, no network:
#   nix-instantiate --eval --strict --json --store dummy:// \
#     -I netspec-lib=LIB --arg lib 'import <netspec-lib>' nix/platform-check.nix
{ lib }:
let
  netspec = import ./lib.nix { root = ../.; };
  inherit (lib.systems) examples elaborate;

  platform =
    arch:
    let
      a = netspec.archs.${arch};
      example = a.nixpkgs.example or null;
      p = elaborate examples.${example};
    in
    if example == null then
      {
        inherit example;
        problems = [ "${arch}: nix/lib.nix gives no nixpkgs.example, which nix/cross.nix needs" ];
      }
    else if !(examples ? ${example}) then
      {
        inherit example;
        problems = [ "${arch}: lib.systems.examples has no ${example}" ];
      }
    else
      {
        inherit example;
        inherit (p) system linuxArch;
        problems =
          lib.optional (!lib.elem p.system lib.platforms.linux)
            "${arch}: ${example} elaborates to ${p.system}, which is not in lib.platforms.linux"
          ++ lib.optional (p.linuxArch != a.linuxArch)
            "${arch}: ${example} has linuxArch ${p.linuxArch}, arch.rs says ${a.linuxArch}";
      };

  archs = lib.genAttrs netspec.archNames platform;
in
{
  libVersion = lib.version;
  archs = lib.mapAttrs (_: p: removeAttrs p [ "problems" ]) archs;
  problems = lib.concatMap (p: p.problems) (lib.attrValues archs);
}
