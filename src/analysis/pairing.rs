//! Does every path that starts a borrow window also end it, with the same
//! mm? Checked inside the body that borrows (a function or a macro body).

use super::flow::{self, WindowEnd};
use super::trace::Tracer;
use crate::api::{Api, RefKind};
use crate::facts::{Body, Code, Expr};
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
    let closes = |name: &str, args: &[Expr]| tracer.ends_window(name, args.len(), borrow);
    let Some(window) = flow::window(tracer.api(), code, use_at, mm, &closes) else {
        return (Pairing::Unknown, None);
    };
    let dropped = window.dropped.map(loc);
    let pairing = match (window.end, window.closed, window.other) {
        (WindowEnd::Closed(end), ..) => Pairing::Paired(loc(end)),
        (_, None, Some((at, other))) => Pairing::Mismatched { other, at: loc(at) },
        (_, None, None) => no_end(body, at, borrow, chains, dropped.is_some()),
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
