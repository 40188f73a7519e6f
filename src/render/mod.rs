//! Renderers: turn a [`Report`] into text. Renderers never analyze; they
//! only resolve locations to `file:line:col` and format.

pub mod gcc;
pub mod html;
pub mod human;
pub mod json;
pub mod sarif;

use crate::report::{Loc, Report};

/// `(path, line, column)` of a location.
pub fn position(report: &Report, loc: Loc) -> (&str, u32, u32) {
    let f = &report.files[loc.file as usize];
    let (l, c) = f.lines.line_col(loc.offset);
    (&f.path, l, c)
}
