//! The journal a shell's hook writes, and its reader.
//!
//! Format (version 1). A journal is a byte stream of records. A record starts at the
//! beginning of a line with the byte 0x1E (RS), a type letter and TAB-separated fields,
//! ending at LF. Some records have a body: the raw lines up to the next record line.
//! Fields escape `\` as `\\`, TAB as `\t`, LF as `\n` and CR as `\r`.
//!
//! | record | fields | body |
//! | --- | --- | --- |
//! | `S` command started | time, cwd, form (`h` = bash `history 1` line, `t` = text); from bash then either the first word, when it names a function, or the first line of `history 1` (the rest follows as the body) | the command line as typed |
//! | `E` command ended | time, exit status, duration_ms (or `-`: end minus start), cwd after it | none |
//! | `V` environment | time, form (`bash`, `zsh`: `export -p`; `fish`: NAME TAB value lines; `bash+`: `declare -p` of the variables that changed since the `V` before it; `zsh+`: `export NAME=value` or `typeset NAME` lines for them) | the exported environment, or its changes |
//! | `X` shell ended | time, how (`exit` or `hangup`) | none |
//!
//! A time is seconds since the epoch with an optional fraction after `.` or `,` (as
//! bash's and zsh's `$EPOCHREALTIME` print it), or whole microseconds (13+ digits).
//!
//! Every record ends with LF, and `S` and `V` have at least one body line (a bash `S`
//! may carry its command's first line on its own line: that is its first body line). A record cut
//! short (its writer's disk filled up, or it died mid-write) is skipped, except a
//! command's text cut at the very end of the file, kept as far as it goes. When the
//! writer carries on after a cut, its next record begins right after the cut bytes, in
//! the middle of a line: the reader starts a record there too, so one damaged record
//! never swallows the ones after it.
//!
//! The first `V` is the baseline (written at the first prompt). A shell's journal may be
//! split in segments: `journal`, `journal.1`, `journal.2`, … read in that order.
//! The reader never fails: it keeps what is valid and counts what is not.

use crate::shellenv;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// How a shell ended, as the hook saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndHow {
    /// A deliberate `exit` or Ctrl-D.
    Exit,
    /// The terminal went away (closed, SSH dropped, tmux pane or server killed).
    Hangup,
}

/// One record of a journal.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// A command started.
    Start {
        time_us: i64,
        cwd: String,
        command: String,
    },
    /// The command started last ended.
    End {
        time_us: i64,
        status: i32,
        duration_ms: Option<i64>,
        cwd: String,
    },
    /// The exported environment at that time.
    Env {
        time_us: i64,
        vars: BTreeMap<String, String>,
    },
    /// The shell ended.
    Exit { time_us: i64, how: EndHow },
}

impl Record {
    /// When the record was written, in microseconds since the epoch.
    pub fn time_us(&self) -> i64 {
        match self {
            Record::Start { time_us, .. }
            | Record::End { time_us, .. }
            | Record::Env { time_us, .. }
            | Record::Exit { time_us, .. } => *time_us,
        }
    }
}

/// What reading a journal gave: the valid records and how much was skipped.
#[derive(Debug, Default)]
pub struct Parsed {
    pub records: Vec<Record>,
    /// Lines or records that could not be read.
    pub skipped: usize,
    last_start_precise: bool,
}

const RS: u8 = 0x1e;

/// The segments of a shell's journal in the order they were written.
pub fn segments(shell_dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<(u64, PathBuf)> = Vec::new();
    let Ok(entries) = fs::read_dir(shell_dir) else {
        return Vec::new();
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let index = if name == "journal" {
            Some(0)
        } else {
            name.strip_prefix("journal.")
                .and_then(|n| n.parse::<u64>().ok())
        };
        if let Some(i) = index {
            found.push((i, entry.path()));
        }
    }
    found.sort();
    found.into_iter().map(|(_, p)| p).collect()
}

