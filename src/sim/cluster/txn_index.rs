//! What a replica's log knows of transactions: the transactions open on the partition, those
//! completed whose marker is not yet below the high watermark, and the aborted ones (Kafka's
//! `ProducerStateManager.ongoingTxns` and `unreplicatedTxns`, and the segments' `.txnindex`).
//! From these come the first unstable offset, the last stable offset (LSO) that read_committed
//! consumers read up to, and the aborted transactions a read_committed fetch is told about.
//!
//! Everything here follows from the log's records, so followers build the same state from the
//! records they replicate, and a truncation rebuilds it by reading the log again.

use crate::sim::types::{LogRecord, RecordKind};
use serde::Serialize;

/// One transaction of one producer on this partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct TxnSpan {
    /// The producer id.
    pub pid: u32,
    /// The offset of its first record here.
    pub first_offset: u64,
    /// The producer epoch of that record.
    pub epoch: u16,
    /// The offset of its marker, once written.
    pub marker_offset: Option<u64>,
    /// Whether the marker is an ABORT.
    pub aborted: bool,
}

/// The transactions of one replica's log, oldest first.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TxnIndex {
    spans: Vec<TxnSpan>,
}

impl TxnIndex {
    /// Takes note of an appended record: the first transactional record of a producer with no
    /// open transaction opens one (`ProducerAppendInfo.appendDataBatch`), a marker completes the
    /// open one (`completeTxn`). A marker with no open transaction changes nothing here.
    pub fn track(&mut self, r: &LogRecord) {
        match r.kind {
            RecordKind::Plain => {}
            RecordKind::Transactional => {
                if !self.spans.iter().any(|s| s.pid == r.pid && s.marker_offset.is_none()) {
                    self.spans.push(TxnSpan { pid: r.pid, first_offset: r.offset, epoch: r.producer_epoch, marker_offset: None, aborted: false });
                }
            }
            RecordKind::Commit | RecordKind::Abort => {
                if let Some(open) = self.spans.iter_mut().find(|s| s.pid == r.pid && s.marker_offset.is_none()) {
                    open.marker_offset = Some(r.offset);
                    open.aborted = r.kind == RecordKind::Abort;
                }
            }
        }
    }

    /// Forgets everything (before the log is read again after a truncation).
    pub fn clear(&mut self) {
        self.spans.clear();
    }

    /// The high watermark moved to `hw`: committed transactions whose marker is below it are
    /// stable for good and need no more keeping (`removeUnreplicatedTransactions`); aborted ones
    /// stay in the index.
    pub fn high_watermark_moved(&mut self, hw: u64) {
        self.spans.retain(|s| s.aborted || s.marker_offset.is_none_or(|m| m >= hw));
    }

    /// The log start moved to `start`: aborted transactions wholly before it are gone with their
    /// segments.
    pub fn log_start_moved(&mut self, start: u64) {
        self.spans.retain(|s| s.marker_offset.is_none_or(|m| m >= start));
    }

    /// Kafka's `firstUnstableOffset`: the first offset of the earliest transaction that is open,
    /// or complete but with its marker not yet below the high watermark `hw`.
    pub fn first_unstable_offset(&self, hw: u64) -> Option<u64> {
        self.spans.iter().filter(|s| s.marker_offset.is_none_or(|m| m >= hw)).map(|s| s.first_offset).min()
    }

    /// Kafka's `lastStableOffset`: the first unstable offset if it is below the high watermark,
    /// else the high watermark.
    pub fn last_stable_offset(&self, hw: u64) -> u64 {
        self.first_unstable_offset(hw).map_or(hw, |f| f.min(hw))
    }

    /// The aborted transactions a read_committed fetch of `[from, to)` must be told about
    /// (`TransactionIndex.collectAbortedTxns`: marker at or after `from`, first offset before
    /// `to`), as (producer id, first offset).
    pub fn aborted_between(&self, from: u64, to: u64) -> Vec<(u32, u64)> {
        self.spans
            .iter()
            .filter(|s| s.aborted && s.marker_offset.is_some_and(|m| m >= from) && s.first_offset < to)
            .map(|s| (s.pid, s.first_offset))
            .collect()
    }

