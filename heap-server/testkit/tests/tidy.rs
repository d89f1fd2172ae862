//! Tidy checks on the workspace's shape, as ordinary tests, so the architecture ARCHITECTURE.md
//! describes stays true as the code grows:
//! - a folder is one crate or a folder of crates, never both;
//! - the node (heap-server) never links the client or JNI, and the pure heap (heap-machine)
//!   depends on nothing that does I/O, keeps time or spawns threads;
//! - every `foo_test.rs` is declared by a file beside it (`#[path = "foo_test.rs"] mod tests;`);
//! - no file-level import circle inside a crate, except a type's `impl` split across files on
//!   purpose, declared here and in that module's doc.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::path::Path;
use std::path::PathBuf;

/// Folders never searched for crates or sources.
const SKIPPED_DIRS: &[&str] = &["target", ".git", "java", "node_modules", "data"];

/// Crates whose `impl` of one type is split across files on purpose: (crate folder, the files of
/// the split, relative to `src/` without `.rs`). A circle among exactly these files is allowed.
const DECLARED_SPLIT_IMPLS: &[(&str, &[&str])] = &[];

/// What the node binary must never link (normal dependencies, transitively).
const NODE_FORBIDDEN: &[&str] = &["jni", "heap-client", "heap-client-jni"];
/// What the pure heap must never depend on: I/O, runtimes, clocks, randomness.
const MACHINE_FORBIDDEN: &[&str] = &["tokio", "sled", "openraft", "tonic", "rand", "libc", "proto", "raft-store"];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("the workspace root")
}

fn skipped(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| SKIPPED_DIRS.contains(&n) || n.starts_with('.'))
}

/// Every folder below `root` that holds a crate (a Cargo.toml with a [package]).
fn crate_dirs(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let manifest = dir.join("Cargo.toml");
        if manifest.is_file() && std::fs::read_to_string(&manifest).expect("read Cargo.toml").contains("[package]") {
            found.push(dir.clone());
        }
        for entry in std::fs::read_dir(&dir).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() && !skipped(&path) {
                stack.push(path);
            }
        }
    }
    found.sort();
    found
}

#[test]
fn no_folder_is_both_a_crate_and_a_folder_of_crates() {
    let root = workspace_root();
    let crates = crate_dirs(&root);
    assert!(crates.len() >= 8, "found only {crates:?}: is the workspace root right?");
    for outer in &crates {
        for inner in &crates {
            assert!(
                inner == outer || !inner.starts_with(outer),
                "{} is a crate and also holds the crate {}: move one of them",
                outer.display(),
                inner.display()
            );
        }
    }
}

/// Package name -> names of its normal dependencies, for every crate of the workspace.
fn dependency_graph(root: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph = BTreeMap::new();
    for dir in crate_dirs(root) {
        let text = std::fs::read_to_string(dir.join("Cargo.toml")).expect("read Cargo.toml");
        let manifest: toml::Table = text.parse().expect("Cargo.toml parses");
        let name = manifest["package"]["name"].as_str().expect("package name").to_string();
        let dependencies = manifest.get("dependencies").and_then(|d| d.as_table()).map(|d| d.keys().cloned().collect());
        graph.insert(name, dependencies.unwrap_or_default());
    }
    graph
}

/// Every crate `start` links, directly or through workspace crates (external crates' own
/// dependencies are not followed).
fn linked(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![start.to_string()];
    while let Some(name) = stack.pop() {
        for dependency in graph.get(&name).into_iter().flatten() {
            if seen.insert(dependency.clone()) {
                stack.push(dependency.clone());
            }
        }
    }
    seen
}

#[test]
fn the_node_links_no_client_and_the_heap_machine_stays_pure() {
    let graph = dependency_graph(&workspace_root());
    assert!(graph.contains_key("heap-server") && graph.contains_key("heap-machine"), "crates: {graph:?}");
    let node = linked(&graph, "heap-server");
    for forbidden in NODE_FORBIDDEN {
        assert!(!node.contains(*forbidden), "heap-server links {forbidden}; the node must not need the client");
    }
    let machine = linked(&graph, "heap-machine");
    for forbidden in MACHINE_FORBIDDEN {
        assert!(!machine.contains(*forbidden), "heap-machine depends on {forbidden}; keep the heap pure");
    }
}

/// Every `.rs` file below `dir`, recursively.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The module path of every non-test source file of a crate (`a/b.rs` and `a/b/mod.rs` -> `a::b`).
fn modules(src: &Path) -> BTreeMap<Vec<String>, PathBuf> {
    let mut modules = BTreeMap::new();
    for path in rust_files(src) {
        let relative = path.strip_prefix(src).expect("below src").with_extension("");
        let mut parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
        let is_test = parts.last().is_some_and(|name| name.ends_with("_test") || name == "test_support");
        if is_test || parts.first().is_some_and(|first| first == "bin") {
            continue;
        }
        if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
            parts.pop();
        }
        modules.insert(parts, path);
    }
    modules
}

