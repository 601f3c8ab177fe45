//! The layers check themselves: every `crate::…` (and escaping `super::…`) path in `src/` is
//! resolved to the layer it names and compared with the rule table of
//! `docs/ARCHITECTURE.md`, the one place the rules live. An import the table forbids fails
//! the suite, naming file and path, unless it is listed there as known debt; a debt row that
//! no longer matches anything fails too, so the list only shrinks.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// One layer of the table: its name, the module paths it owns and the layers it may import.
#[derive(Debug, Clone)]
struct Layer {
    name: String,
    modules: Vec<String>,
    may_import: BTreeSet<String>,
}

/// The rules read from the document.
#[derive(Debug)]
struct Rules {
    layers: Vec<Layer>,
    /// (file, forbidden layer) pairs accepted for now.
    debt: BTreeSet<(String, String)>,
}

/// An import the rules forbid.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Violation {
    file: String,
    path: String,
    from: String,
    to: String,
}

/// The rows of the Markdown table between `<!-- NAME: begin -->` and `<!-- NAME: end -->`,
/// header and separator left out, each as its trimmed cells.
fn table(doc: &str, name: &str) -> Vec<Vec<String>> {
    let begin = format!("<!-- {name}: begin -->");
    let end = format!("<!-- {name}: end -->");
    let start = doc
        .find(&begin)
        .unwrap_or_else(|| panic!("docs/ARCHITECTURE.md has no `{begin}`"));
    let rest = &doc[start + begin.len()..];
    let stop = rest
        .find(&end)
        .unwrap_or_else(|| panic!("docs/ARCHITECTURE.md has no `{end}`"));
    rest[..stop]
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_owned())
                .collect()
        })
        .collect()
}

/// The comma-separated names of a cell, without backticks; `—` is none.
fn names(cell: &str) -> Vec<String> {
    cell.split(',')
        .map(|s| s.trim().trim_matches('`').trim().to_owned())
        .filter(|s| !s.is_empty() && s != "—" && s != "-")
        .collect()
}

fn parse_rules(doc: &str) -> Rules {
    let layers: Vec<Layer> = table(doc, "layers")
        .into_iter()
        .map(|row| {
            assert!(row.len() >= 3, "layer row needs 3 cells: {row:?}");
            Layer {
                name: row[0].trim_matches('*').to_owned(),
                modules: names(&row[1]),
                may_import: names(&row[2]).into_iter().collect(),
            }
        })
        .collect();
    let known: BTreeSet<&str> = layers.iter().map(|l| l.name.as_str()).collect();
    for l in &layers {
        for m in &l.may_import {
            assert!(
                m == "*" || known.contains(m.as_str()),
                "layer {} may import unknown layer {m}",
                l.name
            );
        }
    }
    let debt = table(doc, "debt")
        .into_iter()
        .map(|row| {
            assert!(row.len() >= 2, "debt row needs 2 cells: {row:?}");
            (
                row[0].trim_matches('`').to_owned(),
                row[1].trim_matches('`').to_owned(),
            )
        })
        .collect();
    Rules { layers, debt }
}

impl Rules {
    /// The layer owning a module path (`crate::a::b`), by its longest listed prefix.
    fn layer_of(&self, path: &str) -> Option<&Layer> {
        let mut best: Option<(&Layer, usize)> = None;
        for l in &self.layers {
            for m in &l.modules {
                let hit = path == m || path.starts_with(&format!("{m}::"));
                if hit && best.is_none_or(|(_, n)| m.len() > n) {
                    best = Some((l, m.len()));
                }
            }
        }
        best.map(|(l, _)| l)
    }
}

