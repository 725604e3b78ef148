//! The server's cache of artifacts, by (kernel build id, context hash),
//! bounded by a count and evicting the least recently used.

use std::collections::VecDeque;

#[derive(Debug)]
pub struct Cache<V> {
    cap: usize,
    /// Most recently used last.
    entries: VecDeque<((String, String), V)>,
}

impl<V: Clone> Cache<V> {
    pub fn new(cap: usize) -> Cache<V> {
        Cache {
            cap: cap.max(1),
            entries: VecDeque::new(),
        }
    }

    pub fn get(&mut self, build_id: &str, context: &str) -> Option<V> {
        let i = self
            .entries
            .iter()
            .position(|((b, c), _)| b == build_id && c == context)?;
        let e = self.entries.remove(i).expect("found");
        let v = e.1.clone();
        self.entries.push_back(e);
        Some(v)
    }

    pub fn insert(&mut self, build_id: &str, context: &str, v: V) {
        self.entries
            .retain(|((b, c), _)| !(b == build_id && c == context));
        if self.entries.len() == self.cap {
            self.entries.pop_front();
        }
        self.entries
            .push_back(((build_id.to_string(), context.to_string()), v));
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
