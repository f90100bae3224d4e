//! `kafkasim explore` and the invariant checker: they find what unsafe settings lose, find
//! nothing under safe settings, shrink to a minimal schedule, and write a file that reproduces it.

mod common;

use kafkasim::explore::{self, Explorer, FaultKind, Options, Progress};
use kafkasim::scenario;
use kafkasim::sim::invariants::{Checker, Invariant};

fn search(stem: &str, seeds: std::ops::Range<u64>) -> (Progress, Explorer) {
    let options = Options { seeds, kinds: FaultKind::ALL.to_vec() };
    let mut explorer = Explorer::new(common::load(stem), options);
    loop {
        match explorer.work(50_000) {
            Progress::Working => {}
            done => return (done, explorer),
        }
    }
}

/// Runs a shipped scenario as written, checking every invariant after every step.
fn first_violation(stem: &str) -> Option<Invariant> {
    let s = common::load(stem);
    explore::run_schedule(&s, s.seed, &[]).map(|(_, _, v)| v.invariant)
}

#[test]
fn shipped_scenarios_break_only_the_guarantee_they_teach() {
    let lossy = [
        "acks1-acknowledged-loss",
        "alter-min-isr-trades-safety",
        "diverged-follower-truncates",
        "power-loss-unflushed-records",
        "unclean-election-loses-committed",
        "zombie-leader",
    ];
    // The at-least-once pipeline of lesson 9.6 sends three results twice, which is its lesson.
    let duplicating = ["txn-pipeline-crash"];
    for path in common::scenario_files() {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let expected = if lossy.contains(&stem.as_str()) {
            Some(Invariant::AcknowledgedRecordKept)
        } else {
            duplicating.contains(&stem.as_str()).then_some(Invariant::PipelineExactlyOnce)
        };
        assert_eq!(first_violation(&stem), expected, "{stem}");
    }
}

#[test]
fn unsafe_settings_lose_an_acknowledged_record_within_a_few_hundred_seeds() {
    let (progress, explorer) = search("explore-acks1-unclean", 0..300);
    let Progress::Found(found) = progress else { panic!("no counterexample in 300 seeds") };
    assert_eq!(found.violation.invariant, Invariant::AcknowledgedRecordKept);
    assert!(!found.safe);
    assert!(found.faults.len() <= found.faults_before_shrinking);
    assert!(explorer.seeds_done <= 300);

    // Minimal: without any one of its faults, the schedule no longer loses a record.
    let s = explorer.scenario();
    for i in 0..found.faults.len() {
        let mut fewer = found.faults.clone();
        fewer.remove(i);
        let again = explore::run_schedule(s, found.seed, &fewer).map(|(_, _, v)| v.invariant);
        assert_ne!(again, Some(Invariant::AcknowledgedRecordKept), "fault {i} of {:?} is not needed", found.faults);
    }

    // The written file reproduces it with no explorer at all: its own timeline and seed suffice.
    let original = std::fs::read_to_string(common::root().join("scenarios/explore-acks1-unclean.toml")).unwrap();
    let text = found.scenario_text(&original, s, "kafkasim explore …");
    let written = scenario::parse("counterexample.toml", &text).unwrap_or_else(|e| panic!("{e:?}\n{text}"));
    assert_eq!(written.seed, found.seed);
    let (_, time, violation) = explore::run_schedule(&written, written.seed, &[]).expect("the file reproduces the violation");
    assert_eq!((time, violation.invariant), (found.time, found.violation.invariant));
    assert_eq!(violation.detail, found.violation.detail);
    assert!(text.contains("pause = { question = \"Which guarantee just broke"), "{text}");

    // The pause comes after the step that broke the guarantee, not before it.
    let (break_step, _, _) = explore::run_schedule(&written, written.seed, &[]).unwrap();
    let mut pause_step = None;
    written.run(written.seed, None, |sim, step| {
        if pause_step.is_none() && kafkasim::sim::describe::describe_step(sim, &step).contains("Which guarantee just broke") {
            pause_step = Some(step.index);
        }
    });
    let pause_step = pause_step.expect("the written file pauses");
    assert!(pause_step > break_step, "the pause (step {pause_step}) comes before the break (step {break_step})");

    // A file that starts with a byte order mark and has no seed line still parses once written.
    let bom = format!("\u{feff}{}", original.lines().filter(|l| !l.starts_with("seed")).collect::<Vec<_>>().join("\n"));
    let text = found.scenario_text(&bom, s, "kafkasim explore …");
    let written = scenario::parse("counterexample.toml", &text).unwrap_or_else(|e| panic!("{e:?}\n{text}"));
    assert_eq!(written.seed, found.seed);
}

