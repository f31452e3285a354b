//! Symptom reading: any program's error text → observations (operation × errno × program), plus the context a
//! text states about its host (an `uname -a` line, a sysctl value, an os-release line).
//!
//! Nothing here knows about causes. A line is read for *what failed* (creating a user namespace, writing a
//! uid map, configuring loopback, mounting proc, a setuid helper, an audit record) and *with which errno*,
//! in whatever form the program prints it: a symbolic name, strerror text in any letter case or in a
//! translation, a number after `errno`, in `(os error N)` or `[Errno N]`. Lines are cleaned of ANSI colour,
//! carriage returns and prompts first; audit records wrapped over several lines are read as one record.

use crate::errno;

/// A failed operation, independent of the program that reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Op {
    /// Creating a user namespace (clone/unshare with `CLONE_NEWUSER`, or a namespace creation that does not say
    /// which kind: bwrap's clone, util-linux `unshare`, podman's `cannot clone`, Chromium's namespace sandbox).
    CreateUserns,
    /// Creating a mount/net/pid namespace without a user namespace (root callers).
    CreateNs,
    /// Writing `/proc/PID/setgroups`.
    Setgroups,
    /// Writing `uid_map`/`gid_map` directly.
    IdMap,
    /// The setuid id-map helpers `newuidmap`/`newgidmap` and subordinate id ranges.
    IdHelper,
    /// Configuring loopback in the new network namespace (rtnetlink `RTM_NEWADDR`/`RTM_NEWLINK`).
    Loopback,
    /// Opening a `NETLINK_ROUTE` socket.
    NetlinkSocket,
    /// A mount inside the sandbox: mount propagation, tmpfs, pivot_root.
    Mount,
    /// Mounting a new procfs.
    ProcMount,
    /// A `/proc/sys` file the sandbox reads is missing (procfs `subset=pid`).
    ProcSys,
    /// A setuid sandbox helper (chrome-sandbox, setuid bwrap, starter-suid) cannot work.
    SetuidHelper,
    /// A browser found no usable sandbox at all (namespace sandbox and setuid helper both unavailable).
    SandboxUnavailable,
    /// The process was killed by a seccomp filter (SIGSYS).
    SeccompKill,
    /// systemd could not set up the unit's own namespacing (`226/NAMESPACE`).
    UnitNamespace,
    /// AppArmor audit: `userns_create` denied for an ordinary profile.
    AuditApparmorUserns,
    /// AppArmor audit: `userns_create` denied for a container runtime's profile (`docker-default`, …).
    AuditApparmorUsernsContainer,
    /// AppArmor audit: the user namespace was moved into `unprivileged_userns`, or a denial inside it.
    AuditApparmorTransition,
    /// AppArmor audit: a mount denied.
    AuditApparmorMount,
    /// SELinux AVC: `user_namespace { create }` denied.
    AuditSelinuxUserns,
    /// SELinux AVC: a mount or filesystem operation denied.
    AuditSelinuxMount,
    /// bwrap rejecting an option the tool passes (`bwrap: Unknown option --argv0`): an older bwrap.
    BwrapOption,
}

impl Op {
    /// Upstream operations come first: a later step's failure is usually fallout of an earlier one.
    pub(crate) fn stage(self) -> u8 {
        match self {
            Op::UnitNamespace | Op::BwrapOption => 0,
            Op::CreateUserns | Op::CreateNs => 1,
            Op::IdHelper => 2,
            Op::Setgroups | Op::IdMap => 3,
            Op::NetlinkSocket | Op::Loopback => 4,
            Op::Mount => 5,
            Op::ProcMount | Op::ProcSys => 6,
            Op::SeccompKill => 7,
            Op::SetuidHelper | Op::SandboxUnavailable => 8,
            _ => 9,
        }
    }
    /// Audit records corroborate a failure; they are not the failure a user saw.
    pub(crate) fn is_audit(self) -> bool {
        self.stage() == 9
    }
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Op::CreateUserns => "creating the user namespace",
            Op::CreateNs => "creating a namespace without a user namespace",
            Op::Setgroups => "writing setgroups",
            Op::IdMap => "writing the uid/gid map",
            Op::IdHelper => "newuidmap/newgidmap writing the id maps",
            Op::Loopback => "configuring loopback in the new network namespace",
            Op::NetlinkSocket => "opening a NETLINK_ROUTE socket",
            Op::Mount => "a mount inside the sandbox",
            Op::ProcMount => "mounting /proc",
            Op::ProcSys => "reading a /proc/sys file",
            Op::SetuidHelper => "the setuid sandbox helper",
            Op::SandboxUnavailable => "starting any sandbox",
            Op::SeccompKill => "a system call killed by seccomp",
            Op::UnitNamespace => "systemd setting up the unit's namespaces",
            Op::AuditApparmorUserns => "AppArmor denying userns_create",
            Op::AuditApparmorUsernsContainer => "a container's AppArmor profile denying userns_create",
            Op::AuditApparmorTransition => "AppArmor's unprivileged_userns transition",
            Op::AuditApparmorMount => "AppArmor denying a mount",
            Op::AuditSelinuxUserns => "SELinux denying user_namespace create",
            Op::AuditSelinuxMount => "SELinux denying a mount",
            Op::BwrapOption => "bwrap accepting the options the tool passes",
        }
    }
}

/// Context a text states about its host (only used where the stated facts are silent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Hint {
    /// `kernel.unprivileged_userns_clone = 0` as printed by sysctl or cat.
    CloneSysctlZero,
    /// `user.max_user_namespaces = 0` (or net/mnt/pid), or a program saying user namespaces are not enabled there.
    LimitZero,
    /// `kernel.apparmor_restrict_unprivileged_userns = 1`.
    RestrictionOn,
    /// A kernel string of WSL1 (`4.4.0-19041-Microsoft`).
    Wsl1Kernel,
    /// gVisor (`runsc`, `gVisor`) named in the text.
    Gvisor,
    /// Nesting named: `--disable-userns`, running inside Flatpak/another sandbox.
    Nested,
    /// The kernel lacks user namespaces (`CONFIG_USER_NS`, `/proc/self/ns/user` missing, "not supported").
    NoUsernsSupport,
    /// The calling program is (or says it is) multi-threaded.
    Threads,
    /// A chroot is named.
    Chroot,
    /// A systemd unit is named (`.service`, `systemd[1]:`).
    Systemd,
    /// A container is named (Docker, Kubernetes, a CI container job).
    Container,
    /// A setuid-root sandbox helper is installed (`-rwsr-xr-x … bwrap`).
    SetuidInstalled,
    /// The setuid helper sits on a nosuid mount (an AppImage's FUSE mount): it can never work.
    NosuidHelper,
}

/// One failed operation read from one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Obs {
    pub op: Op,
    /// The errno, when the line names one that is trustworthy (bwrap's loopback errno is stale: none).
    pub errno: Option<&'static str>,
    /// The program that printed the line, when its prefix or the text says so (lowercase).
    pub program: Option<String>,
    /// Where it came from: a JSON Pointer (`/observed_error`, `/replays/0/stderr`, `/steps/3/result`).
    pub pointer: String,
    /// 1-based line number in that text (0 for a probe step).
    pub line_no: usize,
    /// The line (or step) as evidence, trimmed and cut.
    pub line: String,
}

/// Context read from a text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TextContext {
    pub hints: Vec<(Hint, usize, String)>,
    /// `ID=`/`Distributor ID:`/`Operating System:` lines → (os-release id, version).
    pub distro: Option<(String, Option<String>)>,
    /// A kernel release found in a `uname` line.
    pub kernel: Option<String>,
    /// The language runtime a traceback shows (`python`, `go`, `java`, `node`, `rust`).
    pub runtime: Option<&'static str>,
    /// The stated tool names a namespace step (`cargo test (nix::sched::unshare CLONE_NEWUSER)`).
    pub tool_about_ns: bool,
}

