# The stand-in for nixpkgs that `cargo xtask nix-check` puts in place of the
# flake's nixpkgs input (--override-input nixpkgs), with nixpkgs' real lib
# copied in beside it as ./lib; see pkgs.nix for what it keeps of nixpkgs.
{
  description = "netspec nix-check: nixpkgs' real lib and a stand-in package set";

  outputs =
    _:
    let
      lib = import ./lib;
    in
    {
      inherit lib;
      legacyPackages = lib.genAttrs lib.systems.flakeExposed (
        system:
        import ./pkgs.nix {
          inherit lib;
          localSystem = system;
        }
      );
    };
}
