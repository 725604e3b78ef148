# nixosModules.default on the stand-in NixOS options (nixos.nix), for
# `cargo xtask nix-check`: what it adds on Linux 6.12, and its refusal of a
# kernel the series is not for.
#   nix eval --impure --json FLAKE#nixosModules.default \
#     --apply 'm: import .../module-check.nix { module = m; }'
{
  module,
  system ? "x86_64-linux",
}:
let
  lib = import ./lib;
  pkgs = import ./pkgs.nix {
    inherit lib;
    localSystem = system;
  };
  eval =
    kernelPackages:
    pkgs.evalNixOS {
      imports = [ module ];
      boot.kernelPackages = kernelPackages;
    };
  failed = e: map (a: a.message) (lib.filter (a: !a.assertion) e.config.assertions);
  on612 = eval pkgs.linuxPackages_6_12;
  on66 = eval pkgs.linuxPackages_6_6;
  kernel = on612.config.boot.kernelPackages.kernel;
in
{
  version = kernel.version;
  bootPatches = map (p: p.name) on612.config.boot.kernelPatches;
  kernelPatches = map (p: p.name) kernel.kernelPatches;
  structuredConfig = kernel.structuredConfig;
  kernel = kernel.drvPath;
  toplevel = on612.config.system.build.toplevel.drvPath;
  failed = failed on612;
  refusedVersion = on66.config.boot.kernelPackages.kernel.version;
  refused = failed on66;
}
