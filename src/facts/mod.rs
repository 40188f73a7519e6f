//! Per-file facts: what one C file says about functions, macros, stores
//! and calls, as plain data.
//!
//! Facts are extracted from one file's syntax tree with no knowledge of any
//! other file, so files are processed in parallel and the facts could be
//! cached by content. No tree-sitter type leaves this module: the rest of
//! the pipeline only sees the types below.
//!
//! Every function body and every function-like macro body becomes a
//! [`Body`]: a small IR listing, in source order, the assignments and calls
//! it makes, and the control-flow graph over them ([`cfg`]) that the
//! analysis reasons about paths with.

pub mod cfg;
pub mod expr;
mod extract;

pub use expr::Expr;
pub use extract::{extract, extract_part, of_file, of_file_leaving_out_all, parse_leaving_out};

pub use crate::lex::Span;
pub use cfg::Cfg;
use serde::{Deserialize, Serialize};

/// Everything mmaudit extracted from one file.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct FileFacts {
    /// Functions and function-like macros.
    pub bodies: Vec<Body>,
    /// Designated initializers `{ .field = value }` whose struct type is
    /// known, anywhere in the file (static tables included).
    pub field_inits: Vec<FieldInit>,
    /// Struct definitions: the type of each field.
    pub structs: Vec<StructDef>,
    /// How many ERROR nodes the parser produced.
    pub error_nodes: usize,
    /// Every comment: its span in the file.
    pub comments: Vec<Span>,
    /// Regions not turned into facts: ERROR nodes of the parser, and
    /// subtrees nested deeper than the extractor follows. A borrow found
    /// there by text is reported as unresolved, never dropped.
    pub unread: Vec<Span>,
    /// Objects of a struct type (not pointers) declared at file scope:
    /// their name, type and place.
    pub objects: Vec<Var>,
}

/// Whether a body is a C function or a macro.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BodyKind {
    /// A function definition; `is_static` limits who can call it by name.
    Function { is_static: bool },
    /// A `#define NAME(params) body`.
    Macro,
}

/// A function or macro body.
#[derive(Debug, Serialize, Deserialize)]
pub struct Body {
    /// The function or macro name.
    pub name: String,
    /// Function or macro.
    pub kind: BodyKind,
    /// The whole definition.
    pub span: Span,
    /// Where the name is written.
    pub name_offset: usize,
    /// Parameters in order.
    pub params: Vec<Var>,
    /// What the body does; empty if the parse left it out.
    code: Code,
    /// Set if the parse left the body out (see [`crate::elide`]): the key
    /// of its block.
    elided_at: Option<usize>,
}

/// What a body does, in source order.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Code {
    /// Local variable declarations.
    pub locals: Vec<Var>,
    /// Assignments and calls, in source order.
    pub events: Vec<Event>,
    /// The control-flow graph over `events`.
    pub cfg: Cfg,
}

/// A parameter or local variable.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Var {
    /// Its name.
    pub name: String,
    /// Its type as written (normalized), e.g. `struct kvm *`.
    pub ty: String,
    /// Where it is declared.
    pub offset: usize,
}

/// An assignment or a call.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Event {
    /// The node's span.
    pub span: Span,
    /// What happens.
    pub kind: EventKind,
}

/// The kinds of [`Event`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum EventKind {
    /// `lhs = rhs`, also a declaration with an initializer.
    Assign { lhs: Expr, rhs: Expr },
    /// `callee(args)`.
    Call { callee: Expr, args: Vec<Expr> },
    /// Another write of `target`: `x++`, `x += y`, or `&x` handed to a
    /// call (which may write through it).
    Write { target: Expr },
    /// `return value;` (or a bare `return;`).
    Return { value: Option<Expr> },
}

/// `.field = value` inside an initializer of a known struct type.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FieldInit {
    /// The struct type being initialized.
    pub struct_name: String,
    /// The designated field.
    pub field: String,
    /// The value.
    pub value: Expr,
    /// Where the designator is.
    pub offset: usize,
    /// The enclosing function, if any (index into `bodies`).
    pub body: Option<usize>,
    /// The variable the initializer belongs to (`x` in `struct ops x = {`).
    pub table: Option<String>,
}

/// A struct definition.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StructDef {
    /// The struct tag.
    pub name: String,
    /// The fields, in order.
    pub fields: Vec<FieldDecl>,
}

/// One field of a struct definition.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FieldDecl {
    /// The field name.
    pub name: String,
    /// Its type, as written (`struct mm_struct *`).
    pub ty: String,
    /// Where its declaration starts.
    pub offset: usize,
}

impl FileFacts {
    /// The keys of the bodies the parse left out (see [`crate::elide`]).
    pub fn elided_keys(&self) -> std::collections::HashSet<usize> {
        self.bodies.iter().filter_map(Body::elided_at).collect()
    }

