//! Transactions made to fail on purpose, for tests of what a failure between the transactions of
//! one change leaves behind (built only for this crate's tests and with the `faults` feature).
//!
//! Transactions are numbered from 1 in the order [`DynamoStore::transact`](super::DynamoStore)
//! runs them on a store carrying the [`Faults`] (clones share the count). A failing one is not
//! sent: it fails as an unreachable DynamoDB would, so nothing of it is applied.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use aws_sdk_dynamodb::types::TransactWriteItem;
use oms_domain::StoreError;

/// Which transactions fail, and how many ran.
#[derive(Debug, Default)]
pub struct Faults {
    ran: AtomicUsize,
    failing: Mutex<BTreeSet<usize>>,
    crash_at_order_write: bool,
    crashed: AtomicBool,
}

impl Faults {
    /// Fails the transactions with these numbers (1 is the first run after the faults are set).
    pub fn failing(numbers: impl IntoIterator<Item = usize>) -> Self {
        Self { failing: Mutex::new(numbers.into_iter().collect()), ..Self::default() }
    }

    /// Fails the first transaction that writes an order item, whatever its number, and every
    /// transaction after it: the process died there. What ran before it stays applied.
    pub fn crash_at_order_write() -> Self {
        Self { crash_at_order_write: true, ..Self::default() }
    }

    /// How many transactions were attempted so far, failed ones included.
    pub fn transactions(&self) -> usize {
        self.ran.load(Ordering::SeqCst)
    }

    /// Counts one more transaction (of `items`); its injected failure, if it is to fail.
    pub(super) fn next(&self, items: &[TransactWriteItem]) -> Option<StoreError> {
        let number = self.ran.fetch_add(1, Ordering::SeqCst) + 1;
        if self.crash_at_order_write && (self.crashed.load(Ordering::SeqCst) || writes_order(items)) {
            self.crashed.store(true, Ordering::SeqCst);
            return Some(StoreError::Unavailable(format!("injected fault: crashed at transaction {number}")));
        }
        let fails = self.failing.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(&number);
        fails.then(|| StoreError::Unavailable(format!("injected fault: transaction {number} failed")))
    }
}

fn writes_order(items: &[TransactWriteItem]) -> bool {
    items.iter().any(|item| super::order_item::document(item).is_some())
}

#[cfg(test)]
mod tests {
    use super::super::keys;
    use super::*;

    #[test]
    fn only_the_listed_transactions_fail_and_each_once() {
        let faults = Faults::failing([2, 3]);
        let failed: Vec<bool> = (0..4).map(|_| faults.next(&[]).is_some()).collect();
        assert_eq!(failed, [false, true, true, false]);
        assert_eq!(faults.transactions(), 4);
    }

    #[test]
    fn a_crash_at_the_order_write_fails_it_and_everything_after() {
        let put = |sk: &str| {
            let put = aws_sdk_dynamodb::types::Put::builder()
                .table_name("t")
                .item(keys::PK, aws_sdk_dynamodb::types::AttributeValue::S("p".into()))
                .item(keys::SK, aws_sdk_dynamodb::types::AttributeValue::S(sk.into()))
                .item("doc", aws_sdk_dynamodb::types::AttributeValue::B(vec![1].into()))
                .build()
                .unwrap();
            vec![TransactWriteItem::builder().put(put).build()]
        };
        let faults = Faults::crash_at_order_write();
        let failed: Vec<bool> = [put("RESV#1"), put(keys::ORDER_SK), put("RESV#1")]
            .iter()
            .map(|items| faults.next(items).is_some())
            .collect();
        assert_eq!(failed, [false, true, true]);
    }
}
