//! Every fact about a target architecture, in one table.
//!
//! Architecture invariant: nothing outside this file matches on an arch name;
//! callers look an `Arch` up once and read its fields.

/// How a guest ends its run, so the harness knows whether QEMU exits by itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunEnd {
    /// init's `reboot(RESTART)` resets the machine, and `-no-reboot` makes QEMU exit.
    Reset,
    /// The machine cannot reset or power off under QEMU (collie: "Reboot failed --
    /// System halted"): the harness stops QEMU when it reads the end marker.
    HarnessStops,
}

/// One target architecture: how to build its kernel and guest programs and how to boot it.
#[derive(Debug)]
pub struct Arch {
    /// Our name for it, as given to `--arch`.
    pub name: &'static str,
    /// What it is, for humans.
    pub description: &'static str,
    /// The kernel's `ARCH=`.
    pub linux_arch: &'static str,
    /// The kernel's `CROSS_COMPILE=` (empty: the host gcc).
    pub cross_compile: &'static str,
    /// The base config the fragments are merged onto.
    pub defconfig: &'static str,
    /// The arch's own fragment under `kernel-configs/`.
    pub fragment: &'static str,
    /// Fragments for one base only, merged right after `fragment`, for
    /// options a base renamed: (base, fragment).
    pub base_fragments: &'static [(&'static str, &'static str)],
    /// Bases the kernel dropped the arch from: (base, why).  `--arch all`
    /// leaves the arch out there; naming it is a usage error.
    pub unsupported_bases: &'static [(&'static str, &'static str)],
    /// Bases whose kernel builds for the arch but cannot boot on its QEMU
    /// machine, for a reason outside netspec: (base, why).  Builds and
    /// config checks go on; `--arch all` leaves the arch out of boots
    /// (VM tests, benchmarks) there, and naming it is a usage error.
    pub unbootable_bases: &'static [(&'static str, &'static str)],
    /// Whether the test profile adds `kasan.config` (the arch has HAVE_ARCH_KASAN).
    pub kasan: bool,
    /// The image make target and where it lands in the build directory.
    pub image_target: &'static str,
    pub image_path: &'static str,
    /// The guest C compiler and its flags (static nolibc programs).
    pub guest_cc: &'static str,
    pub guest_cflags: &'static [&'static str],
    /// QEMU binary, machine, CPU and memory.
    pub qemu: &'static str,
    pub machine: &'static str,
    pub cpu: Option<&'static str>,
    pub memory: &'static str,
    /// Extra QEMU arguments (firmware and the like).
    pub qemu_extra: &'static [&'static str],
    /// The kernel's name for the serial console.
    pub console: &'static str,
    pub run_end: RunEnd,
    /// The Rust target whose std this machine has, for guest programs
    /// written in Rust (static glibc); None where there is none.
    pub rust_target: Option<&'static str>,
    /// The serial port that carries the remote customization channel to
    /// `netspecd`, where one is wired up; None leaves the `remote` suite out.
    pub channel: Option<Channel>,
}

/// A serial port of the machine that QEMU connects to a Unix socket.
#[derive(Debug, Clone, Copy)]
pub struct Channel {
    /// The kernel's name for it.
    pub tty: &'static str,
    /// Its place among the machine's serial ports, i.e. which `-serial`
    /// of QEMU's command line it is (0 is the console).
    pub serial_index: usize,
    /// Whether the test kernel loads the modules the server builds: its
    /// test profile adds `signed-modules.config` (module signatures enforced).
    pub modules: bool,
}

const NOLIBC_FLAGS: &[&str] = &[
    "-nostdlib",
    "-static",
    "-ffreestanding",
    "-fno-stack-protector",
    "-fno-asynchronous-unwind-tables",
    "-Os",
];

