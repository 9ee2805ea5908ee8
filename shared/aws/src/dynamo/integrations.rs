//! The registry of integrations: one item per (tenant, kind, principal), entity `INTEGRATION`, in
//! the tenant's `INTEGRATIONS` partition, so a check is one consistent read and a listing one
//! query of the tenant's own keys.

use aws_sdk_dynamodb::types::ReturnValue;
use oms_domain::integrations::{Integration, IntegrationKind, Principal};
use oms_domain::ports::IntegrationStore;
use oms_domain::{StoreError, TenantId};

use super::{DynamoStore, PK, SK, from_item, keys, s, store_error, to_item, with_keys};

impl IntegrationStore for DynamoStore {
    async fn get_integration(
        &self,
        tenant: &TenantId,
        kind: IntegrationKind,
        principal: &Principal,
    ) -> Result<Option<Integration>, StoreError> {
        let item = self.get(keys::integrations_pk(tenant), &keys::integration_sk(kind, principal)).await?;
        item.map(from_item).transpose()
    }

    async fn put_integration(&self, integration: &Integration) -> Result<(), StoreError> {
        let pk = keys::integrations_pk(&integration.tenant_id);
        let sk = keys::integration_sk(integration.kind, &integration.principal);
        let item = with_keys(to_item(integration)?, pk, sk, "INTEGRATION");
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(store_error)?;
        Ok(())
    }

    async fn delete_integration(
        &self,
        tenant: &TenantId,
        kind: IntegrationKind,
        principal: &Principal,
    ) -> Result<bool, StoreError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(PK, s(keys::integrations_pk(tenant)))
            .key(SK, s(keys::integration_sk(kind, principal)))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(store_error)?;
        Ok(out.attributes.is_some_and(|old| !old.is_empty()))
    }

    async fn list_integrations(&self, tenant: &TenantId) -> Result<Vec<Integration>, StoreError> {
        let items = self.query_all(None, PK, keys::integrations_pk(tenant), None).await?;
        items.into_iter().map(from_item).collect()
    }
}
