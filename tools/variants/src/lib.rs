//! Build-time instantiations of netspec's specialized send paths.
//!
//! `kernel-variants.toml` names, for each specialized path, an always-inline
//! C template in the kernel tree, its runtime parameters, and its
//! compile-time parameters with their values. [`generate`] writes the C
//! header that instantiates the template once per combination of values, so
//! that the compiler folds every branch on them, and a dispatcher that calls
//! the instantiation for an instance's values with a `switch` (direct calls,
//! no function pointers, so no retpolines on the hot path).
//!
//! Architecture invariant: text in, values out. Nothing here reads files or
//! knows about kernel trees; `xtask` writes the header and checks the series.

use toml_edit::{DocumentMut, Item, Value};

/// The whole `kernel-variants.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub paths: Vec<PathSpec>,
}

/// One specialized path: a template and what to instantiate it with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathSpec {
    /// Names the instantiations: `netspec_<name>_send_<values>`.
    pub name: String,
    /// The template's C name.
    pub template: String,
    /// The header the generator owns, relative to the kernel tree.
    pub header: String,
    /// The C return type.
    pub returns: String,
    /// The runtime parameters, as C declarations.
    pub params: Vec<String>,
    /// The compile-time parameters, in the order the template takes them.
    pub consts: Vec<Param>,
}

/// One compile-time parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub name: String,
    /// Its C type, e.g. `enum netspec_csum`.
    pub ctype: String,
    pub values: Vec<ParamValue>,
}

/// One value of a compile-time parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamValue {
    /// The C enumerator or constant.
    pub c: String,
    /// Its part of the instantiation's name.
    pub name: String,
}

/// Why `kernel-variants.toml` cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("kernel-variants.toml: {0}")]
pub struct SpecError(pub String);

fn err<T>(message: impl Into<String>) -> Result<T, SpecError> {
    Err(SpecError(message.into()))
}

fn string(item: Option<&Item>, what: &str) -> Result<String, SpecError> {
    match item.and_then(Item::as_str) {
        Some(s) if !s.trim().is_empty() => Ok(s.to_string()),
        _ => err(format!("{what} must be a non-empty string")),
    }
}

fn value_string(v: Option<&Value>, what: &str) -> Result<String, SpecError> {
    match v.and_then(Value::as_str) {
        Some(s) if !s.trim().is_empty() => Ok(s.to_string()),
        _ => err(format!("{what} must be a non-empty string")),
    }
}

/// A C identifier: what the generator pastes into names must be one.
fn identifier(s: &str, what: &str) -> Result<(), SpecError> {
    let ok = s.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        err(format!("{what} {s:?} is not a C identifier"))
    }
}

/// The C parameter name of a declaration: `void __user *buf` -> `buf`.
fn param_name(decl: &str) -> Result<String, SpecError> {
    let name: String = decl
        .trim_end()
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    if name.is_empty() || name.len() == decl.trim().len() {
        return err(format!("parameter {decl:?} must be a C declaration with a name"));
    }
    identifier(&name, "parameter name")?;
    Ok(name)
}

/// Parses `kernel-variants.toml`.
pub fn parse_spec(text: &str) -> Result<Spec, SpecError> {
    let doc: DocumentMut = text.parse().map_err(|e| SpecError(format!("{e}")))?;
    let Some(paths) = doc.get("path").and_then(Item::as_array_of_tables) else {
        return err("no [[path]]");
    };
    let mut out = Vec::new();
    for (i, t) in paths.iter().enumerate() {
        let what = |k: &str| format!("path {} {k}", i + 1);
        let name = string(t.get("name"), &what("name"))?;
        identifier(&name, "path name")?;
        let template = string(t.get("template"), &what("template"))?;
        identifier(&template, "template")?;
        let header = string(t.get("header"), &what("header"))?;
        if !header.ends_with(".h") || header.starts_with('/') || header.contains("..") {
            return err(format!("{}: {header:?} must be a relative .h path", what("header")));
        }
        let returns = string(t.get("returns"), &what("returns"))?;
        let Some(params) = t.get("params").and_then(Item::as_array) else {
            return err(format!("{} must be an array of strings", what("params")));
        };
        let params = params
            .iter()
            .map(|p| value_string(Some(p), &what("params")))
            .collect::<Result<Vec<_>, _>>()?;
        for p in &params {
            param_name(p)?;
        }
        let Some(consts) = t.get("param").and_then(Item::as_array_of_tables) else {
            return err(format!("{} has no [[path.param]]", what("")));
        };
        let mut cs = Vec::new();
        for (j, p) in consts.iter().enumerate() {
            let pw = |k: &str| format!("path {} param {} {k}", i + 1, j + 1);
            let pname = string(p.get("name"), &pw("name"))?;
            identifier(&pname, "param name")?;
            let ctype = string(p.get("type"), &pw("type"))?;
            let Some(values) = p.get("values").and_then(Item::as_array) else {
                return err(format!("{} must be an array of {{ c, name }}", pw("values")));
            };
            let mut vs = Vec::new();
            for v in values {
                let Some(tbl) = v.as_inline_table() else {
                    return err(format!("{} must be inline tables {{ c, name }}", pw("values")));
                };
                let c = value_string(tbl.get("c"), &pw("value c"))?;
                identifier(&c, "value")?;
                let vname = value_string(tbl.get("name"), &pw("value name"))?;
                identifier(&vname, "value name")?;
                if vs.iter().any(|x: &ParamValue| x.c == c || x.name == vname) {
                    return err(format!("{}: {c} or {vname} twice", pw("values")));
                }
                vs.push(ParamValue { c, name: vname });
            }
            if vs.is_empty() {
                return err(format!("{} is empty", pw("values")));
            }
            cs.push(Param { name: pname, ctype, values: vs });
        }
        out.push(PathSpec { name, template, header, returns, params, consts: cs });
    }
    Ok(Spec { paths: out })
}

