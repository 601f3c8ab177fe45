-- A TOTP secret is stored as soon as enrolment starts (so the QR code survives a page reload
-- and another node can confirm it) but only counts once the citizen typed a code from it:
-- confirmed_at NULL means pending. Secrets enrolled before this migration were confirmed
-- when enrolled. Keep in step with ../sqlite/0005_totp_confirmation.sql.

ALTER TABLE totp_secrets ADD COLUMN confirmed_at BIGINT;

UPDATE totp_secrets SET confirmed_at = enrolled_at;
