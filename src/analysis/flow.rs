//! Path facts over a body's control-flow graph (see [`crate::facts::cfg`]).
//!
//! A *fact* is a condition atom and the value a path took it with, kept
//! only for atoms a path cannot see change behind its back: plain locals
//! and constants, compared or not (`kthread`, `ret == 0`, `!mm`), no call,
//! field, element or dereference. An assignment to a name forgets the
//! facts that mention it. A path that would take an atom against a fact it
//! holds is infeasible and is not followed.

use crate::api::{ApiTable, Role};
use crate::facts::cfg::{BlockId, Cfg};
use crate::facts::{Code, EventKind, Expr};
use crate::lex::whole_words;
use std::collections::{BTreeSet, HashSet};

/// What a path knows: atoms (as text) and their values, sorted.
pub type Facts = BTreeSet<(String, bool)>;

/// How many (block, state) pairs a search looks at before it gives up.
const MAX_STATES: usize = 4096;

/// The text of condition `cond` if facts may be kept about it.
fn stable(code: &Code, cond: u32) -> Option<String> {
    let expr = &code.cfg.conds.get(cond as usize)?.expr;
    let text = expr.text();
    let plain = text
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b" _=!<>&|+-".contains(&b));
    (plain && !text.is_empty() && !text.contains("->")).then_some(text)
}

/// `facts` after event `e` runs: an assignment forgets what mentions its
/// left-hand side.
fn after_event(code: &Code, e: u32, facts: &mut Facts) {
    if let EventKind::Assign { lhs, .. } = &code.events[e as usize].kind {
        let name = lhs.text();
        facts.retain(|(t, _)| whole_words(t.as_bytes(), name.as_bytes()).next().is_none());
    }
}

/// `facts` along an edge out of a block; `None` if the edge contradicts
/// them.
fn along(code: &Code, when: Option<(u32, bool)>, facts: &Facts) -> Option<Facts> {
    let Some((cond, value)) = when else {
        return Some(facts.clone());
    };
    let Some(text) = stable(code, cond) else {
        return Some(facts.clone());
    };
    if facts.contains(&(text.clone(), !value)) {
        return None;
    }
    let mut out = facts.clone();
    out.insert((text, value));
    Some(out)
}

/// The facts every path from the entry holds at the start of each block
/// (`None`: no path reaches it). A fixpoint of intersections, each round
/// only shrinking what a block knows.
pub fn must_facts(code: &Code) -> Vec<Option<Facts>> {
    let cfg = &code.cfg;
    let mut at: Vec<Option<Facts>> = vec![None; cfg.blocks.len()];
    if cfg.blocks.is_empty() {
        return at;
    }
    at[Cfg::ENTRY as usize] = Some(Facts::new());
    let mut todo = vec![Cfg::ENTRY];
    let mut rounds = 0;
    while let Some(b) = todo.pop() {
        rounds += 1;
        if rounds > MAX_STATES {
            // Unsettled: know nothing anywhere rather than too much.
            return vec![Some(Facts::new()); cfg.blocks.len()];
        }
        let Some(mut facts) = at[b as usize].clone() else {
            continue;
        };
        for &e in &cfg.blocks[b as usize].events {
            after_event(code, e, &mut facts);
        }
        for edge in &cfg.blocks[b as usize].succs {
            let Some(out) = along(code, edge.when, &facts) else {
                continue;
            };
            let to = edge.to as usize;
            let merged = match &at[to] {
                None => out,
                Some(old) => old.intersection(&out).cloned().collect(),
            };
            if at[to].as_ref() != Some(&merged) {
                at[to] = Some(merged);
                todo.push(edge.to);
            }
        }
    }
    at
}

/// Where, on some feasible path from the borrow of `mm` at `use_at` to the
/// unuse that closes it, an `mm_users` reference on the same value is
/// dropped (`mmput()` inside the window). The value is `mm` and every
/// local a path assigns it to (an assignment of anything else ends that
/// alias); a path starts with the facts that hold at the borrow.
pub fn dropped_in_window(api: &ApiTable, code: &Code, use_at: usize, mm: &Expr) -> Option<usize> {
    let cfg = &code.cfg;
    let borrow = code.events.iter().position(|e| e.span.0 == use_at)? as u32;
    let start = cfg.block_of(borrow)?;
    let events = &cfg.blocks[start as usize].events;
    let skip = events.iter().position(|&e| e == borrow)?;
    let mut facts = must_facts(code)[start as usize].clone().unwrap_or_default();
    for &e in &events[..skip] {
        after_event(code, e, &mut facts);
    }
    let mut todo = vec![(start, skip + 1, vec![mm.text()], facts)];
    let mut seen: HashSet<(BlockId, usize, Vec<String>, Facts)> = HashSet::new();
    while let Some(state) = todo.pop() {
        if seen.len() >= MAX_STATES || !seen.insert(state.clone()) {
            continue;
        }
        let (b, from, mut names, mut facts) = state;
        match window_events(api, code, b, from, &mut names, &mut facts) {
            Window::Dropped(at) => return Some(at),
            Window::Closed => continue,
            Window::Open if names.is_empty() => continue,
            Window::Open => {}
        }
        for edge in &cfg.blocks[b as usize].succs {
            if let Some(next) = along(code, edge.when, &facts) {
                todo.push((edge.to, 0, names.clone(), next));
            }
        }
    }
    None
}

