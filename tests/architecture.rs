//! The code's shape, checked: the layers import only downwards (`domain` and `photo` are
//! pure; `store`, `api`, `idcard` above them; `central`, `sync`, `config` above those;
//! then `tui` and `demo`; `cli` on top), and no module imports another that imports it
//! back, however indirectly (re-exports followed to where a name is defined).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each top-level module's layer: a module may use only lower layers, or its own.
const LAYERS: [(&str, u8); 23] = [
    ("digest", 0),
    ("keys", 0),
    ("private_files", 0),
    ("process", 0),
    ("domain", 0),
    ("photo", 0),
    ("receipt", 1),
    ("api", 1),
    ("idcard", 1),
    ("store", 1),
    ("access", 2),
    ("central", 2),
    ("sync", 2),
    ("config", 2),
    ("logging", 2),
    ("intake", 2),
    ("printing", 2),
    ("report", 2),
    ("tui", 3),
    ("demo", 3),
    ("cli", 4),
    ("lib", 5),
    ("main", 5),
];

/// `src/a/b.rs` and `src/a/b/mod.rs` → `a::b`.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts.join("::")
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without its test module (tests may use anything) and without
/// comments (a doc comment naming a module is not a use of it).
fn code(file: &Path) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => &text[..],
    };
    text.lines()
        .map(|l| l.split_once("//").map_or(l, |(code, _)| code))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Where each name a module re-exports (`pub use x::{A, B}`) is defined: name → module.
fn re_exports(module: &str, text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let re = regex::Regex::new(r"pub use (self::|super::|crate::)?([a-z_][a-z_0-9]*(?:::[a-z_][a-z_0-9]*)*)::\{?([^;]*?)\}?;").unwrap();
    for c in re.captures_iter(text) {
        let base = match c.get(1).map(|m| m.as_str()) {
            Some("crate::") => c[2].to_owned(),
            Some("super::") => format!("{}::{}", parent(module), &c[2]),
            _ => format!("{module}::{}", &c[2]),
        };
        for name in c[3].split(',') {
            let name = name.trim().split(" as ").next().unwrap().trim();
            if !name.is_empty() {
                out.insert(name.to_owned(), base.trim_start_matches("::").to_owned());
            }
        }
    }
    out
}

fn parent(module: &str) -> String {
    module
        .rsplit_once("::")
        .map_or(String::new(), |(p, _)| p.to_owned())
}

#[test]
fn layers_import_only_downwards_and_no_module_imports_itself_back() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    let modules: BTreeMap<String, String> =
        all.iter().map(|f| (module_of(&src, f), code(f))).collect();
    let exports: BTreeMap<String, BTreeMap<String, String>> = modules
        .iter()
        .map(|(m, t)| (m.clone(), re_exports(m, t)))
        .collect();
    // Resolve a path to the module that defines it: the longest module prefix, then
    // through that module's re-exports.
    let resolve = |path: &str| -> Option<String> {
        let parts: Vec<&str> = path.split("::").collect();
        for n in (1..=parts.len()).rev() {
            let candidate = parts[..n].join("::");
            if modules.contains_key(&candidate) {
                if let Some(next) = parts.get(n)
                    && let Some(target) = exports[&candidate].get(*next)
                    && target != &candidate
                {
                    return Some(target.clone());
                }
                return Some(candidate);
            }
        }
        None
    };
    let path_re = regex::Regex::new(r"\b(crate|super)((?:::[A-Za-z_][A-Za-z_0-9]*)+)").unwrap();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, text) in &modules {
        for c in path_re.captures_iter(text) {
            let rest = c[2].trim_start_matches("::");
            let full = if &c[1] == "crate" {
                rest.to_owned()
            } else {
                let p = parent(module);
                if p.is_empty() {
                    rest.to_owned()
                } else {
                    format!("{p}::{rest}")
                }
            };
            if let Some(target) = resolve(&full)
                && &target != module
                && !module.starts_with(&format!("{target}::"))
            {
                edges.entry(module.clone()).or_default().insert(target);
            }
        }
    }
    // Layers.
    let layer = |m: &str| {
        let top = m.split("::").next().unwrap();
        LAYERS
            .iter()
            .find(|(n, _)| *n == top)
            .map(|(_, l)| *l)
            .unwrap_or_else(|| panic!("module {top} has no layer in tests/architecture.rs"))
    };
    let mut upward = Vec::new();
    for (from, tos) in &edges {
        for to in tos {
            if layer(to) > layer(from) {
                upward.push(format!("{from} → {to}"));
            }
        }
    }
    assert!(upward.is_empty(), "imports up a layer: {upward:#?}");
    // Cycles, by strongly connected components (Tarjan).
    let names: Vec<&String> = modules.keys().collect();
    let index_of: BTreeMap<&String, usize> =
        names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let succ: Vec<Vec<usize>> = names
        .iter()
        .map(|n| {
            edges
                .get(*n)
                .map(|t| t.iter().filter_map(|x| index_of.get(x).copied()).collect())
                .unwrap_or_default()
        })
        .collect();
    let cycles = strongly_connected(&succ);
    let circles: Vec<Vec<&String>> = cycles
        .into_iter()
        .filter(|c| c.len() > 1)
        .map(|c| c.into_iter().map(|i| names[i]).collect())
        .collect();
    assert!(
        circles.is_empty(),
        "modules that import each other: {circles:#?}"
    );
}

fn strongly_connected(succ: &[Vec<usize>]) -> Vec<Vec<usize>> {
    struct T<'a> {
        succ: &'a [Vec<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    fn visit(t: &mut T, v: usize) {
        t.index[v] = Some(t.next);
        t.low[v] = t.next;
        t.next += 1;
        t.stack.push(v);
        t.on[v] = true;
        for &w in &t.succ[v] {
            match t.index[w] {
                None => {
                    visit(t, w);
                    t.low[v] = t.low[v].min(t.low[w]);
                }
                Some(i) if t.on[w] => t.low[v] = t.low[v].min(i),
                _ => {}
            }
        }
        if Some(t.low[v]) == t.index[v] {
            let mut c = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on[w] = false;
                c.push(w);
                if w == v {
                    break;
                }
            }
            t.out.push(c);
        }
    }
    let n = succ.len();
    let mut t = T {
        succ,
        index: vec![None; n],
        low: vec![0; n],
        on: vec![false; n],
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in 0..n {
        if t.index[v].is_none() {
            visit(&mut t, v);
        }
    }
    t.out
}
