//! The fleet over generated accounts, against the loopback model of Cloudflare (cli/src/mock.rs:
//! pages of at most 50, the sliding-window rate limit with its lockout, zones that reject a
//! field with 400, zones that silently keep one, a PATCH answered 503 once): the library's
//! engine on a paused clock, and the real `cf-dns-settings` process killed with SIGKILL and run
//! again with its journal.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::time::Duration;

use cloudflare_dns_settings::fleet::{Fleet, Journal, Outcome, Report, Targets};
use cloudflare_dns_settings::plan::desired_from_json;
use cloudflare_dns_settings::types::DnsSettingsZonePatch;
use cloudflare_dns_settings::{Client, Error, ErrorKind};
use cloudflare_dns_settings_cli::mock::{self, Account, DEMO_ACCOUNT, DEMO_TOKEN, Limit};
use futures_util::StreamExt;
use serde_json::{Value, json};

const DESIRED: &str = r#"{"multi_provider": true, "ns_ttl": 3600, "soa": {"refresh": 7200}}"#;

/// Which zones of a generated account misbehave, by index.
fn converged_already(i: usize) -> bool {
    i.is_multiple_of(7)
}
fn rejects(i: usize) -> bool {
    !converged_already(i) && i % 11 == 1
}
fn ignores(i: usize) -> bool {
    !converged_already(i) && !rejects(i) && i % 13 == 2
}
const UNAVAILABLE_ONCE: usize = 5;

/// `n` zones: every seventh already as desired, every eleventh (from 1) rejecting
/// `multi_provider` (400, code 1011), every thirteenth (from 2) keeping `soa.refresh`, zone 5
/// answering its first PATCH 503; the rule 100 requests per 10 s, 10 s locked out after a 429.
fn account(n: usize) -> Account {
    let mut zones = mock::zones(n);
    for (i, zone) in zones.iter_mut().enumerate() {
        if converged_already(i) {
            zone.settings["ns_ttl"] = json!(3600);
            zone.settings["multi_provider"] = json!(true);
            zone.settings["soa"]["refresh"] = json!(7200);
        }
        if rejects(i) {
            zone.rejects = Some("multi_provider".into());
        }
        if ignores(i) {
            zone.ignores = Some("soa.refresh".into());
        }
        zone.unavailable_once = i == UNAVAILABLE_ONCE;
    }
    Account {
        zones,
        limit: Limit {
            requests: 100,
            window: Duration::from_secs(10),
            lockout: Duration::from_secs(10),
        },
        forbid_settings: false,
        latency: Duration::from_millis(40),
        per_zone_stats: true,
    }
}

/// The plan the model's zone `i` needs: path → (current, desired).
fn expected_changes(i: usize) -> BTreeMap<String, (Value, Value)> {
    if converged_already(i) {
        return BTreeMap::new();
    }
    let mut out = BTreeMap::from([
        ("multi_provider".into(), (json!(false), json!(true))),
        ("soa.refresh".into(), (json!(10000), json!(7200))),
    ]);
    if !i.is_multiple_of(3) {
        out.insert("ns_ttl".into(), (json!(86400), json!(3600)));
    }
    out
}

fn changes(report: &Report) -> BTreeMap<String, (Value, Value)> {
    let mut out = BTreeMap::new();
    for c in &report.changes {
        let twice = out.insert(c.path.clone(), (c.current.clone(), c.desired.clone()));
        assert!(twice.is_none(), "{} changed twice", c.path);
    }
    out
}

fn paused_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap()
}

fn client(url: &str, limit: Limit) -> Client {
    Client::builder()
        .api_token(DEMO_TOKEN)
        .base_url(url)
        .rate_limit(limit.requests as u32, limit.window)
        .build()
        .unwrap()
}

/// Runs the fleet over the model's account list; every outcome, and the error that ended it.
async fn run(client: &Client, dry_run: bool) -> (Vec<Report>, Option<Error>) {
    let desired: DnsSettingsZonePatch = desired_from_json(DESIRED).unwrap();
    let lister = client.clone();
    let list = move |page: i64| {
        let client = lister.clone();
        async move {
            client
                .zones_list()
                .account_id(DEMO_ACCOUNT)
                .page(page)
                .per_page(50)
                .send()
                .await
        }
    };
    let applier = client.clone();
    let apply = move |id: String, dry_run: bool| {
        let (client, desired) = (applier.clone(), desired.clone());
        async move { client.zone_apply(&id, &desired, dry_run).await }
    };
    let stream = Fleet::new()
        .dry_run(dry_run)
        .run(Targets::List(list), apply);
    futures_util::pin_mut!(stream);
    let (mut reports, mut error) = (Vec::new(), None);
    while let Some(next) = stream.next().await {
        match next {
            Ok(report) => reports.push(report),
            Err(e) => error = Some(e),
        }
    }
    (reports, error)
}

