//! Lowers a body's statements to its [`Cfg`].
//!
//! A second, structured walk over the statements the event walk visited:
//! it makes the blocks and edges, and records which block runs each piece
//! of straight-line code (an expression statement, a declaration, a
//! condition atom, a `return`). Each event then goes to the block of the
//! innermost such piece that holds it. Expressions are straight-line code
//! except in conditions: `a && f(b) ? ...` outside a condition is one
//! piece.

use super::{Cx, MAX_DEPTH, field, named_children};
use crate::facts::cfg::{BasicBlock, BlockId, Cfg, Cond, Edge};
use crate::facts::{Event, Expr, Span};
use rustc_hash::FxHashMap as HashMap;
use tree_sitter::Node;

/// Where control is: a block, or nowhere (after a jump).
type Flow = Option<BlockId>;

/// The CFG of the body whose statements are `body`, with `events` (the
/// body's events, sorted) placed in its blocks.
pub(super) fn lower(cx: &Cx, body: Node, events: &[Event]) -> Cfg {
    let mut l = Lowering {
        cx,
        cfg: Cfg {
            blocks: vec![BasicBlock::default(), BasicBlock::default()],
            conds: Vec::new(),
        },
        pieces: Vec::new(),
        labels: HashMap::default(),
        gotos: Vec::new(),
        breaks: Vec::new(),
        continues: Vec::new(),
    };
    let end = l.stmt(body, Some(Cfg::ENTRY), 0);
    l.jump(end, Cfg::EXIT);
    for (from, label) in std::mem::take(&mut l.gotos) {
        // A `goto` to a label that is not there (it sits in an `#if` arm
        // the parser read otherwise) leaves the body.
        let to = l.labels.get(&label).copied().unwrap_or(Cfg::EXIT);
        l.jump(Some(from), to);
    }
    l.place(events);
    l.cfg
}

struct Lowering<'c, 'a> {
    cx: &'c Cx<'a>,
    cfg: Cfg,
    /// Straight-line code and the block that runs it, in walk order.
    pieces: Vec<(Span, BlockId)>,
    labels: HashMap<String, BlockId>,
    /// `goto`s, resolved once every label is known.
    gotos: Vec<(BlockId, String)>,
    /// Where `break` and `continue` go, innermost last.
    breaks: Vec<BlockId>,
    continues: Vec<BlockId>,
}

impl Lowering<'_, '_> {
    fn block(&mut self) -> BlockId {
        self.cfg.blocks.push(BasicBlock::default());
        (self.cfg.blocks.len() - 1) as BlockId
    }

    fn edge(&mut self, from: Flow, to: BlockId, when: Option<(u32, bool)>) {
        if let Some(from) = from {
            let e = Edge { to, when };
            let succs = &mut self.cfg.blocks[from as usize].succs;
            if !succs.contains(&e) {
                succs.push(e);
            }
        }
    }

    fn jump(&mut self, from: Flow, to: BlockId) {
        self.edge(from, to, None);
    }

    /// The block that runs code at `at`: a fresh one (reached by nothing)
    /// where control is nowhere.
    fn here(&mut self, at: Flow) -> BlockId {
        at.unwrap_or_else(|| self.block())
    }

    /// Straight-line code `n` runs in the block at `at`.
    fn code(&mut self, n: Node, at: Flow) -> Flow {
        let b = self.here(at);
        self.pieces.push((self.cx.span(n), b));
        Some(b)
    }

