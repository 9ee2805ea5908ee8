//! Text inputs: names, units, free text, checked the same way everywhere.

use crate::kernel::error::AppError;

/// A sales channel's name: 1 to 32 lower-case letters, digits, `-` or `_` (`shopee`, `b2b-portal`).
pub fn channel_name(field: &str, value: &str) -> Result<String, AppError> {
    let ok = !value.is_empty()
        && value.len() <= 32
        && value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !ok {
        return Err(AppError::invalid(field, "a channel is 1 to 32 lower-case letters, digits, '-' or '_'"));
    }
    Ok(value.to_owned())
}

/// A unit of measure: 1 to 8 upper-case letters or digits (KG, TAN, EA, M3).
pub fn parse_unit(field: &str, value: &str) -> Result<String, AppError> {
    let unit = value.trim().to_ascii_uppercase();
    if unit.is_empty() || unit.len() > 8 || !unit.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(AppError::invalid(field, "unit must be 1 to 8 letters or digits, e.g. KG"));
    }
    Ok(unit)
}

/// Trimmed, non-empty text of at most `max` characters.
pub fn non_empty_text(field: &str, value: String, max: usize) -> Result<String, AppError> {
    let value = value.trim().to_owned();
    if value.is_empty() || value.chars().count() > max {
        return Err(AppError::invalid(field, format!("{field} must be 1 to {max} characters")));
    }
    Ok(value)
}
