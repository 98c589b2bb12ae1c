//! Which failed connection attempts are worth repeating: the server is not
//! there *yet* (refused, not resolvable, starting up, full), as opposed to
//! a URL, a password or a certificate that will be just as wrong next time.
//! [`crate::Error::is_transient`] reports the answer; [`crate::Migrate`]
//! retries on it (issue 12, item 5: the database starts after the app).

use std::io::ErrorKind as Io;

/// PostgreSQL SQLSTATEs a server sends while it cannot take a login now:
/// `57P03` cannot_connect_now (starting up, shutting down, in recovery),
/// `53300` too_many_connections, `53000` insufficient_resources, `57P01`
/// admin_shutdown and `57P02` crash_shutdown (a restart in progress).
const PG_STATES: [&str; 5] = ["57P03", "53300", "53000", "57P01", "57P02"];

/// MySQL/MariaDB error numbers of the same kind: 1040 too many connections,
/// 1203 too many connections of this user, 1053 server shutdown in
/// progress, 1927 connection killed, and the client-side 2002/2003 (cannot
/// connect), 2006 (server gone away) and 2013 (lost connection).
const MYSQL_CODES: [u16; 8] = [1040, 1203, 1053, 1927, 2002, 2003, 2006, 2013];

/// An I/O error from a network that is not ready: nothing listens yet, the
/// connection dropped mid-handshake, the name does not resolve yet.
fn io_transient(e: &std::io::Error) -> bool {
    match e.kind() {
        Io::ConnectionRefused
        | Io::ConnectionReset
        | Io::ConnectionAborted
        | Io::NotConnected
        | Io::TimedOut
        | Io::UnexpectedEof
        | Io::BrokenPipe
        | Io::AddrNotAvailable
        | Io::HostUnreachable
        | Io::NetworkUnreachable => true,
        // getaddrinfo's failures have no kind of their own: a container's
        // DNS name appears only once the container runs
        _ => {
            let text = e.to_string();
            text.contains("failed to lookup address")
                || text.contains("Name or service not known")
                || text.contains("Temporary failure in name resolution")
                || text.contains("No address associated with hostname")
        }
    }
}

/// The first I/O error in `e`'s chain, unless a TLS failure comes first
/// (a refused certificate is never transient).
fn io_cause<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a std::io::Error> {
    let mut next = Some(e);
    while let Some(err) = next {
        if err.downcast_ref::<super::tls::Failure>().is_some()
            || err.downcast_ref::<rustls::Error>().is_some()
        {
            return None;
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if io.get_ref().is_some_and(|inner| {
                inner.downcast_ref::<rustls::Error>().is_some()
                    || inner.downcast_ref::<super::tls::Failure>().is_some()
            }) {
                return None;
            }
            return Some(io);
        }
        next = err.source();
    }
    None
}

/// Whether a failed PostgreSQL connection attempt may succeed later.
pub(crate) fn postgres(e: &tokio_postgres::Error) -> bool {
    if let Some(db) = e.as_db_error() {
        return PG_STATES.contains(&db.code().code());
    }
    match io_cause(e) {
        Some(io) => io_transient(io),
        // the server closed the socket during the handshake (restarting)
        None => e.is_closed(),
    }
}

/// Whether a failed MySQL/MariaDB connection attempt may succeed later.
pub(crate) fn mysql(e: &mysql_async::Error) -> bool {
    use mysql_async::{DriverError, Error, IoError};
    match e {
        Error::Server(s) => MYSQL_CODES.contains(&s.code),
        Error::Io(IoError::Io(io)) => io_cause(io).is_some_and(io_transient),
        Error::Io(_) => false,
        Error::Driver(DriverError::ConnectionClosed) => true,
        _ => false,
    }
}
