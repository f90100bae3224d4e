//! One replica's log: records, log start offset, LEO, high watermark, the leader-epoch cache
//! (KIP-101) and the idempotent producer state rebuilt from the log.

use super::txn_index::TxnIndex;
use crate::sim::shared::History;
use crate::sim::types::{LogRecord, RecordId};
use serde::Serialize;

/// Kafka keeps the metadata of the last five batches per producer for duplicate detection.
const PRODUCER_BATCHES_KEPT: usize = 5;

/// Metadata of one idempotent batch, as `ProducerStateManager` keeps it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BatchMeta {
    /// First sequence number in the batch.
    pub first_seq: i32,
    /// Last sequence number in the batch.
    pub last_seq: i32,
    /// Offset of the first record.
    pub first_offset: u64,
    /// Offset of the last record.
    pub last_offset: u64,
}

/// The last batches of one idempotent producer, oldest first. Held inline, so that a replica's
/// producer state is one small allocation: a snapshot of a large cluster copies hundreds of
/// replicas, and a map of queues cost about a kilobyte each.
#[derive(Clone, Copy, Debug)]
struct ProducerBatches {
    pid: u32,
    /// The producer epoch of the kept batches: a newer epoch starts the producer's sequences anew.
    epoch: u16,
    len: usize,
    batches: [BatchMeta; PRODUCER_BATCHES_KEPT],
}

impl ProducerBatches {
    fn kept(&self) -> &[BatchMeta] {
        &self.batches[..self.len]
    }

    /// Keeps `batch` as the newest, forgetting the oldest when all places are taken.
    fn push(&mut self, batch: BatchMeta) {
        if self.len == PRODUCER_BATCHES_KEPT {
            self.batches.rotate_left(1);
            self.batches[PRODUCER_BATCHES_KEPT - 1] = batch;
        } else {
            self.batches[self.len] = batch;
            self.len += 1;
        }
    }
}

/// What the leader concludes from an idempotent batch's sequence numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeqCheck {
    /// The next expected sequence: append it.
    Append,
    /// The same batch was appended before: answer with its original offsets, append nothing.
    Duplicate(BatchMeta),
    /// A gap: reject with OUT_OF_ORDER_SEQUENCE_NUMBER; `expected` is the next sequence.
    OutOfOrder {
        /// The sequence number the leader expected.
        expected: i32,
    },
    /// The batch's producer epoch is older than the one the leader has: INVALID_PRODUCER_EPOCH.
    StaleEpoch,
}

/// A replica's log.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ReplicaLog {
    records: History<LogRecord>,
    log_start: u64,
    high_watermark: u64,
    /// (leader epoch, start offset) pairs in increasing order: the leader-epoch checkpoint.
    epochs: Vec<(u32, u64)>,
    /// Each idempotent producer's last batches, by producer id.
    #[serde(skip)]
    producers: Vec<ProducerBatches>,
    /// The transactions on this partition, for the last stable offset and the aborted index.
    #[serde(skip)]
    txns: TxnIndex,
    bytes: u64,
    #[serde(skip)]
    version: u64,
    /// Kafka's recovery point: records below it were flushed (fsync'd) to disk; the rest live in
    /// the operating system's page cache, which a power loss takes with it.
    #[serde(skip)]
    recovery_point: u64,
}

impl ReplicaLog {
    /// Log end offset: the offset the next appended record gets.
    pub fn leo(&self) -> u64 {
        self.log_start + self.records.len() as u64
    }

    /// The log start offset (advanced by retention).
    pub fn log_start(&self) -> u64 {
        self.log_start
    }

    /// The high watermark this replica knows.
    pub fn high_watermark(&self) -> u64 {
        self.high_watermark
    }

