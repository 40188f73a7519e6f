//! The audit on a real kernel tree (Debian's linux-source-6.1, fetched by
//! `../shared/corpus/get-kernel`), checked against a plain text search that
//! shares no code with the analyzer.

use mmaudit::audit::{Options, audit};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn kernel_tree(version: &str) -> PathBuf {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/get-kernel");
    let out = Command::new("bash")
        .arg(&script)
        .arg(version)
        .output()
        .expect("run get-kernel");
    assert!(
        out.status.success(),
        "get-kernel {version} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// Every line with a call `kthread_use_mm(` that is code: not a comment,
/// not the definition, not a prototype.
fn text_search(root: &Path) -> BTreeSet<(String, u32)> {
    let mut found = BTreeSet::new();
    for (rel, text) in c_texts(root, &["kthread_use_mm("]) {
        for (i, line) in text.lines().enumerate() {
            let t = line.trim_start();
            let code = !(t.starts_with('*') || t.starts_with("/*") || t.starts_with("//"));
            let decl = t.starts_with("void kthread_use_mm(") || t.starts_with("EXPORT_SYMBOL");
            if code && !decl && t.contains("kthread_use_mm(") {
                found.insert((rel.clone(), i as u32 + 1));
            }
        }
    }
    found
}

/// The `(file, line)` of every borrow the report has: where a direct site
/// is, and for a macro site the borrow inside the macro body.
fn reported_lines(report: &mmaudit::report::Report) -> BTreeSet<(String, u32)> {
    report
        .sites
        .iter()
        .map(|s| {
            let loc = s.macro_loc.unwrap_or(s.loc);
            let f = &report.files[loc.file as usize];
            (f.path.clone(), f.lines.line_col(loc.offset).0)
        })
        .collect()
}

/// The path (relative to `root`) and text of every C file below `root`
/// that holds one of `words`.
fn c_texts(root: &Path, words: &[&str]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for path in c_files(root) {
        let bytes = std::fs::read(&path).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        if words.iter().any(|w| text.contains(w)) {
            let rel = path.strip_prefix(root).unwrap().to_string_lossy();
            out.push((rel.to_string(), text.into_owned()));
        }
    }
    out
}

/// Every regular `.c`/`.h` file below `root` (links not followed).
fn c_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            let ft = entry.file_type().unwrap();
            if ft.is_dir() {
                stack.push(path);
            } else if ft.is_file()
                && matches!(path.extension().and_then(|e| e.to_str()), Some("c" | "h"))
            {
                out.push(path);
            }
        }
    }
    out
}

#[test]
fn every_borrow_in_debian_6_1_is_reported_and_the_lookalike_is_not() {
    let root = kernel_tree("6.1");
    let expected = text_search(&root);
    assert!(
        expected.len() >= 9,
        "the text search found too few sites: {expected:?}"
    );
    let report = audit(&root, &Options::default()).expect("audit runs");
    let reported = reported_lines(&report);
    let missing: Vec<_> = expected.difference(&reported).collect();
    assert!(missing.is_empty(), "not reported: {missing:?}");
    // Debian's 6.1 point releases took the upstream fix that makes f_fs.c
    // take an mm_users reference (mmget_not_zero) around its borrow
    // (6.1.192 has it); before it, only the AIO teardown kept the mm.
    let f_fs = "drivers/usb/gadget/function/f_fs.c";
    let f_fs_fixed = std::fs::read_to_string(root.join(f_fs))
        .expect("f_fs.c is in the tree")
        .contains("mmget_not_zero(io_data->mm)");
    let mut without_mm_users = vec![
        SAME_IN_BOTH[0],
        SAME_IN_BOTH[1],
        SAME_IN_BOTH[2],
        ("legacy/inode.c", "suspect", "aio_teardown", true),
    ];
    if f_fs_fixed {
        let site = report
            .sites
            .iter()
            .find(|s| report.files[s.loc.file as usize].path == f_fs)
            .expect("the f_fs.c site is reported");
        assert_eq!(site.verdict, mmaudit::report::Verdict::Ok);
    } else {
        without_mm_users.push(("function/f_fs.c", "suspect", "aio_teardown", false));
    }
    expect_guarantees(&report, &without_mm_users);
    for s in &report.sites {
        let f = &report.files[s.loc.file as usize];
        assert_ne!(
            f.path, "mm/swapfile.c",
            "the two-argument unuse_mm() look-alike was reported"
        );
        assert_ne!(
            s.verdict,
            mmaudit::report::Verdict::Unresolved,
            "unresolved site in {}",
            f.path
        );
    }
}

