-- When a credential's last wrong password was: a day without one clears
-- the count, as it does for an ID number without a credential
-- (unknown_sign_ins), so the two cannot be told apart by waiting. NULL:
-- no failure recorded since this column came (the count stands).
ALTER TABLE online_credentials ADD COLUMN last_failed_at timestamptz;
