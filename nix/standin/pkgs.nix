# A stand-in for the part of nixpkgs' package set that flake.nix calls, for
# `cargo xtask nix-check` to evaluate the flake here, where nixpkgs itself
# (4.4 GB) cannot be brought.  `lib` is nixpkgs' real lib (the chroot's
# /opt/nixpkgs-lib, from tools/nix-chroot.sh); everything below is ours.
#
# What it copies of nixpkgs, so that the flake meets these checks here as it
# would there (and only these):
# - the platforms: lib.systems.elaborate of the local system and of each
#   pkgsCross example (lib.systems.examples), with buildPackages for cross
#   sets; the lib is the one nix-chroot.sh installs (26.11pre), not the
#   pinned 26.05's;
# - check-meta's platform check: a package whose meta.platforms/badPlatforms
#   exclude its host platform (lib.meta.availableOn) fails when its drvPath or
#   outPath is forced, as stdenv.mkDerivation's lib.extendDerivation does it;
# - the cross compiler's libc: glibc (meta.platforms = platforms.linux) for the
#   host platform, a dependency of stdenv.cc, as in nixpkgs' cross stdenv;
# - the argument lists of linuxManualConfig (as manual-config.nix had them
#   before nixpkgs PR 423933: no `pname` argument, no `modules` output, no
#   structured attrs), applyPatches, writeText, runCommand(CC), mkShell and
#   linuxPackagesFor (an extensible set); buildLinux's (generic.nix)
#   `kernelPatches`/`features`/`randstructSeed` overrides, with each patch's
#   extraStructuredConfig (kernel-typed values only) merged into the config;
# - testers.runNixOSTest: the test is a module with `name`, `nodes` and
#   `testScript` only (an unknown attribute fails), and each node is
#   evaluated with lib.evalModules on nixos.nix;
# - derivations: every attribute but passthru and meta goes to
#   builtins.derivation, so inputs are real dependencies (paths are copied to
#   the store, derivations become their output paths).
#
# What it does not keep: builders (nothing here can be built), versions and
# hashes of the packages (placeholders; which kernels 26.05 carries was not
# checked, and its default linuxPackages is likely newer than 6.12), the rest
# of check-meta (broken, unfree, insecure), and every package the flake does
# not name.  The README says so.
{
  lib,
  localSystem,
  crossSystem ? localSystem,
}:
let
  buildPlatform = lib.systems.elaborate localSystem;
  hostPlatform = lib.systems.elaborate crossSystem;
  isCross = buildPlatform.config != hostPlatform.config;

  self = pkgs;
  buildPackages =
    if isCross then
      import ./pkgs.nix {
        inherit lib localSystem;
      }
    else
      self;

  describe = xs: "[ ${lib.concatMapStringsSep " " (x: if lib.isString x then "\"${x}\"" else "{ ... }") xs} ]";

  # stdenv.mkDerivation as far as evaluation goes: the attrs (or a finalAttrs
  # function) become a derivation built on buildPlatform, checked as
  # check-meta checks it for hostPlatform.
  mkDerivationFor =
    platform: attrs0:
    let
      attrs = if lib.isFunction attrs0 then lib.fix attrs0 else attrs0;
      name = attrs.name or "${attrs.pname}-${attrs.version}";
      meta = attrs.meta or { };
      passthru = attrs.passthru or { };
      available = lib.meta.availableOn platform { inherit meta; };
      why =
        "Package ‘${name}’ is not available on the requested hostPlatform:\n"
        + "  hostPlatform.config = \"${platform.config}\"\n"
        + "  package.meta.platforms = ${describe (meta.platforms or [ ])}\n"
        + "  package.meta.badPlatforms = ${describe (meta.badPlatforms or [ ])}";
      drv = derivation (
        removeAttrs attrs [
          "passthru"
          "meta"
        ]
        // {
          inherit name;
          system = buildPlatform.system;
          builder = "/bin/sh";
          args = [
            "-c"
            "echo 'netspec nix-check stand-in: not buildable' >&2; exit 1"
          ];
        }
      );
    in
    lib.extendDerivation (available || throw why) (
      passthru
      // {
        inherit meta;
        overrideAttrs = f: mkDerivationFor platform (attrs // (lib.toExtension f) attrs attrs);
      }
    ) drv;

  mkDerivation = mkDerivationFor hostPlatform;

  # A package the flake only names: a derivation with nixpkgs' meta.platforms.
  tool =
    pname: platforms:
    mkDerivation {
      inherit pname;
      version = "standin";
      meta.platforms = platforms;
    };

  glibc = mkDerivation {
    pname = "glibc";
    version = "standin";
    meta.platforms = lib.platforms.linux;
  };

  # The compiler runs on the build platform and targets this set's host.
  targetPrefix = lib.optionalString isCross "${hostPlatform.config}-";
  bintools = buildPackages.stdenv.mkDerivation {
    pname = "${targetPrefix}binutils-wrapper";
    version = "standin";
    libc = glibc;
    passthru = {
      inherit targetPrefix;
      libc = glibc;
    };
  };
  cc = buildPackages.stdenv.mkDerivation {
    pname = "${targetPrefix}gcc-wrapper";
    version = "standin";
    libc = glibc;
    inherit bintools;
    passthru = {
      inherit targetPrefix bintools;
      libc = glibc;
      isGNU = true;
    };
  };

  stdenv = {
    inherit
      mkDerivation
      buildPlatform
      hostPlatform
      cc
      ;
    targetPlatform = hostPlatform;
    isLinux = hostPlatform.isLinux;
  };

  runCommandWith =
    drvStdenv: name: env: buildCommand:
    drvStdenv.mkDerivation (
      {
        inherit name buildCommand;
        passAsFile = [ "buildCommand" ];
      }
      // env
    );

  # manual-config.nix's argument list, its meta and the attributes that
  # depend on the arguments (outputs, passthru, patches, buildFlags).
  linuxManualConfig = lib.makeOverridable (
    {
      version,
      pos ? null,
      extraMakeFlags ? [ ],
      modDirVersion ? lib.versions.pad 3 version,
      src,
      kernelPatches ? [ ],
      configfile,
      config ? { },
      randstructSeed ? "",
      extraMeta ? { },
      isZen ? false,
      isLibre ? false,
      isHardened ? false,
      allowImportFromDerivation ? false,
      features ? null,
      lib ? self.lib,
      stdenv ? self.stdenv,
    }:
    let
      isModular = (config.CONFIG_MODULES or null) == "y";
      # 26.05's lib gives every platform a linux-kernel; the 26.11pre lib
      # here gives none, and nix/kernel.nix relies on neither.
      kernelConf = stdenv.hostPlatform.linux-kernel or { target = "vmlinux"; };
    in
    stdenv.mkDerivation (
      lib.optionalAttrs isModular {
        outputs = [
          "out"
          "dev"
        ];
      }
      // {
        pname = "linux";
        inherit version src configfile;
        patches = map (p: p.patch) kernelPatches;
        depsBuildBuild = [ buildPackages.stdenv.cc ];
        nativeBuildInputs = with buildPackages; [
          perl
          bc
          bison
          flex
          rsync
        ];
        makeFlags = [
          "CC=${stdenv.cc}/bin/${stdenv.cc.targetPrefix}cc"
          "ARCH=${stdenv.hostPlatform.linuxArch}"
        ]
        ++ extraMakeFlags;
        buildFlags = [
          "KBUILD_BUILD_VERSION=1-NixOS"
          (kernelConf.target or "vmlinux")
          "vmlinux"
        ]
        ++ lib.optional isModular "modules";
        installTargets = [ "install" ];
        passthru = {
          inherit
            version
            modDirVersion
            config
            kernelPatches
            configfile
            isZen
            isLibre
            isHardened
            ;
        };
        meta = {
          description = "The Linux kernel";
          platforms = lib.platforms.linux;
          badPlatforms = lib.optional (lib.versionOlder version "5.19") "loongarch64-linux";
        }
        // extraMeta;
      }
    )
  );

  # buildLinux (generic.nix), reduced to what NixOS overrides: the patches'
  # extraStructuredConfig reaches the config derivation.
  buildLinux = lib.makeOverridable (
    {
      version,
      src,
      kernelPatches ? [ ],
      features ? { },
      randstructSeed ? "",
      modDirVersion ? lib.versions.pad 3 version,
      ...
    }:
    let
      structured = lib.concatMap (
        p:
        lib.mapAttrsToList (
          k: v:
          "${k} ${
            v.tristate or (throw "kernel patch ${p.name}: extraStructuredConfig.${k} is not a lib.kernel value")
          }"
        ) (p.extraStructuredConfig or { })
      ) kernelPatches;
      configfile = stdenv.mkDerivation {
        pname = "linux-config";
        inherit version src;
        kernelConfig = lib.concatMapStrings (l: l + "\n") structured;
        passAsFile = [ "kernelConfig" ];
        patches = map (p: p.patch) kernelPatches;
      };
      kernel = linuxManualConfig {
        inherit
          version
          src
          modDirVersion
          kernelPatches
          randstructSeed
          configfile
          ;
        config = {
          CONFIG_MODULES = "y";
        };
      };
    in
    kernel.overrideAttrs (old: {
      passthru = old.passthru // {
        inherit features;
        structuredConfig = structured;
      };
    })
  );

  kernelSrc =
    version:
    derivation {
      name = "linux-${version}.tar.xz";
      system = buildPlatform.system;
      builder = "/bin/sh";
      args = [
        "-c"
        "exit 1"
      ];
      outputHashMode = "flat";
      outputHashAlgo = "sha256";
      outputHash = lib.fakeHash;
    };

  kernelFor =
    version:
    buildLinux {
      inherit version;
      src = kernelSrc version;
      kernelPatches = [
        {
          name = "bridge-stp-helper";
          patch = builtins.toFile "bridge-stp-helper.patch" "";
        }
      ];
    };

  linuxPackagesFor = kernel: lib.makeExtensible (_: { inherit kernel; });

  nixos = import ./nixos.nix;
  evalNixOS =
    module:
    lib.evalModules {
      modules = [
        nixos
        module
        { _module.args.pkgs = self; }
      ];
    };

  pkgs = {
    inherit
      lib
      stdenv
      buildPackages
      buildPlatform
      hostPlatform
      linuxManualConfig
      buildLinux
      linuxPackagesFor
      glibc
      evalNixOS
      ;
    targetPlatform = hostPlatform;

    # lib.systems.examples as pkgsCross, each with this set's build platform.
    pkgsCross = lib.mapAttrs (
      _: crossSystem:
      import ./pkgs.nix {
        inherit lib localSystem crossSystem;
      }
    ) lib.systems.examples;

    writeText =
      name: text:
      runCommandWith stdenv name {
        inherit text;
        passAsFile = [ "text" ];
      } "cp \"$textPath\" \"$out\"";
    runCommand = runCommandWith stdenv;
    runCommandCC = runCommandWith stdenv;
    applyPatches =
      {
        src,
        name ? src.name or (baseNameOf src),
        patches ? [ ],
        prePatch ? "",
        postPatch ? "",
        ...
      }:
      stdenv.mkDerivation {
        inherit
          name
          src
          patches
          prePatch
          postPatch
          ;
        installPhase = "cp -R ./ $out";
      };
    mkShell =
      {
        name ? "nix-shell",
        packages ? [ ],
        inputsFrom ? [ ],
        ...
      }@args:
      stdenv.mkDerivation (
        removeAttrs args [
          "packages"
          "inputsFrom"
        ]
        // {
          inherit name;
          nativeBuildInputs = (args.nativeBuildInputs or [ ]) ++ packages;
        }
      );

    linux_6_12 = kernelFor "6.12.117";
    linux_6_6 = kernelFor "6.6.119";
    linuxPackages_6_12 = linuxPackagesFor self.linux_6_12;
    linuxPackages_6_6 = linuxPackagesFor self.linux_6_6;
    linuxPackages = self.linuxPackages_6_12;

    testers.runNixOSTest =
      test:
      let
        t =
          (lib.evalModules {
            modules = [
              {
                options = {
                  name = lib.mkOption { type = lib.types.str; };
                  nodes = lib.mkOption { type = lib.types.attrsOf lib.types.deferredModule; };
                  testScript = lib.mkOption { type = lib.types.either lib.types.str (lib.types.functionTo lib.types.str); };
                };
              }
              test
            ];
          }).config;
        nodes = lib.mapAttrs (_: evalNixOS) t.nodes;
      in
      runCommandWith stdenv "vm-test-run-${t.name}" {
        testScript = if lib.isFunction t.testScript then t.testScript { inherit nodes; } else t.testScript;
        nodes = lib.mapAttrsToList (_: n: n.config.system.build.toplevel) nodes;
        passthru = { inherit nodes; };
      } "exit 1";

    rustPlatform.bindgenHook = tool "bindgen-hook" lib.platforms.all;
  }
  // lib.genAttrs [
    "bc"
    "bison"
    "cargo"
    "clippy"
    "cpio"
    "elfutils"
    "flex"
    "gawk"
    "git"
    "gnumake"
    "nixfmt"
    "openssl"
    "perl"
    "python3"
    "qemu"
    "rsync"
    "rustc"
    "rustfmt"
  ] (name: tool name lib.platforms.unix);
in
pkgs
