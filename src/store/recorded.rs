//! The recorded shells as everyday commands read them, at the cost of the work at hand
//! rather than of everything ever recorded. A shell that ended (its journal final, read
//! to the end by the index) is answered by the index, with as many of its commands as
//! the reader asks for; a shell not known to have ended is read from its journal, the
//! truth to its last byte. When the index cannot be opened (or a query fails), every
//! journal is read once instead: correctness first.

use crate::model::CommandRecord;
use crate::store::index::query::{self, Filter, Project};
use crate::store::index::{self, Index};
use crate::store::paths::Paths;
use crate::store::shells::{self, ShellState};
use anyhow::Result;
use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::convert::Infallible;
use std::path::{Component, Path};

/// Ended shells stay recent this long (or since their session's last restore).
pub const RECENT_US: i64 = 7 * 24 * 3600 * 1_000_000;

/// What a shell read from the index brings of its commands (one read from its journal
/// brings every one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Commands {
    /// The last one: what `running` needs, and whether it ran any.
    Last,
    /// The newest N.
    Tail(usize),
    /// Every one.
    All,
}

/// Which shells a reader wants: the live ones, the ones last seen since a time (per
/// session), and, with `lineage`, the shells those replace, generation after generation
/// (restore reads their history). A restored shell's baseline is its first
/// generation's, whether or not those come along.
#[derive(Debug, Clone)]
pub struct Select {
    /// Only this session's shells; None: every session's.
    pub session: Option<String>,
    /// Shells not alive are wanted when last seen at or after this time (µs) of their
    /// session...
    pub since: BTreeMap<String, i64>,
    /// ...or, for a session not named there, this one; None: none of theirs.
    pub others: Option<i64>,
    /// These shells whenever they were last seen (of any session).
    pub ids: BTreeSet<String>,
    /// Also the shells these replace, generation after generation.
    pub lineage: bool,
    pub commands: Commands,
}

impl Select {
    /// The live shells.
    pub fn live() -> Select {
        Select {
            session: None,
            since: BTreeMap::new(),
            others: None,
            ids: BTreeSet::new(),
            lineage: false,
            commands: Commands::Last,
        }
    }

    /// The live shells and those last seen at or after `since_us`.
    pub fn since(since_us: i64) -> Select {
        Select {
            others: Some(since_us),
            ..Select::live()
        }
    }

    /// Every shell recorded.
    pub fn all() -> Select {
        Select::since(i64::MIN)
    }

    /// Only the shells of `session`.
    pub fn in_session(mut self, session: &str) -> Select {
        self.session = Some(session.to_string());
        self
    }

    /// Also these shells, whenever they were last seen.
    pub fn with_ids<'a>(mut self, ids: impl IntoIterator<Item = &'a str>) -> Select {
        self.ids.extend(ids.into_iter().map(String::from));
        self
    }

    /// Also the shells these replace, generation after generation.
    pub fn with_lineage(mut self) -> Select {
        self.lineage = true;
        self
    }

    /// Ended shells' commands as `commands` says.
    pub fn with_commands(mut self, commands: Commands) -> Select {
        self.commands = commands;
        self
    }

    /// From when a shell of `session` that is not alive is wanted, if at all.
    fn threshold(&self, session: &str) -> Option<i64> {
        self.since.get(session).copied().or(self.others)
    }

    /// Is this shell (liveness settled) one of those wanted, its lineage apart?
    fn wants(&self, s: &ShellState) -> bool {
        if self.ids.contains(&s.meta.id) {
            return true;
        }
        if self.session.as_ref().is_some_and(|n| n != &s.meta.session) {
            return false;
        }
        s.alive
            || self
                .threshold(&s.meta.session)
                .is_some_and(|t| s.last_seen_us >= t)
    }
}

/// The wanted shells not known to have ended.
struct Open {
    from_journal: Vec<ShellState>,
    /// Those whose journal could not be read.
    from_index: Vec<ShellState>,
    /// Which of them are alive: (pid, start time).
    alive: HashSet<(u32, Option<u64>)>,
}

