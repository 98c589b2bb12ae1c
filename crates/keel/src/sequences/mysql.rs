//! MySQL/MariaDB: tables whose `AUTO_INCREMENT` is not above the maximum
//! of their auto-increment column, and integer columns that have used more
//! than 80% of their type's range.
//!
//! The check takes a constant number of round trips however many tables
//! there are: one catalog query, then the maxima of every column in
//! `UNION ALL` statements of [`CHUNK`] tables each.
//!
//! `fix` runs `ALTER TABLE … AUTO_INCREMENT = MAX + 1` per table that is
//! behind. MySQL DDL is **not transactional**: each ALTER commits on its
//! own, so an error part way leaves the earlier tables repaired (which is
//! harmless — the value is only ever raised, and the engine never sets it
//! below `MAX + 1` anyway, so a concurrent insert cannot be undercut).
//!
//! MyISAM/Aria columns that lead no index (`PRIMARY KEY (grp, id)`) number
//! rows per group and ignore the table's counter: they are checked for
//! exhaustion only.

use super::{Change, Finding, Options, Problem, Report};
use crate::db::error::fail;
use crate::dialect::Dialect;
use crate::error::{DbError, Error, Result};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Params, Row, Value};

/// Tables per `UNION ALL` statement of maxima.
const CHUNK: usize = 500;

/// MySQL's "Unknown system variable": MariaDB has no
/// `information_schema_stats_expiry`.
const ER_UNKNOWN_SYSTEM_VARIABLE: u16 = 1193;

pub(crate) const CATALOG: &str = include_str!("sql/mysql_catalog.sql");

/// One auto-increment column and where its table's counter stands.
#[derive(Clone, Debug)]
struct Column {
    table: String,
    column: String,
    /// `int unsigned`, `tinyint(4)`: as shown in findings.
    column_type: String,
    /// The largest value the type holds.
    type_max: u64,
    auto_increment: Option<u64>,
    /// Whether the column leads an index, so the table's counter is used.
    leads: bool,
    max: Option<i128>,
}

pub(super) async fn run(
    conn: &mut Conn,
    tracking_table: &str,
    options: &Options,
) -> Result<Report> {
    let known = crate::known::KnownTables::new(tracking_table);
    let mut columns = inspect(conn, tracking_table).await?;
    columns.retain(|c| !known.is_known(&c.table));
    let maxima = maxima(conn, &columns).await?;
    for (c, max) in columns.iter_mut().zip(maxima) {
        c.max = max;
    }
    let mut report = Report {
        columns_checked: columns.len(),
        ..Report::default()
    };
    for c in &columns {
        report.findings.extend(assess(c));
    }
    if options.fix {
        report.changes = fix(conn, &columns).await?;
    }
    Ok(report)
}

/// Every auto-increment integer column of the current database's base
/// tables, with its table's `AUTO_INCREMENT`: one query.
async fn inspect(conn: &mut Conn, tracking_table: &str) -> Result<Vec<Column>> {
    let context = "reading the AUTO_INCREMENT columns";
    // MySQL 8 caches TABLES.AUTO_INCREMENT for a day unless told not to.
    match conn
        .query_drop("SET SESSION information_schema_stats_expiry = 0")
        .await
    {
        Err(mysql_async::Error::Server(e)) if e.code == ER_UNKNOWN_SYSTEM_VARIABLE => {}
        other => other.map_err(|e| fail(context, e))?,
    }
    let rows: Vec<Row> = conn
        .exec(CATALOG, (tracking_table,))
        .await
        .map_err(|e| fail(context, e))?;
    let mut columns = Vec::with_capacity(rows.len());
    for mut row in rows {
        let data_type: String = take(&mut row, 2, context)?;
        let column_type: String = take(&mut row, 3, context)?;
        let Some(type_max) = type_max(&data_type, &column_type) else {
            continue;
        };
        columns.push(Column {
            table: take(&mut row, 0, context)?,
            column: take(&mut row, 1, context)?,
            column_type,
            type_max,
            auto_increment: take(&mut row, 4, context)?,
            leads: take::<i64>(&mut row, 5, context)? != 0,
            max: None,
        });
    }
    Ok(columns)
}