/// The five supported architectures.
pub const ARCHES: &[Arch] = &[
    Arch {
        name: "armv4",
        description: "StrongARM SA-1110 (ARMv4), QEMU -M collie",
        linux_arch: "arm",
        cross_compile: "arm-linux-gnueabi-",
        defconfig: "collie_defconfig",
        fragment: "armv4.config",
        base_fragments: &[],
        unsupported_bases: &[],
        // 7.3's gpio-sa1100 registers a software node from init_IRQ(),
        // before driver_init() has made swnode_kset, and the kernel oopses
        // before its console is up: kernel-fixes/7.3/armv4/ carries a fix,
        // applied around each build of that kernel (fixes.rs).
        unbootable_bases: &[],
        kasan: true,
        image_target: "zImage",
        image_path: "arch/arm/boot/zImage",
        guest_cc: "arm-linux-gnueabi-gcc",
        guest_cflags: &["-march=armv4", "-marm", "-mfloat-abi=soft"],
        qemu: "qemu-system-arm",
        machine: "collie",
        cpu: None,
        memory: "512",
        qemu_extra: &[],
        console: "ttySA1",
        run_end: RunEnd::HarnessStops,
        rust_target: None,
        // collie registers Ser3 as ttySA0 and Ser1 (the console) as
        // ttySA1; QEMU's strongarm gives its -serial ports to Ser1, Ser2
        // and Ser3 in that order.
        channel: Some(Channel { tty: "ttySA0", serial_index: 2, modules: true }),
    },
    Arch {
        name: "i486",
        description: "32-bit x86 on an i486, QEMU -M pc -cpu 486",
        linux_arch: "i386",
        cross_compile: "",
        defconfig: "tinyconfig",
        fragment: "i486.config",
        base_fragments: &[],
        // 7.x's arch/x86/Kconfig.cpu has no M486 (nor M486SX, MELAN or a
        // plain M586): X86_MINIMUM_CPU_FAMILY is 5 with a TSC at least.
        unsupported_bases: &[("7.3", "Linux 7.x removed 486-class CPUs (no CONFIG_M486 in arch/x86/Kconfig.cpu); use base 6.12 or 6.1")],
        unbootable_bases: &[],
        kasan: false,
        image_target: "bzImage",
        image_path: "arch/x86/boot/bzImage",
        guest_cc: "gcc",
        guest_cflags: &["-m32", "-march=i486"],
        qemu: "qemu-system-i386",
        machine: "pc",
        cpu: Some("486"),
        memory: "512",
        qemu_extra: &[],
        console: "ttyS0",
        run_end: RunEnd::Reset,
        rust_target: None,
        channel: None,
    },
    Arch {
        name: "x86_64",
        description: "x86-64, QEMU -M pc",
        linux_arch: "x86_64",
        cross_compile: "",
        defconfig: "tinyconfig",
        fragment: "x86_64.config",
        base_fragments: &[],
        unsupported_bases: &[],
        unbootable_bases: &[],
        kasan: true,
        image_target: "bzImage",
        image_path: "arch/x86/boot/bzImage",
        guest_cc: "gcc",
        guest_cflags: &["-m64"],
        qemu: "qemu-system-x86_64",
        machine: "pc",
        cpu: None,
        memory: "512",
        qemu_extra: &[],
        console: "ttyS0",
        run_end: RunEnd::Reset,
        rust_target: Some("x86_64-unknown-linux-gnu"),
        channel: Some(Channel { tty: "ttyS1", serial_index: 1, modules: true }),
    },
    Arch {
        name: "aarch64",
        description: "64-bit Arm (Cortex-A53), QEMU -M virt",
        linux_arch: "arm64",
        cross_compile: "aarch64-linux-gnu-",
        defconfig: "tinyconfig",
        fragment: "aarch64.config",
        base_fragments: &[],
        unsupported_bases: &[],
        unbootable_bases: &[],
        kasan: true,
        image_target: "Image",
        image_path: "arch/arm64/boot/Image",
        guest_cc: "aarch64-linux-gnu-gcc",
        guest_cflags: &[],
        qemu: "qemu-system-aarch64",
        machine: "virt",
        cpu: Some("cortex-a53"),
        memory: "512",
        qemu_extra: &[],
        console: "ttyAMA0",
        run_end: RunEnd::Reset,
        rust_target: None,
        channel: None,
    },
    Arch {
        name: "riscv64",
        description: "RISC-V RV64GC, QEMU -M virt with OpenSBI",
        linux_arch: "riscv",
        cross_compile: "riscv64-linux-gnu-",
        defconfig: "tinyconfig",
        fragment: "riscv64.config",
        // ARCH_VIRT from 6.7 on: 7.3 takes 6.12's name for it.
        base_fragments: &[("6.12", "riscv64-6.12.config"), ("6.1", "riscv64-6.1.config"), ("7.3", "riscv64-6.12.config")],
        unsupported_bases: &[],
        unbootable_bases: &[],
        kasan: true,
        image_target: "Image",
        image_path: "arch/riscv/boot/Image",
        guest_cc: "riscv64-linux-gnu-gcc",
        guest_cflags: &[],
        qemu: "qemu-system-riscv64",
        machine: "virt",
        cpu: None,
        memory: "512",
        qemu_extra: &["-bios", "default"],
        console: "ttyS0",
        run_end: RunEnd::Reset,
        rust_target: None,
        channel: None,
    },
];

