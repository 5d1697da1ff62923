//! Rebuild when the embedded web app or training reports change.
fn main() {
    println!("cargo::rerun-if-changed=web");
    println!("cargo::rerun-if-changed=../reports");
}