/// Most observations kept per text.
const MAX_OBS: usize = 64;
/// Texts longer than this are prefiltered by a whole-text needle scan.
const PREFILTER_BYTES: usize = 16 * 1024;
/// Distinct lines remembered to skip repeats.
const MAX_SEEN: usize = 4096;
/// A longer line is cut before matching: no real error line is this long, and it bounds the work per line.
const MAX_LINE: usize = 4096;

/// Errno names (upper case) programs print, in the order they are tried.
const ERRNO_NAMES: &[&str] = &[
    "EPERM",
    "EACCES",
    "ENOSPC",
    "EINVAL",
    "ENOSYS",
    "ENOENT",
    "EAFNOSUPPORT",
    "EOPNOTSUPP",
    "ENOTSUP",
    "EBUSY",
    "EUSERS",
    "EAGAIN",
    "EEXIST",
    "EROFS",
    "ENOMEM",
    "ESRCH",
];

/// Translated strerror texts (glibc's translations of the errnos namespace steps give), lower case and without
/// their first letter: lines are lower-cased for ASCII only, so a capital Cyrillic or accented first letter must not
/// matter.
const TRANSLATED: &[(&str, &str)] = &[
    // de
    ("organg nicht zulässig", "EPERM"),
    ("ie operation ist nicht erlaubt", "EPERM"),
    ("eine berechtigung", "EACCES"),
    ("ngültiges argument", "EINVAL"),
    ("as argument ist ungültig", "EINVAL"),
    ("uf dem gerät ist kein speicherplatz mehr verfügbar", "ENOSPC"),
    ("unktion nicht implementiert", "ENOSYS"),
    // fr
    ("pération non permise", "EPERM"),
    ("pération non autorisée", "EPERM"),
    ("ermission non accordée", "EACCES"),
    ("ermission refusée", "EACCES"),
    ("rgument invalide", "EINVAL"),
    ("ucun espace disponible sur le périphérique", "ENOSPC"),
    ("onction non implantée", "ENOSYS"),
    // es / pt / it
    ("peración no permitida", "EPERM"),
    ("ermiso denegado", "EACCES"),
    ("rgumento inválido", "EINVAL"),
    ("o queda espacio en el dispositivo", "ENOSPC"),
    ("peração não permitida", "EPERM"),
    ("ermissão negada", "EACCES"),
    ("perazione non permessa", "EPERM"),
    ("ermesso negato", "EACCES"),
    ("rgomento non valido", "EINVAL"),
    // ru / pl / nl
    ("перация не позволена", "EPERM"),
    ("перация не разрешена", "EPERM"),
    ("тказано в доступе", "EACCES"),
    ("едопустимый аргумент", "EINVAL"),
    ("а устройстве не осталось свободного места", "ENOSPC"),
    ("peracja niedozwolona", "EPERM"),
    ("rak dostępu", "EACCES"),
    ("ewerking niet toegestaan", "EPERM"),
    ("oegang geweigerd", "EACCES"),
    // zh / ja / ko
    ("允许的操作", "EPERM"),
    ("限不够", "EACCES"),
    ("效的参数", "EINVAL"),
    ("备上没有空间", "ENOSPC"),
    ("可されていない操作です", "EPERM"),
    ("可がありません", "EACCES"),
    ("効な引数です", "EINVAL"),
    ("령을 허용하지 않음", "EPERM"),
    ("가 거부", "EACCES"),
];

/// Lower-case phrases programs print instead of strerror.
const PHRASES: &[(&str, &str)] = &[
    ("operation not permitted", "EPERM"),
    ("not permitted", "EPERM"),
    ("permission denied", "EACCES"),
    ("access denied", "EACCES"),
    ("no space left on device", "ENOSPC"),
    ("invalid argument", "EINVAL"),
    ("function not implemented", "ENOSYS"),
    ("not implemented", "ENOSYS"),
    ("no such file or directory", "ENOENT"),
    ("address family not supported", "EAFNOSUPPORT"),
    ("operation not supported", "EOPNOTSUPP"),
    ("device or resource busy", "EBUSY"),
    ("too many users", "EUSERS"),
    ("resource temporarily unavailable", "EAGAIN"),
    ("read-only file system", "EROFS"),
];

/// glibc's strerror texts of the errnos above, lower case (tested against `errno::all`).
const STRERROR_LOWER: &[(&str, &str)] = &[
    ("no such process", "ESRCH"),
    ("cannot allocate memory", "ENOMEM"),
    ("file exists", "EEXIST"),
    ("protocol not supported", "EPROTONOSUPPORT"),
];

/// Finds the errno a (lower-cased) line names, in any of the forms programs print.
pub(crate) fn errno_in(line: &str, lower: &str) -> Option<&'static str> {
    // Symbolic names as whole words (`EPERM`, `(ENOSPC)`, `errno=EACCES`, Node's `EPERM:`): one pass over the
    // line's words.
    if let Some(name) = line
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| {
            w.len() >= 4 && w.starts_with('E') && w.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        })
        .find_map(|w| ERRNO_NAMES.iter().find(|n| **n == w))
    {
        return Some(match *name {
            "ENOTSUP" => "EOPNOTSUPP",
            n => errno::number_of(n).and_then(errno::name_of).unwrap_or(n),
        });
    }
    // strerror text, English in any letter case, then translations.
    for (text, name) in PHRASES {
        if lower.contains(text) {
            return Some(name);
        }
    }
    for (text, name) in STRERROR_LOWER {
        if lower.contains(text) {
            return Some(name);
        }
    }
    if !lower.is_ascii() {
        for (text, name) in TRANSLATED {
            if lower.contains(text) {
                return Some(name);
            }
        }
    }
    numeric_errno(lower)
}

/// `errno = 1`, `errno: 13`, `(os error 1)`, `[errno 1]`, `error 28`, `errno -22`.
fn numeric_errno(lower: &str) -> Option<&'static str> {
    for marker in ["os error ", "errno = ", "errno=", "errno: ", "errno ", "[errno ", "error code "] {
        let mut from = 0usize;
        while let Some(pos) = lower.get(from..).and_then(|s| s.find(marker)) {
            let start = from.saturating_add(pos).saturating_add(marker.len());
            let rest = lower.get(start..).unwrap_or("");
            let rest = rest.strip_prefix('-').unwrap_or(rest);
            let digits: String = rest.chars().take_while(char::is_ascii_digit).take(4).collect();
            if let Ok(n) = digits.parse::<i32>() {
                if let Some(name) = errno::name_of(n) {
                    return Some(name);
                }
            }
            from = start;
        }
    }
    None
}

/// Strips ANSI escapes, carriage returns and a leading shell prompt or `>` quote marker.
fn clean_line(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len().min(MAX_LINE));
    let mut chars = raw.chars().take(MAX_LINE).peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ params final-byte; other escapes: drop the next char.
            if chars.peek() == Some(&'[') {
                chars.next();
                for d in chars.by_ref() {
                    if ('@'..='~').contains(&d) {
                        break;
                    }
                }
            } else {
                chars.next();
            }
            continue;
        }
        if c == '\r' || (c.is_control() && c != '\t') {
            continue;
        }
        out.push(c);
    }
    let t = out.trim();
    let t = t.trim_start_matches('>').trim_start();
    let t = t.strip_prefix("$ ").or_else(|| t.strip_prefix("# ")).unwrap_or(t);
    t.to_string()
}

