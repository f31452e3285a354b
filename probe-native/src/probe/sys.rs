//! The two raw syscalls the ladder makes that libc and nix do not wrap, each behind a safe function that can
//! only make that one call with arguments that hand the kernel no memory.

use nix::errno::Errno;

/// `clone3(NULL, 0)`: a size below `CLONE_ARGS_SIZE_VER0` is rejected before the kernel reads the argument, so
/// no process is ever created; what comes back tells whether the call reached the kernel (EINVAL, E2BIG, EFAULT)
/// or a seccomp filter answered first (ENOSYS, EPERM). Returns that errno.
#[expect(unsafe_code, reason = "clone3 has no libc or nix wrapper")]
pub fn clone3_null_size0() -> Errno {
    // SAFETY: the pointer is null and the size 0; the kernel checks the size first and fails without reading
    // memory or creating a task. Should it ever succeed, a success is reported as an unknown errno below.
    let r = unsafe { libc::syscall(libc::SYS_clone3, std::ptr::null::<libc::c_void>(), 0usize) };
    if r < 0 { Errno::last() } else { Errno::UnknownErrno }
}

/// `landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION)`: the highest Landlock ABI the kernel
/// supports; creates nothing.
#[expect(unsafe_code, reason = "landlock_create_ruleset has no libc or nix wrapper")]
pub fn landlock_abi_version() -> Result<i64, Errno> {
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
    // SAFETY: with the VERSION flag the kernel requires a null attribute pointer and size 0, reads nothing and
    // returns an integer, not a file descriptor.
    let r = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    if r < 0 { Err(Errno::last()) } else { Ok(r) }
}
