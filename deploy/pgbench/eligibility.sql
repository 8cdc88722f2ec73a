-- CheckEligibility's own SQL, for pgbench: the statements activation runs
-- for a hospital's eligibility check of a card presented by number and
-- identification code while its projection is fresh (3 statements; the
-- audit entry of the visit autocommitted). Captured from a run with
-- log_statement=all and kept equal to it by
-- tests/tests/pgbench_scripts.rs: change the service's SQL and this script
-- together.
--
-- Cards: each transaction checks a card picked at random from
-- pgbench_input.cards (i from 0 to -D cards minus 1), the cards the
-- activation script activated; reads only, so clients may share cards, as
-- the RPC load's clients do. The card number comes into the one statement
-- that reads the card as a primary-key subquery on pgbench_input (the
-- partner sends it in the request). The identification code's digest is
-- compared in the service, not in SQL. Values the service binds that do
-- not vary per request come from -D (the lines below; socsec-bench passes
-- them). Runs with search_path=activation (PGOPTIONS).
--
-- -D cards=6000
-- -D kind=hospital
-- -D code=H-001
-- -D window_secs=600
-- -D action=CheckEligibility
-- -D access=READ
\set i random(0, :cards - 1)
-- The caller's failed presentations (ensure_may_present).
SELECT count(f) AS count, min(f) AS oldest, now() AS now
         FROM presentation_failures p CROSS JOIN LATERAL unnest(p.failed_at) AS f
         WHERE p.actor_kind = :kind AND p.actor_code = :code
           AND f > now() - :window_secs * interval '1 second';
-- The card with its activation and its region's policy.
SELECT c.card_number, c.identification_code_sha256, c.serial_number, c.person_id,
                 c.bank_code, c.bank_card_number, c.issuing_region_code, c.status, c.received_at,
                 a.channel, a.partner_code, a.operator_id, a.activated_at,
                 a.retired_legacy_card_number, p.window_months, p.window_days, p.consequence
             FROM cards c
             LEFT JOIN activations a ON a.card_number = c.card_number
             LEFT JOIN region_policies p ON p.region_code = c.issuing_region_code
             WHERE c.card_number = (SELECT card_number FROM pgbench_input.cards WHERE i = :i) \gset c_
-- The visit, audited before the answer (record_visit).
INSERT INTO audit_log
             (actor_kind, actor_code, action, access, subject_id, request_id, on_behalf_of)
         VALUES (:kind, :code, :action, :access, :c_person_id, NULL, NULL) RETURNING id;