    /// The transactions open on this partition: (producer id, first offset).
    pub fn open(&self) -> impl Iterator<Item = (u32, u64)> + '_ {
        self.spans.iter().filter(|s| s.marker_offset.is_none()).map(|s| (s.pid, s.first_offset))
    }

    /// Whether producer `pid` has a transaction of epoch `epoch` open here (`UnifiedLog.hasOngoingTransaction`):
    /// with transaction version 2 every transaction has a new epoch, so a write of the next
    /// transaction that arrives before the previous one's marker is not taken as part of it.
    pub fn is_open(&self, pid: u32, epoch: u16) -> bool {
        self.spans.iter().any(|s| s.pid == pid && s.epoch == epoch && s.marker_offset.is_none())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(offset: u64, pid: u32, kind: RecordKind) -> LogRecord {
        LogRecord { offset, epoch: 0, record: offset as u32, pid, seq: -1, batch_start: true, producer_epoch: 0, append_time: 0, kind, size: 10 }
    }

    #[test]
    fn an_open_transaction_holds_the_lso_at_its_first_offset_until_its_marker_is_below_the_hw() {
        let mut ix = TxnIndex::default();
        ix.track(&rec(0, 0, RecordKind::Plain));
        ix.track(&rec(1, 7, RecordKind::Transactional));
        ix.track(&rec(2, 0, RecordKind::Plain));
        ix.track(&rec(3, 7, RecordKind::Transactional));
        assert_eq!(ix.last_stable_offset(1), 1, "the HW below the transaction is the LSO");
        assert_eq!(ix.last_stable_offset(4), 1, "a plain record after an open transaction waits behind it");
        ix.track(&rec(4, 7, RecordKind::Commit));
        assert_eq!(ix.last_stable_offset(4), 1, "the marker is not below the HW yet");
        assert_eq!(ix.last_stable_offset(5), 5, "the marker is below the HW: all is stable");
        ix.high_watermark_moved(5);
        assert_eq!(ix.open().count(), 0);
        assert!(ix.aborted_between(0, 5).is_empty(), "a committed transaction is not in the aborted index");
    }

    #[test]
    fn aborted_transactions_stay_in_the_index_and_are_listed_by_overlap() {
        let mut ix = TxnIndex::default();
        ix.track(&rec(0, 7, RecordKind::Transactional));
        ix.track(&rec(1, 8, RecordKind::Transactional));
        ix.track(&rec(2, 7, RecordKind::Abort));
        ix.track(&rec(3, 8, RecordKind::Commit));
        ix.track(&rec(4, 7, RecordKind::Transactional));
        ix.track(&rec(5, 7, RecordKind::Abort));
        ix.high_watermark_moved(6);
        assert_eq!(ix.last_stable_offset(6), 6);
        assert_eq!(ix.aborted_between(0, 6), vec![(7, 0), (7, 4)]);
        assert_eq!(ix.aborted_between(3, 4), Vec::<(u32, u64)>::new(), "the first ended at 2, the second starts at 4");
        assert_eq!(ix.aborted_between(2, 3), vec![(7, 0)], "a fetch from the marker's offset still hears of it");
        ix.log_start_moved(3);
        assert_eq!(ix.aborted_between(0, 6), vec![(7, 4)], "retention took the first with its segment");
    }

    #[test]
    fn a_marker_with_no_open_transaction_and_two_producers_interleaved() {
        let mut ix = TxnIndex::default();
        ix.track(&rec(0, 7, RecordKind::Commit));
        assert_eq!(ix.last_stable_offset(1), 1, "nothing was open");
        ix.track(&rec(1, 7, RecordKind::Transactional));
        ix.track(&rec(2, 8, RecordKind::Transactional));
        ix.track(&rec(3, 8, RecordKind::Commit));
        assert_eq!(ix.last_stable_offset(4), 1, "the earliest open transaction decides");
        assert!(ix.is_open(7, 0) && !ix.is_open(8, 0));
        assert!(!ix.is_open(7, 1), "a write of the next epoch is not part of the open transaction");
    }
}
