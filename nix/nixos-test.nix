# checks.x86_64-linux.nixos-query: a NixOS VM on nixpkgs' 6.12 kernel with
# nixosModules.default runs the query and udp suites (static nolibc programs):
# the ABI, and tokens streaming over loopback through the specialized path.
{
  pkgs,
  module,
  guest, # nix/kernel.nix's guest programs for x86_64
}:
let
  suites = [
    "query"
    "udp"
  ];
  programs = pkgs.runCommand "netspec-suites" { } ''
    mkdir -p $out/bin
    ${pkgs.lib.concatMapStrings (s: "ln -s ${guest}/bin/${s} $out/bin/netspec-${s}\n") suites}
  '';
in
pkgs.testers.runNixOSTest {
  name = "netspec-query";
  nodes.machine =
    { pkgs, ... }:
    {
      imports = [ module ];
      boot.kernelPackages = pkgs.linuxPackages_6_12;
      environment.systemPackages = [ programs ];
    };
  testScript = ''
    machine.wait_for_unit("multi-user.target")
    for suite in [${pkgs.lib.concatMapStringsSep ", " (s: "\"${s}\"") suites}]:
        out = machine.succeed(f"netspec-{suite}")
        print(out)
        assert "KTAP version 1" in out, f"the {suite} suite printed no KTAP"
        assert "not ok" not in out, f"a {suite} test failed"
  '';
}
