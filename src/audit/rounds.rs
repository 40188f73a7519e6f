//! The rounds: parse what the last analysis asked for, analyze again, until
//! nothing new is wanted.
//!
//! One [`Rounds`] holds the index and, in step with its files, what the
//! rounds know of each ([`FileState`]); every other table (demands asked
//! and swept, the names learned per type, the cache's lists) belongs to the
//! run as a whole.

use super::demands::{DemandMatcher, can_be_in_dropped_file};
use super::parsing::{Elision, parse_files};
use super::sweep::{MAX_SWEEPS, sweep};
use super::typed::{Tree, TypedNames, learn_types};
use super::{Context, FileState, Lists, Progress};
use crate::analysis;
use crate::cache::{LastRun, RunFile, code_hash};
use crate::demand::Demand;
use crate::elide;
use crate::facts::FileFacts;
use crate::index::Index;
use crate::report::{Site, Stats};
use crate::source::{FileId, Skipped, SourceFile};
use crate::walk::{self, Dropped, WalkOutput};
use rayon::prelude::*;
use std::collections::BTreeSet;

/// At most this many parse rounds (each follows chains one hop further).
const MAX_ROUNDS: u32 = 12;

/// What came of one analysis.
enum Analysis {
    /// It saw what a full parse shows: its sites and new demands.
    Counted(Vec<Site>, BTreeSet<Demand>),
    /// It did not: per file, the bodies left out that it needed.
    Blind(Vec<(usize, Vec<usize>)>),
}

/// The state of one run of the rounds.
pub(super) struct Rounds<'a> {
    ctx: &'a Context<'a>,
    /// Every kept file (then those swept in), and the facts of the parsed.
    ix: Index,
    /// What the rounds know of each file of `ix`, by the same index.
    states: Vec<FileState>,
    /// How many of `ix`'s files the walk kept (the rest were swept in).
    kept: usize,
    /// The files the prefilter dropped and no sweep has taken in yet.
    dropped: Vec<Dropped>,
    /// Every demand of a counted analysis so far.
    asked: BTreeSet<Demand>,
    /// The demands the dropped files were searched for.
    swept: BTreeSet<Demand>,
    /// The demands of an analysis discarded for a hidden body.
    foreseen: BTreeSet<Demand>,
    /// The names declared with the types that call and store demands are
    /// about, learned as they are first asked for.
    typed: TypedNames,
    lists: Lists,
    stats: Stats,
    /// Parses so far; `stats.rounds` counts only the rounds whose analysis
    /// counted (each follows chains one hop further).
    parses: u32,
}

impl<'a> Rounds<'a> {
    /// Runs the rounds over what the walk kept, and saves their course in
    /// the cache: the last index, its sites and the statistics.
    pub(super) fn run(
        ctx: &'a Context<'a>,
        walked: WalkOutput,
        stats: Stats,
    ) -> (Index, Vec<Site>, Stats) {
        let dropped_changed = walked.dropped_changed();
        let (mut rounds, mut to_parse, classes) = Rounds::new(ctx, walked, stats);
        let sites = loop {
            match rounds.round(std::mem::take(&mut to_parse)) {
                Analysis::Counted(sites, new) => {
                    to_parse = rounds.next_files(&new);
                    if to_parse.is_empty() {
                        break sites;
                    }
                }
                Analysis::Blind(hidden) => to_parse = rounds.force(hidden),
            }
        };
        let mut stats = std::mem::take(&mut rounds.stats);
        stats.bytes_parsed = rounds.states.iter().map(|s| s.code_bytes).sum();
        if let Some(c) = ctx.cache {
            let run = rounds.last_run(&stats);
            let lists = std::mem::take(&mut rounds.lists);
            c.save(classes, lists, Some(run), &|_| !dropped_changed);
        }
        super::drop_later((rounds.dropped, std::mem::take(&mut rounds.states)));
        (rounds.ix, sites, stats)
    }

