-- Cards imported before imports moved the numbering sequences past their
-- numbers (store::numbering): move them now, so a card issued next never
-- takes an imported card's number, serial number or bank card number.
-- Cards made here lie below their sequences already (a 19-digit bank card
-- number a bank gave may move its sequence: harmless, 10^12 numbers).
WITH highest AS (
    SELECT max((ascii(left(card_number, 1)) - 65)::bigint * 10000000
               + substr(card_number, 2, 7)::bigint) AS card,
           max(substr(serial_number, 7, 8)::bigint) AS serial,
           max(substr(bank_card_number, 7, 12)::bigint)
               FILTER (WHERE length(bank_card_number) = 19) AS bank_card
    FROM cards)
SELECT
    CASE WHEN card >= COALESCE(pg_sequence_last_value('card_number_seq') + 1, 0)
         THEN setval('card_number_seq', card) END,
    CASE WHEN serial >= COALESCE(pg_sequence_last_value('serial_number_seq') + 1, 0)
         THEN setval('serial_number_seq', serial) END,
    CASE WHEN bank_card >= COALESCE(pg_sequence_last_value('bank_card_number_seq') + 1, 0)
         THEN setval('bank_card_number_seq', bank_card) END
FROM highest;
