//! Walking the tree: every `.c` and `.h` file, in parallel, read once and
//! passed through the prefilter. Only files that can matter are kept in
//! memory; the rest are dropped as soon as they are scanned.

use crate::api::ApiTable;
use crate::cache::{Cache, FileClass, FileMeta, path_key};
use crate::idents::{DefinesOnlyPieces, IdentSet};
use crate::prefilter::{Hit, Prefilter};
use crate::source::{Skipped, SourceFile};
use rustc_hash::FxHashMap as HashMap;
use rustix::fd::BorrowedFd;
use rustix::fs::{AtFlags, Dir, FileType, Mode, OFlags, fstat, open, openat, statat};
use std::cell::RefCell;
use std::ffi::{CStr, OsStr};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
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
    pub abs_path: PathBuf,
    /// What the prefilter saw.
    pub hit: Hit,
    /// The identifiers it holds; `None` if the file is unchanged since the
    /// cache's run and was not read (see [`Candidate::read_idents`]).
    pub idents: Option<IdentSet>,
    /// Its text, kept only for a borrowing file (round one parses those):
    /// any other is read again if the analysis asks for it, so that the
    /// run does not hold the text of thousands of files it never parses.
    pub file: Option<SourceFile>,
}

impl Candidate {
    /// Reads the file, if the walk did not keep its text.
    pub fn load(&mut self) -> Result<&SourceFile, Skipped> {
        if self.file.is_none() {
            let data = read(&self.abs_path).map_err(|err| self.unreadable(err))?;
            if self.idents.is_none() {
                self.idents = Some(IdentSet::of(&data));
            }
            self.file = Some(SourceFile::new(
                self.path.clone(),
                self.abs_path.clone(),
                decode(data),
            ));
        }
        Ok(self.file.as_ref().expect("loaded above"))
    }

    /// Reads the file for its identifiers, if the walk did not.
    pub fn read_idents(&mut self) -> Result<(), Skipped> {
        if self.idents.is_none() {
            let set = read_with(&self.abs_path, IdentSet::of).map_err(|e| self.unreadable(e))?;
            self.idents = Some(set);
        }
        Ok(())
    }

    fn unreadable(&self, err: io::Error) -> Skipped {
        unreadable(&self.path, &err)
    }
}

/// A file read once by the walk that could not be read again.
pub fn unreadable(path: &str, err: &io::Error) -> Skipped {
    Skipped {
        file: path.to_string(),
        reason: format!("unreadable on a second read: {err}"),
    }
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
    pub fn abs_path(&self, root: &Path) -> PathBuf {
        root.join(&self.path)
    }
}

/// Every walked file's identity and prefilter verdict, by path key.
pub type Classes = HashMap<u64, (FileMeta, FileClass)>;

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
    pub classes: Classes,
    /// `.c`/`.h` files seen.
    pub files_walked: u64,
    /// Bytes scanned by the prefilter.
    pub bytes_scanned: u64,
}

impl WalkOutput {
    /// True if a dropped file changed since the cache's run (the walk read
    /// it): such a file may change any list of dropped files the cache
    /// holds.
    pub fn dropped_changed(&self) -> bool {
        self.dropped.iter().any(|d| d.idents.is_some())
    }
}

fn is_c_source(name: &[u8]) -> bool {
    name.ends_with(b".c") || name.ends_with(b".h")
}

/// How the walk opens a file: links are not followed, and a FIFO put in
/// place of a listed file does not block the open.
const READ_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::CLOEXEC)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::NOCTTY)
    .union(OFlags::NONBLOCK);

/// Why a file with a C name that is no regular file is not read.
const NOT_REGULAR: &str = "not a regular file (device, FIFO or socket)";