#[test]
fn macro_sites_in_debian_6_12_are_judged_from_their_far_end_callers() {
    let root = kernel_tree("6.12");
    let report = audit(&root, &Options::default()).expect("audit runs");
    let macro_sites: Vec<_> = report
        .sites
        .iter()
        .filter(|s| s.macro_name.is_some() && s.function.is_some())
        .collect();
    assert!(macro_sites.len() >= 5, "too few macro expansions found");
    for s in macro_sites {
        let f = &report.files[s.loc.file as usize];
        // Each expansion sits in a function that gets the mm as a parameter
        // through an ops table: every path must reach a caller.
        assert!(
            s.chains.iter().all(|c| c.via.is_some()),
            "a path of {}:{} stops before any caller",
            f.path,
            f.lines.line_col(s.loc.offset).0
        );
        assert_ne!(s.verdict, mmaudit::report::Verdict::Unresolved);
    }
    expect_guarantees(
        &report,
        &[
            SAME_IN_BOTH[0],
            SAME_IN_BOTH[1],
            SAME_IN_BOTH[2],
            ("bcachefs/fs-io-direct.c", "suspect", "aio_teardown", false),
        ],
    );
    // `make C=1 CHECK=mmaudit` on the idxd directory runs mmaudit once per
    // file with kbuild's arguments: it must print what a whole-tree run
    // prints for that file.
    let rel = "drivers/dma/idxd/cdev.c";
    let whole: String = mmaudit::render::gcc::render(&report)
        .lines()
        .filter(|l| l.starts_with(&format!("{rel}:")))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(!whole.is_empty());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mmaudit"))
        .args([
            "-D__linux__",
            "-Wbitwise",
            "--arch=x86",
            "-m64",
            "-nostdinc",
            "-I./arch/x86/include",
            "-include",
            "./include/linux/kconfig.h",
            "-D__KERNEL__",
            "-DKBUILD_MODNAME=\"idxd\"",
            "-c",
            "-o",
            "drivers/dma/idxd/cdev.o",
        ])
        .arg(root.join(rel))
        .env("srctree", &root)
        .output()
        .expect("mmaudit runs");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), whole);
}

/// The sites without an mm_users reference that 6.1 and 6.12 share.
const SAME_IN_BOTH: [(&str, &str, &str, bool); 3] = [
    ("vas-api.c", "wrong", "task_liveness", true),
    (
        "kvm/xen.c",
        "wrong",
        "caller_context mmu_notifier_release",
        false,
    ),
    ("idxd/cdev.c", "wrong", "", false),
];

