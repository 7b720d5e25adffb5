//! Small helpers on words: ANSI-C quoting, backquote escapes, file names, assignments.

/// The value of `$'…'` (its inner text); `None` for an escape it cannot decode.
pub fn ansi_c(inner: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let e = chars.next()?;
        let simple = match e {
            'a' => Some('\x07'),
            'b' => Some('\x08'),
            'e' | 'E' => Some('\x1b'),
            'f' => Some('\x0c'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'v' => Some('\x0b'),
            '\\' | '\'' | '"' | '?' => Some(e),
            _ => None,
        };
        if let Some(s) = simple {
            out.push(s);
            continue;
        }
        let (radix, max) = match e {
            '0'..='7' => (8, 3),
            'x' => (16, 2),
            'u' => (16, 4),
            'U' => (16, 8),
            'c' => {
                let x = chars.next()?;
                out.push(char::from_u32(u32::from(x) & 0x1f)?);
                continue;
            }
            _ => return None,
        };
        let mut digits = String::new();
        if radix == 8 {
            digits.push(e);
        }
        while digits.len() < max {
            match chars.peek() {
                Some(d) if d.is_digit(radix) => {
                    digits.push(*d);
                    chars.next();
                }
                _ => break,
            }
        }
        let n = u32::from_str_radix(&digits, radix).ok()?;
        out.push(char::from_u32(n)?);
    }
    Some(out)
}

/// The script inside backticks, its `\\`, `` \` `` and `\$` escapes undone.
pub fn unbackquote(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && matches!(chars.peek(), Some('\\' | '`' | '$')) {
            out.extend(chars.next());
        } else {
            out.push(c);
        }
    }
    out
}

/// The file name of a command word.
pub fn basename(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

/// `NAME=value`: a variable assignment.
pub fn is_assignment(word: &str) -> bool {
    word.split_once('=')
        .is_some_and(|(name, _)| crate::shellenv::is_var_name(name))
}

/// A variable that decides what later commands run: PATH, or one the shell or the
/// loader runs as code (`BASH_ENV`, `LD_PRELOAD`, `PROMPT_COMMAND`, …).
pub fn changes_what_runs(name: &str) -> bool {
    matches!(name, "PATH" | "fish_user_paths" | "IFS")
        || crate::envguard::refusal(name) == Some(crate::envguard::Refusal::RunsCode)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ansi_c_escapes_decode() {
        assert_eq!(ansi_c("rm").as_deref(), Some("rm"));
        assert_eq!(ansi_c(r"\x72\155").as_deref(), Some("rm"));
        assert_eq!(ansi_c(r"\'").as_deref(), Some("'"));
        assert_eq!(ansi_c(r"a\tb\u00e9").as_deref(), Some("a\tbé"));
        assert_eq!(ansi_c(r"\q"), None);
    }
}