/// Where a command reads the recorded shells from.
pub struct Recorded {
    paths: Paths,
    ix: Option<Index>,
    /// Every journal, read once when the index cannot answer.
    journals: OnceCell<Vec<ShellState>>,
}

impl Recorded {
    /// The index brought up to date with the journals; else (said on stderr) the
    /// journals themselves.
    pub fn open(paths: &Paths) -> Recorded {
        let ix = match index::open_ingested(paths) {
            Ok(ix) => Some(ix),
            Err(e) => {
                eprintln!("snap: {e:#}: reading the journals instead");
                None
            }
        };
        Recorded {
            paths: paths.clone(),
            ix,
            journals: OnceCell::new(),
        }
    }

    /// An index already open (and brought up to date).
    pub fn with_index(paths: &Paths, ix: Index) -> Recorded {
        Recorded {
            paths: paths.clone(),
            ix: Some(ix),
            journals: OnceCell::new(),
        }
    }

    /// The index, when it answers.
    pub fn index(&self) -> Option<&Index> {
        self.ix.as_ref()
    }

    /// The commands matching `filter`, oldest first: the index's answer (the journals
    /// alone do not answer such queries).
    pub fn history(&self, filter: &Filter) -> Result<Vec<CommandRecord>> {
        match &self.ix {
            Some(ix) => query::history(ix, filter),
            None => anyhow::bail!(
                "the history is read from the index, which cannot be opened (see above): `snap reindex` rebuilds it"
            ),
        }
    }

    fn journals(&self) -> &[ShellState] {
        self.journals.get_or_init(|| shells::load_all(&self.paths))
    }

    /// The index's answer, else (a failed query said on stderr) the journals'.
    fn answer<T>(
        &self,
        from_index: impl FnOnce(&Index) -> Result<T>,
        from_journals: impl FnOnce(&[ShellState]) -> T,
    ) -> T {
        if let Some(ix) = &self.ix {
            match from_index(ix) {
                Ok(v) => return v,
                Err(e) => eprintln!(
                    "snap: {}: {e:#}: reading the journals instead",
                    ix.path().display()
                ),
            }
        }
        from_journals(self.journals())
    }

    /// The shells `select` wants, oldest first, with liveness checked now.
    pub fn shells(&self, select: &Select) -> Vec<ShellState> {
        self.answer(
            |ix| self.indexed(ix, select),
            |all| {
                let mut out: Vec<ShellState> =
                    all.iter().filter(|s| select.wants(s)).cloned().collect();
                if select.lineage {
                    let by_id: HashMap<&str, &ShellState> =
                        all.iter().map(|s| (s.meta.id.as_str(), s)).collect();
                    let found = |id: &str| Ok::<_, Infallible>(by_id.get(id).map(|&s| s.clone()));
                    let Ok(more) = lineage(out.iter(), found);
                    out.extend(more);
                    shells::sort(&mut out);
                }
                out
            },
        )
    }

