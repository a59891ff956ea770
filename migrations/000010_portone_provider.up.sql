-- PortOne V2 joins Iamport and Bootpay as a provider: its accounts and the
-- billing keys registered through them are stored like the others'.
ALTER TABLE provider_accounts DROP CONSTRAINT provider_accounts_provider_check,
    ADD CONSTRAINT provider_accounts_provider_check CHECK (provider IN ('iamport', 'bootpay', 'portone'));
ALTER TABLE billing_keys DROP CONSTRAINT billing_keys_provider_check,
    ADD CONSTRAINT billing_keys_provider_check CHECK (provider IN ('iamport', 'bootpay', 'portone'));
