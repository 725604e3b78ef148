# A stand-in for the NixOS options nixosModules.default and the nixos-query
# test touch, for `cargo xtask nix-check`: evaluated with nixpkgs' real
# lib.evalModules.  The declarations follow nixpkgs'
# nixos/modules/system/boot/kernel.nix (boot.kernelPackages, whose `apply`
# overrides the kernel with `kernelPatches` appended, boot.kernelPatches,
# boot.kernel.features and randstructSeed), nixos/modules/misc/assertions.nix
# and system.build.toplevel's refusal of a failed assertion
# (nixos/modules/system/activation/top-level.nix).  Written here after
# reading them; not nixpkgs' code.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  inherit (lib) mkOption types;
  inherit (config.boot) kernelPatches;
  inherit (config.boot.kernel) features randstructSeed;
  failed = map (a: a.message) (lib.filter (a: !a.assertion) config.assertions);
in
{
  options = {
    boot.kernel.features = mkOption { default = { }; };
    boot.kernel.randstructSeed = mkOption {
      type = types.str;
      default = "";
    };
    boot.kernelPackages = mkOption {
      default = pkgs.linuxPackages;
      type = types.raw;
      apply =
        kernelPackages:
        kernelPackages.extend (
          self: super: {
            kernel = super.kernel.override (originalArgs: {
              inherit randstructSeed;
              kernelPatches = (originalArgs.kernelPatches or [ ]) ++ kernelPatches;
              features = lib.recursiveUpdate super.kernel.features features;
            });
          }
        );
    };
    boot.kernelPatches = mkOption {
      type = types.listOf types.attrs;
      default = [ ];
    };
    assertions = mkOption {
      type = types.listOf types.unspecified;
      internal = true;
      default = [ ];
    };
    environment.systemPackages = mkOption {
      type = types.listOf types.package;
      default = [ ];
    };
    system.build = mkOption {
      type = types.lazyAttrsOf types.unspecified;
      default = { };
    };
  };

  config.system.build = {
    inherit (config.boot.kernelPackages) kernel;
    toplevel =
      if failed != [ ] then
        throw "\nFailed assertions:\n${lib.concatMapStrings (m: "- ${m}\n") failed}"
      else
        pkgs.runCommand "nixos-system-standin" {
          kernel = config.boot.kernelPackages.kernel;
          packages = config.environment.systemPackages;
        } "exit 1";
  };
}
