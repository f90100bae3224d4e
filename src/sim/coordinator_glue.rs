//! The root's glue to the group coordinator. The coordinator's logic is methods of
//! [`Coordinator`] taking a context; what stays here needs more than one layer: running a handler
//! with the consumers' settings and the ledger, appending the coordinator's records through the
//! cluster layer's produce path, and counting stored commits in the ledger, which reads the data
//! partitions' logs.

use super::coordinator::{Coordinator, CoordinatorOut, GroupLayout, GroupState, MemberSettings};
use super::ctx::{Ctx, Out};
use super::ledger::{InternalRecord, Ledger};
use super::config::IsolationLevel;
use super::map::VecMap;
use super::msg::Msg;
use super::types::{BrokerId, KafkaError, RecordKind};
use super::Sim;

impl Sim {
    /// The groups broker `b` coordinates, in its memory.
    pub fn coordinated_groups(&self, b: BrokerId) -> &VecMap<u32, GroupState> {
        &self.group_states[(b - 1) as usize].groups
    }

    /// A broker that stops or starts again has lost the groups it coordinated: they live in
    /// memory, and the next coordinator loads them from `__consumer_offsets`.
    pub(crate) fn forget_coordinated_groups(&mut self, b: BrokerId) {
        self.group_states[(b - 1) as usize].groups.clear();
    }

