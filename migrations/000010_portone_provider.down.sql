-- Fails while PortOne accounts or keys exist: delete them first, on purpose.
ALTER TABLE billing_keys DROP CONSTRAINT billing_keys_provider_check,
    ADD CONSTRAINT billing_keys_provider_check CHECK (provider IN ('iamport', 'bootpay'));
ALTER TABLE provider_accounts DROP CONSTRAINT provider_accounts_provider_check,
    ADD CONSTRAINT provider_accounts_provider_check CHECK (provider IN ('iamport', 'bootpay'));
