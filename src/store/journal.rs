//! The journal a shell's hook writes, and its reader.
//!
//! Format 1 (hooks before the token). A journal is a byte stream of records. A record
//! starts at the beginning of a line with the byte 0x1E (RS), a type letter and
//! TAB-separated fields, ending at LF. Some records have a body: the raw lines up to the
//! next record line. Fields escape `\` as `\\`, TAB as `\t`, LF as `\n` and CR as `\r`.
//!
//! | record | fields | body |
//! | --- | --- | --- |
//! | `S` command started | time, cwd, form (`h` = bash `history 1` line, `t` = text); from bash then either the first word, when it names a function, or the first line of `history 1` (the rest follows as the body) | the command line as typed |
//! | `E` command ended | time, exit status, duration_ms (or `-`: end minus start), cwd after it | none |
//! | `V` environment | time, form (`bash`, `zsh`: `export -p`; `fish`: NAME TAB value lines; `bash+`: `declare -p` of the variables that changed since the `V` before it; `zsh+`: `export NAME=value` or `typeset NAME` lines for them) | the exported environment, or its changes |
//! | `X` shell ended | time, how (`exit` or `hangup`) | none |
//!
//! Format 2 (the current hooks). Typed text reaches the journal as is (bash's
//! `history 1` cannot be escaped without a fork), so in format 1 a pasted RS could start
//! a record. In format 2 every record begins with RS, then the shell's token, then the
//! type letter: `RS <token> S TAB …`. The token is 32 lowercase hex digits of OS
//! randomness made by `snap shell-start`, kept in the shell's `meta` (0600) and in an
//! unexported variable of the hook, never in the environment. The reader starts a
//! record only at RS + that token + a type letter + TAB; anything else, RS bytes and
//! forged records with another token included, is body text. Other changes:
//!
//! - `S` has a field more, after form: origin, `shell` (typed in the shell) or
//!   `restore` (a line `snap restore` put there: the restore script calls the hook's
//!   `__snap_from_restore` before it).
//! - bash's form `m`, as `m` or `m` and comma-separated numbers (`m0,2`): a `history 1`
//!   line written when `HISTCMD` did not move. History then either moved an older copy
//!   of the line to its end (`erasedups`: an execution), folded a repeat of its last
//!   line into it (`ignoredups`: an execution), or kept the line private (leading space,
//!   `HISTIGNORE`: `history 1` is still the line before). The hook cannot tell without
//!   a fork, the reader can: the numbers say which of the lines since the last `h`
//!   start (0) or `H` mark ran the same first simple command (`BASH_COMMAND`), and
//!   [`HistoryLines`] decides. Dropped, its `E` goes too.
//! - `H` history mark: time; body: bash's `history 1` line (none when history is
//!   empty), written at the first prompt, after a restore loaded history and when a
//!   newer hook takes over, so that a first line kept private is not taken for a moved
//!   one.
//!
//! With history off (`set +o history`) bash writes no start at all. A reader that
//! resumes at an offset (the index) carries [`HistoryLines`] and the last `V` on from
//! where it stopped, across segments too.
//!
//! A shell whose meta has no token (started before the upgrade) is read as format 1.
//! A shell's segments may mix: a shell that re-sourced a newer hook over an older one
//! starts a new segment in format 2. So with a token each segment is read in the
//! format its first bytes show: a format 1 record start (RS, type letter, TAB), or else
//! format 2 (the hook always writes a segment's first bytes, and a token never starts
//! with a type letter).
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
//!
//! A segment nobody writes any more (a newer one exists, or its shell ended) is
//! gzip-compressed once the index holds it (`journal.1.gz`, see `index::compress`).
//! Where a crash left a segment both plain and compressed, the plain one (the original)
//! is read, never both.

use crate::model::Ended;
use crate::shellenv;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// Who put a command line in the shell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Typed (or pasted) in the shell; every format 1 start.
    Shell,
    /// Put there by `snap restore`.
    Restore,
}

impl Origin {
    /// The command's `source` in history (`shell` or `restore`).
    pub fn source(self) -> &'static str {
        match self {
            Origin::Shell => "shell",
            Origin::Restore => "restore",
        }
    }

    /// The origin of a history `source` (anything but `restore` is the shell's).
    pub fn of_source(source: &str) -> Origin {
        match source {
            "restore" => Origin::Restore,
            _ => Origin::Shell,
        }
    }
}

/// One record of a journal.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// A command started.
    Start {
        time_us: i64,
        cwd: String,
        command: String,
        origin: Origin,
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
    Exit { time_us: i64, how: Ended },
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
    /// bash's history as the journal showed it, for form `m`.
    history: HistoryLines,
    /// The start before was a private line's: its end goes too.
    drop_end: bool,
}

