//! What a round of the audit asks the tree for: the vocabulary between
//! the analysis, which makes demands for facts it did not find among the
//! files parsed so far, and the driver and cache, which find the files
//! that can hold them.

use crate::idents::{self, Form};
use crate::source::FileId;

/// Something the analysis needs from files that may not be parsed yet.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Demand {
    /// Any whole-word use of an identifier (callers, macro expansions,
    /// calls through a field of that name).
    Ident(String),
    /// A call `->f(` / `.f(` through field `f` (the first string) of
    /// struct `s` (the second). As for [`Demand::FieldStore`], a call on a
    /// plain name (`v->f(`) counts only in a text that names `s`.
    FieldCall(String, String),
    /// A store `->f =` / `.f =` into field `f` (the first string) of
    /// struct `s` (the second). Only a store whose struct type the
    /// analysis can tell counts, and it can tell it only from a local or
    /// parameter declared with `struct s` in the text, from a chain
    /// `a->b.f`, or from an initializer: so a store `v->f =` or `v.f =`
    /// on a plain name counts only in a text that names `s`.
    FieldStore(String, String),
    /// The definition `struct s {`.
    StructDef(String),
    /// The code of a body the parse left out (see [`crate::elide`]): the
    /// file (its id in this run's index) and the key of the body's block.
    /// No other file can satisfy it: the driver parses that body.
    Code(FileId, usize),
}

impl Demand {
    /// The name the demand is about (none for [`Demand::Code`]).
    pub fn name(&self) -> &str {
        match self {
            Demand::Ident(s)
            | Demand::FieldCall(s, _)
            | Demand::FieldStore(s, _)
            | Demand::StructDef(s) => s,
            Demand::Code(..) => "",
        }
    }

    /// The demand as a stable text, the key of the cache's list of the
    /// files that satisfy it.
    pub fn cache_key(&self) -> String {
        format!("{self:?}")
    }

    /// The identifier-set key that every text satisfying the demand holds,
    /// if the sets hold every such key (see [`idents::key`]).
    pub fn ident_key(&self) -> Option<u64> {
        let (name, form) = match self {
            Demand::Ident(s) => (s, Form::Word),
            Demand::FieldCall(s, _) | Demand::FieldStore(s, _) => (s, Form::Member),
            Demand::StructDef(s) => (s, Form::StructTag),
            Demand::Code(..) => return None,
        };
        idents::key(name.as_bytes(), form)
    }
}
