/// Keeps the first `head` and last `tail` characters and replaces the rest
/// with `*`, one per character: `mask_middle("11010519491231002X", 6, 4)` is
/// `110105********002X`. Values too short to keep anything are fully masked.
pub fn mask_middle(value: &str, head: usize, tail: usize) -> String {
    let count = value.chars().count();
    if count <= head + tail {
        return "*".repeat(count);
    }
    value
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if i < head || i >= count - tail {
                c
            } else {
                '*'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_the_middle_of_an_id_number() {
        assert_eq!(
            mask_middle("11010519491231002X", 6, 4),
            "110105********002X"
        );
    }

    #[test]
    fn short_values_are_fully_masked() {
        assert_eq!(mask_middle("1234", 2, 2), "****");
        assert_eq!(mask_middle("", 6, 4), "");
    }

    #[test]
    fn counts_characters_not_bytes() {
        assert_eq!(mask_middle("张三丰", 1, 0), "张**");
    }
}
