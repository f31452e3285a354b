//! The raw calls the ladder makes that nix does not wrap, each behind a safe function that can only make that
//! one call, with arguments the function itself controls.

use std::ffi::CStr;

use nix::errno::Errno;
use nix::unistd::Pid;

/// `clone3(NULL, 0)`: a size below `CLONE_ARGS_SIZE_VER0` is rejected before the kernel reads the argument, so
/// no process is ever created; what comes back tells whether the call reached the kernel (EINVAL, E2BIG, EFAULT)
/// or a seccomp filter answered first (ENOSYS, EPERM). Returns that errno.
#[expect(unsafe_code, reason = "clone3 has no libc or nix wrapper")]
pub fn clone3_null_size0() -> Errno {
    // SAFETY: the pointer is null and the size 0; the kernel checks the size first and fails without reading
    // memory or creating a process. Should it ever succeed, a success is reported as an unknown errno below.
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

/// Starts pid 1 of the pid namespace the caller unshared: it mounts proc on `target` (`MS_NOSUID|MS_NOEXEC|
/// MS_NODEV`) and exits with 0 or the mount's errno. `clone(CLONE_VM|CLONE_VFORK)`: it runs in the caller's
/// memory on a stack of its own while the caller waits, so no address space is copied for two syscalls.
/// Returns its pid once it has exited (still to be reaped), or the clone's errno.
#[expect(unsafe_code, reason = "clone with CLONE_VM: a vfork-style child on its own stack")]
pub fn spawn_pid1_mounting_proc(target: &CStr) -> Result<Pid, Errno> {
    let mut stack = vec![0u8; 64 * 1024];
    // The stack grows down from its end, 16-byte aligned as the ABI wants.
    let top = stack.as_mut_ptr().wrapping_add(stack.len());
    let top = top.wrapping_sub(top as usize % 16);
    let flags = libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD;
    // SAFETY: `pid1_mount_proc` only makes raw syscalls on the given stack and returns; CLONE_VFORK keeps this
    // thread (and with it `stack` and `target`) suspended until that child has exited.
    let pid = unsafe { libc::clone(pid1_mount_proc, top.cast(), flags, target.as_ptr().cast_mut().cast()) };
    drop(stack);
    if pid < 0 { Err(Errno::last()) } else { Ok(Pid::from_raw(pid)) }
}

/// The body of [`spawn_pid1_mounting_proc`]'s child: no allocation, no Rust runtime state (it shares the
/// caller's memory), only syscalls; its return value is its exit status.
#[expect(unsafe_code, reason = "raw prctl and mount in a CLONE_VM child")]
extern "C" fn pid1_mount_proc(target: *mut libc::c_void) -> libc::c_int {
    // SAFETY: prctl(PR_SET_PDEATHSIG) takes no pointers: pid 1 dies with the probe child.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong, 0, 0, 0) };
    let flags = libc::MS_NOSUID | libc::MS_NOEXEC | libc::MS_NODEV;
    // SAFETY: `target` is the NUL-terminated path the caller keeps alive while it waits (CLONE_VFORK); the
    // other strings are literals and the data pointer is null.
    let r = unsafe { libc::mount(c"proc".as_ptr(), target.cast(), c"proc".as_ptr(), flags, std::ptr::null()) };
    if r == 0 { 0 } else { Errno::last_raw() }
}
