//! The customization engine of issue 16: C generated for one send context,
//! and the compiler command that builds it against a kernel's own build.
//!
//! [`generate_module`] writes one translation unit, a module, whose function
//! is the instantiation of a path's C template (`kernel-variants.toml`, the
//! template in `net/netspec/<path>_template.h`) for a context's values of the
//! template's compile-time parameters, and which registers it with the
//! kernel for that context and its message size. Those are the constants:
//! the checksum mode and the ADU (checked on entry, so the compiler folds
//! it). Addresses, ports and header bytes come from the instance at run
//! time until the template takes them as parameters.
//!
//! [`CompileCommand`] is the command kbuild ran for an object of the
//! kernel's build, read from its `.cmd` file, so that a request runs the
//! compiler directly with exactly kbuild's flags (CFI, IBT, retpoline,
//! sanitizers, the same `-include`s) instead of a whole `make`; it also
//! builds and uses a precompiled header of the template's includes.
//!
//! Architecture invariant: text in, values out. Nothing here runs a process
//! or reads a file; `xtask engine` does both and measures the cost.

use std::fmt::Write as _;

use variants::PathSpec;

/// Why a `.cmd` file or a context cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EngineError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, EngineError> {
    Err(EngineError(msg.into()))
}

/// The context value that is not a template parameter but that a module
/// is made for: the message size.
pub const ADU: &str = "adu";

/// The largest message size a UDP/IPv4 context takes: `IP_MAX_MTU` less
/// the IPv4 and UDP headers, as the kernel checks it.
pub const MAX_ADU: u32 = 65507;

/// A send context, as far as the template takes it at compile time: one
/// value, by its name in `kernel-variants.toml`, per compile-time parameter,
/// and for a module, its message size ([`ADU`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// The path: a `name` of `kernel-variants.toml`, e.g. `udp4`.
    pub path: String,
    /// `(parameter, value name)`, e.g. `("csum", "partial")`.
    pub values: Vec<(String, String)>,
}

impl Context {
    /// The canonical text of the context: the path and its values in the
    /// order the template takes them; what a cache is keyed by.
    pub fn canonical(&self, spec: &PathSpec) -> Result<String, EngineError> {
        let mut out = format!("{}", spec.name);
        for (param, c) in self.resolve(spec)? {
            let name = &param
                .values
                .iter()
                .find(|v| v.c == c)
                .expect("resolved")
                .name;
            write!(out, " {}={}", param.name, name).expect("String");
        }
        if let Some(adu) = self.adu()? {
            write!(out, " {ADU}={adu}").expect("String");
        }
        Ok(out)
    }

    /// The message size the context names (`adu=N`), if it names one. The
    /// kernel lets only an instance of that size adopt code made for it,
    /// so the generated function may take it as a constant.
    pub fn adu(&self) -> Result<Option<u32>, EngineError> {
        let mut given = self.values.iter().filter(|(n, _)| n == ADU);
        let Some((_, v)) = given.next() else {
            return Ok(None);
        };
        if given.next().is_some() {
            return err(format!("{ADU} given twice"));
        }
        match v.parse::<u32>() {
            Ok(n)
                if (1..=MAX_ADU).contains(&n)
                    && !v.starts_with('0')
                    && v.bytes().all(|b| b.is_ascii_digit()) =>
            {
                Ok(Some(n))
            }
            _ => err(format!("{ADU}={v:?}: not a size from 1 to {MAX_ADU}")),
        }
    }

    /// The C value of each compile-time parameter, in the template's order.
    fn resolve<'a>(
        &self,
        spec: &'a PathSpec,
    ) -> Result<Vec<(&'a variants::Param, String)>, EngineError> {
        if self.path != spec.name {
            return err(format!(
                "context is for path {:?}, not {:?}",
                self.path, spec.name
            ));
        }
        for (name, _) in &self.values {
            if name != ADU && !spec.consts.iter().any(|p| &p.name == name) {
                return err(format!("path {} has no parameter {name:?}", spec.name));
            }
        }
        let mut out = Vec::new();
        for param in &spec.consts {
            let mut given = self.values.iter().filter(|(n, _)| n == &param.name);
            let Some((_, value)) = given.next() else {
                return err(format!(
                    "no value for parameter {:?} of path {}",
                    param.name, spec.name
                ));
            };
            if given.next().is_some() {
                return err(format!("parameter {:?} given twice", param.name));
            }
            let Some(v) = param.values.iter().find(|v| &v.name == value) else {
                let names: Vec<_> = param.values.iter().map(|v| v.name.as_str()).collect();
                return err(format!(
                    "{}={value:?}: not one of {}",
                    param.name,
                    names.join(", ")
                ));
            };
            out.push((param, v.c.clone()));
        }
        Ok(out)
    }
}