thread_local! {
    /// Each thread's read buffer. Most files are dropped by the prefilter:
    /// they are scanned in place and never get an allocation of their own
    /// (fresh allocations for every file cost more in page faults than the
    /// reads themselves).
    static BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Calls `f` with the bytes of `file` (of `size` bytes by its metadata),
/// read into this thread's buffer. `f` must not read files itself.
pub fn with_bytes<R>(mut file: File, size: u64, f: impl FnOnce(&[u8]) -> R) -> io::Result<R> {
    BUF.with_borrow_mut(|buf| {
        let n = read_all(&mut file, size as usize, buf, 0)?;
        Ok(f(&buf[..n]))
    })
}

/// Files larger than this are read a piece of this size at a time for as
/// long as they may be binary or hold nothing but object-like macros
/// ([`idents::defines_only`]), and held whole only if they turn out to be
/// neither. Generated register headers reach 24 MB: read whole, they grew
/// each thread's buffer to the largest, a fifth of a run's memory, and on
/// this kind of machine every fresh page costs (see ARCHITECTURE.md).
const PIECE_BYTES: usize = 1 << 20;

/// What a file read a piece at a time turned out to be.
#[derive(Debug, PartialEq, Eq)]
enum Piecewise {
    /// It holds a NUL byte.
    Binary,
    /// It holds nothing but object-like macros (see
    /// [`idents::defines_only`]).
    DefinesOnly,
}

/// [`with_bytes`], but a file larger than [`PIECE_BYTES`] is read a piece
/// at a time first: `f` gets `Err` if it is binary or holds nothing but
/// object-like macros, without the file ever held whole, and its bytes
/// otherwise (as `with_bytes` would give them).
fn with_bytes_piecewise<R>(
    mut file: File,
    size: u64,
    f: impl FnOnce(Result<&[u8], Piecewise>) -> R,
) -> io::Result<R> {
    if size <= PIECE_BYTES as u64 {
        return with_bytes(file, size, |d| f(Ok(d)));
    }
    BUF.with_borrow_mut(|buf| {
        if buf.len() < PIECE_BYTES {
            buf.resize(PIECE_BYTES, 0);
        }
        let mut scan = DefinesOnlyPieces::default();
        let mut first = true;
        loop {
            let n = fill(&mut file, &mut buf[..PIECE_BYTES])?;
            let piece = &buf[..n];
            if memchr::memchr(0, piece).is_some() {
                return Ok(f(Err(Piecewise::Binary)));
            }
            let may_be = scan.feed(piece);
            if may_be && n < PIECE_BYTES {
                // The end: unless the last line said otherwise, done.
                if std::mem::take(&mut scan).finish() {
                    return Ok(f(Err(Piecewise::DefinesOnly)));
                }
            }
            if !may_be || n < PIECE_BYTES {
                // An ordinary text: read whole, on from the first piece if
                // that is all that was read.
                let from = if first {
                    n
                } else {
                    file.seek(SeekFrom::Start(0))?;
                    0
                };
                let n = read_all(&mut file, size as usize, buf, from)?;
                return Ok(f(Ok(&buf[..n])));
            }
            first = false;
        }
    })
}

/// Reads `file` on until `piece` is full or the file ends; the count read.
fn fill(file: &mut File, piece: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < piece.len() {
        match file.read(&mut piece[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Calls `f` with the bytes of the file at `path`, as [`with_bytes`].
pub fn read_with<R>(path: &Path, f: impl FnOnce(&[u8]) -> R) -> io::Result<R> {
    let file = File::from(open(path, READ_FLAGS, Mode::empty())?);
    let size = file.metadata()?.len();
    with_bytes(file, size, f)
}

/// The bytes of the file at `path`.
pub fn read(path: &Path) -> io::Result<Vec<u8>> {
    read_with(path, <[u8]>::to_vec)
}

/// Reads `file` into `buf` (whose length is only ever grown: it is a
/// reused buffer), after the `from` bytes already read into it, and
/// returns the number of bytes in it.
fn read_all(file: &mut File, size: usize, buf: &mut Vec<u8>, from: usize) -> io::Result<usize> {
    if buf.len() <= size {
        buf.resize(size + 1, 0);
    }
    let mut filled = from;
    loop {
        if filled == buf.len() {
            // The file grew since its metadata was taken.
            buf.resize(2 * buf.len(), 0);
        }
        let asked = buf.len() - filled;
        let n = match file.read(&mut buf[filled..]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        filled += n;
        // A regular file's read comes back short only at its end: when it
        // does at the size the metadata gave, the read that would return
        // 0 is saved.
        if n == 0 || (n < asked && filled == size) {
            return Ok(filled);
        }
    }
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
    api: &ApiTable,
    progress: &(dyn Fn(u64) + Sync),
) -> WalkOutput {
    let w = Walker {
        cache,
        progress,
        prefilter: Prefilter::new(api),
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

/// Where a file the walk found is.
enum Place<'d> {
    /// `name` in the directory `dir`, open as `fd`: opened relative to it,
    /// with no path walk (the path is built only for a kept file).
    InDir {
        dir: &'d Path,
        fd: BorrowedFd<'d>,
        name: &'d CStr,
    },
    /// A path, for a file handled apart from its directory's task.
    Path(PathBuf),
}

impl Place<'_> {
    fn path(&self) -> PathBuf {
        match self {
            Place::InDir { dir, name, .. } => dir.join(OsStr::from_bytes(name.to_bytes())),
            Place::Path(p) => p.clone(),
        }
    }

    fn open(&self) -> io::Result<File> {
        let fd = match self {
            Place::InDir { fd, name, .. } => openat(fd, *name, READ_FLAGS, Mode::empty()),
            Place::Path(p) => open(p, READ_FLAGS, Mode::empty()),
        };
        Ok(File::from(fd?))
    }
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

    /// A regular C file's metadata, and the file opened if it will be
    /// read. A file the cache's run knew gets only a `statx`: if its
    /// metadata says unchanged, it is not opened at all. Any other is
    /// opened first and its descriptor asked, which saves a second lookup
    /// of the name. `None` (and said) if it cannot be, or is no regular
    /// file after all.
    fn identify(
        &self,
        dir_fd: BorrowedFd,
        name: &CStr,
        rel_path: &str,
        key: u64,
    ) -> Option<(FileMeta, Option<File>)> {
        let failed = |err: rustix::io::Errno| {
            self.skip(rel_path.to_string(), std::io::Error::from(err).to_string());
            None
        };
        if self.cache.is_some_and(|c| c.knows(key)) {
            return match statat(dir_fd, name, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(st) => Some((FileMeta::of(&st), None)),
                Err(err) => failed(err),
            };
        }
        let opened = openat(dir_fd, name, READ_FLAGS, Mode::empty())
            .and_then(|fd| fstat(&fd).map(|st| (st, fd)));
        match opened {
            Ok((st, fd)) if FileType::from_raw_mode(st.st_mode).is_file() => {
                Some((FileMeta::of(&st), Some(File::from(fd))))
            }
            Ok(_) => {
                self.skip(rel_path.to_string(), NOT_REGULAR.into());
                None
            }
            Err(err) => failed(err),
        }
    }

    /// `dir` on disk is `rel` under the root (`""` for the root).
    fn visit_dir<'s>(&'s self, s: &rayon::Scope<'s>, dir: PathBuf, rel: String) {
        let not_read = |err: rustix::io::Errno| {
            let err = std::io::Error::from(err);
            self.skip(rel.clone(), format!("cannot read the directory: {err}"))
        };
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let mut entries = match open(&dir, flags, Mode::empty()).and_then(Dir::new) {
            Ok(d) => d,
            Err(err) => return not_read(err),
        };
        // All names first: the directory's descriptor then serves every
        // `statx` and `open` below, relative to it (no path walk).
        let mut names = Vec::new();
        while let Some(entry) = entries.read() {
            match entry {
                Ok(e) if e.file_name().to_bytes().first() != Some(&b'.') => names.push(e),
                Ok(_) => {}
                Err(err) => {
                    not_read(err);
                    break;
                }
            }
        }
        let Ok(dir_fd) = entries.fd() else { return };
        let mut dropped = Vec::new();
        for entry in names {
            let name = entry.file_name();
            // Most entries are neither directories nor C files: no path
            // is built for them.
            let kind = entry.file_type();
            if !matches!(kind, FileType::Directory | FileType::Unknown)
                && !is_c_source(name.to_bytes())
            {
                continue;
            }
            let text_name = String::from_utf8_lossy(name.to_bytes());
            let rel_path = if rel.is_empty() {
                text_name.into_owned()
            } else {
                format!("{rel}/{text_name}")
            };
            let mut kind = kind;
            if kind == FileType::Unknown {
                // Some file systems do not say in the listing.
                kind = statat(dir_fd, name, AtFlags::SYMLINK_NOFOLLOW)
                    .map_or(FileType::Unknown, |st| FileType::from_raw_mode(st.st_mode));
            }
            if kind == FileType::Directory {
                let path = dir.join(OsStr::from_bytes(name.to_bytes()));
                s.spawn(move |s| self.visit_dir(s, path, rel_path));
                continue;
            }
            if !is_c_source(rel_path.as_bytes()) {
                continue;
            }
            if kind != FileType::RegularFile {
                // Anything else with a C name is said, not read (a FIFO
                // would block).
                let reason = if kind == FileType::Symlink {
                    "symbolic link, not followed"
                } else {
                    NOT_REGULAR
                };
                self.skip(rel_path, reason.into());
                continue;
            }
            let n = self.walked.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_multiple_of(PROGRESS_EVERY) {
                (self.progress)(n);
            }
            let key = path_key(&rel_path);
            let Some((meta, opened)) = self.identify(dir_fd, name, &rel_path, key) else {
                continue;
            };
            let place = Place::InDir {
                dir: &dir,
                fd: dir_fd,
                name,
            };
            if meta.size >= OWN_TASK_BYTES {
                // Opened again by its task: tasks wait in a queue, and
                // hundreds of them must not each hold a descriptor.
                drop(opened);
                let place = Place::Path(place.path());
                s.spawn(move |_| {
                    let mut dropped = Vec::new();
                    self.visit_file(place, None, rel_path, key, meta, &mut dropped);
                    self.drop_files(dropped);
                });
            } else {
                self.visit_file(place, opened, rel_path, key, meta, &mut dropped);
            }
        }
        self.drop_files(dropped);
    }

    /// A regular C file, `name` under the root (whose [`path_key`] is
    /// `key`), `opened` already if it is to be read. If the prefilter drops
    /// it, it goes to `dropped` (see [`Walker::drop_files`]).
    fn visit_file(
        &self,
        place: Place,
        opened: Option<File>,
        name: String,
        key: u64,
        meta: FileMeta,
        dropped: &mut Vec<(Seen, Option<IdentSet>)>,
    ) {
        if meta.size > MAX_FILE_BYTES {
            let reason = format!("larger than {} MiB", MAX_FILE_BYTES >> 20);
            return self.skip(name, reason);
        }
        self.bytes.fetch_add(meta.size, Ordering::Relaxed);
        // Unchanged since the cache's run: not read now. A kept one is read
        // later if the run cannot be replayed.
        let seen = Seen { name, key, meta };
        match self.cache.and_then(|c| c.class(key, &meta)) {
            Some(FileClass::Dropped) => return dropped.push((seen, None)),
            Some(FileClass::Candidate { borrow, not_utf8 }) => {
                return self.keep_file(seen, Hit { borrow }, not_utf8, place.path(), None, None);
            }
            None => {}
        }
        enum Verdict {
            Binary,
            Dropped(IdentSet),
            /// With the text of a borrowing file.
            Kept(Hit, IdentSet, bool, Option<Vec<u8>>),
        }
        let file = match opened {
            Some(f) => Ok(f),
            None => place.open(),
        };
        let verdict = file.and_then(|f| {
            with_bytes_piecewise(f, meta.size, |data| {
                let data = match data {
                    Ok(d) => d,
                    Err(Piecewise::Binary) => return Verdict::Binary,
                    Err(Piecewise::DefinesOnly) => return Verdict::Dropped(IdentSet::none()),
                };
                if memchr::memchr(0, data).is_some() {
                    return Verdict::Binary;
                }
                let idents = IdentSet::of(data);
                // Nothing in it can matter, whatever names it holds (see
                // `idents::defines_only`): not even a borrow API's name.
                if idents.holds_nothing() {
                    return Verdict::Dropped(idents);
                }
                match self.prefilter.check(data) {
                    Some(hit) => {
                        let not_utf8 = std::str::from_utf8(data).is_err();
                        let text = hit.borrow.then(|| data.to_vec());
                        Verdict::Kept(hit, idents, not_utf8, text)
                    }
                    None => Verdict::Dropped(idents),
                }
            })
        });
        match verdict {
            Err(err) => self.skip(seen.name, err.to_string()),
            Ok(Verdict::Binary) => {
                self.skip(seen.name, "binary (holds NUL bytes), not C source".into())
            }
            Ok(Verdict::Dropped(idents)) => dropped.push((seen, Some(idents))),
            Ok(Verdict::Kept(hit, idents, not_utf8, text)) => {
                let path = place.path();
                let file =
                    text.map(|t| SourceFile::new(seen.name.clone(), path.clone(), decode(t)));
                self.keep_file(seen, hit, not_utf8, path, Some(idents), file);
            }
        }
    }

    /// A file the prefilter keeps (now, or in the cache's run: then it is
    /// not read yet).
    fn keep_file(
        &self,
        seen: Seen,
        hit: Hit,
        not_utf8: bool,
        path: PathBuf,
        idents: Option<IdentSet>,
        file: Option<SourceFile>,
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
            idents,
            file,
        });
    }

    /// Files the prefilter drops (now, or in the cache's run), a
    /// directory's at once: one lock for them all.
    fn drop_files(&self, files: Vec<(Seen, Option<IdentSet>)>) {
        if files.is_empty() {
            return;
        }
        let mut out = self.out.lock().unwrap();
        for (seen, idents) in files {
            out.classes
                .insert(seen.key, (seen.meta, FileClass::Dropped));
            out.dropped.push(Dropped {
                path: seen.name,
                idents,
            });
        }
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
    fn reads_whole_files_whatever_the_size_said() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.c");
        let text: Vec<u8> = (0..10_000u32).map(|i| b'a' + (i % 26) as u8).collect();
        std::fs::write(&path, &text).unwrap();
        // Right, too small (the file grew), too large (it shrank); the
        // buffer is reused between them, larger than the file or not.
        for size in [10_000, 10, 0, 50_000, 10_000] {
            let file = File::open(&path).unwrap();
            assert_eq!(with_bytes(file, size, <[u8]>::to_vec).unwrap(), text);
        }
        assert_eq!(read(&path).unwrap(), text);
    }

    #[test]
    fn large_files_are_read_whole_only_if_they_must_be() {
        let dir = tempfile::tempdir().unwrap();
        let lines = "#define REG_A 0x1\n// block b\n".repeat(80_000);
        assert!(lines.len() > 2 * PIECE_BYTES);
        let cases: [(&str, String, Result<(), Piecewise>); 5] = [
            (
                "defines.h",
                format!("/* licence (c) */\n{lines}"),
                Err(Piecewise::DefinesOnly),
            ),
            // Ordinary past the first piece, and in it.
            ("late.h", format!("{lines}int f(void);\n"), Ok(())),
            ("early.h", format!("int f(void);\n{lines}"), Ok(())),
            ("nul.h", format!("{lines}\0"), Err(Piecewise::Binary)),
            // A last line of `/` alone is no `//`.
            ("slash.h", format!("{lines}/"), Ok(())),
        ];
        for (name, text, want) in cases {
            let path = dir.path().join(name);
            std::fs::write(&path, &text).unwrap();
            for size in [text.len() as u64, 10, 4 * PIECE_BYTES as u64] {
                let file = File::open(&path).unwrap();
                let got = with_bytes_piecewise(file, size.max(PIECE_BYTES as u64 + 1), |d| {
                    d.map(|bytes| assert_eq!(bytes, text.as_bytes(), "{name}"))
                })
                .unwrap();
                assert_eq!(got, want, "{name}");
                // As the whole text says.
                assert_eq!(
                    crate::idents::defines_only(text.as_bytes()),
                    want == Err(Piecewise::DefinesOnly)
                );
            }
        }
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
        let out = walk(dir.path(), &pool, None, &ApiTable::default(), &|_| {});
        assert_eq!(out.files_walked, 2);
        assert_eq!(out.candidates.len(), 1);
        assert_eq!(out.candidates[0].path, "a.c");
        assert!(out.candidates[0].hit.borrow);
        assert_eq!(out.dropped.len(), 1);
        assert_eq!(out.dropped[0].path, "b.c");
    }
}
