//! The port contract suite (`oms_domain::ports::contract`) on the DynamoDB adapter, against
//! DynamoDB Local: one test per check, the same checks the memory adapter passes.

oms_domain::port_contract_tests!(oms_tests::store().await);
