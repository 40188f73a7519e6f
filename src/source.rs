//! Source files as the analysis sees them: an id, a path relative to the
//! audited root, the text, and a line index to turn byte offsets into
//! `line:column` for reports.

use std::path::PathBuf;

/// Index of a file in the audit's file table.
pub type FileId = u32;

/// One file that passed the prefilter.
#[derive(Debug)]
pub struct SourceFile {
    /// Path relative to the audited root, with `/` separators.
    pub path: String,
    /// Absolute path, for error messages.
    pub abs_path: PathBuf,
    /// The text, `None` until read: a kept file that no demand has asked
    /// for yet is known by its identifier set only. Files that are not
    /// UTF-8 are decoded lossily: the bytes that matter to mmaudit are
    /// ASCII, and offsets stay exact because invalid bytes are replaced
    /// one for one (see `walk`).
    text: Option<String>,
    /// Byte offset of the start of each line.
    pub lines: LineIndex,
}

impl SourceFile {
    /// Builds a source file and its line index.
    pub fn new(path: String, abs_path: PathBuf, text: String) -> SourceFile {
        let lines = LineIndex::new(&text);
        SourceFile {
            path,
            abs_path,
            text: Some(text),
            lines,
        }
    }

    /// A file whose text is not read yet.
    pub fn unread(path: String, abs_path: PathBuf) -> SourceFile {
        SourceFile {
            path,
            abs_path,
            text: None,
            lines: LineIndex::new(""),
        }
    }

    /// Whether the text has been read.
    pub fn is_read(&self) -> bool {
        self.text.is_some()
    }

    /// The text (empty if not read: only a file that was read is parsed,
    /// and only a parsed file's text is looked at).
    pub fn text(&self) -> &str {
        self.text.as_deref().unwrap_or("")
    }

    /// The text of the 1-based line `line`, without its newline.
    pub fn line_text(&self, line: u32) -> &str {
        let start = self.lines.line_start(line);
        let text = self.text();
        let end = text[start..].find('\n').map_or(text.len(), |e| start + e);
        &text[start..end]
    }
}

/// Byte offsets of line starts, for offset -> (line, column) lookups.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    /// Indexes every line start of `text`.
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        LineIndex { starts }
    }

    /// 1-based line and 1-based column (in bytes) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (u32, u32) {
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let col = offset - self.starts[line - 1] + 1;
        (line as u32, col as u32)
    }

    /// How many lines there are (a last line without newline counts).
    pub fn line_count(&self) -> u32 {
        self.starts.len() as u32
    }

    /// Byte offset where the 1-based line starts.
    pub fn line_start(&self, line: u32) -> usize {
        self.starts[(line.max(1) as usize - 1).min(self.starts.len() - 1)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_map_to_lines_and_columns() {
        let idx = LineIndex::new("ab\ncd\n\nef");
        assert_eq!(idx.line_col(0), (1, 1));
        assert_eq!(idx.line_col(1), (1, 2));
        assert_eq!(idx.line_col(3), (2, 1));
        assert_eq!(idx.line_col(6), (3, 1));
        assert_eq!(idx.line_col(8), (4, 2));
    }

    #[test]
    fn line_text_has_no_newline() {
        let f = SourceFile::new("a.c".into(), "a.c".into(), "x\n  y;\nz".into());
        assert_eq!(f.line_text(2), "  y;");
        assert_eq!(f.line_text(3), "z");
    }
}

/// A file that could not be audited, and why.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Skipped {
    /// Path relative to the root.
    pub file: String,
    /// Why it was skipped.
    pub reason: String,
}
