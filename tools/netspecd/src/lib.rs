//! `netspecd`, the remote customization server of issue 16 (the second
//! paper): a device sends a send context's scalar values and its kernel's
//! build id; the server generates the context's code (`tools/engine`),
//! compiles it with the command kbuild used for that kernel, and answers
//! with the object, bound to the build id and the context's hash.
//!
//! The library holds the protocol ([`proto`]) and the cache ([`cache`]):
//! values in, values out. The binary (`main.rs`) owns the sockets and runs
//! the compiler.

pub mod cache;
pub mod proto;

use sha2::{Digest, Sha256};

/// SHA-256 of a context's canonical text, hex: what an artifact is bound
/// to and the cache is keyed by.
pub fn context_sha256(canonical: &str) -> String {
    Sha256::digest(canonical.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests;