const RS: u8 = 0x1e;

/// The record types.
const TYPES: &[u8] = b"SEVXH";

/// How a segment's records start.
#[derive(Debug, Clone, Copy)]
enum Format<'a> {
    /// RS, type letter.
    V1,
    /// RS, the shell's token, type letter.
    V2(&'a [u8]),
}

/// A shell's token as its meta holds it, if it is one (hex, 16 to 64 digits).
pub fn valid_token(token: Option<&str>) -> Option<&[u8]> {
    let t = token?;
    ((16..=64).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .then_some(t.as_bytes())
}

/// The format a segment is written in: with a token, format 2 unless its first bytes
/// are a format 1 record start (see the module doc).
fn format_of<'a>(bytes: &[u8], token: Option<&'a str>) -> Format<'a> {
    match valid_token(token) {
        Some(t) if !starts_record(bytes, Format::V1) => Format::V2(t),
        _ => Format::V1,
    }
}

/// The suffix of a compressed segment.
const GZ: &str = ".gz";

/// A segment's number by its file name (`journal`: 0, `journal.3` or `journal.3.gz`:
/// 3), and whether it is compressed; None for other files.
pub fn segment_number(name: &str) -> Option<(u64, bool)> {
    let (plain, compressed) = match name.strip_suffix(GZ) {
        Some(p) => (p, true),
        None => (name, false),
    };
    let n = match plain.strip_prefix("journal") {
        Some("") => 0,
        Some(rest) => rest.strip_prefix('.')?.parse().ok()?,
        None => return None,
    };
    Some((n, compressed))
}

/// Is this segment file gzip-compressed?
pub fn is_compressed(seg: &Path) -> bool {
    seg.as_os_str().to_string_lossy().ends_with(GZ)
}

/// The plain file of a segment (`journal.3.gz` → `journal.3`).
pub fn plain_path(seg: &Path) -> PathBuf {
    let text = seg.to_string_lossy();
    PathBuf::from(text.strip_suffix(GZ).unwrap_or(&text))
}

/// The compressed file of a plain segment (`journal.3` → `journal.3.gz`).
pub fn compressed_path(plain: &Path) -> PathBuf {
    PathBuf::from(format!("{}{GZ}", plain.display()))
}

/// The segments of a shell's journal in the order they were written: one file each,
/// the plain one where a segment is also compressed (what a crash while compressing
/// leaves: the plain one is the original).
pub fn segments(shell_dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<((u64, bool), PathBuf)> = Vec::new();
    let Ok(entries) = fs::read_dir(shell_dir) else {
        return Vec::new();
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(key) = name.to_str().and_then(segment_number) else {
            continue;
        };
        found.push((key, entry.path()));
    }
    // Plain before compressed, then one per number.
    found.sort();
    found.dedup_by_key(|((n, _), _)| *n);
    found.into_iter().map(|(_, p)| p).collect()
}

/// A segment's bytes, decompressed when it is compressed. A plain segment compressed
/// since it was listed is read from its compressed file.
pub fn read_segment(seg: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    if !is_compressed(seg) {
        match fs::read(seg) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return read_segment(&compressed_path(seg))
            }
            other => return other,
        }
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(fs::File::open(seg)?).read_to_end(&mut out)?;
    Ok(out)
}

/// Read every segment of a shell's journal (`token`: its meta's); name a damaged
/// segment once on stderr (an unreadable one is left as it is, the others still read).
pub fn read_shell_journal(shell_dir: &Path, token: Option<&str>) -> Parsed {
    let mut all = Parsed::default();
    for seg in segments(shell_dir) {
        let bytes = match read_segment(&seg) {
            Ok(bytes) => bytes,
            Err(e) => {
                eprintln!(
                    "snap: cannot read {} ({e}): skipped (the file is left as it is)",
                    seg.display()
                );
                continue;
            }
        };
        let before = all.skipped;
        parse_into(&mut all, &bytes, format_of(&bytes, token));
        if all.skipped > before {
            eprintln!(
                "snap: {}: {} damaged record(s) skipped (the file is left as it is)",
                seg.display(),
                all.skipped - before
            );
        }
    }
    all
}

