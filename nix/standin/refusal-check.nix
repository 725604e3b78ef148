# The crossSystem nix/lib.nix gave armv4 before issue 17,
# arm-unknown-linux-gnueabi, which elaborates to `arm-linux`: nix/kernel.nix
# on it must be refused by the stand-in's platform check, as nixpkgs refused
# it.  `cargo xtask nix-check` expects this evaluation to fail, so the check
# that the flake's own platforms pass is one that can fail.
{ root }:
let
  lib = import ./lib;
  pkgs = import ./pkgs.nix {
    inherit lib;
    localSystem = "x86_64-linux";
  };
  crossPkgs = import ./pkgs.nix {
    inherit lib;
    localSystem = "x86_64-linux";
    crossSystem.config = "arm-unknown-linux-gnueabi";
  };
  netspec = import (root + "/nix/lib.nix") { inherit root; };
in
(import (root + "/nix/kernel.nix") {
  inherit netspec pkgs crossPkgs;
  arch = "armv4";
}).kernel.drvPath
