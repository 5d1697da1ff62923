//! Scores a CSV file with the dataset's columns and prints
//! `row,prediction,probability` (probabilities with 17 significant digits).
//!
//! ```text
//! cargo run -p classification_model --example predict -- [--model FILE] INPUT.csv
//! ```

use std::process::ExitCode;

use classification_model::{Model, csv::read_passengers_csv};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (mut model_path, mut input) = (None, None);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--model" => model_path = Some(args.next().ok_or("--model needs a file")?),
            "-h" | "--help" => {
                println!("usage: predict [--model FILE] INPUT.csv");
                return Ok(());
            }
            _ if input.is_none() => input = Some(a),
            _ => return Err(format!("unexpected argument {a:?}").into()),
        }
    }
    let input = input.ok_or("usage: predict [--model FILE] INPUT.csv")?;
    let owned;
    let model = match model_path {
        Some(path) => {
            owned = Model::load(path)?;
            &owned
        }
        None => Model::embedded()?,
    };
    let bytes = std::fs::read(&input).map_err(|e| format!("{input}: {e}"))?;
    let rows = read_passengers_csv(&bytes).map_err(|e| format!("{input}: {e}"))?;
    let result = model
        .predict(&rows.passengers)
        .map_err(|e| format!("{input}: {e}"))?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    use std::io::Write;
    writeln!(out, "row,prediction,probability")?;
    for (row, p) in result.iter().enumerate() {
        writeln!(out, "{row},{},{}", p.label, significant_17(p.probability))?;
    }
    out.flush()?;
    Ok(())
}

/// `p` with 17 significant digits in plain decimal notation (like `%.17g`
/// for probabilities), enough to read back the exact f64.
fn significant_17(p: f64) -> String {
    if p == 0.0 || !p.is_finite() {
        return p.to_string();
    }
    let exponent = p.abs().log10().floor() as i32;
    let decimals = (16 - exponent).max(0) as usize;
    format!("{p:.decimals$}")
}
