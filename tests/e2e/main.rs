//! The end-to-end tests, in one binary so the crate is linked once: one module per command or
//! concern, each test against a real control plane on the testbed (`tests/testbed`), compared
//! with what the real controllers, the scheduler and kubectl do.

#[path = "../common/mod.rs"]
mod common;

mod admission;
mod coverage;
mod explain;
mod faults;
mod filters;
mod krew;
mod overhead;
mod preview;
mod privilege;
mod rollout;
mod scale;
mod testbed;
mod ux;
