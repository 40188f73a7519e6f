//! The default report for people: rustc-style, with the source line of the
//! site and of every step of each chain. Colour only when asked for (the
//! CLI asks on a terminal, unless `NO_COLOR` is set).

use super::position;
use crate::report::{Chain, Loc, Pairing, Report, Severity, Site, SiteKind, Verdict};
use anstyle::AnsiColor;
use std::fmt::Write;

/// How many chains are shown in full per site; the rest are summarized.
const MAX_CHAINS_SHOWN: usize = 6;
/// How many summarized chains get a line of their own.
const MAX_ONE_LINERS: usize = 40;

/// The styles of the report: bold, and bold in a colour.
const BOLD: anstyle::Style = anstyle::Style::new().bold();
const BLUE: anstyle::Style = AnsiColor::Blue.on_default().bold();
const GREEN: anstyle::Style = AnsiColor::Green.on_default().bold();
const RED: anstyle::Style = AnsiColor::Red.on_default().bold();
const YELLOW: anstyle::Style = AnsiColor::Yellow.on_default().bold();
const CYAN: anstyle::Style = AnsiColor::Cyan.on_default().bold();

struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, style: anstyle::Style, s: &str) -> String {
        if self.color {
            format!("{}{s}{}", style.render(), style.render_reset())
        } else {
            s.to_string()
        }
    }
    fn bold(&self, s: &str) -> String {
        self.paint(BOLD, s)
    }
    fn blue(&self, s: &str) -> String {
        self.paint(BLUE, s)
    }
    fn verdict(&self, v: Verdict) -> String {
        match v {
            Verdict::Ok => self.paint(GREEN, "ok"),
            Verdict::Wrong => self.paint(RED, "wrong"),
            Verdict::Suspect | Verdict::Unresolved => self.paint(YELLOW, v.as_str()),
        }
    }
}

/// Renders the sites with findings (all sites with `all`), then a summary.
pub fn render(report: &Report, all: bool, color: bool) -> String {
    let mut out = render_sites(report, all, color);
    out.push_str(&summary(report, color));
    out
}

/// Renders the sites with findings (all sites with `all`), no summary.
pub fn render_sites(report: &Report, all: bool, color: bool) -> String {
    let st = Style { color };
    let mut out = String::new();
    for site in report
        .sites
        .iter()
        .filter(|s| all || !s.findings.is_empty())
    {
        render_site(report, site, &st, &mut out);
    }
    out
}

/// The closing summary lines.
pub fn summary(report: &Report, color: bool) -> String {
    let st = Style { color };
    let mut out = String::new();
    let s = &report.stats;
    let wrong = report
        .sites
        .iter()
        .filter(|x| x.verdict == Verdict::Wrong)
        .count();
    let unresolved = report
        .sites
        .iter()
        .filter(|x| x.verdict == Verdict::Unresolved)
        .count();
    let suspect = report
        .sites
        .iter()
        .filter(|x| x.verdict == Verdict::Suspect)
        .count();
    let _ = writeln!(
        out,
        "{}: {} borrow site{}, {} with findings ({wrong} wrong, {suspect} suspect, {unresolved} unresolved); {} files walked, {} parsed, {:.2}s",
        st.bold("mmaudit"),
        s.sites,
        if s.sites == 1 { "" } else { "s" },
        s.findings,
        s.files_walked,
        s.files_parsed,
        s.elapsed_ms as f64 / 1000.0
    );
    if s.baselined > 0 {
        let _ = writeln!(
            out,
            "{} {} findings recorded in the baseline are not shown",
            st.bold("note:"),
            s.baselined
        );
    }
    if !s.warnings.is_empty() {
        let _ = writeln!(
            out,
            "{} {} files are not UTF-8; their invalid bytes were read as `?`",
            st.bold("note:"),
            s.warnings.len()
        );
    }
    if !s.skipped.is_empty() {
        let _ = writeln!(
            out,
            "{} {} files were not audited (links, binaries, unreadable or unparsable files: see `stats.skipped` in --format json)",
            st.bold("note:"),
            s.skipped.len()
        );
    }
    out
}

