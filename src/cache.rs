//! The incremental cache: what a re-run can take from the last run instead
//! of reading and parsing again. It lives outside the audited tree (the
//! user's cache directory, or `--cache-dir`) and holds three things:
//!
//! - per tree, the prefilter's verdict on every file, keyed by its metadata
//!   (size, modification time, inode): an unchanged dropped file is not
//!   read again;
//! - per tree, which dropped files each sweep demand matched: a re-run
//!   re-reads only the dropped files that changed;
//! - per tree, the course of the last run ([`LastRun`]): which files the
//!   rounds parsed and swept in, what they asked for, and a hash of the
//!   code of each parsed file. A re-run whose changes cannot alter that
//!   course skips the rounds (`audit::replay`);
//! - shared by all trees, each parsed file's facts, keyed by a hash of its
//!   content (and of this mmaudit's version).
//!
//! Cached and uncached runs give the same report: every entry is either
//! proven current (same metadata, same content hash) or not used.

use crate::api::ApiTable;
use crate::demand::Demand;
use crate::facts::FileFacts;
use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Changes whenever facts or cached tables change shape, meaning or
/// encoding.
const FORMAT: &str = concat!("mmaudit-cache-2-", env!("CARGO_PKG_VERSION"));

/// What the cached data depends on: the format and the running program
/// itself (a hash of its executable), so that any change to mmaudit's code,
/// released or not, starts afresh instead of trusting stale facts.
fn build_key() -> &'static str {
    static KEY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    KEY.get_or_init(|| {
        let exe = std::env::current_exe()
            .and_then(std::fs::read)
            .map(|b| xxhash_rust::xxh3::xxh3_64(&b))
            .unwrap_or_default();
        format!("{FORMAT}-{exe:016x}")
    })
}

/// A file's identity on disk, short of reading it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileMeta {
    /// Length in bytes.
    pub size: u64,
    /// Modification time, nanoseconds since the epoch.
    pub mtime_ns: i128,
    /// Inode number (a replaced file gets a new one).
    pub ino: u64,
}

impl FileMeta {
    /// The identity of a file from its metadata.
    pub fn of(st: &rustix::fs::Stat) -> FileMeta {
        FileMeta {
            size: st.st_size as u64,
            mtime_ns: i128::from(st.st_mtime) * 1_000_000_000 + i128::from(st.st_mtime_nsec),
            ino: st.st_ino,
        }
    }
}

/// What the prefilter said about a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FileClass {
    /// Kept (it mentions an mm); `borrow` if it names a borrow API,
    /// `not_utf8` if it was decoded lossily.
    Candidate { borrow: bool, not_utf8: bool },
    /// Dropped.
    Dropped,
}

#[derive(Default, Serialize, Deserialize)]
struct TreeTables {
    format: String,
    /// Path (its [`path_key`]) -> identity and prefilter verdict.
    walk: HashMap<u64, (FileMeta, FileClass)>,
    /// Demand (as text) -> the dropped files it matched, sorted; and
    /// struct type ([`members_key`]) -> the files that declare members
    /// with it.
    sweeps: HashMap<String, Vec<String>>,
    /// The course of the last run.
    last_run: Option<LastRun>,
}

/// The course of a run: enough to tell whether a re-run would take the
/// same course, and to take it without the rounds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LastRun {
    /// Every file in the index, in index order: the kept files by path,
    /// then the ones sweeps brought in, in the order they came.
    pub files: Vec<RunFile>,
    /// Every demand any round made.
    pub asked: Vec<Demand>,
    /// The run's rounds, sweeps and swept-in files (for the stats).
    pub rounds: u32,
    pub sweeps: u32,
    pub files_swept: u64,
    /// The struct types whose members the rounds looked for, to narrow
    /// call and store demands (see [`crate::typed`]), and the files that
    /// declare such a member: a change to one of those files, or a
    /// changed file that uses one of those types, may change which files
    /// such a demand brings in.
    pub typed: Vec<String>,
    pub typed_in: Vec<String>,
}

