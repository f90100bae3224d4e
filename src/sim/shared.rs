//! Sequences whose clones share storage, so that a snapshot of the whole simulation costs little
//! more than the state that changed since the last one.
//!
//! The page keeps a snapshot every few hundred steps to seek instantly. A long run holds hundreds
//! of thousands of log records and ledger entries; copying them into every snapshot made the
//! memory grow with the square of the run's length. Both types here keep value semantics (a clone
//! never sees the other's later changes), so the simulation stays deterministic whether or not
//! storage is shared.

use serde::{Serialize, Serializer};
use std::cell::RefCell;
use std::fmt;
use std::ops::{Index, IndexMut};
use std::rc::Rc;

/// An append-only sequence (with truncation at either end) whose clones share one buffer.
///
/// A version is a window `start..end` of the buffer, and the buffer only ever grows: a push
/// appends when this version ends where the buffer ends, and merely widens the window when the
/// buffer already holds an equal item there (a replay from a snapshot retraces the run it was
/// taken from). Only a version that diverges from what the buffer holds copies its window into a
/// buffer of its own, once. Dropping items from the front or the back only narrows the window.
pub struct History<T> {
    buf: Rc<RefCell<Vec<T>>>,
    start: usize,
    end: usize,
}

impl<T> Clone for History<T> {
    fn clone(&self) -> Self {
        History { buf: Rc::clone(&self.buf), start: self.start, end: self.end }
    }
}

impl<T> Default for History<T> {
    fn default() -> Self {
        History { buf: Rc::new(RefCell::new(Vec::new())), start: 0, end: 0 }
    }
}

impl<T: Clone + PartialEq> History<T> {
    /// How many items this version holds.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Appends an item.
    pub fn push(&mut self, item: T) {
        let mut buf = self.buf.borrow_mut();
        if buf.len() == self.end {
            buf.push(item);
        } else if buf[self.end] != item {
            let mut own = buf[self.start..self.end].to_vec();
            own.push(item);
            drop(buf);
            self.buf = Rc::new(RefCell::new(own));
            self.end -= self.start;
            self.start = 0;
        }
        self.end += 1;
    }

    /// Keeps the first `len` items.
    pub fn truncate(&mut self, len: usize) {
        self.end = self.start + len.min(self.len());
    }

    /// Forgets the first `n` items.
    pub fn drop_front(&mut self, n: usize) {
        self.start += n.min(self.len());
    }

    /// The item at `index` (counted from this version's first item).
    pub fn get(&self, index: usize) -> Option<T> {
        (index < self.len()).then(|| self.buf.borrow()[self.start + index].clone())
    }

    /// The last item.
    pub fn last(&self) -> Option<T> {
        self.len().checked_sub(1).and_then(|i| self.get(i))
    }

    /// The items from `index` on, oldest first.
    pub fn iter_from(&self, index: usize) -> impl DoubleEndedIterator<Item = T> + '_ {
        // Each item is borrowed only while it is copied out, so another version of the same
        // buffer may push while this iterator is alive.
        (self.start + index.min(self.len())..self.end).map(|i| self.buf.borrow()[i].clone())
    }

    /// The items, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = T> + '_ {
        self.iter_from(0)
    }

    /// Whether this version and `other` read the same buffer.
    #[cfg(test)]
    pub(crate) fn shares_buffer_with(&self, other: &History<T>) -> bool {
        Rc::ptr_eq(&self.buf, &other.buf)
    }
}

impl<T: Clone + PartialEq + fmt::Debug> fmt::Debug for History<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T: Clone + PartialEq + Serialize> Serialize for History<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

/// Items per chunk of a [`Chunked`] vector: small enough that copying the one a step writes to
/// is cheap, large enough that the list of chunks a clone copies stays short.
const CHUNK: usize = 32;

/// A vector split into shared chunks: a clone copies only the list of chunks, and a write copies
/// just the chunk it lands in when a snapshot still shares it. Suited to items that change for a
/// while after they are added (a record's attempts and outcome) and rarely later.
pub struct Chunked<T> {
    chunks: Vec<Rc<Vec<T>>>,
    len: usize,
}

impl<T> Clone for Chunked<T> {
    fn clone(&self) -> Self {
        Chunked { chunks: self.chunks.clone(), len: self.len }
    }
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Chunked { chunks: Vec::new(), len: 0 }
    }
}

