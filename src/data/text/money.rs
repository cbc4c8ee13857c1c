//! Amounts written with a currency symbol (`$1,200.50`, `-$300`,
//! `1.234,50 €`, `USD 99`), as CRM exports write them: read as numbers when
//! the dataset names the symbol (`read: {currency: "$"}`), and recognised
//! otherwise, so `kpi check --data` can name the option rather than leave a
//! text column that no sum takes.

/// A sample's currency symbol, if nine in ten of its values are amounts
/// written with one and the same symbol before or after the number; with
/// the other `read:` options their numbers need (`thousands: ","`,
/// `decimal_comma: true`, or none).
pub(crate) fn symbol_of(values: &[String]) -> Option<(String, &'static str)> {
    let values: Vec<&str> = values
        .iter()
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .collect();
    let (symbol, _) = values.iter().find_map(|v| split(v))?;
    // Each value's number: without the symbol, or a value written without
    // one (`0`, `7`, `(7)`), as exports write zeros and small amounts; an
    // accountant's negative is the number in parentheses.
    let unbracketed = |n: &str| match n.strip_prefix('(').and_then(|n| n.strip_suffix(')')) {
        Some(inside) => inside.trim().to_string(),
        None => n.to_string(),
    };
    let numbers: Vec<String> = values
        .iter()
        .filter_map(|v| match split(v) {
            Some((s, n)) => (s == symbol).then_some(n),
            None => v
                .starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '(')
                .then(|| unbracketed(v)),
        })
        .collect();
    if numbers.len() * 10 < values.len() * 9 {
        return None;
    }
    let all = |thousands: char, decimal_mark: char| {
        numbers
            .iter()
            .all(|n| super::guess::is_grouped_number(n, thousands, decimal_mark))
    };
    let options = if all('\u{0}', '.') {
        ""
    } else if all(',', '.') {
        ", thousands: \",\""
    } else if all('.', ',') {
        ", decimal_comma: true"
    } else {
        return None;
    };
    Some((symbol.to_string(), options))
}

/// `$1,200.50` → (`$`, `1,200.50`); `-$300` → (`$`, `-300`); `300 €` →
/// (`€`, `300`): the symbol and the number without it. A symbol is a
/// currency sign, alone or with up to two letters (`R$`, `US$`), or a code
/// of three capitals (`USD`).
fn split(v: &str) -> Option<(String, String)> {
    let (minus, rest) = match v.strip_prefix('-') {
        Some(r) => ("-", r.trim_start()),
        None => ("", v),
    };
    let at = rest.find(|c: char| c.is_ascii_digit() || c == '-')?;
    let (before, number) = rest.split_at(at);
    let end = number.rfind(|c: char| c.is_ascii_digit()).map_or(0, |i| i + 1);
    let (number, after) = number.split_at(end);
    // An accountant's negative: `$(300.00)`, `($300.00)`, `(300,00) €`.
    let (minus, before, after) = match (before.matches('(').count(), after.matches(')').count()) {
        (1, 1) if minus.is_empty() => ("-", before.replacen('(', "", 1), after.replacen(')', "", 1)),
        _ => (minus, before.to_string(), after.to_string()),
    };
    let symbol = match (before.trim(), after.trim()) {
        (s, "") if is_symbol(s) => s.to_string(),
        ("", s) if is_symbol(s) => s.to_string(),
        _ => return None,
    };
    Some((symbol, format!("{minus}{number}")))
}

fn is_symbol(s: &str) -> bool {
    let signs = s.chars().filter(|&c| is_currency_sign(c)).count();
    let letters = s.chars().filter(|c| c.is_alphabetic()).count();
    let code = s.len() == 3 && s.chars().all(|c| c.is_ascii_uppercase());
    code || (signs == 1 && letters <= 2 && signs + letters == s.chars().count())
}

/// Unicode's currency signs (category Sc) that amounts are written with.
fn is_currency_sign(c: char) -> bool {
    matches!(
        c,
        '$' | '¢' | '£' | '¤' | '¥' | '\u{20A0}'..='\u{20C0}' | '﷼' | '＄' | '￠' | '￡' | '￥' | '￦'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn symbol(v: &[&str]) -> Option<(String, &'static str)> {
        symbol_of(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn amounts_are_told_by_their_symbol_with_the_options_their_numbers_need() {
        let found = |s: &str, o| Some((s.to_string(), o));
        assert_eq!(
            symbol(&["$1,200.50", "$300", "-$5"]),
            found("$", ", thousands: \",\"")
        );
        assert_eq!(symbol(&["$1200.50", "$300", "$-5", " ", "0"]), found("$", ""));
        assert_eq!(
            symbol(&["1.234,50 €", "300 €", "-2,5 €"]),
            found("€", ", decimal_comma: true")
        );
        assert_eq!(symbol(&["USD 99", "USD 1"]), found("USD", ""));
        assert_eq!(
            symbol(&["$1,200.50", "$(300.00)", "($45.25)", "(7)"]),
            found("$", ", thousands: \",\"")
        );
        assert_eq!(
            symbol(&["(300,50) €", "1.234,50 €"]),
            found("€", ", decimal_comma: true")
        );
        assert_eq!(
            symbol(&["R$ 10", "R$ 12,5"]),
            found("R$", ", decimal_comma: true")
        );
        // Nine in ten is enough: the tenth value is named when the column is read.
        let mostly = ["£5", "£7", "£9", "£1", "£2", "£3", "£4", "£6", "£8", "n/a"];
        assert_eq!(symbol(&mostly), found("£", ""));
        // Not amounts: plain numbers, percents, ids, two symbols, words.
        for v in [
            &["12", "13"][..],
            &["12%", "13%"],
            &["A-100", "A-200"],
            &["#12", "#13"],
            &["$5", "€5"],
            &["ten dollars", "$5"],
            &["Q1 2025", "Q2 2025"],
            &["1", "2", "3"],
            &["$1", "2 apples"],
            &["$1,2,3", "$4"],
        ] {
            assert_eq!(symbol(v), None, "{v:?}");
        }
    }
}