    /// Lowers statement `n`, entered from `at`; returns where control
    /// leaves it.
    fn stmt(&mut self, n: Node, at: Flow, depth: usize) -> Flow {
        if depth > MAX_DEPTH {
            return self.code(n, at);
        }
        match n.kind() {
            "compound_statement" => self.sequence(&named_children(n), at, depth),
            "expression_statement" => match statement_expression(n) {
                Some(inner) => self.stmt(inner, at, depth + 1),
                None => self.code(n, at),
            },
            "if_statement" => self.if_stmt(n, at, depth),
            "while_statement" => self.while_stmt(n, at, depth),
            "do_statement" => self.do_stmt(n, at, depth),
            "for_statement" => self.for_stmt(n, at, depth),
            "switch_statement" => self.switch_stmt(n, at, depth),
            "return_statement" => {
                let at = self.code(n, at);
                self.jump(at, Cfg::EXIT);
                None
            }
            "break_statement" => {
                if let Some(&to) = self.breaks.last() {
                    self.jump(at, to);
                }
                None
            }
            "continue_statement" => {
                if let Some(&to) = self.continues.last() {
                    self.jump(at, to);
                }
                None
            }
            "goto_statement" => {
                if let (Some(from), Some(l)) = (at, field(n, "label")) {
                    self.gotos.push((from, self.cx.text(l).to_string()));
                }
                None
            }
            "labeled_statement" => {
                let b = self.block();
                self.jump(at, b);
                let label = field(n, "label");
                if let Some(l) = label {
                    self.labels.insert(self.cx.text(l).to_string(), b);
                }
                let rest: Vec<Node> = (named_children(n).into_iter())
                    .filter(|c| Some(*c) != label)
                    .collect();
                self.sequence(&rest, Some(b), depth)
            }
            "comment" => at,
            // Conditional compilation and unparsed regions: their
            // statements in order (both arms of an `#if`, one after the
            // other).
            k if k == "ERROR" || k.starts_with("preproc_") || k == "attributed_statement" => {
                self.sequence(&named_children(n), at, depth)
            }
            _ => self.code(n, at),
        }
    }

    /// Statements in order. A call statement without its `;` followed by a
    /// block is an iteration macro (`list_for_each_entry(p, h, m) { }`):
    /// a loop whose body may run any number of times.
    fn sequence(&mut self, stmts: &[Node], mut at: Flow, depth: usize) -> Flow {
        let mut i = 0;
        while i < stmts.len() {
            let n = stmts[i];
            match stmts.get(i + 1) {
                Some(&body) if is_iteration_macro(n, body) => {
                    let head = self.block();
                    self.jump(at, head);
                    self.code(n, Some(head));
                    at = self.loop_body(body, head, head, depth);
                    i += 2;
                }
                _ => {
                    at = self.stmt(n, at, depth + 1);
                    i += 1;
                }
            }
        }
        at
    }

    /// A loop body entered from `head` (which may also leave the loop),
    /// with `continue` going to `next`, which leads back to `head`.
    /// Returns the block after the loop.
    fn loop_body(&mut self, body: Node, head: BlockId, next: BlockId, depth: usize) -> Flow {
        let (first, after) = (self.block(), self.block());
        self.jump(Some(head), first);
        self.jump(Some(head), after);
        let end = self.inside_loop(body, Some(first), after, next, depth);
        self.jump(end, next);
        if next != head {
            self.jump(Some(next), head);
        }
        Some(after)
    }

    /// Lowers a loop's body with `break` going to `after` and `continue`
    /// to `next`.
    fn inside_loop(
        &mut self,
        body: Node,
        at: Flow,
        after: BlockId,
        next: BlockId,
        depth: usize,
    ) -> Flow {
        self.breaks.push(after);
        self.continues.push(next);
        let end = self.stmt(body, at, depth + 1);
        self.breaks.pop();
        self.continues.pop();
        end
    }

    fn if_stmt(&mut self, n: Node, at: Flow, depth: usize) -> Flow {
        let (then, other) = (self.block(), self.block());
        match field(n, "condition") {
            Some(c) => self.cond(c, at, then, other, depth),
            None => {
                self.jump(at, then);
                self.jump(at, other);
            }
        }
        let then_end = match field(n, "consequence") {
            Some(c) => self.stmt(c, Some(then), depth + 1),
            None => Some(then),
        };
        let Some(alt) = field(n, "alternative") else {
            self.jump(then_end, other);
            return Some(other);
        };
        let alt = if alt.kind() == "else_clause" {
            named_children(alt)
                .into_iter()
                .find(|c| c.kind() != "comment")
        } else {
            Some(alt)
        };
        let other_end = match alt {
            Some(a) => self.stmt(a, Some(other), depth + 1),
            None => Some(other),
        };
        if then_end.is_none() && other_end.is_none() {
            return None;
        }
        let join = self.block();
        self.jump(then_end, join);
        self.jump(other_end, join);
        Some(join)
    }