    /// The rounds' start: every kept file indexed (a borrowing file with
    /// its text), the files round one parses (the borrowing ones), and the
    /// walk's table of files for the cache.
    fn new(
        ctx: &'a Context<'a>,
        mut walked: WalkOutput,
        mut stats: Stats,
    ) -> (Rounds<'a>, Vec<usize>, walk::Classes) {
        // The kept files that the walk did not read (unchanged since the
        // cache's run) are read now: the borrowing ones for their text
        // (round one parses them), the others for their identifiers.
        let unread: Vec<Skipped> = ctx.pool.install(|| {
            (walked.candidates.par_iter_mut())
                .filter_map(|c| {
                    if c.hit.borrow {
                        c.load().err()
                    } else {
                        c.read_idents().err()
                    }
                })
                .collect()
        });
        stats.skipped.extend(unread);
        walked
            .candidates
            .retain(|c| c.idents.is_some() && (c.file.is_some() || !c.hit.borrow));
        stats.files_prefiltered = walked.candidates.len() as u64;
        let kept = walked.candidates.len();
        let borrowing = (walked.candidates.iter().enumerate())
            .filter(|(_, c)| c.hit.borrow)
            .map(|(i, _)| i)
            .collect();
        let mut states = Vec::with_capacity(kept);
        let mut files = Vec::with_capacity(kept);
        for c in walked.candidates {
            files.push(
                c.file
                    .unwrap_or_else(|| SourceFile::unread(c.path, c.abs_path)),
            );
            states.push(FileState {
                set: c.idents,
                ..FileState::default()
            });
        }
        let facts = (0..files.len()).map(|_| None).collect();
        let rounds = Rounds {
            ctx,
            ix: Index::new(files, facts),
            states,
            kept,
            dropped: walked.dropped,
            asked: BTreeSet::new(),
            swept: BTreeSet::new(),
            foreseen: BTreeSet::new(),
            typed: TypedNames::default(),
            lists: Lists::new(),
            stats,
            parses: 0,
        };
        (rounds, borrowing, walked.classes)
    }

    /// Parses `to_parse` and analyzes the index. An analysis that did not
    /// see what a full parse shows (it read a body the parses left out, or
    /// a new demand names something in one) is discarded: its new demands
    /// are kept as `foreseen`, and the bodies are to be forced. Otherwise
    /// its new demands are asked.
    fn round(&mut self, to_parse: Vec<usize>) -> Analysis {
        self.parses += 1;
        (self.ctx.progress)(Progress::Parsing {
            round: self.parses,
            files: to_parse.len(),
        });
        self.parse(to_parse);
        let (sites, demands) = self
            .ctx
            .pool
            .install(|| analysis::analyze(&self.ix, self.ctx.api));
        let (code, new): (BTreeSet<Demand>, BTreeSet<Demand>) = (demands.difference(&self.asked))
            .cloned()
            .partition(|d| matches!(d, Demand::Code(..)));
        let hidden = self.hidden_bodies(&code, &new);
        if !hidden.is_empty() {
            self.foreseen = new;
            return Analysis::Blind(hidden);
        }
        self.foreseen.clear();
        self.stats.rounds += 1;
        self.asked.extend(new.iter().cloned());
        Analysis::Counted(sites, new)
    }

