use std::path::Path;

use super::*;

const VARIANTS: &str = include_str!("../../../kernel-variants.toml");

fn udp4() -> PathSpec {
    let spec = variants::parse_spec(VARIANTS).expect("kernel-variants.toml parses");
    spec.paths
        .into_iter()
        .find(|p| p.name == "udp4")
        .expect("a udp4 path")
}

fn ctx(values: &[(&str, &str)]) -> Context {
    Context {
        path: "udp4".into(),
        values: values
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
    }
}

fn module() -> ModuleInfo {
    ModuleInfo {
        name: "netspec_0123456789abcdef".into(),
        string_namespace: false,
    }
}

fn check_generate(values: &[(&str, &str)], expected: Result<&str, &str>) {
    let got = generate_module(&udp4(), &ctx(values), &module());
    match (got, expected) {
        (Ok(c), Ok(golden)) => testkit::golden(
            &Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("testdata")
                .join(golden),
            &c,
        ),
        (Err(e), Err(msg)) => assert_eq!(e.0, msg),
        (got, expected) => panic!("{values:?}: got {got:?}, expected {expected:?}"),
    }
}

#[test]
fn generates_the_instantiation_for_the_context() {
    check_generate(&[("csum", "partial"), ("adu", "64")], Ok("udp4-partial.c"));
    check_generate(&[("adu", "1472"), ("csum", "none")], Ok("udp4-none.c"));
}

#[test]
fn spells_the_namespace_as_the_kernel_does() {
    let c = ctx(&[("csum", "none"), ("adu", "64")]);
    let m = ModuleInfo {
        string_namespace: true,
        ..module()
    };
    let text = generate_module(&udp4(), &c, &m).unwrap();
    assert!(text.contains("MODULE_IMPORT_NS(\"NETSPEC\");"), "{text}");
    assert_eq!(string_namespace("6.13.0"), Ok(true));
    assert_eq!(string_namespace("7.3.1-netspec"), Ok(true));
    assert_eq!(string_namespace("6.12.57"), Ok(false));
    assert_eq!(string_namespace("6.1.158\n"), Ok(false));
    assert_eq!(
        string_namespace("vmlinux").unwrap_err().0,
        "\"vmlinux\" is not a kernel release"
    );
    assert_eq!(module_name(&"ab".repeat(32)), "netspec_abababababababab");
    assert_eq!(module_name("é"), "netspec_é");
    let bad = ModuleInfo {
        name: "a-b".into(),
        ..module()
    };
    assert_eq!(
        generate_module(&udp4(), &c, &bad).unwrap_err().0,
        "\"a-b\" is not a module name"
    );
}

#[test]
fn refuses_contexts_the_template_does_not_take() {
    check_generate(&[], Err("a module needs the context's adu"));
    check_generate(&[("adu", "64")], Err("no value for parameter \"csum\" of path udp4"));
    check_generate(
        &[("csum", "none"), ("adu", "0")],
        Err("adu=\"0\": not a size from 1 to 65507"),
    );
    check_generate(
        &[("csum", "none"), ("adu", "065")],
        Err("adu=\"065\": not a size from 1 to 65507"),
    );
    check_generate(
        &[("csum", "none"), ("adu", "65508")],
        Err("adu=\"65508\": not a size from 1 to 65507"),
    );
    check_generate(
        &[("csum", "none"), ("adu", "+64")],
        Err("adu=\"+64\": not a size from 1 to 65507"),
    );
    check_generate(
        &[("csum", "none"), ("adu", "1"), ("adu", "2")],
        Err("adu given twice"),
    );
    check_generate(
        &[("csum", "fast"), ("adu", "64")],
        Err("csum=\"fast\": not one of partial, software, none"),
    );
    check_generate(
        &[("csum", "none"), ("csum", "none"), ("adu", "64")],
        Err("parameter \"csum\" given twice"),
    );
    check_generate(
        &[("csum", "none"), ("ttl", "64"), ("adu", "64")],
        Err("path udp4 has no parameter \"ttl\""),
    );
    let other = Context {
        path: "udp6".into(),
        values: vec![("adu".into(), "64".into())],
    };
    assert_eq!(
        generate_module(&udp4(), &other, &module()).unwrap_err().0,
        "context is for path \"udp6\", not \"udp4\""
    );
}