/// Read every segment of a shell's journal; name a damaged segment once on stderr.
pub fn read_shell_journal(shell_dir: &Path) -> Parsed {
    let mut all = Parsed::default();
    for seg in segments(shell_dir) {
        let Ok(bytes) = fs::read(&seg) else {
            eprintln!("snap: cannot read {}: skipped", seg.display());
            continue;
        };
        let parsed = parse(&bytes);
        if parsed.skipped > 0 {
            eprintln!(
                "snap: {}: {} damaged record(s) skipped (the file is left as it is)",
                seg.display(),
                parsed.skipped
            );
        }
        all.skipped += parsed.skipped;
        all.records.extend(parsed.records);
    }
    all
}

/// A record being read: its fields and its body lines.
/// A record being read: its fields, its body lines, and whether it was cut short.
type Pending<'a> = (Vec<&'a [u8]>, Vec<&'a [u8]>, bool);

/// Parse a journal's bytes. Never panics, whatever the input.
pub fn parse(bytes: &[u8]) -> Parsed {
    parse_seeded(bytes, Parsed::default())
}

/// [`parse`] after the records already in `out`.
fn parse_seeded(bytes: &[u8], mut out: Parsed) -> Parsed {
    let mut current: Option<Pending> = None;
    let mut garbage_run = false;
    let mut read = 0;
    for line in split_lines(bytes) {
        read += line.len();
        let cut = line.last() != Some(&b'\n');
        let at_end = read == bytes.len();
        if let Some((fields, first_line)) = record_fields(line) {
            if let Some(pending) = current.take() {
                finish(&mut out, pending);
            }
            // A command's first line on the record's own line is a body line like the
            // rest (see the rule below).
            let damaged = cut && !(at_end && first_line.is_some());
            current = Some((fields, first_line.into_iter().collect(), damaged));
            garbage_run = false;
        } else if cut && line.first() == Some(&RS) {
            // The first bytes of a record, cut before its fields: not a body line.
            if let Some(pending) = current.take() {
                finish(&mut out, pending);
            }
            out.skipped += 1;
        } else if let Some((fields, body, damaged)) = current.as_mut() {
            body.push(line);
            // A command's text cut at the end of the file is kept as far as it goes
            // (its shell died writing it); an environment cut anywhere is not whole.
            *damaged |= cut && !(at_end && fields[0].first() == Some(&b'S'));
        } else if !garbage_run {
            out.skipped += 1;
            garbage_run = true;
        }
    }
    if let Some(pending) = current.take() {
        finish(&mut out, pending);
    }
    out
}

/// What a reader carries from the bytes it consumed into the next ones: the environment
/// a delta record (`bash+`, `zsh+`) changes, and the start record a derived duration
/// needs (its time and whether it was precise) when it was the last record.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Carry {
    pub env: Option<BTreeMap<String, String>>,
    pub open_start: Option<(i64, bool)>,
}

/// What an incremental read gave: the records of whole lines up to `consumed` (their
/// records are final), the records after it (the last record, which its writer may
/// still extend: read it again next time), and the carry at `consumed`.
#[derive(Debug, Default)]
pub struct Chunk {
    pub done: Vec<Record>,
    pub tentative: Vec<Record>,
    pub consumed: usize,
    pub carry: Carry,
    /// Damaged records among the final ones.
    pub skipped: usize,
}

