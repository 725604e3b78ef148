# nixpkgs for building an arch's kernel and guest programs:
# pkgsCross.<example>, the lib/systems/examples.nix entry nix/lib.nix names
# (armv4: armv5tel-multiplatform, see there why).
{
  nixpkgs,
  system,
  netspec,
}:
arch: nixpkgs.legacyPackages.${system}.pkgsCross.${netspec.archs.${arch}.nixpkgs.example}
