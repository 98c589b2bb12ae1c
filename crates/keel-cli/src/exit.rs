//! Exit statuses, as DESIGN.md documents them.

/// 0: all good. 1: a check found problems (pending, modified, unresolved…).
/// 2: an error (bad input, connection failure, a migration that failed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    Ok = 0,
    Problems = 1,
    Error = 2,
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(s: ExitStatus) -> Self {
        std::process::ExitCode::from(s as u8)
    }
}
