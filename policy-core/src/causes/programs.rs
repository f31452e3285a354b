//! What the programs that report namespace failures are: which binary creates the namespaces, whether the
//! caller is multi-threaded when it does, whether it falls back to a setuid helper or uses newuidmap. The
//! ranker reads a program's kind, never its wording.

/// How a program gets its namespaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    /// Runs bubblewrap (Flatpak, Codex, sandbox-runtime, pressure-vessel, glycin, WebKitGTK, …).
    Bwrap,
    /// Creates them itself with a setuid fallback (Chromium, Electron, Firefox).
    Browser,
    /// A container runtime (rootless ones map id ranges through newuidmap).
    Container,
    /// A build or HPC sandbox / jailer calling unshare/clone itself.
    Sandbox,
    /// util-linux and other single-purpose tools.
    Tool,
    /// A language runtime calling unshare from its own process.
    Runtime,
}

#[derive(Debug)]
pub(crate) struct Program {
    pub names: &'static [&'static str],
    pub kind: Kind,
    /// The calling process has several threads when it calls unshare (Go, the JVM, Node's libuv pool):
    /// `unshare(CLONE_NEWUSER)` then fails with EINVAL (unshare(2)).
    pub multithreaded: bool,
    /// Falls back to a setuid-root helper when unprivileged user namespaces are unavailable.
    pub setuid_fallback: bool,
    /// Maps subordinate id ranges with newuidmap/newgidmap.
    pub id_helpers: bool,
}

const fn p(
    names: &'static [&'static str],
    kind: Kind,
    multithreaded: bool,
    setuid_fallback: bool,
    id_helpers: bool,
) -> Program {
    Program { names, kind, multithreaded, setuid_fallback, id_helpers }
}

/// Known programs. A name matches a whole word of the `tool` fact or a line's program prefix.
pub(crate) const PROGRAMS: &[Program] = &[
    p(
        &[
            "bwrap",
            "bubblewrap",
            "flatpak",
            "flatpak-builder",
            "codex",
            "codex-linux-sandbox",
            "srt",
            "sandbox-runtime",
            "claude",
            "claude-code",
            "openclaw",
            "pressure-vessel",
            "steam",
            "umu",
            "umu-launcher",
            "proton",
            "glycin",
            "webkit",
            "webkitgtk",
            "epiphany",
            "bottles",
            "lutris",
            "heroic",
            "xdg-desktop-portal",
            "gnome-desktop",
            "nautilus",
            "localsearch",
            "tracker",
            "conty",
            "ai-jail",
            "gemini",
            "opencode",
        ],
        Kind::Bwrap,
        false,
        false,
        false,
    ),
    p(
        &[
            "chromium",
            "chrome",
            "google-chrome",
            "brave",
            "vivaldi",
            "edge",
            "msedge",
            "thorium",
            "opera",
            "electron",
            "vscode",
            "code",
            "slack",
            "discord",
            "obsidian",
            "signal",
            "element",
            "joplin",
            "cursor",
            "teams",
            "spotify",
            "bitwarden",
            "puppeteer",
            "playwright",
            "chromedriver",
            "cypress",
            "cef",
            "firefox",
            "librewolf",
            "zygote_host_impl_linux.cc",
            "appimage",
        ],
        Kind::Browser,
        false,
        true,
        false,
    ),
    p(
        &[
            "podman",
            "buildah",
            "skopeo",
            "rootlesskit",
            "dockerd-rootless",
            "nerdctl",
            "lxc",
            "lxc-start",
            "lxc-usernsexec",
            "lxd",
            "incus",
            "toolbox",
            "distrobox",
            "usernetes",
            "buildkitd",
            "buildctl",
            "k3s",
            "kind",
            "mmdebstrap",
            "crun",
        ],
        Kind::Container,
        false,
        false,
        true,
    ),
    p(
        &["docker", "containerd", "runc", "youki", "systemd-nspawn", "kaniko", "sysbox", "gvisor", "runsc"],
        Kind::Container,
        false,
        false,
        false,
    ),
    p(&["apptainer", "singularity", "starter", "starter-suid"], Kind::Sandbox, false, true, true),
    p(&["firejail"], Kind::Sandbox, false, true, false),
    p(
        &[
            "ch-run",
            "ch-image",
            "charliecloud",
            "enroot",
            "nix",
            "nix-daemon",
            "nix-build",
            "nix-user-chroot",
            "nix-portable",
            "guix",
            "guix-daemon",
            "bazel",
            "linux-sandbox",
            "buck2",
            "nsjail",
            "minijail",
            "minijail0",
            "sandstorm",
            "vagga",
            "hakoniwa",
            "birdcage",
            "bst",
        ],
        Kind::Sandbox,
        false,
        false,
        false,
    ),
    p(&["unshare", "nsenter", "newuidmap", "newgidmap"], Kind::Tool, false, false, false),
    p(&["go", "java", "node", "nodejs", "deno", "bun", "dotnet", "jvm"], Kind::Runtime, true, false, false),
    p(&["python", "python3", "ruby", "perl", "rust", "cargo"], Kind::Runtime, false, false, false),
];

/// The program named by a free-text `tool` fact or a line prefix (whole words, case-insensitive).
pub(crate) fn find(name: &str) -> Option<&'static Program> {
    let lower = name.to_ascii_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
        .filter(|w| !w.is_empty())
        .collect();
    // The whole name first (`claude-code`), then its words (`codex` in `codex 0.116`).
    PROGRAMS
        .iter()
        .find(|p| p.names.contains(&lower.trim()))
        .or_else(|| words.iter().find_map(|w| PROGRAMS.iter().find(|p| p.names.contains(w))))
        .or_else(|| {
            let parts: Vec<&str> =
                lower.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).collect();
            parts.iter().find_map(|w| PROGRAMS.iter().find(|p| p.names.contains(w)))
        })
}

/// The program that runs in a language runtime's process (a traceback says which).
pub(crate) fn runtime(name: &str) -> Option<&'static Program> {
    PROGRAMS.iter().find(|p| p.kind == Kind::Runtime && p.names.contains(&name))
}
