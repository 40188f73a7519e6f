//! Re-runs without the rounds: when nothing that changed since the cache's
//! run can alter the course the rounds took, the files they parsed are
//! indexed again in one go and analyzed once.
//!
//! The rounds are a function of three things: the prefilter's verdicts,
//! which files satisfy which demands (`demands::meets`, on their text), and
//! the facts and code of the files they parse (the analysis reads a
//! parsed file's text only outside comments while it makes demands). So
//! the last run's course ([`LastRun`]) holds again when
//!
//! - the kept files are the same, with the same borrow verdicts;
//! - a changed kept file that was parsed was parsed in round one (so no
//!   demand brought it in) and has the same [`code_hash`];
//! - a changed file that was not parsed, kept or dropped, satisfies none
//!   of the demands the last run made, and uses none of the struct types
//!   whose members narrowed its call and store demands (`typed`);
//! - the files that declare such a member are unchanged, or parsed in
//!   round one with the same code;
//! - the files sweeps brought in are unchanged.
//!
//! Then the last round's index is rebuilt, in the same order, from cached
//! facts (and a parse of each changed file), and analyzed once: the same
//! sites, with the changed files' new text, lines and comments. Only the
//! parsed files are read; the others are indexed unread.

use super::Context;
use super::demands::DemandMatcher;
use super::parsing::{Elision, parse_files};
use super::typed;
use crate::analysis;
use crate::cache::{LastRun, RunFile, code_hash};
use crate::demand::Demand;
use crate::facts::FileFacts;
use crate::idents::{IdentSet, type_key};
use crate::index::Index;
use crate::report::Site;
use crate::source::{Skipped, SourceFile};
use crate::walk::{self, WalkOutput};
use rayon::prelude::*;
use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

/// A replayed run.
pub(super) struct Replayed {
    /// The last round's index.
    pub ix: Index,
    /// Its sites.
    pub sites: Vec<Site>,
    /// Files that could not be parsed.
    pub skipped: Vec<Skipped>,
    /// Files parsed (from the cache or not) and their bytes.
    pub files_parsed: u64,
    pub bytes_parsed: u64,
}

/// The last run's sites for the tree as it is now, if no change since can
/// alter the course of the rounds; `None` means the rounds must run.
pub(super) fn replay(ctx: &Context, walked: &WalkOutput, run: &LastRun) -> Option<Replayed> {
    let course = same_course(ctx, walked, run)?;
    rebuild(ctx, walked, &course)
}

/// The last run's files, split as the walk holds them now.
struct Course<'r> {
    /// The kept files, in the walk's order (the same as the run's).
    kept: Vec<&'r RunFile>,
    /// The files sweeps brought in, and where each is now.
    swept: Vec<(&'r RunFile, PathBuf)>,
    /// The kept files changed since, by index (each parsed in round one).
    changed: Vec<usize>,
}

/// The last run's files, if the rounds would take the same course over
/// the tree as the walk found it (see the module doc).
fn same_course<'r>(ctx: &Context, walked: &WalkOutput, run: &'r LastRun) -> Option<Course<'r>> {
    let (root, pool) = (ctx.root, ctx.pool);
    let (kept, swept): (Vec<&RunFile>, Vec<&RunFile>) = run.files.iter().partition(|f| !f.swept);
    if kept.len() != walked.candidates.len() {
        return None;
    }
    let asked: BTreeSet<Demand> = run.asked.iter().cloned().collect();
    let matcher = DemandMatcher::new(&asked);
    // A changed file that was not parsed must satisfy no demand, and must
    // not use a type whose members narrowed one.
    let quiet = |set: &IdentSet, path: &Path| {
        !matcher.may_hit(set)
            && !run
                .typed
                .iter()
                .any(|t| set.may_hold(type_key(t.as_bytes())))
            || walk::read_with(path, |t| {
                !matcher.hit(t) && !run.typed.iter().any(|g| typed::uses_type(t, g.as_bytes()))
            })
            .unwrap_or(false)
    };
    let declares: HashSet<&str> = run.typed_in.iter().map(String::as_str).collect();
    // Kept files: same paths and borrow verdicts (round one parses exactly
    // the borrowing files); a changed one is either parsed in round one or
    // still satisfies no demand.
    let mut changed = Vec::new();
    for (i, (c, f)) in walked.candidates.iter().zip(&kept).enumerate() {
        if c.path != f.path || c.hit.borrow != (f.round == 1) {
            return None;
        }
        let Some(idents) = &c.idents else { continue };
        match f.round {
            0 if !declares.contains(c.path.as_str()) && quiet(idents, &c.abs_path) => {}
            1 => changed.push(i),
            _ => return None,
        }
    }
    // Swept-in files: still dropped, and unchanged.
    let mut swept_paths = Vec::with_capacity(swept.len());
    for f in &swept {
        let at = walked
            .dropped
            .binary_search_by(|d| d.path.as_str().cmp(&f.path))
            .ok()?;
        let d = &walked.dropped[at];
        if d.idents.is_some() {
            return None;
        }
        swept_paths.push(d.abs_path(root));
    }
    // Changed dropped files: none satisfies a demand (nor uses a type).
    let demanded = pool.install(|| {
        walked.dropped.par_iter().any(|d| {
            d.idents
                .as_ref()
                .is_some_and(|s| declares.contains(d.path.as_str()) || !quiet(s, &d.abs_path(root)))
        })
    });
    if demanded {
        return None;
    }
    // The files that declared a member of a type are still there.
    let present = |p: &str| {
        walked
            .candidates
            .binary_search_by(|c| c.path.as_str().cmp(p))
            .is_ok()
            || walked
                .dropped
                .binary_search_by(|d| d.path.as_str().cmp(p))
                .is_ok()
    };
    if !declares.iter().all(|p| present(p)) {
        return None;
    }
    let swept = swept.into_iter().zip(swept_paths).collect();
    Some(Course {
        kept,
        swept,
        changed,
    })
}

