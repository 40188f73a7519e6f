//! `--format html`: one self-contained page (no network): a summary table,
//! then every site with its source excerpt, its findings, and a picture of
//! each chain drawn as inline SVG, from the origin down to the borrow, in
//! the colour of the reference the chain holds.

use super::position;
use crate::api::RefKind;
use crate::report::{Chain, Loc, Report, Site, Verdict};
use std::fmt::Write;

/// Lines of source shown around a site.
const EXCERPT_CONTEXT: u32 = 3;
/// Size of one step's box in a chain picture.
const BOX_W: usize = 860;
const BOX_H: usize = 46;
const GAP: usize = 22;
/// Longest note shown in a box; the full note is in the list below it.
const BOX_NOTE_CHARS: usize = 120;

/// Escapes text for HTML (and SVG) content and attributes.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The colour of a reference kind.
fn colour(r: RefKind) -> &'static str {
    match r {
        RefKind::MmUsers => "#1a7f37",
        RefKind::Owner => "#0969da",
        RefKind::MmCount => "#bc4c00",
        RefKind::None => "#cf222e",
        RefKind::Unknown => "#6e7781",
        RefKind::NotBorrowed => "#8c959f",
        RefKind::Permanent => "#8250df",
    }
}

const STYLE: &str = "
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #1f2328; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin: 0 0 6px; }
table { border-collapse: collapse; margin: 12px 0 28px; }
th, td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; }
th { background: #f6f8fa; }
code, pre { font: 12.5px/1.4 ui-monospace, monospace; }
pre.excerpt { background: #f6f8fa; padding: 8px; overflow-x: auto; }
pre.excerpt .hit { background: #fff8c5; display: inline-block; width: 100%; }
section.site { border: 1px solid #d0d7de; border-radius: 6px; padding: 12px 16px; margin: 0 0 20px; }
.verdict { font-weight: 600; padding: 1px 6px; border-radius: 4px; color: #fff; }
.verdict.ok { background: #1a7f37; } .verdict.wrong { background: #cf222e; }
.verdict.suspect { background: #9a6700; } .verdict.unresolved { background: #6e7781; }
details.chain { margin: 8px 0; } details.chain > summary { cursor: pointer; font-weight: 600; }
ol.steps { font-size: 12.5px; } .legend span { margin-right: 14px; }
.note { color: #57606a; }
";

/// Renders the whole report as one HTML page.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>mmaudit: {root}</title><style>{STYLE}</style></head><body>\n\
         <h1>mmaudit report: <code>{root}</code></h1>\n",
        root = esc(&report.root)
    );
    let s = &report.stats;
    let _ = writeln!(
        out,
        "<p class=\"stats\">{} borrow sites, {} with findings; {} files walked, {} parsed.</p>",
        s.sites, s.findings, s.files_walked, s.files_parsed
    );
    out.push_str("<p class=\"legend\">Reference held by a path: ");
    for r in [
        RefKind::MmUsers,
        RefKind::Owner,
        RefKind::MmCount,
        RefKind::None,
        RefKind::Unknown,
        RefKind::NotBorrowed,
        RefKind::Permanent,
    ] {
        let _ = write!(
            out,
            "<span><svg width=\"12\" height=\"12\"><rect width=\"12\" height=\"12\" fill=\"{}\"/></svg> {}</span>",
            colour(r),
            r.as_str()
        );
    }
    out.push_str("</p>\n");
    summary_table(report, &mut out);
    for (i, site) in report.sites.iter().enumerate() {
        site_section(report, i, site, &mut out);
    }
    // Counts what the browser built: a check for tests and a sanity line.
    out.push_str(
        "<p id=\"rendered\"></p><script>document.getElementById('rendered').textContent = \
         'rendered: ' + document.querySelectorAll('section.site').length + ' sites, ' + \
         document.querySelectorAll('svg.chain').length + ' chain pictures';</script>\n",
    );
    out.push_str("</body></html>\n");
    out
}

fn verdict_badge(v: Verdict) -> String {
    format!("<span class=\"verdict {0}\">{0}</span>", v.as_str())
}

fn summary_table(report: &Report, out: &mut String) {
    out.push_str(
        "<table id=\"summary\"><thead><tr><th>verdict</th><th>site</th><th>function</th>\
         <th>mm</th><th>reference</th><th>findings</th></tr></thead><tbody>\n",
    );
    for (i, site) in report.sites.iter().enumerate() {
        let (file, line, col) = position(report, site.loc);
        let findings: Vec<String> = site
            .findings
            .iter()
            .map(|r| format!("{} {}", r.code(), r.name()))
            .collect();
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td><a href=\"#site-{i}\">{}:{line}:{col}</a></td><td>{}</td>\
             <td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            verdict_badge(site.verdict),
            esc(file),
            esc(&function_label(site)),
            esc(&site.mm),
            site.reference.as_str(),
            esc(&findings.join(", "))
        );
    }
    out.push_str("</tbody></table>\n");
}

fn function_label(site: &Site) -> String {
    match (&site.function, &site.macro_name) {
        (Some(f), Some(m)) => format!("{f}() via macro {m}"),
        (Some(f), None) => format!("{f}()"),
        (None, Some(m)) => format!("macro {m}"),
        (None, None) => "-".into(),
    }
}

fn site_section(report: &Report, i: usize, site: &Site, out: &mut String) {
    let (file, line, col) = position(report, site.loc);
    let _ = writeln!(
        out,
        "<section class=\"site\" id=\"site-{i}\" data-verdict=\"{}\">\n<h2>{} <code>{}:{line}:{col}</code> {}</h2>",
        site.verdict.as_str(),
        verdict_badge(site.verdict),
        esc(file),
        esc(&function_label(site))
    );
    for r in &site.findings {
        let _ = writeln!(
            out,
            "<p class=\"finding\"><b>{} {}</b>: {}</p>",
            r.code(),
            r.name(),
            esc(&super::gcc::finding_message(site, *r))
        );
    }
    excerpt(report, site.loc, out);
    for (n, chain) in site.chains.iter().enumerate() {
        let open = if chain.reference.is_bad() || site.chains.len() <= 3 {
            " open"
        } else {
            ""
        };
        let via = chain
            .via
            .as_ref()
            .map(|v| format!(" (from {}())", esc(&v.function)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "<details class=\"chain\" data-reference=\"{r}\"{open}><summary style=\"color:{c}\">path {}: {r}{via}</summary>",
            n + 1,
            r = chain.reference.as_str(),
            c = colour(chain.reference)
        );
        chain_svg(report, chain, out);
        out.push_str("<ol class=\"steps\">");
        for st in &chain.steps {
            let (f, l, _) = position(report, st.loc);
            let _ = write!(
                out,
                "<li><code>{}:{l}</code> {}</li>",
                esc(f),
                esc(&st.note)
            );
        }
        out.push_str("</ol></details>\n");
    }
    for g in &site.guarantees {
        let (f, l, _) = position(report, g.loc);
        let _ = writeln!(
            out,
            "<p class=\"guarantee\"><b>guarantee {}</b> ({}): {} <code>{}:{l}</code></p>",
            g.kind.as_str(),
            if g.effective {
                "holds"
            } else {
                "does not hold"
            },
            esc(&g.note),
            esc(f)
        );
    }
    for c in site.comments.iter().chain(&site.contradiction) {
        let (f, l, _) = position(report, c.loc);
        let _ = writeln!(
            out,
            "<p class=\"comment\"><b>comment</b> ({}) <code>{}:{l}</code>: <q>{}</q></p>",
            c.place.as_str(),
            esc(f),
            esc(&c.text)
        );
    }
    if let Some(fix) = &site.fix {
        let _ = writeln!(out, "<p class=\"fix\"><b>fix:</b> {}</p>", esc(fix));
    }
    out.push_str("</section>\n");
}

fn excerpt(report: &Report, loc: Loc, out: &mut String) {
    let f = &report.files[loc.file as usize];
    let (line, _) = f.lines.line_col(loc.offset);
    let last = f.lines.line_count();
    out.push_str("<pre class=\"excerpt\">");
    for l in line.saturating_sub(EXCERPT_CONTEXT).max(1)..=(line + EXCERPT_CONTEXT).min(last) {
        let text = esc(&f.line_text(l).replace('\t', "    "));
        if l == line {
            let _ = writeln!(out, "<span class=\"hit\">{l:>5} | {text}</span>");
        } else {
            let _ = writeln!(out, "{l:>5} | {text}");
        }
    }
    out.push_str("</pre>\n");
}

/// One box per step, the origin at the top and the site at the bottom,
/// joined by arrows in the chain's colour.
fn chain_svg(report: &Report, chain: &Chain, out: &mut String) {
    let c = colour(chain.reference);
    let n = chain.steps.len();
    let h = n * BOX_H + n.saturating_sub(1) * GAP + 4;
    let _ = write!(
        out,
        "<svg class=\"chain\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
         viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"path holding {r}\">\
         <defs><marker id=\"arrow-{r}\" markerWidth=\"10\" markerHeight=\"8\" refX=\"9\" refY=\"4\" \
         orient=\"auto\"><path d=\"M0,0 L10,4 L0,8 z\" fill=\"{c}\"/></marker></defs>",
        w = BOX_W + 4,
        r = chain.reference.as_str()
    );
    for (i, st) in chain.steps.iter().rev().enumerate() {
        let y = 2 + i * (BOX_H + GAP);
        let (f, l, _) = position(report, st.loc);
        let role = if i == 0 {
            "origin"
        } else if i == n - 1 {
            "site"
        } else {
            "step"
        };
        let (fill, width) = match role {
            "origin" | "site" => (format!("{c}22"), 2.5),
            _ => ("#ffffff".to_string(), 1.2),
        };
        let note: String = if st.note.chars().count() > BOX_NOTE_CHARS {
            let cut: String = st.note.chars().take(BOX_NOTE_CHARS).collect();
            format!("{cut}...")
        } else {
            st.note.clone()
        };
        let _ = write!(
            out,
            "<g class=\"step {role}\"><rect x=\"2\" y=\"{y}\" width=\"{BOX_W}\" height=\"{BOX_H}\" rx=\"6\" \
             fill=\"{fill}\" stroke=\"{c}\" stroke-width=\"{width}\"/>\
             <text x=\"12\" y=\"{t1}\" font-family=\"monospace\" font-size=\"12\" fill=\"#57606a\">{role} · {}:{l}</text>\
             <text x=\"12\" y=\"{t2}\" font-family=\"sans-serif\" font-size=\"13\" fill=\"#1f2328\">{}</text></g>",
            esc(f),
            esc(&note),
            t1 = y + 17,
            t2 = y + 36
        );
        if i + 1 < n {
            let _ = write!(
                out,
                "<line x1=\"40\" y1=\"{}\" x2=\"40\" y2=\"{}\" stroke=\"{c}\" stroke-width=\"2\" \
                 marker-end=\"url(#arrow-{})\"/>",
                y + BOX_H,
                y + BOX_H + GAP - 2,
                chain.reference.as_str()
            );
        }
    }
    out.push_str("</svg>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
