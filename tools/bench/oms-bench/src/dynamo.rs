//! The endpoint, the client and the table.
//!
//! The client is built from `oms_aws::edge::runtime::aws_config()`, the configuration every function
//! starts with (retries, timeouts, HTTP client), pointed at the endpoint the benchmark names.
//! An endpoint is required: these tools write tens of thousands of items and must never reach
//! a real account because an environment variable was missing.
//!
//! The table is created, when missing, with the schema `infra/template.yaml` declares for
//! `OmsTable` (keys, the six indexes and their projections, the stream, TTL); a test below
//! keeps the two in step.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, StreamSpecification, StreamViewType, TableStatus, TimeToLiveSpecification,
};

use crate::Error;
use crate::probe::Probe;

/// Where the endpoint is read from, first set wins: the variable the tests use, then the SDK's
/// own service-specific override (which the local stack sets for the functions).
pub const ENDPOINT_VARS: [&str; 2] = ["OMS_DYNAMODB_ENDPOINT", "AWS_ENDPOINT_URL_DYNAMODB"];

/// The endpoint and the table a benchmark works on.
#[derive(Debug, Clone)]
pub struct Target {
    /// DynamoDB endpoint URL.
    pub endpoint: String,
    /// Table name (`OMS_TABLE_NAME`).
    pub table: String,
}

impl Target {
    /// Reads the endpoint and `OMS_TABLE_NAME` from the environment.
    pub fn from_env() -> Result<Self, Error> {
        let endpoint = ENDPOINT_VARS
            .iter()
            .find_map(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
            .ok_or_else(|| {
                format!("set {} to the DynamoDB endpoint (e.g. http://127.0.0.1:8000)", ENDPOINT_VARS.join(" or "))
            })?;
        let table = std::env::var("OMS_TABLE_NAME")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .ok_or("set OMS_TABLE_NAME to the table to benchmark on (created if missing)")?;
        Ok(Self { endpoint, table })
    }

    /// A client configured as the functions' is, at this endpoint, counting its requests into
    /// `probe` when given.
    pub async fn client(&self, probe: Option<&Probe>) -> Result<Client, Error> {
        let sdk = oms_aws::edge::runtime::aws_config().await?;
        if sdk.region().is_none() {
            return Err("set AWS_REGION (any region for DynamoDB Local, e.g. us-east-1)".into());
        }
        let mut config = aws_sdk_dynamodb::config::Builder::from(&sdk).endpoint_url(&self.endpoint);
        if let Some(probe) = probe {
            config = config.interceptor(probe.clone());
        }
        Ok(Client::from_conf(config.build()))
    }
}

/// An SDK error with its context (the SDK's own `Display` says only "service error").
pub fn sdk_error(error: impl std::error::Error) -> Error {
    DisplayErrorContext(error).to_string().into()
}

/// Attributes the status list (GSI2) projects beside its keys: the order summary and SKUs (an
/// entry moves with the status anyway).
pub const STATUS_PROJECTION: [&str; 12] = [
    "entity",
    "order_id",
    "order_number",
    "status",
    "customer_id",
    "customer_name",
    "currency",
    "grand_total",
    "created_at",
    "on_hold",
    "created_by",
    "skus",
];

/// What the lists by date (GSI1, stock by hub too) and by customer (GSI3) project: only what
/// never changes after the entry is written.
pub const BY_DATE_PROJECTION: [&str; 1] = ["created_by"];

/// Each index and the attributes it projects beside its keys (`None`: keys only).
const INDEXES: [(&str, Option<&[&str]>); 6] = [
    ("GSI1", Some(&BY_DATE_PROJECTION)),
    ("GSI2", Some(&STATUS_PROJECTION)),
    ("GSI3", Some(&BY_DATE_PROJECTION)),
    ("GSI4", None),
    ("GSI5", None),
    ("GSI6", None),
];

/// The time-to-live attribute (idempotency keys, outbox items, counters).
const TTL_ATTRIBUTE: &str = "expires_at";

fn key(name: &str, kind: KeyType) -> Result<KeySchemaElement, Error> {
    Ok(KeySchemaElement::builder().attribute_name(name).key_type(kind).build()?)
}

fn string_attribute(name: &str) -> Result<AttributeDefinition, Error> {
    Ok(AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build()?)
}

/// Creates the table when it does not exist and waits until it is active. Returns whether it
/// was created.
pub async fn ensure_table(client: &Client, table: &str) -> Result<bool, Error> {
    match client.describe_table().table_name(table).send().await {
        Ok(_) => return Ok(false),
        Err(err) if err.code() == Some("ResourceNotFoundException") => {}
        Err(err) => return Err(sdk_error(err)),
    }
    let mut create = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("PK", KeyType::Hash)?)
        .key_schema(key("SK", KeyType::Range)?)
        .attribute_definitions(string_attribute("PK")?)
        .attribute_definitions(string_attribute("SK")?)
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewAndOldImages)
                .build()?,
        );
    for (index, projected) in INDEXES {
        let (pk, sk) = (format!("{index}PK"), format!("{index}SK"));
        let projection = match projected {
            Some(attributes) => Projection::builder()
                .projection_type(ProjectionType::Include)
                .set_non_key_attributes(Some(attributes.iter().map(|a| (*a).to_owned()).collect()))
                .build(),
            None => Projection::builder().projection_type(ProjectionType::KeysOnly).build(),
        };
        create = create
            .attribute_definitions(string_attribute(&pk)?)
            .attribute_definitions(string_attribute(&sk)?)
            .global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(index)
                    .key_schema(key(&pk, KeyType::Hash)?)
                    .key_schema(key(&sk, KeyType::Range)?)
                    .projection(projection)
                    .build()?,
            );
    }
    match create.send().await {
        Ok(_) => {}
        // Another run created it meanwhile.
        Err(err) if err.code() == Some("ResourceInUseException") => return Ok(false),
        Err(err) => return Err(sdk_error(err)),
    }
    for _ in 0..60 {
        let described = client.describe_table().table_name(table).send().await.map_err(sdk_error)?;
        if described.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
            client
                .update_time_to_live()
                .table_name(table)
                .time_to_live_specification(
                    TimeToLiveSpecification::builder().enabled(true).attribute_name(TTL_ATTRIBUTE).build()?,
                )
                .send()
                .await
                .map_err(sdk_error)?;
            return Ok(true);
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    Err(format!("table {table} did not become active in 30 s").into())
}

