//! The C lexer: the one place that knows how C text is cut into comments,
//! string and character literals, preprocessor lines and identifiers,
//! without a parser.
//!
//! It is the lowest layer (it uses no other module of the crate). The
//! scanners built on it ask it, not their own loops: the comment spans of
//! the facts and the prefilter ([`comment_spans`]), the block scanner of
//! `elide` ([`literal_end`], [`block_comment_end`], [`line_comment_end`],
//! [`directive_end`]), the leading comments of `idents::defines_only`, the
//! backwards reading of `typed` ([`skip_blanks_back`], [`name_ending_at`],
//! [`in_comment_line`]), and every whole-word test ([`is_whole_word`],
//! [`WordFinder`], `literals`).
//!
//! Where two scanners always read a construct differently, both readings
//! are here under their own names, so that no caller's behaviour changed
//! when they were gathered: a `//` comment with or without backslash
//! continuation ([`continued_line_comment_end`], [`line_comment_end`]),
//! and a block comment whose `*/` may or may not share the `*` of its `/*`
//! ([`block_comment_close`], [`block_comment_close_sharing_star`]).
//!
//! Not here: the identifier scan of the walk (`idents::spans` and `keys`,
//! `idents/avx512.rs`) and the 64-byte-at-a-time line checks of
//! `idents::defines_only`. They are hand-written SIMD, measured faster
//! than any scan built from these helpers, and the walk's time depends on
//! them; they agree with [`is_ident_byte`] (tested there).

use aho_corasick::{AhoCorasick, MatchKind};
use std::sync::LazyLock;

/// A byte range of a text.
pub type Span = (usize, usize);

// ---------------------------------------------------------------------
// Identifiers and whole words

/// True for the bytes of a C identifier, `[A-Za-z0-9_]`.
#[inline]
pub fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The end of the run of identifier bytes that starts at `s` (`s` itself
/// if there is none).
#[inline]
pub fn ident_end(t: &[u8], s: usize) -> usize {
    s + t[s..].iter().take_while(|&&b| is_ident_byte(b)).count()
}

/// The start of the run of identifier bytes that ends at `end` (`end`
/// itself if there is none).
#[inline]
pub fn ident_start(t: &[u8], end: usize) -> usize {
    t[..end]
        .iter()
        .rposition(|&b| !is_ident_byte(b))
        .map_or(0, |p| p + 1)
}

/// The start of the name that ends at `end` of `t`; `None` if no name
/// ends there (no identifier byte before it, or a number).
pub fn name_ending_at(t: &[u8], end: usize) -> Option<usize> {
    let start = ident_start(t, end);
    (start < end && !t[start].is_ascii_digit()).then_some(start)
}

/// True if `t[s..e]` has no identifier byte on either side.
#[inline]
pub fn is_whole_word(t: &[u8], s: usize, e: usize) -> bool {
    let before = s.checked_sub(1).map(|i| t[i]);
    !before.is_some_and(is_ident_byte) && !t.get(e).copied().is_some_and(is_ident_byte)
}

/// An identifier's bytes as text (a name that is not UTF-8 is no name
/// the tables hold).
pub fn bytes_str(b: &[u8]) -> &str {
    std::str::from_utf8(b).unwrap_or("")
}

/// The starts of the occurrences of `word` in `t` as a whole identifier;
/// none if `word` is empty.
pub fn whole_words<'t>(t: &'t [u8], word: &'t [u8]) -> impl Iterator<Item = usize> + 't {
    (!word.is_empty())
        .then(|| {
            memchr::memmem::find_iter(t, word).filter(|&s| is_whole_word(t, s, s + word.len()))
        })
        .into_iter()
        .flatten()
}

/// True if `word` occurs in `t` as a whole identifier. The flow analysis
/// asks this of short names and conditions at every event of every path:
/// for those, a scan for the first byte, since building a substring
/// searcher costs more than such a text.
pub fn has_word(t: &[u8], word: &[u8]) -> bool {
    let Some(&first) = word.first() else {
        return false;
    };
    if t.len() > 256 {
        return whole_words(t, word).next().is_some();
    }
    memchr::memchr_iter(first, t)
        .any(|s| t[s..].starts_with(word) && is_whole_word(t, s, s + word.len()))
}

/// True if offset `s` of `t` comes right after `.` or `->`: a member.
#[inline(always)]
pub fn after_member_op(t: &[u8], s: usize) -> bool {
    (s >= 1 && t[s - 1] == b'.') || (s >= 2 && &t[s - 2..s] == b"->")
}

/// If the name at `s` of `t` follows the keyword `struct` (whitespace
/// between, as `idents` reads a tag forwards), the keyword's offset.
pub fn struct_keyword_before(t: &[u8], s: usize) -> Option<usize> {
    let end = skip_whitespace_back(t, s);
    (end < s && t[..end].ends_with(b"struct") && is_whole_word(t, end - 6, end)).then(|| end - 6)
}

/// A leftmost-longest automaton (the match kind that gets the SIMD
/// searcher) over literal `patterns`; `None` if there are none.
pub(crate) fn literals<P: AsRef<[u8]>>(patterns: &[P]) -> Option<AhoCorasick> {
    (!patterns.is_empty()).then(|| {
        AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(patterns)
            .expect("literals are valid patterns")
    })
}

/// Finds which of `words` occur in `text` as whole identifiers.
pub struct WordFinder(Option<AhoCorasick>);

impl WordFinder {
    /// A finder for identifiers.
    pub fn new<I: AsRef<[u8]>>(words: &[I]) -> WordFinder {
        WordFinder(literals(words))
    }

    /// True if any of the words occurs in `text` with no identifier byte
    /// on either side.
    pub fn any_in(&self, text: &[u8]) -> bool {
        self.any_outside(text, &[])
    }

    /// [`WordFinder::any_in`], not counting occurrences inside the spans
    /// `skip` (sorted, not overlapping: a file's comments).
    pub fn any_outside(&self, text: &[u8], skip: &[Span]) -> bool {
        let skipped = |at: usize| {
            let i = skip.partition_point(|s| s.0 <= at);
            i > 0 && at < skip[i - 1].1
        };
        self.0.as_ref().is_some_and(|ac| {
            ac.find_iter(text)
                .any(|m| is_whole_word(text, m.start(), m.end()) && !skipped(m.start()))
        })
    }
}

// ---------------------------------------------------------------------
// Blanks

/// The offset of the first byte at or after `at` that is not ASCII
/// whitespace (the end of `t` if there is none).
#[inline]
pub fn skip_whitespace(t: &[u8], at: usize) -> usize {
    at + t[at..]
        .iter()
        .take_while(|b| b.is_ascii_whitespace())
        .count()
}

/// The offset after the last byte before `at` that is not ASCII
/// whitespace (0 if there is none).
#[inline]
pub fn skip_whitespace_back(t: &[u8], at: usize) -> usize {
    t[..at]
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |p| p + 1)
}