/// The program that printed a line: `bwrap: …`, `ch-run[123]: …`, `[1234:1234:FATAL:…]` (Chromium),
/// `Error: …` is not a program.
fn line_program(line: &str) -> Option<String> {
    // Skip a leading timestamp/log-level block like `2024-05-01T10:00:00Z ERROR`.
    let mut s = line;
    for _ in 0..4 {
        let first = s.split_whitespace().next().unwrap_or("");
        let looks_meta = first.chars().next().is_some_and(|c| c.is_ascii_digit() || c == '[')
            || ["ERROR", "WARN", "WARNING", "INFO", "FATAL", "DEBUG", "error", "warning"]
                .contains(&first.trim_end_matches(':'));
        if !looks_meta || first.ends_with(':') && first.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
            break;
        }
        s = s.get(first.len()..).unwrap_or("").trim_start();
    }
    let (head, _) = s.split_once(": ")?;
    let head = head.split('[').next().unwrap_or(head);
    let head = head.rsplit('/').next().unwrap_or(head);
    let ok = (2..=32).contains(&head.len())
        && head.chars().all(|c| c.is_ascii_alphanumeric() || "-_.+".contains(c))
        && head.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    let lower = head.to_ascii_lowercase();
    let generic = [
        "error",
        "warning",
        "fatal",
        "info",
        "note",
        "caused by",
        "failed",
        "message",
        "reason",
        "details",
        "panic",
        "stderr",
        "stdout",
        "err",
        "e",
        "debug",
        "exception",
        "cause",
    ];
    (ok && !generic.contains(&lower.as_str())).then_some(lower)
}

/// Words that say a failure, next to a namespace word.
const FAIL_WORDS: &[&str] = &[
    "fail",
    "error",
    "denied",
    "not permitted",
    "cannot",
    "can't",
    "could not",
    "couldn't",
    "unable",
    "not supported",
    "unsupported",
    "not enabled",
    "disabled",
    "not available",
    "unavailable",
    "refused",
    "invalid",
    "no permission",
    "eperm",
    "eacces",
    "enospc",
    "einval",
    "not allowed",
    "don't have",
    "does not support",
    "doesn't support",
    "no entry",
    "missing",
    "not found",
    "abort",
    "échec",
    "fehlgeschlagen",
    "fallo",
    "falló",
    "falhou",
    "non riuscit",
    "не удалось",
    "ошибка",
    "失败",
    "失敗",
    "실패",
];

fn says_failure(lower: &str) -> bool {
    FAIL_WORDS.iter().any(|w| lower.contains(w))
}

/// Whether a line says something failed, computed once and only when a check needs it.
struct Failed<'a> {
    lower: &'a str,
    cached: std::cell::Cell<Option<bool>>,
}

impl<'a> Failed<'a> {
    fn new(lower: &'a str) -> Self {
        Failed { lower, cached: std::cell::Cell::new(None) }
    }
    fn get(&self) -> bool {
        if let Some(v) = self.cached.get() {
            return v;
        }
        // A line that names an errno reports a failure, whatever words it uses around it.
        let v = says_failure(self.lower) || errno_in(self.lower, self.lower).is_some();
        self.cached.set(Some(v));
        v
    }
}

