//! Error-text reading across programs, wordings, errno forms and contexts: a text that names a namespace
//! operation and an errno is never left unexplained (NSD199) when the stated context leaves a mechanism, the
//! context decides between mechanisms that give the same errno, and ordinary errors block nothing.

use policy_core::{Cause, Verdict, diagnose, input};

fn top(text: &str, facts: &[&str]) -> (Option<Cause>, Verdict) {
    let facts: Vec<String> = facts.iter().map(|s| (*s).to_string()).collect();
    let r = input::report_from_error_text(text, &facts).unwrap();
    let d = diagnose(&r, None);
    (d.findings.first().map(|f| f.cause), d.verdict)
}

/// The same failure printed by different programs, in different words and errno forms.
const CREATE_EPERM: &[&str] = &[
    "bwrap: No permissions to create new namespace, likely because the kernel does not allow non-privileged user namespaces.",
    "unshare: unshare failed: Operation not permitted",
    "Error: cannot clone: Operation not permitted",
    "ERROR  : Failed to create user namespace: operation not permitted",
    "ch-run[4242]: can't init user+mount namespaces: Operation not permitted (ch-run.c:661 1)",
    "PermissionError: [Errno 1] Operation not permitted: unshare(CLONE_NEWUSER)",
    "Error: failed to unshare user namespace (os error 1)",
    "firejail: Error: cannot create a new user namespace: EPERM",
    "[rootlesskit:parent] error: failed to start the child: fork/exec /proc/self/exe: operation not permitted",
    "unshare: échec de unshare: Opération non permise",
];

#[test]
fn an_eperm_at_creation_from_any_program_follows_the_context() {
    for text in CREATE_EPERM {
        for (facts, want) in [
            (&["distro=debian", "distro-version=10"][..], Cause::UnprivilegedUsernsCloneDisabled),
            (&["container=docker", "root=no"][..], Cause::ContainerSeccomp),
            (&["service=systemd", "distro=fedora", "distro-version=40"][..], Cause::SystemdUnitHardening),
            (&["chroot=yes", "distro=debian", "distro-version=12"][..], Cause::Chroot),
            (&["distro=ubuntu", "distro-version=24.04"][..], Cause::ApparmorUsernsRestriction),
            (&["container=flatpak"][..], Cause::NestedUsernsLimit),
        ] {
            let (got, verdict) = top(text, facts);
            assert_eq!(got, Some(want), "{text} with {facts:?}");
            assert_eq!(verdict, Verdict::Blocked, "{text} with {facts:?}");
        }
    }
}

#[test]
fn einval_and_enospc_follow_the_kernel_and_the_program() {
    let einval = [
        "unshare: unshare failed: Invalid argument",
        "Failed to create user namespace: Invalid argument",
        "clone(CLONE_NEWUSER): errno=22",
    ];
    for text in einval {
        assert_eq!(top(text, &["wsl=1"]).0, Some(Cause::Wsl1NoUserns), "{text}");
        assert_eq!(top(text, &["kernel=2.6.32-696.el6.x86_64"]).0, Some(Cause::KernelNoUserns), "{text}");
        assert_eq!(top(text, &["distro=centos", "distro-version=7.6"]).0, Some(Cause::UsernsLimitZero), "{text}");
    }
    // A Go program calling unshare from its own (multi-threaded) process; util-linux `unshare` never is.
    for text in [
        "Failed to create user namespace: Invalid argument",
        "panic: unshare(CLONE_NEWUSER): invalid argument\n\ngoroutine 1 [running]:",
    ] {
        assert_eq!(
            top(text, &["distro=ubuntu", "distro-version=24.04", "tool=go"]).0,
            Some(Cause::MultithreadedCaller),
            "{text}"
        );
    }
    for text in [
        "unshare: unshare failed: No space left on device",
        "Error: cannot clone: ENOSPC",
        "bwrap: Creating new namespace failed: nesting depth or /proc/sys/user/max_*_namespaces exceeded (ENOSPC)",
    ] {
        assert_eq!(top(text, &[]).0, Some(Cause::UsernsLimitZero), "{text}");
        assert_eq!(top(text, &["container=flatpak"]).0, Some(Cause::NestedUsernsLimit), "{text}");
    }
}

