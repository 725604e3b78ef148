//! What the measurements say: rates, instructions per ADU and per call,
//! the paper's model, the markdown, and the comparison of two runs.

use std::fmt::Write;

use serde::{Deserialize, Serialize};

use crate::parse::{Outcome, Run, StreamRow};
use crate::symbols::CodeSize;

/// One arch's results, as stored in `target/bench/<base>/<arch>.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Results {
    pub arch: String,
    pub base: String,
    /// A digest of the kernel image and the guest program: two runs with
    /// the same inputs must give the same figures.
    pub inputs: String,
    pub run: Run,
    pub code: CodeSize,
    /// The compiler's optimization level of the kernel ("-O2", "-Os"), read
    /// from its `.config` by `cargo xtask bench`; empty in results stored
    /// before it was recorded.
    #[serde(default)]
    pub optimize: String,
}

/// A derived figure, named so that two runs can be compared.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    pub key: String,
    pub value: f64,
}

const BASELINE: &str = "send";
const SPECIALIZED: &str = "customized_send";
const BATCH: &str = "customized_send-batch";
const GSO: &str = "udp-gso";
const BATCH_PEER: &str = "udp-gso-64";
const MAPPED_BASELINE: &str = "send-v4mapped";
const MAPPED: &str = "customized_send-v4mapped";

fn measured(r: &StreamRow) -> Option<(u64, u64, u64, u64)> {
    match r.outcome {
        Outcome::Measured { tx_bytes, rx_bytes, sender_ns, elapsed_ns, .. } if elapsed_ns > 0 && tx_bytes > 0 => {
            Some((tx_bytes, rx_bytes, sender_ns, elapsed_ns))
        }
        _ => None,
    }
}

/// Bytes received per guest second.
fn throughput(r: &StreamRow) -> Option<f64> {
    measured(r).map(|(_, rx, _, el)| rx as f64 * 1e9 / el as f64)
}

/// The sender's instructions per ADU it sent.
fn sender_per_adu(r: &StreamRow) -> Option<f64> {
    measured(r).map(|(tx, _, s, _)| s as f64 / (tx as f64 / r.adu as f64))
}

/// All instructions (sender, receiver, handshakes) per ADU received.
fn elapsed_per_adu(r: &StreamRow) -> Option<f64> {
    measured(r).filter(|m| m.1 > 0).map(|(_, rx, _, el)| el as f64 / (rx as f64 / r.adu as f64))
}

fn path_per_call(run: &Run, adu: u64, sender: &str) -> Option<f64> {
    run.path.iter().find(|p| p.adu == adu && p.sender == sender && p.calls > 0).map(|p| p.ns as f64 / p.calls as f64)
}

fn group_key(r: &StreamRow) -> String {
    format!("{} {} {}", r.proto, r.link, r.adu)
}

fn baseline<'a>(run: &'a Run, r: &StreamRow) -> Option<&'a StreamRow> {
    run.stream.iter().find(|b| group_key(b) == group_key(r) && b.sender == BASELINE)
}

/// Every derived figure of a run, by name.
pub fn figures(res: &Results) -> Vec<Figure> {
    let mut v = Vec::new();
    let mut push = |key: String, value: Option<f64>| {
        if let Some(value) = value {
            v.push(Figure { key, value });
        }
    };
    let run = &res.run;
    for r in &run.stream {
        let k = format!("stream {} {}", group_key(r), r.sender);
        push(format!("{k} throughput"), throughput(r));
        push(format!("{k} sender instructions/ADU"), sender_per_adu(r));
    }
    for p in &run.path {
        push(format!("path {} {} instructions/call", p.adu, p.sender), path_per_call(run, p.adu, &p.sender));
    }
    if let Some(c) = &run.customize {
        push("customize miss instructions".into(), per(c.miss_ns, c.n));
        push("customize hit instructions".into(), per(c.hit_ns, c.n));
    }
    push("code specialized bytes".into(), Some(res.code.specialized_total() as f64));
    push("code generic bytes".into(), Some(res.code.generic_total() as f64));
    v
}

fn per(a: u64, n: u64) -> Option<f64> {
    (n > 0).then(|| a as f64 / n as f64)
}

/// A figure that moved between two runs (or exists in only one).
#[derive(Clone, Debug, PartialEq)]
pub struct Deviation {
    pub key: String,
    pub before: Option<f64>,
    pub after: Option<f64>,
    /// |after - before| / before; infinite when one side is missing.
    pub relative: f64,
}

