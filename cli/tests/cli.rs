//! The `cf-dns-settings` process against the loopback model of an account: its exit codes (0
//! converged, 2 a plan with changes, 1 a zone failed or did not converge), `apply` without
//! `--yes` being a plan, a desired file refused before any request, no credentials named
//! clearly, and the token never printed.

use std::process::Output;
use std::time::Duration;

use cloudflare_dns_settings_cli::mock::{self, Account, DEMO_ACCOUNT, DEMO_TOKEN, Limit, Running};
use serde_json::Value;

const DESIRED: &str = r#"{"ns_ttl": 3600, "multi_provider": true}"#;

fn account(zones: usize) -> Account {
    Account {
        zones: mock::zones(zones),
        limit: Limit::CLOUDFLARE,
        forbid_settings: false,
        latency: Duration::ZERO,
        per_zone_stats: true,
    }
}

async fn tool(model: Option<&Running>, desired: &str, args: &[&str]) -> Output {
    let dir = std::env::temp_dir().join(format!("cf-dns-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    static FILES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = FILES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let file = dir.join(format!("desired-{n}.json"));
    std::fs::write(&file, desired).unwrap();
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_cf-dns-settings"));
    command
        .args(args)
        .arg("--desired")
        .arg(&file)
        .env_remove("CLOUDFLARE_API_TOKEN")
        .env_remove("CLOUDFLARE_EMAIL")
        .env_remove("CLOUDFLARE_API_KEY")
        .env_remove("CLOUDFLARE_BASE_URL")
        .env_remove("CLOUDFLARE_ACCOUNT_ID")
        .env_remove("CLOUDFLARE_RATE_LIMIT_REDIS_URL");
    if let Some(model) = model {
        command
            .env("CLOUDFLARE_API_TOKEN", DEMO_TOKEN)
            .env("CLOUDFLARE_BASE_URL", &model.url)
            .env("CLOUDFLARE_ACCOUNT_ID", DEMO_ACCOUNT);
    }
    let output = command.output().await.unwrap();
    let printed = [&output.stdout[..], &output.stderr[..]].concat();
    assert!(
        !String::from_utf8_lossy(&printed).contains(DEMO_TOKEN),
        "the token was printed"
    );
    output
}

fn summary(output: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().last().expect("a summary line");
    serde_json::from_str::<Value>(last).unwrap()["summary"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_codes_say_converged_pending_or_failed_and_apply_needs_yes() {
    let mut model_account = account(60);
    model_account.zones[7].rejects = Some("multi_provider".into());
    let model = mock::start(model_account).await.unwrap();
    let json = ["--output", "json"];

    let plan = tool(
        Some(&model),
        DESIRED,
        &[&["zones", "plan"][..], &json].concat(),
    )
    .await;
    assert_eq!(plan.status.code(), Some(2), "a plan with changes");
    assert_eq!(summary(&plan)["planned"], 60);

    let no_yes = tool(
        Some(&model),
        DESIRED,
        &[&["zones", "apply"][..], &json].concat(),
    )
    .await;
    assert_eq!(
        no_yes.status.code(),
        Some(2),
        "apply without --yes is a plan"
    );
    assert!(String::from_utf8_lossy(&no_yes.stderr).contains("without --yes"));
    assert!(model.stats().patches.is_empty(), "nothing was PATCHed");

    let apply = tool(
        Some(&model),
        DESIRED,
        &[&["zones", "apply", "--yes"][..], &json].concat(),
    )
    .await;
    assert_eq!(apply.status.code(), Some(1), "one zone failed");
    let s = summary(&apply);
    assert_eq!(
        (s["changed"].as_u64(), s["failed"].as_u64()),
        (Some(59), Some(1))
    );
    let failed: Vec<Value> = String::from_utf8_lossy(&apply.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["outcome"] == "failed")
        .collect();
    assert_eq!(failed.len(), 1);
    let error = failed[0]["error"].as_str().unwrap();
    assert!(error.contains("1011") && error.contains("400"), "{error}");

    // Converged but the rejecting zone: a plan of the other 59 has nothing to change.
    let others: Vec<String> = (0..60)
        .filter(|i| *i != 7)
        .map(|i| format!("--zone={:032x}", 0x00c0_ffee_0000_u64 + i))
        .collect();
    let mut args: Vec<&str> = vec!["zones", "plan", "--output", "json"];
    args.extend(others.iter().map(String::as_str));
    let again = tool(Some(&model), DESIRED, &args).await;
    assert_eq!(again.status.code(), Some(0), "converged");
    assert_eq!(summary(&again)["unchanged"], 59);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desired_file_the_patch_refuses_is_refused_before_any_request() {
    let model = mock::start(account(10)).await.unwrap();
    for (desired, field) in [
        (r#"{"ns_ttl": 3600, "no_such_field": 1}"#, "no_such_field"),
        (r#"{"soa": {"refresh": "often"}}"#, "soa.refresh"),
        (r#"{"ns_ttl": 5}"#, "ns_ttl"),
    ] {
        let output = tool(Some(&model), desired, &["zones", "apply", "--yes"]).await;
        assert_eq!(output.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(&format!("`{field}`")), "{stderr}");
    }
    assert_eq!(model.stats().requests, 0, "nothing was sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_credentials_the_tool_names_the_variables_to_set() {
    let output = tool(
        None,
        DESIRED,
        &["zones", "plan", "--account-id", DEMO_ACCOUNT],
    )
    .await;
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for variable in [
        "CLOUDFLARE_API_TOKEN",
        "CLOUDFLARE_EMAIL",
        "CLOUDFLARE_API_KEY",
        "--demo",
    ] {
        assert!(stderr.contains(variable), "{variable} not named: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_says_it_is_a_demo_and_plans_every_zone() {
    let output = tool(
        None,
        DESIRED,
        &["zones", "plan", "--demo", "--output", "json"],
    )
    .await;
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("demo: against an embedded mock"));
    let s = summary(&output);
    assert_eq!(s["zones"], 300);
    assert_eq!(s["from_journal"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_single_target_commands_plan_then_apply_then_have_nothing_to_do() {
    let model = mock::start(account(3)).await.unwrap();
    let zone = format!("{:032x}", 0x00c0_ffee_0001_u64);
    let account_desired = r#"{"zone_defaults": {"ns_ttl": 7200}}"#;
    for (desired, args) in [
        (account_desired, vec!["account"]),
        (DESIRED, vec!["zone", zone.as_str()]),
    ] {
        let plan = tool(Some(&model), desired, &args).await;
        assert_eq!(plan.status.code(), Some(2), "{args:?}: a plan with changes");
        let yes: Vec<&str> = args.iter().copied().chain(["--yes"]).collect();
        let apply = tool(Some(&model), desired, &yes).await;
        assert_eq!(
            apply.status.code(),
            Some(0),
            "{args:?}: applied and converged"
        );
        let json: Vec<&str> = args.iter().copied().chain(["--output", "json"]).collect();
        let again = tool(Some(&model), desired, &json).await;
        assert_eq!(again.status.code(), Some(0), "{args:?}: nothing left");
        let line: Value = serde_json::from_slice(&again.stdout).unwrap();
        assert_eq!(line["outcome"], "unchanged");
    }
    assert_eq!(model.settings(&zone).unwrap()["ns_ttl"], 3600);
    assert_eq!(model.stats().patches.get(&zone), Some(&1));
}
