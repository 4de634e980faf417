//! No module of the server imports one that imports it back.
//!
//! The graph: one node per module file under `server/src` (`a.rs` or `a/mod.rs`), and an edge
//! from a file to every module file its code names through a `crate::…` or `super::…` path
//! (`use` trees expanded), resolved to the longest module prefix. Not counted: comments and
//! string literals, a file's own `#[cfg(test)] mod …` blocks, the crate root `lib.rs` (every
//! module names `crate::Torii`), and a parent module re-exporting its own children
//! (`pub use crate::a::child::X` in `a`). Any two or more files that reach each other fail the
//! test, which names the files and one reference of each step.
//!
//! `TORII_MODULE_GRAPH_SRC` points the test at another source tree (to check an old revision).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A module path, e.g. `["methods", "oauth"]`; the crate root is empty.
type ModPath = Vec<String>;

/// One module file and what it names.
#[derive(Debug)]
struct ModuleFile {
    /// Relative to the source directory, e.g. `methods/oauth/mod.rs`.
    file: String,
    /// Its code without comments, literals and test modules.
    code: String,
}

/// The module graph: for each module, the modules it names, with one example reference each.
type Graph = BTreeMap<ModPath, BTreeMap<ModPath, String>>;

fn source_dir() -> PathBuf {
    std::env::var_os("TORII_MODULE_GRAPH_SRC").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        PathBuf::from,
    )
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// `methods/oauth.rs` and `methods/oauth/mod.rs` are both `methods::oauth`.
fn module_path(relative: &Path) -> ModPath {
    let mut segments: Vec<String> = relative
        .iter()
        .map(|s| s.to_string_lossy().into_owned())
        .collect();
    let last = segments.pop().unwrap_or_default();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" {
        segments.push(stem.to_owned());
    }
    segments
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The code with comments removed and string and character literals emptied, so that
/// neither can contribute a path or a brace.
fn code_only(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if c == 'r' && (next == Some('#') || next == Some('"')) && !prev_is_ident(&chars, i)
        {
            // A raw string: r"…", r#"…"#, …
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) == Some(&'"') {
                j += 1;
                loop {
                    if j >= chars.len() {
                        break;
                    }
                    if chars[j] == '"' && (1..=hashes).all(|k| chars.get(j + k) == Some(&'#')) {
                        j += 1 + hashes;
                        break;
                    }
                    j += 1;
                }
                out.push_str("\"\"");
                i = j;
            } else {
                out.push(c);
                i += 1;
            }
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' {
            // A character literal ('x', '\n', '\u{1F600}') or a lifetime ('a).
            if next == Some('\\') {
                let mut j = i + 3;
                while j < chars.len() && chars[j] != '\'' {
                    j += 1;
                }
                i = j + 1;
                out.push_str("' '");
            } else if chars.get(i + 2) == Some(&'\'') {
                i += 3;
                out.push_str("' '");
            } else {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn prev_is_ident(chars: &[char], i: usize) -> bool {
    i > 0 && is_ident_char(chars[i - 1])
}

/// Where the block opened by the `{` at `open` closes (the index of its `}`).
fn block_end(chars: &[char], open: usize) -> usize {
    let mut depth = 0usize;
    for (j, &c) in chars.iter().enumerate().skip(open) {
        if c == '{' {
            depth += 1;
        } else if c == '}' {
            depth -= 1;
            if depth == 0 {
                return j;
            }
        }
    }
    chars.len().saturating_sub(1)
}

fn skip_ws(chars: &[char], mut i: usize) -> usize {
    while i < chars.len() && chars[i].is_whitespace() {
        i += 1;
    }
    i
}

fn ident_at(chars: &[char], i: usize) -> Option<(String, usize)> {
    let mut j = i;
    while j < chars.len() && is_ident_char(chars[j]) {
        j += 1;
    }
    (j > i).then(|| (chars[i..j].iter().collect(), j))
}

/// The inline modules (`mod name { … }`) of a file: their name and the range of their body.
fn inline_modules(chars: &[char]) -> Vec<(String, usize, usize)> {
    let mut found = Vec::new();
    let mut i = 0;
    while i + 3 < chars.len() {
        if chars[i..i + 3] == ['m', 'o', 'd']
            && !prev_is_ident(chars, i)
            && chars[i + 3].is_whitespace()
            && let Some((name, after)) = ident_at(chars, skip_ws(chars, i + 3))
        {
            let brace = skip_ws(chars, after);
            if chars.get(brace) == Some(&'{') {
                found.push((name, brace, block_end(chars, brace)));
            }
        }
        i += 1;
    }
    found
}

/// The code without its `#[cfg(test)]` inline modules.
fn without_test_modules(code: &str) -> String {
    let chars: Vec<char> = code.chars().collect();
    let mut cut = vec![false; chars.len()];
    let text: String = chars.iter().collect();
    let mut search = 0;
    while let Some(found) = text[search..].find("#[cfg(test)]") {
        let at = search + found;
        search = at + 1;
        let start = text[..at].chars().count();
        let after = skip_ws(&chars, start + "#[cfg(test)]".len());
        let is_mod = chars.get(after..after + 3) == Some(&['m', 'o', 'd'][..]);
        if !is_mod {
            continue;
        }
        if let Some(brace) = (after..chars.len()).find(|&j| chars[j] == '{' || chars[j] == ';')
            && chars[brace] == '{'
        {
            let end = block_end(&chars, brace);
            cut[start..=end].iter_mut().for_each(|c| *c = true);
        }
    }
    chars
        .iter()
        .zip(cut)
        .map(|(&c, gone)| if gone { ' ' } else { c })
        .collect()
}

/// The leaf paths of a path or use tree starting at `i`: `a::b`, `a::{b, c::d}`, `a::*`.
fn path_tree(chars: &[char], i: usize) -> Vec<Vec<String>> {
    let i = skip_ws(chars, i);
    if chars.get(i) == Some(&'{') {
        let end = block_end(chars, i);
        let mut leaves = Vec::new();
        let mut depth = 0;
        let mut item_start = i + 1;
        for j in i + 1..=end {
            match chars[j] {
                '{' => depth += 1,
                '}' if depth > 0 => depth -= 1,
                ',' | '}' if depth == 0 => {
                    leaves.extend(path_tree(&chars[..j], item_start));
                    item_start = j + 1;
                }
                _ => {}
            }
        }
        return leaves;
    }
    let Some((segment, after)) = ident_at(chars, i) else {
        return Vec::new();
    };
    let next = skip_ws(chars, after);
    if chars.get(next) == Some(&':') && chars.get(next + 1) == Some(&':') {
        let rest = path_tree(chars, next + 2);
        if rest.is_empty() {
            return vec![vec![segment]];
        }
        return rest
            .into_iter()
            .map(|mut leaf| {
                leaf.insert(0, segment.clone());
                leaf
            })
            .collect();
    }
    vec![vec![segment]]
}

/// Whether the path starting at `at` is the path of a `pub use` (a re-export).
fn in_pub_use(chars: &[char], at: usize) -> bool {
    let start = (0..at)
        .rev()
        .find(|&j| matches!(chars[j], ';' | '}' | '{'))
        .map_or(0, |j| j + 1);
    let statement: String = chars[start..at].iter().collect();
    let words: Vec<&str> = statement
        .split(|c: char| c.is_whitespace() || c == ']')
        .filter(|w| !w.is_empty())
        .collect();
    words.last() == Some(&"use") && words.iter().any(|w| w.starts_with("pub"))
}

/// The module each `crate::` or `super::` path of a file names, with the path as written and
/// whether it is re-exported.
fn references(
    here: &ModPath,
    code: &str,
    modules: &BTreeSet<ModPath>,
) -> Vec<(ModPath, String, bool)> {
    let chars: Vec<char> = code.chars().collect();
    let inline = inline_modules(&chars);
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let keyword = if chars[i..].starts_with(&['c', 'r', 'a', 't', 'e']) {
            "crate"
        } else if chars[i..].starts_with(&['s', 'u', 'p', 'e', 'r']) {
            "super"
        } else {
            i += 1;
            continue;
        };
        let after = i + keyword.len();
        let standalone = !prev_is_ident(&chars, i)
            && (i == 0 || !matches!(chars[i - 1], '$' | ':'))
            && chars.get(after) == Some(&':')
            && chars.get(after + 1) == Some(&':');
        if !standalone {
            i += 1;
            continue;
        }
        let base: ModPath = if keyword == "crate" {
            Vec::new()
        } else {
            let mut module = here.clone();
            module.extend(
                inline
                    .iter()
                    .filter(|(_, open, close)| *open < i && i < *close)
                    .map(|(name, _, _)| name.clone()),
            );
            module.pop();
            module
        };
        let reexport = in_pub_use(&chars, i);
        for leaf in path_tree(&chars, after + 2) {
            let mut absolute = base.clone();
            for segment in &leaf {
                match segment.as_str() {
                    "super" => {
                        absolute.pop();
                    }
                    "self" => {}
                    _ => absolute.push(segment.clone()),
                }
            }
            let target = (1..=absolute.len())
                .rev()
                .map(|k| absolute[..k].to_vec())
                .find(|prefix| modules.contains(prefix));
            if let Some(target) = target {
                let written = format!("{keyword}::{}", leaf.join("::"));
                found.push((target, written, reexport));
            }
        }
        i = after;
    }
    found
}

fn read_modules(dir: &Path) -> BTreeMap<ModPath, ModuleFile> {
    let mut files = Vec::new();
    rust_files(dir, &mut files);
    files
        .into_iter()
        .filter_map(|path| {
            let relative = path.strip_prefix(dir).ok()?.to_path_buf();
            let module = module_path(&relative);
            // The crate root re-exports and wires everything; it is not a node.
            if module.is_empty() {
                return None;
            }
            let source = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            let code = without_test_modules(&code_only(&source));
            let file = relative.to_string_lossy().replace('\\', "/");
            Some((module, ModuleFile { file, code }))
        })
        .collect()
}

fn graph(modules: &BTreeMap<ModPath, ModuleFile>) -> Graph {
    let names: BTreeSet<ModPath> = modules.keys().cloned().collect();
    let mut graph = Graph::new();
    for (module, file) in modules {
        let edges = graph.entry(module.clone()).or_default();
        for (target, written, reexport) in references(module, &file.code, &names) {
            let is_child = target.len() > module.len() && target.starts_with(module);
            if target == *module || (reexport && is_child) {
                continue;
            }
            edges.entry(target).or_insert(written);
        }
    }
    graph
}

/// The strongly connected components of two or more modules (Tarjan's algorithm).
fn cycles(graph: &Graph) -> Vec<Vec<ModPath>> {
    struct State<'g> {
        graph: &'g Graph,
        index: BTreeMap<&'g ModPath, usize>,
        low: BTreeMap<&'g ModPath, usize>,
        stack: Vec<&'g ModPath>,
        on_stack: BTreeSet<&'g ModPath>,
        found: Vec<Vec<ModPath>>,
    }
    fn visit<'g>(state: &mut State<'g>, node: &'g ModPath) {
        let n = state.index.len();
        state.index.insert(node, n);
        state.low.insert(node, n);
        state.stack.push(node);
        state.on_stack.insert(node);
        for next in state.graph.get(node).into_iter().flat_map(BTreeMap::keys) {
            if !state.index.contains_key(next) {
                visit(state, next);
                let low = state.low[node].min(state.low[next]);
                state.low.insert(node, low);
            } else if state.on_stack.contains(next) {
                let low = state.low[node].min(state.index[next]);
                state.low.insert(node, low);
            }
        }
        if state.low[node] == state.index[node] {
            let mut component = Vec::new();
            while let Some(member) = state.stack.pop() {
                state.on_stack.remove(member);
                component.push(member.clone());
                if member == node {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                state.found.push(component);
            }
        }
    }
    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for node in graph.keys() {
        if !state.index.contains_key(node) {
            visit(&mut state, node);
        }
    }
    state.found
}

