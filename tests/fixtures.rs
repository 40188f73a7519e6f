//! One small tree per pattern under `tests/fixtures/<pattern>/`: the
//! verdicts are asserted, and the human and JSON reports are snapshotted.

use mmaudit::api::RefKind;
use mmaudit::api::{ApiTable, FamilySet};
use mmaudit::audit::{Options, audit};
use mmaudit::render;
use mmaudit::report::Report;
use std::path::PathBuf;

fn run(name: &str) -> Report {
    run_with(name, false)
}

fn run_with(name: &str, keep_all_bodies: bool) -> Report {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let mut report = audit(
        &root,
        &Options {
            jobs: 2,
            keep_all_bodies,
            api: ApiTable::default().selecting(FamilySet::ALL),
            ..Options::default()
        },
    )
    .expect("fixture audits");
    report.root = format!("tests/fixtures/{name}");
    report.stats.elapsed_ms = 0;
    report
}

/// `function macro mm: verdict reference pairing [findings]`, one per site.
fn summary(r: &Report) -> Vec<String> {
    r.sites
        .iter()
        .map(|s| {
            let findings: Vec<&str> = s.findings.iter().map(|f| f.name()).collect();
            format!(
                "{} {} {}: {} {} {} [{}]",
                s.function.as_deref().unwrap_or("-"),
                s.macro_name.as_deref().unwrap_or("-"),
                s.mm,
                s.verdict.as_str(),
                s.reference.as_str(),
                s.pairing.as_str(),
                findings.join(",")
            )
        })
        .collect()
}

fn check(name: &str, expected: &[&str]) -> Report {
    let r = run(name);
    assert_eq!(summary(&r), expected, "fixture {name}");
    insta::assert_snapshot!(
        format!("{name}_human"),
        render::human::render(&r, true, false)
    );
    r
}

#[test]
fn bodies_left_out_of_a_parse_are_parsed_when_the_analysis_reads_them() {
    let r = check(
        "elided_helpers",
        &["session_flush - s->owner: wrong mm_count paired [borrow-without-mm-users]"],
    );
    // The liveness helper's body names no API: it was read, so parsed.
    let g = &r.sites[0].guarantees;
    assert!(
        g.iter().any(|g| g.note.contains("`session_task_alive()`")),
        "{g:?}"
    );
}

#[test]
fn leaving_bodies_out_changes_no_report() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut smaller = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        let mut whole = run_with(&name, true);
        let mut elided = run_with(&name, false);
        assert!(
            elided.stats.bytes_parsed <= whole.stats.bytes_parsed,
            "{name}"
        );
        smaller += usize::from(elided.stats.bytes_parsed < whole.stats.bytes_parsed);
        whole.stats.bytes_parsed = 0;
        elided.stats.bytes_parsed = 0;
        assert_eq!(
            render::json::render(&elided),
            render::json::render(&whole),
            "{name}"
        );
    }
    assert!(smaller > 0, "no fixture had a body left out");
}

#[test]
fn local_get_task_mm_is_ok() {
    check("local_get_task_mm", &["worker - mm: ok mm_users paired []"]);
}

#[test]
fn owner_reference_across_files_is_ok() {
    let r = check(
        "owner_reference",
        &["obj_thread - o->mm: ok mm_users paired []"],
    );
    let steps: Vec<&str> = r.sites[0].chains[0]
        .steps
        .iter()
        .map(|s| s.note.as_str())
        .collect();
    assert!(
        steps
            .iter()
            .any(|n| n.contains("released at teardown with `mmput()`")),
        "{steps:?}"
    );
}

#[test]
fn grab_then_get_is_ok() {
    check(
        "grab_then_get",
        &["fence_worker - f->mm: ok mm_users paired []"],
    );
}

#[test]
fn grab_only_is_wrong() {
    let r = check(
        "grab_only",
        &["vm_inject - vm->mm: wrong mm_count paired [borrow-without-mm-users]"],
    );
    assert!(
        r.sites[0]
            .fix
            .as_deref()
            .unwrap()
            .contains("mmget_not_zero(vm->mm)")
    );
}

#[test]
fn no_reference_is_wrong() {
    let r = check(
        "no_reference",
        &["complete_work - mm: wrong none paired [borrow-without-mm-users]"],
    );
    assert!(
        r.sites[0]
            .fix
            .as_deref()
            .unwrap()
            .contains("take `mmgrab()` where the mm is stored")
    );
}

