//! Type and default equivalences between engines live in [`crate::types`],
//! the one table copy, diff and the renderers share; re-exported here for
//! the schema code that compares and renders with them.

pub use crate::types::*;
