//! The Luhn (mod 10) check digit.

/// The check digit to append to `digits` (ASCII '0'..='9').
pub(crate) fn check_digit(digits: &[u8]) -> u8 {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(d - b'0');
            if i % 2 == 0 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    b'0' + ((10 - sum % 10) % 10) as u8
}

/// Whether the last digit of `digits` is the Luhn check digit of the rest.
pub(crate) fn is_valid(digits: &[u8]) -> bool {
    match digits.split_last() {
        Some((last, rest)) if !rest.is_empty() => check_digit(rest) == *last,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_numbers() {
        assert!(is_valid(b"4111111111111111"));
        assert!(is_valid(b"79927398713"));
        assert!(!is_valid(b"79927398710"));
        assert_eq!(check_digit(b"7992739871"), b'3');
    }
}