/// The first byte at or after `at` that is not ASCII whitespace.
#[inline]
pub fn next_non_whitespace(t: &[u8], at: usize) -> Option<u8> {
    t[at..].iter().copied().find(|b| !b.is_ascii_whitespace())
}

/// The offset after the last byte before `at` that is not whitespace (a
/// backslash that continues a macro's line counts as whitespace).
pub fn skip_blanks_back(t: &[u8], mut at: usize) -> usize {
    while at > 0 {
        match t[at - 1] {
            b' ' | b'\t' | b'\r' | b'\x0c' => at -= 1,
            b'\n' => {
                at -= 1;
                if at > 0 && t[at - 1] == b'\\' {
                    at -= 1;
                }
            }
            _ => break,
        }
    }
    at
}

// ---------------------------------------------------------------------
// String and character literals

/// The end of the string or character literal whose opening quote (`"`
/// or `'`) is at `i`: past its closing quote, or past the newline that
/// ends it unclosed (or the end of the text). A backslash escapes the
/// byte after it, a quote or a newline alike.
pub fn literal_end(t: &[u8], i: usize) -> usize {
    let quote = t[i];
    let mut i = i + 1;
    while i < t.len() && t[i] != quote && t[i] != b'\n' {
        i += if t[i] == b'\\' { 2 } else { 1 };
    }
    (i + 1).min(t.len())
}

// ---------------------------------------------------------------------
// Comments

/// Finds `*/`, built once (each file asks for it).
static COMMENT_END: LazyLock<memchr::memmem::Finder<'static>> =
    LazyLock::new(|| memchr::memmem::Finder::new(b"*/"));

/// The end, past its `*/`, of the block comment that starts at `i` (`t[i..]`
/// starts with `/*`); `None` if the text ends first.
pub fn block_comment_close(t: &[u8], i: usize) -> Option<usize> {
    COMMENT_END.find(&t[i + 2..]).map(|k| i + 2 + k + 2)
}

/// [`block_comment_close`], or the end of the text for a comment it ends
/// inside of.
pub fn block_comment_end(t: &[u8], i: usize) -> usize {
    block_comment_close(t, i).unwrap_or(t.len())
}

