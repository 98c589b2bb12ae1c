//! PostgreSQL: sequences and identity columns.

use super::{Options, Report};
use crate::error::Result;
use tokio_postgres::Client;

pub(super) async fn run(
    _client: &Client,
    _tracking_table: &str,
    _options: &Options,
) -> Result<Report> {
    Ok(Report::default())
}