    fn while_stmt(&mut self, n: Node, at: Flow, depth: usize) -> Flow {
        let (head, first, after) = (self.block(), self.block(), self.block());
        self.jump(at, head);
        match field(n, "condition") {
            Some(c) => self.cond(c, Some(head), first, after, depth),
            None => self.jump(Some(head), first),
        }
        let end = match field(n, "body") {
            Some(b) => self.inside_loop(b, Some(first), after, head, depth),
            None => Some(first),
        };
        self.jump(end, head);
        Some(after)
    }

    fn do_stmt(&mut self, n: Node, at: Flow, depth: usize) -> Flow {
        let (first, test, after) = (self.block(), self.block(), self.block());
        self.jump(at, first);
        let end = match field(n, "body") {
            Some(b) => self.inside_loop(b, Some(first), after, test, depth),
            None => Some(first),
        };
        self.jump(end, test);
        match field(n, "condition") {
            Some(c) => self.cond(c, Some(test), first, after, depth),
            None => self.jump(Some(test), first),
        }
        Some(after)
    }

    fn for_stmt(&mut self, n: Node, mut at: Flow, depth: usize) -> Flow {
        if let Some(init) = field(n, "initializer") {
            at = self.code(init, at);
        }
        let (head, first, next, after) = (self.block(), self.block(), self.block(), self.block());
        self.jump(at, head);
        match field(n, "condition") {
            Some(c) => self.cond(c, Some(head), first, after, depth),
            None => self.jump(Some(head), first),
        }
        let mut c = n.walk();
        for update in n.children_by_field_name("update", &mut c) {
            self.code(update, Some(next));
        }
        let end = match field(n, "body") {
            Some(b) => self.inside_loop(b, Some(first), after, next, depth),
            None => Some(first),
        };
        self.jump(end, next);
        self.jump(Some(next), head);
        Some(after)
    }

    /// A `switch`: an edge to each `case` (testing `value == case`) and to
    /// `default` (or past the switch), cases falling through to the next.
    fn switch_stmt(&mut self, n: Node, at: Flow, depth: usize) -> Flow {
        let value = field(n, "condition");
        let head = match value {
            Some(v) => self.code(v, at),
            None => Some(self.here(at)),
        };
        let after = self.block();
        let tested = value.map(|v| self.cx.expr(v, 0));
        let mut has_default = false;
        let mut cur: Flow = None;
        self.breaks.push(after);
        let body = field(n, "body").map(named_children).unwrap_or_default();
        for s in body {
            if s.kind() != "case_statement" {
                cur = self.stmt(s, cur, depth + 1);
                continue;
            }
            let case = self.block();
            let label = field(s, "value");
            match (label, &tested) {
                (Some(l), Some(t)) => {
                    let expr = Expr::Binary {
                        op: "==".into(),
                        left: Box::new(t.clone()),
                        right: Box::new(self.cx.expr(l, 0)),
                    };
                    let id = self.condition(expr, self.cx.off(l.start_byte()));
                    self.edge(head, case, Some((id, true)));
                }
                _ => {
                    has_default |= label.is_none();
                    self.jump(head, case);
                }
            }
            self.jump(cur, case);
            let rest: Vec<Node> = (named_children(s).into_iter())
                .filter(|c| Some(*c) != label)
                .collect();
            cur = self.sequence(&rest, Some(case), depth);
        }
        self.breaks.pop();
        self.jump(cur, after);
        if !has_default {
            self.jump(head, after);
        }
        Some(after)
    }

    fn condition(&mut self, expr: Expr, offset: usize) -> u32 {
        self.cfg.conds.push(Cond { expr, offset });
        (self.cfg.conds.len() - 1) as u32
    }

