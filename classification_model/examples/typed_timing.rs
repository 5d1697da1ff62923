//! Times `make_prediction` on the first ROWS dataset rows given as typed JSON
//! records, ITERS calls: `cargo run --profile deploy -p classification_model
//! --example typed_timing -- ROWS ITERS`. The same file builds against older
//! trees (it uses only `Passenger` and `make_prediction`), for A/B runs
//! (`docs/BENCHMARKS.md`).
use classification_model::{Passenger, make_prediction};
use std::hint::black_box;
fn main() {
    let arg = |i: usize, default: usize| std::env::args().nth(i).map_or(Ok(default), |a| a.parse());
    let (Ok(rows), Ok(iters)) = (arg(1, 1309), arg(2, 1000)) else {
        eprintln!("usage: typed_timing [ROWS] [ITERS]");
        std::process::exit(2);
    };
    let text = include_str!("../datasets/titanic.csv");
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    let mut records = Vec::new();
    for r in reader.records() {
        let r = r.unwrap();
        let mut map = serde_json::Map::new();
        for (k, v) in header.iter().zip(r.iter()) {
            let value = match v.parse::<f64>() {
                Ok(n) if !["name", "ticket", "cabin", "home.dest"].contains(&k) => {
                    serde_json::json!(n)
                }
                _ if v == "?" => serde_json::Value::Null,
                _ => serde_json::json!(v),
            };
            map.insert(k.to_owned(), value);
        }
        records.push(serde_json::Value::Object(map));
    }
    let all: Vec<Passenger> = serde_json::from_value(serde_json::Value::Array(records)).unwrap();
    let input = &all[..rows.min(all.len())];
    make_prediction(input).unwrap();
    let t = std::time::Instant::now();
    for _ in 0..iters {
        black_box(make_prediction(black_box(input)).unwrap());
    }
    println!(
        "{:.1} ns/call",
        t.elapsed().as_nanos() as f64 / iters as f64
    );
}
