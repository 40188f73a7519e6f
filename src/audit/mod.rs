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
//!
//! The jobs live apart: [`rounds`] runs the loop, [`demands`] decides which
//! texts satisfy a demand, [`typed`] learns the member names that narrow
//! call and store demands, [`sweep`] searches the dropped files,
//! [`parsing`] parses with bodies left out, and [`replay`] re-runs a
//! cached course without the rounds.

mod demands;
mod parsing;
mod replay;
mod rounds;
mod sweep;
mod typed;

use crate::api::ApiTable;
use crate::cache::{Cache, members_key};
use crate::elide::KeepWords;
use crate::idents::IdentSet;
use crate::index::Index;
use crate::report::{Report, Site, Stats};
use crate::walk::{self, WalkOutput};
use anyhow::{Context as _, bail};
use std::collections::{HashMap, HashSet};
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
    /// Parse every body, none left out (see [`crate::elide`]): slower, and
    /// the same report; for tests that prove it.
    pub keep_all_bodies: bool,
    /// The kernel APIs the audit knows: the built-in table, plus what a
    /// `--api` file adds.
    pub api: ApiTable,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("jobs", &self.jobs)
            .field("progress", &self.progress.is_some())
            .field("cache_dir", &self.cache_dir)
            .field("keep_all_bodies", &self.keep_all_bodies)
            .field("api", &self.api)
            .finish()
    }
}

/// What every stage of one audit shares.
struct Context<'a> {
    root: &'a Path,
    pool: &'a rayon::ThreadPool,
    cache: Option<&'a Cache>,
    /// What the parses keep whatever else they leave out.
    keep: &'a KeepWords,
    api: &'a ApiTable,
    progress: &'a (dyn Fn(Progress) + Sync),
}

/// Per demand or type (as the cache keys them), the dropped or declaring
/// files found for it this run, for the cache.
type Lists = HashMap<String, Vec<String>>;

/// What the rounds know of one file of the index.
#[derive(Default)]
struct FileState {
    /// Its identifiers (`None`: swept in, parsed at once).
    set: Option<IdentSet>,
    /// The round that first parsed it (0: none yet), for the cache.
    round: u32,
    /// The bodies its parses keep whatever they mention (sorted keys).
    forced: Vec<usize>,
    /// The bytes its last parse read as code.
    code_bytes: u64,
    /// Whether it was parsed again for bodies it had left out.
    reparsed: bool,
    /// Whether its facts come from a parse of the whole file (see
    /// [`parsing::Parsed`]).
    whole: bool,
}

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
    let progress = |p: Progress| {
        if let Some(f) = &opts.progress {
            f(p);
        }
    };
    let cache = opts
        .cache_dir
        .as_deref()
        .map(|d| Cache::open(d, root, &opts.api));
    let keep = if opts.keep_all_bodies {
        KeepWords::everything()
    } else {
        KeepWords::apis(&opts.api)
    };
    let ctx = Context {
        root,
        pool: &pool,
        cache: cache.as_ref(),
        keep: &keep,
        api: &opts.api,
        progress: &progress,
    };
    let mut walked = walk::walk(root, &pool, ctx.cache, &opts.api, &|files| {
        progress(Progress::Walking { files })
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
    let (ix, sites, mut stats) = match try_replay(&ctx, &mut walked, &mut stats) {
        Some((ix, sites)) => {
            drop_later((walked.candidates, walked.dropped));
            (ix, sites, stats)
        }
        None => rounds::Rounds::run(&ctx, walked, stats),
    };
    drop_later(cache);
    let files = finish_files(ix);
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
}

/// The run the cache recorded, for the tree as it is now, if nothing that
/// changed since can alter its course (see [`replay`]): its index and
/// sites, with `stats` filled in. `None`: the rounds must run.
fn try_replay(
    ctx: &Context,
    walked: &mut WalkOutput,
    stats: &mut Stats,
) -> Option<(Index, Vec<Site>)> {
    let c = ctx.cache?;
    let run = c.last_run()?;
    let r = replay::replay(ctx, walked, run)?;
    stats.replayed = true;
    stats.rounds = run.rounds;
    stats.sweeps = run.sweeps;
    stats.files_swept = run.files_swept;
    stats.files_parsed = r.files_parsed;
    stats.bytes_parsed = r.bytes_parsed;
    stats.skipped.extend(r.skipped);
    // The changed files satisfy none of the run's demands and use none of
    // its types: those lists still hold, whatever dropped file changed.
    let held: HashSet<String> = (run.asked.iter().map(|d| d.cache_key()))
        .chain(run.typed.iter().map(|t| members_key(t)))
        .collect();
    let dropped_changed = walked.dropped_changed();
    let classes = std::mem::take(&mut walked.classes);
    c.save(classes, Lists::new(), None, &|k| {
        !dropped_changed || held.contains(k)
    });
    Some((r.ix, r.sites))
}

/// The index's files, for the report; the rest of the index is freed on
/// another thread.
fn finish_files(mut ix: Index) -> Vec<crate::source::SourceFile> {
    let files = ix.take_files();
    drop_later(ix);
    files
}

/// Frees `x` on another thread. A run ends holding some hundred thousand
/// small allocations (paths, identifier sets, the cache's tables) that
/// take tens of milliseconds to free, and nothing needs to wait for that.
pub fn drop_later<T: Send + 'static>(x: T) {
    let _ = std::thread::Builder::new().spawn(move || drop(x));
}