/// The last round's index rebuilt from the cache's facts (the changed
/// files parsed again), and its sites; `None` if a changed file's code
/// is not what it was.
fn rebuild(ctx: &Context, walked: &WalkOutput, course: &Course) -> Option<Replayed> {
    let (pool, cache) = (ctx.pool, ctx.cache?);
    let changed = &course.changed;
    // The last round's files, in its order; text only where parsed.
    let entries: Vec<(&RunFile, &Path, Option<&SourceFile>)> = (course.kept.iter())
        .zip(&walked.candidates)
        .map(|(f, c)| (*f, c.abs_path.as_path(), c.file.as_ref()))
        .chain((course.swept.iter()).map(|(f, p)| (*f, p.as_path(), None)))
        .collect();
    let files: Option<Vec<SourceFile>> = pool.install(|| {
        entries
            .par_iter()
            .map(|&(f, abs, loaded)| {
                let text = match loaded {
                    _ if f.round == 0 => {
                        return Some(SourceFile::unread(f.path.clone(), abs.to_path_buf()));
                    }
                    Some(file) => file.text().to_string(),
                    None => walk::decode(walk::read(abs).ok()?),
                };
                Some(SourceFile::new(f.path.clone(), abs.to_path_buf(), text))
            })
            .collect()
    });
    let files = files?;
    let to_parse: Vec<usize> = (0..files.len())
        .filter(|&i| entries[i].0.round > 0)
        .collect();
    // Each file leaves out what it left out in the last round.
    let forced: Vec<Vec<usize>> = entries.iter().map(|e| e.0.forced.clone()).collect();
    let elision = Elision {
        keep: ctx.keep,
        forced: &|i| Some(forced[i].as_slice()),
        first: None,
    };
    let which = to_parse.into_iter().map(|i| (i, None)).collect();
    let parsed = parse_files(&files, which, &elision, Some(cache), pool);
    let mut skipped = Vec::new();
    let mut batch = Vec::with_capacity(parsed.len());
    let mut bytes_parsed = 0;
    for (i, facts) in parsed {
        let facts = match facts {
            Ok(p) => {
                bytes_parsed += p.bytes;
                p.facts
            }
            Err(_) if changed.contains(&i) => return None,
            Err(reason) => {
                skipped.push(Skipped {
                    file: files[i].path.clone(),
                    reason,
                });
                FileFacts::default()
            }
        };
        if changed.contains(&i) && code_hash(files[i].text(), &facts) != entries[i].0.code {
            return None;
        }
        batch.push((i, facts));
    }
    let files_parsed = batch.len() as u64;
    let none = (0..files.len()).map(|_| None).collect();
    let mut ix = Index::new(files, none);
    ix.add_facts(batch);
    let (sites, _) = pool.install(|| analysis::analyze(&ix, ctx.api));
    Some(Replayed {
        ix,
        sites,
        skipped,
        files_parsed,
        bytes_parsed,
    })
}
