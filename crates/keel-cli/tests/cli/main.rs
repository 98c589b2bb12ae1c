//! End-to-end tests: the real `keel` binary against real databases —
//! SQLite in a temp dir, and PostgreSQL and MariaDB on this machine, each
//! test in its own freshly created database. Grouped by area in one test
//! binary so linking stays cheap.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod adopt;
mod check_every_engine;
mod concurrency;
mod connection_strings;
mod copy_history;
mod copy_index_meaning;
mod copy_kills;
mod copy_postgres;
mod copy_reruns;
mod copy_then_diff;
mod diff_fixtures;
mod diff_postgres;
mod diff_sqlite_mysql;
mod failures;
mod integrity;
mod kill_loop;
mod known_tables;
mod lifecycle;
mod malformed;
mod nothing_silent;
mod own_transactions;
mod pgbouncer;
mod real_dumps;
mod secrets;
mod sequences_postgres;
mod sequences_sqlite_mysql;
mod session;
mod settings;
mod snapshots_sqlite;
mod sqlite_as_sqlite3;
mod startup;
mod tls;
mod tls_input;
mod tracking_table;
mod truth;
