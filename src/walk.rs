//! Walking the tree: every `.c` and `.h` file, in parallel, read once and
//! passed through the prefilter. Only files that can matter are kept in
//! memory; the rest are dropped as soon as they are scanned.

use crate::cache::{Cache, FileClass, FileMeta, path_key};
use crate::idents::IdentSet;
use crate::prefilter::{Hit, Prefilter};
use crate::source::SourceFile;
use rustc_hash::FxHashMap as HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Files larger than this are not read (generated register headers reach
/// 24 MB; nothing that borrows an mm is that large).
pub const MAX_FILE_BYTES: u64 = 64 << 20;

/// A file the prefilter kept.
pub struct Candidate {
    /// Path relative to the root.
    pub path: String,
    /// Path on disk.
    pub abs_path: std::path::PathBuf,
    /// What the prefilter saw.
    pub hit: Hit,
    /// Its text and identifiers; `None` if the file is unchanged since the
    /// cache's run and was not read (see [`Candidate::load`]).
    pub loaded: Option<Loaded>,
}

/// A kept file's text and identifiers.
pub struct Loaded {
    /// The file.
    pub file: SourceFile,
    /// The identifiers it holds.
    pub idents: IdentSet,
}

impl Loaded {
    /// The text and identifiers of a file read as `data`.
    fn of(path: String, abs_path: std::path::PathBuf, data: Vec<u8>) -> Loaded {
        let idents = IdentSet::of(&data);
        let file = SourceFile::new(path, abs_path, decode(data));
        Loaded { file, idents }
    }
}

impl Candidate {
    /// Reads the file, if the walk did not.
    pub fn load(&mut self) -> Result<&Loaded, Skipped> {
        if self.loaded.is_none() {
            let data = std::fs::read(&self.abs_path).map_err(|err| Skipped {
                file: self.path.clone(),
                reason: format!("unreadable on a second read: {err}"),
            })?;
            self.loaded = Some(Loaded::of(self.path.clone(), self.abs_path.clone(), data));
        }
        Ok(self.loaded.as_ref().expect("loaded above"))
    }
}

/// A file that could not be audited, and why.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Skipped {
    /// Path relative to the root.
    pub file: String,
    /// Why it was skipped.
    pub reason: String,
}

/// A file the prefilter dropped: read again only if the analysis asks for
/// an identifier that it may hold (see `audit::sweep`).
#[derive(Clone, Debug)]
pub struct Dropped {
    /// Path relative to the root.
    pub path: String,
    /// The identifiers it holds, if it was read in this run (new or
    /// changed since the cache's run, or no cache); cached sweep results
    /// say nothing about such a file.
    pub idents: Option<IdentSet>,
}

impl Dropped {
    /// Its path on disk.
    pub fn abs_path(&self, root: &Path) -> std::path::PathBuf {
        root.join(&self.path)
    }
}

/// What the walk produced.
#[derive(Default)]
pub struct WalkOutput {
    /// The kept files, sorted by path.
    pub candidates: Vec<Candidate>,
    /// The `.c`/`.h` files the prefilter dropped, sorted by path.
    pub dropped: Vec<Dropped>,
    /// Files that could not be read.
    pub skipped: Vec<Skipped>,
    /// Files read, but not as they are (not UTF-8).
    pub warnings: Vec<Skipped>,
    /// Every walked file's identity and prefilter verdict (for the cache).
    pub classes: HashMap<u64, (FileMeta, FileClass)>,
    /// `.c`/`.h` files seen.
    pub files_walked: u64,
    /// Bytes scanned by the prefilter.
    pub bytes_scanned: u64,
}

fn is_c_source(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("c" | "h"))
}

/// Decodes bytes as UTF-8, replacing each invalid byte by `?`, so that byte
/// offsets stay those of the file on disk.
pub fn decode(bytes: Vec<u8>) -> String {
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            let mut bytes = e.into_bytes();
            let mut i = 0;
            while i < bytes.len() {
                match std::str::from_utf8(&bytes[i..]) {
                    Ok(_) => break,
                    Err(err) => {
                        i += err.valid_up_to();
                        let bad = err.error_len().unwrap_or(bytes.len() - i);
                        for b in &mut bytes[i..i + bad] {
                            *b = b'?';
                        }
                        i += bad;
                    }
                }
            }
            String::from_utf8(bytes).unwrap_or_default()
        }
    }
}

