//! One desired state across many targets: every item of a list operation whose `id` is the path
//! parameter of an `…_apply` (an account's zones and `zone_apply`; a view list and
//! `account_views_apply` alike). Generic: the caller passes the list (a page fetcher, as for
//! [`paginate`]) or explicit ids, and the apply; nothing here names an endpoint.
//!
//! Targets are applied (or only planned) many at a time, all through the one client and so inside
//! its pacing and shared budget; each yields a [`Report`] as it ends. A target that fails does not
//! stop the run; an authentication or permission refusal, which would refuse every target alike,
//! does (with [`ErrorKind::InvalidInput`] on `credentials` saying so). With a [`Journal`], every
//! finished target is appended as one line and flushed as it ends, and a run started again with
//! the same journal reports those from it instead of touching them again.

use std::collections::{HashSet, VecDeque};
use std::fs::{File, OpenOptions};
use std::future::Future;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use futures_util::stream::{self, Stream, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ErrorKind;
use crate::plan::{ApplyReport, Desired};
use crate::{Error, Page, paginate};

/// How many targets are in flight at once unless set: enough to keep the budget busy through
/// round trips, few enough that a lockout strands little.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// What became of one target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Already as desired: nothing to send.
    Unchanged,
    /// A plan (dry run) with changes; nothing was sent.
    Planned,
    /// Changed, and the PATCH's answer shows every desired field.
    Changed,
    /// The PATCH was taken, but its answer shows a desired field otherwise.
    Unconverged,
    /// The read or the PATCH failed.
    Failed,
}

/// One field a plan changes (`current` → `desired`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    /// Dotted path.
    pub path: String,
    /// The value now; `null` when absent.
    pub current: Value,
    /// The desired value.
    pub desired: Value,
}

/// One desired field the PATCH's answer does not show.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldKept {
    /// Dotted path.
    pub path: String,
    /// The value sent.
    pub desired: Value,
    /// What the API kept; `null` when absent.
    pub kept: Value,
}

/// What went wrong with a failed target, as it is kept in a journal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    /// The error's message (it carries the status and Cloudflare's codes).
    pub message: String,
    /// The HTTP status, when there was one.
    pub status: Option<u16>,
    /// Cloudflare's error codes.
    pub codes: Vec<i64>,
}

/// The outcome of one target, as yielded and as journaled (one JSON line).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Report {
    /// The target's id (the apply's path parameter).
    pub id: String,
    /// Its `name`, when the list gave one.
    pub name: Option<String>,
    /// What became of it.
    pub outcome: Outcome,
    /// The plan's changes (sent, or with a dry run, to send).
    pub changes: Vec<FieldChange>,
    /// Desired fields the PATCH's answer does not show (outcome `unconverged`).
    #[serde(default)]
    pub unconverged: Vec<FieldKept>,
    /// Why it failed (outcome `failed`).
    pub failure: Option<Failure>,
    /// How many API calls this target took (a read, and a PATCH when one was sent; retries
    /// not counted). 0 when read from a journal.
    #[serde(default)]
    pub calls: u32,
    /// Read from the journal of an earlier run rather than done now.
    #[serde(skip)]
    pub from_journal: bool,
    /// The typed error of a target that failed in this run (not kept in a journal).
    #[serde(skip)]
    pub error: Option<Arc<Error>>,
}

/// Which targets: every item of a list (a page fetcher), or explicit ids.
pub enum Targets<L> {
    /// Every item the list yields across its pages; each item's `id` (and `name`) is read from
    /// its JSON.
    List(L),
    /// These ids, in this order, each once.
    Ids(Vec<String>),
}

/// An append-only file of finished targets: a header line naming the run it belongs to (a hash
/// of the desired state, the selection and the mode), then one [`Report`] a line.
#[derive(Debug)]
pub struct Journal {
    file: File,
    path: PathBuf,
    done: Vec<Report>,
}

const JOURNAL_FORMAT: &str = "cloudflare-dns-settings fleet journal";