/// Parse the bytes of a journal segment that follow what was consumed before, with the
/// carry left there. With `finished` (a newer segment exists, so nobody writes here)
/// every byte is final; else the last record stays tentative unless it is an end or
/// exit record ended by LF.
pub fn parse_from(bytes: &[u8], carry: &Carry, finished: bool) -> Chunk {
    let mut last_start = None;
    let mut pos = 0;
    for line in split_lines(bytes) {
        if record_fields(line).is_some()
            || (line.first() == Some(&RS) && line.last() != Some(&b'\n'))
        {
            last_start = Some((pos, line));
        }
        pos += line.len();
    }
    let consumed = match last_start {
        _ if finished => bytes.len(),
        None => 0,
        Some((at, line)) => {
            let whole = bytes.last() == Some(&b'\n');
            let bodiless = matches!(line.get(1), Some(b'E' | b'X'));
            if whole && bodiless {
                bytes.len()
            } else {
                at
            }
        }
    };
    let done = if consumed < bytes.len() {
        // The record after the boundary ends the ones before it, as it would in one
        // read: a stand-in for it, taken out again.
        let mut head = bytes[..consumed].to_vec();
        head.extend_from_slice(b"\x1eX\t0\texit\n");
        let mut done = parse_carried(&head, carry);
        done.records.pop();
        done
    } else {
        parse_carried(bytes, carry)
    };
    let next = carry_after(carry, &done);
    let tentative = parse_carried(&bytes[consumed..], &next);
    Chunk {
        skipped: done.skipped,
        done: done.records,
        tentative: tentative.records,
        consumed,
        carry: next,
    }
}

/// Parse with a carry: the carried environment and open start are seeded in front of
/// the records, then taken out again.
fn parse_carried(bytes: &[u8], carry: &Carry) -> Parsed {
    let mut seed = Vec::new();
    if let Some(vars) = &carry.env {
        seed.push(Record::Env {
            time_us: 0,
            vars: vars.clone(),
        });
    }
    if let Some((time_us, _)) = carry.open_start {
        seed.push(Record::Start {
            time_us,
            cwd: String::new(),
            command: String::new(),
        });
    }
    let seeded = seed.len();
    let mut out = parse_seeded(
        bytes,
        Parsed {
            records: seed,
            skipped: 0,
            last_start_precise: carry.open_start.is_some_and(|(_, p)| p),
        },
    );
    out.records.drain(..seeded);
    out
}

/// The carry after these records, from the carry before them.
fn carry_after(before: &Carry, parsed: &Parsed) -> Carry {
    let env = parsed
        .records
        .iter()
        .rev()
        .find_map(|r| match r {
            Record::Env { vars, .. } => Some(vars.clone()),
            _ => None,
        })
        .or_else(|| before.env.clone());
    let open_start = match parsed.records.last() {
        None => before.open_start,
        Some(Record::Start { time_us, .. }) => Some((*time_us, parsed.last_start_precise)),
        Some(_) => None,
    };
    Carry { env, open_start }
}

/// Lines including their LF; a line is also ended before a record that starts in its
/// middle (after a cut-short write), and such a piece has no LF (nor has a last line
/// cut short).
fn split_lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = bytes;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let lf = rest
            .iter()
            .position(|&b| b == b'\n')
            .map_or(rest.len(), |i| i + 1);
        let end = (1..lf)
            .find(|&i| rest[i] == RS && starts_record(&rest[i..]))
            .unwrap_or(lf);
        let (line, tail) = rest.split_at(end);
        rest = tail;
        Some(line)
    })
}

/// Do these bytes start with a record's type letter and its first separator?
fn starts_record(bytes: &[u8]) -> bool {
    bytes.len() >= 3 && bytes[0] == RS && b"SEVX".contains(&bytes[1]) && bytes[2] == b'\t'
}

/// A record's line: its fields, and the first body line it may carry.
type RecordLine<'a> = (Vec<&'a [u8]>, Option<&'a [u8]>);

/// The TAB-separated fields of a record line (type letter first), or None for a body
/// line. A bash start record may carry its command's first line on its own line:
/// `history 1` printed right after the form field, where a function's name would
/// otherwise be (a name has no spaces, a history line has two after its number). That
/// line, LF included, comes back as the record's first body line.
fn record_fields(line: &[u8]) -> Option<RecordLine<'_>> {
    if line.len() < 2 || line[0] != RS || !b"SEVX".contains(&line[1]) {
        return None;
    }
    if line.len() > 2 && line[2] != b'\t' && line[2] != b'\n' {
        return None;
    }
    let text = &line[1..];
    let header = text.strip_suffix(b"\n").unwrap_or(text);
    let fourth_tab = header
        .iter()
        .enumerate()
        .filter(|&(_, &b)| b == b'\t')
        .nth(3)
        .map(|(i, _)| i);
    if let (b'S', Some(i)) = (header[0], fourth_tab) {
        let fields: Vec<&[u8]> = header[..i].split(|&b| b == b'\t').collect();
        if fields[3] == b"h" && strip_history_number(&header[i + 1..]).is_some() {
            return Some((fields, Some(&text[i + 1..])));
        }
    }
    Some((header.split(|&b| b == b'\t').collect(), None))
}

