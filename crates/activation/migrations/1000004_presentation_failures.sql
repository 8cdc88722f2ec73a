-- Each caller's failed card presentations, one row per caller (issue 24).
--
-- The limit on failed presentations used to count a caller's FAILED_ATTEMPT
-- entries in the audit trail on every presentation: a scan of the audit
-- table on the hot path. This row holds the instants of the caller's recent
-- failures instead, written by one upsert per failure (which also drops the
-- ones older than the window) and read by its primary key. The audit trail
-- still records every failure.
CREATE TABLE presentation_failures (
    actor_kind text NOT NULL,
    actor_code text NOT NULL,
    failed_at timestamptz[] NOT NULL,
    PRIMARY KEY (actor_kind, actor_code)
);

-- The failures of the last day carry over (the window is configured, at
-- most a day is the documented range; the first new failure trims the rest).
INSERT INTO presentation_failures (actor_kind, actor_code, failed_at)
SELECT actor_kind, actor_code, array_agg(at ORDER BY at)
FROM audit_log
WHERE access = 'FAILED_ATTEMPT' AND at > now() - interval '1 day'
GROUP BY actor_kind, actor_code;
