//! Expectations: what a scenario says must hold, checked against the simulation.

use crate::sim::types::{BrokerId, KafkaError, Tp};
use crate::sim::Sim;

/// A ledger total.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Total {
    /// Records sent.
    Sent,
    /// Records acknowledged.
    Acknowledged,
    /// Records failed at the producer.
    Failed,
    /// Records not in the final log.
    Lost,
    /// Acknowledged records not in the final log.
    AcknowledgedLost,
    /// Records in the final log more than once.
    Duplicated,
    /// Records out of order per producer and key.
    OutOfOrder,
}

impl Total {
    fn name(self) -> &'static str {
        match self {
            Total::Sent => "sent",
            Total::Acknowledged => "acknowledged",
            Total::Failed => "failed",
            Total::Lost => "lost",
            Total::AcknowledgedLost => "acknowledged_lost",
            Total::Duplicated => "duplicated",
            Total::OutOfOrder => "out_of_order",
        }
    }
}

/// One thing to check.
#[derive(Clone, Debug, PartialEq)]
pub enum Check {
    /// A ledger total equals `value`.
    Total {
        /// Which.
        what: Total,
        /// Expected.
        value: u32,
    },
    /// The controller's leader (none = offline).
    Leader {
        /// Partition.
        tp: Tp,
        /// Expected leader.
        leader: Option<BrokerId>,
    },
    /// The leader epoch.
    LeaderEpoch {
        /// Partition.
        tp: Tp,
        /// Expected.
        epoch: u32,
    },
    /// The ISR (order-insensitive).
    Isr {
        /// Partition.
        tp: Tp,
        /// Expected members.
        isr: Vec<BrokerId>,
    },
    /// The HW of a replica (default: the leader).
    HighWatermark {
        /// Partition.
        tp: Tp,
        /// Replica, or the leader.
        replica: Option<BrokerId>,
        /// Expected.
        value: u64,
    },
    /// A replica's LEO.
    LogEndOffset {
        /// Partition.
        tp: Tp,
        /// Replica.
        replica: BrokerId,
        /// Expected.
        value: u64,
    },
    /// A replica's log values in order.
    Log {
        /// Partition.
        tp: Tp,
        /// Replica.
        replica: BrokerId,
        /// Expected values.
        values: Vec<String>,
    },
    /// The producer saw each of these errors at least once.
    ErrorsSeen {
        /// Producer.
        producer: u32,
        /// Errors.
        errors: Vec<KafkaError>,
    },
    /// The producer saw no error at all.
    NoErrors {
        /// Producer.
        producer: u32,
    },
}

/// A group of checks at one time, from one `[[expect]]` table.
#[derive(Clone, Debug, PartialEq)]
pub struct Expectation {
    /// When (none = end of run).
    pub at: Option<u64>,
    /// Line of the `[[expect]]` table.
    pub line: usize,
    /// Checks.
    pub checks: Vec<Check>,
}

/// The outcome of one check.
#[derive(Clone, Debug)]
pub struct CheckResult {
    /// What was checked, e.g. `leader of orders-0 = 2`.
    pub description: String,
    /// What was found.
    pub actual: String,
    /// Whether it held.
    pub passed: bool,
}

/// The outcome of one expectation.
#[derive(Clone, Debug)]
pub struct ExpectationResult {
    /// Line in the file.
    pub line: usize,
    /// Time checked.
    pub time: u64,
    /// Each check.
    pub checks: Vec<CheckResult>,
}

impl ExpectationResult {
    /// Whether every check held.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }
}

fn list(v: &[BrokerId]) -> String {
    format!("{v:?}")
}