#[derive(Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
    run: String,
}

impl Journal {
    /// Opens (or creates) the journal at `path` for the run described by `run` (anything
    /// serializable that tells runs apart: the desired state, the selection, plan or apply).
    /// A journal of another run is refused, naming the file; a last line cut short (the
    /// process was killed while writing it) is dropped.
    pub fn open(path: impl AsRef<Path>, run: &impl Serialize) -> Result<Journal, Error> {
        let path = path.as_ref().to_path_buf();
        let refuse =
            |problem: String| Error::invalid("journal", format!("{}: {problem}", path.display()));
        let run = run_hash(run)?;
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(|e| refuse(format!("cannot open: {e}")))?;
        let text =
            std::io::read_to_string(&mut file).map_err(|e| refuse(format!("cannot read: {e}")))?;
        let mut done = Vec::new();
        if text.is_empty() {
            let header = Header {
                format: JOURNAL_FORMAT.into(),
                version: 1,
                run,
            };
            write_line(&mut file, &header).map_err(|e| refuse(format!("cannot write: {e}")))?;
        } else {
            let mut lines = text.split_inclusive('\n');
            let first = lines.next().unwrap_or_default();
            let header: Header = serde_json::from_str(first.trim_end())
                .ok()
                .filter(|h: &Header| h.format == JOURNAL_FORMAT && first.ends_with('\n'))
                .ok_or_else(|| refuse("is not a fleet journal".into()))?;
            if header.version != 1 || header.run != run {
                return Err(refuse(format!(
                    "was written for another desired state, selection or mode (run {}, this \
                     run {run}); name another journal or delete it",
                    header.run
                )));
            }
            let mut good = first.len();
            for line in lines {
                // A line without its newline was cut short by a kill: it and nothing after it
                // is kept. A complete line that does not read is a damaged journal.
                if !line.ends_with('\n') {
                    break;
                }
                let report: Report = serde_json::from_str(line.trim_end())
                    .map_err(|e| refuse(format!("line {} does not read: {e}", done.len() + 2)))?;
                done.push(Report {
                    from_journal: true,
                    calls: 0,
                    ..report
                });
                good += line.len();
            }
            if good < text.len() {
                file.set_len(good as u64)
                    .and_then(|()| file.seek(SeekFrom::End(0)).map(drop))
                    .map_err(|e| refuse(format!("cannot drop a torn last line: {e}")))?;
            }
        }
        Ok(Journal { file, path, done })
    }

    /// The targets an earlier run finished, as read when the journal was opened.
    pub fn done(&self) -> &[Report] {
        &self.done
    }

    fn append(&mut self, report: &Report) -> Result<(), Error> {
        write_line(&mut self.file, report).map_err(|e| {
            Error::invalid(
                "journal",
                format!("{}: cannot append: {e}", self.path.display()),
            )
        })
    }
}

/// One line, written whole by one `write` and flushed: a kill leaves it whole or cut short,
/// never mixed with another.
fn write_line(file: &mut File, value: &impl Serialize) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(value)?;
    line.push(b'\n');
    file.write_all(&line)?;
    file.flush()
}

