//! Errno names and numbers (Linux asm-generic values, shared by x86_64 and aarch64) and strerror texts.

/// (name, number, strerror text as glibc prints it).
const TABLE: &[(&str, i32, &str)] = &[
    ("EPERM", 1, "Operation not permitted"),
    ("ENOENT", 2, "No such file or directory"),
    ("ESRCH", 3, "No such process"),
    ("EINTR", 4, "Interrupted system call"),
    ("EIO", 5, "Input/output error"),
    ("E2BIG", 7, "Argument list too long"),
    ("ENOEXEC", 8, "Exec format error"),
    ("EBADF", 9, "Bad file descriptor"),
    ("ECHILD", 10, "No child processes"),
    ("EAGAIN", 11, "Resource temporarily unavailable"),
    ("ENOMEM", 12, "Cannot allocate memory"),
    ("EACCES", 13, "Permission denied"),
    ("EFAULT", 14, "Bad address"),
    ("EBUSY", 16, "Device or resource busy"),
    ("EEXIST", 17, "File exists"),
    ("ENODEV", 19, "No such device"),
    ("ENOTDIR", 20, "Not a directory"),
    ("EINVAL", 22, "Invalid argument"),
    ("EMFILE", 24, "Too many open files"),
    ("ENOSPC", 28, "No space left on device"),
    ("EROFS", 30, "Read-only file system"),
    ("ENOSYS", 38, "Function not implemented"),
    ("EUSERS", 87, "Too many users"),
    ("ENOTSOCK", 88, "Socket operation on non-socket"),
    ("EPROTONOSUPPORT", 93, "Protocol not supported"),
    ("EOPNOTSUPP", 95, "Operation not supported"),
    ("EAFNOSUPPORT", 97, "Address family not supported by protocol"),
    ("EADDRNOTAVAIL", 99, "Cannot assign requested address"),
    ("ENOBUFS", 105, "No buffer space available"),
    ("ETIMEDOUT", 110, "Connection timed out"),
];

/// The number of an errno name.
pub fn number_of(name: &str) -> Option<i32> {
    TABLE.iter().find(|(n, _, _)| *n == name).map(|(_, num, _)| *num)
}

/// The name of an errno number.
pub fn name_of(number: i32) -> Option<&'static str> {
    TABLE.iter().find(|(_, num, _)| *num == number).map(|(n, _, _)| *n)
}

/// The errno whose strerror text is `text` (exact, case-insensitive).
pub fn from_strerror(text: &str) -> Option<&'static str> {
    let t = text.trim();
    TABLE.iter().find(|(_, _, s)| s.eq_ignore_ascii_case(t)).map(|(n, _, _)| *n)
}

/// The strerror text of a name.
pub fn strerror(name: &str) -> Option<&'static str> {
    TABLE.iter().find(|(n, _, _)| *n == name).map(|(_, _, s)| *s)
}

/// Every strerror text, for the symptom classifier.
pub fn all() -> impl Iterator<Item = (&'static str, &'static str)> {
    TABLE.iter().map(|(n, _, s)| (*n, *s))
}