/// `MAX` of every column, in `columns`' order: one statement per [`CHUNK`]
/// tables.
async fn maxima(conn: &mut Conn, columns: &[Column]) -> Result<Vec<Option<i128>>> {
    let context = "reading the largest ids";
    let mut out = vec![None; columns.len()];
    for (chunk_no, chunk) in columns.chunks(CHUNK).enumerate() {
        let sql = chunk
            .iter()
            .map(|c| {
                format!(
                    "SELECT ?, MAX({}) FROM {}",
                    Dialect::Mysql.quote(&c.column),
                    Dialect::Mysql.quote(&c.table)
                )
            })
            .collect::<Vec<_>>()
            .join(" UNION ALL ");
        let base = chunk_no * CHUNK;
        let indexes = (base..base + chunk.len()).map(|i| Value::from(i as u64));
        let rows: Vec<Row> = conn
            .exec(sql, Params::Positional(indexes.collect()))
            .await
            .map_err(|e| fail(context, e))?;
        for mut row in rows {
            let i: Value = take(&mut row, 0, context)?;
            let max: Value = take(&mut row, 1, context)?;
            let slot = integer(i)
                .ok()
                .flatten()
                .and_then(|i| usize::try_from(i).ok())
                .and_then(|i| out.get_mut(i));
            let Some(slot) = slot else {
                return Err(bad(context, "a row of maxima has no valid index".into()));
            };
            *slot = integer(max).map_err(|m| bad(context, m))?;
        }
    }
    Ok(out)
}

/// What is wrong with one column: pure, so it is unit-tested.
fn assess(c: &Column) -> Vec<Finding> {
    let mut found = Vec::new();
    let finding = |problem, detail, fixable| Finding {
        problem,
        table: c.table.clone(),
        column: c.column.clone(),
        sequence: Some("AUTO_INCREMENT".to_string()),
        role: None,
        detail,
        fixable,
    };
    let counter = c.auto_increment.filter(|_| c.leads).map(i128::from);
    let type_max = i128::from(c.type_max);
    if let (Some(ai), Some(max)) = (counter, c.max)
        && ai <= max
        && max < type_max
    {
        let detail = format!("AUTO_INCREMENT is {ai} but MAX({}) is {max}", c.column);
        found.push(finding(Problem::Behind, detail, true));
    }
    let used = c.max.unwrap_or(0).max(counter.map_or(0, |a| a - 1));
    if used * 5 > type_max * 4 {
        let mut what = Vec::new();
        if let Some(max) = c.max {
            what.push(format!("MAX({}) is {max}", c.column));
        }
        if let Some(ai) = counter {
            what.push(format!("AUTO_INCREMENT is {ai}"));
        }
        let tenths = used.min(type_max) * 1000 / type_max;
        let detail = format!(
            "{}.{}% of the {} range is used ({}; the type stops at {})",
            tenths / 10,
            tenths % 10,
            c.column_type,
            what.join(", "),
            c.type_max
        );
        found.push(finding(Problem::NearExhaustion, detail, false));
    }
    found
}

/// The repair of one column, when it is behind: the `ALTER TABLE` and the
/// change it makes. Pure, so it is unit-tested.
fn plan_fix(c: &Column) -> Option<Change> {
    let (Some(ai), Some(max)) = (c.auto_increment, c.max) else {
        return None;
    };
    if !assess(c).iter().any(|f| f.problem == Problem::Behind) {
        return None;
    }
    let next = max + 1;
    // DDL takes no placeholders; `next` is a number keel computed.
    let sql = format!(
        "ALTER TABLE {} AUTO_INCREMENT = {next}",
        Dialect::Mysql.quote(&c.table)
    );
    Some(Change {
        problem: Problem::Behind,
        table: c.table.clone(),
        column: c.column.clone(),
        sequence: Some("AUTO_INCREMENT".to_string()),
        role: None,
        before: format!("AUTO_INCREMENT {ai}"),
        after: format!("AUTO_INCREMENT {next}"),
        sql: vec![sql],
    })
}