/// One loop through a component, from its first module back to it.
fn a_loop(graph: &Graph, component: &[ModPath]) -> Vec<ModPath> {
    let members: BTreeSet<&ModPath> = component.iter().collect();
    let start = &component[0];
    // Breadth-first from the start's successors back to the start, inside the component.
    let mut previous: BTreeMap<&ModPath, &ModPath> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for next in graph.get(node).into_iter().flat_map(BTreeMap::keys) {
            if !members.contains(next) || previous.contains_key(next) {
                continue;
            }
            previous.insert(next, node);
            if next == start {
                let mut path = vec![start.clone()];
                let mut at = previous[start];
                while at != start {
                    path.push(at.clone());
                    at = previous[at];
                }
                path.push(start.clone());
                path.reverse();
                return path;
            }
            queue.push_back(next);
        }
    }
    component.to_vec()
}

fn report(modules: &BTreeMap<ModPath, ModuleFile>, graph: &Graph) -> String {
    let name = |m: &ModPath| {
        modules
            .get(m)
            .map_or_else(|| m.join("::"), |f| f.file.clone())
    };
    let mut message = String::new();
    for component in cycles(graph) {
        let files: Vec<String> = component.iter().map(name).collect();
        let _ = writeln!(
            message,
            "\nthese modules import each other: {}",
            files.join(", ")
        );
        let path = a_loop(graph, &component);
        for step in path.windows(2) {
            let written = graph
                .get(&step[0])
                .and_then(|edges| edges.get(&step[1]))
                .map_or("?", String::as_str);
            let _ = writeln!(
                message,
                "  {} -> {}  (names `{written}`)",
                name(&step[0]),
                name(&step[1])
            );
        }
    }
    message
}

