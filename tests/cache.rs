//! The incremental cache changes how fast a run is, never what it says:
//! cold, warm and uncached runs give byte-identical JSON (`elapsed_ms`
//! aside), also after a file changes.

use mmaudit::audit::{Options, audit};
use mmaudit::render;
use std::path::Path;
use std::process::Command;

/// The JSON of an audit (`elapsed_ms` zeroed), and whether the rounds were
/// replayed from the cache.
fn audit_json(root: &Path, cache: Option<&Path>) -> (String, bool) {
    let mut r = audit(
        root,
        &Options {
            jobs: 2,
            cache_dir: cache.map(Path::to_path_buf),
            ..Options::default()
        },
    )
    .unwrap();
    r.stats.elapsed_ms = 0;
    (render::json::render(&r), r.stats.replayed)
}

fn json(root: &Path, cache: Option<&Path>) -> String {
    audit_json(root, cache).0
}

fn run(root: &Path, cache: &Path) -> (String, bool) {
    audit_json(root, Some(cache))
}

/// A copy of the fixture trees under `dir`.
fn fixture_tree(dir: &Path) -> std::path::PathBuf {
    let root = dir.join("tree");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    assert!(
        Command::new("cp")
            .arg("-a")
            .arg(&fixtures)
            .arg(&root)
            .status()
            .unwrap()
            .success()
    );
    root
}

/// A copy of the fixture trees, and a cache directory beside it (both gone
/// with the first value).
fn fixture_tree_and_cache() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = fixture_tree(dir.path());
    let cache = dir.path().join("cache");
    (dir, root, cache)
}

#[test]
fn cached_runs_give_the_same_json_as_uncached_ones() {
    let (_dir, root, cache) = fixture_tree_and_cache();

    let uncached = json(&root, None);
    let cold = json(&root, Some(&cache));
    assert!(
        cache.join("facts").read_dir().unwrap().count() > 10,
        "facts were cached"
    );
    let warm = json(&root, Some(&cache));
    assert_eq!(uncached, cold);
    assert_eq!(uncached, warm);

    // A one-file change: the cache must not hide it. The NULL caller file
    // of ops_header is one the prefilter drops (the sweep finds it).
    let quiet = root.join("ops_header/quiet.c");
    let text = std::fs::read_to_string(&quiet).unwrap();
    std::fs::write(&quiet, text.replace("e->ops->load(e, NULL)", "0")).unwrap();
    let changed_uncached = json(&root, None);
    assert_ne!(changed_uncached, uncached);
    assert_eq!(json(&root, Some(&cache)), changed_uncached);

    // And a file that did not mention an mm now does.
    let other = root.join("many_callers/extra.c");
    std::fs::write(
        &other,
        "struct job;\nint extra_caller(struct job *j) { return copy_remote(NULL, 0); }\n",
    )
    .unwrap();
    let added_uncached = json(&root, None);
    assert_ne!(added_uncached, changed_uncached);
    assert_eq!(json(&root, Some(&cache)), added_uncached);
}

#[test]
fn a_rerun_replays_the_rounds_only_when_nothing_they_read_changed() {
    let (_dir, root, cache) = fixture_tree_and_cache();
    let uncached = json(&root, None);
    assert_eq!(run(&root, &cache), (uncached.clone(), false));
    assert_eq!(run(&root, &cache), (uncached.clone(), true), "warm");

    // A comment at the end of a borrowing file moves no code.
    let borrow = root.join("many_callers/borrow.c");
    let text = std::fs::read_to_string(&borrow).unwrap();
    std::fs::write(&borrow, format!("{text}/* struct job: a note */\n")).unwrap();
    let (out, replayed) = run(&root, &cache);
    assert!(replayed, "a trailing comment");
    assert_eq!(out, json(&root, None));

    // A changed file that satisfies no demand, and a new one.
    let quiet = root.join("lookalike/unrelated.c");
    std::fs::write(&quiet, "int unrelated(void) { return 0; }\n").unwrap();
    let (out, replayed) = run(&root, &cache);
    assert!(replayed, "a file nothing asks for");
    assert_eq!(out, json(&root, None));

    // Code moved in a borrowing file: the rounds run again.
    std::fs::write(&borrow, format!("\n{text}")).unwrap();
    let moved = json(&root, None);
    assert_ne!(moved, uncached, "the lines moved");
    assert_eq!(run(&root, &cache), (moved.clone(), false));
    assert_eq!(run(&root, &cache), (moved.clone(), true));

    // A new caller of a function the rounds asked about, in a file the
    // prefilter drops: the rounds run again and find it.
    std::fs::write(
        root.join("many_callers/late.c"),
        "int late_caller(void) { return copy_remote(NULL, 0); }\n",
    )
    .unwrap();
    let late = json(&root, None);
    assert_ne!(late, moved);
    assert_eq!(run(&root, &cache), (late, false));
}

#[test]
fn a_member_declared_with_an_ops_type_changes_what_cached_runs_bring_in() {
    let (_dir, root, cache) = fixture_tree_and_cache();
    let uncached = json(&root, None);
    assert!(!uncached.contains("loader_start"));
    assert_eq!(run(&root, &cache), (uncached.clone(), false));
    assert_eq!(run(&root, &cache), (uncached.clone(), true), "warm");

    // The decoy's loader now points at the engine's table: its
    // `l->impl->load(l, 0)` calls the borrowing function. Neither the
    // header (the change) nor the decoy (unchanged) names an mm token.
    let header = root.join("ops_header/include/loader.h");
    let text = std::fs::read_to_string(&header).unwrap();
    let typed = text.replace(
        "const struct loader_impl *impl;",
        "const struct engine_ops *impl;",
    );
    assert_ne!(typed, text);
    std::fs::write(&header, &typed).unwrap();
    let changed = json(&root, None);
    assert!(changed.contains("loader_start"), "a new caller");
    assert_eq!(run(&root, &cache), (changed.clone(), false));
    assert_eq!(run(&root, &cache), (changed, true), "warm");

    // And back: the caller is gone again.
    std::fs::write(&header, &text).unwrap();
    assert_eq!(run(&root, &cache), (uncached, false));
}

#[test]
fn a_dropped_file_changed_in_a_run_that_did_not_sweep_is_not_hidden_by_an_old_list() {
    let (_dir, root, cache) = fixture_tree_and_cache();
    let uncached = json(&root, None);
    assert_eq!(run(&root, &cache).0, uncached, "the sweep lists are made");

    // A run that asks nothing of `copy_remote` (its borrow is gone), while
    // a new dropped file starts calling it.
    let borrow = root.join("many_callers/borrow.c");
    let text = std::fs::read_to_string(&borrow).unwrap();
    let quiet = text
        .replace("kthread_use_mm(mm);", "touch(0);")
        .replace("kthread_unuse_mm(mm);", "touch(0);");
    assert_ne!(quiet, text);
    std::fs::write(&borrow, quiet).unwrap();
    std::fs::write(
        root.join("many_callers/late.c"),
        "int late_caller(void) { return copy_remote(NULL, 0); }\n",
    )
    .unwrap();
    assert_eq!(run(&root, &cache).0, json(&root, None));

    // The borrow is back: the late caller, unchanged since the last run,
    // must be found although the first run's list for the demand lacks it.
    std::fs::write(&borrow, &text).unwrap();
    let back = json(&root, None);
    assert!(back.contains("late_caller"));
    assert_eq!(run(&root, &cache), (back, false));
}
