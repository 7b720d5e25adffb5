//! Fuzzing (issue 7, item 7) with proptest: the journal reader, the snapshot loader and
//! the config parser, fed structured inputs (valid files, then cut, flipped and spliced)
//! as well as raw bytes. None may panic; what they accept must be what was written.
//! Cases per property: proptest's 256 in CI; `benches/faults.sh` sets `PROPTEST_CASES`.

use crate::config::Config;
use crate::model::snapshot::{SessionSnap, ShellSnap, Snapshot, SNAPSHOT_SCHEMA};
use crate::store::journal::{self, Record};
use crate::store::snapshots;
use proptest::prelude::*;
use std::path::Path;

// ---- Journal --------------------------------------------------------------------------

/// Text for a journal field or body: anything but the record separator at a line start.
fn text() -> impl Strategy<Value = String> {
    "[a-z0-9 /._'\"|&;$()\\\\\t\u{e9}\u{1F680}-]{0,40}"
}

/// A record the hooks could write, and its bytes.
fn record() -> impl Strategy<Value = (Record, Vec<u8>)> {
    let time = 1_000_000_000_000_000i64..2_000_000_000_000_000;
    prop_oneof![
        (time.clone(), text(), text()).prop_map(|(t, cwd, cmd)| {
            let cmd = cmd.trim_end_matches('\n').to_string();
            let bytes = format!("\x1eS\t{t}\t{}\tt\n{cmd}\n", escape(&cwd));
            (
                Record::Start {
                    time_us: t,
                    cwd,
                    command: cmd,
                    origin: journal::Origin::Shell,
                },
                bytes.into_bytes(),
            )
        }),
        (time.clone(), -1i32..256, 0i64..100_000, text()).prop_map(|(t, s, d, cwd)| {
            let bytes = format!("\x1eE\t{t}\t{s}\t{d}\t{}\n", escape(&cwd));
            (
                Record::End {
                    time_us: t,
                    status: s,
                    duration_ms: Some(d),
                    cwd,
                },
                bytes.into_bytes(),
            )
        }),
        (time, any::<bool>()).prop_map(|(t, exit)| {
            let how = if exit { "exit" } else { "hangup" };
            let rec = Record::Exit {
                time_us: t,
                how: if exit {
                    crate::model::Ended::Exit
                } else {
                    crate::model::Ended::Hangup
                },
            };
            (rec, format!("\x1eX\t{t}\t{how}\n").into_bytes())
        }),
    ]
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('\t', "\\t")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
}

proptest! {
    /// Whole records read back exactly as written.
    #[test]
    fn journal_records_read_back_as_written(recs in prop::collection::vec(record(), 0..30)) {
        let bytes: Vec<u8> = recs.iter().flat_map(|(_, b)| b.clone()).collect();
        let parsed = journal::parse(&bytes);
        prop_assert_eq!(parsed.skipped, 0);
        let want: Vec<Record> = recs.into_iter().map(|(r, _)| r).collect();
        prop_assert_eq!(parsed.records, want);
    }

    /// A journal cut anywhere (a crash, a full disk) gives a prefix of what was written:
    /// nothing invented, nothing changed, except that a command whose text was being
    /// written comes back with the text as far as it goes.
    #[test]
    fn a_cut_journal_gives_a_prefix_of_its_records(
        recs in prop::collection::vec(record(), 1..20),
        cut in any::<prop::sample::Index>(),
    ) {
        let bytes: Vec<u8> = recs.iter().flat_map(|(_, b)| b.clone()).collect();
        let at = cut.index(bytes.len() + 1);
        let mut parsed = journal::parse(&bytes[..at]).records;
        let want: Vec<Record> = recs.into_iter().map(|(r, _)| r).collect();
        prop_assert!(parsed.len() <= want.len());
        let n = parsed.len();
        if let (Some(Record::Start { command, .. }), Some(Record::Start { command: full, .. })) =
            (parsed.last_mut(), want.get(n.wrapping_sub(1)))
        {
            // (A character cut in two reads as U+FFFD.)
            let kept = command.trim_end_matches('\u{fffd}');
            prop_assert!(full.starts_with(kept), "{:?} {:?}", command, full);
            *command = full.clone();
        }
        prop_assert_eq!(&parsed[..], &want[..n]);
    }

    /// Records written after a cut-short one (the disk filled, then had room again) are
    /// all read; only the cut one is lost.
    #[test]
    fn records_after_a_cut_short_one_are_kept(
        before in prop::collection::vec(record(), 0..8),
        damaged in record(),
        keep in 1usize..1000,
        after in prop::collection::vec(record(), 1..8),
    ) {
        let mut bytes: Vec<u8> = before.iter().flat_map(|(_, b)| b.clone()).collect();
        let d = &damaged.1;
        bytes.extend(&d[..keep.min(d.len() - 1).max(3)]);
        bytes.extend(after.iter().flat_map(|(_, b)| b.clone()));
        let parsed = journal::parse(&bytes);
        let want: Vec<Record> = before.into_iter().chain(after).map(|(r, _)| r).collect();
        prop_assert_eq!(parsed.records, want);
        prop_assert_eq!(parsed.skipped, 1);
    }

    /// Garbage spliced anywhere into a valid journal: no panic, and the state built from
    /// it neither.
    #[test]
    fn journal_with_garbage_spliced_in_never_panics(
        recs in prop::collection::vec(record(), 0..20),
        junk in prop::collection::vec(any::<u8>(), 0..200),
        at in any::<prop::sample::Index>(),
    ) {
        let mut bytes: Vec<u8> = recs.iter().flat_map(|(_, b)| b.clone()).collect();
        let i = at.index(bytes.len() + 1);
        bytes.splice(i..i, junk);
        let parsed = journal::parse(&bytes);
        prop_assert!(parsed.records.len() <= recs.len() + 1);
    }
}

