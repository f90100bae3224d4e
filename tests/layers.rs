//! The layout's rules, read from the source: inside `src/sim/` a layer uses only the layers below
//! it (foundation → cluster → group → client → app → the simulation root), and nothing in `src/`
//! imports in a circle (the sim's parts, the crate's top-level modules, the page's files).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The foundation modules of `src/sim/`, which every layer may use.
const FOUNDATION: &[&str] = &["avro", "serdes", "types", "config", "topic", "map", "shared", "ledger", "murmur2", "size", "msg", "timer", "narrate", "ctx", "net"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source folder") {
        let path = entry.expect("readable entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A file's module path: `src/sim/client/consumer/poll.rs` is `sim::client::consumer::poll`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).expect("under src");
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string()).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
        parts.pop();
    }
    parts
}

/// Every absolute module path the file names, from `use` items (one level of braces expanded)
/// and from inline `crate::`/`super::` paths, with comments and the unit tests left out (tests
/// sit at the end of a file, and may use anything).
fn references(module: &[String], text: &str) -> Vec<Vec<String>> {
    let text = text.find("#[cfg(test)]").or_else(|| text.find("#[cfg(all(test")).map_or(text, |at| &text[..at]);
    let code: String = text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n");
    let mut paths: Vec<String> = Vec::new();
    for item in code.split("use ").skip(1) {
        let Some(end) = item.find(';') else { continue };
        let item: String = item[..end].split_whitespace().collect();
        match item.split_once('{') {
            Some((prefix, rest)) => {
                for inner in rest.trim_end_matches('}').split(',') {
                    let first = inner.split(['{', ':']).next().unwrap_or("");
                    paths.push(format!("{prefix}{first}"));
                }
            }
            None => paths.push(item),
        }
    }
    let bytes = code.as_bytes();
    for start in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(at) = code[from..].find(start) {
            let begin = from + at;
            let preceded = begin > 0 && (bytes[begin - 1].is_ascii_alphanumeric() || bytes[begin - 1] == b'_' || bytes[begin - 1] == b':');
            let len = code[begin..].find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':')).unwrap_or(code.len() - begin);
            if !preceded {
                paths.push(code[begin..begin + len].to_string());
            }
            from = begin + len.max(1);
        }
    }
    paths
        .into_iter()
        .filter_map(|p| {
            let segs: Vec<&str> = p.split("::").filter(|s| !s.is_empty()).collect();
            let mut resolved: Vec<String> = match segs.first() {
                Some(&"crate") => Vec::new(),
                Some(&"super") => module.to_vec(),
                _ => return None,
            };
            for s in segs {
                match s {
                    "crate" | "self" => {}
                    "super" => {
                        resolved.pop();
                    }
                    s => resolved.push(s.to_string()),
                }
            }
            Some(resolved)
        })
        .collect()
}

/// The part of `src/sim/` a module belongs to, and its layer: 0 foundation (each module its own
/// part), 1 cluster, 2 group and txn, 3 client, 4 the applications built on clients, 5 the root.
fn sim_part(path: &[String]) -> Option<(String, u8)> {
    if path.first().map(String::as_str) != Some("sim") {
        return None;
    }
    let part = path.get(1).map(String::as_str).unwrap_or("root");
    Some(match part {
        p if FOUNDATION.contains(&p) => (p.to_string(), 0),
        "cluster" => ("cluster".into(), 1),
        "group" => ("group".into(), 2),
        "txn" => ("txn".into(), 2),
        "client" => ("client".into(), 3),
        "app" => ("app".into(), 4),
        "registry" => ("registry".into(), 4),
        _ => ("root".into(), 5),
    })
}

/// A circle in the graph, if there is one, as the list of nodes around it.
fn find_circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(n: &str, graph: &BTreeMap<String, BTreeSet<String>>, state: &mut BTreeMap<String, u8>, stack: &mut Vec<String>) -> Option<Vec<String>> {
        state.insert(n.to_string(), 1);
        stack.push(n.to_string());
        for m in graph.get(n).into_iter().flatten() {
            match state.get(m.as_str()).copied().unwrap_or(0) {
                1 => {
                    let at = stack.iter().position(|s| s == m).expect("on the stack");
                    return Some(stack[at..].to_vec());
                }
                0 => {
                    if let Some(c) = visit(m, graph, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in graph.keys() {
        if state.get(n.as_str()).copied().unwrap_or(0) == 0 {
            if let Some(c) = visit(n, graph, &mut state, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

struct Source {
    file: PathBuf,
    module: Vec<String>,
    refs: Vec<Vec<String>>,
}

fn sources() -> Vec<Source> {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|file| {
            let module = module_of(&src, &file);
            let text = std::fs::read_to_string(&file).expect("readable source");
            let refs = references(&module, &text);
            Source { file, module, refs }
        })
        .collect()
}

#[test]
fn sim_layers_use_only_the_layers_below() {
    let mut upward = Vec::new();
    let mut checked = 0;
    for s in sources() {
        let Some((part, layer)) = sim_part(&s.module) else { continue };
        checked += 1;
        for r in &s.refs {
            if let Some((to, to_layer)) = sim_part(r) {
                if to_layer > layer {
                    upward.push(format!("{} ({part}, layer {layer}) uses {} ({to}, layer {to_layer})", s.file.display(), r.join("::")));
                }
            }
        }
    }
    assert!(checked > 30, "the sim's files were found ({checked})");
    assert!(upward.is_empty(), "imports that run up the layers:\n{}", upward.join("\n"));
}

#[test]
fn no_import_circles() {
    let mut sim = BTreeMap::<String, BTreeSet<String>>::new();
    let mut top = BTreeMap::<String, BTreeSet<String>>::new();
    let mut ui = BTreeMap::<String, BTreeSet<String>>::new();
    for s in sources() {
        let me_top = s.module.first().cloned().unwrap_or_else(|| "lib".into());
        top.entry(me_top.clone()).or_default();
        for r in &s.refs {
            let Some(to_top) = r.first() else { continue };
            if *to_top != me_top {
                top.entry(me_top.clone()).or_default().insert(to_top.clone());
            }
            if let (Some((from, _)), Some((to, _))) = (sim_part(&s.module), sim_part(r)) {
                if from != to {
                    sim.entry(from).or_default().insert(to);
                }
            }
            if s.module.first().map(String::as_str) == Some("ui") && r.first().map(String::as_str) == Some("ui") {
                if let (Some(from), Some(to)) = (s.module.get(1), r.get(1)) {
                    if from != to {
                        ui.entry(from.clone()).or_default().insert(to.clone());
                    }
                }
            }
        }
    }
    // The crate root declares every module; its uses of them are not a layer's.
    top.remove("lib");
    for graph in top.values_mut() {
        graph.remove("lib");
    }
    for (name, graph) in [("src/sim/", &sim), ("src/", &top), ("src/ui/", &ui)] {
        assert!(graph.len() > 3, "{name}: the modules were found");
        if let Some(circle) = find_circle(graph) {
            panic!("{name}: modules import each other in a circle: {}", circle.join(" → "));
        }
    }
}