    /// Lowers condition `n`, entered from `at`: to `t` where it holds, to
    /// `f` where it does not, one atom an edge.
    fn cond(&mut self, n: Node, at: Flow, t: BlockId, f: BlockId, depth: usize) {
        let at = Some(self.here(at));
        if depth > MAX_DEPTH {
            return self.atom(n, at, t, f);
        }
        let op = field(n, "operator").map(|o| self.cx.text(o));
        match (n.kind(), op) {
            ("parenthesized_expression", _) => {
                match named_children(n)
                    .into_iter()
                    .find(|c| c.kind() != "comment")
                {
                    Some(inner) => self.cond(inner, at, t, f, depth + 1),
                    None => self.atom(n, at, t, f),
                }
            }
            ("binary_expression", Some("&&")) => {
                let mid = self.block();
                self.cond_field(n, "left", at, mid, f, depth);
                self.cond_field(n, "right", Some(mid), t, f, depth);
            }
            ("binary_expression", Some("||")) => {
                let mid = self.block();
                self.cond_field(n, "left", at, t, mid, depth);
                self.cond_field(n, "right", Some(mid), t, f, depth);
            }
            ("unary_expression", Some("!")) => self.cond_field(n, "argument", at, f, t, depth),
            ("conditional_expression", _) => {
                let (yes, no) = (self.block(), self.block());
                self.cond_field(n, "condition", at, yes, no, depth);
                self.cond_field(n, "consequence", Some(yes), t, f, depth);
                self.cond_field(n, "alternative", Some(no), t, f, depth);
            }
            ("comma_expression", _) => {
                let at = match field(n, "left") {
                    Some(l) => self.code(l, at),
                    None => at,
                };
                self.cond_field(n, "right", at, t, f, depth);
            }
            ("number_literal", _) => {
                let at = self.code(n, at);
                let zero = self
                    .cx
                    .text(n)
                    .trim_start_matches("0x")
                    .bytes()
                    .all(|b| b == b'0');
                self.jump(at, if zero { f } else { t });
            }
            _ => self.atom(n, at, t, f),
        }
    }

    /// [`Lowering::cond`] of the child in `name` (an atom of `n` itself if
    /// the tree lacks it).
    fn cond_field(&mut self, n: Node, name: &str, at: Flow, t: BlockId, f: BlockId, depth: usize) {
        match field(n, name) {
            Some(c) => self.cond(c, at, t, f, depth + 1),
            None => self.atom(n, at, t, f),
        }
    }

    /// A condition that is tested as a whole.
    fn atom(&mut self, n: Node, at: Flow, t: BlockId, f: BlockId) {
        let at = self.code(n, at);
        let id = self.condition(self.cx.expr(n, 0), self.cx.off(n.start_byte()));
        self.edge(at, t, Some((id, true)));
        self.edge(at, f, Some((id, false)));
    }

    /// Puts each event in the block of the innermost piece of code that
    /// holds its start (an event outside every piece, in the block of the
    /// nearest piece before it).
    fn place(&mut self, events: &[Event]) {
        for (i, ev) in events.iter().enumerate() {
            let at = ev.span.0;
            let holding = (self.pieces.iter().rev())
                .filter(|((s, e), _)| *s <= at && at < *e)
                .min_by_key(|((s, e), _)| e - s);
            let before = || {
                (self.pieces.iter())
                    .filter(|((s, _), _)| *s <= at)
                    .max_by_key(|((s, _), _)| *s)
            };
            let block = holding.or_else(before).map_or(Cfg::ENTRY, |(_, b)| *b);
            self.cfg.blocks[block as usize].events.push(i as u32);
        }
    }
}

/// The block of a statement expression `({ ... })` used as a statement.
fn statement_expression(n: Node) -> Option<Node> {
    let mut e = named_children(n)
        .into_iter()
        .find(|c| c.kind() != "comment")?;
    while e.kind() == "parenthesized_expression" {
        e = named_children(e)
            .into_iter()
            .find(|c| c.kind() != "comment")?;
    }
    (e.kind() == "compound_statement").then_some(e)
}

