//! Shell environments: parsing `export -p` output (bash and zsh), and the diff that
//! restore puts back (changed since the baseline, minus connection-bound keys).

use std::collections::BTreeMap;

/// Is `name` a valid environment variable name for a shell?
pub fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// Is this variable bound to the connection or terminal (never restored)?
pub fn is_connection_bound(name: &str) -> bool {
    const EXACT: &[&str] = &[
        "DISPLAY",
        "WAYLAND_DISPLAY",
        "COLORTERM",
        "WINDOWID",
        "GPG_TTY",
        "PWD",
        "OLDPWD",
        "SHLVL",
        "_",
        "SNAP_SHELL_ID",
        "SNAP_SHELL_PID",
        // What snap hands a shell it starts, read once there: a job forked off that
        // shell (a subshell) still shows them in its environment.
        "SNAP_RESTORE",
        "SNAP_REPLACES",
        "SNAP_KEEP_ENV",
        "SNAP_SESSION",
        // The shell's own bookkeeping (ble.sh exports them).
        "BASH_COMMAND",
        "LINENO",
    ];
    const PREFIXES: &[&str] = &["SSH_", "TMUX", "TERM", "XDG_SESSION_", "DIRENV_"];
    EXACT.contains(&name) || PREFIXES.iter().any(|p| name.starts_with(p))
}

/// The private fish history session older restores gave a fish (`fish_history=snap_…`):
/// never carried on, so that a restored fish writes to the user's own history.
pub fn is_restore_history(name: &str, value: &str) -> bool {
    name == "fish_history" && value.starts_with("snap_")
}