/// The source without comments and without an inline `#[cfg(test)] mod tests { .. }` at the end.
fn code_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("read source");
    let text = match text.find("#[cfg(test)]\nmod tests {") {
        Some(at) => &text[..at],
        None => &text,
    };
    text.lines().map(|line| line.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

/// The longest known module that `path` (a `crate::a::b::C` path, as segments) names.
fn resolve(modules: &BTreeMap<Vec<String>, PathBuf>, path: &[String]) -> Option<Vec<String>> {
    (1..=path.len()).rev().map(|n| path[..n].to_vec()).find(|candidate| modules.contains_key(candidate))
}

/// Modules each module refers to through `crate::` or `super::` paths (including `crate::{a, b}`).
fn import_graph(modules: &BTreeMap<Vec<String>, PathBuf>) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let mut graph = BTreeMap::new();
    for (module, path) in modules {
        let code = code_of(path);
        let mut targets = BTreeSet::new();
        for (at, _) in code.match_indices("crate::").chain(code.match_indices("super::")) {
            let is_super = code[at..].starts_with("super::");
            if at > 0 && code[..at].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let rest = &code[at..];
            let mut segments: Vec<String> = Vec::new();
            let mut base: Vec<String> =
                if is_super { module[..module.len().saturating_sub(1)].to_vec() } else { vec![] };
            let mut groups = Vec::new();
            for (index, segment) in rest.split("::").enumerate() {
                if index == 0 {
                    continue;
                }
                if segment == "super" && is_super {
                    base.pop();
                    continue;
                }
                if let Some(group) = segment.strip_prefix('{') {
                    let group = group.split('}').next().unwrap_or("");
                    groups
                        .extend(group.split(',').map(|item| item.trim().split("::").next().unwrap_or("").to_string()));
                    break;
                }
                let name: String = segment.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                if name.is_empty() {
                    break;
                }
                segments.push(name.clone());
                if name.len() != segment.len() {
                    break;
                }
            }
            let mut candidates = vec![[base.clone(), segments.clone()].concat()];
            candidates.extend(
                groups
                    .into_iter()
                    .filter(|g| !g.is_empty())
                    .map(|g| [base.clone(), segments.clone(), vec![g]].concat()),
            );
            for candidate in candidates {
                if let Some(target) = resolve(modules, &candidate).filter(|t| t != module && !t.is_empty()) {
                    targets.insert(target);
                }
            }
        }
        graph.insert(module.clone(), targets);
    }
    graph
}

/// Strongly connected components with more than one module (Tarjan, iterative over a small graph).
fn circles(graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Vec<BTreeSet<Vec<String>>> {
    // Reachability closure: fine for crates of a few dozen files.
    let reach = |start: &Vec<String>| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![start.clone()];
        while let Some(module) = stack.pop() {
            for next in graph.get(&module).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    stack.push(next.clone());
                }
            }
        }
        seen
    };
    let reachable: BTreeMap<_, _> = graph.keys().map(|m| (m.clone(), reach(m))).collect();
    let mut found: Vec<BTreeSet<Vec<String>>> = Vec::new();
    for module in graph.keys() {
        let circle: BTreeSet<Vec<String>> = graph
            .keys()
            .filter(|other| reachable[module].contains(*other) && reachable[*other].contains(module))
            .cloned()
            .collect();
        if circle.len() > 1 && !found.contains(&circle) {
            found.push(circle);
        }
    }
    found
}

#[test]
fn no_file_level_import_circles_outside_declared_split_impls() {
    let root = workspace_root();
    let mut problems = Vec::new();
    for dir in crate_dirs(&root) {
        let src = dir.join("src");
        if !src.is_dir() {
            continue;
        }
        let crate_name = dir.strip_prefix(&root).expect("below root").to_string_lossy().into_owned();
        let declared: Vec<BTreeSet<Vec<String>>> = DECLARED_SPLIT_IMPLS
            .iter()
            .filter(|(folder, _)| *folder == crate_name)
            .map(|(_, files)| files.iter().map(|f| f.split('/').map(String::from).collect()).collect())
            .collect();
        for circle in circles(&import_graph(&modules(&src))) {
            if !declared.iter().any(|split| circle.is_subset(split)) {
                let names: Vec<String> = circle.iter().map(|m| m.join("/")).collect();
                problems.push(format!("{crate_name}: {}", names.join(" <-> ")));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "files import each other in circles; move what they share into a module of its own:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_circle_finder_finds_a_planted_circle() {
    let dir = tempfile::tempdir().expect("temp dir");
    let src = dir.path();
    std::fs::write(src.join("lib.rs"), "mod a;\nmod b;\nmod c;\n").expect("write");
    std::fs::write(src.join("a.rs"), "use crate::b::B;\npub struct A;\n").expect("write");
    std::fs::write(src.join("b.rs"), "use super::a::A;\npub struct B;\n").expect("write");
    std::fs::write(src.join("c.rs"), "use crate::{a, b};\n// use crate::c::x;\n").expect("write");
    let found = circles(&import_graph(&modules(src)));
    let expected: BTreeSet<Vec<String>> = [vec!["a".to_string()], vec!["b".to_string()]].into_iter().collect();
    assert_eq!(found, vec![expected], "a <-> b is a circle; c only imports them");
}

#[test]
fn every_test_file_is_declared_by_a_file_beside_it() {
    let root = workspace_root();
    let mut problems = Vec::new();
    for dir in crate_dirs(&root) {
        let src = dir.join("src");
        if !src.is_dir() {
            continue;
        }
        for test_file in rust_files(&src).into_iter().filter(|f| f.to_string_lossy().ends_with("_test.rs")) {
            let name = test_file.file_name().expect("a file name").to_string_lossy().into_owned();
            let declaration = format!("#[path = \"{name}\"]");
            let folder = test_file.parent().expect("a folder");
            let declared = std::fs::read_dir(folder)
                .expect("read dir")
                .flatten()
                .map(|entry| entry.path())
                .filter(|f| f.extension().is_some_and(|e| e == "rs") && *f != test_file)
                .any(|f| std::fs::read_to_string(f).expect("read source").contains(&declaration));
            if !declared {
                problems.push(test_file.strip_prefix(&root).expect("below root").display().to_string());
            }
        }
    }
    assert!(
        problems.is_empty(),
        "test files not declared with #[cfg(test)] #[path = \"foo_test.rs\"] mod tests; in the file beside them:\n{}",
        problems.join("\n")
    );
}