/// Every combination of the compile-time values, first parameter slowest.
fn combinations(consts: &[Param]) -> Vec<Vec<&ParamValue>> {
    let mut out: Vec<Vec<&ParamValue>> = vec![Vec::new()];
    for p in consts {
        out = out
            .into_iter()
            .flat_map(|prefix| {
                p.values.iter().map(move |v| {
                    let mut c = prefix.clone();
                    c.push(v);
                    c
                })
            })
            .collect();
    }
    out
}

/// The display width of `s` starting at column `col` (tabs to multiples of 8).
fn width_after(col: usize, s: &str) -> usize {
    s.chars().fold(col, |c, ch| if ch == '\t' { (c / 8 + 1) * 8 } else { c + 1 })
}

/// `head` followed by `items` joined with ", " and `tail`, wrapped at 80
/// columns with continuation lines aligned one past the open parenthesis
/// that `head` ends with, as checkpatch --strict wants.
fn wrap_call(head: &str, items: &[String], tail: &str) -> String {
    let open = width_after(0, head);
    let indent = format!("{}{}", "\t".repeat(open / 8), " ".repeat(open % 8));
    let mut out = head.to_string();
    let mut col = open;
    for (i, item) in items.iter().enumerate() {
        let last = i + 1 == items.len();
        let piece = if last { format!("{item}{tail}") } else { format!("{item},") };
        if i > 0 {
            if col + 1 + piece.len() > 80 {
                out.push('\n');
                out.push_str(&indent);
                col = open;
            } else {
                out.push(' ');
                col += 1;
            }
        }
        out.push_str(&piece);
        col += piece.len();
    }
    if items.is_empty() {
        out.push_str(tail);
    }
    out
}

/// The header for one path: its instantiations and their dispatcher.
pub fn generate(path: &PathSpec) -> String {
    let guard = format!("_{}", path.header.to_ascii_uppercase().replace(['.', '-', '/'], "_"));
    let names: Vec<String> = path.params.iter().map(|p| param_name(p).unwrap_or_default()).collect();
    let const_names: Vec<&str> = path.consts.iter().map(|p| p.name.as_str()).collect();
    let mut h = String::new();
    h.push_str("/* SPDX-License-Identifier: GPL-2.0-only */\n");
    h.push_str("/*\n");
    h.push_str(" * Generated by `cargo xtask gen variants` from kernel-variants.toml in the\n");
    h.push_str(" * netspec repository; do not edit.  `cargo xtask series check` fails when\n");
    h.push_str(" * this file is not the generator's output.\n");
    h.push_str(" *\n");
    h.push_str(&format!(" * One instantiation of {}()\n", path.template));
    h.push_str(&format!(
        " * per combination of its compile-time parameters ({}),\n",
        const_names.join(", ")
    ));
    h.push_str(" * so that the compiler folds the branches on them, and a dispatcher\n");
    h.push_str(" * that calls the one for an instance's values.\n");
    h.push_str(" */\n");
    h.push_str(&format!("#ifndef {guard}\n#define {guard}\n"));

    let fname = |combo: &[&ParamValue]| {
        let parts: Vec<&str> = combo.iter().map(|v| v.name.as_str()).collect();
        format!("netspec_{}_send_{}", path.name, parts.join("_"))
    };
    for combo in combinations(&path.consts) {
        h.push('\n');
        h.push_str(&format!("static noinline {}\n", path.returns));
        h.push_str(&wrap_call(&format!("{}(", fname(&combo)), &path.params, ")"));
        h.push_str("\n{\n");
        let mut args = names.clone();
        args.extend(combo.iter().map(|v| v.c.clone()));
        h.push_str(&wrap_call(&format!("\treturn {}(", path.template), &args, ");"));
        h.push_str("\n}\n");
    }

    // The dispatcher: the compile-time parameters first, as runtime values.
    h.push('\n');
    h.push_str("/* Calls the instantiation for these values of the parameters. */\n");
    h.push_str(&format!("static inline {}\n", path.returns));
    let mut decls: Vec<String> = path.consts.iter().map(|p| format!("{} {}", p.ctype, p.name)).collect();
    decls.extend(path.params.iter().cloned());
    h.push_str(&wrap_call(&format!("netspec_{}_send_variant(", path.name), &decls, ")"));
    h.push_str("\n{\n");
    dispatch(&mut h, path, &names, &mut Vec::new(), 1, &fname);
    h.push_str("}\n");
    h.push_str(&format!("\n#endif /* {guard} */\n"));
    h
}

