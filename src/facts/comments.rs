//! Finding comments in C text without a parser: the analysis quotes the
//! ones that talk about an mm's lifetime. String and character literals
//! are skipped so that `"/*"` is not a comment.

use super::Span;

/// The span of every comment in `text`, `/* ... */` and `// ...`, in order.
/// An unterminated block comment runs to the end of the text.
pub fn comment_spans(text: &str) -> Vec<Span> {
    comment_spans_in(text.as_bytes())
}

/// [`comment_spans`] of bytes that need not be UTF-8.
pub fn comment_spans_in(b: &[u8]) -> Vec<Span> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match (b[i], b.get(i + 1)) {
            (b'"' | b'\'', _) => {
                let quote = b[i];
                i += 1;
                while i < b.len() && b[i] != quote && b[i] != b'\n' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            (b'/', Some(b'*')) => {
                let end =
                    memchr::memmem::find(&b[i + 2..], b"*/").map_or(b.len(), |p| i + 2 + p + 2);
                out.push((i, end));
                i = end;
            }
            (b'/', Some(b'/')) => {
                let mut end = i + 2;
                // A backslash at the end of the line continues the comment.
                while let Some(p) = memchr::memchr(b'\n', &b[end..]) {
                    end += p;
                    if b[end - 1] != b'\\' {
                        break;
                    }
                    end += 1;
                }
                if memchr::memchr(b'\n', &b[i..]).is_none() {
                    end = b.len();
                }
                out.push((i, end.min(b.len())));
                i = end;
            }
            _ => i += 1,
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_both_kinds_and_skips_literals() {
        let t = "a = \"/* no */\"; /* one\n * two */ c = '/'; // three\nd;";
        let spans = comment_spans(t);
        assert_eq!(spans.len(), 2);
        assert_eq!(comment_text(&t[spans[0].0..spans[0].1]), "one two");
        assert_eq!(comment_text(&t[spans[1].0..spans[1].1]), "three");
    }

    #[test]
    fn unterminated_comment_runs_to_the_end() {
        let t = "x; /* open";
        assert_eq!(comment_spans(t), vec![(3, 10)]);
        assert_eq!(comment_spans("// last"), vec![(0, 7)]);
    }
}
