//! Alternative lifetime guarantees and lifetime comments.
//!
//! A borrow whose mm holds no `mm_users` reference may rely on something
//! else: an mmu_notifier whose `.release` stops the borrower, or
//! `current->mm` captured at asynchronous I/O submission. Liveness checks of
//! the owning task and tests of `current->mm` are recognized too, but they
//! never keep the page tables alive. [`Examiner`] finds these, and the
//! comments near the borrow, the stores, the fields and the macro that talk
//! about the mm's lifetime, and a comment the flow contradicts.

use super::flow;
use super::trace::Tracer;
use crate::api::{self, ApiTable, RefKind, Role};
use crate::demand::Demand;
use crate::facts::{BodyKind, Code, EventKind, Expr, Span, struct_name};
use crate::index::{BodyRef, EventRef, Index};
use crate::lex::comment_text;
use crate::report::{
    Chain, CommentPlace, FieldKey, Guarantee, GuaranteeKind, LifetimeComment, Loc, Site,
};
use std::collections::{BTreeSet, HashSet};

/// How many lines above the borrow (and below it) a comment may be to
/// count as the borrow's.
const BORROW_LINES_ABOVE: u32 = 12;
const BORROW_LINES_BELOW: u32 = 8;
/// How many lines above a store or a field declaration.
const DECL_LINES_ABOVE: u32 = 3;
/// How deep the release callback's callees are searched for a stop.
const RELEASE_CALL_DEPTH: u32 = 2;

/// Looks for alternative guarantees and lifetime comments.
pub struct Examiner<'a> {
    ix: &'a Index,
    tracer: &'a Tracer<'a>,
    /// Every call that registers or gets an mmu_notifier.
    registrations: Vec<EventRef>,
}

