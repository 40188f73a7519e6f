//! The cheap byte test that decides which files are worth parsing.
//!
//! One Aho-Corasick automaton with leftmost-longest matching (the only match
//! kind for which the SIMD searcher is used) over the rule table's tokens.

use crate::idents::is_whole_word;
use crate::rules;
use aho_corasick::{AhoCorasick, MatchKind};

/// What the prefilter found in one file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Hit {
    /// The file mentions the borrow API token.
    pub borrow: bool,
}

/// Multi-literal matcher for the flow tokens.
pub struct Prefilter {
    ac: AhoCorasick,
    /// Patterns that mark a borrow (the borrow token, added borrow APIs).
    borrow_patterns: Vec<usize>,
    /// Finds a borrow pattern after the first flow token.
    borrow_ac: AhoCorasick,
}

impl Prefilter {
    /// Builds the matcher from [`rules::FLOW_TOKENS`] and the names of
    /// any rules added at run time.
    pub fn new() -> Prefilter {
        let mut tokens: Vec<&str> = rules::FLOW_TOKENS.to_vec();
        tokens.extend(rules::extra_names());
        let mut borrow: Vec<&str> = vec![rules::BORROW_TOKEN];
        borrow.extend(rules::extra_borrow_names());
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&tokens)
            .expect("flow tokens are valid patterns");
        let borrow_patterns = tokens
            .iter()
            .enumerate()
            .filter(|(_, t)| borrow.contains(t))
            .map(|(i, _)| i)
            .collect();
        let borrow_ac = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&borrow)
            .expect("borrow names are valid patterns");
        Prefilter {
            ac,
            borrow_patterns,
            borrow_ac,
        }
    }

    /// `None` if the file can take no part in an mm's flow.
    pub fn check(&self, bytes: &[u8]) -> Option<Hit> {
        let mut iter = self.ac.find_iter(bytes);
        let first = iter.next()?;
        let mut hit = Hit {
            borrow: self.borrow_patterns.contains(&first.pattern().as_usize()),
        };
        if !hit.borrow {
            // The file matters; only look further for a borrow.
            hit.borrow = self.borrow_ac.is_match(&bytes[first.end()..]);
        }
        Some(hit)
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
