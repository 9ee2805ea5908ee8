//! Order listing latency with a small and a large table (see `oms_bench::listing`).

use oms_bench::args::{Flags, Parsed};
use oms_bench::dynamo::Target;
use oms_bench::listing::{Settings, run};

const USAGE: &str = "\
usage: list-latency [--small 1000] [--large 20000] [--calls 200] [--warmup 100] [--seed-concurrency 8]

Seeds a tenant with --small orders, times the order listing, grows the table to --large
orders (the tenant to half of them, the rest in peer tenants of --small orders) and times it
again. JSON on stdout, a summary on stderr.

environment: OMS_DYNAMODB_ENDPOINT (or AWS_ENDPOINT_URL_DYNAMODB), OMS_TABLE_NAME (created if
missing), AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY.";

#[tokio::main]
async fn main() -> std::process::ExitCode {
    oms_bench::exit("list-latency", measure().await)
}

async fn measure() -> Result<(), oms_bench::Error> {
    let Parsed::Run(flags) =
        Flags::parse(std::env::args().skip(1), &["small", "large", "calls", "warmup", "seed-concurrency"])?
    else {
        eprintln!("{USAGE}");
        return Ok(());
    };
    let settings = Settings {
        small: flags.count("small", 1000)?,
        large: flags.count("large", 20_000)?,
        calls: flags.count("calls", 200)?,
        warmup: flags.whole("warmup", 100)?,
        seed_concurrency: flags.count("seed-concurrency", 8)?,
    };
    let report = run(&Target::from_env()?, &settings).await?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
