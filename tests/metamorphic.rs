//! Rewrites of every fixture: those that keep the meaning must keep every
//! verdict and finding, those that change it must change them. The test
//! rewrites the text itself; there are no hand-written twin fixtures.

use mmaudit::api::BUILTIN;
use mmaudit::audit::{Options, audit};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A fixture: relative path -> text.
type Tree = BTreeMap<String, String>;

/// A named rewrite of a whole tree (`None`: nothing to rewrite in it).
type TreeRewrite = (&'static str, fn(&Tree) -> Option<Tree>);

/// A named rewrite of each text.
type TextRewrite = (&'static str, fn(&str) -> String);

fn fixtures() -> Vec<(String, Tree)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let mut tree = Tree::new();
        read_under(&e.path(), &e.path(), &mut tree);
        out.push((e.file_name().into_string().unwrap(), tree));
    }
    out.sort();
    out
}

fn read_under(root: &Path, dir: &Path, out: &mut Tree) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            read_under(root, &p, out);
        } else {
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            out.insert(rel, std::fs::read_to_string(&p).unwrap());
        }
    }
}

/// What the audit says of a tree, as a multiset of sites: verdict,
/// reference, pairing and findings (names and places may be rewritten).
fn verdicts(tree: &Tree) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    for (rel, text) in tree {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let r = audit(
        dir.path(),
        &Options {
            jobs: 2,
            ..Options::default()
        },
    )
    .unwrap();
    let mut out: Vec<String> = (r.sites.iter())
        .map(|s| {
            let f: Vec<&str> = s.findings.iter().map(|f| f.name()).collect();
            format!(
                "{} {} {} [{}]",
                s.verdict.as_str(),
                s.reference.as_str(),
                s.pairing.as_str(),
                f.join(",")
            )
        })
        .collect();
    out.sort();
    out
}

/// Identifiers the rewrites must leave alone: C's words, the kernel's
/// APIs and the names the API table knows, constants (all capitals) and
/// compiler words (`__user`).
fn kept(word: &str) -> bool {
    const C: &[&str] = &[
        "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else",
        "enum", "extern", "float", "for", "goto", "if", "int", "long", "register", "return",
        "short", "signed", "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned",
        "void", "volatile", "while", "bool", "true", "false", "inline", "define", "include",
        "ifdef", "ifndef", "endif", "undef", "NULL", "u32", "u64", "size_t",
    ];
    const KERNEL: &[&str] = &[
        "mm",
        "active_mm",
        "mm_struct",
        "task_struct",
        "current",
        "ops",
        "release",
        "mmu_notifier_ops",
        "mmu_notifier",
        "kiocb",
        "work_struct",
        "delayed_work",
        "workqueue_struct",
        "container_of",
        "task_lock",
        "task_unlock",
    ];
    C.contains(&word)
        || KERNEL.contains(&word)
        || BUILTIN.iter().any(|r| r.name == word)
        || word.starts_with("__")
        || word
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        || word.bytes().next().is_some_and(|b| b.is_ascii_digit())
}

/// Every identifier of the tree's code renamed, in code and comments
/// alike, and every file renamed: the same program.
fn rename_everything(tree: &Tree) -> Tree {
    let mut names = BTreeSet::new();
    for text in tree.values() {
        let comments = mmaudit::lex::comment_spans(text);
        let in_comment = |s: usize| comments.iter().any(|&(a, b)| a <= s && s < b);
        for (s, e) in spans(text) {
            let w = &text[s..e];
            if !kept(w) && !in_comment(s) {
                names.insert(w.to_string());
            }
        }
    }
    let map: BTreeMap<String, String> = (names.into_iter().enumerate())
        .map(|(i, n)| (n, format!("zq{i}_")))
        .collect();
    tree.iter()
        .map(|(rel, text)| {
            let mut out = String::with_capacity(text.len());
            let mut last = 0;
            for (s, e) in spans(text) {
                out.push_str(&text[last..s]);
                let w = &text[s..e];
                out.push_str(map.get(w).map_or(w, String::as_str));
                last = e;
            }
            out.push_str(&text[last..]);
            let (dir, file) = rel
                .rsplit_once('/')
                .map_or(("", rel.as_str()), |(d, f)| (d, f));
            let renamed = format!("r_{file}");
            let rel = if dir.is_empty() {
                renamed
            } else {
                format!("{dir}/{renamed}")
            };
            (rel, out)
        })
        .collect()
}

/// The whole-word identifiers of a text, as offsets.
fn spans(t: &str) -> Vec<(usize, usize)> {
    let b = t.as_bytes();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if ident(b[i]) && (i == 0 || !ident(b[i - 1])) {
            let s = i;
            while i < b.len() && ident(b[i]) {
                i += 1;
            }
            out.push((s, i));
        } else {
            i += 1;
        }
    }
    out
}

/// `text` with every `from` replaced by `to`, and whether there was one.
fn replace_all(tree: &Tree, edit: impl Fn(&str) -> String) -> Option<Tree> {
    let out: Tree = tree.iter().map(|(k, v)| (k.clone(), edit(v))).collect();
    (out != *tree).then_some(out)
}

