//! The splitter and goose's block splitter. First byte: the dialect (low
//! bits) and whether the rest is repeated into ~128 KiB (both high bits),
//! so that quadratic work on any input shape runs into `-timeout`.
#![no_main]

use keel::Dialect;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let dialect = match mode % 3 {
        0 => Dialect::Sqlite,
        1 => Dialect::Postgres,
        _ => Dialect::Mysql,
    };
    let sql = String::from_utf8_lossy(rest);
    if mode >= 0xc0 && !sql.is_empty() {
        let big = sql.repeat((128 * 1024) / sql.len() + 1);
        // linear time is the property here; the others on a smaller copy
        let _ = keel::source::split::split(&big, dialect);
        if let Err(e) = keel::fuzzing::split(&sql.repeat(4), dialect) {
            panic!("{e}");
        }
        return;
    }
    if let Err(e) = keel::fuzzing::split(&sql, dialect) {
        panic!("{e}");
    }
});
