//! The analysis: finds every borrow site in the index, follows its mm to
//! every origin, decides a verdict and the fix.
//!
//! Analysis never prints. It returns [`Site`]s, and the [`Demand`]s for
//! facts it looked for and did not find among the files parsed so far.

mod flow;
pub mod guarantees;
mod pairing;
pub mod trace;

use crate::api::{self, Api, ApiTable, Family, RefKind, Role};
use crate::demand::Demand;
use crate::facts::{BodyKind, Expr};
use crate::index::{BodyRef, Index};
use crate::report::{Chain, Loc, Pairing, Rule, Site, SiteKind, Step, StepKind, Verdict};
use guarantees::Examiner;
use std::collections::BTreeSet;
use trace::{Tracer, ends_in_null, mark_null_not_borrowed};

/// Analyzes every borrow site in the index, on the current rayon pool.
///
/// The sites are judged in as many batches as the pool has threads, each
/// with its own tracer: a tracer memoizes only what no cycle or depth
/// limit cut, which is the same whichever site asked first, so a site's
/// verdict does not depend on the batches.
pub fn analyze(ix: &Index, api: &ApiTable) -> (Vec<Site>, BTreeSet<Demand>) {
    use rayon::prelude::*;
    let mut starts = Vec::new();
    for r in ix.all_bodies() {
        // A body the parse left out mentions no API. The body of an API
        // of the table is the kernel's own: its callers are the sites.
        let body = ix.body(r);
        let Some(code) = body.code().filter(|_| api.by_name(&body.name).is_none()) else {
            continue;
        };
        for (ev, name, args) in code.named_calls() {
            let Some(row) = api.lookup(name, args.len()).filter(|r| api.makes_site(r)) else {
                continue;
            };
            starts.push((r, ev.span.0, row, &args[row.mm_arg]));
        }
    }
    let batch = starts.len().div_ceil(rayon::current_num_threads()).max(1);
    let judged: Vec<(Vec<Site>, BTreeSet<Demand>)> = starts
        .par_chunks(batch)
        .map(|batch| {
            let tracer = Tracer::new(ix, api);
            let examiner = Examiner::new(ix, &tracer);
            let mut sites = Vec::new();
            for &(r, offset, borrow, mm) in batch {
                sites.extend(judge(ix, &examiner, &tracer, r, offset, borrow, mm));
            }
            drop(examiner);
            (sites, tracer.into_demands())
        })
        .collect();
    let mut sites = Vec::new();
    let mut demands = BTreeSet::new();
    for (s, d) in judged {
        sites.extend(s);
        demands.extend(d);
    }
    let unread = unread_sites(ix, api, &sites);
    sites.extend(unread);
    sites.sort_by(|a, b| {
        let ka = (&ix.file(a.loc.file).path, a.loc.offset, a.macro_loc);
        let kb = (&ix.file(b.loc.file).path, b.loc.offset, b.macro_loc);
        ka.cmp(&kb)
    });
    (sites, demands)
}

/// The sites of one borrow call at `offset` of body `r`: one for a
/// function, one per expansion for a macro. A bug hit by one site must
/// not take the others down with it: it becomes a site that says so.
fn judge(
    ix: &Index,
    examiner: &Examiner,
    tracer: &Tracer,
    r: BodyRef,
    offset: usize,
    borrow: &'static api::Api,
    mm: &Expr,
) -> Vec<Site> {
    // Judged here, in the parallel batches: a lock is a site only if its
    // section touches the mm.
    if borrow.role == Role::LocksMm
        && !locked_section_touches(tracer.api(), tracer.code(r), offset, mm, borrow)
    {
        return vec![];
    }
    let judged = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match ix.body(r).kind {
        BodyKind::Function { .. } => {
            vec![direct_site(ix, examiner, tracer, r, offset, borrow, mm)]
        }
        BodyKind::Macro => macro_sites(ix, examiner, tracer, r, offset, borrow, mm),
    }));
    judged.unwrap_or_else(|_| vec![internal_error_site(ix, r, offset, borrow, mm)])
}

