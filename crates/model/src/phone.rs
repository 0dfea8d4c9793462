//! Phone-number masking for viewer tokens.

/// Mask the middle of a phone number, keeping the first three and last four digits:
/// `13812348000` → `138****8000`. Shorter numbers keep less: up to 7 characters only
/// the last two are shown. Non-digit characters (`+`, `-`) count like digits.
pub fn mask_number(number: &str) -> String {
    let chars: Vec<char> = number.chars().collect();
    let n = chars.len();
    if n == 0 {
        return String::new();
    }
    let (head, tail) = if n >= 8 {
        (3, 4)
    } else if n >= 3 {
        (0, 2)
    } else {
        (0, 0)
    };
    let mut out = String::with_capacity(n + 4);
    out.extend(&chars[..head]);
    out.push_str(&"*".repeat((n - head - tail).max(4).min(n.max(4))));
    out.extend(&chars[n - tail..]);
    out
}

#[cfg(test)]
mod tests {
    use super::mask_number;

    #[test]
    fn masks_mobile_landline_and_short() {
        assert_eq!(mask_number("13812348000"), "138****8000");
        assert_eq!(mask_number("02161234567"), "021****4567");
        assert_eq!(mask_number("+8613812348000"), "+86*******8000");
        assert_eq!(mask_number("10086"), "****86");
        assert_eq!(mask_number("12"), "****");
        assert_eq!(mask_number(""), "");
    }
}
