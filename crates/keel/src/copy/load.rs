//! Streaming one table: a reader thread walks the SQLite table, encodes
//! each row in binary COPY format and checksums it, and hands ~1 MB chunks
//! through a bounded channel to `COPY … FROM STDIN` on a PostgreSQL
//! connection. Memory stays a few chunks per table however large it is.

use super::encode::{self, Checksum, Misfit};
use super::types::PgType;
use crate::db::error::fail;
use crate::error::{Error, Result};
use bytes::Bytes;
use futures_util::SinkExt;
use std::path::PathBuf;
use tokio_postgres::Client;

const CHUNK: usize = 1 << 20;

/// What the reader found: rows, bytes sent, and the source checksum.
#[derive(Debug, Clone, Copy, Default)]
pub struct Streamed {
    pub rows: u64,
    pub bytes: u64,
    pub checksum: Checksum,
}

/// A value that does not fit, with where it is.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub table: String,
    pub column: String,
    pub row: String,
    pub value: String,
    pub misfit: Misfit,
}

impl Refusal {
    pub fn into_error(self) -> Error {
        let hint = match self.misfit.cast {
            Some(c) => format!(
                "nothing was written; fix the value in SQLite, or choose the column's type with --cast {}.{}={c}",
                self.table, self.column
            ),
            None => "nothing was written; fix the value in SQLite".into(),
        };
        Error::InvalidInput {
            message: format!(
                "{}.{} at {}: value {} does not fit: {}",
                self.table, self.column, self.row, self.value, self.misfit.reason
            ),
            hint: Some(hint),
        }
    }
}

enum Message {
    Chunk(Bytes, u64),
    Refused(Box<Refusal>),
    Failed(String),
}

/// What to read: the SQLite file, the table, its columns and their types.
pub struct Source {
    pub path: PathBuf,
    pub table: String,
    pub columns: Vec<String>,
    pub types: Vec<PgType>,
    /// Whether rows have a rowid to name in errors.
    pub has_rowid: bool,
}

/// Copies one table into `client` (inside the caller's transaction).
/// `progress` gets the running row count after every chunk.
pub async fn copy_table(
    client: &Client,
    source: Source,
    copy_sql: &str,
    progress: &dyn Fn(u64),
) -> Result<Streamed> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Message>(4);
    let table = source.table.clone();
    let reader = std::thread::spawn(move || read(source, tx));
    let sink = client
        .copy_in::<_, Bytes>(copy_sql)
        .await
        .map_err(|e| fail(format!("starting COPY into {table}"), &e))?;
    let mut sink = std::pin::pin!(sink);
    let mut failure = None;
    while let Some(message) = rx.recv().await {
        match message {
            Message::Chunk(bytes, rows) => {
                if let Err(e) = sink.send(bytes).await {
                    failure = Some(fail(format!("copying rows into {table}"), &e));
                    break;
                }
                progress(rows);
            }
            Message::Refused(r) => {
                failure = Some(r.into_error());
                break;
            }
            Message::Failed(m) => {
                failure = Some(Error::invalid_input(format!(
                    "reading {table} from SQLite: {m}"
                )));
                break;
            }
        }
    }
    drop(rx);
    let streamed = reader
        .join()
        .map_err(|_| Error::invalid_input(format!("the reader of {table} stopped unexpectedly")))?;
    if let Some(e) = failure {
        return Err(e); // the sink is dropped unfinished: the COPY fails
    }
    sink.as_mut()
        .finish()
        .await
        .map_err(|e| fail(format!("finishing COPY into {table}"), &e))?;
    Ok(streamed)
}

fn read(source: Source, tx: tokio::sync::mpsc::Sender<Message>) -> Streamed {
    let mut streamed = Streamed::default();
    if let Err(m) = read_rows(&source, Some(&tx), &mut streamed) {
        let _ = tx.blocking_send(m);
    }
    streamed
}

/// Encodes and checksums a table without sending it anywhere (`keel
/// validate`'s SQLite side).
pub fn checksum_source(source: &Source) -> Result<Streamed> {
    let mut streamed = Streamed::default();
    match read_rows(source, None, &mut streamed) {
        Ok(()) => Ok(streamed),
        Err(Message::Refused(r)) => Err(r.into_error()),
        Err(Message::Failed(m)) => Err(Error::invalid_input(format!(
            "reading {} from SQLite: {m}",
            source.table
        ))),
        Err(Message::Chunk(..)) => Ok(streamed),
    }
}

