# nixpkgs for building an arch's kernel and guest programs: pkgsCross.<example>
# where lib/systems/examples.nix has one that fits, else a crossSystem
# (armv4: no example has an ARMv4 StrongARM with the collie board).
{
  nixpkgs,
  system,
  netspec,
}:
arch:
let
  n = netspec.archs.${arch}.nixpkgs;
in
if n ? example then
  nixpkgs.legacyPackages.${system}.pkgsCross.${n.example}
else
  import nixpkgs {
    localSystem = system;
    inherit (n) crossSystem;
  }