/// A site that could not be analyzed, with why: unresolved, one step.
fn unanalyzed_site(
    loc: Loc,
    function: Option<String>,
    api: &'static Api,
    mm: String,
    why: String,
) -> Site {
    Site {
        verdict: Verdict::Unresolved,
        reference: RefKind::Unknown,
        chains: vec![Chain {
            reference: RefKind::Unknown,
            steps: vec![Step {
                loc,
                note: why,
                kind: StepKind::Unknown,
            }],
            ..Default::default()
        }],
        findings: vec![Rule::UnresolvedOrigin],
        ..new_site(api, loc, function, mm)
    }
}

/// The site of a borrow whose analysis panicked: unresolved, with the
/// reason, so that it is not lost.
fn internal_error_site(
    ix: &Index,
    r: BodyRef,
    offset: usize,
    borrow: &'static Api,
    mm: &Expr,
) -> Site {
    unanalyzed_site(
        Loc {
            file: r.file,
            offset,
        },
        Some(ix.body(r).name.clone()),
        borrow,
        mm.text(),
        "mmaudit hit an internal error on this site (please report it)".into(),
    )
}

/// Borrow calls that sit in code the extractor could not read (parser
/// ERROR regions, nesting past the depth limit): found by text, reported as
/// unresolved with the reason, so that nothing is dropped silently.
fn unread_sites(ix: &Index, api: &ApiTable, found: &[Site]) -> Vec<Site> {
    // A lock is a site only for what its section does, which unread code
    // does not say.
    let names: Vec<&'static Api> = (api.all())
        .filter(|r| api.makes_site(r) && r.role != Role::LocksMm)
        .collect();
    let mut out = Vec::new();
    for (fid, facts) in ix.parsed() {
        if facts.unread.is_empty() {
            continue;
        }
        let file = ix.file(fid);
        let text = file.text().as_bytes();
        let line_of = |o: usize| file.lines.line_col(o).0;
        let known: std::collections::HashSet<u32> = found
            .iter()
            .flat_map(|s| [Some(s.loc), s.macro_loc])
            .flatten()
            .filter(|l| l.file == fid)
            .map(|l| line_of(l.offset))
            .collect();
        let mut lines_done = std::collections::HashSet::new();
        for &(start, end) in &facts.unread {
            for borrow in &names {
                let pat = borrow.name.as_bytes();
                let mut from = start;
                while let Some(p) = memchr::memmem::find(&text[from..end.min(text.len())], pat) {
                    let at = from + p;
                    from = at + pat.len();
                    let bounded = crate::lex::is_whole_word(text, at, from);
                    let call = text[from..]
                        .iter()
                        .find(|b| !b.is_ascii_whitespace())
                        .is_some_and(|&b| b == b'(');
                    let in_comment = facts.comments.iter().any(|c| c.0 <= at && at < c.1);
                    let line = line_of(at);
                    if !bounded || !call || in_comment || known.contains(&line) {
                        continue;
                    }
                    if !lines_done.insert(line) {
                        continue;
                    }
                    let loc = Loc {
                        file: fid as crate::source::FileId,
                        offset: at,
                    };
                    let function = ix.body_at(loc.file, at).map(|b| ix.body(b).name.clone());
                    out.push(unanalyzed_site(
                        loc,
                        function,
                        borrow,
                        "?".into(),
                        format!(
                            "`{}` is in code mmaudit could not read (a syntax error, an unknown \
                             macro, or nesting deeper than it follows): not analyzed",
                            borrow.name
                        ),
                    ));
                }
            }
        }
    }
    out
}

fn direct_site(
    ix: &Index,
    ex: &Examiner,
    tracer: &Tracer,
    r: BodyRef,
    offset: usize,
    borrow: &'static Api,
    mm: &Expr,
) -> Site {
    let body = ix.body(r);
    let code = tracer.code(r);
    let mut chains = tracer.trace(r, mm, offset, 0);
    mark_null_not_borrowed(&mut chains, tracer.null_guard(r, offset, &mm.text()));
    let at = Loc {
        file: r.file,
        offset,
    };
    let (pairing, dropped_in_window) = pair(borrow, || {
        pairing::pairing(tracer, body, code, at, mm, borrow, &chains)
    });
    finish(
        ix,
        ex,
        Site {
            chains,
            pairing,
            dropped_in_window,
            ..new_site(borrow, at, Some(body.name.clone()), mm.text())
        },
    )
}

