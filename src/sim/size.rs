//! Record and batch sizes in bytes, as Kafka's v2 record format (magic 2) counts them without
//! compression: `DefaultRecord.sizeInBytes`, `DefaultRecordBatch.RECORD_BATCH_OVERHEAD`,
//! `AbstractRecords.estimateSizeInBytesUpperBound`, and the `MemoryRecordsBuilder` checks the
//! producer's `RecordAccumulator` makes to decide whether a record joins the open batch (Kafka
//! 4.1.2). The simulator's records have no headers, so the header count is always 0 (one byte).
//! Checked against the real classes by the `record_size` conformance kind (docs/conformance.md).

/// `DefaultRecordBatch.RECORD_BATCH_OVERHEAD`: the v2 batch header (base offset, length, leader
/// epoch, magic, CRC, attributes, last offset delta, timestamps, producer id, epoch and sequence,
/// record count).
pub const RECORD_BATCH_OVERHEAD: u32 = 61;

/// `DefaultRecord.MAX_RECORD_OVERHEAD`: the largest a record's length, offset delta, timestamp
/// delta and attributes can take (5 + 5 + 10 + 1 bytes), which the upper bound assumes.
const MAX_RECORD_OVERHEAD: u32 = 21;

/// `ByteUtils.sizeOfVarint`: bytes of a zigzag-encoded 32-bit varint.
pub fn varint_size(value: i32) -> u32 {
    let mut v = ((value << 1) ^ (value >> 31)) as u32;
    let mut bytes = 1;
    while v >= 0x80 {
        v >>= 7;
        bytes += 1;
    }
    bytes
}

/// `ByteUtils.sizeOfVarlong`: bytes of a zigzag-encoded 64-bit varint.
pub fn varlong_size(value: i64) -> u32 {
    let mut v = ((value << 1) ^ (value >> 63)) as u64;
    let mut bytes = 1;
    while v >= 0x80 {
        v >>= 7;
        bytes += 1;
    }
    bytes
}

/// A length field: -1 (one byte) for null, else the varint of the length and the bytes.
fn field(len: Option<u32>) -> u32 {
    match len {
        None => varint_size(-1),
        Some(n) => varint_size(n as i32) + n,
    }
}

/// Key, value and an empty header list (`DefaultRecord.sizeOf` with no headers).
fn key_value(key: Option<u32>, value: Option<u32>) -> u32 {
    field(key) + field(value) + varint_size(0)
}

/// `DefaultRecord.sizeInBytes(offsetDelta, timestampDelta, keySize, valueSize, headers)` with no
/// headers: the record's body (attributes, the two deltas, key, value, header count) and the varint
/// of the body's length in front of it. `None` is a null key or value.
pub fn record_size(offset_delta: i32, timestamp_delta: i64, key: Option<u32>, value: Option<u32>) -> u32 {
    let body = 1 + varint_size(offset_delta) + varlong_size(timestamp_delta) + key_value(key, value);
    body + varint_size(body as i32)
}

/// `AbstractRecords.estimateSizeInBytesUpperBound` for magic 2 and no compression: a batch header
/// and the record with its overhead at the most. `KafkaProducer.send` compares it with
/// `max.request.size`, and the accumulator sizes a new batch's buffer by it.
pub fn size_upper_bound(key: Option<u32>, value: Option<u32>) -> u32 {
    RECORD_BATCH_OVERHEAD + MAX_RECORD_OVERHEAD + key_value(key, value)
}

/// An open batch's size as `MemoryRecordsBuilder` (no compression) keeps it: the bytes written so
/// far (the header and the records) against the write limit, which `RecordAccumulator` sets to
/// `max(batch.size, the first record's upper bound)` so that a record larger than `batch.size` gets a
/// batch of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct BatchSize {
    /// `estimatedBytesWritten()`: the header and the records appended.
    pub bytes: u32,
    /// `writeLimit`.
    pub write_limit: u32,
    /// Records appended (the next one's offset delta).
    pub records: u32,
    /// The first record's timestamp, from which the others' deltas count.
    pub base_timestamp: u64,
}

impl BatchSize {
    /// A new batch for its first record, with the buffer the accumulator allocates for it
    /// (`RecordAccumulator.append`, or `ProducerBatch.createBatchOffAccumulatorForRecord` when a
    /// batch is split). Returns the batch and the record's size in it.
    pub fn new(batch_size: u32, timestamp: u64, key: Option<u32>, value: Option<u32>) -> (BatchSize, u32) {
        let write_limit = batch_size.max(size_upper_bound(key, value));
        let mut batch = BatchSize { bytes: RECORD_BATCH_OVERHEAD, write_limit, records: 0, base_timestamp: timestamp };
        let size = batch.append(timestamp, key, value);
        (batch, size)
    }

