//! What a parser finds in a line: the commands it runs, the scripts it hands to another
//! interpreter, and the parts it cannot see through.

/// One word of a command, as the shell would see it before running it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    /// Its value is known from the text alone (quotes and escapes removed).
    Static(String),
    /// Its value depends on expansion (`$R`, `$(…)`, a glob): the raw text.
    Dynamic(String),
}

impl Arg {
    /// The value when static.
    pub fn value(&self) -> Option<&str> {
        match self {
            Arg::Static(s) => Some(s),
            Arg::Dynamic(_) => None,
        }
    }

    /// The value when static, else the raw text (for messages and pattern matching).
    pub fn text(&self) -> &str {
        match self {
            Arg::Static(s) | Arg::Dynamic(s) => s,
        }
    }
}

/// A simple command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cmd {
    pub words: Vec<Arg>,
    /// Its standard input comes from the command before it in a pipeline.
    pub piped: bool,
    /// A here-string or heredoc given to it.
    pub stdin: Option<Arg>,
    /// The variables assigned for it alone (`NAME=value cmd`), by name, when the parser
    /// keeps them out of `words`.
    pub assigns: Vec<String>,
}

impl Cmd {
    /// A command from words known as they are (an argv).
    pub fn of_static(words: impl IntoIterator<Item = String>) -> Cmd {
        Cmd {
            words: words.into_iter().map(Arg::Static).collect(),
            ..Cmd::default()
        }
    }
}

/// One thing a line does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// A simple command it runs.
    Run(Cmd),
    /// A piece of script it runs too (`$(…)`, backticks, process substitution).
    Script(String, &'static str),
    /// Something that cannot be judged: why.
    Opaque(String),
}
