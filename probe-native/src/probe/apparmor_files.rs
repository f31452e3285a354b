//! AppArmor profile files under /etc/apparmor.d whose attachment covers a given executable path. AppArmor
//! attaches by path (openai/codex#29908: Ubuntu's `bwrap-userns-restrict` covers `/usr/bin/bwrap`, not Codex's
//! bundled bwrap), so the profile that would rescue bwrap must name the path the sandbox really runs.
//! This is a text scan, not apparmor_parser: top-level `profile NAME [ATTACH]` and `/path … {` headers,
//! AppArmor globs (`*`, `**`, `?`, `[…]`, `{a,b}`); an `@{var}` is treated as matching anything.

use std::collections::BTreeMap;
use std::path::Path;

use policy_core::fact::Fact;

use super::evidence::unavailable;

/// One profile whose attachment covers the executable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attaching {
    pub file: String,
    /// The attachment as written (an exact path or a glob).
    pub attach: String,
    /// `flags=(…)` as written, comma-separated; empty when none.
    pub flags: String,
}

/// Every top-level profile in `dir` whose attachment covers `exe`, by profile name (a later file defining the
/// same name replaces the earlier one, as a later `apparmor_parser -r` does).
pub fn scan(dir: &Path, exe: &str) -> Fact<BTreeMap<String, Attaching>> {
    scan_by(dir, |h| glob_match(&h.attach, exe))
}

/// The profile named `name` (e.g. the one `--apparmor-profile` names), attached to a path or not.
pub fn scan_name(dir: &Path, name: &str) -> Fact<BTreeMap<String, Attaching>> {
    scan_by(dir, |h| h.name == name)
}

fn scan_by(dir: &Path, wanted: impl Fn(&Header) -> bool) -> Fact<BTreeMap<String, Attaching>> {
    use std::io::Read;
    use std::os::unix::ffi::OsStrExt;
    const CAP: u64 = 1 << 20;
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => return unavailable(&dir.display().to_string(), &e),
    };
    let mut found = BTreeMap::new();
    // Names in one directory: byte order is `Path` order. The entry's type comes with the listing (d_type), so
    // only symlinks (and file systems without d_type) cost a stat.
    let mut files: Vec<(std::ffi::OsString, Option<std::fs::FileType>)> =
        entries.filter_map(Result::ok).map(|e| (e.file_name(), e.file_type().ok())).collect();
    files.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut buf = Vec::with_capacity(64 * 1024);
    for (name, ft) in files {
        let path = dir.join(&name);
        let regular = match ft {
            Some(ft) if ft.is_file() => true,
            Some(ft) if ft.is_dir() => false,
            _ => std::fs::metadata(&path).is_ok_and(|m| m.is_file()),
        };
        if !regular {
            continue;
        }
        // A file linked under disable/ is never loaded, at boot or by apparmor_parser (parser/parser_main.c
        // "Skipping profile in %s/disable"): what aa-disable and nsdoctor's conflict fix do.
        if std::fs::symlink_metadata(dir.join("disable").join(&name)).is_ok() {
            continue;
        }
        let Some(p) = path.to_str() else { continue };
        // Files over 1 MiB are skipped (read one byte past the cap to tell).
        buf.clear();
        let Ok(f) = std::fs::File::open(&path) else { continue };
        if f.take(CAP + 1).read_to_end(&mut buf).is_err() || buf.len() as u64 > CAP {
            continue;
        }
        let Ok(text) = std::str::from_utf8(&buf) else { continue };
        for h in all_headers(text) {
            if wanted(&h) {
                found.insert(h.name, Attaching { file: p.to_string(), attach: h.attach, flags: h.flags });
            }
        }
    }
    Fact::Observed(found)
}

/// A top-level profile header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub attach: String,
    pub flags: String,
}

/// Every top-level profile header in a file that attaches to a path.
#[cfg(test)]
fn headers(text: &str) -> Vec<Header> {
    all_headers(text).into_iter().filter(|h| is_path(&h.attach)).collect()
}

/// Every top-level profile header; `attach` is empty for a profile that attaches to nothing.
fn all_headers(text: &str) -> Vec<Header> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    for raw in text.lines() {
        let line = strip_comment(raw).trim();
        if line.is_empty() {
            continue;
        }
        if depth == 0 && line.contains('{') {
            let head = line.split('{').next().unwrap_or("").trim();
            let toks = tokens(head);
            let (name, attach) = match toks.first().map(String::as_str) {
                Some("profile") => {
                    let name = toks.get(1).cloned().unwrap_or_default();
                    let attach = toks
                        .get(2)
                        .filter(|t| is_path(t))
                        .cloned()
                        .unwrap_or_else(|| if is_path(&name) { name.clone() } else { String::new() });
                    (name, attach)
                }
                Some(t) if is_path(t) => (t.to_string(), t.to_string()),
                _ => (String::new(), String::new()),
            };
            if !name.is_empty() {
                out.push(Header { name, attach, flags: flags_of(head) });
            }
        }
        depth += count(line, '{') - count(line, '}');
        depth = depth.max(0);
    }
    out
}