fn finish(out: &mut Parsed, (fields, body, cut): Pending) {
    // A start or an environment always has a body line: without one it was cut short
    // (or is being written right now).
    let bodiless = body.is_empty() && matches!(fields[0].first(), Some(b'S' | b'V'));
    if cut || bodiless {
        out.skipped += 1;
        return;
    }
    match to_record(&fields, &body, &out.records) {
        Some(mut r) => {
            if let Record::End {
                time_us,
                duration_ms: duration_ms @ None,
                ..
            } = &mut r
            {
                *duration_ms = derived_duration(out, *time_us);
            }
            if let (Record::Start { .. }, Some(t)) = (&r, fields.get(1)) {
                out.last_start_precise = is_precise(t);
            }
            out.records.push(r)
        }
        None => out.skipped += 1,
    }
}

/// A duration the hook left to the reader: end minus the open start before it, when
/// both times have sub-second precision.
fn derived_duration(out: &Parsed, end_us: i64) -> Option<i64> {
    match out.records.last() {
        Some(Record::Start { time_us, .. }) if out.last_start_precise => {
            Some((end_us - time_us).max(0) / 1000)
        }
        _ => None,
    }
}

fn is_precise(field: &[u8]) -> bool {
    field.iter().any(|&b| b == b'.' || b == b',') || field.len() >= 13
}

/// A record from its fields and body; `before` are the records read before it (a
/// `bash+` record changes the environment the last of them left).
fn to_record(fields: &[&[u8]], body: &[&[u8]], before: &[Record]) -> Option<Record> {
    let kind = *fields.first()?.first()?;
    let time_us = parse_time(fields.get(1)?)?;
    match kind {
        b'S' => {
            let cwd = unescape(fields.get(2)?);
            let form = fields.get(3).copied().unwrap_or(b"t");
            let mut text: Vec<u8> = body.concat();
            if text.last() == Some(&b'\n') {
                text.pop();
            }
            if form == b"h" {
                text = strip_history_number(&text)?.to_vec();
            }
            Some(Record::Start {
                time_us,
                cwd,
                command: String::from_utf8_lossy(&text).into_owned(),
            })
        }
        b'E' => {
            let status = i32::try_from(parse_int(fields.get(2)?)?).ok()?;
            let duration_ms = fields.get(3).and_then(|d| parse_int(d));
            let cwd = fields.get(4).map(|c| unescape(c)).unwrap_or_default();
            Some(Record::End {
                time_us,
                status,
                duration_ms,
                cwd,
            })
        }
        b'V' => {
            let form = fields.get(2)?;
            let text: Vec<u8> = body.concat();
            let vars = match *form {
                b"bash" | b"zsh" => shellenv::parse_export_p(&text),
                b"fish" => parse_fish_env(&text),
                b"bash+" | b"zsh+" => {
                    let mut vars = before
                        .iter()
                        .rev()
                        .find_map(|r| match r {
                            Record::Env { vars, .. } => Some(vars.clone()),
                            _ => None,
                        })
                        .unwrap_or_default();
                    shellenv::apply_declare_p(&mut vars, &text);
                    vars
                }
                _ => return None,
            };
            Some(Record::Env { time_us, vars })
        }
        b'X' => {
            let how = match *fields.get(2)? {
                b"exit" => EndHow::Exit,
                b"hangup" => EndHow::Hangup,
                _ => return None,
            };
            Some(Record::Exit { time_us, how })
        }
        _ => None,
    }
}

