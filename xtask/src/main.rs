//! Project tasks: `cargo xtask serve`, `cargo xtask test`, `cargo xtask bench`.
//!
//! Plain std only, so that the first `cargo xtask …` on a fresh machine builds in seconds.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask sits in the repository").to_path_buf()
}

fn run(program: &str, args: &[&str]) -> bool {
    eprintln!("$ {program} {}", args.join(" "));
    match Command::new(program).args(args).current_dir(root()).status() {
        Ok(status) => status.success(),
        Err(e) => {
            eprintln!("cannot start {program}: {e}");
            false
        }
    }
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// Builds `dist/`: the page and its assets, ready for any static host.
fn build_site() -> std::io::Result<PathBuf> {
    let dist = root().join("dist");
    if dist.exists() {
        std::fs::remove_dir_all(&dist)?;
    }
    std::fs::create_dir_all(&dist)?;
    std::fs::copy(root().join("index.html"), dist.join("index.html"))?;
    copy_dir(&root().join("static"), &dist.join("static"))?;
    Ok(dist)
}

fn serve(port: &str) -> bool {
    let dist = match build_site() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("building dist/ failed: {e}");
            return false;
        }
    };
    println!("kafkasim is served at http://127.0.0.1:{port}/ (Ctrl-C stops it)");
    run("python3", &["-m", "http.server", port, "--bind", "127.0.0.1", "--directory", dist.to_str().expect("utf-8 path")])
}

fn test() -> bool {
    // Every Rust test (unit, integration, golden, CLI), then the lecturer's own check of every
    // shipped scenario through the real binary, then the site build.
    run("cargo", &["test", "--workspace", "--all-targets"])
        && run("cargo", &["run", "--quiet", "--bin", "kafkasim", "--", "check", "scenarios"])
        && build_site().map(|_| true).unwrap_or_else(|e| {
            eprintln!("building dist/ failed: {e}");
            false
        })
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let ok = match args.first().map(String::as_str) {
        Some("serve") => serve(args.get(1).map_or("8000", String::as_str)),
        Some("test") => test(),
        Some("bench") => run("cargo", &["bench", "--bench", "throughput"]),
        Some("build") => build_site().is_ok(),
        _ => {
            eprintln!("usage: cargo xtask <serve [PORT] | test | bench | build>");
            return ExitCode::from(2);
        }
    };
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
