//! The page's words live in the translation tables (`src/ui/i18n.rs`), not in the components.
//! The UI is compiled for wasm only, so these tests read its source: a component literal that
//! looks like prose fails, and every Persian entry must use the same placeholders as its English one.

mod common;

use std::collections::{BTreeMap, BTreeSet};

/// Literals in components that are not words a person reads on the page: a media query, file
/// names, CSS, markup for the exported picture, a note written into a generated scenario file's
/// comment (scenario files are English, like their keys), and messages for developers.
const NOT_PAGE_TEXT: &[&str] = &[
    "(prefers-color-scheme: dark)",
    "the page's Explore button",
    "index.html has #app",
    "no built-in scenario {name:?}",
    "the built-in scenario {name:?} is invalid",
    "some number is free",
    "transform: translate({x:.1}px, {y:.1}px)",
    "11.5px ui-monospace, SFMono-Regular, Menlo, monospace",
];

fn string_literals(line: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut chars = line.char_indices();
    while let Some((start, c)) = chars.next() {
        if c != '"' {
            continue;
        }
        let mut lit = String::new();
        let mut escaped = false;
        for (_, c) in chars.by_ref() {
            if escaped {
                lit.push(c);
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                break;
            } else {
                lit.push(c);
            }
        }
        out.push((start, lit));
    }
    out
}

/// Two neighbouring words of letters: prose, not a key, a class or a Kafka name.
fn looks_like_prose(lit: &str) -> bool {
    let words: Vec<&str> = lit.split(' ').map(|w| w.trim_matches(|c: char| ",.;:()…".contains(c))).collect();
    words.windows(2).any(|pair| pair.iter().all(|w| w.len() >= 2 && w.chars().all(|c| c.is_alphabetic() || c == '\'')))
}

#[test]
fn components_take_their_words_from_the_tables() {
    let dir = common::root().join("src/ui");
    let mut found = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir).expect("src/ui").map(|e| e.expect("entry").path()).collect();
    files.sort();
    for path in files.iter().filter(|p| p.file_name().is_some_and(|n| n != "i18n.rs")) {
        let text = std::fs::read_to_string(path).expect("source");
        for (n, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            for (at, lit) in string_literals(line) {
                // A `class="a b"` attribute holds class names, not words.
                let is_class = line[..at].ends_with("class=");
                if looks_like_prose(&lit) && !is_class && !NOT_PAGE_TEXT.contains(&lit.as_str()) && !lit.starts_with('<') {
                    found.push(format!("{}:{}: {lit:?}", path.display(), n + 1));
                }
            }
        }
    }
    assert!(found.is_empty(), "words in components rather than in src/ui/i18n.rs:\n{}", found.join("\n"));
}

#[test]
fn the_prose_check_bites() {
    assert!(looks_like_prose("awaiting ack"));
    assert!(looks_like_prose("  ✖ CRASHED now"));
    assert!(!looks_like_prose("acks={1}"));
    assert!(!looks_like_prose("broker-{b}"));
    assert!(!looks_like_prose("M 0 0 L 10 5"));
}

/// Each table's `field: "text"` entries, by field name.
fn table(source: &str, name: &str) -> BTreeMap<String, String> {
    let start = source.find(&format!("pub static {name}: Text = Text {{")).unwrap_or_else(|| panic!("table {name}"));
    let body = &source[start..];
    let body = &body[..body.find("\n};").expect("end of table")];
    let mut out = BTreeMap::new();
    for line in body.lines().skip(1) {
        let Some((field, rest)) = line.trim().split_once(": ") else { continue };
        if field.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
            out.insert(field.to_string(), rest.to_string());
        }
    }
    out
}

fn placeholders(text: &str) -> BTreeSet<String> {
    text.split('{').skip(1).filter_map(|s| s.split_once('}')).map(|(p, _)| p.to_string()).filter(|p| p.chars().all(|c| c.is_ascii_digit())).collect()
}

#[test]
fn persian_fills_the_same_placeholders_as_english() {
    let source = std::fs::read_to_string(common::root().join("src/ui/i18n.rs")).expect("i18n.rs");
    let (en, fa) = (table(&source, "EN"), table(&source, "FA"));
    assert!(en.len() > 150, "the English table was not read: {} fields", en.len());
    assert_eq!(en.keys().collect::<Vec<_>>(), fa.keys().collect::<Vec<_>>(), "the tables list different fields on their own lines");
    let mut wrong = Vec::new();
    for (field, text) in &en {
        if placeholders(text) != placeholders(&fa[field]) {
            wrong.push(format!("{field}: {:?} vs {:?}", placeholders(text), placeholders(&fa[field])));
        }
        if field != "narration_note" && field != "columns" && !text.is_empty() && fa[field] == *text && text.chars().any(|c| c.is_ascii_lowercase()) && looks_like_prose(text.trim_matches('"')) {
            wrong.push(format!("{field} is not translated: {text}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
