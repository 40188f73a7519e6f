//! Turns one tree-sitter tree into [`FileFacts`].
//!
//! The walk is recursive with an explicit depth limit: a file nested deeper
//! than [`MAX_DEPTH`] is not descended further (the rest of the file is
//! still read), so hostile nesting cannot overflow the stack.

use super::expr::normalize_text;
use super::*;
use crate::parse;
use crate::source::SourceFile;
use tree_sitter::Node;

mod lower;

/// How deep the walk descends into the syntax tree.
pub const MAX_DEPTH: usize = 400;

/// The name given to the wrapper function a macro body is parsed in.
const MACRO_WRAPPER: &str = "void __mmaudit_macro_body(void) {";

/// Extracts the facts of one file. `text` is the original text; `parsed`
/// the text the tree was built from (same length, annotations blanked).
///
/// `elided` lists the blocks the parse left out (blanked in `parsed`):
/// their bodies are recorded without code.
pub fn extract(
    text: &str,
    parsed: &str,
    tree: &tree_sitter::Tree,
    elided: &[crate::elide::Block],
) -> FileFacts {
    FileFacts {
        comments: crate::lex::comment_spans(text),
        ..walk_tree(text, parsed, 0, tree, elided)
    }
}

/// The facts of one definition of `text` parsed on its own: `parsed` is its
/// text from offset `start` (annotations blanked), `tree` the parse of
/// `parsed`. Offsets are the file's. Comments are not listed (the file's
/// facts have them all).
pub fn extract_part(text: &str, parsed: &str, start: usize, tree: &tree_sitter::Tree) -> FileFacts {
    walk_tree(text, parsed, start, tree, &[])
}

/// The facts (comments aside) of `tree`, parsed from `parsed`, which is
/// `text` from offset `start` on.
fn walk_tree(
    text: &str,
    parsed: &str,
    start: usize,
    tree: &tree_sitter::Tree,
    elided: &[crate::elide::Block],
) -> FileFacts {
    let mut facts = FileFacts::default();
    let mut cx = Cx {
        src: parsed.as_bytes(),
        orig: text,
        facts: &mut facts,
        shift: start as isize,
        elided,
    };
    cx.visit_top(tree.root_node(), 0);
    facts
}

/// At most this many unread regions are recorded per file.
pub(super) const MAX_UNREAD: usize = 4096;

struct Cx<'a> {
    /// The bytes the tree was parsed from.
    src: &'a [u8],
    /// The original text (for macro bodies, which are re-parsed).
    orig: &'a str,
    facts: &'a mut FileFacts,
    /// Added to every offset: non-zero while walking a re-parsed macro body.
    shift: isize,
    /// The blocks the parse left out, by key.
    elided: &'a [crate::elide::Block],
}

impl Cx<'_> {
    /// The key of the elided block at `offset`, if one is there.
    fn elided_at(&self, offset: usize) -> Option<usize> {
        self.elided
            .binary_search_by_key(&offset, |b| b.key)
            .ok()
            .map(|_| offset)
    }
}

fn field<'t>(n: Node<'t>, name: &str) -> Option<Node<'t>> {
    n.child_by_field_id(field_id(name)?.get())
}

/// The grammar's id of a field name, looked up once: tree-sitter's own
/// look-up by name compares it with every field name of the grammar.
fn field_id(name: &str) -> Option<std::num::NonZeroU16> {
    static IDS: std::sync::LazyLock<rustc_hash::FxHashMap<&'static str, std::num::NonZeroU16>> =
        std::sync::LazyLock::new(|| {
            let lang: tree_sitter::Language = tree_sitter_c::LANGUAGE.into();
            (1..=lang.field_count() as u16)
                .filter_map(|id| {
                    Some((lang.field_name_for_id(id)?, std::num::NonZeroU16::new(id)?))
                })
                .collect()
        });
    IDS.get(name).copied()
}

fn named_children<'t>(n: Node<'t>) -> Vec<Node<'t>> {
    let mut c = n.walk();
    n.named_children(&mut c).collect()
}