fn index(id: &str) -> usize {
    (u64::from_str_radix(id, 16).unwrap() - 0x00c0_ffee_0000) as usize
}

#[test]
fn a_generated_fleet_is_planned_exactly_then_applied_once_each_within_the_rate_limit() {
    const ZONES: usize = 230;
    paused_runtime().block_on(async {
        let model = mock::start(account(ZONES)).await.unwrap();
        let client = client(&model.url, account(0).limit);

        // The plan: exact, zone by zone, and nothing sent.
        let (plan, error) = run(&client, true).await;
        assert!(error.is_none(), "{error:?}");
        assert_eq!(plan.len(), ZONES, "every zone once");
        let ids: BTreeSet<&str> = plan.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids.len(), ZONES, "no zone twice");
        for report in &plan {
            let i = index(&report.id);
            assert_eq!(changes(report), expected_changes(i), "zone {i}");
            let want = if converged_already(i) {
                Outcome::Unchanged
            } else {
                Outcome::Planned
            };
            assert_eq!(report.outcome, want, "zone {i}");
            assert_eq!(
                report.name.as_deref(),
                Some(format!("zone-{i:04}.example.com").as_str())
            );
        }
        let stats = model.stats();
        assert!(stats.patches.is_empty(), "a plan sends no PATCH");
        assert_eq!(stats.largest_page, 50);

        // The apply.
        let (applied, error) = run(&client, false).await;
        assert!(error.is_none(), "{error:?}");
        assert_eq!(applied.len(), ZONES);
        let mut by_outcome: BTreeMap<String, usize> = BTreeMap::new();
        for report in &applied {
            let i = index(&report.id);
            *by_outcome
                .entry(format!("{:?}", report.outcome))
                .or_default() += 1;
            if converged_already(i) {
                assert_eq!(report.outcome, Outcome::Unchanged, "zone {i}");
            } else if rejects(i) {
                assert_eq!(report.outcome, Outcome::Failed, "zone {i}");
                let failure = report.failure.as_ref().unwrap();
                assert_eq!(
                    (failure.status, failure.codes.as_slice()),
                    (Some(400), &[1011][..])
                );
                assert!(report.error.is_some(), "the typed error is kept");
            } else if ignores(i) {
                assert_eq!(report.outcome, Outcome::Unconverged, "zone {i}");
                assert_eq!(report.unconverged.len(), 1, "zone {i}");
                let kept = &report.unconverged[0];
                assert_eq!(
                    (kept.path.as_str(), &kept.desired, &kept.kept),
                    ("soa.refresh", &json!(7200), &json!(10000))
                );
            } else {
                assert_eq!(report.outcome, Outcome::Changed, "zone {i}: {report:?}");
                let settings = model.settings(&report.id).unwrap();
                assert_eq!(
                    (
                        &settings["ns_ttl"],
                        &settings["multi_provider"],
                        &settings["soa"]["refresh"]
                    ),
                    (&json!(3600), &json!(true), &json!(7200)),
                    "zone {i} converged"
                );
            }
        }
        println!("{ZONES} zones: {by_outcome:?}");
        let stats = model.stats();
        assert_eq!(stats.too_many, 0, "never a 429");
        assert_eq!(stats.empty_patches, 0, "never an empty PATCH");
        for (id, n) in &stats.patches {
            let i = index(id);
            let want = u32::from(i == UNAVAILABLE_ONCE) + 1;
            assert_eq!(*n, want, "zone {i} PATCHed {n} times");
            assert!(!converged_already(i), "zone {i} needed no PATCH");
        }
        let needing = (0..ZONES).filter(|i| !converged_already(*i)).count();
        assert_eq!(
            stats.patches.len(),
            needing,
            "every zone that needed one was PATCHed"
        );
        println!("{} requests, {} pages", stats.requests, stats.pages);
    });
}