/// The nested switches of the dispatcher, one level per parameter.
fn dispatch<'a>(
    h: &mut String,
    path: &'a PathSpec,
    names: &[String],
    chosen: &mut Vec<&'a ParamValue>,
    depth: usize,
    fname: &dyn Fn(&[&ParamValue]) -> String,
) {
    let tabs = "\t".repeat(depth);
    let Some(param) = path.consts.get(chosen.len()) else {
        h.push_str(&wrap_call(&format!("{tabs}return {}(", fname(chosen)), names, ");"));
        h.push('\n');
        return;
    };
    h.push_str(&format!("{tabs}switch ({}) {{\n", param.name));
    for v in &param.values {
        h.push_str(&format!("{tabs}case {}:\n", v.c));
        chosen.push(v);
        dispatch(h, path, names, chosen, depth + 1, fname);
        chosen.pop();
    }
    h.push_str(&format!("{tabs}}}\n"));
    if depth > 1 {
        h.push_str(&format!("{tabs}break;\n"));
    }
    if depth == 1 {
        h.push_str(&format!("{tabs}/* Every value has a case; a new one must be added to\n"));
        h.push_str(&format!("{tabs} * kernel-variants.toml.\n"));
        h.push_str(&format!("{tabs} */\n"));
        h.push_str(&format!("{tabs}WARN_ON_ONCE(1);\n"));
        h.push_str(&format!("{tabs}return -EINVAL;\n"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = r#"
[[path]]
name = "udp4"
template = "__netspec_udp4_send"
header = "net/netspec/udp4_variants.h"
returns = "int"
params = ["struct netspec_inst *inst", "void __user *buf", "unsigned int flags"]

[[path.param]]
name = "csum"
type = "enum netspec_csum"
values = [{ c = "CSUM_A", name = "a" }, { c = "CSUM_B", name = "b" }]

[[path.param]]
name = "v6"
type = "bool"
values = [{ c = "false", name = "v4" }, { c = "true", name = "v6" }]
"#;

    #[test]
    fn generates_every_combination_and_a_dispatcher() {
        let spec = parse_spec(SPEC).unwrap();
        let h = generate(&spec.paths[0]);
        let golden = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/generated-two-params.h");
        testkit::golden(&golden, &h);
        for f in ["netspec_udp4_send_a_v4", "netspec_udp4_send_a_v6", "netspec_udp4_send_b_v4", "netspec_udp4_send_b_v6"] {
            assert_eq!(h.matches(&format!("{f}(")).count(), 2, "{f}: one definition, one call");
        }
    }

    #[test]
    fn lines_fit_checkpatch() {
        let spec = parse_spec(SPEC).unwrap();
        for line in generate(&spec.paths[0]).lines() {
            assert!(width_after(0, line) <= 80, "too long: {line:?}");
            assert!(!line.ends_with([' ', '\t']), "trailing space: {line:?}");
        }
    }

    #[test]
    fn the_repository_spec_parses() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../kernel-variants.toml")).unwrap();
        let spec = parse_spec(&text).unwrap();
        assert!(!spec.paths.is_empty());
    }

    #[test]
    fn bad_specs_are_errors_that_say_what() {
        let cases = [
            (SPEC.replace("name = \"udp4\"", "name = \"udp 4\""), "not a C identifier"),
            (SPEC.replace("\"unsigned int flags\"", "\"*\""), "parameter"),
            (SPEC.replace("{ c = \"CSUM_B\", name = \"b\" }", "{ c = \"CSUM_A\", name = \"b\" }"), "twice"),
            (SPEC.replace("net/netspec/udp4_variants.h", "/etc/x.h"), "relative .h path"),
            ("x = 1".to_string(), "no [[path]]"),
        ];
        for (text, want) in cases {
            let e = parse_spec(&text).unwrap_err().to_string();
            assert!(e.contains(want), "{e:?} lacks {want:?}");
        }
    }

    #[test]
    fn mangled_specs_do_not_panic() {
        testkit::mangle(&[SPEC.to_string()], &["[[path]]", "values = []", "\"", "{"], 300, |t| {
            if let Ok(spec) = parse_spec(t) {
                for p in &spec.paths {
                    let _ = generate(p);
                }
            }
        });
    }
}