fn render_site(report: &Report, site: &Site, st: &Style, out: &mut String) {
    let (file, line, col) = position(report, site.loc);
    let head = match site.findings.first() {
        Some(rule) => format!(
            "{}[{}]: {}",
            match site.finding_severity(*rule) {
                Severity::Note => st.paint(CYAN, "note"),
                other => st.paint(YELLOW, other.as_str()),
            },
            rule.code(),
            st.bold(&crate::render::gcc::finding_message(site, *rule))
        ),
        None => format!(
            "{}: `{}({})` is {}",
            st.paint(GREEN, "ok"),
            site.api,
            site.mm,
            st.verdict(site.verdict)
        ),
    };
    let _ = writeln!(out, "{head}");
    let fun = site
        .function
        .as_deref()
        .map(|f| format!(" in `{f}()`"))
        .unwrap_or_default();
    let _ = writeln!(out, "  {} {file}:{line}:{col}{fun}", st.blue("-->"));
    snippet(
        report,
        site.loc,
        &format!(
            "{} here: {} ({})",
            match site.kind {
                SiteKind::Window => "borrowed",
                SiteKind::Access => "accessed",
            },
            st.verdict(site.verdict),
            site.reference.as_str()
        ),
        st,
        out,
    );
    for rule in site.findings.iter().skip(1) {
        let _ = writeln!(
            out,
            "   {} also [{}]: {}",
            st.blue("="),
            rule.code(),
            crate::render::gcc::finding_message(site, *rule)
        );
    }
    render_chains(report, &site.chains, st, out);
    for g in &site.guarantees {
        let (file, line, _) = position(report, g.loc);
        let _ = writeln!(
            out,
            "   {} {} {} ({}): {} ({file}:{line})",
            st.blue("="),
            st.bold("guarantee:"),
            g.kind.as_str(),
            if g.effective {
                "holds"
            } else {
                "does not hold"
            },
            g.note
        );
    }
    if let Some(l) = site.dropped_in_window {
        let (file, line, _) = position(report, l);
        let _ = writeln!(
            out,
            "   {} {} {file}:{line}: the mm_users reference is dropped here, before the window is closed",
            st.blue("="),
            st.bold("dropped:"),
        );
    }
    if let Pairing::Unpaired { at: Some(l), .. } = &site.pairing {
        let (file, line, _) = position(report, *l);
        let _ = writeln!(
            out,
            "   {} {} {file}:{line}: the window is still open here",
            st.blue("="),
            st.bold("left open:"),
        );
    }
    for c in &site.comments {
        comment_line(report, "comment:", c, "", st, out);
    }
    if let Some(c) = &site.contradiction {
        comment_line(
            report,
            "contradicted:",
            c,
            ", yet the mm reaches this borrow",
            st,
            out,
        );
    }
    if let Some(fix) = &site.fix {
        let _ = writeln!(out, "   {} {} {fix}", st.blue("="), st.bold("help:"));
    }
    out.push('\n');
}

/// `= label file:line (place): "text"` and a suffix.
fn comment_line(
    report: &Report,
    label: &str,
    c: &crate::report::LifetimeComment,
    suffix: &str,
    st: &Style,
    out: &mut String,
) {
    let (file, line, _) = position(report, c.loc);
    let _ = writeln!(
        out,
        "   {} {} {file}:{line} ({}): \"{}\"{suffix}",
        st.blue("="),
        st.bold(label),
        c.place.as_str(),
        crate::render::gcc::shorten(&c.text, 160)
    );
}