/// How the shell ended, by the last `X` record in the final bytes of this segment (of
/// a shell with this token): read without parsing the whole segment, in the format its
/// first bytes show.
pub fn last_exit(seg: &Path, token: Option<&str>) -> Option<Ended> {
    use std::io::{Read, Seek, SeekFrom};
    const TAIL: usize = 256;
    let (head, tail) = if is_compressed(seg) {
        let bytes = read_segment(seg).ok()?;
        let tail = bytes[bytes.len().saturating_sub(TAIL)..].to_vec();
        (bytes, tail)
    } else {
        let mut f = fs::File::open(seg).ok()?;
        let mut head = Vec::new();
        (&mut f).take(3).read_to_end(&mut head).ok()?;
        let len = f.metadata().ok()?.len();
        f.seek(SeekFrom::Start(len.saturating_sub(TAIL as u64)))
            .ok()?;
        let mut tail = Vec::new();
        f.read_to_end(&mut tail).ok()?;
        (head, tail)
    };
    let format = format_of(&head, token);
    let mut needle = vec![RS];
    if let Format::V2(t) = format {
        needle.extend_from_slice(t);
    }
    needle.extend_from_slice(b"X\t");
    let at = tail.windows(needle.len()).rposition(|w| w == needle)?;
    let mut parsed = Parsed::default();
    parse_into(&mut parsed, &tail[at..], format);
    parsed.records.iter().rev().find_map(|r| match r {
        Record::Exit { how, .. } => Some(*how),
        _ => None,
    })
}

/// A record being read: its fields, its body lines, and whether it was cut short.
type Pending<'a> = (Vec<&'a [u8]>, Vec<&'a [u8]>, bool);

/// Parse one segment's bytes in format 1. Never panics, whatever the input.
#[cfg(test)]
pub fn parse(bytes: &[u8]) -> Parsed {
    parse_segment(bytes, None)
}

/// Parse one segment's bytes, of a shell with this token (None: format 1). Never
/// panics, whatever the input.
#[cfg(test)]
pub fn parse_segment(bytes: &[u8], token: Option<&str>) -> Parsed {
    let mut out = Parsed::default();
    parse_into(&mut out, bytes, format_of(bytes, token));
    out
}

/// Parse a segment's bytes into `out`, after the segments before it.
fn parse_into(out: &mut Parsed, bytes: &[u8], format: Format) {
    let mut current: Option<Pending> = None;
    let mut garbage_run = false;
    let mut read = 0;
    for line in split_lines(bytes, format) {
        read += line.len();
        let cut = line.last() != Some(&b'\n');
        let at_end = read == bytes.len();
        if let Some((fields, first_line)) = record_fields(line, format) {
            if let Some(pending) = current.take() {
                finish(out, pending, format);
            }
            // A command's first line on the record's own line is a body line like the
            // rest (see the rule below).
            let damaged = cut && !(at_end && first_line.is_some());
            current = Some((fields, first_line.into_iter().collect(), damaged));
            garbage_run = false;
        } else if cut && partial_start(line, format) {
            // The first bytes of a record, cut before its fields: not a body line.
            if let Some(pending) = current.take() {
                finish(out, pending, format);
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
        finish(out, pending, format);
    }
}

/// What a reader carries from the bytes it consumed into the next ones: the environment
/// a delta record (`bash+`, `zsh+`) changes, and the start record a derived duration
/// needs (its time and whether it was precise) when it was the last record.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Carry {
    pub env: Option<BTreeMap<String, String>>,
    pub open_start: Option<(i64, bool)>,
    /// bash's history as the records so far showed it (form `m`).
    #[serde(default)]
    pub history: HistoryLines,
    /// The last start was a private line's: its end goes too.
    #[serde(default)]
    pub drop_end: bool,
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
    /// Damaged records among the tentative ones.
    pub tentative_skipped: usize,
}

/// Parse the bytes of a journal segment that follow what was consumed before, with the
/// carry left there, for a shell with this token (None: format 1). With `finished` (a
/// newer segment exists, so nobody writes here) every byte is final; else the last
/// record stays tentative unless it is an end or exit record ended by LF. What was
/// consumed always ends at a record start, so the bytes given begin with one and tell
/// the segment's format as its first bytes do.
pub fn parse_from(bytes: &[u8], carry: &Carry, finished: bool, token: Option<&str>) -> Chunk {
    let format = format_of(bytes, token);
    let mut last_start = None;
    let mut pos = 0;
    for line in split_lines(bytes, format) {
        if record_fields(line, format).is_some()
            || (line.last() != Some(&b'\n') && partial_start(line, format))
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
            let bodiless = matches!(
                after_prefix(line, format).and_then(|t| t.first()),
                Some(b'E' | b'X')
            );
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
        head.push(RS);
        if let Format::V2(token) = format {
            head.extend_from_slice(token);
        }
        head.extend_from_slice(b"X\t0\texit\n");
        let mut done = parse_carried(&head, carry, format);
        done.records.pop();
        done
    } else {
        parse_carried(bytes, carry, format)
    };
    let next = carry_after(carry, &done);
    let tentative = parse_carried(&bytes[consumed..], &next, format);
    Chunk {
        skipped: done.skipped,
        tentative_skipped: tentative.skipped,
        done: done.records,
        tentative: tentative.records,
        consumed,
        carry: next,
    }
}

/// Parse with a carry: the carried environment and open start are seeded in front of
/// the records, then taken out again.
fn parse_carried(bytes: &[u8], carry: &Carry, format: Format) -> Parsed {
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
            origin: Origin::Shell,
        });
    }
    let seeded = seed.len();
    let mut out = Parsed {
        records: seed,
        skipped: 0,
        last_start_precise: carry.open_start.is_some_and(|(_, p)| p),
        history: carry.history.clone(),
        drop_end: carry.drop_end,
    };
    parse_into(&mut out, bytes, format);
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
    Carry {
        env,
        open_start,
        history: parsed.history.clone(),
        drop_end: parsed.drop_end,
    }
}