/// True if `n` is a call statement whose `;` the parser found missing and
/// `next` the block after it: `list_for_each_entry(p, h, m) { ... }`.
fn is_iteration_macro(n: Node, next: Node) -> bool {
    next.kind() == "compound_statement"
        && n.kind() == "expression_statement"
        && n.named_child(0)
            .is_some_and(|c| c.kind() == "call_expression")
        && n.child(n.child_count().saturating_sub(1))
            .is_some_and(|last| last.is_missing())
}

#[cfg(test)]
mod tests {
    use crate::facts::{Body, BodyKind, Cfg, EventKind, FileFacts};
    use std::collections::BTreeSet;

    fn body_of(src: &str, name: &str) -> Body {
        let file = crate::source::SourceFile::new("t.c".into(), "t.c".into(), src.into());
        let facts: FileFacts = crate::facts::of_file(&file).unwrap();
        facts.bodies.into_iter().find(|b| b.name == name).unwrap()
    }

    /// Every way from the entry to the exit, as the events it runs (calls
    /// by callee, assignments as `x=`, other writes as `x~`) and the conditions it takes (`c`,
    /// `!c`), each block at most twice (a loop once round).
    fn paths(src: &str, name: &str) -> BTreeSet<String> {
        let b = body_of(src, name);
        let code = b.code().unwrap();
        let cfg = &code.cfg;
        let label = |i: u32| match &code.events[i as usize].kind {
            EventKind::Call { callee, .. } => callee.text(),
            EventKind::Assign { lhs, .. } => format!("{lhs}="),
            EventKind::Write { target } => format!("{target}~"),
            EventKind::Return { .. } => "return".to_string(),
        };
        let mut out = BTreeSet::new();
        let mut stack = vec![(
            Cfg::ENTRY,
            Vec::<String>::new(),
            vec![0u8; cfg.blocks.len()],
        )];
        while let Some((at, mut words, mut seen)) = stack.pop() {
            seen[at as usize] += 1;
            if seen[at as usize] > 2 || out.len() > 200 {
                continue;
            }
            words.extend(cfg.blocks[at as usize].events.iter().map(|&e| label(e)));
            if at == Cfg::EXIT {
                out.insert(words.join(" "));
                continue;
            }
            for e in &cfg.blocks[at as usize].succs {
                let mut w = words.clone();
                if let Some((c, v)) = e.when {
                    let t = cfg.conds[c as usize].expr.text();
                    w.push(if v { t } else { format!("!{t}") });
                }
                stack.push((e.to, w, seen.clone()));
            }
        }
        out
    }

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn straight_line_code_is_one_path() {
        let p = paths("void f(void)\n{\n\ta();\n\tx = b(1);\n}\n", "f");
        assert_eq!(p, set(&["a x= b"]));
    }

    #[test]
    fn if_and_else_split_and_join() {
        let src = "void f(int c)\n{\n\tif (c)\n\t\ta();\n\telse\n\t\tb();\n\td();\n\tif (c)\n\t\te();\n}\n";
        let p = paths(src, "f");
        assert_eq!(
            p,
            set(&["c a d c e", "c a d !c", "!c b d c e", "!c b d !c"])
        );
    }

    #[test]
    fn conditions_split_at_and_or_not() {
        let src = "void f(void)\n{\n\tif (p() && !q() || r())\n\t\ta();\n}\n";
        let p = paths(src, "f");
        // `!q()` holds where `q()` does not: the edge says `!q()`.
        assert_eq!(
            p,
            set(&[
                "p p() q !q() a",
                "p p() q q() r r() a",
                "p p() q q() r !r()",
                "p !p() r r() a",
                "p !p() r !r()",
            ])
        );
    }

