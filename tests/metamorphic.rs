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

/// A named rewrite of each text, and whether it matters to a tree the
/// audit judged so (a grab for a get changes nothing where no reference
/// was right).
type TextRewrite = (&'static str, fn(&str) -> String, fn(&[String]) -> bool);

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
            api: mmaudit::api::ApiTable::default().selecting(mmaudit::api::FamilySet::ALL),
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
        "vm_area_struct",
        "vm_mm",
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

/// The line's statement `API(ARG);` for a borrow API, as (indent, api, arg),
/// when the line is that statement alone (continuation allowed).
fn borrow_statement(line: &str) -> Option<(&str, &'static str, &str)> {
    let body = line.strip_suffix('\\').unwrap_or(line).trim_end();
    let indent = &line[..line.len() - line.trim_start().len()];
    let stmt = body.trim_start();
    ["kthread_use_mm", "use_mm"].into_iter().find_map(|api| {
        let arg = stmt
            .strip_prefix(api)?
            .strip_prefix('(')?
            .strip_suffix(");")?;
        Some((indent, api, arg))
    })
}

/// Each borrow made through a new local alias of its mm:
/// `{ struct mm_struct *zz_alias = X; kthread_use_mm(zz_alias); }`.
fn borrow_through_an_alias(text: &str) -> String {
    let lines: Vec<String> = (text.lines())
        .map(|l| match borrow_statement(l) {
            Some((indent, api, arg)) if !indent.is_empty() => {
                let cont = if l.ends_with('\\') { " \\" } else { "" };
                format!("{indent}{{ struct mm_struct *zz_alias = {arg}; {api}(zz_alias); }}{cont}")
            }
            _ => l.to_string(),
        })
        .collect();
    lines.join("\n") + "\n"
}

/// A window `use(X); BODY unuse(X);` of a function moved into a static
/// helper of its own, called with `X`, when BODY names nothing of the
/// function but `X` (calls of global functions are fine).
fn window_in_a_helper(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut helpers = Vec::new();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if let Some((window, end)) = window_at(&lines, i) {
            let (indent, _, arg) = borrow_statement(lines[i]).unwrap();
            let name = format!("zz_window{}", helpers.len());
            let mut helper = format!("static void {name}(struct mm_struct *zz_m)\n{{\n");
            for l in window {
                helper.push_str(&format!("\t{}\n", l.trim_start()));
            }
            helper.push_str("}\n\n");
            helpers.push(helper);
            out.push(format!("{indent}{name}({arg});"));
            i = end + 1;
        } else {
            out.push(lines[i].to_string());
            i += 1;
        }
    }
    if helpers.is_empty() {
        return text.to_string();
    }
    helpers.concat() + &out.join("\n") + "\n"
}

/// Each window `use(X); ... unuse(X);` of a function opened and closed
/// by static helpers of its own (`zz_enter0(X); ... zz_leave0(X);`), the
/// code between staying where it is.
fn window_by_enter_and_leave_helpers(text: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut helpers = String::new();
    let mut n = 0;
    for i in 0..lines.len() {
        let Some(("\t", api, arg)) = borrow_statement(&lines[i]) else {
            continue;
        };
        let (api, arg) = (api.to_string(), arg.to_string());
        let unuse_api = api.replace("use_mm", "unuse_mm");
        let unuse = format!("\t{unuse_api}({arg});");
        let Some(end) = (i + 1..lines.len())
            .take_while(|&j| !lines[j].starts_with('}'))
            .find(|&j| lines[j] == unuse)
        else {
            continue;
        };
        for (name, call) in [("enter", &api), ("leave", &unuse_api)] {
            helpers.push_str(&format!(
                "static void zz_{name}{n}(struct mm_struct *zz_m)\n{{\n\t{call}(zz_m);\n}}\n\n"
            ));
        }
        lines[i] = format!("\tzz_enter{n}({arg});");
        lines[end] = format!("\tzz_leave{n}({arg});");
        n += 1;
    }
    if n == 0 {
        return text.to_string();
    }
    helpers + &lines.join("\n") + "\n"
}

/// The window starting at line `i` with `X` renamed to the helper's
/// parameter, and the line of its unuse, if it can move.
fn window_at(lines: &[&str], i: usize) -> Option<(Vec<String>, usize)> {
    let (indent, api, arg) = borrow_statement(lines[i])?;
    if indent != "\t" || lines[i].ends_with('\\') {
        return None;
    }
    let unuse = format!("\t{}({arg});", api.replace("use_mm", "unuse_mm"));
    let end = (i + 1..lines.len()).find(|&j| lines[j] == unuse)?;
    let mut window = Vec::new();
    for l in &lines[i..=end] {
        if !l.starts_with('\t') || l.starts_with("\t\t") || l.contains('{') || l.contains('}') {
            return None;
        }
        let moved = replace_words(l, arg, "zz_m");
        let b = moved.as_bytes();
        let named_only_kept = spans(&moved).into_iter().all(|(s, e)| {
            let w = &moved[s..e];
            w == "zz_m" || kept(w) || b.get(e) == Some(&b'(')
        });
        if !named_only_kept {
            return None;
        }
        window.push(moved);
    }
    Some((window, end))
}

