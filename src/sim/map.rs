//! Ordered maps and sets kept as sorted vectors.
//!
//! The simulation's maps are small (a group's members, a consumer's requests, a link's settings)
//! and are cloned with every snapshot. A sorted vector finds a key by bisection in one block of
//! memory, clones with one allocation, and iterates in key order exactly as `BTreeMap` does, so
//! traces are unchanged. It is also far less code per key type than `BTreeMap`'s nodes, which
//! matters in the page's download. Inserting in the middle moves the entries after it, so a map
//! that grows large by random inserts should be built with `collect` (which sorts once) instead.

use serde::ser::{Serialize, SerializeMap, Serializer};
use std::borrow::Borrow;
use std::fmt;

/// A map ordered by key, as a vector of entries sorted by key with no key twice.
#[derive(Clone, PartialEq, Eq)]
pub struct VecMap<K, V> {
    entries: Vec<(K, V)>,
}

impl<K, V> Default for VecMap<K, V> {
    fn default() -> Self {
        VecMap { entries: Vec::new() }
    }
}

impl<K: Ord, V> VecMap<K, V> {
    /// An empty map.
    pub const fn new() -> Self {
        VecMap { entries: Vec::new() }
    }

    fn find<Q: Ord + ?Sized>(&self, key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
    {
        self.entries.binary_search_by(|(k, _)| k.borrow().cmp(key))
    }

    /// The value at `key`.
    pub fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|i| &self.entries[i].1)
    }

    /// The value at `key`, to change.
    pub fn get_mut<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        let i = self.find(key).ok()?;
        Some(&mut self.entries[i].1)
    }

    /// Whether `key` has a value.
    pub fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.find(key).is_ok()
    }

    /// The stored key equal to `key`, and its value.
    pub fn get_key_value<Q: Ord + ?Sized>(&self, key: &Q) -> Option<(&K, &V)>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|i| (&self.entries[i].0, &self.entries[i].1))
    }

    /// Sets the value at `key`, returning the one it replaces.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries.insert(i, (key, value));
                None
            }
        }
    }

    /// Takes the value at `key` out.
    pub fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        let i = self.find(key).ok()?;
        Some(self.entries.remove(i).1)
    }

    /// The value at `key`, inserted first if missing.
    pub fn entry(&mut self, key: K) -> Entry<'_, K, V> {
        match self.find(&key) {
            Ok(index) => Entry { map: self, index, key: None },
            Err(index) => Entry { map: self, index, key: Some(key) },
        }
    }

}

impl<K, V> VecMap<K, V> {

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Removes every entry.
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// Keeps only the entries for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        self.entries.retain_mut(|(k, v)| keep(k, v));
    }

    /// Entries in key order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&K, &V)> + ExactSizeIterator {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// Entries in key order, values to change.
    pub fn iter_mut(&mut self) -> impl DoubleEndedIterator<Item = (&K, &mut V)> + ExactSizeIterator {
        self.entries.iter_mut().map(|(k, v)| (&*k, v))
    }

    /// Keys in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &K> + ExactSizeIterator {
        self.entries.iter().map(|(k, _)| k)
    }

    /// Values in key order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> + ExactSizeIterator {
        self.entries.iter().map(|(_, v)| v)
    }

    /// Values in key order, to change.
    pub fn values_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut V> + ExactSizeIterator {
        self.entries.iter_mut().map(|(_, v)| v)
    }

}

/// A place in a [`VecMap`] for one key, found or to be filled.
pub struct Entry<'a, K, V> {
    map: &'a mut VecMap<K, V>,
    index: usize,
    /// The key to insert at `index`; none when the key is already there.
    key: Option<K>,
}

impl<'a, K, V> Entry<'a, K, V> {
    /// The value, inserting `make()` first if the key is missing.
    pub fn or_insert_with(self, make: impl FnOnce() -> V) -> &'a mut V {
        if let Some(key) = self.key {
            self.map.entries.insert(self.index, (key, make()));
        }
        &mut self.map.entries[self.index].1
    }

    /// The value, inserting `value` first if the key is missing.
    pub fn or_insert(self, value: V) -> &'a mut V {
        self.or_insert_with(|| value)
    }

    /// The value, inserting the default first if the key is missing.
    pub fn or_default(self) -> &'a mut V
    where
        V: Default,
    {
        self.or_insert_with(V::default)
    }
}

impl<K: Ord, V> FromIterator<(K, V)> for VecMap<K, V> {
    /// Sorts once; of entries with the same key the last wins, as in `BTreeMap`.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut entries: Vec<(K, V)> = iter.into_iter().collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let mut kept: Vec<(K, V)> = Vec::with_capacity(entries.len());
        for entry in entries {
            match kept.last_mut() {
                Some(last) if last.0 == entry.0 => *last = entry,
                _ => kept.push(entry),
            }
        }
        VecMap { entries: kept }
    }
}

impl<K: Ord, V> Extend<(K, V)> for VecMap<K, V> {
    /// Inserts one by one, so a later value replaces an earlier one of the same key.
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl<'a, K, V> IntoIterator for &'a VecMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, (K, V)>, fn(&'a (K, V)) -> (&'a K, &'a V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k, v))
    }
}

