-- Cards imported from the system a bureau replaces may come activated
-- there: through which channel and when (activation takes them from the
-- CardIssued event as the card's activation). Cards made here leave both
-- empty.
ALTER TABLE cards
    ADD COLUMN imported_activation_channel text,
    ADD COLUMN imported_activated_at       timestamptz,
    ADD CHECK ((imported_activation_channel IS NULL) = (imported_activated_at IS NULL));
