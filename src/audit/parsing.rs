//! Parses the files a round asks for, leaving out the bodies that cannot
//! matter (see [`elide`]): each file under `catch_unwind`, largest first,
//! from the cache where it has the facts. A file parsed before is not
//! parsed again: only the bodies it is now made to keep are, each cut out
//! and parsed on its own, and put in place of its elided body.

use super::demands::DemandMatcher;
use crate::cache::Cache;
use crate::elide::{self, KeepWords};
use crate::facts::{self, FileFacts};
use crate::parse;
use crate::source::SourceFile;
use rayon::prelude::*;

/// What the parses of a run leave out (see [`elide`]).
pub(super) struct Elision<'a> {
    /// Bodies that mention one of these are kept.
    pub keep: &'a KeepWords,
    /// Per file (by index), the bodies kept whatever they mention (sorted
    /// keys); `None` for a file parsed for the first time, which keeps
    /// those that may satisfy a demand of `first`.
    pub forced: &'a (dyn Fn(usize) -> Option<&'a [usize]> + Sync),
    pub first: Option<&'a DemandMatcher<'a>>,
}

/// A parsed file: its facts, how many of its bytes were parsed as code
/// (the bytes of elided bodies are not), the bodies it was made to keep,
/// and whether the facts come from a parse of the whole file keeping them
/// (a forced body did not parse on its own), not from bodies put in.
pub(super) struct Parsed {
    pub facts: FileFacts,
    pub bytes: u64,
    pub forced: Vec<usize>,
    pub whole: bool,
}

/// The facts of `files[i]` for each `i` in `which`, parsed on `pool` (or
/// taken from the cache). A file given with facts (those of its last
/// parse) is not parsed again: only the bodies it is now made to keep are,
/// each on its own (see [`isolated_file_facts`]).
pub(super) fn parse_files(
    files: &[SourceFile],
    mut which: Vec<(usize, Option<FileFacts>)>,
    elision: &Elision,
    cache: Option<&Cache>,
    pool: &rayon::ThreadPool,
) -> Vec<(usize, Result<Parsed, String>)> {
    // Largest first, one file per task: a round lasts as long as its
    // slowest thread, and one large file parsed last would be alone.
    which.sort_by_key(|(i, _)| std::cmp::Reverse(files[*i].text().len()));
    pool.install(|| {
        which
            .into_par_iter()
            .with_max_len(1)
            .map(|(i, prior)| (i, isolated_file_facts(&files[i], i, elision, cache, prior)))
            .collect()
    })
}

/// [`file_facts`] of `files[i]`, leaving out what `elision` allows, with a
/// panic caught and turned into a reason: one odd file must not stop the
/// audit of the tree.
///
/// The facts are always those of one parse leaving out every body that
/// names no keep-word, each forced body then parsed on its own and put in
/// (`prior`, if given, are such facts for fewer forced bodies). So a file
/// parsed again for a few bodies costs those bodies, and the facts do not
/// depend on the order in which bodies were forced: a replayed run builds
/// the same. If a forced body does not parse on its own as it did in the
/// file, the file is parsed whole, leaving out what is not forced.
fn isolated_file_facts(
    file: &SourceFile,
    i: usize,
    elision: &Elision,
    cache: Option<&Cache>,
    prior: Option<FileFacts>,
) -> Result<Parsed, String> {
    let text = file.text().as_bytes();
    let blocks = elide::blocks(text);
    let forced = match ((elision.forced)(i), elision.first) {
        (Some(f), _) => f.to_vec(),
        (None, Some(m)) => elide::mentioning(text, &blocks, |b| m.mentioned_in(b)),
        (None, None) => Vec::new(),
    };
    let base_out = elide::elided(text, &blocks, elision.keep, &[]);
    let base_keys: Vec<usize> = base_out.iter().map(|b| b.key).collect();
    // Of those, what a parse keeping the forced bodies leaves out (the
    // keep-words are not looked for a second time).
    let left_out = elide::elided(text, &base_out, &KeepWords::new([]), &forced);
    let keys: Vec<usize> = left_out.iter().map(|b| b.key).collect();
    let parsed = |facts: FileFacts, whole: bool| {
        // The bodies that were blanked: those that became elided bodies
        // (none, if the parse fell back to the whole file).
        let blanked = facts.elided_keys();
        let blanked: Vec<elide::Block> = left_out
            .iter()
            .filter(|b| blanked.contains(&b.key))
            .copied()
            .collect();
        let bytes = (text.len() - elide::blanked_bytes(&blanked)) as u64;
        Parsed {
            facts,
            bytes,
            forced: forced.clone(),
            whole,
        }
    };
    if let Some((facts, whole)) = cache.and_then(|c| c.facts(file.text(), &base_keys, &keys)) {
        return Ok(parsed(facts, whole));
    }
    let run = || {
        let base = match prior {
            Some(facts) => Some(facts),
            None => leaving_out(file.text(), base_out.clone()),
        };
        if let Some(mut facts) = base
            && put_forced(file.text(), &mut facts, &forced)
        {
            return Some((facts, false));
        }
        leaving_out(file.text(), left_out.clone()).map(|f| (f, true))
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(Some((facts, whole))) => {
            if let Some(c) = cache {
                c.store_facts(file.text(), &base_keys, &keys, &facts, whole);
            }
            Ok(parsed(facts, whole))
        }
        Ok(None) => Err(format!(
            "the parser gave up (or ran past {} s)",
            parse::PARSE_TIME_LIMIT.as_secs()
        )),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(format!(
                "internal error while reading it (please report): {msg}"
            ))
        }
    }
}

