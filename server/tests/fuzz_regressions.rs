//! Replays every input kept under `server/fuzz/regressions/<target>/` (inputs that once
//! crashed a fuzz target, or hung it) through the same entry points the fuzz targets call
//! (`server/fuzz/src/lib.rs`), so a normal `cargo test` keeps them fixed without nightly or
//! cargo-fuzz.

// The fuzz crate's entry points are `pub` for its targets, unreachable from this test binary.
#[allow(unreachable_pub)]
#[path = "../fuzz/src/lib.rs"]
mod entry;

use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The longest one input may take here (debug build); libFuzzer's own timeout is longer.
const TIME_LIMIT: Duration = Duration::from_secs(10);

/// Every kept input of every target runs without a panic and within the time limit, and
/// every folder of kept inputs belongs to a target.
#[test]
fn every_kept_fuzz_input_still_passes() {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/regressions"));
    let mut replayed = 0;
    for dir in std::fs::read_dir(&root).expect("server/fuzz/regressions exists") {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let Some((_, run)) = entry::TARGETS.iter().find(|(t, _)| *t == name) else {
            panic!("{} is not a fuzz target's folder", dir.display());
        };
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|f| f.unwrap().path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        for file in files {
            let data = std::fs::read(&file).unwrap();
            let started = Instant::now();
            run(&data);
            let took = started.elapsed();
            assert!(
                took < TIME_LIMIT,
                "{} took {took:?} (limit {TIME_LIMIT:?})",
                file.display()
            );
            replayed += 1;
        }
    }
    assert!(replayed > 0, "no kept inputs under {}", root.display());
}

/// A few hand-made inputs per target, so each entry point runs here even before any
/// input is kept.
#[test]
fn each_target_takes_awkward_inputs() {
    let inputs: [&[u8]; 8] = [
        b"",
        b"\xff\xfe\x00 \"\xe2\x80\x9c",
        b"\x02{\"id\": \"a\", \"text\": \"Hi.\"}\n{oops",
        b"\x03[{\"_id\": 5, \"body\": \"B.\", \"date\": \"26-FEB-1987\"}]",
        "“He said (“no” ((( ” she said.\n\nMonday, 3 March, 2025\nHumidity: 80%".as_bytes(),
        b"title:(unclosed AND OR NOT +-* ~2 \"phrase\"~9 id:x source:",
        "Mr. U.S. $5.3bn 40% 3rd five-hour 2-1 Jan. 1st, 2024 — ‘quoted’ «x»".as_bytes(),
        &[b'a'; 5000],
    ];
    for (name, run) in entry::TARGETS {
        for input in inputs {
            let started = Instant::now();
            run(input);
            assert!(started.elapsed() < TIME_LIMIT, "{name} on {input:?}");
        }
    }
}
