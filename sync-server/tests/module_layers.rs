//! The server's modules form layers: no module imports one that (directly or through others) imports it.
//! Every file under `src/` is parsed with `syn`; each path that starts with `crate`, `super` or `self` (in
//! `use` items, expressions and types) is an edge to the module it names, re-exports followed (`crate::db::X`
//! counts as an edge to the file of `db` that defines `X`). A module and its own ancestors or descendants
//! are not edges: a parent declares its children. Test code (`#[cfg(test)]`) is left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use syn::visit::Visit;

/// A module's path below the crate root: `[]` for lib.rs, `["db", "cases"]` for `db/cases.rs`.
type ModPath = Vec<String>;

struct Module {
    file: syn::File,
    /// Names this module re-exports with `pub use`, and the path they come from.
    reexports: BTreeMap<String, Vec<String>>,
}

/// Reads every module file of `src` (binaries left out) into a map keyed by module path.
fn read_crate(src: &Path) -> BTreeMap<ModPath, syn::File> {
    let mut out = BTreeMap::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "bin") {
                    dirs.push(path);
                }
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") || path.file_name().is_some_and(|n| n == "main.rs") {
                continue;
            }
            let rel = path.strip_prefix(src).unwrap().with_extension("");
            let mut parts: ModPath = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
            if parts.last().is_some_and(|l| l == "mod" || l == "lib") {
                parts.pop();
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let file = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            out.insert(parts, file);
        }
    }
    out
}

fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs
        .iter()
        .any(|a| a.path().is_ident("cfg") && a.parse_args::<syn::Meta>().is_ok_and(|m| m.path().is_ident("test")))
}

/// Every path a `use` tree names, with its `as` rename or last segment as the name it binds.
fn use_paths(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<(Vec<String>, Option<String>)>) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            use_paths(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) => {
            let mut path = prefix.clone();
            let name = n.ident.to_string();
            if name != "self" {
                path.push(name.clone());
            }
            let bound = if name == "self" { prefix.last().cloned() } else { Some(name) };
            out.push((path, bound));
        }
        syn::UseTree::Rename(r) => {
            let mut path = prefix.clone();
            path.push(r.ident.to_string());
            out.push((path, Some(r.rename.to_string())));
        }
        syn::UseTree::Glob(_) => out.push((prefix.clone(), None)),
        syn::UseTree::Group(g) => {
            for t in &g.items {
                use_paths(t, prefix, out);
            }
        }
    }
}

/// Collects the paths of a file that start with `crate`, `super` or `self`.
#[derive(Default)]
struct Paths(Vec<Vec<String>>);

impl<'ast> Visit<'ast> for Paths {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if !is_test_only(&m.attrs) {
            syn::visit::visit_item_mod(self, m);
        }
    }
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        if !is_test_only(&f.attrs) {
            syn::visit::visit_item_fn(self, f);
        }
    }
    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        let mut out = Vec::new();
        use_paths(&u.tree, &mut Vec::new(), &mut out);
        self.0.extend(out.into_iter().map(|(p, _)| p));
    }
    fn visit_path(&mut self, p: &'ast syn::Path) {
        self.0.push(p.segments.iter().map(|s| s.ident.to_string()).collect());
        syn::visit::visit_path(self, p);
    }
}

struct Graph {
    modules: BTreeMap<ModPath, Module>,
}

impl Graph {
    fn new(files: BTreeMap<ModPath, syn::File>) -> Graph {
        let modules = files
            .into_iter()
            .map(|(path, file)| {
                let mut reexports = BTreeMap::new();
                for item in &file.items {
                    if let syn::Item::Use(u) = item
                        && matches!(u.vis, syn::Visibility::Public(_))
                    {
                        let mut out = Vec::new();
                        use_paths(&u.tree, &mut Vec::new(), &mut out);
                        for (p, bound) in out {
                            if let Some(name) = bound {
                                reexports.insert(name, p);
                            }
                        }
                    }
                }
                (path, Module { file, reexports })
            })
            .collect();
        Graph { modules }
    }