impl<'a> Cx<'a> {
    fn text(&self, n: Node) -> &'a str {
        std::str::from_utf8(&self.src[n.byte_range()]).unwrap_or("")
    }

    fn off(&self, o: usize) -> usize {
        (o as isize + self.shift).max(0) as usize
    }

    fn span(&self, n: Node) -> Span {
        (self.off(n.start_byte()), self.off(n.end_byte()))
    }

    /// Steps into `n` at `depth`: an ERROR node is counted and recorded as
    /// unread (its children are still walked); past [`MAX_DEPTH`] the
    /// node is recorded as unread and false says to skip it.
    fn enter(&mut self, n: Node, depth: usize) -> bool {
        if depth > MAX_DEPTH {
            self.unread(n);
            return false;
        }
        if n.is_error() {
            self.facts.error_nodes += 1;
            self.unread(n);
        }
        true
    }

    /// Walks file scope: finds functions, macros, structs and static
    /// initializers wherever they are (inside `#ifdef`, ERROR nodes ...).
    fn visit_top(&mut self, n: Node, depth: usize) {
        if !self.enter(n, depth) {
            return;
        }
        match n.kind() {
            "function_definition" => return self.function(n),
            "preproc_function_def" => return self.macro_def(n),
            "struct_specifier" => self.struct_def(n),
            "declaration" => {
                // File-scope tables: `static const struct ops x = { .f = fn };`
                let ty = field(n, "type").map(|t| self.text(t)).unwrap_or("");
                if let Some(s) = struct_name(ty).map(str::to_string) {
                    self.objects(n, &s);
                    for d in named_children(n) {
                        if let Some(v) = field(d, "value") {
                            let table = field(d, "declarator")
                                .and_then(|x| self.declarator_name(x))
                                .map(|(name, _)| name);
                            self.initializer(&s, v, None, table, depth + 1);
                        }
                    }
                }
            }
            "compound_statement" => {
                // A body the parser could not attach to a function, e.g. after
                // `SYSCALL_DEFINE3(...)`: named after what precedes it.
                let name = n
                    .prev_named_sibling()
                    .map(|p| normalize_text(self.text(p)))
                    .filter(|s| !s.is_empty() && s.len() < 200)
                    .unwrap_or_else(|| "<file scope>".to_string());
                return self.body(n, name, BodyKind::Function { is_static: true }, vec![], n);
            }
            _ => {}
        }
        for c in named_children(n) {
            self.visit_top(c, depth + 1);
        }
    }

    /// The objects (not pointers) a file-scope declaration of `struct s`
    /// declares.
    fn objects(&mut self, n: Node, s: &str) {
        let mut c = n.walk();
        let decls: Vec<Node> = n.children_by_field_name("declarator", &mut c).collect();
        for d in decls {
            let d = match d.kind() {
                "init_declarator" => field(d, "declarator").unwrap_or(d),
                _ => d,
            };
            if d.kind() == "identifier" {
                self.facts.objects.push(Var {
                    name: self.text(d).to_string(),
                    ty: format!("struct {s}"),
                    offset: self.off(d.start_byte()),
                });
            }
        }
    }

    fn struct_def(&mut self, n: Node) {
        let (Some(name), Some(body)) = (field(n, "name"), field(n, "body")) else {
            return;
        };
        let mut fields = Vec::new();
        for fd in named_children(body) {
            if fd.kind() != "field_declaration" {
                continue;
            }
            let ty = field(fd, "type")
                .map(|t| normalize_text(self.text(t)))
                .unwrap_or_default();
            let mut c = fd.walk();
            for d in fd.children_by_field_name("declarator", &mut c) {
                if let Some((fname, stars)) = self.declarator_name(d) {
                    fields.push(FieldDecl {
                        name: fname,
                        ty: format!("{ty}{}", " *".repeat(stars)),
                        offset: self.off(fd.start_byte()),
                    });
                }
            }
        }
        let name = self.text(name).to_string();
        self.facts.structs.push(StructDef { name, fields });
    }

    /// Name and pointer depth of a declarator.
    fn declarator_name(&self, mut d: Node) -> Option<(String, usize)> {
        let mut stars = 0;
        for _ in 0..32 {
            match d.kind() {
                "identifier" | "field_identifier" => {
                    return Some((self.text(d).to_string(), stars));
                }
                "pointer_declarator" => stars += 1,
                "function_declarator"
                | "array_declarator"
                | "init_declarator"
                | "parenthesized_declarator"
                | "attributed_declarator" => {}
                _ => return None,
            }
            d = field(d, "declarator").or_else(|| d.named_child(0))?;
        }
        None
    }

    fn function(&mut self, n: Node) {
        let Some(decl) = field(n, "declarator") else {
            return;
        };
        if field(n, "body").is_none() {
            return;
        }
        // Find the function_declarator under pointer declarators.
        let mut fd = decl;
        for _ in 0..16 {
            if fd.kind() == "function_declarator" {
                break;
            }
            match field(fd, "declarator") {
                Some(d) => fd = d,
                None => return,
            }
        }
        if fd.kind() != "function_declarator" {
            return;
        }
        let Some((name, _)) = field(fd, "declarator").and_then(|d| self.declarator_name(d)) else {
            return;
        };
        let mut params = Vec::new();
        if let Some(pl) = field(fd, "parameters") {
            for p in named_children(pl) {
                if p.kind() != "parameter_declaration" {
                    continue;
                }
                let ty = field(p, "type")
                    .map(|t| normalize_text(self.text(t)))
                    .unwrap_or_default();
                let (pname, stars) = field(p, "declarator")
                    .and_then(|d| self.declarator_name(d))
                    .unwrap_or_default();
                params.push(Var {
                    name: pname,
                    ty: format!("{ty}{}", " *".repeat(stars)),
                    offset: self.off(p.start_byte()),
                });
            }
        }
        let is_static = {
            let mut c = n.walk();
            n.children(&mut c)
                .any(|ch| ch.kind() == "storage_class_specifier" && self.text(ch) == "static")
        };
        let name_node = field(fd, "declarator").unwrap_or(fd);
        self.body(n, name, BodyKind::Function { is_static }, params, name_node);
    }

    fn macro_def(&mut self, n: Node) {
        let (Some(name), Some(value)) = (field(n, "name"), field(n, "value")) else {
            return;
        };
        let params: Vec<Var> = field(n, "parameters")
            .map(|p| {
                named_children(p)
                    .into_iter()
                    .filter(|c| c.kind() == "identifier")
                    .map(|c| Var {
                        name: self.text(c).to_string(),
                        ty: String::new(),
                        offset: self.off(c.start_byte()),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let span = self.span(n);
        let macro_name = self.text(name).to_string();
        let name_offset = self.off(name.start_byte());
        if let Some(key) = self.elided_at(span.0) {
            let b = Body::new(
                macro_name,
                BodyKind::Macro,
                span,
                name_offset,
                params,
                Some(key),
            );
            self.facts.bodies.push(b);
            return;
        }
        // Macro bodies are raw text: parse them again inside a wrapper
        // function. Line continuations become spaces, so offsets map back.
        let start = self.off(value.start_byte());
        let end = self.off(value.end_byte());
        let Some(raw) = self.orig.get(start..end) else {
            return;
        };
        let raw = parse::blank_annotations(&raw.replace('\\', " "));
        let wrapped = format!("{MACRO_WRAPPER}{raw}\n;}}");
        let Some(tree) = parse::parse_c(&wrapped) else {
            return;
        };
        let Some(func) = tree
            .root_node()
            .named_child(0)
            .filter(|f| f.kind() == "function_definition")
        else {
            return;
        };
        let Some(body) = field(func, "body") else {
            return;
        };
        let mut sub = Cx {
            src: wrapped.as_bytes(),
            orig: self.orig,
            facts: &mut *self.facts,
            shift: start as isize - MACRO_WRAPPER.len() as isize,
            elided: self.elided,
        };
        let mut b = Body::new(macro_name, BodyKind::Macro, span, name_offset, params, None);
        sub.walk_stmt(body, &mut b, 0);
        finish(&mut b);
        b.code.cfg = lower::lower(&sub, body, &b.code.events);
        self.facts.bodies.push(b);
    }

    fn body(&mut self, def: Node, name: String, kind: BodyKind, params: Vec<Var>, name_node: Node) {
        let body_node = field(def, "body").unwrap_or(def);
        let elided = self.elided_at(self.off(body_node.start_byte()));
        let mut b = Body::new(
            name,
            kind,
            self.span(def),
            self.off(name_node.start_byte()),
            params,
            elided,
        );
        if elided.is_none() {
            self.walk_stmt(body_node, &mut b, 0);
            finish(&mut b);
            b.code.cfg = lower::lower(self, body_node, &b.code.events);
        }
        self.facts.bodies.push(b);
    }

    /// Records a region whose facts were not extracted.
    fn unread(&mut self, n: Node) {
        let span = self.span(n);
        // Nested regions add nothing; the list stays small.
        if self.facts.unread.len() < MAX_UNREAD
            && !self
                .facts
                .unread
                .iter()
                .any(|u| u.0 <= span.0 && span.1 <= u.1)
        {
            self.facts.unread.push(span);
        }
    }

    /// Walks statements and expressions inside a body.
    fn walk_stmt(&mut self, n: Node, b: &mut Body, depth: usize) {
        if !self.enter(n, depth) {
            return;
        }
        match n.kind() {
            "declaration" => self.declaration(n, b, depth),
            "assignment_expression" => {
                if let (Some(l), Some(r)) = (field(n, "left"), field(n, "right")) {
                    let op = field(n, "operator").map(|o| self.text(o)).unwrap_or("=");
                    let kind = if op == "=" {
                        let (lhs, rhs) = (self.expr(l, 0), self.expr(r, 0));
                        EventKind::Assign { lhs, rhs }
                    } else {
                        EventKind::Write {
                            target: self.expr(l, 0),
                        }
                    };
                    b.code.events.push(Event {
                        span: self.span(n),
                        kind,
                    });
                }
            }
            "update_expression" => {
                if let Some(a) = field(n, "argument") {
                    b.code.events.push(Event {
                        span: self.span(n),
                        kind: EventKind::Write {
                            target: self.expr(a, 0),
                        },
                    });
                }
            }
            "call_expression" => {
                if let Some(f) = field(n, "function") {
                    let callee = self.expr(f, 0);
                    let args: Vec<Expr> = field(n, "arguments")
                        .map(|a| {
                            named_children(a)
                                .into_iter()
                                .filter(|c| c.kind() != "comment")
                                .map(|c| self.expr(c, 0))
                                .collect()
                        })
                        .unwrap_or_default();
                    // What a call may write through: `&x` among its
                    // arguments.
                    let written: Vec<Event> = (args.iter())
                        .filter_map(|a| match a {
                            Expr::AddrOf(x) => Some(Event {
                                span: self.span(n),
                                kind: EventKind::Write {
                                    target: (**x).clone(),
                                },
                            }),
                            _ => None,
                        })
                        .collect();
                    b.code.events.push(Event {
                        span: self.span(n),
                        kind: EventKind::Call { callee, args },
                    });
                    b.code.events.extend(written);
                }
            }
            "return_statement" => {
                let value = named_children(n)
                    .into_iter()
                    .find(|c| c.kind() != "comment")
                    .map(|v| self.expr(v, 0));
                b.code.events.push(Event {
                    span: self.span(n),
                    kind: EventKind::Return { value },
                });
            }
            "initializer_list" => return,
            _ => {}
        }
        for c in named_children(n) {
            self.walk_stmt(c, b, depth + 1);
        }
    }

    fn declaration(&mut self, n: Node, b: &mut Body, depth: usize) {
        let ty = field(n, "type")
            .map(|t| normalize_text(self.text(t)))
            .unwrap_or_default();
        let mut c = n.walk();
        let decls: Vec<Node> = n.children_by_field_name("declarator", &mut c).collect();
        for d in decls {
            let Some((name, stars)) = self.declarator_name(d) else {
                continue;
            };
            let var_ty = format!("{ty}{}", " *".repeat(stars));
            b.code.locals.push(Var {
                name: name.clone(),
                ty: var_ty.clone(),
                offset: self.off(d.start_byte()),
            });
            let Some(v) = field(d, "value") else { continue };
            if v.kind() == "initializer_list" {
                if let Some(s) = struct_name(&var_ty) {
                    let s = s.to_string();
                    let body_index = self.facts.bodies.len();
                    self.initializer(&s, v, Some(body_index), Some(name.clone()), depth);
                }
                continue;
            }
            let rhs = self.expr(v, 0);
            b.code.events.push(Event {
                span: self.span(d),
                kind: EventKind::Assign {
                    lhs: Expr::Ident(name),
                    rhs,
                },
            });
        }
    }

    /// Records `.field = value` pairs of an initializer of `struct s`.
    fn initializer(
        &mut self,
        s: &str,
        list: Node,
        body: Option<usize>,
        table: Option<String>,
        depth: usize,
    ) {
        if depth > MAX_DEPTH || list.kind() != "initializer_list" {
            return;
        }
        for p in named_children(list) {
            if p.kind() != "initializer_pair" {
                continue;
            }
            let (Some(desig), Some(value)) = (field(p, "designator"), field(p, "value")) else {
                continue;
            };
            if desig.kind() != "field_designator" {
                continue;
            }
            let fname = self.text(desig).trim_start_matches('.').trim().to_string();
            let value_expr = self.expr(value, 0);
            self.facts.field_inits.push(FieldInit {
                struct_name: s.to_string(),
                field: fname,
                value: value_expr,
                offset: self.off(p.start_byte()),
                body,
                table: table.clone(),
            });
        }
    }

    /// Converts an expression node.
    fn expr(&self, n: Node, depth: usize) -> Expr {
        if depth > 64 {
            return Expr::Other(normalize_text(self.text(n)));
        }
        let d = depth + 1;
        match n.kind() {
            "identifier" => {
                let t = self.text(n);
                if t == "NULL" {
                    Expr::Null
                } else {
                    Expr::Ident(t.to_string())
                }
            }
            "null" => Expr::Null,
            "number_literal" if self.text(n) == "0" => Expr::Null,
            "parenthesized_expression" => match n.named_child(0) {
                Some(c) if n.named_child_count() == 1 => self.expr(c, d),
                _ => Expr::Other(normalize_text(self.text(n))),
            },
            // `a = b` used as a value is `b` (the assignment itself is an
            // event of its own): `obj->mm = mm = mm_alloc()`.
            "assignment_expression"
                if field(n, "operator").is_some_and(|o| self.text(o) == "=") =>
            {
                match field(n, "right") {
                    Some(r) => self.expr(r, d),
                    None => Expr::Other(normalize_text(self.text(n))),
                }
            }
            "cast_expression" => match field(n, "value") {
                Some(v) => self.expr(v, d),
                None => Expr::Other(normalize_text(self.text(n))),
            },
            "field_expression" => {
                let (Some(a), Some(f)) = (field(n, "argument"), field(n, "field")) else {
                    return Expr::Other(normalize_text(self.text(n)));
                };
                let arrow = field(n, "operator")
                    .map(|o| self.text(o) == "->")
                    .unwrap_or_else(|| self.text(n)[..].contains("->"));
                Expr::Field {
                    base: Box::new(self.expr(a, d)),
                    arrow,
                    field: self.text(f).to_string(),
                }
            }
            "subscript_expression" => {
                let a = field(n, "argument").or_else(|| n.named_child(0));
                let i = field(n, "index").or_else(|| n.named_child(1));
                match (a, i) {
                    (Some(a), Some(i)) => Expr::Index {
                        base: Box::new(self.expr(a, d)),
                        index: normalize_text(self.text(i)),
                    },
                    _ => Expr::Other(normalize_text(self.text(n))),
                }
            }
            "call_expression" => {
                let callee = field(n, "function")
                    .map(|f| self.expr(f, d))
                    .unwrap_or(Expr::Null);
                let args = field(n, "arguments")
                    .map(|a| {
                        named_children(a)
                            .into_iter()
                            .filter(|c| c.kind() != "comment")
                            .map(|c| self.expr(c, d))
                            .collect()
                    })
                    .unwrap_or_default();
                Expr::Call {
                    callee: Box::new(callee),
                    args,
                }
            }
            "unary_expression" => {
                let op = field(n, "operator").map(|o| self.text(o)).unwrap_or("");
                match (op, field(n, "argument")) {
                    ("!", Some(a)) => Expr::Not(Box::new(self.expr(a, d))),
                    _ => Expr::Other(normalize_text(self.text(n))),
                }
            }
            "pointer_expression" => {
                let op = field(n, "operator").map(|o| self.text(o)).unwrap_or("");
                match (op, field(n, "argument")) {
                    ("&", Some(a)) => Expr::AddrOf(Box::new(self.expr(a, d))),
                    _ => Expr::Other(normalize_text(self.text(n))),
                }
            }
            "binary_expression" => {
                let (Some(l), Some(r)) = (field(n, "left"), field(n, "right")) else {
                    return Expr::Other(normalize_text(self.text(n)));
                };
                let op = field(n, "operator")
                    .map(|o| self.text(o))
                    .unwrap_or("?")
                    .to_string();
                Expr::Binary {
                    op,
                    left: Box::new(self.expr(l, d)),
                    right: Box::new(self.expr(r, d)),
                }
            }
            _ => Expr::Other(normalize_text(self.text(n))),
        }
    }
}

fn finish(b: &mut Body) {
    b.code.events.sort_by_key(|e| e.span.0);
}

/// Parses `text` with the `left_out` blocks blanked and extracts its
/// facts; `None` if the parser gave up.
pub fn parse_leaving_out(text: &str, left_out: &[crate::elide::Block]) -> Option<FileFacts> {
    let mut parsed = parse::blank_annotations(text).into_bytes();
    crate::elide::blank(&mut parsed, left_out);
    // Only ASCII bytes were replaced by ASCII spaces.
    let parsed = String::from_utf8(parsed).ok()?;
    // The blanks are skipped, not read (the facts read `parsed` still).
    let tree = parse::parse_c_leaving_out(&parsed, &crate::elide::blanked_spans(left_out))?;
    Some(extract(text, &parsed, &tree, left_out))
}

/// Parses one whole file and extracts its facts; `None` if the parser
/// gave up.
pub fn of_file(file: &SourceFile) -> Option<FileFacts> {
    parse_leaving_out(file.text(), &[])
}

/// Parses one file leaving out every body it can; `None` if the parser
/// gave up (for the fuzz targets).
pub fn of_file_leaving_out_all(file: &SourceFile) -> Option<FileFacts> {
    let text = file.text().as_bytes();
    let all = crate::elide::blocks(text);
    let none = crate::elide::KeepWords::new([]);
    parse_leaving_out(file.text(), &crate::elide::elided(text, &all, &none, &[]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(src: &str) -> FileFacts {
        let parsed = parse::blank_annotations(src);
        let tree = parse::parse_c(&parsed).unwrap();
        extract(src, &parsed, &tree, &[])
    }

    #[test]
    fn function_params_locals_and_events() {
        let f = facts(
            "static void w(struct work_struct *work)\n{\n\tstruct foo *p = container_of(work, struct foo, work);\n\tstruct mm_struct *mm = p->mm;\n\tif (!mmget_not_zero(mm))\n\t\treturn;\n\tkthread_use_mm(mm);\n}\n",
        );
        let b = &f.bodies[0];
        assert_eq!(b.name, "w");
        assert_eq!(b.kind, BodyKind::Function { is_static: true });
        assert_eq!(b.params[0].ty, "struct work_struct *");
        assert_eq!(b.var_type(&b.code, "mm", 1000), Some("struct mm_struct *"));
        assert_eq!(b.var_type(&b.code, "p", 1000), Some("struct foo *"));
        let calls: Vec<_> = b.code.named_calls().map(|(_, n, _)| n).collect();
        assert!(calls.contains(&"kthread_use_mm") && calls.contains(&"mmget_not_zero"));
        assert_eq!(b.code.cfg.conds.len(), 1);
    }

    #[test]
    fn macro_bodies_become_bodies_with_file_offsets() {
        let src = "#define BORROW(mmptr, x) \\\n\t({ if (mmptr) { kthread_use_mm(mmptr); \\\n\t kthread_unuse_mm(mmptr); } })\n";
        let f = facts(src);
        let b = f.bodies.iter().find(|b| b.kind == BodyKind::Macro).unwrap();
        assert_eq!(b.name, "BORROW");
        assert_eq!(b.params.len(), 2);
        let (e, _, args) = (b.code.named_calls())
            .find(|(_, n, _)| *n == "kthread_use_mm")
            .unwrap();
        assert_eq!(&src[e.span.0..e.span.0 + 14], "kthread_use_mm");
        assert_eq!(args[0].text(), "mmptr");
    }

    #[test]
    fn designated_initializers_of_static_tables() {
        let f = facts("static const struct ops o = { .load = my_load, .n = 3 };\n");
        assert_eq!(f.field_inits.len(), 2);
        assert_eq!(f.field_inits[0].struct_name, "ops");
        assert_eq!(f.field_inits[0].value.text(), "my_load");
    }

    #[test]
    fn struct_fields_have_types() {
        let f = facts("struct a { struct mm_struct *mm; int n; };\n");
        let fd = &f.structs[0].fields[0];
        assert_eq!(
            (fd.name.as_str(), fd.ty.as_str()),
            ("mm", "struct mm_struct *")
        );
        assert_eq!(fd.offset, 11);
    }
}
