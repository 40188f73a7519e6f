//! Baselines: record the findings of a tree once, then report only the
//! findings that are not in the record. A finding is known by its key
//! ([`Report::finding_keys`]: rule, file, function, macro, mm expression
//! and an ordinal), never by its line, so edits that shift lines do not
//! make old findings look new.

use crate::report::Report;
use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::Path;

/// The version of the baseline file format.
pub const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct BaselineFile {
    version: u32,
    tool: String,
    findings: Vec<String>,
}

/// The recorded finding keys.
#[derive(Debug, Default)]
pub struct Baseline {
    keys: BTreeSet<String>,
}

impl Baseline {
    /// The findings of a report.
    pub fn of(report: &Report) -> Baseline {
        Baseline {
            keys: report.finding_keys().into_iter().flatten().collect(),
        }
    }

    /// How many findings are recorded.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True if nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Reads a baseline file.
    pub fn load(path: &Path) -> anyhow::Result<Baseline> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the baseline {}", path.display()))?;
        let file: BaselineFile = serde_json::from_str(&text)
            .with_context(|| format!("{} is not an mmaudit baseline", path.display()))?;
        if file.version != VERSION {
            bail!(
                "{}: baseline version {} (this mmaudit reads {VERSION})",
                path.display(),
                file.version
            );
        }
        Ok(Baseline {
            keys: file.findings.into_iter().collect(),
        })
    }

    /// Writes the baseline file (whole, then renamed into place).
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let file = BaselineFile {
            version: VERSION,
            tool: "mmaudit".into(),
            findings: self.keys.iter().cloned().collect(),
        };
        let mut text = serde_json::to_string_pretty(&file).expect("baseline serializes");
        text.push('\n');
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text)
            .and_then(|_| std::fs::rename(&tmp, path))
            .with_context(|| format!("cannot write the baseline {}", path.display()))
    }

    /// Drops from the report the findings the baseline records. Returns how
    /// many were dropped.
    pub fn apply(&self, report: &mut Report) -> u64 {
        let keys = report.finding_keys();
        let mut dropped = 0;
        for (site, keys) in report.sites.iter_mut().zip(keys) {
            let before = site.findings.len();
            let mut k = keys.iter();
            site.findings
                .retain(|_| k.next().is_none_or(|key| !self.keys.contains(key)));
            dropped += (before - site.findings.len()) as u64;
        }
        report.stats.baselined = dropped;
        report.stats.findings = report
            .sites
            .iter()
            .filter(|s| !s.findings.is_empty())
            .count() as u64;
        dropped
    }
}
