-- Identity verifications (본인인증) and Bootpay user tokens.
--
-- Identity is personal data: the name, phone, birth, gender, carrier and
-- foreigner flag of a certification are one AES-256-GCM sealed JSON blob
-- (bound to the row id), beside the id of the key that sealed it. The CI and
-- DI are never stored: only their keyed hashes (HMAC-SHA-256 under the
-- keyring's lookup key), so one person can be recognised across customers
-- without the identifier itself being kept.

ALTER TABLE customers ADD COLUMN verified_at timestamptz;

CREATE TABLE certifications (
    id                  text COLLATE "C" PRIMARY KEY,
    merchant_id         text COLLATE "C" NOT NULL REFERENCES merchants (id),
    mode                text NOT NULL CHECK (mode IN ('test', 'live')),
    provider_account_id text COLLATE "C" NOT NULL REFERENCES provider_accounts (id),
    provider            text NOT NULL CHECK (provider IN ('bootpay')),
    receipt_id          text NOT NULL CHECK (length(receipt_id) BETWEEN 1 AND 64),
    customer_id         text COLLATE "C" REFERENCES customers (id),
    -- only completed verifications are stored
    status              text NOT NULL CHECK (status IN ('verified')),
    identity_sealed     bytea NOT NULL,
    identity_key_id     text NOT NULL,
    ci_hmac             bytea NOT NULL CHECK (length(ci_hmac) = 32),
    di_hmac             bytea CHECK (length(di_hmac) = 32),
    -- shown to the merchant: derived from ci_hmac, scoped to merchant and mode
    person_id           text NOT NULL,
    -- which requirements were checked (never the compared values)
    requirements        jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(requirements) = 'object'),
    verified_at         timestamptz NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now()
);
-- A receipt proves one verification once: a replay must not mint a second
-- certification (nor link the identity to a second customer).
CREATE UNIQUE INDEX certifications_receipt ON certifications (merchant_id, mode, receipt_id);
CREATE INDEX certifications_person ON certifications (merchant_id, mode, person_id, id DESC);
CREATE INDEX certifications_ci ON certifications (ci_hmac);
CREATE INDEX certifications_customer ON certifications (customer_id, id DESC) WHERE customer_id IS NOT NULL;

-- One cached Bootpay user token per customer and Bootpay account. The token
-- opens the customer's password window (a bearer credential): sealed, bound
-- to (customer_id, provider_account_id). request_hmac is a keyed hash of the
-- customer data it was issued for, so a changed customer gets a new token.
CREATE TABLE bootpay_user_tokens (
    customer_id         text COLLATE "C" NOT NULL REFERENCES customers (id),
    provider_account_id text COLLATE "C" NOT NULL REFERENCES provider_accounts (id),
    merchant_id         text COLLATE "C" NOT NULL REFERENCES merchants (id),
    mode                text NOT NULL CHECK (mode IN ('test', 'live')),
    token_sealed        bytea NOT NULL,
    token_key_id        text NOT NULL,
    request_hmac        bytea NOT NULL CHECK (length(request_hmac) = 32),
    expires_at          timestamptz NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, provider_account_id)
);
