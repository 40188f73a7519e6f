//! Entry points for the fuzz targets (`fuzz/`) and for the regression test
//! that replays what they found (`tests/hostile.rs`). Each takes arbitrary
//! bytes; the only property checked is that nothing panics or hangs.

use crate::api::ApiTable;
use crate::audit::{Options, audit};
use crate::facts;
use crate::index::Index;
use crate::render;
use crate::report::{Report, Stats};
use crate::source::SourceFile;

/// Renders a report in every format (the renderers must cope too).
fn render_all(report: &Report) {
    let _ = render::human::render(report, true, true);
    let _ = render::json::render(report);
    let _ = render::gcc::render(report);
    let _ = render::sarif::render(report);
    let _ = render::html::render(report);
}

/// The bytes as one C file: decode, parse, extract, analyze, render.
pub fn check_one_file(data: &[u8]) {
    use crate::idents::{Form, IdentSet, key, spans};
    let set = IdentSet::of(data);
    assert_eq!(set, IdentSet::of_plain_scan(data), "the SIMD scan differs");
    // A text of object-like macros only holds nothing, by design.
    spans(data, |s, e| {
        assert!(
            set.holds_nothing() || key(&data[s..e], Form::Word).is_none_or(|k| set.may_hold(k)),
            "identifier at {s} missed"
        );
    });
    let blocks = crate::elide::blocks(data);
    assert!(blocks.windows(2).all(|w| w[0].key < w[1].key));
    assert!(
        blocks
            .iter()
            .all(|b| b.key < data.len() && b.span.0 <= b.span.1 && b.span.1 <= data.len())
    );
    let text = crate::walk::decode(data.to_vec());
    let file = SourceFile::new("fuzz.c".into(), "fuzz.c".into(), text);
    let _ = facts::of_file_leaving_out_all(&file);
    let facts = facts::of_file(&file);
    let mut ix = Index::new(vec![file], vec![Some(facts.unwrap_or_default())]);
    let (sites, _) = crate::analysis::analyze(&ix, &ApiTable::default());
    let report = Report {
        root: "fuzz".into(),
        sites,
        stats: Stats::default(),
        files: ix.take_files(),
    };
    render_all(&report);
}

/// The bytes as a tree of up to four files (split at `\n@@\n`), audited
/// from disk and rendered.
pub fn check_tiny_tree(data: &[u8]) {
    let Ok(dir) = tempfile::tempdir() else { return };
    let names = ["a.c", "inc/b.h", "c.c", "inc/d.h"];
    let _ = std::fs::create_dir_all(dir.path().join("inc"));
    for (i, part) in split(data, b"\n@@\n")
        .into_iter()
        .take(names.len())
        .enumerate()
    {
        let _ = std::fs::write(dir.path().join(names[i]), part);
    }
    let opts = Options {
        jobs: 1,
        ..Options::default()
    };
    if let Ok(report) = audit(dir.path(), &opts) {
        render_all(&report);
    }
}

fn split<'a>(data: &'a [u8], sep: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(p) = memchr::memmem::find(rest, sep) {
        out.push(&rest[..p]);
        rest = &rest[p + sep.len()..];
    }
    out.push(rest);
    out
}
