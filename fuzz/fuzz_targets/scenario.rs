//! Scenario text: parsing and validation never panic, and a valid scenario runs (a bounded number
//! of steps) with the logs' structural invariants intact.
#![no_main]

use kafkasim::scenario;
use kafkasim::sim::invariants::{Checker, Invariant};
use libfuzzer_sys::fuzz_target;

/// Steps run per valid input: enough to elect leaders and move records, bounded so that a long
/// `duration_ms` cannot make one input take seconds.
const STEPS: u32 = 3_000;

/// The most records an input may hold while its invariants are still checked on every step.
const CHECKED_RECORDS: usize = 20_000;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match scenario::parse("fuzz.toml", text) {
        Err(errors) => {
            assert!(!errors.is_empty(), "an error result carries at least one error");
            for e in errors {
                assert!(e.line >= 1 && e.column >= 1 && !e.message.is_empty(), "{e:?}");
            }
        }
        Ok(s) => {
            let mut sim = s.start(s.seed);
            let mut checker = Checker::new();
            for _ in 0..STEPS {
                if sim.step().is_none() {
                    break;
                }
                // The checker rescans every record still waiting for an answer on each step, so a
                // file that sends a million records at once would make one input take minutes; the
                // invariants are judged on inputs small enough to check every step, and larger
                // ones still have to run without panicking.
                if sim.ledger.records.len() > CHECKED_RECORDS {
                    continue;
                }
                if let Some(v) = checker.check(&sim) {
                    // A pipeline's results twice are a promise only of exactly_once under a safe
                    // configuration (an at_least_once pipeline makes it unsafe).
                    let unsafe_pipeline = v.invariant == Invariant::PipelineExactlyOnce && !Checker::safe(&sim);
                    assert!(
                        unsafe_pipeline || matches!(v.invariant, Invariant::AcknowledgedRecordKept | Invariant::CommittedOffsetMonotonic),
                        "{v:?}"
                    );
                }
            }
        }
    }
});
