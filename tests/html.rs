//! `--format html` renders in a real browser: headless Chromium loads the
//! page from disk (no network), runs its check script, and takes a
//! screenshot, kept in the test's output directory for people to look at.

use mmaudit::audit::{Options, audit};
use mmaudit::render;
use std::path::{Path, PathBuf};
use std::process::Command;

fn chromium() -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/ensure-chromium");
    let out = Command::new(script).output().expect("ensure-chromium runs");
    assert!(
        out.status.success(),
        "no Chromium for the HTML test: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

fn headless(browser: &Path, extra: &[&str], page: &Path) -> std::process::Output {
    Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
        ])
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs")
}

#[test]
fn html_report_renders_every_site_and_chain_in_chromium() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/guarantee_notifier");
    let report = audit(&root, &Options::default()).unwrap();
    let html = render::html::render(&report);
    // Self-contained: nothing to fetch (the SVG namespace is only a name).
    for fetch in ["<link", "src=\"http", "href=\"http", "url(http", "@import"] {
        assert!(!html.contains(fetch), "the page fetches {fetch}");
    }

    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("html");
    std::fs::create_dir_all(&out_dir).unwrap();
    let page = out_dir.join("report.html");
    std::fs::write(&page, &html).unwrap();
    let browser = chromium();

    let dom = headless(&browser, &["--dump-dom"], &page);
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let dom = String::from_utf8_lossy(&dom.stdout);
    let chains: usize = report.sites.iter().map(|s| s.chains.len()).sum();
    let expected = format!(
        "rendered: {} sites, {chains} chain pictures",
        report.sites.len()
    );
    assert!(dom.contains(&expected), "the page script saw: {dom}");
    assert_eq!(
        dom.matches("<tr><td><span class=\"verdict").count(),
        report.sites.len()
    );

    let shot = out_dir.join("report.png");
    let _ = std::fs::remove_file(&shot);
    let s = headless(
        &browser,
        &[
            "--window-size=1280,1800",
            &format!("--screenshot={}", shot.display()),
        ],
        &page,
    );
    assert!(s.status.success(), "{}", String::from_utf8_lossy(&s.stderr));
    let png = std::fs::read(&shot).expect("a screenshot was written");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "{} bytes",
        png.len()
    );
    eprintln!("screenshot: {}", shot.display());
}