#[test]
fn a_token_without_the_permission_stops_the_run_early_naming_it() {
    paused_runtime().block_on(async {
        let mut forbidden = account(200);
        forbidden.forbid_settings = true;
        let model = mock::start(forbidden).await.unwrap();
        let (reports, error) = run(&client(&model.url, account(0).limit), false).await;
        let error = error.expect("the run stops");
        let text = error.to_string();
        assert!(
            text.contains("credentials") && text.contains("permission"),
            "{text}"
        );
        assert!(text.contains("9109"), "{text}");
        assert!(reports.is_empty(), "{reports:?}");
        let reads: u32 = model.stats().reads.values().sum();
        assert!(
            reads <= 16,
            "{reads} zones were read before the run stopped"
        );
    });
}

/// A budget smaller than the client believes (Cloudflare's real one can be: another client of
/// the same user spends it): the 429 comes, and the lockout holds every zone, not only the one
/// that met it: once a 429 has been answered, nothing is sent until the lockout ends, though
/// every zone that met a 429 ends at once (no retries here) and frees its slot for another.
#[test]
fn a_lockout_holds_every_zone() {
    const ZONES: usize = 150;
    paused_runtime().block_on(async {
        let mut tight = account(ZONES);
        for zone in &mut tight.zones {
            zone.rejects = None;
            zone.ignores = None;
            zone.unavailable_once = false;
        }
        tight.limit = Limit {
            requests: 60,
            window: Duration::from_secs(10),
            lockout: Duration::from_secs(10),
        };
        let model = mock::start(tight).await.unwrap();
        let client = Client::builder()
            .api_token(DEMO_TOKEN)
            .base_url(&model.url)
            .rate_limit(200, Duration::from_secs(10))
            .max_retries(0)
            .build()
            .unwrap();
        let (reports, error) = run(&client, false).await;
        assert!(error.is_none(), "{error:?}");
        let stats = model.stats();
        println!(
            "{} requests, {} x 429 in {} lockouts, {} sent while the lockout was known",
            stats.requests, stats.too_many, stats.lockouts, stats.sent_while_known_locked
        );
        assert!(stats.lockouts >= 1, "the model's budget was met");
        assert_eq!(
            stats.sent_while_known_locked, 0,
            "once a 429 was answered, nothing is sent until the lockout ends"
        );
        assert_eq!(reports.len(), ZONES);
        let failed: Vec<&Report> = reports
            .iter()
            .filter(|r| r.outcome == Outcome::Failed)
            .collect();
        assert!(
            failed.len() <= stats.too_many,
            "only zones that met a 429 failed"
        );
        for report in failed {
            let failure = report.failure.as_ref().unwrap();
            assert_eq!(
                (failure.status, failure.codes.as_slice()),
                (Some(429), &[971][..])
            );
        }
    });
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cf-dns-fleet-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn line(id: &str) -> String {
    format!(r#"{{"id":"{id}","name":null,"outcome":"changed","changes":[],"failure":null}}"#) + "\n"
}

#[test]
fn a_journal_keeps_finished_targets_refuses_another_run_and_drops_a_torn_line() {
    let path = scratch("journal").join("run.jsonl");
    let run = json!({"desired": DESIRED, "zones": ["a", "b"]});
    let journal = Journal::open(&path, &run).unwrap();
    assert!(journal.done().is_empty());
    drop(journal);
    let header = std::fs::read_to_string(&path).unwrap();
    let mut text = header.clone() + &line("a") + &line("b");
    // Killed while writing the third: a line without its end.
    text.push_str(r#"{"id":"c","name":null,"outc"#);
    std::fs::write(&path, &text).unwrap();

    let journal = Journal::open(&path, &run).unwrap();
    let done: Vec<(&str, bool)> = journal
        .done()
        .iter()
        .map(|r| (r.id.as_str(), r.from_journal))
        .collect();
    assert_eq!(done, [("a", true), ("b", true)]);
    drop(journal);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        header.clone() + &line("a") + &line("b"),
        "the torn line is gone, so the next append starts a line of its own"
    );

    let other = json!({"desired": DESIRED, "zones": ["a"]});
    let refused = Journal::open(&path, &other).unwrap_err();
    assert!(
        matches!(refused.kind(), ErrorKind::InvalidInput { field, problem }
            if field == "journal" && problem.contains("another desired state")),
        "{refused}"
    );

    std::fs::write(&path, "not a journal\n").unwrap();
    let refused = Journal::open(&path, &run).unwrap_err();
    assert!(
        refused.to_string().contains("is not a fleet journal"),
        "{refused}"
    );
}

/// The real tool, killed with SIGKILL mid-apply and started again with its journal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_apply_resumed_from_its_journal_reports_every_zone_once() {
    const ZONES: usize = 300;
    let mut slow = account(ZONES);
    for zone in &mut slow.zones {
        zone.rejects = None;
        zone.ignores = None;
        zone.unavailable_once = false;
    }
    slow.limit = Limit::CLOUDFLARE;
    slow.latency = Duration::from_millis(15);
    let model = mock::start(slow).await.unwrap();
    let dir = scratch("killed");
    let (desired, journal) = (dir.join("desired.json"), dir.join("journal.jsonl"));
    std::fs::write(&desired, DESIRED).unwrap();
    let tool = || {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_cf-dns-settings"));
        command
            .args([
                "zones",
                "apply",
                "--yes",
                "--output",
                "json",
                "--account-id",
                DEMO_ACCOUNT,
            ])
            .arg("--desired")
            .arg(&desired)
            .arg("--journal")
            .arg(&journal)
            .env("CLOUDFLARE_API_TOKEN", DEMO_TOKEN)
            .env("CLOUDFLARE_BASE_URL", &model.url)
            .env_remove("CLOUDFLARE_EMAIL")
            .env_remove("CLOUDFLARE_API_KEY")
            .env_remove("CLOUDFLARE_RATE_LIMIT_REDIS_URL")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        command
    };

    let mut first = tool().spawn().unwrap();
    // Kill it once a fifth of the zones are journaled (polled; a guard, not a timing).
    let mut polls = 0;
    loop {
        let text = std::fs::read_to_string(&journal).unwrap_or_default();
        if text.lines().count() > ZONES / 5 {
            break;
        }
        assert!(
            first.try_wait().unwrap().is_none(),
            "the tool ended before it was killed"
        );
        polls += 1;
        assert!(polls < 60_000, "the journal never grew");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    first.kill().await.unwrap(); // SIGKILL
    let journaled: BTreeSet<String> = std::fs::read_to_string(&journal)
        .unwrap()
        .split_inclusive('\n')
        .skip(1)
        .filter(|l| l.ends_with('\n'))
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(journaled.len() < ZONES, "killed mid-apply");
    let reads_at_kill: HashMap<String, u32> = model.stats().reads;

    let second = tool().output().await.unwrap();
    assert_eq!(
        second.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let lines: Vec<Value> = String::from_utf8(second.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (summary, zones) = lines.split_last().unwrap();
    let mut seen = BTreeMap::new();
    for zone in zones {
        let id = zone["zone_id"].as_str().unwrap().to_string();
        assert!(
            seen.insert(id.clone(), zone.clone()).is_none(),
            "{id} twice"
        );
        assert_eq!(
            zone["from_journal"].as_bool().unwrap(),
            journaled.contains(&id),
            "{id}: from the journal exactly when it was journaled"
        );
    }
    assert_eq!(seen.len(), ZONES, "every zone once");
    assert_eq!(summary["summary"]["zones"], json!(ZONES));
    assert_eq!(summary["summary"]["from_journal"], json!(journaled.len()));

    // Read again: only the zones in flight at the kill (read then, not journaled).
    let stats = model.stats();
    let again: Vec<&String> = stats
        .reads
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(id, _)| id)
        .collect();
    let in_flight = reads_at_kill
        .keys()
        .filter(|id| !journaled.contains(*id))
        .count();
    println!(
        "killed after {} journaled; {} zones in flight at the kill, {} read again",
        journaled.len(),
        in_flight,
        again.len()
    );
    assert!(
        again.len() <= 8,
        "at most the 8 in flight are read again: {}",
        again.len()
    );
    assert!(
        again.iter().all(|id| !journaled.contains(*id)),
        "a journaled zone was read again"
    );
    assert!(
        stats.patches.values().all(|n| *n == 1),
        "no zone PATCHed twice"
    );
    assert_eq!(stats.too_many, 0);
}
