//! The guest's `# bench:` lines (vm-tests/bench/bench.c) as values.

use serde::{Deserialize, Serialize};

/// Everything one boot measured.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub stream: Vec<StreamRow>,
    pub path: Vec<PathRow>,
    pub customize: Option<Customize>,
    /// The firewall the guest loaded, if the kernel has nf_tables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub netfilter: Option<Netfilter>,
}

/// The stateful firewall of a distro-like bench kernel (vm-tests/include/nft.h).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Netfilter {
    /// `conntrack`: a rule reading the conntrack state in input and output.
    pub firewall: String,
    /// Flows conntrack held after the streams.
    pub tracked: u64,
}

/// One stream test: a protocol, a link, an ADU size and a sender.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StreamRow {
    pub proto: String,
    pub link: String,
    pub adu: u64,
    pub sender: String,
    pub outcome: Outcome,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Outcome {
    /// Measured: bytes sent and received after the warm-up, the sender's
    /// instructions inside its batches, and the elapsed instructions of the
    /// whole exchange (sender, receiver and their handshakes).
    Measured { tx_bytes: u64, rx_bytes: u64, sender_ns: u64, elapsed_ns: u64, mss: u64 },
    /// The kernel refused the sender; the errno it answered.
    Unsupported { err: String },
    /// The sender does not exist in the kernel (no system call for it).
    Absent,
}

/// One send-path measurement on the dummy device.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PathRow {
    pub adu: u64,
    pub sender: String,
    pub calls: u64,
    pub ns: u64,
}

/// Customize of a new context (miss) against the same context again (hit).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Customize {
    pub n: u64,
    pub miss_ns: u64,
    pub hit_ns: u64,
    /// How many of the hits shared the missed instance (must be `n`).
    pub shared: u64,
}

/// A line that looked like a measurement but could not be read.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "console line {}: {}", self.line, self.message)
    }
}

const PREFIX: &str = "# bench: ";

/// Reads every `# bench:` line of a console log. Lines the guest printed
/// about a failure (no `key=value` fields) are diagnostics; so is any field
/// that is missing or not a number.
pub fn parse(console: &str) -> (Run, Vec<Diagnostic>) {
    let mut run = Run::default();
    let mut diags = Vec::new();
    let mut miss: Option<(u64, u64)> = None;
    for (i, raw) in console.lines().enumerate() {
        let Some(at) = raw.find(PREFIX) else { continue };
        let rest = raw[at + PREFIX.len()..].trim_end_matches('\r');
        let (kind, fields) = rest.split_once(' ').unwrap_or((rest, ""));
        let f = Fields::new(fields);
        let mut diag = |message: String| diags.push(Diagnostic { line: i + 1, message });
        if !f.is_fields() {
            diag(format!("the guest reports: {rest}"));
            continue;
        }
        let result = match kind {
            "stream" => stream_row(&f).map(|r| run.stream.push(r)),
            "path" => (|| {
                Ok(run.path.push(PathRow {
                    adu: f.num("adu")?,
                    sender: f.text("sender")?.to_string(),
                    calls: f.num("calls")?,
                    ns: f.num("ns")?,
                }))
            })(),
            "customize" => (|| {
                let (n, ns) = (f.num("n")?, f.num("ns")?);
                match f.text("kind")? {
                    "miss" => miss = Some((n, ns)),
                    "hit" => {
                        let Some((miss_n, miss_ns)) = miss else {
                            return Err("a hit before its miss".to_string());
                        };
                        if miss_n != n {
                            return Err(format!("{n} hits against {miss_n} misses"));
                        }
                        run.customize = Some(Customize { n, miss_ns, hit_ns: ns, shared: f.num("shared")? });
                    }
                    other => return Err(format!("unknown customize kind {other:?}")),
                }
                Ok(())
            })(),
            "netfilter" => (|| {
                run.netfilter = Some(Netfilter { firewall: f.text("firewall")?.to_string(), tracked: f.num("tracked")? });
                Ok(())
            })(),
            other => Err(format!("unknown measurement {other:?}")),
        };
        if let Err(e) = result {
            diag(e);
        }
    }
    (run, diags)
}

fn stream_row(f: &Fields) -> Result<StreamRow, String> {
    let outcome = match f.get("status") {
        Some("unsupported") => Outcome::Unsupported { err: f.text("err")?.to_string() },
        Some("absent") => Outcome::Absent,
        Some(other) => return Err(format!("unknown status {other:?}")),
        None => Outcome::Measured {
            tx_bytes: f.num("tx_bytes")?,
            rx_bytes: f.num("rx_bytes")?,
            sender_ns: f.num("sender_ns")?,
            elapsed_ns: f.num("elapsed_ns")?,
            mss: f.num("mss")?,
        },
    };
    Ok(StreamRow {
        proto: f.text("proto")?.to_string(),
        link: f.text("link")?.to_string(),
        adu: f.num("adu")?,
        sender: f.text("sender")?.to_string(),
        outcome,
    })
}

