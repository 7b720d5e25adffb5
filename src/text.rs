//! Text for shells and terminals: quoting a word for bash, zsh or fish, a command
//! shortened to one line for tables and briefs, whether a line holds a word, and
//! recorded text made safe to print
//! (no control character reaches a terminal: escaped visibly, or as JSON escapes).

use crate::model::ShellKind;
use serde::Serialize;

/// Single-quote for bash and zsh.
pub fn posix_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A word for bash and zsh: as it is when it needs no quotes, else single-quoted.
pub fn posix_word(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./=:,@%+".contains(c));
    if plain {
        s.to_string()
    } else {
        posix_quote(s)
    }
}

/// Single-quote for fish (backslash and quote escaped inside).
pub fn fish_quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', r"\\").replace('\'', r"\'"))
}

/// Quote for the shell of `kind`.
pub fn quote(kind: ShellKind, s: &str) -> String {
    if kind == ShellKind::Fish {
        fish_quote(s)
    } else {
        posix_quote(s)
    }
}

/// The first line of a command, at most `max` characters, with `…` when cut.
pub fn one_line(s: &str, max: usize) -> String {
    let first = s.lines().next().unwrap_or("");
    let mut out: String = first.chars().take(max).collect();
    if s.trim_end().contains('\n') || first.chars().count() > max {
        out.push('…');
    }
    out
}

/// Does `line` hold `word` starting a word (and, when `whole`, ending one)? Words are
/// runs of letters, digits and `_-.+`.
pub fn has_word(line: &str, word: &str, whole: bool) -> bool {
    let in_word = |c: char| c.is_alphanumeric() || "_-.+".contains(c);
    if word.is_empty() {
        return true;
    }
    line.match_indices(word).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        let after = line[at + word.len()..].chars().next();
        !before.is_some_and(in_word) && (!whole || !after.is_some_and(in_word))
    })
}

/// A character that must not reach a terminal raw: C0 but TAB and LF, ESC, DEL, C1.
pub fn is_forbidden(c: char) -> bool {
    matches!(c, '\0'..='\x08' | '\x0b'..='\x1f' | '\x7f'..='\u{9f}')
}

/// Text from a recording or a project file, made safe for a terminal: every forbidden
/// character escaped visibly (`\e` for ESC, `\x07`, `\x9b`, …); other text unchanged.
pub fn safe(s: &str) -> String {
    if !s.chars().any(is_forbidden) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\x1b' => out.push_str("\\e"),
            c if is_forbidden(c) => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// [`one_line`], then [`safe`]: a recorded command for a table or a list.
pub fn line(s: &str, max: usize) -> String {
    safe(&one_line(s, max))
}

/// Pretty JSON with no forbidden character raw: serde_json escapes C0 (ESC included);
/// DEL and C1 are escaped here (`\u007f`, `\u009b`).
pub fn json_pretty<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    Ok(json_escape_rest(serde_json::to_string_pretty(value)?))
}