/// How often (in files) the walk reports progress.
const PROGRESS_EVERY: u64 = 2048;

/// Walks `root` on `pool` and keeps what the prefilter passes. `progress`
/// is told the number of files seen, now and then.
///
/// Directories are read with `getdents` and files looked at with `statx`
/// relative to their directory, one task per directory (and per large
/// file): on a warm re-run, where almost nothing is read, the walk is
/// mostly these two calls. Hidden entries are skipped and links are never
/// followed.
pub fn walk(
    root: &Path,
    pool: &rayon::ThreadPool,
    cache: Option<&Cache>,
    progress: &(dyn Fn(u64) + Sync),
) -> WalkOutput {
    let w = Walker {
        cache,
        progress,
        prefilter: Prefilter::new(),
        out: Mutex::new(WalkOutput::default()),
        walked: AtomicU64::new(0),
        bytes: AtomicU64::new(0),
    };
    pool.scope(|s| w.visit_dir(s, root.to_path_buf(), String::new()));
    let mut out = w.out.into_inner().unwrap();
    out.candidates.sort_by(|a, b| a.path.cmp(&b.path));
    out.dropped.sort_by(|a, b| a.path.cmp(&b.path));
    out.skipped.sort();
    out.warnings.sort();
    out.files_walked = w.walked.into_inner();
    out.bytes_scanned = w.bytes.into_inner();
    out
}

/// A regular file the walk looked at: its relative path, the path's
/// [`path_key`], and its identity.
struct Seen {
    name: String,
    key: u64,
    meta: FileMeta,
}

/// Files at least this large get a task of their own.
const OWN_TASK_BYTES: u64 = 256 << 10;

struct Walker<'a> {
    cache: Option<&'a Cache>,
    progress: &'a (dyn Fn(u64) + Sync),
    prefilter: Prefilter,
    out: Mutex<WalkOutput>,
    walked: AtomicU64,
    bytes: AtomicU64,
}

impl<'a> Walker<'a> {
    fn skip(&self, file: String, reason: String) {
        self.out
            .lock()
            .unwrap()
            .skipped
            .push(Skipped { file, reason });
    }

