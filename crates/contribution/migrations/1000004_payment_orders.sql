-- Issue 14: payments are confirmed by the collecting bank. A payer asks for
-- a payment order (the amount frozen for the day); a collecting bank (or an
-- operator) records the payment against it with its transaction reference
-- and the instant the money arrived; the bank may reverse it.

CREATE TABLE payment_orders (
    order_id   uuid        PRIMARY KEY,
    payer      text        NOT NULL,
    period     date        NOT NULL,
    amount_fen bigint      NOT NULL CHECK (amount_fen > 0),
    created_by text        NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL CHECK (expires_at > created_at)
);
CREATE INDEX payment_orders_payer ON payment_orders (payer, period);

-- Rows from before (self-certified by the payer) keep these empty.
ALTER TABLE payments
    ADD COLUMN order_id        uuid REFERENCES payment_orders,
    ADD COLUMN bank_code       text,
    ADD COLUMN bank_reference  text,
    ADD COLUMN paid_at         timestamptz,
    ADD COLUMN recorded_by     text,
    -- The answer the payment was recorded with (a Payment message), given
    -- again to a repeat of the same reference.
    ADD COLUMN answer          bytea,
    ADD COLUMN reversed_at     timestamptz,
    ADD COLUMN reversed_by     text,
    ADD COLUMN reversal_reason text;
-- One payment per order; one per (bank, reference).
CREATE UNIQUE INDEX payments_order ON payments (order_id);
CREATE UNIQUE INDEX payments_bank_reference ON payments (bank_code, bank_reference);