#[test]
fn get_grab_put_keeps_only_mm_count() {
    check(
        "get_grab_put",
        &["win_fault - w->mm: wrong mm_count paired [borrow-without-mm-users]"],
    );
}

#[test]
fn store_guarded_by_mmget_not_zero_is_ok() {
    check(
        "guarded_store",
        &["deliver - sn->s[i].mm: ok mm_users paired []"],
    );
}

#[test]
fn lookalike_unuse_mm_is_not_a_site() {
    let r = check("lookalike", &[]);
    assert!(!r.has_findings());
}

#[test]
fn return_inside_the_window_is_unpaired() {
    check(
        "unpaired",
        &["copy_out - mm: ok mm_users unpaired [unpaired-borrow]"],
    );
}

#[test]
fn unuse_of_another_mm_is_mismatched() {
    check(
        "mismatched",
        &["swap_mm - mm: ok mm_users mismatched [mismatched-unuse,mm-users-dropped-in-window]"],
    );
}

#[test]
fn store_under_the_other_mode_does_not_reach_the_borrow() {
    let r = check("mode_flag", &["dev_thread - d->mm: ok mm_users paired []"]);
    let notes: Vec<&str> = r.sites[0].chains[0]
        .steps
        .iter()
        .map(|s| s.note.as_str())
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("only runs when it is true")),
        "{notes:?}"
    );
}

#[test]
fn fresh_mm_never_unused_is_adopted() {
    check("adopted", &["attach_fresh_mm - mm: ok mm_users adopted []"]);
}

#[test]
fn macro_sites_are_judged_from_the_far_end_of_every_chain() {
    let r = check(
        "macro_callers",
        &[
            "hw_load_a PEEK_USER mm: wrong none paired [borrow-without-mm-users]",
            "hw_load_b PEEK_USER mm: wrong none paired [borrow-without-mm-users]",
            "hw_peek PEEK_USER mm: unresolved unknown paired [unresolved-origin]",
        ],
    );
    // The worst chain names the caller that passes a field with no reference.
    let worst = &r.sites[0].chains[0];
    assert!(
        worst
            .steps
            .iter()
            .any(|s| s.note.contains("from `start_from_client()`")),
        "{worst:?}"
    );
    // current->mm and get_task_mm() callers are there too, NULL is not.
    assert!(
        r.sites[0]
            .chains
            .iter()
            .any(|c| c.reference == RefKind::Owner)
    );
    assert!(
        r.sites[0]
            .chains
            .iter()
            .any(|c| c.reference == RefKind::MmUsers)
    );
    // The NULL caller is shown, and holds nothing: the macro tests the mm.
    assert!(r.sites[0].chains.iter().any(|c| {
        c.reference == RefKind::NotBorrowed
            && c.steps
                .iter()
                .any(|s| s.note.contains("`start_unmapped()`"))
    }));
    assert_eq!(
        r.sites[0].chains[0]
            .via
            .as_ref()
            .map(|v| v.function.as_str()),
        Some("start_from_client")
    );
    insta::assert_snapshot!("macro_callers_json", render::json::render(&r));
    insta::assert_snapshot!("macro_callers_gcc", render::gcc::render(&r));
}

#[test]
fn recursion_between_wrappers_terminates() {
    check("recursion", &["walk_a - mm: ok owner paired []"]);
}

/// The names of the outermost callers on the chains of a site, in order.
fn vias(r: &Report, site: usize) -> Vec<(String, &'static str)> {
    r.sites[site]
        .chains
        .iter()
        .map(|c| {
            (
                c.via.as_ref().map_or("-".into(), |v| v.function.clone()),
                c.reference.as_str(),
            )
        })
        .collect()
}

