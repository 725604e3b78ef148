//! `cargo xtask selftest`: proves that the harness fails where it must, each
//! failure with its stage: a patch with a line deleted is the first patch
//! the series check fails; a fragment option that cannot be set fails the config
//! step naming the option; a guest whose init never runs fails the VM test
//! at the boot stage.

use anyhow::{bail, Context};

use crate::arch;
use crate::base;
use crate::kernel::{self, Profile};
use crate::project;
use crate::vmtest;
use crate::{Stage, StageExt};

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value = "6.12")]
    pub base: String,
    /// The arch whose built test kernel boots for the panic case.
    #[arg(long, default_value = "x86_64")]
    pub arch: String,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let sh = project::shell()?;
    let base = base::find(&args.base).stage(Stage::Usage)?;
    let arch = arch::find(&args.arch).stage(Stage::Usage)?;
    crate::tree::ensure(&sh, base, None, false, false)?;
    let scratch = project::target().join("selftest");
    if scratch.exists() {
        sh.remove_path(&scratch)?;
    }
    let mut failures = Vec::new();
    let mut case = |name: &str, r: anyhow::Result<()>| match r {
        Ok(()) => println!("ok   {name}"),
        Err(e) => {
            println!("FAIL {name}: {e:#}");
            failures.push(name.to_string());
        }
    };

    // 1. A patch with one line deleted.
    case("series check names a damaged patch", (|| {
        let dir = scratch.join("patches");
        sh.create_dir(&dir)?;
        let mut patches = crate::series::listed_patches(base.name)?;
        let (victim, text) = patches.get(1).cloned().context("the series needs two patches")?;
        let lines: Vec<&str> = text.lines().collect();
        let cut = lines.iter().position(|l| l.starts_with("@@")).context("no hunk")? + 1;
        patches[1].1 = lines.iter().enumerate().filter(|(i, _)| *i != cut).map(|(_, l)| format!("{l}\n")).collect();
        for (n, t) in &patches {
            sh.write_file(dir.join(n), t)?;
        }
        let rows = crate::series::simulate(&sh, base, &dir, &patches, false)?;
        // The patches before it apply and it is the first that does not;
        // later patches may build on it and fail too.
        let first_bad = rows.iter().find(|r| !matches!(r.state, ::series::PatchState::Applied));
        if first_bad.map(|r| &r.file) != Some(&victim) {
            bail!(
                "expected {victim} to be the first patch that fails, got {:?}",
                first_bad.map(|r| (&r.file, &r.state))
            );
        }
        Ok(())
    })());

    // 2. A fragment option the arch cannot have (KASAN on i486).
    case("kernel config names an option that did not survive", (|| {
        let i486 = arch::find("i486")?;
        let frag = scratch.join("impossible.config");
        sh.write_file(&frag, "CONFIG_KASAN=y\n")?;
        let mut frags: Vec<_> = kernel::fragments(i486, base.name, Profile::Test).iter().map(|f| project::configs_dir().join(f)).collect();
        frags.push(frag);
        let _dir = sh.push_dir(project::tree_dir(base.name));
        match kernel::configure(&sh, i486, &frags, &scratch.join("build-i486"), false) {
            Ok(()) => bail!("configuring with CONFIG_KASAN=y on i486 succeeded"),
            Err(e) => {
                let msg = format!("{e:#}");
                if e.downcast_ref::<Stage>() != Some(&Stage::Build) || !msg.contains("impossible.config:1: CONFIG_KASAN=y") {
                    bail!("wrong failure: {msg}");
                }
                Ok(())
            }
        }
    })());

    // 3. A guest whose init does not exist: the kernel panics.
    case("vm-test fails at the boot stage when the kernel panics", (|| {
        let r = vmtest::run(vmtest::Args {
            arch: arch.name.into(),
            base: base.name.into(),
            filter: Some("query".into()),
            timeout: 300,
            append: "rdinit=/does-not-exist".into(),
            dry_run: false,
            log_tag: "selftest-panic".into(),
            kunit: false,
            kernel_build: None,
            long: false,
            icount: false,
        });
        match r {
            Ok(()) => bail!("vm-test passed with no init"),
            Err(e) if e.downcast_ref::<Stage>() == Some(&Stage::Boot) => Ok(()),
            Err(e) => bail!("wrong stage: {e:#}"),
        }
    })());

    if !failures.is_empty() {
        return Err(anyhow::anyhow!("{}", failures.join("\n"))).context("harness self-test failed").stage(Stage::Test);
    }
    println!("selftest: 3 passed, 0 failed");
    Ok(())
}
