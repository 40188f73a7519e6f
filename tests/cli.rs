//! The binary as users run it: baselines, quiet output, exit codes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn mmaudit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mmaudit"))
        .args(args)
        .output()
        .expect("mmaudit runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A small tree: one wrong site (no reference) and one ok site.
fn tree() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("drv.c");
    std::fs::write(
        &file,
        "struct drv { struct mm_struct *mm; };\n\
         void drv_open(struct drv *d)\n{\n\td->mm = current->mm;\n}\n\
         void drv_work(struct drv *d)\n{\n\tkthread_use_mm(d->mm);\n\tkthread_unuse_mm(d->mm);\n}\n\
         void drv_peek(struct task_struct *t)\n{\n\tstruct mm_struct *mm = get_task_mm(t);\n\n\
         \tif (!mm)\n\t\treturn;\n\tkthread_use_mm(mm);\n\tkthread_unuse_mm(mm);\n\tmmput(mm);\n}\n",
    )
    .unwrap();
    (dir, file)
}

fn edit(file: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains(from));
    std::fs::write(file, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn a_baseline_hides_old_findings_and_shows_exactly_the_new_one() {
    let (tree, file) = tree();
    let root = tree.path().to_str().unwrap();
    let store = tempfile::tempdir().unwrap();
    let base = store.path().join("base.json");
    let base = base.to_str().unwrap();

    // First run records the finding (and still reports it).
    let first = mmaudit(&[root, "--format", "gcc", "--baseline", base]);
    assert_eq!(first.status.code(), Some(1));
    assert_eq!(stdout(&first).lines().count(), 1);
    assert!(Path::new(base).exists());

    // Same tree: nothing new.
    let again = mmaudit(&[root, "--format", "gcc", "--baseline", base]);
    assert_eq!(again.status.code(), Some(0), "{}", stdout(&again));
    assert_eq!(stdout(&again), "");

    // Lines shift above the old finding: still nothing new.
    edit(&file, "struct drv {", "/* a new comment */\n\nstruct drv {");
    let shifted = mmaudit(&[root, "--format", "gcc", "--baseline", base]);
    assert_eq!(stdout(&shifted), "");

    // A one-line change makes the ok site wrong: exactly that one is shown.
    edit(&file, "get_task_mm(t);", "t->active_mm;");
    let changed = mmaudit(&[root, "--format", "gcc", "--baseline", base]);
    assert_eq!(changed.status.code(), Some(1));
    let out = stdout(&changed);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.starts_with("drv.c:19:2: "), "{out}");
}

