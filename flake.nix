{
  description = "netspec: per-socket specialization of the Linux TCP/IP send path; cross kernels, VM tests, a NixOS module";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";

  outputs =
    { self, nixpkgs }:
    let
      inherit (nixpkgs) lib;
      # Everything builtins can say (series, fragments, per-arch facts),
      # checked against the Rust tool by `cargo xtask nix-check`.
      netspec = import ./nix/lib.nix { root = ./.; };
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forSystems = f: lib.genAttrs systems (system: f system nixpkgs.legacyPackages.${system});
      crossFor = system: import ./nix/cross.nix { inherit nixpkgs system netspec; };
      built =
        system: arch:
        import ./nix/kernel.nix {
          inherit netspec arch;
          pkgs = nixpkgs.legacyPackages.${system};
          crossPkgs = crossFor system arch;
        };
      perArch = f: lib.listToAttrs (map f netspec.archNames);
    in
    {
      packages = forSystems (
        system: _:
        perArch (arch: {
          name = "kernel-${arch}";
          value = (built system arch).kernel;
        })
      );

      checks = forSystems (
        system: pkgs:
        perArch (arch: {
          name = "vm-${arch}";
          value = import ./nix/vm-check.nix {
            inherit netspec pkgs arch;
            built = built system arch;
          };
        })
        // lib.optionalAttrs (system == "x86_64-linux") {
          nixos-query = import ./nix/nixos-test.nix {
            inherit pkgs;
            module = self.nixosModules.default;
            inherit (built system "x86_64") guest;
          };
        }
      );

      nixosModules.default = import ./nix/module.nix netspec;

      overlays.default = import ./nix/overlay.nix netspec;

      devShells = forSystems (
        system: pkgs: {
          default = import ./nix/devshell.nix {
            inherit pkgs netspec;
            crossFor = crossFor system;
          };
        }
      );

      formatter = forSystems (_: pkgs: pkgs.nixfmt);
    };
}
