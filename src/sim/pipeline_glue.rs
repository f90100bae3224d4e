//! The root's glue to the applications built on clients: after every step each pipeline sees
//! what its consumer processed (and sends each record's output), then makes the calls its state
//! machine asks for on its consumer and producer. The ledger's verdict per pipeline is here too,
//! since it reads the input and output partitions' logs and the group's committed offsets.

use super::app::effect::AppEffect;
use super::app::pipeline::{Call, Clients, Stage};
use super::client::effect::ConsumerEffect;
use super::consumer::AppCall;
use super::ledger::{Outcome, TxnFate};
use super::map::VecMap;
use super::producer::TxnCall;
use super::setup::OffsetsToSend;
use super::step::Effect;
use super::types::RecordKind;
use super::view::Verdict;
use super::Sim;
use serde::Serialize;

/// How long a pipeline's `poll()` waits for records.
pub const PIPELINE_POLL_TIMEOUT_MS: u64 = 1000;

/// What a pipeline's output shows of its input, as a read_committed consumer of the output topic
/// would read it: each input record below the group's committed offset should have exactly one
/// output record there.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PipelineVerdict {
    /// Input records below the committed offsets.
    pub inputs: u32,
    /// Those with no output record a read_committed consumer can read.
    pub lost: u32,
    /// Those with more than one.
    pub duplicated: u32,
    /// Output records a read_committed consumer can read.
    pub outputs: u32,
    /// Results in the output logs whose transaction is not decided there yet.
    pub undecided: u32,
    /// A partition it reads or writes has no leader now, so part of the picture is missing.
    pub unavailable: bool,
}

impl PipelineVerdict {
    /// The verdict's name.
    pub fn verdict(&self) -> Verdict {
        Verdict::of(self.lost, self.duplicated)
    }
}

impl Sim {
    /// After a step: each pipeline sends the outputs of the records its consumer processed, then
    /// makes its next calls until it waits.
    pub(super) fn pipelines_react(&mut self) {
        if self.pipelines.is_empty() {
            return;
        }
        let processed: Vec<(u32, u32)> = self
            .effects
            .iter()
            .filter_map(|e| match e {
                Effect::Consumer(ConsumerEffect::RecordProcessed { consumer, record, .. }) => Some((*consumer, *record)),
                _ => None,
            })
            .collect();
        for (c, record) in processed {
            if let Some(i) = self.pipelines.iter().position(|p| p.spec.consumer == c && p.stage == Stage::Polling) {
                self.pipeline_send(i, record);
            }
        }
        for i in 0..self.pipelines.len() {
            // Each call changes what the clients report, so the next decision reads them again;
            // the run ends when the application waits. The bound only guards against a loop.
            for _ in 0..16 {
                let before = self.pipelines[i].stage;
                let clients = self.pipeline_clients(i);
                let call = self.pipelines[i].next(&clients);
                let after = self.pipelines[i].stage;
                if before != after && matches!(after, Stage::Down | Stage::Closed) {
                    self.emit(AppEffect::PipelineStopped { pipeline: i as u32, closed: after == Stage::Closed });
                }
                match call {
                    Some(call) => self.pipeline_call(i, call),
                    None if before == after => break,
                    None => {}
                }
            }
        }
    }

    fn pipeline_clients(&self, i: usize) -> Clients {
        let pipeline = &self.pipelines[i];
        let c = &self.consumers[pipeline.spec.consumer as usize];
        let p = &self.producers[pipeline.spec.producer as usize];
        Clients {
            consumer_running: c.running(),
            consumer_free: c.app_idle(),
            txn_state: p.txn.as_ref().map(|t| t.state),
            producer_free: p.app_free(),
            flushed: p.flushed(),
            // Read only where it is asked, after a flush: a batch holds up to max.poll.records.
            send_failed: pipeline.stage == Stage::Flushing
                && pipeline.batch.iter().any(|&id| matches!(self.ledger.records[id as usize].outcome, Outcome::Failed { .. })),
        }
    }

