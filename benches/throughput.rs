//! Simulated events per second, natively, on the built-in `heavy-load-100k` scenario (9 brokers,
//! 3 topics × 30 partitions, RF 3, 100,002 records, one group of three consumers) and on
//! `pipeline-load-20k` (three exactly-once consume-transform-produce instances, one transaction per
//! poll batch, 20,000 records): the same runs that `cargo xtask bench` times in Chromium. Only the
//! stepping is timed, not the building of the simulation or the checking of expectations. Prints
//! the median of several runs of each, and the lines `native_events_per_second N` and
//! `pipeline_events_per_second N` that the bench command reads.
//!
//! Run with `cargo bench --bench throughput` (or `cargo xtask bench`).

use std::time::Instant;

/// `cargo test --all-targets` runs this unoptimised as a smoke test: one run is enough there.
const RUNS: usize = if cfg!(debug_assertions) { 1 } else { 5 };

/// The median events per second of stepping the built-in scenario `name` to its end.
fn rate(name: &str) -> f64 {
    let text = kafkasim::builtin::get(name).expect("the scenario is built in");
    let scenario = kafkasim::scenario::parse(name, text).expect("the built-in scenario is valid");
    let mut rates = Vec::new();
    for run in 0..RUNS {
        let mut sim = scenario.start(scenario.seed);
        let start = Instant::now();
        sim.run_until(scenario.duration_ms, |_, _| {});
        let secs = start.elapsed().as_secs_f64();
        let steps = sim.steps_taken();
        assert!(scenario.expectations.iter().all(|e| e.check(&sim).passed()), "{name}'s expectations hold");
        let rate = steps as f64 / secs;
        println!("{name} run {run}: {steps} events in {secs:.3} s = {rate:.0} events/s");
        rates.push(rate);
    }
    rates.sort_by(|a, b| a.total_cmp(b));
    rates[RUNS / 2]
}

fn main() {
    println!("native_events_per_second {:.0}", rate("heavy-load-100k"));
    println!("pipeline_events_per_second {:.0}", rate("pipeline-load-20k"));
}