/// `ALTER TABLE … AUTO_INCREMENT = MAX + 1` for every column still behind.
async fn fix(conn: &mut Conn, columns: &[Column]) -> Result<Vec<Change>> {
    let mut changes: Vec<Change> = Vec::new();
    for change in columns.iter().filter_map(plan_fix) {
        for sql in &change.sql {
            if let Err(e) = conn.query_drop(sql).await {
                let context = format!(
                    "setting AUTO_INCREMENT of {} ({} table(s) already repaired: MySQL DDL is not transactional)",
                    change.table,
                    changes.len()
                );
                return Err(fail(&context, e));
            }
        }
        changes.push(change);
    }
    Ok(changes)
}

/// The largest value of an integer type, from `DATA_TYPE` and whether
/// `COLUMN_TYPE` says `unsigned`.
fn type_max(data_type: &str, column_type: &str) -> Option<u64> {
    let unsigned = column_type.to_ascii_lowercase().contains("unsigned");
    let (signed, unsigned_max) = match data_type.to_ascii_lowercase().as_str() {
        "tinyint" => (i8::MAX as u64, u64::from(u8::MAX)),
        "smallint" => (i16::MAX as u64, u64::from(u16::MAX)),
        "mediumint" => ((1 << 23) - 1, (1 << 24) - 1),
        "int" => (i32::MAX as u64, u64::from(u32::MAX)),
        "bigint" => (i64::MAX as u64, u64::MAX),
        _ => return None,
    };
    Some(if unsigned { unsigned_max } else { signed })
}

/// An integer from a value of either protocol (a `UNION` of signed and
/// unsigned columns comes back as DECIMAL text).
fn integer(v: Value) -> std::result::Result<Option<i128>, String> {
    match v {
        Value::NULL => Ok(None),
        Value::Int(i) => Ok(Some(i128::from(i))),
        Value::UInt(u) => Ok(Some(i128::from(u))),
        Value::Bytes(b) => String::from_utf8_lossy(&b)
            .trim()
            .parse()
            .map(Some)
            .map_err(|e| format!("{:?} is not an integer: {e}", String::from_utf8_lossy(&b))),
        other => Err(format!("{other:?} is not an integer")),
    }
}

fn bad(context: &str, message: String) -> Error {
    Error::db(
        context,
        DbError {
            message,
            sqlstate: None,
        },
    )
}

