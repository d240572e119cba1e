//! The bell that wakes idle workers: rung by this process's creations, and, through the LISTEN
//! connection, by every instance's. On Citus it also carries which applications this process
//! just queued jobs for (`Hints`).

use std::{
    collections::BTreeSet,
    sync::{Arc, Mutex},
};

use tokio::sync::{futures::Notified, Notify};

use crate::live::Announcer;

/// Wakes idle workers of this process and, through the announcer's NOTIFY, of every instance;
/// cheap to clone.
#[derive(Clone)]
pub struct Bell {
    workers: Arc<Notify>,
    announcer: Announcer,
    hints: Hints,
}

/// On Citus, the applications this process queued jobs for and no worker has claimed since: the
/// workers claim theirs on each one's shard first, instead of reading every shard to find which
/// applications have jobs (`Worker::run_batch`). Cheap to clone; shared by the process.
#[derive(Clone, Default)]
pub struct Hints(Arc<Mutex<BTreeSet<i64>>>);

impl Hints {
    /// Applications with jobs queued (or left: more than one lot ready).
    pub fn add(&self, apps: impl IntoIterator<Item = i64>) {
        self.0.lock().unwrap().extend(apps);
    }

    /// Half of the applications hinted (rounded up, in id order): the workers woken together
    /// split them, and each takes another share when done.
    pub fn take_share(&self) -> Vec<i64> {
        let mut hinted = self.0.lock().unwrap();
        let share = hinted.len().div_ceil(2);
        let mut taken = Vec::with_capacity(share);
        while taken.len() < share {
            taken.extend(hinted.pop_first());
        }
        taken
    }
}

impl Bell {
    /// A bell that reaches other instances through `announcer`.
    pub fn new(announcer: Announcer) -> Self {
        Bell {
            workers: Arc::default(),
            announcer,
            hints: Hints::default(),
        }
    }

    /// Wakes every worker of this process waiting now.
    pub fn ring(&self) {
        self.workers.notify_waiters();
    }

    /// What the LISTEN connection rings on every NOTIFY.
    pub fn workers(&self) -> Arc<Notify> {
        self.workers.clone()
    }

    /// Resolves at the next ring (register it before looking at the queue).
    pub(super) fn rung(&self) -> Notified<'_> {
        self.workers.notified()
    }

    /// The applications this process's creations queued jobs for, which its workers read.
    pub fn hints(&self) -> Hints {
        self.hints.clone()
    }

    /// New jobs were committed for `apps` (on Citus; empty on one node, where workers claim
    /// from the whole job table): hints them, then `announce`s.
    pub fn announce_for(&self, apps: Vec<i64>) {
        if !apps.is_empty() {
            self.hints.add(apps);
        }
        self.announce();
    }

    /// New jobs were committed: wakes this process's workers now, and (through the announcer)
    /// the other instances' workers with a NOTIFY.
    pub fn announce(&self) {
        self.ring();
        self.announcer.nudge();
    }
}

#[cfg(test)]
mod tests {
    use super::Hints;

    #[test]
    fn workers_woken_together_split_the_hints_and_none_is_left_behind() {
        let hints = Hints::default();
        hints.add([7, 3, 9, 3, 5]);
        let first = hints.take_share();
        let second = hints.take_share();
        let third = hints.take_share();
        assert_eq!(first, vec![3, 5]);
        assert_eq!(second, vec![7]);
        assert_eq!(third, vec![9]);
        assert!(hints.take_share().is_empty());
        hints.add([4]);
        assert_eq!(hints.take_share(), vec![4]);
    }
}
