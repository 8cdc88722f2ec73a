-- Rounding in integer arithmetic: `numerator / denominator` fen, both
-- non-negative, rounded half up to the fen or up to the jiao. Exact like
-- the numeric version it replaces, and several times faster in the run.
-- Mirrors Rounding::apply in the service.
CREATE FUNCTION round_fen(numerator bigint, denominator bigint, rule text) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT CASE rule
        WHEN 'UP_JIAO' THEN (numerator + 10 * denominator - 1) / (10 * denominator) * 10
        ELSE (2 * numerator + denominator) / (2 * denominator)
    END
$$;

DROP FUNCTION round_fen(numeric, text);
