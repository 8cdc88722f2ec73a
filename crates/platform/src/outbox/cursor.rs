//! Positions in the outbox as consumers hold and give them back.

use sqlx::PgPool;

/// A position in the outbox, as consumers hold it: the position of the last
/// event they processed (`0`: before the first).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cursor(pub(super) i64);

/// A cursor as a consumer gave it back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GivenCursor {
    Position(Cursor),
    /// `TXID-SEQ`, issued before events were numbered in commit order: the
    /// consumer has seen every event up to and including that one.
    Legacy {
        txid: i64,
        seq: i64,
    },
}

impl Cursor {
    /// Parses a cursor given back by a consumer; empty is the beginning.
    pub fn parse(value: &str) -> Option<GivenCursor> {
        if value.is_empty() {
            return Some(GivenCursor::Position(Self::default()));
        }
        let number = |v: &str| v.parse::<i64>().ok().filter(|n| *n >= 0);
        match value.split_once('-') {
            None => Some(GivenCursor::Position(Self(number(value)?))),
            Some((txid, seq)) => Some(GivenCursor::Legacy {
                txid: number(txid)?,
                seq: number(seq)?,
            }),
        }
    }

    pub fn position(self) -> i64 {
        self.0
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl GivenCursor {
    /// The position this cursor stands for.
    pub async fn resolve(self, pool: &PgPool) -> Result<Cursor, sqlx::Error> {
        match self {
            Self::Position(cursor) => Ok(cursor),
            Self::Legacy { txid, seq } => {
                let position: Option<i64> = sqlx::query_scalar(
                    "SELECT position FROM outbox
                     WHERE (txid, seq) <= ($1::bigint::text::xid8, $2) AND position IS NOT NULL
                     ORDER BY txid DESC, seq DESC LIMIT 1",
                )
                .bind(txid)
                .bind(seq)
                .fetch_optional(pool)
                .await?;
                Ok(Cursor(position.unwrap_or(0)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_order() {
        let Some(GivenCursor::Position(a)) = Cursor::parse("105") else {
            panic!("a position");
        };
        assert_eq!(a.to_string(), "105");
        assert!(Cursor(106) > a);
        assert_eq!(
            Cursor::parse(""),
            Some(GivenCursor::Position(Cursor::default()))
        );
        assert_eq!(
            Cursor::parse("10-5"),
            Some(GivenCursor::Legacy { txid: 10, seq: 5 })
        );
        assert_eq!(Cursor::parse("x-1"), None);
        assert_eq!(Cursor::parse("-1-1"), None);
        assert_eq!(Cursor::parse("-1"), None);
    }
}
