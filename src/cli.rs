//! Command-line arguments.

use clap::{Parser, ValueEnum};
use std::path::PathBuf;

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// rustc-style report for people (sites with findings; all with --all).
    Human,
    /// Every site, machine readable (a stable contract, see README).
    Json,
    /// One `file:line:col: warning: ...` line per finding.
    Gcc,
    /// SARIF 2.1.0, for code-scanning services.
    Sarif,
    /// One self-contained HTML page with a picture of every chain.
    Html,
}

/// When to use colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Audits how Linux kernel C code borrows other processes' address spaces
/// (kthread_use_mm/use_mm; with --select, every call that reaches into
/// another mm): for every site, which reference keeps the page tables
/// alive, with the evidence.
///
/// Exit status: 0 no findings, 1 findings, 2 the audit could not run.
#[derive(Parser, Debug)]
#[command(name = "mmaudit", version)]
pub struct Args {
    /// Root of the kernel source tree to audit.
    #[arg(required_unless_present = "explain")]
    pub path: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Also list the sites judged ok (human format).
    #[arg(long)]
    pub all: bool,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', default_value_t = 0)]
    pub jobs: usize,
    /// Colour.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Exit 0 even when there are findings.
    #[arg(long)]
    pub exit_zero: bool,
    /// Report only findings not recorded in FILE. If FILE does not exist,
    /// record the current findings in it (outside the audited tree).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// With --baseline: record the current findings even if FILE exists.
    #[arg(long, requires = "baseline")]
    pub update_baseline: bool,
    /// Where the incremental cache lives (default: $XDG_CACHE_HOME/mmaudit
    /// or ~/.cache/mmaudit). Never inside the audited tree.
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Do not read or write the incremental cache.
    #[arg(long, conflicts_with = "cache_dir")]
    pub no_cache: bool,
    /// No progress bar, no summary line, no notes: only the report.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Add kernel APIs from a TOML file: `[[api]]` tables with `name`,
    /// `role`, `arity`, and `mm_arg`/`pair` where needed (see README).
    /// `--rules FILE` is the same.
    #[arg(long, value_name = "FILE", alias = "rules")]
    pub api: Option<PathBuf>,
    /// Audit and report only these: rule codes (MM008) or names, site
    /// families (window, gup, remote_vm, page_walk, mempolicy, notifier,
    /// mmap_lock),
    /// or ALL. Families replace the default (window), rules replace all
    /// rules. Comma-separated, or repeated.
    #[arg(long, value_name = "ITEMS", value_delimiter = ',')]
    pub select: Vec<String>,
    /// Leave these out (the same items as --select), after it.
    #[arg(long, value_name = "ITEMS", value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Print what a rule (code like MM001 or name) checks, and exit.
    #[arg(long, value_name = "RULE")]
    pub explain: Option<String>,
}
