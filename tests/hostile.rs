//! Hostile inputs: odd files, tree hazards, determinism, the read-only
//! promise, and the inputs the fuzzers found interesting, replayed.

use mmaudit::audit::{Options, audit};
use mmaudit::render;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn run(root: &Path, jobs: usize) -> mmaudit::report::Report {
    let mut r = audit(
        root,
        &Options {
            jobs,
            ..Options::default()
        },
    )
    .expect("the audit runs");
    r.stats.elapsed_ms = 0;
    r
}

fn reasons(r: &mmaudit::report::Report) -> BTreeMap<String, String> {
    r.stats
        .skipped
        .iter()
        .map(|s| (s.file.clone(), s.reason.clone()))
        .collect()
}

const BORROW: &str = "struct w { struct mm_struct *mm; };\n\
    void w_set(struct w *p) { p->mm = get_task_mm(current); }\n\
    void w_run(struct w *p)\n{\n\tkthread_use_mm(p->mm);\n\tkthread_unuse_mm(p->mm);\n}\n";

#[test]
fn odd_files_are_accounted_for_and_the_rest_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("good.c"), BORROW).unwrap();
    // Not UTF-8, but C: audited, with a warning.
    let mut latin1 = b"/* caf\xe9 */\n".to_vec();
    latin1.extend_from_slice(
        BORROW
            .replace("w_", "l_")
            .replace("struct w", "struct l")
            .as_bytes(),
    );
    std::fs::write(d.join("latin1.c"), latin1).unwrap();
    // Binary with a C name.
    std::fs::write(d.join("blob.c"), b"\x7fELF\0\0\0kthread_use_mm(").unwrap();
    // Over the size cap (sparse: nothing is written).
    let huge = std::fs::File::create(d.join("huge.h")).unwrap();
    huge.set_len(mmaudit::walk::MAX_FILE_BYTES + 1).unwrap();
    // Half-written: ends inside the borrowing function.
    std::fs::write(
        d.join("half.c"),
        "void h(struct mm_struct *mm)\n{\n\tkthread_use_mm(mm);\n\tif (x",
    )
    .unwrap();
    // Nested past what the extractor follows, with a borrow inside.
    let deep = format!(
        "void deep(struct mm_struct *mm)\n{{\n{}kthread_use_mm(mm);{}\n}}\n",
        "{".repeat(700),
        "}".repeat(700)
    );
    std::fs::write(d.join("deep.c"), deep).unwrap();
    // Ten thousand nested parentheses.
    let parens = format!(
        "struct mm_struct *f(void) {{ return {}0{}; }}\n",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    std::fs::write(d.join("parens.c"), parens).unwrap();
    // Symlinks: a loop, one out of the tree, one dangling.
    std::os::unix::fs::symlink(".", d.join("loop")).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", d.join("outside.c")).unwrap();
    std::os::unix::fs::symlink("nowhere.c", d.join("dangling.c")).unwrap();
    // A FIFO with a C name: reading it would block forever.
    let fifo = d.join("pipe.c");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );

    let r = run(d, 2);
    let why = reasons(&r);
    assert!(why["blob.c"].contains("NUL"), "{why:?}");
    assert!(why["huge.h"].contains("larger than"), "{why:?}");
    assert!(why["outside.c"].contains("symbolic link"), "{why:?}");
    assert!(why["dangling.c"].contains("symbolic link"), "{why:?}");
    assert!(why["pipe.c"].contains("not a regular file"), "{why:?}");
    assert_eq!(r.stats.warnings.len(), 1);
    assert_eq!(r.stats.warnings[0].file, "latin1.c");
    let sites: Vec<(String, &str)> = r
        .sites
        .iter()
        .map(|s| {
            (
                r.files[s.loc.file as usize].path.clone(),
                s.verdict.as_str(),
            )
        })
        .collect();
    for (file, verdict) in [
        ("deep.c", "unresolved"),
        ("good.c", "ok"),
        ("half.c", "unresolved"),
        ("latin1.c", "ok"),
    ] {
        assert!(
            sites.contains(&(file.to_string(), verdict)),
            "{file} {verdict} in {sites:?}"
        );
    }
    let deep = r
        .sites
        .iter()
        .find(|s| r.files[s.loc.file as usize].path == "deep.c")
        .unwrap();
    assert!(deep.chains[0].steps[0].note.contains("could not read"));
    // Every renderer copes.
    let _ = render::human::render(&r, true, false);
    let _ = render::html::render(&r);
    let _ = render::sarif::render(&r);
}

