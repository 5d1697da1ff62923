//! Every `curl` example of the repository README, run against the real
//! server: its output must be the comment lines under it (`...` stands for
//! any text; white space is not compared).

use std::process::Command;

use crate::common::Server;

/// `(command, expected output)` pairs of the README's runnable shell blocks.
fn examples(readme: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for block in readme.split("```sh\n").skip(1) {
        let block = block.split("```").next().unwrap_or_default();
        // blocks that start or build something are documentation only
        if !block.contains("curl")
            || ["cargo ", "API_KEY=", "PORT="]
                .iter()
                .any(|s| block.contains(s))
        {
            continue;
        }
        let (mut command, mut expected) = (String::new(), String::new());
        for line in block.lines().chain([""]) {
            if let Some(comment) = line.strip_prefix('#') {
                expected.push_str(comment);
                expected.push('\n');
                continue;
            }
            if (line.trim().is_empty() || !expected.is_empty()) && !command.trim().is_empty() {
                out.push((std::mem::take(&mut command), std::mem::take(&mut expected)));
            }
            command.push_str(line);
            command.push('\n');
        }
    }
    out
}

/// Whether `actual` is `expected` (white space ignored, `...` any text).
fn matches(expected: &str, actual: &str) -> bool {
    let squeeze = |s: &str| s.split_whitespace().collect::<String>();
    let (expected, actual) = (squeeze(expected), squeeze(actual));
    let parts: Vec<&str> = expected.split("...").collect();
    let mut rest = actual.as_str();
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            let Some(at) = rest.find(part) else {
                return false;
            };
            rest = &rest[at + part.len()..];
        }
    }
    rest.is_empty()
}

#[test]
fn wildcards() {
    assert!(matches("a...c", "abbbc"));
    assert!(matches("{\"x\": 1}", "{\"x\":1}"));
    assert!(matches("ab...", "abc"));
    assert!(!matches("ab", "abc"));
    assert!(!matches("a...c", "abd"));
}

/// Every `classification_model = "X"` dependency line of the READMEs
/// accepts the crate's own version (a `"0.1"` would not take 0.3.0).
#[test]
fn readme_dependency_lines_accept_this_version() {
    let version =
        semver::Version::parse(include_str!("../../../classification_model/VERSION").trim())
            .unwrap();
    let mut found = 0;
    for readme in [
        include_str!("../../../README.md"),
        include_str!("../../../classification_model/README.md"),
    ] {
        for line in readme.lines() {
            let Some(rest) = line.trim().strip_prefix("classification_model = \"") else {
                continue;
            };
            let requirement = rest.split('"').next().unwrap();
            let req = semver::VersionReq::parse(requirement).unwrap();
            assert!(req.matches(&version), "{line:?} does not accept {version}");
            found += 1;
        }
    }
    assert!(found >= 1, "no dependency line found");
}

#[test]
fn readme_examples_answer_as_shown() {
    let readme = include_str!("../../../README.md");
    let examples = examples(readme);
    assert!(examples.len() >= 8, "{} examples found", examples.len());
    // what `cargo xtask train --preset course --out models --version 0.1.0` writes
    let models = crate::common::temp_dir("readme-models");
    crate::common::install_artifact(&models, "0.1.0", &crate::common::artifact("0.1.0", 0));
    let server = Server::start(&[("MODELS_DIR", models.to_str().unwrap())]);
    for (command, expected) in examples {
        let command = command.replace("localhost:8002", &server.addr.to_string());
        let out = Command::new("sh")
            .arg("-c")
            .arg(&command)
            .output()
            .expect("sh runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            matches(&expected, &stdout),
            "{command}\nREADME says:\n{expected}\nthe server says:\n{stdout}"
        );
    }
    let _ = std::fs::remove_dir_all(&models);
}

/// Every file the README and `docs/` cite by its path from the repository
/// root exists, so a move or a rename cannot leave a doc pointing nowhere.
#[test]
fn cited_files_exist() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut docs = vec![root.join("README.md"), root.join("CHANGELOG.md")];
    for entry in std::fs::read_dir(root.join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            docs.push(path);
        }
    }
    let tops = [
        "classification_api/",
        "classification_model/",
        "xtask/",
        "docs/",
        "tools/",
        ".ci/",
        ".github/",
    ];
    let mut cited = 0;
    for doc in &docs {
        let text = std::fs::read_to_string(doc).unwrap();
        // the CHANGELOG's history may name what is gone: only its newest section
        let text = match doc.ends_with("CHANGELOG.md") {
            true => text.split("\n## ").nth(1).unwrap_or_default().to_owned(),
            false => text,
        };
        for quoted in text.split('`').skip(1).step_by(2) {
            let path = quoted.split_whitespace().next().unwrap_or_default();
            let path = path.split(['#', ':', ',', ')']).next().unwrap_or_default();
            if !tops.iter().any(|t| path.starts_with(t)) || path.contains(['{', '*', '<']) {
                continue;
            }
            cited += 1;
            assert!(
                root.join(path).exists(),
                "{} cites {path}, which does not exist",
                doc.display()
            );
        }
    }
    assert!(cited > 20, "only {cited} paths found");
}

#[test]
fn every_setting_is_in_the_readme_and_every_variable_there_is_a_setting() {
    let readme = include_str!("../../../README.md");
    let declared: Vec<&str> = classification_api::config::SETTINGS
        .iter()
        .map(|(name, _, _)| *name)
        .collect();
    for name in &declared {
        assert!(
            readme.contains(&format!("`{name}`")),
            "{name} is not in the README"
        );
    }
    // the configuration table's rows name declared settings only
    let table = readme
        .split("| variable | default | meaning |")
        .nth(1)
        .and_then(|rest| rest.split("\n\n").next())
        .expect("the README's configuration table");
    for row in table.lines().skip(2) {
        let name = row.split('`').nth(1).unwrap_or_default();
        assert!(declared.contains(&name), "{name} is not declared");
    }
}
