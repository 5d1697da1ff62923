//! Times `make_prediction` on the first ROWS dataset rows as typed JSON
//! records, ITERS calls, and prints the time per call: a fixed amount of
//! work, so that `valgrind --tool=callgrind` can count its instructions.
//! `cargo bench -p classification_model --profile deploy --bench typed_timing -- ROWS ITERS`;
//! this file and `support/typed_json.rs` build unchanged against older
//! trees, for A/B runs (`docs/BENCHMARKS.md`).

use std::hint::black_box;

use classification_model::make_prediction;

#[path = "support/typed_json.rs"]
mod typed_json;

fn main() {
    // `cargo bench` adds `--bench`: numbers are the arguments
    let numbers: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let arg = |i: usize, default: usize| numbers.get(i).map_or(Ok(default), |a| a.parse());
    let (Ok(rows), Ok(iters)) = (arg(0, 1309), arg(1, 1000)) else {
        eprintln!("usage: typed_timing [ROWS] [ITERS]");
        std::process::exit(2);
    };
    let all = typed_json::passengers();
    let input = &all[..rows.min(all.len())];
    make_prediction(input).expect("valid");
    let t = std::time::Instant::now();
    for _ in 0..iters {
        black_box(make_prediction(black_box(input)).expect("valid"));
    }
    println!(
        "make_prediction, {} rows: {:.1} ns/call over {iters} calls",
        input.len(),
        t.elapsed().as_nanos() as f64 / iters as f64
    );
}
