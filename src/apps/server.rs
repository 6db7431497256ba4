//! A server process: a pool of workers (requests in progress at once) and a
//! number of cores (CPU bursts running at once), each with a FIFO queue.
//!
//! A request holds a worker from admission until it responds, including
//! while it waits for downstream calls (thread-per-request, or a bounded
//! number of coroutines). Its CPU bursts additionally need a core. With one
//! worker and exponential service times this is exactly an M/M/1 queue,
//! which the tests check against queueing theory.

use std::collections::VecDeque;

use crate::sim::SimDuration;

#[derive(Clone, Debug)]
pub struct Server<C> {
    pub workers: u32,
    pub cores: u32,
    busy_workers: u32,
    busy_cores: u32,
    waiting: VecDeque<C>,
    cpu_waiting: VecDeque<(C, SimDuration)>,
    /// CPU time consumed so far.
    pub cpu_time: SimDuration,
    /// Requests admitted to a worker so far.
    pub admitted: u64,
    /// The longest the admission queue has been.
    pub peak_queue: usize,
}

impl<C: Copy> Server<C> {
    pub fn new(workers: u32, cores: u32) -> Self {
        Server {
            workers: workers.max(1),
            cores: cores.max(1),
            busy_workers: 0,
            busy_cores: 0,
            waiting: VecDeque::new(),
            cpu_waiting: VecDeque::new(),
            cpu_time: SimDuration::ZERO,
            admitted: 0,
            peak_queue: 0,
        }
    }

    /// A request arrives. `true`: a worker took it, start it now; `false`:
    /// it waits until [`Server::release`] hands it out.
    pub fn arrive(&mut self, call: C) -> bool {
        if self.busy_workers < self.workers {
            self.busy_workers += 1;
            self.admitted += 1;
            true
        } else {
            self.waiting.push_back(call);
            self.peak_queue = self.peak_queue.max(self.waiting.len());
            false
        }
    }

    /// A request finished; its worker takes the next waiting one, if any,
    /// which the caller must start.
    pub fn release(&mut self) -> Option<C> {
        match self.waiting.pop_front() {
            Some(next) => {
                self.admitted += 1;
                Some(next)
            }
            None => {
                self.busy_workers = self.busy_workers.saturating_sub(1);
                None
            }
        }
    }

    /// A request wants to compute for `d`. `true`: it runs now and finishes
    /// after `d`; `false`: it waits for a core.
    pub fn compute(&mut self, call: C, d: SimDuration) -> bool {
        self.cpu_time += d;
        if self.busy_cores < self.cores {
            self.busy_cores += 1;
            true
        } else {
            self.cpu_waiting.push_back((call, d));
            false
        }
    }

    /// A CPU burst finished; the core takes the next waiting burst, if any,
    /// which the caller must schedule to finish after its duration.
    pub fn compute_done(&mut self) -> Option<(C, SimDuration)> {
        match self.cpu_waiting.pop_front() {
            Some(next) => Some(next),
            None => {
                self.busy_cores = self.busy_cores.saturating_sub(1);
                None
            }
        }
    }

    /// Requests admitted and not yet finished, plus those waiting.
    pub fn in_system(&self) -> usize {
        self.busy_workers as usize + self.waiting.len()
    }

    /// Forgets every request in progress or waiting (the process died).
    pub fn reset(&mut self) -> Vec<C> {
        self.busy_workers = 0;
        self.busy_cores = 0;
        let mut lost: Vec<C> = self.waiting.drain(..).collect();
        lost.extend(self.cpu_waiting.drain(..).map(|(c, _)| c));
        lost
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workers_queue_in_order() {
        let mut s = Server::new(1, 1);
        assert!(s.arrive(1));
        assert!(!s.arrive(2));
        assert!(!s.arrive(3));
        assert_eq!(s.in_system(), 3);
        assert_eq!(s.release(), Some(2));
        assert_eq!(s.release(), Some(3));
        assert_eq!(s.release(), None);
        assert_eq!(s.in_system(), 0);
        assert_eq!(s.peak_queue, 2);
    }

    #[test]
    fn cores_queue_bursts_and_count_cpu() {
        let mut s = Server::new(4, 1);
        assert!(s.compute(1, SimDuration(10)));
        assert!(!s.compute(2, SimDuration(20)));
        assert_eq!(s.compute_done(), Some((2, SimDuration(20))));
        assert_eq!(s.compute_done(), None);
        assert_eq!(s.cpu_time, SimDuration(30));
    }
}