/// A site of `api` at `loc` on `mm`, judged ok until `finish` says
/// otherwise, with no chains yet.
fn new_site(api: &'static Api, loc: Loc, function: Option<String>, mm: String) -> Site {
    let kind = match api.role {
        Role::Accesses | Role::LocksMm => SiteKind::Access,
        _ => SiteKind::Window,
    };
    Site {
        kind,
        family: api.family.unwrap_or(Family::Window),
        loc,
        function,
        macro_name: None,
        macro_loc: None,
        api: api.name,
        mm,
        verdict: Verdict::Ok,
        reference: RefKind::MmUsers,
        chains: vec![],
        pairing: Pairing::Unknown,
        dropped_in_window: None,
        fix: None,
        findings: vec![],
        guarantees: vec![],
        comments: vec![],
        contradiction: None,
    }
}

/// How a site's window is closed (`window`), or no window for an access
/// (a locked section's unlock is the lock's business, not the mm's).
fn pair(api: &Api, window: impl FnOnce() -> (Pairing, Option<Loc>)) -> (Pairing, Option<Loc>) {
    match api.role {
        Role::Accesses | Role::LocksMm => (Pairing::SingleCall, None),
        _ => window(),
    }
}

/// Whether the section that `lock` (a `LocksMm` call at `at` on `mm`)
/// opens looks up a VMA of `mm` or reaches into it before its unlock, on
/// some path: only then is the lock an access (a lock taken and dropped as
/// a barrier touches nothing).
fn locked_section_touches(
    api: &ApiTable,
    code: &crate::facts::Code,
    at: usize,
    mm: &Expr,
    lock: &Api,
) -> bool {
    let unlocks = |name: &str, args: &[Expr]| {
        (api.lookup(name, args.len()))
            .filter(|r| r.role == Role::UnlocksMm && Some(r.name) == lock.pair)
            .and_then(|r| args.get(r.mm_arg).cloned())
    };
    flow::window(api, code, at, mm, &unlocks).is_some_and(|w| w.touched.is_some())
}

/// One site per expansion of a macro whose body borrows (through any
/// macros that expand it).
fn macro_sites(
    ix: &Index,
    ex: &Examiner,
    tracer: &Tracer,
    m: BodyRef,
    offset: usize,
    borrow: &'static Api,
    mm: &Expr,
) -> Vec<Site> {
    let mac = ix.body(m);
    let macro_loc = Loc {
        file: m.file,
        offset,
    };
    let guard = tracer.guard(m, mm, offset);
    let code = tracer.code(m);
    let null_guarded = tracer.null_guard(m, offset, &mm.text());
    let (pairing, dropped_in_window) = pair(borrow, || {
        pairing::pairing(tracer, mac, code, macro_loc, mm, borrow, &[])
    });
    let head = Step {
        kind: StepKind::Macro,
        loc: macro_loc,
        note: format!(
            "`{}` borrows `{mm}` in the body of macro `{}`",
            borrow.name, mac.name
        ),
    };
    let (mm_in_params, locals) = tracer.in_parameters(m, mm, offset);
    let mut found = Vec::new();
    expansions(ix, tracer, m, &mm_in_params, 1, &mut found);
    found
        .into_iter()
        .map(|e| {
            let loc = e.steps.last().map_or(macro_loc, |s| s.loc);
            let mut prefix = vec![head.clone()];
            prefix.extend(locals.iter().cloned());
            prefix.extend(e.steps.iter().cloned());
            let chains = if let Some(g) = guard.clone().or(e.guard) {
                prefix.push(g);
                vec![Chain {
                    reference: RefKind::MmUsers,
                    steps: prefix,
                    ..Default::default()
                }]
            } else if let Some(why) = &e.unexpanded {
                prefix.push(Step {
                    kind: StepKind::Unknown,
                    loc,
                    note: why.clone(),
                });
                vec![Chain {
                    reference: RefKind::Unknown,
                    steps: prefix,
                    ..Default::default()
                }]
            } else {
                let mut chains = tracer.trace(e.host, &e.mm, e.offset, 0);
                mark_null_not_borrowed(&mut chains, e.null_guard.clone().or(null_guarded.clone()));
                for c in &mut chains {
                    c.steps.splice(0..0, prefix.iter().cloned());
                }
                chains
            };
            let host = ix.body(e.host);
            // A macro that only opens the window (its twin closes it) is
            // paired, and its window searched for puts, where it is
            // expanded.
            let (pairing, dropped_in_window) = match &pairing {
                Pairing::Unpaired { at: None, .. } if e.unexpanded.is_none() => {
                    let at = Loc {
                        file: e.host.file,
                        offset: e.offset,
                    };
                    let code = tracer.code(e.host);
                    pairing::pairing(tracer, host, code, at, &e.mm, borrow, &chains)
                }
                p => (p.clone(), dropped_in_window),
            };
            let function = e.unexpanded.is_none().then(|| host.name.clone());
            finish(
                ix,
                ex,
                Site {
                    macro_name: Some(mac.name.clone()),
                    macro_loc: Some(macro_loc),
                    chains,
                    pairing,
                    dropped_in_window,
                    ..new_site(borrow, loc, function, e.mm.text())
                },
            )
        })
        .collect()
}