/// One file of a [`LastRun`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunFile {
    /// Path relative to the root.
    pub path: String,
    /// The round that parsed it; 0 if none did.
    pub round: u32,
    /// Brought in by a sweep (the prefilter dropped it).
    pub swept: bool,
    /// For a parsed file, its [`code_hash`].
    pub code: u128,
    /// For a parsed file, the bodies its parse kept whatever they mention
    /// (see [`crate::elide`]).
    pub forced: Vec<usize>,
}

/// A hash of what the course of a run can depend on in a parsed file: its
/// facts other than comments, and its text with comments blanked and
/// trailing blanks cut. Two texts with the same code hash differ only in
/// comments and in blanks that move no code (a comment added at the end,
/// a comment reworded); the rounds read neither (`Tracer` skips comments
/// when it looks for a struct's name), so they take the same course.
pub fn code_hash(text: &str, facts: &FileFacts) -> u128 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(&facts.serialized_without_comments());
    let mut code = text.as_bytes().to_vec();
    for &(s, e) in &facts.comments {
        if let Some(c) = code.get_mut(s..e.min(text.len())) {
            c.fill(b' ');
        }
    }
    let end = code
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |p| p + 1);
    h.update(&code[..end]);
    h.digest128()
}

/// The cache for one audited tree.
pub struct Cache {
    tree_file: PathBuf,
    /// What the tables depend on (see [`tree_format`]).
    format: String,
    facts_dir: PathBuf,
    old: TreeTables,
}

/// What the per-tree tables depend on: the build, and the API table and
/// the families selected (the prefilter's verdicts change with `--api`
/// and `--select`). Facts do not depend on it.
fn tree_format(api: &ApiTable) -> String {
    let rows: Vec<String> = (api.all())
        .map(|r| {
            format!(
                "{}:{:?}:{}:{}:{:?}",
                r.name, r.role, r.arity, r.mm_arg, r.pair
            )
        })
        .collect();
    let key = format!("{};{:?}", rows.join(";"), api.selected());
    let h = xxhash_rust::xxh3::xxh3_64(key.as_bytes());
    format!("{}-api{h:016x}", build_key())
}

/// A relative path as a key of the walk table. Two paths with one key
/// (a 64-bit hash) would also need the same size, time and inode to be
/// mistaken for each other.
pub fn path_key(path: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(path.as_bytes())
}

/// The key of the files that declare members with the type `struct tag`
/// (see [`crate::typed`]), beside the demands' in the same table.
pub fn members_key(tag: &str) -> String {
    format!("MembersOf({tag:?})")
}

impl Cache {
    /// Opens (or starts) the cache for `root` under `dir`. A missing,
    /// unreadable or outdated cache is an empty one.
    pub fn open(dir: &Path, root: &Path, api: &ApiTable) -> Cache {
        let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        let key = xxhash_rust::xxh3::xxh3_64(root.to_string_lossy().as_bytes());
        let tree_file = dir.join("trees").join(format!("{key:016x}.bin"));
        let format = tree_format(api);
        let old = std::fs::read(&tree_file)
            .ok()
            .and_then(|b| decode::<TreeTables>(&b))
            .filter(|t| t.format == format)
            .unwrap_or_default();
        Cache {
            tree_file,
            format,
            facts_dir: dir.join("facts"),
            old,
        }
    }

    /// Whether the last run walked the file at `path` (a [`path_key`]).
    pub fn knows(&self, path: u64) -> bool {
        self.old.walk.contains_key(&path)
    }

    /// The prefilter's verdict from the last run, if the file is unchanged.
    pub fn class(&self, path: u64, meta: &FileMeta) -> Option<FileClass> {
        self.old
            .walk
            .get(&path)
            .filter(|(m, _)| m == meta)
            .map(|(_, c)| *c)
    }

    /// The course of the last run, if there was one.
    pub fn last_run(&self) -> Option<&LastRun> {
        self.old.last_run.as_ref()
    }

