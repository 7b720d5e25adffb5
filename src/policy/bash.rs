//! bash and zsh lines, read with `brush-parser`: every simple command of the line, with
//! the scripts its words run (`$(…)`, backticks, process substitutions).

use super::found::{Arg, Cmd, Found};
use brush_parser::ast::{
    Assignment, AssignmentName, AssignmentValue, Command, CommandPrefixOrSuffixItem,
    CompoundCommand, CompoundList, ExtendedTestExpr, IoFileRedirectTarget, IoRedirect, Pipeline,
    SimpleCommand,
};
use brush_parser::word::{WordPiece, WordPieceWithSource};
use brush_parser::{Parser, ParserOptions};

/// Brackets nested deeper than this are not parsed: the parser's time doubles with each
/// level of unbalanced `(` (30 of them took minutes), and 200 `${a:-` overflow its stack.
const MAX_NESTING: usize = 10;
/// Longer lines are not parsed.
const MAX_LINE: usize = 64 * 1024;

/// What a bash (or zsh) line runs; a line that does not parse is one opaque part.
pub fn parse(line: &str) -> Vec<Found> {
    if line.len() > MAX_LINE {
        return vec![Found::Opaque("the line is too long to judge".into())];
    }
    if nesting(line) > MAX_NESTING {
        return vec![Found::Opaque("brackets nested too deep to judge".into())];
    }
    let options = ParserOptions::default();
    let mut parser = Parser::new(std::io::Cursor::new(line.as_bytes()), &options);
    let mut out = Vec::new();
    match parser.parse_program() {
        Ok(program) => {
            for list in &program.complete_commands {
                compound_list(list, &mut out);
            }
        }
        Err(_) => out.push(Found::Opaque("the line does not parse as bash".into())),
    }
    out
}

