use std::fmt;

use crate::mask::mask_middle;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PersonNameError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most 50 characters")]
    TooLong,
    #[error("may contain letters, spaces and the middle dot only")]
    Characters,
}

impl PersonNameError {
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Empty => "NAME_EMPTY",
            Self::TooLong => "NAME_TOO_LONG",
            Self::Characters => "NAME_CHARACTERS",
        }
    }
}

/// A person's name as on the ID card. Shown as its first character followed
/// by `*` (`张**`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PersonName(pub(crate) String);

impl PersonName {
    pub fn parse(value: &str) -> Result<Self, PersonNameError> {
        let value = value.trim();
        if value.is_empty() {
            return Err(PersonNameError::Empty);
        }
        if value.chars().count() > 50 {
            return Err(PersonNameError::TooLong);
        }
        // Letters of any script, spaces, and the separators used in names of
        // ethnic minorities and foreigners (· • .).
        if !value
            .chars()
            .all(|c| c.is_alphabetic() || c == ' ' || c == '·' || c == '•' || c == '.')
        {
            return Err(PersonNameError::Characters);
        }
        Ok(Self(value.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn masked(&self) -> String {
        mask_middle(&self.0, 1, 0)
    }
}

impl fmt::Debug for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PersonName({})", self.masked())
    }
}

impl fmt::Display for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_names_in_any_script() {
        for name in ["张三", "买买提·艾力", "Anna Müller"] {
            assert!(PersonName::parse(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn refuses_bad_names() {
        assert_eq!(PersonName::parse("  "), Err(PersonNameError::Empty));
        assert_eq!(PersonName::parse("张三1"), Err(PersonNameError::Characters));
        assert_eq!(
            PersonName::parse(&"张".repeat(51)),
            Err(PersonNameError::TooLong)
        );
    }

    #[test]
    fn shows_only_the_first_character() {
        assert_eq!(PersonName::parse("张三丰").unwrap().to_string(), "张**");
    }
}
