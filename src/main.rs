//! The `mmaudit` binary: parse arguments, run the audit, render, exit.

use clap::Parser;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mmaudit::api::ApiTable;
use mmaudit::audit::{Options, Progress, ProgressFn, audit};
use mmaudit::baseline::Baseline;
use mmaudit::cli::{Args, ColorChoice, Format};
use mmaudit::kbuild;
use mmaudit::render;
use mmaudit::report::{Rule, Selection};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

// A run makes and frees some hundred thousand small objects on two
// threads; glibc's per-thread arenas grow with thousands of `mprotect`
// calls and free slowly. mimalloc halves the allocator's share of a re-run.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // A run touches a few hundred megabytes once and exits within seconds:
    // huge pages (which mimalloc asks for) only make each first touch
    // zero 2 MiB, and hold more memory. Best effort.
    let _ = rustix::thread::disable_transparent_huge_pages(true);
    let raw: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(file) = kbuild::source_arg(&raw) {
        return single_file(&raw, &file);
    }
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    if let Some(rule) = &args.explain {
        return match Rule::find(rule) {
            Some(r) => emit(
                &format!("{} {}\n\n{}\n", r.code(), r.name(), r.explain()),
                ExitCode::SUCCESS,
            ),
            None => {
                eprintln!(
                    "mmaudit: error: no rule named {rule:?} (try MM001 ... MM{:03})",
                    Rule::ALL.len()
                );
                ExitCode::from(2)
            }
        };
    }
    let api = match load_api(&args) {
        Ok(api) => api,
        Err(e) => {
            eprintln!("mmaudit: error: {e}");
            return ExitCode::from(2);
        }
    };
    let root = args.path.clone().expect("clap requires a path");
    let bar = progress_bar(&args);
    let opts = Options {
        jobs: args.jobs,
        cache_dir: cache_dir(&args, &root),
        progress: bar.clone().map(|b| {
            let f: ProgressFn = Arc::new(move |p| match p {
                Progress::Walking { files } => b.set_message(format!("walking: {files} files")),
                Progress::Parsing { round, files } => {
                    b.set_message(format!("round {round}: parsing {files} files"))
                }
                Progress::Sweeping { files } => {
                    b.set_message(format!("searching {files} more files for callers"))
                }
            });
            f
        }),
        api,
        ..Options::default()
    };
    let audited = audit(&root, &opts);
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let mut report = match audited {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mmaudit: error: {e:#}");
            return ExitCode::from(2);
        }
    };
    // `load_api` has checked the items.
    selection(&args)
        .unwrap_or_default()
        .keep_selected(&mut report);
    if let Some(path) = &args.baseline
        && let Err(e) = baseline(&args, &root, path, &mut report)
    {
        eprintln!("mmaudit: error: {e:#}");
        return ExitCode::from(2);
    }
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    };
    let text = render_report(&report, &args, color);
    let code = if report.has_findings() && !args.exit_zero {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    };
    mmaudit::audit::drop_later(report);
    emit(&text, code)
}

/// `mmaudit [flags] file.c`: the sites of one file, with whole-tree
/// context. If the arguments are not mmaudit's own (a kbuild checker call
/// passes the compiler's), it is kbuild mode: gcc lines, paths relative to
/// the tree, exit 0 whatever is found (a non-zero exit breaks the build).
fn single_file(raw: &[std::ffi::OsString], file: &std::path::Path) -> ExitCode {
    let (args, kbuild_mode) = match Args::try_parse_from(raw) {
        Ok(a) => (a, false),
        Err(_) => (
            Args::parse_from(["mmaudit", "--quiet", "--format", "gcc", "."]),
            true,
        ),
    };
    let fail = |msg: String| {
        eprintln!("mmaudit: {msg}");
        if kbuild_mode {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(2)
        }
    };
    let api = match load_api(&args) {
        Ok(api) => api,
        Err(e) => return fail(format!("error: {e}")),
    };
    let srctree = std::env::var_os("srctree").map(std::path::PathBuf::from);
    let Some(root) = kbuild::tree_root(file, srctree.as_deref()) else {
        return fail(format!(
            "cannot find the kernel tree that holds {} (set srctree)",
            file.display()
        ));
    };
    let rel = kbuild::relative(file, &root).unwrap_or_default();
    if kbuild::cannot_matter(file, &api) {
        return ExitCode::SUCCESS;
    }
    let opts = Options {
        jobs: args.jobs,
        cache_dir: cache_dir(&args, &root),
        api,
        ..Options::default()
    };
    let mut report = match audit(&root, &opts) {
        Ok(r) => r,
        Err(e) => return fail(format!("error: {e:#}")),
    };
    kbuild::keep_file(&mut report, &rel);
    selection(&args)
        .unwrap_or_default()
        .keep_selected(&mut report);
    let text = render_report(&report, &args, false);
    let code = if report.has_findings() && !args.exit_zero && !kbuild_mode {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    };
    emit(&text, code)
}