#[test]
fn safe_settings_lose_nothing_over_thousands_of_seeds() {
    // Two threads, one per core, each with half of the 3,000 seeds. A simulation shares its
    // storage between snapshots and so stays on its thread: each sends back only plain text.
    let halves = [0..1_500u64, 1_500..3_000u64].map(|seeds| {
        std::thread::spawn(move || match search("explore-acks-all-safe", seeds) {
            (Progress::Exhausted, explorer) => Ok(explorer.seeds_done),
            (Progress::Found(found), _) => Err(format!(
                "seed {} breaks {}: {} (faults {:?})",
                found.seed,
                found.violation.invariant.name(),
                found.violation.detail,
                found.faults
            )),
            (Progress::Working, _) => unreachable!(),
        })
    });
    for half in halves {
        assert_eq!(half.join().unwrap(), Ok(1_500));
    }
    assert!(Checker::safe(&common::load("explore-acks-all-safe").start(1)));
}

#[test]
fn the_search_is_deterministic_and_resumable_in_any_slices() {
    let (Progress::Found(a), _) = search("explore-acks1-unclean", 0..300) else { panic!() };
    let options = Options { seeds: 0..300, kinds: FaultKind::ALL.to_vec() };
    let mut explorer = Explorer::new(common::load("explore-acks1-unclean"), options);
    let b = loop {
        // A tiny budget: the search stops and resumes thousands of times.
        if let Progress::Found(b) = explorer.work(97) {
            break b;
        }
    };
    assert_eq!((a.seed, a.step, a.time, &a.faults, &a.violation), (b.seed, b.step, b.time, &b.faults, &b.violation));
}

#[test]
fn fault_plans_respect_the_kinds_asked_for_and_the_broker_budget() {
    let s = common::load("explore-acks-all-safe");
    for seed in 0..500 {
        let plan = explore::plan(&s, seed, &[FaultKind::Crash, FaultKind::Partition]);
        assert!(plan.len() <= explore::MAX_FAULTS as usize);
        for f in &plan {
            assert!(f.start <= f.end && f.end <= s.duration_ms, "{f:?}");
            assert!(matches!(f.what, explore::FaultWhat::Crash(_) | explore::FaultWhat::Partition(_)), "{f:?}");
            // replication.factor 3 − min.insync.replicas 2: never two brokers faulty at once.
            let overlapping = plan.iter().filter(|g| g.start < f.end && f.start < g.end).count();
            assert_eq!(overlapping, 1, "seed {seed}: {plan:?}");
        }
    }
    assert_eq!(FaultKind::parse_list("crash, loss").unwrap(), vec![FaultKind::Crash, FaultKind::Loss]);
    assert!(FaultKind::parse_list("crash,meteor").unwrap_err().contains("unknown fault \"meteor\""));
}

#[test]
fn with_seed_replaces_only_the_top_level_seed() {
    let text = "title = \"t\"\nseed = 7 # the seed\n[cluster]\nseed_like = 1\n";
    assert_eq!(scenario::with_seed(text, 42), "title = \"t\"\nseed = 42 # the seed\n[cluster]\nseed_like = 1\n");
    assert_eq!(scenario::with_seed("title = \"t\"\n", 5), "seed = 5\ntitle = \"t\"\n");
}

/// Runs a shipped scenario to its end, checking the invariants after every step, and returns it.
fn run_checked(stem: &str) -> kafkasim::sim::Sim {
    let s = common::load(stem);
    let mut sim = s.start(s.seed);
    let mut checker = Checker::new();
    while let Some(_step) = sim.step_until(s.duration_ms) {
        assert_eq!(checker.check(&sim), None, "{stem} at {} ms", sim.now());
    }
    sim
}