impl Expectation {
    /// Checks against the simulation's current state.
    pub fn check(&self, sim: &Sim) -> ExpectationResult {
        let ledger = sim.ledger_view();
        let checks = self
            .checks
            .iter()
            .map(|c| {
                let (description, expected, actual) = match c {
                    Check::Total { what, value } => {
                        let t = &ledger.totals;
                        let got = match what {
                            Total::Sent => t.sent,
                            Total::Acknowledged => t.acknowledged,
                            Total::Failed => t.failed,
                            Total::Lost => t.lost,
                            Total::AcknowledgedLost => t.acknowledged_lost,
                            Total::Duplicated => t.duplicated,
                            Total::OutOfOrder => t.out_of_order,
                        };
                        (what.name().to_string(), value.to_string(), got.to_string())
                    }
                    Check::Leader { tp, leader } => {
                        let got = sim.controller.parts[sim.pidx(*tp) as usize].leader;
                        let show = |l: Option<BrokerId>| l.map_or("none (offline)".to_string(), |b| b.to_string());
                        (format!("leader of {}", sim.tp_name(*tp)), show(*leader), show(got))
                    }
                    Check::LeaderEpoch { tp, epoch } => {
                        let got = sim.controller.parts[sim.pidx(*tp) as usize].leader_epoch;
                        (format!("leader epoch of {}", sim.tp_name(*tp)), epoch.to_string(), got.to_string())
                    }
                    Check::Isr { tp, isr } => {
                        let mut want = isr.clone();
                        want.sort_unstable();
                        let mut got = sim.controller.parts[sim.pidx(*tp) as usize].isr.clone();
                        got.sort_unstable();
                        (format!("ISR of {}", sim.tp_name(*tp)), list(&want), list(&got))
                    }
                    Check::HighWatermark { tp, replica, value } => {
                        let who = replica.or(sim.controller.parts[sim.pidx(*tp) as usize].leader);
                        let got = who
                            .and_then(|b| sim.broker(b).replicas[sim.pidx(*tp) as usize].as_ref())
                            .map_or("none (no leader)".to_string(), |r| r.log.high_watermark().to_string());
                        let whose = replica.map_or("leader".to_string(), |b| format!("broker-{b}"));
                        (format!("high watermark of {} on {whose}", sim.tp_name(*tp)), value.to_string(), got)
                    }
                    Check::LogEndOffset { tp, replica, value } => {
                        let got = sim.broker(*replica).replicas[sim.pidx(*tp) as usize]
                            .as_ref()
                            .map_or("no replica".to_string(), |r| r.log.leo().to_string());
                        (format!("log end offset of {} on broker-{replica}", sim.tp_name(*tp)), value.to_string(), got)
                    }
                    Check::Log { tp, replica, values } => {
                        let got = sim
                            .replica_log(*replica, *tp)
                            .map(|l| l.into_iter().map(|e| e.value).collect::<Vec<_>>())
                            .map_or("no replica".to_string(), |v| format!("{v:?}"));
                        (format!("log of {} on broker-{replica}", sim.tp_name(*tp)), format!("{values:?}"), got)
                    }
                    Check::ErrorsSeen { producer, errors } => {
                        let p = &sim.producers[*producer as usize];
                        let missing: Vec<&str> =
                            errors.iter().filter(|e| !p.errors_seen.contains_key(e)).map(|e| e.name()).collect();
                        let seen: Vec<&str> = p.errors_seen.keys().map(|e| e.name()).collect();
                        let want: Vec<&str> = errors.iter().map(|e| e.name()).collect();
                        let ok = missing.is_empty();
                        return CheckResult {
                            description: format!("{} saw errors {want:?}", p.name),
                            actual: format!("saw {seen:?}"),
                            passed: ok,
                        };
                    }
                    Check::NoErrors { producer } => {
                        let p = &sim.producers[*producer as usize];
                        let seen: Vec<&str> = p.errors_seen.keys().map(|e| e.name()).collect();
                        return CheckResult {
                            description: format!("{} saw no errors", p.name),
                            actual: format!("saw {seen:?}"),
                            passed: seen.is_empty(),
                        };
                    }
                };
                CheckResult { passed: expected == actual, description: format!("{description} = {expected}"), actual }
            })
            .collect();
        ExpectationResult { line: self.line, time: self.at.unwrap_or(sim.now()), checks }
    }
}
