//! `--format sarif` is valid SARIF 2.1.0: checked against the official
//! schema (fetched once from crates.io, see tests/tools/sarif-schema.py).

use mmaudit::audit::{Options, audit};
use mmaudit::render;
use std::path::{Path, PathBuf};
use std::process::Command;

fn schema() -> serde_json::Value {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("python3")
        .arg(manifest.join("tests/tools/sarif-schema.py"))
        .arg(env!("CARGO_TARGET_TMPDIR"))
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "cannot fetch the SARIF schema: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    let text = std::fs::read_to_string(path).unwrap();
    // The official schema's `run.language` pattern has a lone `]`, a
    // literal in ECMAScript regexes but an error in Rust's: escape it, which
    // keeps its meaning.
    let text = text.replace(
        r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#,
        r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\\]?$""#,
    );
    serde_json::from_str(&text).unwrap()
}

fn sarif_of(fixture: &str) -> serde_json::Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(fixture);
    let report = audit(&root, &Options::default()).unwrap();
    serde_json::from_str(&render::sarif::render(&report)).unwrap()
}

#[test]
fn sarif_output_validates_against_the_official_schema() {
    let validator = jsonschema::draft7::new(&schema()).expect("the schema compiles");
    for fixture in [
        "macro_callers",
        "guarantee_notifier",
        "contradicting_comment",
        "unpaired",
        "local_get_task_mm",
    ] {
        let log = sarif_of(fixture);
        let errors: Vec<String> = validator
            .iter_errors(&log)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{fixture}: {errors:#?}");
    }
    // And the validator does reject a broken log.
    let mut broken = sarif_of("macro_callers");
    broken["runs"][0]["results"][0]["level"] = "severe".into();
    assert!(!validator.is_valid(&broken));
}

#[test]
fn sarif_results_carry_rules_flows_and_stable_fingerprints() {
    let log = sarif_of("macro_callers");
    let run = &log["runs"][0];
    assert_eq!(
        run["tool"]["driver"]["rules"].as_array().unwrap().len(),
        mmaudit::report::Rule::ALL.len()
    );
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    let first = &results[0];
    assert_eq!(first["ruleId"], "MM001");
    assert_eq!(first["level"], "error");
    // One code flow per chain, site first.
    assert_eq!(first["codeFlows"].as_array().unwrap().len(), 4);
    let fp: Vec<&str> = results
        .iter()
        .map(|r| r["partialFingerprints"]["mmaudit/v1"].as_str().unwrap())
        .collect();
    let mut unique = fp.clone();
    unique.dedup();
    assert_eq!(unique.len(), fp.len(), "fingerprints are distinct: {fp:?}");
    // The same tree gives the same fingerprints.
    let again = sarif_of("macro_callers");
    assert_eq!(
        again["runs"][0]["results"][0]["partialFingerprints"],
        first["partialFingerprints"]
    );
}
