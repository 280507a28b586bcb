//! Two processes sharing one rate-limit budget through Redis (the `redis` feature).
//!
//! Run with a Redis server named by `CLOUDFLARE_RATE_LIMIT_REDIS_URL`:
//!
//! ```text
//! redis-server --port 6390 --save '' &
//! CLOUDFLARE_RATE_LIMIT_REDIS_URL=redis://127.0.0.1:6390/ \
//!     cargo run -p cloudflare-dns-settings-examples --features redis --example shared_budget
//! ```
//!
//! It starts the embedded mock Cloudflare, then this program twice more as two separate
//! processes (`--member 0`, `--member 1`), each reading the account settings 10 times with the
//! same token, both starting from a budget of 10 requests per 5 seconds. Each process alone
//! would spend the whole budget at once; sharing it, the 20 calls need a second window, and the
//! output says so (`process 1: 10 calls in 5.0 s`, `process 0: 10 calls in 5.0 s`: the first
//! window's 10 went to both). Without `CLOUDFLARE_RATE_LIMIT_REDIS_URL` the members pace alone
//! and both finish at once (`0.0 s`), twice the budget spent: the contrast. (With real credentials a process would read
//! them from the environment as usual; this example only talks to its mock.)

mod support;

use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use cloudflare_dns_settings::{Client, Error, ErrorKind, RATE_LIMIT_STORE_ENV};
use support::{DEMO_ACCOUNT, mock_cloudflare, report};

const CALLS: usize = 10;
const BUDGET: (u32, Duration) = (10, Duration::from_secs(5));
const TOKEN: &str = "demo-token-shared-by-both-processes";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let result = match args.iter().position(|a| a == "--member") {
        Some(i) => member(&args[i + 1], &args[i + 3]).await,
        None => parent().await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            report(&error);
            ExitCode::FAILURE
        }
    }
}

/// Starts the mock and two members, and waits for them.
async fn parent() -> Result<(), Error> {
    let store = std::env::var(RATE_LIMIT_STORE_ENV).ok();
    match &store {
        Some(url) => println!(
            "sharing the budget through {}",
            url.split('@').next_back().unwrap_or(url)
        ),
        None => println!("{RATE_LIMIT_STORE_ENV} is not set: each process paces alone"),
    }
    let base_url = mock_cloudflare()
        .await
        .map_err(|e| config(format!("cannot start the mock: {e}")))?;
    let exe = std::env::current_exe().map_err(|e| config(e.to_string()))?;
    let members: Vec<_> = (0..2)
        .map(|i| {
            Command::new(&exe)
                .args(["--member", &i.to_string(), "--base-url", &base_url])
                .spawn()
                .map_err(|e| config(format!("cannot start a member: {e}")))
        })
        .collect::<Result<_, _>>()?;
    // The mock runs on this process's runtime: wait for the members off it.
    tokio::task::spawn_blocking(move || {
        for mut member in members {
            let _ = member.wait();
        }
    })
    .await
    .map_err(|e| config(e.to_string()))?;
    Ok(())
}

/// One member: `CALLS` reads with the shared token, starting from `BUDGET`.
async fn member(name: &str, base_url: &str) -> Result<(), Error> {
    let client = Client::builder()
        .env_with(|var| match var {
            "CLOUDFLARE_API_TOKEN" => Some(TOKEN.to_string()),
            "CLOUDFLARE_BASE_URL" => Some(base_url.to_string()),
            // The store, when set: CLOUDFLARE_RATE_LIMIT_REDIS_URL.
            other => std::env::var(other).ok(),
        })?
        .rate_limit(BUDGET.0, BUDGET.1)
        .build()?;
    let started = Instant::now();
    for _ in 0..CALLS {
        client.account_get().account_id(DEMO_ACCOUNT).send().await?;
    }
    println!(
        "process {name} (pid {}): {CALLS} calls in {:.1} s",
        std::process::id(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// What this example could not do, as the crate's error.
fn config(problem: String) -> Error {
    ErrorKind::Config(problem).into()
}