/// The argument text of each `name(` call statement written as `if
/// (!name(ARG))` or `if (name(ARG))`: the try-gets a rewrite can move.
fn try_gets(text: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    for (neg, pat) in [
        (true, "if (!mmget_not_zero("),
        (false, "if (mmget_not_zero("),
    ] {
        let mut from = 0;
        while let Some(at) = text[from..].find(pat) {
            let s = from + at + pat.len();
            let Some(close) = text[s..].find("))") else {
                break;
            };
            out.push((text[s..s + close].to_string(), neg));
            from = s;
        }
    }
    out
}

/// The guard's result routed through a local: `int ok = try(x); if (!ok)`.
fn guard_through_a_local(text: &str) -> String {
    let mut t = text.to_string();
    for (i, (arg, neg)) in try_gets(text).into_iter().enumerate() {
        let bang = if neg { "!" } else { "" };
        let old = format!("if ({bang}mmget_not_zero({arg}))");
        let local = format!("zz_alive{i}");
        // One line: the `if` may be in a macro's body.
        let new = format!("int {local} = mmget_not_zero({arg}); if ({bang}{local})");
        t = t.replacen(&old, &new, 1);
    }
    t
}

/// The guard wrapped in `unlikely()` / `likely()`.
fn guard_wrapped(text: &str) -> String {
    text.replace("if (!mmget_not_zero(", "if (unlikely(!mmget_not_zero(")
        .replace("if (mmget_not_zero(", "if (likely(mmget_not_zero(")
        .replace("))\n", ")))\n")
        .replace(")) {", "))) {")
}

/// A function's borrow written through a macro of the file's own (a
/// borrow already in a macro's body is left as it is).
fn borrow_in_a_macro(text: &str) -> String {
    let mut changed = false;
    let lines: Vec<String> = (text.lines())
        .map(|l| {
            if l.starts_with('\t')
                && l.trim_start().starts_with("kthread_use_mm(")
                && !l.ends_with('\\')
            {
                changed = true;
                l.replacen("kthread_use_mm(", "ZZ_ENTER(", 1)
            } else {
                l.to_string()
            }
        })
        .collect();
    if !changed {
        return text.to_string();
    }
    format!(
        "#define ZZ_ENTER(m) kthread_use_mm(m)\n{}\n",
        lines.join("\n")
    )
}

/// The guard removed: the test of a try-get becomes a test of the pointer.
fn guard_removed(text: &str) -> String {
    text.replace("mmget_not_zero(", "(")
}

/// The reference dropped before the window is closed.
fn put_before_unuse(text: &str) -> String {
    let mut t = text.to_string();
    for api in ["kthread_unuse_mm", "unuse_mm"] {
        let pat = format!("\t{api}(");
        let mut from = 0;
        while let Some(at) = t[from..].find(&pat) {
            let s = from + at;
            let Some(end) = t[s..].find(";\n").map(|e| s + e + 2) else {
                break;
            };
            let unuse = t[s..end].to_string();
            let arg = &unuse[pat.len()..unuse.len() - 3];
            let put = format!("\tmmput({arg});\n");
            if t[end..].starts_with(&put) {
                let swapped = format!("{put}{unuse}");
                t.replace_range(s..end + put.len(), &swapped);
            }
            from = end;
        }
    }
    t
}

#[test]
fn rewrites_that_keep_the_meaning_keep_every_verdict() {
    let keep: [TreeRewrite; 4] = [
        ("rename everything", |t| Some(rename_everything(t))),
        ("guard through a local", |t| {
            replace_all(t, guard_through_a_local)
        }),
        ("guard in unlikely()", |t| replace_all(t, guard_wrapped)),
        ("borrow in a macro", |t| replace_all(t, borrow_in_a_macro)),
    ];
    let mut applied = BTreeMap::new();
    let mut failures = Vec::new();
    for (name, tree) in fixtures() {
        let before = verdicts(&tree);
        for (rewrite, f) in &keep {
            let Some(rewritten) = f(&tree) else { continue };
            *applied.entry(*rewrite).or_insert(0) += 1;
            let after = verdicts(&rewritten);
            if after != before {
                failures.push(format!("{name}, {rewrite}:\n  {before:?}\n  {after:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Each rewrite applies somewhere (a test that cannot fail is none).
    assert_eq!(applied.len(), keep.len(), "{applied:?}");
    assert!(applied.values().all(|&n| n >= 2), "{applied:?}");
}

#[test]
fn rewrites_that_change_the_meaning_change_a_verdict() {
    let change: [TextRewrite; 2] = [
        ("guard removed", guard_removed),
        ("put before the unuse", put_before_unuse),
    ];
    let mut applied = BTreeMap::new();
    let mut unchanged = Vec::new();
    for (name, tree) in fixtures() {
        let before = verdicts(&tree);
        for (rewrite, f) in &change {
            let Some(rewritten) = replace_all(&tree, f) else {
                continue;
            };
            *applied.entry(*rewrite).or_insert(0) += 1;
            if verdicts(&rewritten) == before {
                unchanged.push(format!("{name}, {rewrite}: {before:?}"));
            }
        }
    }
    assert!(unchanged.is_empty(), "{}", unchanged.join("\n"));
    assert!(applied.values().all(|&n| n >= 2), "{applied:?}");
    assert_eq!(applied.len(), change.len(), "{applied:?}");
}