    /// Puts `part`, the facts of one definition parsed on its own (see
    /// [`extract::extract_part`]), in place of the body left out at block
    /// `key`. The facts come out as a parse of the whole file keeping that
    /// body would give them, in the same order. False, and nothing changed,
    /// if `part` is not that body's definition alone.
    pub fn put_body(&mut self, key: usize, mut part: FileFacts) -> bool {
        let Some(at) = self.bodies.iter().position(|b| b.elided_at == Some(key)) else {
            return false;
        };
        let old = &self.bodies[at];
        let fits = match part.bodies.as_slice() {
            [new] => {
                new.elided_at.is_none()
                    && new.name == old.name
                    && new.kind == old.kind
                    && new.span == old.span
            }
            _ => false,
        };
        // Struct definitions inside bodies are not recorded; a part with
        // one was parsed as something else.
        if !fits || !part.structs.is_empty() {
            return false;
        }
        self.bodies[at] = part.bodies.pop().expect("one body, checked above");
        for mut init in part.field_inits {
            init.body = Some(at);
            let i = self
                .field_inits
                .partition_point(|f| f.offset <= init.offset);
            self.field_inits.insert(i, init);
        }
        // As the whole parse records them: nested regions add nothing.
        for span in part.unread {
            let inside = |u: &Span| u.0 <= span.0 && span.1 <= u.1;
            if self.unread.len() < extract::MAX_UNREAD && !self.unread.iter().any(inside) {
                let i = self.unread.partition_point(|u| *u <= span);
                self.unread.insert(i, span);
            }
        }
        self.error_nodes += part.error_nodes;
        true
    }

    /// The facts other than comments, serialized: equal bytes, equal
    /// facts (for the cache's code hash, and for tests).
    pub fn serialized_without_comments(&self) -> Vec<u8> {
        let code = (
            &self.bodies,
            &self.field_inits,
            &self.structs,
            self.error_nodes,
            &self.unread,
            &self.objects,
        );
        postcard::to_stdvec(&code).unwrap_or_default()
    }
}

impl Body {
    /// A body with a name and no code yet.
    pub fn new(
        name: String,
        kind: BodyKind,
        span: Span,
        name_offset: usize,
        params: Vec<Var>,
        elided_at: Option<usize>,
    ) -> Body {
        Body {
            name,
            kind,
            span,
            name_offset,
            params,
            code: Code::default(),
            elided_at,
        }
    }

    /// What the body does; `None` if the parse left it out (see
    /// [`crate::elide`]): whoever needs it then asks for it to be parsed.
    pub fn code(&self) -> Option<&Code> {
        self.elided_at.is_none().then_some(&self.code)
    }

    /// The key of the block the parse left out, if it did.
    pub fn elided_at(&self) -> Option<usize> {
        self.elided_at
    }

    /// The type of a parameter, or of a local of `code` visible at
    /// `offset`.
    pub fn var_type<'s>(&'s self, code: &'s Code, name: &str, offset: usize) -> Option<&'s str> {
        code.locals
            .iter()
            .rev()
            .find(|v| v.name == name && v.offset <= offset)
            .or_else(|| self.params.iter().find(|v| v.name == name))
            .map(|v| v.ty.as_str())
    }

    /// The index of parameter `name`.
    pub fn param_index(&self, name: &str) -> Option<usize> {
        self.params.iter().position(|p| p.name == name)
    }
}

impl Code {
    /// The code of a body that has none (or that was left out).
    pub fn empty() -> &'static Code {
        static EMPTY: Code = Code {
            locals: Vec::new(),
            events: Vec::new(),
            cfg: Cfg {
                blocks: Vec::new(),
                conds: Vec::new(),
            },
        };
        &EMPTY
    }

    /// True if `name` is declared as a local before `offset`.
    pub fn is_local(&self, name: &str, offset: usize) -> bool {
        self.locals
            .iter()
            .any(|v| v.name == name && v.offset <= offset)
    }

    /// Calls of plain names, with their arguments.
    pub fn named_calls(&self) -> impl Iterator<Item = (&Event, &str, &[Expr])> {
        self.events.iter().filter_map(|e| match &e.kind {
            EventKind::Call { callee, args } => callee.as_ident().map(|n| (e, n, args.as_slice())),
            _ => None,
        })
    }
}

/// The struct tag in a type such as `struct kvm *` or `const struct foo`.
pub fn struct_name(ty: &str) -> Option<&str> {
    // The keyword as a whole word: `task_struct` holds `struct` too.
    let kw = crate::lex::whole_words(ty.as_bytes(), b"struct").next()?;
    let rest = ty[kw + "struct".len()..].trim_start();
    let end = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn struct_names_come_out_of_types() {
        assert_eq!(struct_name("struct kvm *"), Some("kvm"));
        assert_eq!(struct_name("const struct foo_bar"), Some("foo_bar"));
        assert_eq!(struct_name("int"), None);
        // A tag that ends in `struct` is not cut at it.
        assert_eq!(struct_name("struct task_struct *"), Some("task_struct"));
        assert_eq!(struct_name("struct mm_struct"), Some("mm_struct"));
        assert_eq!(struct_name("my_struct *"), None);
    }
}
