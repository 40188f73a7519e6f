//! The analysis: finds every borrow site in the index, follows its mm to
//! every origin, decides a verdict and the fix.
//!
//! Analysis never prints. It returns [`Site`]s, and the [`Demand`]s for
//! facts it looked for and did not find among the files parsed so far.

mod pairing;
pub mod trace;

use crate::facts::{Body, BodyKind, Expr};
use crate::index::{BodyRef, Index};
use crate::report::{Chain, Loc, Pairing, Rule, Site, Step, Verdict};
use crate::rules::{self, ApiRule, RefKind, Role};
use std::collections::BTreeSet;
use trace::Tracer;

/// Something the analysis needs from files that may not be parsed yet.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Demand {
    /// Any whole-word use of an identifier (callers, macro expansions,
    /// calls through a field of that name).
    Ident(String),
    /// A store `->f =` / `.f =` into a field of that name.
    FieldStore(String),
    /// The definition `struct s {`.
    StructDef(String),
}

/// Analyzes every borrow site in the index.
pub fn analyze(ix: &Index) -> (Vec<Site>, BTreeSet<Demand>) {
    let tracer = Tracer::new(ix);
    let mut sites = Vec::new();
    for r in ix.all_bodies() {
        let body = ix.body(r);
        for (ev, name, args) in body.named_calls() {
            let Some(rule) =
                rules::lookup(name, args.len()).filter(|r| r.role == Role::BorrowStart)
            else {
                continue;
            };
            match body.kind {
                BodyKind::Function { .. } => {
                    sites.push(direct_site(ix, &tracer, r, ev.span.0, rule, &args[0]))
                }
                BodyKind::Macro => {
                    sites.extend(macro_sites(ix, &tracer, r, ev.span.0, rule, &args[0]))
                }
            }
        }
    }
    sites.sort_by(|a, b| {
        let ka = (&ix.file(a.loc.file).path, a.loc.offset, a.macro_loc);
        let kb = (&ix.file(b.loc.file).path, b.loc.offset, b.macro_loc);
        ka.cmp(&kb)
    });
    (sites, tracer.into_demands())
}

fn direct_site(
    ix: &Index,
    tracer: &Tracer,
    r: BodyRef,
    offset: usize,
    rule: &'static ApiRule,
    mm: &Expr,
) -> Site {
    let body = ix.body(r);
    let chains = tracer.trace(r, mm, offset, 0);
    let chains = drop_null_guarded(body, offset, &mm.text(), chains);
    let pairing = pairing::pairing(body, r.file, offset, mm, rule, &chains);
    finish(
        ix,
        Site {
            loc: Loc {
                file: r.file,
                offset,
            },
            function: Some(body.name.clone()),
            macro_name: None,
            macro_loc: None,
            api: rule.name,
            mm: mm.text(),
            verdict: Verdict::Ok,
            reference: RefKind::MmUsers,
            chains,
            pairing,
            fix: None,
            findings: vec![],
        },
    )
}

/// One site per expansion of a macro whose body borrows.
fn macro_sites(
    ix: &Index,
    tracer: &Tracer,
    m: BodyRef,
    offset: usize,
    rule: &'static ApiRule,
    mm: &Expr,
) -> Vec<Site> {
    let mac = ix.body(m);
    let macro_loc = Loc {
        file: m.file,
        offset,
    };
    let guard = tracer.guard(m, mm, offset);
    let pairing = pairing::pairing(mac, m.file, offset, mm, rule, &[]);
    let mut sites = Vec::new();
    // Expansions are calls of the macro's name, wherever they are.
    tracer.demand(Demand::Ident(mac.name.clone()));
    for &call in ix.calls_of(&mac.name) {
        let ev = ix.event(call);
        let host = ix.body(call.at);
        if host.kind == BodyKind::Macro {
            continue;
        }
        let crate::facts::EventKind::Call { args, .. } = &ev.kind else {
            continue;
        };
        if args.len() != mac.params.len() {
            continue;
        }
        let subst = |name: &str| mac.param_index(name).map(|i| args[i].clone());
        let mm_here = mm.substitute(&subst);
        let head = Step {
            loc: macro_loc,
            note: format!(
                "`{}` borrows `{mm}` in the body of macro `{}`",
                rule.name, mac.name
            ),
        };
        let chains = match &guard {
            Some(g) => vec![Chain {
                reference: RefKind::MmUsers,
                steps: vec![head, g.clone()],
            }],
            None => {
                let expand = Step {
                    loc: Loc {
                        file: call.at.file,
                        offset: ev.span.0,
                    },
                    note: format!("expanded in `{}()` with `{mm}` = `{mm_here}`", host.name),
                };
                let chains = tracer.trace(call.at, &mm_here, ev.span.0, 0);
                let chains = drop_null_guarded(mac, offset, &mm.text(), chains);
                let chains = drop_null_guarded(host, ev.span.0, &mm_here.text(), chains);
                chains
                    .into_iter()
                    .map(|mut c| {
                        c.steps.splice(0..0, [head.clone(), expand.clone()]);
                        c
                    })
                    .collect()
            }
        };
        sites.push(finish(
            ix,
            Site {
                loc: Loc {
                    file: call.at.file,
                    offset: ev.span.0,
                },
                function: Some(host.name.clone()),
                macro_name: Some(mac.name.clone()),
                macro_loc: Some(macro_loc),
                api: rule.name,
                mm: mm_here.text(),
                verdict: Verdict::Ok,
                reference: RefKind::MmUsers,
                chains,
                pairing: pairing.clone(),
                fix: None,
                findings: vec![],
            },
        ));
    }
    if sites.is_empty() {
        let note = format!(
            "macro `{}` is not expanded anywhere in the audited tree",
            mac.name
        );
        sites.push(finish(
            ix,
            Site {
                loc: macro_loc,
                function: None,
                macro_name: Some(mac.name.clone()),
                macro_loc: Some(macro_loc),
                api: rule.name,
                mm: mm.text(),
                verdict: Verdict::Ok,
                reference: RefKind::MmUsers,
                chains: match guard {
                    Some(g) => vec![Chain {
                        reference: RefKind::MmUsers,
                        steps: vec![g],
                    }],
                    None => vec![Chain {
                        reference: RefKind::Unknown,
                        steps: vec![Step {
                            loc: macro_loc,
                            note,
                        }],
                    }],
                },
                pairing,
                fix: None,
                findings: vec![],
            },
        ));
    }
    sites
}