    /// `dir` on disk is `rel` under the root (`""` for the root).
    fn visit_dir<'s>(&'s self, s: &rayon::Scope<'s>, dir: std::path::PathBuf, rel: String) {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(err) => {
                return self.skip(rel, format!("cannot read the directory: {err}"));
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(e) => e,
                Err(err) => {
                    self.skip(rel.clone(), format!("cannot read the directory: {err}"));
                    break;
                }
            };
            let name = entry.file_name();
            if name.as_encoded_bytes().first() == Some(&b'.') {
                continue;
            }
            let path = dir.join(&name);
            let name = name.to_string_lossy();
            let rel_path = if rel.is_empty() {
                name.into_owned()
            } else {
                format!("{rel}/{name}")
            };
            let kind = entry.file_type();
            if kind.as_ref().is_ok_and(|t| t.is_dir()) {
                s.spawn(move |s| self.visit_dir(s, path, rel_path));
                continue;
            }
            if !is_c_source(&path) {
                continue;
            }
            let kind = match kind {
                Ok(k) => k,
                Err(err) => {
                    self.skip(rel_path.clone(), err.to_string());
                    continue;
                }
            };
            if !kind.is_file() {
                // Anything else with a C name is said, not read (a FIFO
                // would block).
                let reason = if kind.is_symlink() {
                    "symbolic link, not followed"
                } else {
                    "not a regular file (device, FIFO or socket)"
                };
                self.skip(rel_path.clone(), reason.into());
                continue;
            }
            let n = self.walked.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_multiple_of(PROGRESS_EVERY) {
                (self.progress)(n);
            }
            // statx relative to the directory: no path walk.
            let meta = match entry.metadata() {
                Ok(m) => FileMeta::of(&m),
                Err(err) => {
                    self.skip(rel_path.clone(), err.to_string());
                    continue;
                }
            };
            if meta.size >= OWN_TASK_BYTES {
                s.spawn(move |_| self.visit_file(path, rel_path, meta));
            } else {
                self.visit_file(path, rel_path, meta);
            }
        }
    }

    fn visit_file(&self, path: std::path::PathBuf, name: String, meta: FileMeta) {
        if meta.size > MAX_FILE_BYTES {
            let reason = format!("larger than {} MiB", MAX_FILE_BYTES >> 20);
            return self.skip(name, reason);
        }
        let key = path_key(&name);
        self.bytes.fetch_add(meta.size, Ordering::Relaxed);
        // Unchanged since the cache's run: not read now. A kept one is read
        // later if the run cannot be replayed.
        let seen = Seen { name, key, meta };
        match self.cache.and_then(|c| c.class(key, &meta)) {
            Some(FileClass::Dropped) => return self.drop_file(seen, None),
            Some(FileClass::Candidate { borrow, not_utf8 }) => {
                return self.keep_file(seen, Hit { borrow }, not_utf8, path, None);
            }
            None => {}
        }
        let data = match std::fs::read(&path) {
            Ok(d) => d,
            Err(err) => return self.skip(seen.name, err.to_string()),
        };
        if memchr::memchr(0, &data).is_some() {
            return self.skip(seen.name, "binary (holds NUL bytes), not C source".into());
        }
        let Some(hit) = self.prefilter.check(&data) else {
            return self.drop_file(seen, Some(IdentSet::of(&data)));
        };
        let not_utf8 = std::str::from_utf8(&data).is_err();
        let loaded = Loaded::of(seen.name.clone(), path.clone(), data);
        self.keep_file(seen, hit, not_utf8, path, Some(loaded));
    }

    /// A file the prefilter keeps (now, or in the cache's run: then it is
    /// not `loaded` yet).
    fn keep_file(
        &self,
        seen: Seen,
        hit: Hit,
        not_utf8: bool,
        path: std::path::PathBuf,
        loaded: Option<Loaded>,
    ) {
        let mut out = self.out.lock().unwrap();
        if not_utf8 {
            out.warnings.push(Skipped {
                file: seen.name.clone(),
                reason: "not UTF-8: invalid bytes read as `?`".into(),
            });
        }
        let class = FileClass::Candidate {
            borrow: hit.borrow,
            not_utf8,
        };
        out.classes.insert(seen.key, (seen.meta, class));
        out.candidates.push(Candidate {
            path: seen.name,
            abs_path: path,
            hit,
            loaded,
        });
    }

    /// A file the prefilter drops (now, or in the cache's run).
    fn drop_file(&self, seen: Seen, idents: Option<IdentSet>) {
        let mut out = self.out.lock().unwrap();
        out.classes
            .insert(seen.key, (seen.meta, FileClass::Dropped));
        out.dropped.push(Dropped {
            path: seen.name,
            idents,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_keeps_offsets() {
        let s = decode(b"ab\xffcd\xe2\x82".to_vec());
        assert_eq!(s, "ab?cd??");
    }

    #[test]
    fn walk_keeps_only_flow_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("a.c"),
            "void f(void) { kthread_use_mm(m); }",
        )
        .unwrap();
        std::fs::write(dir.path().join("b.c"), "int x;").unwrap();
        std::fs::write(dir.path().join("c.txt"), "kthread_use_mm").unwrap();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let out = walk(dir.path(), &pool, None, &|_| {});
        assert_eq!(out.files_walked, 2);
        assert_eq!(out.candidates.len(), 1);
        assert_eq!(out.candidates[0].path, "a.c");
        assert!(out.candidates[0].hit.borrow);
        assert_eq!(out.dropped.len(), 1);
        assert_eq!(out.dropped[0].path, "b.c");
    }
}
