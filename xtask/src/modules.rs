//! `cargo xtask modules`: each crate's module graph (which module names
//! which, through `crate::`), and a check that it has no cycle.

use anyhow::{Context as _, anyhow};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::{Result, root};

/// The crates whose modules are checked.
pub const CRATES: [&str; 4] = [
    "classification_model",
    "classification_api",
    "xtask",
    "python",
];

/// Per crate, module prefixes that must not name other prefixes: the
/// folder order of the API (the base, then `telemetry`, `history`, the core
/// `serving`, then `rest` and the adapters, then `server`). Each line is
/// one of the rules of `docs/ARCHITECTURE.md`, "Layers".
pub const LAYERS: &[(&str, &[&str], &[&str])] = &[
    // the core and what is below it know no protocol
    (
        "classification_api",
        &[
            "serving",
            "history",
            "telemetry",
            "clock",
            "accept",
            "config",
            "errors",
        ],
        &["http", "v2", "grpc", "rest", "server"],
    ),
    // telemetry is a leaf: it takes plain values
    (
        "classification_api",
        &["telemetry"],
        &["serving", "history"],
    ),
    // the history stores what the core hands it
    ("classification_api", &["history"], &["serving"]),
    // the adapters share the core (and REST's plumbing), never each other
    ("classification_api", &["http"], &["v2", "grpc", "server"]),
    ("classification_api", &["v2"], &["http", "grpc", "server"]),
    (
        "classification_api",
        &["grpc"],
        &["http", "v2", "rest", "server"],
    ),
    (
        "classification_api",
        &["rest"],
        &["http", "v2", "grpc", "server"],
    ),
];

/// The graph of the crate's top-level modules (`http`, `serving`, ...): a
/// module names another if any of its files does.
pub fn top_level(graph: &BTreeMap<String, BTreeSet<String>>) -> BTreeMap<String, BTreeSet<String>> {
    let top = |m: &str| m.split("::").next().unwrap_or(m).to_owned();
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, targets) in graph {
        let from = top(module);
        let entry = out.entry(from.clone()).or_default();
        entry.extend(targets.iter().map(|t| top(t)).filter(|t| *t != from));
    }
    out
}

/// Module -> the modules it names, for the crate in `src`. Modules are
/// named by their path (`http::input`); `lib.rs`, `main.rs` and a folder's
/// `mod.rs` declare modules and are left out.
pub fn graph(src: &Path) -> Result<BTreeMap<String, BTreeSet<String>>> {
    let mut texts = BTreeMap::new();
    collect(src, src, &mut texts)?;
    let known: BTreeSet<String> = texts.keys().cloned().collect();
    let mut graph = BTreeMap::new();
    for (module, text) in &texts {
        let named = names(text)
            .into_iter()
            .filter_map(|path| resolve(&path, &known))
            .filter(|m| m != module)
            .collect();
        graph.insert(module.clone(), named);
    }
    Ok(graph)
}

/// Reads every `.rs` file below `dir`, keyed by its module path.
fn collect(src: &Path, dir: &Path, out: &mut BTreeMap<String, String>) -> Result<()> {
    let entries = std::fs::read_dir(dir).with_context(|| dir.display().to_string())?;
    let mut paths: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            collect(src, &path, out)?;
            continue;
        }
        if path.extension().and_then(|s| s.to_str()) != Some("rs") {
            continue;
        }
        let relative = path.strip_prefix(src).unwrap_or(&path).with_extension("");
        let parts: Vec<String> = relative
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        let module = match parts.as_slice() {
            [only] if only == "lib" || only == "main" => continue,
            [.., last] if last == "mod" => parts[..parts.len() - 1].join("::"),
            _ => parts.join("::"),
        };
        let text = std::fs::read_to_string(&path).with_context(|| path.display().to_string())?;
        // a folder's mod.rs speaks for the folder's own module
        out.entry(module).or_default().push_str(&text);
    }
    Ok(())
}

/// The longest known module that `path` (`a::b::c`) is in, if any.
fn resolve(path: &str, known: &BTreeSet<String>) -> Option<String> {
    let parts: Vec<&str> = path.split("::").collect();
    (1..=parts.len())
        .rev()
        .map(|n| parts[..n].join("::"))
        .find(|candidate| known.contains(candidate))
}

/// The paths `text` names from the crate root: `crate::a::b`, and each part
/// of `use crate::{a, b::{c, d}}`. (`super::` is left out: in this code base
/// it is a test module's `use super::*`.)
fn names(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        if text[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
            continue;
        }
        expand("", &text[i + "crate::".len()..], &mut out);
    }
    out.remove("");
    out
}