/// Every site without an mm_users reference, as reviewed by hand: the file
/// it is in, its verdict, the guarantees found (sorted, space-separated)
/// and whether a lifetime comment was found. Nothing else may lack one.
fn expect_guarantees(report: &mmaudit::report::Report, expected: &[(&str, &str, &str, bool)]) {
    let mut got: Vec<(String, &str, String, bool)> = report
        .sites
        .iter()
        .filter(|s| {
            matches!(
                s.verdict,
                mmaudit::report::Verdict::Wrong | mmaudit::report::Verdict::Suspect
            )
        })
        .map(|s| {
            let mut kinds: Vec<&str> = s.guarantees.iter().map(|g| g.kind.as_str()).collect();
            kinds.sort();
            kinds.dedup();
            (
                report.files[s.loc.file as usize].path.clone(),
                s.verdict.as_str(),
                kinds.join(" "),
                s.documented(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got.len(),
        expected.len(),
        "sites without mm_users: {got:#?}"
    );
    for (path, verdict, kinds, documented) in expected {
        assert!(
            got.iter().any(|g| g.0.ends_with(path)
                && g.1 == *verdict
                && g.2 == *kinds
                && g.3 == *documented),
            "expected {path} {verdict} [{kinds}] documented={documented} in {got:#?}"
        );
    }
}

/// A cheap deterministic generator (no dependency): the same files are
/// truncated at the same points on every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) as usize) % below.max(1)
    }
}

#[test]
fn a_tree_with_hundreds_of_truncated_files_is_audited_without_panic() {
    let original = kernel_tree("6.1");
    // A copy made of hard links (instant, no space); each truncated file is
    // written anew and renamed over its link, so the original stays intact.
    let parent = original.parent().unwrap();
    let dir = tempfile::tempdir_in(parent).unwrap();
    let root = dir.path().join("tree");
    let cp = Command::new("cp")
        .args(["-al"])
        .arg(&original)
        .arg(&root)
        .status()
        .unwrap();
    assert!(cp.success());
    // The files that matter most: every borrow file, then a sample of the
    // files that mention an mm.
    let mut borrow = Vec::new();
    let mut flow = Vec::new();
    for p in c_files(&root) {
        let text = std::fs::read(&p).unwrap();
        if memchr::memmem::find(&text, b"kthread_use_mm(").is_some() {
            borrow.push(p);
        } else if memchr::memmem::find(&text, b"mm_struct").is_some() {
            flow.push(p);
        }
    }
    borrow.sort();
    flow.sort();
    let mut rng = Lcg(0x006d_6d61_7564_6974);
    let mut chosen = borrow.clone();
    while chosen.len() < 300 && !flow.is_empty() {
        chosen.push(flow.swap_remove(rng.next(flow.len())));
    }
    for p in &chosen {
        let text = std::fs::read(p).unwrap();
        let cut = rng.next(text.len());
        let tmp = p.with_extension("truncating");
        std::fs::write(&tmp, &text[..cut]).unwrap();
        std::fs::rename(&tmp, p).unwrap();
    }

    let report = audit(&root, &Options::default()).expect("the audit runs");
    let rel = |p: &Path| p.strip_prefix(&root).unwrap().to_string_lossy().to_string();
    let kept: BTreeSet<String> = report.files.iter().map(|f| f.path.clone()).collect();
    let skipped: BTreeSet<String> = report
        .stats
        .skipped
        .iter()
        .map(|s| s.file.clone())
        .collect();
    let prefilter = mmaudit::prefilter::Prefilter::default();
    for p in &chosen {
        let r = rel(p);
        let dropped = prefilter.check(&std::fs::read(p).unwrap()).is_none();
        assert!(
            kept.contains(&r) || skipped.contains(&r) || dropped,
            "{r}: truncated, and neither audited, skipped nor without mm tokens"
        );
    }
    // Every borrow that survived the cut is reported, as a site of its own
    // or as an unresolved one.
    let expected = text_search(&root);
    let reported = reported_lines(&report);
    let missing: Vec<_> = expected.difference(&reported).collect();
    assert!(
        missing.is_empty(),
        "borrows lost after truncation: {missing:?}"
    );
    assert!(original.join("Makefile").exists());
}

#[test]
fn leaving_bodies_out_of_parses_changes_no_verdict_in_debian_6_12() {
    let root = kernel_tree("6.12");
    let elided = audit(&root, &Options::default()).expect("audit runs");
    let whole = audit(
        &root,
        &Options {
            keep_all_bodies: true,
            ..Options::default()
        },
    )
    .expect("audit runs");
    assert!(elided.stats.bytes_parsed * 3 < whole.stats.bytes_parsed * 2);
    let json = |r: &mmaudit::report::Report| {
        let mut v: serde_json::Value =
            serde_json::from_str(&mmaudit::render::json::render(r)).unwrap();
        v["stats"] = serde_json::Value::Null;
        v
    };
    assert_eq!(json(&elided), json(&whole));
}

/// The access APIs the text search looks for: those of the API table's
/// access rows, written out here so that the search shares nothing with
/// the analyzer.
const ACCESS_APIS: &[&str] = &[
    "get_user_pages_remote",
    "pin_user_pages_remote",
    "get_user_page_vma_remote",
    "fixup_user_fault",
    "access_remote_vm",
    "__access_remote_vm",
    "walk_page_range",
    "mpol_rebind_mm",
    "mmu_interval_notifier_insert",
];

/// Every line that calls an access API in code: not a comment, not a
/// definition or prototype, and not inside the body of one of the APIs
/// themselves (their callers are the sites).
fn access_text_search(root: &Path) -> BTreeSet<(String, u32)> {
    let mut found = BTreeSet::new();
    let called = |t: &str, name: &str| {
        t.match_indices(name).any(|(at, _)| {
            let before = t[..at].chars().last();
            let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
            !before.is_some_and(ident) && t[at + name.len()..].trim_start().starts_with('(')
        })
    };
    for (rel, text) in c_texts(root, ACCESS_APIS) {
        // From an API's own definition to the end of its body.
        let mut in_api_body = false;
        let mut entered = false;
        let mut depth = 0i32;
        for (i, line) in text.lines().enumerate() {
            let t = line.trim_start();
            let at_col0 = !line.starts_with([' ', '\t']);
            let defines = at_col0
                && !t.starts_with('#')
                && !line.trim_end().ends_with(';')
                && ACCESS_APIS.iter().any(|a| called(line, a));
            if defines && depth == 0 {
                in_api_body = true;
            }
            let comment = t.starts_with('*') || t.starts_with("/*") || t.starts_with("//");
            let code =
                !comment && !at_col0 && !t.starts_with('#') && !t.starts_with("EXPORT_SYMBOL");
            if code && !in_api_body && ACCESS_APIS.iter().any(|a| called(t, a)) {
                found.insert((rel.clone(), i as u32 + 1));
            }
            if !comment {
                depth += line.matches('{').count() as i32 - line.matches('}').count() as i32;
                entered |= depth > 0;
                if depth <= 0 {
                    depth = 0;
                    // The end of the body, or of a prototype.
                    if entered || line.trim_end().ends_with(';') {
                        (in_api_body, entered) = (false, false);
                    }
                }
            }
        }
    }
    found
}

#[test]
fn every_access_in_debian_6_12_is_reported_with_select_all() {
    use mmaudit::api::{ApiTable, FamilySet};
    let root = kernel_tree("6.12");
    let expected = access_text_search(&root);
    assert!(expected.len() >= 60, "too few calls found: {expected:?}");
    let opts = Options {
        api: ApiTable::default().selecting(FamilySet::ALL),
        ..Options::default()
    };
    let report = audit(&root, &opts).expect("audit runs");
    let reported = reported_lines(&report);
    let missing: Vec<_> = expected.difference(&reported).collect();
    assert!(missing.is_empty(), "not reported: {missing:?}");
    // The windows are what they are without the access families.
    let windows = audit(&root, &Options::default()).expect("audit runs");
    let judged = |r: &mmaudit::report::Report| -> Vec<(String, u32, &'static str)> {
        (r.sites.iter())
            .filter(|s| s.kind == mmaudit::report::SiteKind::Window)
            .map(|s| {
                let f = &r.files[s.loc.file as usize];
                (
                    f.path.clone(),
                    f.lines.line_col(s.loc.offset).0,
                    s.verdict.as_str(),
                )
            })
            .collect()
    };
    assert_eq!(judged(&report), judged(&windows));
}
