//! Every sample in `events/` is a real trigger of some function: parse each with the type its
//! function receives, so the samples (also used with `cargo lambda invoke --data-file`) cannot
//! rot. A new folder must be claimed here. And every sample outside `events/http/` is run
//! through its function's handler by a test in `functions/<name>/src/handler.rs`, which loads it
//! with `include_str!`: a sample no handler test loads fails here.

use std::path::{Path, PathBuf};

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use aws_lambda_events::dynamodb::Event as StreamEvent;
use oms_aws::edge::http::{ApiRequest, SignedRequest};
use oms_aws::relay::outbox_records;
use oms_domain::routing::PlacementPlan;
use oms_domain::usecases::placement::PlacementRequest;

fn samples(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "schemas") {
                continue;
            }
            files.extend(samples(&path));
        } else if path.extension().is_some_and(|e| e == "json") {
            files.push(path);
        }
    }
    files
}

#[test]
fn every_sample_event_parses_as_its_trigger() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events");
    let files = samples(&root);
    assert!(files.len() >= 13, "expected the samples under {root:?}");
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let kind = path.parent().unwrap().file_name().unwrap().to_str().unwrap().to_owned();
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        match (kind.as_str(), name.as_str()) {
            ("http", "tms-webhook") => {
                let event: ApiGatewayV2httpRequest =
                    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
                let request = SignedRequest::from_event(event).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
                assert!(request.header("x-tms-signature").is_some(), "{}: signed", path.display());
                serde_json::from_str::<serde_json::Value>(&request.body)
                    .unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
            }
            ("http", "get-openapi") => {
                // The one route without an authorizer that reads no body: the document.
                let event: ApiGatewayV2httpRequest =
                    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
                assert_eq!(event.route_key.as_deref(), Some("GET /v1/openapi.json"), "{}", path.display());
            }
            ("http", _) => {
                let event: ApiGatewayV2httpRequest =
                    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
                let request = ApiRequest::from_event(event).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
                if !request.route.starts_with("GET") {
                    request.optional_json_value().unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
                }
            }
            ("placement", "assign-hub" | "request-fulfillment" | "expire-reservation") => {
                serde_json::from_str::<PlacementRequest>(&text).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
            }
            ("placement", "placement-failed") => {
                serde_json::from_str::<oms_domain::usecases::placement::PlacementFailure>(&text)
                    .unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
            }
            ("placement", "reserve-stock") => {
                serde_json::from_str::<PlacementPlan>(&text).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
            }
            ("stream", _) => {
                let event: StreamEvent =
                    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
                let count = event.records.len();
                let messages = outbox_records(event).len();
                assert!(messages >= count, "{}: every record carries a message", path.display());
            }
            ("sqs", "channel-order") => {
                let event: aws_lambda_events::sqs::SqsEvent =
                    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
                for record in event.records {
                    let body: serde_json::Value = serde_json::from_str(record.body.as_deref().unwrap_or_default())
                        .unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
                    oms_aws::edge::http::decode::<oms_domain::usecases::channel_intake::ChannelOrder>(body)
                        .unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
                }
            }
            ("wms", _) => {
                let event: aws_lambda_events::eventbridge::EventBridgeEvent =
                    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
                assert_eq!(event.source, "wms");
                use oms_aws::edge::http::decode;
                use oms_domain::usecases::wms;
                let parsed = match event.detail_type.as_str() {
                    "StockAdjusted" => decode::<wms::StockAdjusted>(event.detail).map(drop),
                    "FulfillmentAccepted" => decode::<wms::FulfillmentAccepted>(event.detail).map(drop),
                    "PickCompleted" => decode::<wms::PickCompleted>(event.detail).map(drop),
                    "PackCompleted" => decode::<wms::PackCompleted>(event.detail).map(drop),
                    "ShipCompleted" => decode::<wms::ShipCompleted>(event.detail).map(drop),
                    "ReturnReceived" => decode::<oms_domain::usecases::returns::ReturnReceived>(event.detail).map(drop),
                    other => panic!("{}: unknown WMS event {other}", path.display()),
                };
                parsed.unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
            }
            ("bus", _) => {
                let event: aws_lambda_events::eventbridge::EventBridgeEvent<oms_domain::events::EventEnvelope> =
                    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
                assert_eq!(
                    (event.source.as_str(), event.detail_type.as_str()),
                    ("oms", event.detail.event.detail_type())
                );
            }
            ("scheduled", _) => {
                let event: aws_lambda_events::eventbridge::EventBridgeEvent =
                    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
                assert_eq!((event.source.as_str(), event.detail_type.as_str()), ("aws.events", "Scheduled Event"));
            }
            _ => panic!("{}: no test knows this kind of sample; claim it here", path.display()),
        }
    }
}

/// The folders whose samples are checked against the handler tests below. `http/` samples are
/// the HTTP functions' own (their routes' tests load them).
const HANDLER_TESTED: &[&str] = &["bus", "http", "placement", "scheduled", "sqs", "stream", "wms"];

#[test]
fn every_sample_is_loaded_by_a_handler_test() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut loaded = std::collections::BTreeSet::new();
    for function in std::fs::read_dir(root.join("functions")).unwrap() {
        let source = function.unwrap().path().join("src/handler.rs");
        let Ok(text) = std::fs::read_to_string(&source) else {
            panic!("{}: every function has a handler.rs", source.display());
        };
        const LOAD: &str = "include_str!(\"../../../events/";
        for (at, _) in text.match_indices(LOAD) {
            let path = &text[at + LOAD.len()..];
            loaded.insert(path[..path.find('"').unwrap()].to_owned());
        }
    }
    let mut listed: Vec<String> = Vec::new();
    for folder in std::fs::read_dir(root.join("events")).unwrap() {
        let folder = folder.unwrap().path();
        let name = folder.file_name().unwrap().to_str().unwrap().to_owned();
        if !folder.is_dir() || name == "schemas" {
            continue;
        }
        assert!(HANDLER_TESTED.contains(&name.as_str()), "events/{name}/: claim it in HANDLER_TESTED");
        for file in samples(&folder) {
            listed.push(format!("{name}/{}", file.strip_prefix(&folder).unwrap().display()));
        }
    }
    assert!(listed.len() >= 14, "expected the samples under events/: {listed:?}");
    let unloaded: Vec<&String> = listed.iter().filter(|s| !loaded.contains(*s)).collect();
    assert!(unloaded.is_empty(), "samples no handler test loads: {unloaded:?}");
}
