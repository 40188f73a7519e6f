//! A small expression tree: the part of a C expression that matters to the
//! flow of an mm pointer. Casts and parentheses are dropped, so `(mmptr)`,
//! `(struct mm_struct *)mm` and `mm` compare equal. Two expressions are the
//! same value when their canonical text ([`Expr::text`]) is the same.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An expression, reduced to what the analysis needs.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Expr {
    /// A plain identifier.
    Ident(String),
    /// `base->field` (`arrow`) or `base.field`.
    Field {
        base: Box<Expr>,
        arrow: bool,
        field: String,
    },
    /// `base[index]`; the index is kept as text only.
    Index { base: Box<Expr>, index: String },
    /// A call (also a macro invocation that looks like one).
    Call { callee: Box<Expr>, args: Vec<Expr> },
    /// `NULL` or `0` used as a pointer.
    Null,
    /// `!inner`.
    Not(Box<Expr>),
    /// `&inner`.
    AddrOf(Box<Expr>),
    /// `left op right`.
    Binary {
        op: String,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// Anything else, as whitespace-normalized text.
    Other(String),
}

impl Expr {
    /// Canonical text: equal texts mean the same expression.
    pub fn text(&self) -> String {
        self.to_string()
    }

    /// The identifier, if this is one.
    pub fn as_ident(&self) -> Option<&str> {
        match self {
            Expr::Ident(s) => Some(s),
            _ => None,
        }
    }

    /// The callee name and arguments, if this is a call of a plain name.
    pub fn as_named_call(&self) -> Option<(&str, &[Expr])> {
        match self {
            Expr::Call { callee, args } => callee.as_ident().map(|n| (n, args.as_slice())),
            _ => None,
        }
    }

    /// The identifier at the root of a field/index chain (`a` in `a->b[i].c`).
    pub fn root_ident(&self) -> Option<&str> {
        match self {
            Expr::Ident(s) => Some(s),
            Expr::Field { base, .. } | Expr::Index { base, .. } => base.root_ident(),
            _ => None,
        }
    }

    /// The terms of a chain of `&&` (a single term if there is none).
    pub fn conjuncts(&self) -> Vec<&Expr> {
        self.terms("&&")
    }

    /// The terms of a chain of `||` (a single term if there is none).
    pub fn disjuncts(&self) -> Vec<&Expr> {
        self.terms("||")
    }

    /// The terms of a chain of the binary operator `chain`.
    fn terms(&self, chain: &str) -> Vec<&Expr> {
        match self {
            Expr::Binary { op, left, right } if op == chain => {
                let mut v = left.terms(chain);
                v.extend(right.terms(chain));
                v
            }
            e => vec![e],
        }
    }

    /// Replaces identifiers by other expressions (macro argument
    /// substitution).
    pub fn substitute(&self, map: &dyn Fn(&str) -> Option<Expr>) -> Expr {
        match self {
            Expr::Ident(s) => map(s).unwrap_or_else(|| self.clone()),
            Expr::Field { base, arrow, field } => Expr::Field {
                base: Box::new(base.substitute(map)),
                arrow: *arrow,
                field: field.clone(),
            },
            Expr::Index { base, index } => Expr::Index {
                base: Box::new(base.substitute(map)),
                index: index.clone(),
            },
            Expr::Call { callee, args } => Expr::Call {
                callee: Box::new(callee.substitute(map)),
                args: args.iter().map(|a| a.substitute(map)).collect(),
            },
            Expr::Not(e) => Expr::Not(Box::new(e.substitute(map))),
            Expr::AddrOf(e) => Expr::AddrOf(Box::new(e.substitute(map))),
            Expr::Binary { op, left, right } => Expr::Binary {
                op: op.clone(),
                left: Box::new(left.substitute(map)),
                right: Box::new(right.substitute(map)),
            },
            Expr::Null | Expr::Other(_) => self.clone(),
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Ident(s) | Expr::Other(s) => f.write_str(s),
            Expr::Field { base, arrow, field } => {
                write!(f, "{base}{}{field}", if *arrow { "->" } else { "." })
            }
            Expr::Index { base, index } => write!(f, "{base}[{index}]"),
            Expr::Call { callee, args } => {
                write!(f, "{callee}(")?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_str(")")
            }
            Expr::Null => f.write_str("NULL"),
            Expr::Not(e) => write!(f, "!{e}"),
            Expr::AddrOf(e) => write!(f, "&{e}"),
            Expr::Binary { op, left, right } => write!(f, "{left} {op} {right}"),
        }
    }
}

/// Collapses runs of white space to one space and drops spaces next to
/// punctuation, so that `a -> b` and `a->b` read the same.
pub fn normalize_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars() {
        if c.is_whitespace() || c == '\\' {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            let prev = out.chars().last().unwrap_or(' ');
            if is_word(prev) && is_word(c) {
                out.push(' ');
            }
            pending_space = false;
        }
        out.push(c);
    }
    out
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '*'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> Expr {
        Expr::Ident(s.into())
    }

    #[test]
    fn text_is_canonical() {
        let e = Expr::Field {
            base: Box::new(Expr::Index {
                base: Box::new(Expr::Field {
                    base: Box::new(id("snap")),
                    arrow: true,
                    field: "snap".into(),
                }),
                index: "i".into(),
            }),
            arrow: false,
            field: "mm".into(),
        };
        assert_eq!(e.text(), "snap->snap[i].mm");
        assert_eq!(e.root_ident(), Some("snap"));
    }

    #[test]
    fn normalize_collapses_space_around_punctuation() {
        assert_eq!(normalize_text("a ->  b [ i ]"), "a->b[i]");
        assert_eq!(normalize_text("struct  foo\t*"), "struct foo *");
    }

    #[test]
    fn substitution_replaces_macro_parameters() {
        let e = Expr::Call {
            callee: Box::new(id("f")),
            args: vec![id("mmptr")],
        };
        let s = e.substitute(&|n| (n == "mmptr").then(|| id("mm")));
        assert_eq!(s.text(), "f(mm)");
    }
}