    fn pipeline_call(&mut self, i: usize, call: Call) {
        let spec = self.pipelines[i].spec.clone();
        let guarantee = spec.guarantee;
        let batch = self.pipelines[i].batch.len() as u32;
        self.emit(AppEffect::PipelineCalled { pipeline: i as u32, call, guarantee, batch });
        let (c, p) = (spec.consumer, spec.producer);
        let txn = |sim: &mut Sim, call: TxnCall| sim.with_producer(p, |prod, cx, env| prod.txn_call(cx, env, call));
        match call {
            Call::InitTransactions { restart } => {
                if restart {
                    self.producers[p as usize].restart_transactions();
                }
                txn(self, TxnCall::InitTransactions);
            }
            Call::BeginTransaction => txn(self, TxnCall::BeginTransaction),
            Call::CommitTransaction => txn(self, TxnCall::CommitTransaction),
            Call::AbortTransaction => txn(self, TxnCall::AbortTransaction),
            Call::SendOffsetsToTransaction => {
                let offsets = self.txn_offsets(&OffsetsToSend::Consumer(c));
                self.with_producer(p, |prod, cx, env| prod.send_offsets_to_transaction(cx, env, offsets));
            }
            Call::Poll => {
                let call = AppCall::Poll { timeout_ms: PIPELINE_POLL_TIMEOUT_MS, process: true };
                self.with_consumer(c, |cons, cx, env| cons.app_call(cx, env, call));
            }
            Call::CommitSync => self.with_consumer(c, |cons, cx, env| cons.app_call(cx, env, AppCall::CommitSync)),
            Call::Rewind => {
                self.consumers[c as usize].seek_to_committed();
            }
        }
    }

    /// The output of a processed input record: its key, and its value through the template.
    fn pipeline_send(&mut self, i: usize, input: u32) {
        let spec = self.pipelines[i].spec.clone();
        let rec = &self.ledger.records[input as usize];
        let key = rec.key.clone();
        let value = match &spec.value {
            Some(template) => template.replace("{value}", &rec.value).replace("{key}", key.as_deref().unwrap_or("")),
            None => rec.value.clone(),
        };
        let before = self.ledger.records.len();
        self.with_producer(spec.producer, |prod, cx, env| {
            prod.send(cx, env, spec.output, None, key, value, None, None);
            prod.drain(cx, env);
        });
        let output = (self.ledger.records.len() > before).then_some(before as u32);
        if let Some(out) = output {
            self.ledger.records[out as usize].source = Some(input);
            self.pipelines[i].batch.push(out);
        }
        self.emit(AppEffect::PipelineSent { pipeline: i as u32, input, output });
    }

    /// Pipeline `i`'s verdict now (see [`PipelineVerdict`]).
    pub fn pipeline_verdict(&self, i: usize) -> PipelineVerdict {
        let spec = &self.pipelines[i].spec;
        let consumer = &self.consumers[spec.consumer as usize];
        let readable = |kind: RecordKind, fate: TxnFate| kind == RecordKind::Plain || (kind == RecordKind::Transactional && fate == TxnFate::Committed);
        let mut copies: VecMap<u32, u32> = VecMap::new();
        let mut verdict = PipelineVerdict::default();
        let output = &self.topics[spec.output as usize];
        for pidx in output.base..output.base + output.partitions {
            let Some(log) = self.leader_log(pidx) else {
                verdict.unavailable = true;
                continue;
            };
            let lso = log.last_stable_offset();
            for r in log.records() {
                let rec = &self.ledger.records[r.record as usize];
                let Some(source) = rec.source else { continue };
                if r.offset < lso && readable(r.kind, rec.txn) {
                    *copies.entry(source).or_insert(0) += 1;
                    verdict.outputs += 1;
                } else if rec.txn == TxnFate::Open || (r.offset >= lso && rec.txn != TxnFate::Aborted) {
                    verdict.undecided += 1;
                }
            }
        }
        // From where the group started reading each partition (its first position: with
        // auto.offset.reset = latest the records before it were never its to read) up to its
        // committed offset.
        let group = self.ledger.groups.get(consumer.group as usize);
        for &t in &consumer.topics {
            let topic = &self.topics[t as usize];
            for pidx in topic.base..topic.base + topic.partitions {
                let Some(&end) = group.and_then(|g| g.committed.get(&pidx)) else { continue };
                let start = group.and_then(|g| g.start_offsets.get(&pidx)).copied().unwrap_or(0);
                let Some(log) = self.leader_log(pidx) else {
                    verdict.unavailable = true;
                    continue;
                };
                for r in log.records().filter(|r| (start..end).contains(&r.offset)) {
                    if !readable(r.kind, self.ledger.records[r.record as usize].txn) {
                        continue;
                    }
                    verdict.inputs += 1;
                    match copies.get(&r.record).copied().unwrap_or(0) {
                        0 => verdict.lost += 1,
                        1 => {}
                        _ => verdict.duplicated += 1,
                    }
                }
            }
        }
        verdict
    }
}
