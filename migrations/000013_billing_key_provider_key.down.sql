DROP INDEX IF EXISTS billing_keys_provider_key;
