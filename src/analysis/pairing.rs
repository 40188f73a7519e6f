//! Does every path that starts a borrow window also end it, with the same
//! mm? Checked inside the body that borrows (a function or a macro body).

use super::flow::{self, WindowEnd};
use super::trace::Tracer;
use crate::api::{Api, RefKind, Role};
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
    let closes = |name: &str, args: &[Expr]| tracer.ends_window(name, args.len(), borrow);
    let window = flow::window(tracer.api(), code, use_at, mm, &closes);
    let dropped = window.and_then(|w| w.dropped).map(loc);
    let mm_text = mm.text();
    let ends: Vec<(usize, String)> = (code.named_calls())
        .filter(|(ev, ..)| ev.span.0 > use_at)
        .filter_map(|(ev, name, args)| {
            let arg = args.get(closes(name, args)?)?;
            Some((ev.span.0, arg.text()))
        })
        .collect();
    if ends.is_empty() {
        // A fresh reference that is never put and never unused: the thread
        // adopts the mm for the rest of its life.
        let put = code.named_calls().any(|(_, n, a)| {
            (tracer.api().lookup(n, a.len())).is_some_and(|r| r.role == Role::DropsMmUsers)
                && a[0].text() == mm_text
        });
        let fresh = !chains.is_empty()
            && chains.iter().all(|c| c.reference == RefKind::MmUsers)
            && chains
                .iter()
                .all(|c| c.steps.first().is_some_and(|s| s.loc.file == file));
        let p = if fresh && !put {
            Pairing::Adopted
        } else {
            Pairing::Unpaired {
                why: format!(
                    "no `{}()` follows in `{}`",
                    borrow.pair.unwrap_or("unuse"),
                    body.name
                ),
                at: None,
            }
        };
        return (p, dropped);
    }
    let aliases = aliases_of(code, &mm_text);
    let Some(first_same) = (ends.iter())
        .find(|(_, t)| aliases.contains(t))
        .map(|(o, _)| *o)
    else {
        let (o, t) = &ends[0];
        let other = t.clone();
        return (Pairing::Mismatched { other, at: loc(*o) }, dropped);
    };
    let pairing = match window.map(|w| w.end) {
        Some(WindowEnd::Closed(end)) => Pairing::Paired(loc(end)),
        Some(WindowEnd::Leaves(Some(r))) => Pairing::Unpaired {
            why: "this path leaves before the window is closed".into(),
            at: Some(loc(r)),
        },
        Some(WindowEnd::Leaves(None)) => Pairing::Unpaired {
            why: "the unuse does not run on every path that borrowed".into(),
            at: Some(loc(first_same)),
        },
        None => Pairing::Unknown,
    };
    (pairing, dropped)
}

/// Every name the body may give the value `mm` holds: `mm`, and every
/// local assigned from one of them.
fn aliases_of(code: &Code, mm: &str) -> Vec<String> {
    let mut names = vec![mm.to_string()];
    loop {
        let more: Vec<String> = (code.events.iter())
            .filter_map(|e| match &e.kind {
                EventKind::Assign { lhs, rhs } if names.contains(&rhs.text()) => Some(lhs.text()),
                _ => None,
            })
            .filter(|l| !names.contains(l))
            .collect();
        if more.is_empty() {
            return names;
        }
        names.extend(more);
    }
}