#[test]
fn canonical_text_names_every_value_in_the_template_order() {
    assert_eq!(
        ctx(&[("csum", "software")]).canonical(&udp4()).unwrap(),
        "udp4 csum=software"
    );
    assert_eq!(
        ctx(&[("adu", "512"), ("csum", "software")])
            .canonical(&udp4())
            .unwrap(),
        "udp4 csum=software adu=512"
    );
}

fn check_words(line: &str, expected: Result<&[&str], &str>) {
    match (shell_words(line), expected) {
        (Ok(w), Ok(e)) => assert_eq!(w, e, "{line:?}"),
        (Err(got), Err(e)) => assert_eq!(got.0, e, "{line:?}"),
        (got, e) => panic!("{line:?}: got {got:?}, expected {e:?}"),
    }
}

#[test]
fn splits_words_as_sh_does() {
    check_words(
        "gcc  -c\t-o a.o a.c",
        Ok(&["gcc", "-c", "-o", "a.o", "a.c"]),
    );
    check_words(
        "-DKBUILD_BASENAME='\"udp4\"'",
        Ok(&["-DKBUILD_BASENAME=\"udp4\""]),
    );
    check_words(
        "-D\"A=\\\"b c\\\"\" x\\ y ''",
        Ok(&["-DA=\"b c\"", "x y", ""]),
    );
    check_words("'open", Err("unterminated single quote"));
    check_words("\"open", Err("unterminated double quote"));
    check_words("end\\", Err("a backslash ends the line"));
}

fn testdata(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata")
            .join(name),
    )
    .expect("testdata")
}

#[test]
fn reads_kbuilds_command_since_and_before_savedcmd() {
    // 6.12, x86_64: `savedcmd_`, objtool run on the object afterwards.
    let c =
        CompileCommand::from_cmd_file(&testdata("x86_64-6.12.cmd"), "net/netspec/udp4.o").unwrap();
    assert_eq!(c.compiler, "gcc");
    assert_eq!(c.forced_includes.len(), 3);
    assert!(c.forced_includes[2].ends_with("include/linux/compiler_types.h"));
    assert!(c.flags.iter().any(|f| f == "-mcmodel=kernel"));
    for gone in ["-c", "-o", "net/netspec/udp4.o"] {
        assert!(
            !c.flags.iter().any(|f| f == gone),
            "{gone} left in the flags"
        );
    }
    assert!(!c.flags.iter().any(|f| f.starts_with("-Wp,-MMD")
        || f.starts_with("-DKBUILD_BASENAME")
        || f.ends_with(".c")));
    let post = c.post_args("gen.o").expect("objtool runs on x86_64");
    assert!(
        post[0].ends_with("objtool") && post.last().unwrap() == "gen.o",
        "{post:?}"
    );
    // As kbuild runs it on an object of a module.
    assert_eq!(post[post.len() - 2], "--module", "{post:?}");

    // 6.1, armv4: `cmd_`, nothing after the compile.
    let c =
        CompileCommand::from_cmd_file(&testdata("armv4-6.1.cmd"), "net/netspec/udp4.o").unwrap();
    assert_eq!(c.compiler, "arm-linux-gnueabi-gcc");
    assert!(c.flags.iter().any(|f| f == "-march=armv4"), "{:?}", c.flags);
    assert_eq!(c.post, None);
    assert!(
        c.source.ends_with("/net/netspec/udp4.c") && c.source_dir().ends_with("/net/netspec"),
        "{}",
        c.source
    );
}

#[test]
fn names_the_cmd_file_kbuild_saves() {
    assert_eq!(cmd_file(OBJECT), "net/netspec/.udp4.o.cmd");
    assert_eq!(cmd_file("a.o"), ".a.o.cmd");
}

