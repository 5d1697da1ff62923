//! `cargo xtask image`: the service's OCI image, from scratch. Stages the
//! deploy-profile binary, the shared libraries `ldd` says it loads and a
//! passwd entry for its user in `target/image/`, then builds the root
//! `Containerfile` there with podman, with no base image to pull.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, anyhow, bail};

use crate::{Result, current_version, root, service, target_dir};

/// The service's user and group in the image.
pub const UID: u32 = 10001;
/// The most the image may weigh, uncompressed.
const MAX_BYTES: u64 = 40 * 1000 * 1000;

/// The image's flags.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Stage the build context in target/image (with the ARG values in
    /// build-args.env) and stop, for another builder
    /// (`docker build -f Containerfile target/image`).
    #[arg(long)]
    stage_only: bool,
    /// The image's name; it is tagged `:<VERSION>` and `:latest`.
    #[arg(long, default_value = "localhost/classification-api")]
    name: String,
}

/// Builds (or stages) the image.
pub fn run(args: Args) -> Result<()> {
    service::use_profile("deploy");
    service::build_release()?;
    let context = target_dir().join("image");
    stage(&service::binary(), &context)?;
    // for another builder: the ARG values, one KEY=VALUE a line
    let values = build_args()?;
    let lines: String = values.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    std::fs::write(context.join("build-args.env"), lines)?;
    println!("staged the build context in {}", context.display());
    if args.stage_only {
        return Ok(());
    }
    let version = current_version()?;
    let tags = [
        format!("{}:{version}", args.name),
        format!("{}:latest", args.name),
    ];
    let mut build = podman();
    build.arg("build").args(["-f", "Containerfile"]);
    for (key, value) in values {
        build.args(["--build-arg", &format!("{key}={value}")]);
    }
    // the image's dates from the commit, so that a rebuild of the same tree
    // gives the same image
    if let Some(epoch) = git(&["log", "-1", "--format=%ct"]) {
        build.args(["--timestamp", &epoch]);
    }
    for tag in &tags {
        build.args(["-t", tag]);
    }
    build.arg(&context).current_dir(root());
    let status = build
        .status()
        .context("podman build (install podman: apt-get install podman)")?;
    if !status.success() {
        bail!("podman build failed");
    }
    let size = image_size(&tags[0])?;
    println!(
        "built {} ({:.1} MB uncompressed)",
        tags.join(", "),
        size as f64 / 1e6
    );
    if size > MAX_BYTES {
        bail!(
            "the image weighs {size} bytes, over {MAX_BYTES}: what grew? (podman image tree {})",
            tags[0]
        );
    }
    Ok(())
}

/// The values of the Containerfile's `ARG`s: the version, the commit, the
/// source and the licenses from the workspace manifest.
fn build_args() -> Result<Vec<(&'static str, String)>> {
    let manifest = root().join("Cargo.toml");
    let text =
        std::fs::read_to_string(&manifest).with_context(|| manifest.display().to_string())?;
    let doc: toml_edit::DocumentMut = text.parse().context("the workspace Cargo.toml")?;
    let package = |key: &str| {
        doc["workspace"]["package"][key]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("no workspace.package.{key} in Cargo.toml"))
    };
    Ok(vec![
        ("VERSION", current_version()?.to_string()),
        (
            "REVISION",
            git(&["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".into()),
        ),
        ("SOURCE", package("repository")?),
        ("LICENSES", package("license")?),
    ])
}

/// `podman`, or the command `PODMAN` names (`sudo podman` for a user whose
/// podman cannot build).
fn podman() -> Command {
    let spec = std::env::var("PODMAN").unwrap_or_else(|_| "podman".into());
    let mut words = spec.split_whitespace();
    let mut command = Command::new(words.next().unwrap_or("podman"));
    command.args(words);
    command
}

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(root())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Writes the build context: `rootfs/` (the binary, its libraries, passwd
/// and group) and an empty `data/` for the volume.
fn stage(binary: &Path, context: &Path) -> Result<()> {
    if context.exists() {
        std::fs::remove_dir_all(context).with_context(|| context.display().to_string())?;
    }
    let rootfs = context.join("rootfs");
    let put = |path: &str, from: &Path| -> Result<()> {
        let to = rootfs.join(path.trim_start_matches('/'));
        if let Some(dir) = to.parent() {
            std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
        }
        std::fs::copy(from, &to)
            .with_context(|| format!("{} to {}", from.display(), to.display()))?;
        Ok(())
    };
    put("/usr/local/bin/classification_api", binary)?;
    for library in libraries(binary)? {
        put(&library.to_string_lossy(), &library)?;
    }
    let etc = rootfs.join("etc");
    std::fs::create_dir_all(&etc)?;
    std::fs::write(
        etc.join("passwd"),
        format!("classification:x:{UID}:{UID}:classification-api:/data:/nonexistent\n"),
    )?;
    std::fs::write(etc.join("group"), format!("classification:x:{UID}:\n"))?;
    std::fs::create_dir_all(context.join("data"))?;
    Ok(())
}

/// The shared libraries `binary` loads, the dynamic loader included, as
/// `ldd` resolves them on this machine.
fn libraries(binary: &Path) -> Result<Vec<PathBuf>> {
    let out = Command::new("ldd")
        .arg(binary)
        .output()
        .context("ldd (from libc-bin)")?;
    if !out.status.success() {
        bail!(
            "ldd {}: {}",
            binary.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let libraries = parse_ldd(&text);
    if libraries.is_empty() {
        bail!("ldd found no libraries in {}:\n{text}", binary.display());
    }
    Ok(libraries)
}

/// The resolved paths in `ldd` output: `name => /path (addr)` and
/// `/path (addr)` lines; the vDSO has no file.
fn parse_ldd(text: &str) -> Vec<PathBuf> {
    text.lines()
        .filter_map(|line| {
            let path = match line.split_once("=>") {
                Some((_, right)) => right.split_whitespace().next()?,
                None => line.split_whitespace().next()?,
            };
            path.starts_with('/').then(|| PathBuf::from(path))
        })
        .collect()
}

/// The image's size in bytes.
fn image_size(tag: &str) -> Result<u64> {
    let out = podman()
        .args(["image", "inspect", "--format", "{{.Size}}", tag])
        .output()
        .context("podman image inspect")?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.trim()
        .parse()
        .map_err(|_| anyhow!("podman image inspect {tag}: {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ldd_lines_give_the_files_to_copy() {
        let text = "\tlinux-vdso.so.1 (0x00007ffd5e9f2000)
\tlibgcc_s.so.1 => /lib/x86_64-linux-gnu/libgcc_s.so.1 (0x00007f3b1c2a0000)
\tlibm.so.6 => /lib/x86_64-linux-gnu/libm.so.6 (0x00007f3b1c1c1000)
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f3b1bfe0000)
\t/lib64/ld-linux-x86-64.so.2 (0x00007f3b1d2c4000)
";
        assert_eq!(
            parse_ldd(text),
            [
                "/lib/x86_64-linux-gnu/libgcc_s.so.1",
                "/lib/x86_64-linux-gnu/libm.so.6",
                "/lib/x86_64-linux-gnu/libc.so.6",
                "/lib64/ld-linux-x86-64.so.2",
            ]
            .map(PathBuf::from)
        );
        assert!(parse_ldd("\tnot a dynamic executable\n").is_empty());
    }
}
