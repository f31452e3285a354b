/* labexec: put a command under one host restriction, then exec it. Used inside the kernel-lab guest.
 *
 *   labexec [--chroot DIR] [--seccomp-restrict-ns] [--uid N] [--nnp] [--exec-profile P] [--env K=V]... -- CMD ARGS...
 *
 * --chroot DIR           chroot(DIR) + chdir("/") (the kernel then refuses CLONE_NEWUSER: current_chrooted()).
 * --seccomp-restrict-ns  what systemd's RestrictNamespaces=yes installs (src/shared/seccomp-util.c
 *                        seccomp_restrict_namespaces): unshare/clone with any CLONE_NEW* flag and setns -> EPERM,
 *                        clone3 -> ENOSYS (so libc falls back to clone). Written as plain BPF, no libseccomp.
 *                        Loaded while still root, like systemd does before dropping to User=.
 * --uid N                setgroups([]), setgid(N), setuid(N) (like a service's User=).
 * --nnp                  prctl(PR_SET_NO_NEW_PRIVS) (systemd implies it for an unprivileged User= with filters).
 * --exec-profile P       AppArmor exec-time transition (/proc/self/attr/exec "exec P"), like aa-exec -p P.
 * --env K=V              setenv before exec (e.g. INVOCATION_ID, which systemd sets for every service).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NS_FLAGS (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)

static int restrict_namespaces(void) {
  struct sock_filter f[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_setns, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_unshare, 1, 0),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 0, 3),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])), /* low word (little endian) */
    BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, NS_FLAGS, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = { .len = sizeof f / sizeof f[0], .filter = f };
  return (int)syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

static void die(const char *what) {
  fprintf(stderr, "labexec: %s: %s\n", what, strerror(errno));
  exit(126);
}

int main(int argc, char **argv) {
  const char *chroot_dir = NULL, *profile = NULL;
  int uid = -1, nnp = 0, seccomp = 0, i;
  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--")) { i++; break; }
    else if (!strcmp(a, "--chroot") && i + 1 < argc) chroot_dir = argv[++i];
    else if (!strcmp(a, "--seccomp-restrict-ns")) seccomp = 1;
    else if (!strcmp(a, "--uid") && i + 1 < argc) uid = atoi(argv[++i]);
    else if (!strcmp(a, "--nnp")) nnp = 1;
    else if (!strcmp(a, "--exec-profile") && i + 1 < argc) profile = argv[++i];
    else if (!strcmp(a, "--env") && i + 1 < argc) { if (putenv(argv[++i])) die("putenv"); }
    else { fprintf(stderr, "labexec: bad argument %s\n", a); return 126; }
  }
  if (i >= argc) { fprintf(stderr, "labexec: no command\n"); return 126; }
  if (chroot_dir && (chroot(chroot_dir) || chdir("/"))) die("chroot");
  if (seccomp && restrict_namespaces()) die("seccomp");
  if (uid >= 0 && (setgroups(0, NULL) || setgid(uid) || setuid(uid))) die("drop to uid");
  if (nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) die("no_new_privs");
  if (profile) {
    char cmd[256];
    int fd = open("/proc/self/attr/exec", O_WRONLY);
    snprintf(cmd, sizeof cmd, "exec %s", profile);
    if (fd < 0 || write(fd, cmd, strlen(cmd)) < 0) die("attr/exec");
    close(fd);
  }
  execvp(argv[i], &argv[i]);
  die(argv[i]);
  return 126;
}