/// [`block_comment_close`], except that the `*/` may share the `*` of the
/// `/*`: `/*/` is taken for a whole comment. This is how `idents` has
/// always skipped the comments a text starts with (`defines_only`); kept
/// so that which texts count as object-like macros only does not change.
/// It differs only for a comment that starts `/*/`.
pub fn block_comment_close_sharing_star(t: &[u8], i: usize) -> Option<usize> {
    COMMENT_END.find(&t[i..]).map(|k| i + k + 2)
}

/// The end, at its newline, of the `//` comment that starts at `i`;
/// `None` if the text ends first. A backslash at the end of the line does
/// not continue it (see [`continued_line_comment_end`]).
pub fn line_comment_close(t: &[u8], i: usize) -> Option<usize> {
    memchr::memchr(b'\n', &t[i..]).map(|p| i + p)
}

/// [`line_comment_close`], or the end of the text.
pub fn line_comment_end(t: &[u8], i: usize) -> usize {
    line_comment_close(t, i).unwrap_or(t.len())
}

/// The end of the `//` comment that starts at `i` (`t[i..]` starts with
/// `//`), where a backslash at the end of a line continues it onto the
/// next: at the newline of its last line, or the end of the text if it
/// holds no newline. If the text ends on a continuation line that has no
/// newline, the comment ends before that line: so the comment spans have
/// always been read (they feed the cache's `code_hash` and the comments a
/// report quotes).
pub fn continued_line_comment_end(t: &[u8], i: usize) -> usize {
    let Some(mut end) = line_comment_close(t, i + 2) else {
        return t.len();
    };
    while t[end - 1] == b'\\' {
        end += 1;
        match line_comment_close(t, end) {
            Some(e) => end = e,
            None => break,
        }
    }
    end
}

/// The span of every comment in `text`, `/* ... */` and `// ...`, in order.
/// An unterminated block comment runs to the end of the text; a `//`
/// comment is continued by a backslash at the end of its line (see
/// [`continued_line_comment_end`]). String and character literals are
/// skipped, so that `"/*"` is not a comment.
pub fn comment_spans(text: &str) -> Vec<Span> {
    comment_spans_in(text.as_bytes())
}

/// [`comment_spans`] of bytes that need not be UTF-8.
pub fn comment_spans_in(t: &[u8]) -> Vec<Span> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < t.len() {
        let end = match (t[i], t.get(i + 1)) {
            (b'"' | b'\'', _) => {
                i = literal_end(t, i);
                continue;
            }
            (b'/', Some(b'*')) => block_comment_end(t, i),
            (b'/', Some(b'/')) => continued_line_comment_end(t, i),
            _ => {
                i += 1;
                continue;
            }
        };
        out.push((i, end));
        i = end;
    }
    out
}

