# What Nix can know about netspec with builtins alone (no nixpkgs): the
# series, the config fragments, the per-arch facts and the VM-test harness.
#
# It mirrors tools/xtask/src/arch.rs, kernel.rs and guest.rs, and
# `cargo xtask nix-check` compares what this file computes (through
# nix/check.nix) with what the Rust tool reads from the same files.
{ root }:
let
  inherit (builtins)
    attrNames
    concatLists
    concatMap
    concatStringsSep
    elem
    filter
    foldl'
    head
    isList
    isString
    listToAttrs
    map
    match
    readDir
    readFile
    sort
    split
    ;

  lines = text: filter isString (split "\n" text);

  trim =
    s:
    let
      m = match "[[:space:]]*(.*[^[:space:]])[[:space:]]*" s;
    in
    if m == null then "" else head m;

  words = s: filter (w: isString w && w != "") (split "[[:space:]]+" s);

  hasSuffix =
    suffix: s:
    let
      ls = builtins.stringLength s;
      lx = builtins.stringLength suffix;
    in
    ls >= lx && builtins.substring (ls - lx) lx s == suffix;

  removeSuffix =
    suffix: s:
    if hasSuffix suffix s then
      builtins.substring 0 (builtins.stringLength s - builtins.stringLength suffix) s
    else
      s;

  # Keeps the first of each name, as tools/series does.
  unique = foldl' (acc: x: if elem x acc then acc else acc ++ [ x ]) [ ];

  # `"..."` with `\"` and `\\` escapes, read as Kconfig (and tools/kconfig) reads it.
  unquote =
    raw:
    let
      m = match ''"(([^"\\]|\\.)*)"'' raw;
    in
    if m == null then
      null
    else
      concatStringsSep "" (map (p: if isList p then head p else p) (split ''\\(.)'' (head m)));

  # One trimmed fragment line: [ name value ] or null (comment, blank, malformed).
  fragmentLine =
    line:
    let
      notSet = match "# CONFIG_([A-Za-z0-9_]+) is not set" line;
      set = match "CONFIG_([A-Za-z0-9_]+)=([^[:space:]].*)" line;
      raw = builtins.elemAt set 1;
      quoted = builtins.substring 0 1 raw == ''"'';
      value = if quoted then unquote raw else raw;
    in
    if notSet != null then
      [
        (head notSet)
        "n"
      ]
    else if set == null || (quoted && value == null) then
      null
    else
      [
        (head set)
        value
      ];

  # The base the flake builds (nix/kernel.nix); base-specific fragments follow it.
  flakeBase = "6.12";

  nolibcFlags = [
    "-nostdlib"
    "-static"
    "-ffreestanding"
    "-fno-stack-protector"
    "-fno-asynchronous-unwind-tables"
    "-Os"
  ];
