//! Single-file mode, as the kernel build runs checkers:
//! `make C=1 CHECK=mmaudit` calls `mmaudit <CHECKFLAGS> <c_flags> file.c`
//! once per compiled file, the source file last (absolute with `O=`).
//!
//! mmaudit finds the tree root itself (`$srctree`, or the nearest parent
//! that looks like a kernel tree), audits the whole tree for context, and
//! keeps only the sites in that file. The compiler flags are ignored.

use crate::api::ApiTable;
use crate::prefilter::Prefilter;
use crate::report::Report;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Files whose presence marks the top of a kernel source tree.
const ROOT_MARKERS: &[&str] = &["Kbuild", "Kconfig", "Makefile", "MAINTAINERS"];

/// The source file of a checker-style command line: the last argument, if
/// it names an existing `.c` file.
pub fn source_arg(args: &[OsString]) -> Option<PathBuf> {
    let last = PathBuf::from(args.get(1..)?.last()?);
    let is_c = last.extension().is_some_and(|e| e == "c");
    (is_c && last.is_file()).then_some(last)
}

/// The root of the kernel tree that holds `file`: `$srctree` if it holds
/// the file, else the nearest parent directory with the root markers.
pub fn tree_root(file: &Path, srctree: Option<&Path>) -> Option<PathBuf> {
    let file = std::fs::canonicalize(file).ok()?;
    if let Some(s) = srctree.and_then(|s| std::fs::canonicalize(s).ok())
        && file.starts_with(&s)
    {
        return Some(s);
    }
    file.ancestors()
        .skip(1)
        .find(|d| ROOT_MARKERS.iter().all(|m| d.join(m).exists()))
        .map(Path::to_path_buf)
}

/// The file's path relative to `root`, with `/` separators.
pub fn relative(file: &Path, root: &Path) -> Option<String> {
    let file = std::fs::canonicalize(file).ok()?;
    let rel = file.strip_prefix(root).ok()?;
    Some(rel.to_string_lossy().replace('\\', "/"))
}

/// True if the file can hold no site at all (no mm token): the whole-tree
/// audit can be skipped.
pub fn cannot_matter(file: &Path, api: &ApiTable) -> bool {
    std::fs::read(file).is_ok_and(|bytes| Prefilter::new(api).check(&bytes).is_none())
}

/// Keeps only the sites in `rel`.
pub fn keep_file(report: &mut Report, rel: &str) {
    let files = &report.files;
    report
        .sites
        .retain(|s| files[s.loc.file as usize].path == rel);
    report.stats.sites = report.sites.len() as u64;
    report.stats.findings = report
        .sites
        .iter()
        .filter(|s| !s.findings.is_empty())
        .count() as u64;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_source_file_is_the_last_argument() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("x.c");
        std::fs::write(&f, "int x;").unwrap();
        let args: Vec<OsString> = ["mmaudit", "-D__KERNEL__", "-Iinclude", "-c"]
            .iter()
            .map(OsString::from)
            .chain([f.clone().into_os_string()])
            .collect();
        assert_eq!(source_arg(&args), Some(f));
        assert_eq!(source_arg(&args[..2]), None);
    }

    #[test]
    fn the_root_is_found_from_markers_or_srctree() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        for m in ROOT_MARKERS {
            std::fs::write(root.join(m), "").unwrap();
        }
        std::fs::create_dir_all(root.join("drivers/x")).unwrap();
        let f = root.join("drivers/x/y.c");
        std::fs::write(&f, "int y;").unwrap();
        assert_eq!(tree_root(&f, None), Some(root.clone()));
        let sub = root.join("drivers");
        assert_eq!(tree_root(&f, Some(&sub)), Some(sub.clone()));
        assert_eq!(relative(&f, &root).as_deref(), Some("drivers/x/y.c"));
    }
}