/// What a block does to an open window.
enum Window {
    /// A reference on the value is dropped at this offset.
    Dropped(usize),
    /// The window is closed.
    Closed,
    /// It stays open.
    Open,
}

/// Runs block `b`'s events from `from` on an open window of the value
/// `names` hold, updating the names and the facts.
fn window_events(
    api: &ApiTable,
    code: &Code,
    b: BlockId,
    from: usize,
    names: &mut Vec<String>,
    facts: &mut Facts,
) -> Window {
    for &e in &code.cfg.blocks[b as usize].events[from..] {
        after_event(code, e, facts);
        let ev = &code.events[e as usize];
        match &ev.kind {
            EventKind::Assign { lhs, rhs } => {
                let lhs = lhs.text();
                names.retain(|n| *n != lhs);
                if names.contains(&rhs.text()) {
                    names.push(lhs);
                    names.sort();
                }
            }
            EventKind::Call { callee, args } => {
                let Some(row) = callee.as_ident().and_then(|n| api.lookup(n, args.len())) else {
                    continue;
                };
                let on_value = (args.get(row.mm_arg)).is_some_and(|a| names.contains(&a.text()));
                match row.role {
                    Role::DropsMmUsers if on_value => return Window::Dropped(ev.span.0),
                    Role::BorrowEnd if on_value => return Window::Closed,
                    _ => {}
                }
            }
        }
    }
    Window::Open
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Body;

    fn body(src: &str) -> Body {
        let file = crate::source::SourceFile::new("t.c".into(), "t.c".into(), src.into());
        crate::facts::of_file(&file).unwrap().bodies.remove(0)
    }

    fn drop_line(src: &str) -> Option<usize> {
        let b = body(src);
        let code = b.code().unwrap();
        let api = ApiTable::default();
        let (ev, _, args) = code
            .named_calls()
            .find(|(_, n, _)| *n == "kthread_use_mm")
            .unwrap();
        dropped_in_window(&api, code, ev.span.0, &args[0])
            .map(|at| src[..at].bytes().filter(|&c| c == b'\n').count() + 1)
    }

    #[test]
    fn a_put_before_the_unuse_is_found_after_it_is_not() {
        let inside = "void f(struct mm_struct *mm)\n{\n\tkthread_use_mm(mm);\n\tmmput(mm);\n\tkthread_unuse_mm(mm);\n}\n";
        assert_eq!(drop_line(inside), Some(4));
        let after = "void f(struct mm_struct *mm)\n{\n\tkthread_use_mm(mm);\n\tkthread_unuse_mm(mm);\n\tmmput(mm);\n}\n";
        assert_eq!(drop_line(after), None);
    }

    #[test]
    fn a_path_the_borrows_condition_rules_out_is_not_followed() {
        // The unuse runs whenever the use did: `k` cannot change between.
        let src = "void f(struct mm_struct *mm, int k)\n{\n\tif (k)\n\t\tkthread_use_mm(mm);\n\twork();\n\tif (k)\n\t\tkthread_unuse_mm(mm);\n\tmmput(mm);\n}\n";
        assert_eq!(drop_line(src), None);
        // Once `k` is assigned, its value at the borrow says nothing.
        let reassigned = "void f(struct mm_struct *mm, int k)\n{\n\tif (k)\n\t\tkthread_use_mm(mm);\n\tk = next();\n\tif (k)\n\t\tkthread_unuse_mm(mm);\n\tmmput(mm);\n}\n";
        assert_eq!(drop_line(reassigned), Some(8));
        // A condition on a field may change behind the path's back.
        let field = "void f(struct mm_struct *mm, struct s *p)\n{\n\tif (p->k)\n\t\tkthread_use_mm(mm);\n\tif (p->k)\n\t\tkthread_unuse_mm(mm);\n\tmmput(mm);\n}\n";
        assert_eq!(drop_line(field), Some(7));
    }

    #[test]
    fn must_facts_hold_on_every_path_only() {
        let b = body("void f(int a)\n{\n\tif (a)\n\t\tx();\n\ty();\n}\n");
        let code = b.code().unwrap();
        let facts = must_facts(code);
        let block = |name: &str| {
            let e = code.named_calls().position(|(_, n, _)| n == name).unwrap();
            code.cfg.block_of(e as u32).unwrap() as usize
        };
        let x = facts[block("x")].clone().unwrap();
        assert!(x.contains(&("a".to_string(), true)));
        assert!(facts[block("y")].clone().unwrap().is_empty());
    }
}
