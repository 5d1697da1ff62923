//! The training reports `cargo xtask train` writes, one per version,
//! embedded in the binary.

use include_dir::{Dir, include_dir};

static REPORTS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../reports");

/// The report (HTML) named `file`, if the binary carries it.
pub fn report(file: &str) -> Option<&'static [u8]> {
    REPORTS
        .get_file(file)
        .filter(|f| f.path().extension().is_some_and(|e| e == "html"))
        .map(|f| f.contents())
}

/// Where the training report of `name` at `version` is served
/// (`/reports/{file}`), if the binary carries one.
pub fn report_path(name: &str, version: &str) -> Option<String> {
    let file = format!("{name}_v{version}.html");
    report(&file).map(|_| format!("/reports/{file}"))
}