/// The header that holds a path's template in the kernel tree, relative to
/// `net/netspec/`.
pub fn template_header(spec: &PathSpec) -> String {
    format!("{}_template.h", spec.name)
}

/// The generated function's name.
pub fn function_name(spec: &PathSpec) -> String {
    format!("netspec_gen_{}_send", spec.name)
}

/// How a kernel names things a module declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleInfo {
    /// The module's name, e.g. from [`module_name`].
    pub name: String,
    /// Whether `MODULE_IMPORT_NS()` takes a string (from Linux 6.13) rather
    /// than a bare token.
    pub string_namespace: bool,
}

/// A module name for the context whose hash is `context_sha256`:
/// `netspec_` and its first 16 hex digits, well under `MODULE_NAME_LEN`.
pub fn module_name(context_sha256: &str) -> String {
    format!("netspec_{}", context_sha256.get(..16).unwrap_or(context_sha256))
}

/// Whether the kernel whose `include/config/kernel.release` reads
/// `release` (e.g. `6.12.57`) spells a symbol namespace as a string.
pub fn string_namespace(release: &str) -> Result<bool, EngineError> {
    let mut it = release.trim().split(|c: char| !c.is_ascii_digit());
    match (
        it.next().and_then(|v| v.parse::<u32>().ok()),
        it.next().and_then(|v| v.parse::<u32>().ok()),
    ) {
        (Some(major), Some(minor)) => Ok((major, minor) >= (6, 13)),
        _ => err(format!("{:?} is not a kernel release", release.trim())),
    }
}

/// The kernel source tree of a build whose command for [`OBJECT`] is `cc`:
/// its source with the object's own path taken off.
pub fn source_tree(cc: &CompileCommand) -> Option<&str> {
    cc.source.strip_suffix(&OBJECT.replace(".o", ".c"))
}

/// A module for `ctx`, which must name its [`ADU`]: the template's
/// instantiation for its values (the message size checked, so that the
/// compiler may take it as a constant), registered with the kernel for that
/// context by the module's init, and what modpost would add (the module's
/// name, the kernel's vermagic), so that no `make` runs.
pub fn generate_module(
    spec: &PathSpec,
    ctx: &Context,
    m: &ModuleInfo,
) -> Result<String, EngineError> {
    let Some(adu) = ctx.adu()? else {
        return err(format!("a module needs the context's {ADU}"));
    };
    let consts = ctx.resolve(spec)?;
    let canonical = ctx.canonical(spec)?;
    let name = function_name(spec);
    let params = spec.params.join(", ");
    let mut args: Vec<String> = spec
        .params
        .iter()
        .map(|p| c_param_name(p))
        .collect::<Result<_, _>>()?;
    if !args.iter().any(|a| a == "inst") {
        return err(format!("path {} takes no instance to check", spec.name));
    }
    if m.name.is_empty()
        || m.name.len() >= 56
        || !m.name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return err(format!("{:?} is not a module name", m.name));
    }
    let mut fields = String::new();
    for (p, c) in &consts {
        writeln!(fields, "\t.{}\t\t= {c},", p.name).expect("String");
    }
    args.extend(consts.into_iter().map(|(_, c)| c));
    let ns = if m.string_namespace { "\"NETSPEC\"" } else { "NETSPEC" };
    let mname = &m.name;
    let path = spec.name.to_ascii_uppercase();
    let header = template_header(spec);
    let (returns, template, pname) = (&spec.returns, &spec.template, &spec.name);
    let args = args.join(", ");
    Ok(format!(
        r#"// SPDX-License-Identifier: GPL-2.0-only
/*
 * Generated by the netspec customization engine for one send
 * context; do not edit.
 *
 * Context: {canonical}
 */
#include <linux/module.h>
#define INCLUDE_VERMAGIC
#include <linux/build-salt.h>
#include <linux/vermagic.h>
#include "{header}"

{returns} {name}({params});

{returns} {name}({params})
{{
	/* Only an instance of this message size adopts the code; checked,
	 * the size is a constant to the compiler.
	 */
	if (unlikely(inst->key.adu != {adu}))
		return -EINVAL;
	return {template}({args});
}}

static struct netspec_code netspec_gen_code = {{
	.path		= NETSPEC_PATH_{path},
{fields}	.adu		= {adu},
	.{pname}_send	= {name},
}};

static int __init netspec_gen_init(void)
{{
	return netspec_code_register(&netspec_gen_code);
}}
module_init(netspec_gen_init);

static void __exit netspec_gen_exit(void)
{{
	netspec_code_unregister(&netspec_gen_code);
}}
module_exit(netspec_gen_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("netspec send path: {canonical}");
MODULE_IMPORT_NS({ns});

/* What modpost adds to a module: the kernel's identity, and the
 * module's, named here as it is in __this_module.
 */
BUILD_SALT;
MODULE_INFO(vermagic, VERMAGIC_STRING);
MODULE_INFO(name, "{mname}");
#if defined(CONFIG_MITIGATION_RETPOLINE) || defined(CONFIG_RETPOLINE)
MODULE_INFO(retpoline, "Y");
#endif
#if defined(CONFIG_UNWINDER_ORC) && __has_include(<asm/orc_header.h>)
#include <asm/orc_header.h>
ORC_HEADER;
#endif

__visible struct module __this_module
__section(".gnu.linkonce.this_module") = {{
	.name = "{mname}",
	.init = init_module,
#ifdef CONFIG_MODULE_UNLOAD
	.exit = cleanup_module,
#endif
	.arch = MODULE_ARCH_INIT,
}};
"#
    ))
}