in
rec {
  inherit root;

  # The bases with a series, in the order of tools/xtask/src/base.rs: the
  # default (Debian 13's 6.12) first, then 6.1 (Debian 12) and 7.3 (the
  # newest stable, trixie-backports).
  bases = [
    "6.12"
    "6.1"
    "7.3"
  ];

  # The kernel version a base is for: "6.12.30" -> "6.12", or null if unsupported.
  baseOf =
    version:
    let
      m = match "([0-9]+\\.[0-9]+)([.-].*)?" version;
    in
    if m != null && elem (head m) bases then head m else null;

  # Patch file names of patches/<base>/series, in order.
  readSeries =
    base:
    unique (
      concatMap (
        line:
        let
          l = trim line;
        in
        if l == "" || builtins.substring 0 1 l == "#" then [ ] else [ (head (words l)) ]
      ) (lines (readFile (root + "/patches/${base}/series")))
    );

  # The series as boot.kernelPatches / linuxManualConfig's kernelPatches want it.
  patchesFor =
    base:
    map (file: {
      name = removeSuffix ".patch" file;
      patch = root + "/patches/${base}/${file}";
    }) (readSeries base);

  # A config fragment as { OPTION = "value"; }: "y", "m", "n" (also for
  # `# CONFIG_X is not set`), strings unquoted, anything else as written.
  # A repeated option takes its last value, as in Kconfig.
  parseFragmentText =
    text:
    listToAttrs (
      map
        (nv: {
          name = head nv;
          value = builtins.elemAt nv 1;
        })
        (filter (x: x != null) (map (l: fragmentLine (trim l)) (lines text)))
    );
  parseFragment = file: parseFragmentText (readFile file);

  fragmentPath = name: root + "/kernel-configs/${name}";

  # Every fragment under kernel-configs/, by file name.
  fragmentNames = sort builtins.lessThan (
    filter (n: hasSuffix ".config" n) (attrNames (readDir (root + "/kernel-configs")))
  );

  # The fragments merged onto the arch's defconfig, in merge order
  # (tools/xtask/src/kernel.rs, `fragments`).
  fragmentsFor =
    arch: profile:
    let
      a = archs.${arch};
    in
    [ a.fragment ]
    ++ (a.baseFragments.${flakeBase} or [ ])
    ++ [ "common.config" ]
    ++ (
      if profile == "test" then
        [ "debug.config" ]
        ++ (if a.kasan then [ "kasan.config" ] else [ ])
        ++ (if a.signedModules or false then [ "signed-modules.config" ] else [ ])
      else if profile == "bench" then
        [ "bench.config" ]
      else
        throw "unknown profile ${profile}; expected test or bench"
    );

  profiles = [
    "test"
    "bench"
  ];

  # Merged on top of the shared fragments by the Nix kernels only: MODULES=y,
  # so that linuxManualConfig gives the kernel its `dev` output (out-of-tree modules).
  nixFragments = [ "modules.config" ];
  nixFragmentPath = name: root + "/nix/${name}";

  # Every option the merged fragments set, later fragments winning.
  fragmentSettings =
    arch: profile:
    foldl' (acc: f: acc // parseFragment (fragmentPath f)) { } (fragmentsFor arch profile)
    // foldl' (acc: f: acc // parseFragment (nixFragmentPath f)) { } nixFragments;

  # linuxManualConfig's `config`: what the .config will hold, as `CONFIG_X = "y"`.
  # The configfile derivation fails unless every one of these survived olddefconfig.
  kernelConfig =
    arch: profile:
    listToAttrs (
      map (n: {
        name = "CONFIG_${n}";
        value = (fragmentSettings arch profile).${n};
      }) (attrNames (fragmentSettings arch profile))
    );

  # The per-arch facts of tools/xtask/src/arch.rs (same names, in camelCase),
  # plus `nixpkgs.example`: the lib/systems/examples.nix entry whose
  # pkgsCross.<example> builds the arch's kernel and guest programs.
  archs = {
    armv4 = {
      description = "StrongARM SA-1110 (ARMv4), QEMU -M collie";
      linuxArch = "arm";
      crossCompile = "arm-linux-gnueabi-";
      defconfig = "collie_defconfig";
      fragment = "armv4.config";
      kasan = true;
      signedModules = true;
      imageTarget = "zImage";
      imagePath = "arch/arm/boot/zImage";
      guestCc = "arm-linux-gnueabi-gcc";
      guestCflags = [
        "-march=armv4"
        "-marm"
        "-mfloat-abi=soft"
      ];
      qemu = "qemu-system-arm";
      machine = "collie";
      cpu = null;
      memory = "512";
      qemuExtra = [ ];
      console = "ttySA1";
      runEnd = "harness-stops";
      # No nixpkgs platform is ARMv4: `arm-unknown-linux-gnueabi` elaborates to
      # `arm-linux`, which is not in lib.platforms.linux, so linuxManualConfig
      # and glibc refuse it.  Nothing here needs an ARMv4 userland: the kernel's
      # own arch/arm/Makefile passes -march=armv4 -mtune=strongarm1100 for
      # CPU_SA1100, and the guests are nolibc programs built with guestCflags
      # (-march=armv4 -marm, after the cc-wrapper's -march=armv5te, so they win).
      nixpkgs.example = "armv5tel-multiplatform";
    };
    i486 = {
      description = "32-bit x86 on an i486, QEMU -M pc -cpu 486";
      linuxArch = "i386";
      crossCompile = "";
      defconfig = "tinyconfig";
      fragment = "i486.config";
      kasan = false;
      imageTarget = "bzImage";
      imagePath = "arch/x86/boot/bzImage";
      guestCc = "gcc";
      guestCflags = [
        "-m32"
        "-march=i486"
      ];
      qemu = "qemu-system-i386";
      machine = "pc";
      cpu = "486";
      memory = "512";
      qemuExtra = [ ];
      console = "ttyS0";
      runEnd = "reset";
      nixpkgs.example = "gnu32";
    };
    x86_64 = {
      description = "x86-64, QEMU -M pc";
      linuxArch = "x86_64";
      crossCompile = "";
      defconfig = "tinyconfig";
      fragment = "x86_64.config";
      kasan = true;
      # Its test kernel loads the modules netspecd signs (remote suite).
      signedModules = true;
      imageTarget = "bzImage";
      imagePath = "arch/x86/boot/bzImage";
      guestCc = "gcc";
      guestCflags = [ "-m64" ];
      qemu = "qemu-system-x86_64";
      machine = "pc";
      cpu = null;
      memory = "512";
      qemuExtra = [ ];
      console = "ttyS0";
      runEnd = "reset";
      nixpkgs.example = "gnu64";
    };
    aarch64 = {
      description = "64-bit Arm (Cortex-A53), QEMU -M virt";
      linuxArch = "arm64";
      crossCompile = "aarch64-linux-gnu-";
      defconfig = "tinyconfig";
      fragment = "aarch64.config";
      kasan = true;
      imageTarget = "Image";
      imagePath = "arch/arm64/boot/Image";
      guestCc = "aarch64-linux-gnu-gcc";
      guestCflags = [ ];
      qemu = "qemu-system-aarch64";
      machine = "virt";
      cpu = "cortex-a53";
      memory = "512";
      qemuExtra = [ ];
      console = "ttyAMA0";
      runEnd = "reset";
      nixpkgs.example = "aarch64-multiplatform";
    };
    riscv64 = {
      description = "RISC-V RV64GC, QEMU -M virt with OpenSBI";
      linuxArch = "riscv";
      crossCompile = "riscv64-linux-gnu-";
      defconfig = "tinyconfig";
      fragment = "riscv64.config";
      # Options a base renamed (6.1's SOC_VIRT is 6.12's ARCH_VIRT).
      baseFragments = {
        "6.12" = [ "riscv64-6.12.config" ];
        "6.1" = [ "riscv64-6.1.config" ];
        "7.3" = [ "riscv64-6.12.config" ];
      };
      kasan = true;
      imageTarget = "Image";
      imagePath = "arch/riscv/boot/Image";
      guestCc = "riscv64-linux-gnu-gcc";
      guestCflags = [ ];
      qemu = "qemu-system-riscv64";
      machine = "virt";
      cpu = null;
      memory = "512";
      qemuExtra = [
        "-bios"
        "default"
      ];
      console = "ttyS0";
      runEnd = "reset";
      nixpkgs.example = "riscv64";
    };
  };

  archNames = attrNames archs;

  # Flags for a static nolibc guest program (Arch::guest_flags).
  guestFlags = arch: archs.${arch}.guestCflags ++ nolibcFlags;

  # The kernel command line of a VM test boot (Arch::cmdline).
  cmdline = arch: "console=${archs.${arch}.console} rdinit=/init panic=-1 oops=panic";

  # QEMU's arguments without the binary (Arch::qemu_args).
  qemuArgs =
    arch: kernel: initrd: extraAppend:
    let
      a = archs.${arch};
    in
    [
      "-M"
      a.machine
    ]
    ++ (
      if a.cpu == null then
        [ ]
      else
        [
          "-cpu"
          a.cpu
        ]
    )
    ++ [
      "-m"
      a.memory
      "-accel"
      "tcg"
    ]
    ++ a.qemuExtra
    ++ [
      "-nodefaults"
      "-no-reboot"
      "-display"
      "none"
      "-monitor"
      "none"
      "-serial"
      "stdio"
      "-kernel"
      kernel
      "-initrd"
      initrd
      "-append"
      (cmdline arch + (if extraAppend == "" then "" else " " + extraAppend))
    ];

  # The suites under vm-tests/suites/, by name, sorted (guest::suites).
  suites = sort builtins.lessThan (
    map (removeSuffix ".c") (
      filter (n: hasSuffix ".c" n) (attrNames (readDir (root + "/vm-tests/suites")))
    )
  );

  # gen_init_cpio's list for the VM initramfs (guest::build): `bin` holds
  # init and the suites, `suitesFile` lists the suites to run.
  initramfsList =
    bin: suitesFile: selected:
    concatStringsSep "\n" (
      [
        "dir /dev 0755 0 0"
        "nod /dev/console 0600 0 0 c 5 1"
        "dir /proc 0755 0 0"
        "dir /sys 0755 0 0"
        "dir /etc 0755 0 0"
        "dir /tests 0755 0 0"
        "dir /tmp 1777 0 0"
        "file /init ${bin}/init 0755 0 0"
        "file /etc/netspec-suites ${suitesFile} 0644 0 0"
      ]
      ++ map (s: "file /tests/${s} ${bin}/${s} 0755 0 0") selected
    )
    + "\n";

  # The harness's end marker (ktap::END_MARKER).
  endMarker = "# netspec-vm: end";
}
