//! The crate's imports run one way (see the comment at the top of `src/main.rs`): every
//! `crate::` path in `src/**/*.rs` names a module of the same layer or a lower one, and
//! no top-level modules use each other round in a cycle (siblings of a layer included).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fs;
use std::path::{Path, PathBuf};

/// The layers, lowest first. A module may use its own layer's modules (siblings) and
/// every lower layer, never a higher one; `model` uses nothing of the crate.
const LAYERS: &[(&str, &[&str])] = &[
    ("shared types", &["model"]),
    (
        "leaf helpers",
        &[
            "timefmt", "text", "shellenv", "envguard", "liveness", "session", "exe",
        ],
    ),
    ("configuration", &["config"]),
    ("rules", &["policy", "redact"]),
    ("store", &["store"]),
    (
        "capture, restore, agents",
        &["capture", "restore", "agent", "notice", "daemon"],
    ),
    ("commands", &["cli", "cmd"]),
];

/// Test-only modules, outside the layers.
const TEST_ONLY: &[&str] = &["fuzz_tests"];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, ms)| ms.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file of `src/` belongs to (`main` for `src/main.rs`).
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// The top-level modules a file's code names as `crate::NAME` or in `crate::{A, B::…}`
/// (comments left out).
fn crate_modules_used(text: &str) -> BTreeSet<String> {
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(i) = rest.find("crate::") {
        // `foo_crate::x` is another crate's path.
        let before = code.len() - rest.len() + i;
        let prev = code[..before].chars().next_back();
        rest = &rest[i + "crate::".len()..];
        if prev.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut start = 0;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        out.insert(ident(&group[start..j]));
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.insert(ident(&group[start..j]));
                        start = j + 1;
                    }
                    _ => {}
                }
            }
        } else {
            out.insert(ident(rest));
        }
    }
    out.remove("");
    out
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn every_module_imports_only_its_own_layer_or_lower() {
    let src = src_dir();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut wrong = Vec::new();
    for file in &files {
        let module = module_of(&src, file);
        if module == "main" || TEST_ONLY.contains(&module.as_str()) {
            continue;
        }
        let Some(own) = layer_of(&module) else {
            continue; // every_top_level_module_has_a_layer names it
        };
        let text = fs::read_to_string(file).unwrap();
        for used in crate_modules_used(&text) {
            if used == module {
                continue;
            }
            let bad = match layer_of(&used) {
                Some(l) => l > own || (own == 0 && l == 0),
                None => !TEST_ONLY.contains(&used.as_str()),
            };
            if bad {
                wrong.push(format!(
                    "{} ({}) uses crate::{used} ({})",
                    file.strip_prefix(&src).unwrap().display(),
                    LAYERS[own].0,
                    layer_of(&used).map_or("no layer", |l| LAYERS[l].0),
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that run up the layers:\n{}",
        wrong.join("\n")
    );
}

/// Which top-level module uses which (`crate::` paths), with the files that do it.
type Graph = BTreeMap<String, BTreeMap<String, Vec<String>>>;

fn module_graph(src: &Path) -> Graph {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut graph = Graph::new();
    for file in &files {
        let module = module_of(src, file);
        if module == "main" || TEST_ONLY.contains(&module.as_str()) {
            continue;
        }
        let text = fs::read_to_string(file).unwrap();
        for used in crate_modules_used(&text) {
            if used != module && !TEST_ONLY.contains(&used.as_str()) {
                let rel = file.strip_prefix(src).unwrap().display().to_string();
                graph
                    .entry(module.clone())
                    .or_default()
                    .entry(used)
                    .or_default()
                    .push(rel);
            }
        }
    }
    graph
}

/// Every cycle of the graph, one per module on one (the shortest through it), each
/// started at its least module: `[a, b]` is a → b → a.
fn cycles(graph: &Graph) -> BTreeSet<Vec<String>> {
    let mut found = BTreeSet::new();
    for start in graph.keys() {
        // Breadth first from `start`, back to it: the shortest cycle through it.
        let mut came_from: BTreeMap<&str, &str> = BTreeMap::new();
        let mut queue = VecDeque::from([start.as_str()]);
        while let Some(at) = queue.pop_front() {
            let Some(next) = graph.get(at) else { continue };
            if next.contains_key(start) {
                let mut cycle = vec![at.to_string()];
                let mut m = at;
                while m != start {
                    m = came_from[m];
                    cycle.push(m.to_string());
                }
                cycle.reverse();
                let least = (0..cycle.len()).min_by_key(|&i| &cycle[i]).unwrap();
                cycle.rotate_left(least);
                found.insert(cycle);
                break;
            }
            for n in next.keys() {
                if n != start && !came_from.contains_key(n.as_str()) {
                    came_from.insert(n, at);
                    queue.push_back(n);
                }
            }
        }
    }
    found
}

/// `a → b (a/x.rs) → a (b/y.rs)`: a cycle with the first file making each step.
fn describe(graph: &Graph, cycle: &[String]) -> String {
    let mut out = cycle[0].clone();
    for (i, from) in cycle.iter().enumerate() {
        let to = &cycle[(i + 1) % cycle.len()];
        let file = &graph[from][to][0];
        out.push_str(&format!(" → {to} ({file})"));
    }
    out
}

#[test]
fn no_top_level_modules_use_each_other_in_a_cycle() {
    let graph = module_graph(&src_dir());
    let found: Vec<String> = cycles(&graph).iter().map(|c| describe(&graph, c)).collect();
    assert!(
        found.is_empty(),
        "module cycles (move what both need down a layer, or call it from above):\n{}",
        found.join("\n")
    );
}

#[test]
fn cycles_are_found_and_named_from_their_least_module() {
    let edge = |pairs: &[(&str, &str)]| {
        let mut g = Graph::new();
        for (a, b) in pairs {
            g.entry(a.to_string())
                .or_default()
                .insert(b.to_string(), vec![format!("{a}/mod.rs")]);
        }
        g
    };
    let g = edge(&[
        ("restore", "capture"),
        ("capture", "restore"),
        ("agent", "store"),
        ("store", "model"),
        ("cmd", "agent"),
        ("x", "y"),
        ("y", "z"),
        ("z", "x"),
    ]);
    let found: Vec<Vec<String>> = cycles(&g).into_iter().collect();
    assert_eq!(found, [vec!["capture", "restore"], vec!["x", "y", "z"]]);
    assert_eq!(
        describe(&g, &found[0]),
        "capture → restore (capture/mod.rs) → capture (restore/mod.rs)"
    );
    assert!(cycles(&edge(&[("a", "b"), ("b", "c"), ("a", "c")])).is_empty());
}

#[test]
fn every_top_level_module_has_a_layer() {
    let src = src_dir();
    let main = fs::read_to_string(src.join("main.rs")).unwrap();
    let declared: Vec<String> = main
        .lines()
        .filter_map(|l| l.trim().strip_prefix("mod "))
        .map(|m| m.trim_end_matches(';').to_string())
        .collect();
    assert!(declared.contains(&"model".to_string()), "{declared:?}");
    let missing: Vec<&String> = declared
        .iter()
        .filter(|m| layer_of(m).is_none() && !TEST_ONLY.contains(&m.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "put these modules in a layer (tests/layers.rs and src/main.rs): {missing:?}"
    );
}

#[test]
fn crate_paths_are_read_from_uses_and_groups_but_not_comments() {
    let text = "use crate::store::paths::Paths;\n// crate::cmd in a comment\nuse crate::{text, timefmt::{now_us, rfc3339_us}};\nlet x = crate::config::Config::default();\nlet y = clap_crate::z;\n";
    let used: Vec<String> = crate_modules_used(text).into_iter().collect();
    assert_eq!(used, ["config", "store", "text", "timefmt"]);
}
