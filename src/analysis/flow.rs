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
use crate::lex::has_word;
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

/// The names event `e` may change: what it assigns or writes, and the
/// names a call that is no API of the table is handed (a function-like
/// macro may assign its arguments).
fn written(api: &ApiTable, code: &Code, e: u32) -> Vec<String> {
    match &code.events[e as usize].kind {
        EventKind::Assign { lhs, .. } => vec![lhs.text()],
        EventKind::Write { target } => vec![target.text()],
        EventKind::Call { callee, args } => {
            let known = (callee.as_ident()).is_some_and(|n| api.lookup(n, args.len()).is_some());
            if known {
                return vec![];
            }
            (args.iter().filter_map(Expr::as_ident))
                .map(str::to_string)
                .collect()
        }
        EventKind::Return { .. } => vec![],
    }
}

/// `facts` after event `e` runs: what mentions a name it may change is
/// forgotten.
fn after_event(api: &ApiTable, code: &Code, e: u32, facts: &mut Facts) {
    for name in written(api, code, e) {
        facts.retain(|(t, _)| !has_word(t.as_bytes(), name.as_bytes()));
    }
    // `flag = true;`: a later `if (flag)` knows.
    if let EventKind::Assign {
        lhs: Expr::Ident(name),
        rhs,
    } = &code.events[e as usize].kind
        && let Some(truth) = constant_truth(rhs)
    {
        facts.insert((name.clone(), truth));
    }
}

/// A condition that every path from the entry to a point tested, seen
/// through truth-passing wrappers and negations, with the value it had
/// there; no name in it has been changed since.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tested<'c> {
    pub expr: &'c Expr,
    pub truth: bool,
    /// Where the test is written.
    pub offset: usize,
}

/// The conditions every path from the entry to the event at `offset`
/// tested (see [`Tested`]), in source order. Unlike facts these include
/// calls and fields, and only an assignment forgets them: they say under
/// what the event runs, not what a later test will find. Empty if no
/// event is at `offset`.
pub fn tested_at<'c>(api: &ApiTable, code: &'c Code, offset: usize) -> Vec<Tested<'c>> {
    type Atoms = BTreeSet<(u32, bool)>;
    let cfg = &code.cfg;
    let Some(event) = code.events.iter().position(|e| e.span.0 == offset) else {
        return vec![];
    };
    let Some(target) = cfg.block_of(event as u32) else {
        return vec![];
    };
    // Only assignments forget a test: a call handed `dev` is taken to
    // leave `dev->flag` as it was, since a mode a body tests is set once.
    let kill = |e: u32, atoms: &mut Atoms| {
        let name = match &code.events[e as usize].kind {
            EventKind::Assign { lhs, .. } => lhs.text(),
            EventKind::Write { target } => target.text(),
            _ => return,
        };
        atoms.retain(|&(c, _)| {
            let text = cfg.conds[c as usize].expr.text();
            !has_word(text.as_bytes(), name.as_bytes())
        });
    };
    let edge = |when: Option<(u32, bool)>, atoms: &Atoms| {
        let mut out = atoms.clone();
        out.extend(when);
        Some(out)
    };
    let Some(at) = must_hold(cfg, kill, edge) else {
        return vec![];
    };
    let mut atoms = at[target as usize].clone().unwrap_or_default();
    for &e in cfg.blocks[target as usize]
        .events
        .iter()
        .take_while(|&&e| e as usize != event)
    {
        kill(e, &mut atoms);
    }
    let mut out: Vec<Tested> = (atoms.into_iter())
        .map(|(c, truth)| {
            let cond = &cfg.conds[c as usize];
            let (expr, truth) = through_wrappers(api, &cond.expr, truth);
            Tested {
                expr,
                truth,
                offset: cond.offset,
            }
        })
        .collect();
    out.sort_by_key(|t| t.offset);
    out
}

/// The event at `offset`: its index, its block, and its place in the block.
fn place(code: &Code, offset: usize) -> Option<(u32, BlockId, usize)> {
    let e = code.events.iter().position(|e| e.span.0 == offset)? as u32;
    let b = code.cfg.block_of(e)?;
    let at = code.cfg.blocks[b as usize]
        .events
        .iter()
        .position(|&x| x == e)?;
    Some((e, b, at))
}

/// The blocks some path from `from` reaches (`from` among them) without
/// entering `blocked`.
fn reachable(cfg: &Cfg, from: &[BlockId], blocked: Option<BlockId>) -> Vec<bool> {
    let mut seen = vec![false; cfg.blocks.len()];
    let mut todo = from.to_vec();
    while let Some(b) = todo.pop() {
        if Some(b) != blocked && !std::mem::replace(&mut seen[b as usize], true) {
            todo.extend(cfg.blocks[b as usize].succs.iter().map(|e| e.to));
        }
    }
    seen
}

/// Whether the borrow at `use_at`, guarded by the condition written at
/// `cond_at`, sits inside the guarded region (the paths that failed the
/// test meet the borrow's paths again before the exit: `if (ok) { ... }`)
/// rather than after an early way out (`if (!ok) return;`).
pub fn inside_guard(code: &Code, cond_at: usize, use_at: usize) -> bool {
    let cfg = &code.cfg;
    let Some((_, borrow, _)) = place(code, use_at) else {
        return false;
    };
    let tests = |e: &crate::facts::cfg::Edge| {
        e.when
            .is_some_and(|(c, _)| cfg.conds[c as usize].offset == cond_at)
    };
    let Some(test) = (cfg.blocks.iter()).position(|b| b.succs.iter().any(tests)) else {
        return false;
    };
    // Paths that do not run the test again (a loop would).
    let without_test = |from: BlockId| reachable(cfg, &[from], Some(test as BlockId));
    let after_borrow = without_test(borrow);
    (cfg.blocks[test].succs.iter())
        .filter(|e| tests(e) && !without_test(e.to)[borrow as usize])
        .any(|failed| {
            let met = without_test(failed.to);
            (0..cfg.blocks.len()).any(|b| b != Cfg::EXIT as usize && met[b] && after_borrow[b])
        })
}

/// True if every path from the entry to the event at offset `b` runs the
/// event at offset `a` first (`a` dominates `b`).
pub fn runs_before(code: &Code, a: usize, b: usize) -> bool {
    let (Some((_, ba, ia)), Some((_, bb, ib))) = (place(code, a), place(code, b)) else {
        return false;
    };
    if ba == bb {
        return ia < ib;
    }
    // The entry cannot reach `b`'s block without passing `a`'s.
    !reachable(&code.cfg, &[Cfg::ENTRY], Some(ba))[bb as usize]
}