impl std::fmt::Display for Deviation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |x: Option<f64>| x.map_or("missing".to_string(), |x| format!("{x:.1}"));
        match (self.before, self.after) {
            (Some(b), Some(a)) if b != 0.0 => {
                write!(f, "{}: {} -> {} ({:+.3}%)", self.key, show(self.before), show(self.after), (a / b - 1.0) * 100.0)
            }
            _ => write!(f, "{}: {} -> {}", self.key, show(self.before), show(self.after)),
        }
    }
}

/// Every figure of either run, with its relative change, largest first.
pub fn compare(before: &Results, after: &Results) -> Vec<Deviation> {
    let (b, a) = (figures(before), figures(after));
    let mut out: Vec<Deviation> = Vec::new();
    for f in &b {
        let other = a.iter().find(|x| x.key == f.key).map(|x| x.value);
        let relative = match other {
            Some(x) if f.value == x => 0.0,
            Some(x) if f.value != 0.0 => ((x - f.value) / f.value).abs(),
            _ => f64::INFINITY,
        };
        out.push(Deviation { key: f.key.clone(), before: Some(f.value), after: other, relative });
    }
    for f in a.iter().filter(|f| !b.iter().any(|x| x.key == f.key)) {
        out.push(Deviation { key: f.key.clone(), before: None, after: Some(f.value), relative: f64::INFINITY });
    }
    out.sort_by(|x, y| y.relative.total_cmp(&x.relative).then_with(|| x.key.cmp(&y.key)));
    out
}

/// The paper's model for one UDP stream test.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelRow {
    pub test: String,
    /// The code speedup: 1 - specialized / generic send-path instructions.
    pub eps: f64,
    /// The specialization goodness v/u: the generic send path's
    /// instructions against everything else an ADU costs in the stream.
    pub g: f64,
    pub predicted: f64,
    pub measured: f64,
}

/// P = (1+g)/(1+g(1-eps)) - 1, with eps and v from the send-path figures of
/// the same ADU size (null system call subtracted) and u the rest of the
/// send() stream's instructions per ADU; measured P is the throughput of
/// customized_send() against send() in the same stream test.
pub fn model(run: &Run) -> Vec<ModelRow> {
    let mut rows = Vec::new();
    for r in run.stream.iter().filter(|r| r.proto == "udp" && r.sender == BASELINE) {
        let Some(spec) = run.stream.iter().find(|s| group_key(s) == group_key(r) && s.sender == SPECIALIZED) else {
            continue;
        };
        let null = path_per_call(run, r.adu, "null-syscall");
        let (Some(gen), Some(sp), Some(null), Some(total), Some(t0), Some(t1)) = (
            path_per_call(run, r.adu, BASELINE),
            path_per_call(run, r.adu, SPECIALIZED),
            null,
            elapsed_per_adu(r),
            throughput(r),
            throughput(spec),
        ) else {
            continue;
        };
        let (v, vs) = (gen - null, sp - null);
        if v <= 0.0 || total <= v {
            continue;
        }
        let eps = 1.0 - vs / v;
        let g = v / (total - v);
        rows.push(ModelRow {
            test: format!("UDP {} {} B", r.link, r.adu),
            eps,
            g,
            predicted: (1.0 + g) / (1.0 + g * (1.0 - eps)) - 1.0,
            measured: t1 / t0 - 1.0,
        });
    }
    rows
}

/// The send-path row a sender's is compared with: a batch with the
/// UDP_SEGMENT send of as many ADUs, the token of an IPv6 socket with
/// send() on that socket, anything else with send().
fn path_peer(sender: &str) -> &'static str {
    match sender {
        s if s.ends_with("-64") => BATCH_PEER,
        MAPPED => MAPPED_BASELINE,
        _ => BASELINE,
    }
}

fn sender_label(s: &str) -> &str {
    match s {
        "send" => "send()",
        "sendto" => "sendto()",
        "sendmmsg" => "sendmmsg(), 64 a call",
        "udp-gso" => "UDP GSO (UDP_SEGMENT), 64 a batch",
        "io_uring" => "io_uring IORING_OP_SEND, fixed file, 64 an enter",
        "io_uring-zc" => "io_uring IORING_OP_SEND_ZC, fixed file, registered buffer, 64 an enter",
        "customized_send" => "customized_send()",
        "customized_send-batch" => "batched customized_send()",
        "customized_send-generic" => "customized_send(), empty context (generic path)",
        "null-syscall" => "null system call (getppid)",
        "udp-gso-64" => "UDP_SEGMENT send() of 64 ADUs (one GSO packet), per call",
        "customized_send-batch-64" => "batched customized_send() of 64 ADUs (one GSO packet), per call",
        "send-v4mapped" => "send() on an IPv6 socket, v4-mapped peer",
        "customized_send-v4mapped" => "customized_send() on an IPv6 socket, v4-mapped peer",
        other => other,
    }
}

fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.3}", a / b),
        _ => "-".into(),
    }
}

fn opt(x: Option<f64>, digits: usize) -> String {
    x.map_or("-".into(), |x| format!("{x:.digits$}"))
}

/// The markdown of one or more arches' results.
pub fn render(all: &[Results]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# netspec benchmarks\n");
    let _ = writeln!(
        s,
        "QEMU TCG with `-icount shift=0,sleep=off`: one guest nanosecond is one executed instruction, \
         so every figure is an instruction count (a \"guest second\" is 10^9 instructions). \
         Bench kernel profile (no debug options; each arch's heading gives the compiler's optimization level), \
         one boot per arch, every comparison inside that boot."
    );
    summary(&mut s, all);
    for r in all {
        arch_section(&mut s, r);
    }
    s
}

fn summary(s: &mut String, all: &[Results]) {
    let _ = writeln!(s, "\n## Summary\n");
    let _ = writeln!(
        s,
        "| arch | UDP lo 64 B | UDP lo 1 KB | UDP veth 64 B | UDP veth 1 KB | send path, 64 B (generic / specialized) | code (generic / specialized, one variant) | customize miss / hit |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|---:|");
    for r in all {
        let run = &r.run;
        let gain = |link: &str, adu: u64| {
            let find = |sender: &str| udp_row(run, link, adu, sender);
            match (find(SPECIALIZED).and_then(throughput), find(BASELINE).and_then(throughput)) {
                (Some(a), Some(b)) => format!("{:+.1}%", (a / b - 1.0) * 100.0),
                _ => "-".into(),
            }
        };
        let null = path_per_call(run, 64, "null-syscall").unwrap_or(0.0);
        let path = match (path_per_call(run, 64, BASELINE), path_per_call(run, 64, SPECIALIZED)) {
            (Some(g), Some(sp)) => format!("{:.0} / {:.0} ({:.2}x)", g - null, sp - null, (g - null) / (sp - null)),
            _ => "-".into(),
        };
        let c = &r.code;
        let code = format!(
            "{} / {} B ({:.2}x)",
            c.generic_total(),
            c.specialized_one_variant(),
            c.generic_total() as f64 / c.specialized_one_variant().max(1) as f64
        );
        let cust = run.customize.as_ref().map_or("-".into(), |c| {
            format!("{:.0} / {:.0}", c.miss_ns as f64 / c.n as f64, c.hit_ns as f64 / c.n as f64)
        });
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            r.arch,
            gain("lo", 64),
            gain("lo", 1024),
            gain("veth", 64),
            gain("veth", 1024),
            path,
            code,
            cust
        );
    }
    let _ = writeln!(
        s,
        "\nUDP columns: throughput of customized_send() against send() in the same stream test. \
         Send path: instructions per call to a dummy device, a null system call subtracted. \
         Code: text bytes of the functions each path runs (see each arch's list). \
         Customize: instructions of NETSPEC_OP_CUSTOMIZE."
    );
    batch_summary(s, all);
}

/// The UDP stream row of one sender over one link at one ADU.
fn udp_row<'a>(run: &'a Run, link: &str, adu: u64, sender: &str) -> Option<&'a StreamRow> {
    run.stream.iter().find(|x| x.proto == "udp" && x.link == link && x.adu == adu && x.sender == sender)
}

/// The batched token's throughput against UDP GSO's, per UDP stream test.
pub fn batch_vs_gso(run: &Run, link: &str, adu: u64) -> Option<f64> {
    let find = |sender: &str| udp_row(run, link, adu, sender);
    match (find(BATCH).and_then(throughput), find(GSO).and_then(throughput)) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

fn batch_summary(s: &mut String, all: &[Results]) {
    let _ = writeln!(s, "\n| arch | batch / UDP GSO, lo 64 B | lo 1 KB | veth 64 B | veth 1 KB |");
    let _ = writeln!(s, "|---|---:|---:|---:|---:|");
    for r in all {
        let cell = |link: &str, adu: u64| opt(batch_vs_gso(&r.run, link, adu), 3);
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} |",
            r.arch,
            cell("lo", 64),
            cell("lo", 1024),
            cell("veth", 64),
            cell("veth", 1024)
        );
    }
    let _ = writeln!(
        s,
        "\nBatch / UDP GSO: throughput of a batched customized_send() of 64 ADUs (sent as UDP GSO packets) \
         against sendmsg() with UDP_SEGMENT of the same 64 ADUs (two calls of 32 for 1 KB, which do not fit \
         one datagram; the batch sends 63 in one packet and one alone), in the same stream test."
    );
}

