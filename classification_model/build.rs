//! Rebuild when the embedded artifacts or the version change.
fn main() {
    println!("cargo::rerun-if-changed=trained_models");
    println!("cargo::rerun-if-changed=VERSION");
}