/// The name a C parameter declaration declares: `const struct x *snap`
/// gives `snap`.
fn c_param_name(decl: &str) -> Result<String, EngineError> {
    let name: String = decl
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect::<String>()
        .chars()
        .rev()
        .collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        return err(format!("cannot name the parameter in {decl:?}"));
    }
    Ok(name)
}

/// The command kbuild ran to build one object, split into what a request
/// reuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileCommand {
    /// The compiler, e.g. `gcc` or `arm-linux-gnueabi-gcc`.
    pub compiler: String,
    /// Every flag, in order, without the dependency file, the object-name
    /// defines, `-c`, `-o` and the source.
    pub flags: Vec<String>,
    /// The `-include`d headers, in order; they are also in `flags`.
    pub forced_includes: Vec<String>,
    /// What kbuild ran on the object afterwards (objtool), with the
    /// object's path as `{obj}`.
    pub post: Option<Vec<String>>,
    /// The object's source file, in the kernel tree.
    pub source: String,
    /// What kbuild adds for an object of a module beyond `-DMODULE`
    /// ([`module_cflags`]), empty until [`Self::for_modules_of`] sets it.
    pub module_flags: Vec<String>,
}

/// The kbuild object that instantiates the UDP/IPv4 template: a generated
/// unit is compiled with the command kbuild saved for it.
pub const OBJECT: &str = "net/netspec/udp4.o";

/// The module name a generated unit is compiled as (its `KBUILD_*`
/// defines); the precompiled header and the unit must agree on it.
pub const MODNAME: &str = "netspec_gen";

/// Where kbuild saved the command of `object`, relative to the build
/// directory: `net/netspec/udp4.o` gives `net/netspec/.udp4.o.cmd`.
pub fn cmd_file(object: &str) -> String {
    match object.rsplit_once('/') {
        Some((dir, name)) => format!("{dir}/.{name}.cmd"),
        None => format!(".{object}.cmd"),
    }
}

/// The `KBUILD_*` defines that name the object and its module; a generated
/// unit gets its own.
const OBJECT_DEFINES: &[&str] = &[
    "-DKBUILD_MODFILE=",
    "-DKBUILD_BASENAME=",
    "-DKBUILD_MODNAME=",
];

