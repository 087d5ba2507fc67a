//! Shared harness for Sluice's end-to-end tests.
//!
//! # Layout
//!
//! - [`error`]: the harness's error type.

pub mod error;