    fn indexed(&self, ix: &Index, select: &Select) -> Result<Vec<ShellState>> {
        let root = self.paths.shells();
        let Open {
            from_journal,
            mut from_index,
            alive,
        } = self.wanted_open(ix, select)?;
        let names = match (&select.session, select.others) {
            (Some(s), _) => vec![s.clone()],
            (None, Some(_)) => query::session_names(ix)?,
            (None, None) => select.since.keys().cloned().collect(),
        };
        for name in names {
            if let Some(t) = select.threshold(&name) {
                from_index.extend(query::ended_shells(ix, &root, &name, t)?);
            }
        }
        for id in &select.ids {
            let have = |s: &ShellState| &s.meta.id == id;
            if !from_journal.iter().chain(&from_index).any(have) {
                from_index.extend(query::shell(ix, &root, id)?.filter(|s| s.ended.is_some()));
            }
        }
        let selected = from_index.len();
        let lineage = lineage(from_journal.iter().chain(&from_index), |id| {
            query::shell(ix, &root, id)
        })?;
        from_index.extend(lineage);
        // The lineages came for their baselines (see `shells::settle`), and stay when
        // asked for.
        let kept = if select.lineage {
            from_index.len()
        } else {
            selected
        };
        for s in &mut from_index[..kept] {
            let tail = match select.commands {
                Commands::Last => Some(1),
                Commands::Tail(n) => Some(n),
                Commands::All => None,
            };
            s.commands = query::commands(ix, &s.meta.id, tail)?;
        }
        let kept: HashSet<String> = from_journal
            .iter()
            .chain(&from_index[..kept])
            .map(|s| s.meta.id.clone())
            .collect();
        let mut out = from_journal;
        out.extend(from_index);
        shells::sort(&mut out);
        shells::settle(&mut out, &alive);
        out.retain(|s| kept.contains(&s.meta.id));
        Ok(out)
    }

    /// The wanted shells not known to have ended, read from their journals (from the
    /// index when the journal cannot be read), and which are alive.
    fn wanted_open(&self, ix: &Index, select: &Select) -> Result<Open> {
        let root = self.paths.shells();
        let mut open = query::open_shells(ix, &root, select.session.as_deref())?;
        for id in &select.ids {
            if !open.iter().any(|s| &s.meta.id == id) {
                open.extend(query::shell(ix, &root, id)?.filter(|s| s.ended.is_none()));
            }
        }
        let alive = crate::liveness::alive_now(&shells::pids(&open));
        let (mut from_journal, mut from_index) = (Vec::new(), Vec::new());
        for s in open {
            if alive.contains(&(s.meta.pid, s.meta.pid_started)) || select.wants(&s) {
                // Not known to have ended: its journal may hold more than the index read.
                match shells::load_one(s.dir.clone()) {
                    Some(j) => from_journal.push(j),
                    None => from_index.push(s),
                }
            }
        }
        Ok(Open {
            from_journal,
            from_index,
            alive,
        })
    }

    /// The shells not alive and last seen before `before_us` (what history pruning
    /// removes), oldest first.
    pub fn aged(&self, before_us: i64) -> Vec<ShellState> {
        let aged = |s: &ShellState| !s.alive && s.last_seen_us < before_us;
        self.answer(
            |ix| {
                let root = self.paths.shells();
                let mut out = query::open_shells(ix, &root, None)?;
                let alive = crate::liveness::alive_now(&shells::pids(&out));
                shells::settle(&mut out, &alive);
                out.retain(aged);
                out.extend(query::ended_before(ix, &root, before_us)?);
                shells::sort(&mut out);
                Ok(out)
            },
            |all| all.iter().filter(|s| aged(s)).cloned().collect(),
        )
    }

    /// The live shells and those last seen since their session's last restore or
    /// within [`RECENT_US`]: the ones `snap sessions` lists.
    pub fn recent(&self) -> Select {
        let week_ago = crate::timefmt::now_us() - RECENT_US;
        let since = self
            .last_restores()
            .into_iter()
            .map(|(s, at)| (s, at.min(week_ago)))
            .collect();
        Select {
            since,
            ..Select::since(week_ago)
        }
    }

    /// Each session's last restore: when the newest shell that replaces another started.
    pub fn last_restores(&self) -> BTreeMap<String, i64> {
        self.answer(query::last_restores, |all| {
            let mut out: BTreeMap<String, i64> = BTreeMap::new();
            for s in all.iter().filter(|s| s.meta.replaces.is_some()) {
                let started = crate::timefmt::parse_us(&s.meta.started_at).unwrap_or(0);
                let e = out.entry(s.meta.session.clone()).or_insert(started);
                *e = (*e).max(started);
            }
            out
        })
    }