/// FNV-1a (64 bits) of the run's JSON: stable across builds and platforms, which a journal
/// needs and `std`'s hasher does not promise. Not a defence against anyone, only a label.
fn run_hash(run: &impl Serialize) -> Result<String, Error> {
    let json = serde_json::to_vec(run)
        .map_err(|e| Error::invalid("journal", format!("the run cannot be described: {e}")))?;
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in json {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    Ok(format!("{hash:016x}"))
}

/// A run over many targets.
#[derive(Debug)]
pub struct Fleet {
    concurrency: usize,
    dry_run: bool,
    journal: Option<Journal>,
}

impl Default for Fleet {
    fn default() -> Self {
        Fleet::new()
    }
}

impl Fleet {
    /// A run that applies, [`DEFAULT_CONCURRENCY`] targets at a time, without a journal.
    pub fn new() -> Fleet {
        Fleet {
            concurrency: DEFAULT_CONCURRENCY,
            dry_run: false,
            journal: None,
        }
    }

    /// How many targets are in flight at once (at least 1).
    pub fn concurrency(mut self, n: usize) -> Fleet {
        self.concurrency = n.max(1);
        self
    }

    /// Only plan: read every target, send no PATCH.
    pub fn dry_run(mut self, on: bool) -> Fleet {
        self.dry_run = on;
        self
    }

    /// Journals the run: see [`Journal::open`].
    pub fn journal(mut self, journal: Journal) -> Fleet {
        self.journal = Some(journal);
        self
    }

    /// Runs `apply(id, dry_run)` on every target, `concurrency` at a time, yielding each
    /// target's [`Report`] as it ends (first those read from the journal). The stream ends
    /// with an `Err` when the list fails, the journal cannot be written, or a target is refused
    /// for authentication or permission (every other would be too).
    pub fn run<'a, T, L, LF, A, AF, D>(
        self,
        targets: Targets<L>,
        apply: A,
    ) -> impl Stream<Item = Result<Report, Error>> + Send + 'a
    where
        T: Serialize + Send + 'a,
        L: FnMut(i64) -> LF + Send + 'a,
        LF: Future<Output = Result<Page<T>, Error>> + Send + 'a,
        A: Fn(String, bool) -> AF + Send + Sync + 'a,
        AF: Future<Output = Result<ApplyReport<D>, Error>> + Send + 'a,
        D: Desired + Send + 'a,
        D::Current: Send,
    {
        let Fleet {
            concurrency,
            dry_run,
            mut journal,
        } = self;
        let replay: VecDeque<Report> = journal
            .as_mut()
            .map(|j| std::mem::take(&mut j.done))
            .unwrap_or_default()
            .into();
        let skip: HashSet<String> = replay.iter().map(|r| r.id.clone()).collect();

        type Boxed<'b, I> = Pin<Box<dyn Stream<Item = Result<I, Error>> + Send + 'b>>;
        let ids: Boxed<'a, (String, Option<String>)> = match targets {
            Targets::List(list) => Box::pin(paginate(list).map(|item| {
                let json = serde_json::to_value(item?).unwrap_or_default();
                let id = json.get("id").and_then(Value::as_str).map(str::to_string);
                let name = json.get("name").and_then(Value::as_str).map(str::to_string);
                id.map(|id| (id, name))
                    .ok_or_else(|| Error::invalid("id", "an item of the list has no string `id`"))
            })),
            Targets::Ids(ids) => {
                let mut seen = HashSet::new();
                let unique: Vec<_> = ids
                    .into_iter()
                    .filter(|id| seen.insert(id.clone()))
                    .collect();
                Box::pin(stream::iter(unique.into_iter().map(|id| Ok((id, None)))))
            }
        };
        let apply = Arc::new(apply);
        let live: Boxed<'a, Report> = Box::pin(
            ids.filter(move |target| {
                let keep = !matches!(target, Ok((id, _)) if skip.contains(id));
                async move { keep }
            })
            .map(move |target| {
                let apply = apply.clone();
                async move {
                    let (id, name) = target?;
                    let result = apply(id.clone(), dry_run).await;
                    Ok(report(id, name, dry_run, result))
                }
            })
            .buffer_unordered(concurrency),
        );

        struct State<'b> {
            replay: VecDeque<Report>,
            live: Boxed<'b, Report>,
            journal: Option<Journal>,
            done: bool,
        }
        let state = State {
            replay,
            live,
            journal,
            done: false,
        };
        stream::unfold(state, |mut state| async move {
            if state.done {
                return None;
            }
            if let Some(report) = state.replay.pop_front() {
                return Some((Ok(report), state));
            }
            let next = match state.live.next().await? {
                Err(e) => Err(e),
                Ok(report) => match report
                    .error
                    .as_deref()
                    .and_then(|e| Some((stops_the_run(e)?, e)))
                {
                    Some((stop, error)) => Err(stop.with(&report, error)),
                    None => match state.journal.as_mut().map(|j| j.append(&report)) {
                        Some(Err(e)) => Err(e),
                        _ => Ok(report),
                    },
                },
            };
            state.done = next.is_err();
            Some((next, state))
        })
    }
}

