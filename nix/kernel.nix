# One netspec kernel, configured the way `cargo xtask kernel` configures it
# (tools/xtask/src/kernel.rs): the arch's defconfig, the kernel-configs/
# fragments merged with the kernel's merge_config.sh, olddefconfig, and a
# failure naming every fragment option that did not survive; then built with
# linuxManualConfig.  Also the UAPI headers and the guest programs built
# against them, for the VM checks.
{
  netspec,
  pkgs, # nixpkgs of the build system: the kernel source
  crossPkgs, # nixpkgs whose host platform is the arch (nix/cross.nix)
  arch,
  profile ? "test",
}:
let
  inherit (crossPkgs) lib stdenv buildPackages;
  a = netspec.archs.${arch};
  base = "6.12";
  linux = pkgs.linux_6_12;
  kernelPatches = netspec.patchesFor base;

  # As store paths: "${path}" copies the file and gives the string its context,
  # so the config derivation depends on each fragment; a path passed to
  # escapeShellArgs as is would become its bare source path, with no context.
  fragments = map (f: "${f}") (
    map netspec.fragmentPath (netspec.fragmentsFor arch profile)
    ++ map netspec.nixFragmentPath netspec.nixFragments
  );

  # What the .config must hold, read from the fragments by nix/lib.nix.
  config = netspec.kernelConfig arch profile;
  expected = pkgs.writeText "netspec-${arch}-${profile}-expected" (
    lib.concatStrings (lib.mapAttrsToList (k: v: "${k}\t${v}\n") config)
  );

  # The patched source, for the config, the headers and nolibc.
  src = pkgs.applyPatches {
    name = "linux-${linux.version}-netspec-source";
    inherit (linux) src;
    patches = map (p: p.patch) kernelPatches;
    postPatch = "patchShebangs scripts";
  };

  makeFlags = [
    "ARCH=${a.linuxArch}"
    "CROSS_COMPILE=${stdenv.cc.targetPrefix}"
  ];

  configfile = stdenv.mkDerivation {
    pname = "linux-config-netspec-${arch}-${profile}";
    inherit (linux) version;
    inherit src makeFlags;
    depsBuildBuild = [ buildPackages.stdenv.cc ];
    nativeBuildInputs = with buildPackages; [
      bison
      flex
      perl
      bc
    ];
    dontConfigure = true;
    buildPhase = ''
      runHook preBuild
      make $makeFlags O=build ${a.defconfig}
      env $makeFlags scripts/kconfig/merge_config.sh -m -O build build/.config ${lib.escapeShellArgs fragments}
      make $makeFlags O=build olddefconfig

      # Every option the fragments set must have survived (kconfig::unsatisfied).
      declare -A got
      while IFS= read -r line; do
        case "$line" in
          CONFIG_*=*) v=''${line#*=}; v=''${v#\"}; got[''${line%%=*}]=''${v%\"} ;;
        esac
      done < build/.config
      lost=0
      while IFS=$'\t' read -r k want; do
        have=''${got[$k]-n}
        if [ "$have" != "$want" ]; then
          echo "$k: the fragments want $want, olddefconfig left ''${got[$k]-it not set}" >&2
          lost=$((lost + 1))
        fi
      done < ${expected}
      if [ "$lost" -ne 0 ]; then
        echo "$lost fragment option(s) did not survive olddefconfig (a missing dependency?)" >&2
        exit 1
      fi
      runHook postBuild
    '';
    installPhase = "cp build/.config $out";
  };

  # The image arch.rs builds, and the install target whose installkernel
  # hook copies it to $out (arch/*/Makefile: `zinstall` installs zImage,
  # `install` installs bzImage on x86 and Image on arm64 and riscv).
  # nixpkgs took both from `stdenv.hostPlatform.linux-kernel`, which
  # lib.systems.elaborate rejects since 26.11 (whose kernels reportedly carry
  # `passthru.target` instead); whatever nixpkgs says, this builds arch.rs's.
  target = a.imageTarget;
  installTarget = if target == "zImage" then "zinstall" else "install";
  # What nixpkgs would build instead (its passthru.target, or before 26.11
  # the platform's), dropped from the make goals.
  nixpkgsTarget = kernel0.passthru.target or stdenv.hostPlatform.linux-kernel.target or null;

  kernel0 =
    assert lib.assertMsg (stdenv.hostPlatform.linuxArch == a.linuxArch)
      "netspec ${arch}: nixpkgs' linuxArch is ${stdenv.hostPlatform.linuxArch}, arch.rs says ${a.linuxArch}";
    crossPkgs.linuxManualConfig {
      inherit (linux) src version modDirVersion;
      inherit kernelPatches configfile;
      # Given, not read from configfile (that would be import-from-derivation);
      # CONFIG_MODULES = "y" in it gives the kernel its `dev` output.
      inherit config;
    };

  kernel = kernel0.overrideAttrs (old: {
    buildFlags = [ target ] ++ lib.remove nixpkgsTarget (old.buildFlags or [ ]);
    installTargets = [ installTarget ];
    passthru = (old.passthru or { }) // {
      inherit target;
    };
  });

  headers = buildPackages.runCommandCC "linux-headers-netspec-${arch}" {
    nativeBuildInputs = [ buildPackages.rsync ];
  } "make -C ${src} O=$PWD/build ARCH=${a.linuxArch} INSTALL_HDR_PATH=$out headers_install";

  # init and every suite: static nolibc programs (tools/xtask/src/guest.rs).
  guest = stdenv.mkDerivation {
    name = "netspec-guest-${arch}";
    src = netspec.root + "/vm-tests";
    hardeningDisable = [ "all" ];
    dontConfigure = true;
    dontFixup = true;
    flags = netspec.guestFlags arch ++ [
      "-Wall"
      "-Werror"
      "-include"
      "${src}/tools/include/nolibc/nolibc.h"
      "-include"
      "include/nolibc_compat.h"
      "-I"
      "include"
      "-I"
      "${netspec.root + "/tools/include"}"
      "-I"
      "${headers}/include"
    ];
    buildPhase = ''
      runHook preBuild
      mkdir -p $out/bin
      ${stdenv.cc.targetPrefix}cc $flags -o $out/bin/init init.c
      for s in ${toString netspec.suites}; do
        ${stdenv.cc.targetPrefix}cc $flags -o $out/bin/$s suites/$s.c
      done
      runHook postBuild
    '';
    dontInstall = true;
  };
in
{
  inherit
    configfile
    kernel
    headers
    guest
    src
    ;
  image = "${kernel}/${baseNameOf a.imagePath}";
}