/// True if some path runs the event at offset `b` after the one at `a`
/// (or `a` after `b`): the two are not on exclusive branches.
pub fn on_one_path(code: &Code, a: usize, b: usize) -> bool {
    let (Some(a), Some(b)) = (place(code, a), place(code, b)) else {
        return false;
    };
    let reaches = |(_, from, i): (u32, BlockId, usize), (_, to, j): (u32, BlockId, usize)| {
        let succs: Vec<BlockId> = (code.cfg.blocks[from as usize].succs.iter())
            .map(|e| e.to)
            .collect();
        (from == to && i <= j) || reachable(&code.cfg, &succs, None)[to as usize]
    };
    reaches(a, b) || reaches(b, a)
}

/// The truth of a constant: `true`, `false`, a number, `NULL`.
fn constant_truth(e: &Expr) -> Option<bool> {
    match e {
        Expr::Null => Some(false),
        Expr::Other(t) if t == "true" => Some(true),
        Expr::Other(t) if t == "false" => Some(false),
        Expr::Other(t) => {
            let digits = t
                .trim_start_matches("0x")
                .trim_end_matches(['u', 'U', 'l', 'L']);
            (!digits.is_empty()
                && digits.bytes().all(|b| b.is_ascii_hexdigit())
                && t.bytes().next().is_some_and(|b| b.is_ascii_digit()))
            .then(|| digits.bytes().any(|b| b != b'0'))
        }
        _ => None,
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

/// What every path from the entry holds at the start of each block
/// (`None`: no path reaches it): a fixpoint of intersections, each round
/// only shrinking what a block knows. `event` changes a set as an event
/// runs; `edge` gives the set along an edge (`None`: the edge cannot be
/// taken). `None` if it does not settle within `MAX_STATES` rounds.
fn must_hold<T: Ord + Clone>(
    cfg: &Cfg,
    event: impl Fn(u32, &mut BTreeSet<T>),
    edge: impl Fn(Option<(u32, bool)>, &BTreeSet<T>) -> Option<BTreeSet<T>>,
) -> Option<Vec<Option<BTreeSet<T>>>> {
    let mut at: Vec<Option<BTreeSet<T>>> = vec![None; cfg.blocks.len()];
    if cfg.blocks.is_empty() {
        return Some(at);
    }
    at[Cfg::ENTRY as usize] = Some(BTreeSet::new());
    let mut todo = vec![Cfg::ENTRY];
    let mut rounds = 0;
    while let Some(b) = todo.pop() {
        rounds += 1;
        if rounds > MAX_STATES {
            return None;
        }
        let Some(mut set) = at[b as usize].clone() else {
            continue;
        };
        for &e in &cfg.blocks[b as usize].events {
            event(e, &mut set);
        }
        for out_edge in &cfg.blocks[b as usize].succs {
            let Some(out) = edge(out_edge.when, &set) else {
                continue;
            };
            let to = out_edge.to as usize;
            let merged = match &at[to] {
                None => out,
                Some(old) => old.intersection(&out).cloned().collect(),
            };
            if at[to].as_ref() != Some(&merged) {
                at[to] = Some(merged);
                todo.push(out_edge.to);
            }
        }
    }
    Some(at)
}

/// The facts every path from the entry holds at the start of each block
/// (`None`: no path reaches it).
pub fn must_facts(api: &ApiTable, code: &Code) -> Vec<Option<Facts>> {
    let cfg = &code.cfg;
    must_hold(
        cfg,
        |e, facts| after_event(api, code, e, facts),
        |when, facts| along(code, when, facts),
    )
    // Unsettled: know nothing anywhere rather than too much.
    .unwrap_or_else(|| vec![Some(Facts::new()); cfg.blocks.len()])
}

/// Where a window opened on `mm` at `use_at` starts: the borrow's block,
/// the first event after the borrow in it, the names the value has there
/// on every path, and the facts every path holds there.
fn window_start(
    api: &ApiTable,
    code: &Code,
    use_at: usize,
    mm: &Expr,
) -> Option<(BlockId, usize, Vec<String>, Facts)> {
    let cfg = &code.cfg;
    let borrow = code.events.iter().position(|e| e.span.0 == use_at)? as u32;
    let start = cfg.block_of(borrow)?;
    let events = &cfg.blocks[start as usize].events;
    let skip = events.iter().position(|&e| e == borrow)?;
    let mut facts = must_facts(api, code)[start as usize]
        .clone()
        .unwrap_or_default();
    for &e in &events[..skip] {
        after_event(api, code, e, &mut facts);
    }
    let names = aliases_at(api, code, borrow, &mm.text());
    Some((start, skip + 1, names, facts))
}

/// How the body's own code made a value hold an `mm_users` reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HeldBy {
    /// A try-get (`mmget_not_zero()`) tested true, in the condition at
    /// `at` (an atom's offset).
    Test { at: usize, api: &'static str },
    /// A try-get whose result was stored (the assignment at `at`) and the
    /// store tested true.
    Flag { at: usize, api: &'static str },
    /// A get (`mmget()`) at `at`.
    Take { at: usize, api: &'static str },
}

/// What a path knows of one value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Value {
    /// Nothing this body did: the origin decides.
    Unknown,
    /// A reference this body took.
    Held(HeldBy),
    /// `NULL`.
    Null,
}

/// One path's knowledge: which names hold one value (must-aliases), what
/// each value is, which locals hold a try-get's result, and the facts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
struct Path {
    /// Groups of names holding the same value, each sorted, the groups
    /// sorted; only values something is known of, or that are aliased.
    values: Vec<(Vec<String>, Value)>,
    /// A local and a name of the value whose try-get it stored, with where
    /// and by which API.
    flags: Vec<(String, String, usize, &'static str)>,
    /// Names tested non-NULL, and where (the test's atom).
    non_null: Vec<(String, usize)>,
    facts: Facts,
}

impl Path {
    fn value_of(&self, name: &str) -> Value {
        (self.values.iter())
            .find(|(names, _)| names.iter().any(|n| n == name))
            .map_or(Value::Unknown, |(_, v)| *v)
    }

    /// The names that hold the value `name` holds on this path (`name`
    /// and its must-aliases).
    fn names_of(&self, name: &str) -> Vec<String> {
        (self.values.iter())
            .find(|(names, _)| names.iter().any(|n| n == name))
            .map_or_else(|| vec![name.to_string()], |(names, _)| names.clone())
    }

    /// `name` now holds a value of its own (forgets it from its group),
    /// and so does every name built on it (`name->mm`, `v[name]`).
    fn forget(&mut self, name: &str) {
        let on = |n: &str| n == name || has_word(n.as_bytes(), name.as_bytes());
        for (names, _) in &mut self.values {
            names.retain(|n| !on(n));
        }
        self.values
            .retain(|(names, v)| names.len() > 1 || (!names.is_empty() && *v != Value::Unknown));
        self.flags.retain(|(f, n, ..)| !on(f) && !on(n));
        self.non_null.retain(|(n, _)| !on(n));
    }

    /// Sets what the value `name` holds is, with every alias of it.
    fn set(&mut self, name: &str, value: Value) {
        match self
            .values
            .iter_mut()
            .find(|(names, _)| names.iter().any(|n| n == name))
        {
            Some((_, v)) => *v = value,
            None => self.values.push((vec![name.to_string()], value)),
        }
        self.values.sort();
    }

    /// `lhs = rhs`.
    fn assign(&mut self, api: &ApiTable, lhs: &str, rhs: &Expr, at: usize) {
        self.forget(lhs);
        let rhs_text = rhs.text();
        if let Some((arg, row)) = try_get(api, rhs) {
            self.flags.push((lhs.to_string(), arg.text(), at, row));
            self.flags.sort();
            return;
        }
        if *rhs == Expr::Null {
            return self.set(lhs, Value::Null);
        }
        if !is_access_path(rhs) {
            return;
        }
        match self
            .values
            .iter_mut()
            .find(|(names, _)| names.contains(&rhs_text))
        {
            Some((names, _)) => {
                names.push(lhs.to_string());
                names.sort();
            }
            None => {
                let mut names = vec![lhs.to_string(), rhs_text];
                names.sort();
                self.values.push((names, Value::Unknown));
            }
        }
        self.values.sort();
    }

    /// The path after taking condition atom `cond` with `truth`; `None`
    /// if it cannot.
    fn take(&self, api: &ApiTable, code: &Code, cond: u32, truth: bool) -> Option<Path> {
        let atom = &code.cfg.conds.get(cond as usize)?;
        let (core, truth) = through_wrappers(api, &atom.expr, truth);
        let mut next = self.clone();
        if let Some((arg, row)) = try_get(api, core) {
            if truth {
                next.set(
                    &arg.text(),
                    Value::Held(HeldBy::Test {
                        at: atom.offset,
                        api: row,
                    }),
                );
            }
            return Some(next);
        }
        let name = core.text();
        if let Some((_, value, at, row)) = self.flags.iter().find(|(f, ..)| *f == name) {
            if truth {
                next.set(value, Value::Held(HeldBy::Flag { at: *at, api: row }));
            }
            return Some(next);
        }
        // `IS_ERR(p)` false: `p` is an object, as after a NULL test.
        let error_test = (core.as_named_call())
            .filter(|(n, a)| {
                api.lookup(n, a.len())
                    .is_some_and(|r| r.role == Role::TestsError)
            })
            .map(|(_, a)| &a[0])
            .filter(|a| is_access_path(a));
        if let (Some(tested), false) = (error_test, truth) {
            let tested = tested.text();
            if !next.non_null.iter().any(|(n, _)| *n == tested) {
                next.non_null.push((tested, atom.offset));
                next.non_null.sort();
            }
        }
        if is_access_path(core) {
            let tested = self.non_null.iter().any(|(n, _)| *n == name);
            match (self.value_of(&name), truth) {
                (Value::Null, true) => return None,
                (Value::Held(_), false) => return None,
                (_, false) if tested => return None,
                (_, false) => next.set(&name, Value::Null),
                (_, true) if !tested => {
                    next.non_null.push((name.clone(), atom.offset));
                    next.non_null.sort();
                }
                _ => {}
            }
        }
        next.facts = along(code, Some((cond, truth)), &self.facts)?;
        Some(next)
    }
}

/// The call and its row if `e` is a try-get (`mmget_not_zero(x)`).
fn try_get<'e>(api: &ApiTable, e: &'e Expr) -> Option<(&'e Expr, &'static str)> {
    let (name, args) = e.as_named_call()?;
    let row = api.lookup(name, args.len())?;
    (row.role == Role::TriesMmUsers).then(|| (&args[row.mm_arg], row.name))
}

/// A plain name or a chain of fields and indexes, or its address:
/// something a later test can name. An index must have no effect of its own (no call, no
/// assignment), so that the same text names the same place until a word
/// of it is written (which [`Path::forget`] sees).
fn is_access_path(e: &Expr) -> bool {
    match e {
        Expr::Ident(_) => true,
        Expr::Field { base, .. } | Expr::AddrOf(base) => is_access_path(base),
        Expr::Index { base, index } => {
            is_access_path(base)
                && !index.contains(['(', '='])
                && !index.contains("++")
                && !index.contains("--")
        }
        _ => false,
    }
}

/// `e` with its truth-passing wrappers, negations and comparisons with
/// NULL taken off: the expression whose truth decides, and the truth it
/// has where `e` has `truth`.
fn through_wrappers<'e>(api: &ApiTable, mut e: &'e Expr, mut truth: bool) -> (&'e Expr, bool) {
    loop {
        match e {
            Expr::Not(inner) => {
                truth = !truth;
                e = inner;
            }
            Expr::Binary { op, left, right }
                if (op == "==" || op == "!=") && **right == Expr::Null =>
            {
                truth ^= op == "==";
                e = left;
            }
            Expr::Call { callee, args } if args.len() == 1 => {
                let passes = (callee.as_ident())
                    .and_then(|n| api.lookup(n, 1))
                    .is_some_and(|r| r.role == Role::PassesTruth);
                if !passes {
                    return (e, truth);
                }
                e = &args[0];
            }
            _ => return (e, truth),
        }
    }
}

/// The assignments to `name` (by text) that reach the point just before
/// the first event at or after `offset`, latest first, and whether every
/// path from the entry to it assigns `name` (else its value on some path
/// comes from before the body: a parameter, or nothing). Paths run
/// backwards over the CFG, loops included (an assignment later in a loop
/// reaches its next round).
pub fn reaching_defs(code: &Code, name: &str, offset: usize) -> (Vec<usize>, bool) {
    let cfg = &code.cfg;
    let Some(point) = code.events.iter().position(|e| e.span.0 >= offset) else {
        return (Vec::new(), false);
    };
    let Some(start) = cfg.block_of(point as u32) else {
        return (Vec::new(), false);
    };
    let preds = cfg.predecessors();
    let events = |b: BlockId| &cfg.blocks[b as usize].events;
    let upto = events(start)
        .iter()
        .position(|&e| e == point as u32)
        .unwrap_or(0);
    let assigns = |e: u32| matches!(&code.events[e as usize].kind, EventKind::Assign { lhs, .. } if lhs.text() == name);
    // A write of a name `name` is built on (`i` in `v[i].mm`, `p` in
    // `p->mm`): before it, `name` was another place.
    let moves = |e: u32| {
        let target = match &code.events[e as usize].kind {
            EventKind::Assign { lhs, .. } => lhs.text(),
            EventKind::Write { target } => target.text(),
            _ => return false,
        };
        target != name && has_word(name.as_bytes(), target.as_bytes())
    };
    let mut defs = BTreeSet::new();
    let mut undefined = false;
    let mut seen = HashSet::new();
    let mut todo = vec![(start, upto)];
    while let Some((b, upto)) = todo.pop() {
        match events(b)[..upto]
            .iter()
            .rev()
            .find(|&&e| assigns(e) || moves(e))
        {
            Some(&d) if assigns(d) => {
                defs.insert(d as usize);
                continue;
            }
            Some(_) => {
                undefined = true;
                continue;
            }
            None => {}
        }
        if b == Cfg::ENTRY {
            undefined = true;
        }
        for &p in &preds[b as usize] {
            if seen.insert(p) {
                todo.push((p, events(p).len()));
            }
        }
    }
    (defs.into_iter().rev().collect(), !undefined)
}

/// Where, on some feasible path from the definition `def` (an event) of
/// the value `names` hold to the point at `use_at`, that value's
/// `mm_users` reference is dropped (`mmput()`), and the `mmgrab()` of it
/// that path made before, if any: that path reaches the use with only
/// what the grab kept. (A get after the put takes a reference again; a
/// path that assigns the value again ends there.)
pub fn put_between(
    api: &ApiTable,
    code: &Code,
    def: usize,
    use_at: usize,
    names: &[String],
) -> Option<(usize, Option<usize>)> {
    let cfg = &code.cfg;
    let point = code.events.iter().position(|e| e.span.0 >= use_at)? as u32;
    let start = cfg.block_of(def as u32)?;
    let skip = cfg.blocks[start as usize]
        .events
        .iter()
        .position(|&e| e == def as u32)?
        + 1;
    // (block, first event, the grab and put so far, facts).
    type State = (BlockId, usize, Option<usize>, Option<usize>, Facts);
    let mut todo: Vec<State> = vec![(start, skip, None, None, Facts::new())];
    let mut seen: HashSet<State> = HashSet::new();
    let mut found: Option<(usize, Option<usize>)> = None;
    'paths: while let Some(state) = todo.pop() {
        if seen.len() >= MAX_STATES || !seen.insert(state.clone()) {
            continue;
        }
        let (b, from, mut grab, mut put, mut facts) = state;
        for &e in &cfg.blocks[b as usize].events[from..] {
            // Reaching the use after a put ends the path; before one, it
            // goes on (round a loop, to the next use).
            if e == point
                && let Some(p) = put
            {
                found = Some(found.map_or((p, grab), |f| f.min((p, grab))));
                continue 'paths;
            }
            after_event(api, code, e, &mut facts);
            let callee_args = match &code.events[e as usize].kind {
                // Assigned again (the definition itself, round a loop):
                // what reaches the use from here is that value, not this.
                EventKind::Assign { lhs: w, .. } | EventKind::Write { target: w }
                    if names.contains(&w.text()) =>
                {
                    continue 'paths;
                }
                EventKind::Call { callee, args } => Some((callee, args)),
                _ => None,
            };
            let Some((callee, args)) = callee_args else {
                continue;
            };
            let row = callee.as_ident().and_then(|n| api.lookup(n, args.len()));
            let on_value = |r: &crate::api::Api| {
                args.get(r.mm_arg)
                    .is_some_and(|a| names.contains(&a.text()))
            };
            match row {
                Some(r) if r.role == Role::TakesMmCount && on_value(r) => {
                    grab = Some(code.events[e as usize].span.0)
                }
                Some(r) if r.role == Role::DropsMmUsers && on_value(r) => {
                    put = Some(code.events[e as usize].span.0)
                }
                Some(r)
                    if matches!(r.role, Role::TakesMmUsers | Role::TriesMmUsers) && on_value(r) =>
                {
                    put = None
                }
                _ => {}
            }
        }
        for edge in &cfg.blocks[b as usize].succs {
            if let Some(next) = along(code, edge.when, &facts) {
                todo.push((edge.to, 0, grab, put, next));
            }
        }
    }
    found
}

/// How the body's own code makes `mm`, at the borrow at `use_at`, hold an
/// `mm_users` reference: on every feasible path that reaches the borrow
/// with a non-NULL `mm`, a get, or a try-get tested true (directly,
/// through a wrapper, or through a local that stored it), on `mm` or a
/// must-alias of it, and not dropped since. `None` if some such path
/// holds none (the origin then decides), or if the paths are too many to
/// tell.
pub fn held_at(api: &ApiTable, code: &Code, use_at: usize, mm: &Expr) -> Option<HeldBy> {
    let borrow = code.events.iter().position(|e| e.span.0 == use_at)? as u32;
    let mm = mm.text();
    let mut found: Option<HeldBy> = None;
    let complete = paths_to(api, code, borrow, |path| match path.value_of(&mm) {
        Value::Held(by) => {
            found = Some(found.map_or(by, |f| earliest(f, by)));
            true
        }
        Value::Null => true,
        Value::Unknown => false,
    });
    found.filter(|_| complete)
}

/// Where a test of `mm` against NULL (`if (mm)`, `if (!mm) return;`)
/// makes every feasible path that reaches the borrow at `use_at` have a
/// non-NULL `mm`: the offset of the first such test. `None` if some path
/// reaches it untested (or the paths are too many).
pub fn non_null_at(api: &ApiTable, code: &Code, use_at: usize, mm: &str) -> Option<usize> {
    let borrow = code.events.iter().position(|e| e.span.0 == use_at)? as u32;
    let mut found: Option<usize> = None;
    let complete = paths_to(api, code, borrow, |path| {
        let names = path.names_of(mm);
        let test = (path.non_null.iter())
            .filter(|(n, _)| names.contains(n))
            .map(|(_, at)| *at)
            .min();
        found = test.map(|t| found.map_or(t, |f| f.min(t)));
        test.is_some()
    });
    found.filter(|_| complete)
}

/// Runs every feasible path from the entry to event `borrow` and hands
/// what each knows there to `at_borrow`, which says whether to go on.
/// False if it said no, or if the paths are too many to run.
fn paths_to(
    api: &ApiTable,
    code: &Code,
    borrow: u32,
    mut at_borrow: impl FnMut(&Path) -> bool,
) -> bool {
    let cfg = &code.cfg;
    let mut todo = vec![(Cfg::ENTRY, Path::default())];
    let mut seen: HashSet<(BlockId, Path)> = HashSet::new();
    while let Some((b, mut path)) = todo.pop() {
        if seen.len() >= MAX_STATES {
            return false;
        }
        if !seen.insert((b, path.clone())) {
            continue;
        }
        for &e in &cfg.blocks[b as usize].events {
            if e == borrow && !at_borrow(&path) {
                return false;
            }
            run_event(api, code, e, &mut path);
        }
        for edge in &cfg.blocks[b as usize].succs {
            let next = match edge.when {
                Some((c, truth)) => path.take(api, code, c, truth),
                None => Some(path.clone()),
            };
            if let Some(next) = next {
                todo.push((edge.to, next));
            }
        }
    }
    true
}

/// The one of two ways of holding that comes first in the text.
fn earliest(a: HeldBy, b: HeldBy) -> HeldBy {
    let at = |h: HeldBy| match h {
        HeldBy::Test { at, .. } | HeldBy::Flag { at, .. } | HeldBy::Take { at, .. } => at,
    };
    if at(b) < at(a) { b } else { a }
}

/// What event `e` does to a path.
fn run_event(api: &ApiTable, code: &Code, e: u32, path: &mut Path) {
    let ev = &code.events[e as usize];
    after_event(api, code, e, &mut path.facts);
    match &ev.kind {
        EventKind::Assign { lhs, rhs } => path.assign(api, &lhs.text(), rhs, ev.span.0),
        EventKind::Write { target } => path.forget(&target.text()),
        EventKind::Return { .. } => {}
        EventKind::Call { callee, args } => {
            let Some(row) = callee.as_ident().and_then(|n| api.lookup(n, args.len())) else {
                // A function-like macro may assign a name it is handed:
                // what was NULL (or 0) may not be any more.
                for a in args.iter().filter_map(Expr::as_ident) {
                    if path.value_of(a) == Value::Null {
                        path.forget(a);
                    }
                }
                return;
            };
            let Some(arg) = args.get(row.mm_arg) else {
                return;
            };
            match row.role {
                Role::TakesMmUsers => {
                    let by = HeldBy::Take {
                        at: ev.span.0,
                        api: row.name,
                    };
                    path.set(&arg.text(), Value::Held(by));
                }
                Role::DropsMmUsers if matches!(path.value_of(&arg.text()), Value::Held(_)) => {
                    path.set(&arg.text(), Value::Unknown);
                }
                _ => {}
            }
        }
    }
}

/// Where the storing function, after storing the value `names` hold into
/// `field` (at `store_at`), drops that value's `mm_users` reference on a
/// path that goes on to leave the function normally: then the field keeps
/// only what else was taken. A path that also clears the field, frees the
/// object, or makes the function fail (returns a negative value or an
/// `ERR_PTR()`, directly or through a local holding it) is a teardown of
/// what it set up, not a downgrade.
pub fn downgrading_put(
    api: &ApiTable,
    code: &Code,
    store_at: usize,
    names: &[String],
    field: &str,
) -> Option<(usize, &'static str)> {
    let cfg = &code.cfg;
    // The store itself, or the declaration it is part of.
    let store = (code.events.iter().enumerate())
        .filter(|(_, e)| e.span.0 <= store_at)
        .max_by_key(|(_, e)| e.span.0)
        .map(|(i, _)| i as u32)?;
    let start = cfg.block_of(store)?;
    let skip = cfg.blocks[start as usize]
        .events
        .iter()
        .position(|&e| e == store)?
        + 1;
    let mut todo = vec![(start, skip, Teardown::default())];
    let mut seen = HashSet::new();
    while let Some((b, from, mut t)) = todo.pop() {
        if seen.len() >= MAX_STATES || !seen.insert((b, from, t.clone())) {
            continue;
        }
        for &e in &cfg.blocks[b as usize].events[from..] {
            t.run(api, &code.events[e as usize], names, field);
        }
        if b == Cfg::EXIT {
            if let (Some(put), false) = (t.put, t.undone || t.failed) {
                return Some(put);
            }
            continue;
        }
        for edge in &cfg.blocks[b as usize].succs {
            todo.push((edge.to, 0, t.clone()));
        }
    }
    None
}

/// What a path after a store has done to it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
struct Teardown {
    /// The first put of the stored value, and the API.
    put: Option<(usize, &'static str)>,
    /// The field was cleared or its object freed.
    undone: bool,
    /// The function returned an error.
    failed: bool,
    /// Locals that hold an error value, sorted.
    errors: Vec<String>,
}

impl Teardown {
    fn run(&mut self, api: &ApiTable, ev: &crate::facts::Event, names: &[String], field: &str) {
        match &ev.kind {
            EventKind::Assign { lhs, rhs } => {
                let lhs = lhs.text();
                if lhs == field && *rhs == Expr::Null {
                    self.undone = true;
                }
                self.errors.retain(|n| *n != lhs);
                if is_error(api, rhs, &self.errors) {
                    self.errors.push(lhs);
                    self.errors.sort();
                }
            }
            EventKind::Write { target } => {
                let target = target.text();
                self.errors.retain(|n| *n != target);
            }
            EventKind::Return { value } => {
                self.failed |= value
                    .as_ref()
                    .is_some_and(|v| is_error(api, v, &self.errors));
            }
            EventKind::Call { callee, args } => {
                let Some(row) = callee.as_ident().and_then(|n| api.lookup(n, args.len())) else {
                    return;
                };
                let Some(arg) = args.get(row.mm_arg).map(Expr::text) else {
                    return;
                };
                match row.role {
                    Role::DropsMmUsers if names.contains(&arg) => {
                        self.put = self.put.or(Some((ev.span.0, row.name)));
                    }
                    // The object the field is in: `kfree(obj)` for `obj->mm`.
                    Role::Frees
                        if field
                            .strip_prefix(arg.as_str())
                            .is_some_and(|r| r.starts_with("->") || r.starts_with('.')) =>
                    {
                        self.undone = true;
                    }
                    _ => {}
                }
            }
        }
    }
}

/// True if `e` is a failure value: a negative number or errno, an error
/// pointer, or a local holding one. (`0` and `NULL` are not told apart in
/// the facts, and `0` is success.)
fn is_error(api: &ApiTable, e: &Expr, errors: &[String]) -> bool {
    match e {
        Expr::Null => false,
        Expr::Ident(n) => errors.contains(n),
        Expr::Call { callee, args } => (callee.as_ident())
            .and_then(|n| api.lookup(n, args.len()))
            .is_some_and(|r| r.role == Role::MakesError),
        e => e.text().starts_with('-'),
    }
}

/// The names that hold the value of `mm` at the borrow at `use_at` on
/// every feasible path there: `mm` and its must-aliases (`held = mm;`
/// before the borrow).
fn aliases_at(api: &ApiTable, code: &Code, borrow: u32, mm: &str) -> Vec<String> {
    let mut common: Option<Vec<String>> = None;
    let complete = paths_to(api, code, borrow, |path| {
        let names = path.names_of(mm);
        common = Some(match common.take() {
            None => names,
            Some(c) => c.into_iter().filter(|n| names.contains(n)).collect(),
        });
        true
    });
    let mut names = common.filter(|_| complete).unwrap_or_default();
    if !names.iter().any(|n| n == mm) {
        names.push(mm.to_string());
    }
    names.sort();
    names
}

/// How a borrow window ends on the feasible paths from the borrow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowEnd {
    /// Every path closes it; the first closing call is at this offset.
    Closed(usize),
    /// Some path leaves the body with the window open: by the `return` at
    /// this offset, or (`None`) off the end or by a jump.
    Leaves(Option<usize>),
}

/// What the feasible paths from a borrow do with its window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    pub end: WindowEnd,
    /// The first call that closes it on some path (on the value or an
    /// alias).
    pub closed: Option<usize>,
    /// The first place an `mm_users` reference on the value is dropped
    /// while the window is open (`mmput()` before the unuse), if any.
    pub dropped: Option<usize>,
    /// The first closing call a path reaches on another value while the
    /// window is open, and that value's text.
    pub other: Option<(usize, String)>,
    /// The first call while it is open that finds a VMA of the value or
    /// reaches into it (roles `FindsVma`, `Accesses`): what makes a
    /// locked section an access.
    pub touched: Option<usize>,
}

