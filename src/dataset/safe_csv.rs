//! CSV cells that are safe to open in a spreadsheet: a cell beginning with `=`, `+`,
//! `-`, `@`, a tab or a carriage return would be read as a formula (CSV injection), so
//! it gets a leading `'`, as OWASP recommends. Plain numbers such as `-3` are left as
//! they are.

use std::borrow::Cow;

/// `cell` as written into a CSV people open in spreadsheets.
pub fn safe_cell(cell: &str) -> Cow<'_, str> {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && cell.trim().parse::<f64>().map_or(true, |v| !v.is_finite()) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_get_a_leading_quote_and_numbers_do_not() {
        for risky in [
            "=HYPERLINK(\"http://x\")",
            "+cmd|' /C calc'!A0",
            "-2+3",
            "@SUM(A1)",
            "\t=1",
            "\r=1",
            "-inf",
        ] {
            assert_eq!(safe_cell(risky), format!("'{risky}"));
        }
        for fine in ["hello", "-3", "+1.5", "-2e5", "", "a=b", "'=already"] {
            assert_eq!(safe_cell(fine), fine);
        }
    }
}
