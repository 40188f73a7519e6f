//! Demands and their text matching: which files can satisfy what an
//! analysis asked for. The identifier sets answer first (a file whose set
//! cannot hold a demanded name is not read); a yes is then decided on the
//! text by [`meets`], which knows each demand's syntax (`->f(`, `->f =`,
//! `.f = x` in an initializer, `struct s {`) and, for calls and stores on
//! chains, the member names the tree declares with the demand's type
//! ([`TypedNames`]).

use super::typed::{self, TypedNames};
use crate::demand::Demand;
use crate::idents::{self, Form, IdentSet, Probe};
use crate::lex::{
    self, after_member_op, bytes_str, has_word, is_whole_word, name_ending_at, next_non_whitespace,
    skip_blanks_back, skip_whitespace, struct_keyword_before,
};
use aho_corasick::AhoCorasick;
use std::collections::BTreeSet;

/// False if every text that satisfies the demand holds a flow token: the
/// prefilter kept all such files, so no dropped file can.
pub(super) fn can_be_in_dropped_file(d: &Demand) -> bool {
    let forms = match d {
        Demand::Ident(s) | Demand::StructDef(s) => vec![s.clone()],
        Demand::FieldCall(s, _) | Demand::FieldStore(s, _) => {
            vec![format!("->{s}"), format!(".{s}")]
        }
        Demand::Code(..) => return false,
    };
    let flow = crate::api::FLOW_TOKENS;
    !forms.iter().all(|f| flow.iter().any(|t| f.contains(t)))
}

/// A type with more member names than this is not probed for in the sets
/// (the test on the text still narrows).
const MAX_MEMBER_PROBES: usize = 256;

/// Finds, in a file's bytes, an occurrence that satisfies one of a set of
/// demands.
pub(super) struct DemandMatcher<'d> {
    /// The demands, in the order of `keys`.
    demands: Vec<&'d Demand>,
    /// The identifier-set key of each demand (`None`: any set may hold it).
    keys: Vec<Option<Probe>>,
    /// Per demand, keys of which a set must hold one more (see
    /// [`DemandMatcher::typed`]); `None`: no more.
    typed_keys: Vec<Option<Vec<Probe>>>,
    ac: Option<AhoCorasick>,
    /// The demands of each pattern.
    kinds: Vec<Vec<&'d Demand>>,
    /// The names declared with each struct type, where known: a call or
    /// store on a chain counts only through one of them (see [`typed`]).
    typed: Option<&'d TypedNames>,
}