    /// Per key (a [`demand_key`] or [`members_key`]), the files listed
    /// under it last time; `None` unless every key has a list.
    pub fn lists(
        &self,
        keys: impl IntoIterator<Item = String>,
    ) -> Option<Vec<std::collections::HashSet<&str>>> {
        keys.into_iter()
            .map(|k| {
                let files = self.old.sweeps.get(&k)?;
                Some(files.iter().map(String::as_str).collect())
            })
            .collect()
    }

    /// Where the facts of a file with this content are, parsed leaving out
    /// the blocks `base` (keys), then given back the bodies not in `elided`
    /// (see `audit::isolated_file_facts`).
    fn facts_path(&self, text: &str, base: &[usize], elided: &[usize]) -> PathBuf {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        h.update(build_key().as_bytes());
        h.update(text.as_bytes());
        for k in base.iter().chain([&usize::MAX]).chain(elided) {
            h.update(&(*k as u64).to_le_bytes());
        }
        self.facts_dir.join(format!("{:032x}.bin", h.digest128()))
    }

    /// The facts of a file with this content, if cached, and whether they
    /// came from a parse of the whole file.
    pub fn facts(&self, text: &str, base: &[usize], elided: &[usize]) -> Option<(FileFacts, bool)> {
        let bytes = std::fs::read(self.facts_path(text, base, elided)).ok()?;
        decode(&bytes)
    }

    /// Stores the facts of a file with this content (best effort).
    pub fn store_facts(
        &self,
        text: &str,
        base: &[usize],
        elided: &[usize],
        facts: &FileFacts,
        whole: bool,
    ) {
        let path = self.facts_path(text, base, elided);
        if path.exists() {
            return;
        }
        if let Some(bytes) = encode(&(facts, whole)) {
            let _ = store(&path, &bytes);
        }
    }

    /// Saves this run's tables, and its course (`None`: the last run's,
    /// replayed) (best effort: a cache that cannot be written
    /// only makes the next run slower). The lists of the last run that
    /// this one did not make again are kept where `still_true` says they
    /// hold for the tree as it is now.
    pub fn save(
        &self,
        walk: HashMap<u64, (FileMeta, FileClass)>,
        sweeps: std::collections::HashMap<String, Vec<String>>,
        last_run: Option<LastRun>,
        still_true: &dyn Fn(&str) -> bool,
    ) {
        let mut sweeps: HashMap<String, Vec<String>> = sweeps.into_iter().collect();
        for (k, v) in &self.old.sweeps {
            if still_true(k) {
                sweeps.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        let tables = TreeTables {
            format: self.format.clone(),
            walk,
            sweeps,
            last_run: last_run.or_else(|| self.old.last_run.clone()),
        };
        if tables.walk == self.old.walk
            && tables.sweeps == self.old.sweeps
            && tables.last_run == self.old.last_run
        {
            return;
        }
        if let Some(bytes) = encode(&tables) {
            let _ = store(&self.tree_file, &bytes);
        }
    }
}

/// The cache's encoding of `value` (postcard: compact, and maintained).
fn encode<T: Serialize>(value: &T) -> Option<Vec<u8>> {
    postcard::to_stdvec(value).ok()
}

/// A value from bytes that [`encode`] wrote; `None` if they are not one.
fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    postcard::from_bytes(bytes).ok()
}

/// Writes a cache file whole or not at all (best effort: the caller drops
/// the error): into a new temporary file in the same directory (a unique
/// name: threads and processes may store the same file), renamed into
/// place; the temporary file is removed if anything fails. The file gets
/// the mode a plain create gives (0666 less the umask).
fn store(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new()
        .permissions(std::fs::Permissions::from_mode(0o666))
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.persist(path).map(drop).map_err(|e| e.error)
}

/// The default cache directory: `$XDG_CACHE_HOME/mmaudit`, else
/// `$HOME/.cache/mmaudit`.
pub fn default_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("mmaudit"))
}
