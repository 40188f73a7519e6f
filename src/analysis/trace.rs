//! Following an mm expression back to its origins.
//!
//! [`Tracer::trace`] answers: at this point of this body, which references
//! can the value of this expression hold? It follows local assignments,
//! guards (`mmget_not_zero`, `mmget`), struct field stores anywhere in the
//! tree, parameters (through every caller, also through function pointers
//! stored in struct fields), and produces one [`Chain`] per way.
//!
//! Whatever it could not find in the files parsed so far it records as a
//! [`Demand`]; the driver parses more files and runs the analysis again.

use super::flow::{self, HeldBy};
use crate::api::{self, Api, ApiTable, RefKind, Role};
use crate::demand::Demand;
use crate::facts::{BodyKind, Code, EventKind, Expr, struct_name};
use crate::index::{BodyRef, EventRef, Index, StoreRef};
use crate::lex::has_word;
pub use crate::report::FieldKey;
use crate::report::{Chain, Loc, Step, StepKind, Via};
use crate::source::FileId;
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap, HashSet};

/// The note of a step whose value is the NULL constant.
pub const NULL_NOTE: &str = "`NULL`: no mm at all";

/// How many hops (assignments, stores, calls) a chain may have.
pub const MAX_DEPTH: u32 = 12;
/// How many chains one parameter or field may hand back. Chains multiply
/// along a path (two callers at each of ten levels make 1024), so each
/// level keeps its worst ones; the verdict, decided by the worst, is exact.
pub const MAX_CHAINS: usize = 64;

/// Dedups `chains` and keeps the [`MAX_CHAINS`] worst; the rest are summed
/// up in one chain with the reference of the worst of them.
fn cap_chains(chains: Vec<Chain>, loc: Loc) -> Vec<Chain> {
    let mut chains = dedup_chains(chains);
    if chains.len() <= MAX_CHAINS {
        return chains;
    }
    chains.sort_by_key(|c| std::cmp::Reverse(c.reference.badness()));
    let rest = chains.split_off(MAX_CHAINS - 1);
    // Worst first: the first dropped chain is no better than any kept one.
    let worst = rest[0].reference;
    chains.push(Chain {
        reference: worst,
        steps: vec![Step {
            kind: StepKind::Summary,
            loc,
            note: format!(
                "{} more paths, each holding `{}` or better, not listed",
                rest.len(),
                worst.as_str()
            ),
        }],
        ..Default::default()
    });
    chains
}

/// `chains` without repeats, in order. Chains are compared by a hash
/// first: cloning each into a set cost a fifth of a run that follows
/// thousands of long chains.
pub fn dedup_chains(chains: Vec<Chain>) -> Vec<Chain> {
    use std::hash::BuildHasher;
    let hasher = rustc_hash::FxBuildHasher;
    let mut by_hash: HashMap<u64, Vec<usize>> = HashMap::new();
    let mut out: Vec<Chain> = Vec::with_capacity(chains.len());
    for c in chains {
        let same = by_hash.entry(hasher.hash_one(&c)).or_default();
        if same.iter().any(|&i| out[i] == c) {
            continue;
        }
        same.push(out.len());
        out.push(c);
    }
    out
}

/// How many callers or stores one step may fan out to.
pub const MAX_FANOUT: usize = 64;

/// How many locals defined from locals [`Tracer::in_parameters`] follows.
const MAX_LOCAL_HOPS: u32 = 8;

/// A call of a body, and the function pointer it goes through, in words
/// (`None`: a direct call): a struct field, or a parameter of a function
/// the body was handed to.
pub type Caller = (EventRef, Option<String>);

/// A parameter of a body, or a field of it (`vma->vm_mm` of a parameter
/// `vma`), whose chains come from the callers.
type ParamKey = (BodyRef, usize, Option<&'static str>);

/// Follows mm values through the index.
pub struct Tracer<'a> {
    ix: &'a Index,
    api: &'a ApiTable,
    demands: RefCell<BTreeSet<Demand>>,
    param_memo: RefCell<HashMap<ParamKey, Vec<Chain>>>,
    /// What [`flow::held_at`] found, per body, offset and expression: the
    /// tracer asks again for every chain that passes there.
    held_memo: RefCell<HashMap<(BodyRef, usize, String), Option<HeldBy>>>,
    in_progress: RefCell<HashSet<ParamKey>>,
    /// The callers of each body asked about (see [`Tracer::callers`]).
    callers_memo: RefCell<HashMap<BodyRef, Vec<Caller>>>,
    /// How many times a cycle or the depth limit cut a chain: results
    /// computed meanwhile are partial and not memoized.
    chains_cut: std::cell::Cell<u64>,
}