/// A record's time in microseconds: `1764000000.123456`, `1764000000,5`, `1764000000`
/// (seconds) or `1764000000123456` (microseconds).
fn parse_time(field: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(field).ok()?.trim();
    let (secs, frac) = match text.find(['.', ',']) {
        Some(i) => (&text[..i], &text[i + 1..]),
        None if text.len() >= 13 => return text.parse().ok(),
        None => (text, ""),
    };
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secs: i64 = secs.parse().ok()?;
    let micros: i64 = format!("{:0<6}", &frac[..frac.len().min(6)]).parse().ok()?;
    secs.checked_mul(1_000_000)?.checked_add(micros)
}

fn parse_int(field: &[u8]) -> Option<i64> {
    std::str::from_utf8(field).ok()?.trim().parse().ok()
}

/// Strip bash's `history 1` prefix: `%5d`, a space or `*`, a space.
fn strip_history_number(text: &[u8]) -> Option<&[u8]> {
    let start = text.iter().position(|&b| b != b' ')?;
    let rest = &text[start..];
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || rest.len() < digits + 2 {
        return None;
    }
    let rest = &rest[digits..];
    if (rest[0] == b' ' || rest[0] == b'*') && rest[1] == b' ' {
        Some(&rest[2..])
    } else {
        None
    }
}

/// Undo the field escaping (`\\`, `\t`, `\n`, `\r`).
pub fn unescape(field: &[u8]) -> String {
    String::from_utf8_lossy(&unescape_bytes(field)).into_owned()
}

fn unescape_bytes(field: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(field.len());
    let mut it = field.iter().copied();
    while let Some(b) = it.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        match it.next() {
            Some(b't') => out.push(b'\t'),
            Some(b'n') => out.push(b'\n'),
            Some(b'r') => out.push(b'\r'),
            Some(b'\\') => out.push(b'\\'),
            Some(other) => out.extend([b'\\', other]),
            None => out.push(b'\\'),
        }
    }
    out
}

