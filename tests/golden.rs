//! Golden traces: the full narration of a few scenarios, compared line by line.
//! Regenerate after an intended change with `UPDATE_GOLDEN=1 cargo test --test golden`.

mod common;

use common::{load, root, trace};

fn golden(stem: &str) {
    let s = load(stem);
    let actual = trace(&s, s.seed);
    let path = root().join("tests/golden").join(format!("{stem}.txt"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &actual).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("missing {}; run UPDATE_GOLDEN=1 cargo test --test golden", path.display()));
    if expected != actual {
        let (line, (e, a)) = expected
            .lines()
            .zip(actual.lines())
            .enumerate()
            .find(|(_, (e, a))| e != a)
            .unwrap_or((expected.lines().count().min(actual.lines().count()), ("<end>", "<end>")));
        panic!("{stem}: trace differs from {} at line {}:\n  expected: {e}\n  actual:   {a}", path.display(), line + 1);
    }
}

#[test]
fn acks1_acknowledged_loss() {
    golden("acks1-acknowledged-loss");
}

#[test]
fn idempotence_no_duplicate() {
    golden("idempotence-no-duplicate");
}

#[test]
fn unclean_election_loses_committed() {
    golden("unclean-election-loses-committed");
}

#[test]
fn consumer_commit_before_processing() {
    golden("consumer-commit-before-processing");
}

#[test]
fn txn_read_committed() {
    golden("txn-read-committed");
}

#[test]
fn txn_zombie_fenced() {
    golden("txn-zombie-fenced");
}

#[test]
fn txn_pipeline_crash() {
    golden("txn-pipeline-crash");
}

#[test]
fn schemas_backward_consumers_first() {
    golden("schemas-backward-consumers-first");
}

#[test]
fn schemas_poison_pill() {
    golden("schemas-poison-pill");
}
