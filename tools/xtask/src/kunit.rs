//! `cargo xtask kunit`: netspec's KUnit suites, in the test kernels.
//!
//! The test profile builds the suites in (CONFIG_NET_SPECIALIZE_KUNIT_TEST)
//! with KUnit off at boot (CONFIG_KUNIT_DEFAULT_ENABLED=n), so vm-test boots
//! do not run them and no extra kernel is built: this boots the same kernel
//! with `kunit.enable=1`, only netspec's suites selected, and judges the KTAP
//! the kernel prints, on every architecture vm-test covers.

use crate::vmtest;

#[derive(clap::Args)]
pub struct Args {
    /// An arch, a comma-separated list, or all.
    #[arg(long, default_value = "all")]
    pub arch: String,
    #[arg(long, default_value = "6.12")]
    pub base: String,
    /// Seconds a guest may run before it counts as hung.
    #[arg(long, default_value_t = 900)]
    pub timeout: u64,
    /// Boot the kernel already built in this `O=` directory (see vm-test).
    #[arg(long)]
    pub kernel_build: Option<std::path::PathBuf>,
    /// Print the commands instead of running them.
    #[arg(long)]
    pub dry_run: bool,
}

/// The kernel command line that runs netspec's suites and no other.
pub const APPEND: &str = "kunit.enable=1 kunit.filter_glob=netspec*";

pub fn run(args: Args) -> anyhow::Result<()> {
    vmtest::run(vmtest::Args {
        arch: args.arch,
        base: args.base,
        filter: None,
        timeout: args.timeout,
        append: APPEND.into(),
        dry_run: args.dry_run,
        log_tag: "kunit".into(),
        kunit: true,
        kernel_build: args.kernel_build,
        long: false,
        icount: false,
    })
}
