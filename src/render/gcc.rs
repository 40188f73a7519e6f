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
        Rule::BorrowWithoutMmUsers => format!(
            "`{}({})`{via} borrows an mm that holds {}, not mm_users, on {}",
            s.api,
            s.mm,
            match s.reference {
                crate::rules::RefKind::MmCount => "only mm_count",
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
        Rule::MismatchedUnuse => match &s.pairing {
            Pairing::Mismatched { other, .. } => format!(
                "`{}({})`{via} is ended with an unuse of `{other}`",
                s.api, s.mm
            ),
            _ => String::new(),
        },
    }
}

/// Renders one line per finding.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for s in &report.sites {
        let (file, line, col) = position(report, s.loc);
        for &rule in &s.findings {
            out.push_str(&format!(
                "{file}:{line}:{col}: warning: {} [{}]\n",
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