/// The words of a comment, without the comment markers and the leading
/// `*` of each line, on one line.
pub fn comment_text(raw: &str) -> String {
    let inner = raw
        .strip_prefix("/*")
        .map(|s| s.strip_suffix("*/").unwrap_or(s))
        .or_else(|| raw.strip_prefix("//"))
        .unwrap_or(raw);
    inner
        .lines()
        .map(|l| {
            l.trim()
                .trim_end_matches('\\')
                .trim_start_matches('*')
                .trim()
        })
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// True if offset `s` is on a line that a comment holds there, told from
/// that line alone (no scan from the start of the text): after `//` or an
/// unclosed `/*` on the line, or on a line that starts with `*` (the
/// inside of a block comment, as the kernel writes them; a line of code
/// does not start with `*` and then declare something). Literals are not
/// told apart: a `"//"` before `s` counts too.
pub fn in_comment_line(t: &[u8], s: usize) -> bool {
    let line_start = memchr::memrchr(b'\n', &t[..s]).map_or(0, |p| p + 1);
    let line = &t[line_start..s];
    let lead = &line[skip_whitespace(line, 0)..];
    if lead.first() == Some(&b'*') && lead.get(1) != Some(&b'/') {
        return true;
    }
    let opened = memchr::memmem::rfind(line, b"/*");
    let closed = memchr::memmem::rfind(line, b"*/");
    memchr::memmem::find(line, b"//").is_some() || opened > closed
}

// ---------------------------------------------------------------------
// Preprocessor lines

/// The end (at its newline, or the end of the text) of the directive
/// starting at `i`: a backslash right before a newline continues it, and
/// a block comment in it may run over lines. Literals are not told apart
/// (a `"/*"` in a directive opens a comment).
pub fn directive_end(t: &[u8], mut i: usize) -> usize {
    while i < t.len() && t[i] != b'\n' {
        if t[i] == b'\\' && t.get(i + 1) == Some(&b'\n') {
            i += 2;
        } else if t[i] == b'/' && t.get(i + 1) == Some(&b'*') {
            i = block_comment_end(t, i);
        } else {
            i += 1;
        }
    }
    i.min(t.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(t: &str, spans: &[Span]) -> Vec<String> {
        spans.iter().map(|s| t[s.0..s.1].to_string()).collect()
    }

    #[test]
    fn comments_of_both_kinds_and_their_text() {
        let t = "a = \"/* no */\"; /* one\n * two */ c = '/'; // three\nd;";
        let spans = comment_spans(t);
        assert_eq!(spans.len(), 2);
        assert_eq!(comment_text(&t[spans[0].0..spans[0].1]), "one two");
        assert_eq!(comment_text(&t[spans[1].0..spans[1].1]), "three");
        assert_eq!(comment_text("// a \\\n b"), "a b");
        // Bytes that are not UTF-8 are no obstacle.
        assert_eq!(comment_spans_in(b"\xff/* \xfe */\xff"), [(1, 8)]);
    }

    #[test]
    fn unterminated_comments_run_to_the_end() {
        assert_eq!(comment_spans("x; /* open"), [(3, 10)]);
        assert_eq!(block_comment_close(b"/* open", 0), None);
        assert_eq!(block_comment_end(b"/* open", 0), 7);
        // `/*/` opens a comment; only the leading-comment reading of
        // `defines_only` takes it for a whole one.
        assert_eq!(block_comment_close(b"/*/ x */", 0), Some(8));
        assert_eq!(block_comment_close(b"/*/", 0), None);
        assert_eq!(block_comment_close_sharing_star(b"/*/ x */", 0), Some(3));
        assert_eq!(block_comment_close_sharing_star(b"x /**/", 2), Some(6));
        assert_eq!(block_comment_close_sharing_star(b"/* open", 0), None);
    }

    #[test]
    fn a_line_comment_at_the_end_of_the_text() {
        assert_eq!(comment_spans("// last"), [(0, 7)]);
        assert_eq!(comment_spans("x; //"), [(3, 5)]);
        assert_eq!(line_comment_close(b"x // last", 2), None);
        assert_eq!(line_comment_end(b"x // last", 2), 9);
        assert_eq!(line_comment_close(b"x // c\ny", 2), Some(6));
    }

    #[test]
    fn a_backslash_continues_a_line_comment_only_where_asked() {
        let t = "// a \\\n b\nc; // d\n";
        assert_eq!(texts(t, &comment_spans(t)), ["// a \\\n b", "// d"]);
        assert_eq!(continued_line_comment_end(t.as_bytes(), 0), 9);
        assert_eq!(line_comment_end(t.as_bytes(), 0), 6);
        // A continuation line without a newline at the end of the text is
        // left out, as it always was.
        let t = "// a \\\n b";
        assert_eq!(comment_spans(t), [(0, 7)]);
        assert_eq!(continued_line_comment_end(b"//\\\n\\\n", 0), 6);
        assert_eq!(continued_line_comment_end(b"//\n", 0), 2);
    }

    #[test]
    fn strings_with_escaped_quotes_hide_comments() {
        let t = br#"s = "a \" /* b"; /* c */"#;
        assert_eq!(literal_end(t, 4), 15);
        assert_eq!(comment_spans_in(t), [(17, 24)]);
        // `\\` ends in the string: the quote after it closes it.
        assert_eq!(comment_spans_in(br#""\\" /* x */"#), [(5, 12)]);
        // A string ends unclosed at its newline (which it takes in), or
        // continues over a backslash-newline.
        assert_eq!(literal_end(b"\"ab\n// c", 0), 4);
        assert_eq!(comment_spans_in(b"\"ab\n// c"), [(4, 8)]);
        assert_eq!(literal_end(b"\"a\\\n// c\" x", 0), 9);
        assert_eq!(comment_spans_in(b"\"a\\\n// c\" x"), []);
        // At the end of the text, never past it.
        assert_eq!(literal_end(b"\"ab\\", 0), 4);
        assert_eq!(literal_end(b"\"", 0), 1);
    }

    #[test]
    fn character_literals_hide_quotes_and_comments() {
        // `'"'` opens no string: the comment after it is one.
        let t = br#"c = '"'; /* x */ d = '\''; // y"#;
        assert_eq!(literal_end(t, 4), 7);
        assert_eq!(literal_end(t, 21), 25);
        assert_eq!(comment_spans_in(t), [(9, 16), (27, 31)]);
        assert_eq!(comment_spans_in(b"x = '/'; y = '*';"), []);
    }

    #[test]
    fn continued_preprocessor_lines() {
        let t = b"#define A(x) \\\n\tf(x) /* a\n b */ g \\\n\n;";
        assert_eq!(directive_end(t, 0), 36);
        assert_eq!(&t[36..], b"\n;");
        assert_eq!(directive_end(b"#define B 1", 0), 11);
        assert_eq!(directive_end(b"#if X\n#endif", 0), 5);
        // A comment left open runs to the end; `\r\n` continues nothing.
        assert_eq!(directive_end(b"#define C /* x\n", 0), 15);
        assert_eq!(directive_end(b"#define D \\\r\nx", 0), 12);
    }

    #[test]
    fn a_line_is_told_a_comment_line_from_itself() {
        for (t, yes) in [
            ("x; // struct s", true),
            (" * struct s", true),
            ("/* struct s", true),
            ("/* c */ struct s", false),
            (" */ struct s", false),
            ("a;\nstruct s", false),
            ("\"//\" struct s", true),
        ] {
            let s = t.rfind("struct").unwrap();
            assert_eq!(in_comment_line(t.as_bytes(), s), yes, "{t}");
        }
    }

    #[test]
    fn words_and_names() {
        assert!(is_whole_word(b"a load(", 2, 6));
        assert!(!is_whole_word(b"unload", 2, 6));
        assert!(!is_whole_word(b"load_x", 0, 4));
        assert_eq!(
            whole_words(b"load unload load", b"load").collect::<Vec<_>>(),
            [0, 12]
        );
        assert_eq!(whole_words(b"load", b"").count(), 0);
        assert_eq!(name_ending_at(b"a->b_1", 6), Some(3));
        assert_eq!(name_ending_at(b"x 12", 4), None);
        assert_eq!(name_ending_at(b"x ", 2), None);
        assert_eq!(ident_end(b"ab_9 x", 0), 4);
        assert_eq!(ident_start(b"x ab_9", 6), 2);
        assert!(after_member_op(b"a->b", 3) && after_member_op(b"a.b", 2));
        assert!(!after_member_op(b"a-b", 2) && !after_member_op(b"b", 0));
        assert_eq!(struct_keyword_before(b"struct\n\tops", 8), Some(0));
        assert_eq!(struct_keyword_before(b"mystruct ops", 9), None);
        assert_eq!(struct_keyword_before(b"struct ops", 0), None);
    }

    #[test]
    fn words_match_whole_identifiers_only() {
        let w = WordFinder::new(&["load"]);
        assert!(w.any_in(b"x->load(a)"));
        assert!(!w.any_in(b"x->load_mqd(a) unload"));
        let t = b"/* load */ x; // load";
        assert!(!w.any_outside(t, &[(0, 10), (14, 21)]));
        assert!(w.any_outside(t, &[(0, 10)]));
        assert!(!WordFinder::new::<&str>(&[]).any_in(b"load"));
        assert!(literals::<&str>(&[]).is_none());
    }

    #[test]
    fn blanks_forwards_and_backwards() {
        let t = b"a \\\n\t b  ";
        assert_eq!(skip_blanks_back(t, 6), 1);
        assert_eq!(skip_whitespace_back(t, 6), 3);
        assert_eq!(skip_whitespace(t, 3), 6);
        assert_eq!(skip_whitespace(t, 7), 9);
        assert_eq!(next_non_whitespace(t, 3), Some(b'b'));
        assert_eq!(next_non_whitespace(t, 7), None);
        assert_eq!(skip_whitespace_back(b"  ", 2), 0);
    }

    #[test]
    fn has_word_is_whole_words_found() {
        let long = format!("{} v[i].mm", "x ".repeat(200));
        for (t, w) in [
            ("v[i].mm", "i"),
            ("kthread", "k"),
            ("ok && !ok2", "ok2"),
            ("a_b", "b"),
            ("", "a"),
            ("a", ""),
            (long.as_str(), "i"),
            (long.as_str(), "mmx"),
        ] {
            let expected = whole_words(t.as_bytes(), w.as_bytes()).next().is_some();
            assert_eq!(
                has_word(t.as_bytes(), w.as_bytes()),
                expected,
                "{t:?} {w:?}"
            );
        }
    }
}
