//! Which names the tree declares with a given struct type, so that a call
//! or store demand skips the chains that cannot have that type.
//!
//! A demand for calls through field `f` of `struct s` (or stores into it)
//! is met, on the text, by every `->f(`; on a plain name (`v->f(`) only in
//! a text that names `s`, since only a declaration there could give `v`
//! that type. A chain `a->b->f(` is harder: the analysis tells the type of
//! `a->b` only from a definition that declares the member `b` as
//! `struct s ... b`, and that definition may be in any file. So the rounds
//! first gather, from every file that uses the type, the names declared
//! with it ([`members_declared_with`]); a chain none of whose members is one of
//! them, in a text that does not name `s`, cannot satisfy the demand.
//! Without this, a demand for calls through one ops table's `->create(`
//! brought in every file that calls any `->create(` in the tree.

use super::{Context, FileState, Lists};
use crate::cache::members_key;
use crate::demand::Demand;
use crate::idents::{self, IdentSet, Probe};
use crate::lex::{
    bytes_str, ident_end, ident_start, in_comment_line, is_ident_byte, name_ending_at,
    skip_blanks_back, skip_whitespace_back, struct_keyword_before, whole_words,
};
use crate::source::SourceFile;
use crate::walk::{self, Dropped};
use rayon::prelude::*;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::collections::BTreeSet;

/// A set of declared names.
pub type Names = HashSet<String>;

/// What the rounds know of the names declared with each struct type.
#[derive(Default, Debug)]
pub struct TypedNames {
    /// Per struct tag: every name the tree declares with `struct tag`;
    /// `None` if not every file that may do so could be searched.
    by_tag: HashMap<String, Option<HashSet<String>>>,
    /// The files that declare one of those names (paths from the root).
    pub declared_in: BTreeSet<String>,
}

impl TypedNames {
    /// True if the names of `tag` were looked for (found or not).
    pub fn has_looked_for(&self, tag: &str) -> bool {
        self.by_tag.contains_key(tag)
    }

    /// The names declared with `struct tag`; `None` if unknown.
    pub fn names(&self, tag: &str) -> Option<&HashSet<String>> {
        self.by_tag.get(tag)?.as_ref()
    }

    /// Records what a search of the tree found for `tag`: the names and
    /// the files that declare them, or `None` if it could not search all.
    pub fn learn(&mut self, tag: &str, found: Option<Vec<(String, Names)>>) {
        let names = found.map(|files| {
            let mut names = HashSet::default();
            for (path, declared) in files {
                self.declared_in.insert(path);
                names.extend(declared);
            }
            names
        });
        self.by_tag.insert(tag.to_string(), names);
    }

    /// The tags whose names are known, sorted.
    pub fn known_tags(&self) -> Vec<String> {
        let mut tags: Vec<String> = self
            .by_tag
            .iter()
            .filter(|(_, n)| n.is_some())
            .map(|(t, _)| t.clone())
            .collect();
        tags.sort_unstable();
        tags
    }
}

/// The tree as the rounds hold it now, for a search of the kept and
/// dropped files.
#[derive(Clone, Copy)]
pub(super) struct Tree<'a> {
    pub ctx: &'a Context<'a>,
    /// The kept files (and those swept in), by index.
    pub files: &'a [SourceFile],
    /// What the rounds know of each, in step with `files`.
    pub states: &'a [FileState],
    pub dropped: &'a [Dropped],
}