#[test]
fn ops_table_and_runtime_pointer_across_files_and_a_header() {
    let r = check(
        "ops_header",
        &[
            "backend_load - mm: wrong none paired [borrow-without-mm-users]",
            "backend_replay - mm: wrong mm_count paired [borrow-without-mm-users]",
        ],
    );
    // The static table `.load = backend_load` is called as `e->ops->load`
    // from another file; the struct types live only in the header.
    assert_eq!(
        vias(&r, 0),
        [
            ("engine_run_saved".into(), "none"),
            // quiet.c names no mm token: the prefilter drops it, and the
            // sweep for the demanded `->load(` brings it back.
            ("engine_reset".into(), "none"),
            ("engine_run_held".into(), "none"),
            ("engine_run_ioctl".into(), "owner"),
            ("engine_run_for".into(), "mm_users"),
        ]
    );
    assert_eq!(r.stats.files_prefiltered, 3);
    // decoy.c calls `l->impl->load(` too, but no struct declares `impl`
    // as a `struct engine_ops`: the sweep leaves it (and its header) out.
    assert_eq!(r.stats.files_swept, 1);
    assert_eq!(r.stats.files_parsed, 4);
    // `mgr->replay = backend_replay;` at run time, called as `mgr->replay()`.
    assert_eq!(vias(&r, 1), [("fault_mgr_work".into(), "mm_count")]);
    insta::assert_snapshot!("ops_header_gcc", render::gcc::render(&r));
}

#[test]
fn macros_that_expand_a_borrowing_macro_are_followed() {
    let r = check(
        "nested_macros",
        &[
            "- WITH_MM mmp: unresolved unknown paired [unresolved-origin]",
            "reader_poll WITH_MM r->mm: wrong mm_count paired [borrow-without-mm-users]",
            "reader_poll_safe WITH_MM r->mm: ok mm_users paired []",
            "reader_poll_detached WITH_MM NULL: ok not_borrowed paired []",
        ],
    );
    // Each chain names both macros it went through, innermost first.
    let notes: Vec<&str> = r.sites[1].chains[0]
        .steps
        .iter()
        .map(|s| s.note.as_str())
        .collect();
    assert!(
        notes[0].contains("in the body of macro `WITH_MM`"),
        "{notes:?}"
    );
    assert!(
        notes[1].contains("expanded in macro `READ_REMOTE`"),
        "{notes:?}"
    );
    assert!(
        notes[2].contains("expanded in `reader_poll()`"),
        "{notes:?}"
    );
}

#[test]
fn many_callers_are_grouped_and_the_worst_decides() {
    let r = check(
        "many_callers",
        &["copy_remote - mm: wrong mm_count paired [borrow-without-mm-users]"],
    );
    let refs: Vec<&str> = r.sites[0]
        .chains
        .iter()
        .map(|c| c.reference.as_str())
        .collect();
    assert_eq!(refs.len(), 11, "one chain per caller: {refs:?}");
    assert_eq!(refs[0], "mm_count");
    assert_eq!(refs.iter().filter(|r| **r == "mm_users").count(), 8);
    assert!(refs.contains(&"owner") && refs.contains(&"not_borrowed"));
    // The report prints the shared steps once and one line per good path.
    let human = render::human::render(&r, true, false);
    assert_eq!(
        human.matches("is parameter 1 of `copy_remote()`").count(),
        1
    );
    assert!(human.contains("10 more paths (8 mm_users, 1 owner, 1 not_borrowed)"));
}

#[test]
fn a_chain_cut_by_the_depth_limit_is_unresolved_with_the_reason() {
    let r = check(
        "deep_wrappers",
        &["hop_0 - mm: unresolved unknown paired [unresolved-origin]"],
    );
    let last = r.sites[0].chains[0].steps.last().unwrap();
    assert!(last.note.contains("chain longer than"), "{}", last.note);
}

/// `function: verdict [guarantee:effective ...] documented?`, one per site.
fn guarantees(r: &Report) -> Vec<String> {
    r.sites
        .iter()
        .map(|s| {
            let g: Vec<String> = s
                .guarantees
                .iter()
                .map(|g| {
                    format!(
                        "{}:{}",
                        g.kind.as_str(),
                        if g.effective { "holds" } else { "no" }
                    )
                })
                .collect();
            format!(
                "{}: {} [{}] {}",
                s.function.as_deref().unwrap_or("-"),
                s.verdict.as_str(),
                g.join(" "),
                if s.documented() {
                    "documented"
                } else {
                    "undocumented"
                }
            )
        })
        .collect()
}

