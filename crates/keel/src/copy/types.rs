//! Choosing each column's PostgreSQL type: the rules live in
//! [`crate::types::sqlite`] (one table for copy, diff and the renderers);
//! re-exported here for copy's modules.

pub use crate::types::PgType;
pub use crate::types::sqlite::{Classes, choose, needs_profile};