/// `flags=(a, b)` or `flags=(a,b)` in a header → `a,b`; empty when absent.
fn flags_of(head: &str) -> String {
    let Some(i) = head.find("flags=") else { return String::new() };
    let rest = head.get(i.saturating_add(6)..).unwrap_or("").trim_start();
    let inner = rest.strip_prefix('(').and_then(|r| r.split_once(')')).map(|(f, _)| f).unwrap_or("");
    inner.split([',', ' ']).map(str::trim).filter(|f| !f.is_empty()).collect::<Vec<_>>().join(",")
}

fn count(s: &str, c: char) -> i32 {
    i32::try_from(s.matches(c).count()).unwrap_or(i32::MAX)
}

fn is_path(t: &str) -> bool {
    t.starts_with('/') || t.starts_with("@{")
}

fn strip_comment(line: &str) -> &str {
    // `#include` and `#` comments: a `#` at the start or after whitespace starts a comment.
    let t = line.trim_start();
    if t.starts_with('#') {
        return "";
    }
    match line.find(" #") {
        Some(i) => line.get(..i).unwrap_or(line),
        None => line,
    }
}

/// Splits on whitespace, keeping double-quoted tokens together (quotes removed).
fn tokens(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in s.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// AppArmor path glob match.
pub fn glob_match(pattern: &str, path: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = path.chars().collect();
    expand_braces(&p).iter().any(|alt| matches(alt, &s))
}

/// `{a,b}` alternatives (nesting allowed), and `@{var}` → `**`.
fn expand_braces(p: &[char]) -> Vec<Vec<char>> {
    let mut i = 0;
    while i < p.len() {
        let c = p.get(i).copied().unwrap_or(' ');
        if c == '@' && p.get(i + 1) == Some(&'{') {
            let end = p.iter().skip(i).position(|c| *c == '}').map(|e| e + i);
            if let Some(end) = end {
                let mut v: Vec<char> = p.get(..i).unwrap_or_default().to_vec();
                v.extend(['*', '*']);
                v.extend_from_slice(p.get(end + 1..).unwrap_or_default());
                return expand_braces(&v);
            }
        }
        if c == '{' {
            let mut depth = 0;
            let mut parts = Vec::new();
            let mut start = i + 1;
            let mut j = i;
            while j < p.len() {
                match p.get(j) {
                    Some('{') => depth += 1,
                    Some('}') => {
                        depth -= 1;
                        if depth == 0 {
                            parts.push((start, j));
                            break;
                        }
                    }
                    Some(',') if depth == 1 => {
                        parts.push((start, j));
                        start = j + 1;
                    }
                    _ => {}
                }
                j += 1;
            }
            if j >= p.len() {
                return vec![p.to_vec()];
            }
            let mut out = Vec::new();
            for (a, b) in parts {
                let mut v: Vec<char> = p.get(..i).unwrap_or_default().to_vec();
                v.extend_from_slice(p.get(a..b).unwrap_or_default());
                v.extend_from_slice(p.get(j + 1..).unwrap_or_default());
                out.extend(expand_braces(&v));
            }
            return out;
        }
        i += 1;
    }
    vec![p.to_vec()]
}

fn matches(p: &[char], s: &[char]) -> bool {
    match p.first() {
        None => s.is_empty(),
        Some('*') if p.get(1) == Some(&'*') => {
            let rest = p.get(2..).unwrap_or_default();
            (0..=s.len()).any(|k| matches(rest, s.get(k..).unwrap_or_default()))
        }
        Some('*') => {
            let rest = p.get(1..).unwrap_or_default();
            let mut k = 0;
            loop {
                if matches(rest, s.get(k..).unwrap_or_default()) {
                    return true;
                }
                match s.get(k) {
                    Some('/') | None => return false,
                    Some(_) => k += 1,
                }
            }
        }
        Some('?') => {
            matches!(s.first(), Some(c) if *c != '/')
                && matches(p.get(1..).unwrap_or_default(), s.get(1..).unwrap_or_default())
        }
        Some('[') => {
            let Some(end) = p.iter().position(|c| *c == ']') else { return false };
            let Some(c) = s.first() else { return false };
            let class = p.get(1..end).unwrap_or_default();
            let (neg, class) = match class.first() {
                Some('^') => (true, class.get(1..).unwrap_or_default()),
                _ => (false, class),
            };
            let mut hit = false;
            let mut k = 0;
            while k < class.len() {
                let a = class.get(k).copied().unwrap_or(' ');
                if class.get(k + 1) == Some(&'-') && k + 2 < class.len() {
                    let b = class.get(k + 2).copied().unwrap_or(' ');
                    hit |= a <= *c && *c <= b;
                    k += 3;
                } else {
                    hit |= a == *c;
                    k += 1;
                }
            }
            hit != neg && matches(p.get(end + 1..).unwrap_or_default(), s.get(1..).unwrap_or_default())
        }
        Some(pc) => s.first() == Some(pc) && matches(p.get(1..).unwrap_or_default(), s.get(1..).unwrap_or_default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ubuntu_bwrap_profile_header() {
        let text = "abi <abi/4.0>,\ninclude <tunables/global>\n\nprofile bwrap /usr/bin/bwrap flags=(unconfined) {\n  userns,\n  # Site-specific additions\n  include if exists <local/bwrap>\n}\n\nprofile unpriv_bwrap flags=(attach_disconnected) {\n}\n";
        let h = |n: &str, a: &str, f: &str| Header { name: n.to_string(), attach: a.to_string(), flags: f.to_string() };
        assert_eq!(headers(text), vec![h("bwrap", "/usr/bin/bwrap", "unconfined")]);
        // Steam's 24.04 profile shipped in complain mode (ValveSoftware/steam-for-linux#12620).
        let steam =
            "profile steam /home/*/.local/share/Steam/ubuntu12_32/steam flags=(complain, attach_disconnected) {\n}\n";
        assert_eq!(
            headers(steam),
            vec![h("steam", "/home/*/.local/share/Steam/ubuntu12_32/steam", "complain,attach_disconnected")]
        );
        assert_eq!(headers("profile plain /usr/bin/plain {\n}\n"), vec![h("plain", "/usr/bin/plain", "")]);
    }

    #[test]
    fn path_named_profile_and_globs() {
        let text = "/opt/app/** flags=(unconfined) {\n userns,\n}\n";
        let hs = headers(text);
        assert_eq!(
            (hs[0].name.as_str(), hs[0].attach.as_str(), hs[0].flags.as_str()),
            ("/opt/app/**", "/opt/app/**", "unconfined")
        );
        assert!(glob_match("/usr/bin/bwrap", "/usr/bin/bwrap"));
        assert!(!glob_match("/usr/bin/bwrap", "/usr/local/bin/bwrap"));
        assert!(glob_match(
            "/home/*/.codex/packages/**/codex-resources/bwrap",
            "/home/u/.codex/packages/standalone/releases/0.1/codex-resources/bwrap"
        ));
        assert!(!glob_match("/home/*/x", "/home/a/b/x"));
        assert!(glob_match("/usr/{bin,sbin}/bw[a-z]ap", "/usr/sbin/bwrap"));
        assert!(glob_match("@{HOME}/.codex/**/bwrap", "/root/.codex/p/bwrap"));
    }

    #[test]
    fn scan_follows_symlinks_skips_dirs_and_big_files_later_names_win() {
        let dir = std::env::temp_dir().join(format!("nsdoctor-aa-scan-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("abstractions")).unwrap_or_else(|e| panic!("{e}"));
        let write = |name: &str, text: &str| std::fs::write(dir.join(name), text).unwrap_or_else(|e| panic!("{e}"));
        write("a-bwrap", "profile bwrap /usr/bin/bwrap flags=(unconfined) {\n userns,\n}\n");
        write("abstractions/inner", "profile inner /usr/bin/bwrap {\n}\n");
        write("c-other", "profile other /usr/bin/other {\n}\n");
        let mut big = "profile big /usr/bin/bwrap {\n}\n".to_string();
        big.push_str(&"#".repeat(1 << 20));
        write("d-big", &big);
        std::fs::write(dir.join("e-latin1"), b"profile latin /usr/bin/bwrap {\n# \xe9\n}\n")
            .unwrap_or_else(|e| panic!("{e}"));
        std::os::unix::fs::symlink(dir.join("a-bwrap"), dir.join("b-link")).unwrap_or_else(|e| panic!("{e}"));
        write("f-disabled", "profile disabled /usr/bin/bwrap {\n}\n");
        std::fs::create_dir_all(dir.join("disable")).unwrap_or_else(|e| panic!("{e}"));
        std::os::unix::fs::symlink(dir.join("f-disabled"), dir.join("disable/f-disabled"))
            .unwrap_or_else(|e| panic!("{e}"));
        write("steam-like", "abi <abi/4.0>,\nprofile steam-like flags=(attach_disconnected) {\n  file,\n}\n");
        let by_name = scan_name(&dir, "steam-like");
        assert_eq!(
            by_name.get().and_then(|m| m.get("steam-like")).map(|a| (a.attach.as_str(), a.flags.as_str())),
            Some(("", "attach_disconnected"))
        );
        let found = match scan(&dir, "/usr/bin/bwrap") {
            Fact::Observed(m) => Fact::Observed(m.into_iter().map(|(n, a)| (n, a.file)).collect::<BTreeMap<_, _>>()),
            other => panic!("{other:?}"),
        };
        let _ = std::fs::remove_dir_all(&dir);
        let want: BTreeMap<String, String> = [("bwrap".to_string(), dir.join("b-link").display().to_string())].into();
        assert_eq!(found, Fact::Observed(want));
        assert!(matches!(scan(Path::new("/nonexistent-nsdoctor"), "/x"), Fact::Unavailable(_)));
    }
}
