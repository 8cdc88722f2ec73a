-- Cards presented with their identification code (issue 14, "no probing").
--
-- The projection keeps only a digest of each card's identification code:
-- SHA-256 of card number, ':', code (the service computes the same digest of
-- the code presented and compares in constant time). A reader of this
-- database cannot present a card from it.
ALTER TABLE cards ADD COLUMN identification_code_sha256 bytea;
UPDATE cards SET identification_code_sha256 =
    sha256(convert_to(card_number || ':' || card_identification_code, 'UTF8'));
ALTER TABLE cards ALTER COLUMN identification_code_sha256 SET NOT NULL;
ALTER TABLE cards DROP COLUMN card_identification_code;