    /// Total bytes of the records currently held.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The records currently in the log, oldest first.
    pub fn records(&self) -> impl DoubleEndedIterator<Item = LogRecord> + '_ {
        self.records.iter()
    }

    /// The record at `offset`, if it is in the log.
    pub fn get(&self, offset: u64) -> Option<LogRecord> {
        offset.checked_sub(self.log_start).and_then(|i| self.records.get(i as usize))
    }

    /// The leader-epoch cache entries.
    pub fn epochs(&self) -> &[(u32, u64)] {
        &self.epochs
    }

    /// The newest epoch in the leader-epoch cache (what a follower sends as lastFetchedEpoch).
    pub fn latest_epoch(&self) -> Option<u32> {
        self.epochs.last().map(|e| e.0)
    }

    /// Counts changes: it moves on every append, truncation, deletion, high-watermark or epoch
    /// change, so that the invariant checker can skip logs it has already checked.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Sets the high watermark, never beyond the LEO.
    pub fn set_high_watermark(&mut self, hw: u64) {
        self.version += 1;
        self.high_watermark = hw.min(self.leo()).max(self.log_start.min(self.leo()));
        self.txns.high_watermark_moved(self.high_watermark);
    }

    /// The last stable offset: what read_committed consumers may read up to (the high watermark
    /// when no transaction is open on the partition).
    pub fn last_stable_offset(&self) -> u64 {
        self.txns.last_stable_offset(self.high_watermark).max(self.log_start.min(self.high_watermark))
    }

    /// The partition's transactions.
    pub fn txns(&self) -> &TxnIndex {
        &self.txns
    }

    /// Records that a new leader epoch starts at the current LEO (done when a replica becomes leader).
    pub fn start_epoch(&mut self, epoch: u32) {
        self.version += 1;
        let leo = self.leo();
        self.assign_epoch(epoch, leo);
    }

    fn assign_epoch(&mut self, epoch: u32, offset: u64) {
        match self.epochs.last() {
            Some(&(e, _)) if e >= epoch => {}
            _ => self.epochs.push((epoch, offset)),
        }
    }

    /// Kafka's `LeaderEpochFileCache.endOffsetFor`: the largest epoch ≤ `requested` and the offset where
    /// it ended (the next epoch's start, or the LEO for the latest epoch). A requested epoch older than
    /// every cached one ends where the first cached epoch starts. `None` only for an empty cache.
    pub fn end_offset_for_epoch(&self, requested: u32) -> Option<(u32, u64)> {
        let first = *self.epochs.first()?;
        let Some(idx) = self.epochs.iter().rposition(|&(e, _)| e <= requested) else {
            return Some((requested, first.1));
        };
        let epoch = self.epochs[idx].0;
        let end = match self.epochs.get(idx + 1) {
            Some(&(_, next_start)) => next_start,
            None => self.leo(),
        };
        Some((epoch, end))
    }

    /// Checks an idempotent batch's sequence numbers against the producer state, as Kafka 4.1's
    /// `ProducerAppendInfo.checkSequence`: with no state for the producer (all its records were
    /// lost or truncated away) any sequence is accepted; a newer producer epoch must start at 0.
    pub fn check_sequence(&self, pid: u32, epoch: u16, first_seq: i32, last_seq: i32) -> SeqCheck {
        let Ok(at) = self.producers.binary_search_by_key(&pid, |p| p.pid) else {
            return SeqCheck::Append;
        };
        let state = &self.producers[at];
        if epoch < state.epoch {
            return SeqCheck::StaleEpoch;
        }
        if epoch > state.epoch {
            return if first_seq == 0 { SeqCheck::Append } else { SeqCheck::OutOfOrder { expected: 0 } };
        }
        let batches = state.kept();
        if let Some(dup) = batches.iter().find(|b| b.first_seq == first_seq && b.last_seq == last_seq) {
            return SeqCheck::Duplicate(*dup);
        }
        let expected = batches.last().map_or(0, |b| b.last_seq + 1);
        if first_seq == expected {
            SeqCheck::Append
        } else {
            SeqCheck::OutOfOrder { expected }
        }
    }

    /// Appends records; each must carry the offset equal to the LEO at its turn.
    pub fn append(&mut self, records: &[LogRecord]) {
        self.version += 1;
        for r in records {
            debug_assert_eq!(r.offset, self.leo());
            self.assign_epoch(r.epoch, r.offset);
            self.track_producer(r);
            self.txns.track(r);
            self.bytes += r.size as u64;
            self.records.push(*r);
        }
    }

    fn track_producer(&mut self, r: &LogRecord) {
        if r.pid == 0 {
            return;
        }
        let at = match self.producers.binary_search_by_key(&r.pid, |p| p.pid) {
            Ok(at) => at,
            Err(at) => {
                self.producers.insert(at, ProducerBatches { pid: r.pid, epoch: r.producer_epoch, len: 0, batches: Default::default() });
                at
            }
        };
        let batches = &mut self.producers[at];
        if batches.epoch != r.producer_epoch {
            batches.epoch = r.producer_epoch;
            batches.len = 0;
        }
        // A marker sets the producer's epoch (above) but is no batch of its sequences.
        if r.kind.is_marker() {
            return;
        }
        match batches.len.checked_sub(1).map(|last| &mut batches.batches[last]) {
            Some(b) if !r.batch_start && b.last_offset + 1 == r.offset => {
                b.last_seq = r.seq;
                b.last_offset = r.offset;
            }
            _ => batches.push(BatchMeta { first_seq: r.seq, last_seq: r.seq, first_offset: r.offset, last_offset: r.offset }),
        }
    }

    /// The recovery point: the offset up to which the log is on disk.
    pub fn recovery_point(&self) -> u64 {
        self.recovery_point
    }

    /// Flushes the whole log to disk (`UnifiedLog.flush`): at a clean shutdown, and after the log
    /// is loaded at start-up (what recovery read back is on disk).
    pub fn flush(&mut self) {
        self.recovery_point = self.leo();
    }

    /// After an append: flushes once `flush.messages` records are unflushed, as
    /// `UnifiedLog.append` does (`unflushedMessages >= flushInterval`).
    pub fn flush_if_due(&mut self, flush_messages: i64) {
        if self.leo() - self.recovery_point >= flush_messages.max(1) as u64 {
            self.flush();
        }
    }

    /// Removes every record at or above `offset`; returns the removed records' ids.
    /// The epoch cache and producer state are cut back to match, as Kafka's truncation does.
    pub fn truncate_to(&mut self, offset: u64) -> Vec<RecordId> {
        self.version += 1;
        let offset = offset.max(self.log_start);
        let keep = offset.saturating_sub(self.log_start) as usize;
        let mut removed = Vec::new();
        for r in self.records.iter_from(keep) {
            self.bytes -= r.size as u64;
            removed.push(r.record);
        }
        self.records.truncate(keep);
        self.recovery_point = self.recovery_point.min(offset);
        // Kafka's `truncateFromEnd`: epochs that start at or after the new end are forgotten.
        self.epochs.retain(|&(_, start)| start < offset);
        if self.high_watermark > offset {
            self.high_watermark = offset;
        }
        self.rebuild_producers();
        removed
    }

    fn rebuild_producers(&mut self) {
        self.producers.clear();
        self.txns.clear();
        let records = self.records.clone();
        for r in records.iter() {
            self.track_producer(&r);
            self.txns.track(&r);
        }
        self.txns.high_watermark_moved(self.high_watermark);
    }

    /// Records from `from` up to the LEO, at most `max_bytes` (but always at least one record).
    pub fn read(&self, from: u64, max_bytes: u64) -> Vec<LogRecord> {
        let mut out = Vec::new();
        let mut bytes = 0u64;
        let start = match from.checked_sub(self.log_start) {
            Some(i) => i as usize,
            None => return out,
        };
        for r in self.records.iter_from(start) {
            if !out.is_empty() && bytes + r.size as u64 > max_bytes {
                break;
            }
            bytes += r.size as u64;
            out.push(r);
        }
        out
    }

    /// Moves the log start offset forward, deleting the records before it.
    pub fn advance_log_start(&mut self, new_start: u64) -> Vec<RecordId> {
        self.version += 1;
        let gone = new_start.saturating_sub(self.log_start).min(self.records.len() as u64) as usize;
        let mut removed = Vec::with_capacity(gone);
        for r in self.records.iter().take(gone) {
            self.bytes -= r.size as u64;
            removed.push(r.record);
        }
        self.records.drop_front(gone);
        self.log_start = self.log_start.max(new_start);
        self.recovery_point = self.recovery_point.max(self.log_start);
        if self.high_watermark < self.log_start {
            self.high_watermark = self.log_start;
        }
        self.txns.log_start_moved(self.log_start);
        // Epoch entries wholly before the new start are dropped, keeping the one that covers it.
        while self.epochs.len() > 1 && self.epochs[1].1 <= self.log_start {
            self.epochs.remove(0);
        }
        removed
    }

    /// The offset retention may delete up to (exclusive): only records below the high watermark,
    /// older than `retention_ms` or beyond `retention_bytes` from the newest end.
    pub fn retention_cutoff(&self, now: u64, retention_ms: i64, retention_bytes: i64) -> u64 {
        let mut cut = self.log_start;
        let mut bytes = self.bytes as i64;
        for r in self.records.iter() {
            if r.offset >= self.high_watermark {
                break;
            }
            let too_old = retention_ms >= 0 && now.saturating_sub(r.append_time) > retention_ms as u64;
            let too_big = retention_bytes >= 0 && bytes > retention_bytes;
            if !(too_old || too_big) {
                break;
            }
            bytes -= r.size as i64;
            cut = r.offset + 1;
        }
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(offset: u64, epoch: u32, record: RecordId) -> LogRecord {
        LogRecord { offset, epoch, record, pid: 0, seq: -1, batch_start: true, producer_epoch: 0, append_time: offset, kind: crate::sim::types::RecordKind::Plain, size: 10 }
    }

    fn idem(offset: u64, seq: i32, batch_start: bool) -> LogRecord {
        idem_in(offset, 0, seq, batch_start)
    }

    fn idem_in(offset: u64, producer_epoch: u16, seq: i32, batch_start: bool) -> LogRecord {
        LogRecord { offset, epoch: 1, record: offset as u32, pid: 7, seq, batch_start, producer_epoch, append_time: 0, kind: crate::sim::types::RecordKind::Plain, size: 10 }
    }

    #[test]
    fn a_follower_cloned_from_the_leaders_log_shares_what_it_copies_until_it_diverges() {
        let mut leader = ReplicaLog::default();
        let mut follower = leader.clone();
        leader.append(&[rec(0, 0, 0), rec(1, 0, 1), rec(2, 0, 2)]);
        follower.append(&[rec(0, 0, 0), rec(1, 0, 1)]);
        assert!(follower.records.shares_buffer_with(&leader.records), "the copy only widens the follower's view");
        assert_eq!(follower.leo(), 2);
        follower.truncate_to(1);
        follower.append(&[rec(1, 1, 9)]);
        assert!(!follower.records.shares_buffer_with(&leader.records), "a diverging follower has its own buffer");
        assert_eq!(follower.records().map(|r| r.record).collect::<Vec<_>>(), vec![0, 9]);
        assert_eq!(leader.records().map(|r| r.record).collect::<Vec<_>>(), vec![0, 1, 2], "the leader's log is untouched");
    }

    #[test]
    fn the_replicas_of_a_partition_share_one_buffer_after_a_run() {
        let text = crate::builtin::get("replication-hw-and-leo").expect("built in");
        let scenario = crate::scenario::parse("r.toml", text).expect("valid");
        let mut sim = scenario.start(scenario.seed);
        sim.run_until(scenario.duration_ms, |_, _| {});
        let mut checked = 0;
        for pidx in 0..sim.tps.len() {
            let logs: Vec<&ReplicaLog> = sim.brokers.iter().filter_map(|b| b.replicas[pidx].as_ref()).map(|r| &r.log).collect();
            for pair in logs.windows(2) {
                if pair[0].leo() > 0 && pair[0].records().eq(pair[1].records()) {
                    assert!(pair[0].records.shares_buffer_with(&pair[1].records), "partition {pidx}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 0, "some replicas hold the same records");
    }

    #[test]
    fn the_recovery_point_moves_at_flush_messages_and_never_above_the_log() {
        let mut log = ReplicaLog::default();
        log.append(&[rec(0, 0, 0), rec(1, 0, 1)]);
        log.flush_if_due(3);
        assert_eq!(log.recovery_point(), 0, "two unflushed records are fewer than flush.messages = 3");
        log.append(&[rec(2, 0, 2)]);
        log.flush_if_due(3);
        assert_eq!(log.recovery_point(), 3, "the third unflushed record flushes the log up to its end");
        log.append(&[rec(3, 0, 3)]);
        log.flush_if_due(i64::MAX);
        assert_eq!(log.recovery_point(), 3, "Kafka's default never flushes");
        log.truncate_to(2);
        assert_eq!(log.recovery_point(), 2, "a truncation takes the recovery point down with the log");
        log.advance_log_start(3);
        assert_eq!(log.recovery_point(), 3, "records before the log start are gone from disk, not unflushed");
    }

    #[test]
    fn epoch_end_offsets_follow_the_cache() {
        let mut log = ReplicaLog::default();
        log.append(&[rec(0, 1, 0), rec(1, 1, 1), rec(2, 3, 2)]);
        assert_eq!(log.epochs(), &[(1, 0), (3, 2)]);
        assert_eq!(log.end_offset_for_epoch(1), Some((1, 2)));
        assert_eq!(log.end_offset_for_epoch(2), Some((1, 2)));
        assert_eq!(log.end_offset_for_epoch(3), Some((3, 3)));
        assert_eq!(log.end_offset_for_epoch(0), Some((0, 0)));
        assert_eq!(ReplicaLog::default().end_offset_for_epoch(1), None);
    }

    #[test]
    fn truncation_cuts_records_epochs_and_high_watermark() {
        let mut log = ReplicaLog::default();
        log.append(&[rec(0, 1, 10), rec(1, 1, 11), rec(2, 2, 12), rec(3, 2, 13)]);
        log.set_high_watermark(4);
        assert_eq!(log.truncate_to(2), vec![12, 13]);
        assert_eq!(log.leo(), 2);
        assert_eq!(log.high_watermark(), 2);
        assert_eq!(log.epochs(), &[(1, 0)]);
        assert_eq!(log.bytes(), 20);
    }

    #[test]
    fn sequence_check_finds_duplicates_and_gaps() {
        let mut log = ReplicaLog::default();
        log.append(&[idem(0, 0, true), idem(1, 1, false), idem(2, 2, true)]);
        assert_eq!(
            log.check_sequence(7, 0, 0, 1),
            SeqCheck::Duplicate(BatchMeta { first_seq: 0, last_seq: 1, first_offset: 0, last_offset: 1 })
        );
        assert_eq!(log.check_sequence(7, 0, 3, 3), SeqCheck::Append);
        assert_eq!(log.check_sequence(7, 0, 5, 5), SeqCheck::OutOfOrder { expected: 3 });
        log.truncate_to(2);
        assert_eq!(log.check_sequence(7, 0, 2, 2), SeqCheck::Append);
    }

    /// Kafka 4.1's `ProducerAppendInfo.checkSequence`: no state, any sequence; a newer epoch must
    /// start at 0 and then replaces the old epoch's batches; an older epoch is refused.
    #[test]
    fn sequence_check_follows_the_producer_epoch() {
        let mut log = ReplicaLog::default();
        assert_eq!(log.check_sequence(7, 0, 4, 4), SeqCheck::Append, "no state for the producer: any sequence");
        log.append(&[idem(0, 0, true), idem(1, 1, false)]);
        assert_eq!(log.check_sequence(7, 1, 2, 2), SeqCheck::OutOfOrder { expected: 0 }, "a new epoch starts at 0");
        assert_eq!(log.check_sequence(7, 1, 0, 0), SeqCheck::Append);
        log.append(&[idem_in(2, 1, 0, true)]);
        assert_eq!(log.check_sequence(7, 0, 2, 2), SeqCheck::StaleEpoch);
        assert_eq!(log.check_sequence(7, 1, 1, 1), SeqCheck::Append, "the new epoch's sequence goes on from 0");
        assert_eq!(
            log.check_sequence(7, 1, 0, 0),
            SeqCheck::Duplicate(BatchMeta { first_seq: 0, last_seq: 0, first_offset: 2, last_offset: 2 })
        );
    }

    #[test]
    fn retention_deletes_only_below_the_high_watermark() {
        let mut log = ReplicaLog::default();
        log.append(&[rec(0, 1, 0), rec(1, 1, 1), rec(2, 1, 2)]);
        log.set_high_watermark(2);
        assert_eq!(log.retention_cutoff(1_000, 10, -1), 2);
        assert_eq!(log.retention_cutoff(1_000, -1, 15), 2);
        assert_eq!(log.retention_cutoff(1_000, -1, 25), 1);
        assert_eq!(log.advance_log_start(2), vec![0, 1]);
        assert_eq!((log.log_start(), log.leo(), log.bytes()), (2, 3, 10));
    }
}
