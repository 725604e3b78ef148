# The series of one base as boot.kernelPatches / kernelPatches entries.
# The first patch adds CONFIG_NET_SPECIALIZE, so its entry turns it on
# (generic.nix merges every patch's extraStructuredConfig into the config).
{ lib, netspec }:
base:
lib.imap0 (
  i: p:
  p
  // lib.optionalAttrs (i == 0) {
    extraStructuredConfig.NET_SPECIALIZE = lib.kernel.yes;
  }
) (netspec.patchesFor base)