    /// The module a path used inside `from` leads to, or `None` for paths outside the crate.
    fn resolve(&self, from: &ModPath, path: &[String], depth: usize) -> Option<ModPath> {
        let mut base = from.clone();
        let mut rest = path;
        match rest.first().map(String::as_str) {
            Some("crate") => {
                base.clear();
                rest = &rest[1..];
            }
            Some("super") => {
                while rest.first().is_some_and(|s| s == "super") {
                    base.pop()?;
                    rest = &rest[1..];
                }
            }
            Some("self") => rest = &rest[1..],
            // A path from a child module of `from` (as `use` items in a parent name their children).
            Some(first) if self.modules.contains_key(&[from.as_slice(), &[first.to_owned()]].concat()) => {}
            _ => return None,
        }
        // The longest prefix that is a module, then a re-export of it if the next name is one.
        let mut module = base.clone();
        let mut i = 0;
        while i < rest.len() {
            let mut next = module.clone();
            next.push(rest[i].clone());
            if !self.modules.contains_key(&next) {
                break;
            }
            module = next;
            i += 1;
        }
        if depth < 8
            && let Some(name) = rest.get(i)
            && let Some(source) = self.modules.get(&module).and_then(|m| m.reexports.get(name))
        {
            let mut full = source.clone();
            full.extend(rest[i + 1..].iter().cloned());
            if let Some(target) = self.resolve(&module, &full, depth + 1) {
                return Some(target);
            }
        }
        Some(module)
    }

    fn edges(&self) -> BTreeMap<ModPath, BTreeSet<ModPath>> {
        let mut out = BTreeMap::new();
        for (from, m) in &self.modules {
            let mut paths = Paths::default();
            for item in &m.file.items {
                paths.visit_item(item);
            }
            let targets: BTreeSet<ModPath> = paths
                .0
                .iter()
                .filter_map(|p| self.resolve(from, p, 0))
                .filter(|to| !to.starts_with(from) && !from.starts_with(to))
                .collect();
            out.insert(from.clone(), targets);
        }
        out
    }
}

/// A cycle of the graph, as the modules along it, if there is one.
fn find_cycle(edges: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> Option<Vec<ModPath>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn walk(
        n: &ModPath,
        edges: &BTreeMap<ModPath, BTreeSet<ModPath>>,
        marks: &mut BTreeMap<ModPath, Mark>,
        stack: &mut Vec<ModPath>,
    ) -> Option<Vec<ModPath>> {
        marks.insert(n.clone(), Mark::Open);
        stack.push(n.clone());
        for next in edges.get(n).into_iter().flatten() {
            match marks.get(next) {
                Some(Mark::Open) => {
                    let start = stack.iter().position(|m| m == next).unwrap();
                    let mut cycle = stack[start..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                Some(Mark::Done) => {}
                None => {
                    if let Some(c) = walk(next, edges, marks, stack) {
                        return Some(c);
                    }
                }
            }
        }
        stack.pop();
        marks.insert(n.clone(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for n in edges.keys() {
        if !marks.contains_key(n)
            && let Some(c) = walk(n, edges, &mut marks, &mut Vec::new())
        {
            return Some(c);
        }
    }
    None
}

fn name(m: &ModPath) -> String {
    if m.is_empty() { "crate".into() } else { m.join("::") }
}

fn edge(from: &str, to: &str) -> (ModPath, ModPath) {
    let split = |s: &str| s.split("::").map(str::to_owned).collect::<ModPath>();
    (split(from), split(to))
}

#[test]
fn no_module_of_the_server_imports_one_that_imports_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let edges = Graph::new(read_crate(&src)).edges();
    // The reading works: edges known to exist are found, re-exports followed to the defining file.
    for (from, to) in [edge("db::backend", "db::ingest"), edge("http::cases", "db::cases"), edge("auth", "state")] {
        assert!(edges[&from].contains(&to), "{} → {} not found", name(&from), name(&to));
    }
    if let Some(cycle) = find_cycle(&edges) {
        panic!("modules import each other: {}", cycle.iter().map(name).collect::<Vec<_>>().join(" → "));
    }
}

#[test]
fn a_cycle_through_a_reexport_is_found() {
    let parse = |s: &str| syn::parse_file(s).unwrap();
    let files = BTreeMap::from([
        (vec![], parse("pub mod a; pub mod b; pub use a::Thing;")),
        (vec!["a".to_owned()], parse("pub struct Thing; fn f() { crate::b::g(); }")),
        (vec!["b".to_owned()], parse("pub fn g() {} fn h(_: crate::Thing) {}")),
        (vec!["c".to_owned()], parse("use super::a::Thing; #[cfg(test)] mod tests { use crate::c; }")),
    ]);
    let edges = Graph::new(files).edges();
    assert_eq!(edges[&vec!["b".to_owned()]], BTreeSet::from([vec!["a".to_owned()]]));
    let cycle = find_cycle(&edges).expect("a and b import each other");
    assert_eq!(cycle.len(), 3, "{cycle:?}");
    // Without the edge back, there is none.
    let files = BTreeMap::from([
        (vec![], parse("pub mod a; pub mod b;")),
        (vec!["a".to_owned()], parse("fn f() { crate::b::g(); }")),
        (vec!["b".to_owned()], parse("pub fn g() {}")),
    ]);
    assert_eq!(find_cycle(&Graph::new(files).edges()), None);
}
