-- PortOne V2 webhooks name a billing key only by the PG's key string.
CREATE INDEX billing_keys_provider_key ON billing_keys (provider_account_id, provider_key) WHERE provider_key IS NOT NULL;