#[test]
fn mmu_notifier_release_holds_only_when_it_stops_the_borrower() {
    let r = check(
        "guarantee_notifier",
        &[
            "tlbcache_refill - t->mm: wrong mm_count paired [borrow-without-mm-users]",
            "mirror_fault_work - m->mm: suspect none paired [borrow-relies-on-other-guarantee]",
            "shadow_sync - s->mm: suspect none paired [borrow-relies-on-other-guarantee]",
        ],
    );
    assert_eq!(
        guarantees(&r),
        [
            "tlbcache_refill: wrong [mmu_notifier_release:no] undocumented",
            "mirror_fault_work: suspect [mmu_notifier_release:holds] documented",
            "shadow_sync: suspect [mmu_notifier_release:holds] undocumented",
        ]
    );
    // The release that stops the borrower is named, with what stops it
    // (found one call down, in `mirror_quiesce()`).
    assert!(r.sites[1].guarantees[0].note.contains("`mirror_release()`"));
    assert!(
        r.sites[1].guarantees[0]
            .note
            .contains("cancel_work_sync(&m->fault_work)")
    );
    assert!(
        r.sites[0].guarantees[0]
            .note
            .contains("does not stop the borrower")
    );
    // A documented guarantee is a note, an undocumented one a warning.
    let gcc = render::gcc::render(&r);
    assert!(gcc.contains("stops_documented.c:15:2: note:"), "{gcc}");
    assert!(gcc.contains("stops_plain.c:11:2: warning:"), "{gcc}");
    insta::assert_snapshot!("guarantee_notifier_json", render::json::render(&r));
}

#[test]
fn aio_submission_capture_is_a_guarantee() {
    let r = check(
        "guarantee_aio",
        &[
            "xfer_complete_work - x->mm: suspect none paired [borrow-relies-on-other-guarantee]",
            "dma_req_finish - d->mm: suspect none paired [borrow-relies-on-other-guarantee]",
        ],
    );
    assert_eq!(
        guarantees(&r),
        [
            "xfer_complete_work: suspect [aio_teardown:holds] documented",
            "dma_req_finish: suspect [aio_teardown:holds] undocumented",
        ]
    );
    assert_eq!(
        r.sites[0].comments[0].text,
        "exit_aio() waits for this request before the mm is torn down"
    );
    // The fix still says what would make it right without the ordering.
    assert!(
        r.sites[1]
            .fix
            .as_deref()
            .unwrap()
            .contains("mmget_not_zero(d->mm)")
    );
}

#[test]
fn liveness_and_caller_checks_are_reported_but_never_enough() {
    let r = check(
        "guarantee_liveness",
        &[
            "notify_ctx_post - n->mm: wrong mm_count paired [borrow-without-mm-users]",
            "window_fault - w->mm: wrong mm_count paired [borrow-without-mm-users]",
            "vmctx_signal - v->mm: wrong mm_count paired [borrow-without-mm-users]",
        ],
    );
    assert_eq!(
        guarantees(&r),
        [
            "notify_ctx_post: wrong [task_liveness:no] undocumented",
            "window_fault: wrong [task_liveness:no] documented",
            "vmctx_signal: wrong [caller_context:no] undocumented",
        ]
    );
    assert!(r.sites[1].guarantees[0].note.contains("racy"));
}

#[test]
fn a_field_comment_that_denies_a_reference_is_contradicted() {
    let r = check(
        "contradicting_comment",
        &[
            "tracker_poke - t->owner_mm: wrong none paired [borrow-without-mm-users,contradicting-lifetime-comment]",
        ],
    );
    let c = r.sites[0].contradiction.as_ref().unwrap();
    assert_eq!(
        c.text,
        "owner's mm: no reference held, never dereference it"
    );
    insta::assert_snapshot!("contradicting_comment_gcc", render::gcc::render(&r));
}

#[test]
fn path_explosion_is_capped_and_the_worst_path_still_decides() {
    let r = check(
        "diamond_callers",
        &["a_0 - mm: wrong none paired [borrow-without-mm-users]"],
    );
    let chains = &r.sites[0].chains;
    assert!(
        chains.len() <= mmaudit::analysis::trace::MAX_CHAINS,
        "{}",
        chains.len()
    );
    // The path from start_bad() is kept: it is among the worst.
    assert!(
        chains
            .iter()
            .any(|c| c.via.as_ref().is_some_and(|v| v.function == "start_bad"))
    );
    assert!(
        chains
            .iter()
            .any(|c| c.steps.iter().any(|s| s.note.contains("not listed")))
    );
}

