//! The DynamoDB endpoint's request rate for an order's requests (see `oms_bench::rate`).

use oms_bench::args::{Flags, Parsed};
use oms_bench::dynamo::Target;
use oms_bench::rate::{Settings, run};

const USAGE: &str = "\
usage: dynamo-rate [--concurrency 1,4,16] [--seconds 5] [--warmup 1]

At each concurrency, that many tasks send GetItem, PutItem, Query and TransactWriteItems
in turn for --seconds (after --warmup untimed seconds). Requests per second per kind and
overall: JSON on stdout, a summary on stderr.

environment: OMS_DYNAMODB_ENDPOINT (or AWS_ENDPOINT_URL_DYNAMODB), OMS_TABLE_NAME (created if
missing), AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY.";

#[tokio::main]
async fn main() -> std::process::ExitCode {
    oms_bench::exit("dynamo-rate", measure().await)
}

async fn measure() -> Result<(), oms_bench::Error> {
    let Parsed::Run(flags) = Flags::parse(std::env::args().skip(1), &["concurrency", "seconds", "warmup"])? else {
        eprintln!("{USAGE}");
        return Ok(());
    };
    let settings = Settings {
        concurrency: flags.counts("concurrency", &[1, 4, 16])?,
        seconds: flags.count("seconds", 5)? as u64,
        warmup_seconds: flags.whole("warmup", 1)? as u64,
    };
    let report = run(&Target::from_env()?, &settings).await?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
