//! Bodies a parse can leave out.
//!
//! Most of a parsed file is function bodies that the analysis never looks
//! into: a file is parsed for one caller, one store, one struct. A body
//! that mentions no API of the API table is *elided*: blanked (spaces, so
//! every offset holds) before tree-sitter sees it, and recorded as a
//! [`Body`](crate::facts::Body) with its name, parameters and span but no
//! code. A function-like macro is elided the same way (it is not parsed
//! again on its own).
//!
//! The analysis must then never read an elided body without it being
//! noticed: [`Body::code`](crate::facts::Body::code) marks the body as
//! read, and the audit parses that body (a *forced* one) and puts it in
//! the file's facts. The look-up tables of the index (calls, stores, values by
//! name) never see elided code either; every such look-up is paired with a
//! demand, and the audit forces the elided bodies whose text holds a newly
//! demanded name. An analysis that read an elided body, or whose new
//! demands name one, is discarded and run again; so the analysis that
//! counts always saw what a full parse would have shown it.

use crate::lex;
use aho_corasick::AhoCorasick;

/// What kind of body a [`Block`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockKind {
    /// `{ ... }` after a `)` at file scope: a function body.
    Function,
    /// The value of a `#define name(args) value`.
    Macro,
}

/// A body that a parse may leave out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    /// Which body: the offset of its `{`, or of the `#` of the macro.
    pub key: usize,
    /// The body's code (see [`code_of`]): a function's is blanked when
    /// it is left out; a macro's is only tested.
    pub span: (usize, usize),
    pub kind: BlockKind,
}

/// Every function body at file scope that holds no preprocessor line (a
/// `#if` may open outside and close inside), and every function-like
/// macro. Empty if the braces do not balance: a parse of such a file
/// leaves nothing out.
pub fn blocks(t: &[u8]) -> Vec<Block> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    // The last byte of code seen at file scope.
    let mut last_code = b';';
    let mut open = 0usize;
    let mut candidate = false;
    let mut line_start = true;
    let mut i = 0;
    while i < t.len() {
        let b = t[i];
        match b {
            b'\n' => {
                line_start = true;
                i += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' | b'\x0c' => {
                i += 1;
                continue;
            }
            b'#' if line_start => {
                let end = lex::directive_end(t, i);
                if depth > 0 {
                    candidate = false;
                } else if let Some(m) = function_like_macro(t, i, end) {
                    out.push(m);
                }
                i = end;
                continue;
            }
            b'/' if t.get(i + 1) == Some(&b'*') => {
                i = lex::block_comment_end(t, i);
                line_start = false;
                continue;
            }
            b'/' if t.get(i + 1) == Some(&b'/') => {
                i = lex::line_comment_end(t, i);
                continue;
            }
            b'"' | b'\'' => i = lex::literal_end(t, i),
            b'{' => {
                if depth == 0 {
                    open = i;
                    candidate = last_code == b')';
                }
                depth += 1;
                i += 1;
            }
            b'}' => {
                if depth == 0 {
                    return Vec::new();
                }
                depth -= 1;
                if depth == 0 && candidate {
                    out.push(Block {
                        key: open,
                        span: code_of(t, open, i + 1),
                        kind: BlockKind::Function,
                    });
                }
                i += 1;
            }
            _ => i += 1,
        }
        line_start = false;
        if depth == 0 {
            last_code = b;
        }
    }
    if depth != 0 {
        return Vec::new();
    }
    out
}

/// `#define name(` ... as a block, if the directive `t[at..end]` is one.
fn function_like_macro(t: &[u8], at: usize, end: usize) -> Option<Block> {
    let d = &t[at + 1..end];
    let rest = d.trim_ascii_start().strip_prefix(b"define")?;
    let name = rest.trim_ascii_start();
    // At least one blank after `define`, then the name, then `(` at once.
    if name.len() == rest.len() {
        return None;
    }
    let n = lex::ident_end(name, 0);
    (n > 0 && name.get(n) == Some(&b'(')).then(|| Block {
        key: at,
        span: code_of(t, at, end),
        kind: BlockKind::Macro,
    })
}

/// The code of the body whose block starts at `key` and ends at `end`
/// (the end of its definition): between a function's braces, or a
/// macro's value after its parameter list. Not its name: a demand for
/// its callers names it, and the body holds none of them.
pub fn code_of(t: &[u8], key: usize, end: usize) -> (usize, usize) {
    let end = end.min(t.len());
    if key >= end {
        return (end, end);
    }
    if t[key] == b'#' {
        let start = memchr::memchr(b')', &t[key..end]).map_or(key, |p| key + p + 1);
        (start, end)
    } else {
        (key + 1, (end - 1).max(key + 1))
    }
}

/// Names whose mention keeps a body: every API of the API table and the
/// prefilter's flow tokens, matched anywhere in a body's text (a match
/// inside a longer name or a comment keeps a body too: that costs a
/// parse, never a miss).
pub struct KeepWords(Option<AhoCorasick>, bool);

impl KeepWords {
    /// A matcher for `words` (empty ones are ignored).
    pub fn new<'w>(words: impl IntoIterator<Item = &'w str>) -> KeepWords {
        let words: Vec<&str> = words.into_iter().filter(|w| !w.is_empty()).collect();
        KeepWords(lex::literals(&words), false)
    }

    /// Keeps every body.
    pub fn everything() -> KeepWords {
        KeepWords(None, true)
    }

    /// The APIs of `api` and the flow tokens.
    pub fn apis(api: &crate::api::ApiTable) -> KeepWords {
        KeepWords::new(
            api.all()
                .filter(|r| r.role.marks_relevant())
                .map(|r| r.name)
                .chain(crate::api::FLOW_TOKENS.iter().copied()),
        )
    }

    /// True if `t` mentions one of the words.
    pub fn any_in(&self, t: &[u8]) -> bool {
        self.1 || self.0.as_ref().is_some_and(|ac| ac.is_match(t))
    }
}

