//! Embeds the list of `scenarios/*.toml` in the library, so a new file needs no code change:
//! natively each file's text too (the CLI and the tests run them), and in the page only each one's
//! name, title, module and lesson, for the picker. The page fetches a lesson's text when it is
//! opened, so the download does not grow with every lesson the course gains.

use std::fmt::Write;
use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("scenarios/ exists")
        .map(|e| e.expect("readable scenarios/ entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let page = std::env::var("CARGO_CFG_TARGET_ARCH").is_ok_and(|a| a == "wasm32");
    let mut texts = String::from("/// Every shipped scenario: (name, file text), sorted by name.\npub static BUILTIN: &[(&str, &str)] = &[\n");
    let mut catalog = String::from("/// Every shipped scenario: (name, title, module, lesson), sorted by name.\npub static CATALOG: &[(&str, &str, Option<u32>, u32)] = &[\n");
    for path in files {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path.file_stem().expect("a file name").to_str().expect("UTF-8 file name");
        writeln!(texts, "    ({name:?}, include_str!({:?})),", path.display().to_string()).expect("writing to a String");
        // A file that is not valid TOML is still listed (under its name), so that the page shows
        // its parse error when it is opened, as it does for any other scenario.
        let text = std::fs::read_to_string(&path).expect("readable scenario file");
        let table: toml::Table = text.parse().unwrap_or_default();
        let title = table.get("title").and_then(|t| t.as_str()).unwrap_or(name);
        let number = |key: &str| table.get(key).and_then(|v| v.as_integer()).and_then(|n| u32::try_from(n).ok());
        writeln!(catalog, "    ({name:?}, {title:?}, {:?}, {}),", number("module"), number("lesson").unwrap_or(0)).expect("writing to a String");
    }
    texts.push_str("];\n");
    catalog.push_str("];\n");
    let out = if page { catalog } else { texts + &catalog };
    let target = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("builtin.rs");
    std::fs::write(target, out).expect("OUT_DIR is writable");
}