    /// Parses `to_parse` and puts their facts in the index. A file parsed
    /// for the first time keeps the bodies that mention a name demanded so
    /// far (the tables must hold what they do); a file parsed before comes
    /// with its facts, and only the bodies it must keep now are parsed
    /// (unless its facts came whole).
    fn parse(&mut self, to_parse: Vec<usize>) {
        let which: Vec<_> = to_parse
            .into_iter()
            .map(|i| (i, self.ix.take_facts(i).filter(|_| !self.states[i].whole)))
            .collect();
        let alone = which.len() == 1;
        let Rounds {
            ctx,
            ix,
            states,
            dropped,
            asked,
            foreseen,
            typed,
            lists,
            ..
        } = self;
        let asked_matcher = DemandMatcher::new(asked);
        let elision = Elision {
            keep: ctx.keep,
            forced: &|i| (states[i].round > 0).then(|| states[i].forced.as_slice()),
            first: Some(&asked_matcher),
        };
        let parse = || parse_files(ix.files(), which, &elision, ctx.cache, ctx.pool);
        let parsed = if alone && !foreseen.is_empty() {
            // One file leaves a core idle: meanwhile, look for the members
            // of the types the analysis just discarded asked about (the
            // next one most often asks again; what is found holds anyway).
            let tree = Tree {
                ctx,
                files: ix.files(),
                states,
                dropped,
            };
            ctx.pool
                .join(parse, || learn_types(&tree, typed, lists, foreseen))
                .0
        } else {
            parse()
        };
        let mut batch = Vec::with_capacity(parsed.len());
        for (i, p) in parsed {
            let st = &mut self.states[i];
            if st.round == 0 {
                self.stats.files_parsed += 1;
                st.round = self.parses;
            }
            let f = match p {
                Ok(p) => {
                    st.code_bytes = p.bytes;
                    st.forced = p.forced;
                    st.whole = p.whole;
                    p.facts
                }
                Err(reason) => {
                    self.stats.skipped.push(Skipped {
                        file: self.ix.file(i as FileId).path.clone(),
                        reason,
                    });
                    // Empty facts are no base to put bodies in.
                    st.whole = true;
                    FileFacts::default()
                }
            };
            batch.push((i, f));
        }
        self.ix.set_facts(batch);
    }

    /// Per parsed file, the elided bodies the last analysis could not see:
    /// those whose `code` it demanded, and those whose text names one of
    /// its `new` demands.
    fn hidden_bodies(
        &self,
        code: &BTreeSet<Demand>,
        new: &BTreeSet<Demand>,
    ) -> Vec<(usize, Vec<usize>)> {
        let names = DemandMatcher::new(new);
        let parsed: Vec<_> = self.ix.parsed().collect();
        self.ctx.pool.install(|| {
            parsed
                .into_par_iter()
                .filter_map(|(id, facts)| {
                    let text = self.ix.file(id).text().as_bytes();
                    let keys: Vec<usize> = (facts.bodies.iter())
                        .filter_map(|b| {
                            let key = b.elided_at()?;
                            let named = || {
                                let (s, e) = elide::code_of(text, key, b.span.1);
                                names.mentioned_in(&text[s..e])
                            };
                            (code.contains(&Demand::Code(id, key)) || named()).then_some(key)
                        })
                        .collect();
                    (!keys.is_empty()).then_some((id as usize, keys))
                })
                .collect()
        })
    }

    /// Forces the `hidden` bodies and returns the files to parse again
    /// for them.
    fn force(&mut self, hidden: Vec<(usize, Vec<usize>)>) -> Vec<usize> {
        let mut to_parse = Vec::with_capacity(hidden.len());
        for (file, keys) in hidden {
            let st = &mut self.states[file];
            // A file parsed again a second time is most often followed up
            // a chain of its own functions, one a round: keep all.
            if st.reparsed {
                let t = self.ix.file(file as FileId).text().as_bytes();
                st.forced = elide::blocks(t).iter().map(|b| b.key).collect();
            } else {
                st.forced.extend(keys);
                st.forced.sort_unstable();
                st.forced.dedup();
            }
            st.reparsed = true;
            to_parse.push(file);
        }
        to_parse
    }

    /// The files the next round parses: the kept files that can satisfy
    /// the last analysis's new demands, or, once they hold nothing more,
    /// the dropped files that can satisfy any demand not swept for yet.
    fn next_files(&mut self, new: &BTreeSet<Demand>) -> Vec<usize> {
        let more_rounds = self.stats.rounds < MAX_ROUNDS;
        let mut to_parse = if new.is_empty() || !more_rounds {
            vec![]
        } else {
            self.kept_files_meeting(new)
        };
        if to_parse.is_empty() && more_rounds && self.stats.sweeps < MAX_SWEEPS {
            to_parse = self.sweep();
        }
        to_parse
    }

