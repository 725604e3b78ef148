# overlays.default: the series as kernelPatches entries, and a 6.12 kernel
# (nixpkgs' own config plus NET_SPECIALIZE) with its package set.
netspec: final: prev: {
  netspecPatches = prev.lib.genAttrs netspec.bases (
    import ./kernel-patches.nix {
      inherit (prev) lib;
      inherit netspec;
    }
  );
  linux_netspec = prev.linux_6_12.override (old: {
    kernelPatches = (old.kernelPatches or [ ]) ++ final.netspecPatches."6.12";
  });
  linuxPackages_netspec = final.linuxPackagesFor final.linux_netspec;
}