fn arch_section(s: &mut String, r: &Results) {
    let run = &r.run;
    if r.optimize.is_empty() {
        let _ = writeln!(s, "\n## {} (Linux {})\n", r.arch, r.base);
    } else {
        let _ = writeln!(s, "\n## {} (Linux {}, {})\n", r.arch, r.base, r.optimize);
    }
    if let Some(nf) = &r.run.netfilter {
        let _ = writeln!(
            s,
            "Netfilter: nf_tables, a rule reading the {} state in an input and an output chain; {} flows tracked after the streams.\n",
            nf.firewall, nf.tracked
        );
    }
    let _ = writeln!(s, "### Streams\n");
    let _ = writeln!(
        s,
        "netperf-style UDP_STREAM and TCP_STREAM, over loopback and over a veth pair into another network namespace. \
         Batches of 64 ADUs; after each, the receiver (woken through a pipe) drains its socket, so it never preempts \
         a batch and no datagram is dropped. Throughput: bytes received per guest second over the whole exchange \
         (sender, receiver, handshakes). Sender instructions/ADU: inside the batches only, which includes the receive \
         processing that runs in the sender's context (softirq on loopback and veth).\n"
    );
    let _ = writeln!(s, "| test | sender | MB/s | vs send() | sender instructions/ADU | vs send() |");
    let _ = writeln!(s, "|---|---|---:|---:|---:|---:|");
    let mut tcp_note = None;
    for row in &run.stream {
        let test = format!("{} {} {} B", row.proto.to_uppercase(), row.link, row.adu);
        let label = sender_label(&row.sender);
        match &row.outcome {
            Outcome::Measured { tx_bytes, rx_bytes, mss, .. } => {
                let b = baseline(run, row);
                let mut mbs = opt(throughput(row).map(|t| t / 1e6), 2);
                if rx_bytes < tx_bytes {
                    let _ = write!(mbs, " ({} B lost)", tx_bytes - rx_bytes);
                }
                let test = if *mss > 0 { format!("{test}, MSS {mss}") } else { test };
                let _ = writeln!(
                    s,
                    "| {test} | {label} | {mbs} | {} | {} | {} |",
                    ratio(throughput(row), b.and_then(throughput)),
                    opt(sender_per_adu(row), 0),
                    ratio(sender_per_adu(row), b.and_then(sender_per_adu)),
                );
            }
            Outcome::Unsupported { err } => {
                if row.proto == "tcp" && row.sender == SPECIALIZED {
                    tcp_note = Some(err.clone());
                }
                let _ = writeln!(s, "| {test} | {label} | refused by this kernel: {err} | | | |");
            }
            Outcome::Absent => {
                let _ = writeln!(s, "| {test} | {label} | not in the kernel yet (no such system call) | | | |");
            }
        }
    }
    if run.stream.iter().any(|r| r.proto == "tcp") {
        // A kernel that refuses TCP contexts leaves the token rows empty; one that takes them
        // sends through TCP's own sendmsg() under the MSS guard.
        let token = match tcp_note {
            Some(e) => format!("the peers and the generic path only (NETSPEC_OP_CUSTOMIZE of a TCP socket: {e})"),
            None => "a TCP token sends through TCP's own sendmsg() under the MSS guard, so its rows measure the \
                     token and the guard against send()"
                .to_string(),
        };
        let _ = writeln!(
            s,
            "\nTCP rows: {token}; the specialized TCP path comes later. \
             TCP senders use MSG_DONTWAIT and a batch ends early when the send buffer is full; segments that wait \
             for the window leave later, in whichever context processes the ACK."
        );
    }

    let _ = writeln!(s, "\n### The send path\n");
    let _ = writeln!(
        s,
        "Connected UDP socket to an address routed to a dummy device (IFF_NOARP, no queue), 2048 calls after 256 \
         of warm-up and a 200 ms pause for deferred work. A call's figure runs from the user-space loop through syscall entry, the send path, \
         ip_local_out(), neighbour output and dev_queue_xmit() to dummy_xmit(), which frees the buffer (so \
         it includes that free and the return of its send-buffer charge), and back; no receive processing. \
         The next column subtracts a null system call (getppid), which leaves the kernel's send path from \
         syscall entry to the device's free.\n"
    );
    let _ = writeln!(s, "| ADU | sender | instructions/call | minus null syscall | vs send() (a batch: vs UDP_SEGMENT; an IPv6 socket's token: vs its send()) |");
    let _ = writeln!(s, "|---:|---|---:|---:|---:|");
    for p in &run.path {
        let per = path_per_call(run, p.adu, &p.sender);
        let null = path_per_call(run, p.adu, "null-syscall");
        let net = |x: Option<f64>| match (x, null) {
            (Some(x), Some(n)) => Some(x - n),
            _ => None,
        };
        let peer = path_peer(&p.sender);
        let (cell, vs) = if p.sender == "null-syscall" {
            ("".to_string(), "".to_string())
        } else {
            (opt(net(per), 0), ratio(net(per), net(path_per_call(run, p.adu, peer))))
        };
        let _ = writeln!(s, "| {} | {} | {} | {cell} | {vs} |", p.adu, sender_label(&p.sender), opt(per, 0));
    }

    let c = &r.code;
    let _ = writeln!(s, "\n### Code size\n");
    let _ = writeln!(
        s,
        "Text bytes in the bench vmlinux (nm -S) of the functions each path runs on every send and the other does not; \
         the shared tail (ip_local_out() and below, the allocator, copy and checksum) is in neither.\n"
    );
    let _ = writeln!(s, "| path | bytes | vs generic |");
    let _ = writeln!(s, "|---|---:|---:|");
    let g = c.generic_total().max(1) as f64;
    let _ = writeln!(s, "| generic: send() on a connected UDP socket | {} | 1.000 |", c.generic_total());
    let _ = writeln!(
        s,
        "| specialized: customized_send(), all three checksum instantiations | {} | {:.3} |",
        c.specialized_total(),
        c.specialized_total() as f64 / g
    );
    let _ = writeln!(
        s,
        "| specialized: what one instance runs (one instantiation) | {} | {:.3} |",
        c.specialized_one_variant(),
        c.specialized_one_variant() as f64 / g
    );
    let list = |entries: &[crate::symbols::Entry]| -> String {
        entries
            .iter()
            .map(|e| {
                if e.symbols.is_empty() {
                    format!("{} inlined", e.label)
                } else {
                    e.symbols.iter().map(|(n, sz)| format!("{n} {sz}")).collect::<Vec<_>>().join(", ")
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let _ = writeln!(s, "\nSpecialized: {}.\n\nGeneric: {}.", list(&c.specialized), list(&c.generic));

    if let Some(cu) = &run.customize {
        let _ = writeln!(s, "\n### Customization latency\n");
        let _ = writeln!(s, "| NETSPEC_OP_CUSTOMIZE of a 64-byte UDP context | instructions | vs hit |");
        let _ = writeln!(s, "|---|---:|---:|");
        let (m, h) = (cu.miss_ns as f64 / cu.n as f64, cu.hit_ns as f64 / cu.n as f64);
        let _ = writeln!(s, "| first (a miss: instance made, route resolved) | {m:.0} | {:.2} |", m / h);
        let _ = writeln!(s, "| again (a cache hit, shared {} of {}) | {h:.0} | 1.00 |", cu.shared, cu.n);
    }

    let rows = model(run);
    if !rows.is_empty() {
        let _ = writeln!(s, "\n### The paper's model\n");
        let _ = writeln!(
            s,
            "P = (1+g)/(1+g(1-eps)) - 1. eps = 1 - specialized/generic send-path instructions (null syscall \
             subtracted, same ADU); v = the generic send path, u = the rest of an ADU's instructions in the send() \
             stream (elapsed per ADU minus v), g = v/u. Measured: customized_send() throughput / send() - 1.\n"
        );
        let _ = writeln!(s, "| test | eps | g | predicted P | measured P |");
        let _ = writeln!(s, "|---|---:|---:|---:|---:|");
        for m in rows {
            let _ = writeln!(
                s,
                "| {} | {:.3} | {:.3} | {:+.1}% | {:+.1}% |",
                m.test,
                m.eps,
                m.g,
                m.predicted * 100.0,
                m.measured * 100.0
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::path_peer;

    #[test]
    fn path_rows_are_compared_with_their_peer() {
        assert_eq!(path_peer("customized_send"), "send");
        assert_eq!(path_peer("customized_send-generic"), "send");
        assert_eq!(path_peer("send-v4mapped"), "send");
        assert_eq!(path_peer("customized_send-v4mapped"), "send-v4mapped");
        assert_eq!(path_peer("customized_send-batch-64"), "udp-gso-64");
    }
}
