//! The options a wrapper takes before the command it runs, so that the command is found
//! exactly; an option a wrapper is not known to take makes the rest opaque.

use super::found::Arg;

/// A command's options: which take a value.
#[derive(Debug, Clone, Copy, Default)]
pub struct Spec {
    /// Short options without a value.
    pub short: &'static str,
    /// Short options taking a value (`-n 5`, `-n5`).
    pub short_valued: &'static str,
    /// Long options without a value.
    pub long: &'static [&'static str],
    /// Long options taking a value (`--signal KILL`, `--signal=KILL`).
    pub long_valued: &'static [&'static str],
    /// `-5` is an option (`nice -5`).
    pub numeric: bool,
}

/// The options seen (`-c` or `--exec`, with their value) and where the operands start.
pub struct Parsed {
    pub options: Vec<(String, Option<Arg>)>,
    pub rest: usize,
}

impl Parsed {
    /// The value of the first of these options given.
    pub fn value(&self, names: &[&str]) -> Option<&Arg> {
        self.options
            .iter()
            .find(|(n, _)| names.contains(&n.as_str()))
            .and_then(|(_, v)| v.as_ref())
    }

    /// Whether one of these options was given.
    pub fn has(&self, names: &[&str]) -> bool {
        self.options
            .iter()
            .any(|(n, _)| names.contains(&n.as_str()))
    }
}

/// Read `args` (the words after the command's name) by `spec`. Err names the option
/// that cannot be read.
pub fn parse(args: &[Arg], spec: &Spec) -> Result<Parsed, String> {
    let mut options = Vec::new();
    let mut i = 0;
    while let Some(a) = args.get(i) {
        let Some(text) = a.value() else {
            if a.text().starts_with('-') {
                return Err(a.text().to_string());
            }
            break;
        };
        if text == "--" {
            i += 1;
            break;
        }
        if !text.starts_with('-') || text == "-" {
            break;
        }
        if let Some(long) = text.strip_prefix("--") {
            match long.split_once('=') {
                Some((name, v))
                    if spec.long.contains(&name) || spec.long_valued.contains(&name) =>
                {
                    options.push((format!("--{name}"), Some(Arg::Static(v.to_string()))));
                    i += 1;
                }
                Some(_) => return Err(text.to_string()),
                None if spec.long_valued.contains(&long) => {
                    let v = args.get(i + 1).ok_or_else(|| text.to_string())?;
                    options.push((text.to_string(), Some(v.clone())));
                    i += 2;
                }
                None if spec.long.contains(&long) => {
                    options.push((text.to_string(), None));
                    i += 1;
                }
                None => return Err(text.to_string()),
            }
            continue;
        }
        let letters = &text[1..];
        if spec.numeric && letters.chars().all(|c| c.is_ascii_digit()) {
            i += 1;
            continue;
        }
        i += 1;
        for (at, c) in letters.char_indices() {
            if spec.short.contains(c) {
                options.push((format!("-{c}"), None));
            } else if spec.short_valued.contains(c) {
                let inline = &letters[at + c.len_utf8()..];
                let v = if inline.is_empty() {
                    let v = args.get(i).ok_or_else(|| text.to_string())?;
                    i += 1;
                    v.clone()
                } else {
                    Arg::Static(inline.to_string())
                };
                options.push((format!("-{c}"), Some(v)));
                break;
            } else {
                return Err(text.to_string());
            }
        }
    }
    Ok(Parsed { options, rest: i })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<Arg> {
        a.iter().map(|s| Arg::Static(s.to_string())).collect()
    }

    #[test]
    fn options_and_values_are_skipped() {
        let spec = Spec {
            short: "v",
            short_valued: "sk",
            long: &["foreground"],
            long_valued: &["signal"],
            numeric: false,
        };
        let a = args(&[
            "-vs",
            "KILL",
            "--signal=9",
            "--foreground",
            "-k5",
            "10",
            "rm",
        ]);
        let p = parse(&a, &spec).unwrap();
        assert_eq!(p.rest, 5);
        assert_eq!(p.value(&["-k"]), Some(&Arg::Static("5".into())));
        assert_eq!(parse(&args(&["--", "-x"]), &spec).unwrap().rest, 1);
        assert_eq!(
            parse(&args(&["-z", "rm"]), &spec).err().as_deref(),
            Some("-z")
        );
    }
}
