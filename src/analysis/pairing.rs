//! Does every path that starts a borrow window also end it, with the same
//! mm? Checked inside the body that borrows (a function or a macro body).

use super::trace::leaving_jumps;
use crate::api::{Api, ApiTable, RefKind, Role};
use crate::facts::{Body, BranchKind, Code, EventKind, Expr};
use crate::report::{Chain, Loc, Pairing};

/// Decides how the window opened at `at` (in `body`, whose code is
/// `code`) is closed.
pub fn pairing(
    api: &ApiTable,
    body: &Body,
    code: &Code,
    at: Loc,
    mm: &Expr,
    borrow: &Api,
    chains: &[Chain],
) -> Pairing {
    let (file, use_at) = (at.file, at.offset);
    let loc = |offset| Loc { file, offset };
    let mm_text = mm.text();
    let ends: Vec<(usize, String)> = code
        .named_calls()
        .filter(|(ev, name, args)| {
            ev.span.0 > use_at
                && api
                    .lookup(name, args.len())
                    .is_some_and(|r| r.role == Role::BorrowEnd)
                && Some(*name) == borrow.pair
        })
        .map(|(ev, _, args)| (ev.span.0, args[0].text()))
        .collect();
    if ends.is_empty() {
        // A fresh reference that is never put and never unused: the thread
        // adopts the mm for the rest of its life.
        let put = code.named_calls().any(|(_, n, a)| {
            api.lookup(n, a.len())
                .is_some_and(|r| r.role == Role::DropsMmUsers)
                && a[0].text() == mm_text
        });
        let fresh = !chains.is_empty()
            && chains.iter().all(|c| c.reference == RefKind::MmUsers)
            && chains
                .iter()
                .all(|c| c.steps.first().is_some_and(|s| s.loc.file == file));
        return if fresh && !put {
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
    }
    let same: Vec<usize> = ends
        .iter()
        .filter(|(_, t)| *t == mm_text)
        .map(|(o, _)| *o)
        .collect();
    let Some(&first_same) = same.first() else {
        let (o, t) = &ends[0];
        return Pairing::Mismatched {
            other: t.clone(),
            at: loc(*o),
        };
    };
    for &end in &same {
        if !covers(code, use_at, end) {
            continue;
        }
        if let Some(&j) = leaving_jumps(code, use_at, end).first() {
            return Pairing::Unpaired {
                why: "this path leaves before the window is closed".into(),
                at: Some(loc(j)),
            };
        }
        return Pairing::Paired(loc(end));
    }
    Pairing::Unpaired {
        why: "the unuse does not run on every path that borrowed".into(),
        at: Some(loc(first_same)),
    }
}

/// True if `end` runs whenever `start` ran: every condition around `end`
/// that is not around `start` is either the same test as one around
/// `start`, or a flag set right where `start` runs.
fn covers(code: &Code, start: usize, end: usize) -> bool {
    let around_start: Vec<_> = code.branches_at(start).collect();
    code.branches_at(end)
        .filter(|b| !(b.span.0 <= start && start < b.span.1))
        .all(|b| {
            let twin = around_start.iter().any(|s| {
                s.kind == b.kind
                    && s.cond.text() == b.cond.text()
                    && !(s.span.0 <= end && end < s.span.1)
            });
            twin || (b.kind == BranchKind::Then && flag_set_with(code, start, end, &b.cond))
        })
}

/// `if (flag)` where `flag = true` (or 1) is assigned after `start`, under
/// exactly the conditions `start` runs under.
fn flag_set_with(code: &Code, start: usize, end: usize, cond: &Expr) -> bool {
    let Some(flag) = cond.as_ident() else {
        return false;
    };
    let regions = |o: usize| code.branches_at(o).map(|b| b.span).collect::<Vec<_>>();
    code.events.iter().any(|ev| {
        matches!(&ev.kind, EventKind::Assign { lhs, rhs }
            if lhs.as_ident() == Some(flag) && matches!(rhs.text().as_str(), "true" | "1"))
            && start < ev.span.0
            && ev.span.0 < end
            && regions(ev.span.0) == regions(start)
    })
}