/// The facts of `text` parsed leaving out the blocks `left`. Every
/// function body left out must become a body; one that did not was read
/// otherwise by the parser (`SYSCALL_DEFINE0(f) {` inside an `#ifdef` is
/// not a function to it), so it is kept and the file parsed again; after
/// two tries, all of it. (A macro becomes a body only if it has a value,
/// elided or not.) `None` if the parser gave up.
fn leaving_out(text: &str, mut left: Vec<elide::Block>) -> Option<FileFacts> {
    for _ in 0..2 {
        let facts = facts::parse_leaving_out(text, &left)?;
        let bodies = facts.elided_keys();
        let before = left.len();
        left.retain(|b| b.kind == elide::BlockKind::Macro || bodies.contains(&b.key));
        if left.len() == before {
            return Some(facts);
        }
    }
    facts::parse_leaving_out(text, &[])
}

/// Parses each body of `facts` left out whose key is in `forced` (sorted)
/// on its own, its definition cut out of `text`, and puts it in. False if
/// one does not come out as that body alone (`facts` is then half done).
fn put_forced(text: &str, facts: &mut FileFacts, forced: &[usize]) -> bool {
    let todo: Vec<(usize, facts::Span)> = facts
        .bodies
        .iter()
        .filter_map(|b| {
            let key = b.elided_at()?;
            forced.binary_search(&key).is_ok().then_some((key, b.span))
        })
        .collect();
    if todo.is_empty() {
        return true;
    }
    // Each definition blanked on its own: an annotation does not reach
    // across a definition's ends, and a blanking of the whole file costs
    // more than the parse of a short body.
    let parts: Vec<Option<FileFacts>> = todo
        .par_iter()
        .map(|&(_, (start, end))| {
            let part = parse::blank_annotations(text.get(start..end)?);
            let tree = parse::parse_c(&part)?;
            Some(facts::extract_part(text, &part, start, &tree))
        })
        .collect();
    todo.iter()
        .zip(parts)
        .all(|(&(key, _), part)| part.is_some_and(|p| facts.put_body(key, p)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::Cache;
    use crate::elide::KeepWords;
    use std::path::Path;

    #[test]
    fn a_cached_parse_counts_the_bytes_a_fresh_one_does() {
        // `a`'s body is left out; `b`'s is not a function to the parser once
        // blanked, so the parse keeps it after all.
        let text = "int a(void)\n{\n\treturn 1;\n}\n#ifdef X\nSYSCALL_DEFINE0(b)\n{\n\tint y = 1;\n\n\treturn y;\n}\n#endif\n";
        let file = SourceFile::new("a.c".into(), "a.c".into(), text.into());
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path(), dir.path(), &Default::default());
        let keep = KeepWords::new([]);
        let elision = Elision {
            keep: &keep,
            forced: &|_| Some(&[]),
            first: None,
        };
        let fresh = isolated_file_facts(&file, 0, &elision, Some(&cache), None).unwrap();
        assert_eq!(fresh.bytes, (text.len() - "\n\treturn 1;\n".len()) as u64);
        assert_eq!(dir.path().join("facts").read_dir().unwrap().count(), 1);
        let cached = isolated_file_facts(&file, 0, &elision, Some(&cache), None).unwrap();
        assert_eq!(cached.bytes, fresh.bytes);
        let elided = |p: &Parsed| {
            p.facts
                .bodies
                .iter()
                .filter(|b| b.elided_at().is_some())
                .count()
        };
        assert_eq!((elided(&fresh), elided(&cached)), (1, 1));
    }

    /// Every `.c` and `.h` text under `dir`.
    fn texts_under(dir: &Path, out: &mut Vec<(String, String)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                texts_under(&p, out);
            } else if p.extension().is_some_and(|x| x == "c" || x == "h") {
                out.push((
                    p.display().to_string(),
                    std::fs::read_to_string(&p).unwrap(),
                ));
            }
        }
    }

    #[test]
    fn bodies_parsed_alone_give_the_facts_of_a_whole_parse() {
        let mut texts = vec![(
            "inline".to_string(),
            "static const struct ops top = { .run = run_it, .stop = NULL };\n\
             #define LOAD(x) do { if (x) use(x); else skip(x); } while (0)\n\
             static int f(struct kvm *kvm, int n)\n{\n\tstruct ops o = { .run = g };\n\
             \tif (n) {\n\t\tif (kvm) a(); else b();\n\t} else {\n\t\tswitch (n) { case 1: c(); }\n\t}\n\
             \treturn n ? x() : y();\n}\n\
             int g(void)\n{\n\tint y = ;\n\twhile (y) z(y);\nout:\n\treturn 0;\n}\n"
                .to_string(),
        )];
        texts_under(Path::new("tests/fixtures"), &mut texts);
        let none = KeepWords::new([]);
        for (name, text) in &texts {
            let blocks = elide::blocks(text.as_bytes());
            let all: Vec<usize> = blocks.iter().map(|b| b.key).collect();
            let whole = leaving_out(text, vec![]).unwrap();
            let base =
                || leaving_out(text, elide::elided(text.as_bytes(), &blocks, &none, &[])).unwrap();
            // All at once, and one by one from the last.
            let mut at_once = base();
            assert!(put_forced(text, &mut at_once, &all), "{name}");
            let mut one_by_one = base();
            for k in all.iter().rev() {
                assert!(put_forced(text, &mut one_by_one, &[*k]), "{name}");
            }
            assert!(at_once.elided_keys().is_empty(), "{name}");
            assert_eq!(
                FileFacts::serialized_without_comments(&at_once),
                FileFacts::serialized_without_comments(&whole),
                "{name}"
            );
            assert_eq!(
                FileFacts::serialized_without_comments(&one_by_one),
                FileFacts::serialized_without_comments(&whole),
                "{name}"
            );
        }
        assert!(texts.len() > 20);
    }

    #[test]
    fn a_body_that_parses_otherwise_alone_is_not_put_in() {
        // Cut out of the file, `b`'s definition is not a function (the
        // macro that opened it is left behind): the facts stay as they were.
        let text = "int a(void)\n{\n\treturn 1;\n}\n";
        let none = KeepWords::new([]);
        let blocks = elide::blocks(text.as_bytes());
        let mut facts =
            leaving_out(text, elide::elided(text.as_bytes(), &blocks, &none, &[])).unwrap();
        let before = FileFacts::serialized_without_comments(&facts);
        let wrong = facts::parse_leaving_out("int b(void) { return 2; }", &[]).unwrap();
        assert!(!facts.put_body(blocks[0].key, wrong));
        assert!(!facts.put_body(blocks[0].key + 1, FileFacts::default()));
        assert_eq!(FileFacts::serialized_without_comments(&facts), before);
    }
}