#[test]
fn reads_the_build_id_readelf_prints() {
    let out = "Displaying notes found in: .notes\n  Owner  Data size  Description\n  \
               GNU  0x00000014  NT_GNU_BUILD_ID (unique build ID bitstring)\n    Build ID: 0A1b2c3d4e5f60718293a4b5c6d7e8f901234567\n";
    assert_eq!(
        parse_build_id(out).as_deref(),
        Some("0a1b2c3d4e5f60718293a4b5c6d7e8f901234567")
    );
    assert_eq!(parse_build_id("    Build ID: xyz\n"), None);
    assert_eq!(parse_build_id(""), None);
}

#[test]
fn builds_the_compile_and_precompiled_header_commands() {
    let c =
        CompileCommand::from_cmd_file(&testdata("x86_64-6.12.cmd"), "net/netspec/udp4.o").unwrap();
    let a = c.compile_args("gen.c", "gen.o");
    assert_eq!(a[a.len() - 4..], ["-c", "-o", "gen.o", "gen.c"]);
    assert!(a.iter().any(|f| f == "-DKBUILD_MODNAME=\"netspec_gen\""));
    assert!(a.iter().any(|f| f == "-DMODULE"));
    let src_dir = format!("-I{}", c.source_dir());
    assert!(
        src_dir.ends_with("/net/netspec") && a.contains(&src_dir),
        "{a:?}"
    );
    assert_eq!(a.iter().filter(|f| *f == "-include").count(), 3);

    let h = c.pch_header(&["udp4_template.h".into()]);
    let includes: Vec<&str> = h.lines().filter(|l| l.starts_with("#include")).collect();
    assert_eq!(includes.len(), 4);
    assert!(includes[0].ends_with("compiler-version.h\""));
    assert_eq!(includes[3], "#include \"udp4_template.h\"");

    let b = c.pch_build_args("pch.h", "pch.h.gch");
    assert!(!b.iter().any(|f| f == "-include"));
    assert_eq!(
        b[b.len() - 6..],
        ["-x", "c-header", "-c", "-o", "pch.h.gch", "pch.h"]
    );
    let u = c.pch_compile_args("pch.h", "gen.c", "gen.o");
    assert_eq!(u.iter().filter(|f| *f == "-include").count(), 1);
    assert!(u.iter().any(|f| f == "-Werror=invalid-pch"));
    // The same flags and defines both times, as gcc needs to use it.
    assert_eq!(b[..b.len() - 6], u[..u.len() - 8]);
}

#[test]
fn refuses_commands_that_are_not_the_objects_compile() {
    let check = |text: &str, msg: &str| {
        assert_eq!(
            CompileCommand::from_cmd_file(text, "a.o").unwrap_err().0,
            msg,
            "{text:?}"
        );
    };
    check(
        "savedcmd_b.o := gcc -c -o b.o b.c",
        "no command for a.o in its .cmd file",
    );
    check(
        "savedcmd_a.o := gcc -c -o b.o a.c",
        "the command writes b.o, not a.o",
    );
    check(
        "savedcmd_a.o := ld -r -o a.o x.o",
        "the command for a.o is not a compile (-c and -o)",
    );
    check(
        "savedcmd_a.o := gcc -c -o a.o a.c; objtool x.o",
        "the command after compiling a.o does not name it: \"objtool x.o\"",
    );
    check("savedcmd_a.o := gcc -c -o", "-o without a file");
    check(
        "savedcmd_a.o := gcc -c -o a.o a.S",
        "the command for a.o names no .c source",
    );
}

