//! Validated identifiers. Parsing happens once, at the edge; everything past it holds the newtype.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::kernel::error::AppError;

/// Characters allowed in identifiers supplied by clients. `#` is excluded on purpose: adapters
/// use it as the key separator, so an id can never forge another tenant's key.
fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')
}

fn validate(field: &str, value: &str, max: usize) -> Result<(), AppError> {
    if value.is_empty() || value.len() > max || !value.chars().all(is_id_char) {
        return Err(AppError::invalid(
            field,
            format!("{field} must be 1 to {max} characters of letters, digits, '-', '_', '.', ':'"),
        ));
    }
    Ok(())
}

/// [`is_id_char`] as a JSON Schema pattern, for the OpenAPI document.
#[cfg(feature = "openapi")]
const ID_PATTERN: &str = "^[A-Za-z0-9._:-]+$";

/// A string of 1 to `max` characters matching `pattern`: what a validated id accepts, said in
/// the schema so that clients (and the API fuzzer) send ids the edge takes.
#[cfg(feature = "openapi")]
pub(crate) fn text_schema(pattern: &str, max: usize) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .min_length(Some(1))
        .max_length(Some(max))
        .pattern(Some(pattern))
        .into()
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $field:literal, $max:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses a client-supplied value.
            pub fn parse(value: impl Into<String>) -> Result<Self, AppError> {
                let value = value.into();
                validate($field, &value, $max)?;
                Ok(Self(value))
            }

            /// The id as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = AppError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                text_schema(ID_PATTERN, $max)
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}
    };
}

id_type!(
    /// The tenant every record belongs to.
    TenantId, "tenant_id", 64
);
id_type!(
    /// An order's id: a ULID, so ids sort by creation time.
    OrderId, "order_id", 64
);
id_type!(
    /// A stock-keeping unit code.
    Sku, "sku", 64
);
id_type!(
    /// A hub (warehouse, port, in-transit stock) code.
    HubId, "hub_id", 64
);
id_type!(
    /// An order line's id, unique within its order (`L1`, `L2`, ...).
    LineId, "order_line_id", 16
);

impl OrderId {
    /// A new, time-ordered order id.
    pub fn generate() -> Self {
        Self(ulid::Ulid::new().to_string())
    }
}

impl LineId {
    /// The id of the line at `index` (0-based) when the order is created.
    pub fn for_position(index: usize) -> Self {
        Self(format!("L{}", index + 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_key_separator_and_empty() {
        assert!(TenantId::parse("acme").is_ok());
        assert!(TenantId::parse("acme#ORDER#x").is_err());
        assert!(Sku::parse("").is_err());
        assert!(HubId::parse("x".repeat(65)).is_err());
    }

    #[test]
    fn generated_order_ids_sort_by_time() {
        let a = OrderId::generate();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = OrderId::generate();
        assert!(a < b);
    }
}
