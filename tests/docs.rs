//! The format reference cannot drift from the parser: every key the parser accepts is documented,
//! and the reference's example parses.

mod common;

fn doc() -> String {
    std::fs::read_to_string(common::root().join("docs/scenario-format.md")).expect("docs/scenario-format.md")
}

/// The keys a table accepts, read from the parser's own "unknown field" error.
fn accepted_keys(template: &str) -> Vec<String> {
    let text = template.replace("UNKNOWN", "zzz_unknown = 1");
    let err = common::parse(&text).expect_err("zzz_unknown is not a key")[0].message.clone();
    let list = err.split("expected one of ").nth(1).or_else(|| err.split("expected ").nth(1)).unwrap_or_else(|| panic!("{err}"));
    list.split('`').skip(1).step_by(2).map(str::to_string).collect()
}

const BASE: &str = "title = \"t\"\nsummary = \"s\"\n[cluster]\nbrokers = 1\n[[topics]]\nname = \"t\"\npartitions = 1\n\"replication.factor\" = 1\n[[producers]]\nname = \"p\"\n";

#[test]
fn every_accepted_key_is_documented() {
    let tables = [
        format!("UNKNOWN\n{BASE}"),
        BASE.replace("brokers = 1", "brokers = 1\nUNKNOWN"),
        BASE.replace("brokers = 1", "brokers = 1\nconfig = { UNKNOWN }"),
        BASE.replace("brokers = 1", "brokers = 1\nnetwork = { UNKNOWN }"),
        BASE.replace("partitions = 1", "partitions = 1\nUNKNOWN"),
        BASE.replace("partitions = 1", "partitions = 1\nconfig = { UNKNOWN }"),
        BASE.replace("name = \"p\"", "name = \"p\"\nconfig = { UNKNOWN }"),
        format!("{BASE}[[timeline]]\nat = 0\nUNKNOWN\n"),
        format!("{BASE}[[timeline]]\nat = 0\nproduce = {{ UNKNOWN }}\n"),
        format!("{BASE}[[timeline]]\nat = 0\npause = {{ question = \"q\", UNKNOWN }}\n"),
        format!("{BASE}[[timeline]]\nat = 0\ncut = {{ from = \"p\", to = \"controller\", UNKNOWN }}\n"),
        format!("{BASE}[[links]]\nfrom = \"p\"\nto = \"controller\"\nUNKNOWN\n"),
        format!("{BASE}[[expect]]\nUNKNOWN\n"),
        format!("{BASE}[challenge]\ngoal = \"g\"\nactions = [\"crash\"]\nexpect = {{ sent = 1 }}\nUNKNOWN\n"),
        format!("{BASE}[compare]\nleft = \"a\"\nright = \"b\"\nUNKNOWN\n"),
        format!("{BASE}[[consumers]]\nname = \"c\"\ntopics = [\"t\"]\nUNKNOWN\n"),
        format!("{BASE}[[consumers]]\nname = \"c\"\ntopics = [\"t\"]\nconfig = {{ UNKNOWN }}\n"),
        format!("{BASE}[[timeline]]\nat = 0\nstall_consumer = {{ consumer = \"c\", ms = 1, UNKNOWN }}\n"),
        format!("{BASE}[[timeline]]\nat = 0\nsubscribe = {{ consumer = \"c\", topics = [\"t\"], UNKNOWN }}\n"),
        format!("{BASE}[[timeline]]\nat = 0\npoll = {{ consumer = \"c\", UNKNOWN }}\n"),
        format!("{BASE}[schema_registry]\nUNKNOWN\n"),
        format!("{BASE}[[schemas]]\nname = \"s\"\nsubject = \"t-value\"\nschema = \"\\\"long\\\"\"\nUNKNOWN\n"),
        format!("{BASE}[[timeline]]\nat = 0\nset_compatibility = {{ level = \"FULL\", UNKNOWN }}\n"),
        format!("{BASE}[[timeline]]\nat = 0\nuse_schema = {{ schema = \"s\", UNKNOWN }}\n"),
    ];
    let doc = doc();
    let mut checked = 0;
    for t in &tables {
        for key in accepted_keys(t) {
            let quoted = if key.contains('.') { format!("\"{key}\"") } else { format!("`{key}`") };
            assert!(doc.contains(&quoted) || doc.contains(&format!("`\"{key}\"`")), "{key} is not documented");
            checked += 1;
        }
    }
    assert!(checked > 60, "only {checked} keys found");
}

#[test]
fn every_error_name_is_documented() {
    let doc = doc();
    for e in kafkasim::sim::KafkaError::ALL {
        assert!(doc.contains(&format!("`{}`", e.name())), "{} is not documented", e.name());
    }
}

#[test]
fn the_example_parses_and_passes() {
    let doc = doc();
    let example = doc.split("```toml\n").nth(1).and_then(|s| s.split("```").next()).expect("an example block");
    let s = common::parse(example).expect("the documented example is valid");
    let outcome = s.run(s.seed, None, |_, _| {});
    assert!(outcome.results.iter().all(|r| r.passed()));
}

#[test]
fn every_numeric_range_is_documented_as_checked() {
    let doc = doc();
    for r in kafkasim::scenario::ranges::RANGES {
        let row = format!("| `\"{}\"` | {} | {} |", r.key, r.min, r.max);
        assert!(doc.contains(&row), "docs/scenario-format.md lacks the row {row}");
    }
}
