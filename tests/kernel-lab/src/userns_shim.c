/* userns_shim.so (LD_PRELOAD): emulate Ubuntu's create-time AppArmor transition on an upstream kernel.
 *
 * Ubuntu's kernel (SAUCE, kernel.apparmor_restrict_unprivileged_userns=1) lets an *unconfined* task without
 * CAP_SYS_ADMIN create a user namespace and then moves the new credentials into the `unprivileged_userns`
 * profile (audit: "Userns create - transitioning profile"). Debian's 6.12 kernel has no such hook, so right
 * after a successful namespace creation with CLONE_NEWUSER this shim does the same transition itself by
 * writing "changeprofile unprivileged_userns" to /proc/self/attr/current. It also:
 *   - wraps libc unshare(), and syscall(SYS_unshare) / syscall(SYS_clone) (bubblewrap creates its namespaces
 *     with a raw clone through syscall(); the transition then happens in the child, as on Ubuntu);
 *   - exempts callers with CAP_SYS_ADMIN (Ubuntu checks ns_capable(CAP_SYS_ADMIN)), not merely euid 0;
 *   - only transitions unconfined tasks (a confined task keeps its profile's userns rules).
 * Not covered: clone()/clone3() wrappers and raw syscall instructions that bypass libc, static binaries.
 *
 * For the lab's assertions only: with NSD_LAB_LABEL_LOG=FILE (an existing, writable file) the shim appends the
 * AppArmor label the program was exec'd into (the attachment the kernel chose, before any transition) to FILE.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long (*real_syscall)(long, ...);

static int has_sys_admin(void) {
  struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct d[2];
  memset(d, 0, sizeof d);
  if (!real_syscall) real_syscall = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
  if (real_syscall(SYS_capget, &h, d) != 0) return 0;
  return (d[CAP_SYS_ADMIN / 32].effective >> (CAP_SYS_ADMIN % 32)) & 1;
}

static int unconfined(void) {
  char buf[128] = "";
  int fd = open("/proc/self/attr/current", O_RDONLY);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  buf[n > 0 ? n : 0] = 0;
  return strncmp(buf, "unconfined", 10) == 0;
}

__attribute__((constructor)) static void log_exec_label(void) {
  const char *log = getenv("NSD_LAB_LABEL_LOG");
  if (!log || !*log) return;
  char buf[256] = "";
  int fd = open("/proc/self/attr/current", O_RDONLY);
  ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 2);
  if (fd >= 0) close(fd);
  if (n <= 0) return;
  if (buf[n - 1] != '\n') buf[n++] = '\n';
  fd = open(log, O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return;
  if (write(fd, buf, (size_t)n) < 0) { /* best effort: the host reports a missing label */ }
  close(fd);
}

static void transition(void) {
  const char *p = getenv("NSD_LAB_USERNS_PROFILE");
  char cmd[160] = "changeprofile ";
  strncat(cmd, p && *p ? p : "unprivileged_userns", sizeof cmd - strlen(cmd) - 1);
  int fd = open("/proc/self/attr/current", O_WRONLY);
  if (fd < 0 || write(fd, cmd, strlen(cmd)) < 0) abort(); /* a silent no-op would fake an unrestricted host */
  close(fd);
}

int unshare(int flags) {
  static int (*real)(int);
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "unshare");
  int exempt = !(flags & CLONE_NEWUSER) || has_sys_admin() || !unconfined();
  int r = real(flags);
  if (r == 0 && !exempt) transition();
  return r;
}

long syscall(long nr, ...) {
  va_list ap;
  long a[6];
  va_start(ap, nr);
  for (int i = 0; i < 6; i++) a[i] = va_arg(ap, long);
  va_end(ap);
  if (!real_syscall) real_syscall = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
  if ((nr == SYS_unshare || nr == SYS_clone) && (a[0] & CLONE_NEWUSER)) {
    int exempt = has_sys_admin() || !unconfined();
    long r = real_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    if (r == 0 && !exempt) transition(); /* unshare: the caller; clone: the child */
    return r;
  }
  return real_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}
