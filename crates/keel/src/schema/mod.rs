//! Schema drift: read two schemas, compare them, and plan the change that
//! turns one into the other.
//!
//! Data flows one way: [`inspect`] (one file per engine, a fixed number of
//! whole-database queries) → [`model`] (one neutral [`Schema`]) → [`diff`]
//! (pure: typed changes pointing at model objects, each a [`Difference`]
//! with a stable id) → [`render`] (one file per dialect, matching on the
//! typed change: an idempotent, transactional plan with typed hazards). [`compare`] runs the
//! pipeline for `keel diff` and `keel check`: it builds the `migrations`
//! side in a [`scratch`] database and proves a plan converges before it
//! hands it out.

pub mod compare;
pub mod diff;
#[cfg(test)]
mod golden;
pub mod inspect;
pub mod model;
pub mod render;
pub(crate) use crate::db::scratch;
mod subset;
pub mod types;

pub use compare::{Comparison, Options, Side, compare};
pub use diff::{Change, Delta, Difference, Kind, diff};
pub use inspect::inspect;
pub use model::Schema;
pub use render::Plan;