/// `key=value` fields separated by spaces.
struct Fields<'a>(Vec<(&'a str, &'a str)>, bool);

impl<'a> Fields<'a> {
    fn new(s: &'a str) -> Self {
        let mut all = true;
        let mut v = Vec::new();
        for w in s.split_whitespace() {
            match w.split_once('=') {
                Some(kv) => v.push(kv),
                None => all = false,
            }
        }
        Fields(v, all && !s.trim().is_empty())
    }
    fn is_fields(&self) -> bool {
        self.1
    }
    fn get(&self, key: &str) -> Option<&'a str> {
        self.0.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }
    fn text(&self, key: &str) -> Result<&'a str, String> {
        self.get(key).ok_or_else(|| format!("no {key}="))
    }
    fn num(&self, key: &str) -> Result<u64, String> {
        let v = self.text(key)?;
        v.parse().map_err(|_| format!("{key}={v:?} is not a count"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected_run: Run, expected_diags: &[&str]) {
        let (run, diags) = parse(input);
        assert_eq!(run, expected_run);
        let d: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
        assert_eq!(d, expected_diags);
    }

    #[test]
    fn measured_unsupported_and_absent_rows() {
        let log = "[    1.0] some kernel line\n\
            \x20   # bench: stream proto=udp link=lo adu=64 sender=send batches=32 batch=64 tx_bytes=131072 rx_bytes=131072 sender_ns=9000000 elapsed_ns=20000000 mss=0\r\n\
            \x20   # bench: stream proto=udp link=lo adu=64 sender=io_uring status=unsupported err=ENOSYS\n\
            \x20   # bench: stream proto=udp link=lo adu=64 sender=customized_send-batch status=absent\n";
        let row = |sender: &str, outcome| StreamRow {
            proto: "udp".into(),
            link: "lo".into(),
            adu: 64,
            sender: sender.into(),
            outcome,
        };
        let run = Run {
            stream: vec![
                row(
                    "send",
                    Outcome::Measured {
                        tx_bytes: 131072,
                        rx_bytes: 131072,
                        sender_ns: 9000000,
                        elapsed_ns: 20000000,
                        mss: 0,
                    },
                ),
                row("io_uring", Outcome::Unsupported { err: "ENOSYS".into() }),
                row("customized_send-batch", Outcome::Absent),
            ],
            ..Run::default()
        };
        check(log, run, &[]);
    }

    #[test]
    fn path_and_customize() {
        let log = "# bench: path sink=dummy adu=64 sender=send calls=2048 ns=4096000\n\
            # bench: customize kind=miss n=64 ns=640000\n\
            # bench: customize kind=hit n=64 ns=64000 shared=64\n";
        let run = Run {
            path: vec![PathRow { adu: 64, sender: "send".into(), calls: 2048, ns: 4096000 }],
            customize: Some(Customize { n: 64, miss_ns: 640000, hit_ns: 64000, shared: 64 }),
            ..Run::default()
        };
        check(log, run, &[]);
    }

    #[test]
    fn netfilter_line() {
        let log = "# bench: netfilter firewall=conntrack tracked=37\n";
        let run = Run { netfilter: Some(Netfilter { firewall: "conntrack".into(), tracked: 37 }), ..Run::default() };
        check(log, run, &[]);
        check("# bench: netfilter: no nf_conntrack_count\n", Run::default(), &[
            "console line 1: the guest reports: netfilter: no nf_conntrack_count",
        ]);
    }

    #[test]
    fn failures_and_bad_fields_are_diagnostics() {
        let log = "# bench: stream udp lo 64 send: send failed: ENOBUFS (-105)\n\
            # bench: path sink=dummy adu=x sender=send calls=1 ns=1\n\
            # bench: customize kind=hit n=1 ns=1 shared=1\n\
            # bench: stream proto=udp link=lo adu=64 sender=send\n\
            # bench: frobnicate a=1\n";
        check(
            log,
            Run::default(),
            &[
                "console line 1: the guest reports: stream udp lo 64 send: send failed: ENOBUFS (-105)",
                "console line 2: adu=\"x\" is not a count",
                "console line 3: a hit before its miss",
                "console line 4: no tx_bytes=",
                "console line 5: unknown measurement \"frobnicate\"",
            ],
        );
    }
}