/// Searches the tree for the names declared as members with each struct
/// type that a call or store demand in `demands` is about and `typed` has
/// not looked for yet (see the module doc): the kept files, in memory or read
/// again if their set may hold the type, and the dropped files likewise.
/// A dropped file the walk did not read (unchanged since the cache's run)
/// has no set at hand: it is read if the cache lists it for the type, or
/// if the cache does not know every type. A type is left unknown (every
/// chain counts) if a file cannot be read. Records in `log`, per type,
/// every file that declares such a member (for the cache).
pub(super) fn learn_types(
    tree: &Tree,
    typed: &mut TypedNames,
    lists: &mut Lists,
    demands: &BTreeSet<Demand>,
) {
    let Tree {
        ctx,
        files,
        states,
        dropped,
    } = *tree;
    let (root, pool, cache) = (ctx.root, ctx.pool, ctx.cache);
    let mut tags: Vec<&str> = demands
        .iter()
        .filter_map(|d| match d {
            Demand::FieldCall(_, s) | Demand::FieldStore(_, s) => Some(s.as_str()),
            _ => None,
        })
        .filter(|s| !typed.has_looked_for(s))
        .collect();
    tags.sort_unstable();
    tags.dedup();
    if tags.is_empty() {
        return;
    }
    let listed = cache.and_then(|c| c.lists(tags.iter().map(|t| members_key(t))));
    let probes: Vec<Probe> = tags
        .iter()
        .map(|t| Probe::of(idents::type_key(t.as_bytes())))
        .collect();
    // Per file: for each tag, the names it declares with it (`None`: the
    // file could not be read).
    type Found = (String, Option<Vec<Names>>);
    let search = |t: &[u8], which: &[usize]| -> Vec<Names> {
        let mut out = vec![Names::default(); tags.len()];
        for &k in which {
            members_declared_with(t, tags[k].as_bytes(), |n| {
                out[k].insert(bytes_str(n).to_string());
            });
        }
        out
    };
    let which = |set: Option<&IdentSet>| -> Vec<usize> {
        (0..tags.len())
            .filter(|&k| set.is_none_or(|s| s.may_hold_probe(probes[k])))
            .collect()
    };
    let found: Vec<Found> = pool.install(|| {
        let kept = (0..files.len()).into_par_iter().filter_map(|i| {
            let f = &files[i];
            let w = which(states[i].set.as_ref());
            if w.is_empty() {
                return None;
            }
            if f.is_read() {
                return Some((f.path.clone(), Some(search(f.text().as_bytes(), &w))));
            }
            let read = walk::read_with(&f.abs_path, |t| search(t, &w)).ok();
            Some((f.path.clone(), read))
        });
        let swept = dropped.par_iter().filter_map(|d| {
            let w = match (&d.idents, &listed) {
                (None, Some(l)) => (0..tags.len())
                    .filter(|&k| l[k].contains(d.path.as_str()))
                    .collect(),
                (set, _) => which(set.as_ref()),
            };
            if w.is_empty() {
                return None;
            }
            let read = walk::read_with(&d.abs_path(root), |t| search(t, &w)).ok();
            Some((d.path.clone(), read))
        });
        kept.chain(swept)
            .filter(|(_, r)| r.as_ref().is_none_or(|v| v.iter().any(|n| !n.is_empty())))
            .collect()
    });
    // Per tag, the files that declare names with it; a file that could
    // not be read leaves every tag unknown.
    let mut per_tag: Vec<Vec<(String, Names)>> = vec![Vec::new(); tags.len()];
    let mut complete = true;
    for (path, names) in found {
        let Some(names) = names else {
            complete = false;
            continue;
        };
        for (k, n) in names.into_iter().enumerate() {
            if !n.is_empty() {
                per_tag[k].push((path.clone(), n));
            }
        }
    }
    for (tag, files) in tags.iter().zip(per_tag) {
        if complete {
            let mut paths: Vec<String> = files.iter().map(|(p, _)| p.clone()).collect();
            paths.sort_unstable();
            lists.insert(members_key(tag), paths);
        }
        typed.learn(tag, complete.then_some(files));
    }
}

/// Calls `f` with the offsets of the keyword and just past the tag of
/// every `struct tag` in `t` (both whole words, whitespace between).
fn type_uses(t: &[u8], tag: &[u8], mut f: impl FnMut(usize, usize)) {
    for s in whole_words(t, tag) {
        if let Some(keyword) = struct_keyword_before(t, s) {
            f(keyword, s + tag.len());
        }
    }
}

/// True if `t` uses the type `struct tag`.
pub fn uses_type(t: &[u8], tag: &[u8]) -> bool {
    let mut any = false;
    type_uses(t, tag, |_, _| any = true);
    any
}

/// Calls `f` with every name that `t` may declare as a member with the
/// type `struct tag`: the names after each use of the type (see
/// [`declarators`]), but for a use that follows a `(` or a `,`
/// (qualifiers between), as a parameter, a cast or a macro's argument
/// does, and one on a line of a comment. The analysis takes a member's
/// type only from a field's declaration in a struct definition; locals
/// and globals are not told apart from those here, which only makes the
/// narrowing less sharp.
pub fn members_declared_with(t: &[u8], tag: &[u8], mut f: impl FnMut(&[u8])) {
    type_uses(t, tag, |s, e| {
        if !after_open_paren_or_comma(t, s) && !in_comment_line(t, s) {
            declarators(t, e, &mut f);
        }
    });
}

/// True if the `struct` keyword at `s` follows `(` or `,`, with blanks and
/// `const` or `volatile` between.
fn after_open_paren_or_comma(t: &[u8], mut s: usize) -> bool {
    loop {
        s = skip_whitespace_back(t, s);
        let word_end = s;
        let word_start = ident_start(t, s);
        match &t[word_start..word_end] {
            b"const" | b"volatile" => s = word_start,
            _ => break,
        }
    }
    s > 0 && matches!(t[s - 1], b'(' | b',')
}

/// Calls `f` with each identifier after a use of a type that ends at `i`,
/// up to the end of its declaration (`;` or `=`, or the `)` that closes a
/// parameter, a cast or a `(*name)`), braced bodies and brackets skipped.
/// That covers `struct tag *a, *b;`, `const struct tag __rcu *p;`,
/// `struct tag m[4];`, `struct tag *(*get)(void);` and
/// `struct tag { ... } v;`; it also gives qualifiers and the next
/// parameters of a function pointer's, which only make the narrowing
/// less sharp.
fn declarators(t: &[u8], mut i: usize, f: &mut impl FnMut(&[u8])) {
    // A declaration longer than this is no declaration.
    let end = t.len().min(i + 4096);
    let mut depth = 0usize;
    while i < end {
        let b = t[i];
        if is_ident_byte(b) {
            let s = i;
            i = ident_end(&t[..end], s);
            if depth == 0 && !t[s].is_ascii_digit() {
                f(&t[s..i]);
            }
            continue;
        }
        match b {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            b';' | b'=' | b')' if depth == 0 => return,
            _ => {}
        }
        i += 1;
    }
}

