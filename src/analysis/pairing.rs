//! Does every path that starts a borrow window also end it, with the same
//! mm? Checked inside the body that borrows (a function or a macro body).

use super::flow::{self, Window, WindowEnd};
use super::trace::Tracer;
use crate::api::{Api, RefKind};
use crate::facts::{Body, Code, EventKind, Expr};
use crate::report::{Chain, Loc, Pairing};

/// Decides how the window opened at `at` (in `body`, whose code is
/// `code`) is closed: by the pair API, or a macro or function that calls
/// it on its parameter, on the borrowed value or a local alias of it, on
/// every feasible path out of the body; and where, if anywhere, a
/// reference on the value is dropped while it is open (see
/// [`flow::window`]).
pub fn pairing(
    tracer: &Tracer,
    body: &Body,
    code: &Code,
    at: Loc,
    mm: &Expr,
    borrow: &Api,
    chains: &[Chain],
) -> (Pairing, Option<Loc>) {
    let (file, use_at) = (at.file, at.offset);
    let loc = |offset| Loc { file, offset };
    let closes = |name: &str, args: &[Expr]| tracer.closed_by(name, args, borrow);
    let Some(window) = flow::window(tracer.api(), code, use_at, mm, &closes) else {
        return (Pairing::Unknown, None);
    };
    let dropped = window.dropped.map(loc);
    let pairing = match (window.end, window.closed, window.other) {
        (WindowEnd::Closed(end), ..) => Pairing::Paired(loc(end)),
        (_, None, Some((at, other))) => Pairing::Mismatched { other, at: loc(at) },
        (_, None, None) => {
            if let Some(by_callers) = closed_by_callers(tracer, at, mm, borrow) {
                return by_callers;
            }
            no_end(body, at, borrow, chains, dropped.is_some())
        }
        (WindowEnd::Leaves(Some(r)), Some(_), _) => Pairing::Unpaired {
            why: "this path leaves before the window is closed".into(),
            at: Some(loc(r)),
        },
        (WindowEnd::Leaves(None), Some(c), _) => Pairing::Unpaired {
            why: "the unuse does not run on every path that borrowed".into(),
            at: Some(loc(c)),
        },
    };
    (pairing, dropped)
}

/// The pairing of a window that no path closes: adopted if the reference
/// is fresh (taken in this file on every chain) and never put, unpaired
/// otherwise.
fn no_end(body: &Body, at: Loc, borrow: &Api, chains: &[Chain], put: bool) -> Pairing {
    let fresh = !chains.is_empty()
        && chains.iter().all(|c| c.reference == RefKind::MmUsers)
        && chains
            .iter()
            .all(|c| c.steps.first().is_some_and(|s| s.loc.file == at.file));
    if fresh && !put {
        // The thread adopts the mm for the rest of its life.
        return Pairing::Adopted;
    }
    Pairing::Unpaired {
        why: format!(
            "no `{}()` follows in `{}`",
            borrow.pair.unwrap_or("unuse"),
            body.name
        ),
        at: None,
    }
}

/// How many callers of a function that leaves a window open are looked
/// at for the close.
const MAX_CALLERS: usize = 64;

/// A function that opens the window on what its caller hands it and
/// returns with it open (an enter helper): the window is the caller's to
/// close, after the call, directly or by a teardown helper. Paired if every
/// caller closes it on every path; unpaired at a caller that does not,
/// once some caller does. `None` if no caller does (or the mm is not
/// the caller's to name), and the function itself is judged.
fn closed_by_callers(
    tracer: &Tracer,
    at: Loc,
    mm: &Expr,
    borrow: &Api,
) -> Option<(Pairing, Option<Loc>)> {
    let ix = tracer.index();
    let r = ix.body_at(at.file, at.offset)?;
    let body = ix.body(r);
    // What the caller handed (a function's parameter that still holds
    // it, or a local set from one).
    let (mm, _) = tracer.in_parameters(r, mm, at.offset);
    let root = Expr::Ident(mm.root_ident()?.to_string());
    tracer.handed_in(r, &root, at.offset)?;
    let callers = tracer.callers(r);
    if callers.len() > MAX_CALLERS {
        return None;
    }
    let closes = |name: &str, args: &[Expr]| tracer.closed_by(name, args, borrow);
    let (mut closed, mut open, mut dropped) = (None::<Loc>, None::<Pairing>, None::<Loc>);
    let mut any_close = false;
    for (call, _) in callers {
        let ev = ix.event(call);
        let EventKind::Call { args, .. } = &ev.kind else {
            continue;
        };
        if args.len() != body.params.len() {
            continue;
        }
        let here = mm.substitute(&|p| body.param_index(p).map(|i| args[i].clone()));
        let loc = |offset| Loc {
            file: call.at.file,
            offset,
        };
        let code = tracer.code(call.at);
        let window = flow::window(tracer.api(), code, ev.span.0, &here, &closes);
        any_close |= window.as_ref().is_some_and(|w| w.closed.is_some());
        let caller = &ix.body(call.at).name;
        let why = |what: &str| format!("`{}()` returns with the window open and {what}", body.name);
        let unpaired = match window {
            Some(Window {
                end: WindowEnd::Closed(c),
                dropped: d,
                ..
            }) => {
                closed = Some(closed.map_or(loc(c), |l| l.min(loc(c))));
                dropped = dropped.or(d.map(loc));
                continue;
            }
            Some(Window {
                end: WindowEnd::Leaves(left),
                closed: Some(c),
                ..
            }) => Pairing::Unpaired {
                why: why(&format!(
                    "a path of `{caller}()` leaves before it is closed"
                )),
                at: Some(loc(left.unwrap_or(c))),
            },
            _ => Pairing::Unpaired {
                why: why(&format!("`{caller}()` does not close it")),
                at: Some(loc(ev.span.0)),
            },
        };
        open = open.or(Some(unpaired));
    }
    if !any_close {
        return None;
    }
    let pairing = match (open, closed) {
        (Some(p), _) => p,
        (None, Some(c)) => Pairing::Paired(c),
        (None, None) => return None,
    };
    Some((pairing, dropped))
}