/// How many macros may wrap a borrowing macro before the chain is cut.
const MAX_MACRO_NESTING: u32 = 8;
/// How many expansions of one borrowing macro are judged; macros that
/// expand a macro twice, eight deep, would otherwise multiply sites.
const MAX_EXPANSIONS: usize = 4096;

/// One place where a borrowing macro ends up expanded in a function,
/// possibly through other macros that expand it.
struct Expansion {
    /// The function (or, for a macro expanded nowhere, the macro) that
    /// holds the outermost expansion.
    host: BodyRef,
    /// Where the outermost expansion is in `host`.
    offset: usize,
    /// The borrowed mm, written in `host`'s terms.
    mm: Expr,
    /// Expansion steps, innermost first.
    steps: Vec<Step>,
    /// A guard met inside one of the wrapping macros.
    guard: Option<Step>,
    /// A test in a wrapping macro or in the host that keeps NULL from
    /// reaching the borrow.
    null_guard: Option<(Loc, String)>,
    /// Set when the chain of expansions ends in a macro, not a function:
    /// why (expanded nowhere, or nested too deep).
    unexpanded: Option<String>,
}

impl Expansion {
    /// A chain of expansions that ends in a macro, with why.
    fn unexpanded(host: BodyRef, offset: usize, mm: &Expr, why: String) -> Expansion {
        Expansion {
            host,
            offset,
            mm: mm.clone(),
            steps: vec![],
            guard: None,
            null_guard: None,
            unexpanded: Some(why),
        }
    }
}