/// True if `path`, which need not exist yet, is inside the tree at `root`
/// (links resolved as far as the path exists).
fn inside_tree(path: &std::path::Path, root: &std::path::Path) -> bool {
    let (Ok(root), Ok(abs)) = (std::fs::canonicalize(root), std::path::absolute(path)) else {
        return false;
    };
    abs.starts_with(&root)
        || abs
            .ancestors()
            .find_map(|a| std::fs::canonicalize(a).ok())
            .is_some_and(|d| d.starts_with(&root))
}

/// The cache directory to use: none with --no-cache, or when it would be
/// inside the audited tree (mmaudit never writes there).
fn cache_dir(args: &Args, root: &std::path::Path) -> Option<std::path::PathBuf> {
    if args.no_cache {
        return None;
    }
    let dir = args
        .cache_dir
        .clone()
        .or_else(mmaudit::cache::default_dir)?;
    if inside_tree(&dir, root) {
        if !args.quiet {
            eprintln!(
                "mmaudit: note: not using the cache {}: it is inside the audited tree",
                dir.display()
            );
        }
        return None;
    }
    Some(dir)
}

/// What `--select` and `--ignore` choose.
fn selection(args: &Args) -> Result<Selection, String> {
    Selection::parse(&args.select, &args.ignore)
}

/// The built-in API table, plus the APIs of `--api FILE`, with the
/// families `--select`/`--ignore` choose.
fn load_api(args: &Args) -> Result<ApiTable, String> {
    let families = selection(args)?.families;
    let Some(path) = &args.api else {
        return Ok(ApiTable::default().selecting(families));
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the API file {}: {e}", path.display()))?;
    let added = mmaudit::api::parse_file(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(ApiTable::with(added).selecting(families))
}

/// The report in the chosen format.
fn render_report(report: &mmaudit::report::Report, args: &Args, color: bool) -> String {
    match args.format {
        Format::Human if args.quiet => render::human::render_sites(report, args.all, color),
        Format::Human => render::human::render(report, args.all, color),
        Format::Json => render::json::render(report),
        Format::Gcc => render::gcc::render(report),
        Format::Sarif => render::sarif::render(report),
        Format::Html => render::html::render(report),
    }
}

/// A spinner on stderr for whole-tree runs: only on a terminal, never with
/// --quiet.
fn progress_bar(args: &Args) -> Option<ProgressBar> {
    if args.quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} mmaudit: {msg} [{elapsed}]")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    Some(bar)
}

/// Applies the baseline at `path`, or records one there.
fn baseline(
    args: &Args,
    root: &std::path::Path,
    path: &std::path::Path,
    report: &mut mmaudit::report::Report,
) -> anyhow::Result<()> {
    if path.exists() && !args.update_baseline {
        Baseline::load(path)?.apply(report);
        return Ok(());
    }
    // mmaudit never writes into the tree it audits.
    if inside_tree(path, root) {
        anyhow::bail!(
            "the baseline {} would be written inside the audited tree; put it elsewhere",
            path.display()
        );
    }
    let b = Baseline::of(report);
    b.save(path)?;
    if !args.quiet {
        eprintln!(
            "mmaudit: recorded {} findings in the baseline {}",
            b.len(),
            path.display()
        );
    }
    Ok(())
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
fn emit(text: &str, code: ExitCode) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => code,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mmaudit: error: cannot write the report: {e}");
            ExitCode::from(2)
        }
    }
}