impl<'d> DemandMatcher<'d> {
    /// The matcher of the demands for names in `demands` (a demand for a
    /// body's code is no text to find).
    pub(super) fn new(demands: &'d BTreeSet<Demand>) -> DemandMatcher<'d> {
        let demands: Vec<&Demand> = (demands.iter())
            .filter(|d| !matches!(d, Demand::Code(..)))
            .collect();
        let mut names: Vec<&str> = demands
            .iter()
            .map(|d| d.name())
            .filter(|s| !s.is_empty())
            .collect();
        names.sort_unstable();
        names.dedup();
        let kinds = names
            .iter()
            .map(|n| demands.iter().copied().filter(|d| d.name() == *n).collect())
            .collect();
        let ac = lex::literals(&names);
        let keys: Vec<Option<Probe>> = demands
            .iter()
            .map(|d| d.ident_key().map(Probe::of))
            .collect();
        DemandMatcher {
            demands,
            typed_keys: vec![None; keys.len()],
            keys,
            ac,
            kinds,
            typed: None,
        }
    }

    /// The same matcher, narrowed by what `typed` knows: a call or store
    /// on a chain counts only if a member of the chain is declared with
    /// the demand's struct type somewhere in the tree (or the text names
    /// the type). Without it, every chain counts.
    ///
    /// The sets can tell some of it: a store counts only in a text that
    /// uses `struct s` (a declaration gives a plain name, or an
    /// initializer, that type) or that has a member declared with it (in
    /// a chain); a call likewise, or in a text that names `s` at all (the
    /// analysis's fallback for a chain whose type it cannot tell), which a
    /// set tells only for a name that has its word key.
    pub(super) fn typed(mut self, typed: &'d TypedNames) -> DemandMatcher<'d> {
        self.typed = Some(typed);
        self.typed_keys = self
            .demands
            .iter()
            .map(|d| {
                let (owner, type_key) = match d {
                    Demand::FieldStore(_, s) => (s, Some(idents::type_key(s.as_bytes()))),
                    Demand::FieldCall(_, s) => (s, idents::key(s.as_bytes(), Form::Word)),
                    _ => return None,
                };
                let names = typed.names(owner)?;
                if names.len() > MAX_MEMBER_PROBES {
                    return None;
                }
                let members = names
                    .iter()
                    .filter_map(|n| idents::key(n.as_bytes(), Form::Member));
                Some(
                    std::iter::once(type_key?)
                        .chain(members)
                        .map(Probe::of)
                        .collect(),
                )
            })
            .collect();
        self
    }

    /// False if a file with these identifiers certainly satisfies none of
    /// the demands (see [`idents`]).
    pub(super) fn may_hit(&self, set: &IdentSet) -> bool {
        self.keys.iter().zip(&self.typed_keys).any(|(&k, more)| {
            k.map_or(!set.holds_nothing(), |k| set.may_hold_probe(k))
                && more
                    .as_ref()
                    .is_none_or(|m| m.iter().any(|&p| set.may_hold_probe(p)))
        })
    }

    pub(super) fn hit(&self, t: &[u8]) -> bool {
        let Some(ac) = &self.ac else { return false };
        ac.find_iter(t).any(|m| {
            self.kinds[m.pattern().as_usize()]
                .iter()
                .any(|d| meets(t, m.start(), m.end(), d, self.typed))
        })
    }

    /// True if a part of a file (a body) may satisfy a demand: as
    /// [`DemandMatcher::hit`], except that the struct of a field need not
    /// be named in the part (a parameter's type is outside the body); a
    /// call or store must still be one.
    pub(super) fn mentioned_in(&self, t: &[u8]) -> bool {
        let Some(ac) = &self.ac else { return false };
        ac.find_iter(t).any(|m| {
            let (s, e) = (m.start(), m.end());
            is_whole_word(t, s, e)
                && self.kinds[m.pattern().as_usize()].iter().any(|d| match d {
                    Demand::Ident(_) => true,
                    Demand::FieldCall(..) | Demand::FieldStore(..) => member_use(t, s, e, d),
                    // Struct definitions inside bodies are not recorded.
                    Demand::StructDef(_) | Demand::Code(..) => false,
                })
        })
    }

    /// The indexes (in `order`) of every demand the text satisfies.
    pub(super) fn hits(&self, t: &[u8], order: &[&Demand]) -> Vec<usize> {
        let Some(ac) = &self.ac else { return vec![] };
        let mut out = BTreeSet::new();
        for m in ac.find_iter(t) {
            for d in &self.kinds[m.pattern().as_usize()] {
                if meets(t, m.start(), m.end(), d, self.typed)
                    && let Some(i) = order.iter().position(|o| o == d)
                {
                    out.insert(i);
                }
            }
        }
        out.into_iter().collect()
    }
}

/// Does the occurrence of a demanded name at `s..e` satisfy the demand?
/// (`typed`: see [`DemandMatcher::typed`].)
fn meets(t: &[u8], s: usize, e: usize, d: &Demand, typed: Option<&TypedNames>) -> bool {
    if !is_whole_word(t, s, e) {
        return false;
    }
    match d {
        Demand::Ident(_) => true,
        Demand::FieldCall(_, owner) | Demand::FieldStore(_, owner) => {
            // (A member use follows `->` or `.`: the name is not at 0.)
            if !member_use(t, s, e, d) {
                return false;
            }
            let base_end = s - if t[..s].ends_with(b"->") { 2 } else { 1 };
            // On a plain name, or in a designated initializer, the use
            // counts only in a text that names the struct: only a
            // declaration there (`struct s v`, `struct s v = { .f = x }`)
            // could give it that type. (The facts record an initializer
            // only in such a declaration, not nested in another one.)
            if on_plain_name(t, base_end) || designated(t, s) {
                return has_word(t, owner.as_bytes());
            }
            // A chain: one of its members must be declared with the type,
            // unless the analysis falls back on the text naming it (a
            // chain whose type it cannot tell).
            let Some(names) = typed.and_then(|k| k.names(owner)) else {
                return true;
            };
            typed::chain_members(t, base_end)
                .is_none_or(|ms| ms.iter().any(|m| names.contains(bytes_str(m))))
                || has_word(t, owner.as_bytes())
        }
        Demand::StructDef(_) => {
            struct_keyword_before(t, s).is_some() && next_non_whitespace(t, e) == Some(b'{')
        }
        Demand::Code(..) => false,
    }
}

/// For a call or store demand, true if the member name at `s..e` is used
/// as it asks: `->f(` or `.f(`, `->f =` or `.f =` (not `==`).
fn member_use(t: &[u8], s: usize, e: usize, d: &Demand) -> bool {
    after_member_op(t, s)
        && match d {
            Demand::FieldCall(..) => next_non_whitespace(t, e) == Some(b'('),
            _ => {
                let a = skip_whitespace(t, e);
                t.get(a) == Some(&b'=') && t.get(a + 1) != Some(&b'=')
            }
        }
}

/// True if the expression that ends at `end` is a plain name (`v` in
/// `v->f`), not a chain (`a->v`), a call, a cast, an element or the
/// `.f` of a designated initializer.
fn on_plain_name(t: &[u8], end: usize) -> bool {
    name_ending_at(t, end).is_some_and(|start| !after_member_op(t, start))
}

/// True if the member name at `s` is a designator: `.f` right after `{`
/// or `,` (blanks between, and the backslashes that continue a macro's
/// lines).
fn designated(t: &[u8], s: usize) -> bool {
    if s == 0 || t[s - 1] != b'.' {
        return false;
    }
    let before = skip_blanks_back(t, s - 1);
    before > 0 && matches!(t[before - 1], b'{' | b',')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demands_that_hold_a_flow_token_are_not_swept() {
        assert!(!can_be_in_dropped_file(&Demand::FieldStore(
            "mm".into(),
            "s".into()
        )));
        assert!(!can_be_in_dropped_file(&Demand::FieldCall(
            "mmap".into(),
            "s".into()
        )));
        assert!(!can_be_in_dropped_file(&Demand::Ident(
            "mm_struct_of".into()
        )));
        assert!(can_be_in_dropped_file(&Demand::FieldCall(
            "load".into(),
            "s".into()
        )));
        assert!(can_be_in_dropped_file(&Demand::Ident("kq_init".into())));
    }

    #[test]
    fn a_body_mentions_a_store_or_call_only_in_its_form() {
        let demands: BTreeSet<Demand> = [
            Demand::FieldStore("mm".into(), "s".into()),
            Demand::FieldCall("load".into(), "t".into()),
        ]
        .into();
        let m = DemandMatcher::new(&demands);
        // The struct need not be named in a body; the use must be a store
        // or a call.
        assert!(m.mentioned_in(b"p->mm = x;"));
        assert!(m.mentioned_in(b"{ .mm\n\t= x }"));
        assert!(m.mentioned_in(b"ops->load (a);"));
        assert!(!m.mentioned_in(b"if (p->mm == x) use(q.mm);"));
        assert!(!m.mentioned_in(b"f = ops->load; mm = 1;"));
    }

    #[test]
    fn demands_match_their_syntax() {
        let m = |t: &[u8], s, e, d: &Demand| meets(t, s, e, d, None);
        let t = b"p->mm = x; q.mm== y; struct foo {";
        let store = |owner: &str| Demand::FieldStore("mm".into(), owner.into());
        assert!(m(t, 3, 5, &store("foo")));
        assert!(!m(t, 13, 15, &store("foo")));
        // On a plain name, only in a text that names the struct.
        assert!(!m(t, 3, 5, &store("bar")));
        let chain = b"a->p->mm = x; v[1].mm = y; { .mm = z }";
        assert!(m(chain, 6, 8, &store("bar")));
        assert!(m(chain, 19, 21, &store("bar")));
        // A designator, like a plain name, only where the struct is named.
        assert!(!m(chain, 30, 32, &store("bar")));
        let init = b"struct bar b = {\n\t.ops = o,\n\t.mm = z };";
        assert!(m(init, 30, 32, &store("bar")));
        assert!(!m(init, 30, 32, &store("baz")));
        assert!(designated(init, 19) && designated(init, 30));
        assert!(!designated(chain, 19) && !designated(chain, 6));
        let macro_init = b"#define S(m) struct bar b = {\t\\\n\t.mm = m, \\\n\t.ops = o }";
        let at = |f: &[u8]| memchr::memmem::find(macro_init, f).unwrap() + 1;
        assert!(designated(macro_init, at(b".mm")) && designated(macro_init, at(b".ops")));
        assert!(m(t, 28, 31, &Demand::StructDef("foo".into())));
        assert!(m(t, 0, 1, &Demand::Ident("p".into())));
        // A demanded member name at the very start of a text is no use.
        assert!(!m(b"mm = x;", 0, 2, &store("foo")));
        assert!(!m(b"mm", 0, 2, &store("foo")));
        let c = b"ops->load (a); load(b); x.load = f; struct s;";
        let call = |owner: &str| Demand::FieldCall("load".into(), owner.into());
        assert!(m(c, 5, 9, &call("s")));
        assert!(!m(c, 5, 9, &call("t")));
        assert!(!m(c, 15, 19, &call("s")));
        assert!(!m(c, 26, 30, &call("s")));
        let chain = b"p->ops->load(a);";
        assert!(m(chain, 8, 12, &call("t")));
    }

    #[test]
    fn chains_count_only_through_members_declared_with_the_type() {
        let mut typed = TypedNames::default();
        let ops: typed::Names = ["ops".to_string()].into_iter().collect();
        typed.learn("t", Some(vec![("t.h".into(), ops)]));
        typed.learn("u", Some(vec![]));
        typed.learn("w", None);
        let call = |owner: &str| Demand::FieldCall("load".into(), owner.into());
        let m = |t: &[u8], d: &Demand| {
            let s = memchr::memmem::find(t, b"load").unwrap();
            meets(t, s, s + 4, d, Some(&typed))
        };
        let chain = b"p->ops->load(a);";
        assert!(m(chain, &call("t")));
        // No member of `struct u` is called `ops`, and the text does not
        // name it; nothing is known of `struct w`, nor of `struct v`.
        assert!(!m(chain, &call("u")));
        assert!(m(chain, &call("w")) && m(chain, &call("v")));
        assert!(m(b"p->ops->load(a); struct u *q;", &call("u")));
        // What the reading does not follow counts.
        assert!(m(b"(p->ops)->load(a);", &call("u")));
        assert!(m(b"get(p)->load(a);", &call("u")));
        // Any member of the chain, elements included, may be the typed one.
        let store = |owner: &str| Demand::FieldStore("load".into(), owner.into());
        let deep = b"a->ops[i].x->load = f;";
        assert!(m(deep, &store("t")) && !m(deep, &store("u")));
        // A plain name still needs the text to name the struct.
        assert!(!m(b"ops->load(a);", &call("t")));
        // The sets tell some of it: a member with the type, or the type.
        let demands: BTreeSet<Demand> = [store("t")].into();
        let narrowed = DemandMatcher::new(&demands).typed(&typed);
        let may = |t: &str| narrowed.may_hit(&IdentSet::of(t.as_bytes()));
        assert!(may("a->ops->load = f;") && may("struct t *v; v->load = f;"));
        assert!(!may("a->impl->load = f;") && !may("a->ops->unload = f;"));
        let plain = DemandMatcher::new(&demands);
        assert!(plain.may_hit(&IdentSet::of(b"a->impl->load = f;")));
    }

    #[test]
    fn a_text_of_object_like_macros_meets_no_demand() {
        // `put` is short: it gets no key, and any ordinary set may hold it.
        let demands: BTreeSet<Demand> = [Demand::Ident("put".into())].into();
        let m = DemandMatcher::new(&demands);
        assert!(m.may_hit(&IdentSet::of(b"int x;")));
        let header = IdentSet::of(b"#define PUT_REG put\n#define A 0x1\n");
        assert!(header.holds_nothing());
        assert!(!m.may_hit(&header));
    }
}