#[test]
fn capability_loss_after_creation_is_apparmor_on_ubuntu_for_any_program() {
    for text in [
        "bwrap: setting up uid map: Permission denied",
        "unshare: write failed /proc/self/uid_map: Operation not permitted",
        "newuidmap: write to uid_map failed: Operation not permitted",
        "bwrap: loopback: Failed RTM_NEWADDR: Operation not permitted",
        "apply-seccomp: write /proc/self/setgroups: Permission denied",
        "Failed to move to new namespace: PID namespaces supported, Network namespace supported, but failed: errno = Permission denied",
    ] {
        assert_eq!(
            top(text, &["distro=ubuntu", "distro-version=24.04"]).0,
            Some(Cause::ApparmorUsernsRestriction),
            "{text}"
        );
    }
}

#[test]
fn no_op_and_errno_pair_is_left_unexplained_where_the_context_allows_a_mechanism() {
    // Each operation with the errnos the kernel or a filter gives for it.
    let all = &[
        "Operation not permitted",
        "Permission denied",
        "No space left on device",
        "Invalid argument",
        "Function not implemented",
    ][..];
    let writes = &["Operation not permitted", "Permission denied"][..];
    let mounts = &["Operation not permitted", "Permission denied", "Invalid argument", "Function not implemented"][..];
    let ops = [
        ("bwrap: Creating new namespace failed: {e}", all),
        ("unshare: unshare failed: {e}", all),
        ("bwrap: setting up uid map: {e}", writes),
        ("error writing to setgroups: {e}", writes),
        ("newuidmap: write to uid_map failed: {e}", writes),
        ("bwrap: Can't mount proc on /newroot/proc: {e}", mounts),
        ("bwrap: Failed to make / slave: {e}", mounts),
    ];
    let contexts: [&[&str]; 5] = [
        &[],
        &["distro=ubuntu", "distro-version=24.04"],
        &["distro=debian", "distro-version=12"],
        &["container=docker"],
        &["distro=fedora", "distro-version=40", "selinux=enforcing"],
    ];
    for (op, errnos) in ops {
        for e in errnos {
            let text = op.replace("{e}", e);
            for facts in contexts {
                let (got, verdict) = top(&text, facts);
                assert!(got.is_some() && got != Some(Cause::Unknown), "{text} with {facts:?}: {got:?}");
                assert_ne!(verdict, Verdict::Ok, "{text} with {facts:?}");
            }
        }
    }
}

#[test]
fn audit_records_as_pasted() {
    let wrapped = "type=AVC msg=audit(1700000000.123:456): avc:  denied  { create } for  pid=3 comm=\"bwrap\"\n    scontext=unconfined_u:unconfined_r:xdm_t:s0 tcontext=unconfined_u:unconfined_r:xdm_t:s0\n    tclass=user_namespace permissive=0";
    assert_eq!(top(wrapped, &[]).0, Some(Cause::SelinuxDenial));
    let interpreted = "type=AVC msg=audit(12/01/2024 10:00:00.123:456) : apparmor=DENIED operation=userns_create class=namespace profile=unconfined_app pid=1 comm=foo requested=userns_create denied=userns_create";
    assert_eq!(top(interpreted, &[]).0, Some(Cause::ApparmorUsernsRestriction));
    let docker = "kernel: audit: type=1400 audit(1.2:3): apparmor=\"DENIED\" operation=\"userns_create\" class=\"namespace\" profile=\"docker-default\" pid=1 comm=\"bwrap\"";
    assert_eq!(top(docker, &["container=docker"]).0, Some(Cause::ContainerApparmorProfile));
    let mixed = format!("some unrelated line\n{wrapped}\nanother unrelated line\n");
    assert_eq!(top(&mixed, &[]).0, Some(Cause::SelinuxDenial));
}

