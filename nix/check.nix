# What nix/lib.nix computes, as JSON, for `cargo xtask nix-check` to compare
# with what the Rust tool reads from the same files.  Builtins only:
#   nix-instantiate --eval --strict --json nix/check.nix
let
  netspec = import ./lib.nix { root = ../.; };
  inherit (netspec) archNames bases profiles;
  forAll = names: f: builtins.listToAttrs (map (name: { inherit name; value = f name; }) names);
in
{
  series = forAll bases netspec.readSeries;
  patches = forAll bases (
    base:
    map (p: {
      inherit (p) name;
      file = baseNameOf p.patch;
      exists = builtins.pathExists p.patch;
    }) (netspec.patchesFor base)
  );
  fragments = forAll netspec.fragmentNames (f: netspec.parseFragment (netspec.fragmentPath f));
  fragmentOrder = forAll archNames (arch: forAll profiles (netspec.fragmentsFor arch));
  kernelConfig = forAll archNames (arch: forAll profiles (netspec.kernelConfig arch));
  archs = forAll archNames (arch: removeAttrs netspec.archs.${arch} [ "nixpkgs" ]);
  guestFlags = forAll archNames netspec.guestFlags;
  qemuArgs = forAll archNames (arch: netspec.qemuArgs arch "KERNEL" "INITRD" "");
  suites = netspec.suites;
  endMarker = netspec.endMarker;
}
