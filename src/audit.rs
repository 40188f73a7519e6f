//! The pipeline driver: walk -> prefilter -> parse -> facts -> index ->
//! analysis, repeated in rounds.
//!
//! Round one parses the files that mention a borrow API. Each analysis
//! run reports what it looked for and did not find (callers, macro
//! expansions, calls through and stores into fields, struct definitions);
//! the next round parses the prefiltered files that can hold those. When
//! the prefiltered files have nothing more, the files the prefilter dropped
//! are searched again for everything wanted so far (a *sweep*): a caller
//! that passes `NULL`, or a field with another name, mentions no mm token.
//! This ends when nothing new is wanted.

use crate::analysis::{self, Demand};
use crate::cache::{Cache, LastRun, RunFile, code_hash};
use crate::elide::{self, KeepWords};
use crate::facts::{self, FileFacts};
use crate::idents::{self, Form, IdentSet, Probe, after_member_op, is_whole_word};
use crate::index::Index;
use crate::parse;
use crate::replay;
use crate::report::{Report, Site, Stats};
use crate::source::SourceFile;
use crate::typed::{self, TypedNames};
use crate::walk;
use aho_corasick::AhoCorasick;
use anyhow::{Context, bail};
use rayon::prelude::*;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::time::Instant;

/// What the audit is doing, for a progress display.
#[derive(Clone, Copy, Debug)]
pub enum Progress {
    /// Walking the tree: files seen so far.
    Walking { files: u64 },
    /// Parsing a round of files.
    Parsing { round: u32, files: usize },
    /// Searching the files the prefilter dropped again.
    Sweeping { files: usize },
}

/// Receives [`Progress`] reports, from any thread.
pub type ProgressFn = std::sync::Arc<dyn Fn(Progress) + Send + Sync>;