/// What operation a (lower-cased, cleaned) line reports as failed, with an errno the wording itself implies.
fn operation(lower: &str, failed: &Failed) -> Option<(Op, Option<&'static str>)> {
    let l = lower;
    // systemd's own namespacing.
    // Each group of wordings is tried only when a cheap key word is on the line (keeps long logs fast).
    let namespac = l.contains("namespac");
    let sandbox = l.contains("sandbox");
    if namespac
        && (l.contains("226/namespace")
            || l.contains("step namespace")
            || l.contains("failed to set up user namespacing")
            || l.contains("failed to set up mount namespacing"))
    {
        return Some((Op::UnitNamespace, None));
    }
    // Setuid helpers (before the generic namespace words: their messages mention namespaces too).
    if (sandbox || l.contains("cap") || l.contains("suid"))
        && (l.contains("suid sandbox helper")
            || l.contains("chrome-sandbox")
            || l.contains("chrome_sandbox")
            || l.contains("setuid sandbox")
            || l.contains("capset failed")
            || l.contains("unexpected capabilities but not setuid")
            || l.contains("starter-suid")
            || l.contains("sandbox helper binary"))
    {
        return Some((Op::SetuidHelper, None));
    }
    // bwrap reading its mount table before it builds the new root (snap confinement denies it).
    if l.contains("/proc/self/mountinfo") && l.contains("bwrap") && failed.get() {
        return Some((Op::Mount, None));
    }
    if l.contains("unknown option") && l.contains("bwrap") {
        return Some((Op::BwrapOption, None));
    }
    if l.contains("as root") {
        // Chromium refuses to run as root with its sandbox: a policy, not a failure.
        return None;
    }
    if sandbox
        && (l.contains("no usable sandbox")
            || l.contains("sandbox required but unavailable")
            || l.contains("sandboxed execution is not supported")
            || l.contains("sandboxing failure")
            || l.contains("failed to initialize sandbox")
            || l.contains("sandbox initialization failed"))
    {
        return Some((Op::SandboxUnavailable, None));
    }
    if (l.contains("uid") || l.contains("gid") || l.contains("ids"))
        && (l.contains("newuidmap")
            || l.contains("newgidmap")
            || l.contains("/etc/subuid")
            || l.contains("/etc/subgid")
            || l.contains("subuid") && failed.get()
            || l.contains("insufficient uids or gids")
            || l.contains("not enough ids")
            || l.contains("no subuid ranges")
            || l.contains("cannot find mappings for user")
            || l.contains("uidmap package"))
    {
        // A helper or a subordinate range that is not there: nothing refused the write.
        let absent = l.contains("not found")
            || l.contains("no entry")
            || l.contains("no subuid")
            || l.contains("cannot find mappings");
        return Some((Op::IdHelper, absent.then_some("ENOENT")));
    }
    // The setgroups *file* of a user namespace, not the setgroups(2) call a container's su/gosu makes.
    if l.contains("setgroups")
        && (l.contains("/setgroups")
            || (l.contains("writing to setgroups")
                || l.contains("write setgroups")
                || l.contains("setgroups") && l.contains("deny"))
                && failed.get())
    {
        return Some((Op::Setgroups, None));
    }
    if (l.contains("map") || l.contains("mapping"))
        && (l.contains("uid_map")
            || l.contains("gid_map")
            || l.contains("uid map")
            || l.contains("gid map")
            || l.contains("map uid")
            || l.contains("map gid")
            || l.contains("can't map uid")
            || l.contains("can't map gid")
            || l.contains("cannot map uid")
            || l.contains("cannot map gid")
            || l.contains("can't map user")
            || l.contains("uid mapping")
            || l.contains("gid mapping")
            || l.contains("id mapping") && failed.get())
    {
        return Some((Op::IdMap, None));
    }
    let lo = l.contains("rtm_") || l.contains("loopback");
    let sets_up_lo = lo
        && (l.contains("setting up")
            || l.contains("set up")
            || l.contains("configur")
            || l.contains("bring up")
            || l.contains("bringing up")
            || l.contains("netlink"));
    if l.contains("rtm_newaddr") || l.contains("rtm_newlink") || l.contains("loopback") && sets_up_lo && failed.get() {
        return Some((Op::Loopback, None));
    }
    if l.contains("netlink_route") && failed.get() {
        return Some((Op::NetlinkSocket, None));
    }
    if l.contains("overflowuid") || l.contains("overflowgid") {
        return Some((Op::ProcSys, Some("ENOENT")));
    }
    let proc = l.contains("proc");
    let proc_word = proc
        && (l.contains("proc`")
            || l.contains("proc ")
            || l.contains("/proc") && !l.contains("/proc/")
            || l.contains("\"proc\"")
            || l.contains("proc:")
            || l.contains("procfs"));
    if proc
        && (l.contains("mount proc")
            || l.contains("mounting proc")
            || l.contains("mount /proc")
            || l.contains("proc on /")
            || l.contains("mount too revealing")
            || l.contains("procfs") && failed.get()
            || l.contains("mount(\"proc\"")
            || l.contains("mount of /proc")
            || l.contains("remount /proc")
            || l.contains("mount proc filesystem")
            || l.contains("mount") && proc_word && !l.contains("mountinfo") && failed.get())
    {
        return Some((Op::ProcMount, None));
    }
    // Namespace creation.
    if l.contains("no permissions to creat") {
        return Some((Op::CreateUserns, Some("EPERM")));
    }
    if l.contains("creating new namespace failed") || l.contains("create new namespace") {
        if l.contains("does not support user namespaces") {
            return Some((Op::CreateUserns, Some("EINVAL")));
        }
        // bwrap prints `No permissions to create new namespace` for an unprivileged EPERM; this wording with
        // EPERM comes from a privileged (root or setuid) bwrap, which clones without a user namespace.
        let privileged_eperm = l.contains("operation not permitted") || l.contains("eperm");
        return Some((if privileged_eperm { Op::CreateNs } else { Op::CreateUserns }, None));
    }
    // Go's os/exec with namespace clone flags (runc, rootlesskit, runsc, k3s): `fork/exec /proc/self/exe: …`.
    // Go programs re-exec themselves with clone flags; another program's exec failing is not a namespace step.
    if l.contains("fork/exec /proc/self/exe")
        && (l.contains("operation not permitted") || l.contains("invalid argument") || l.contains("no space left"))
    {
        return Some((Op::CreateUserns, None));
    }
    // Chromium's namespace sandbox: one clone with CLONE_NEWUSER|CLONE_NEWPID|CLONE_NEWNET
    // (`Failed to move to new namespace`, sandbox/linux/services/credentials.cc).
    if l.contains("move to new namespace") {
        return Some((Op::CreateUserns, None));
    }
    // Chromium's namespace sandbox (sandbox/linux/services/credentials.cc).
    if l.contains("credentials.cc") && failed.get() {
        return Some((Op::CreateUserns, None));
    }
    let userns_word = l.contains("user namespace")
        || l.contains("user-namespace")
        || l.contains("usernamespace")
        || l.contains("userns")
        || l.contains("clone_newuser")
        || l.contains("user_namespace")
        || l.contains("user ns ");
    let create_word = l.contains("unshare")
        || l.contains("clone")
        || l.contains("new namespace")
        || l.contains("create namespace")
        || l.contains("creating namespace")
        || l.contains("namespace creation")
        || l.contains("move to new namespace")
        || l.contains("new namespaces")
        || l.contains("create a namespace")
        || l.contains("creating a namespace")
        || l.contains("namespaces failed")
        || l.contains("enter namespace") && !l.contains("setns");
    if userns_word && (failed.get() || create_word) {
        return Some((Op::CreateUserns, None));
    }
    let other_ns = l.contains("clone_newns")
        || l.contains("clone_newnet")
        || l.contains("clone_newpid")
        || l.contains("network namespace")
        || l.contains("mount namespace")
        || l.contains("pid namespace")
        || l.contains("net namespace")
        || l.contains("netns")
        || l.contains("cgroup namespace")
        || l.contains("ipc namespace")
        || l.contains("uts namespace")
        || l.contains("time namespace")
        || l.contains("mount namespacing");
    // `Failed to create container namespaces`, `can't init user+mount namespaces`: a namespace word, a verb of
    // creation and a failure.
    // Kubernetes namespaces (`namespaces "x" not found`), XML/C++ namespaces: not kernel namespaces.
    let named = l.contains("namespace \"")
        || l.contains("namespaces \"")
        || l.contains("namespace/")
        || l.contains("kubectl")
        || l.contains("in namespace")
        || l.contains("namespace '")
        || l.contains("xmlns");
    let any_ns = (l.contains("namespace") || l.contains("userns")) && !named;
    let makes = l.contains("creat")
        || l.contains("init")
        || l.contains("setting up")
        || l.contains("set up")
        || l.contains("setup")
        || l.contains("unshare")
        || l.contains("clone");
    if any_ns && makes && failed.get() && !l.contains("user.max_") {
        let only_other = other_ns && !userns_word && !l.contains("user+") && !l.contains("user ");
        let implied = if l.contains("not support") { Some("EINVAL") } else { None };
        return Some((if only_other { Op::CreateNs } else { Op::CreateUserns }, implied));
    }
    if any_ns && (l.contains("open") || l.contains("join") || l.contains("enter")) && failed.get() {
        return Some((Op::CreateNs, None));
    }
    if create_word && (failed.get() || l.contains(": e")) {
        // `unshare failed.get()`, `cannot clone`, `clone: …`, `failed.get() to unshare`; a clone of a git repository is not one.
        let git =
            l.contains("git clone") || l.contains("cloning into") || l.contains("repository") || l.contains("clone of");
        if !git
            && (l.contains("unshare")
                || l.contains("clone(")
                || l.contains("cannot clone")
                || l.contains("clone failed")
                || l.contains("clone: ")
                || l.contains("clone3")
                || l.contains("namespace"))
        {
            let only_other = other_ns && !l.contains("newuser") && !l.contains("user");
            return Some((if only_other { Op::CreateNs } else { Op::CreateUserns }, None));
        }
    }
    if other_ns && failed.get() && (l.contains("creat") || l.contains("unshare") || l.contains("setting up")) {
        return Some((Op::CreateNs, None));
    }
    // Nix and other builders: "cloning builder process".
    if l.contains("cloning builder process") || l.contains("fork/exec") && l.contains("namespace") {
        return Some((Op::CreateUserns, None));
    }
    // Mounts inside a sandbox (not an operator's own `mount` command).
    let sandbox_mount = l.contains("make / slave")
        || l.contains("make / rslave")
        || l.contains("make / private")
        || l.contains("make / rprivate")
        || l.contains("mount tmpfs")
        || l.contains("pivot_root")
        || l.contains("remount") && l.contains("newroot")
        || l.contains("ms_slave")
        || l.contains("ms_private")
        || l.contains("mount propagation")
        || l.contains("--make-rprivate")
        || l.contains("--make-rslave")
        || l.contains("mount namespace")
        || l.contains("/newroot") && l.contains("mount");
    if sandbox_mount && failed.get() {
        return Some((Op::Mount, None));
    }
    None
}