    /// The session of the shell with this id: as recorded, else as its meta says (a
    /// shell so new the index has not seen it).
    pub fn session_of(&self, id: &str) -> Option<String> {
        let found = self.answer(
            |ix| query::session_of(ix, id),
            |all| {
                all.iter()
                    .find(|s| s.meta.id == id)
                    .map(|s| s.meta.session.clone())
            },
        );
        let plain = matches!(
            Path::new(id).components().collect::<Vec<_>>()[..],
            [Component::Normal(_)]
        );
        found.or_else(|| {
            plain
                .then(|| shells::read_meta_quiet(&self.paths.shell_dir(id)))
                .flatten()
                .map(|m| m.session)
        })
    }

    /// When a shell of `session` was last seen (µs); None when it has none recorded.
    pub fn last_seen(&self, session: &str) -> Option<i64> {
        self.answer(
            |ix| query::last_seen(ix, session),
            |all| {
                all.iter()
                    .filter(|s| s.meta.session == session)
                    .map(|s| s.last_seen_us)
                    .max()
            },
        )
    }

    /// Each session, and when a shell of it was last seen (µs).
    pub fn last_seen_by_session(&self) -> BTreeMap<String, i64> {
        self.answer(query::last_seen_by_session, |all| {
            let mut out: BTreeMap<String, i64> = BTreeMap::new();
            for s in all {
                let e = out.entry(s.meta.session.clone()).or_insert(s.last_seen_us);
                *e = (*e).max(s.last_seen_us);
            }
            out
        })
    }

    /// Each project directory and session recorded there.
    pub fn projects(&self) -> Vec<Project> {
        self.answer(query::projects, |all| {
            let mut out: BTreeMap<(&str, &str), i64> = BTreeMap::new();
            for s in all {
                let seen = out
                    .entry((&s.meta.project_dir, &s.meta.session))
                    .or_insert(s.last_seen_us);
                *seen = (*seen).max(s.last_seen_us);
            }
            out.into_iter()
                .map(|((dir, session), last_seen_us)| Project {
                    dir: dir.to_string(),
                    session: session.to_string(),
                    last_seen_us,
                })
                .collect()
        })
    }

    /// The project directory of the first shell of `session` (by start) for which
    /// `wanted` holds.
    pub fn first_project(&self, session: &str, wanted: &dyn Fn(&str) -> bool) -> Option<String> {
        self.answer(
            |ix| query::first_project(ix, session, wanted),
            |all| {
                all.iter()
                    .filter(|s| s.meta.session == session)
                    .map(|s| s.meta.project_dir.clone())
                    .find(|d| wanted(d))
            },
        )
    }

    /// The environments (baselines and latest) of the shells with these ids, for a
    /// redactor to learn their secrets.
    pub fn envs<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a str>,
    ) -> Vec<BTreeMap<String, String>> {
        let mut ids: Vec<&str> = ids.into_iter().collect();
        ids.sort_unstable();
        ids.dedup();
        self.answer(
            |ix| query::envs(ix, &ids),
            |all| {
                all.iter()
                    .filter(|s| ids.contains(&s.meta.id.as_str()))
                    .flat_map(|s| [s.env_base.clone(), s.env_now.clone()])
                    .collect()
            },
        )
    }
}

