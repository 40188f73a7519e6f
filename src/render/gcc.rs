//! `--format gcc`: one `file:line:col: warning: message [rule]` line per
//! finding, as compilers print them, for editors and CI log parsers.

use super::position;
use crate::report::{Pairing, Report, Rule, Site};

fn message(s: &Site, rule: Rule) -> String {
    let via = s
        .macro_name
        .as_ref()
        .map(|m| format!(" (in macro `{m}`)"))
        .unwrap_or_default();
    match rule {
        Rule::BorrowWithoutMmUsers | Rule::AccessWithoutMmUsers => format!(
            "`{}({})`{via} {} an mm that holds {}, not mm_users, on {}",
            s.api,
            s.mm,
            match rule {
                Rule::BorrowWithoutMmUsers => "borrows",
                _ => "reaches into",
            },
            match s.reference {
                crate::api::RefKind::MmCount => "only mm_count",
                _ => "no reference",
            },
            s.chains.first().and_then(|c| c.via.as_ref()).map_or(
                "some path".to_string(),
                |v| format!("the path from `{}()`", v.function)
            )
        ),
        Rule::UnresolvedOrigin => format!(
            "`{}({})`{via}: the origin of the mm could not be followed",
            s.api, s.mm
        ),
        Rule::UnpairedBorrow => match &s.pairing {
            Pairing::Unpaired { why, .. } => format!(
                "`{}({})`{via} is not ended on every path: {why}",
                s.api, s.mm
            ),
            _ => String::new(),
        },
        Rule::UnprovenGuarantee => {
            let kinds: Vec<&str> = s
                .guarantees
                .iter()
                .filter(|g| g.effective)
                .map(|g| g.kind.as_str())
                .collect();
            format!(
                "`{}({})`{via} holds no mm_users reference and relies on {} ({})",
                s.api,
                s.mm,
                kinds.join(" and "),
                if s.documented() {
                    "documented"
                } else {
                    "no comment proves it"
                }
            )
        }
        Rule::ContradictingComment => match &s.contradiction {
            Some(c) => format!(
                "`{}({})`{via} borrows an mm whose {} comment says \"{}\"",
                s.api,
                s.mm,
                c.place.as_str(),
                shorten(&c.text, 100)
            ),
            None => String::new(),
        },
        Rule::DroppedInWindow => format!(
            "`{}({})`{via}: an mm_users reference on it is dropped before the window is closed",
            s.api, s.mm
        ),
        Rule::MismatchedUnuse => match &s.pairing {
            Pairing::Mismatched { other, .. } => format!(
                "`{}({})`{via} is ended with an unuse of `{other}`",
                s.api, s.mm
            ),
            _ => String::new(),
        },
    }
}

/// `text` cut to at most `max` characters, with an ellipsis.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max).collect();
    format!("{}...", cut.trim_end())
}

/// Renders one line per finding.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for s in &report.sites {
        let (file, line, col) = position(report, s.loc);
        for &rule in &s.findings {
            out.push_str(&format!(
                "{file}:{line}:{col}: {}: {} [{}]\n",
                s.finding_severity(rule).as_str(),
                message(s, rule),
                rule.name()
            ));
        }
    }
    out
}

/// The message of a finding, shared with the human renderer.
pub fn finding_message(s: &Site, rule: Rule) -> String {
    message(s, rule)
}