/// The table's item count as DynamoDB reports it (DynamoDB Local counts live; AWS updates it
/// about every six hours).
pub async fn item_count(client: &Client, table: &str) -> Result<i64, Error> {
    let described = client.describe_table().table_name(table).send().await.map_err(sdk_error)?;
    Ok(described.table().and_then(|t| t.item_count()).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = include_str!("../../../../infra/template.yaml");

    /// The `OmsTable` resource's text, up to the next resource (the next line indented two
    /// spaces that starts a name).
    fn table_resource() -> &'static str {
        let start = TEMPLATE.find("\n  OmsTable:\n").expect("the template declares OmsTable") + 1;
        let rest = &TEMPLATE[start..];
        let end = rest
            .match_indices("\n  ")
            .map(|(i, _)| i)
            .find(|&i| rest[i + 3..].starts_with(|c: char| c.is_ascii_alphabetic()))
            .unwrap_or(rest.len());
        &rest[..end]
    }

    #[test]
    fn the_created_table_is_the_templates() {
        let table = table_resource();
        // An index's projection is written out once and then referred to by its YAML anchor.
        let anchors: Vec<(&str, &str)> = table
            .split("Projection: &")
            .skip(1)
            .filter_map(|rest| Some((rest.split_whitespace().next()?, rest)))
            .collect();
        let projected = |text: &str| -> Option<Vec<String>> {
            let line = text.lines().find(|l| l.trim_start().starts_with("Projection:"))?.trim();
            let body = match line.strip_prefix("Projection: *") {
                Some(alias) => anchors.iter().find(|(name, _)| *name == alias)?.1,
                None => text,
            };
            let list = body.lines().find_map(|l| l.trim().strip_prefix("NonKeyAttributes: ["))?.strip_suffix(']')?;
            Some(list.split(',').map(|a| a.trim().to_owned()).collect())
        };
        let declared: Vec<&str> = table.split("- IndexName: ").skip(1).collect();
        assert_eq!(declared.len(), INDEXES.len(), "the template has other indexes");
        for ((index, attributes), text) in INDEXES.iter().zip(declared) {
            assert!(text.starts_with(&format!("{index}\n")), "{index} is declared in this order");
            assert!(text.contains(&format!("{{ AttributeName: {index}PK, KeyType: HASH }}")));
            assert!(text.contains(&format!("{{ AttributeName: {index}SK, KeyType: RANGE }}")));
            let expected = attributes.map(|a| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
            assert_eq!(projected(text), expected, "{index}'s projection changed in the template");
        }
        assert!(table.contains("- { AttributeName: PK, KeyType: HASH }"));
        assert!(table.contains("- { AttributeName: SK, KeyType: RANGE }"));
        assert!(table.contains("StreamViewType: NEW_AND_OLD_IMAGES"));
        assert!(table.contains(&format!("AttributeName: {TTL_ATTRIBUTE}")));
    }
}
