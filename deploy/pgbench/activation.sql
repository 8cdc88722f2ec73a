-- ActivateAtBankOutlet's own SQL, for pgbench: the statements activation
-- and identity run for one first activation at a bank outlet, in their
-- order, in the same transactions (12 statements; two commits that write:
-- identity's audited holder check, autocommitted, and activation's one
-- transaction). Captured from a run with log_statement=all and kept equal
-- to it by tests/tests/pgbench_scripts.rs: change the services' SQL and
-- this script together.
--
-- Cards: pgbench_input.cards(i, card_number) lists received cards prepared
-- like the benchmark's (through the services), none of them touched by the
-- RPC loads. Client c's k-th transaction takes card c + clients * k: every
-- transaction activates a card not yet activated, no two clients share one,
-- and the run's -t (transactions per client) times -c must not exceed the
-- cards listed. The card number comes into the statement that first reads
-- the card as a primary-key subquery on pgbench_input (the partner sends it
-- in the request); later statements use the values that read returned, as
-- the service does. Request ids are 900000000 + i (ids the RPCs never use).
--
-- Values the service binds that do not vary per request come from -D (the
-- lines below; socsec-bench passes them). The stored answer and the event
-- payload are constant bytes of the real ones' length (42 and 84 bytes,
-- copied from a run); the request hash is 32 bytes as the service's is.
-- Runs with search_path=activation (PGOPTIONS); identity's tables are
-- qualified.
--
-- -D clients=8
-- -D k=0
-- -D caller=bank_outlet:ICBC-0101
-- -D kind=bank_outlet
-- -D code=ICBC-0101
-- -D rpc=ActivateAtBankOutlet
-- -D window_secs=600
-- -D request_hash=\x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
-- -D channel=BANK_OUTLET
-- -D operator_id=T1
-- -D event_types={CardActivated}
-- -D event_payloads={"\\x52520a2a0a0941303030303030303810011a09494342432d30313031220254312a0c08e9b0bdd8061083c4c7c703122430316132333366312d346532382d373738652d386134382d393661333638396231313161"}
-- -D response=\x0a0941303030303030303810011a09494342432d30313031220254312a0c08e9b0bdd8061083c4c7c703
-- -D traceparent=00-4e6c24ea22303d2f33eee143705e0fef-ad5e2ffa650cff64-00
-- -D holder_actor_kind=service
-- -D holder_actor_code=activation
-- -D holder_action=VerifyHolder
-- -D holder_access=READ
\set i :client_id + :clients * :k
\set k :k + 1
\set request_id 900000000 + :i
-- The retry check before any remote read (mutation::replay).
SELECT rpc, request_hash, response FROM idempotency_keys
         WHERE caller = :caller AND request_id = :request_id;
-- The caller's failed presentations (ensure_may_present).
SELECT count(f) AS count, min(f) AS oldest, now() AS now
         FROM presentation_failures p CROSS JOIN LATERAL unnest(p.failed_at) AS f
         WHERE p.actor_kind = :kind AND p.actor_code = :code
           AND f > now() - :window_secs * interval '1 second' \gset f_
-- The card as it stands (presented_card).
SELECT c.card_number, c.identification_code_sha256, c.serial_number, c.person_id,
                 c.bank_code, c.bank_card_number, c.issuing_region_code, c.status, c.received_at,
                 a.channel, a.partner_code, a.operator_id, a.activated_at,
                 a.retired_legacy_card_number, p.window_months, p.window_days, p.consequence
             FROM cards c
             LEFT JOIN activations a ON a.card_number = c.card_number
             LEFT JOIN region_policies p ON p.region_code = c.issuing_region_code
             WHERE c.card_number = (SELECT card_number FROM pgbench_input.cards WHERE i = :i) \gset c_
-- Identity's VerifyHolder: the person, and the audited read.
SELECT person_id, id_number, birth_date, region_code, version, name, gender, ethnicity, phone, address, status, registered_at, confirmed_at FROM identity.persons WHERE person_id = :c_person_id;
INSERT INTO identity.audit_log
             (actor_kind, actor_code, action, access, subject_id, request_id, on_behalf_of)
         VALUES (:holder_actor_kind, :holder_actor_code, :holder_action, :holder_access, :c_person_id, :request_id, :caller) RETURNING id;
-- mutation::run: claim, lock, re-read, act, answer + event + audit, commit.
BEGIN;
INSERT INTO idempotency_keys (caller, request_id, rpc, request_hash)
         VALUES (:caller, :request_id, :rpc, :request_hash) ON CONFLICT (caller, request_id) DO NOTHING;
SELECT card_number FROM cards WHERE card_number = :c_card_number FOR UPDATE;
SELECT c.card_number, c.identification_code_sha256, c.serial_number, c.person_id,
                 c.bank_code, c.bank_card_number, c.issuing_region_code, c.status, c.received_at,
                 a.channel, a.partner_code, a.operator_id, a.activated_at,
                 a.retired_legacy_card_number, p.window_months, p.window_days, p.consequence
             FROM cards c
             LEFT JOIN activations a ON a.card_number = c.card_number
             LEFT JOIN region_policies p ON p.region_code = c.issuing_region_code
             WHERE c.card_number = :c_card_number;
INSERT INTO activations (card_number, person_id, channel, partner_code, operator_id,
             activated_at, request_id, retired_legacy_card_number)
         VALUES (:c_card_number, :c_person_id, :channel, :code, :operator_id, :f_now, :request_id, NULL) ON CONFLICT (card_number) DO NOTHING;
WITH answer AS (
                 UPDATE idempotency_keys SET response = :response WHERE caller = :caller AND request_id = :request_id),
    event AS (
        INSERT INTO outbox (event_type, payload, traceparent, tracestate)
        SELECT u.t, u.p, :traceparent::text, NULL::text
        FROM UNNEST(:event_types::text[], :event_payloads::bytea[]) WITH ORDINALITY AS u(t, p, n)
        ORDER BY u.n),
             audit AS (
                 INSERT INTO audit_log
                     (actor_kind, actor_code, action, access, subject_id, request_id, on_behalf_of)
                 SELECT :kind, :code, :rpc, 'CHANGE', s, :request_id, NULL FROM UNNEST(ARRAY[:c_person_id]::text[]) AS u(s))
             SELECT CASE WHEN cardinality(:event_types::text[]) > 0
                 THEN pg_notify(current_schema() || '.outbox', '') END;
COMMIT;
