//! The cheap byte test that decides which files are worth parsing.
//!
//! Every flow token of the API table holds `mm`: the test finds each `mm`
//! (a SIMD substring search) and checks the tokens around it. That is
//! twice as fast on kernel text as one Aho-Corasick automaton over the
//! tokens, whose SIMD searcher matches on their first three bytes, and
//! `->m` and `use` are everywhere. Tokens of added rules without `mm` go
//! through such an automaton.

use crate::api::{self, ApiTable, Role};
use crate::lex::{self, WordFinder, literals};
use aho_corasick::AhoCorasick;

/// What the prefilter found in one file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Hit {
    /// The file names a site API (a borrow, its end, an access) as a
    /// whole identifier outside comments: it may hold a site, and round
    /// one parses it.
    pub borrow: bool,
}

/// Multi-literal matcher for the flow tokens.
pub struct Prefilter {
    /// Finds `mm`.
    mm: memchr::memmem::Finder<'static>,
    /// The tokens that hold `mm`, each with the offset of its first `mm`.
    mm_tokens: Vec<(&'static [u8], usize)>,
    /// The others (added rules' names), if any.
    others: Option<AhoCorasick>,
    /// The names of the APIs that make a site or end a window.
    site_words: WordFinder,
    /// Finds the [`api::SITE_TOKENS`] of the selected site APIs, one of
    /// which is in each built-in one's name: a text without any names none
    /// (unless an added one lacks them). One SIMD substring search each:
    /// an Aho-Corasick gate over them cost a tenth of a first run (their
    /// rarest byte is `_`).
    site_tokens: Vec<memchr::memmem::Finder<'static>>,
    /// Whether an added site API's name lacks every token.
    site_without_token: bool,
}

impl Prefilter {
    /// Builds the matcher from [`api::FLOW_TOKENS`] and the names of
    /// the APIs `api` adds to the built-in table.
    pub fn new(api: &ApiTable) -> Prefilter {
        let mut tokens: Vec<&'static str> = api::FLOW_TOKENS.to_vec();
        tokens.extend(api.added_names());
        let (with_mm, others): (Vec<&str>, Vec<&str>) =
            tokens.into_iter().partition(|t| t.contains("mm"));
        let mm_tokens = with_mm
            .iter()
            .map(|t| (t.as_bytes(), t.find("mm").expect("partitioned on it")))
            .collect();
        let others = literals(&others);
        let sites: Vec<&str> = (api.all())
            .filter(|r| api.makes_site(r) || r.role == Role::BorrowEnd)
            .map(|r| r.name)
            .collect();
        let tokenless = |s: &&str| !api::SITE_TOKENS.iter().any(|t| s.contains(t));
        Prefilter {
            mm: memchr::memmem::Finder::new(b"mm"),
            mm_tokens,
            others,
            site_without_token: sites.iter().any(tokenless),
            site_words: WordFinder::new(&sites),
            site_tokens: (api::SITE_TOKENS.iter())
                .filter(|t| sites.iter().any(|s| s.contains(*t)))
                .map(|t| memchr::memmem::Finder::new(t.as_bytes()))
                .collect(),
        }
    }

    /// True if `bytes` hold a flow token.
    fn holds_token(&self, bytes: &[u8]) -> bool {
        let at_mm = |at: usize| {
            self.mm_tokens
                .iter()
                .any(|&(t, p)| at >= p && bytes[at - p..].starts_with(t))
        };
        // Each `mm`, overlapping ones too (`mmm`).
        let mut from = 0;
        while let Some(i) = self.mm.find(&bytes[from..]) {
            if at_mm(from + i) {
                return true;
            }
            from += i + 1;
        }
        self.others.as_ref().is_some_and(|ac| ac.is_match(bytes))
    }

    /// `None` if the file can take no part in an mm's flow.
    pub fn check(&self, bytes: &[u8]) -> Option<Hit> {
        if !self.holds_token(bytes) {
            return None;
        }
        // A look-alike (`lru_gen_use_mm`, `use_mmio`) or a comment that
        // names the API is no borrow: such files, most of round one's
        // bytes, are parsed only if a demand asks for them. Comments are
        // found only in files that name the API at all.
        let named = |f: &memchr::memmem::Finder| f.find(bytes).is_some();
        let borrow = (self.site_without_token || self.site_tokens.iter().any(named))
            && self.site_words.any_in(bytes)
            && self
                .site_words
                .any_outside(bytes, &lex::comment_spans_in(bytes));
        Some(Hit { borrow })
    }
}

impl Default for Prefilter {
    fn default() -> Self {
        Prefilter::new(&ApiTable::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrow_files_and_flow_files() {
        let p = Prefilter::default();
        assert_eq!(p.check(b"int x;"), None);
        assert_eq!(
            p.check(b"struct mm_struct *m;"),
            Some(Hit { borrow: false })
        );
        assert_eq!(
            p.check(b"mmgrab(m); kthread_use_mm(m);"),
            Some(Hit { borrow: true })
        );
        // Look-alikes and comments are no borrow; the file still matters.
        for t in [
            &b"lru_gen_use_mm(next->mm);"[..],
            b"if (vp->use_mmio) x();",
            b"/* kthread_use_mm() callers */ mmput(m);",
            b"// then unuse_mm(mm)\nstruct mm_struct *m;",
        ] {
            assert_eq!(p.check(t), Some(Hit { borrow: false }), "{t:?}");
        }
        for t in [
            &b"/* c */ kthread_unuse_mm(m);"[..],
            b"#define USE(m) kthread_use_mm(m)",
            b"static int unuse_mm(struct mm_struct *mm) {}",
        ] {
            assert_eq!(p.check(t), Some(Hit { borrow: true }), "{t:?}");
        }
    }

    #[test]
    fn flow_tokens_are_found_wherever_they_are() {
        let p = Prefilter::default();
        let ac = AhoCorasick::new(api::FLOW_TOKENS).unwrap();
        // Every token at the start, middle and end of texts made of
        // near misses, `m` runs and other tokens' pieces.
        let pieces = [
            "m", "mm", "mmm", "-", ">", ".", "_", "use_m", "mm_", "struct", "grab", "get", "put",
            "drop", "alloc", "x", " ",
        ];
        let mut x = 7u64;
        for round in 0..20_000 {
            let mut t = Vec::new();
            for _ in 0..(round % 9) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                t.extend_from_slice(pieces[(x % pieces.len() as u64) as usize].as_bytes());
            }
            assert_eq!(
                p.holds_token(&t),
                ac.is_match(&t),
                "{:?}",
                String::from_utf8_lossy(&t)
            );
        }
        for tok in api::FLOW_TOKENS {
            for t in [
                tok.to_string(),
                format!("m{tok}"),
                format!("{tok}m"),
                format!("mm{tok}mm"),
            ] {
                assert!(p.holds_token(t.as_bytes()), "{t}");
            }
        }
        assert!(p.holds_token(b"x->mmm"));
        assert!(p.holds_token(b"xmmm_struct"));
        assert!(!p.holds_token(b"->m m_struct mmgra"));
    }
}