impl<K: Ord + Borrow<Q>, Q: Ord + ?Sized, V> std::ops::Index<&Q> for VecMap<K, V> {
    type Output = V;

    fn index(&self, key: &Q) -> &V {
        self.get(key).expect("no entry for the key")
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for VecMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.entries.iter().map(|(k, v)| (k, v))).finish()
    }
}

impl<K: Serialize, V: Serialize> Serialize for VecMap<K, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (k, v) in &self.entries {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// A set ordered by value, as a sorted vector with no value twice.
#[derive(Clone, PartialEq, Eq)]
pub struct VecSet<T> {
    items: Vec<T>,
}

impl<T> Default for VecSet<T> {
    fn default() -> Self {
        VecSet { items: Vec::new() }
    }
}

impl<T: Ord> VecSet<T> {
    /// An empty set.
    pub const fn new() -> Self {
        VecSet { items: Vec::new() }
    }

    fn find<Q: Ord + ?Sized>(&self, value: &Q) -> Result<usize, usize>
    where
        T: Borrow<Q>,
    {
        self.items.binary_search_by(|item| item.borrow().cmp(value))
    }

    /// Whether `value` is in the set.
    pub fn contains<Q: Ord + ?Sized>(&self, value: &Q) -> bool
    where
        T: Borrow<Q>,
    {
        self.find(value).is_ok()
    }

    /// Adds `value`; false if it was there already.
    pub fn insert(&mut self, value: T) -> bool {
        match self.find(&value) {
            Ok(_) => false,
            Err(i) => {
                self.items.insert(i, value);
                true
            }
        }
    }

    /// Takes `value` out; false if it was not there.
    pub fn remove<Q: Ord + ?Sized>(&mut self, value: &Q) -> bool
    where
        T: Borrow<Q>,
    {
        match self.find(value) {
            Ok(i) => {
                self.items.remove(i);
                true
            }
            Err(_) => false,
        }
    }

}

impl<T> VecSet<T> {

    /// Values in order.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.items.iter()
    }

}

impl<T: Ord> FromIterator<T> for VecSet<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut items: Vec<T> = iter.into_iter().collect();
        items.sort();
        items.dedup();
        VecSet { items }
    }
}

impl<T: Ord> Extend<T> for VecSet<T> {
    /// Appends and sorts once. The sort is stable and the first of equal values stays, so a value
    /// already in the set is kept, as `BTreeSet` keeps it.
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        self.items.extend(iter);
        self.items.sort();
        self.items.dedup();
    }
}

impl<T> IntoIterator for VecSet<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

impl<'a, T> IntoIterator for &'a VecSet<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

impl<T: fmt::Debug> fmt::Debug for VecSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(&self.items).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::{VecMap, VecSet};
    use std::collections::{BTreeMap, BTreeSet};

    /// The same operations on a `VecMap` and a `BTreeMap` leave the same entries in the same order.
    #[test]
    fn a_vec_map_behaves_as_a_btree_map() {
        let mut ours: VecMap<u32, u32> = VecMap::new();
        let mut theirs: BTreeMap<u32, u32> = BTreeMap::new();
        let mut x = 7u32;
        for step in 0..2_000u32 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let key = (x >> 16) % 64;
            match step % 5 {
                0 | 1 => assert_eq!(ours.insert(key, step), theirs.insert(key, step)),
                2 => assert_eq!(ours.remove(&key), theirs.remove(&key)),
                3 => *ours.entry(key).or_insert(0) += 1,
                _ => assert_eq!(ours.get(&key), theirs.get(&key)),
            }
            if step % 5 == 3 {
                *theirs.entry(key).or_insert(0) += 1;
            }
            assert_eq!(ours.iter().len(), theirs.len());
        }
        assert!(ours.iter().eq(theirs.iter()));
    }

    #[test]
    fn collecting_sorts_and_keeps_the_last_value_of_a_key() {
        let ours: VecMap<&str, u32> = [("b", 1), ("a", 2), ("b", 3)].into_iter().collect();
        let theirs: BTreeMap<&str, u32> = [("b", 1), ("a", 2), ("b", 3)].into_iter().collect();
        assert!(ours.iter().eq(theirs.iter()));
        assert_eq!(serde_json::to_string(&ours).expect("serializes"), serde_json::to_string(&theirs).expect("serializes"));
    }

    #[test]
    fn a_vec_set_behaves_as_a_btree_set() {
        let mut ours: VecSet<u32> = [5, 1, 5, 3].into_iter().collect();
        let mut theirs: BTreeSet<u32> = [5, 1, 5, 3].into_iter().collect();
        assert_eq!(ours.insert(2), theirs.insert(2));
        assert_eq!(ours.insert(3), theirs.insert(3));
        assert_eq!(ours.remove(&1), theirs.remove(&1));
        assert_eq!(ours.remove(&9), theirs.remove(&9));
        ours.extend([8, 2, 0, 8]);
        theirs.extend([8, 2, 0, 8]);
        assert!(ours.iter().eq(theirs.iter()));
    }
}
