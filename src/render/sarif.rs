//! `--format sarif`: SARIF 2.1.0 for code-scanning services. Every rule is
//! listed; each finding is a result with its location, one code flow per
//! chain (site first, origin last) and a fingerprint that survives line
//! shifts (see [`Report::finding_keys`]).

use super::position;
use crate::report::{Loc, Report, Rule, Severity, Site, stable_hash};
use serde_json::{Value, json};

/// Where the schema is published.
pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The SARIF level of a finding.
fn level(site: &Site, rule: Rule) -> &'static str {
    match (rule, site.finding_severity(rule)) {
        (Rule::BorrowWithoutMmUsers | Rule::AccessWithoutMmUsers, _) => "error",
        (_, Severity::Note) => "note",
        _ => "warning",
    }
}

fn physical(report: &Report, l: Loc) -> Value {
    let (file, line, column) = position(report, l);
    json!({
        "artifactLocation": {"uri": file, "uriBaseId": "SRCROOT"},
        "region": {"startLine": line, "startColumn": column},
    })
}

/// Renders the report as one SARIF log with one run.
pub fn render(report: &Report) -> String {
    let rules: Vec<Value> = Rule::ALL
        .iter()
        .map(|r| {
            let explain = r.explain();
            let short = explain
                .lines()
                .next()
                .unwrap_or("")
                .trim_start_matches("What: ");
            json!({
                "id": r.code(),
                "name": r.name(),
                "shortDescription": {"text": short},
                "fullDescription": {"text": explain},
                "help": {"text": explain},
            })
        })
        .collect();
    let keys = report.finding_keys();
    let mut results = Vec::new();
    for (site, keys) in report.sites.iter().zip(&keys) {
        for (rule, key) in site.findings.iter().zip(keys) {
            let index = Rule::ALL.iter().position(|r| r == rule).unwrap_or(0);
            let mut location = json!({"physicalLocation": physical(report, site.loc)});
            if let Some(f) = &site.function {
                location["logicalLocations"] = json!([{"name": f, "kind": "function"}]);
            }
            let flows: Vec<Value> = site
                .chains
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let steps: Vec<Value> = c
                        .steps
                        .iter()
                        .map(|st| {
                            json!({"location": {
                                "physicalLocation": physical(report, st.loc),
                                "message": {"text": st.note},
                            }})
                        })
                        .collect();
                    json!({
                        "message": {"text": format!("path {}: {}", i + 1, c.reference.as_str())},
                        "threadFlows": [{"locations": steps}],
                    })
                })
                .collect();
            let mut result = json!({
                "ruleId": rule.code(),
                "ruleIndex": index,
                "level": level(site, *rule),
                "message": {"text": super::gcc::finding_message(site, *rule)},
                "locations": [location],
                "partialFingerprints": {"mmaudit/v1": stable_hash(key)},
                "properties": {
                    "verdict": site.verdict.as_str(),
                    "reference": site.reference.as_str(),
                    "documented": site.documented(),
                    "fix": site.fix,
                },
            });
            if !flows.is_empty() {
                result["codeFlows"] = Value::Array(flows);
            }
            results.push(result);
        }
    }
    let root = std::path::Path::new(&report.root);
    let root_uri = std::fs::canonicalize(root).ok().and_then(|p| {
        p.to_str()
            .map(|s| format!("file://{}/", s.trim_end_matches('/')))
    });
    let mut run = json!({
        "tool": {"driver": {
            "name": "mmaudit",
            "version": env!("CARGO_PKG_VERSION"),
            "rules": rules,
        }},
        "results": results,
        "columnKind": "unicodeCodePoints",
    });
    if let Some(uri) = root_uri {
        run["originalUriBaseIds"] = json!({"SRCROOT": {"uri": uri}});
    }
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [run],
    });
    let mut s = serde_json::to_string_pretty(&log).expect("SARIF serializes");
    s.push('\n');
    s
}