impl CompileCommand {
    /// Reads the command of `object` (e.g. `net/netspec/udp4.o`) from the
    /// text of its `.cmd` file: `savedcmd_<object> := ...` since 6.3,
    /// `cmd_<object> := ...` before.
    pub fn from_cmd_file(text: &str, object: &str) -> Result<CompileCommand, EngineError> {
        let line = text
            .lines()
            .find_map(|l| {
                l.strip_prefix(&format!("savedcmd_{object} := "))
                    .or_else(|| l.strip_prefix(&format!("cmd_{object} := ")))
            })
            .ok_or_else(|| EngineError(format!("no command for {object} in its .cmd file")))?;
        let mut parts = line.splitn(2, "; ");
        let compile = shell_words(parts.next().unwrap_or(""))?;
        let post = match parts.next() {
            Some(rest) => {
                let words = shell_words(rest)?;
                if !words.iter().any(|w| w == object) {
                    return err(format!(
                        "the command after compiling {object} does not name it: {rest:?}"
                    ));
                }
                Some(
                    words
                        .into_iter()
                        .map(|w| if w == object { "{obj}".to_string() } else { w })
                        .collect(),
                )
            }
            None => None,
        };
        let mut words = compile.into_iter();
        let compiler = words
            .next()
            .ok_or_else(|| EngineError("empty compile command".into()))?;
        let mut flags = Vec::new();
        let mut forced_includes = Vec::new();
        let (mut saw_c, mut saw_o) = (false, false);
        let mut source = None;
        while let Some(w) = words.next() {
            if w.starts_with("-Wp,-MMD,") || w.starts_with("-Wp,-MD,") {
                continue;
            }
            if OBJECT_DEFINES.iter().any(|d| w.starts_with(d)) {
                continue;
            }
            match w.as_str() {
                "-c" => saw_c = true,
                "-o" => {
                    let out = words
                        .next()
                        .ok_or_else(|| EngineError("-o without a file".into()))?;
                    if out != object {
                        return err(format!("the command writes {out}, not {object}"));
                    }
                    saw_o = true;
                }
                "-include" => {
                    let h = words
                        .next()
                        .ok_or_else(|| EngineError("-include without a file".into()))?;
                    forced_includes.push(h.clone());
                    flags.push(w);
                    flags.push(h);
                }
                _ if !w.starts_with('-') && w.ends_with(".c") => source = Some(w),
                _ => flags.push(w),
            }
        }
        if !saw_c || !saw_o {
            return err(format!(
                "the command for {object} is not a compile (-c and -o)"
            ));
        }
        let Some(source) = source else {
            return err(format!("the command for {object} names no .c source"));
        };
        Ok(CompileCommand {
            compiler,
            flags,
            forced_includes,
            post,
            source,
            module_flags: Vec::new(),
        })
    }

    /// The generated unit's own `KBUILD_*` defines, and the object's
    /// source directory searched, where the template header is.
    fn unit_flags(&self) -> Vec<String> {
        let mut f = vec![
            format!("-DKBUILD_MODFILE=\"{MODNAME}\""),
            format!("-DKBUILD_BASENAME=\"{MODNAME}\""),
            format!("-DKBUILD_MODNAME=\"{MODNAME}\""),
            "-DMODULE".to_string(),
        ];
        f.extend(self.module_flags.iter().cloned());
        f.push(format!("-I{}", self.source_dir()));
        f
    }

    /// The command for objects of a module of the kernel whose `.config`
    /// is `config`.
    pub fn for_modules_of(mut self, config: &str) -> CompileCommand {
        self.module_flags = module_cflags(config);
        self
    }

    /// Arguments (after the compiler) that compile `src` to `out` as kbuild
    /// compiled the object.
    pub fn compile_args(&self, src: &str, out: &str) -> Vec<String> {
        let mut a = self.flags.clone();
        a.extend(self.unit_flags());
        a.extend(["-c", "-o", out, src].map(String::from));
        a
    }

    /// The text of a header that makes the precompiled header: the forced
    /// includes, then `includes`. A unit that uses it includes it instead
    /// of the forced includes, so that it is the first thing it reads, as
    /// gcc requires of a precompiled header.
    pub fn pch_header(&self, includes: &[String]) -> String {
        let mut h =
            String::from("/* Generated by the netspec customization engine; do not edit. */\n");
        for f in self.forced_includes.iter().chain(includes) {
            writeln!(h, "#include \"{f}\"").expect("String");
        }
        h
    }

    /// The flags without the forced includes.
    fn flags_without_forced(&self) -> Vec<String> {
        let mut a = Vec::new();
        let mut it = self.flags.iter();
        while let Some(w) = it.next() {
            if w == "-include" {
                it.next();
            } else {
                a.push(w.clone());
            }
        }
        a
    }

    /// Arguments that precompile `header` (from [`Self::pch_header`]) to
    /// `out`, which must be `header` with `.gch` appended for gcc to find it.
    pub fn pch_build_args(&self, header: &str, out: &str) -> Vec<String> {
        let mut a = self.flags_without_forced();
        a.extend(self.unit_flags());
        a.extend(["-x", "c-header", "-c", "-o", out, header].map(String::from));
        a
    }

