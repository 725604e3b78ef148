# checks.x86_64-linux.nixos-query: a NixOS VM on nixpkgs' 6.12 kernel with
# nixosModules.default runs the query suite (a static nolibc program).
{
  pkgs,
  module,
  guest, # nix/kernel.nix's guest programs for x86_64
}:
let
  query = pkgs.runCommand "netspec-query" { } ''
    mkdir -p $out/bin
    ln -s ${guest}/bin/query $out/bin/netspec-query
  '';
in
pkgs.testers.runNixOSTest {
  name = "netspec-query";
  nodes.machine =
    { pkgs, ... }:
    {
      imports = [ module ];
      boot.kernelPackages = pkgs.linuxPackages_6_12;
      environment.systemPackages = [ query ];
    };
  testScript = ''
    machine.wait_for_unit("multi-user.target")
    out = machine.succeed("netspec-query")
    print(out)
    assert "KTAP version 1" in out, "the query suite printed no KTAP"
    assert "not ok" not in out, "a query test failed"
  '';
}