/// Every function expansion of macro `m`, whose body borrows `mm`
/// (written in `m`'s parameters), following macros that expand macros.
fn expansions(
    ix: &Index,
    tracer: &Tracer,
    m: BodyRef,
    mm: &Expr,
    nesting: u32,
    out: &mut Vec<Expansion>,
) {
    let mac = ix.body(m);
    // Expansions are calls of the macro's name, wherever they are.
    tracer.demand(Demand::Ident(mac.name.clone()));
    let before = out.len();
    for &call in ix.calls_of(&mac.name) {
        if out.len() >= MAX_EXPANSIONS {
            out.push(Expansion::unexpanded(
                m,
                mac.name_offset,
                mm,
                format!(
                    "more than {MAX_EXPANSIONS} expansions of `{}`, the rest not followed",
                    mac.name
                ),
            ));
            break;
        }
        let ev = ix.event(call);
        let host = ix.body(call.at);
        let crate::facts::EventKind::Call { args, .. } = &ev.kind else {
            continue;
        };
        // A macro of a `.c` file expands only after its definition in that
        // file (a header's, wherever it is included).
        let local = ix.file(m.file).path.ends_with(".c");
        if args.len() != mac.params.len()
            || call.at == m
            || local && (call.at.file != m.file || ev.span.0 < mac.span.0)
        {
            continue;
        }
        let subst = |name: &str| mac.param_index(name).map(|i| args[i].clone());
        let mm_here = mm.substitute(&subst);
        let loc = Loc {
            file: call.at.file,
            offset: ev.span.0,
        };
        let null_guard = tracer.null_guard(call.at, ev.span.0, &mm_here.text());
        match host.kind {
            BodyKind::Function { .. } => out.push(Expansion {
                host: call.at,
                offset: ev.span.0,
                mm: mm_here.clone(),
                steps: vec![Step {
                    kind: StepKind::Macro,
                    loc,
                    note: format!("expanded in `{}()` with `{mm}` = `{mm_here}`", host.name),
                }],
                guard: None,
                null_guard,
                unexpanded: None,
            }),
            BodyKind::Macro => {
                let step = Step {
                    kind: StepKind::Macro,
                    loc,
                    note: format!(
                        "expanded in macro `{}` with `{mm}` = `{mm_here}`",
                        host.name
                    ),
                };
                let guard = tracer.guard(call.at, &mm_here, ev.span.0);
                let start = out.len();
                if nesting >= MAX_MACRO_NESTING {
                    out.push(Expansion::unexpanded(
                        call.at,
                        ev.span.0,
                        &mm_here,
                        format!("more than {MAX_MACRO_NESTING} nested macros, not followed"),
                    ));
                } else {
                    expansions(ix, tracer, call.at, &mm_here, nesting + 1, out);
                }
                for e in &mut out[start..] {
                    e.steps.insert(0, step.clone());
                    if e.null_guard.is_none() {
                        e.null_guard = null_guard.clone();
                    }
                    if guard.is_some() {
                        e.guard = guard.clone();
                    }
                }
            }
        }
    }
    if out.len() == before {
        out.push(Expansion::unexpanded(
            m,
            mac.name_offset,
            mm,
            format!(
                "macro `{}` is not expanded anywhere in the audited tree",
                mac.name
            ),
        ));
    }
}

/// Sorts and dedups the chains, then derives verdict, findings and fix.
fn finish(ix: &Index, ex: &Examiner, mut site: Site) -> Site {
    site.chains = trace::dedup_chains(std::mem::take(&mut site.chains));
    // Worst first; among equals, keep the order found.
    site.chains
        .sort_by_key(|c| std::cmp::Reverse(c.reference.badness()));
    // Among the equally worst, a path that borrows nothing names the
    // site's reference only if all do.
    let badness = site.chains.first().map(|c| c.reference.badness());
    let worst = (site.chains.iter())
        .take_while(|c| Some(c.reference.badness()) == badness)
        .map(|c| c.reference)
        .find(|&r| r != RefKind::NotBorrowed)
        .or(site.chains.first().map(|c| c.reference))
        .unwrap_or(RefKind::Unknown);
    site.reference = worst;
    site.verdict = match worst {
        RefKind::None | RefKind::MmCount => Verdict::Wrong,
        RefKind::Unknown => Verdict::Unresolved,
        RefKind::MmUsers | RefKind::Owner | RefKind::NotBorrowed | RefKind::Permanent => {
            Verdict::Ok
        }
    };
    let covered = ex.examine(&mut site);
    // No mm_users reference, but on every such path a guarantee that
    // holds: suspect, not wrong; unresolved if a path is not known.
    if site.verdict == Verdict::Wrong && covered {
        let unknown = site.chains.iter().any(|c| c.reference == RefKind::Unknown);
        site.verdict = if unknown {
            site.findings.push(Rule::UnprovenGuarantee);
            Verdict::Unresolved
        } else {
            Verdict::Suspect
        };
    }
    match site.verdict {
        Verdict::Wrong => site.findings.push(match site.kind {
            SiteKind::Window => Rule::BorrowWithoutMmUsers,
            SiteKind::Access => Rule::AccessWithoutMmUsers,
        }),
        Verdict::Suspect => site.findings.push(Rule::UnprovenGuarantee),
        Verdict::Unresolved => site.findings.push(Rule::UnresolvedOrigin),
        Verdict::Ok => {}
    }
    if site.contradiction.is_some() {
        site.findings.push(Rule::ContradictingComment);
    }
    match site.pairing {
        Pairing::Unpaired { .. } => site.findings.push(Rule::UnpairedBorrow),
        Pairing::Mismatched { .. } => site.findings.push(Rule::MismatchedUnuse),
        _ => {}
    }
    if site.dropped_in_window.is_some() {
        site.findings.push(Rule::DroppedInWindow);
    }
    site.fix = fix(ix, ex.api(), &site);
    site
}

