//! A file that passes validation within the page's budget runs: for a bounded number of steps, no
//! arithmetic overflows (the fuzz build has debug assertions on), virtual time never goes
//! backwards, and a stall is reported, never looped through. Seeded with the malformed corpus and
//! the shipped lessons (see `cargo xtask fuzz`), so mutations start from files at the limits.
#![no_main]

use kafkasim::scenario::{self, cost};
use libfuzzer_sys::fuzz_target;

/// Steps run per valid input.
const STEPS: u32 = 20_000;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(s) = scenario::parse_within("fuzz.toml", text, &cost::PAGE) else { return };
    let estimate = cost::estimate(&s.setup, s.duration_ms);
    assert!(estimate.steps() <= cost::PAGE.steps && estimate.bytes() <= cost::PAGE.bytes, "a file beyond the budget was accepted");
    let mut sim = s.start(s.seed);
    let mut last = sim.now();
    for _ in 0..STEPS {
        let Some(step) = sim.step() else { break };
        assert!(step.time >= last, "virtual time went back from {last} to {}", step.time);
        last = step.time;
    }
});