#[test]
#[cfg(unix)]
fn an_unreadable_directory_is_reported() {
    use std::os::unix::fs::PermissionsExt;
    if is_root() {
        eprintln!("running as root: permissions do not stop root, so this case cannot arise");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("good.c"), BORROW).unwrap();
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    std::fs::write(locked.join("x.c"), BORROW).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let r = run(dir.path(), 2);
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert!(r.stats.skipped.iter().any(|s| s.file.starts_with("locked")));
    assert_eq!(r.sites.len(), 1);
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn mmaudit(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mmaudit"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn bad_roots_are_clear_errors() {
    let empty = tempfile::tempdir().unwrap();
    let o = mmaudit(&[empty.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no .c or .h files"));

    let file = empty.path().join("README");
    std::fs::write(&file, "text").unwrap();
    let o = mmaudit(&[file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a directory"));
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

#[test]
fn the_same_tree_gives_the_same_json_whatever_the_thread_count() {
    let one = render::json::render(&run(&fixtures(), 1));
    for jobs in [2, 8] {
        assert_eq!(
            one,
            render::json::render(&run(&fixtures(), jobs)),
            "--jobs {jobs}"
        );
    }
    assert!(one.matches("\"verdict\"").count() > 20);
}

/// Every file below `root`: content, length and modification time.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, (Vec<u8>, std::time::SystemTime)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        out.insert(
            d.clone(),
            (vec![], std::fs::metadata(&d).unwrap().modified().unwrap()),
        );
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                stack.push(p);
            } else {
                let m = std::fs::metadata(&p).unwrap();
                out.insert(
                    p.clone(),
                    (std::fs::read(&p).unwrap(), m.modified().unwrap()),
                );
            }
        }
    }
    out
}

#[test]
fn auditing_never_writes_into_the_tree() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("tree");
    assert!(
        Command::new("cp")
            .args(["-a"])
            .arg(fixtures())
            .arg(&root)
            .status()
            .unwrap()
            .success()
    );
    let before = snapshot(&root);
    let r = root.to_str().unwrap();
    for format in ["human", "json", "gcc", "sarif", "html"] {
        let o = mmaudit(&[r, "--format", format, "--all"]);
        assert!(matches!(o.status.code(), Some(0 | 1)), "{format}");
    }
    let base = dir.path().join("base.json");
    let _ = mmaudit(&[r, "--baseline", base.to_str().unwrap()]);
    assert_eq!(before, snapshot(&root), "the audited tree changed");
}

#[test]
fn inputs_the_fuzzers_kept_still_pass() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions");
    let mut n = 0;
    for (target, check) in [
        ("facts", mmaudit::fuzzing::check_one_file as fn(&[u8])),
        ("pipeline", mmaudit::fuzzing::check_tiny_tree),
    ] {
        for e in std::fs::read_dir(dir.join(target)).unwrap().flatten() {
            check(&std::fs::read(e.path()).unwrap());
            n += 1;
        }
    }
    assert!(n > 0, "no fuzz regression inputs found");
}

#[test]
fn macros_that_multiply_expansions_stay_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let mut src = String::from("#define A0(m) kthread_use_mm(m); kthread_unuse_mm(m)\n");
    for i in 1..8 {
        src += &format!("#define A{i}(m) A{}(m); A{}(m)\n", i - 1, i - 1);
    }
    src += "void f(struct task_struct *t)\n{\n\tstruct mm_struct *mm = get_task_mm(t);\n";
    src += &"\tA7(mm);\n".repeat(300);
    src += "\tmmput(mm);\n}\n";
    std::fs::write(dir.path().join("bomb.c"), src).unwrap();
    let r = run(dir.path(), 2);
    // 2^6 paths through the macros times 300 uses would be 19200 sites.
    assert!(r.sites.len() < 4200, "{} sites", r.sites.len());
    assert!(r.sites.iter().any(|s| {
        s.chains[0]
            .steps
            .iter()
            .any(|st| st.note.contains("expansions of"))
    }));
}