/// NULL does not reach a borrow that only runs when the mm is non-NULL.
fn drop_null_guarded(body: &Body, offset: usize, mm: &str, chains: Vec<Chain>) -> Vec<Chain> {
    let guarded = body.branches_at(offset).any(|b| {
        b.kind == crate::facts::BranchKind::Then
            && b.cond.conjuncts().iter().any(|c| c.tests_non_null(mm))
    });
    if !guarded {
        return chains;
    }
    chains
        .into_iter()
        .filter(|c| c.steps.last().is_none_or(|s| s.note != "NULL"))
        .collect()
}

fn severity(r: RefKind) -> u8 {
    match r {
        RefKind::None => 4,
        RefKind::MmCount => 3,
        RefKind::Unknown => 2,
        RefKind::MmUsers | RefKind::Owner => 0,
    }
}

/// Sorts and dedups the chains, then derives verdict, findings and fix.
fn finish(ix: &Index, mut site: Site) -> Site {
    let mut seen = std::collections::HashSet::new();
    site.chains.retain(|c| seen.insert(c.clone()));
    // Worst first; among equals, keep the order found.
    site.chains
        .sort_by_key(|c| std::cmp::Reverse(severity(c.reference)));
    let worst = site
        .chains
        .first()
        .map_or(RefKind::Unknown, |c| c.reference);
    site.reference = worst;
    site.verdict = match worst {
        RefKind::None | RefKind::MmCount => Verdict::Wrong,
        RefKind::Unknown => Verdict::Unresolved,
        RefKind::MmUsers | RefKind::Owner => Verdict::Ok,
    };
    match site.verdict {
        Verdict::Wrong => site.findings.push(Rule::BorrowWithoutMmUsers),
        Verdict::Unresolved => site.findings.push(Rule::UnresolvedOrigin),
        _ => {}
    }
    match site.pairing {
        Pairing::Unpaired { .. } => site.findings.push(Rule::UnpairedBorrow),
        Pairing::Mismatched { .. } => site.findings.push(Rule::MismatchedUnuse),
        _ => {}
    }
    site.fix = fix(ix, &site);
    site
}

fn fix(ix: &Index, site: &Site) -> Option<String> {
    let mm = &site.mm;
    let end = rules::by_name(site.api)
        .and_then(|r| r.pair)
        .unwrap_or("kthread_unuse_mm");
    let window = format!(
        "borrow only inside `if (mmget_not_zero({mm})) {{ {}({mm}); ...; {end}({mm}); mmput({mm}); }}`",
        site.api
    );
    let at = |l: Loc| {
        let f = ix.file(l.file);
        format!("{}:{}", f.path, f.lines.line_col(l.offset).0)
    };
    let mut fixes = Vec::new();
    if site.verdict == Verdict::Wrong {
        let worst = &site.chains[0];
        let store = worst.steps.iter().find(|s| s.note.starts_with("stored:"));
        let drop = worst
            .steps
            .iter()
            .find(|s| s.note.contains("drops the mm_users reference"));
        let null = worst.steps.last().is_some_and(|s| s.note == "NULL");
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
