//! A consume-transform-produce application (KIP-98 and KIP-447): it polls a consumer, sends one
//! record to its output topic for each record it processes, and then makes the batch's offsets
//! count. Under `at_least_once` it waits until every output record is acknowledged and calls
//! `commitSync()`, so a crash between the two sends the batch again; under `exactly_once` it runs
//! one transaction per batch (`beginTransaction`, the sends, `sendOffsetsToTransaction` with the
//! consumer's positions and group metadata, `commitTransaction`), so the outputs and the offsets
//! commit together or not at all.
//!
//! The application is a state machine over what its two clients report ([`Clients`]): each
//! [`Pipeline::next`] returns at most one call for the root to make, as the application thread
//! would, one after another.

use crate::sim::client::producer::TxnClientState;
use serde::Serialize;

/// The delivery guarantee the application implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Guarantee {
    /// Send, wait for the acknowledgements, then `commitSync()`.
    AtLeastOnce,
    /// One transaction per poll batch, its offsets sent to the transaction.
    ExactlyOnce,
}

impl Guarantee {
    /// The name in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            Guarantee::AtLeastOnce => "at_least_once",
            Guarantee::ExactlyOnce => "exactly_once",
        }
    }

    /// Every guarantee.
    pub const ALL: [Guarantee; 2] = [Guarantee::AtLeastOnce, Guarantee::ExactlyOnce];
}

/// A pipeline as the scenario declares it.
#[derive(Clone, Debug, Serialize)]
pub struct PipelineSpec {
    /// Name.
    pub name: String,
    /// The consumer it polls (index).
    pub consumer: u32,
    /// The producer it sends with (index).
    pub producer: u32,
    /// The output topic (index).
    pub output: u32,
    /// The output value: a template with `{value}` and `{key}`, or none (the input's value).
    pub value: Option<String>,
    /// The guarantee.
    pub guarantee: Guarantee,
}

/// Where the application thread is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// The application is not running (its consumer has not started, or crashed).
    Down,
    /// In `initTransactions()`.
    Initializing,
    /// Between two batches.
    Idle,
    /// In `poll()` and the processing of what it returned (each processed record is sent).
    Polling,
    /// Waiting until every output record of the batch is acknowledged (`flush()`).
    Flushing,
    /// In `commitSync()`.
    CommittingOffsets,
    /// In `sendOffsetsToTransaction()`.
    SendingOffsets,
    /// In `commitTransaction()`.
    Committing,
    /// In `abortTransaction()` after an error; then the consumer goes back to its committed offsets.
    Aborting,
    /// The producer was fenced or failed fatally: the application closed.
    Closed,
}

impl Stage {
    /// The stage as the page and the CLI name it: the call the thread is in.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Down => "down",
            Stage::Initializing => "in initTransactions()",
            Stage::Idle => "between batches",
            Stage::Polling => "in poll() and processing",
            Stage::Flushing => "waiting for its results' acks",
            Stage::CommittingOffsets => "in commitSync()",
            Stage::SendingOffsets => "in sendOffsetsToTransaction()",
            Stage::Committing => "in commitTransaction()",
            Stage::Aborting => "in abortTransaction()",
            Stage::Closed => "closed",
        }
    }
}

/// What the application sees of its clients at a moment.
#[derive(Clone, Copy, Debug)]
pub struct Clients {
    /// The consumer is running.
    pub consumer_running: bool,
    /// The consumer's application thread is free: not in a call, none waiting.
    pub consumer_free: bool,
    /// The producer's transaction state (none: not transactional).
    pub txn_state: Option<TxnClientState>,
    /// The producer's application thread is free: not in a blocking call, none waiting.
    pub producer_free: bool,
    /// Every record the producer was given is acknowledged or failed.
    pub flushed: bool,
    /// One of the batch's output records failed.
    pub send_failed: bool,
}

/// A call the application makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Call {
    /// `producer.initTransactions()`; a restarted application is a new producer instance with
    /// the same `transactional.id`.
    InitTransactions {
        /// Whether this is a restart (the producer starts again from nothing).
        restart: bool,
    },
    /// `producer.beginTransaction()`.
    BeginTransaction,
    /// `consumer.poll()`, processing what it returns.
    Poll,
    /// `consumer.commitSync()`.
    CommitSync,
    /// `producer.sendOffsetsToTransaction(positions, consumer.groupMetadata())`.
    SendOffsetsToTransaction,
    /// `producer.commitTransaction()`.
    CommitTransaction,
    /// `producer.abortTransaction()`.
    AbortTransaction,
    /// `consumer.seek()` of every owned partition to its committed offset, dropping what the
    /// last polls returned: the batch is read again.
    Rewind,
}