/// Escape DEL and C1 in serialized JSON. Outside strings JSON holds no such character,
/// so each one found is inside a string, where `\u00XX` means the same.
fn json_escape_rest(json: String) -> String {
    if !json.chars().any(is_forbidden) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if is_forbidden(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// A saved screen, for replay: text and colours only. SGR sequences (`ESC [ … m`) are
/// kept; every other escape sequence (cursor moves, clears, OSC titles, clipboard and
/// links, DCS, …) and every other forbidden character is dropped.
pub fn screen(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => match chars.next() {
                Some('[') => {
                    let mut seq = String::new();
                    let mut end = None;
                    for d in chars.by_ref() {
                        if ('\x40'..='\x7e').contains(&d) {
                            end = Some(d);
                            break;
                        }
                        if is_forbidden(d) {
                            break;
                        }
                        seq.push(d);
                    }
                    let sgr = end == Some('m')
                        && seq
                            .chars()
                            .all(|d| d.is_ascii_digit() || d == ';' || d == ':');
                    if sgr {
                        out.push_str("\x1b[");
                        out.push_str(&seq);
                        out.push('m');
                    }
                }
                // OSC, DCS, SOS, PM, APC: a string up to ST (or BEL), all dropped.
                Some(']' | 'P' | 'X' | '^' | '_') => skip_string(&mut chars),
                // Any other escape: ESC, intermediates, a final byte.
                Some(d) if ('\x20'..='\x2f').contains(&d) => {
                    while chars.next_if(|e| ('\x20'..='\x2f').contains(e)).is_some() {}
                    chars.next();
                }
                _ => {}
            },
            // C1 string introducers: DCS, SOS, OSC, PM, APC.
            '\u{90}' | '\u{98}' | '\u{9d}' | '\u{9e}' | '\u{9f}' => skip_string(&mut chars),
            // C1 CSI: parameters and a final byte, dropped.
            '\u{9b}' => {
                while chars.next_if(|d| ('\x20'..='\x3f').contains(d)).is_some() {}
                chars.next_if(|d| ('\x40'..='\x7e').contains(d));
            }
            c if is_forbidden(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// Skip a control string up to its terminator: ST (ESC and a backslash, or U+009C) or BEL.
fn skip_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(c) = chars.next() {
        match c {
            '\x07' | '\u{9c}' => return,
            '\x1b' => {
                chars.next_if_eq(&'\\');
                return;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(posix_quote("/a b/it's"), r"'/a b/it'\''s'");
        assert_eq!(fish_quote(r"/a\b/it's"), r"'/a\\b/it\'s'");
        assert_eq!(posix_word("agent_work"), "agent_work");
        assert_eq!(posix_word("a b"), "'a b'");
        assert_eq!(quote(ShellKind::Fish, "it's"), r"'it\'s'");
    }

    #[test]
    fn one_line_cuts_at_the_first_newline_or_the_width() {
        assert_eq!(one_line("echo a\necho b", 80), "echo a…");
        assert_eq!(one_line("echo a\n", 80), "echo a");
        assert_eq!(one_line("abcdef", 3), "abc…");
    }

    #[test]
    fn controls_are_escaped_visibly() {
        assert_eq!(
            safe("printf '\x1b]0;pwned\x07'"),
            r"printf '\e]0;pwned\x07'"
        );
        assert_eq!(safe("a\u{9b}2Jb\x7f"), r"a\x9b2Jb\x7f");
        assert_eq!(safe("tab\tand\nline"), "tab\tand\nline");
        assert_eq!(safe("crlf\r\n"), "crlf\\x0d\n");
        assert_eq!(safe("naïve → ok"), "naïve → ok");
        assert_eq!(line("echo \x1b[2J\necho 2", 80), r"echo \e[2J…");
    }

    #[test]
    fn json_escapes_esc_del_and_c1() {
        let j = json_pretty(&serde_json::json!({"c": "a\x1b]52;c;eA==\x07\u{9b}\x7fé"})).unwrap();
        assert!(!j.chars().any(is_forbidden), "{j}");
        assert!(j.contains(r"\u001b]52;c;eA==\u0007\u009b\u007fé"), "{j}");
        let back: serde_json::Value = serde_json::from_str(&j).unwrap();
        assert_eq!(back["c"], "a\x1b]52;c;eA==\x07\u{9b}\x7fé");
    }

    #[test]
    fn screens_keep_colours_only() {
        let s = "\x1b[31mred\x1b[0m \x1b]0;title\x07\x1b]52;c;aGk=\x1b\\\x1b[2J\x1b[Hhome \
                 \x1b]8;;http://x\x07link\x1b]8;;\x07 \x1bPdcs\x1b\\\x1b(B\u{9b}2J\u{9d}osc\u{9c}end\r";
        assert_eq!(screen(s), "\x1b[31mred\x1b[0m home link end");
        assert_eq!(screen("plain\ttext\n"), "plain\ttext\n");
        // An unterminated sequence is dropped to the end, never kept half.
        assert_eq!(screen("ok\x1b]0;never ends"), "ok");
        assert_eq!(screen("ok\x1b[31"), "ok");
    }

    proptest::proptest! {
        #[test]
        fn safe_text_never_holds_a_forbidden_char(s in "(?s).{0,200}") {
            let out = safe(&s);
            proptest::prop_assert!(!out.chars().any(is_forbidden));
            if !s.chars().any(is_forbidden) {
                proptest::prop_assert_eq!(&out, &s);
            }
            let j = json_pretty(&s).unwrap();
            proptest::prop_assert!(!j.chars().any(is_forbidden));
            proptest::prop_assert_eq!(serde_json::from_str::<String>(&j).unwrap(), s.clone());
        }

        #[test]
        fn screens_hold_nothing_but_sgr(s in "(?s)[\x1b\x07\u{9b}\u{9c}\u{9d}\\[\\]0-9;mPH\\\\a-c\t\n]{0,120}|(?s).{0,120}") {
            let out = screen(&s);
            let sgr = regex::Regex::new(r"\x1b\[[0-9;:]*m").unwrap();
            let rest = sgr.replace_all(&out, "");
            proptest::prop_assert!(!rest.chars().any(is_forbidden), "{:?}", out);
            if !s.chars().any(is_forbidden) {
                proptest::prop_assert_eq!(&out, &s);
            }
        }
    }

    #[test]
    fn words_are_found_whole() {
        assert!(has_word("cd x && go test ./...", "go", true));
        assert!(!has_word("cargo build", "go", true));
        assert!(!has_word("django-admin", "go", true));
        assert!(has_word("python3.12 -m pytest", "python", false));
        assert!(!has_word("mypython3", "python", false));
        assert!(has_word("./check.sh", "check.sh", true));
    }
}