    #[test]
    fn a_conditional_expression_in_a_condition_splits_too() {
        let p = paths("void f(int c)\n{\n\tif (c ? p() : q())\n\t\ta();\n}\n", "f");
        assert_eq!(
            p,
            set(&["c p p() a", "c p !p()", "!c q q() a", "!c q !q()"])
        );
    }

    #[test]
    fn while_loops_with_break_and_continue() {
        let src = "void f(void)\n{\n\twhile (more()) {\n\t\tif (skip())\n\t\t\tcontinue;\n\t\tif (done())\n\t\t\tbreak;\n\t\twork();\n\t}\n\tend();\n}\n";
        let p = paths(src, "f");
        // Not entered; left by the condition, by `break`, after `continue`.
        assert!(p.contains("more !more() end"));
        assert!(p.contains("more more() skip !skip() done done() end"));
        assert!(p.contains("more more() skip skip() more !more() end"));
        assert!(p.contains("more more() skip !skip() done !done() work more !more() end"));
        assert!(p.iter().all(|w| w.ends_with("end")));
    }

    #[test]
    fn do_while_zero_runs_once_and_for_loops_update() {
        let p = paths(
            "void f(void)\n{\n\tdo {\n\t\ta();\n\t} while (0);\n\tb();\n}\n",
            "f",
        );
        assert_eq!(p, set(&["a b"]));
        let src = "void f(int n)\n{\n\tint i;\n\n\tfor (i = 0; i < n; i++)\n\t\ta(i);\n\tb();\n}\n";
        let p = paths(src, "f");
        assert!(p.contains("i= !i < n b"), "{p:?}");
        assert_eq!(p, set(&["i= !i < n b", "i= i < n a i~ !i < n b"]));
    }

    #[test]
    fn switch_cases_fall_through_and_break() {
        let src = "void f(int k)\n{\n\tswitch (k) {\n\tcase 1:\n\t\ta();\n\tcase 2:\n\t\tb();\n\t\tbreak;\n\tdefault:\n\t\tc();\n\t}\n\td();\n}\n";
        let p = paths(src, "f");
        assert_eq!(p, set(&["k == 1 a b d", "k == 2 b d", "c d"]));
        let no_default =
            "void f(int k)\n{\n\tswitch (k) {\n\tcase 1:\n\t\ta();\n\t\tbreak;\n\t}\n\td();\n}\n";
        assert_eq!(paths(no_default, "f"), set(&["k == 1 a d", "d"]));
    }

    #[test]
    fn goto_reaches_its_label_and_return_leaves() {
        let src = "int f(void)\n{\n\tif (!get())\n\t\tgoto out;\n\tuse();\n\treturn 0;\n\tdead();\nout:\n\tput();\n\treturn -1;\n}\n";
        let p = paths(src, "f");
        assert_eq!(p, set(&["get get() use return", "get !get() put return"]));
    }

    #[test]
    fn iteration_macros_are_loops() {
        let src = "void f(struct list_head *h)\n{\n\tstruct foo *p;\n\n\tlist_for_each_entry(p, h, node) {\n\t\ttouch(p);\n\t}\n\tend();\n}\n";
        let p = paths(src, "f");
        assert!(p.contains("list_for_each_entry end"), "{p:?}");
        assert!(
            p.contains("list_for_each_entry touch list_for_each_entry end"),
            "{p:?}"
        );
    }

    #[test]
    fn statement_expressions_and_macro_bodies_have_flow() {
        let src = "#define WITH(mm) do { if (mmget_not_zero(mm)) { use(mm); mmput(mm); } } while (0)\n\
                   #define EXPR(x) ({ if (x) a(); b(); })\n";
        // The call runs in the block that tests it, before the edges.
        let p = paths(src, "WITH");
        assert_eq!(
            p,
            set(&[
                "mmget_not_zero mmget_not_zero(mm) use mmput",
                "mmget_not_zero !mmget_not_zero(mm)",
            ])
        );
        let p = paths(src, "EXPR");
        assert_eq!(p, set(&["x a b", "!x b"]));
        assert!(matches!(body_of(src, "EXPR").kind, BodyKind::Macro));
    }
}
