DROP TABLE IF EXISTS bootpay_user_tokens;
DROP TABLE IF EXISTS certifications;
ALTER TABLE customers DROP COLUMN IF EXISTS verified_at;