/// Adds the paths of a use tree that starts at `rest`, under `prefix`.
fn expand(prefix: &str, rest: &str, out: &mut BTreeSet<String>) {
    let path: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
        .collect();
    let after = &rest[path.len()..];
    let path = path.trim_end_matches(':');
    let full = format!("{prefix}{path}");
    if let Some(group) = after.strip_prefix('{') {
        // the group's own parts, split at top-level commas
        let mut depth = 0;
        let mut start = 0;
        let base = if full.is_empty() {
            String::new()
        } else {
            format!("{full}::")
        };
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    expand(&base, group[start..i].trim(), out);
                    return;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand(&base, group[start..i].trim(), out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        return;
    }
    out.insert(full);
}

/// The imports that go up a layer of [`LAYERS`].
pub fn layer_breaches(krate: &str, graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let within = |module: &str, prefixes: &[&str]| {
        prefixes
            .iter()
            .any(|p| module == *p || module.starts_with(&format!("{p}::")))
    };
    let mut out = Vec::new();
    for &(name, lower, upper) in LAYERS {
        if name != krate {
            continue;
        }
        for (module, targets) in graph {
            if !within(module, lower) {
                continue;
            }
            for target in targets.iter().filter(|t| within(t, upper)) {
                out.push(format!("{krate}: {module} (a lower layer) names {target}"));
            }
        }
    }
    out
}

/// The cycles of a graph, each as a path that returns to its start.
pub fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    for start in graph.keys() {
        // depth-first search for a path back to `start` through greater names only,
        // so that each cycle is reported once
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        while let Some((node, path)) = stack.pop() {
            for next in graph.get(&node).into_iter().flatten() {
                if next == start {
                    let mut cycle = path.clone();
                    cycle.push(start.clone());
                    found.push(cycle);
                } else if next > start && !path.contains(next) {
                    let mut longer = path.clone();
                    longer.push(next.clone());
                    stack.push((next.clone(), longer));
                }
            }
        }
    }
    found
}

pub fn run() -> Result<()> {
    let mut problems = Vec::new();
    for krate in CRATES {
        let graph = graph(&root().join(krate).join("src"))?;
        problems.extend(layer_breaches(krate, &graph));
        println!("{krate}:");
        for (module, targets) in &graph {
            let targets: Vec<&str> = targets.iter().map(String::as_str).collect();
            println!("  {module} -> {}", targets.join(", "));
        }
        for cycle in cycles(&graph) {
            problems.push(format!("{krate}: {}", cycle.join(" -> ")));
        }
        for cycle in cycles(&top_level(&graph)) {
            problems.push(format!(
                "{krate}, top-level modules: {}",
                cycle.join(" -> ")
            ));
        }
    }
    if problems.is_empty() {
        println!("no module imports one that imports it back");
        Ok(())
    } else {
        Err(anyhow!(
            "module cycles or layer breaches:\n{}",
            problems.join("\n")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_single_nested_and_grouped_imports() {
        let text = "use crate::a::B;\nuse crate::{c, d::{E, f::G}};\nfn f() { crate::e::g(); mycrate::z(); }\nuse super::h;";
        let found: Vec<String> = names(text).into_iter().collect();
        assert_eq!(found, ["a::B", "c", "d::E", "d::f::G", "e::g"]);
        let known: BTreeSet<String> = ["a", "d", "d::f", "top::h"].map(String::from).into();
        assert_eq!(resolve("d::f::G", &known).as_deref(), Some("d::f"));
        assert_eq!(resolve("d::E", &known).as_deref(), Some("d"));
        assert_eq!(resolve("c", &known), None);
    }

    #[test]
    fn a_lower_layer_naming_http_is_a_breach() {
        let g: BTreeMap<String, BTreeSet<String>> = [
            ("serving::models", vec!["http::errors"]),
            ("http::admin", vec!["serving::models"]),
            ("grpc::service", vec!["v2::response"]),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.into_iter().map(String::from).collect()))
        .collect();
        assert_eq!(layer_breaches("classification_api", &g).len(), 2);
        assert!(layer_breaches("other", &g).is_empty());
    }

    #[test]
    fn finds_cycles() {
        let g: BTreeMap<String, BTreeSet<String>> = [
            ("a", vec!["b"]),
            ("b", vec!["c"]),
            ("c", vec!["a"]),
            ("d", vec!["a"]),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.into_iter().map(String::from).collect()))
        .collect();
        assert_eq!(cycles(&g), [["a", "b", "c", "a"]]);
        // files that form no cycle, folders that do
        let g: BTreeMap<String, BTreeSet<String>> =
            [("http::a", vec!["v2::b"]), ("v2::c", vec!["http::d"])]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.into_iter().map(String::from).collect()))
                .collect();
        assert!(cycles(&g).is_empty());
        assert_eq!(cycles(&top_level(&g)), [["http", "v2", "http"]]);
    }

    #[test]
    fn the_crates_modules_form_a_dag() {
        for krate in CRATES {
            let graph = graph(&root().join(krate).join("src")).unwrap();
            assert!(graph.len() >= 5, "{krate}: {graph:?}");
            assert!(graph.values().any(|t| !t.is_empty()), "{krate}: {graph:?}");
            assert_eq!(cycles(&graph), Vec::<Vec<String>>::new(), "{krate}");
            assert_eq!(
                cycles(&top_level(&graph)),
                Vec::<Vec<String>>::new(),
                "{krate}"
            );
            assert_eq!(layer_breaches(krate, &graph), Vec::<String>::new());
        }
    }
}