    /// The kept files not parsed yet that can satisfy `new`; their text is
    /// read if it was not.
    fn kept_files_meeting(&mut self, new: &BTreeSet<Demand>) -> Vec<usize> {
        self.learn(new);
        let matcher = DemandMatcher::new(new).typed(&self.typed);
        let (ix, states) = (&self.ix, &self.states);
        type Hit = (usize, Result<Option<String>, Skipped>);
        let hits: Vec<Hit> = self.ctx.pool.install(|| {
            (0..ix.files().len())
                .into_par_iter()
                .filter(|&i| {
                    ix.facts(i as FileId).is_none()
                        && states[i].set.as_ref().is_none_or(|s| matcher.may_hit(s))
                })
                .filter_map(|i| {
                    let f = ix.file(i as FileId);
                    if f.is_read() {
                        return matcher.hit(f.text().as_bytes()).then_some((i, Ok(None)));
                    }
                    let read = walk::read_with(&f.abs_path, |t| {
                        matcher.hit(t).then(|| walk::decode(t.to_vec()))
                    });
                    match read {
                        Ok(text) => text.map(|t| (i, Ok(Some(t)))),
                        Err(err) => Some((i, Err(walk::unreadable(&f.path, &err)))),
                    }
                })
                .collect()
        });
        let mut next = Vec::with_capacity(hits.len());
        for (i, read) in hits {
            match read {
                Ok(text) => {
                    if let Some(text) = text {
                        self.ix.read_file(i as FileId, text);
                    }
                    next.push(i);
                }
                // Said, and taken as empty from now on: not parsed, and
                // never asked for again.
                Err(skipped) => {
                    self.stats.skipped.push(skipped);
                    self.ix.read_file(i as FileId, String::new());
                }
            }
        }
        next
    }

    /// Searches the dropped files for every demand asked and not swept for
    /// yet (a caller passing NULL or a field with another name mentions no
    /// mm token at all); the files found are added to the index.
    fn sweep(&mut self) -> Vec<usize> {
        let pending: BTreeSet<Demand> = (self.asked.difference(&self.swept))
            .filter(|d| can_be_in_dropped_file(d))
            .cloned()
            .collect();
        if pending.is_empty() {
            return vec![];
        }
        self.stats.sweeps += 1;
        (self.ctx.progress)(Progress::Sweeping {
            files: self.dropped.len(),
        });
        self.swept.extend(pending.iter().cloned());
        self.learn(&pending);
        let (found, errors) = sweep(
            self.ctx,
            &mut self.dropped,
            &pending,
            &self.typed,
            &mut self.lists,
        );
        self.stats.skipped.extend(errors);
        self.stats.files_swept += found.len() as u64;
        let mut to_parse = Vec::with_capacity(found.len());
        for file in found {
            to_parse.push(self.ix.add_file(file) as usize);
            self.states.push(FileState::default());
        }
        to_parse
    }

    /// Looks for the members of the types `demands` ask about (see
    /// [`learn_types`]), in the tree as the rounds hold it now.
    fn learn(&mut self, demands: &BTreeSet<Demand>) {
        let tree = Tree {
            ctx: self.ctx,
            files: self.ix.files(),
            states: &self.states,
            dropped: &self.dropped,
        };
        learn_types(&tree, &mut self.typed, &mut self.lists, demands);
    }

    /// The course of this run, for the cache.
    fn last_run(&self, stats: &Stats) -> LastRun {
        let (ix, states) = (&self.ix, &self.states);
        let files = self.ctx.pool.install(|| {
            (0..ix.files().len())
                .into_par_iter()
                .map(|i| {
                    let file = ix.file(i as FileId);
                    RunFile {
                        path: file.path.clone(),
                        round: states[i].round,
                        swept: i >= self.kept,
                        code: ix
                            .facts(i as FileId)
                            .map_or(0, |f| code_hash(file.text(), f)),
                        forced: states[i].forced.clone(),
                    }
                })
                .collect()
        });
        LastRun {
            files,
            asked: self.asked.iter().cloned().collect(),
            rounds: stats.rounds,
            sweeps: stats.sweeps,
            files_swept: stats.files_swept,
            typed: self.typed.known_tags(),
            typed_in: self.typed.declared_in.iter().cloned().collect(),
        }
    }
}
