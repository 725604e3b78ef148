//! The wire protocol between a device's agent and `netspecd`.
//!
//! The channel is a byte stream that may be a serial line (collie's second
//! UART), so every frame is self-delimiting and checked, and a reader that
//! meets garbage skips to the next magic instead of giving up:
//!
//! ```text
//! "NSPD"  version:u8  kind:u8  length:u32le  payload[length]  crc32:u32le
//! ```
//!
//! The CRC (IEEE 802.3) covers version, kind, length and payload. A
//! request's payload is text, one `key=value` per line: `nonce` (a word
//! the device picks per request, echoed in the reply, so that a late reply
//! to an earlier request is never taken for this one's), `build-id` (the
//! device kernel's GNU build id, hex), `path` (a `kernel-variants.toml`
//! path) and one line per compile-time parameter of that path. Values are
//! short words of `[a-z0-9_.-]`: only sanitized scalars leave the device,
//! never an address or a byte of kernel memory. An artifact's payload is
//! `nonce=` and its binding (`build-id`, `context-sha256`, `symbol`), one
//! per line, a blank line, and the object. An error's payload is `nonce=`
//! and a line `<code> <message>`; without the `nonce=` line when the
//! request had none that could be read.

/// The frame's first four bytes.
pub const MAGIC: &[u8; 4] = b"NSPD";
pub const VERSION: u8 = 1;
/// The largest payload a device accepts (`NS_MAX_PAYLOAD` of
/// vm-tests/include/nsproto.h): an object is a few to tens of KB.
pub const MAX_PAYLOAD: u32 = 256 << 10;
/// The largest request, and so the largest frame the server reads: a few
/// short lines.
pub const MAX_REQUEST: u32 = 1024;
const HEADER: usize = 10;
/// A frame's header: magic, version, kind, length.
pub const HEADER_LEN: usize = HEADER;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Request = 1,
    Artifact = 2,
    Error = 3,
}

impl Kind {
    fn from_u8(b: u8) -> Option<Kind> {
        match b {
            1 => Some(Kind::Request),
            2 => Some(Kind::Artifact),
            3 => Some(Kind::Error),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub kind: Kind,
    pub payload: Vec<u8>,
}

/// What the start of a buffer holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    /// A whole frame, and the bytes it took.
    Frame(Frame, usize),
    /// A frame's beginning: read more.
    NeedMore,
    /// Bytes that start no valid frame, to drop, and why.
    Skip(usize, &'static str),
}

pub fn encode(kind: Kind, payload: &[u8]) -> Vec<u8> {
    assert!(
        payload.len() as u64 <= MAX_PAYLOAD as u64,
        "payload over MAX_PAYLOAD"
    );
    let mut f = Vec::with_capacity(HEADER + payload.len() + 4);
    f.extend_from_slice(MAGIC);
    f.push(VERSION);
    f.push(kind as u8);
    f.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    f.extend_from_slice(payload);
    let crc = crc32(&f[4..]);
    f.extend_from_slice(&crc.to_le_bytes());
    f
}

/// Decodes the frame at the start of `buf`, of at most `max` payload
/// bytes (a larger length is garbage: the server reads requests only, so
/// it passes [`MAX_REQUEST`], and a false length cannot stall it). Never
/// panics; garbage is skipped up to the next possible magic.
pub fn decode(buf: &[u8], max: u32) -> Decoded {
    let skip_to_magic = |from: usize, why| {
        let next = (from..buf.len()).find(|&i| MAGIC.starts_with(&buf[i..(i + 4).min(buf.len())]));
        Decoded::Skip(next.unwrap_or(buf.len()).max(1), why)
    };
    let n = buf.len().min(4);
    if buf[..n] != MAGIC[..n] {
        return skip_to_magic(1, "not a frame's magic");
    }
    if buf.len() < HEADER {
        return Decoded::NeedMore;
    }
    if buf[4] != VERSION {
        return skip_to_magic(1, "unknown protocol version");
    }
    let Some(kind) = Kind::from_u8(buf[5]) else {
        return skip_to_magic(1, "unknown frame kind");
    };
    let len = u32::from_le_bytes(buf[6..10].try_into().expect("4 bytes"));
    if len > max.min(MAX_PAYLOAD) {
        return skip_to_magic(1, "payload length over the limit");
    }
    let end = HEADER + len as usize;
    if buf.len() < end + 4 {
        return Decoded::NeedMore;
    }
    let crc = u32::from_le_bytes(buf[end..end + 4].try_into().expect("4 bytes"));
    if crc != crc32(&buf[4..end]) {
        return skip_to_magic(1, "checksum mismatch");
    }
    Decoded::Frame(
        Frame {
            kind,
            payload: buf[HEADER..end].to_vec(),
        },
        end + 4,
    )
}

/// CRC-32 (IEEE 802.3, reflected, as zlib's `crc32`).
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A request, parsed and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub nonce: String,
    pub build_id: String,
    pub context: engine::Context,
}

/// Why a request or an artifact is refused; `code` is what the error frame
/// carries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {msg}")]
pub struct Refusal {
    pub code: &'static str,
    pub msg: String,
}

fn refuse<T>(code: &'static str, msg: impl Into<String>) -> Result<T, Refusal> {
    Err(Refusal {
        code,
        msg: msg.into(),
    })
}

fn word_ok(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 64
        && v.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b))
}