    /// Arguments that compile `src` to `out` with the precompiled `header`;
    /// `-Winvalid-pch` and `-Werror=invalid-pch` make a precompiled header
    /// gcc cannot use an error rather than a silent full compile.
    pub fn pch_compile_args(&self, header: &str, src: &str, out: &str) -> Vec<String> {
        let mut a = self.flags_without_forced();
        a.extend(self.unit_flags());
        a.extend(
            [
                "-Winvalid-pch",
                "-Werror=invalid-pch",
                "-include",
                header,
                "-c",
                "-o",
                out,
                src,
            ]
            .map(String::from),
        );
        a
    }

    /// The directory of the object's source, where the template header is.
    pub fn source_dir(&self) -> &str {
        self.source.rsplit_once('/').map_or(".", |(d, _)| d)
    }

    /// The post-compile command for the object `out`, if kbuild ran one:
    /// objtool, told the object is part of a module, as kbuild tells it.
    pub fn post_args(&self, out: &str) -> Option<Vec<String>> {
        self.post.as_ref().map(|p| {
            let mut a: Vec<String> = p.iter().map(|w| w.replace("{obj}", out)).collect();
            let objtool = a.first().is_some_and(|t| t.ends_with("/objtool"));
            if objtool && !a.iter().any(|w| w == "--module") {
                a.insert(a.len() - 1, "--module".to_string());
            }
            a
        })
    }
}

/// What a module's objects need beyond the kernel's flags and `-DMODULE`.
/// On ARM without module PLTs, `-mlong-calls`: a module lies below the
/// kernel, further from a large kernel's text than a branch reaches (the
/// armv4 test kernel's is 37 MB away), and no PLT bounces the call.
/// kbuild adds nothing there (since 4.x it counts on the PLTs), so a
/// module kbuild built would not load either. This reads the build's
/// configuration, which the server has, rather than the arch table, which
/// it does not.
pub fn module_cflags(config: &str) -> Vec<String> {
    if has(config, "CONFIG_ARM")
        && loads_modules(config)
        && !has(config, "CONFIG_ARM_MODULE_PLTS")
    {
        vec!["-mlong-calls".to_string()]
    } else {
        Vec::new()
    }
}

/// Whether the kernel of `config` loads modules (`CONFIG_MODULES`).
pub fn loads_modules(config: &str) -> bool {
    has(config, "CONFIG_MODULES")
}

fn has(config: &str, opt: &str) -> bool {
    config.lines().any(|l| l.strip_prefix(opt) == Some("=y"))
}

/// Why the engine cannot make a module the kernel of `config` would load,
/// if it cannot: options under which kbuild treats a module differently
/// from a built-in object in ways the engine does not repeat.
pub fn modules_unsupported(config: &str) -> Option<&'static str> {
    [
        ("CONFIG_MODVERSIONS", "symbol versions (__versions) are not generated"),
        ("CONFIG_X86_KERNEL_IBT", "objtool's --link pass over the module is not run"),
        ("CONFIG_LTO_CLANG", "objtool's --link pass over the module is not run"),
    ]
    .into_iter()
    .find(|(opt, _)| has(config, opt))
    .map(|(_, why)| why)
}

/// The object vmlinux is linked from, whose link command gives the
/// linker and `KBUILD_LDFLAGS`.
pub const VMLINUX_O: &str = "vmlinux.o";

/// How kbuild links a module of one kernel build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkCommand {
    /// The linker, e.g. `ld` or `arm-linux-gnueabi-ld`.
    pub linker: String,
    /// `KBUILD_LDFLAGS`: the flags before `-r` in the link of vmlinux.o.
    pub flags: Vec<String>,
    /// `KBUILD_LDFLAGS_MODULE`, as [`Self::for_modules_of`] finds it.
    pub module_flags: Vec<String>,
}

impl LinkCommand {
    /// Reads the link command of `vmlinux.o` from its `.cmd` file.
    pub fn from_cmd_file(text: &str) -> Result<LinkCommand, EngineError> {
        let line = text
            .lines()
            .find_map(|l| {
                l.strip_prefix(&format!("savedcmd_{VMLINUX_O} := "))
                    .or_else(|| l.strip_prefix(&format!("cmd_{VMLINUX_O} := ")))
            })
            .ok_or_else(|| EngineError(format!("no command for {VMLINUX_O} in its .cmd file")))?;
        let words = shell_words(line.split(';').next().unwrap_or(""))?;
        let mut it = words.into_iter();
        let linker = it
            .next()
            .ok_or_else(|| EngineError("empty link command".into()))?;
        let mut flags = Vec::new();
        for w in it {
            if w == "-r" {
                return Ok(LinkCommand {
                    linker,
                    flags,
                    module_flags: vec!["--build-id=sha1".into()],
                });
            }
            flags.push(w);
        }
        err(format!("the command for {VMLINUX_O} is not a relocatable link (-r)"))
    }