/// Lines including their LF; a line is also ended before a record that starts in its
/// middle (after a cut-short write), and such a piece has no LF (nor has a last line
/// cut short).
fn split_lines<'a>(bytes: &'a [u8], format: Format<'a>) -> impl Iterator<Item = &'a [u8]> {
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
            .find(|&i| rest[i] == RS && starts_record(&rest[i..], format))
            .unwrap_or(lf);
        let (line, tail) = rest.split_at(end);
        rest = tail;
        Some(line)
    })
}

/// The bytes after a record start's RS and token, if these bytes begin with them.
fn after_prefix<'a>(bytes: &'a [u8], format: Format) -> Option<&'a [u8]> {
    let rest = bytes.strip_prefix(&[RS])?;
    match format {
        Format::V1 => Some(rest),
        Format::V2(token) => rest.strip_prefix(token),
    }
}

/// Do these bytes start with a record's start, type letter and first separator?
fn starts_record(bytes: &[u8], format: Format) -> bool {
    after_prefix(bytes, format)
        .is_some_and(|t| t.len() >= 2 && TYPES.contains(&t[0]) && t[1] == b'\t')
}

/// Could these bytes (a piece cut short) be the first bytes of a record of this format?
fn partial_start(line: &[u8], format: Format) -> bool {
    match (line.strip_prefix(&[RS]), format) {
        (None, _) => false,
        (Some(_), Format::V1) => true,
        (Some(rest), Format::V2(token)) => {
            let n = rest.len().min(token.len());
            rest[..n] == token[..n]
        }
    }
}

/// A record's line: its fields, and the first body line it may carry.
type RecordLine<'a> = (Vec<&'a [u8]>, Option<&'a [u8]>);

/// The TAB-separated fields of a record line (type letter first), or None for a body
/// line. A bash start record may carry its command's first line on its own line:
/// `history 1` printed right after the last field (form in format 1, origin in format
/// 2), where a function's name would otherwise be (a name has no spaces, a history
/// line has two after its number). That line, LF included, comes back as the record's
/// first body line.
fn record_fields<'a>(line: &'a [u8], format: Format) -> Option<RecordLine<'a>> {
    let text = after_prefix(line, format)?;
    if text.is_empty() || !TYPES.contains(&text[0]) {
        return None;
    }
    if text.len() > 1 && text[1] != b'\t' && text[1] != b'\n' {
        return None;
    }
    let header = text.strip_suffix(b"\n").unwrap_or(text);
    let fixed = match format {
        Format::V1 => 4,
        Format::V2(_) => 5,
    };
    let last_tab = header
        .iter()
        .enumerate()
        .filter(|&(_, &b)| b == b'\t')
        .nth(fixed - 1)
        .map(|(i, _)| i);
    if let (b'S', Some(i)) = (header[0], last_tab) {
        let fields: Vec<&[u8]> = header[..i].split(|&b| b == b'\t').collect();
        let history_form = matches!(fields[3].first(), Some(b'h' | b'm'));
        if history_form && strip_history_number(&header[i + 1..]).is_some() {
            return Some((fields, Some(&text[i + 1..])));
        }
    }
    Some((header.split(|&b| b == b'\t').collect(), None))
}

