//! The `mmaudit` binary: parse arguments, run the audit, render, exit.

use clap::Parser;
use mmaudit::audit::{Options, audit};
use mmaudit::cli::{Args, ColorChoice, Format};
use mmaudit::render;
use mmaudit::report::Rule;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
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
                eprintln!("mmaudit: no rule named {rule:?} (try MM001 ... MM004)");
                ExitCode::from(2)
            }
        };
    }
    let root = args.path.clone().expect("clap requires a path");
    let report = match audit(&root, &Options { jobs: args.jobs }) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mmaudit: error: {e:#}");
            return ExitCode::from(2);
        }
    };
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    };
    let text = match args.format {
        Format::Human => render::human::render(&report, args.all, color),
        Format::Json => render::json::render(&report),
        Format::Gcc => render::gcc::render(&report),
        Format::Sarif => render::sarif::render(&report),
    };
    let code = if report.has_findings() && !args.exit_zero {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    };
    emit(&text, code)
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
