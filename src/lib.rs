//! kubectl-ds: DaemonSet coverage, placement explanations, rollouts and previews.
//!
//! Layers, each in its own folder: `cli` (the command line), `logic` (pure decisions over
//! Kubernetes objects), `cluster` (fetching them), `render` (printing reports), and `commands`
//! (one verb each, composing the three).

// Input from a user or a cluster must never panic the plugin; unit tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod cli;
pub mod cluster;
pub mod commands;
pub mod error;
pub mod logic;
pub mod render;
pub mod settings;
pub mod yaml;
