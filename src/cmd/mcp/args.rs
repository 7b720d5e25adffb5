//! The tools' arguments: one type per tool, its JSON schema (for `tools/list`) and its
//! parsing, with an error that names the argument and says what it takes.

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// The tools snap serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Brief,
    Checkpoint,
    TaskSet,
    TaskNext,
    TaskDone,
    History,
    Sessions,
}

impl Tool {
    /// Every tool, in the order `tools/list` gives them.
    pub const ALL: [Tool; 7] = [
        Tool::Brief,
        Tool::Checkpoint,
        Tool::TaskSet,
        Tool::TaskNext,
        Tool::TaskDone,
        Tool::History,
        Tool::Sessions,
    ];

    /// The tool's name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Tool::Brief => "brief",
            Tool::Checkpoint => "checkpoint",
            Tool::TaskSet => "task_set",
            Tool::TaskNext => "task_next",
            Tool::TaskDone => "task_done",
            Tool::History => "history",
            Tool::Sessions => "sessions",
        }
    }

    /// The tool called `name`, if snap has one.
    pub fn named(name: &str) -> Option<Tool> {
        Tool::ALL.into_iter().find(|t| t.name() == name)
    }

    /// What the tool does, for the agent choosing it.
    pub fn description(self) -> &'static str {
        match self {
            Tool::Brief => {
                "Where the session left off: task, next steps, files in progress, last \
                 commands, the last failure and how to resume. Redacted."
            }
            Tool::Checkpoint => {
                "Record a checkpoint after a discrete step: updates .agent-session.json \
                 (time, files in progress) with your message and snapshots the session."
            }
            Tool::TaskSet => "Set the current task in .agent-session.json.",
            Tool::TaskNext => "Append next steps to .agent-session.json.",
            Tool::TaskDone => {
                "Remove a next step, by its number (from 1, as the brief lists them) or \
                 its exact text."
            }
            Tool::History => {
                "Recorded commands of the project's session (shells' and agents'), oldest \
                 first, as JSON; n keeps the newest N. Redacted."
            }
            Tool::Sessions => {
                "Sessions and their shells (live ones and those ended in the last 7 days, \
                 or all), as JSON. Redacted."
            }
        }
    }

    /// Does the tool only read (brief, history, sessions)? The others write
    /// `.agent-session.json` (and a checkpoint a snapshot), never destroying anything.
    pub fn read_only(self) -> bool {
        matches!(self, Tool::Brief | Tool::History | Tool::Sessions)
    }

    /// The JSON schema of the tool's arguments, `dir` included.
    pub fn input_schema(self) -> Map<String, Value> {
        let mut schema = match self {
            Tool::Brief => schema_of::<BriefArgs>(),
            Tool::Checkpoint => schema_of::<CheckpointArgs>(),
            Tool::TaskSet => schema_of::<TaskSetArgs>(),
            Tool::TaskNext => schema_of::<TaskNextArgs>(),
            Tool::TaskDone => schema_of::<TaskDoneArgs>(),
            Tool::History => schema_of::<HistoryArgs>(),
            Tool::Sessions => schema_of::<SessionsArgs>(),
        };
        let props = schema
            .entry("properties")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(props) = props {
            props.insert(
                DIR.into(),
                serde_json::json!({
                    "type": "string",
                    "description": "Absolute path of the project to act on \
                                    (default: the directory snap mcp started in)"
                }),
            );
        }
        schema
    }
}

/// The argument every tool takes.
const DIR: &str = "dir";

/// How `brief` renders.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    // For a person (plain comments: doc comments would make the schema a `oneOf`).
    #[default]
    Text,
    // For an agent's first message.
    Markdown,
    // For a program or an agent.
    Json,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BriefArgs {
    /// text (default), markdown or json
    #[serde(default)]
    pub format: Format,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckpointArgs {
    /// What was just done
    pub message: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskSetArgs {
    /// The task
    pub task: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskNextArgs {
    /// Steps to append, in order
    #[schemars(length(min = 1))]
    pub steps: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskDoneArgs {
    /// The step's number (from 1) or its exact text
    #[schemars(schema_with = "step_schema")]
    pub step: Value,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HistoryArgs {
    /// Only the newest N matching commands
    #[schemars(range(min = 1))]
    pub n: Option<u64>,
    /// Only failed commands (exit neither 0 nor null, stopped jobs aside)
    #[serde(default)]
    pub failed: bool,
    /// Only commands holding every word of this text (case-insensitive)
    pub search: Option<String>,
    /// Only commands run in this directory or below (a relative one is taken from dir)
    pub cwd: Option<String>,
    /// This session instead of the project's
    pub session: Option<String>,
    /// Every session
    #[serde(default)]
    pub all: bool,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionsArgs {
    /// Every shell ever recorded, not only live ones and those ended in the last 7 days
    #[serde(default)]
    pub all: bool,
}

/// A next step, as `task_done` is given it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Its number, from 1.
    Number(u64),
    /// Its exact text.
    Text(String),
}

impl TaskDoneArgs {
    /// The step, checked.
    pub fn step(&self) -> Result<Step, String> {
        match &self.step {
            Value::Number(n) => match n.as_u64() {
                Some(i) if i >= 1 => Ok(Step::Number(i)),
                _ => Err(format!(
                    "step: {n} is not a step number: steps are numbered from 1"
                )),
            },
            Value::String(s) if !s.is_empty() => Ok(Step::Text(s.clone())),
            other => Err(format!(
                "step: expected a step's number (from 1) or its text, got {}",
                kind_of(other)
            )),
        }
    }
}

/// Parse a tool's arguments: `dir` taken out and resolved against `start` (it must be
/// absolute and name a directory), the rest into `T`. The error names the argument.
pub fn parse<T: DeserializeOwned>(
    args: Option<Map<String, Value>>,
    start: &Path,
) -> Result<(PathBuf, T), String> {
    let mut args = args.unwrap_or_default();
    let dir = match args.remove(DIR) {
        None | Some(Value::Null) => start.to_path_buf(),
        Some(Value::String(d)) => project_dir(&d)?,
        Some(other) => {
            return Err(format!(
                "dir: expected an absolute path (a string), got {}",
                kind_of(&other)
            ))
        }
    };
    let parsed = serde_path_to_error::deserialize(Value::Object(args)).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            inner.to_string()
        } else {
            format!("{path}: {inner}")
        }
    })?;
    Ok((dir, parsed))
}

/// A `dir` argument: absolute, and a directory that exists.
fn project_dir(d: &str) -> Result<PathBuf, String> {
    let p = Path::new(d);
    if !p.is_absolute() {
        return Err(format!(
            "dir: {d:?} is relative: give an absolute path (or leave dir out for {})",
            "the directory snap mcp started in"
        ));
    }
    if !p.is_dir() {
        return Err(format!("dir: {d:?} is not a directory"));
    }
    Ok(crate::store::agent_state::normalize(p))
}

/// A JSON value's kind, for an error message.
fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `task_done`'s step: a number from 1, or a text.
fn step_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "description": "The step's number (from 1) or its exact text",
        "anyOf": [
            { "type": "integer", "minimum": 1 },
            { "type": "string", "minLength": 1 }
        ]
    })
}

