//! Walking the tree: every `.c` and `.h` file, in parallel, read once and
//! passed through the prefilter. Only files that can matter are kept in
//! memory; the rest are dropped as soon as they are scanned.

use crate::cache::{Cache, FileClass, FileMeta};
use crate::idents::IdentSet;
use crate::prefilter::{Hit, Prefilter};
use crate::source::SourceFile;
use ignore::{WalkBuilder, WalkState};
use rustc_hash::FxHashMap as HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Files larger than this are not read (generated register headers reach
/// 24 MB; nothing that borrows an mm is that large).
pub const MAX_FILE_BYTES: u64 = 64 << 20;

/// A file the prefilter kept.
pub struct Candidate {
    /// The file.
    pub file: SourceFile,
    /// What the prefilter saw.
    pub hit: Hit,
    /// The identifiers it holds.
    pub idents: IdentSet,
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
    /// Path on disk.
    pub abs_path: std::path::PathBuf,
    /// The identifiers it holds, if it was read in this run (new or
    /// changed since the cache's run, or no cache); cached sweep results
    /// say nothing about such a file.
    pub idents: Option<IdentSet>,
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
    pub classes: HashMap<String, (FileMeta, FileClass)>,
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

/// Walks `root` with `threads` threads and keeps what the prefilter passes.
/// `progress` is told the number of files seen, now and then.
pub fn walk(
    root: &Path,
    threads: usize,
    cache: Option<&Cache>,
    progress: &(dyn Fn(u64) + Sync),
) -> WalkOutput {
    let prefilter = Prefilter::new();
    let kept = Mutex::new(Vec::new());
    let dropped = Mutex::new(Vec::new());
    let skipped = Mutex::new(Vec::new());
    let warnings = Mutex::new(Vec::new());
    let classes = Mutex::new(HashMap::default());
    let walked = AtomicU64::new(0);
    let bytes = AtomicU64::new(0);
    // A file the prefilter drops (now, or in the cache's run).
    let drop_file = |name: String, meta: FileMeta, path: &Path, idents: Option<IdentSet>| {
        classes
            .lock()
            .unwrap()
            .insert(name.clone(), (meta, FileClass::Dropped));
        dropped.lock().unwrap().push(Dropped {
            path: name,
            abs_path: path.to_path_buf(),
            idents,
        });
    };
    let rel = |p: &Path| {
        p.strip_prefix(root)
            .unwrap_or(p)
            .to_string_lossy()
            .replace('\\', "/")
    };
    WalkBuilder::new(root)
        .standard_filters(false)
        .hidden(true)
        .follow_links(false)
        .threads(threads)
        .build_parallel()
        .run(|| {
            Box::new(|entry| {
                let entry = match entry {
                    Ok(e) => e,
                    Err(err) => {
                        let file = err_path(&err).map(|p| rel(&p)).unwrap_or_default();
                        skipped.lock().unwrap().push(Skipped {
                            file,
                            reason: err.to_string(),
                        });
                        return WalkState::Continue;
                    }
                };
                let path = entry.path();
                if !is_c_source(path) {
                    return WalkState::Continue;
                }
                let kind = entry.file_type();
                if !kind.is_some_and(|t| t.is_file()) {
                    // A directory named `x.c` is walked into; anything else
                    // with a C name is said, not read (a FIFO would block).
                    let reason = match kind {
                        Some(t) if t.is_dir() => return WalkState::Continue,
                        Some(t) if t.is_symlink() => "symbolic link, not followed",
                        _ => "not a regular file (device, FIFO or socket)",
                    };
                    skipped.lock().unwrap().push(Skipped {
                        file: rel(path),
                        reason: reason.into(),
                    });
                    return WalkState::Continue;
                }
                let n = walked.fetch_add(1, Ordering::Relaxed) + 1;
                if n.is_multiple_of(PROGRESS_EVERY) {
                    progress(n);
                }
                let meta = match entry.metadata() {
                    Ok(m) => FileMeta::of(&m),
                    Err(err) => {
                        skipped.lock().unwrap().push(Skipped {
                            file: rel(path),
                            reason: err.to_string(),
                        });
                        return WalkState::Continue;
                    }
                };
                if meta.size > MAX_FILE_BYTES {
                    skipped.lock().unwrap().push(Skipped {
                        file: rel(path),
                        reason: format!("larger than {} MiB", MAX_FILE_BYTES >> 20),
                    });
                    return WalkState::Continue;
                }
                bytes.fetch_add(meta.size, Ordering::Relaxed);
                let name = rel(path);
                // Unchanged since the cache's run and dropped then: not read.
                if let Some(FileClass::Dropped) = cache.and_then(|c| c.class(&name, &meta)) {
                    drop_file(name, meta, path, None);
                    return WalkState::Continue;
                }
                let data = match std::fs::read(path) {
                    Ok(d) => d,
                    Err(err) => {
                        skipped.lock().unwrap().push(Skipped {
                            file: name,
                            reason: err.to_string(),
                        });
                        return WalkState::Continue;
                    }
                };
                if memchr::memchr(0, &data).is_some() {
                    skipped.lock().unwrap().push(Skipped {
                        file: name,
                        reason: "binary (holds NUL bytes), not C source".into(),
                    });
                    return WalkState::Continue;
                }
                // A kept file whose identity is unchanged keeps its verdict.
                let cached_hit = match cache.and_then(|c| c.class(&name, &meta)) {
                    Some(FileClass::Candidate { borrow }) => Some(Hit { borrow }),
                    _ => None,
                };
                let idents = IdentSet::of(&data);
                if let Some(hit) = cached_hit.or_else(|| prefilter.check(&data)) {
                    if std::str::from_utf8(&data).is_err() {
                        warnings.lock().unwrap().push(Skipped {
                            file: name.clone(),
                            reason: "not UTF-8: invalid bytes read as `?`".into(),
                        });
                    }
                    classes.lock().unwrap().insert(
                        name.clone(),
                        (meta, FileClass::Candidate { borrow: hit.borrow }),
                    );
                    let file = SourceFile::new(name, path.to_path_buf(), decode(data));
                    kept.lock().unwrap().push(Candidate { file, hit, idents });
                } else {
                    drop_file(name, meta, path, Some(idents));
                }
                WalkState::Continue
            })
        });
    let mut candidates = kept.into_inner().unwrap();
    candidates.sort_by(|a, b| a.file.path.cmp(&b.file.path));
    let mut dropped = dropped.into_inner().unwrap();
    dropped.sort_by(|a, b| a.path.cmp(&b.path));
    let mut skipped = skipped.into_inner().unwrap();
    skipped.sort();
    let mut warnings = warnings.into_inner().unwrap();
    warnings.sort();
    WalkOutput {
        warnings,
        classes: classes.into_inner().unwrap(),
        candidates,
        dropped,
        skipped,
        files_walked: walked.into_inner(),
        bytes_scanned: bytes.into_inner(),
    }
}

fn err_path(err: &ignore::Error) -> Option<std::path::PathBuf> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            err_path(err)
        }
        ignore::Error::Loop { child, .. } => Some(child.clone()),
        _ => None,
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
        let out = walk(dir.path(), 2, None, &|_| {});
        assert_eq!(out.files_walked, 2);
        assert_eq!(out.candidates.len(), 1);
        assert_eq!(out.candidates[0].file.path, "a.c");
        assert!(out.candidates[0].hit.borrow);
        assert_eq!(out.dropped.len(), 1);
        assert_eq!(out.dropped[0].path, "b.c");
    }
}