/// AppArmor/SELinux audit records, read from one (possibly re-joined) record.
fn audit(record: &str) -> Option<(Op, Option<&'static str>)> {
    let r = record;
    let field = |key: &str| -> Option<String> {
        let pos = r.find(key)?;
        let rest = r.get(pos.saturating_add(key.len())..)?;
        // Quotes may come escaped when a record is pasted from JSON (`operation=\"mount\"`).
        let rest = rest.trim_start_matches(['"', '\\']);
        Some(rest.chars().take_while(|c| *c != '"' && *c != '\\' && !c.is_whitespace()).collect())
    };
    if r.contains("apparmor=") || (r.contains("DENIED") && r.contains("userns_create")) {
        let denied = r.contains("DENIED") || r.contains("apparmor=denied");
        let profile = field("profile=").unwrap_or_default();
        let op = field("operation=").unwrap_or_default();
        let container =
            ["docker-default", "containers-default", "cri-containerd", "lxc-container-default", "lxc-default"]
                .iter()
                .any(|p| profile.contains(p) || r.contains(&format!("DENIED  {p}")))
                || profile.starts_with("lxc-")
                || profile.starts_with("incus-")
                || profile.starts_with("lxd-");
        if r.contains("transitioning profile")
            || profile == "unprivileged_userns"
            || profile.contains("unpriv_bwrap")
            || r.contains("failed to find unprivileged_userns profile")
        {
            return Some((Op::AuditApparmorTransition, None));
        }
        if denied && (op == "userns_create" || r.contains("userns_create")) {
            return Some((
                if container { Op::AuditApparmorUsernsContainer } else { Op::AuditApparmorUserns },
                Some("EACCES"),
            ));
        }
        if denied && (op == "mount" || op == "remount" || op == "pivotroot") {
            return Some((Op::AuditApparmorMount, Some("EACCES")));
        }
        if denied
            && (op == "capable" || r.contains("capname="))
            && (profile.contains("unprivileged_userns") || profile.contains("unpriv_bwrap"))
        {
            return Some((Op::AuditApparmorTransition, None));
        }
        return None;
    }
    if r.contains("avc:") && r.contains("denied") {
        let tclass = field("tclass=").unwrap_or_default();
        if tclass == "user_namespace" {
            return Some((Op::AuditSelinuxUserns, Some("EACCES")));
        }
        if r.contains("{ mount }") || r.contains("{ mounton }") || tclass == "filesystem" {
            return Some((Op::AuditSelinuxMount, Some("EACCES")));
        }
    }
    None
}

/// Lower-case needles: a line is read only when it holds one (keeps a multi-MiB log linear and fast).
const NEEDLES: &[&str] = &[
    "namespace",
    "userns",
    "unshare",
    "clone",
    "setgroups",
    "uid_map",
    "gid_map",
    "uid map",
    "gid map",
    "map uid",
    "map gid",
    "can't map",
    "cannot map",
    "mapping",
    "newuidmap",
    "newgidmap",
    "subuid",
    "subgid",
    "insufficient uids",
    "not enough ids",
    "rtm_new",
    "loopback",
    "netlink_route",
    "overflowuid",
    "overflowgid",
    "proc",
    "slave",
    "private",
    "tmpfs",
    "pivot_root",
    "newroot",
    "sandbox",
    "capset",
    "setuid",
    "apparmor=",
    "userns_create",
    "avc:",
    "type=1326",
    "type=seccomp",
    "bad system call",
    "sigsys",
    "exit status 159",
    "exit code 159",
    "226/namespace",
    "step namespace",
    "namespacing",
    "max_user_namespaces",
    "max_net_namespaces",
    "max_mnt_namespaces",
    "unprivileged_userns",
    "microsoft",
    "runsc",
    "gvisor",
    "disable-userns",
    "config_user_ns",
    "ns/user",
    "thread",
    "chroot",
    "distributor id",
    "operating system",
    "pretty_name",
    "version_id",
    "linux ",
    "uname",
    ".service",
    "systemd",
    "docker",
    "kubernetes",
    "container",
    "-rws",
    "unknown option",
];

/// A line can state context only when it holds one of these.
const HINT_NEEDLES: &[&str] = &[
    "max_",
    "unprivileged_userns",
    "apparmor_restrict",
    "microsoft",
    "runsc",
    "gvisor",
    "disable-userns",
    "nested",
    "config_user_ns",
    "ns/user",
    "thread",
    "chroot",
    ".service",
    "systemd[",
    "docker",
    "kubernetes",
    "container",
    "-rws",
    "linux ",
    "kernel:",
    "kernel version",
    "uname",
    "pretty_name",
    "distributor",
    "operating system",
    "description:",
    "os:",
    "distro",
    "inside a",
    "inside the sandbox",
    "already in a",
];

