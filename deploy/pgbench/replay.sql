-- The replay of an answered ActivateAtBankOutlet, for pgbench: the one
-- statement activation runs when a request id it already answered comes
-- again (mutation::replay, before any remote read: the stored answer is
-- returned). Captured from a run with log_statement=all and kept equal to
-- it by tests/tests/pgbench_scripts.rs: change the service's SQL and this
-- script together.
--
-- Request ids: the activation script's (900000000 + i); client c's k-th
-- transaction replays i = c + clients * k, so with the same -c and -t as
-- that run every answered request is replayed once, as the RPC load
-- replays each of its activations once. \gset makes a missing answer fail
-- the transaction. Values the service binds that do not vary per request
-- come from -D (the lines below; socsec-bench passes them). Runs with
-- search_path=activation (PGOPTIONS).
--
-- -D clients=8
-- -D k=0
-- -D caller=bank_outlet:ICBC-0101
\set i :client_id + :clients * :k
\set k :k + 1
\set request_id 900000000 + :i
SELECT rpc, request_hash, response FROM idempotency_keys
         WHERE caller = :caller AND request_id = :request_id \gset r_