// ---- Snapshots --------------------------------------------------------------------------

fn valid_snapshot() -> Vec<u8> {
    let shell: ShellSnap = serde_json::from_value(serde_json::json!({
        "id": "1764000000000000-1-ab", "kind": "bash", "pid": 42, "alive": true,
        "ended": null, "started_at": "2026-11-25T01:02:03Z", "tty": "/dev/pts/1",
        "replaces": null, "cwd": "/home/u/p", "env": {"PORT": "3001"},
        "running": "npm run dev", "history": [], "tmux": null, "screen": "$ ls\n",
        "processes": [{"pid": 43, "ppid": 42, "cmd": ["npm", "run", "dev"], "cwd": "/home/u/p",
            "env": {}, "started_at": "2026-11-25T01:02:04Z", "job_leader": true,
            "policy": "auto", "resume": null}]
    }))
    .unwrap();
    let snap = Snapshot {
        schema: SNAPSHOT_SCHEMA,
        id: snapshots::new_id(1_764_000_000_000_000),
        taken_at: "2026-11-25T01:02:05Z".into(),
        host: "h".into(),
        label: Some("l".into()),
        redacted: vec![],
        sessions: vec![SessionSnap {
            name: "p".into(),
            agent: serde_json::Value::Null,
            shells: vec![shell],
        }],
    };
    serde_json::to_vec_pretty(&snap).unwrap()
}

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "\\PC{0,20}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("schema".to_string()),
                    Just("id".to_string()),
                    Just("sessions".to_string()),
                    Just("shells".to_string()),
                    Just("taken_at".to_string()),
                    "[a-z_]{1,10}"
                ],
                inner,
                0..8
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    /// A snapshot cut short never loads (and never panics).
    #[test]
    fn a_cut_snapshot_never_loads(cut in any::<prop::sample::Index>()) {
        let bytes = valid_snapshot();
        let at = cut.index(bytes.len());
        prop_assert!(snapshots::parse(&bytes[..at]).is_err());
    }

    /// Bytes flipped or spliced into a valid snapshot: no panic; what still loads is valid.
    #[test]
    fn a_damaged_snapshot_never_panics(
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        junk in prop::collection::vec(any::<u8>(), 0..64),
        at in any::<prop::sample::Index>(),
    ) {
        let mut bytes = valid_snapshot();
        for (i, b) in flips {
            let i = i.index(bytes.len());
            bytes[i] = b;
        }
        let i = at.index(bytes.len() + 1);
        bytes.splice(i..i, junk);
        if let Ok(s) = snapshots::parse(&bytes) {
            prop_assert_eq!(s.schema, SNAPSHOT_SCHEMA);
            prop_assert!(crate::store::paths::is_safe_component(&s.id));
        }
    }

    /// Any JSON, with the current schema or not: no panic.
    #[test]
    fn any_json_never_panics_the_loader(mut v in json_value(), schema in prop::option::of(0u64..3)) {
        if let (Some(s), Some(o)) = (schema, v.as_object_mut()) {
            o.insert("schema".into(), s.into());
        }
        let _ = snapshots::parse(&serde_json::to_vec(&v).unwrap());
    }
}

// ---- Config -----------------------------------------------------------------------------

/// A TOML value of any type.
fn toml_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "\"[^\"\\\\\n]{0,20}\"",
        "-?[0-9]{1,25}",
        Just("true".to_string()),
        Just("[]".to_string()),
        "\\[\"[a-z*_ |.]{0,10}\"\\]",
        "\"[0-9]{1,22}[smhdw ]\"",
        "\"[*0-9/, -]{0,20}\"",
        "\\{ [a-z]{1,5} = \"[a-z -]{0,10}\" \\}",
        "[a-z\\[\\]{}=\"]{0,10}",
    ]
}

/// A config file: known keys, in their sections or not, with values of any type.
fn config_text() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("schedule"),
        Just("notice"),
        Just("environment"),
        Just("history_filter"),
        Just("cwd_filter"),
        Just("keep"),
        Just("max_age"),
        Just("defaults"),
        Just("names"),
        Just("values"),
        Just("auto"),
        Just("hold"),
        Just("never"),
        Just("agents"),
        Just("unknown"),
    ];
    let section = prop_oneof![
        Just(""),
        Just("[retention]\n"),
        Just("[secrets]\n"),
        Just("[relaunch]\n"),
        Just("[relaunch.agents]\n"),
        Just("[[x]]\n"),
    ];
    prop::collection::vec((section, key, toml_value()), 0..10).prop_map(|lines| {
        lines
            .into_iter()
            .map(|(s, k, v)| format!("{s}{k} = {v}\n"))
            .collect()
    })
}

proptest! {
    /// Any config: no panic; a refusal names the file and a line.
    #[test]
    fn any_config_is_read_or_refused_with_its_line(text in config_text()) {
        if let Err(e) = Config::parse(&text, Path::new("/c/config.toml")) {
            let msg = format!("{e:#}");
            prop_assert!(msg.starts_with("/c/config.toml:"), "{}", msg);
        }
    }

    /// Raw text: no panic.
    #[test]
    fn any_text_never_panics_the_config_parser(text in "\\PC{0,300}") {
        let _ = Config::parse(&text, Path::new("c.toml"));
    }
}