/// Looks an architecture up by name; the error lists the valid names.
pub fn find(name: &str) -> anyhow::Result<&'static Arch> {
    ARCHES.iter().find(|a| a.name == name).ok_or_else(|| {
        anyhow::anyhow!("unknown arch {name:?}; expected one of: {}, or all", names().join(", "))
    })
}

/// `--arch all` or a comma-separated list.
pub fn select(spec: &str) -> anyhow::Result<Vec<&'static Arch>> {
    if spec == "all" {
        return Ok(ARCHES.iter().collect());
    }
    spec.split(',').map(find).collect()
}

/// The arches `spec` names that can boot `base`'s kernel.  `all` leaves
/// out those the base dropped or cannot boot, saying so; naming one of
/// them is an error.
pub fn select_for(spec: &str, base: &str) -> anyhow::Result<Vec<&'static Arch>> {
    let mut out = Vec::new();
    for a in select(spec)? {
        match a.unsupported_on(base).or_else(|| a.unbootable_on(base)) {
            None => out.push(a),
            Some(why) if spec == "all" => println!("  --   {} {base}: skipped: {why}", a.name),
            Some(why) => anyhow::bail!("--arch {} on base {base}: {why}", a.name),
        }
    }
    Ok(out)
}

pub fn names() -> Vec<&'static str> {
    ARCHES.iter().map(|a| a.name).collect()
}

/// Guest memory in MB of a 64-bit arch's long-mode VM test boot.
pub const LONG_MEMORY: &str = "2048";

impl Arch {
    /// Why `base` has no kernel for this arch, or None if it has one.
    pub fn unsupported_on(&self, base: &str) -> Option<&'static str> {
        self.unsupported_bases.iter().find(|(b, _)| *b == base).map(|(_, why)| *why)
    }

    /// Why `base`'s kernel for this arch cannot boot, or None if it can.
    pub fn unbootable_on(&self, base: &str) -> Option<&'static str> {
        self.unbootable_bases.iter().find(|(b, _)| *b == base).map(|(_, why)| *why)
    }

    /// Whether the arch is a 64-bit one (its guests may have more than
    /// 32-bit lowmem's worth of memory).
    pub fn is_64bit(&self) -> bool {
        matches!(self.name, "x86_64" | "aarch64" | "riscv64")
    }

    /// Flags for a static nolibc guest program.
    pub fn guest_flags(&self) -> impl Iterator<Item = &'static str> {
        self.guest_cflags.iter().chain(NOLIBC_FLAGS).copied()
    }

    /// The kernel command line of a VM test boot.
    pub fn cmdline(&self) -> String {
        format!("console={} rdinit=/init panic=-1 oops=panic", self.console)
    }

    /// QEMU's arguments, without the binary: TCG, no default devices, serial on stdio.
    pub fn qemu_args(&self, kernel: &str, initrd: &str, extra_append: &str) -> Vec<String> {
        let mut args: Vec<String> = vec!["-M".into(), self.machine.into()];
        if let Some(cpu) = self.cpu {
            args.extend(["-cpu".into(), cpu.into()]);
        }
        args.extend(["-m".into(), self.memory.into(), "-accel".into(), "tcg".into()]);
        args.extend(self.qemu_extra.iter().map(|s| s.to_string()));
        let mut append = self.cmdline();
        if !extra_append.is_empty() {
            append.push(' ');
            append.push_str(extra_append);
        }
        args.extend(
            [
                "-nodefaults",
                "-no-reboot",
                "-display",
                "none",
                "-monitor",
                "none",
                "-serial",
                "stdio",
                "-kernel",
                kernel,
                "-initrd",
                initrd,
                "-append",
                &append,
            ]
            .map(String::from),
        );
        args
    }
}