/// `text` with each occurrence of `from` that is not part of a longer
/// identifier replaced by `to`.
fn replace_words(text: &str, from: &str, to: &str) -> String {
    let ident = |c: Option<u8>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_');
    let b = text.as_bytes();
    let mut out = String::new();
    let mut last = 0;
    for (at, _) in text.match_indices(from) {
        let end = at + from.len();
        if at < last || ident(at.checked_sub(1).map(|i| b[i])) || ident(b.get(end).copied()) {
            continue;
        }
        out.push_str(&text[last..at]);
        out.push_str(to);
        last = end;
    }
    out + &text[last..]
}

/// Each `X = get_task_mm(T);` followed by its NULL test and exit gains
/// an error path after the test that puts the reference, clears `X` and
/// exits the same way.
fn error_path_that_puts_and_clears(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<String> = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        out.push(l.to_string());
        if i < 2 {
            continue;
        }
        let Some(held) = stored_get(lines[i - 2]) else {
            continue;
        };
        let exit = l.trim();
        let exits =
            l.starts_with("\t\t") && (exit.starts_with("return") || exit.starts_with("goto"));
        if lines[i - 1] == format!("\tif (!{held})") && exits {
            out.push(format!(
                "\tif (zz_setup_failed()) {{\n\t\tmmput({held});\n\t\t{held} = NULL;\n\t\t{exit}\n\t}}"
            ));
        }
    }
    out.join("\n") + "\n"
}

/// `X` of a line `\tX = get_task_mm(T);` or `\tstruct mm_struct *X = ...`.
fn stored_get(line: &str) -> Option<&str> {
    let (lhs, rhs) = line.strip_prefix('\t')?.split_once(" = ")?;
    if lhs.starts_with('\t') || !rhs.starts_with("get_task_mm(") || !rhs.ends_with(");") {
        return None;
    }
    Some(lhs.strip_prefix("struct mm_struct *").unwrap_or(lhs))
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

/// Every reference taken by a get taken by a grab instead, and every put a
/// drop: `X = get_task_mm(T);` becomes `X = T->mm; mmgrab(X);`, `mmget(`
/// becomes `mmgrab(`.
fn get_replaced_by_grab(text: &str) -> String {
    let mut changed = false;
    let lines: Vec<String> = (text.lines())
        .map(|l| {
            let Some(held) = stored_get(l) else {
                return l.to_string();
            };
            let task = &l[l.find("get_task_mm(").unwrap() + "get_task_mm(".len()..l.len() - 2];
            changed = true;
            let decl = &l[..l.find(" = ").unwrap()];
            format!("{decl} = {task}->mm;\n\tmmgrab({held});")
        })
        .collect();
    let t = lines.join("\n") + "\n";
    if !changed && !t.contains("mmget(") {
        return text.to_string();
    }
    t.replace("mmget(", "mmgrab(").replace("mmput(", "mmdrop(")
}

#[test]
fn rewrites_that_keep_the_meaning_keep_every_verdict() {
    let keep: [TreeRewrite; 8] = [
        ("rename everything", |t| Some(rename_everything(t))),
        ("guard through a local", |t| {
            replace_all(t, guard_through_a_local)
        }),
        ("guard in unlikely()", |t| replace_all(t, guard_wrapped)),
        ("borrow in a macro", |t| replace_all(t, borrow_in_a_macro)),
        ("borrow through an alias", |t| {
            replace_all(t, borrow_through_an_alias)
        }),
        ("window in a static helper", |t| {
            replace_all(t, window_in_a_helper)
        }),
        ("window by enter and leave helpers", |t| {
            replace_all(t, window_by_enter_and_leave_helpers)
        }),
        ("error path that puts and clears", |t| {
            replace_all(t, error_path_that_puts_and_clears)
        }),
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
    let always = |_: &[String]| true;
    let change: [TextRewrite; 3] = [
        ("guard removed", guard_removed, always),
        ("put before the unuse", put_before_unuse, always),
        ("get replaced by a grab", get_replaced_by_grab, |v| {
            v.iter().any(|s| s.starts_with("ok mm_users"))
        }),
    ];
    let mut applied = BTreeMap::new();
    let mut unchanged = Vec::new();
    for (name, tree) in fixtures() {
        let before = verdicts(&tree);
        for (rewrite, f, matters) in &change {
            let Some(rewritten) = replace_all(&tree, f).filter(|_| matters(&before)) else {
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
