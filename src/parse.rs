//! Parsing with tree-sitter-c, tolerant of unpreprocessed kernel code.
//!
//! Kernel annotation macros (`__user`, `__init`, `__releases(x)` ...) are
//! the most common cause of ERROR nodes. They are blanked out with spaces of
//! the same length before parsing, so every byte offset and line stays
//! valid for the original text. Parsing never fails: a tree with ERROR
//! nodes is still a tree.

use crate::lex::is_whole_word;
use aho_corasick::{AhoCorasick, MatchKind};
use std::sync::LazyLock;
use tree_sitter::{Parser, Point, Range, Tree};

/// Annotations that expand to nothing (or to attributes) and that confuse
/// the parser; [`WITH_ARGS`] are more that take a parenthesised argument.
const ANNOTATIONS: &[&str] = &[
    "__user",
    "__kernel",
    "__iomem",
    "__percpu",
    "__rcu",
    "__force",
    "__init",
    "__exit",
    "__initdata",
    "__exitdata",
    "__ref",
    "__refdata",
    "__read_mostly",
    "__ro_after_init",
    "__must_check",
    "__always_inline",
    "noinline",
    "__noinline",
    "__cold",
    "__hot",
    "__pure",
    "__maybe_unused",
    "__always_unused",
    "__used",
    "__weak",
    "__packed",
    "__latent_entropy",
    "__visible",
    "notrace",
    "__noreturn",
    "__nocfi",
    "__randomize_layout",
    "__cacheline_aligned",
    "__cacheline_aligned_in_smp",
    "__bitwise",
    "__sched",
    "asmlinkage",
    "__deprecated",
];
const WITH_ARGS: &[&str] = &[
    "__releases",
    "__acquires",
    "__must_hold",
    "__attribute__",
    "__aligned",
    "__printf",
    "__counted_by",
];

static ANNOTATION_FINDER: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostLongest)
        .build(ANNOTATIONS.iter().chain(WITH_ARGS))
        .expect("annotation patterns are valid")
});

/// Returns `text` with annotation macros (and their argument lists)
/// replaced by spaces. Newlines inside blanked arguments are kept.
pub fn blank_annotations(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = bytes.to_vec();
    for m in ANNOTATION_FINDER.find_iter(bytes) {
        let (s, e) = (m.start(), m.end());
        if !is_whole_word(bytes, s, e) {
            continue;
        }
        let mut end = e;
        if m.pattern().as_usize() >= ANNOTATIONS.len() {
            end = skip_parenthesised(bytes, e).unwrap_or(e);
        }
        for b in &mut out[s..end] {
            if *b != b'\n' {
                *b = b' ';
            }
        }
    }
    // Only ASCII bytes were replaced by ASCII spaces.
    String::from_utf8(out).unwrap_or_else(|_| text.to_string())
}

/// If a `( ... )` group follows `from` (after blanks), the offset just past
/// its closing parenthesis.
fn skip_parenthesised(bytes: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i < bytes.len() && (bytes[i] == b' ' || bytes[i] == b'\t') {
        i += 1;
    }
    if bytes.get(i) != Some(&b'(') {
        return None;
    }
    let mut depth = 0usize;
    for (j, &b) in bytes.iter().enumerate().skip(i) {
        match b {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(j + 1);
                }
            }
            b';' | b'{' => return None,
            _ => {}
        }
    }
    None
}

/// How long one file may take to parse before the parser is stopped (the
/// file is then reported as skipped): no input may hang an audit.
pub const PARSE_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(20);

/// Parses C source. Returns `None` if tree-sitter gives up or runs past
/// [`PARSE_TIME_LIMIT`] (a skipped file, never a panic or a hang).
pub fn parse_c(text: &str) -> Option<Tree> {
    parse_c_leaving_out(text, &[])
}