/// The deepest nesting of `(`, `{` and `[`, quotes ignored (counting too many is only
/// stricter).
fn nesting(line: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    for c in line.chars() {
        match c {
            '(' | '{' | '[' => {
                depth += 1;
                max = max.max(depth);
            }
            ')' | '}' | ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

fn compound_list(list: &CompoundList, out: &mut Vec<Found>) {
    for item in &list.0 {
        for (_, p) in &item.0 {
            pipeline(p, out);
        }
    }
}

fn pipeline(p: &Pipeline, out: &mut Vec<Found>) {
    for (i, c) in p.seq.iter().enumerate() {
        command(c, i > 0, out);
    }
}

fn command(c: &Command, piped: bool, out: &mut Vec<Found>) {
    let redirects = match c {
        Command::Simple(s) => return simple(s, piped, out),
        Command::Compound(cc, r) => {
            compound(cc, out);
            r.as_ref()
        }
        Command::Function(f) => {
            compound(&f.body.0, out);
            f.body.1.as_ref()
        }
        Command::ExtendedTest(t, r) => {
            test_expr(&t.expr, out);
            r.as_ref()
        }
    };
    for r in redirects.iter().flat_map(|r| &r.0) {
        redirect(r, out);
    }
}

fn compound(cc: &CompoundCommand, out: &mut Vec<Found>) {
    match cc {
        CompoundCommand::Arithmetic(a) => arithmetic(&a.expr.value, out),
        CompoundCommand::ArithmeticForClause(a) => {
            for e in [&a.initializer, &a.condition, &a.updater]
                .into_iter()
                .flatten()
            {
                arithmetic(&e.value, out);
            }
            compound_list(&a.body.list, out);
        }
        CompoundCommand::BraceGroup(b) => compound_list(&b.list, out),
        CompoundCommand::Subshell(s) => compound_list(&s.list, out),
        CompoundCommand::ForClause(f) => {
            for w in f.values.iter().flatten() {
                word(&w.value, out);
            }
            compound_list(&f.body.list, out);
        }
        CompoundCommand::CaseClause(c) => {
            word(&c.value.value, out);
            for item in &c.cases {
                for w in &item.patterns {
                    word(&w.value, out);
                }
                if let Some(l) = &item.cmd {
                    compound_list(l, out);
                }
            }
        }
        CompoundCommand::IfClause(i) => {
            compound_list(&i.condition, out);
            compound_list(&i.then, out);
            for e in i.elses.iter().flatten() {
                if let Some(c) = &e.condition {
                    compound_list(c, out);
                }
                compound_list(&e.body, out);
            }
        }
        CompoundCommand::WhileClause(w) | CompoundCommand::UntilClause(w) => {
            compound_list(&w.0, out);
            compound_list(&w.1.list, out);
        }
        CompoundCommand::Coprocess(c) => command(&c.body, false, out),
    }
}

fn test_expr(e: &ExtendedTestExpr, out: &mut Vec<Found>) {
    match e {
        ExtendedTestExpr::And(a, b) | ExtendedTestExpr::Or(a, b) => {
            test_expr(a, out);
            test_expr(b, out);
        }
        ExtendedTestExpr::Not(a) | ExtendedTestExpr::Parenthesized(a) => test_expr(a, out),
        ExtendedTestExpr::UnaryTest(_, w) => {
            word(&w.value, out);
        }
        ExtendedTestExpr::BinaryTest(_, a, b) => {
            word(&a.value, out);
            word(&b.value, out);
        }
    }
}

fn simple(s: &SimpleCommand, piped: bool, out: &mut Vec<Found>) {
    let mut cmd = Cmd {
        piped,
        ..Cmd::default()
    };
    let prefix = s.prefix.iter().flat_map(|p| &p.0);
    for item in prefix {
        match item {
            // A leading assignment is not a command word, but its value may run something.
            CommandPrefixOrSuffixItem::AssignmentWord(a, _) => {
                if let AssignmentName::VariableName(name) = &a.name {
                    cmd.assigns.push(name.clone());
                }
                assignment(a, out);
            }
            other => item_of(other, &mut cmd, out),
        }
    }
    if let Some(w) = &s.word_or_name {
        let arg = word(&w.value, out);
        cmd.words.push(arg);
    }
    for item in s.suffix.iter().flat_map(|p| &p.0) {
        item_of(item, &mut cmd, out);
    }
    out.push(Found::Run(cmd));
}

fn item_of(item: &CommandPrefixOrSuffixItem, cmd: &mut Cmd, out: &mut Vec<Found>) {
    match item {
        CommandPrefixOrSuffixItem::IoRedirect(r) => {
            if let Some(stdin) = redirect(r, out) {
                cmd.stdin = Some(stdin);
            }
        }
        CommandPrefixOrSuffixItem::Word(w) => {
            let arg = word(&w.value, out);
            cmd.words.push(arg);
        }
        CommandPrefixOrSuffixItem::AssignmentWord(a, w) => match &a.value {
            AssignmentValue::Scalar(_) => {
                let arg = word(&w.value, out);
                cmd.words.push(arg);
            }
            AssignmentValue::Array(_) => {
                assignment(a, out);
                cmd.words.push(Arg::Dynamic(w.value.clone()));
            }
        },
        CommandPrefixOrSuffixItem::ProcessSubstitution(_, sub) => {
            compound_list(&sub.list, out);
            cmd.words.push(Arg::Dynamic("<(…)".into()));
        }
    }
}

/// The words of an assignment's value (`X=$(…)`, `a=(… $(…))`); assigning PATH or a
/// variable run as code is opaque.
fn assignment(a: &Assignment, out: &mut Vec<Found>) {
    if let AssignmentName::VariableName(name) = &a.name {
        if super::words::changes_what_runs(name) {
            out.push(Found::Opaque(format!("the line sets {name}")));
        }
    }
    match &a.value {
        AssignmentValue::Scalar(w) => {
            word(&w.value, out);
        }
        AssignmentValue::Array(items) => {
            for (key, w) in items {
                if let Some(k) = key {
                    word(&k.value, out);
                }
                word(&w.value, out);
            }
        }
    }
}

/// Judge a redirection's words; a here-string or heredoc is returned as the command's input.
fn redirect(r: &IoRedirect, out: &mut Vec<Found>) -> Option<Arg> {
    match r {
        IoRedirect::File(_, _, target) => match target {
            IoFileRedirectTarget::Filename(w) | IoFileRedirectTarget::Duplicate(w) => {
                word(&w.value, out);
            }
            IoFileRedirectTarget::ProcessSubstitution(_, sub) => compound_list(&sub.list, out),
            IoFileRedirectTarget::Fd(_) => {}
        },
        IoRedirect::OutputAndError(w, _) => {
            word(&w.value, out);
        }
        IoRedirect::HereString(_, w) => return Some(word(&w.value, out)),
        IoRedirect::HereDocument(_, doc) => {
            if !doc.requires_expansion {
                return Some(Arg::Static(doc.doc.value.clone()));
            }
            let options = ParserOptions::default();
            let Ok(pieces) = brush_parser::word::parse_heredoc(&doc.doc.value, &options) else {
                out.push(Found::Opaque("a heredoc that does not parse".into()));
                return Some(Arg::Dynamic(doc.doc.value.clone()));
            };
            return Some(pieces_to_arg(&doc.doc.value, &pieces, true, out));
        }
    }
    None
}

fn arithmetic(text: &str, out: &mut Vec<Found>) {
    if text.contains("$(") || text.contains('`') {
        out.push(Found::Opaque(format!(
            "a command inside an arithmetic expression: {text}"
        )));
    }
}

/// A word's value (static when quoting alone decides it); its substitutions go to `out`.
pub fn word(raw: &str, out: &mut Vec<Found>) -> Arg {
    let options = ParserOptions::default();
    match brush_parser::word::parse(raw, &options) {
        Ok(pieces) => pieces_to_arg(raw, &pieces, false, out),
        Err(_) => {
            out.push(Found::Opaque(format!("the word {raw} does not parse")));
            Arg::Dynamic(raw.to_string())
        }
    }
}

fn pieces_to_arg(
    raw: &str,
    pieces: &[WordPieceWithSource],
    quoted: bool,
    out: &mut Vec<Found>,
) -> Arg {
    let mut value = String::new();
    let mut dynamic = false;
    for p in pieces {
        piece(raw, p, quoted, &mut value, &mut dynamic, out);
    }
    if dynamic {
        Arg::Dynamic(raw.to_string())
    } else {
        Arg::Static(value)
    }
}

fn piece(
    raw: &str,
    p: &WordPieceWithSource,
    quoted: bool,
    value: &mut String,
    dynamic: &mut bool,
    out: &mut Vec<Found>,
) {
    let source = raw.get(p.start_index..p.end_index).unwrap_or(raw);
    match &p.piece {
        WordPiece::Text(t) => {
            // `<(…)` inside a word, zsh's `=(…)` and glob qualifiers (`*(e:…:)`) run code.
            if !quoted && t.contains('(') {
                out.push(Found::Opaque(format!(
                    "a parenthesis inside the word {raw}"
                )));
            }
            if !quoted && expands(t) {
                *dynamic = true;
            }
            value.push_str(t);
        }
        WordPiece::SingleQuotedText(t) => value.push_str(t),
        WordPiece::AnsiCQuotedText(t) => match super::words::ansi_c(t) {
            Some(v) => value.push_str(&v),
            None => *dynamic = true,
        },
        WordPiece::DoubleQuotedSequence(seq) | WordPiece::GettextDoubleQuotedSequence(seq) => {
            for q in seq {
                piece(raw, q, true, value, dynamic, out);
            }
        }
        WordPiece::EscapeSequence(e) => {
            let c = e.strip_prefix('\\').unwrap_or(e);
            if c != "\n" {
                value.push_str(c);
            }
        }
        WordPiece::TildeExpansion(_) => *dynamic = true,
        WordPiece::ParameterExpansion(_) => {
            *dynamic = true;
            // Also zsh's flags (`${(e)x}` evaluates the value).
            if source.contains(['(', '`']) {
                out.push(Found::Opaque(format!(
                    "a command inside a parameter expansion: {source}"
                )));
            }
        }
        WordPiece::CommandSubstitution(s) => {
            *dynamic = true;
            out.push(Found::Script(s.clone(), "$(…)"));
        }
        WordPiece::BackquotedCommandSubstitution(s) => {
            *dynamic = true;
            out.push(Found::Script(super::words::unbackquote(s), "`…`"));
        }
        WordPiece::ArithmeticExpression(e) => {
            *dynamic = true;
            arithmetic(&e.value, out);
        }
    }
}

/// Unquoted text the shell would still expand: globs and brace expansions.
fn expands(t: &str) -> bool {
    t.contains(['*', '?', '('])
        || t.find('[').is_some_and(|i| t[i..].contains(']'))
        || t.find('{').is_some_and(|i| t[i..].contains('}'))
}