impl Arch {
    /// QEMU's arguments that connect the channel's serial port to the Unix
    /// socket `sock`, to follow [`Arch::qemu_args`]: the ports before it
    /// that are not the console are left unconnected.
    pub fn channel_qemu_args(&self, channel: Channel, sock: &str) -> Vec<String> {
        let mut args = vec!["-chardev".to_string(), format!("socket,id=netspecd,path={sock}")];
        for _ in 1..channel.serial_index {
            args.extend(["-serial".to_string(), "null".to_string()]);
        }
        args.extend(["-serial".to_string(), "chardev:netspecd".to_string()]);
        args
    }
}

/// What `cargo xtask bench` adds to a boot: guest time advances one
/// nanosecond per executed instruction, and never while the guest idles,
/// so a timing inside the guest is an instruction count; and the random
/// seed QEMU hands the kernel (x86 setup_data, the device tree's rng-seed)
/// is the same on every boot, so that hash secrets, ports and randomized
/// timers are too; and the real-time clock starts at a fixed date and runs
/// on guest time, so that reading it at boot (x86 waits for its update
/// cycle) takes the same instructions whatever the host's clock says.
/// Two boots then repeat each other.
pub const BENCH_QEMU_EXTRA: &[&str] =
    &["-icount", "shift=0,sleep=off", "-seed", "1", "-rtc", "base=2025-01-01T00:00:00,clock=vm"];

impl Arch {
    /// QEMU's arguments for a benchmark boot: [`Arch::qemu_args`] under icount.
    pub fn bench_qemu_args(&self, kernel: &str, initrd: &str) -> Vec<String> {
        let mut args = self.qemu_args(kernel, initrd, "");
        args.extend(BENCH_QEMU_EXTRA.iter().map(|s| s.to_string()));
        args
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `all` on 7.3 leaves i486 out; naming it there fails with the reason;
    /// every base names an existing base.
    #[test]
    fn a_base_without_an_arch_skips_it() {
        let names = |v: Vec<&Arch>| v.iter().map(|a| a.name).collect::<Vec<_>>();
        assert_eq!(names(select_for("all", "7.3").unwrap()), ["armv4", "x86_64", "aarch64", "riscv64"]);
        assert_eq!(names(select_for("all", "6.1").unwrap()).len(), ARCHES.len());
        let err = select_for("x86_64,i486", "7.3").unwrap_err().to_string();
        assert!(err.contains("i486") && err.contains("M486"), "{err}");
        for a in ARCHES {
            for (b, _) in a.unsupported_bases.iter().chain(a.unbootable_bases) {
                assert!(crate::base::find(b).is_ok(), "{}: unknown base {b}", a.name);
            }
        }
    }

    /// The QEMU command line of every arch, against testdata/qemu-cmdlines.txt
    /// (rewrite with UPDATE_GOLDEN=1 cargo test -p xtask).
    #[test]
    fn qemu_command_lines() {
        let got: String = ARCHES
            .iter()
            .map(|a| format!("{}: {} {}\n", a.name, a.qemu, a.qemu_args("K", "I", "").join(" ")))
            .chain(ARCHES.iter().map(|a| format!("{} bench: {} {}\n", a.name, a.qemu, a.bench_qemu_args("K", "I").join(" "))))
            .collect();
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/qemu-cmdlines.txt");
        testkit::golden(std::path::Path::new(path), &got);
    }

    #[test]
    fn unknown_arch_names_the_valid_ones() {
        let err = select("armv4,sparc").unwrap_err().to_string();
        assert!(err.contains("armv4, i486, x86_64, aarch64, riscv64"), "{err}");
    }
}