#[test]
fn reads_the_link_of_vmlinux_o_and_links_a_module_as_modfinal() {
    let l = LinkCommand::from_cmd_file(
        "savedcmd_vmlinux.o := ld -m elf_x86_64 -z noexecstack --no-warn-rwx-segments -r -o vmlinux.o --whole-archive vmlinux.a",
    )
    .unwrap();
    assert_eq!(l.linker, "ld");
    assert_eq!(l.flags, ["-m", "elf_x86_64", "-z", "noexecstack", "--no-warn-rwx-segments"]);
    assert_eq!(
        l.module_args("a.o", "a.ko")[5..],
        ["-r", "--build-id=sha1", "-T", "scripts/module.lds", "-o", "a.ko", "a.o"]
    );
    let arm = LinkCommand::from_cmd_file(
        "cmd_vmlinux.o := arm-linux-gnueabi-ld -EL -r -o vmlinux.o x.a; true",
    )
    .unwrap();
    assert_eq!((arm.linker.as_str(), arm.flags.as_slice()), ("arm-linux-gnueabi-ld", &["-EL".to_string()][..]));
    // What 7.3's Makefile adds to a module's link, and big-endian ARM's.
    let m = l.clone().for_modules_of(
        "KBUILD_LDFLAGS_MODULE += $(call ld-option,--force-group-allocation)\n",
        "CONFIG_CPU_ENDIAN_BE8=y\n",
    );
    assert_eq!(m.module_flags, ["--build-id=sha1", "--force-group-allocation", "--be8"]);
    assert_eq!(l.clone().for_modules_of("", "").module_flags, ["--build-id=sha1"]);
    assert_eq!(
        LinkCommand::from_cmd_file("savedcmd_vmlinux := ld -o vmlinux").unwrap_err().0,
        "no command for vmlinux.o in its .cmd file"
    );
    assert_eq!(
        LinkCommand::from_cmd_file("savedcmd_vmlinux.o := ld -o vmlinux.o").unwrap_err().0,
        "the command for vmlinux.o is not a relocatable link (-r)"
    );
}

#[test]
fn signs_only_where_the_kernel_checks_signatures() {
    let on = "CONFIG_MODULES=y\nCONFIG_MODULE_SIG=y\nCONFIG_MODULE_SIG_HASH=\"sha256\"\n\
              CONFIG_MODULE_SIG_KEY=\"certs/signing_key.pem\"\n";
    assert_eq!(
        module_sig(on),
        Ok(Some(("sha256".into(), "certs/signing_key.pem".into())))
    );
    assert_eq!(module_sig("CONFIG_MODULES=y\n# CONFIG_MODULE_SIG is not set\n"), Ok(None));
    assert_eq!(
        module_sig("CONFIG_MODULE_SIG=y\nCONFIG_MODULE_SIG_HASH=\"sha256; rm\"\n")
            .unwrap_err()
            .0,
        "CONFIG_MODULE_SIG without a usable CONFIG_MODULE_SIG_HASH"
    );
    assert_eq!(
        module_sig("CONFIG_MODULE_SIG=y\nCONFIG_MODULE_SIG_HASH=\"sha256\"\nCONFIG_MODULE_SIG_KEY=\"pkcs11:token=x\"\n")
            .unwrap_err()
            .0,
        "the signing key \"pkcs11:token=x\" is a PKCS#11 URI, which the engine does not take"
    );
    assert_eq!(
        sign_args("sha256", "certs/signing_key.pem", "a.ko"),
        ["sha256", "certs/signing_key.pem", "certs/signing_key.x509", "a.ko"]
    );
    assert_eq!(modules_unsupported(on), None);
    assert_eq!(
        modules_unsupported("CONFIG_MODVERSIONS=y\n"),
        Some("symbol versions (__versions) are not generated")
    );
    // A prefix of another option is not the option.
    assert_eq!(modules_unsupported("CONFIG_MODVERSIONS_X=y\n"), None);
}

#[test]
fn arm_modules_without_plts_call_far() {
    let arm = "CONFIG_ARM=y\nCONFIG_MODULES=y\n# CONFIG_ARM_MODULE_PLTS is not set\n";
    assert_eq!(module_cflags(arm), ["-mlong-calls"]);
    assert!(module_cflags("CONFIG_ARM=y\nCONFIG_MODULES=y\nCONFIG_ARM_MODULE_PLTS=y\n").is_empty());
    assert!(module_cflags("CONFIG_X86_64=y\nCONFIG_MODULES=y\n").is_empty());
    let c = CompileCommand::from_cmd_file(&testdata("armv4-6.1.cmd"), "net/netspec/udp4.o")
        .unwrap()
        .for_modules_of(arm);
    assert!(source_tree(&c).is_some_and(|t| t.ends_with('/') && !t.contains("net/netspec")));
    let (a, b) = (c.compile_args("gen.c", "gen.o"), c.pch_build_args("pch.h", "pch.h.gch"));
    assert!(a.contains(&"-mlong-calls".to_string()) && b.contains(&"-mlong-calls".to_string()));
}
