//! `--format json`: the stable machine interface.
//!
//! The wire types below are the contract: fields may be added, never
//! renamed or removed. `version` changes only if that promise is broken.

use super::position;
use crate::report::{Pairing, Report, Site, Stats};
use serde::Serialize;

/// The version of the JSON contract.
pub const VERSION: u32 = 1;

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    root: &'a str,
    sites: Vec<JsonSite<'a>>,
    stats: &'a Stats,
}

#[derive(Serialize)]
struct JsonSite<'a> {
    file: &'a str,
    line: u32,
    column: u32,
    function: Option<&'a str>,
    #[serde(rename = "macro")]
    macro_name: Option<&'a str>,
    api: &'a str,
    mm: &'a str,
    verdict: &'a str,
    reference: &'a str,
    guarantees: Vec<String>,
    documented: bool,
    paths: Vec<JsonPath<'a>>,
    fix: Option<&'a str>,
    // Added fields (allowed by the contract):
    /// Where the borrow is inside the macro body, for macro sites.
    macro_site: Option<JsonLoc<'a>>,
    /// "paired" | "unpaired" | "mismatched" | "adopted".
    pairing: &'a str,
    /// Where the window is closed (or left open), if known.
    unuse: Option<JsonLoc<'a>>,
    /// Rule names of the findings at this site.
    findings: Vec<&'a str>,
    /// "error" (wrong), "warning", "note" (a guarantee a comment proves)
    /// or "none".
    severity: &'a str,
    /// Every guarantee in `guarantees`, with its evidence and whether it
    /// holds (`effective`).
    guarantee_details: Vec<JsonGuarantee<'a>>,
    /// The lifetime comments found (what `documented` is based on).
    comments: Vec<JsonComment<'a>>,
    /// A comment that the flow into the borrow contradicts.
    contradiction: Option<JsonComment<'a>>,
    /// Where an mm_users reference on the borrowed mm is dropped before
    /// the window is closed.
    dropped_in_window: Option<JsonLoc<'a>>,
    /// `window` (use .. unuse) or `access` (one call).
    kind: &'static str,
    /// Which kind of access: `window`, `gup`, `remote_vm`, ...
    family: &'static str,
}

#[derive(Serialize)]
struct JsonGuarantee<'a> {
    kind: &'a str,
    effective: bool,
    file: &'a str,
    line: u32,
    column: u32,
    note: &'a str,
}

#[derive(Serialize)]
struct JsonComment<'a> {
    /// "borrow" | "store" | "field" | "macro".
    place: &'a str,
    file: &'a str,
    line: u32,
    column: u32,
    text: &'a str,
}

#[derive(Serialize)]
struct JsonLoc<'a> {
    file: &'a str,
    line: u32,
    column: u32,
}

#[derive(Serialize)]
struct JsonPath<'a> {
    reference: &'a str,
    steps: Vec<JsonStep<'a>>,
    // Added fields (allowed by the contract):
    /// The outermost caller that passes the mm down the chain.
    via: Option<JsonVia<'a>>,
}

#[derive(Serialize)]
struct JsonVia<'a> {
    function: &'a str,
    file: &'a str,
    line: u32,
    column: u32,
}

#[derive(Serialize)]
struct JsonStep<'a> {
    file: &'a str,
    line: u32,
    note: &'a str,
    column: u32,
    // Added fields (allowed by the contract):
    /// What kind of evidence the step is: "read", "assign", "store",
    /// "parameter", "call", "macro", "guard", "get", "grab", "put",
    /// "teardown", "owner", "null", "not_borrowed", "exclusion",
    /// "unknown" or "summary".
    kind: &'a str,
}

fn loc<'a>(report: &'a Report, l: crate::report::Loc) -> JsonLoc<'a> {
    let (file, line, column) = position(report, l);
    JsonLoc { file, line, column }
}

fn site<'a>(report: &'a Report, s: &'a Site) -> JsonSite<'a> {
    let (file, line, column) = position(report, s.loc);
    let unuse = match &s.pairing {
        Pairing::Paired(l)
        | Pairing::Mismatched { at: l, .. }
        | Pairing::Unpaired { at: Some(l), .. } => Some(loc(report, *l)),
        _ => None,
    };
    JsonSite {
        file,
        line,
        column,
        function: s.function.as_deref(),
        macro_name: s.macro_name.as_deref(),
        api: s.api,
        mm: &s.mm,
        verdict: s.verdict.as_str(),
        reference: s.reference.as_str(),
        guarantees: s
            .guarantees
            .iter()
            .map(|g| g.kind.as_str().to_string())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect(),
        documented: s.documented(),
        paths: s
            .chains
            .iter()
            .map(|c| JsonPath {
                reference: c.reference.as_str(),
                steps: c
                    .steps
                    .iter()
                    .map(|st| {
                        let (file, line, column) = position(report, st.loc);
                        JsonStep {
                            file,
                            line,
                            note: &st.note,
                            column,
                            kind: st.kind.as_str(),
                        }
                    })
                    .collect(),
                via: c.via.as_ref().map(|v| {
                    let (file, line, column) = position(report, v.loc);
                    JsonVia {
                        function: &v.function,
                        file,
                        line,
                        column,
                    }
                }),
            })
            .collect(),
        fix: s.fix.as_deref(),
        macro_site: s
            .macro_loc
            .filter(|_| s.function.is_some())
            .map(|l| loc(report, l)),
        pairing: s.pairing.as_str(),
        unuse,
        findings: s.findings.iter().map(|r| r.name()).collect(),
        severity: s.severity().as_str(),
        guarantee_details: s
            .guarantees
            .iter()
            .map(|g| {
                let (file, line, column) = position(report, g.loc);
                JsonGuarantee {
                    kind: g.kind.as_str(),
                    effective: g.effective,
                    file,
                    line,
                    column,
                    note: &g.note,
                }
            })
            .collect(),
        comments: s.comments.iter().map(|c| comment(report, c)).collect(),
        contradiction: s.contradiction.as_ref().map(|c| comment(report, c)),
        dropped_in_window: s.dropped_in_window.map(|l| loc(report, l)),
        kind: s.kind.as_str(),
        family: s.family.as_str(),
    }
}

fn comment<'a>(report: &'a Report, c: &'a crate::report::LifetimeComment) -> JsonComment<'a> {
    let (file, line, column) = position(report, c.loc);
    JsonComment {
        place: c.place.as_str(),
        file,
        line,
        column,
        text: &c.text,
    }
}

/// Renders the whole report (every site, ok ones included).
pub fn render(report: &Report) -> String {
    let out = JsonReport {
        version: VERSION,
        root: &report.root,
        sites: report.sites.iter().map(|s| site(report, s)).collect(),
        stats: &report.stats,
    };
    let mut s = serde_json::to_string_pretty(&out).expect("report serializes");
    s.push('\n');
    s
}