    /// The link of a module of the kernel whose top-level `Makefile` (of its
    /// source tree) and `.config` are given: `KBUILD_LDFLAGS_MODULE`, which
    /// vmlinux.o's link does not show. Linux 6.15 and later add
    /// `--force-group-allocation` (for KASAN's outlined checks); big-endian
    /// ARM adds `--be8`.
    pub fn for_modules_of(mut self, makefile: &str, config: &str) -> LinkCommand {
        if makefile
            .lines()
            .any(|l| l.starts_with("KBUILD_LDFLAGS_MODULE") && l.contains("--force-group-allocation"))
        {
            self.module_flags.push("--force-group-allocation".into());
        }
        if has(config, "CONFIG_CPU_ENDIAN_BE8") {
            self.module_flags.push("--be8".into());
        }
        self
    }

    /// Arguments (after the linker) that link the object `obj` into the
    /// module `ko`, as scripts/Makefile.modfinal does (`KBUILD_LDFLAGS`,
    /// `KBUILD_LDFLAGS_MODULE`, scripts/module.lds).
    pub fn module_args(&self, obj: &str, ko: &str) -> Vec<String> {
        let mut a = self.flags.clone();
        a.push("-r".into());
        a.extend(self.module_flags.iter().cloned());
        a.extend(["-T", "scripts/module.lds", "-o", ko, obj].map(String::from));
        a
    }
}

/// How a kernel build signs modules: the hash and the key file of its
/// `.config` (`CONFIG_MODULE_SIG_HASH`, `CONFIG_MODULE_SIG_KEY`, relative
/// to the build directory unless absolute), or None where it does not sign
/// them.
pub fn module_sig(config: &str) -> Result<Option<(String, String)>, EngineError> {
    if !has(config, "CONFIG_MODULE_SIG") {
        return Ok(None);
    }
    let value = |opt: &str| {
        config.lines().find_map(|l| {
            l.strip_prefix(opt)?
                .strip_prefix("=\"")?
                .strip_suffix('"')
                .map(str::to_string)
        })
    };
    let hash = value("CONFIG_MODULE_SIG_HASH")
        .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .ok_or_else(|| EngineError("CONFIG_MODULE_SIG without a usable CONFIG_MODULE_SIG_HASH".into()))?;
    let key = value("CONFIG_MODULE_SIG_KEY")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| EngineError("CONFIG_MODULE_SIG without CONFIG_MODULE_SIG_KEY".into()))?;
    if key.starts_with("pkcs11:") {
        return err(format!("the signing key {key:?} is a PKCS#11 URI, which the engine does not take"));
    }
    Ok(Some((hash, key)))
}

/// Arguments (after `scripts/sign-file`) that sign the module `ko` in
/// place with `key` and the certificate kbuild makes from it, as
/// `make modules_sign` would.
pub fn sign_args(hash: &str, key: &str, ko: &str) -> Vec<String> {
    [hash, key, "certs/signing_key.x509", ko]
        .map(String::from)
        .to_vec()
}

/// The GNU build id in `readelf -n` output (`Build ID: <hex>`), lowercase.
pub fn parse_build_id(readelf: &str) -> Option<String> {
    readelf.lines().find_map(|l| {
        let id = l.trim().strip_prefix("Build ID: ")?.trim();
        (!id.is_empty() && id.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| id.to_ascii_lowercase())
    })
}

/// Splits a command line as `sh` would, for what kbuild writes: words
/// separated by blanks, single and double quotes, backslash escapes. No
/// expansions.
pub fn shell_words(s: &str) -> Result<Vec<String>, EngineError> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => cur.push(c),
                        None => return err("unterminated single quote"),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => cur.push(c),
                            Some(c) => {
                                cur.push('\\');
                                cur.push(c);
                            }
                            None => return err("unterminated double quote"),
                        },
                        Some(c) => cur.push(c),
                        None => return err("unterminated double quote"),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(c) => cur.push(c),
                    None => return err("a backslash ends the line"),
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

#[cfg(test)]
mod tests;
