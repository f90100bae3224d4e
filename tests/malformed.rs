//! The corpus of malformed scenario files in `tests/malformed/`. Each file says, in its first two
//! lines, the exact first error it must produce (`# expect: LINE:COLUMN: MESSAGE`) and its hint
//! (`# hint: TEXT`, or `(none)`); a third line `# errors: N` says how many errors it gets in all,
//! for files whose one mistake must not bring follow-on errors about the same thing. Parsing must
//! report that error, in one pass, without panicking.

mod common;

use kafkasim::scenario;

#[test]
fn every_malformed_file_gets_its_exact_error() {
    let dir = common::root().join("tests/malformed");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(files.len() >= 90, "the corpus has {} files; it should keep at least 90", files.len());
    let mut failures = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let mut lines = text.lines();
        let expect = lines.next().and_then(|l| l.strip_prefix("# expect: ")).unwrap_or_else(|| panic!("{} lacks # expect:", path.display()));
        let hint = lines.next().and_then(|l| l.strip_prefix("# hint: ")).unwrap_or_else(|| panic!("{} lacks # hint:", path.display()));
        let count: Option<usize> = lines.next().and_then(|l| l.strip_prefix("# errors: ")).map(|n| n.parse().expect("# errors: N"));
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let errors = match scenario::parse(&name, &text) {
            Ok(_) => {
                failures.push(format!("{name}: parsed without error"));
                continue;
            }
            Err(errors) => errors,
        };
        let first = &errors[0];
        let got = format!("{}:{}: {}", first.line, first.column, first.message);
        if got != expect {
            failures.push(format!("{name}:\n  expected {expect}\n  got      {got}"));
        }
        let got_hint = first.hint.as_deref().unwrap_or("(none)");
        if got_hint != hint {
            failures.push(format!("{name}: hint\n  expected {hint}\n  got      {got_hint}"));
        }
        if let Some(n) = count.filter(|n| *n != errors.len()) {
            let all: Vec<String> = errors.iter().map(ToString::to_string).collect();
            failures.push(format!("{name}: {} errors, expected {n}:\n{}", errors.len(), all.join("\n")));
        }
        assert_eq!(first.file, name);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
