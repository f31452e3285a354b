//! The repository stands on its own: no references to notes that are not in it, and no words about how the
//! work was organised, in the tree or in what `nsdoctor explain` prints. The corpus keeps users' texts verbatim
//! and `fuzz/regressions/` keeps crash inputs byte for byte, so both are exempt.

use std::process::Command;

use nsdoctor_tests::repo_root;
use policy_core::rules::RULES;

/// (what it matches, why it must not appear): plain lowercase substrings or simple word patterns.
fn offences(text: &str) -> Vec<String> {
    let lower = text.to_ascii_lowercase();
    let mut out = Vec::new();
    for s in ["host-policies", "peers.md", "peers-2026", "tooling.md", "kernel-lab.md", "shared/reference", "the brief"]
    {
        if lower.contains(s) {
            out.push(s.to_string());
        }
    }
    // A number right after these words is a numbered work item, not an `owner/repo#N` citation.
    for word in ["issue ", "item "] {
        for (i, _) in lower.match_indices(word) {
            let rest = &lower[i + word.len()..];
            if rest.starts_with(|c: char| c.is_ascii_digit()) {
                out.push(format!(
                    "{word}{}",
                    rest.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect::<String>()
                ));
            }
        }
    }
    out
}

#[test]
fn no_references_outside_the_repository_in_the_tree() {
    let root = repo_root();
    let files = Command::new("git").arg("ls-files").current_dir(&root).output().expect("git ls-files");
    let listed = String::from_utf8_lossy(&files.stdout).to_string();
    let mut bad = Vec::new();
    let mut checked = 0;
    for f in listed.lines() {
        if f.starts_with("tests/corpus/") || f.starts_with("fuzz/regressions/") || f == "tests/tests/hygiene.rs" {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(root.join(f)) else { continue };
        checked += 1;
        for o in offences(&text) {
            bad.push(format!("{f}: {o}"));
        }
    }
    assert!(checked > 100, "only {checked} files read");
    assert!(bad.is_empty(), "references outside the repository or to how the work was organised:\n{}", bad.join("\n"));
}

#[test]
fn explain_prints_no_such_references() {
    for r in RULES {
        let text = policy_core::render::explain_text(r, r.doc);
        let o = offences(&text);
        assert!(o.is_empty(), "{}: {o:?}", r.code);
    }
    // The checker itself can fail.
    assert_eq!(
        offences("see host-policies.md §2 and issue 6.4"),
        vec!["host-policies".to_string(), "issue 6.4".to_string()]
    );
}