/// The shells these replace, generation after generation, that are not among them, as
/// `find` finds each by its id.
fn lineage<'a, E>(
    shells: impl Iterator<Item = &'a ShellState>,
    mut find: impl FnMut(&str) -> Result<Option<ShellState>, E>,
) -> Result<Vec<ShellState>, E> {
    let mut have: HashSet<String> = HashSet::new();
    let mut wanted: Vec<String> = Vec::new();
    for s in shells {
        have.insert(s.meta.id.clone());
        wanted.extend(s.meta.replaces.clone());
    }
    let mut out = Vec::new();
    while let Some(id) = wanted.pop() {
        if !have.insert(id.clone()) {
            continue;
        }
        if let Some(s) = find(&id)? {
            wanted.extend(s.meta.replaces.clone());
            out.push(s);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Ended;
    use std::fs;

    const T: i64 = 1_764_000_000;

    /// A shell of the store: its meta and this journal text.
    fn shell(
        paths: &Paths,
        id: &str,
        session: &str,
        project: &str,
        edit: impl Fn(&mut crate::model::ShellMeta),
        journal: &str,
    ) {
        let dir = paths.shell_dir(id);
        fs::create_dir_all(&dir).unwrap();
        let started =
            crate::timefmt::rfc3339_us(id.split('-').next().unwrap().parse::<i64>().unwrap());
        let mut meta = shells::test_meta(id, 999_999_999, &started, session);
        meta.project_dir = project.into();
        edit(&mut meta);
        fs::write(dir.join("meta"), serde_json::to_vec(&meta).unwrap()).unwrap();
        fs::write(dir.join("journal"), journal).unwrap();
    }

    fn start(t: i64, cmd: &str) -> String {
        format!("\x1eS\t{t}.5\t/p\tt\n{cmd}\n")
    }

    fn end(t: i64) -> String {
        format!("\x1eE\t{t}.75\t0\t-\t/p\n")
    }

    /// Two sessions: `s` (A exited, B restored in its place and hung up running a
    /// command) and `t` (C vanished, D alive: this very process).
    fn store() -> (tempfile::TempDir, Paths, String) {
        let tmp = tempfile::tempdir().unwrap();
        let paths = Paths {
            data: tmp.path().join("data"),
            state: tmp.path().join("state"),
            config_file: tmp.path().join("c.toml"),
        };
        let project = tmp.path().join("proj");
        fs::create_dir_all(&project).unwrap();
        let proj = project.to_string_lossy().into_owned();
        let env = format!("\x1eV\t{T}.1\tbash\ndeclare -x API_TOKEN=\"s3cr3t-value-a\"\n");
        let a = format!("{T}000000-1-aaaa");
        let b = format!("{}000000-2-bbbb", T + 20);
        let journal_a = env
            + &start(T + 1, "a1")
            + &end(T + 2)
            + &start(T + 3, "a2")
            + &end(T + 4)
            + &format!("\x1eX\t{}.0\texit\n", T + 10);
        shell(&paths, &a, "s", "/gone", |_| {}, &journal_a);
        let journal_b = start(T + 21, "b1")
            + &end(T + 22)
            + &start(T + 23, "b2")
            + &format!("\x1eX\t{}.0\thangup\n", T + 30);
        let a2 = a.clone();
        shell(
            &paths,
            &b,
            "s",
            &proj,
            move |m| m.replaces = Some(a2.clone()),
            &journal_b,
        );
        let c = format!("{}000000-3-cccc", T + 40);
        shell(
            &paths,
            &c,
            "t",
            &proj,
            |_| {},
            &(start(T + 41, "c1") + &end(T + 42)),
        );
        let d = format!("{}000000-4-dddd", T + 50);
        let me = std::process::id();
        let started = crate::liveness::start_time(me);
        shell(
            &paths,
            &d,
            "t",
            "/gone",
            move |m| {
                m.pid = me;
                m.pid_started = started;
            },
            &(start(T + 51, "d1") + &end(T + 52) + &start(T + 53, "d2")),
        );
        (tmp, paths, proj)
    }

    /// What a caller may read of a shell.
    fn seen(all: &[ShellState]) -> Vec<String> {
        all.iter()
            .map(|s| {
                let commands: Vec<String> = s
                    .commands
                    .iter()
                    .map(|c| format!("{}@{}:{:?}", c.text, c.started_us, c.end.as_ref().map(|e| (e.status, e.time_us))))
                    .collect();
                format!(
                    "{} alive={} ended={:?}/{:?} seen={} cwd={} base={:?} now={:?} running={:?} {commands:?}",
                    s.meta.id,
                    s.alive,
                    s.ended,
                    s.ended_us,
                    s.last_seen_us,
                    s.cwd,
                    s.env_base,
                    s.env_now,
                    s.running().map(|c| &c.text),
                )
            })
            .collect()
    }

    #[test]
    fn the_index_and_the_journals_give_the_same_shells_and_answers() {
        let (_tmp, paths, proj) = store();
        let indexed = Recorded::open(&paths);
        assert!(indexed.index().is_some());
        let journals = Recorded {
            paths: paths.clone(),
            ix: None,
            journals: OnceCell::new(),
        };
        let us = |s: i64| s * 1_000_000;
        let selects = [
            Select::live(),
            Select::since(us(T + 25)),
            Select::since(us(T + 25)).with_lineage(),
            Select::since(us(T + 25)).in_session("s"),
            Select::all().in_session("s").with_commands(Commands::All),
            Select::since(us(T + 45))
                .in_session("s")
                .with_lineage()
                .with_commands(Commands::All),
            Select::live().with_ids([format!("{T}000000-1-aaaa").as_str()]),
            Select::all().with_commands(Commands::Tail(1)),
        ];
        for select in &selects {
            let want = journals.shells(select);
            let got = indexed.shells(select);
            if select.commands == Commands::All {
                assert_eq!(seen(&got), seen(&want), "{select:?}");
            } else {
                // Shells read from the index bring only the commands asked for.
                let ids = |v: &[ShellState]| {
                    v.iter()
                        .map(|s| {
                            (
                                s.meta.id.clone(),
                                s.alive,
                                s.ended,
                                s.running().map(|c| c.text.clone()),
                            )
                        })
                        .collect::<Vec<_>>()
                };
                assert_eq!(ids(&got), ids(&want), "{select:?}");
            }
        }
        let live = indexed.shells(&Select::live());
        assert_eq!(live.len(), 1);
        assert_eq!(live[0].running().map(|c| c.text.as_str()), Some("d2"));
        assert_eq!(seen(&live), seen(&journals.shells(&Select::live())));
        let restored = indexed.shells(&Select::since(us(T + 25)).in_session("s"));
        assert_eq!(
            restored.len(),
            1,
            "the shell it replaces comes only with its lineage"
        );
        assert_eq!(restored[0].ended, Some(Ended::Hangup));
        assert_eq!(
            restored[0].env_base,
            journals.shells(&Select::all())[0].env_base,
            "its first generation's baseline"
        );

        let a = format!("{T}000000-1-aaaa");
        assert_eq!(indexed.session_of(&a), Some("s".into()));
        assert_eq!(indexed.session_of("nobody"), None);
        assert_eq!(
            indexed.last_seen_by_session(),
            journals.last_seen_by_session()
        );
        let sorted = |mut v: Vec<Project>| {
            v.sort_by(|x, y| (&x.dir, &x.session).cmp(&(&y.dir, &y.session)));
            v
        };
        assert_eq!(sorted(indexed.projects()), sorted(journals.projects()));
        assert_eq!(indexed.projects().len(), 4);
        let exists = |d: &str| Path::new(d).is_dir();
        assert_eq!(indexed.first_project("s", &exists), Some(proj.clone()));
        assert_eq!(
            indexed.first_project("s", &exists),
            journals.first_project("s", &exists)
        );
        assert_eq!(indexed.last_restores(), journals.last_restores());
        let ids = |v: Vec<ShellState>| v.into_iter().map(|s| s.meta.id).collect::<Vec<_>>();
        assert_eq!(
            ids(indexed.aged(us(T + 45))),
            ids(journals.aged(us(T + 45)))
        );
        assert_eq!(indexed.aged(us(T + 45)).len(), 3);
        assert_eq!(indexed.envs([a.as_str()]), journals.envs([a.as_str()]));
        assert!(indexed.envs([a.as_str()])[0].contains_key("API_TOKEN"));
    }
}