/// What the window of `mm` opened at `use_at` comes to: closed by a call
/// that `closes` says ends the window on one of its arguments (the
/// argument's index), on the value `mm` or a must-alias of it (the
/// names it has at the borrow on every path, and the locals a path then
/// assigns it to); and whether a reference on it is dropped first. `None`
/// if the paths are too many to tell.
pub fn window(
    api: &ApiTable,
    code: &Code,
    use_at: usize,
    mm: &Expr,
    closes: &dyn Fn(&str, &[Expr]) -> Option<Expr>,
) -> Option<Window> {
    let cfg = &code.cfg;
    // (block, first event, names of the value, the last return, facts).
    type State = (BlockId, usize, Vec<String>, Option<usize>, Facts);
    let (start, first, names, facts) = window_start(api, code, use_at, mm)?;
    let mut todo: Vec<State> = vec![(start, first, names, None, facts)];
    let mut seen: HashSet<State> = HashSet::default();
    let mut closed: Option<usize> = None;
    let mut leaves: Option<Option<usize>> = None;
    let mut dropped: Option<usize> = None;
    let mut other: Option<(usize, String)> = None;
    let mut touched: Option<usize> = None;
    'paths: while let Some(state) = todo.pop() {
        if seen.len() >= MAX_STATES {
            return None;
        }
        if !seen.insert(state.clone()) {
            continue;
        }
        let (b, from, mut names, mut ret, mut facts) = state;
        for &e in &cfg.blocks[b as usize].events[from..] {
            after_event(api, code, e, &mut facts);
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
                EventKind::Write { target } => {
                    let target = target.text();
                    names.retain(|n| *n != target);
                }
                EventKind::Return { .. } => ret = Some(ev.span.0),
                EventKind::Call { callee, args } => {
                    let Some(name) = callee.as_ident() else {
                        continue;
                    };
                    let on_value = |a: &Expr| names.contains(&a.text());
                    match closes(name, args) {
                        Some(ended) if on_value(&ended) => {
                            closed = Some(closed.map_or(ev.span.0, |c| c.min(ev.span.0)));
                            continue 'paths;
                        }
                        Some(ended) if other.as_ref().is_none_or(|(o, _)| ev.span.0 < *o) => {
                            other = Some((ev.span.0, ended.text()));
                        }
                        _ => {}
                    }
                    let row = api.lookup(name, args.len());
                    let on = |role: &[Role]| {
                        row.is_some_and(|r| {
                            role.contains(&r.role) && args.get(r.mm_arg).is_some_and(on_value)
                        })
                    };
                    let earliest =
                        |seen: Option<usize>| Some(seen.map_or(ev.span.0, |d| d.min(ev.span.0)));
                    if on(&[Role::DropsMmUsers]) {
                        dropped = earliest(dropped);
                    }
                    if on(&[Role::FindsVma, Role::Accesses]) {
                        touched = earliest(touched);
                    }
                }
            }
        }
        if b == Cfg::EXIT {
            // The earliest way out is the one to show (`None` last).
            leaves = Some(match leaves {
                Some(Some(l)) => Some(ret.map_or(l, |r| r.min(l))),
                _ => ret.or(leaves.flatten()),
            });
            continue;
        }
        for edge in &cfg.blocks[b as usize].succs {
            if let Some(next) = along(code, edge.when, &facts) {
                todo.push((edge.to, 0, names.clone(), ret, next));
            }
        }
    }
    let end = match (leaves, closed) {
        (Some(at), _) => WindowEnd::Leaves(at),
        (None, Some(c)) => WindowEnd::Closed(c),
        (None, None) => WindowEnd::Leaves(None),
    };
    Some(Window {
        end,
        closed,
        dropped,
        other,
        touched,
    })
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
        (window_of(src).dropped).map(|at| src[..at].bytes().filter(|&c| c == b'\n').count() + 1)
    }

    fn window_of(src: &str) -> Window {
        let b = body(src);
        let code = b.code().unwrap();
        let api = ApiTable::default();
        let (ev, _, args) = (code.named_calls())
            .find(|(_, n, _)| *n == "kthread_use_mm")
            .unwrap();
        let closes = |n: &str, a: &[Expr]| {
            (api.lookup(n, a.len()))
                .filter(|r| r.role == Role::BorrowEnd)
                .and_then(|r| a.get(r.mm_arg).cloned())
        };
        window(&api, code, ev.span.0, &args[0], &closes).unwrap()
    }

    #[test]
    fn a_window_is_closed_under_any_name_of_its_value() {
        // Borrowed through an alias, closed under the original name.
        let alias = "void f(struct s *p)\n{\n\tstruct mm_struct *m = p->v[0].mm;\n\n\tkthread_use_mm(m);\n\tkthread_unuse_mm(p->v[0].mm);\n}\n";
        let w = window_of(alias);
        assert!(matches!(w.end, WindowEnd::Closed(_)), "{w:?}");
        assert_eq!(w.other, None);
        let global = "void f(void)\n{\n\tstruct mm_struct *m = &g_mm;\n\n\tkthread_use_mm(m);\n\tkthread_unuse_mm(&g_mm);\n}\n";
        assert!(matches!(window_of(global).end, WindowEnd::Closed(_)));
        // Once the index moves, the place is another mm.
        let moved = "void f(struct s *p, int i)\n{\n\tstruct mm_struct *m = p->v[i].mm;\n\n\ti++;\n\tkthread_use_mm(m);\n\tkthread_unuse_mm(p->v[i].mm);\n}\n";
        let w = window_of(moved);
        assert_eq!(w.closed, None);
        assert_eq!(w.other.map(|(_, t)| t), Some("p->v[i].mm".to_string()));
    }

    /// Where the first call of `name` in `code` is.
    fn call_at(code: &Code, name: &str) -> usize {
        let (ev, ..) = code.named_calls().find(|(_, n, _)| *n == name).unwrap();
        ev.span.0
    }

    /// What `tested_at` says at the call of `name`, as text.
    fn tested(src: &str, name: &str) -> Vec<String> {
        let b = body(src);
        let code = b.code().unwrap();
        let (ev, ..) = code.named_calls().find(|(_, n, _)| *n == name).unwrap();
        (tested_at(&ApiTable::default(), code, ev.span.0).into_iter())
            .map(|t| format!("{}{}", if t.truth { "" } else { "!" }, t.expr))
            .collect()
    }

    #[test]
    fn the_tests_on_every_path_to_a_point_are_known() {
        // Inside an `if`, after an early exit, under a wrapper; not a test
        // some path skips, and not one whose name was assigned since.
        let src = "void f(struct d *d, int k)\n{\n\tif (unlikely(!d->on))\n\t\treturn;\n\tif (k)\n\t\tx();\n\tif (d->mode && ready(d)) {\n\t\ty();\n\t\tk = 0;\n\t\tz();\n\t}\n}\n";
        assert_eq!(tested(src, "x"), ["d->on", "k"]);
        assert_eq!(tested(src, "y"), ["d->on", "d->mode", "ready(d)"]);
        assert_eq!(tested(src, "z"), ["d->on", "d->mode", "ready(d)"]);
        let looped = "void f(int n, int k)\n{\n\twhile (n--) {\n\t\tif (!k)\n\t\t\tcontinue;\n\t\tx();\n\t}\n}\n";
        assert_eq!(tested(looped, "x"), ["n--", "k"]);
    }

    #[test]
    fn exclusive_branches_share_no_path() {
        let src = "void f(int a)\n{\n\tif (a)\n\t\tx();\n\telse\n\t\ty();\n\tz();\n}\n";
        let b = body(src);
        let code = b.code().unwrap();
        let at = |name: &str| call_at(code, name);
        assert!(!on_one_path(code, at("x"), at("y")));
        assert!(on_one_path(code, at("x"), at("z")));
        assert!(on_one_path(code, at("z"), at("y")));
    }

    #[test]
    fn a_call_runs_before_another_on_every_path_or_not() {
        let src = "void f(int a)\n{\n\tcheck();\n\tif (a)\n\t\tmaybe();\n\telse\n\t\treturn;\n\tborrow();\n\tafter();\n}\n";
        let b = body(src);
        let code = b.code().unwrap();
        let at = |name: &str| call_at(code, name);
        assert!(runs_before(code, at("check"), at("borrow")));
        assert!(runs_before(code, at("maybe"), at("borrow")));
        assert!(!runs_before(code, at("after"), at("borrow")));
        let skipped = "void f(int a)\n{\n\tif (a)\n\t\tmaybe();\n\tborrow();\n}\n";
        let b = body(skipped);
        let code = b.code().unwrap();
        let at = |name: &str| call_at(code, name);
        assert!(!runs_before(code, at("maybe"), at("borrow")));
    }

    #[test]
    fn a_guard_is_around_the_borrow_or_before_it() {
        let inside = |src: &str| {
            let b = body(src);
            let code = b.code().unwrap();
            let (ev, ..) = (code.named_calls())
                .find(|(_, n, _)| *n == "kthread_use_mm")
                .unwrap();
            let cond = (code.cfg.conds.iter())
                .find(|c| c.expr.text().starts_with("mmget_not_zero"))
                .unwrap();
            inside_guard(code, cond.offset, ev.span.0)
        };
        let around = "void f(struct mm_struct *mm)\n{\n\tif (mmget_not_zero(mm)) {\n\t\tkthread_use_mm(mm);\n\t}\n\tdone();\n}\n";
        assert!(inside(around));
        let before = "void f(struct mm_struct *mm)\n{\n\tif (!mmget_not_zero(mm))\n\t\treturn;\n\tkthread_use_mm(mm);\n}\n";
        assert!(!inside(before));
        // In a loop, the failed path comes round to the test, not the borrow.
        let looped = "void f(struct mm_struct **v, int n)\n{\n\twhile (n--) {\n\t\tif (mmget_not_zero(v[n]))\n\t\t\tkthread_use_mm(v[n]);\n\t\telse\n\t\t\tskip();\n\t\tnext();\n\t}\n}\n";
        assert!(inside(looped));
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
        let facts = must_facts(&ApiTable::default(), code);
        let block = |name: &str| {
            let e = code.named_calls().position(|(_, n, _)| n == name).unwrap();
            code.cfg.block_of(e as u32).unwrap() as usize
        };
        let x = facts[block("x")].clone().unwrap();
        assert!(x.contains(&("a".to_string(), true)));
        assert!(facts[block("y")].clone().unwrap().is_empty());
    }

    fn held(src: &str) -> Option<HeldBy> {
        let b = body(src);
        let code = b.code().unwrap();
        let (ev, _, args) = (code.named_calls())
            .find(|(_, n, _)| *n == "kthread_use_mm")
            .unwrap();
        held_at(&ApiTable::default(), code, ev.span.0, &args[0])
    }

    #[test]
    fn a_reference_put_before_the_borrow_is_not_held() {
        let got = "void f(struct mm_struct *mm)\n{\n\tmmget(mm);\n\tkthread_use_mm(mm);\n}\n";
        assert!(matches!(held(got), Some(HeldBy::Take { .. })));
        let put = "void f(struct mm_struct *mm)\n{\n\tmmget(mm);\n\tmmput(mm);\n\tkthread_use_mm(mm);\n}\n";
        assert_eq!(held(put), None);
    }

    #[test]
    fn a_stored_result_counts_until_the_local_is_written() {
        let src = "void f(struct mm_struct *mm)\n{\n\tint ok = mmget_not_zero(mm);\n\n\tif (ok)\n\t\tkthread_use_mm(mm);\n}\n";
        assert!(matches!(held(src), Some(HeldBy::Flag { .. })));
        let written = "void f(struct mm_struct *mm)\n{\n\tint ok = mmget_not_zero(mm);\n\n\tok++;\n\tif (ok)\n\t\tkthread_use_mm(mm);\n}\n";
        assert_eq!(held(written), None);
    }

    #[test]
    fn every_loop_round_must_hold() {
        let each = "void f(struct mm_struct **v, int n)\n{\n\tint i;\n\n\tfor (i = 0; i < n; i++) {\n\t\tif (!mmget_not_zero(v[i]))\n\t\t\tcontinue;\n\t\tkthread_use_mm(v[i]);\n\t}\n}\n";
        assert!(matches!(held(each), Some(HeldBy::Test { .. })));
        // Once `i` moves, `v[i]` is another mm.
        let moved = "void f(struct mm_struct **v, int i)\n{\n\tif (!mmget_not_zero(v[i]))\n\t\treturn;\n\ti++;\n\tkthread_use_mm(v[i]);\n}\n";
        assert_eq!(held(moved), None);
        let local = "void f(struct mm_struct *mm, int n)\n{\n\twhile (n--) {\n\t\tif (!mmget_not_zero(mm))\n\t\t\tbreak;\n\t\tkthread_use_mm(mm);\n\t\tmmput(mm);\n\t}\n}\n";
        assert!(matches!(held(local), Some(HeldBy::Test { .. })));
    }

    /// The lines of the defs of `name` reaching the borrow, and whether
    /// every path assigns it.
    fn defs(src: &str, name: &str) -> (Vec<usize>, bool) {
        let b = body(src);
        let code = b.code().unwrap();
        let (ev, ..) = (code.named_calls())
            .find(|(_, n, _)| *n == "kthread_use_mm")
            .unwrap();
        let (defs, all) = reaching_defs(code, name, ev.span.0);
        let line = |i: usize| src[..code.events[i].span.0].matches('\n').count() + 1;
        (defs.into_iter().map(line).collect(), all)
    }

    #[test]
    fn a_put_at_the_end_of_a_loop_round_is_not_before_the_next_rounds_use() {
        let put = |src: &str| {
            let b = body(src);
            let code = b.code().unwrap();
            let def = (code.events.iter())
                .position(
                    |e| matches!(&e.kind, EventKind::Assign { lhs, .. } if lhs.text() == "mm"),
                )
                .unwrap();
            let names = ["mm".to_string()];
            put_between(
                &ApiTable::default(),
                code,
                def,
                call_at(code, "use"),
                &names,
            )
        };
        // Each round gets a fresh reference and puts it after the use.
        let fresh = "void f(struct t **v, int n)\n{\n\tstruct mm_struct *mm;\n\n\twhile (n--) {\n\t\tmm = get_task_mm(v[n]);\n\t\tuse(mm);\n\t\tmmput(mm);\n\t}\n}\n";
        assert_eq!(put(fresh), None);
        // One reference for every round: the put reaches the next use.
        let once = "void f(struct t *t, int n)\n{\n\tstruct mm_struct *mm = get_task_mm(t);\n\n\twhile (n--) {\n\t\tuse(mm);\n\t\tmmput(mm);\n\t}\n}\n";
        assert!(put(once).is_some());
    }

    #[test]
    fn reaching_definitions_follow_the_flow() {
        let branches = "void f(struct mm_struct *p, int c)\n{\n\tstruct mm_struct *mm = p;\n\n\tif (c)\n\t\tmm = q();\n\tkthread_use_mm(mm);\n}\n";
        assert_eq!(defs(branches, "mm"), (vec![6, 3], true));
        let param = "void f(struct mm_struct *mm, int c)\n{\n\tif (c)\n\t\tmm = q();\n\tkthread_use_mm(mm);\n}\n";
        assert_eq!(defs(param, "mm"), (vec![4], false));
        // A loop's later assignment reaches its next round.
        let looped = "void f(struct mm_struct *mm, int n)\n{\n\twhile (n--) {\n\t\tkthread_use_mm(mm);\n\t\tmm = next(mm);\n\t}\n}\n";
        assert_eq!(defs(looped, "mm"), (vec![5], false));
        // Once the index moves, `v[i]` is another place.
        let moved = "void f(struct mm_struct **v, int i)\n{\n\twhile (i--) {\n\t\tkthread_use_mm(v[i]);\n\t\tv[i] = NULL;\n\t}\n}\n";
        assert_eq!(defs(moved, "v[i]"), (vec![], false));
    }
}