/// Settings of one audit.
#[derive(Clone, Default)]
pub struct Options {
    /// Worker threads (0: one per core).
    pub jobs: usize,
    /// Where to report progress, if anywhere.
    pub progress: Option<ProgressFn>,
    /// The incremental cache's directory (`None`: no cache).
    pub cache_dir: Option<std::path::PathBuf>,
    /// Parse every body, none left out (see [`elide`]): slower, and the
    /// same report; for tests that prove it.
    pub keep_all_bodies: bool,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("jobs", &self.jobs)
            .field("progress", &self.progress.is_some())
            .field("cache_dir", &self.cache_dir)
            .field("keep_all_bodies", &self.keep_all_bodies)
            .finish()
    }
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

    let report = |p: Progress| {
        if let Some(f) = &opts.progress {
            f(p);
        }
    };
    let cache = opts.cache_dir.as_deref().map(|d| Cache::open(d, root));
    let mut walked = walk::walk(root, &pool, cache.as_ref(), &|files| {
        report(Progress::Walking { files })
    });
    let mut stats = Stats {
        files_walked: walked.files_walked,
        bytes_scanned: walked.bytes_scanned,
        files_prefiltered: walked.candidates.len() as u64,
        skipped: std::mem::take(&mut walked.skipped),
        warnings: std::mem::take(&mut walked.warnings),
        ..Stats::default()
    };
    if stats.files_walked == 0 {
        let why = if stats.skipped.is_empty() {
            String::new()
        } else {
            format!(" ({} could not be read)", stats.skipped.len())
        };
        bail!("no .c or .h files under {}{why}", root.display());
    }
    let finish = |mut ix: Index, sites: Vec<Site>, mut stats: Stats| {
        let files = std::mem::take(&mut ix.files);
        drop_later(ix);
        stats.sites = sites.len() as u64;
        stats.findings = sites.iter().filter(|s| !s.findings.is_empty()).count() as u64;
        stats.elapsed_ms = start.elapsed().as_millis() as u64;
        stats.skipped.sort();
        Ok(Report {
            root: root.display().to_string(),
            sites,
            stats,
            files,
        })
    };
    let keep = if opts.keep_all_bodies {
        KeepWords::everything()
    } else {
        KeepWords::apis()
    };
    // A dropped file that changed since the cache's run may change any
    // list of dropped files the cache holds.
    let dropped_changed = walked.dropped.iter().any(|d| d.idents.is_some());
    if let Some(c) = &cache
        && let Some(run) = c.last_run()
        && let Some(r) = replay::replay(root, &walked, run, c, &keep, &pool)
    {
        stats.replayed = true;
        stats.rounds = run.rounds;
        stats.sweeps = run.sweeps;
        stats.files_swept = run.files_swept;
        stats.files_parsed = r.files_parsed;
        stats.bytes_parsed = r.bytes_parsed;
        stats.skipped.extend(r.skipped);
        // The changed files satisfy none of the run's demands and use none
        // of its types: those lists still hold.
        let held: HashSet<String> = (run.asked.iter().map(crate::cache::demand_key))
            .chain(run.typed.iter().map(|t| crate::cache::members_key(t)))
            .collect();
        c.save(walked.classes, HashMap::new(), None, &|k| {
            !dropped_changed || held.contains(k)
        });
        drop_later((walked.candidates, walked.dropped, cache));
        return finish(r.ix, r.sites, stats);
    }

    // The kept files that the walk did not read (unchanged since the
    // cache's run) are read now: the borrowing ones for their text (round
    // one parses them), the others for their identifiers.
    let unread: Vec<walk::Skipped> = pool.install(|| {
        walked
            .candidates
            .par_iter_mut()
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
    let classes = walked.classes;
    let mut sweep_log: HashMap<String, Vec<String>> = HashMap::new();
    let mut to_parse: Vec<usize> = walked
        .candidates
        .iter()
        .enumerate()
        .filter(|(_, c)| c.hit.borrow)
        .map(|(i, _)| i)
        .collect();
    let kept = walked.candidates.len();
    // The identifiers of each kept file (`None`: swept in, parsed at once).
    let mut sets: Vec<Option<IdentSet>> = Vec::with_capacity(kept);
    // Whether each file's text is read (the others are indexed with an
    // empty text until a demand asks for them).
    let mut has_text: Vec<bool> = Vec::with_capacity(kept);
    let mut files: Vec<SourceFile> = Vec::with_capacity(kept);
    for c in walked.candidates {
        has_text.push(c.file.is_some());
        files.push(
            c.file
                .unwrap_or_else(|| SourceFile::new(c.path, c.abs_path, String::new())),
        );
        sets.push(c.idents);
    }
    let facts: Vec<Option<FileFacts>> = (0..files.len()).map(|_| None).collect();
    // Built once and extended each round (files parsed, files swept in).
    let mut ix = Index::new(files, facts);
    let mut state: Vec<ParseState> = vec![ParseState::default(); kept];
    let mut dropped = walked.dropped;
    let mut asked: BTreeSet<Demand> = BTreeSet::new();
    let mut swept: BTreeSet<Demand> = BTreeSet::new();
    // The names declared with the types that call and store demands are
    // about, learned as they are first asked for.
    let mut typed = TypedNames::default();
    // The demands of an analysis discarded for a hidden body.
    let mut foreseen: BTreeSet<Demand> = BTreeSet::new();
    // Parses so far; `stats.rounds` counts only the rounds whose analysis
    // counted (each follows chains one hop further).
    let mut parses = 0;

    // Looks for the members of the types `demands` ask about (see
    // `learn_types`), in the tree as the rounds hold it now.
    macro_rules! learn {
        ($demands:expr) => {
            learn_types(
                &mut typed,
                $demands,
                &ix,
                &has_text,
                &sets,
                &dropped,
                root,
                &pool,
                cache.as_ref(),
                &mut sweep_log,
            )
        };
    }

    loop {
        parses += 1;
        report(Progress::Parsing {
            round: parses,
            files: to_parse.len(),
        });
        // A file parsed for the first time keeps the bodies that mention
        // a name demanded so far: the tables must hold what they do.
        let asked_matcher = DemandMatcher::new(&asked);
        let elision = Elision {
            keep: &keep,
            forced: &|i| (state[i].round > 0).then(|| state[i].forced.as_slice()),
            first: Some(&asked_matcher),
        };
        // A file parsed before comes with its facts: only the bodies it
        // must keep now are parsed (unless its facts came whole).
        let which: Vec<_> = std::mem::take(&mut to_parse)
            .into_iter()
            .map(|i| (i, ix.take_facts(i).filter(|_| !state[i].whole)))
            .collect();
        let alone = which.len() == 1;
        let parse = || parse_files(&ix.files, which, &elision, cache.as_ref(), &pool);
        let parsed = if alone && !foreseen.is_empty() {
            // One file leaves a core idle: meanwhile, look for the members
            // of the types the analysis just discarded asked about (the
            // next one most often asks again; what is found holds anyway).
            pool.join(parse, || learn!(&foreseen)).0
        } else {
            parse()
        };
        foreseen.clear();
        let mut batch = Vec::with_capacity(parsed.len());
        for (i, p) in parsed {
            let st = &mut state[i];
            if st.round == 0 {
                stats.files_parsed += 1;
                st.round = parses;
            }
            let f = match p {
                Ok(p) => {
                    st.code_bytes = p.bytes;
                    st.forced = p.forced;
                    st.whole = p.whole;
                    p.facts
                }
                Err(reason) => {
                    stats.skipped.push(walk::Skipped {
                        file: ix.files[i].path.clone(),
                        reason,
                    });
                    // Empty facts are no base to put bodies in.
                    st.whole = true;
                    FileFacts::default()
                }
            };
            batch.push((i, f));
        }
        ix.set_facts(batch);
        let (sites, demands) = pool.install(|| analysis::analyze(&ix));
        let new: BTreeSet<Demand> = demands.difference(&asked).cloned().collect();
        // An analysis that read a body the parses left out, or whose new
        // demands name something in one, did not see what a full parse
        // shows: parse those bodies and run it again, taking nothing
        // from it.
        let hidden = hidden_bodies(&ix, &new, &pool);
        if !hidden.is_empty() {
            foreseen = new;
            to_parse = Vec::with_capacity(hidden.len());
            for (file, keys) in hidden {
                let st = &mut state[file];
                // A file parsed again a second time is most often followed
                // up a chain of its own functions, one a round: keep all.
                if st.reparsed {
                    let t = ix.files[file].text.as_bytes();
                    st.forced = elide::blocks(t).iter().map(|b| b.key).collect();
                } else {
                    st.forced.extend(keys);
                    st.forced.sort_unstable();
                    st.forced.dedup();
                }
                st.reparsed = true;
                to_parse.push(file);
            }
            continue;
        }
        stats.rounds += 1;
        asked.extend(new.iter().cloned());
        let more_rounds = stats.rounds < MAX_ROUNDS;
        to_parse = if new.is_empty() || !more_rounds {
            vec![]
        } else {
            learn!(&new);
            let matcher = DemandMatcher::new(&new).typed(&typed);
            let hits: Vec<(usize, Result<Option<String>, walk::Skipped>)> = pool.install(|| {
                (0..ix.files.len())
                    .into_par_iter()
                    .filter(|&i| {
                        ix.facts[i].is_none() && sets[i].as_ref().is_none_or(|s| matcher.may_hit(s))
                    })
                    .filter_map(|i| {
                        let f = &ix.files[i];
                        if has_text[i] {
                            return matcher.hit(f.text.as_bytes()).then_some((i, Ok(None)));
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
                            let f = &ix.files[i];
                            ix.files[i] = SourceFile::new(f.path.clone(), f.abs_path.clone(), text);
                            has_text[i] = true;
                        }
                        next.push(i);
                    }
                    // Said, and taken as empty from now on: not parsed,
                    // and never asked for again.
                    Err(skipped) => {
                        stats.skipped.push(skipped);
                        has_text[i] = true;
                    }
                }
            }
            next
        };
        // The kept files hold nothing more: look in the dropped ones for
        // what is still wanted (a caller passing NULL or a field with
        // another name mentions no mm token at all).
        if to_parse.is_empty() && more_rounds && stats.sweeps < MAX_SWEEPS {
            let pending: BTreeSet<Demand> = asked
                .difference(&swept)
                .filter(|d| can_be_in_dropped_file(d))
                .cloned()
                .collect();
            if !pending.is_empty() {
                stats.sweeps += 1;
                report(Progress::Sweeping {
                    files: dropped.len(),
                });
                swept.extend(pending.iter().cloned());
                learn!(&pending);
                let (found, errors) = sweep(
                    root,
                    &mut dropped,
                    &pending,
                    &typed,
                    &pool,
                    cache.as_ref(),
                    &mut sweep_log,
                );
                stats.skipped.extend(errors);
                stats.files_swept += found.len() as u64;
                for file in found {
                    to_parse.push(ix.add_file(file) as usize);
                    sets.push(None);
                    has_text.push(true);
                    state.push(ParseState::default());
                }
            }
        }
        if to_parse.is_empty() {
            stats.bytes_parsed = state.iter().map(|s| s.code_bytes).sum();
            if let Some(c) = &cache {
                let run = last_run(&ix, &state, kept, &asked, &typed, &stats, &pool);
                c.save(classes, sweep_log, Some(run), &|_| !dropped_changed);
            }
            drop_later((dropped, sets, cache));
            return finish(ix, sites, stats);
        }
    }
}

/// Frees `x` on another thread. A run ends holding some hundred thousand
/// small allocations (paths, identifier sets, the cache's tables) that
/// take tens of milliseconds to free, and nothing needs to wait for that.
pub fn drop_later<T: Send + 'static>(x: T) {
    let _ = std::thread::Builder::new().spawn(move || drop(x));
}

/// What the rounds know of one file's parses.
#[derive(Clone, Default)]
struct ParseState {
    /// The round that first parsed it (0: none yet), for the cache.
    round: u32,
    /// The bodies its parses keep whatever they mention (sorted keys).
    forced: Vec<usize>,
    /// The bytes its last parse read as code.
    code_bytes: u64,
    /// Whether it was parsed again for bodies it had left out.
    reparsed: bool,
    /// Whether its facts come from a parse of the whole file (see
    /// [`Parsed`]).
    whole: bool,
}

/// Per parsed file, the elided bodies the analysis could not see: those
/// it read, and those whose text names one of the `new` demands.
fn hidden_bodies(
    ix: &Index,
    new: &BTreeSet<Demand>,
    pool: &rayon::ThreadPool,
) -> Vec<(usize, Vec<usize>)> {
    let names = DemandMatcher::new(new);
    pool.install(|| {
        ix.facts
            .par_iter()
            .enumerate()
            .filter_map(|(i, facts)| {
                let facts = facts.as_ref()?;
                let text = ix.files[i].text.as_bytes();
                let keys: Vec<usize> = facts
                    .bodies
                    .iter()
                    .filter_map(|b| {
                        let key = b.elided_at()?;
                        let named = || {
                            let (s, e) = elide::code_of(text, key, b.span.1);
                            names.mentioned_in(&text[s..e])
                        };
                        (b.elided_and_read() || named()).then_some(key)
                    })
                    .collect();
                (!keys.is_empty()).then_some((i, keys))
            })
            .collect()
    })
}

/// The course of this run, for the cache.
fn last_run(
    ix: &Index,
    state: &[ParseState],
    kept: usize,
    asked: &BTreeSet<Demand>,
    typed: &TypedNames,
    stats: &Stats,
    pool: &rayon::ThreadPool,
) -> LastRun {
    let files = pool.install(|| {
        (0..ix.files.len())
            .into_par_iter()
            .map(|i| RunFile {
                path: ix.files[i].path.clone(),
                round: state[i].round,
                swept: i >= kept,
                code: ix.facts[i]
                    .as_ref()
                    .map_or(0, |f| code_hash(&ix.files[i].text, f)),
                forced: state[i].forced.clone(),
            })
            .collect()
    });
    LastRun {
        files,
        asked: asked.iter().cloned().collect(),
        rounds: stats.rounds,
        sweeps: stats.sweeps,
        files_swept: stats.files_swept,
        typed: typed.known_tags(),
        typed_in: typed.declared_in.iter().cloned().collect(),
    }
}

/// Searches the tree for the names declared as members with each struct
/// type that a call or store demand in `demands` is about and `typed` has
/// not looked for yet (see [`typed`]): the kept files, in memory or read
/// again if their set may hold the type, and the dropped files likewise.
/// A dropped file the walk did not read (unchanged since the cache's run)
/// has no set at hand: it is read if the cache lists it for the type, or
/// if the cache does not know every type. A type is left unknown (every
/// chain counts) if a file cannot be read. Records in `log`, per type,
/// every file that declares such a member (for the cache).
#[allow(clippy::too_many_arguments)]
fn learn_types(
    typed: &mut TypedNames,
    demands: &BTreeSet<Demand>,
    ix: &Index,
    has_text: &[bool],
    sets: &[Option<IdentSet>],
    dropped: &[walk::Dropped],
    root: &Path,
    pool: &rayon::ThreadPool,
    cache: Option<&Cache>,
    log: &mut HashMap<String, Vec<String>>,
) {
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
    let listed = cache.and_then(|c| c.lists(tags.iter().map(|t| crate::cache::members_key(t))));
    let probes: Vec<Probe> = tags
        .iter()
        .map(|t| Probe::of(idents::type_key(t.as_bytes())))
        .collect();
    // Per file: for each tag, the names it declares with it (`None`: the
    // file could not be read).
    type Found = (String, Option<Vec<typed::Names>>);
    let search = |t: &[u8], which: &[usize]| -> Vec<typed::Names> {
        let mut out = vec![typed::Names::default(); tags.len()];
        for &k in which {
            typed::members_declared_with(t, tags[k].as_bytes(), |n| {
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
        let kept = (0..ix.files.len()).into_par_iter().filter_map(|i| {
            let f = &ix.files[i];
            let w = which(sets[i].as_ref());
            if w.is_empty() {
                return None;
            }
            if has_text[i] {
                return Some((f.path.clone(), Some(search(f.text.as_bytes(), &w))));
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
    let mut per_tag: Vec<Vec<(String, typed::Names)>> = vec![Vec::new(); tags.len()];
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
            log.insert(crate::cache::members_key(tag), paths);
        }
        typed.learn(tag, complete.then_some(files));
    }
}

/// False if every text that satisfies the demand holds a flow token: the
/// prefilter kept all such files, so no dropped file can.
fn can_be_in_dropped_file(d: &Demand) -> bool {
    let forms = match d {
        Demand::Ident(s) | Demand::StructDef(s) => vec![s.clone()],
        Demand::FieldCall(s, _) | Demand::FieldStore(s, _) => {
            vec![format!("->{s}"), format!(".{s}")]
        }
    };
    let flow = crate::rules::FLOW_TOKENS;
    !forms.iter().all(|f| flow.iter().any(|t| f.contains(t)))
}

/// A type with more member names than this is not probed for in the sets
/// (the test on the text still narrows).
const MAX_MEMBER_PROBES: usize = 256;

/// How many times the dropped files may be searched again.
const MAX_SWEEPS: u32 = 4;

/// Reads the dropped files again and takes out those that can satisfy a
/// demand (narrowed by `typed`). Returns them (sorted by path) and the
/// files that could not be read this time; records in `log`, per demand,
/// every dropped file that satisfies it, not narrowed (for the cache: what
/// `typed` knows depends on other files).
///
/// With a cache that knows every pending demand, only the files it lists
/// and the files new or changed since are read.
fn sweep(
    root: &Path,
    dropped: &mut Vec<walk::Dropped>,
    pending: &BTreeSet<Demand>,
    typed: &TypedNames,
    pool: &rayon::ThreadPool,
    cache: Option<&Cache>,
    log: &mut HashMap<String, Vec<String>>,
) -> (Vec<SourceFile>, Vec<walk::Skipped>) {
    let matcher = DemandMatcher::new(pending);
    let narrowed = DemandMatcher::new(pending).typed(typed);
    let pending: Vec<&Demand> = pending.iter().collect();
    // Per demand, the dropped files it matched last time.
    let known = cache.and_then(|c| c.lists(pending.iter().map(|d| crate::cache::demand_key(d))));
    type Outcome = Result<(Vec<usize>, Option<SourceFile>), walk::Skipped>;
    let results: Vec<Outcome> = pool.install(|| {
        dropped
            .par_iter()
            .map(|d| {
                if let Some(set) = &d.idents
                    && !matcher.may_hit(set)
                {
                    return Ok((vec![], None));
                }
                let listed: Option<Vec<usize>> =
                    known.as_ref().filter(|_| d.idents.is_none()).map(|k| {
                        (0..pending.len())
                            .filter(|&i| k[i].contains(d.path.as_str()))
                            .collect()
                    });
                if listed.as_ref().is_some_and(Vec::is_empty) {
                    return Ok((vec![], None));
                }
                let abs_path = d.abs_path(root);
                // Read into the thread's buffer: most files read again hold
                // nothing wanted (their filter was wrong), and are dropped.
                let (hits, text) = walk::read_with(&abs_path, |data| {
                    let hits = match listed {
                        Some(l) => l,
                        None => matcher.hits(data, &pending),
                    };
                    let text = (!hits.is_empty() && narrowed.hit(data))
                        .then(|| walk::decode(data.to_vec()));
                    (hits, text)
                })
                .map_err(|err| walk::unreadable(&d.path, &err))?;
                let file = text.map(|t| SourceFile::new(d.path.clone(), abs_path, t));
                Ok((hits, file))
            })
            .collect()
    });
    let mut found = Vec::new();
    let mut errors = Vec::new();
    let mut keep = Vec::with_capacity(dropped.len());
    let mut per_demand: Vec<Vec<String>> = vec![Vec::new(); pending.len()];
    for (d, r) in dropped.drain(..).zip(results) {
        match r {
            Ok((hits, file)) => {
                for i in hits {
                    per_demand[i].push(d.path.clone());
                }
                match file {
                    Some(f) => found.push(f),
                    None => keep.push(d),
                }
            }
            Err(e) => errors.push(e),
        }
    }
    for (d, files) in pending.iter().zip(per_demand) {
        log.insert(crate::cache::demand_key(d), files);
    }
    *dropped = keep;
    (found, errors)
}

/// Finds, in a file's bytes, an occurrence that satisfies one of a set of
/// demands.
pub(crate) struct DemandMatcher<'d> {
    /// The demands, in the order of `keys`.
    demands: Vec<&'d Demand>,
    /// The identifier-set key of each demand (`None`: any set may hold it).
    keys: Vec<Option<Probe>>,
    /// Per demand, keys of which a set must hold one more (see
    /// [`DemandMatcher::typed`]); `None`: no more.
    typed_keys: Vec<Option<Vec<Probe>>>,
    ac: Option<AhoCorasick>,
    /// The demands of each pattern.
    kinds: Vec<Vec<&'d Demand>>,
    /// The names declared with each struct type, where known: a call or
    /// store on a chain counts only through one of them (see [`typed`]).
    typed: Option<&'d TypedNames>,
}

impl<'d> DemandMatcher<'d> {
    pub(crate) fn new(demands: &'d BTreeSet<Demand>) -> DemandMatcher<'d> {
        let mut names: Vec<&str> = demands
            .iter()
            .map(Demand::name)
            .filter(|s| !s.is_empty())
            .collect();
        names.sort_unstable();
        names.dedup();
        let kinds = names
            .iter()
            .map(|n| demands.iter().filter(|d| d.name() == *n).collect())
            .collect();
        let ac = crate::prefilter::literals(&names);
        let keys: Vec<Option<Probe>> = demands
            .iter()
            .map(|d| demand_key(d).map(Probe::of))
            .collect();
        DemandMatcher {
            demands: demands.iter().collect(),
            typed_keys: vec![None; keys.len()],
            keys,
            ac,
            kinds,
            typed: None,
        }
    }

    /// The same matcher, narrowed by what `typed` knows: a call or store
    /// on a chain counts only if a member of the chain is declared with
    /// the demand's struct type somewhere in the tree (or the text names
    /// the type). Without it, every chain counts.
    ///
    /// The sets can tell some of it: a store counts only in a text that
    /// uses `struct s` (a declaration gives a plain name, or an
    /// initializer, that type) or that has a member declared with it (in
    /// a chain); a call likewise, or in a text that names `s` at all (the
    /// analysis's fallback for a chain whose type it cannot tell), which a
    /// set tells only for a name that has its word key.
    pub(crate) fn typed(mut self, typed: &'d TypedNames) -> DemandMatcher<'d> {
        self.typed = Some(typed);
        self.typed_keys = self
            .demands
            .iter()
            .map(|d| {
                let (owner, type_key) = match d {
                    Demand::FieldStore(_, s) => (s, Some(idents::type_key(s.as_bytes()))),
                    Demand::FieldCall(_, s) => (s, idents::key(s.as_bytes(), Form::Word)),
                    _ => return None,
                };
                let names = typed.names(owner)?;
                if names.len() > MAX_MEMBER_PROBES {
                    return None;
                }
                let members = names
                    .iter()
                    .filter_map(|n| idents::key(n.as_bytes(), Form::Member));
                Some(
                    std::iter::once(type_key?)
                        .chain(members)
                        .map(Probe::of)
                        .collect(),
                )
            })
            .collect();
        self
    }

    /// False if a file with these identifiers certainly satisfies none of
    /// the demands (see [`idents`]).
    pub(crate) fn may_hit(&self, set: &IdentSet) -> bool {
        self.keys.iter().zip(&self.typed_keys).any(|(&k, more)| {
            k.map_or(!set.holds_nothing(), |k| set.may_hold_probe(k))
                && more
                    .as_ref()
                    .is_none_or(|m| m.iter().any(|&p| set.may_hold_probe(p)))
        })
    }

    pub(crate) fn hit(&self, t: &[u8]) -> bool {
        let Some(ac) = &self.ac else { return false };
        ac.find_iter(t).any(|m| {
            self.kinds[m.pattern().as_usize()]
                .iter()
                .any(|d| meets(t, m.start(), m.end(), d, self.typed))
        })
    }

    /// True if a part of a file (a body) may satisfy a demand: as
    /// [`DemandMatcher::hit`], except that the struct of a field need not
    /// be named in the part (a parameter's type is outside the body); a
    /// call or store must still be one.
    pub(crate) fn mentioned_in(&self, t: &[u8]) -> bool {
        let Some(ac) = &self.ac else { return false };
        ac.find_iter(t).any(|m| {
            let (s, e) = (m.start(), m.end());
            is_whole_word(t, s, e)
                && self.kinds[m.pattern().as_usize()].iter().any(|d| match d {
                    Demand::Ident(_) => true,
                    Demand::FieldCall(..) | Demand::FieldStore(..) => member_use(t, s, e, d),
                    // Struct definitions inside bodies are not recorded.
                    Demand::StructDef(_) => false,
                })
        })
    }

    /// The indexes (in `order`) of every demand the text satisfies.
    fn hits(&self, t: &[u8], order: &[&Demand]) -> Vec<usize> {
        let Some(ac) = &self.ac else { return vec![] };
        let mut out = BTreeSet::new();
        for m in ac.find_iter(t) {
            for d in &self.kinds[m.pattern().as_usize()] {
                if meets(t, m.start(), m.end(), d, self.typed)
                    && let Some(i) = order.iter().position(|o| o == d)
                {
                    out.insert(i);
                }
            }
        }
        out.into_iter().collect()
    }
}

/// The identifier-set key that every text satisfying `d` holds, if the
/// sets hold every such key (see [`idents::key`]).
fn demand_key(d: &Demand) -> Option<u64> {
    let (name, form) = match d {
        Demand::Ident(s) => (s, Form::Word),
        Demand::FieldCall(s, _) | Demand::FieldStore(s, _) => (s, Form::Member),
        Demand::StructDef(s) => (s, Form::StructTag),
    };
    idents::key(name.as_bytes(), form)
}

/// What the parses of a run leave out (see [`elide`]).
pub(crate) struct Elision<'a> {
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
pub(crate) struct Parsed {
    pub facts: FileFacts,
    pub bytes: u64,
    pub forced: Vec<usize>,
    pub whole: bool,
}

/// The facts of `files[i]` for each `i` in `which`, parsed on `pool` (or
/// taken from the cache). A file given with facts (those of its last
/// parse) is not parsed again: only the bodies it is now made to keep are,
/// each on its own (see [`isolated_file_facts`]).
pub(crate) fn parse_files(
    files: &[SourceFile],
    mut which: Vec<(usize, Option<FileFacts>)>,
    elision: &Elision,
    cache: Option<&Cache>,
    pool: &rayon::ThreadPool,
) -> Vec<(usize, Result<Parsed, String>)> {
    // Largest first, one file per task: a round lasts as long as its
    // slowest thread, and one large file parsed last would be alone.
    which.sort_by_key(|(i, _)| std::cmp::Reverse(files[*i].text.len()));
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
    let text = file.text.as_bytes();
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
    if let Some((facts, whole)) = cache.and_then(|c| c.facts(&file.text, &base_keys, &keys)) {
        return Ok(parsed(facts, whole));
    }
    let run = || {
        let base = match prior {
            Some(facts) => Some(facts),
            None => leaving_out(&file.text, base_out.clone()),
        };
        if let Some(mut facts) = base
            && put_forced(&file.text, &mut facts, &forced)
        {
            facts.clear_read_marks();
            return Some((facts, false));
        }
        leaving_out(&file.text, left_out.clone()).map(|f| (f, true))
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(Some((facts, whole))) => {
            if let Some(c) = cache {
                c.store_facts(&file.text, &base_keys, &keys, &facts, whole);
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
        let facts = facts_leaving_out(text, &left)?;
        let bodies = facts.elided_keys();
        let before = left.len();
        left.retain(|b| b.kind == elide::BlockKind::Macro || bodies.contains(&b.key));
        if left.len() == before {
            return Some(facts);
        }
    }
    facts_leaving_out(text, &[])
}

/// Parses each body of `facts` left out whose key is in `forced` (sorted)
/// on its own, its definition cut out of `text`, and puts it in. False if
/// one does not come out as that body alone (`facts` is then half done).
fn put_forced(text: &str, facts: &mut FileFacts, forced: &[usize]) -> bool {
    let todo: Vec<(usize, crate::facts::Span)> = facts
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
            Some(crate::facts::extract_part(text, &part, start, &tree))
        })
        .collect();
    todo.iter()
        .zip(parts)
        .all(|(&(key, _), part)| part.is_some_and(|p| facts.put_body(key, p)))
}

/// Parses one file and extracts its facts; `None` if the parser gave up.
pub fn file_facts(file: &SourceFile) -> Option<FileFacts> {
    facts_leaving_out(&file.text, &[])
}

/// Parses one file leaving out every body it can; `None` if the parser
/// gave up (for the fuzz targets).
pub fn file_facts_eliding_all(file: &SourceFile) -> Option<FileFacts> {
    let text = file.text.as_bytes();
    let all = elide::blocks(text);
    facts_leaving_out(
        &file.text,
        &elide::elided(text, &all, &KeepWords::new([]), &[]),
    )
}

/// Parses `text` with the `elided` blocks blanked; `None` if the parser
/// gave up.
fn facts_leaving_out(text: &str, elided: &[elide::Block]) -> Option<FileFacts> {
    let mut parsed = parse::blank_annotations(text).into_bytes();
    elide::blank(&mut parsed, elided);
    // Only ASCII bytes were replaced by ASCII spaces.
    let parsed = String::from_utf8(parsed).ok()?;
    // The blanks are skipped, not read (the facts read `parsed` still).
    let tree = parse::parse_c_leaving_out(&parsed, &elide::blanked_spans(elided))?;
    Some(facts::extract(text, &parsed, &tree, elided))
}

/// Does the occurrence of a demanded name at `s..e` satisfy the demand?
/// (`typed`: see [`DemandMatcher::typed`].)
fn meets(t: &[u8], s: usize, e: usize, d: &Demand, typed: Option<&TypedNames>) -> bool {
    if !is_whole_word(t, s, e) {
        return false;
    }
    match d {
        Demand::Ident(_) => true,
        Demand::FieldCall(_, owner) | Demand::FieldStore(_, owner) => {
            // (A member use follows `->` or `.`: the name is not at 0.)
            if !member_use(t, s, e, d) {
                return false;
            }
            let base_end = s - if t[..s].ends_with(b"->") { 2 } else { 1 };
            // On a plain name, or in a designated initializer, the use
            // counts only in a text that names the struct: only a
            // declaration there (`struct s v`, `struct s v = { .f = x }`)
            // could give it that type. (The facts record an initializer
            // only in such a declaration, not nested in another one.)
            if on_plain_name(t, base_end) || designated(t, s) {
                return names_word(t, owner.as_bytes());
            }
            // A chain: one of its members must be declared with the type,
            // unless the analysis falls back on the text naming it (a
            // chain whose type it cannot tell).
            let Some(names) = typed.and_then(|k| k.names(owner)) else {
                return true;
            };
            typed::chain_members(t, base_end)
                .is_none_or(|ms| ms.iter().any(|m| names.contains(bytes_str(m))))
                || names_word(t, owner.as_bytes())
        }
        Demand::StructDef(_) => {
            idents::struct_keyword_before(t, s).is_some() && next_byte(t, e) == Some(b'{')
        }
    }
}

/// For a call or store demand, true if the member name at `s..e` is used
/// as it asks: `->f(` or `.f(`, `->f =` or `.f =` (not `==`).
fn member_use(t: &[u8], s: usize, e: usize, d: &Demand) -> bool {
    after_member_op(t, s)
        && match d {
            Demand::FieldCall(..) => next_byte(t, e) == Some(b'('),
            _ => {
                let at = t[e..]
                    .iter()
                    .position(|b| !b.is_ascii_whitespace())
                    .map(|p| e + p);
                at.is_some_and(|a| t[a] == b'=' && t.get(a + 1) != Some(&b'='))
            }
        }
}

/// The first byte at or after `e` that is no whitespace.
fn next_byte(t: &[u8], e: usize) -> Option<u8> {
    t[e..].iter().copied().find(|b| !b.is_ascii_whitespace())
}

/// True if the expression that ends at `end` is a plain name (`v` in
/// `v->f`), not a chain (`a->v`), a call, a cast, an element or the
/// `.f` of a designated initializer.
fn on_plain_name(t: &[u8], end: usize) -> bool {
    idents::name_ending_at(t, end).is_some_and(|start| !after_member_op(t, start))
}

/// True if the member name at `s` is a designator: `.f` right after `{`
/// or `,` (blanks between, and the backslashes that continue a macro's
/// lines).
fn designated(t: &[u8], s: usize) -> bool {
    if s == 0 || t[s - 1] != b'.' {
        return false;
    }
    let before = typed::skip_blanks_back(t, s - 1);
    before > 0 && matches!(t[before - 1], b'{' | b',')
}

/// An identifier's bytes as text (a name that is not UTF-8 is no name
/// the tables hold).
fn bytes_str(b: &[u8]) -> &str {
    std::str::from_utf8(b).unwrap_or("")
}

/// True if `word` occurs in `t` as a whole identifier.
fn names_word(t: &[u8], word: &[u8]) -> bool {
    !word.is_empty()
        && memchr::memmem::find_iter(t, word).any(|s| is_whole_word(t, s, s + word.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demands_that_hold_a_flow_token_are_not_swept() {
        assert!(!can_be_in_dropped_file(&Demand::FieldStore(
            "mm".into(),
            "s".into()
        )));
        assert!(!can_be_in_dropped_file(&Demand::FieldCall(
            "mmap".into(),
            "s".into()
        )));
        assert!(!can_be_in_dropped_file(&Demand::Ident(
            "mm_struct_of".into()
        )));
        assert!(can_be_in_dropped_file(&Demand::FieldCall(
            "load".into(),
            "s".into()
        )));
        assert!(can_be_in_dropped_file(&Demand::Ident("kq_init".into())));
    }

    #[test]
    fn a_cached_parse_counts_the_bytes_a_fresh_one_does() {
        // `a`'s body is left out; `b`'s is not a function to the parser once
        // blanked, so the parse keeps it after all.
        let text = "int a(void)\n{\n\treturn 1;\n}\n#ifdef X\nSYSCALL_DEFINE0(b)\n{\n\tint y = 1;\n\n\treturn y;\n}\n#endif\n";
        let file = SourceFile::new("a.c".into(), "a.c".into(), text.into());
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path(), dir.path());
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
        let wrong = facts_leaving_out("int b(void) { return 2; }", &[]).unwrap();
        assert!(!facts.put_body(blocks[0].key, wrong));
        assert!(!facts.put_body(blocks[0].key + 1, FileFacts::default()));
        assert_eq!(FileFacts::serialized_without_comments(&facts), before);
    }

    #[test]
    fn a_body_mentions_a_store_or_call_only_in_its_form() {
        let demands: BTreeSet<Demand> = [
            Demand::FieldStore("mm".into(), "s".into()),
            Demand::FieldCall("load".into(), "t".into()),
        ]
        .into();
        let m = DemandMatcher::new(&demands);
        // The struct need not be named in a body; the use must be a store
        // or a call.
        assert!(m.mentioned_in(b"p->mm = x;"));
        assert!(m.mentioned_in(b"{ .mm\n\t= x }"));
        assert!(m.mentioned_in(b"ops->load (a);"));
        assert!(!m.mentioned_in(b"if (p->mm == x) use(q.mm);"));
        assert!(!m.mentioned_in(b"f = ops->load; mm = 1;"));
    }

    #[test]
    fn demands_match_their_syntax() {
        let m = |t: &[u8], s, e, d: &Demand| meets(t, s, e, d, None);
        let t = b"p->mm = x; q.mm== y; struct foo {";
        let store = |owner: &str| Demand::FieldStore("mm".into(), owner.into());
        assert!(m(t, 3, 5, &store("foo")));
        assert!(!m(t, 13, 15, &store("foo")));
        // On a plain name, only in a text that names the struct.
        assert!(!m(t, 3, 5, &store("bar")));
        let chain = b"a->p->mm = x; v[1].mm = y; { .mm = z }";
        assert!(m(chain, 6, 8, &store("bar")));
        assert!(m(chain, 19, 21, &store("bar")));
        // A designator, like a plain name, only where the struct is named.
        assert!(!m(chain, 30, 32, &store("bar")));
        let init = b"struct bar b = {\n\t.ops = o,\n\t.mm = z };";
        assert!(m(init, 30, 32, &store("bar")));
        assert!(!m(init, 30, 32, &store("baz")));
        assert!(designated(init, 19) && designated(init, 30));
        assert!(!designated(chain, 19) && !designated(chain, 6));
        let macro_init = b"#define S(m) struct bar b = {\t\\\n\t.mm = m, \\\n\t.ops = o }";
        let at = |f: &[u8]| memchr::memmem::find(macro_init, f).unwrap() + 1;
        assert!(designated(macro_init, at(b".mm")) && designated(macro_init, at(b".ops")));
        assert!(m(t, 28, 31, &Demand::StructDef("foo".into())));
        assert!(m(t, 0, 1, &Demand::Ident("p".into())));
        // A demanded member name at the very start of a text is no use.
        assert!(!m(b"mm = x;", 0, 2, &store("foo")));
        assert!(!m(b"mm", 0, 2, &store("foo")));
        let c = b"ops->load (a); load(b); x.load = f; struct s;";
        let call = |owner: &str| Demand::FieldCall("load".into(), owner.into());
        assert!(m(c, 5, 9, &call("s")));
        assert!(!m(c, 5, 9, &call("t")));
        assert!(!m(c, 15, 19, &call("s")));
        assert!(!m(c, 26, 30, &call("s")));
        let chain = b"p->ops->load(a);";
        assert!(m(chain, 8, 12, &call("t")));
    }

    #[test]
    fn chains_count_only_through_members_declared_with_the_type() {
        let mut typed = TypedNames::default();
        let ops: typed::Names = ["ops".to_string()].into_iter().collect();
        typed.learn("t", Some(vec![("t.h".into(), ops)]));
        typed.learn("u", Some(vec![]));
        typed.learn("w", None);
        let call = |owner: &str| Demand::FieldCall("load".into(), owner.into());
        let m = |t: &[u8], d: &Demand| {
            let s = memchr::memmem::find(t, b"load").unwrap();
            meets(t, s, s + 4, d, Some(&typed))
        };
        let chain = b"p->ops->load(a);";
        assert!(m(chain, &call("t")));
        // No member of `struct u` is called `ops`, and the text does not
        // name it; nothing is known of `struct w`, nor of `struct v`.
        assert!(!m(chain, &call("u")));
        assert!(m(chain, &call("w")) && m(chain, &call("v")));
        assert!(m(b"p->ops->load(a); struct u *q;", &call("u")));
        // What the reading does not follow counts.
        assert!(m(b"(p->ops)->load(a);", &call("u")));
        assert!(m(b"get(p)->load(a);", &call("u")));
        // Any member of the chain, elements included, may be the typed one.
        let store = |owner: &str| Demand::FieldStore("load".into(), owner.into());
        let deep = b"a->ops[i].x->load = f;";
        assert!(m(deep, &store("t")) && !m(deep, &store("u")));
        // A plain name still needs the text to name the struct.
        assert!(!m(b"ops->load(a);", &call("t")));
        // The sets tell some of it: a member with the type, or the type.
        let demands: BTreeSet<Demand> = [store("t")].into();
        let narrowed = DemandMatcher::new(&demands).typed(&typed);
        let may = |t: &str| narrowed.may_hit(&IdentSet::of(t.as_bytes()));
        assert!(may("a->ops->load = f;") && may("struct t *v; v->load = f;"));
        assert!(!may("a->impl->load = f;") && !may("a->ops->unload = f;"));
        let plain = DemandMatcher::new(&demands);
        assert!(plain.may_hit(&IdentSet::of(b"a->impl->load = f;")));
    }

    #[test]
    fn a_text_of_object_like_macros_meets_no_demand() {
        // `put` is short: it gets no key, and any ordinary set may hold it.
        let demands: BTreeSet<Demand> = [Demand::Ident("put".into())].into();
        let m = DemandMatcher::new(&demands);
        assert!(m.may_hit(&IdentSet::of(b"int x;")));
        let header = IdentSet::of(b"#define PUT_REG put\n#define A 0x1\n");
        assert!(header.holds_nothing());
        assert!(!m.may_hit(&header));
    }
}