/// A running pipeline.
#[derive(Clone, Debug, Serialize)]
pub struct Pipeline {
    /// What the scenario declares.
    pub spec: PipelineSpec,
    /// Where its thread is.
    pub stage: Stage,
    /// Output records sent in the current batch (ledger ids).
    pub batch: Vec<u32>,
    /// Batches finished: their offsets committed, or their commitSync() failed (at_least_once
    /// goes on with the next batch, and its group reads the failed one again).
    pub batches_committed: u32,
    /// Batches given up (aborted or sent again).
    pub batches_redone: u32,
    /// Whether the application has run before (a start after that is a restart).
    started: bool,
}

impl Pipeline {
    /// A pipeline that has not started.
    pub fn new(spec: PipelineSpec) -> Pipeline {
        Pipeline { spec, stage: Stage::Down, batch: Vec::new(), batches_committed: 0, batches_redone: 0, started: false }
    }

    fn exactly_once(&self) -> bool {
        self.spec.guarantee == Guarantee::ExactlyOnce
    }

    /// The next call, given what the clients report, or none while the application waits.
    pub fn next(&mut self, c: &Clients) -> Option<Call> {
        if !c.consumer_running {
            // The application died with its consumer (or was closed and its consumer stopped): its
            // thread makes no more calls, and the consumer's start is its restart.
            self.stage = Stage::Down;
            return None;
        }
        // One thread makes every call: while the consumer's part of it is busy (in poll(), in
        // commitSync(), or stalled), nothing else happens either.
        if !c.consumer_free && !matches!(self.stage, Stage::Down | Stage::Initializing) {
            return None;
        }
        match self.stage {
            Stage::Down => {
                self.batch.clear();
                let restart = self.started;
                self.started = true;
                if self.exactly_once() {
                    self.stage = Stage::Initializing;
                    Some(Call::InitTransactions { restart })
                } else {
                    self.stage = Stage::Idle;
                    None
                }
            }
            Stage::Initializing => match c.txn_state {
                Some(TxnClientState::Ready) if c.producer_free => {
                    self.stage = Stage::Idle;
                    None
                }
                Some(TxnClientState::FatalError) => self.close(),
                _ => None,
            },
            Stage::Idle if !c.consumer_free || !c.producer_free => None,
            Stage::Idle => match c.txn_state {
                Some(TxnClientState::Ready) if self.exactly_once() => Some(Call::BeginTransaction),
                Some(TxnClientState::FatalError) => self.close(),
                Some(TxnClientState::AbortableError) => self.abort(),
                _ => {
                    self.stage = Stage::Polling;
                    Some(Call::Poll)
                }
            },
            Stage::Polling if !c.consumer_free => None,
            Stage::Polling => {
                if self.exactly_once() && matches!(c.txn_state, Some(TxnClientState::AbortableError)) {
                    return self.abort();
                }
                if self.batch.is_empty() {
                    // Nothing was read: poll again (an open transaction stays open and empty).
                    self.stage = Stage::Idle;
                    return None;
                }
                if self.exactly_once() {
                    self.stage = Stage::SendingOffsets;
                    Some(Call::SendOffsetsToTransaction)
                } else {
                    self.stage = Stage::Flushing;
                    None
                }
            }
            Stage::Flushing if !c.flushed => None,
            Stage::Flushing if c.send_failed => {
                // An output record failed: the batch is read and sent again, not committed.
                self.redo();
                Some(Call::Rewind)
            }
            Stage::Flushing => {
                self.stage = Stage::CommittingOffsets;
                Some(Call::CommitSync)
            }
            Stage::CommittingOffsets if !c.consumer_free => None,
            Stage::CommittingOffsets => {
                self.batch.clear();
                self.batches_committed += 1;
                self.stage = Stage::Idle;
                None
            }
            Stage::SendingOffsets | Stage::Committing if !c.producer_free => None,
            Stage::SendingOffsets => match c.txn_state {
                Some(TxnClientState::InTransaction) => {
                    self.stage = Stage::Committing;
                    Some(Call::CommitTransaction)
                }
                Some(TxnClientState::FatalError) => self.close(),
                _ => self.abort(),
            },
            Stage::Committing => match c.txn_state {
                Some(TxnClientState::Ready) => {
                    self.batch.clear();
                    self.batches_committed += 1;
                    self.stage = Stage::Idle;
                    None
                }
                Some(TxnClientState::FatalError) => self.close(),
                _ => self.abort(),
            },
            Stage::Aborting if !c.producer_free => None,
            Stage::Aborting => match c.txn_state {
                Some(TxnClientState::Ready) => {
                    self.redo();
                    Some(Call::Rewind)
                }
                Some(TxnClientState::FatalError) => self.close(),
                _ => None,
            },
            Stage::Closed => None,
        }
    }

