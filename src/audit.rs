//! The pipeline driver: walk -> prefilter -> parse -> facts -> index ->
//! analysis, repeated in rounds.
//!
//! Round one parses the files that mention a borrow API. Each analysis
//! run reports what it looked for and did not find (callers, macro
//! expansions, field stores, struct definitions); the next round parses the
//! prefiltered files that can hold those, until nothing new is wanted.

use crate::analysis::{self, Demand};
use crate::facts::{self, FileFacts};
use crate::index::Index;
use crate::parse;
use crate::report::{Report, Stats};
use crate::source::SourceFile;
use crate::walk;
use aho_corasick::{AhoCorasick, MatchKind};
use anyhow::{Context, bail};
use rayon::prelude::*;
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Instant;

/// Settings of one audit.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Worker threads (0: one per core).
    pub jobs: usize,
}

/// At most this many parse rounds (each follows chains one hop further).
const MAX_ROUNDS: u32 = 12;

/// Audits the tree at `root`.
pub fn audit(root: &Path, opts: &Options) -> anyhow::Result<Report> {
    let start = Instant::now();
    let meta =
        std::fs::metadata(root).with_context(|| format!("cannot read {}", root.display()))?;
    if !meta.is_dir() {
        bail!("{} is not a directory", root.display());
    }
    let jobs = if opts.jobs == 0 {
        std::thread::available_parallelism().map_or(2, |n| n.get())
    } else {
        opts.jobs
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .stack_size(16 << 20)
        .build()
        .context("cannot start worker threads")?;

    let walked = walk::walk(root, jobs);
    let mut stats = Stats {
        files_walked: walked.files_walked,
        bytes_scanned: walked.bytes_scanned,
        files_prefiltered: walked.candidates.len() as u64,
        skipped: walked.skipped,
        ..Stats::default()
    };
    let mut to_parse: Vec<usize> = walked
        .candidates
        .iter()
        .enumerate()
        .filter(|(_, c)| c.hit.borrow)
        .map(|(i, _)| i)
        .collect();
    let mut files: Vec<SourceFile> = walked.candidates.into_iter().map(|c| c.file).collect();
    let mut facts: Vec<Option<FileFacts>> = (0..files.len()).map(|_| None).collect();
    let mut asked: BTreeSet<Demand> = BTreeSet::new();

    loop {
        stats.rounds += 1;
        let parsed: Vec<(usize, Option<FileFacts>)> = pool.install(|| {
            to_parse
                .par_iter()
                .map(|&i| (i, file_facts(&files[i])))
                .collect()
        });
        for (i, f) in parsed {
            stats.files_parsed += 1;
            stats.bytes_parsed += files[i].text.len() as u64;
            if f.is_none() {
                stats.skipped.push(walk::Skipped {
                    file: files[i].path.clone(),
                    reason: "the parser gave up".into(),
                });
            }
            facts[i] = Some(f.unwrap_or_default());
        }
        let ix = Index::new(files, facts);
        let (sites, demands) = analysis::analyze(&ix);
        let new: BTreeSet<Demand> = demands.difference(&asked).cloned().collect();
        asked.extend(new.iter().cloned());
        to_parse = if new.is_empty() || stats.rounds >= MAX_ROUNDS {
            vec![]
        } else {
            files_meeting(&ix, &new, &pool)
        };
        if to_parse.is_empty() {
            stats.sites = sites.len() as u64;
            stats.findings = sites.iter().filter(|s| !s.findings.is_empty()).count() as u64;
            stats.elapsed_ms = start.elapsed().as_millis() as u64;
            stats.skipped.sort();
            let root = root.display().to_string();
            return Ok(Report {
                root,
                sites,
                stats,
                files: ix.files,
            });
        }
        (files, facts) = (ix.files, ix.facts);
    }
}

/// Parses one file and extracts its facts; `None` if the parser gave up.
pub fn file_facts(file: &SourceFile) -> Option<FileFacts> {
    let parsed = parse::blank_annotations(&file.text);
    let tree = parse::parse_c(&parsed)?;
    Some(facts::extract(&file.text, &parsed, &tree))
}

/// The unparsed files that can satisfy one of the demands.
fn files_meeting(ix: &Index, demands: &BTreeSet<Demand>, pool: &rayon::ThreadPool) -> Vec<usize> {
    let names: Vec<&str> = demands
        .iter()
        .map(|d| match d {
            Demand::Ident(s) | Demand::FieldStore(s) | Demand::StructDef(s) => s.as_str(),
        })
        .filter(|s| !s.is_empty())
        .collect();
    if names.is_empty() {
        return vec![];
    }
    let ac = AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostLongest)
        .build(&names)
        .expect("identifiers are valid patterns");
    let kinds: Vec<Vec<&Demand>> = names
        .iter()
        .map(|n| {
            demands
                .iter()
                .filter(|d| matches!(d, Demand::Ident(s) | Demand::FieldStore(s) | Demand::StructDef(s) if s == n))
                .collect()
        })
        .collect();
    pool.install(|| {
        (0..ix.files.len())
            .into_par_iter()
            .filter(|&i| ix.facts[i].is_none())
            .filter(|&i| {
                let t = ix.files[i].text.as_bytes();
                ac.find_iter(t).any(|m| {
                    kinds[m.pattern().as_usize()]
                        .iter()
                        .any(|d| meets(t, m.start(), m.end(), d))
                })
            })
            .collect()
    })
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Does the occurrence of a demanded name at `s..e` satisfy the demand?
fn meets(t: &[u8], s: usize, e: usize, d: &Demand) -> bool {
    if (s > 0 && is_ident(t[s - 1])) || t.get(e).is_some_and(|&b| is_ident(b)) {
        return false;
    }
    let after = t[e..]
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map(|p| e + p);
    match d {
        Demand::Ident(_) => true,
        Demand::FieldStore(_) => {
            let member = t[..s].ends_with(b"->") || t[..s].ends_with(b".");
            member && after.is_some_and(|a| t[a] == b'=' && t.get(a + 1) != Some(&b'='))
        }
        Demand::StructDef(_) => {
            let before = &t[..s];
            let trimmed = before
                .iter()
                .rposition(|b| !b.is_ascii_whitespace())
                .map_or(before, |p| &before[..=p]);
            trimmed.ends_with(b"struct") && after.is_some_and(|a| t[a] == b'{')
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demands_match_their_syntax() {
        let t = b"p->mm = x; q.mm== y; struct foo {";
        assert!(meets(t, 3, 5, &Demand::FieldStore("mm".into())));
        assert!(!meets(t, 13, 15, &Demand::FieldStore("mm".into())));
        assert!(meets(t, 28, 31, &Demand::StructDef("foo".into())));
        assert!(meets(t, 0, 1, &Demand::Ident("p".into())));
    }
}
