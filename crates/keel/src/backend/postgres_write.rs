//! PostgreSQL tracking writes as they are sent: each write's parameters
//! with their types, so that the same write goes out as a statement
//! prepared once on a direct session, or as an unnamed statement behind a
//! transaction pooler (where a named one may land on another server
//! connection).

use crate::source::checksum::ALGORITHM;
use crate::tracking::{KEEL_VERSION, Write};
use tokio_postgres::Client;
use tokio_postgres::types::{ToSql, Type};

/// A tracking write as it is sent: a statement prepared on a direct
/// session, or unnamed text behind a pooler.
pub(super) enum WriteStatement {
    Named(tokio_postgres::Statement),
    Unnamed(String),
}

impl WriteStatement {
    pub(super) async fn send(
        &self,
        client: &Client,
        write: &Write,
    ) -> Result<(), tokio_postgres::Error> {
        let params = write_params(write);
        match self {
            WriteStatement::Named(s) => {
                let values: Vec<&(dyn ToSql + Sync)> = params.iter().map(|(v, _)| *v).collect();
                client.execute(s, &values).await.map(|_| ())
            }
            WriteStatement::Unnamed(sql) => client.execute_typed(sql, &params).await.map(|_| ()),
        }
    }
}

type Param<'a> = (&'a (dyn ToSql + Sync), Type);

/// A write's parameters with their types, in `$n` order.
fn write_params(write: &Write) -> Vec<Param<'_>> {
    let (int, text, boolean) = (Type::INT8, Type::TEXT, Type::BOOL);
    match write {
        Write::Upsert(r) => vec![
            (&r.version, int.clone()),
            (&r.name, text.clone()),
            (r.checksum.as_string(), text.clone()),
            (&ALGORITHM, text.clone()),
            (&r.duration_ms, int.clone()),
            (&r.success, boolean),
            (&r.error, text.clone()),
            (&r.failed_statement_index, int.clone()),
            (&r.failed_statement, text.clone()),
            (&r.statements_total, int.clone()),
            (&r.statements_applied, int.clone()),
            (&r.applied_by, text.clone()),
            (&KEEL_VERSION, text.clone()),
            (r.method.as_static(), text.clone()),
            (&r.sql, text.clone()),
            (&r.applied_at, text),
        ],
        Write::Progress {
            version,
            statements_applied,
            started,
        } => vec![
            (version, int.clone()),
            (statements_applied, int.clone()),
            (started, int),
        ],
        Write::Accept {
            version,
            name,
            checksum,
            sql,
        } => vec![
            (version, int),
            (checksum.as_string(), text.clone()),
            (&ALGORITHM, text.clone()),
            (sql, text.clone()),
            (name, text),
        ],
        Write::Delete { version } => vec![(version, int)],
        Write::RevertProgress {
            version,
            statements_applied,
            statements_total,
        } => vec![
            (version, int.clone()),
            (statements_applied, int.clone()),
            (statements_total, int),
        ],
        Write::RevertFailed {
            version,
            error,
            statements_applied,
            statements_total,
            duration_ms,
            by,
        } => vec![
            (version, int.clone()),
            (error, text.clone()),
            (statements_applied, int.clone()),
            (statements_total, int.clone()),
            (duration_ms, int),
            (by, text),
        ],
        Write::Reverted {
            version,
            statements_total,
            duration_ms,
            by,
        } => vec![
            (version, int.clone()),
            (statements_total, int.clone()),
            (duration_ms, int),
            (by, text),
        ],
    }
}
