//! The customization engine of issue 16: C generated for one send context,
//! and the compiler command that builds it against a kernel's own build.
//!
//! [`generate`] writes one translation unit whose function is the
//! instantiation of a path's C template (`kernel-variants.toml`, the template
//! in `net/netspec/<path>_template.h`) for a context's values of the
//! template's compile-time parameters. Only those are constants: today the
//! UDP/IPv4 template takes one, the checksum mode. The ADU, addresses, ports
//! and header bytes come from the instance at run time until the template
//! takes them as parameters.
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

/// A send context, as far as the template takes it at compile time: one
/// value, by its name in `kernel-variants.toml`, per compile-time parameter.
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
        Ok(out)
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
            if !spec.consts.iter().any(|p| &p.name == name) {
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

/// The translation unit for `ctx`: the template's instantiation for its
/// values, as an external function (a prototype first, for
/// `-Wmissing-prototypes`).
pub fn generate(spec: &PathSpec, ctx: &Context) -> Result<String, EngineError> {
    let consts = ctx.resolve(spec)?;
    let canonical = ctx.canonical(spec)?;
    let name = function_name(spec);
    let params = spec.params.join(", ");
    let mut args: Vec<String> = spec
        .params
        .iter()
        .map(|p| c_param_name(p))
        .collect::<Result<_, _>>()?;
    args.extend(consts.into_iter().map(|(_, c)| c));
    let mut c = String::new();
    c.push_str("// SPDX-License-Identifier: GPL-2.0-only\n");
    c.push_str("/*\n * Generated by the netspec customization engine for one send\n");
    writeln!(
        c,
        " * context; do not edit.\n *\n * Context: {canonical}\n */"
    )
    .expect("String");
    writeln!(c, "#include \"{}\"\n", template_header(spec)).expect("String");
    writeln!(c, "{} {name}({params});\n", spec.returns).expect("String");
    writeln!(c, "{} {name}({params})\n{{", spec.returns).expect("String");
    writeln!(c, "\treturn {}({});\n}}", spec.template, args.join(", ")).expect("String");
    Ok(c)
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
        })
    }

    /// The generated unit's own `KBUILD_*` defines, and the object's
    /// source directory searched, where the template header is.
    fn unit_flags(&self) -> Vec<String> {
        vec![
            format!("-DKBUILD_MODFILE=\"{MODNAME}\""),
            format!("-DKBUILD_BASENAME=\"{MODNAME}\""),
            format!("-DKBUILD_MODNAME=\"{MODNAME}\""),
            format!("-I{}", self.source_dir()),
        ]
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

    /// The post-compile command for the object `out`, if kbuild ran one.
    pub fn post_args(&self, out: &str) -> Option<Vec<String>> {
        self.post
            .as_ref()
            .map(|p| p.iter().map(|w| w.replace("{obj}", out)).collect())
    }
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