fn finish(out: &mut Parsed, (fields, body, cut): Pending, format: Format) {
    let kind = fields[0].first().copied();
    if kind == Some(b'H') {
        mark_history(out, &fields, &body, cut);
        return;
    }
    let dropped_end = std::mem::take(&mut out.drop_end);
    // A start or an environment always has a body line: without one it was cut short
    // (or is being written right now).
    let bodiless = body.is_empty() && matches!(kind, Some(b'S' | b'V'));
    if cut || bodiless {
        out.skipped += 1;
        return;
    }
    if dropped_end && kind == Some(b'E') {
        return;
    }
    match to_record(&fields, &body, &out.records, format) {
        Some(mut r) => {
            if let Record::Start {
                command, origin, ..
            } = &r
            {
                let form = fields.get(3).copied().unwrap_or(b"t");
                // A line restore entered itself ran, whatever history kept of it (it
                // folds a repeat of the line it just loaded as the last).
                let ran = out.history.counts(form, command) || *origin == Origin::Restore;
                if !ran {
                    out.drop_end = true;
                    return;
                }
            }
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

/// bash's history as the journal showed it: the reader's half of telling an execution
/// from a line history kept private (the hook's half is bash's `__snap_line_form`).
#[derive(Debug, Default, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HistoryLines {
    /// History's last line.
    last: Option<String>,
    /// `m` starts since the last `h` start or `H` mark (the hook's `__snap_bcs` index).
    position: usize,
    /// Which of those lines put history's last line there (0: the `h` start or mark).
    kept: usize,
}

impl HistoryLines {
    /// Is a start of this form (`h`, `m…`, `t`) and text an execution? An `h` start is
    /// (HISTCMD moved). An `m` start is when its text is not history's last line as
    /// last seen (history moved it: `erasedups`), or when it ran the same first simple
    /// command as the line that put that last line there (a repeat history folded);
    /// otherwise history kept it private. zsh's and fish's `t` starts always are.
    pub fn counts(&mut self, form: &[u8], text: &str) -> bool {
        match form.split_first() {
            Some((b'h', _)) => {
                *self = HistoryLines {
                    last: Some(text.to_string()),
                    position: 0,
                    kept: 0,
                };
                true
            }
            Some((b'm', same)) => {
                self.position += 1;
                if self.last.as_deref() != Some(text) {
                    self.last = Some(text.to_string());
                    self.kept = self.position;
                    return true;
                }
                same.split(|&b| b == b',')
                    .any(|n| parse_int(n) == i64::try_from(self.kept).ok())
            }
            _ => true,
        }
    }

    /// An `H` mark: history's last line is `line` (None: history is empty).
    pub fn mark(&mut self, line: Option<String>) {
        *self = HistoryLines {
            last: line,
            position: 0,
            kept: 0,
        };
    }
}

/// An `H` record: history's last line, now.
fn mark_history(out: &mut Parsed, fields: &[&[u8]], body: &[&[u8]], cut: bool) {
    if cut || fields.get(1).and_then(|t| parse_time(t)).is_none() {
        out.skipped += 1;
        return;
    }
    let mut text: Vec<u8> = body.concat();
    if text.last() == Some(&b'\n') {
        text.pop();
    }
    let line = if text.is_empty() {
        None
    } else {
        match strip_history_number(&text) {
            Some(line) => Some(String::from_utf8_lossy(line).into_owned()),
            None => {
                out.skipped += 1;
                return;
            }
        }
    };
    out.history.mark(line);
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
fn to_record(
    fields: &[&[u8]],
    body: &[&[u8]],
    before: &[Record],
    format: Format,
) -> Option<Record> {
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
            if matches!(form.first(), Some(b'h' | b'm')) {
                text = strip_history_number(&text)?.to_vec();
            }
            let origin = match format {
                Format::V1 => Origin::Shell,
                Format::V2(_) => match *fields.get(4)? {
                    b"shell" => Origin::Shell,
                    b"restore" => Origin::Restore,
                    _ => return None,
                },
            };
            Some(Record::Start {
                time_us,
                cwd,
                command: String::from_utf8_lossy(&text).into_owned(),
                origin,
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
                b"exit" => Ended::Exit,
                b"hangup" => Ended::Hangup,
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
                command: "echo \"a b\" | wc -c".into(),
                origin: Origin::Shell,
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
                how: Ended::Hangup,
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

    const TOKEN: &str = "0123456789abcdef0123456789abcdef";

    /// Format 2 bytes: `^` is RS + the token, `~` a bare RS (typed text).
    fn rec2(s: &str) -> Vec<u8> {
        s.replace('^', &format!("\x1e{TOKEN}"))
            .replace('~', "\x1e")
            .into_bytes()
    }

    fn starts(p: &Parsed) -> Vec<(&str, Origin)> {
        p.records
            .iter()
            .filter_map(|r| match r {
                Record::Start {
                    command, origin, ..
                } => Some((command.as_str(), *origin)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn format_2_reads_records_that_carry_the_shells_token() {
        let j = rec2(concat!(
            "^S\t1.5\t/\th\tshell\t   12  printf 'a\tb'\n^E\t2.5\t0\t-\t/\n",
            "^S\t3.5\t/\th\trestore\tnvm\n   13  nvm use 20\n^E\t4.5\t0\t-\t/\n",
            "^S\t5.5\t/p\tt\tshell\nfor i in 1\ndo :\ndone\n^E\t6.5\t3\t12\t/p\n",
            "^V\t7\tbash\ndeclare -x A=\"1\"\n^X\t8\texit\n",
        ));
        let p = parse_segment(&j, Some(TOKEN));
        assert_eq!(p.skipped, 0, "{:?}", p.records);
        assert_eq!(
            starts(&p),
            [
                ("printf 'a\tb'", Origin::Shell),
                ("nvm use 20", Origin::Restore),
                ("for i in 1\ndo :\ndone", Origin::Shell),
            ]
        );
        assert_eq!(p.records.len(), 8);
        assert!(matches!(
            p.records[1],
            Record::End {
                duration_ms: Some(1000),
                ..
            }
        ));
        assert!(matches!(
            p.records[7],
            Record::Exit {
                how: Ended::Exit,
                ..
            }
        ));
    }

    #[test]
    fn forged_records_in_typed_text_stay_text() {
        let wrong = "fedcba9876543210fedcba9876543210";
        let j = rec2(&format!(
            concat!(
                "^S\t1\t/\th\tshell\t   1  echo hello # ~X\t1000000000\texit\n^E\t2\t0\t-\t/\n",
                "^S\t3\t/\tt\tshell\necho '\n~V\t4\tbash+\ndeclare -x PATH=\"/tmp/evil:/bin\"\n",
                "~{wrong}X\t5\texit\n~{wrong}V\t5\tzsh+\nexport GIT_SSH_COMMAND='x'\n'\n^E\t6\t0\t-\t/\n",
                "^S\t7\t/\tt\tshell\necho ~",
                "^Sx\n",
            ),
            wrong = wrong
        ));
        let p = parse_segment(&j, Some(TOKEN));
        let texts: Vec<&str> = starts(&p).into_iter().map(|(c, _)| c).collect();
        assert_eq!(
            texts,
            [
                "echo hello # \x1eX\t1000000000\texit".to_string(),
                format!(
                    "echo '\n\x1eV\t4\tbash+\ndeclare -x PATH=\"/tmp/evil:/bin\"\n\x1e{wrong}X\t5\texit\n\x1e{wrong}V\t5\tzsh+\nexport GIT_SSH_COMMAND='x'\n'"
                ),
                "echo \x1e^Sx".replace('^', &format!("\x1e{TOKEN}")),
            ]
        );
        assert!(p
            .records
            .iter()
            .all(|r| !matches!(r, Record::Env { .. } | Record::Exit { .. })));
        // The same forgeries in format 1 are what the token is for.
        let old = parse(&rec(
            "^S\t1\t/\th\n   1  echo hello # ^X\t1000000000\texit\n",
        ));
        assert!(old.records.iter().any(|r| matches!(r, Record::Exit { .. })));
    }

    #[test]
    fn a_shell_with_a_token_reads_format_1_and_format_2_segments() {
        let dir = tempfile::tempdir().unwrap();
        // Started under the old hook (format 1), then a newer hook was sourced: it
        // started a new segment in format 2.
        std::fs::write(
            dir.path().join("journal"),
            rec("^V\t1\tbash\ndeclare -x A=\"1\"\n^S\t2\t/\th\n    1  echo old\n^E\t3\t0\t-\t/\n"),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("journal.1"),
            rec2("^V\t4\tbash+\ndeclare -x B=\"2\"\n^S\t5\t/\th\tshell\t    2  echo new ~X\t6\texit\n^E\t7\t0\t-\t/\n"),
        )
        .unwrap();
        let p = read_shell_journal(dir.path(), Some(TOKEN));
        assert_eq!(p.skipped, 0);
        let texts: Vec<&str> = starts(&p).into_iter().map(|(c, _)| c).collect();
        assert_eq!(texts, ["echo old", "echo new \x1eX\t6\texit"]);
        let Some(Record::Env { vars, .. }) = p.records.get(3) else {
            panic!("{:?}", p.records)
        };
        assert_eq!(vars.len(), 2, "{vars:?}");
        // Without a token (a meta from before the upgrade) only format 1 is read.
        let old = read_shell_journal(dir.path(), None);
        assert_eq!(starts(&old).len(), 1);
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut z = flate2::write::GzEncoder::new(Vec::new(), Default::default());
        z.write_all(bytes).unwrap();
        z.finish().unwrap()
    }

    fn echo(i: usize) -> Vec<u8> {
        rec(&format!("^S\t{i}\t/\tt\necho {i}\n^E\t{i}.5\t0\t-\t/\n"))
    }

    #[test]
    fn compressed_segments_read_in_order_and_a_crash_leftover_once() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("journal.gz"), gzip(&echo(0))).unwrap();
        // A crash while compressing left both: the plain one is read, once.
        std::fs::write(d.join("journal.1"), echo(1)).unwrap();
        std::fs::write(d.join("journal.1.gz"), gzip(&echo(1))).unwrap();
        std::fs::write(d.join("journal.2.gz"), gzip(&echo(2))).unwrap();
        std::fs::write(d.join("journal.10"), echo(10)).unwrap();
        std::fs::write(d.join("journal.x.gz"), b"not a segment").unwrap();
        let names: Vec<String> = segments(d)
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            ["journal.gz", "journal.1", "journal.2.gz", "journal.10"]
        );
        let p = read_shell_journal(d, None);
        let texts: Vec<&str> = starts(&p).into_iter().map(|(c, _)| c).collect();
        assert_eq!(texts, ["echo 0", "echo 1", "echo 2", "echo 10"]);
        // Listed plain, compressed before it was read: read from the compressed file.
        std::fs::remove_file(d.join("journal.1")).unwrap();
        assert_eq!(read_segment(&d.join("journal.1")).unwrap(), echo(1));
    }

    #[test]
    fn a_corrupt_compressed_segment_is_left_as_it_is_and_the_others_read() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let mut bad = gzip(&echo(0));
        let n = bad.len();
        bad[n / 2] ^= 0xff;
        std::fs::write(d.join("journal.gz"), &bad).unwrap();
        std::fs::write(d.join("journal.1.gz"), &gzip(&echo(1))[..10]).unwrap();
        std::fs::write(d.join("journal.2"), echo(2)).unwrap();
        let p = read_shell_journal(d, None);
        let texts: Vec<&str> = starts(&p).into_iter().map(|(c, _)| c).collect();
        assert_eq!(texts, ["echo 2"]);
        assert_eq!(std::fs::read(d.join("journal.gz")).unwrap(), bad);
        assert!(d.join("journal.1.gz").exists());
    }

    #[test]
    fn a_format_2_record_cut_at_the_end() {
        let whole = "^S\t1\t/\tt\tshell\nls\n^E\t2\t0\t-\t/\n";
        let p = parse_segment(
            &rec2(&format!("{whole}^S\t3\t/\tt\tshell\nvim no")),
            Some(TOKEN),
        );
        assert_eq!(starts(&p).last().unwrap().0, "vim no");
        for cut in [
            "\x1e",
            "\x1e0123",
            "^",
            "^E\t4\t0",
            "^V\t4\tbash\ndeclare -x A",
        ] {
            let p = parse_segment(&rec2(&format!("{whole}{cut}")), Some(TOKEN));
            assert_eq!(p.records.len(), 2, "{cut:?}: {:?}", p.records);
            assert_eq!(p.skipped, 1, "{cut:?}");
        }
        // Cut, then carried on: the next record is still read.
        let p = parse_segment(&rec2(&format!("{whole}^E\t4^X\t5\thangup\n")), Some(TOKEN));
        assert!(matches!(p.records.last(), Some(Record::Exit { .. })));
    }

    fn moved(form: &str, text: &str) -> String {
        format!("^S\t1\t/\t{form}\tshell\t    9  {text}\n^E\t2\t0\t-\t/\n")
    }

    #[test]
    fn every_execution_counts_once_and_a_private_line_not_at_all() {
        // bash, HISTIGNORE='*private*', with erasedups or with ignoredups: the forms the
        // hook writes (m: HISTCMD did not move; the numbers: which lines since the last
        // h start ran the same first simple command).
        let erasedups = [
            moved("h", "echo a"),
            moved("h", "echo b"),
            moved("m", "echo a"),  // 1: moved
            moved("m", "echo a"),  // 2: ` echo private-1` (history 1 is still `echo a`)
            moved("m1", "echo a"), // 3: `echo a` again (folded)
            moved("m", "echo a"),  // 4: ` echo private-2`
            moved("m4", "echo a"), // 5: ` echo private-2` again
            moved("m0", "echo b"), // 6: `echo b` (moved)
            moved("h", "echo c"),
            moved("m", "echo b"), // 1: moved
        ];
        let ignoredups = [
            moved("h", "echo a"),
            moved("h", "echo b"),
            moved("h", "echo a"),
            moved("m", "echo a"),  // 1: private
            moved("m0", "echo a"), // 2: `echo a` again (folded into 0)
            moved("m", "echo a"),  // 3: private
            moved("m3", "echo a"), // 4: private again
            moved("h", "echo b"),
            moved("h", "echo c"),
            moved("h", "echo b"),
        ];
        for lines in [erasedups, ignoredups] {
            let p = parse_segment(&rec2(&lines.concat()), Some(TOKEN));
            assert_eq!(p.skipped, 0);
            let texts: Vec<&str> = starts(&p).into_iter().map(|(c, _)| c).collect();
            assert_eq!(
                texts,
                ["echo a", "echo b", "echo a", "echo a", "echo b", "echo c", "echo b"]
            );
            let ends = p
                .records
                .iter()
                .filter(|r| matches!(r, Record::End { .. }))
                .count();
            assert_eq!(ends, 7, "a private line's end goes with it");
        }
        // The first line of a shell is measured against the H mark.
        let j = rec2(&format!(
            "^H\t1\n    7  ls\n{}{}^H\t3\n{}",
            moved("m", "ls"),
            moved("m", "make"),
            moved("m", "make"),
        ));
        let p = parse_segment(&j, Some(TOKEN));
        let texts: Vec<&str> = starts(&p).into_iter().map(|(c, _)| c).collect();
        assert_eq!(texts, ["make", "make"]);
    }

    #[test]
    fn a_line_restore_ran_counts_though_history_folded_it_into_the_last() {
        // Restore loaded `(cd sub && srv &)` as history's last line, then ran it: with
        // ignoredups history did not move, and the first simple command (`cd sub`) is
        // not the line's.
        let line = "(cd sub && srv &)";
        let j = rec2(&format!(
            "^H\t1\n    7  {line}\n^S\t2\t/\tm\trestore\t    7  {line}\n^E\t3\t0\t-\t/\n"
        ));
        let p = parse_segment(&j, Some(TOKEN));
        let texts: Vec<&str> = starts(&p).into_iter().map(|(c, _)| c).collect();
        assert_eq!(texts, [line]);
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
            let chunk = parse_from(&bytes[offset..cut], &carry, false, None);
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
        let chunk = parse_from(&j, &Carry::default(), false, None);
        assert_eq!(chunk.tentative.len(), 1);
        assert!(
            matches!(&chunk.tentative[0], Record::Start { command, .. } if command == "sleep 9")
        );
        assert_eq!(
            &j[chunk.consumed..],
            rec("^S\t7.5\t/\tt\nsleep 9\n").as_slice()
        );
        let finished = parse_from(&j, &Carry::default(), true, None);
        assert_eq!(finished.consumed, j.len());
        assert!(finished.tentative.is_empty());
        // An end record ended by LF is final.
        let mut ended = j.clone();
        ended.extend(rec("^E\t8.5\t1\t-\t/\n"));
        assert_eq!(
            parse_from(&ended, &Carry::default(), false, None).consumed,
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
        fn parse_never_panics_on_record_like_input(s in "[\\x1eSEVXH\\t0-9a-z\\n\\\\ *]{0,400}") {
            let _ = parse(s.as_bytes());
            let _ = parse_segment(s.as_bytes(), Some(TOKEN));
        }

        /// Format 2 cut anywhere, then written on (a full disk, then room again): the
        /// records before and after the cut one are all read.
        #[test]
        fn format_2_records_after_a_cut_short_one_are_kept(
            before in 0usize..5,
            after in 1usize..5,
            keep in 1usize..60,
        ) {
            let rec = |i: usize| rec2(&format!("^S\t{i}.5\t/\tt\tshell\necho {i}\n^E\t{i}.7\t0\t-\t/\n"));
            let mut j: Vec<u8> = (0..before).flat_map(rec).collect();
            let damaged = rec2("^V\t9\tbash\ndeclare -x A=\"1\"\n");
            j.extend(&damaged[..keep.min(damaged.len() - 1)]);
            j.extend((before..before + after).flat_map(rec));
            let p = parse_segment(&j, Some(TOKEN));
            proptest::prop_assert_eq!(p.records.len(), 2 * (before + after));
            proptest::prop_assert_eq!(p.skipped, 1);
        }

        /// Whatever bytes a command holds, format 2 reads it back as typed and finds no
        /// record in it.
        #[test]
        fn typed_bytes_never_make_a_record(
            bodies in proptest::collection::vec(proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200), 1..6),
            bash in proptest::prelude::any::<bool>(),
        ) {
            let mut j = Vec::new();
            for (i, body) in bodies.iter().enumerate() {
                if bash {
                    j.extend(rec2(&format!("^S\t{i}\t/\th\tshell\t{:5}  ", i + 1)));
                } else {
                    j.extend(rec2(&format!("^S\t{i}\t/\tt\tshell\n")));
                }
                j.extend(body);
                j.extend(rec2(&format!("\n^E\t{i}.5\t0\t-\t/\n")));
            }
            let p = parse_segment(&j, Some(TOKEN));
            proptest::prop_assert_eq!(p.skipped, 0);
            proptest::prop_assert_eq!(p.records.len(), 2 * bodies.len());
            for (i, body) in bodies.iter().enumerate() {
                let Record::Start { command, .. } = &p.records[2 * i] else {
                    return Err(proptest::test_runner::TestCaseError::fail(format!("{:?}", p.records)));
                };
                proptest::prop_assert_eq!(command, &String::from_utf8_lossy(body));
                let is_end = matches!(p.records[2 * i + 1], Record::End { .. });
                proptest::prop_assert!(is_end);
            }
        }
    }
}
