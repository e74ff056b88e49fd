//! No import circles inside any crate of the workspace (ARCHITECTURE.md, "what may import
//! what"), checked by reading the sources.
//!
//! Every source file is a module (`a.rs` and `a/mod.rs` are `a`, `a/b.rs` is `a::b`). Each
//! `use` statement and each inline `crate::`/`super::`/`self::` path adds an edge from the
//! file's module to the deepest module that the path names (a path through a re-export points
//! at the module that re-exports it, so importing `crate::run::X` from a child of `run` while
//! `run` re-exports that child is a circle). Two graphs must be free of cycles: the modules
//! themselves, and the top-level modules (every submodule merged into its top-level parent,
//! edges inside one top-level module dropped).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

/// Module path of a source file under `src`: `lib.rs` -> "", `a/mod.rs` -> "a", `a/b.rs` ->
/// "a::b".
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap_or(file);
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap_or_default();
    let stem = last.trim_end_matches(".rs");
    if !matches!(stem, "mod" | "lib" | "main") {
        parts.push(stem.to_string());
    }
    parts.join("::")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The source without comments and string literals (so that paths in docs do not count).
fn code_only(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                i += 1;
            }
            i += 2;
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if b[i] == b'r' && b.get(i + 1) == Some(&b'#') && b.get(i + 2) == Some(&b'"') {
            let end = src[i + 3..].find("\"#").map_or(b.len(), |e| i + 3 + e + 2);
            i = end;
            out.push_str("\"\"");
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

/// Expands a use tree (`a::{b::C, d}`) into full paths (`a::b::C`, `a::d`).
fn expand(tree: &str, prefix: &str, out: &mut Vec<String>) {
    let tree = tree.trim();
    if tree.is_empty() {
        return;
    }
    if let Some(open) = tree.find('{') {
        let head = tree[..open].trim().trim_end_matches("::");
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let base = join(prefix, head);
        let (mut depth, mut start) = (0, 0);
        for (k, ch) in inner.char_indices() {
            match ch {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand(&inner[start..k], &base, out);
                    start = k + 1;
                }
                _ => {}
            }
        }
        expand(&inner[start..], &base, out);
    } else {
        let path = tree.split(" as ").next().unwrap_or(tree).trim();
        out.push(join(prefix, path));
    }
}

fn join(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_string(),
        (_, true) => a.to_string(),
        _ => format!("{a}::{b}"),
    }
}

/// The depth of inline modules (`mod tests { ... }`) at each byte of `code`.
fn inline_depths(code: &str) -> Vec<usize> {
    let b = code.as_bytes();
    let mut depths = vec![0; b.len()];
    // Brace depth at which each open inline module started.
    let mut open: Vec<usize> = Vec::new();
    let mut braces = 0usize;
    let mut i = 0;
    while i < b.len() {
        if code[i..].starts_with("mod ")
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_'))
        {
            let rest = &code[i + 4..];
            let ident_len = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            if rest[ident_len..].trim_start().starts_with('{') {
                open.push(braces);
            }
        }
        match b[i] {
            b'{' => braces += 1,
            b'}' => {
                braces = braces.saturating_sub(1);
                if open.last() == Some(&braces) {
                    open.pop();
                }
            }
            _ => {}
        }
        depths[i] = open.len();
        i += 1;
    }
    depths
}

/// Every path a file's code names, with the inline-module depth where it is named: its `use`
/// trees, and inline `crate::`/`super::` paths.
fn named_paths(code: &str) -> Vec<(String, usize)> {
    let depths = inline_depths(code);
    let depth_at = |k: usize| depths.get(k).copied().unwrap_or(0);
    let mut paths = Vec::new();
    let mut from = 0;
    while let Some(k) = code[from..].find("use ") {
        let start = from + k;
        let before = code[..start].chars().last();
        let after = &code[start + 4..];
        if before.is_none_or(|c| !(c.is_alphanumeric() || c == '_')) {
            let end = after.find(';').unwrap_or(after.len());
            let mut found = Vec::new();
            expand(&after[..end], "", &mut found);
            paths.extend(found.into_iter().map(|p| (p, depth_at(start))));
        }
        from = start + 4;
    }
    for root in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(k) = code[from..].find(root) {
            let start = from + k;
            let before = code[..start].chars().last();
            if before.is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == ':')) {
                let len = code[start..]
                    .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                    .unwrap_or(code.len() - start);
                let path = code[start..start + len].trim_end_matches(':');
                // `crate::{a, b}` is a use tree, read above.
                if path.len() > root.len() - 2 {
                    paths.push((path.to_string(), depth_at(start)));
                }
            }
            from = start + root.len();
        }
    }
    paths
}

/// The module a path names, from module `from`, `inline` inline modules deep (`None` for paths
/// outside the crate). Inline modules (tests) belong to their file's module.
fn resolve(path: &str, from: &str, inline: usize, modules: &BTreeSet<String>) -> Option<String> {
    let mut segs: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
    // `super` inside an inline module first climbs out of the inline modules.
    let mut climbed = 0;
    while climbed < inline && segs.first() == Some(&"super") {
        segs.remove(0);
        climbed += 1;
    }
    if climbed > 0 && segs.first().is_some_and(|s| *s != "super") {
        segs.insert(0, "self");
    }
    let mut here: Vec<&str> = if from.is_empty() {
        Vec::new()
    } else {
        from.split("::").collect()
    };
    let mut i = 0;
    let mut abs: Vec<&str> = match segs.first().copied() {
        Some("crate") => {
            i = 1;
            Vec::new()
        }
        Some("self") => {
            i = 1;
            here.clone()
        }
        Some("super") => {
            while segs.get(i) == Some(&"super") {
                here.pop();
                i += 1;
            }
            here.clone()
        }
        Some(first) => {
            // `use child::X` in a module names its child module (2018 paths).
            let child = join(from, first);
            if modules.contains(&child) {
                here.clone()
            } else {
                return None;
            }
        }
        None => return None,
    };
    let mut best = abs.join("::");
    for s in &segs[i..] {
        abs.push(s);
        let candidate = abs.join("::");
        if modules.contains(&candidate) {
            best = candidate;
        } else {
            break;
        }
    }
    Some(best)
}