/// A failure every target would share.
struct Refused {
    status: Option<u16>,
    codes: Vec<i64>,
    what: Stop,
}

enum Stop {
    Credentials,
    Desired,
}

impl Refused {
    fn with(self, report: &Report, error: &Error) -> Error {
        match self.what {
            Stop::Desired => match error.kind() {
                ErrorKind::InvalidInput { field, problem } => Error::invalid(
                    field.clone(),
                    format!("{problem} (every target would be refused; the run stopped)"),
                ),
                _ => Error::config(error.to_string()),
            },
            Stop::Credentials => Error::invalid(
                "credentials",
                format!(
                    "`{}` was refused for authentication or permission (status {}, codes {:?}: \
                     {error}); every target would be, so the run stopped. The token needs the \
                     permission to read the list and to read (plan) or edit (apply) each \
                     target's settings",
                    report.id,
                    self.status.map_or("none".into(), |s| s.to_string()),
                    self.codes,
                ),
            ),
        }
    }
}

/// Why a target's failure stops the run: a refusal of the credentials, or a desired state the
/// spec refuses (checked before anything is sent, so every target would be refused alike; a
/// refused identifier, a field ending in `_id`, is the target's own).
fn stops_the_run(error: &Error) -> Option<Refused> {
    match error.kind() {
        ErrorKind::InvalidInput { field, .. } if !field.ends_with("_id") => Some(Refused {
            status: None,
            codes: Vec::new(),
            what: Stop::Desired,
        }),
        _ => refused_credentials(error),
    }
}

/// Cloudflare's authentication and authorization codes, and the statuses that mean the same.
fn refused_credentials(error: &Error) -> Option<Refused> {
    const AUTH_CODES: [i64; 5] = [10000, 9106, 9109, 6003, 6111];
    let status = error.status().map(|s| s.as_u16());
    let codes = error.codes();
    let refused = matches!(status, Some(401 | 403)) || codes.iter().any(|c| AUTH_CODES.contains(c));
    refused.then_some(Refused {
        status,
        codes,
        what: Stop::Credentials,
    })
}

fn report<D: Desired>(
    id: String,
    name: Option<String>,
    dry_run: bool,
    result: Result<ApplyReport<D>, Error>,
) -> Report {
    let mut report = Report {
        id,
        name,
        outcome: Outcome::Failed,
        changes: Vec::new(),
        unconverged: Vec::new(),
        failure: None,
        calls: 1,
        from_journal: false,
        error: None,
    };
    match result {
        Err(error) => {
            report.failure = Some(Failure {
                message: error.to_string(),
                status: error.status().map(|s| s.as_u16()),
                codes: error.codes(),
            });
            report.error = Some(Arc::new(error));
        }
        Ok(applied) => {
            report.changes = applied
                .plan
                .changes
                .iter()
                .map(|c| FieldChange {
                    path: c.path.clone(),
                    current: c.current.clone().unwrap_or(Value::Null),
                    desired: c.desired.clone(),
                })
                .collect();
            report.unconverged = applied
                .unconverged
                .iter()
                .map(|u| FieldKept {
                    path: u.path.clone(),
                    desired: u.desired.clone(),
                    kept: u.kept.clone().unwrap_or(Value::Null),
                })
                .collect();
            report.calls += u32::from(applied.after.is_some());
            report.outcome = match (applied.plan.patch.is_some(), dry_run) {
                (false, _) => Outcome::Unchanged,
                (true, true) => Outcome::Planned,
                (true, false) if applied.unconverged.is_empty() => Outcome::Changed,
                (true, false) => Outcome::Unconverged,
            };
        }
    }
    report
}
