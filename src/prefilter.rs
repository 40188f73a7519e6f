//! The cheap byte test that decides which files are worth parsing.
//!
//! One Aho-Corasick automaton with leftmost-longest matching (the only match
//! kind for which the SIMD searcher is used) over the rule table's tokens.

use crate::idents::is_whole_word;
use crate::rules::{self, Role};
use aho_corasick::{AhoCorasick, MatchKind};

/// What the prefilter found in one file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Hit {
    /// The file names a borrow API (start or end) as a whole identifier
    /// outside comments: it may hold a borrow site, and round one parses
    /// it.
    pub borrow: bool,
}

/// Multi-literal matcher for the flow tokens.
pub struct Prefilter {
    ac: AhoCorasick,
    /// The names of the APIs that start or end a borrow.
    borrow_words: WordFinder,
}

impl Prefilter {
    /// Builds the matcher from [`rules::FLOW_TOKENS`] and the names of
    /// any rules added at run time.
    pub fn new() -> Prefilter {
        let mut tokens: Vec<&str> = rules::FLOW_TOKENS.to_vec();
        tokens.extend(rules::extra_names());
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&tokens)
            .expect("flow tokens are valid patterns");
        let borrow: Vec<&str> = rules::all()
            .filter(|r| matches!(r.role, Role::BorrowStart | Role::BorrowEnd))
            .map(|r| r.name)
            .collect();
        Prefilter {
            ac,
            borrow_words: WordFinder::new(&borrow),
        }
    }

    /// `None` if the file can take no part in an mm's flow.
    pub fn check(&self, bytes: &[u8]) -> Option<Hit> {
        self.ac.find(bytes)?;
        // A look-alike (`lru_gen_use_mm`, `use_mmio`) or a comment that
        // names the API is no borrow: such files, most of round one's
        // bytes, are parsed only if a demand asks for them. Comments are
        // found only in files that name the API at all.
        let borrow = self.borrow_words.any_in(bytes)
            && self
                .borrow_words
                .any_outside(bytes, &crate::facts::comment_spans_in(bytes));
        Some(Hit { borrow })
    }
}

impl Default for Prefilter {
    fn default() -> Self {
        Prefilter::new()
    }
}

/// Finds which of `words` occur in `text` as whole identifiers.
pub struct WordFinder {
    ac: AhoCorasick,
    count: usize,
}

impl WordFinder {
    /// A finder for identifiers.
    pub fn new<I: AsRef<[u8]>>(words: &[I]) -> WordFinder {
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(words)
            .expect("identifiers are valid patterns");
        WordFinder {
            ac,
            count: words.len(),
        }
    }

    /// True if any of the words occurs in `text` with no identifier byte
    /// on either side.
    pub fn any_in(&self, text: &[u8]) -> bool {
        self.count > 0
            && self
                .ac
                .find_iter(text)
                .any(|m| is_whole_word(text, m.start(), m.end()))
    }

    /// [`WordFinder::any_in`], not counting occurrences inside the spans
    /// `skip` (sorted, not overlapping: a file's comments).
    pub fn any_outside(&self, text: &[u8], skip: &[(usize, usize)]) -> bool {
        let skipped = |at: usize| {
            let i = skip.partition_point(|s| s.0 <= at);
            i > 0 && at < skip[i - 1].1
        };
        self.count > 0
            && self
                .ac
                .find_iter(text)
                .any(|m| is_whole_word(text, m.start(), m.end()) && !skipped(m.start()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrow_files_and_flow_files() {
        let p = Prefilter::new();
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
    fn words_match_whole_identifiers_only() {
        let w = WordFinder::new(&["load"]);
        assert!(w.any_in(b"x->load(a)"));
        assert!(!w.any_in(b"x->load_mqd(a) unload"));
        let t = b"/* load */ x; // load";
        assert!(!w.any_outside(t, &[(0, 10), (14, 21)]));
        assert!(w.any_outside(t, &[(0, 10)]));
    }
}