/// The chains of one site, grouped so that a site with many callers stays
/// readable: the steps every path shares are printed once; paths that hold
/// nothing good are printed in full (up to [`MAX_CHAINS_SHOWN`]); when there
/// are more, the good ones get one line each (up to [`MAX_ONE_LINERS`]).
fn render_chains(report: &Report, chains: &[Chain], st: &Style, out: &mut String) {
    let shared = if chains.len() > 1 {
        shared_prefix(chains)
    } else {
        0
    };
    if shared > 0 {
        let _ = writeln!(out, "   {} all {} paths begin:", st.blue("="), chains.len());
        render_steps(report, &chains[0].steps[..shared], st, out);
    }
    let fits = chains.len() <= MAX_CHAINS_SHOWN;
    let (full, brief): (Vec<_>, Vec<_>) = chains
        .iter()
        .enumerate()
        .partition(|(_, c)| fits || c.reference.is_bad());
    for &(i, chain) in full.iter().take(MAX_CHAINS_SHOWN) {
        let _ = writeln!(
            out,
            "   {} path {}: {}",
            st.blue("="),
            i + 1,
            st.bold(chain.reference.as_str())
        );
        render_steps(report, &chain.steps[shared..], st, out);
    }
    let mut brief: Vec<_> = brief;
    // Bad paths past the limit are summarized too, first.
    brief.splice(0..0, full.iter().skip(MAX_CHAINS_SHOWN).copied());
    if brief.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "   {} {} more paths ({}), one line each:",
        st.blue("="),
        brief.len(),
        count_by_reference(brief.iter().map(|(_, c)| *c))
    );
    for &(i, chain) in brief.iter().take(MAX_ONE_LINERS) {
        // The first step after the shared ones says which way the path
        // went (usually a caller); the last says what it found.
        let tail = &chain.steps[shared..];
        let (Some(first), Some(last)) = (tail.first(), tail.last()) else {
            continue;
        };
        let (file, line, _) = position(report, first.loc);
        let origin = if tail.len() > 1 {
            format!(" -> {}", last.note)
        } else {
            String::new()
        };
        // The far-end caller tells paths apart best; the first step says
        // which way the path left the shared part.
        let way = match &chain.via {
            Some(v) if v.loc != first.loc => {
                let (vfile, vline, _) = position(report, v.loc);
                format!(
                    "from `{}()` at {vfile}:{vline} (via {file}:{line})",
                    v.function
                )
            }
            _ => format!("{file}:{line}: {}", first.note),
        };
        let _ = writeln!(
            out,
            "     {} path {}: {}: {way}{origin}",
            st.blue("|"),
            i + 1,
            chain.reference.as_str(),
        );
    }
    if brief.len() > MAX_ONE_LINERS {
        let _ = writeln!(
            out,
            "     {} and {} more (all in --format json)",
            st.blue("|"),
            brief.len() - MAX_ONE_LINERS
        );
    }
}

/// How many leading steps every chain has in common, leaving at least one
/// step of each chain to itself.
fn shared_prefix(chains: &[Chain]) -> usize {
    let shortest = chains.iter().map(|c| c.steps.len()).min().unwrap_or(0);
    (0..shortest.saturating_sub(1))
        .take_while(|&i| chains.iter().all(|c| c.steps[i] == chains[0].steps[i]))
        .count()
}

/// `3 mm_users, 1 owner`, in order of first appearance.
fn count_by_reference<'a>(chains: impl Iterator<Item = &'a Chain>) -> String {
    let mut by_ref: Vec<(&str, usize)> = Vec::new();
    for c in chains {
        match by_ref.iter_mut().find(|(r, _)| *r == c.reference.as_str()) {
            Some((_, n)) => *n += 1,
            None => by_ref.push((c.reference.as_str(), 1)),
        }
    }
    let parts: Vec<String> = by_ref.iter().map(|(r, n)| format!("{n} {r}")).collect();
    parts.join(", ")
}