fn take<T: mysql_async::prelude::FromValue>(row: &mut Row, i: usize, context: &str) -> Result<T> {
    match row.take_opt(i) {
        Some(Ok(v)) => Ok(v),
        Some(Err(e)) => Err(bad(context, format!("column {i}: {e}"))),
        None => Err(bad(context, format!("column {i} is missing"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(column_type: &str, auto_increment: u64, max: Option<i128>) -> Column {
        let data_type = column_type.split([' ', '(']).next().unwrap_or("");
        Column {
            table: "user".into(),
            column: "id".into(),
            column_type: column_type.into(),
            type_max: type_max(data_type, column_type).unwrap_or(0),
            auto_increment: Some(auto_increment),
            leads: true,
            max,
        }
    }

    fn problems(c: &Column) -> Vec<(Problem, bool)> {
        assess(c).iter().map(|f| (f.problem, f.fixable)).collect()
    }

    #[test]
    fn a_counter_at_or_below_the_maximum_is_behind() {
        let c = column("int", 5, Some(100));
        assert_eq!(problems(&c), [(Problem::Behind, true)]);
        assert_eq!(
            assess(&c)[0].detail,
            "AUTO_INCREMENT is 5 but MAX(id) is 100"
        );
        assert_eq!(
            problems(&column("int", 100, Some(100))),
            [(Problem::Behind, true)]
        );
        assert!(problems(&column("int", 101, Some(100))).is_empty());
        assert!(problems(&column("int", 1, None)).is_empty());
        assert!(problems(&column("int", 1, Some(-7))).is_empty());
    }

    #[test]
    fn fix_moves_the_counter_just_past_the_maximum() {
        let c = Column {
            table: "we`ird".into(),
            ..column("int", 5, Some(100))
        };
        let change = plan_fix(&c).unwrap();
        assert_eq!(change.sql, ["ALTER TABLE `we``ird` AUTO_INCREMENT = 101"]);
        assert_eq!(
            (&*change.before, &*change.after),
            ("AUTO_INCREMENT 5", "AUTO_INCREMENT 101")
        );
        assert_eq!(change.problem, Problem::Behind);
        // sound, empty, grouped or exhausted columns are left alone
        assert!(plan_fix(&column("int", 101, Some(100))).is_none());
        assert!(plan_fix(&column("int", 1, None)).is_none());
        assert!(
            plan_fix(&Column {
                leads: false,
                ..column("int", 5, Some(100))
            })
            .is_none()
        );
        assert!(plan_fix(&column("tinyint(4)", 127, Some(127))).is_none());
    }

    #[test]
    fn a_grouped_myisam_column_ignores_the_counter() {
        let c = Column {
            leads: false,
            ..column("int", 5, Some(100))
        };
        assert!(problems(&c).is_empty());
    }

    #[test]
    fn more_than_80_percent_of_the_type_is_near_exhaustion() {
        assert!(problems(&column("tinyint(4)", 102, Some(101))).is_empty());
        let c = column("tinyint(4)", 103, Some(102));
        assert_eq!(problems(&c), [(Problem::NearExhaustion, false)]);
        assert_eq!(
            assess(&c)[0].detail,
            "80.3% of the tinyint(4) range is used (MAX(id) is 102, AUTO_INCREMENT is 103; the type stops at 127)"
        );
        // the counter alone counts too (rows deleted, values handed out)
        assert!(!problems(&column("smallint unsigned", 60000, None)).is_empty());
        assert!(problems(&column("smallint unsigned", 30000, None)).is_empty());
        assert!(!problems(&column("int", 2_000_000_000, Some(1))).is_empty());
        assert!(problems(&column("int unsigned", 2_000_000_000, Some(1))).is_empty());
    }

    #[test]
    fn an_exhausted_column_is_not_behind_but_needs_a_person() {
        let c = column("bigint(20) unsigned", u64::MAX, Some(i128::from(u64::MAX)));
        assert_eq!(problems(&c), [(Problem::NearExhaustion, false)]);
        assert!(
            assess(&c)[0]
                .detail
                .starts_with("100.0% of the bigint(20) unsigned")
        );
    }

    #[test]
    fn type_ranges_follow_data_type_and_signedness() {
        assert_eq!(
            type_max("tinyint", "tinyint(3) unsigned zerofill"),
            Some(255)
        );
        assert_eq!(type_max("mediumint", "mediumint(9)"), Some(8_388_607));
        assert_eq!(type_max("INT", "int unsigned"), Some(4_294_967_295));
        assert_eq!(type_max("decimal", "decimal(10,0)"), None);
    }

    #[test]
    fn maxima_parse_from_either_protocol() {
        assert_eq!(integer(Value::NULL), Ok(None));
        assert_eq!(integer(Value::Int(-3)), Ok(Some(-3)));
        assert_eq!(
            integer(Value::UInt(u64::MAX)),
            Ok(Some(i128::from(u64::MAX)))
        );
        assert_eq!(integer(Value::Bytes(b"42".to_vec())), Ok(Some(42)));
        assert!(integer(Value::Bytes(b"4.5".to_vec())).is_err());
    }
}
