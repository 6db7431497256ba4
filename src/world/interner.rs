//! Values stored once and named by a small index: requests (so calls carry
//! a `u32`, and a request seen a million times is one allocation) and
//! texts such as cluster names and configured response bodies.

use std::collections::BTreeMap;

#[derive(Clone, Debug)]
pub struct Interner<T: Ord + Clone> {
    items: Vec<T>,
    index: BTreeMap<T, u32>,
}

impl<T: Ord + Clone> Default for Interner<T> {
    fn default() -> Self {
        Interner {
            items: Vec::new(),
            index: BTreeMap::new(),
        }
    }
}

impl<T: Ord + Clone> Interner<T> {
    pub fn intern(&mut self, value: T) -> u32 {
        if let Some(&i) = self.index.get(&value) {
            return i;
        }
        let i = self.items.len() as u32;
        self.items.push(value.clone());
        self.index.insert(value, i);
        i
    }

    pub fn get(&self, i: u32) -> &T {
        &self.items[i as usize]
    }
}

impl Interner<String> {
    /// Interns a borrowed string without allocating when it is known.
    pub fn intern_str(&mut self, value: &str) -> u32 {
        match self.index.get(value) {
            Some(&i) => i,
            None => self.intern(value.to_string()),
        }
    }

    /// The index of `value`, if it was ever interned.
    pub fn find(&self, value: &str) -> Option<u32> {
        self.index.get(value).copied()
    }
}
