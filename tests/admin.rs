//! Operator actions on a running cluster: `incremental_alter_configs` and `power_loss`.

mod common;

/// A cluster that is switched off for good: every broker lost power, and unclean election is
/// turned on for its offline partition afterwards.
const ALL_DOWN: &str = r#"
title = "All down"
summary = "Every broker stops; the operator turns unclean election on."
seed = 1
duration_ms = 900000

[cluster]
brokers = 2

[[topics]]
name = "orders"
partitions = 1
"replication.factor" = 2

[[timeline]]
at = 1000
power_loss = 1

[[timeline]]
at = 1000
power_loss = 2

[[timeline]]
at = 30000
incremental_alter_configs = { topic = "orders", config = { "unclean.leader.election.enable" = true } }
"#;

#[test]
fn a_stopped_cluster_runs_out_of_events_even_with_the_unclean_election_check_pending() {
    let s = common::parse(ALL_DOWN).expect("valid");
    let mut sim = s.start(s.seed);
    let mut steps = 0;
    while sim.step().is_some() {
        steps += 1;
        assert!(steps < 10_000, "the run never ends: a periodic check keeps rescheduling itself");
    }
    assert!(sim.now() >= 300_000, "the controller's check ran at its five-minute tick, at {} ms", sim.now());
    assert_eq!(sim.controller.parts[0].leader, None, "no replica is alive to elect");
}

#[test]
fn turning_unclean_election_on_elects_at_the_next_five_minute_tick_not_at_once() {
    let text = ALL_DOWN.replace("[[timeline]]\nat = 30000", "[[timeline]]\nat = 20000\nrestart = 1\n\n[[timeline]]\nat = 30000");
    let s = common::parse(&text).expect("valid");
    let mut sim = s.start(s.seed);
    sim.run_until(299_999, |_, _| {});
    assert_eq!(sim.controller.parts[0].leader, None, "broker-1 restarted after an unclean shutdown, and broker-2, the last known leader, is still down");
    sim.run_until(300_000, |_, _| {});
    assert_eq!(sim.controller.parts[0].leader, Some(1), "the check at 300,000 ms elects broker-1 uncleanly");
    assert_eq!(sim.controller.unclean_elections, 1);
}
