//! Transactions made to fail on purpose, for tests of what a failure between the transactions of
//! one change leaves behind (built only for this crate's tests and with the `faults` feature).
//!
//! Transactions are numbered from 1 in the order [`DynamoStore::transact`](super::DynamoStore)
//! runs them on a store carrying the [`Faults`] (clones share the count). A failing one is not
//! sent: it fails as an unreachable DynamoDB would, so nothing of it is applied.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use oms_domain::StoreError;

/// Which transactions fail, and how many ran.
#[derive(Debug, Default)]
pub struct Faults {
    ran: AtomicUsize,
    failing: Mutex<BTreeSet<usize>>,
}

impl Faults {
    /// Fails the transactions with these numbers (1 is the first run after the faults are set).
    pub fn failing(numbers: impl IntoIterator<Item = usize>) -> Self {
        Self { ran: AtomicUsize::new(0), failing: Mutex::new(numbers.into_iter().collect()) }
    }

    /// How many transactions were attempted so far, failed ones included.
    pub fn transactions(&self) -> usize {
        self.ran.load(Ordering::SeqCst)
    }

    /// Counts one more transaction; its injected failure, if it is one of the failing numbers.
    pub(super) fn next(&self) -> Option<StoreError> {
        let number = self.ran.fetch_add(1, Ordering::SeqCst) + 1;
        let fails = self.failing.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(&number);
        fails.then(|| StoreError::Unavailable(format!("injected fault: transaction {number} failed")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_listed_transactions_fail_and_each_once() {
        let faults = Faults::failing([2, 3]);
        let failed: Vec<bool> = (0..4).map(|_| faults.next().is_some()).collect();
        assert_eq!(failed, [false, true, true, false]);
        assert_eq!(faults.transactions(), 4);
    }
}