    /// The record's size if it were appended next.
    pub fn next_record_size(&self, timestamp: u64, key: Option<u32>, value: Option<u32>) -> u32 {
        record_size(self.records as i32, timestamp as i64 - self.base_timestamp as i64, key, value)
    }

    /// `MemoryRecordsBuilder.isFull`: the write limit is reached (checked only once a record is in,
    /// so that a batch is never empty).
    pub fn is_full(&self) -> bool {
        self.records > 0 && self.write_limit <= self.bytes
    }

    /// `MemoryRecordsBuilder.hasRoomFor`: the first record always fits; a later one fits if the bytes
    /// written and its size stay within the write limit.
    pub fn has_room_for(&self, timestamp: u64, key: Option<u32>, value: Option<u32>) -> bool {
        if self.is_full() {
            return false;
        }
        self.records == 0 || self.write_limit >= self.bytes + self.next_record_size(timestamp, key, value)
    }

    /// Appends a record; returns its size in the batch.
    pub fn append(&mut self, timestamp: u64, key: Option<u32>, value: Option<u32>) -> u32 {
        let size = self.next_record_size(timestamp, key, value);
        self.bytes += size;
        self.records += 1;
        size
    }
}

/// The size of each record of a batch and of the whole batch, for records given as (timestamp, key
/// length, value length) in the batch's order: what the leader checks against `max.message.bytes`
/// and what the log holds.
pub fn batch_sizes(records: impl IntoIterator<Item = (u64, Option<u32>, Option<u32>)>) -> (Vec<u32>, u32) {
    let mut sizes = Vec::new();
    let mut base = None;
    for (i, (timestamp, key, value)) in records.into_iter().enumerate() {
        let base = *base.get_or_insert(timestamp);
        sizes.push(record_size(i as i32, timestamp as i64 - base as i64, key, value));
    }
    let total = RECORD_BATCH_OVERHEAD + sizes.iter().sum::<u32>();
    (sizes, total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_are_zigzag() {
        // 0..=63 and -1..=-64 take one byte; 64 takes two (zigzag 128).
        assert_eq!((varint_size(0), varint_size(63), varint_size(64), varint_size(-1), varint_size(-64), varint_size(-65)), (1, 1, 2, 1, 1, 2));
        assert_eq!((varint_size(i32::MAX), varint_size(i32::MIN)), (5, 5));
        assert_eq!((varlong_size(i64::MAX), varlong_size(i64::MIN), varlong_size(8191), varlong_size(8192)), (10, 10, 2, 3));
    }

    #[test]
    fn a_small_record() {
        // Null key, value "v1": attributes 1, offset delta 1, timestamp delta 1, key -1 (1),
        // value length 1 + 2 bytes, header count 1 = 8 bytes of body, and 1 for its length.
        assert_eq!(record_size(0, 0, None, Some(2)), 9);
        assert_eq!(record_size(0, 0, Some(1), Some(2)), 10);
        // The upper bound assumes the largest deltas and length: 61 + 21 + 1 + 3 + 1.
        assert_eq!(size_upper_bound(None, Some(2)), 87);
        // A 1 MiB value: its length's varint takes 4 bytes (zigzag doubles it to 2^21).
        assert_eq!(size_upper_bound(None, Some(1 << 20)), 61 + 21 + 1 + 4 + (1 << 20) + 1);
    }

    #[test]
    fn the_write_limit_is_batch_size_or_the_first_records_bound() {
        // batch.size 100: a 9-byte record joins while 61 + the records stay within 100.
        let (mut b, first) = BatchSize::new(100, 0, None, Some(2));
        assert_eq!((first, b.bytes), (9, 70));
        let mut n = 1;
        while b.has_room_for(0, None, Some(2)) {
            b.append(0, None, Some(2));
            n += 1;
        }
        assert_eq!((n, b.bytes), (4, 97));
        assert!(!b.is_full(), "97 < 100: not full, though no such record fits");
        // A record larger than batch.size gets a buffer of its upper bound, whose slack (the
        // deltas and length need fewer bytes than the bound assumes) can take a tiny record.
        let (big, _) = BatchSize::new(100, 0, None, Some(1000));
        assert_eq!(big.write_limit, size_upper_bound(None, Some(1000)));
        assert!(big.has_room_for(0, None, Some(0)));
        assert!(!big.has_room_for(0, None, Some(20)));
    }

    #[test]
    fn batch_sizes_count_deltas() {
        let (sizes, total) = batch_sizes([(10, None, Some(2)), (10, None, Some(2)), (200, Some(3), Some(2))]);
        // The third: offset delta 2 (1 byte), timestamp delta 190 (2 bytes), key 1 + 3.
        assert_eq!(sizes, vec![9, 9, 13]);
        assert_eq!(total, 61 + 31);
    }
}
