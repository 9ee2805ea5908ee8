//! What every part of the domain speaks: identifiers, money, quantities, text inputs, limits,
//! who may do what, and the errors a use case answers with.

pub mod access;
pub mod error;
pub mod ids;
pub mod limits;
pub mod money;
pub mod quantity;
pub mod text;