    /// Runs a handler of the coordinator on broker `b` with a context at the current time, the
    /// layout it reads and the ledger (which counts rebalances and holds the records it loads
    /// from), then does what it asked in order. Deferring is exact: the coordinator draws nothing
    /// from the RNG, and its appends, which send, wait in the outbox among its messages.
    pub(super) fn with_coordinator<R>(
        &mut self,
        b: BrokerId,
        handler: impl FnOnce(&mut Coordinator, &mut Ctx<'_, CoordinatorOut>, &GroupLayout, &mut Ledger) -> R,
    ) -> R {
        let mut out = Vec::new();
        let consumers = &self.consumers;
        let consumer = |c: u32| {
            let c = &consumers[c as usize];
            MemberSettings { name: &c.name, config: &c.config, topics: &c.topics }
        };
        let layout = GroupLayout {
            broker: b,
            incarnation: self.brokers[(b - 1) as usize].incarnation,
            groups: &self.groups,
            tps: &self.tps,
            topics: &self.topics,
            config: &self.broker_config,
            consumer: &consumer,
        };
        let coordinator = &mut self.group_states[(b - 1) as usize];
        let result = handler(coordinator, &mut Ctx::new(&mut self.io, &mut out), &layout, &mut self.ledger);
        for request in out {
            match request {
                Out::Send { routed: Some((id, fate)), from, to, msg } => self.enqueue(id, fate, from, to, msg),
                Out::Send { routed: None, from, to, msg } => self.send(from, to, msg),
                Out::Timer { at, timer } => self.schedule_timer(at, timer),
                Out::Effect(CoordinatorOut::Effect(effect)) => self.emit(effect),
                Out::Effect(CoordinatorOut::Append { group, records, commit }) => self.coordinator_append(b, group, records, commit),
                Out::Effect(CoordinatorOut::TxnAppend { group, producer, pid, offsets }) => self.coordinator_txn_append(b, group, producer, pid, offsets),
            }
        }
        result
    }

    /// A group request from consumer `c` reached broker `b`.
    pub(crate) fn coordinator_receive(&mut self, b: BrokerId, c: u32, msg: &Msg) {
        self.with_coordinator(b, |coordinator, cx, layout, ledger| coordinator.receive(cx, layout, ledger, c, msg));
    }

    /// A broker became leader of a `__consumer_offsets` partition: it loads the groups mapped
    /// there from its replica's log.
    pub(crate) fn coordinator_load(&mut self, b: BrokerId, pidx: u32) {
        if !self.groups.iter().any(|g| g.pidx == pidx) {
            return;
        }
        let log: Vec<(u64, u32)> = match self.broker(b).replicas[pidx as usize].as_ref() {
            Some(r) => r.log.records().map(|r| (r.offset, r.record)).collect(),
            None => return,
        };
        self.with_coordinator(b, |coordinator, cx, layout, ledger| coordinator.load(cx, layout, ledger, pidx, &log));
    }

    /// The broker stopped leading the partition: its groups move away.
    pub(crate) fn coordinator_unload(&mut self, b: BrokerId, pidx: u32) {
        self.with_coordinator(b, |coordinator, cx, layout, _| coordinator.unload(cx, layout, pidx));
    }

    /// Appends records to the group's `__consumer_offsets` partition with acks=all (as the
    /// coordinator does). A commit's response waits for the high watermark.
    fn coordinator_append(&mut self, b: BrokerId, g: u32, records: Vec<InternalRecord>, commit: Option<(u32, u64)>) {
        let pidx = self.groups[g as usize].pidx;
        let tp = self.tp(pidx);
        let min_isr = self.topics[tp.topic as usize].config.min_insync_replicas;
        let isr_size = self.replica(b, pidx).map_or(0, |r| r.isr.len() as u32);
        if isr_size < min_isr {
            // GroupMetadataManager maps NOT_ENOUGH_REPLICAS to COORDINATOR_NOT_AVAILABLE.
            if let Some((c, req)) = commit {
                self.coordinator_commit_done(b, g, c, req, Err(KafkaError::NotEnoughReplicas));
            }
            return;
        }
        let now = self.io.now;
        let ids: Vec<u32> = records
            .into_iter()
            .map(|r| {
                let group = &self.groups[g as usize].name;
                let (key, value) = match &r {
                    InternalRecord::OffsetCommit { tp, offset, .. } => (format!("{group},{}", self.tp_name(*tp)), offset.to_string()),
                    InternalRecord::GroupMetadata { generation, members, .. } => {
                        (group.clone(), format!("generation {generation}, {} member(s)", members.len()))
                    }
                    // The group coordinator's plain appends hold none of these; the transaction
                    // glues name their own.
                    InternalRecord::TransactionState { .. } | InternalRecord::TxnMarker { .. } | InternalRecord::TxnOffsetCommit { .. } => {
                        (String::new(), String::new())
                    }
                };
                self.ledger.create_internal(tp, r, key, value, now)
            })
            .collect();
        let base = self.with_broker_ledger(b, |broker, cx, layout, ledger| broker.leader_append(cx, layout, ledger, pidx, &ids, (0, 0), -1, RecordKind::Plain));
        if let Some((c, req)) = commit {
            self.leader_wait_for_commit(b, pidx, g, c, req, base, base + ids.len() as u64);
            self.with_coordinator(b, |coordinator, cx, layout, _| coordinator.arm_commit_timeout(cx, layout, g, req));
        }
    }

    /// The commit's records are replicated (or failed): the coordinator applies them and answers
    /// the member, and the ledger counts the records they newly cover.
    pub(crate) fn coordinator_commit_done(&mut self, b: BrokerId, g: u32, c: u32, req: u64, result: Result<u64, KafkaError>) {
        let stored = self.with_coordinator(b, |coordinator, cx, layout, _| coordinator.commit_done(cx, layout, g, c, req, result));
        for (pidx, offset) in stored {
            self.ledger_commit(g, pidx, offset);
        }
    }
    /// What group `g`'s consumers could read up to on a data partition: the leader's HW, or its
    /// last stable offset for a read_committed group (`endOffsets` and lag count from it).
    pub(crate) fn end_offset(&self, g: u32, pidx: u32) -> Option<u64> {
        let log = self.leader_log(pidx)?;
        Some(if self.group_reads_committed(g) { log.last_stable_offset() } else { log.high_watermark() })
    }

    /// Whether group `g`'s consumers read with `isolation.level = read_committed`.
    pub(crate) fn group_reads_committed(&self, g: u32) -> bool {
        self.consumers.iter().any(|c| c.group == g && c.config.isolation_level == IsolationLevel::ReadCommitted)
    }

    /// A commit was stored: count the records it newly covers and sample the lag.
    pub(crate) fn ledger_commit(&mut self, g: u32, pidx: u32, offset: u64) {
        let gl = self.ledger.group_mut(g);
        let from = gl.committed.get(&pidx).or(gl.start_offsets.get(&pidx)).copied().unwrap_or(0);
        gl.committed.insert(pidx, offset);
        if offset > from {
            let covered: Vec<u32> =
                self.leader_log(pidx).map(|log| (from..offset).filter_map(|o| log.get(o)).map(|x| x.record).collect()).unwrap_or_default();
            let gl = self.ledger.group_mut(g);
            for id in covered {
                gl.records.entry(id as usize).committed += 1;
            }
        }
        self.ledger_sample_lag(pidx);
    }

    /// Records each group's lag on a partition when it changed.
    pub(crate) fn ledger_sample_lag(&mut self, pidx: u32) {
        if self.groups.is_empty() || self.topics[self.tps[pidx as usize].topic as usize].internal {
            return;
        }
        let now = self.io.now;
        for g in 0..self.groups.len() as u32 {
            let Some(end) = self.end_offset(g, pidx) else { return };
            let gl = self.ledger.group_mut(g);
            let Some(&base) = gl.committed.get(&pidx).or(gl.start_offsets.get(&pidx)) else { continue };
            let lag = end.saturating_sub(base);
            if gl.last_lag.insert(pidx, lag) != Some(lag) {
                gl.lag.push(crate::sim::ledger::LagSample { at: now, pidx, lag });
            }
        }
    }
}
