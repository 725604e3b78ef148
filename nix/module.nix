# nixosModules.default: adds the netspec series of the running kernel's base
# to boot.kernelPatches (with NET_SPECIALIZE=y), for Linux 6.12.x, 6.1.x and 7.3.x.
netspec:
{ config, lib, ... }:
let
  inherit (config.boot.kernelPackages.kernel) version;
  base = netspec.baseOf version;
in
{
  config = {
    assertions = [
      {
        assertion = base != null;
        message = "netspec: the series is for Linux ${lib.concatMapStringsSep ", " (b: "${b}.x") netspec.bases}, but boot.kernelPackages has Linux ${version}; use e.g. pkgs.linuxPackages_6_12.";
      }
    ];
    # Only the version is read here, never the patched kernel, so this does
    # not recurse (generic.nix: versionDoesNotDependOnPatchesEtcNixOS).
    boot.kernelPatches = lib.optionals (base != null) (
      import ./kernel-patches.nix { inherit lib netspec; } base
    );
  };
}
