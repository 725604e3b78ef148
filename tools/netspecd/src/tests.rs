use crate::cache::Cache;
use crate::context_sha256;
use crate::proto::*;

#[test]
fn checksums_match_their_standard_check_values() {
    assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    assert_eq!(
        context_sha256("abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

fn frames(mut buf: &[u8]) -> (Vec<Frame>, Vec<&'static str>, usize) {
    let (mut out, mut skipped) = (Vec::new(), Vec::new());
    loop {
        match decode(buf, MAX_PAYLOAD) {
            Decoded::Frame(f, n) => {
                out.push(f);
                buf = &buf[n..];
            }
            Decoded::Skip(n, why) => {
                skipped.push(why);
                buf = &buf[n..];
            }
            Decoded::NeedMore => return (out, skipped, buf.len()),
        }
    }
}

#[test]
fn frames_round_trip_and_garbage_is_skipped_to_the_next_one() {
    let a = encode(Kind::Request, b"path=udp4");
    let b = encode(Kind::Error, b"EINVAL no");
    let mut stream = b"garbage NSP".to_vec();
    stream.extend_from_slice(&a);
    stream.extend_from_slice(b"\x00\x01");
    stream.extend_from_slice(&b);
    let (got, skipped, left) = frames(&stream);
    assert_eq!(
        got,
        vec![
            Frame {
                kind: Kind::Request,
                payload: b"path=udp4".to_vec()
            },
            Frame {
                kind: Kind::Error,
                payload: b"EINVAL no".to_vec()
            }
        ]
    );
    assert!(
        !skipped.is_empty() && skipped.iter().all(|w| *w == "not a frame's magic"),
        "{skipped:?}"
    );
    assert_eq!(left, 0);
}

#[test]
fn damaged_frames_are_refused_and_a_cut_one_waits() {
    let good = encode(Kind::Artifact, b"xyz");
    // Every prefix of a frame is only its beginning.
    for n in 0..good.len() {
        assert_eq!(
            decode(&good[..n], MAX_PAYLOAD),
            Decoded::NeedMore,
            "prefix of {n}"
        );
    }
    let check = |bytes: Vec<u8>, why: &str| match decode(&bytes, MAX_PAYLOAD) {
        Decoded::Skip(n, w) => assert!(n >= 1 && w == why, "{w} {n}"),
        other => panic!("{other:?}, expected a skip: {why}"),
    };
    let mut flipped = good.clone();
    flipped[11] ^= 1;
    check(flipped, "checksum mismatch");
    let mut version = good.clone();
    version[4] = 9;
    check(version, "unknown protocol version");
    let mut kind = good.clone();
    kind[5] = 7;
    check(kind, "unknown frame kind");
    let mut huge = good.clone();
    huge[6..10].copy_from_slice(&(MAX_PAYLOAD + 1).to_le_bytes());
    check(huge, "payload length over the limit");
    // The server reads requests only: a longer frame's header is skipped
    // at once rather than waited for.
    let long = encode(Kind::Request, &[b'a'; 2000]);
    assert_eq!(
        decode(&long[..HEADER_LEN], MAX_REQUEST),
        Decoded::Skip(HEADER_LEN, "payload length over the limit")
    );
}

const ID: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567";

#[test]
fn requests_carry_only_scalars() {
    let ok = format!("nonce=7\nbuild-id={ID}\npath=udp4\ncsum=partial\n");
    let r = Request::parse(ok.as_bytes()).unwrap();
    assert_eq!(r.build_id, ID);
    assert_eq!(
        r.context,
        engine::Context {
            path: "udp4".into(),
            values: vec![("csum".into(), "partial".into())]
        }
    );
    assert_eq!(Request::parse(&r.encode()).unwrap(), r);

    let check = |payload: &[u8], code: &str, msg: &str| {
        let e = Request::parse(payload).unwrap_err();
        assert_eq!((e.code, e.msg.as_str()), (code, msg), "{payload:?}");
    };
    check(b"build-id=00\npath=udp4\n", "EINVAL", "no nonce");
    check(b"nonce=1\npath=udp4\n", "EINVAL", "no build-id");
    check(
        format!("nonce=1\nbuild-id={ID}\n").as_bytes(),
        "EINVAL",
        "no path",
    );
    check(
        b"nonce=1\nbuild-id=ffffffff8100000\npath=udp4",
        "EINVAL",
        "build-id \"ffffffff8100000\" is not a hex build id",
    );
    check(
        b"build-id=ABCDEF0123456789\npath=udp4",
        "EINVAL",
        "not a scalar: \"build-id=ABCDEF0123456789\"",
    );
    check(
        format!("nonce=1\nbuild-id={ID}\npath=udp4\ndaddr=10.0.0.1/8").as_bytes(),
        "EINVAL",
        "not a scalar: \"daddr=10.0.0.1/8\"",
    );
    check(
        format!("nonce=1\nbuild-id={ID}\npath=udp4\npath=udp6").as_bytes(),
        "EINVAL",
        "path given twice",
    );
    check(b"csum", "EINVAL", "not key=value: \"csum\"");
    check(b"\xff\xfe", "EINVAL", "not UTF-8");
    check(
        &[b'a'; MAX_REQUEST as usize + 1],
        "E2BIG",
        "request of 1025 bytes, at most 1024",
    );
}

#[test]
fn an_artifact_is_refused_for_another_kernel_or_context() {
    let b = Binding {
        build_id: ID.into(),
        context_sha256: context_sha256("udp4 csum=none"),
        symbol: "netspec_gen_udp4_send".into(),
    };
    let payload = encode_artifact("n1", &b, b"\x7fELF....");
    assert_eq!(parse_artifact(&payload, "n1", &b).unwrap(), b"\x7fELF....");
    assert_eq!(
        parse_artifact(&payload, "n2", &b).unwrap_err().msg,
        "a reply to another request"
    );
    let check = |expect: &Binding, payload: &[u8], msg: &str| {
        assert_eq!(parse_artifact(payload, "n1", expect).unwrap_err().msg, msg);
    };
    check(
        &Binding {
            build_id: "ff".repeat(20),
            ..b.clone()
        },
        &payload,
        "artifact made for another kernel build",
    );
    check(
        &Binding {
            context_sha256: context_sha256("udp4 csum=partial"),
            ..b.clone()
        },
        &payload,
        "artifact made for another context",
    );
    check(
        &Binding {
            symbol: "other".into(),
            ..b.clone()
        },
        &payload,
        "artifact defines another function",
    );
    check(
        &b,
        &encode_artifact("n1", &b, b"MZ"),
        "artifact object is not ELF",
    );
    check(&b, b"build-id=00", "artifact without a binding");
}

#[test]
fn replies_carry_the_requests_nonce() {
    assert_eq!(request_nonce(b"path=x\nnonce=42\n").as_deref(), Some("42"));
    assert_eq!(request_nonce(b"nonce=4/2\n"), None);
    assert_eq!(request_nonce(b"\xff"), None);
    let r = Refusal {
        code: "ENOENT",
        msg: "no kernel build ff here".into(),
    };
    assert_eq!(
        parse_error(&encode_error(Some("42"), &r)),
        (
            Some("42".to_string()),
            "ENOENT no kernel build ff here".to_string()
        )
    );
    assert_eq!(
        parse_error(&encode_error(None, &r)),
        (None, "ENOENT no kernel build ff here".to_string())
    );
}

#[test]
fn the_cache_evicts_the_least_recently_used() {
    let mut c = Cache::new(2);
    c.insert("k", "a", 1);
    c.insert("k", "b", 2);
    assert_eq!(c.get("k", "a"), Some(1));
    c.insert("k", "c", 3);
    assert_eq!(
        (c.get("k", "b"), c.get("k", "a"), c.get("k", "c"), c.len()),
        (None, Some(1), Some(3), 2)
    );
    assert_eq!(c.get("other-kernel", "a"), None);
    c.insert("k", "a", 4);
    assert_eq!((c.get("k", "a"), c.len()), (Some(4), 2));
}