/// The fish hook's environment form: one `NAME<TAB>escaped value` line per variable.
fn parse_fish_env(text: &[u8]) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    for line in text.split(|&b| b == b'\n') {
        let mut parts = line.splitn(2, |&b| b == b'\t');
        let (Some(name), Some(value)) = (parts.next(), parts.next()) else {
            continue;
        };
        let Ok(name) = std::str::from_utf8(name) else {
            continue;
        };
        if shellenv::is_var_name(name) {
            vars.insert(name.to_string(), unescape(value));
        }
    }
    vars
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(s: &str) -> Vec<u8> {
        s.replace('^', "\x1e").into_bytes()
    }

    #[test]
    fn reads_start_and_end_with_history_prefix() {
        let j = rec("^S\t1000\t/tmp/a\\tb\th\n   12  echo \"a b\" | wc -c\n^E\t2000\t0\t1\t/tmp\n");
        let p = parse(&j);
        assert_eq!(p.skipped, 0);
        assert_eq!(
            p.records[0],
            Record::Start {
                time_us: 1_000_000_000,
                cwd: "/tmp/a\tb".into(),
                command: "echo \"a b\" | wc -c".into()
            }
        );
        assert_eq!(
            p.records[1],
            Record::End {
                time_us: 2_000_000_000,
                status: 0,
                duration_ms: Some(1),
                cwd: "/tmp".into()
            }
        );
    }

    #[test]
    fn history_line_on_the_start_records_own_line() {
        // bash writes `history 1` right after the form field, unless the first word
        // named a function: then the name comes first and the line follows.
        let j = rec(concat!(
            "^S\t1.5\t/\th\t   12  printf 'a\tb'\n^E\t2.5\t0\t-\t/\n",
            "^S\t3.5\t/\th\tnvm\n   13  nvm use 20\n^E\t4.5\t0\t-\t/\n",
            "^S\t5.5\t/\th\t   14* for i in 1\ndo :\ndone\n^E\t6.5\t0\t-\t/\n",
            "^S\t7.5\t/\th\t   15  echo one\n",
            "^S\t8.5\t/\th\t   16  echo tw",
        ));
        let p = parse(&j);
        assert_eq!(p.skipped, 0);
        let commands: Vec<&str> = p
            .records
            .iter()
            .filter_map(|r| match r {
                Record::Start { command, .. } => Some(command.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(
            commands,
            [
                "printf 'a\tb'",
                "nvm use 20",
                "for i in 1\ndo :\ndone",
                "echo one",
                "echo tw"
            ]
        );
        assert!(matches!(
            p.records[1],
            Record::End {
                duration_ms: Some(1000),
                ..
            }
        ));
    }

    #[test]
    fn bash_environment_changes_apply_to_the_environment_before_them() {
        let j = rec(concat!(
            "^V\t1\tbash\ndeclare -x A=\"1\"\ndeclare -x B=\"2\"\n",
            "^V\t2\tbash+\ndeclare -x C=\"x y\"\ndeclare -- B=\"2\"\ndeclare -x D\n",
        ));
        let p = parse(&j);
        assert_eq!(p.skipped, 0);
        let Record::Env { vars, .. } = &p.records[1] else {
            panic!("{:?}", p.records)
        };
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        // B lost its export, D has no value: neither is in the environment.
        assert_eq!(vars, [("A", "1"), ("C", "x y")]);
    }

    #[test]
    fn multi_line_commands_keep_their_newlines() {
        let j = rec("^S\t1\t/\th\n    3* for i in 1 2\ndo echo $i\ndone\n^E\t2\t130\t-\t/\n");
        let p = parse(&j);
        match &p.records[0] {
            Record::Start { command, .. } => assert_eq!(command, "for i in 1 2\ndo echo $i\ndone"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            p.records[1],
            Record::End {
                status: 130,
                duration_ms: None,
                ..
            }
        ));
    }

    #[test]
    fn garbage_and_truncation_are_skipped_not_fatal() {
        let mut j = b"\x00\x00garbage\xff\xfe\n".to_vec();
        j.extend(rec(
            "^S\t5\t/\tt\nls\n^E\tnot-a-number\n^Q\t1\n^X\t9\thangup\n^E\t7",
        ));
        let p = parse(&j);
        assert!(p.skipped >= 2);
        assert!(matches!(p.records[0], Record::Start { .. }));
        assert!(p.records.iter().any(|r| matches!(
            r,
            Record::Exit {
                how: EndHow::Hangup,
                ..
            }
        )));
    }

    #[test]
    fn non_utf8_bytes_become_replacement_characters() {
        let mut j = b"\x1eS\t5\t/tmp/\xff\tt\n".to_vec();
        j.extend(b"echo \xff\xfe\n");
        let p = parse(&j);
        match &p.records[0] {
            Record::Start { command, .. } => assert!(command.starts_with("echo ")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn times_in_seconds_with_fractions_and_derived_durations() {
        let j = rec("^S\t1764000000.250000\t/\th\n    1  sleep 1\n^E\t1764000001,75\t0\t-\t/\n");
        let p = parse(&j);
        assert_eq!(p.records[0].time_us(), 1_764_000_000_250_000);
        assert_eq!(p.records[1].time_us(), 1_764_000_001_750_000);
        assert!(matches!(
            p.records[1],
            Record::End {
                duration_ms: Some(1500),
                ..
            }
        ));
        let coarse = parse(&rec("^S\t1764000000\t/\tt\nx\n^E\t1764000002\t0\t-\t/\n"));
        assert!(matches!(
            coarse.records[1],
            Record::End {
                duration_ms: None,
                ..
            }
        ));
        assert_eq!(coarse.records[0].time_us(), 1_764_000_000_000_000);
    }

    #[test]
    fn a_record_cut_short_by_a_full_disk_does_not_swallow_the_next_ones() {
        // The disk filled up in the middle of an environment's body; once space was
        // back, the next start record was appended right after the cut bytes.
        let j = rec(concat!(
            "^V\t1\tbash\ndeclare -x A=\"1\"\ndeclare -x PA",
            "^S\t2\t/\th\n    4  echo four\n^E\t3\t0\t-\t/\n",
            "^S\t4\t/\tt\necho fi",
            "^E\t5\t1\t-\t/\n^X\t6\texit",
        ));
        let p = parse(&j);
        assert_eq!(p.skipped, 3, "{:?}", p.records);
        assert!(matches!(&p.records[0], Record::Start { command, .. } if command == "echo four"));
        assert!(matches!(p.records[1], Record::End { status: 0, .. }));
        assert!(matches!(p.records[2], Record::End { status: 1, .. }));
        assert_eq!(p.records.len(), 3);
    }

    #[test]
    fn fish_env_lines() {
        let j = rec("^V\t5\tfish\nFOO\tbar\\nbaz\nPATH\t/a:/b\nbad name\tx\n");
        let p = parse(&j);
        match &p.records[0] {
            Record::Env { vars, .. } => {
                assert_eq!(vars["FOO"], "bar\nbaz");
                assert_eq!(vars["PATH"], "/a:/b");
                assert_eq!(vars.len(), 2);
            }
            other => panic!("{other:?}"),
        }
    }

    /// Read `bytes` as a writer appending them would leave them at each cut, carrying
    /// state between reads; the records, final and tentative, at the end.
    fn read_growing(bytes: &[u8], cuts: &[usize]) -> Vec<Record> {
        let mut offset = 0;
        let mut carry = Carry::default();
        let mut done = Vec::new();
        let mut tentative = Vec::new();
        for &cut in cuts.iter().chain([&bytes.len()]) {
            let cut = cut.clamp(offset, bytes.len());
            let chunk = parse_from(&bytes[offset..cut], &carry, false);
            offset += chunk.consumed;
            carry = chunk.carry;
            done.extend(chunk.done);
            tentative = chunk.tentative;
        }
        done.extend(tentative);
        done
    }

    const GROWING: &str = concat!(
        "^V\t1\tbash\ndeclare -x A=\"1\"\n",
        "^S\t1.5\t/\th\t   12  printf 'a\tb'\n^E\t2.5\t0\t-\t/\n",
        "^V\t2\tbash+\ndeclare -x C=\"x y\"\n",
        "^S\t5.5\t/\th\t   14* for i in 1\ndo :\ndone\n^E\t6.5\t0\t-\t/\n",
        "^S\t7.5\t/\tt\nsleep 9\n",
    );

    #[test]
    fn an_incremental_read_keeps_the_last_start_or_environment_tentative() {
        let j = rec(GROWING);
        let chunk = parse_from(&j, &Carry::default(), false);
        assert_eq!(chunk.tentative.len(), 1);
        assert!(
            matches!(&chunk.tentative[0], Record::Start { command, .. } if command == "sleep 9")
        );
        assert_eq!(
            &j[chunk.consumed..],
            rec("^S\t7.5\t/\tt\nsleep 9\n").as_slice()
        );
        let finished = parse_from(&j, &Carry::default(), true);
        assert_eq!(finished.consumed, j.len());
        assert!(finished.tentative.is_empty());
        // An end record ended by LF is final.
        let mut ended = j.clone();
        ended.extend(rec("^E\t8.5\t1\t-\t/\n"));
        assert_eq!(
            parse_from(&ended, &Carry::default(), false).consumed,
            ended.len()
        );
    }

    proptest::proptest! {
        #[test]
        fn reading_a_growing_journal_piece_by_piece_gives_what_one_read_gives(
            mut cuts in proptest::collection::vec(0usize..400, 0..8)
        ) {
            let j = rec(GROWING);
            cuts.sort();
            proptest::prop_assert_eq!(read_growing(&j, &cuts), parse(&j).records);
        }
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048)) {
            let _ = parse(&bytes);
        }

        #[test]
        fn parse_never_panics_on_record_like_input(s in "[\\x1eSEVX\\t0-9a-z\\n\\\\ *]{0,400}") {
            let _ = parse(s.as_bytes());
        }
    }
}