/// Reads every line of `text` (a `pointer` names where it came from). Linear in the text length; bounded output.
pub(crate) fn read_text(text: &str, pointer: &str, out: &mut Vec<Obs>, ctx: &mut TextContext) {
    if text.trim().is_empty() {
        return;
    }
    let lower_all = text.to_ascii_lowercase();
    // A long log is first scanned once per needle, so each line is tested only against the needles the text
    // holds at all; a short text is cheaper to test line by line against all of them.
    let long = text.len() > PREFILTER_BYTES;
    let present: Vec<&str> =
        if long { NEEDLES.iter().copied().filter(|n| lower_all.contains(n)).collect() } else { NEEDLES.to_vec() };
    let hints_present: Vec<&str> = if long {
        HINT_NEEDLES.iter().copied().filter(|n| lower_all.contains(n)).collect()
    } else {
        HINT_NEEDLES.to_vec()
    };
    if present.is_empty() {
        if ctx.tool_about_ns {
            let lines: Vec<&str> = text.lines().collect();
            bare_errno(&lines, pointer, true, out);
        }
        return;
    }
    if ctx.runtime.is_none() {
        ctx.runtime = runtime_of(text);
    }
    let lines: Vec<&str> = text.lines().collect();
    let mut pending: Option<(usize, String)> = None; // an audit record being re-joined
    let mut carried: Option<(Op, usize)> = None; // a namespace step named on a line without a failure
    let appimage = lower_all.contains("/.mount_") && lower_all.contains("chrome-sandbox");
    if appimage {
        hint(ctx, Hint::NosuidHelper, 0, "chrome-sandbox inside an AppImage mount");
    }
    // Logs repeat lines, often differing only in numbers (pids, timestamps): a line of a shape already read
    // says nothing new. Shapes are hashed (no allocation) and bounded, so memory stays flat.
    let mut seen: Vec<u64> = Vec::new(); // sorted
    for (i, raw) in lines.iter().enumerate() {
        if out.len() >= MAX_OBS {
            break;
        }
        let shape = shape_hash(raw);
        match seen.binary_search(&shape) {
            Ok(_) if pending.is_none() => continue,
            Ok(_) => {}
            Err(at) if seen.len() < MAX_SEEN => seen.insert(at, shape),
            Err(_) => {}
        }
        let line_no = i.saturating_add(1);
        let line = clean_line(raw);
        if line.is_empty() {
            continue;
        }
        let lower = line.to_ascii_lowercase();
        // Evidence quotes the line as posted (renderers escape what a terminal must not see).
        let posted = raw.trim();
        // Audit records wrapped over lines: a record start, then continuation lines until the next record.
        // Kernel audit records, `ausearch -i` records and apparmor.d's `aa-log` lines (`DENIED  profile op …`).
        let starts_record = lower.contains("type=") && (lower.contains("audit(") || lower.contains("msg="))
            || lower.contains("apparmor=")
            || lower.contains("avc:")
            || line.contains("DENIED") && lower.contains("userns_create");
        if let Some((start, rec)) = pending.take() {
            if starts_record || rec.len() > MAX_LINE {
                flush_audit(&rec, start, pointer, out);
            } else {
                let joined = format!("{rec} {line}");
                pending = Some((start, joined));
                continue;
            }
        }
        if starts_record {
            pending = Some((line_no, line.clone()));
        }
        let carried_recent = carried.is_some_and(|(_, at)| line_no.saturating_sub(at) <= 2);
        if !carried_recent && !present.iter().any(|n| lower.contains(n)) {
            continue;
        }
        if hints_present.iter().any(|n| lower.contains(n)) {
            read_hints(&line, &lower, line_no, ctx);
        }
        if starts_record {
            // The seccomp audit record is a line of its own kind.
            if lower.contains("type=1326") || lower.contains("type=seccomp") {
                push(out, Op::SeccompKill, None, posted, line_no, pointer, None);
            }
            continue;
        }
        if lower.contains("bad system call")
            || lower.contains("sigsys")
            || lower.contains("exit status 159")
            || lower.contains("exit code 159")
        {
            push(out, Op::SeccompKill, None, posted, line_no, pointer, line_program(&line));
            continue;
        }
        let failed = Failed::new(&lower);
        let mut found = operation(&lower, &failed);
        // An error line that names no operation, right after a line that does (`setup_namespaces …` then
        // `error: Invalid argument`): the error belongs to that operation.
        if found.is_none()
            && carried.is_some_and(|(_, at)| line_no.saturating_sub(at) <= 2)
            && failed.get()
            && errno_in(&line, &lower).is_some()
        {
            found = carried.map(|(op, _)| (op, None));
        }
        if found.is_none() && lower.contains("max_user_namespaces") && failed.get() {
            // A program refusing to start because the user-namespace limit is 0 or too low.
            found = Some((Op::CreateUserns, Some("ENOSPC")));
        }
        if found.is_none() && mentions_namespace_step(&lower) {
            carried = Some((Op::CreateUserns, line_no));
        }
        if let Some((op, implied)) = found {
            // strace prints successful calls too: `unshare(CLONE_NEWUSER) = 0`.
            if strace_success(&lower) {
                continue;
            }
            let program = line_program(&line);
            let mut e = implied.or_else(|| errno_in(&line, &lower));
            if e.is_none()
                && !says_failure(&lower)
                && !op.is_audit()
                && op != Op::SetuidHelper
                && op != Op::SandboxUnavailable
                && op != Op::UnitNamespace
                && op != Op::BwrapOption
            {
                continue;
            }
            // An AppImage's chrome-sandbox sits on a nosuid FUSE mount and can never be setuid: the message
            // means the namespace sandbox is unavailable, not that the helper can be repaired.
            let op = if op == Op::SetuidHelper && appimage { Op::SandboxUnavailable } else { op };
            // Opening another process's namespace file that is gone is not a namespace failure.
            if op == Op::CreateNs && matches!(e, Some("ENOENT" | "ESRCH")) && !lower.contains("creat") {
                continue;
            }
            // The errno may sit on the next line when a message was wrapped after its colon.
            if e.is_none() && line.trim_end().ends_with(':') {
                if let Some(next) = lines.get(i.saturating_add(1)) {
                    let n = clean_line(next);
                    e = errno_in(&n, &n.to_ascii_lowercase());
                }
            }
            // bwrap's errno after `loopback: Failed RTM_*` is stale (bubblewrap network.c rtnl_read_reply does
            // not set errno): it says nothing.
            if op == Op::Loopback && lower.contains("failed rtm_") {
                e = None;
            }
            // "not supported" without an errno: creation answered EINVAL on kernels without user namespaces.
            if e.is_none()
                && op == Op::CreateUserns
                && (lower.contains("not supported") || lower.contains("does not support"))
            {
                e = Some("EINVAL");
            }
            push(out, op, e, posted, line_no, pointer, program);
        }
    }
    if let Some((start, rec)) = pending {
        flush_audit(&rec, start, pointer, out);
    }
    if out.is_empty() {
        bare_errno(&lines, pointer, ctx.tool_about_ns, out);
    }
    // `ls -l` shows a setuid-root helper and something still failed: the setuid route itself did not work.
    if !out.is_empty() && !out.iter().any(|o| o.op == Op::SetuidHelper) {
        if let Some((_, n, l)) = ctx.hints.iter().find(|(h, _, _)| *h == Hint::SetuidInstalled).cloned() {
            push(out, Op::SetuidHelper, None, &l, n, pointer, None);
        }
    }
}