/// [`parse_c`], skipping the byte ranges `out` (sorted, apart) of `text`:
/// tree-sitter reads the rest as if they were not there, and spends
/// nothing on them (blanks cost it a sixth of what code does). The tree's
/// offsets are those of `text`. For the bodies a parse leaves out (see
/// [`crate::elide`]), which are blanked anyway: the tree is the same.
pub fn parse_c_leaving_out(text: &str, out: &[(usize, usize)]) -> Option<Tree> {
    thread_local! {
        /// One parser per thread, reused: a file parses every macro body
        /// on its own, and a new parser each time cost more than the
        /// parse of a short body.
        static PARSER: std::cell::RefCell<Option<Parser>> = const { std::cell::RefCell::new(None) };
    }
    let ranges = included_ranges(text.as_bytes(), out);
    PARSER.with_borrow_mut(|slot| {
        let parser = match slot {
            Some(p) => p,
            None => {
                let mut p = Parser::new();
                p.set_language(&tree_sitter_c::LANGUAGE.into()).ok()?;
                slot.insert(p)
            }
        };
        // No ranges (or ranges it refuses): the whole text.
        if parser.set_included_ranges(&ranges).is_err() {
            parser.set_included_ranges(&[]).ok()?;
        }
        let start = std::time::Instant::now();
        let bytes = text.as_bytes();
        let mut too_long = |_: &tree_sitter::ParseState| start.elapsed() > PARSE_TIME_LIMIT;
        let tree = parser.parse_with_options(
            &mut |offset, _| bytes.get(offset..).unwrap_or_default(),
            None,
            Some(tree_sitter::ParseOptions::new().progress_callback(&mut too_long)),
        );
        // A parse that gave up leaves the parser mid-way: the next one
        // must start afresh.
        if tree.is_none() {
            parser.reset();
        }
        tree
    })
}

/// The ranges of `t` between those of `out` (sorted, apart), with their
/// rows and columns; none if `out` is empty (the whole text).
fn included_ranges(t: &[u8], out: &[(usize, usize)]) -> Vec<Range> {
    if out.is_empty() {
        return Vec::new();
    }
    let mut ranges = Vec::with_capacity(out.len() + 1);
    // Where each offset is, counted on from the last one asked.
    let (mut at, mut row, mut line_start) = (0, 0, 0);
    let mut point = |to: usize| {
        for nl in memchr::memchr_iter(b'\n', &t[at..to]) {
            row += 1;
            line_start = at + nl + 1;
        }
        at = to;
        Point {
            row,
            column: to - line_start,
        }
    };
    let mut from = 0;
    let ends = out.iter().map(|&(s, e)| (s.min(t.len()), e.min(t.len())));
    for (s, e) in ends.chain([(t.len(), t.len())]) {
        if s > from {
            let (start_point, end_point) = (point(from), point(s));
            ranges.push(Range {
                start_byte: from,
                end_byte: s,
                start_point,
                end_point,
            });
        }
        from = from.max(e);
    }
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every node of a tree: kind, byte range and points, in order.
    fn nodes(tree: &Tree) -> Vec<(String, std::ops::Range<usize>, Point, Point)> {
        let mut out = Vec::new();
        let mut stack = vec![tree.root_node()];
        while let Some(n) = stack.pop() {
            out.push((
                n.kind().to_string(),
                n.byte_range(),
                n.start_position(),
                n.end_position(),
            ));
            let mut c = n.walk();
            let children: Vec<_> = n.children(&mut c).collect();
            stack.extend(children.into_iter().rev());
        }
        out
    }

    #[test]
    fn skipped_ranges_parse_as_blanks_do() {
        let text = "int a(void)\n{\n\treturn f(1);\n}\n\nstatic int b(int x) {\n\tif (x)\n\t\treturn 2;\n\treturn 3;\n}\nstruct s { int y; };\nint c(void) { return 0; }";
        let blocks = crate::elide::blocks(text.as_bytes());
        assert_eq!(blocks.len(), 3);
        let mut blanked = text.as_bytes().to_vec();
        crate::elide::blank(&mut blanked, &blocks);
        let blanked = String::from_utf8(blanked).unwrap();
        let spans = crate::elide::blanked_spans(&blocks);
        let whole = parse_c(&blanked).unwrap();
        let skipping = parse_c_leaving_out(&blanked, &spans).unwrap();
        assert_eq!(nodes(&skipping), nodes(&whole));
        // The parser reads whole texts again afterwards.
        let next = parse_c("int z;").unwrap();
        assert_eq!(next.root_node().child(0).unwrap().byte_range(), 0..6);
    }

    #[test]
    fn blanking_keeps_offsets_and_removes_annotations() {
        let src = "static int __init f(void __user *p) __releases(x)\n{ int __user_x; }";
        let out = blank_annotations(src);
        assert_eq!(out.len(), src.len());
        assert!(!out.contains("__init") && !out.contains("__releases"));
        assert!(
            out.contains("__user_x"),
            "identifiers that only start alike stay"
        );
    }

    #[test]
    fn parse_gives_a_tree_even_for_broken_code() {
        let tree = parse_c("void f( { if (x) ").unwrap();
        assert!(tree.root_node().has_error());
    }
}