/// The variables of `now` that are new or changed since `base`, without
/// connection-bound ones.
pub fn changed_since(
    base: &BTreeMap<String, String>,
    now: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    now.iter()
        .filter(|(k, v)| {
            !is_connection_bound(k) && !is_restore_history(k, v) && base.get(*k) != Some(*v)
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Parse the output of `export -p` in bash (`declare -x NAME="v"`) or zsh
/// (`export NAME=v`), quoting included. Variables without a value are left out.
pub fn parse_export_p(text: &[u8]) -> BTreeMap<String, String> {
    declarations(text)
        .into_iter()
        .filter_map(|d| Some((d.name, d.value?)))
        .collect()
}

/// Apply bash's `declare -p NAME…` output to an environment: a variable exported with
/// a value is set; one that is not exported, or has no value, leaves the environment.
pub fn apply_declare_p(vars: &mut BTreeMap<String, String>, text: &[u8]) {
    for d in declarations(text) {
        match d.value.filter(|_| d.exported) {
            Some(value) => vars.insert(d.name, value),
            None => vars.remove(&d.name),
        };
    }
}

/// One `declare [-flags] NAME[=value]` (or `export`, `typeset`) statement.
struct Declaration {
    name: String,
    exported: bool,
    value: Option<String>,
}

/// The statements of `export -p` or `declare -p` output. `export` statements are
/// exported; `declare` and `typeset` ones when their flags include `x`. Arrays (whose
/// values start with `(`) have no value here: the environment cannot hold them.
fn declarations(text: &[u8]) -> Vec<Declaration> {
    let mut out = Vec::new();
    let words = split_words(text);
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        i += 1;
        if !(w == b"declare" || w == b"export" || w == b"typeset") {
            continue;
        }
        let mut exported = w == b"export";
        let mut array = false;
        while i < words.len() && words[i].first() == Some(&b'-') {
            exported |= words[i].contains(&b'x');
            array |= words[i].contains(&b'a') || words[i].contains(&b'A');
            i += 1;
        }
        let Some(assign) = words.get(i) else { break };
        i += 1;
        let (name, value) = match assign.iter().position(|&b| b == b'=') {
            Some(eq) => (&assign[..eq], Some(&assign[eq + 1..])),
            None => (&assign[..], None),
        };
        let Ok(name) = std::str::from_utf8(name) else {
            continue;
        };
        if is_var_name(name) {
            out.push(Declaration {
                name: name.to_string(),
                exported,
                value: value
                    .filter(|_| !array)
                    .map(|v| String::from_utf8_lossy(v).into_owned()),
            });
        }
    }
    out
}

/// Split shell text into words, removing quotes: `'…'`, `"…"`, `$'…'` and `\x`.
fn split_words(text: &[u8]) -> Vec<Vec<u8>> {
    let mut words = Vec::new();
    let mut cur: Option<Vec<u8>> = None;
    let mut i = 0;
    while i < text.len() {
        let b = text[i];
        match b {
            b' ' | b'\t' | b'\n' | b';' => {
                if let Some(w) = cur.take() {
                    words.push(w);
                }
                i += 1;
            }
            b'\'' => {
                let w = cur.get_or_insert_with(Vec::new);
                let end = find(text, i + 1, b'\'');
                w.extend_from_slice(&text[i + 1..end]);
                i = end + 1;
            }
            b'"' => {
                let w = cur.get_or_insert_with(Vec::new);
                i += 1;
                while i < text.len() && text[i] != b'"' {
                    if text[i] == b'\\'
                        && i + 1 < text.len()
                        && matches!(text[i + 1], b'\\' | b'"' | b'$' | b'`' | b'\n')
                    {
                        if text[i + 1] != b'\n' {
                            w.push(text[i + 1]);
                        }
                        i += 2;
                    } else {
                        w.push(text[i]);
                        i += 1;
                    }
                }
                i += 1;
            }
            b'$' if text.get(i + 1) == Some(&b'\'') => {
                let w = cur.get_or_insert_with(Vec::new);
                i = ansi_c(text, i + 2, w);
            }
            b'\\' => {
                let w = cur.get_or_insert_with(Vec::new);
                if let Some(&next) = text.get(i + 1) {
                    if next != b'\n' {
                        w.push(next);
                    }
                }
                i += 2;
            }
            _ => {
                cur.get_or_insert_with(Vec::new).push(b);
                i += 1;
            }
        }
    }
    if let Some(w) = cur {
        words.push(w);
    }
    words
}

fn find(text: &[u8], from: usize, byte: u8) -> usize {
    text.get(from..)
        .and_then(|rest| rest.iter().position(|&b| b == byte))
        .map_or(text.len(), |p| from + p)
}

/// Decode a `$'…'` string starting after its opening quote; returns the index after it.
fn ansi_c(text: &[u8], mut i: usize, out: &mut Vec<u8>) -> usize {
    while i < text.len() {
        let b = text[i];
        if b == b'\'' {
            return i + 1;
        }
        if b != b'\\' || i + 1 >= text.len() {
            out.push(b);
            i += 1;
            continue;
        }
        let (byte, used) = ansi_escape(&text[i + 1..]);
        out.extend_from_slice(&byte);
        i += 1 + used;
    }
    i
}

/// One escape after a backslash inside `$'…'`: the bytes it stands for and its length.
fn ansi_escape(rest: &[u8]) -> (Vec<u8>, usize) {
    let simple = |b: u8| (vec![b], 1);
    match rest[0] {
        b'n' => simple(b'\n'),
        b't' => simple(b'\t'),
        b'r' => simple(b'\r'),
        b'a' => simple(0x07),
        b'b' => simple(0x08),
        b'e' | b'E' => simple(0x1b),
        b'f' => simple(0x0c),
        b'v' => simple(0x0b),
        b'\\' | b'\'' | b'"' | b'?' => simple(rest[0]),
        b'0'..=b'7' => {
            let n = rest
                .iter()
                .take(3)
                .take_while(|b| (b'0'..=b'7').contains(b))
                .count();
            let v = rest[..n]
                .iter()
                .fold(0u32, |acc, d| acc * 8 + u32::from(d - b'0'));
            (vec![v as u8], n)
        }
        b'x' => hex_escape(rest, 2, false),
        b'u' => hex_escape(rest, 4, true),
        b'U' => hex_escape(rest, 8, true),
        b'c' if rest.len() > 1 => (vec![rest[1] & 0x1f], 2),
        // zsh writes high bytes as \M-x and control bytes as \C-x.
        b'M' if rest.len() > 2 && rest[1] == b'-' => {
            let (inner, used) = if rest[2] == b'\\' && rest.len() > 3 {
                ansi_escape(&rest[3..])
            } else {
                (vec![rest[2]], 0)
            };
            let b = inner.first().copied().unwrap_or(0) | 0x80;
            (vec![b], 2 + if rest[2] == b'\\' { 1 + used } else { 1 })
        }
        b'C' if rest.len() > 2 && rest[1] == b'-' => {
            let b = if rest[2] == b'?' {
                0x7f
            } else {
                rest[2] & 0x1f
            };
            (vec![b], 3)
        }
        other => (vec![b'\\', other], 1),
    }
}

fn hex_escape(rest: &[u8], max: usize, unicode: bool) -> (Vec<u8>, usize) {
    let n = rest[1..]
        .iter()
        .take(max)
        .take_while(|b| b.is_ascii_hexdigit())
        .count();
    if n == 0 {
        return (vec![b'\\', rest[0]], 1);
    }
    let v = u32::from_str_radix(std::str::from_utf8(&rest[1..=n]).unwrap_or("0"), 16).unwrap_or(0);
    if unicode {
        let c = char::from_u32(v).unwrap_or('\u{fffd}');
        (c.to_string().into_bytes(), 1 + n)
    } else {
        (vec![v as u8], 1 + n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bash_export_p() {
        let text = br#"declare -x A1=$'x\ny'
declare -x A2="q\"uo\$te\`\\"
declare -x A3=$'tab\there'
declare -x NOVALUE
declare -rx RO="1"
declare -x A5="it's"
declare -x ML="line1
line2"
"#;
        let v = parse_export_p(text);
        assert_eq!(v["A1"], "x\ny");
        assert_eq!(v["A2"], "q\"uo$te`\\");
        assert_eq!(v["A3"], "tab\there");
        assert_eq!(v["RO"], "1");
        assert_eq!(v["A5"], "it's");
        assert_eq!(v["ML"], "line1\nline2");
        assert!(!v.contains_key("NOVALUE"));
    }

    #[test]
    fn zsh_export_p() {
        let text = b"export A1=$'x\\ny'\nexport A2='q\"uo$te`\\'\nexport A5='it'\\''s'\nexport HI=$'\\M-\\C-?\\M-~'\nexport PLAIN=/usr/bin\n";
        let v = parse_export_p(text);
        assert_eq!(v["A1"], "x\ny");
        assert_eq!(v["A2"], "q\"uo$te`\\");
        assert_eq!(v["A5"], "it's");
        assert_eq!(v["PLAIN"], "/usr/bin");
        assert_eq!(v["HI"], String::from_utf8_lossy(&[0xff, 0xfe]));
    }

    #[test]
    fn diff_leaves_out_connection_bound_and_unchanged() {
        let base: BTreeMap<_, _> = [("A", "1"), ("B", "2")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let now: BTreeMap<_, _> = [
            ("A", "1"),
            ("B", "3"),
            ("C", "4"),
            ("SSH_AUTH_SOCK", "x"),
            ("TMUX_PANE", "%1"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let d = changed_since(&base, &now);
        assert_eq!(d.keys().collect::<Vec<_>>(), vec!["B", "C"]);
    }

    proptest::proptest! {
        #[test]
        fn export_parser_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..1024)) {
            let _ = parse_export_p(&bytes);
        }
    }
}
