//! OS errors as report evidence: the errno of a failed call and the `Unavailable` fact of a failed read. A leaf
//! module: the fact readers, the ladder, the bwrap facts and the AppArmor scan all record errors this way.

use std::io::ErrorKind;

use nix::errno::Errno;
use policy_core::fact::{Errno as FactErrno, Fact};

/// The report's errno (symbolic name and number) of a nix errno.
pub fn fact_errno(e: Errno) -> FactErrno {
    let number = e as i32;
    let name = policy_core::errno::name_of(number).map(str::to_string).unwrap_or_else(|| format!("{e:?}"));
    FactErrno { name, number }
}

/// The errno of an I/O error (EIO when it carries none).
pub fn io_errno(e: &std::io::Error) -> Errno {
    Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO))
}

/// An unavailable fact from an I/O error.
pub fn unavailable<T>(path: &str, e: &std::io::Error) -> Fact<T> {
    let reason = match e.kind() {
        ErrorKind::NotFound => format!("{path} absent"),
        ErrorKind::PermissionDenied => format!("{path} not readable"),
        _ => format!("cannot read {path}"),
    };
    Fact::unavailable(&reason, Some(fact_errno(io_errno(e))))
}
