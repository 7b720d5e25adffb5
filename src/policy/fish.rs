//! fish lines, read conservatively: `;`, newlines, `&`, pipes, `and`/`or`/`not`,
//! `begin`…`end` and block keywords separate commands; `(…)` and `$(…)` are scripts of
//! their own; anything expanded (variables, globs, braces, escapes that are not a plain
//! character) makes a word opaque; a line that does not tokenize is opaque.

use super::found::{Arg, Cmd, Found};

/// Keywords that start a command without being one.
const PREFIX_KEYWORDS: &[&str] = &[
    "and", "or", "not", "!", "begin", "end", "else", "if", "while",
];
/// Keywords whose words are not a command (`for x in …`, `switch $x`, `case a`).
const HEADER_KEYWORDS: &[&str] = &["for", "switch", "case", "function"];

/// What a fish line runs.
pub fn parse(line: &str) -> Vec<Found> {
    let mut t = Tokens {
        chars: line.chars().collect(),
        i: 0,
        out: Vec::new(),
    };
    match t.line() {
        Ok(()) => t.out,
        Err(()) => vec![Found::Opaque("the line does not parse as fish".into())],
    }
}

struct Tokens {
    chars: Vec<char>,
    i: usize,
    out: Vec<Found>,
}

impl Tokens {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).copied()
    }

    fn peek2(&self) -> Option<char> {
        self.chars.get(self.i + 1).copied()
    }

    fn line(&mut self) -> Result<(), ()> {
        let mut words: Vec<Arg> = Vec::new();
        let mut piped = false;
        let mut skip_target = false;
        loop {
            while matches!(self.peek(), Some(' ' | '\t')) {
                self.i += 1;
            }
            let Some(c) = self.peek() else { break };
            let next_piped = match c {
                ';' | '\n' => Some(false),
                '&' if self.peek2() == Some('&') => {
                    self.i += 1;
                    Some(false)
                }
                '&' if self.peek2() == Some('|') => {
                    self.i += 1;
                    Some(true)
                }
                '&' if self.peek2() == Some('>') => None,
                '&' => Some(false),
                '|' if self.peek2() == Some('|') => {
                    self.i += 1;
                    Some(false)
                }
                '|' => Some(true),
                _ => None,
            };
            if let Some(p) = next_piped {
                self.i += 1;
                self.finish(std::mem::take(&mut words), piped);
                piped = p;
                continue;
            }
            if c == '#' {
                while self.peek().is_some_and(|c| c != '\n') {
                    self.i += 1;
                }
                continue;
            }
            if matches!(c, '<' | '>' | '&') {
                self.redirect();
                skip_target = !self.fd_target();
                continue;
            }
            let w = self.word()?;
            if matches!(self.peek(), Some('<' | '>'))
                && w.value()
                    .is_some_and(|v| v.chars().all(|d| d.is_ascii_digit()))
            {
                // `2>err`: the digits are the descriptor.
                self.redirect();
                skip_target = !self.fd_target();
                continue;
            }
            if skip_target {
                skip_target = false;
            } else {
                words.push(w);
            }
        }
        self.finish(words, piped);
        Ok(())
    }

    /// Consume a redirection operator.
    fn redirect(&mut self) {
        while matches!(self.peek(), Some('<' | '>' | '&' | '?' | '^')) {
            self.i += 1;
        }
    }

    /// `>&2`, `2>&-`: a descriptor target, consumed here. False when a file name follows.
    fn fd_target(&mut self) -> bool {
        let prev = self
            .i
            .checked_sub(1)
            .and_then(|i| self.chars.get(i))
            .copied();
        if prev == Some('&') && self.peek().is_some_and(|c| c.is_ascii_digit() || c == '-') {
            while self.peek().is_some_and(|c| c.is_ascii_digit() || c == '-') {
                self.i += 1;
            }
            return true;
        }
        false
    }

    fn finish(&mut self, words: Vec<Arg>, piped: bool) {
        let mut start = 0;
        while let Some(Arg::Static(w)) = words.get(start) {
            if !PREFIX_KEYWORDS.contains(&w.as_str()) {
                break;
            }
            start += 1;
        }
        let words = words[start..].to_vec();
        let header =
            matches!(words.first(), Some(Arg::Static(w)) if HEADER_KEYWORDS.contains(&w.as_str()));
        if !words.is_empty() && !header {
            self.out.push(Found::Run(Cmd {
                words,
                piped,
                stdin: None,
                assigns: Vec::new(),
            }));
        }
    }

    fn word(&mut self) -> Result<Arg, ()> {
        let start = self.i;
        let mut value = String::new();
        let mut dynamic = false;
        while let Some(c) = self.peek() {
            match c {
                ' ' | '\t' | '\n' | ';' | '|' | '&' | '<' | '>' => break,
                '\'' => {
                    self.i += 1;
                    loop {
                        match self.peek().ok_or(())? {
                            '\'' => break,
                            '\\' if matches!(self.peek2(), Some('\'' | '\\')) => {
                                self.i += 1;
                                value.push(self.peek().ok_or(())?);
                            }
                            d => value.push(d),
                        }
                        self.i += 1;
                    }
                    self.i += 1;
                }
                '"' => {
                    self.i += 1;
                    loop {
                        match self.peek().ok_or(())? {
                            '"' => break,
                            '\\' if matches!(self.peek2(), Some('"' | '\\' | '$' | '\n')) => {
                                self.i += 1;
                                if self.peek() != Some('\n') {
                                    value.push(self.peek().ok_or(())?);
                                }
                            }
                            '$' if self.peek2() == Some('(') => {
                                self.i += 1;
                                self.substitution()?;
                                dynamic = true;
                                continue;
                            }
                            '$' => dynamic = true,
                            d => value.push(d),
                        }
                        self.i += 1;
                    }
                    self.i += 1;
                }
                '\\' => {
                    let e = self.peek2().ok_or(())?;
                    self.i += 2;
                    if e.is_ascii_alphanumeric() {
                        dynamic = true;
                    } else if e != '\n' {
                        value.push(e);
                    }
                }
                '$' if self.peek2() == Some('(') => {
                    self.i += 1;
                    self.substitution()?;
                    dynamic = true;
                }
                '(' => {
                    self.substitution()?;
                    dynamic = true;
                }
                ')' => return Err(()),
                '$' | '*' | '?' | '{' | '}' | '[' | ']' => {
                    dynamic = true;
                    self.i += 1;
                }
                '~' if self.i == start => {
                    dynamic = true;
                    self.i += 1;
                }
                d => {
                    value.push(d);
                    self.i += 1;
                }
            }
        }
        let raw: String = self.chars[start..self.i].iter().collect();
        Ok(if dynamic {
            Arg::Dynamic(raw)
        } else {
            Arg::Static(value)
        })
    }

    /// At `(`: the script up to its matching `)`, quotes respected.
    fn substitution(&mut self) -> Result<(), ()> {
        self.i += 1;
        let start = self.i;
        let mut depth = 1;
        let mut quote: Option<char> = None;
        while let Some(c) = self.peek() {
            match (quote, c) {
                (_, '\\') => self.i += 1,
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '\'' | '"') => quote = Some(c),
                (None, '(') => depth += 1,
                (None, ')') => {
                    depth -= 1;
                    if depth == 0 {
                        let inner: String = self.chars[start..self.i].iter().collect();
                        self.i += 1;
                        self.out.push(Found::Script(inner, "(…)"));
                        return Ok(());
                    }
                }
                _ => {}
            }
            self.i += 1;
        }
        Err(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commands(line: &str) -> Vec<Vec<String>> {
        parse(line)
            .into_iter()
            .filter_map(|f| match f {
                Found::Run(c) => Some(c.words.iter().map(|w| w.text().to_string()).collect()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn fish_lists_and_keywords_split_commands() {
        assert_eq!(
            commands("make; and npm run dev 2>err.log &"),
            vec![vec!["make"], vec!["npm", "run", "dev"]]
        );
        assert_eq!(
            commands("begin; echo 'it\\'s'; end | not grep x"),
            vec![vec!["echo", "it's"], vec!["grep", "x"]]
        );
        assert_eq!(commands("for f in *.rs; rm $f; end")[0], vec!["rm", "$f"]);
    }

    #[test]
    fn fish_substitutions_are_scripts() {
        let found = parse("echo (rm -rf x) \"$(git push)\"");
        assert!(found.contains(&Found::Script("rm -rf x".into(), "(…)")));
        assert!(found.contains(&Found::Script("git push".into(), "(…)")));
        assert_eq!(
            parse("echo 'open"),
            vec![Found::Opaque("the line does not parse as fish".into())]
        );
    }
}