    fn abort(&mut self) -> Option<Call> {
        self.stage = Stage::Aborting;
        Some(Call::AbortTransaction)
    }

    fn redo(&mut self) {
        self.batch.clear();
        self.batches_redone += 1;
        self.stage = Stage::Idle;
    }

    fn close(&mut self) -> Option<Call> {
        self.stage = Stage::Closed;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(guarantee: Guarantee) -> PipelineSpec {
        PipelineSpec { name: "p".into(), consumer: 0, producer: 0, output: 1, value: None, guarantee }
    }

    fn clients(txn_state: Option<TxnClientState>) -> Clients {
        Clients { consumer_running: true, consumer_free: true, txn_state, producer_free: true, flushed: true, send_failed: false }
    }

    #[test]
    fn an_exactly_once_batch_is_one_transaction_with_its_offsets() {
        let mut p = Pipeline::new(spec(Guarantee::ExactlyOnce));
        assert_eq!(p.next(&clients(Some(TxnClientState::Uninitialized))), Some(Call::InitTransactions { restart: false }));
        assert_eq!(p.next(&Clients { producer_free: false, ..clients(Some(TxnClientState::Initializing)) }), None, "waits in initTransactions");
        assert_eq!(p.next(&clients(Some(TxnClientState::Ready))), None);
        assert_eq!(p.next(&clients(Some(TxnClientState::Ready))), Some(Call::BeginTransaction));
        assert_eq!(p.next(&clients(Some(TxnClientState::InTransaction))), Some(Call::Poll));
        assert_eq!(p.next(&Clients { consumer_free: false, ..clients(Some(TxnClientState::InTransaction)) }), None, "polls and processes");
        p.batch.push(7);
        assert_eq!(p.next(&clients(Some(TxnClientState::InTransaction))), Some(Call::SendOffsetsToTransaction));
        assert_eq!(p.next(&clients(Some(TxnClientState::InTransaction))), Some(Call::CommitTransaction));
        assert_eq!(p.next(&clients(Some(TxnClientState::Ready))), None);
        assert_eq!((p.batches_committed, p.batch.len(), p.stage), (1, 0, Stage::Idle));
    }

    #[test]
    fn an_abortable_error_aborts_and_reads_the_batch_again_and_a_fatal_one_closes() {
        let mut p = Pipeline::new(spec(Guarantee::ExactlyOnce));
        p.stage = Stage::SendingOffsets;
        p.batch.push(3);
        assert_eq!(p.next(&clients(Some(TxnClientState::AbortableError))), Some(Call::AbortTransaction));
        assert_eq!(p.next(&clients(Some(TxnClientState::Ready))), Some(Call::Rewind));
        assert_eq!((p.batches_redone, p.stage), (1, Stage::Idle));
        p.stage = Stage::Committing;
        assert_eq!(p.next(&clients(Some(TxnClientState::FatalError))), None);
        assert_eq!(p.stage, Stage::Closed);
        assert_eq!(p.next(&clients(Some(TxnClientState::Ready))), None, "a closed application makes no call");
    }

    #[test]
    fn at_least_once_commits_only_after_every_output_is_acknowledged() {
        let mut p = Pipeline::new(spec(Guarantee::AtLeastOnce));
        assert_eq!(p.next(&clients(None)), None);
        assert_eq!(p.next(&clients(None)), Some(Call::Poll));
        p.batch.push(1);
        assert_eq!(p.next(&clients(None)), None, "to Flushing");
        assert_eq!(p.next(&Clients { flushed: false, ..clients(None) }), None, "waits for the acknowledgements");
        assert_eq!(p.next(&clients(None)), Some(Call::CommitSync));
        assert_eq!(p.next(&clients(None)), None);
        assert_eq!(p.batches_committed, 1);
        p.stage = Stage::Flushing;
        p.batch.push(2);
        assert_eq!(p.next(&Clients { send_failed: true, ..clients(None) }), Some(Call::Rewind), "a failed output is not committed over");
    }

    #[test]
    fn a_crash_stops_the_application_and_a_restart_initializes_a_new_producer() {
        let mut p = Pipeline::new(spec(Guarantee::ExactlyOnce));
        p.next(&clients(Some(TxnClientState::Uninitialized)));
        p.stage = Stage::Polling;
        assert_eq!(p.next(&Clients { consumer_running: false, ..clients(Some(TxnClientState::InTransaction)) }), None);
        assert_eq!(p.stage, Stage::Down);
        assert_eq!(p.next(&clients(Some(TxnClientState::InTransaction))), Some(Call::InitTransactions { restart: true }));
    }
}