#[test]
fn a_reference_dropped_inside_the_window_is_a_finding() {
    let r = check(
        "window_drop",
        &[
            "put_inside - mm: ok mm_users paired [mm-users-dropped-in-window]",
            "put_after - mm: ok mm_users paired []",
            "put_alias_on_one_path - mm: ok mm_users paired [mm-users-dropped-in-window]",
            "put_other - mm: ok mm_users paired []",
            "run_macro RUN_ON mm: ok mm_users paired [mm-users-dropped-in-window]",
        ],
    );
    let line = |s: &mmaudit::report::Site| {
        let l = s.dropped_in_window.expect("a drop");
        r.files[l.file as usize].lines.line_col(l.offset).0
    };
    assert_eq!((line(&r.sites[0]), line(&r.sites[2])), (18, 43));
}

#[test]
fn a_tasks_mm_is_the_kernels_and_takes_no_reference() {
    // The kernel's own `kthread_use_mm()` stores into `tsk->mm`: no chain
    // goes through it to every other borrow in the tree. A task handed in
    // is each caller's: `current` makes it the caller's own mm.
    let r = check(
        "task_mm",
        &[
            "other_task - t->mm: wrong none paired [borrow-without-mm-users]",
            "own_task - tsk->mm: ok owner paired []",
            "referenced - mm: ok mm_users paired []",
            "own_param - t->mm: ok owner paired []",
        ],
    );
    let through_kernel = r.sites.iter().flat_map(|s| &s.chains).any(|c| {
        c.steps
            .iter()
            .any(|st| r.files[st.loc.file as usize].path.starts_with("kernel/"))
    });
    assert!(!through_kernel);
}

#[test]
fn a_try_get_counts_however_its_result_is_tested() {
    // Through a local, `unlikely()`, `WARN_ON()`, or an mm set to NULL on
    // failure and tested: the same guard. Not tested at all: none.
    check(
        "guard_shapes",
        &[
            "through_a_local - r->mm: ok mm_users paired []",
            "through_unlikely - r->mm: ok mm_users paired []",
            "null_on_failure - mm: ok mm_users paired []",
            "warned - r->mm: ok mm_users paired []",
            "result_ignored - r->mm: wrong mm_count paired [borrow-without-mm-users]",
        ],
    );
}

#[test]
fn an_mm_returned_by_a_drivers_helper_is_followed() {
    // `return get_task_mm(t);` holds mm_users; a returned field holds what
    // its stores hold; a returned parameter (or a local set from one) is
    // this caller's argument, not every caller's.
    check(
        "helper_returns",
        &[
            "from_getter - mm: ok mm_users paired []",
            "from_peek - mm: wrong mm_count paired [borrow-without-mm-users]",
            "through_pass - mm: ok mm_users paired []",
            "through_alias - mm: ok mm_users paired []",
            "through_alias_grabbed - mm: wrong mm_count paired [borrow-without-mm-users]",
        ],
    );
}

#[test]
fn a_put_on_an_error_path_is_teardown_not_a_downgrade() {
    // Each setup puts its reference only where it clears the field, fails,
    // or frees the object; a put on the way to success would keep only
    // mm_count (see `get_grab_put`).
    let r = check(
        "error_teardown",
        &["ctx_work - c->mm: ok mm_users paired []"],
    );
    assert_eq!(r.sites[0].chains.len(), 3);
    // No setup's error path is cited as the field's teardown.
    let cited = r.sites[0]
        .chains
        .iter()
        .flat_map(|c| &c.steps)
        .any(|s| s.kind == mmaudit::report::StepKind::Teardown);
    assert!(!cited);
}

#[test]
fn a_window_is_closed_by_an_alias_a_twin_macro_or_a_helper() {
    // Before, these read as mismatched, unpaired in the macro, and
    // unpaired; a path that returns with the window open still is.
    let r = check(
        "window_shapes",
        &[
            "alias_unused - mm: ok mm_users paired []",
            "twin_macros ENTER_SPACE mm: ok mm_users paired []",
            "helper_closes - mm: ok mm_users paired []",
            "left_open - mm: ok mm_users unpaired [unpaired-borrow]",
        ],
    );
    let line = |l: mmaudit::report::Loc| r.files[l.file as usize].lines.line_col(l.offset).0;
    match &r.sites[3].pairing {
        mmaudit::report::Pairing::Unpaired { at: Some(at), .. } => assert_eq!(line(*at), 62),
        p => panic!("{p:?}"),
    }
}

