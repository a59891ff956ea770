DROP TABLE IF EXISTS idempotency_keys;
DROP TABLE IF EXISTS customers;
DROP TABLE IF EXISTS provider_accounts;
DROP TABLE IF EXISTS api_keys;
DROP TABLE IF EXISTS merchants;