/// Where a reference call on a stored value is, and the API called.
type RefCall = Option<(usize, &'static str)>;

fn unknown(loc: Loc, note: String) -> Chain {
    Chain {
        reference: RefKind::Unknown,
        steps: vec![Step {
            loc,
            note,
            kind: StepKind::Unknown,
        }],
        ..Default::default()
    }
}

/// The chain of a NULL constant: no mm, so no reference.
fn null_chain(loc: Loc) -> Chain {
    Chain {
        reference: RefKind::None,
        steps: vec![Step {
            kind: StepKind::Null,
            loc,
            note: NULL_NOTE.into(),
        }],
        ..Default::default()
    }
}

fn prepend(mut chains: Vec<Chain>, step: Step) -> Vec<Chain> {
    for c in &mut chains {
        c.steps.insert(0, step.clone());
    }
    chains
}

/// The chain's origin is a NULL constant.
pub fn ends_in_null(c: &Chain) -> bool {
    c.steps.last().is_some_and(|s| s.kind == StepKind::Null)
}

/// Chains whose origin is NULL borrow nothing where a NULL test keeps
/// NULL from the borrow (`guard`: where, and the value tested).
pub fn mark_null_not_borrowed(chains: &mut [Chain], guard: Option<(Loc, String)>) {
    let Some((loc, mm)) = guard else { return };
    for c in chains.iter_mut().filter(|c| ends_in_null(c)) {
        c.reference = RefKind::NotBorrowed;
        c.steps.push(Step {
            kind: StepKind::NotBorrowed,
            loc,
            note: format!(
                "the borrow runs only when `{mm}` is non-NULL: nothing is borrowed on this path"
            ),
        });
    }
}

impl<'a> Tracer<'a> {
    /// A tracer over the index.
    pub fn new(ix: &'a Index, api: &'a ApiTable) -> Tracer<'a> {
        Tracer {
            ix,
            api,
            demands: RefCell::default(),
            param_memo: RefCell::default(),
            held_memo: RefCell::default(),
            in_progress: RefCell::default(),
            callers_memo: RefCell::default(),
            chains_cut: std::cell::Cell::new(0),
        }
    }

    /// The APIs the audit knows.
    pub fn api(&self) -> &'a ApiTable {
        self.api
    }

    /// The index the tracer reads.
    pub fn index(&self) -> &'a Index {
        self.ix
    }

    /// What the analysis wanted but did not find among the parsed files.
    pub fn into_demands(self) -> BTreeSet<Demand> {
        self.demands.into_inner()
    }

    /// Records something to look for in files not parsed yet.
    pub fn demand(&self, d: Demand) {
        self.demands.borrow_mut().insert(d);
    }

    /// The code of body `r`. A body the parse left out has none here: the
    /// analysis demands it ([`Demand::Code`]) and goes on with no code (the
    /// driver then parses it and runs the analysis again).
    pub fn code(&self, r: BodyRef) -> &'a Code {
        let body = self.ix.body(r);
        match (body.code(), body.elided_at()) {
            (Some(code), _) => code,
            (None, Some(key)) => {
                self.demand(Demand::Code(r.file, key));
                Code::empty()
            }
            (None, None) => Code::empty(),
        }
    }

    fn loc(&self, at: BodyRef, offset: usize) -> Loc {
        Loc {
            file: at.file,
            offset,
        }
    }

    /// The references `e`, evaluated at `offset` in body `at`, can hold.
    pub fn trace(&self, at: BodyRef, e: &Expr, offset: usize, depth: u32) -> Vec<Chain> {
        let loc = self.loc(at, offset);
        if depth > MAX_DEPTH {
            // What is computed above this cut depends on the depth it
            // started from: not memoized (see `trace_param`).
            self.chains_cut.set(self.chains_cut.get() + 1);
            return vec![unknown(
                loc,
                format!("`{e}`: chain longer than {MAX_DEPTH} hops, not followed"),
            )];
        }
        if let Some(step) = self.guard(at, e, offset) {
            return vec![Chain {
                reference: RefKind::MmUsers,
                steps: vec![step],
                ..Default::default()
            }];
        }
        match e {
            Expr::Null => vec![null_chain(loc)],
            Expr::Field {
                base,
                field,
                arrow: true,
            } if base.as_ident() == Some(api::CURRENT)
                && api::TASK_MM_FIELDS.contains(&field.as_str()) =>
            {
                vec![Chain {
                    reference: RefKind::Owner,
                    steps: vec![Step {
                        kind: StepKind::Owner,
                        loc,
                        note: format!("`{e}`: the running task's own address space"),
                    }],
                    owner_origin: true,
                    ..Default::default()
                }]
            }
            Expr::Call { callee, args } => match callee.as_ident() {
                Some(name) => match self.api.lookup(name, args.len()) {
                    Some(r) if r.role == Role::ReturnsMmUsers => vec![Chain {
                        reference: RefKind::MmUsers,
                        steps: vec![Step {
                            kind: StepKind::Get,
                            loc,
                            note: format!("`{e}` returns an mm_users reference (or NULL)"),
                        }],
                        ..Default::default()
                    }],
                    // An error pointer is no mm: a use that tests it out
                    // borrows nothing on that path, as with NULL.
                    Some(r) if r.role == Role::MakesError => vec![Chain {
                        reference: RefKind::None,
                        steps: vec![Step {
                            kind: StepKind::Null,
                            loc,
                            note: format!("`{e}`: an error pointer, no mm at all"),
                        }],
                        ..Default::default()
                    }],
                    Some(_) => vec![unknown(
                        loc,
                        format!("`{e}`: the mm returned by `{name}()` is not followed"),
                    )],
                    None => self.trace_returns(at, name, args, offset, depth),
                },
                None => vec![unknown(
                    loc,
                    format!("`{e}`: returned through a function pointer"),
                )],
            },
            Expr::AddrOf(object) if object.as_ident().is_some() => {
                self.trace_object(at, object, offset)
            }
            Expr::Ident(v) => self.trace_var(at, v, offset, depth),
            Expr::Field { .. } | Expr::Index { .. } => self.trace_field(at, e, offset, depth),
            _ => vec![unknown(
                loc,
                format!("`{e}`: not an expression mmaudit follows"),
            )],
        }
    }

    /// `&object`: a statically allocated `struct mm_struct` is never
    /// freed (a local one is no origin mmaudit follows).
    fn trace_object(&self, at: BodyRef, object: &Expr, offset: usize) -> Vec<Chain> {
        let loc = self.loc(at, offset);
        let name = object.as_ident().unwrap_or_default();
        let code = self.code(at);
        let local = code.is_local(name, offset) || self.ix.body(at).param_index(name).is_some();
        let ty = (!local)
            .then(|| self.ix.object_type(name, at.file))
            .flatten();
        if ty.and_then(struct_name) == Some(api::MM_STRUCT) {
            return vec![Chain {
                reference: RefKind::Permanent,
                steps: vec![Step {
                    loc,
                    note: format!("`&{name}`: a statically allocated mm_struct, never freed"),
                    kind: StepKind::Permanent,
                }],
                ..Default::default()
            }];
        }
        if !local {
            self.demand(Demand::Ident(name.to_string()));
        }
        vec![unknown(
            loc,
            format!("`&{name}`: not an mm this tree allocates statically"),
        )]
    }

    /// What the function `name`, called at `offset` of body `at` with
    /// `args`, returns: each of its `return`s traced in it (a returned
    /// parameter is traced as this call's argument instead, so that the
    /// chain stays with this caller).
    fn trace_returns(
        &self,
        at: BodyRef,
        name: &str,
        args: &[Expr],
        offset: usize,
        depth: u32,
    ) -> Vec<Chain> {
        let loc = self.loc(at, offset);
        self.demand(Demand::Ident(name.to_string()));
        let near = |f: &BodyRef| match self.ix.body(*f).kind {
            BodyKind::Function { is_static } => !is_static || f.file == at.file,
            BodyKind::Macro => false,
        };
        let functions: Vec<BodyRef> = self.ix.functions(name).filter(near).collect();
        let mut out = Vec::new();
        for &f in functions.iter().take(MAX_FANOUT) {
            let code = self.code(f);
            for ev in &code.events {
                let EventKind::Return { value: Some(value) } = &ev.kind else {
                    continue;
                };
                let step = Step {
                    loc: self.loc(f, ev.span.0),
                    note: format!("`{name}()` returns `{value}`"),
                    kind: StepKind::Return,
                };
                // A parameter (or a local set from one) that still holds
                // what this caller handed is this caller's argument.
                let (returned, _) = self.in_parameters(f, value, ev.span.0);
                let param = self.handed_in(f, &returned, ev.span.0);
                let chains = match param.and_then(|i| args.get(i)) {
                    Some(arg) => self.trace(at, arg, offset, depth + 1),
                    None => self.trace(f, value, ev.span.0, depth + 1),
                };
                out.extend(prepend(chains, step));
            }
        }
        if out.is_empty() {
            out.push(unknown(
                loc,
                format!("the mm returned by `{name}()` is not followed (no `return` of it found)"),
            ));
        }
        out
    }

    /// If the call `name(args)` ends the window that `borrow` opens, the
    /// mm it ends it on, in the caller's terms: the pair API's argument,
    /// or what a macro or function of the tree (a twin macro, a teardown
    /// helper) calls the pair API on, written in its parameters
    /// (`kthread_unuse_mm(c->mm)` in `stop(c)` ends `x->mm` for
    /// `stop(x)`), opaque APIs aside.
    pub fn closed_by(&self, name: &str, args: &[Expr], borrow: &Api) -> Option<Expr> {
        let pair = borrow.pair?;
        if name == pair {
            let row = self.api.lookup(name, args.len())?;
            return (row.role == Role::BorrowEnd).then(|| args.get(row.mm_arg).cloned())?;
        }
        self.ix
            .bodies_named(name)
            .filter(|&r| !self.opaque(r) && self.ix.body(r).params.len() == args.len())
            .find_map(|r| {
                let body = self.ix.body(r);
                let code = body.code()?;
                code.named_calls().find_map(|(_, n, a)| {
                    let row = self.api.lookup(n, a.len())?;
                    if n != pair || row.role != Role::BorrowEnd {
                        return None;
                    }
                    let ended = a.get(row.mm_arg)?;
                    body.param_index(ended.root_ident()?)?;
                    Some(ended.substitute(&|p| body.param_index(p).map(|i| args[i].clone())))
                })
            })
    }

    /// The body's own code makes `e` hold an `mm_users` reference at
    /// `offset` on every feasible path there (see [`flow::held_at`]):
    /// the step that shows it. A test's step is at its `if`: "here" inside
    /// the region it guards, "from here on" after it (the path that failed
    /// left).
    pub fn guard(&self, at: BodyRef, e: &Expr, offset: usize) -> Option<Step> {
        let code = self.code(at);
        let text = e.text();
        let key = (at, offset, text.clone());
        let held = *(self.held_memo.borrow_mut().entry(key))
            .or_insert_with(|| flow::held_at(self.api, code, offset, e));
        Some(match held? {
            HeldBy::Test { at: cond, api } => {
                let inside = flow::inside_guard(code, cond, offset);
                let when = if inside { "here" } else { "from here on" };
                Step {
                    loc: self.loc(at, cond),
                    note: format!("`{api}({text})` holds an mm_users reference {when}"),
                    kind: StepKind::Guard,
                }
            }
            HeldBy::Flag { at: stored, api } => Step {
                loc: self.loc(at, stored),
                note: format!(
                    "`{api}({text})` is stored here and tested true before the borrow: an mm_users reference is held"
                ),
                kind: StepKind::Guard,
            },
            HeldBy::Take { at: call, api } => Step {
                loc: self.loc(at, call),
                note: format!("`{api}({text})` takes an mm_users reference"),
                kind: StepKind::Get,
            },
        })
    }

    fn trace_defs(&self, at: BodyRef, defs: &[usize], offset: usize, depth: u32) -> Vec<Chain> {
        let code = self.code(at);
        let mut out = Vec::new();
        for &i in defs {
            let ev = &code.events[i];
            let EventKind::Assign { lhs, rhs } = &ev.kind else {
                continue;
            };
            let step = Step {
                kind: StepKind::Assign,
                loc: self.loc(at, ev.span.0),
                note: format!("`{lhs}` = `{rhs}`"),
            };
            let chains = self.trace(at, rhs, ev.span.0, depth + 1);
            let chains = chains
                .into_iter()
                .map(|c| self.after_def(at, lhs, rhs, ev.span.0, offset, c))
                .collect();
            out.extend(prepend(chains, step));
        }
        out
    }

    /// Adjusts a chain for what happens to the value between its
    /// definition at `def` and its use at `offset`: a reference dropped
    /// with `mmput()` in between, keeping only what `mmgrab()` took.
    fn after_def(
        &self,
        at: BodyRef,
        lhs: &Expr,
        rhs: &Expr,
        def: usize,
        offset: usize,
        mut c: Chain,
    ) -> Chain {
        if c.reference != RefKind::MmUsers {
            return c;
        }
        let code = self.code(at);
        let names = [lhs.text(), rhs.text()];
        let Some(d) = code.events.iter().position(|e| e.span.0 == def) else {
            return c;
        };
        let Some((put, grab)) = flow::put_between(self.api, code, d, offset, &names) else {
            return c;
        };
        let mut steps = Vec::new();
        if let Some(g) = grab {
            steps.push(Step {
                kind: StepKind::Grab,
                loc: self.loc(at, g),
                note: "`mmgrab()` keeps only mm_count".into(),
            });
        }
        let (name, arg) = match &code
            .events
            .iter()
            .find(|e| e.span.0 == put)
            .map(|e| &e.kind)
        {
            Some(EventKind::Call { callee, args }) => (
                callee.text(),
                args.first().map(Expr::text).unwrap_or_default(),
            ),
            _ => (String::new(), String::new()),
        };
        steps.push(Step {
            kind: StepKind::Put,
            loc: self.loc(at, put),
            note: format!("`{name}({arg})` drops the mm_users reference"),
        });
        // Steps of this function come before the origin's.
        let keep = c.steps.split_off(0);
        c.steps = steps;
        c.steps.extend(keep);
        c.reference = if grab.is_some() {
            RefKind::MmCount
        } else {
            RefKind::None
        };
        c
    }

    fn trace_var(&self, at: BodyRef, v: &str, offset: usize, depth: u32) -> Vec<Chain> {
        let body = self.ix.body(at);
        let code = self.code(at);
        let (defs, dominated) = flow::reaching_defs(code, v, offset);
        let mut out = self.trace_defs(at, &defs, offset, depth);
        if !dominated {
            if let Some(i) = body.param_index(v) {
                if body.kind == BodyKind::Macro {
                    out.push(unknown(
                        self.loc(at, offset),
                        format!("`{v}` is an argument of macro `{}`", body.name),
                    ));
                } else {
                    let step = Step {
                        kind: StepKind::Parameter,
                        loc: self.loc(at, body.params[i].offset),
                        note: format!("`{v}` is parameter {} of `{}()`", i + 1, body.name),
                    };
                    out.extend(prepend(self.trace_param(at, i, None, depth), step));
                }
            } else if !code.is_local(v, offset) {
                out.push(unknown(
                    self.loc(at, offset),
                    format!("`{v}` is not a local or parameter of `{}`", body.name),
                ));
            } else if defs.is_empty() {
                out.push(unknown(
                    self.loc(at, offset),
                    format!("`{v}` is never assigned before this point"),
                ));
            }
        }
        out
    }

    /// The struct type of an expression, if it can be told.
    pub fn struct_of(&self, at: BodyRef, e: &Expr, offset: usize) -> Option<String> {
        match e {
            Expr::Ident(v) => {
                let ty = self.ix.body(at).var_type(self.code(at), v, offset)?;
                struct_name(ty).map(str::to_string)
            }
            Expr::Field { base, field, .. } => {
                let s = self.struct_of(at, base, offset)?;
                match self.ix.field_type(&s, field) {
                    Some(ty) => struct_name(ty)
                        .filter(|n| !n.is_empty())
                        .map(str::to_string),
                    None => {
                        if self.ix.struct_def(&s).is_none() {
                            self.demand(Demand::StructDef(s));
                        }
                        None
                    }
                }
            }
            _ => None,
        }
    }

    /// Names the field `e` reads, relative to the innermost base whose
    /// struct type is known.
    pub fn field_key(&self, at: BodyRef, e: &Expr, offset: usize) -> Option<FieldKey> {
        match e {
            Expr::Field { base, field, .. } => {
                if let Some(s) = self.struct_of(at, base, offset) {
                    return Some(FieldKey {
                        struct_name: s,
                        path: field.clone(),
                    });
                }
                let inner = self.field_key(at, base, offset)?;
                let sep = if let Expr::Field { arrow: true, .. } = e {
                    "->"
                } else {
                    "."
                };
                Some(FieldKey {
                    struct_name: inner.struct_name,
                    path: format!("{}{sep}{field}", inner.path),
                })
            }
            Expr::Index { base, .. } => {
                let inner = self.field_key(at, base, offset)?;
                Some(FieldKey {
                    struct_name: inner.struct_name,
                    path: format!("{}[]", inner.path),
                })
            }
            _ => None,
        }
    }

    fn last_field(e: &Expr) -> Option<&str> {
        match e {
            Expr::Field { field, .. } => Some(field),
            Expr::Index { base, .. } => Self::last_field(base),
            _ => None,
        }
    }

    /// The file of a store and the field it stores into.
    fn store_key(&self, s: StoreRef) -> (FileId, Option<FieldKey>) {
        match s {
            StoreRef::Assign(er) => {
                let ev = self.ix.event(er);
                let key = match &ev.kind {
                    EventKind::Assign { lhs, .. } => self.field_key(er.at, lhs, ev.span.0),
                    EventKind::Call { .. } | EventKind::Write { .. } | EventKind::Return { .. } => {
                        None
                    }
                };
                (er.at.file, key)
            }
            StoreRef::Init(f, i) => {
                let init = &self.ix.facts(f).expect("parsed").field_inits[i];
                (
                    f,
                    Some(FieldKey {
                        struct_name: init.struct_name.clone(),
                        path: init.field.clone(),
                    }),
                )
            }
        }
    }

    /// Every store in the tree into the field `key` names.
    pub fn stores(&self, key: &FieldKey, last: &str) -> Vec<StoreRef> {
        self.demand(Demand::FieldStore(
            last.to_string(),
            key.struct_name.clone(),
        ));
        let mut out = Vec::new();
        for &s in self.ix.stores_to_field(last) {
            if matches!(s, StoreRef::Assign(er) if self.opaque(er.at)) {
                continue;
            }
            let (_, k) = self.store_key(s);
            if k.as_ref() == Some(key) {
                out.push(s);
            }
        }
        out
    }

    /// True if `r` is the body of an API of the table (the kernel's own
    /// `kthread_use_mm()`, `mmput()`, ...): what it does is the table's to
    /// say, and no chain goes through it as if it were a driver's code.
    fn opaque(&self, r: BodyRef) -> bool {
        self.api.by_name(&self.ix.body(r).name).is_some()
    }

    /// `v->vm_mm` of a VMA (`api::VMA_STRUCT`): the mm the VMA was found
    /// in. A VMA this body looks up (`find_vma(mm, addr)`, through locals)
    /// is `mm`'s; a parameter's is what each caller's argument's `vm_mm`
    /// is. The field's stores (the kernel's, making VMAs) are no origins.
    /// `None` if `e` is no VMA's mm.
    fn vma_mm(&self, at: BodyRef, e: &Expr, offset: usize, depth: u32) -> Option<Vec<Chain>> {
        let Expr::Field { base, field, .. } = e else {
            return None;
        };
        if field != api::VMA_MM_FIELD || self.struct_of(at, base, offset)? != api::VMA_STRUCT {
            return None;
        }
        let loc = self.loc(at, offset);
        let (vma, defs) = self.in_parameters(at, base, offset);
        let param = self.handed_in(at, &vma, offset);
        let local = (vma.as_ident()).filter(|v| self.code(at).is_local(v, offset));
        let mut chains = if let Some((name, mm)) = self.vma_lookup(&vma) {
            let step = Step {
                kind: StepKind::Read,
                loc,
                note: format!("`{e}`: the VMA was found in `{mm}` by `{name}()`"),
            };
            prepend(self.trace(at, mm, offset, depth + 1), step)
        } else if let Some(v) = local {
            self.vma_defs(at, v, offset, depth)
        } else if let Some(i) = param {
            self.field_of_param(at, i, api::VMA_MM_FIELD, e, "the VMA", depth)
        } else {
            vec![unknown(
                loc,
                format!("`{e}`: the mm of a VMA whose lookup mmaudit does not follow"),
            )]
        };
        for c in &mut chains {
            c.steps.splice(0..0, defs.iter().cloned());
        }
        Some(chains)
    }

    /// If `e` is a VMA lookup (`find_vma(mm, addr)`): the API and the mm
    /// it searches.
    fn vma_lookup<'e>(&self, e: &'e Expr) -> Option<(&'e str, &'e Expr)> {
        let (name, args) = e.as_named_call()?;
        let row = self.api.lookup(name, args.len())?;
        (row.role == Role::FindsVma).then(|| (name, &args[row.mm_arg]))
    }

    /// The parameter of function `at` that `e` is at `offset`, if no path
    /// there assigns it: what its callers handed in.
    pub fn handed_in(&self, at: BodyRef, e: &Expr, offset: usize) -> Option<usize> {
        let body = self.ix.body(at);
        let i = body.param_index(e.as_ident()?)?;
        let unassigned = flow::reaching_defs(self.code(at), &e.text(), offset)
            .0
            .is_empty();
        (unassigned && matches!(body.kind, BodyKind::Function { .. })).then_some(i)
    }

    /// `e`, which is `field` of parameter `i` of `at` (`what` the
    /// parameter is, in words), by each caller's argument's `field`.
    fn field_of_param(
        &self,
        at: BodyRef,
        i: usize,
        field: &'static str,
        e: &Expr,
        what: &str,
        depth: u32,
    ) -> Vec<Chain> {
        let body = self.ix.body(at);
        let step = Step {
            kind: StepKind::Parameter,
            loc: self.loc(at, body.params[i].offset),
            note: format!(
                "`{e}`: {what} is parameter {} of `{}()`, handed in by its callers",
                i + 1,
                body.name
            ),
        };
        prepend(self.trace_param(at, i, Some(field), depth), step)
    }

    /// The mm of the VMA in local `v` at `offset`, by each assignment of it
    /// that reaches there: a lookup's mm (`vma = find_vma(mm, a)`), or not
    /// followed.
    fn vma_defs(&self, at: BodyRef, v: &str, offset: usize, depth: u32) -> Vec<Chain> {
        let code = self.code(at);
        let (defs, _) = flow::reaching_defs(code, v, offset);
        let mut out = Vec::new();
        for &d in &defs {
            let ev = &code.events[d];
            let EventKind::Assign { rhs, .. } = &ev.kind else {
                continue;
            };
            let loc = self.loc(at, ev.span.0);
            match self.vma_lookup(rhs) {
                Some((name, mm)) => {
                    let step = Step {
                        kind: StepKind::Assign,
                        loc,
                        note: format!("`{v}` = `{rhs}`: a VMA found in `{mm}` by `{name}()`"),
                    };
                    out.extend(prepend(self.trace(at, mm, ev.span.0, depth + 1), step));
                }
                None => out.push(unknown(
                    loc,
                    format!("`{v}` = `{rhs}`: not a VMA lookup mmaudit follows"),
                )),
            }
        }
        if out.is_empty() {
            out.push(unknown(
                self.loc(at, offset),
                format!(
                    "`{v}`: the VMA's lookup is not in `{}`",
                    self.ix.body(at).name
                ),
            ));
        }
        out
    }

    /// The `->mm` of a task (`t->mm`, `t->active_mm`): the running task's
    /// own address space if `t` is `current` on every path here, and
    /// otherwise one that reading it takes no reference on. A task's mm
    /// is the kernel's to set (exec, fork, `kthread_use_mm()`): its stores
    /// are not origins a driver's chain goes through. `None` if `e` is no
    /// task's mm.
    fn task_mm(&self, at: BodyRef, e: &Expr, offset: usize, depth: u32) -> Option<Vec<Chain>> {
        let Expr::Field { base, field, .. } = e else {
            return None;
        };
        let task = self.struct_of(at, base, offset)?;
        let field = *api::TASK_MM_FIELDS.iter().find(|f| **f == field)?;
        if task != api::TASK_STRUCT {
            return None;
        }
        let loc = self.loc(at, offset);
        // A task handed in: each caller's task's mm (`current`'s is the
        // caller's own).
        if let Some(i) = self.handed_in(at, base, offset) {
            return Some(self.field_of_param(at, i, field, e, "the task", depth));
        }
        if let Some(set) = self.is_current(at, base, offset) {
            let mut steps = vec![Step {
                kind: StepKind::Owner,
                loc,
                note: format!("`{e}`: the running task's own address space"),
            }];
            steps.extend(set);
            return Some(vec![Chain {
                reference: RefKind::Owner,
                steps,
                owner_origin: true,
                ..Default::default()
            }]);
        }
        Some(vec![Chain {
            reference: RefKind::None,
            steps: vec![Step {
                kind: StepKind::Read,
                loc,
                note: format!(
                    "`{e}`: the mm of a task that may not be `current`; reading it takes no reference (`get_task_mm()` does)"
                ),
            }],
            ..Default::default()
        }])
    }

    /// If `e` is `current`, or a local that every path here last set to
    /// `current`, the steps that show it (none for `current` itself).
    fn is_current(&self, at: BodyRef, e: &Expr, offset: usize) -> Option<Vec<Step>> {
        let v = e.as_ident()?;
        if v == api::CURRENT {
            return Some(vec![]);
        }
        let code = self.code(at);
        let (defs, dominated) = flow::reaching_defs(code, v, offset);
        let current = |i: &usize| {
            matches!(&code.events[*i].kind,
                EventKind::Assign { rhs, .. } if rhs.as_ident() == Some(api::CURRENT))
        };
        (dominated && defs.iter().all(current)).then(|| {
            (defs.iter())
                .map(|&i| Step {
                    kind: StepKind::Assign,
                    loc: self.loc(at, code.events[i].span.0),
                    note: format!("`{v}` = `{}`", api::CURRENT),
                })
                .collect()
        })
    }

    fn trace_field(&self, at: BodyRef, e: &Expr, offset: usize, depth: u32) -> Vec<Chain> {
        let loc = self.loc(at, offset);
        // A store into the same expression earlier in this body decides.
        let (defs, dominated) = flow::reaching_defs(self.code(at), &e.text(), offset);
        let mut out = self.trace_defs(at, &defs, offset, depth);
        if dominated {
            return out;
        }
        if let Some(chains) = self.task_mm(at, e, offset, depth) {
            out.extend(chains);
            return cap_chains(out, loc);
        }
        if let Some(chains) = self.vma_mm(at, e, offset, depth) {
            out.extend(chains);
            return cap_chains(out, loc);
        }
        let Some(last) = Self::last_field(e) else {
            out.push(unknown(loc, format!("`{e}`: not a struct field")));
            return out;
        };
        let Some(key) = self.field_key(at, e, offset) else {
            let root = e.root_ident().unwrap_or("?");
            out.push(unknown(
                loc,
                format!("`{e}`: the struct type of `{root}` is not known"),
            ));
            return out;
        };
        let stores: Vec<StoreRef> = self
            .stores(&key, last)
            .into_iter()
            .filter(
                |s| !matches!(s, StoreRef::Assign(er) if er.at == at && defs.contains(&er.event)),
            )
            .collect();
        let mut any = false;
        let mut excluded = Vec::new();
        for s in stores.iter().take(MAX_FANOUT) {
            let chains = self.store_chains(*s, &key, depth + 1);
            if chains
                .iter()
                .all(|c| c.steps.first().is_some_and(|st| st.kind == StepKind::Null))
            {
                continue; // clearing the field is not an origin
            }
            if let Some(step) = self.store_excluded_by_mode(*s, at) {
                excluded.push(step);
                continue;
            }
            any = true;
            let mut chains = prepend(
                chains,
                Step {
                    kind: StepKind::Read,
                    loc,
                    note: format!("`{e}` reads {key}"),
                },
            );
            for c in &mut chains {
                c.fields.insert(0, key.clone());
            }
            out.extend(chains);
        }
        if stores.len() > MAX_FANOUT {
            out.push(unknown(
                loc,
                format!("{key}: more than {MAX_FANOUT} stores, the rest not followed"),
            ));
        }
        if !any && out.is_empty() {
            out.push(unknown(
                loc,
                format!("`{e}`: no store into {key} found in the tree"),
            ));
        }
        for c in &mut out {
            c.steps.extend(excluded.iter().cloned());
        }
        cap_chains(out, loc)
    }

    /// The flag fields tested on every path to a store: `(struct, field,
    /// value, where)` for `if (x->f) store` (true), `if (!x->f) return;
    /// store` (false), and so on.
    fn store_flags(&self, at: BodyRef, offset: usize) -> Vec<(String, String, bool, usize)> {
        let code = self.code(at);
        (flow::tested_at(self.api, code, offset).into_iter())
            .filter_map(|t| match t.expr {
                Expr::Field { base, field, .. } => {
                    let s = self.struct_of(at, base, t.offset)?;
                    Some((s, field.clone(), t.truth, t.offset))
                }
                _ => None,
            })
            .collect()
    }

    /// If the store runs only when a flag field has one value, and the
    /// body reading the field is only ever run when the flag has the
    /// other, the store never reaches the read: the step that says why.
    fn store_excluded_by_mode(&self, s: StoreRef, reader: BodyRef) -> Option<Step> {
        let StoreRef::Assign(er) = s else { return None };
        let ev = self.ix.event(er);
        for (st, field, value, cond_at) in self.store_flags(er.at, ev.span.0) {
            let mut seen = HashSet::new();
            if let Some(proof) = self.only_runs_when(reader, &st, &field, !value, 0, &mut seen) {
                let reader_name = &self.ix.body(reader).name;
                let note = format!(
                    "the store at {} runs only when `{st}.{field}` is {value}, but `{reader_name}()` only runs when it is {}: {proof}",
                    self.ix.file(er.at.file).lines.line_col(ev.span.0).0,
                    !value
                );
                return Some(Step {
                    kind: StepKind::Exclusion,
                    loc: Loc {
                        file: er.at.file,
                        offset: cond_at,
                    },
                    note,
                });
            }
        }
        None
    }

    /// Proves that every way into body `at` (calls, calls through function
    /// pointers, the function handed to another as an argument) passes a
    /// test that `struct st`'s `field` is `value`. Returns where, in words.
    fn only_runs_when(
        &self,
        at: BodyRef,
        st: &str,
        field: &str,
        value: bool,
        depth: u32,
        seen: &mut HashSet<BodyRef>,
    ) -> Option<String> {
        if depth > 6 || !seen.insert(at) {
            return None;
        }
        let body = self.ix.body(at);
        let is_static = matches!(body.kind, BodyKind::Function { is_static: true });
        let mut refs: Vec<EventRef> = self.callers(at).into_iter().map(|(c, _)| c).collect();
        self.demand(Demand::Ident(body.name.clone()));
        refs.extend(
            self.ix
                .passed_as_argument(&body.name)
                .iter()
                .filter(|c| c.at != at && (!is_static || c.at.file == at.file)),
        );
        if refs.is_empty() {
            return None;
        }
        let mut places = BTreeSet::new();
        for r in refs {
            let offset = self.ix.event(r).span.0;
            if self.flag_tested(r.at, offset, st, field, value) {
                places.insert(format!("`{}()`", self.ix.body(r.at).name));
            } else {
                let inner = self.only_runs_when(r.at, st, field, value, depth + 1, seen)?;
                places.insert(inner);
            }
        }
        Some(places.into_iter().collect::<Vec<_>>().join(", "))
    }

    /// Is `offset` in body `at` reached only when `x->field` is `value`
    /// (`x` of type `struct st`)?
    fn flag_tested(&self, at: BodyRef, offset: usize, st: &str, field: &str, value: bool) -> bool {
        (self.store_flags(at, offset).into_iter())
            .any(|(s, f, v, _)| s == st && f == field && v == value)
    }

    /// Adjusts what chain `c` holds for the reference calls on the stored
    /// value around its store at `loc` in body `at` (the first `mmgrab`,
    /// `mmget` and later `mmput` of it), and returns the steps that say so.
    fn adjust_to_store(
        &self,
        c: &mut Chain,
        at: BodyRef,
        loc: Loc,
        (grab, get, put): (RefCall, RefCall, RefCall),
    ) -> Vec<Step> {
        let original = c.reference;
        let mut extra = Vec::new();
        if let Some((g, name)) = get {
            c.reference = RefKind::MmUsers;
            extra.push(Step {
                kind: StepKind::Get,
                loc: self.loc(at, g),
                note: format!("`{name}()` takes an mm_users reference"),
            });
        } else {
            if original == RefKind::Owner {
                c.reference = RefKind::None;
            }
            if original == RefKind::MmUsers {
                if let Some((p, name)) = put {
                    c.reference = if grab.is_some() {
                        RefKind::MmCount
                    } else {
                        RefKind::None
                    };
                    if let Some((g, gname)) = grab {
                        extra.push(Step {
                            kind: StepKind::Grab,
                            loc: self.loc(at, g),
                            note: format!("`{gname}()` takes mm_count"),
                        });
                    }
                    extra.push(Step {
                        kind: StepKind::Put,
                        loc: self.loc(at, p),
                        note: format!(
                            "`{name}()` drops the mm_users reference: only mm_count is kept"
                        ),
                    });
                }
            } else if matches!(c.reference, RefKind::None) {
                if let Some((g, name)) = grab {
                    c.reference = RefKind::MmCount;
                    extra.push(Step {
                        kind: StepKind::Grab,
                        loc: self.loc(at, g),
                        note: format!("`{name}()` takes only mm_count"),
                    });
                } else if original == RefKind::Owner {
                    extra.push(Step {
                        kind: StepKind::Store,
                        loc,
                        note: "no reference is taken on the stored mm".into(),
                    });
                }
            }
        }
        extra
    }

    /// The chains of one store into a field: what the stored value holds,
    /// adjusted for `mmgrab`/`mmget`/`mmput` of it around the store.
    fn store_chains(&self, s: StoreRef, key: &FieldKey, depth: u32) -> Vec<Chain> {
        let (at, lhs, rhs, offset) = match s {
            StoreRef::Assign(er) => {
                let ev = self.ix.event(er);
                let EventKind::Assign { lhs, rhs } = &ev.kind else {
                    return vec![];
                };
                (Some(er.at), lhs.clone(), rhs.clone(), ev.span.0)
            }
            StoreRef::Init(f, i) => {
                let init = &self.ix.facts(f).expect("parsed").field_inits[i];
                let at = init.body.map(|b| BodyRef { file: f, body: b });
                let lhs = Expr::Ident(format!(".{}", init.field));
                (at, lhs, init.value.clone(), init.offset)
            }
        };
        let file = match s {
            StoreRef::Assign(er) => er.at.file,
            StoreRef::Init(f, _) => f,
        };
        let loc = Loc { file, offset };
        let store_step = Step {
            kind: StepKind::Store,
            loc,
            note: format!("stored: `{lhs}` = `{rhs}`"),
        };
        // Clearing the field, at run time or in a static initializer.
        if rhs == Expr::Null {
            return vec![null_chain(loc)];
        }
        let Some(at) = at else {
            return vec![unknown(
                loc,
                format!("{key} is initialized statically to `{rhs}`"),
            )];
        };
        let mut chains = self.trace(at, &rhs, offset, depth);
        let code = self.code(at);
        let names = [lhs.text(), rhs.text()];
        // Reference calls on the stored value in the storing function.
        let mut grab = None;
        let mut get = None;
        for (ev, name, args) in code.named_calls() {
            let Some(r) = self.api.lookup(name, args.len()) else {
                continue;
            };
            if args.is_empty()
                || !names.contains(&args[0].text())
                || !flow::on_one_path(code, ev.span.0, offset)
            {
                continue;
            }
            match r.role {
                Role::TakesMmCount => grab = grab.or(Some((ev.span.0, r.name))),
                Role::TakesMmUsers => get = get.or(Some((ev.span.0, r.name))),
                _ => {}
            }
        }
        // A put after the store that the function goes on from (not an
        // error path that undoes the store).
        let put = flow::downgrading_put(self.api, code, offset, &names, &lhs.text());
        let conds = self.conditions(at, offset, &lhs, &rhs);
        for c in &mut chains {
            let extra = self.adjust_to_store(c, at, loc, (grab, get, put));
            let mut step = store_step.clone();
            if !conds.is_empty() {
                step.note = format!("{} (when {})", step.note, conds.join(" and "));
            }
            let mut steps = vec![step];
            steps.extend(extra);
            steps.append(&mut c.steps);
            c.steps = steps;
            c.stores.insert(0, loc);
        }
        if let Some(t) = self.teardown(key, at) {
            for c in &mut chains {
                if matches!(c.reference, RefKind::MmUsers | RefKind::MmCount) {
                    c.steps.push(t.clone());
                }
            }
        }
        chains
    }

    /// The conditions on the stored value or the object it is stored in
    /// under which the store `lhs = rhs` at `offset` runs in its body, as
    /// text; not the bare test that the object exists.
    fn conditions(&self, at: BodyRef, offset: usize, lhs: &Expr, rhs: &Expr) -> Vec<String> {
        let object = lhs.root_ident().filter(|_| lhs.as_ident().is_none());
        let (lhs, rhs) = (lhs.text(), rhs.text());
        let names = |t: &str| -> Vec<String> {
            t.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .filter(|w| w.bytes().next().is_some_and(|b| !b.is_ascii_digit()))
                .filter(|w| *w != api::CURRENT)
                .map(str::to_string)
                .collect()
        };
        let words: Vec<String> = names(&lhs).into_iter().chain(names(&rhs)).collect();
        (flow::tested_at(self.api, self.code(at), offset).into_iter())
            .filter(|t| !(t.truth && t.expr.as_ident().is_some() && t.expr.as_ident() == object))
            .filter(|t| {
                let text = t.expr.text();
                words
                    .iter()
                    .any(|w| has_word(text.as_bytes(), w.as_bytes()))
            })
            .map(|t| match t.truth {
                true => format!("`{}`", t.expr),
                false => format!("not `{}`", t.expr),
            })
            .collect()
    }

    /// Where the field is released (`mmput`/`mmdrop` of it), if anywhere:
    /// not in a function that stores a value into it (such a drop is part
    /// of that store, or of its error paths), nor one that balances a get
    /// of its own, only in one that ends it.
    fn teardown(&self, key: &FieldKey, storer: BodyRef) -> Option<Step> {
        let setters: Vec<BodyRef> = (self.stores(key, key.last_field()).into_iter())
            .filter_map(|s| match s {
                StoreRef::Assign(er) => match &self.ix.event(er).kind {
                    EventKind::Assign { rhs, .. } if *rhs != Expr::Null => Some(er.at),
                    _ => None,
                },
                StoreRef::Init(..) => None,
            })
            .chain([storer])
            .collect();
        let mut found: Option<(Loc, String)> = None;
        for r in self
            .api
            .all()
            .filter(|r| matches!(r.role, Role::DropsMmUsers | Role::DropsMmCount))
        {
            for &er in self.ix.calls_of(r.name) {
                let ev = self.ix.event(er);
                let EventKind::Call { args, .. } = &ev.kind else {
                    continue;
                };
                if setters.contains(&er.at)
                    || args.len() != r.arity
                    || self.field_key(er.at, &args[0], ev.span.0).as_ref() != Some(key)
                {
                    continue;
                }
                // A put that balances a get of the same function on every
                // path (`if (mmget_not_zero(x->mm)) { ...; mmput(x->mm); }`)
                // ends that use, not the field's life.
                if flow::held_at(self.api, self.code(er.at), ev.span.0, &args[0]).is_some() {
                    continue;
                }
                let loc = Loc {
                    file: er.at.file,
                    offset: ev.span.0,
                };
                if found.as_ref().is_none_or(|(l, _)| loc < *l) {
                    found = Some((loc, r.name.to_string()));
                }
            }
        }
        found.map(|(loc, name)| Step {
            kind: StepKind::Teardown,
            loc,
            note: format!("released at teardown with `{name}()`"),
        })
    }

    /// A test that makes the code at `offset` run only when `mm` is
    /// non-NULL on every feasible path there (`flow::non_null_at`): where
    /// it is, and the expression it tests.
    pub fn null_guard(&self, at: BodyRef, offset: usize, mm: &str) -> Option<(Loc, String)> {
        let test = flow::non_null_at(self.api, self.code(at), offset, mm)?;
        Some((self.loc(at, test), mm.to_string()))
    }

    /// `e`, read at `offset` in body `at`, written in the body's
    /// parameters and globals: each local in it replaced by the value of
    /// its one definition that reaches `offset` on every path, when no name
    /// that value reads is assigned in between; with a step per
    /// definition. (A macro's locals are not its expansion's; a caller
    /// names what a function was handed, not its locals.)
    pub fn in_parameters(&self, at: BodyRef, e: &Expr, offset: usize) -> (Expr, Vec<Step>) {
        let body = self.ix.body(at);
        let code = self.code(at);
        let mut steps = Vec::new();
        let mut e = e.clone();
        for _ in 0..MAX_LOCAL_HOPS {
            let defined = RefCell::new(Vec::new());
            let next = e.substitute(&|name: &str| {
                if body.param_index(name).is_some() || !code.is_local(name, offset) {
                    return None;
                }
                let (defs, dominated) = flow::reaching_defs(code, name, offset);
                let [def] = defs[..] else { return None };
                let ev = &code.events[def];
                let EventKind::Assign { lhs, rhs } = &ev.kind else {
                    return None;
                };
                let unchanged = |word: &str| {
                    flow::reaching_defs(code, word, offset).0
                        == flow::reaching_defs(code, word, ev.span.0).0
                };
                if !dominated || !rhs.root_ident().is_none_or(unchanged) {
                    return None;
                }
                defined.borrow_mut().push(Step {
                    kind: StepKind::Assign,
                    loc: self.loc(at, ev.span.0),
                    note: format!("`{lhs}` = `{rhs}`"),
                });
                Some(rhs.clone())
            });
            if defined.borrow().is_empty() {
                break;
            }
            steps.extend(defined.into_inner());
            e = next;
        }
        (e, steps)
    }

    /// The chains of parameter `index` of body `at`, through its callers.
    fn trace_param(
        &self,
        at: BodyRef,
        index: usize,
        field: Option<&'static str>,
        depth: u32,
    ) -> Vec<Chain> {
        let key = (at, index, field);
        if let Some(c) = self.param_memo.borrow().get(&key) {
            return c.clone();
        }
        let body = self.ix.body(at);
        let loc = self.loc(at, body.name_offset);
        if !self.in_progress.borrow_mut().insert(key) {
            // A cycle adds no origin that the outer call does not already see.
            self.chains_cut.set(self.chains_cut.get() + 1);
            return vec![];
        }
        let cuts_before = self.chains_cut.get();
        if self.opaque(at) {
            self.in_progress.borrow_mut().remove(&key);
            return vec![unknown(
                loc,
                format!(
                    "`{}()` is a kernel API: its callers are not its origins",
                    body.name
                ),
            )];
        }
        let calls = self.callers(at);
        let mut out = Vec::new();
        for (call, via) in calls.iter().take(MAX_FANOUT) {
            let ev = self.ix.event(*call);
            let EventKind::Call { args, .. } = &ev.kind else {
                continue;
            };
            let Some(arg) = args.get(index) else { continue };
            let arg = &match field {
                None => arg.clone(),
                Some(f) => Expr::Field {
                    base: Box::new(arg.clone()),
                    arrow: true,
                    field: f.to_string(),
                },
            };
            let caller = self.ix.body(call.at);
            let note = match via {
                Some(through) => format!(
                    "`{}()` called through {through} from `{}()` with `{arg}`",
                    body.name, caller.name
                ),
                None => format!(
                    "`{}()` called from `{}()` with `{arg}`",
                    body.name, caller.name
                ),
            };
            let step = Step {
                kind: StepKind::Call,
                loc: self.loc(call.at, ev.span.0),
                note,
            };
            let mut chains = prepend(self.trace(call.at, arg, ev.span.0, depth + 1), step);
            // NULL handed on only where the caller did not test it out.
            if chains.iter().any(ends_in_null) {
                let guard = self.null_guard(call.at, ev.span.0, &arg.text());
                mark_null_not_borrowed(&mut chains, guard);
            }
            for c in &mut chains {
                // Set on the way back out, so the outermost caller stays.
                c.via.get_or_insert_with(|| Via {
                    function: caller.name.clone(),
                    loc: self.loc(call.at, ev.span.0),
                });
            }
            out.extend(chains);
        }
        if calls.len() > MAX_FANOUT {
            out.push(unknown(
                loc,
                format!(
                    "`{}()` has more than {MAX_FANOUT} callers, the rest not followed",
                    body.name
                ),
            ));
        }
        if calls.is_empty() {
            out.push(unknown(
                loc,
                format!("no caller of `{}()` found in the tree", body.name),
            ));
        }
        self.in_progress.borrow_mut().remove(&key);
        let out = cap_chains(out, loc);
        if self.chains_cut.get() == cuts_before {
            self.param_memo.borrow_mut().insert(key, out.clone());
        }
        out
    }

    /// Direct calls of a function, and calls through struct fields that
    /// hold a pointer to it (`.f = fn` in a table, `p->f = fn;`). The field
    /// name is given for indirect calls.
    pub fn callers(&self, at: BodyRef) -> Vec<Caller> {
        if let Some(c) = self.callers_memo.borrow().get(&at) {
            return c.clone();
        }
        let out = self.find_callers(at);
        self.callers_memo.borrow_mut().insert(at, out.clone());
        out
    }

    /// Calls of body `at` through a parameter of a function of the same
    /// file it is handed to: `walk(mm, visit_one)` and, in `walk(struct
    /// mm_struct *mm, visit_fn visit)`, `visit(vma)`.
    fn callers_through_parameters(&self, at: BodyRef) -> Vec<Caller> {
        let body = self.ix.body(at);
        let name = &body.name;
        let is_static = matches!(body.kind, BodyKind::Function { is_static: true });
        let mut out = Vec::new();
        let handed_to = (self.ix.passed_as_argument(name).iter())
            .filter(|h| !is_static || h.at.file == at.file);
        for &handed in handed_to {
            let EventKind::Call { callee, args } = &self.ix.event(handed).kind else {
                continue;
            };
            let (Some(taker), Some(k)) = (
                callee.as_ident(),
                args.iter()
                    .position(|a| a.as_ident() == Some(name.as_str())),
            ) else {
                continue;
            };
            // The taker of the same file, which is parsed already: a file's
            // callbacks are mostly handed to its own walkers (a taker in
            // another file would cost a search of every file naming it).
            let takers = (self.ix.functions(taker)).filter(|&f| {
                f.file == handed.at.file
                    && !self.opaque(f)
                    && self.ix.body(f).params.len() == args.len()
            });
            for f in takers {
                let param = &self.ix.body(f).params[k].name;
                let through = format!("`{param}`, a parameter of `{taker}()`");
                out.extend(
                    (self.ix.calls_of(param).iter())
                        .filter(|c| c.at == f)
                        .map(|c| (*c, Some(through.clone()))),
                );
            }
        }
        out
    }

    fn find_callers(&self, at: BodyRef) -> Vec<Caller> {
        let body = self.ix.body(at);
        let is_static = matches!(body.kind, BodyKind::Function { is_static: true });
        self.demand(Demand::Ident(body.name.clone()));
        let mut out: Vec<Caller> = self
            .ix
            .calls_of(&body.name)
            .iter()
            .filter(|c| c.at != at && (!is_static || c.at.file == at.file) && !self.opaque(c.at))
            .map(|c| (*c, None))
            .collect();
        // Function pointers: where is this function stored into a field?
        let mut fields = BTreeSet::new();
        for &s in self.ix.stores_of_value(&body.name) {
            let (file, key) = self.store_key(s);
            // A static function is only seen by its own file.
            if !(is_static && file != at.file) {
                fields.extend(key);
            }
        }
        for key in fields {
            let names_struct = crate::lex::WordFinder::new(&[key.struct_name.as_str()]);
            let last = key.last_field().to_string();
            self.demand(Demand::FieldCall(last.clone(), key.struct_name.clone()));
            for &c in self.ix.calls_through_field(&last) {
                let ev = self.ix.event(c);
                let EventKind::Call { callee, .. } = &ev.kind else {
                    continue;
                };
                let Expr::Field { base, .. } = callee else {
                    continue;
                };
                // The struct the pointer is read from must be the one it was
                // stored into; when the type cannot be told, the field name
                // decides.
                let matches = match self.struct_of(c.at, base, ev.span.0) {
                    Some(s) => s == key.struct_name,
                    // A file that never names the struct cannot call through it
                    // (short of typedefs and macros that hide it). Comments
                    // do not count: they declare nothing, and the cache's
                    // replay relies on the rounds never reading them.
                    None => names_struct.any_outside(
                        self.ix.file(c.at.file).text().as_bytes(),
                        self.ix.facts(c.at.file).map_or(&[][..], |f| &f.comments),
                    ),
                };
                if matches && c.at != at {
                    out.push((c, Some(format!("`->{last}`"))));
                }
            }
        }
        out.extend(self.callers_through_parameters(at));
        out.sort();
        out.dedup();
        out
    }
}