/// FNV-1a over a line's bytes without its ASCII digits.
fn shape_hash(line: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in line.bytes().filter(|b| !b.is_ascii_digit()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// A line naming a namespace step without a failure (`setup_namespaces 518: uids=…`, `unshare(CLONE_NEWUSER)`).
fn mentions_namespace_step(lower: &str) -> bool {
    lower.contains("namespace") || lower.contains("unshare") || lower.contains("clone_new") || lower.contains("userns")
}

/// Words that name creating a user namespace.
pub(crate) fn names_ns_step(lower: &str) -> bool {
    lower.contains("unshare")
        || lower.contains("clone_newuser")
        || lower.contains("user namespace")
        || lower.contains("userns")
}

/// `unshare(CLONE_NEWUSER)                  = 0`: strace's record of a call that succeeded.
fn strace_success(lower: &str) -> bool {
    let Some(close) = lower.rfind(')') else { return false };
    let rest = lower.get(close.saturating_add(1)..).unwrap_or("").trim_start();
    rest.strip_prefix('=').is_some_and(|v| v.trim_start().chars().next().is_some_and(|c| c.is_ascii_digit()))
}

/// A program that only prints a bare errno (`called Result::unwrap() on an Err value: EINVAL`) in a text that
/// is about creating namespaces: the errno is that step's.
fn bare_errno(lines: &[&str], pointer: &str, about_ns: bool, out: &mut Vec<Obs>) {
    let about_ns = about_ns || lines.iter().any(|l| names_ns_step(&l.to_ascii_lowercase()));
    if !about_ns {
        return;
    }
    for (i, raw) in lines.iter().enumerate() {
        let line = clean_line(raw);
        let lower = line.to_ascii_lowercase();
        if let Some(e) = errno_in(&line, &lower).filter(|e| matches!(*e, "EPERM" | "EINVAL" | "ENOSPC" | "ENOSYS")) {
            if says_failure(&lower) || lower.contains("err") || lower.contains("panic") {
                push(out, Op::CreateUserns, Some(e), &line, i.saturating_add(1), pointer, line_program(&line));
                return;
            }
        }
    }
}

fn flush_audit(rec: &str, line_no: usize, pointer: &str, out: &mut Vec<Obs>) {
    if let Some((op, e)) = audit(rec) {
        let comm = rec.find("comm=").and_then(|p| rec.get(p.saturating_add(5)..)).map(|s| {
            s.trim_start_matches('"')
                .chars()
                .take_while(|c| *c != '"' && !c.is_whitespace())
                .collect::<String>()
                .to_ascii_lowercase()
        });
        push(out, op, e, rec, line_no, pointer, comm.filter(|c| !c.is_empty()));
    }
}

fn push(
    out: &mut Vec<Obs>,
    op: Op,
    errno: Option<&'static str>,
    line: &str,
    line_no: usize,
    pointer: &str,
    program: Option<String>,
) {
    if out.len() >= MAX_OBS || out.iter().any(|o| o.op == op && o.errno == errno && o.pointer == pointer) {
        return;
    }
    out.push(Obs {
        op,
        errno,
        program,
        pointer: pointer.to_string(),
        line_no,
        line: crate::render::ellipsize(line.trim(), 300),
    });
}

fn hint(ctx: &mut TextContext, h: Hint, line_no: usize, line: &str) {
    if ctx.hints.len() < MAX_OBS && !ctx.hints.iter().any(|(k, _, _)| *k == h) {
        ctx.hints.push((h, line_no, crate::render::ellipsize(line.trim(), 300)));
    }
}

/// `key = value` or `key=value` or `key: value` where key ends with `name`, value a number.
fn sysctl_value(lower: &str, name: &str) -> Option<i64> {
    let pos = lower.find(name)?;
    let rest = lower.get(pos.saturating_add(name.len())..)?;
    let rest = rest.trim_start().strip_prefix('=').or_else(|| rest.trim_start().strip_prefix(':'))?.trim_start();
    // bwrap's own hint reads "with 'sysctl kernel.unprivileged_userns_clone=1'": a suggestion, not a value.
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn read_hints(line: &str, lower: &str, line_no: usize, ctx: &mut TextContext) {
    let suggestion = lower.contains("can be enabled with")
        || lower.contains("enable with")
        || lower.contains("try ")
        || lower.contains("run 'sysctl")
        || lower.contains("please");
    if !suggestion {
        if sysctl_value(lower, "unprivileged_userns_clone") == Some(0) {
            hint(ctx, Hint::CloneSysctlZero, line_no, line);
        }
        for k in ["max_user_namespaces", "max_net_namespaces", "max_mnt_namespaces", "max_pid_namespaces"] {
            if sysctl_value(lower, k) == Some(0) {
                hint(ctx, Hint::LimitZero, line_no, line);
            }
        }
        if sysctl_value(lower, "apparmor_restrict_unprivileged_userns") == Some(1) {
            hint(ctx, Hint::RestrictionOn, line_no, line);
        }
    }
    if lower.contains("max_user_namespaces")
        && (lower.contains("not enabled")
            || lower.contains("is 0")
            || lower.contains("set to 0")
            || lower.contains("== 0")
            || lower.contains("sufficiently large")
            || lower.contains("too low")
            || lower.contains("is zero"))
    {
        hint(ctx, Hint::LimitZero, line_no, line);
    }
    if line.contains("-Microsoft") && !lower.contains("microsoft-standard") && !lower.contains("wsl2") {
        hint(ctx, Hint::Wsl1Kernel, line_no, line);
    }
    if lower.contains("runsc") || lower.contains("gvisor") {
        hint(ctx, Hint::Gvisor, line_no, line);
    }
    if lower.contains("--disable-userns")
        || lower.contains("creation of new user namespaces was not disabled")
        || lower.contains("inside a flatpak")
        || lower.contains("nested sandbox")
        || lower.contains("already in a sandbox")
        || lower.contains("inside the sandbox") && lower.contains("bwrap")
        || lower.contains("nested userns")
        || lower.contains("nested user namespace")
    {
        hint(ctx, Hint::Nested, line_no, line);
    }
    if lower.contains("config_user_ns") || lower.contains("/proc/self/ns/user") && lower.contains("no such file") {
        hint(ctx, Hint::NoUsernsSupport, line_no, line);
    }
    if lower.contains("multithreaded") || lower.contains("multi-threaded") || lower.contains("more than one thread") {
        hint(ctx, Hint::Threads, line_no, line);
    }
    // `ls -l` of a setuid-root sandbox binary: the setuid route was taken and still failed.
    if line.starts_with("-rws")
        && (lower.contains("bwrap") || lower.contains("chrome-sandbox") || lower.contains("starter-suid"))
    {
        hint(ctx, Hint::SetuidInstalled, line_no, line);
    }
    if lower.contains("chroot") && !lower.contains("fakechroot") {
        hint(ctx, Hint::Chroot, line_no, line);
    }
    if lower.contains(".service") || lower.contains("systemd[1]") {
        hint(ctx, Hint::Systemd, line_no, line);
    }
    if lower.contains("/.dockerenv")
        || lower.contains("docker run")
        || lower.contains("inside docker")
        || lower.contains("in a docker container")
        || lower.contains("kubernetes")
        || lower.contains("inside a container")
        || lower.contains("in a container")
    {
        hint(ctx, Hint::Container, line_no, line);
    }
    // Context lines: uname, os-release, lsb_release, hostnamectl.
    if ctx.kernel.is_none()
        && (lower.starts_with("linux ")
            || lower.contains("kernel:")
            || lower.contains("kernel version")
            || lower.contains("uname"))
    {
        ctx.kernel = kernel_token(line);
    }
    if ctx.distro.is_none() {
        ctx.distro = distro_line(line, lower);
    }
}

/// A kernel release token: `6.8.0-31-generic`, `4.4.0-19041-Microsoft`, `3.10.0-1160.el7.x86_64`.
fn kernel_token(line: &str) -> Option<String> {
    line.split_whitespace()
        .map(|w| w.trim_matches(|c: char| c == ',' || c == '"' || c == '\'' || c == '(' || c == ')'))
        .find(|w| {
            let mut parts = w.split('.');
            let major = parts.next().and_then(|m| m.parse::<u32>().ok());
            let minor = parts.next().map(|m| m.chars().take_while(char::is_ascii_digit).collect::<String>());
            major.is_some_and(|m| (2..=7).contains(&m))
                && minor.is_some_and(|m| !m.is_empty())
                && (w.contains('-') || w.matches('.').count() >= 2)
        })
        .map(str::to_string)
}

/// Known distro names as they appear in os-release `PRETTY_NAME`, `lsb_release` and `hostnamectl`.
const DISTROS: &[(&str, &str)] = &[
    ("ubuntu", "ubuntu"),
    ("kubuntu", "ubuntu"),
    ("xubuntu", "ubuntu"),
    ("debian", "debian"),
    ("linux mint", "linuxmint"),
    ("pop!_os", "pop"),
    ("fedora", "fedora"),
    ("centos", "centos"),
    ("red hat enterprise linux", "rhel"),
    ("rocky linux", "rocky"),
    ("almalinux", "almalinux"),
    ("arch linux", "arch"),
    ("manjaro", "manjaro"),
    ("opensuse tumbleweed", "opensuse-tumbleweed"),
    ("opensuse leap", "opensuse-leap"),
    ("nixos", "nixos"),
    ("gentoo", "gentoo"),
    ("alpine", "alpine"),
    ("zorin", "zorin"),
    ("elementary os", "elementary"),
    ("kali", "kali"),
    ("endeavouros", "endeavouros"),
    ("void", "void"),
];

fn distro_line(line: &str, lower: &str) -> Option<(String, Option<String>)> {
    let marker =
        ["pretty_name=", "distributor id:", "operating system:", "description:", "os:", "distro:", "distribution:"]
            .iter()
            .find_map(|m| lower.find(m).map(|p| p.saturating_add(m.len())))?;
    let rest = lower.get(marker..)?;
    let (_, id) = DISTROS.iter().find(|(name, _)| rest.contains(name))?;
    let version = rest
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .find(|w| !w.is_empty() && w.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .map(|v| v.trim_end_matches('.').to_string());
    let _ = line;
    Some(((*id).to_string(), version))
}

/// The language runtime a traceback or panic shows.
fn runtime_of(text: &str) -> Option<&'static str> {
    if text.contains("Traceback (most recent call last)")
        || text.contains("PermissionError: [Errno")
        || text.contains("OSError: [Errno")
    {
        return Some("python");
    }
    if text.contains("goroutine ") || text.contains("fork/exec ") || text.contains("syscall.Unshare") {
        return Some("go");
    }
    if text.contains("Exception in thread") || text.contains("\tat java.") || text.contains("at java.base/") {
        return Some("java");
    }
    if text.contains("node:internal")
        || text.contains("at process.processTicksAndRejections")
        || text.contains("errno: -") && text.contains("syscall: '")
    {
        return Some("node");
    }
    if text.contains("thread 'main' panicked") || text.contains("(os error ") {
        return Some("rust");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> (Vec<Obs>, TextContext) {
        let mut out = Vec::new();
        let mut ctx = TextContext::default();
        read_text(text, "/observed_error", &mut out, &mut ctx);
        (out, ctx)
    }
    fn one(text: &str) -> (Op, Option<&'static str>) {
        let (o, _) = read(text);
        assert!(!o.is_empty(), "nothing read from {text:?}");
        (o[0].op, o[0].errno)
    }

    #[test]
    fn every_strerror_of_the_table_is_recognised() {
        for (name, text) in errno::all() {
            let lower = text.to_ascii_lowercase();
            if ERRNO_NAMES.contains(&name) {
                assert_eq!(errno_in(text, &lower), Some(name), "{text}");
            }
        }
    }

    #[test]
    fn errno_in_every_form_programs_print_it() {
        for (line, want) in [
            ("unshare: unshare failed: Operation not permitted", "EPERM"),
            ("Error: failed to unshare: operation not permitted", "EPERM"),
            ("PermissionError: [Errno 1] Operation not permitted", "EPERM"),
            ("unshare(CLONE_NEWUSER) failed: errno = 22", "EINVAL"),
            ("Failed to create user namespace (os error 28)", "ENOSPC"),
            ("clone failed: EACCES", "EACCES"),
            ("unshare: unshare failed: Vorgang nicht zulässig", "EPERM"),
            ("unshare: échec de unshare: Opération non permise", "EPERM"),
            ("unshare: unshare failed: PERMISSION DENIED", "EACCES"),
            ("unshare: unshare failed: Операция не позволена", "EPERM"),
            ("unshare() failed: errno=-1", "EPERM"),
        ] {
            let lower = line.to_ascii_lowercase();
            assert_eq!(errno_in(line, &lower), Some(want), "{line}");
        }
        assert_eq!(errno_in("EPERMISSION", "epermission"), None, "whole words only");
    }

    #[test]
    fn operations_in_any_words() {
        assert_eq!(
            one(
                "bwrap: No permissions to create a new namespace, likely because the kernel does not allow non-privileged user namespaces."
            ),
            (Op::CreateUserns, Some("EPERM"))
        );
        assert_eq!(
            one("ch-run[1234]: can't create user namespace: Permission denied"),
            (Op::CreateUserns, Some("EACCES"))
        );
        assert_eq!(
            one("FATAL:   container creation failed: failed to create user namespace: invalid argument"),
            (Op::CreateUserns, Some("EINVAL"))
        );
        assert_eq!(one("error: cloning builder process: Operation not permitted"), (Op::CreateUserns, Some("EPERM")));
        assert_eq!(one("bwrap: setting up uid map: Permission denied"), (Op::IdMap, Some("EACCES")));
        assert_eq!(one("newuidmap: write to uid_map failed: Operation not permitted"), (Op::IdHelper, Some("EPERM")));
        assert_eq!(one("bwrap: loopback: Failed RTM_NEWADDR: Operation not permitted"), (Op::Loopback, None));
        assert_eq!(
            one("bwrap: Can't mount proc on /newroot/proc: Operation not permitted"),
            (Op::ProcMount, Some("EPERM"))
        );
        assert_eq!(one("bwrap: Failed to make / slave: Permission denied"), (Op::Mount, Some("EACCES")));
        assert_eq!(
            one("[12:12:FATAL:zygote_host_impl_linux.cc(126)] No usable sandbox!"),
            (Op::SandboxUnavailable, None)
        );
        assert_eq!(one("Main process exited, code=exited, status=226/NAMESPACE"), (Op::UnitNamespace, None));
        assert_eq!(one("bwrap: Creating new namespace failed: Operation not permitted"), (Op::CreateNs, Some("EPERM")));
        assert_eq!(one("bwrap: Creating new namespace failed: Permission denied"), (Op::CreateUserns, Some("EACCES")));
        assert_eq!(one("bwrap: capset failed: Operation not permitted"), (Op::SetuidHelper, Some("EPERM")));
        assert_eq!(
            one("dovecot.service: Failed to set up mount namespacing: Permission denied"),
            (Op::UnitNamespace, Some("EACCES"))
        );
        assert_eq!(
            one(
                "Failed to move to new namespace: PID namespaces supported, Network namespace supported, but failed: errno = Operation not permitted"
            ),
            (Op::CreateUserns, Some("EPERM"))
        );
        assert_eq!(one("bwrap: Unknown option --argv0"), (Op::BwrapOption, None));
    }

    #[test]
    fn wrapped_and_interpreted_audit_records() {
        let wrapped = "type=AVC msg=audit(1700000000.123:456): avc:  denied  { create } for  pid=3\n   comm=\"bwrap\" scontext=unconfined_u:unconfined_r:xdm_t:s0\n   tclass=user_namespace permissive=0\nsomething else";
        assert_eq!(one(wrapped), (Op::AuditSelinuxUserns, Some("EACCES")));
        let interpreted = "type=AVC msg=audit(12/01/2024 10:00:00.123:456) : apparmor=DENIED operation=userns_create class=namespace profile=unconfined_app pid=1 comm=foo requested=userns_create denied=userns_create";
        assert_eq!(one(interpreted), (Op::AuditApparmorUserns, Some("EACCES")));
        let docker = "audit: type=1400 audit(1.2:3): apparmor=\"DENIED\" operation=\"userns_create\" class=\"namespace\" profile=\"docker-default\" pid=1 comm=\"bwrap\"";
        assert_eq!(one(docker), (Op::AuditApparmorUsernsContainer, Some("EACCES")));
    }

    #[test]
    fn ansi_crlf_and_prompts_do_not_hide_a_line() {
        assert_eq!(
            one("\u{1b}[31mbwrap: setting up uid map: Permission denied\u{1b}[0m\r\n"),
            (Op::IdMap, Some("EACCES"))
        );
        assert_eq!(
            one("$ unshare -r true\r\nunshare: write failed /proc/self/uid_map: Operation not permitted\r\n"),
            (Op::IdMap, Some("EPERM"))
        );
    }

    #[test]
    fn ordinary_errors_are_not_namespace_failures() {
        for t in [
            "cp: cannot open 'x' for reading: Permission denied",
            "curl: (6) Could not resolve host: example.com",
            "bwrap: Can't find source path /nix: No such file or directory",
            "bwrap: execvp foo: No such file or directory",
            "Cloning into 'repo'...\nfatal: could not read Username: terminal prompts disabled",
            "mount: /mnt: permission denied.",
            "error: could not compile `foo`",
        ] {
            let (o, _) = read(t);
            assert!(o.is_empty(), "{t}: {o:?}");
        }
    }

    #[test]
    fn stated_context_is_read() {
        let (_, c) = read(
            "Linux host 4.4.0-19041-Microsoft #1237-Microsoft Sat Sep 11 14:32:00 PST 2021 x86_64\nunshare: unshare failed: Invalid argument",
        );
        assert!(c.hints.iter().any(|(h, _, _)| *h == Hint::Wsl1Kernel));
        assert_eq!(c.kernel.as_deref(), Some("4.4.0-19041-Microsoft"));
        let (_, c) = read("kernel.unprivileged_userns_clone = 0\nbwrap: No permissions to create new namespace");
        assert!(c.hints.iter().any(|(h, _, _)| *h == Hint::CloneSysctlZero));
        let (_, c) = read(
            "bwrap: No permissions to creating new namespace, likely because the kernel does not allow non-privileged user namespaces. On e.g. debian this can be enabled with 'sysctl kernel.unprivileged_userns_clone=1'.",
        );
        assert!(c.hints.is_empty(), "bwrap's own suggestion is not a stated value");
        let (_, c) = read("Operating System: Ubuntu 24.04.1 LTS\nbwrap: setting up uid map: Permission denied");
        assert_eq!(c.distro, Some(("ubuntu".to_string(), Some("24.04.1".to_string()))));
    }
}