#[test]
fn an_option_bwrap_does_not_know_is_an_old_bwrap_not_a_namespace_policy() {
    // openai/codex#15335: Ubuntu 22.04's bubblewrap 0.6.1 and a tool passing --argv0 (0.9.0).
    let (cause, verdict) = top("bwrap: Unknown option --argv0", &["distro=ubuntu", "distro-version=22.04"]);
    assert_eq!((cause, verdict), (Some(Cause::BwrapVersion), Verdict::Blocked));
    let r = input::report_from_error_text("bwrap: Unknown option --argv0", &[]).unwrap();
    let d = diagnose(&r, None);
    assert_eq!(
        d.findings.len(),
        1,
        "no namespace cause is offered for it: {:?}",
        d.findings.iter().map(|f| &f.code).collect::<Vec<_>>()
    );
    assert_eq!(d.findings[0].code, "NSD175");
}

#[test]
fn ordinary_errors_and_healthy_outputs_block_nothing() {
    for text in [
        "cp: cannot open 'x' for reading: Permission denied",
        "curl: (6) Could not resolve host: example.com",
        "fatal: unable to access 'https://example.com/x.git/': Could not resolve host: example.com",
        "bwrap: Can't find source path /nix: No such file or directory",
        "bwrap: execvp foo: No such file or directory",
        "Error from server (NotFound): namespaces \"staging\" not found",
        "nsenter: cannot open /proc/4242/ns/mnt: No such file or directory",
        "unshare(CLONE_NEWUSER)                  = 0",
        "$ unshare -r id\nuid=0(root) gid=0(root) groups=0(root)",
        "[21:21:0202/155237.024778:ERROR:zygote_host_impl_linux.cc(90)] Running as root without --no-sandbox is not supported. See https://crbug.com/638180.",
        "error: could not compile `foo` (bin \"foo\") due to 2 previous errors",
        "No space left on device",
    ] {
        let (_, verdict) = top(text, &[]);
        assert_eq!(verdict, Verdict::Ok, "{text}");
        let r = input::report_from_error_text(text, &[]).unwrap();
        let d = diagnose(&r, None);
        assert!(d.findings.is_empty(), "{text}: {:?}", d.findings.first().map(|f| &f.code));
        assert_eq!(d.headline, "no namespace failure recognised in the text");
    }
}

/// An error-text diagnosis says what it read (the text and the stated facts, as `--fact` would state them),
/// never that it checked a host; a probe-report diagnosis keeps `checked:`.
#[test]
fn error_text_diagnoses_say_what_was_read() {
    let facts = ["distro=ubuntu".to_string(), "distro-version=24.04".to_string(), "container=none".to_string()];
    let r = input::report_from_error_text("x\nbwrap: setting up uid map: Permission denied\n", &facts).unwrap();
    let d = diagnose(&r, None);
    let read = d.read.as_ref().expect("an error text diagnosis records what it read");
    assert_eq!((read.lines, read.facts.as_slice()), (2, &facts[..]));
    let text = policy_core::render::text(&d, false);
    let second: Vec<&str> = text.lines().skip(1).take(2).collect();
    assert_eq!(
        second,
        [
            "read: an error text of 2 lines, and the stated facts distro=ubuntu, distro-version=24.04, container=none",
            "judged for: codex sandbox, network none, namespaces user+net+pid+mount+proc",
        ]
    );
    assert!(!text.contains("checked:"), "{text}");
    // The stated facts read back are the facts that build the same report.
    assert_eq!(
        input::report_from_error_text("x\nbwrap: setting up uid map: Permission denied\n", &read.facts).ok(),
        Some(r)
    );

    let bare = diagnose(
        &input::report_from_error_text("unshare: unshare failed: Operation not permitted", &[]).unwrap(),
        None,
    );
    assert!(policy_core::render::text(&bare, false).contains("read: an error text of 1 line, and no facts stated"));
    let probe = nsdoctor_tests::load(
        &nsdoctor_tests::repo_root().join("tests/fixtures/ubuntu-2404-codex-bundled-bwrap-uidmap.json"),
    )
    .unwrap();
    let d = diagnose(&probe, None);
    assert!(d.read.is_none());
    assert!(policy_core::render::text(&d, false).lines().nth(1).is_some_and(|l| l.starts_with("checked: ")));
}
