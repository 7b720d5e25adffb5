//! Text for shells and terminals: quoting a word for bash, zsh or fish, and a command
//! shortened to one line for tables and briefs.

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
pub fn quote(kind: &str, s: &str) -> String {
    if kind == "fish" {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(posix_quote("/a b/it's"), r"'/a b/it'\''s'");
        assert_eq!(fish_quote(r"/a\b/it's"), r"'/a\\b/it\'s'");
        assert_eq!(posix_word("agent_work"), "agent_work");
        assert_eq!(posix_word("a b"), "'a b'");
        assert_eq!(quote("fish", "it's"), r"'it\'s'");
    }

    #[test]
    fn one_line_cuts_at_the_first_newline_or_the_width() {
        assert_eq!(one_line("echo a\necho b", 80), "echo a…");
        assert_eq!(one_line("echo a\n", 80), "echo a");
        assert_eq!(one_line("abcdef", 3), "abc…");
    }
}
