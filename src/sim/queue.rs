//! The event queue: a binary min-heap on (time, sequence), plus FIFO "lanes"
//! for timers that all share one fixed delay.
//!
//! Ties in time pop in push order (the sequence number), so a run never
//! depends on heap internals. Lanes exist because most deadlines in a mesh
//! are fixed per caller (a 3 s client timeout, a 10 s connect timeout): every
//! entry pushed into a lane fires `delay` after it was pushed, so a lane is
//! already sorted and costs O(1) per push and pop instead of O(log n). The
//! next event is the smallest (time, seq) over the heap top and the lane
//! fronts, which is exactly the order one big heap would give.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

use super::time::{SimDuration, SimTime};

struct Entry<E> {
    time: SimTime,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.time == other.time && self.seq == other.seq
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    /// Reversed so that std's max-heap pops the earliest (time, seq).
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .time
            .cmp(&self.time)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

/// Identifies a fixed-delay lane created by [`Queue::lane`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LaneId(usize);

struct Lane<E> {
    delay: SimDuration,
    entries: VecDeque<Entry<E>>,
}

/// A deterministic event queue with a virtual clock.
pub struct Queue<E> {
    heap: BinaryHeap<Entry<E>>,
    lanes: Vec<Lane<E>>,
    seq: u64,
    now: SimTime,
    popped: u64,
    lane_entries: usize,
    peak_len: usize,
    /// Sums of the queue and of the heap's length at every pop, for means.
    len_sum: u128,
    heap_len_sum: u128,
}

impl<E> Default for Queue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> Queue<E> {
    pub fn new() -> Self {
        Queue {
            heap: BinaryHeap::new(),
            lanes: Vec::new(),
            seq: 0,
            now: SimTime::ZERO,
            popped: 0,
            lane_entries: 0,
            peak_len: 0,
            len_sum: 0,
            heap_len_sum: 0,
        }
    }

    /// The current virtual time: the time of the last popped event.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Schedules `event` at `at`. Scheduling in the past is a bug in the
    /// caller; the event is clamped to `now` so time never runs backwards.
    pub fn push_at(&mut self, at: SimTime, event: E) {
        let time = at.max(self.now);
        let seq = self.next_seq();
        self.heap.push(Entry { time, seq, event });
        self.note_len();
    }

    pub fn push_after(&mut self, delay: SimDuration, event: E) {
        self.push_at(self.now + delay, event);
    }

    /// The lane for timers of exactly `delay`, created on first use.
    pub fn lane(&mut self, delay: SimDuration) -> LaneId {
        if let Some(i) = self.lanes.iter().position(|l| l.delay == delay) {
            return LaneId(i);
        }
        self.lanes.push(Lane {
            delay,
            entries: VecDeque::new(),
        });
        LaneId(self.lanes.len() - 1)
    }

    /// Schedules `event` at `now + delay` of the lane.
    pub fn push_lane(&mut self, lane: LaneId, event: E) {
        let seq = self.next_seq();
        let l = &mut self.lanes[lane.0];
        let time = self.now + l.delay;
        l.entries.push_back(Entry { time, seq, event });
        self.lane_entries += 1;
        self.note_len();
    }

    /// Removes the earliest event and advances the clock to its time.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let mut best_lane: Option<usize> = None;
        let mut best: Option<(SimTime, u64)> = self.heap.peek().map(|e| (e.time, e.seq));
        for (i, lane) in self.lanes.iter().enumerate() {
            if let Some(front) = lane.entries.front() {
                let key = (front.time, front.seq);
                if best.is_none_or(|b| key < b) {
                    best = Some(key);
                    best_lane = Some(i);
                }
            }
        }
        best?;
        let entry = match best_lane {
            Some(i) => {
                self.lane_entries -= 1;
                self.lanes[i].entries.pop_front()?
            }
            None => self.heap.pop()?,
        };
        self.now = entry.time;
        self.popped += 1;
        self.len_sum += self.len() as u128 + 1;
        self.heap_len_sum += self.heap.len() as u128 + u128::from(best_lane.is_none());
        Some((entry.time, entry.event))
    }

    /// The time of the next event, if any.
    pub fn peek_time(&self) -> Option<SimTime> {
        let heap = self.heap.peek().map(|e| e.time);
        let lanes = self
            .lanes
            .iter()
            .filter_map(|l| l.entries.front().map(|e| e.time));
        heap.into_iter().chain(lanes).min()
    }

    /// Moves the clock forward to `t` without an event (used when a run
    /// stops at a deadline with nothing left to do before it).
    pub fn advance_to(&mut self, t: SimTime) {
        self.now = self.now.max(t);
    }

    pub fn len(&self) -> usize {
        self.heap.len() + self.lane_entries
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many events have been popped so far.
    pub fn popped(&self) -> u64 {
        self.popped
    }

    /// The mean number of pending events seen by each pop.
    pub fn mean_len(&self) -> f64 {
        if self.popped == 0 {
            0.0
        } else {
            self.len_sum as f64 / self.popped as f64
        }
    }

    /// The mean number of events in the heap (lanes excluded) at each pop:
    /// the size that sets the heap's cost.
    pub fn mean_heap_len(&self) -> f64 {
        if self.popped == 0 {
            0.0
        } else {
            self.heap_len_sum as f64 / self.popped as f64
        }
    }

    /// The largest number of pending events seen at once.
    pub fn peak_len(&self) -> usize {
        self.peak_len
    }

    fn next_seq(&mut self) -> u64 {
        let s = self.seq;
        self.seq += 1;
        s
    }

    fn note_len(&mut self) {
        let len = self.len();
        if len > self.peak_len {
            self.peak_len = len;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_time_then_push_order() {
        let mut q = Queue::new();
        q.push_at(SimTime(5), "b");
        q.push_at(SimTime(1), "a");
        q.push_at(SimTime(5), "c");
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(
            order,
            vec![(SimTime(1), "a"), (SimTime(5), "b"), (SimTime(5), "c")]
        );
        assert_eq!(q.now(), SimTime(5));
    }

    #[test]
    fn lanes_interleave_with_the_heap_as_one_queue_would() {
        let mut q = Queue::new();
        let lane = q.lane(SimDuration(10));
        q.push_lane(lane, "lane@10");
        q.push_at(SimTime(10), "heap@10");
        q.push_at(SimTime(3), "heap@3");
        let (_, first) = q.pop().unwrap();
        assert_eq!(first, "heap@3");
        q.push_lane(lane, "lane@13");
        let rest: Vec<_> = std::iter::from_fn(|| q.pop())
            .map(|(t, e)| (t.0, e))
            .collect();
        assert_eq!(
            rest,
            vec![(10, "lane@10"), (10, "heap@10"), (13, "lane@13")]
        );
    }

    #[test]
    fn same_delay_reuses_the_lane() {
        let mut q: Queue<()> = Queue::new();
        assert_eq!(q.lane(SimDuration(7)), q.lane(SimDuration(7)));
        assert_ne!(q.lane(SimDuration(7)), q.lane(SimDuration(8)));
    }

    #[test]
    fn past_events_are_clamped_to_now() {
        let mut q = Queue::new();
        q.push_at(SimTime(10), 1);
        q.pop();
        q.push_at(SimTime(2), 2);
        assert_eq!(q.pop(), Some((SimTime(10), 2)));
    }
}