#[test]
fn a_guarantee_covers_only_its_own_paths() {
    // The AIO ordering holds for the mm captured at submission, not for
    // the other task's mm stored elsewhere: the worse path decides.
    let r = check(
        "guarantee_one_path",
        &["io_job_finish - j->mm: wrong none paired [borrow-without-mm-users]"],
    );
    assert!(r.sites[0].guarantees.iter().any(|g| g.effective));
}

#[test]
fn a_statically_allocated_mm_is_permanent() {
    check(
        "static_mm",
        &[
            "svc_run - &svc_mm: ok permanent paired []",
            "svc_elsewhere - &extern_space: unresolved unknown paired [unresolved-origin]",
        ],
    );
}

#[test]
fn a_put_on_any_path_between_the_get_and_the_borrow_decides() {
    // Before, only a put on every path counted (`put_on_one_path` was ok).
    check(
        "local_put",
        &[
            "put_on_one_path - mm: wrong none paired [borrow-without-mm-users]",
            "grab_then_put - mm: wrong mm_count paired [borrow-without-mm-users]",
            "put_after - mm: ok mm_users paired []",
        ],
    );
}

#[test]
fn a_window_left_open_by_a_helper_is_closed_by_its_callers() {
    // `session_enter()` returns with the window open: its callers close
    // it (directly, or by a teardown helper on the same object), and one
    // path of `session_poll()` does not. `space_enter()`'s only caller
    // closes `s->mm` through `session_leave(s)`.
    let r = check(
        "enter_leave",
        &[
            "session_enter - s->mm: ok mm_users unpaired [unpaired-borrow]",
            "space_enter - mm: ok mm_users paired []",
        ],
    );
    let line = |l: mmaudit::report::Loc| r.files[l.file as usize].lines.line_col(l.offset).0;
    match &r.sites[0].pairing {
        mmaudit::report::Pairing::Unpaired { at: Some(at), why } => {
            assert_eq!(line(*at), 45, "{why}");
            assert!(why.contains("session_poll"), "{why}");
        }
        p => panic!("{p:?}"),
    }
    match &r.sites[1].pairing {
        mmaudit::report::Pairing::Paired(at) => assert_eq!(line(*at), 59),
        p => panic!("{p:?}"),
    }
}

#[test]
fn calls_that_reach_into_another_mm_are_judged_like_borrows() {
    // Each access needs mm_users for the call; the pre-5.9 signature with
    // the task first is told apart by arity, a VMA's mm is the one it was
    // found in (also by a walker the callback is handed to), a chained
    // assignment stores its right side, an error pointer tested out with
    // `IS_ERR()` borrows nothing, and a static function of the same
    // name and another arity is no access. A section under the mmap lock
    // is an access when it looks up a VMA, none when it is a barrier.
    let r = check(
        "access_apis",
        &[
            "own_start - current->mm: ok owner single_call []",
            "grabbed_start - w->mm: wrong mm_count single_call [access-without-mm-users]",
            "peek_got - mm: ok mm_users single_call []",
            "peek_grabbed - t->mm: wrong mm_count single_call [access-without-mm-users]",
            "peek_guarded - t->mm: ok mm_users single_call []",
            "copy_own - current->mm: ok owner single_call []",
            "peek_old_signature - t->mm: wrong mm_count single_call [access-without-mm-users]",
            "count_found - vma->vm_mm: ok mm_users single_call []",
            "count_vma - vma->vm_mm: wrong mm_count single_call [access-without-mm-users]",
            "copy_accessed - mm: ok mm_users single_call []",
            "visit_one - vma->vm_mm: ok owner single_call []",
            "copy_taken - t->mm: ok mm_users single_call []",
            "copy_found - mm: ok mm_users single_call []",
        ],
    );
    assert!(
        r.sites
            .iter()
            .all(|s| s.kind == mmaudit::report::SiteKind::Access)
    );
    // The guarded put balances its own get: it is not the field's teardown.
    let teardown = (r
        .sites
        .iter()
        .flat_map(|s| &s.chains)
        .flat_map(|c| &c.steps))
    .any(|s| s.kind == mmaudit::report::StepKind::Teardown);
    assert!(!teardown);
}