/// The schema of `T` as one object, subschemas inlined (no `$ref` for clients to chase).
fn schema_of<T: JsonSchema>() -> Map<String, Value> {
    let schema = schemars::generate::SchemaSettings::draft2020_12()
        .with(|s| {
            s.inline_subschemas = true;
            s.meta_schema = None;
        })
        .into_generator()
        .into_root_schema_for::<T>();
    let mut map = match Value::from(schema) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    map.remove("title");
    map
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(v: Value) -> Option<Map<String, Value>> {
        v.as_object().cloned()
    }

    #[test]
    fn every_schema_is_an_object_with_dir_and_no_refs() {
        for t in Tool::ALL {
            let s = Value::Object(t.input_schema());
            assert_eq!(s["type"], "object", "{}", t.name());
            assert_eq!(s["properties"]["dir"]["type"], "string", "{}", t.name());
            assert!(!s.to_string().contains("$ref"), "{}: {s}", t.name());
            assert_eq!(Tool::named(t.name()), Some(t));
        }
        let b = Value::Object(Tool::Brief.input_schema());
        assert_eq!(
            b["properties"]["format"]["enum"],
            json!(["text", "markdown", "json"])
        );
        let h = Value::Object(Tool::History.input_schema());
        assert_eq!(h["properties"]["n"]["minimum"], 1);
        let c = Value::Object(Tool::Checkpoint.input_schema());
        assert_eq!(c["required"], json!(["message"]));
    }

    #[test]
    fn dir_must_be_an_absolute_directory() {
        let start = Path::new("/start");
        let (d, _) = parse::<SessionsArgs>(None, start).unwrap();
        assert_eq!(d, start);
        let (d, _) = parse::<SessionsArgs>(args(json!({"dir": "/tmp/./"})), start).unwrap();
        assert_eq!(d, Path::new("/tmp"));
        let e = parse::<SessionsArgs>(args(json!({"dir": "rel/x"})), start).unwrap_err();
        assert!(e.contains("dir") && e.contains("relative"), "{e}");
        let e = parse::<SessionsArgs>(args(json!({"dir": 3})), start).unwrap_err();
        assert!(e.contains("dir") && e.contains("a number"), "{e}");
        let e =
            parse::<SessionsArgs>(args(json!({"dir": "/no/such/dir/here"})), start).unwrap_err();
        assert!(e.contains("not a directory"), "{e}");
    }

    #[test]
    fn bad_arguments_name_the_argument() {
        let start = Path::new("/");
        let e = parse::<HistoryArgs>(args(json!({"n": "x"})), start).unwrap_err();
        assert!(e.starts_with("n: invalid type"), "{e}");
        let e = parse::<BriefArgs>(args(json!({"format": "html"})), start).unwrap_err();
        assert!(e.starts_with("format: unknown variant `html`"), "{e}");
        let e = parse::<CheckpointArgs>(args(json!({})), start).unwrap_err();
        assert!(e.contains("missing field `message`"), "{e}");
        let e = parse::<SessionsArgs>(args(json!({"al": true})), start).unwrap_err();
        assert!(e.contains("unknown field `al`"), "{e}");
    }

    #[test]
    fn steps_are_numbers_from_one_or_texts() {
        let step = |v: Value| TaskDoneArgs { step: v }.step();
        assert_eq!(step(json!(2)), Ok(Step::Number(2)));
        assert_eq!(step(json!("b")), Ok(Step::Text("b".into())));
        assert!(step(json!(0)).unwrap_err().contains("from 1"));
        assert!(step(json!(-1)).unwrap_err().contains("from 1"));
        assert!(step(json!(1.5)).unwrap_err().contains("from 1"));
        assert!(step(json!("")).is_err());
        assert!(step(json!(true)).unwrap_err().contains("a boolean"));
    }
}
