//! Helpers shared by integration tests.
pub mod ci;
pub mod json;