/// The members of the chain that ends at `end` (before the `->` or `.` of
/// the member a demand is about): `[b, c]` for `a->b[i].c`. `None` if
/// what ends there is not a chain on a plain name: a call, a cast, a
/// parenthesized expression (whose members the parse would see, so any
/// of them may be typed), or text this reading does not follow.
pub fn chain_members(t: &[u8], end: usize) -> Option<Vec<&[u8]>> {
    let mut members = Vec::new();
    let mut at = end;
    loop {
        at = skip_blanks_back(t, at);
        // Elements: `b[i]` is a member of the chain as `b` is.
        while at > 0 && t[at - 1] == b']' {
            at = open_bracket(t, at - 1)?;
            at = skip_blanks_back(t, at);
        }
        let s = name_ending_at(t, at)?;
        let before = skip_blanks_back(t, s);
        if before >= 1 && t[before - 1] == b'.' && !(before >= 2 && t[before - 2] == b'.') {
            members.push(&t[s..at]);
            at = before - 1;
        } else if before >= 2 && &t[before - 2..before] == b"->" {
            members.push(&t[s..at]);
            at = before - 2;
        } else {
            return Some(members);
        }
    }
}

/// The offset of the `[` that opens the `]` at `close`.
fn open_bracket(t: &[u8], close: usize) -> Option<usize> {
    let mut depth = 0usize;
    for i in (0..=close).rev() {
        match t[i] {
            b']' => depth += 1,
            b'[' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            b';' | b'{' | b'}' => return None,
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declared(t: &str, tag: &str) -> Vec<String> {
        let mut out = Vec::new();
        members_declared_with(t.as_bytes(), tag.as_bytes(), |n| {
            out.push(String::from_utf8(n.to_vec()).unwrap())
        });
        out
    }

    /// `t` as the body of a struct.
    fn member(t: &str, tag: &str) -> Vec<String> {
        declared(&format!("struct holder {{\n{t}\n}};\n"), tag)
    }

    #[test]
    fn members_declared_with_a_type_are_found() {
        assert_eq!(member("struct ops *a, *b;", "ops"), ["a", "b"]);
        assert_eq!(member("const struct ops __rcu *p;", "ops"), ["__rcu", "p"]);
        assert_eq!(member("struct ops m[N_OPS]; int x;", "ops"), ["m"]);
        assert_eq!(member("struct ops *(*get)(void);", "ops"), ["get"]);
        assert_eq!(member("struct ops { int a; } v, *w;", "ops"), ["v", "w"]);
        assert_eq!(member("struct\n\tops\n*p;", "ops"), ["p"]);
        assert_eq!(member("union { struct ops *u; };", "ops"), ["u"]);
        assert_eq!(
            member("/* c */ struct ops *c;\n\t*/ struct ops *d;", "ops"),
            ["c", "d"]
        );
        // Casts, sizes, other tags, the name alone: nothing.
        for t in [
            "int a = (struct ops *)x;",
            "char c[sizeof(struct ops)];",
            "struct opsx *p;",
            "ops *p;",
            "/*\n * a struct ops object, this one;\n */",
            "int a; // struct ops x;",
            "int a; /* struct ops x; */",
        ] {
            assert!(member(t, "ops").is_empty(), "{t}");
        }
        assert!(uses_type(b"(struct ops *)x", b"ops"));
        assert!(!uses_type(b"ops = mystruct ops;", b"ops"));
    }

    #[test]
    fn parameters_declare_no_members() {
        let t = "int f(struct ops *p, const struct ops *q);\n\
                 int g(int n, struct ops *r)\n{\n\treturn sizeof(struct ops);\n}\n\
                 struct holder {\n\tstruct ops *field;\n\tint (*cb)(struct ops *o);\n};\n";
        assert_eq!(declared(t, "ops"), ["field"]);
    }

    #[test]
    fn chains_give_their_members() {
        let members = |t: &str| {
            chain_members(t.as_bytes(), t.len()).map(|m| {
                m.iter()
                    .map(|n| String::from_utf8(n.to_vec()).unwrap())
                    .collect::<Vec<_>>()
            })
        };
        assert_eq!(members("x = v"), Some(vec![]));
        assert_eq!(members("a->b"), Some(vec!["b".to_string()]));
        assert_eq!(members("a->b[i].c"), Some(vec!["c".into(), "b".into()]));
        assert_eq!(members("a->b[x[1]]"), Some(vec!["b".to_string()]));
        assert_eq!(members("a \\\n\t-> b \n"), Some(vec!["b".to_string()]));
        assert_eq!(members("arr[i]"), Some(vec![]));
        for t in [
            "f(x)",
            "(a->b)",
            "((struct s *)p)",
            "a->b()",
            "x[1",
            "1",
            "",
        ] {
            assert_eq!(members(t), None, "{t}");
        }
    }
}