#[test]
fn no_server_module_imports_one_that_imports_it_back() {
    let dir = source_dir();
    let modules = read_modules(&dir);
    assert!(
        modules.len() > 10,
        "expected the server's modules under {}",
        dir.display()
    );
    let graph = graph(&modules);
    let cycles = report(&modules, &graph);
    assert!(
        cycles.is_empty(),
        "modules of server/src import each other (paths relative to {}):\n{cycles}\n\
         A cycle means a type lives in the wrong module: move the shared type to the module \
         both sides are about (or to a new one below them), so that the dependency goes one \
         way only.",
        dir.display()
    );
}

/// The detector itself, on a small tree: it must see a cycle through `use` trees and `super`,
/// and must not count test modules, comments, strings, the crate root or re-exports.
#[test]
fn the_detector_finds_cycles_and_ignores_what_does_not_count() {
    let dir = std::env::temp_dir().join(format!("torii-module-graph-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let write = |file: &str, text: &str| {
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("a directory");
        std::fs::write(path, text).expect("written");
    };
    write(
        "lib.rs",
        "mod a; mod b; mod c; pub use a::A; fn f() { crate::a::g(); }",
    );
    write(
        "a.rs",
        "use crate::{Torii, b::{self, B, inner::I}};\npub struct A;",
    );
    write(
        "b/mod.rs",
        "mod inner;\npub use crate::b::inner::I;\npub struct B;",
    );
    write("b/inner.rs", "use super::super::c::C;\npub struct I;");
    write(
        "c.rs",
        "// crate::a::A in a comment\nconst S: &str = \"crate::a::A\";\n\
         pub struct C;\n#[cfg(test)]\nmod tests {\n    use crate::a::A;\n}\n\
         fn f() -> crate::b::B { todo!() }",
    );
    let modules = read_modules(&dir);
    let without_cycle = graph(&modules);
    let no_cycle = report(&modules, &without_cycle);
    assert!(no_cycle.is_empty(), "{no_cycle}");
    let to = |m: &str| vec![m.to_owned()];
    assert!(without_cycle[&to("a")].contains_key(&to("b")));
    assert!(!without_cycle[&to("b")].contains_key(&vec!["b".to_owned(), "inner".to_owned()]));
    assert!(!without_cycle[&to("c")].contains_key(&to("a")));
    // Now `c` names `a` outside its tests: a -> b::inner -> c -> a.
    write("c.rs", "pub struct C;\nfn f() { let _ = crate::a::A; }");
    let modules = read_modules(&dir);
    let cycle = report(&modules, &graph(&modules));
    let _ = std::fs::remove_dir_all(&dir);
    assert!(cycle.contains("a.rs -> b/inner.rs"), "{cycle}");
    assert!(cycle.contains("b/inner.rs -> c.rs"), "{cycle}");
    assert!(
        cycle.contains("c.rs -> a.rs  (names `crate::a::A`)"),
        "{cycle}"
    );
}
