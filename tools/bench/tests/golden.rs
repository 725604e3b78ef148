//! The markdown of a saved x86_64 run (console log and symbol table), and
//! the comparison of runs, against what they must be.

use std::path::Path;

fn testdata(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata").join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn saved() -> bench::Results {
    let (run, diags) = bench::parse(&testdata("x86_64.log"));
    assert!(diags.is_empty(), "{diags:?}");
    bench::Results {
        arch: "x86_64".into(),
        base: "6.12".into(),
        inputs: "0".into(),
        run,
        code: bench::code_size(&bench::parse_nm(&testdata("x86_64.nm"))),
        optimize: "-Os".into(),
    }
}

/// testdata/x86_64.md (rewrite with UPDATE_GOLDEN=1 cargo test -p bench).
#[test]
fn markdown_of_a_saved_run() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/x86_64.md");
    testkit::golden(&path, &bench::render(&[saved()]));
}

#[test]
fn the_json_round_trip_keeps_every_figure() {
    let r = saved();
    let back: bench::Results = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
    assert_eq!(back, r);
    assert!(bench::compare(&r, &back).iter().all(|d| d.relative == 0.0));
}

/// Scales one stream row's elapsed time, as a perturbed run would.
fn perturbed(by: f64) -> bench::Results {
    let mut r = saved();
    let row = r.run.stream.iter_mut().find(|s| s.sender == "customized_send").unwrap();
    if let bench::Outcome::Measured { elapsed_ns, .. } = &mut row.outcome {
        *elapsed_ns = (*elapsed_ns as f64 * by) as u64;
    }
    r
}

fn check_compare(by: f64, largest: &str, within_one_percent: bool) {
    let devs = bench::compare(&saved(), &perturbed(by));
    assert_eq!(devs[0].key, largest);
    assert_eq!(devs[0].relative <= 0.01, within_one_percent, "{}", devs[0]);
}

#[test]
fn a_two_percent_change_is_found_and_a_tenth_of_a_percent_is_not() {
    check_compare(1.02, "stream udp lo 64 customized_send throughput", false);
    check_compare(1.001, "stream udp lo 64 customized_send throughput", true);
}

#[test]
fn a_figure_missing_from_one_run_is_a_change() {
    let mut r = saved();
    r.run.stream.retain(|s| s.sender != "io_uring");
    let devs = bench::compare(&saved(), &r);
    assert!(devs[0].relative.is_infinite() && devs[0].key.contains("io_uring"), "{}", devs[0]);
}

/// eps, g and P from the saved run, against the formula worked by hand.
#[test]
fn the_model_follows_the_formula() {
    let r = saved();
    let rows = bench::model(&r.run);
    assert_eq!(rows.len(), 4);
    for m in rows {
        let p = (1.0 + m.g) / (1.0 + m.g * (1.0 - m.eps)) - 1.0;
        assert!((m.predicted - p).abs() < 1e-12, "{m:?}");
        assert!(m.eps > 0.0 && m.eps < 1.0 && m.g > 0.0, "{m:?}");
    }
}

/// Parsers never panic; nor do the figures, the model or the markdown of
/// whatever they return.
#[test]
fn mangled_inputs_do_not_panic() {
    let pieces = [
        "# bench: stream proto=udp link=lo adu=0 sender=send tx_bytes=0 rx_bytes=5 sender_ns=0 elapsed_ns=0 mss=0",
        "# bench: customize kind=miss n=0 ns=0",
        "# bench: customize kind=hit n=0 ns=0 shared=0",
        "# bench: path sink=dummy adu=64 sender=null-syscall calls=0 ns=0",
        "# bench: ",
        "=",
        "ffffffff81729a23 zz T netspec_udp4_send",
    ];
    testkit::mangle(&[testdata("x86_64.log"), testdata("x86_64.nm")], &pieces, 40, |text| {
        let (run, _) = bench::parse(text);
        let r = bench::Results {
            arch: "a".into(),
            base: "b".into(),
            inputs: "0".into(),
            run,
            code: bench::code_size(&bench::parse_nm(text)),
            optimize: String::new(),
        };
        let _ = bench::render(std::slice::from_ref(&r));
        let _ = bench::compare(&r, &saved());
        let _ = bench::model(&r.run);
    });
}

/// The batch-against-GSO ratio is the two rows' throughputs, worked by hand.
/// The saved run predates batches (their rows say absent), so the batch
/// row is given the customized_send() row's measurements.
#[test]
fn batch_against_gso_is_the_ratio_of_the_two_rows() {
    let mut r = saved();
    let row = |r: &bench::Results, sender: &str| {
        r.run.stream.iter().position(|s| s.proto == "udp" && s.link == "lo" && s.adu == 64 && s.sender == sender).unwrap()
    };
    assert!(bench::batch_vs_gso(&r.run, "lo", 64).is_none(), "an absent row has no ratio");
    let (single, batch) = (row(&r, "customized_send"), row(&r, "customized_send-batch"));
    r.run.stream[batch].outcome = r.run.stream[single].outcome.clone();
    let rate = |sender: &str| match r.run.stream[row(&r, sender)].outcome {
        bench::Outcome::Measured { rx_bytes, elapsed_ns, .. } => rx_bytes as f64 / elapsed_ns as f64,
        _ => panic!("{sender} not measured"),
    };
    let want = rate("customized_send") / rate("udp-gso");
    let got = bench::batch_vs_gso(&r.run, "lo", 64).unwrap();
    assert!((got - want).abs() < 1e-12 && got > 0.0, "{got} {want}");
    assert!(bench::batch_vs_gso(&r.run, "lo", 4096).is_none());
}