impl<T: Clone> Chunked<T> {
    /// How many items it holds.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends an item.
    pub fn push(&mut self, item: T) {
        if self.len.is_multiple_of(CHUNK) {
            self.chunks.push(Rc::new(Vec::with_capacity(CHUNK)));
        }
        let last = self.chunks.last_mut().expect("a chunk was just ensured");
        Rc::make_mut(last).push(item);
        self.len += 1;
    }

    /// The item at `index`.
    pub fn get(&self, index: usize) -> Option<&T> {
        (index < self.len).then(|| &self.chunks[index / CHUNK][index % CHUNK])
    }

    /// The item at `index`, for writing (copying its chunk first if a snapshot shares it).
    pub fn get_mut(&mut self, index: usize) -> Option<&mut T> {
        (index < self.len).then(|| &mut Rc::make_mut(&mut self.chunks[index / CHUNK])[index % CHUNK])
    }

    /// The last item.
    pub fn last(&self) -> Option<&T> {
        self.len.checked_sub(1).and_then(|i| self.get(i))
    }

    /// The items in order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + '_ {
        self.chunks.iter().flat_map(|c| c.iter())
    }
}

impl<T: Clone + Default> Chunked<T> {
    /// The item at `index` for writing, first growing the vector with default items to reach it.
    pub fn entry(&mut self, index: usize) -> &mut T {
        while self.len <= index {
            self.push(T::default());
        }
        self.get_mut(index).expect("the vector was just grown to hold it")
    }
}

impl<T: Clone> Index<usize> for Chunked<T> {
    type Output = T;
    fn index(&self, index: usize) -> &T {
        self.get(index).unwrap_or_else(|| panic!("index {index} out of a chunked vector of {}", self.len))
    }
}

impl<T: Clone> IndexMut<usize> for Chunked<T> {
    fn index_mut(&mut self, index: usize) -> &mut T {
        let len = self.len;
        self.get_mut(index).unwrap_or_else(|| panic!("index {index} out of a chunked vector of {len}"))
    }
}

impl<T: Clone + fmt::Debug> fmt::Debug for Chunked<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T: Clone + Serialize> Serialize for Chunked<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<T: Clone> FromIterator<T> for Chunked<T> {
    fn from_iter<I: IntoIterator<Item = T>>(items: I) -> Self {
        let mut out = Chunked::default();
        for item in items {
            out.push(item);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_history_clone_keeps_its_own_value_while_sharing_the_buffer() {
        let mut a = History::default();
        for i in 0..5 {
            a.push(i);
        }
        let mut b = a.clone();
        a.push(5);
        assert_eq!(b.iter().collect::<Vec<_>>(), vec![0, 1, 2, 3, 4]);
        b.push(5);
        assert!(Rc::ptr_eq(&a.buf, &b.buf), "a retraced push shares the buffer");
        b.push(6);
        a.push(7);
        assert!(!Rc::ptr_eq(&a.buf, &b.buf), "the version that diverged copied its window");
        assert_eq!(a.iter().collect::<Vec<_>>(), vec![0, 1, 2, 3, 4, 5, 7]);
        assert_eq!(b.iter().collect::<Vec<_>>(), vec![0, 1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn a_history_truncates_at_both_ends() {
        let mut h = History::default();
        for i in 0..6 {
            h.push(i * 10);
        }
        let snapshot = h.clone();
        h.drop_front(2);
        h.truncate(3);
        assert_eq!(h.iter().collect::<Vec<_>>(), vec![20, 30, 40]);
        assert_eq!((h.get(0), h.last(), h.get(3)), (Some(20), Some(40), None));
        h.push(99);
        assert_eq!(h.iter_from(2).collect::<Vec<_>>(), vec![40, 99]);
        assert_eq!(snapshot.iter().collect::<Vec<_>>(), vec![0, 10, 20, 30, 40, 50]);
    }

    #[test]
    fn a_chunked_write_copies_only_the_shared_chunk() {
        let mut a: Chunked<u32> = (0..100).collect();
        let b = a.clone();
        a[99] = 7;
        *a.entry(140) += 1;
        assert_eq!((b[99], b.len()), (99, 100));
        assert_eq!((a[99], a[120], a[140], a.len()), (7, 0, 1, 141));
        assert!(Rc::ptr_eq(&a.chunks[0], &b.chunks[0]), "an untouched chunk stays shared");
        assert!(!Rc::ptr_eq(&a.chunks[3], &b.chunks[3]), "the written chunk was copied");
    }
}
