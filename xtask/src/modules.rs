//! `cargo xtask modules`: each crate's module graph (which module names
//! which, through `crate::`), and a check that it has no cycle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::{Result, root};

/// The crates whose modules are checked.
pub const CRATES: [&str; 2] = ["classification_model", "classification_api"];

/// Module -> the modules it names, for the crate in `src`.
pub fn graph(src: &Path) -> Result<BTreeMap<String, BTreeSet<String>>> {
    let mut graph = BTreeMap::new();
    let entries = std::fs::read_dir(src).map_err(|e| format!("{}: {e}", src.display()))?;
    let mut files: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    files.sort();
    for path in files {
        let (Some(stem), Some("rs")) = (
            path.file_stem().and_then(|s| s.to_str()),
            path.extension().and_then(|s| s.to_str()),
        ) else {
            continue;
        };
        if matches!(stem, "lib" | "main") {
            continue;
        }
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        graph.insert(stem.to_owned(), names(&text, stem));
    }
    let known: BTreeSet<String> = graph.keys().cloned().collect();
    for targets in graph.values_mut() {
        targets.retain(|t| known.contains(t));
    }
    Ok(graph)
}

/// The modules `text` names as `crate::m` or in `use crate::{a, b::c}`.
fn names(text: &str, own: &str) -> BTreeSet<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for part in group[..end].split(',') {
                out.insert(ident(part.trim()));
            }
        } else {
            out.insert(ident(rest));
        }
    }
    out.remove(own);
    out.remove("");
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

pub fn run(args: &[String]) -> Result<()> {
    if let Some(a) = args.first() {
        return Err(format!("unexpected argument {a:?}"));
    }
    let mut problems = Vec::new();
    for krate in CRATES {
        let graph = graph(&root().join(krate).join("src"))?;
        println!("{krate}:");
        for (module, targets) in &graph {
            let targets: Vec<&str> = targets.iter().map(String::as_str).collect();
            println!("  {module} -> {}", targets.join(", "));
        }
        for cycle in cycles(&graph) {
            problems.push(format!("{krate}: {}", cycle.join(" -> ")));
        }
    }
    if problems.is_empty() {
        println!("no module imports one that imports it back");
        Ok(())
    } else {
        Err(format!("module cycles:\n{}", problems.join("\n")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_single_and_grouped_imports() {
        let text =
            "use crate::a::B;\nuse crate::{c, d::E};\nfn f() { crate::e::g(); crate::own::x(); }";
        let found: Vec<String> = names(text, "own").into_iter().collect();
        assert_eq!(found, ["a", "c", "d", "e"]);
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
    }

    #[test]
    fn the_crates_modules_form_a_dag() {
        for krate in CRATES {
            let graph = graph(&root().join(krate).join("src")).unwrap();
            assert!(graph.len() > 5, "{krate}: {graph:?}");
            assert_eq!(cycles(&graph), Vec::<Vec<String>>::new(), "{krate}");
        }
    }
}