impl<'a> Examiner<'a> {
    /// An examiner over the index.
    /// The APIs the audit knows.
    pub fn api(&self) -> &'a ApiTable {
        self.tracer.api()
    }

    pub fn new(ix: &'a Index, tracer: &'a Tracer<'a>) -> Examiner<'a> {
        let mut registrations = Vec::new();
        for r in tracer
            .api()
            .all()
            .filter(|r| matches!(r.role, Role::RegistersNotifier | Role::GetsNotifier))
        {
            registrations.extend(ix.calls_of(r.name).iter().copied().filter(|c| {
                matches!(&ix.event(*c).kind, EventKind::Call { args, .. } if args.len() == r.arity)
            }));
        }
        registrations.sort();
        Examiner {
            ix,
            tracer,
            registrations,
        }
    }

    /// Fills the site's guarantees, comments and contradiction. True if
    /// every path that holds no `mm_users` reference has a guarantee of
    /// its own that holds (a guarantee covers the paths it is found on;
    /// another bad path still decides).
    pub fn examine(&self, site: &mut Site) -> bool {
        let host = site
            .function
            .as_ref()
            .and_then(|_| self.ix.body_at(site.loc.file, site.loc.offset));
        let bad: Vec<&Chain> = site
            .chains
            .iter()
            .filter(|c| matches!(c.reference, RefKind::None | RefKind::MmCount))
            .collect();
        let mut guarantees = BTreeSet::new();
        let mut every_bad_path_covered = !bad.is_empty();
        if !bad.is_empty() {
            if let Some(h) = host {
                guarantees.extend(self.caller_context(h, site.loc.offset));
                guarantees.extend(self.task_liveness(h, site.loc.offset));
            }
            for c in &bad {
                let own: Vec<Guarantee> = (self.aio_teardown(c).into_iter())
                    .chain(self.notifier_release(host, c))
                    .collect();
                every_bad_path_covered &= own.iter().any(|g| g.effective);
                guarantees.extend(own);
            }
        }
        site.guarantees = guarantees.into_iter().collect();

        let mut comments = BTreeSet::new();
        if let Some(h) = host {
            let body = self.ix.body(h);
            comments.extend(self.comments_near(
                site.loc,
                CommentPlace::Borrow,
                BORROW_LINES_ABOVE,
                BORROW_LINES_BELOW,
                Some(body.span),
            ));
        }
        if let Some(m) = site
            .macro_loc
            .and_then(|l| self.ix.body_at(l.file, l.offset))
        {
            let mac = self.ix.body(m);
            let def = Loc {
                file: m.file,
                offset: mac.span.0,
            };
            comments.extend(self.comments_in(m.file, mac.span, CommentPlace::Macro));
            comments.extend(self.comments_near(
                def,
                CommentPlace::Macro,
                DECL_LINES_ABOVE,
                0,
                None,
            ));
        }
        let mut contradiction = None;
        for c in &site.chains {
            let mut found = Vec::new();
            for &s in &c.stores {
                found.extend(self.comments_near(s, CommentPlace::Store, DECL_LINES_ABOVE, 0, None));
            }
            for k in &c.fields {
                if let Some(decl) = self.field_decl(k) {
                    found.extend(self.comments_near(
                        decl,
                        CommentPlace::Field,
                        DECL_LINES_ABOVE,
                        0,
                        None,
                    ));
                }
            }
            for f in found {
                if contradiction.is_none()
                    && c.reference != RefKind::MmUsers
                    && says_no_reference(&f.text)
                {
                    contradiction = Some(f.clone());
                }
                comments.insert(f);
            }
        }
        site.comments = comments
            .into_iter()
            .filter(|c| talks_about_lifetime(&c.text, c.place))
            .collect();
        site.contradiction = contradiction;
        every_bad_path_covered
    }

    fn loc(&self, at: BodyRef, offset: usize) -> Loc {
        Loc {
            file: at.file,
            offset,
        }
    }

    fn at(&self, l: Loc) -> String {
        let f = self.ix.file(l.file);
        format!("{}:{}", f.path, f.lines.line_col(l.offset).0)
    }

    /// A test of `current->mm` that every path to the borrow passes:
    /// `if (current->mm != x) { ... borrow ... }`, or an earlier
    /// `if (WARN_ON(current->mm)) return;`.
    fn caller_context(&self, host: BodyRef, offset: usize) -> Option<Guarantee> {
        let code = self.tracer.code(host);
        let b = (flow::tested_at(self.tracer.api(), code, offset).into_iter())
            .find(|t| t.expr.text().contains(api::CURRENT_MM))?;
        Some(Guarantee {
            kind: GuaranteeKind::CallerContext,
            effective: false,
            loc: self.loc(host, b.offset),
            note: format!(
                "the borrow is behind `{}`: that says which thread calls, not how long the mm lives",
                b.expr
            ),
        })
    }

    /// A test that the owning task is alive (`PF_EXITING`, a pid lookup)
    /// before the borrow, in the function or in one it calls first.
    fn task_liveness(&self, host: BodyRef, offset: usize) -> Option<Guarantee> {
        let code = self.tracer.code(host);
        if let Some(at) = liveness_test(self.tracer.api(), code, Some(offset)) {
            return Some(self.liveness(self.loc(host, at), "the borrowing function".into()));
        }
        for (ev, name, _) in code.named_calls() {
            if !flow::runs_before(code, ev.span.0, offset)
                || self.tracer.api().by_name(name).is_some()
            {
                continue;
            }
            for f in self.functions_near(name, host.file) {
                if let Some(at) = liveness_test(self.tracer.api(), self.tracer.code(f), None) {
                    return Some(self.liveness(
                        self.loc(f, at),
                        format!(
                            "`{name}()`, called at {},",
                            self.at(self.loc(host, ev.span.0))
                        ),
                    ));
                }
            }
        }
        None
    }

    fn liveness(&self, loc: Loc, who: String) -> Guarantee {
        Guarantee {
            kind: GuaranteeKind::TaskLiveness,
            effective: false,
            loc,
            note: format!(
                "{who} checks that the owning task is alive before the borrow: racy, the last \
                 mm_users reference can go right after the check"
            ),
        }
    }

    /// `current->mm` stored by a function that submits asynchronous I/O.
    fn aio_teardown(&self, c: &Chain) -> Option<Guarantee> {
        if !c.owner_origin {
            return None;
        }
        let store = *c.stores.last()?;
        let f = self.ix.body_at(store.file, store.offset)?;
        let body = self.ix.body(f);
        let code = self.tracer.code(f);
        if !matches!(body.kind, BodyKind::Function { .. }) {
            return None;
        }
        let handles_request = body
            .params
            .iter()
            .map(|p| p.ty.as_str())
            .chain(code.locals.iter().map(|l| l.ty.as_str()))
            .any(|ty| struct_name(ty) == Some(api::AIO_REQUEST_STRUCT));
        let marker = code.named_calls().find(|(_, name, args)| {
            self.tracer
                .api()
                .lookup(name, args.len())
                .is_some_and(|r| r.role == Role::MarksAsyncIo)
        });
        let (ev, name, _) = marker.filter(|_| handles_request)?;
        Some(Guarantee {
            kind: GuaranteeKind::AioTeardown,
            effective: true,
            loc: store,
            note: format!(
                "`current->mm` is captured in `{}()` while it submits asynchronous I/O \
                 (`struct {}`, `{name}()` at {}): exit_aio() waits for in-flight requests \
                 before exit_mmap() frees the page tables",
                body.name,
                api::AIO_REQUEST_STRUCT,
                self.at(self.loc(f, ev.span.0))
            ),
        })
    }

    /// The object whose field holds the mm registers an mmu_notifier on
    /// it: is there a `.release`, and does it stop the borrower?
    fn notifier_release(&self, host: Option<BodyRef>, c: &Chain) -> Vec<Guarantee> {
        let mut out = Vec::new();
        if c.fields.is_empty() {
            return out;
        }
        for r in self
            .tracer
            .api()
            .all()
            .filter(|r| matches!(r.role, Role::RegistersNotifier | Role::GetsNotifier))
        {
            self.tracer.demand(Demand::Ident(r.name.to_string()));
        }
        for key in &c.fields {
            for &reg in &self.registrations {
                if !self.registers_for(reg, key) {
                    continue;
                }
                out.push(self.judge_release(host, reg, key));
            }
        }
        out
    }

    /// Does this registration belong to an object of `key`'s struct?
    fn registers_for(&self, reg: EventRef, key: &FieldKey) -> bool {
        let ev = self.ix.event(reg);
        let EventKind::Call { callee, args } = &ev.kind else {
            return false;
        };
        let role = callee
            .as_ident()
            .and_then(|n| self.tracer.api().lookup(n, args.len()))
            .map(|r| r.role);
        // `mmu_notifier_register(&obj->mn, mm)`: obj is of the struct.
        if role == Some(Role::RegistersNotifier)
            && let Expr::AddrOf(inner) = &args[0]
            && let Expr::Field { base, .. } = inner.as_ref()
            && self.tracer.struct_of(reg.at, base, ev.span.0).as_deref()
                == Some(key.struct_name.as_str())
        {
            return true;
        }
        // Otherwise: the registering function stores into the same field.
        let code = self.tracer.code(reg.at);
        let last = key.last_field();
        code.events.iter().any(|e| {
            matches!(&e.kind, EventKind::Assign { lhs: Expr::Field { base, field, .. }, .. }
                if field == last
                    && self.tracer.struct_of(reg.at, base, e.span.0).as_deref()
                        == Some(key.struct_name.as_str()))
        })
    }

    fn judge_release(&self, host: Option<BodyRef>, reg: EventRef, key: &FieldKey) -> Guarantee {
        let reg_loc = self.loc(reg.at, self.ix.event(reg).span.0);
        let registered = format!(
            "struct {} registers an mmu_notifier on the mm at {}",
            key.struct_name,
            self.at(reg_loc)
        );
        let Some((release, table)) = self.release_of(reg) else {
            return Guarantee {
                kind: GuaranteeKind::MmuNotifierRelease,
                effective: false,
                loc: reg_loc,
                note: format!("{registered}, but no `.release` callback was found for it"),
            };
        };
        let Some(rel) = self.functions_near(&release, table).into_iter().next() else {
            return Guarantee {
                kind: GuaranteeKind::MmuNotifierRelease,
                effective: false,
                loc: reg_loc,
                note: format!(
                    "{registered}; its `.release` `{release}()` is not in the audited files"
                ),
            };
        };
        let rel_body = self.ix.body(rel);
        let rel_loc = self.loc(rel, rel_body.name_offset);
        let what = format!(
            "{registered}; its `.release` is `{release}()` ({})",
            self.at(rel_loc)
        );
        // Which work items run the borrow?
        let borrower = host.map(|h| self.ix.body(h).name.clone());
        let works: BTreeSet<String> = borrower
            .iter()
            .flat_map(|b| self.work_fields_of(b))
            .collect();
        let field_last = key.last_field().to_string();
        let mut seen = HashSet::new();
        let stops = self.stops(rel, &field_last, 0, &mut seen);
        let stop = stops.iter().find(|s| match &s.kind {
            Stop::Work(target) => works.is_empty() || works.contains(target),
            Stop::Queue | Stop::Clears => true,
        });
        match stop {
            Some(s) => Guarantee {
                kind: GuaranteeKind::MmuNotifierRelease,
                effective: true,
                loc: rel_loc,
                note: format!(
                    "{what}, which stops the borrower: `{}` at {}{}",
                    s.text,
                    self.at(s.loc),
                    if works.is_empty() && matches!(s.kind, Stop::Work(_)) {
                        " (the work item that runs the borrow was not identified)"
                    } else {
                        ""
                    }
                ),
            },
            None => {
                let calls: Vec<String> = (self.tracer.code(rel))
                    .named_calls()
                    .map(|(_, n, _)| format!("`{n}()`"))
                    .take(4)
                    .collect();
                let does = if calls.is_empty() {
                    "does nothing visible".to_string()
                } else {
                    format!("only calls {}", calls.join(", "))
                };
                Guarantee {
                    kind: GuaranteeKind::MmuNotifierRelease,
                    effective: false,
                    loc: rel_loc,
                    note: format!(
                        "{what}, which does not stop the borrower or clear `{field_last}`: it {does}"
                    ),
                }
            }
        }
    }

    /// The `.release` callback of the ops registered by `reg`, and the file
    /// of the ops table.
    fn release_of(&self, reg: EventRef) -> Option<(String, crate::source::FileId)> {
        let ev = self.ix.event(reg);
        let EventKind::Call { callee, args } = &ev.kind else {
            return None;
        };
        let role = self
            .tracer
            .api()
            .lookup(callee.as_ident()?, args.len())?
            .role;
        let table = |e: &Expr| match e {
            Expr::AddrOf(t) => t.as_ident().map(str::to_string),
            e => e.as_ident().map(str::to_string),
        };
        let ops_table = match role {
            Role::GetsNotifier => table(&args[0]),
            _ => {
                // `obj->mn.ops = &table;` before the registration.
                let Expr::AddrOf(mn) = &args[0] else {
                    return None;
                };
                let want = [
                    format!("{mn}.{}", api::NOTIFIER_OPS_FIELD),
                    format!("{mn}->{}", api::NOTIFIER_OPS_FIELD),
                ];
                self.tracer
                    .code(reg.at)
                    .events
                    .iter()
                    .find_map(|e| match &e.kind {
                        EventKind::Assign { lhs, rhs } if want.contains(&lhs.text()) => table(rhs),
                        _ => None,
                    })
            }
        };
        let mut fallback = None;
        for (fid, facts) in self.ix.parsed() {
            for init in &facts.field_inits {
                if init.struct_name != api::NOTIFIER_OPS_STRUCT
                    || init.field != api::NOTIFIER_RELEASE_FIELD
                {
                    continue;
                }
                let Some(f) = init.value.as_ident() else {
                    continue;
                };
                match (&ops_table, &init.table) {
                    (Some(want), Some(t)) if want == t => {
                        return Some((f.to_string(), fid as crate::source::FileId));
                    }
                    // Unknown table: one in the registering file will do.
                    (None, _) if fid as crate::source::FileId == reg.at.file => {
                        fallback = fallback.or(Some((f.to_string(), fid as crate::source::FileId)));
                    }
                    _ => {}
                }
            }
        }
        fallback
    }

    /// Last field names of the work items the function is bound to
    /// (`INIT_WORK(&x->work, fn)` gives `work`).
    fn work_fields_of(&self, function: &str) -> Vec<String> {
        let mut out = Vec::new();
        for &c in self.ix.passed_as_argument(function) {
            let EventKind::Call { callee, args } = &self.ix.event(c).kind else {
                continue;
            };
            let Some(r) = callee
                .as_ident()
                .and_then(|n| self.tracer.api().lookup(n, args.len()))
            else {
                continue;
            };
            if r.role == Role::BindsWork && args[1].as_ident() == Some(function) {
                out.extend(last_field(&args[0]));
            }
        }
        out
    }

    /// What the function (and what it calls, a little way down) does that
    /// stops borrowers: waits for or cancels work, or clears the field.
    fn stops(
        &self,
        f: BodyRef,
        field: &str,
        depth: u32,
        seen: &mut HashSet<BodyRef>,
    ) -> Vec<StopCall> {
        let mut out = Vec::new();
        if !seen.insert(f) {
            return out;
        }
        let code = self.tracer.code(f);
        for ev in &code.events {
            match &ev.kind {
                EventKind::Assign {
                    lhs: Expr::Field { field: lf, .. },
                    rhs: Expr::Null,
                } if lf == field => out.push(StopCall {
                    kind: Stop::Clears,
                    loc: self.loc(f, ev.span.0),
                    text: format!(
                        "{} = NULL",
                        match &ev.kind {
                            EventKind::Assign { lhs, .. } => lhs.text(),
                            _ => String::new(),
                        }
                    ),
                }),
                EventKind::Call { callee, args } => {
                    let Some(name) = callee.as_ident() else {
                        continue;
                    };
                    let text = format!(
                        "{name}({})",
                        args.iter().map(Expr::text).collect::<Vec<_>>().join(", ")
                    );
                    match self.tracer.api().lookup(name, args.len()).map(|r| r.role) {
                        Some(Role::StopsWork) => out.push(StopCall {
                            kind: Stop::Work(last_field(&args[0]).unwrap_or_default()),
                            loc: self.loc(f, ev.span.0),
                            text,
                        }),
                        Some(Role::StopsQueue) => out.push(StopCall {
                            kind: Stop::Queue,
                            loc: self.loc(f, ev.span.0),
                            text,
                        }),
                        Some(_) => {}
                        None if depth < RELEASE_CALL_DEPTH => {
                            for g in self.functions_near(name, f.file) {
                                out.extend(self.stops(g, field, depth + 1, seen));
                            }
                        }
                        None => {}
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// Functions of that name: those in `file` if any, else all.
    fn functions_near(&self, name: &str, file: crate::source::FileId) -> Vec<BodyRef> {
        let all: Vec<BodyRef> = self.ix.functions(name).collect();
        let here: Vec<BodyRef> = all.iter().copied().filter(|b| b.file == file).collect();
        if here.is_empty() {
            all.into_iter()
                .filter(|b| {
                    !matches!(
                        self.ix.body(*b).kind,
                        BodyKind::Function { is_static: true }
                    )
                })
                .collect()
        } else {
            here
        }
    }

    /// The field declaration `key` names, when its path is one field deep.
    fn field_decl(&self, key: &FieldKey) -> Option<Loc> {
        if key.path.contains(['.', '>', '[']) {
            return None;
        }
        let (file, def) = self.ix.struct_def_in(&key.struct_name)?;
        let f = def.fields.iter().find(|f| f.name == key.path)?;
        Some(Loc {
            file,
            offset: f.offset,
        })
    }

    /// Comments standing on their own lines that end at most `above` lines
    /// before `at`'s line, or start at most `below` lines after it, or sit
    /// on its line; within `within` if given.
    fn comments_near(
        &self,
        at: Loc,
        place: CommentPlace,
        above: u32,
        below: u32,
        within: Option<Span>,
    ) -> Vec<LifetimeComment> {
        let Some(facts) = self.ix.facts(at.file) else {
            return vec![];
        };
        let file = self.ix.file(at.file);
        let line = file.lines.line_col(at.offset).0;
        facts
            .comments
            .iter()
            .filter(|c| within.is_none_or(|w| w.0 <= c.0 && c.1 <= w.1))
            .filter(|c| {
                let (start, _) = file.lines.line_col(c.0);
                let (end, _) = file.lines.line_col(c.1.saturating_sub(1).max(c.0));
                let on_line = start == line || end == line;
                let own_line = file.text()[file.lines.line_start(start)..c.0]
                    .trim()
                    .is_empty();
                on_line
                    || (own_line && end < line && end + above >= line)
                    || (own_line && start > line && start <= line + below)
            })
            .map(|c| self.quote(at.file, *c, place))
            .collect()
    }

    /// Every comment inside a span.
    fn comments_in(
        &self,
        file: crate::source::FileId,
        span: Span,
        place: CommentPlace,
    ) -> Vec<LifetimeComment> {
        let Some(facts) = self.ix.facts(file) else {
            return vec![];
        };
        facts
            .comments
            .iter()
            .filter(|c| span.0 <= c.0 && c.1 <= span.1)
            .map(|c| self.quote(file, *c, place))
            .collect()
    }

    fn quote(&self, file: crate::source::FileId, c: Span, place: CommentPlace) -> LifetimeComment {
        LifetimeComment {
            place,
            loc: Loc { file, offset: c.0 },
            text: comment_text(&self.ix.file(file).text()[c.0..c.1]),
        }
    }
}

/// A call (or store) that stops borrowers.
struct StopCall {
    kind: Stop,
    loc: Loc,
    text: String,
}

enum Stop {
    /// Waits for or cancels one work item or thread (its last field name).
    Work(String),
    /// Waits for a whole queue or worker.
    Queue,
    /// Clears the field the borrow reads.
    Clears,
}

/// The last field name of `&x->a.work` or `x->work`.
fn last_field(e: &Expr) -> Option<String> {
    match e {
        Expr::AddrOf(inner) => last_field(inner),
        Expr::Field { field, .. } => Some(field.clone()),
        Expr::Index { base, .. } => last_field(base),
        Expr::Ident(v) => Some(v.clone()),
        _ => None,
    }
}

/// Where the code tests a task-exiting flag or looks a task up by pid:
/// before the borrow at `borrow` (the flag tested on every path to it), or
/// anywhere in a function it calls first (`None`).
fn liveness_test(api: &ApiTable, code: &Code, borrow: Option<usize>) -> Option<usize> {
    let exiting = |e: &Expr| {
        let t = e.text();
        api::TASK_EXITING_FLAGS.iter().any(|f| t.contains(f))
    };
    let flag = match borrow {
        Some(offset) => (flow::tested_at(api, code, offset).into_iter())
            .find(|t| exiting(t.expr))
            .map(|t| t.offset),
        None => (code.cfg.conds.iter())
            .find(|c| exiting(&c.expr))
            .map(|c| c.offset),
    };
    flag.or_else(|| {
        code.named_calls()
            .filter(|(ev, _, _)| borrow.is_none_or(|b| flow::runs_before(code, ev.span.0, b)))
            .find(|(_, n, a)| {
                api.lookup(n, a.len())
                    .is_some_and(|r| r.role == Role::ChecksTaskLiveness)
            })
            .map(|(ev, _, _)| ev.span.0)
    })
}

/// Does a comment talk about an mm's lifetime? It must use a lifetime
/// word, and name the mm unless it sits on the mm's own store or field.
pub fn talks_about_lifetime(text: &str, place: CommentPlace) -> bool {
    let lower = text.to_lowercase();
    if !api::LIFETIME_WORDS.iter().any(|w| lower.contains(w)) {
        return false;
    }
    let names_mm = lower
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .any(|w| w == "mm" || w == "mm_struct" || w == "mms")
        || lower.contains("address space");
    names_mm || matches!(place, CommentPlace::Store | CommentPlace::Field)
}

/// Does a comment say the mm is held without a reference, or must not be
/// dereferenced?
pub fn says_no_reference(text: &str) -> bool {
    let lower = text.to_lowercase();
    api::NO_REFERENCE_PHRASES.iter().any(|p| lower.contains(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetime_comments_are_told_from_others() {
        let b = CommentPlace::Borrow;
        assert!(talks_about_lifetime(
            "mm teardown waits for iocbs in exit_aio()",
            b
        ));
        assert!(talks_about_lifetime(
            "pid and mm references are taken when the window is opened",
            b
        ));
        assert!(!talks_about_lifetime(
            "The fault work runs in kernel thread context. It temporarily switches to the mm.",
            b
        ));
        assert!(!talks_about_lifetime(
            "userspace tied to this vm",
            CommentPlace::Field
        ));
        // On the field itself the subject is implied.
        assert!(talks_about_lifetime(
            "kept alive by the owner",
            CommentPlace::Field
        ));
        assert!(!talks_about_lifetime("kept alive by the owner", b));
    }

    #[test]
    fn no_reference_claims() {
        assert!(says_no_reference("No reference held: never dereference"));
        assert!(says_no_reference(
            "only used for comparison, not refcounted"
        ));
        assert!(!says_no_reference(
            "holds a reference, dropped in release()"
        ));
    }
}