/// The keys of the blocks of `t` whose text satisfies `hit`.
pub fn mentioning(t: &[u8], blocks: &[Block], hit: impl Fn(&[u8]) -> bool) -> Vec<usize> {
    blocks
        .iter()
        .filter(|b| hit(&t[b.span.0..b.span.1]))
        .map(|b| b.key)
        .collect()
}

/// The blocks a parse of `t` leaves out: those that mention no word of
/// `keep` and are not `forced` (sorted keys).
pub fn elided(t: &[u8], blocks: &[Block], keep: &KeepWords, forced: &[usize]) -> Vec<Block> {
    blocks
        .iter()
        .filter(|b| forced.binary_search(&b.key).is_err() && !keep.any_in(&t[b.span.0..b.span.1]))
        .copied()
        .collect()
}

/// How many bytes [`blank`] blanks.
pub fn blanked_bytes(elided: &[Block]) -> usize {
    blanked_spans(elided).iter().map(|s| s.1 - s.0).sum()
}

/// The spans [`blank`] blanks, in order: the code of the function bodies
/// (a macro is not blanked).
pub fn blanked_spans(elided: &[Block]) -> Vec<(usize, usize)> {
    elided
        .iter()
        .filter(|b| b.kind == BlockKind::Function)
        .map(|b| b.span)
        .collect()
}

/// `parsed` with the elided function bodies blanked (newlines kept).
pub fn blank(parsed: &mut [u8], elided: &[Block]) {
    for (s, e) in blanked_spans(elided) {
        for x in &mut parsed[s..e] {
            if *x != b'\n' {
                *x = b' ';
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(t: &str) -> Vec<(BlockKind, &str)> {
        blocks(t.as_bytes())
            .into_iter()
            .map(|b| (b.kind, &t[b.span.0..b.span.1]))
            .collect()
    }

    #[test]
    fn finds_function_bodies_and_function_like_macros() {
        let t = "struct s { int a; };\nstatic int f(int x)\n{\n\tif (x) { return 1; }\n\treturn '}';\n}\n\
                 #define M(a) do { g(a); } while (0)\n#define N 1\nint t[] = { 1, 2 };\n\
                 void h(void) { /* } */ s = \"}\"; }\n";
        assert_eq!(
            keys(t),
            [
                (
                    BlockKind::Function,
                    "\n\tif (x) { return 1; }\n\treturn '}';\n"
                ),
                (BlockKind::Macro, " do { g(a); } while (0)"),
                (BlockKind::Function, " /* } */ s = \"}\"; "),
            ]
        );
    }

    #[test]
    fn a_body_with_a_preprocessor_line_is_kept_whole() {
        let t = "void f(void)\n{\n#ifdef A\n\ta();\n#endif\n}\nvoid g(void) { x(); }\n";
        assert_eq!(keys(t), [(BlockKind::Function, " x(); ")]);
    }

    #[test]
    fn any_bytes_give_blocks_inside_the_text() {
        // Short texts from the bytes that steer the scanner, at random.
        let alphabet = b"{}()#\\/*\"'\n ;ad";
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 40) as usize;
            let t: Vec<u8> = (0..len)
                .map(|i| alphabet[((x >> (i % 50)) as usize + i * 7) % alphabet.len()])
                .collect();
            let bs = blocks(&t);
            assert!(bs.windows(2).all(|w| w[0].key < w[1].key), "{t:?}");
            for b in &bs {
                assert!(
                    b.key < t.len() && b.span.0 <= b.span.1 && b.span.1 <= t.len(),
                    "{t:?}"
                );
            }
            let mut p = t.clone();
            blank(&mut p, &bs);
            assert_eq!(p.len(), t.len());
        }
    }

    #[test]
    fn the_code_of_a_body_leaves_out_its_name() {
        let t = b"#define M(a, b) f(a)\nint g(void) { h(); }\n";
        assert_eq!(code_of(t, 0, 20), (15, 20));
        assert_eq!(code_of(t, 33, 41), (34, 40));
        assert_eq!(&t[34..40], b" h(); ");
        // Out-of-range or empty ends give an empty range, never a panic.
        assert_eq!(code_of(t, 30, 10), (10, 10));
        assert_eq!(code_of(t, 40, 500), (41, 41));
    }

    #[test]
    fn unbalanced_braces_leave_nothing_out() {
        assert!(blocks(b"void f(void) { if (x) {\n}\n").is_empty());
        assert!(blocks(b"}\nvoid f(void) { }\n").is_empty());
        // Two arms that each open a block, closed once after `#endif`.
        let arms = b"void f(void)\n{\n#ifdef A\n\tif (a) {\n#else\n\tif (b) {\n#endif\n\t}\n}\n";
        assert!(blocks(arms).is_empty());
    }

    #[test]
    fn bodies_that_mention_a_word_or_are_forced_are_kept() {
        let t =
            b"void a(void) { kthread_use_mm(m); }\nvoid b(void) { c(); }\nvoid d(void) { zq(); }\n";
        let all = blocks(t);
        let keep = KeepWords::new(["use_mm"]);
        let out = elided(t, &all, &keep, &[all[2].key]);
        assert_eq!(out, [all[1]]);
        let zq = KeepWords::new(["zq"]);
        assert_eq!(mentioning(t, &all, |b| zq.any_in(b)), [all[2].key]);
        let mut p = t.to_vec();
        blank(&mut p, &out);
        assert_eq!(&p[..], &b"void a(void) { kthread_use_mm(m); }\nvoid b(void) {      }\nvoid d(void) { zq(); }\n"[..]);
    }
}