fn lines(payload: &[u8]) -> Result<Vec<(String, String)>, Refusal> {
    let Ok(text) = std::str::from_utf8(payload) else {
        return refuse("EINVAL", "not UTF-8");
    };
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let Some((k, v)) = line.split_once('=') else {
            return refuse("EINVAL", format!("not key=value: {line:?}"));
        };
        if !word_ok(k) || !word_ok(v) {
            return refuse("EINVAL", format!("not a scalar: {line:?}"));
        }
        if out.iter().any(|(o, _)| o == k) {
            return refuse("EINVAL", format!("{k} given twice"));
        }
        out.push((k.to_string(), v.to_string()));
    }
    Ok(out)
}

fn build_id_ok(v: &str) -> bool {
    (16..=64).contains(&v.len())
        && v.len() % 2 == 0
        && v.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

impl Request {
    pub fn encode(&self) -> Vec<u8> {
        let mut s = format!(
            "nonce={}\nbuild-id={}\npath={}\n",
            self.nonce, self.build_id, self.context.path
        );
        for (k, v) in &self.context.values {
            s.push_str(&format!("{k}={v}\n"));
        }
        s.into_bytes()
    }

    /// Parses a request payload; the values are checked against the path
    /// later, by the engine, which knows the path's parameters.
    pub fn parse(payload: &[u8]) -> Result<Request, Refusal> {
        if payload.len() > MAX_REQUEST as usize {
            return refuse(
                "E2BIG",
                format!("request of {} bytes, at most {MAX_REQUEST}", payload.len()),
            );
        }
        let mut kv = lines(payload)?;
        let mut take = |key: &str| -> Result<String, Refusal> {
            match kv.iter().position(|(k, _)| k == key) {
                Some(i) => Ok(kv.remove(i).1),
                None => refuse("EINVAL", format!("no {key}")),
            }
        };
        let nonce = take("nonce")?;
        let build_id = take("build-id")?;
        if !build_id_ok(&build_id) {
            return refuse(
                "EINVAL",
                format!("build-id {build_id:?} is not a hex build id"),
            );
        }
        let path = take("path")?;
        Ok(Request {
            nonce,
            build_id,
            context: engine::Context { path, values: kv },
        })
    }
}

/// The request's nonce, if a line of it can be read, for the reply to a
/// request that is refused.
pub fn request_nonce(payload: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(payload.get(..payload.len().min(MAX_REQUEST as usize))?).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("nonce="))
        .filter(|v| word_ok(v))
        .map(String::from)
}

/// What binds an artifact to the kernel and context it was made for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub build_id: String,
    /// SHA-256 of the context's canonical text, hex.
    pub context_sha256: String,
    /// The function the object defines.
    pub symbol: String,
}

pub fn encode_artifact(nonce: &str, b: &Binding, object: &[u8]) -> Vec<u8> {
    let mut p = format!(
        "nonce={nonce}\nbuild-id={}\ncontext-sha256={}\nsymbol={}\n\n",
        b.build_id, b.context_sha256, b.symbol
    )
    .into_bytes();
    p.extend_from_slice(object);
    p
}

/// Splits an artifact payload into its binding and object, refusing a
/// reply to another request than `nonce`'s and one bound to another
/// kernel or context than `expect`'s.
pub fn parse_artifact<'a>(
    payload: &'a [u8],
    nonce: &str,
    expect: &Binding,
) -> Result<&'a [u8], Refusal> {
    let Some(split) = payload.windows(2).position(|w| w == b"\n\n") else {
        return refuse("EBADMSG", "artifact without a binding");
    };
    let kv = lines(&payload[..split])?;
    let get = |k: &str| kv.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    if get("nonce") != Some(nonce) {
        return refuse("ESTALE", "a reply to another request");
    }
    if get("build-id") != Some(&expect.build_id) {
        return refuse("EKEYREJECTED", "artifact made for another kernel build");
    }
    if get("context-sha256") != Some(&expect.context_sha256) {
        return refuse("EKEYREJECTED", "artifact made for another context");
    }
    if get("symbol") != Some(&expect.symbol) {
        return refuse("EKEYREJECTED", "artifact defines another function");
    }
    let object = &payload[split + 2..];
    if !object.starts_with(b"\x7fELF") {
        return refuse("ENOEXEC", "artifact object is not ELF");
    }
    Ok(object)
}

pub fn encode_error(nonce: Option<&str>, r: &Refusal) -> Vec<u8> {
    match nonce {
        Some(n) => format!("nonce={n}\n{} {}", r.code, r.msg),
        None => format!("{} {}", r.code, r.msg),
    }
    .into_bytes()
}

/// An error payload's nonce (if it has one) and its `<code> <message>`.
pub fn parse_error(payload: &[u8]) -> (Option<String>, String) {
    let text = String::from_utf8_lossy(payload);
    match text.split_once('\n') {
        Some((first, rest)) if first.starts_with("nonce=") => {
            (Some(first["nonce=".len()..].to_string()), rest.to_string())
        }
        _ => (None, text.to_string()),
    }
}