fn render_steps(report: &Report, steps: &[crate::report::Step], st: &Style, out: &mut String) {
    for step in steps {
        let (file, line, _) = position(report, step.loc);
        let _ = writeln!(out, "     {} {file}:{line}: {}", st.blue("|"), step.note);
        let text = source_line(report, step.loc);
        if !text.is_empty() {
            let _ = writeln!(out, "     {}     {}", st.blue("|"), text.trim());
        }
    }
}

/// Longest source line shown as is; longer ones are cut around the column.
const MAX_LINE_CHARS: usize = 200;

/// The line's text for display (tabs widened) and the display column of
/// byte column `col`, cut to a window around it when the line is long.
fn display_line(text: &str, col: usize) -> (String, usize) {
    let mut byte = col.saturating_sub(1).min(text.len());
    while !text.is_char_boundary(byte) {
        byte -= 1;
    }
    let widen = |s: &str| s.replace('\t', "    ");
    let (before, after) = text.split_at(byte);
    let (before, after) = (widen(before), widen(after));
    let (nb, na) = (before.chars().count(), after.chars().count());
    if nb + na <= MAX_LINE_CHARS {
        return (format!("{before}{after}"), nb);
    }
    let keep_before = nb.min(MAX_LINE_CHARS / 3);
    let head: String = before.chars().skip(nb - keep_before).collect();
    let tail: String = after.chars().take(MAX_LINE_CHARS - keep_before).collect();
    let lead = if keep_before < nb { "..." } else { "" };
    let trail = if tail.chars().count() < na { "..." } else { "" };
    (
        format!("{lead}{head}{tail}{trail}"),
        lead.len() + keep_before,
    )
}

fn source_line(report: &Report, loc: Loc) -> String {
    let f = &report.files[loc.file as usize];
    let (line, col) = f.lines.line_col(loc.offset);
    display_line(f.line_text(line), col as usize).0
}

fn snippet(report: &Report, loc: Loc, label: &str, st: &Style, out: &mut String) {
    let f = &report.files[loc.file as usize];
    let (line, col) = f.lines.line_col(loc.offset);
    let text = f.line_text(line);
    let width = line.to_string().len();
    let pad = " ".repeat(width);
    let (shown, indent) = display_line(text, col as usize);
    let rest: String = shown.chars().skip(indent).collect();
    let callee_len = rest.find('(').unwrap_or(1).max(1);
    let _ = writeln!(out, "{pad} {}", st.blue("|"));
    let _ = writeln!(
        out,
        "{} {} {shown}",
        st.blue(&line.to_string()),
        st.blue("|")
    );
    let _ = writeln!(
        out,
        "{pad} {} {}{} {label}",
        st.blue("|"),
        " ".repeat(indent),
        st.paint(YELLOW, &"^".repeat(callee_len))
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_cut_around_the_column() {
        let line = format!("{}kthread_use_mm(mm);{}", "{".repeat(600), "}".repeat(600));
        let (shown, at) = display_line(&line, 601);
        assert!(shown.chars().count() <= MAX_LINE_CHARS + 6);
        assert!(
            shown
                .chars()
                .skip(at)
                .collect::<String>()
                .starts_with("kthread_use_mm(")
        );
        let (short, at) = display_line("\tx = f(é);", 2);
        assert_eq!((short.as_str(), at), ("    x = f(é);", 4));
        // A column inside a multi-byte character does not panic.
        let _ = display_line("aé", 3);
    }

    #[test]
    fn colour_is_bold_then_colour_then_reset() {
        let on = Style { color: true };
        assert_eq!(on.bold("a"), "\x1b[1ma\x1b[0m");
        assert_eq!(on.blue("|"), "\x1b[1m\x1b[34m|\x1b[0m");
        assert_eq!(on.verdict(Verdict::Wrong), "\x1b[1m\x1b[31mwrong\x1b[0m");
        assert_eq!(Style { color: false }.blue("|"), "|");
    }
}