#[test]
fn a_baseline_is_never_written_into_the_audited_tree() {
    let (tree, _) = tree();
    let inside = tree.path().join("base.json");
    let o = mmaudit(&[
        tree.path().to_str().unwrap(),
        "--baseline",
        inside.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!inside.exists());
    assert!(String::from_utf8_lossy(&o.stderr).contains("inside the audited tree"));
}

#[test]
fn quiet_prints_only_the_findings() {
    let (tree, _) = tree();
    let o = mmaudit(&[tree.path().to_str().unwrap(), "--quiet"]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains("warning[MM001]"));
    assert!(!out.contains("borrow sites"), "{out}");
    assert!(o.stderr.is_empty());
}

#[test]
fn a_bad_path_is_an_error_with_status_2() {
    let o = mmaudit(&["/nonexistent/tree"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot read"));
}

/// The argument list kbuild's `cmd_checksrc` passes: sparse's flags, the
/// compiler's, then the source file (absolute, as with `O=`).
fn kbuild_args(file: &Path) -> Vec<String> {
    let mut a: Vec<String> = [
        "-D__linux__",
        "-Dlinux",
        "-D__STDC__",
        "-Dunix",
        "-D__unix__",
        "-Wbitwise",
        "-Wno-return-void",
        "-Wno-unknown-attribute",
        "--arch=x86",
        "-mlittle-endian",
        "-m64",
        "-Wp,-MMD,drivers/x/.drv.o.d",
        "-nostdinc",
        "-I./arch/x86/include",
        "-I./include",
        "-include",
        "./include/linux/kconfig.h",
        "-D__KERNEL__",
        "-std=gnu11",
        "-O2",
        "-DKBUILD_MODNAME=\"drv\"",
        "-c",
        "-o",
        "drivers/x/drv.o",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    a.push(file.to_str().unwrap().to_string());
    a
}

#[test]
fn kbuild_checker_mode_prints_the_files_findings_and_exits_0() {
    // A tree with the kernel's root files, the same driver in drivers/x/,
    // and a second driver with a finding of its own elsewhere.
    let (tree, _) = tree();
    let root = tree.path();
    for m in ["Kbuild", "Kconfig", "Makefile", "MAINTAINERS"] {
        std::fs::write(root.join(m), "").unwrap();
    }
    std::fs::create_dir_all(root.join("drivers/x")).unwrap();
    std::fs::rename(root.join("drv.c"), root.join("drivers/x/drv.c")).unwrap();
    std::fs::write(
        root.join("other.c"),
        "struct o { struct mm_struct *mm; };\nvoid o_set(struct o *p) { p->mm = current->mm; }\n\
         void o_run(struct o *p) { kthread_use_mm(p->mm); kthread_unuse_mm(p->mm); }\n",
    )
    .unwrap();
    let file = root.join("drivers/x/drv.c");
    let args = kbuild_args(&file);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = Command::new(env!("CARGO_BIN_EXE_mmaudit"))
        .args(&args)
        .env_remove("srctree")
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // The same lines as a whole-tree run, for this file only.
    let whole = mmaudit(&[root.to_str().unwrap(), "--format", "gcc"]);
    let expected: String = stdout(&whole)
        .lines()
        .filter(|l| l.starts_with("drivers/x/drv.c:"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(stdout(&o), expected);
    assert!(stdout(&whole).contains("other.c:"));
}

#[test]
fn an_api_file_adds_apis() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("drv.c"),
        "struct d { struct mm_struct *mm; };\n\
         void d_open(struct d *p)\n{\n\tp->mm = acquire_space(current);\n}\n\
         void d_run(struct d *p)\n{\n\tenter_space(p->mm);\n\tleave_space(p->mm);\n}\n",
    )
    .unwrap();
    let store = tempfile::tempdir().unwrap();
    let rules = store.path().join("rules.toml");
    std::fs::write(
        &rules,
        "# A driver's own wrappers around kthread_use_mm().\n\
         [[api]]\nname = \"enter_space\"\nrole = \"borrow_start\"\narity = 1\npair = \"leave_space\"\n\n\
         [[api]]\nname = \"leave_space\"\nrole = \"borrow_end\"\narity = 1\n\n\
         [[api]]\nname = \"acquire_space\"\nrole = \"returns_mm_users\"\narity = 1\n",
    )
    .unwrap();
    let root = dir.path().to_str().unwrap();
    let without = mmaudit(&[root, "--format", "json"]);
    assert_eq!(without.status.code(), Some(0));
    assert!(stdout(&without).contains("\"sites\": []"));
    let with = mmaudit(&[root, "--format", "json", "--api", rules.to_str().unwrap()]);
    let out = stdout(&with);
    assert_eq!(with.status.code(), Some(0), "{out}");
    assert!(out.contains("\"api\": \"enter_space\""), "{out}");
    assert!(out.contains("\"verdict\": \"ok\""), "{out}");
    // `--rules` is the same flag.
    let alias = mmaudit(&[root, "--format", "json", "--rules", rules.to_str().unwrap()]);
    assert_eq!(
        stdout(&alias).replace(char::is_numeric, ""),
        out.replace(char::is_numeric, "")
    );

    std::fs::write(
        &rules,
        "[[api]]\nname = \"x\"\nrole = \"eats_mm\"\narity = 1\n",
    )
    .unwrap();
    let bad = mmaudit(&[root, "--rules", rules.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("rules.toml"));
}

#[test]
fn select_and_ignore_choose_families_and_rules() {
    let (tree, file) = tree();
    edit(
        &file,
        "void drv_peek",
        "long drv_pin(struct drv *d, struct page **p)\n{\n\treturn pin_user_pages_remote(d->mm, 0, 1, 0, p, NULL);\n}\n\
         void drv_peek",
    );
    let root = tree.path().to_str().unwrap();
    let lines = |o: &Output| stdout(o).lines().map(str::to_string).collect::<Vec<_>>();
    // By default, windows only: the window without a reference.
    let default = mmaudit(&[root, "--no-cache", "--format", "gcc"]);
    assert_eq!(default.status.code(), Some(1));
    assert!(
        lines(&default)
            .iter()
            .all(|l| l.ends_with("[borrow-without-mm-users]"))
    );
    // A family adds its sites and replaces the default ones.
    let gup = mmaudit(&[root, "--no-cache", "--format", "gcc", "--select", "gup"]);
    assert_eq!(lines(&gup).len(), 1, "{}", stdout(&gup));
    assert!(lines(&gup)[0].ends_with("[access-without-mm-users]"));
    // ALL, less a rule: the access is still judged, its finding not shown.
    let all = [
        "--no-cache",
        "--format",
        "gcc",
        "--select",
        "ALL",
        "--ignore",
        "MM008",
    ];
    let ignored = mmaudit(&[&[root][..], &all[..]].concat());
    assert_eq!(lines(&ignored), lines(&default));
    let json = mmaudit(&[
        root,
        "--no-cache",
        "--format",
        "json",
        "--select",
        "window,gup",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let kinds: Vec<&str> = (v["sites"].as_array().unwrap().iter())
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["window", "access", "window"]);
    // A word that is no rule or family is an error, exit 2.
    let bad = mmaudit(&[root, "--select", "MM999"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).starts_with("mmaudit: error:"));
}