/// Source text with comments, string and character literals blanked out, so that a path
/// named in a doc comment or a message does not count as an import.
fn code_only(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
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
        } else if c == b'r' && matches!(b.get(i + 1), Some(b'"') | Some(b'#')) && {
            let mut j = i + 1;
            while b.get(j) == Some(&b'#') {
                j += 1;
            }
            b.get(j) == Some(&b'"')
                && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_'))
        } {
            let mut j = i + 1;
            let mut hashes = 0;
            while b[j] == b'#' {
                hashes += 1;
                j += 1;
            }
            j += 1;
            let close: Vec<u8> = std::iter::once(b'"')
                .chain(std::iter::repeat_n(b'#', hashes))
                .collect();
            while j < b.len() && !b[j..].starts_with(&close) {
                j += 1;
            }
            i = j + close.len();
            out.push_str("\"\"");
        } else if c == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == b'\'' {
            // A char literal ('x', '\n', '\u{..}') or a lifetime ('a): only the first ends
            // with a quote close by.
            if b.get(i + 1) == Some(&b'\\') {
                let mut j = i + 2;
                while j < b.len() && b[j] != b'\'' {
                    j += 1;
                }
                i = j + 1;
                out.push_str("' '");
            } else if let Some(len) = src[i + 1..].chars().next().map(char::len_utf8)
                && b.get(i + 1 + len) == Some(&b'\'')
            {
                i += len + 2;
                out.push_str("' '");
            } else {
                out.push('\'');
                i += 1;
            }
        } else {
            let ch = src[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// The module path of a file under `src/` (`src/oidc/mod.rs` → `crate::oidc`).
fn module_of(file: &str) -> Vec<String> {
    let rel = file.trim_start_matches("src/").trim_end_matches(".rs");
    let mut parts: Vec<String> = rel.split('/').map(str::to_owned).collect();
    if parts
        .last()
        .is_some_and(|p| p == "mod" || p == "lib" || p == "main")
    {
        parts.pop();
    }
    let mut path = vec!["crate".to_owned()];
    path.extend(parts);
    path
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Whether the word `w` (and not a longer identifier) starts at byte `i` of `code`.
fn word_at(code: &str, i: usize, w: &str) -> bool {
    code[i..].starts_with(w) && !code[i + w.len()..].starts_with(is_ident)
}

/// Expands a path that starts at `rest` (just after a `crate`/`super`/`self` root) into the
/// full paths it names, `{a, b::{c, d}}` groups included. Returns the paths and how many
/// bytes were read.
fn expand(prefix: &[String], rest: &str) -> (Vec<Vec<String>>, usize) {
    let mut path = prefix.to_vec();
    let mut i = 0;
    let b = rest.as_bytes();
    loop {
        let before = i;
        while i < b.len() && (b[i] as char).is_whitespace() {
            i += 1;
        }
        if !rest[i..].starts_with("::") {
            return (vec![path], before);
        }
        i += 2;
        while i < b.len() && (b[i] as char).is_whitespace() {
            i += 1;
        }
        if b.get(i) == Some(&b'{') {
            i += 1;
            let mut out = Vec::new();
            loop {
                while i < b.len() && (b[i] as char).is_whitespace() || b.get(i) == Some(&b',') {
                    i += 1;
                }
                if i >= b.len() || b[i] == b'}' {
                    return (out, i + 1);
                }
                // One item of the group: a path from here.
                let start = i;
                while i < b.len() && is_ident(b[i] as char) {
                    i += 1;
                }
                let first = &rest[start..i];
                let mut base = path.clone();
                if first == "self" {
                    // `a::{self, …}` names `a` itself.
                } else if first == "*" || first.is_empty() {
                    if b.get(i) == Some(&b'*') {
                        i += 1;
                    }
                } else {
                    base.push(first.to_owned());
                }
                let (paths, used) = expand(&base, &rest[i..]);
                out.extend(paths);
                i += used;
                // Skip an `as name` rename.
                while i < b.len() && b[i] != b',' && b[i] != b'}' {
                    if b[i] == b'{' {
                        break;
                    }
                    i += 1;
                }
            }
        }
        let start = i;
        while i < b.len() && is_ident(b[i] as char) {
            i += 1;
        }
        if i == start {
            // `::*` or `::<T>`: the path ends here.
            return (vec![path], i);
        }
        path.push(rest[start..i].to_owned());
    }
}

/// Every module path a source file names through `crate::` or through enough `super::` to
/// leave its own top-level module.
fn imports(file: &str, src: &str) -> Vec<String> {
    let code = code_only(src);
    let file_module = module_of(file);
    // Inline modules (`mod tests { … }`) move what `super` means: (name, brace depth).
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut pending_mod: Option<String> = None;
    let mut depth = 0usize;
    let mut found = BTreeSet::new();
    let bytes = code.as_bytes();
    let mut i = 0;
    while i < code.len() {
        match bytes[i] {
            b'{' => {
                depth += 1;
                if let Some(name) = pending_mod.take() {
                    inline.push((name, depth));
                }
            }
            b'}' => {
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
                depth = depth.saturating_sub(1);
            }
            b';' => pending_mod = None,
            _ => {}
        }
        let at_word = i == 0 || !(is_ident(bytes[i - 1] as char) || bytes[i - 1] == b'$');
        let rest = &code[i..];
        if at_word && word_at(&code, i, "mod") {
            let name: String = rest[3..]
                .trim_start()
                .chars()
                .take_while(|c| is_ident(*c))
                .collect();
            if !name.is_empty() {
                pending_mod = Some(name);
            }
        }
        let mut here = file_module.clone();
        here.extend(inline.iter().map(|(n, _)| n.clone()));
        if at_word && rest.starts_with("crate") && rest[5..].trim_start().starts_with("::") {
            let (paths, used) = expand(&["crate".to_owned()], &rest[5..]);
            found.extend(
                paths
                    .into_iter()
                    .filter(|p| p.len() > 1)
                    .map(|p| p.join("::")),
            );
            i += 5 + used.max(1);
            continue;
        }
        if at_word && word_at(&code, i, "super") && !code[..i].trim_end().ends_with("::") {
            // Climb one module per `super`; only paths that leave the top-level module can
            // break a rule (within it, super is free).
            let mut ups = 0;
            let mut j = i;
            loop {
                ups += 1;
                j += 5;
                let after = code[j..].trim_start();
                let Some(next) = after.strip_prefix("::") else {
                    break;
                };
                let k = code.len() - next.trim_start().len();
                if !word_at(&code, k, "super") {
                    break;
                }
                j = k;
            }
            let mut base = here.clone();
            base.truncate(here.len().saturating_sub(ups).max(1));
            if base.len() == 1 {
                let (paths, used) = expand(&base, &code[j..]);
                found.extend(
                    paths
                        .into_iter()
                        .filter(|p| p.len() > 1)
                        .map(|p| p.join("::")),
                );
                i = j + used.max(1);
            } else {
                i = j;
            }
            continue;
        }
        i += code[i..].chars().next().map_or(1, char::len_utf8);
    }
    found.into_iter().collect()
}

/// Every import of `sources` (path under the repository, text) that its layer may not make.
fn violations(rules: &Rules, sources: &[(String, String)]) -> Vec<Violation> {
    let mut out = BTreeSet::new();
    for (file, text) in sources {
        let here = module_of(file).join("::");
        let Some(from) = rules.layer_of(&here) else {
            panic!("{file}: module {here} is in no layer of docs/ARCHITECTURE.md");
        };
        if from.may_import.contains("*") {
            continue;
        }
        for path in imports(file, text) {
            let Some(to) = rules.layer_of(&path) else {
                // `crate::SomeItem` at the root or a macro: not a module of any layer.
                continue;
            };
            if to.name != from.name && !from.may_import.contains(&to.name) {
                out.insert(Violation {
                    file: file.clone(),
                    path,
                    from: from.name.clone(),
                    to: to.name.clone(),
                });
            }
        }
    }
    out.into_iter().collect()
}

/// The failures of a check: forbidden imports not listed as debt, and debt rows that match
/// nothing any more. Empty when the tree keeps the rules.
fn judge(rules: &Rules, found: &[Violation]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    let mut by_pair: BTreeMap<(String, String), Vec<&Violation>> = BTreeMap::new();
    for v in found {
        by_pair
            .entry((v.file.clone(), v.to.clone()))
            .or_default()
            .push(v);
    }
    for ((file, to), vs) in &by_pair {
        seen.insert((file.clone(), to.clone()));
        if !rules.debt.contains(&(file.clone(), to.clone())) {
            for v in vs {
                problems.push(format!(
                    "{}: imports `{}` — layer `{}` may not import layer `{}` (rules in docs/ARCHITECTURE.md)",
                    v.file, v.path, v.from, v.to
                ));
            }
        }
    }
    for (file, to) in &rules.debt {
        if !seen.contains(&(file.clone(), to.clone())) {
            problems.push(format!(
                "docs/ARCHITECTURE.md lists `{file}` → `{to}` as debt, but the file no longer makes such an import: remove the row"
            ));
        }
    }
    problems
}

fn sources(root: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![root.join("src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                // The binaries under src/bin are crates of their own that use only the
                // library's public API; their `crate::` is not this crate.
                if !p.ends_with("src/bin") {
                    stack.push(p);
                }
            } else if p.extension().is_some_and(|e| e == "rs") {
                let rel = p.strip_prefix(root).unwrap().display().to_string();
                out.push((rel, std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn layers_import_only_what_docs_architecture_allows() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/ARCHITECTURE.md")).unwrap();
    let rules = parse_rules(&doc);
    let found = violations(&rules, &sources(root));
    let problems = judge(&rules, &found);
    assert!(
        problems.is_empty(),
        "the layers of src/ break docs/ARCHITECTURE.md:\n{}",
        problems.join("\n")
    );
}

const SAMPLE: &str = "
<!-- layers: begin -->
| layer | modules | may import |
|---|---|---|
| base | `crate::clock` | — |
| core | `crate::core` | base |
| kit | `crate::web::i18n`, `crate::web::AppState` | base, core |
| pages | `crate::web` | base, core, kit |
| oidc | `crate::oidc` | base, core, kit |
| top | `crate::server` | * |
<!-- layers: end -->
<!-- debt: begin -->
| file | layer |
|---|---|
<!-- debt: end -->
";

fn check(rules: &Rules, file: &str, text: &str) -> Vec<String> {
    judge(rules, &violations(rules, &[(file.into(), text.into())]))
}

#[test]
fn a_door_importing_another_door_fails_naming_file_and_import() {
    let rules = parse_rules(SAMPLE);
    let problems = check(
        &rules,
        "src/oidc/logout.rs",
        "use crate::core::x;\nuse crate::web::{i18n::Tr, AppState, login::logout};\n",
    );
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with("src/oidc/logout.rs: imports `crate::web::login::logout`"),
        "{problems:?}"
    );
    assert!(problems[0].contains("layer `oidc` may not import layer `pages`"));
}

#[test]
fn an_engine_importing_a_door_fails_and_comments_do_not_count() {
    let rules = parse_rules(SAMPLE);
    let text =
        "//! see crate::oidc::logout\nfn f() { let s = \"crate::oidc\"; crate::oidc::routes(); }\n";
    let problems = check(&rules, "src/core/engine.rs", text);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("`crate::oidc::routes`"),
        "{problems:?}"
    );
    // The same path in comments and strings only is no import.
    let clean = "//! crate::oidc\n/* crate::oidc */ fn f() -> &'static str { \"crate::oidc\" }\n";
    assert!(check(&rules, "src/core/engine.rs", clean).is_empty());
}

#[test]
fn super_paths_that_leave_the_top_module_count() {
    let rules = parse_rules(SAMPLE);
    let problems = check(
        &rules,
        "src/oidc/token.rs",
        "use super::super::web::login;\n",
    );
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("`crate::web::login`"));
    // Within the door, super is free.
    assert!(check(&rules, "src/oidc/token.rs", "use super::grants;\n").is_empty());
}

#[test]
fn debt_rows_excuse_a_violation_and_stale_rows_fail() {
    let with_debt = SAMPLE.replace(
        "|---|---|\n<!-- debt: end -->",
        "|---|---|\n| `src/oidc/logout.rs` | `pages` |\n| `src/core/gone.rs` | `oidc` |\n<!-- debt: end -->",
    );
    let rules = parse_rules(&with_debt);
    let problems = check(&rules, "src/oidc/logout.rs", "use crate::web::login;\n");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("`src/core/gone.rs` → `oidc` as debt"));
}

#[test]
fn super_in_an_inline_module_climbs_from_that_module() {
    let rules = parse_rules(SAMPLE);
    let text = "mod tests {\n    use super::*;\n    use super::super::web::login;\n}\n";
    // From crate::oidc::token::tests, super::super is crate::oidc: inside the door.
    assert!(check(&rules, "src/oidc/token.rs", text).is_empty());
    let out = "mod tests { use super::super::super::web::login; }\nfn f() {}\n";
    let problems = check(&rules, "src/oidc/token.rs", out);
    assert_eq!(problems.len(), 1, "{problems:?}");
}