/// The transaction invariants hold on the transaction lessons, and each catches what it is
/// about: a read_committed consumer that processed an aborted record, and a last stable offset
/// past a record whose transaction is undecided.
#[test]
fn the_transaction_invariants_catch_what_they_promise() {
    // read_uncommitted, the lesson's `reports` processes the two aborted records. Had it been
    // read_committed, that is exactly what the invariant forbids.
    let mut sim = run_checked("txn-read-committed");
    sim.consumers[0].config.isolation_level = kafkasim::sim::config::IsolationLevel::ReadCommitted;
    let v = Checker::new().check(&sim).expect("the aborted records were processed");
    assert_eq!(v.invariant, Invariant::ReadCommittedSeesOnlyCommitted, "{}", v.detail);
    assert!(v.detail.contains("aborted"), "{}", v.detail);

    // The first committed record, marked undecided again, lies below the leader's LSO (9).
    let mut sim = run_checked("txn-read-committed");
    let first = sim.ledger.records.iter().position(|r| r.value == "order-1").expect("order-1 was sent");
    sim.ledger.records[first].txn = kafkasim::sim::ledger::TxnFate::Open;
    let v = Checker::new().check(&sim).expect("an undecided record below the LSO");
    assert_eq!(v.invariant, Invariant::StableBelowLso, "{}", v.detail);

    for stem in ["txn-zombie-fenced", "txn-open-holds-lso"] {
        run_checked(stem);
    }
}

#[test]
fn transactions_keep_their_invariants_under_faults() {
    for stem in ["txn-read-committed", "txn-zombie-fenced", "txn-open-holds-lso"] {
        match search(stem, 0..300) {
            (Progress::Exhausted, explorer) => assert_eq!(explorer.seeds_done, 300, "{stem}"),
            (Progress::Found(found), _) => panic!("{stem} seed {} breaks {}: {}", found.seed, found.violation.invariant.name(), found.violation.detail),
            (Progress::Working, _) => unreachable!(),
        }
    }
}

/// An exactly_once pipeline keeps its promise under every kind of fault, its own consumer's
/// crashes included (`kafkasim explore scenarios/explore-pipeline-eos.toml --seeds 0..4000`
/// finds nothing either).
#[test]
fn an_exactly_once_pipeline_neither_loses_nor_duplicates_under_faults() {
    match search("explore-pipeline-eos", 0..1000) {
        (Progress::Exhausted, explorer) => assert_eq!(explorer.seeds_done, 1000),
        (Progress::Found(found), _) => panic!("seed {} breaks {}: {}", found.seed, found.violation.invariant.name(), found.violation.detail),
        (Progress::Working, _) => unreachable!(),
    }
}

/// The same pipeline at_least_once (a plain producer, flush and commitSync) is found sending a
/// result twice within a few hundred seeds, and the search knows Kafka promises nothing more.
#[test]
fn an_at_least_once_pipeline_is_found_duplicating_within_a_few_hundred_seeds() {
    let text = std::fs::read_to_string(common::root().join("scenarios/explore-pipeline-eos.toml")).expect("the scenario");
    let alos = text
        .replace("\"transactional.id\" = \"checker-1\", \"transaction.timeout.ms\" = 10000", "acks = \"all\"")
        .replace("guarantee = \"exactly_once\"", "guarantee = \"at_least_once\"");
    assert_ne!(alos, text);
    let scenario = scenario::parse("alos.toml", &alos).unwrap_or_else(|e| panic!("{e:?}"));
    let mut explorer = Explorer::new(scenario, Options { seeds: 0..300, kinds: FaultKind::ALL.to_vec() });
    let found = loop {
        match explorer.work(50_000) {
            Progress::Working => {}
            Progress::Found(found) => break found,
            Progress::Exhausted => panic!("no duplicate in 300 seeds"),
        }
    };
    assert_eq!(found.violation.invariant, Invariant::PipelineExactlyOnce);
    assert!(!found.safe, "at_least_once promises no more");
    assert!(found.violation.detail.contains("0 have no result") && !found.violation.detail.contains(", 0 have several"), "{}", found.violation.detail);
}
