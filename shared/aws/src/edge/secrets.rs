//! Secrets Manager: the current value of one secret, read when a caller asks (callers cache it:
//! every read is a billed request and a network round trip). A failure is mapped once, here, by
//! how the caller must react: throttling and outages are `Unavailable` (a webhook answers 503 and
//! its sender retries), anything else — a missing secret, a denied read — is `Unexpected`: the
//! deployment is wrong, and retrying will not fix it.

use aws_sdk_secretsmanager::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use oms_domain::AppError;

/// One secret, named by its ARN (or name), read as a string.
#[derive(Debug, Clone)]
pub struct SecretString {
    client: aws_sdk_secretsmanager::Client,
    secret_id: String,
}

impl SecretString {
    /// The secret `secret_id` (an ARN, a partial ARN or a name) read through `client`.
    pub fn new(client: aws_sdk_secretsmanager::Client, secret_id: impl Into<String>) -> Self {
        Self { client, secret_id: secret_id.into() }
    }

    /// The secret's current version (`AWSCURRENT`) as text; a binary secret is `Unexpected`.
    pub async fn current(&self) -> Result<String, AppError> {
        let answer = self.client.get_secret_value().secret_id(&self.secret_id).send().await.map_err(secret_error)?;
        answer.secret_string.ok_or_else(|| {
            AppError::Unexpected(format!("secret {} has no string value (a binary secret?)", self.secret_id).into())
        })
    }
}

fn secret_error<E, R>(err: SdkError<E, R>) -> AppError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let transient =
        matches!(err, SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_))
            || matches!(
                err.code(),
                Some("ThrottlingException" | "InternalServiceError" | "InternalServiceErrorException")
            );
    if transient {
        AppError::Unavailable(DisplayErrorContext(&err).to_string())
    } else {
        AppError::Unexpected(Box::new(err))
    }
}