/// A cycle of `graph`, if it has one.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        graph: &Graph,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(n.to_string(), 1);
        stack.push(n.to_string());
        for m in graph.get(n).into_iter().flatten() {
            match state.get(m).copied().unwrap_or(0) {
                1 => {
                    let at = stack.iter().position(|s| s == m).unwrap_or(0);
                    let mut cycle = stack[at..].to_vec();
                    cycle.push(m.clone());
                    return Some(cycle);
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
        if state.get(n).copied().unwrap_or(0) == 0
            && let Some(c) = visit(n, graph, &mut state, &mut Vec::new())
        {
            return Some(c);
        }
    }
    None
}

/// The module graph of the crate whose sources are in `src`.
fn module_graph(src: &Path) -> Graph {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(src, f)).collect();
    // A `#[macro_export]` macro lives at the crate root by path (`crate::msg`) but belongs to
    // the module that defines it: a path to it is an edge to that module, not to the root.
    let mut macros = BTreeMap::new();
    for f in &files {
        let code = code_only(&std::fs::read_to_string(f).unwrap());
        for part in code.split("#[macro_export]").skip(1) {
            if let Some(name) = part
                .trim_start()
                .strip_prefix("macro_rules!")
                .and_then(|rest| {
                    rest.split(|c: char| !c.is_alphanumeric() && c != '_')
                        .find(|w| !w.is_empty())
                })
            {
                macros.insert(format!("crate::{name}"), module_of(src, f));
            }
        }
    }
    let mut graph = Graph::new();
    for f in &files {
        let from = module_of(src, f);
        let code = code_only(&std::fs::read_to_string(f).unwrap());
        let edges = graph.entry(from.clone()).or_default();
        for (p, inline) in named_paths(&code) {
            let to = match macros.get(p.trim_end_matches('!')) {
                Some(m) => Some(m.clone()),
                None => resolve(&p, &from, inline, &modules),
            };
            if let Some(to) = to
                && to != from
            {
                edges.insert(to);
            }
        }
    }
    graph
}

/// The same graph with every module merged into its top-level module (the crate root stays
/// apart: only its own re-exports leave it).
fn top_level(graph: &Graph) -> Graph {
    let top = |m: &str| m.split("::").next().unwrap_or("").to_string();
    let mut out = Graph::new();
    for (from, tos) in graph {
        let edges = out.entry(top(from)).or_default();
        for to in tos {
            if top(to) != top(from) {
                edges.insert(top(to));
            }
        }
    }
    out
}

/// The crates' folders: this workspace's, or those under `FOCAL_ARCH_CRATES` (to check another
/// checkout, e.g. an old commit's, with this test).
fn crates() -> Vec<PathBuf> {
    let root = std::env::var_os("FOCAL_ARCH_CRATES").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join(".."),
        PathBuf::from,
    );
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.path().join("src"))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn no_import_circle_in_any_crate() {
    let crates = crates();
    assert!(crates.len() >= 5, "found {crates:?}");
    let mut failures = Vec::new();
    for src in crates {
        let graph = module_graph(&src);
        for (what, g) in [
            ("modules", graph.clone()),
            ("top-level modules", top_level(&graph)),
        ] {
            if let Some(cycle) = find_cycle(&g) {
                failures.push(format!(
                    "{}: import circle between {what}: {}",
                    src.display(),
                    cycle
                        .iter()
                        .map(|m| if m.is_empty() { "<crate root>" } else { m })
                        .collect::<Vec<_>>()
                        .join(" -> ")
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_checker_finds_a_circle() {
    // The checker itself: two modules that import each other, and a child that imports its
    // parent's re-export of it.
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::create_dir_all(src.join("run")).unwrap();
    std::fs::write(src.join("lib.rs"), "mod a;\nmod b;\nmod run;\n").unwrap();
    std::fs::write(
        src.join("a.rs"),
        "use crate::b::{X, y::Z};\n// use crate::run;\n",
    )
    .unwrap();
    std::fs::write(src.join("b.rs"), "pub fn f() { crate::a::g() }\n").unwrap();
    std::fs::write(src.join("run/mod.rs"), "mod files;\npub use files::W;\n").unwrap();
    std::fs::write(
        src.join("run/files.rs"),
        "use super::V;\n#[cfg(test)]\nmod tests {\n    use super::*;\n}\n",
    )
    .unwrap();
    let g = module_graph(src);
    assert_eq!(g["a"], BTreeSet::from(["b".to_string()]), "{g:?}");
    assert_eq!(g["run"], BTreeSet::from(["run::files".to_string()]));
    assert_eq!(g["run::files"], BTreeSet::from(["run".to_string()]));
    let cycle = find_cycle(&g).unwrap();
    assert!(cycle.len() == 3, "{cycle:?}");
    // Top level: a <-> b is a circle; run's is internal.
    let top = top_level(&g);
    assert!(top["run"].is_empty());
    assert!(find_cycle(&top).is_some());
}