fn fix(ix: &Index, api: &ApiTable, site: &Site) -> Option<String> {
    let mm = &site.mm;
    let end = api
        .by_name(site.api)
        .and_then(|r| r.pair)
        .unwrap_or("kthread_unuse_mm");
    let window = match site.kind {
        SiteKind::Window => format!(
            "borrow only inside `if (mmget_not_zero({mm})) {{ {}({mm}); ...; {end}({mm}); mmput({mm}); }}`",
            site.api
        ),
        SiteKind::Access => format!(
            "call `{}()` only inside `if (mmget_not_zero({mm})) {{ ...; mmput({mm}); }}`",
            site.api
        ),
    };
    let at = |l: Loc| {
        let f = ix.file(l.file);
        format!("{}:{}", f.path, f.lines.line_col(l.offset).0)
    };
    let mut fixes = Vec::new();
    if matches!(site.verdict, Verdict::Wrong | Verdict::Suspect) {
        let worst = &site.chains[0];
        let store = worst.steps.iter().find(|s| s.kind == StepKind::Store);
        let drop = worst.steps.iter().find(|s| s.kind == StepKind::Put);
        let null = ends_in_null(worst);
        fixes.push(match (store, drop, worst.reference) {
            (_, _, _) if null => format!("test `{mm}` for NULL before `{}()`", site.api),
            (Some(s), Some(d), _) => format!(
                "the mm stored at {} keeps only mm_count once {} drops its mm_users reference: {window}",
                at(s.loc),
                at(d.loc)
            ),
            (None, Some(d), _) => format!("keep the mm_users reference until after `{end}()`: move the `mmput()` at {} after it", at(d.loc)),
            (Some(s), None, RefKind::MmCount) => format!("keep the `mmgrab()` made with the store at {} and {window}", at(s.loc)),
            (Some(s), None, _) => format!(
                "take `mmgrab()` where the mm is stored ({}) and `mmdrop()` at teardown, and {window}",
                at(s.loc)
            ),
            _ => format!("hold an mm_users reference across the window: {window}"),
        });
    }
    match &site.pairing {
        Pairing::Unpaired { .. } => fixes.push(format!(
            "call `{end}({mm})` on every path out of the window"
        )),
        Pairing::Mismatched { .. } => fixes.push(format!("end the window with `{end}({mm})`")),
        _ => {}
    }
    (!fixes.is_empty()).then(|| fixes.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elide::{self, KeepWords};
    use crate::source::SourceFile;

    #[test]
    fn reading_a_body_left_out_is_a_demand_for_its_code() {
        // `check` names no API and no flow token: a parse leaves it out,
        // and looking for a liveness test in what `w` calls before the
        // borrow needs its code.
        let text = "static int check(struct foo *p)\n{\n\treturn p->x;\n}\n\
                    void set(struct foo *p)\n{\n\tp->mm = current->mm;\n}\n\
                    void w(struct foo *p)\n{\n\tcheck(p);\n\tkthread_use_mm(p->mm);\n\tkthread_unuse_mm(p->mm);\n}\n";
        let api = ApiTable::default();
        let blocks = elide::blocks(text.as_bytes());
        let out = elide::elided(text.as_bytes(), &blocks, &KeepWords::apis(&api), &[]);
        let caller = out.iter().map(|b| b.key).collect::<Vec<_>>();
        assert_eq!(caller.len(), 1);
        let facts = crate::facts::parse_leaving_out(text, &out).unwrap();
        let file = SourceFile::new("a.c".into(), "a.c".into(), text.into());
        let ix = Index::new(vec![file], vec![Some(facts)]);
        let (_, demands) = analyze(&ix, &api);
        assert!(demands.contains(&Demand::Code(0, caller[0])), "{demands:?}");
        // Parsed whole, nothing is left to ask for.
        let file = SourceFile::new("a.c".into(), "a.c".into(), text.into());
        let whole = crate::facts::of_file(&file).unwrap();
        let ix = Index::new(vec![file], vec![Some(whole)]);
        let (_, demands) = analyze(&ix, &api);
        assert!(!demands.iter().any(|d| matches!(d, Demand::Code(..))));
    }
}