fn read_rows(
    source: &Source,
    tx: Option<&tokio::sync::mpsc::Sender<Message>>,
    streamed: &mut Streamed,
) -> Result<(), Message> {
    let failed = |e: rusqlite::Error| Message::Failed(e.to_string());
    let conn = super::inspect::open(&source.path).map_err(|e| Message::Failed(e.to_string()))?;
    let q = |s: &str| crate::dialect::Dialect::Sqlite.quote(s);
    let cols: Vec<String> = source.columns.iter().map(|c| q(c)).collect();
    let key = if source.has_rowid { "rowid" } else { "NULL" };
    let sql = format!(
        "SELECT {key}, {} FROM {}",
        cols.join(", "),
        q(&source.table)
    );
    let mut stmt = conn.prepare(&sql).map_err(failed)?;
    let mut rows = stmt.query([]).map_err(failed)?;
    let n = source.types.len();
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK + CHUNK / 4);
    buf.extend_from_slice(encode::HEADER);
    let mut count: u64 = 0;
    while let Some(row) = rows.next().map_err(failed)? {
        let start = buf.len();
        buf.extend_from_slice(&(n as i16).to_be_bytes());
        for (i, ty) in source.types.iter().enumerate() {
            let value = row.get_ref(i + 1).map_err(failed)?;
            if let Err(misfit) = encode::field(*ty, value, &mut buf) {
                let rowid: Option<i64> = row.get(0).ok();
                return Err(Message::Refused(Box::new(Refusal {
                    table: source.table.clone(),
                    column: source.columns[i].clone(),
                    row: match rowid {
                        Some(r) => format!("rowid {r}"),
                        None => format!("row {}", count + 1),
                    },
                    value: encode::preview(value),
                    misfit,
                })));
            }
        }
        let hash = encode::row_hash(&source.types, &buf[start..]).ok_or_else(|| {
            Message::Failed("internal: a row did not encode as a whole tuple".into())
        })?;
        streamed.checksum.add(hash);
        count += 1;
        if buf.len() >= CHUNK {
            streamed.bytes += buf.len() as u64;
            let Some(tx) = tx else {
                buf.clear();
                continue;
            };
            let chunk = Bytes::from(std::mem::replace(
                &mut buf,
                Vec::with_capacity(CHUNK + CHUNK / 4),
            ));
            if tx.blocking_send(Message::Chunk(chunk, count)).is_err() {
                return Ok(()); // the receiver gave up; it reports why
            }
        }
    }
    buf.extend_from_slice(encode::TRAILER);
    streamed.bytes += buf.len() as u64;
    streamed.rows = count;
    if let Some(tx) = tx {
        let _ = tx.blocking_send(Message::Chunk(Bytes::from(buf), count));
    }
    Ok(())
}

/// Reads a table back from PostgreSQL in binary and checksums it the same
/// way the rows were checksummed when they left SQLite.
pub async fn checksum_target(
    client: &Client,
    table: &str,
    columns: &[String],
    types: &[PgType],
    pages: Option<(u64, Option<u64>)>,
) -> Result<Checksum> {
    use futures_util::StreamExt;
    let q = |s: &str| crate::dialect::Dialect::Postgres.quote(s);
    let cols: Vec<String> = columns.iter().map(|c| q(c)).collect();
    // a slice of the table's pages (a TID range scan), so several
    // connections can read one large table back at once
    let range = match pages {
        None => String::new(),
        Some((from, None)) => format!(" WHERE ctid >= '({from},0)'::tid"),
        Some((from, Some(to))) => {
            format!(" WHERE ctid >= '({from},0)'::tid AND ctid < '({to},0)'::tid")
        }
    };
    let sql = format!(
        "COPY (SELECT {} FROM {}{range}) TO STDOUT (FORMAT binary)",
        cols.join(", "),
        q(table)
    );
    let stream = client
        .copy_out(&sql)
        .await
        .map_err(|e| fail(format!("reading {table} back"), &e))?;
    let mut stream = std::pin::pin!(stream);
    let mut checksum = Checksum::default();
    let mut pending: Vec<u8> = Vec::new();
    let mut header = false;
    let broken = || {
        Error::invalid_input(format!(
            "reading {table} back: the COPY stream is malformed"
        ))
    };
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| fail(format!("reading {table} back"), &e))?;
        // PostgreSQL sends one message per row: hash it where it lies
        if header && pending.is_empty() && encode::tuple_len(&chunk) == Some(chunk.len()) {
            checksum.add(encode::row_hash(types, &chunk).ok_or_else(broken)?);
            continue;
        }
        pending.extend_from_slice(&chunk);
        let mut at = 0;
        if !header {
            if pending.len() < encode::HEADER.len() {
                continue;
            }
            let ext =
                u32::from_be_bytes(pending[15..19].try_into().map_err(|_| broken())?) as usize;
            at = encode::HEADER.len() + ext;
            header = true;
        }
        while let Some(len) = encode::tuple_len(&pending[at..]) {
            if len == 0 {
                at = pending.len();
                break;
            }
            let hash = encode::row_hash(types, &pending[at..at + len]).ok_or_else(broken)?;
            checksum.add(hash);
            at += len;
        }
        pending.drain(..at);
    }
    Ok(checksum)
}
