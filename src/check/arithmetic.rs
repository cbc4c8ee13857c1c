//! The language's own arithmetic where engines differ: `round` and `%`
//! as the numbers are written. Polars and each SQL dialect round and take
//! remainders of doubles their own way (half to even, the binary value,
//! C's `fmod`); kpi computes both alike on files (`compile`) and in every
//! dialect (`sql`), so the numbers agree to the last digit, and folds
//! constants with the same functions (`constant`).

/// A value this close, relative to its size, to a half (rounding) or to a
/// whole number (a remainder's quotient) is taken as it: the product of a
/// number as written (1.005) and a power of ten, or a quotient of two, is
/// off by a few units in its last place (100.49999999999999).
pub const TOLERANCE: f64 = 2e-15;
/// From here on the tolerance would reach a half itself; such a scaled
/// value holds more figures than a number is written with, and rounds as it is.
pub const TOLERANCE_BELOW: f64 = 2.5e14;
/// 2^52: a double this large has no fraction left to round.
pub const NO_FRACTION_FROM: f64 = 4_503_599_627_370_496.0;

/// `x % y` with the sign of `x`, as in SQL, null where `y` is 0, and 0
/// where `x` is a multiple of `y` as the numbers are written: `1602 %
/// 0.05` is 0, though the double nearest 0.05 lies just above it and
/// divides 1602 32,039 times with 0.0499… left (C's `fmod`, Java's `%`).
/// A quotient within [`TOLERANCE`] of its size from a whole number
/// is that number. The same arithmetic runs on files and in every SQL
/// dialect.
pub fn remainder_as_written(x: f64, y: f64) -> Option<f64> {
    if y == 0.0 {
        return None;
    }
    let quotient = x / y;
    if (quotient - quotient.round()).abs() <= quotient.abs() * TOLERANCE {
        return Some(0.0);
    }
    Some(x - y * quotient.trunc())
}

/// The number of decimals `round(x, digits)` keeps: a whole number
/// (truncated toward zero), negative for tens, hundreds, …; beyond ±30 the
/// rounding changes nothing a double holds, or everything to zero.
pub fn whole_digits(digits: f64) -> i32 {
    digits.trunc().clamp(-30.0, 30.0) as i32
}

/// `x` rounded to `digits` decimals (tens, hundreds, … when negative), half
/// away from zero, as the number is written: `round(1.005, 2)` is 1.01,
/// `round(2.675, 2)` 2.68 and `round(0.15, 1)` 0.2, though the doubles
/// nearest those numbers lie just below the half, where scaling and
/// rounding the double (Polars' `round`, SQL's on a double) goes down.
/// The same arithmetic runs on files (`compile`) and in every SQL dialect
/// (`sql`), so they agree to the last digit.
pub fn round_as_written(x: f64, digits: i32) -> f64 {
    round_by_power(x, 10f64.powi(digits.abs()), digits >= 0)
}

/// [`round_as_written`] by a power of ten: `x` times `power` (`up`) or
/// divided by it is rounded on its size, its sign put back at the end.
/// Files round a row's number with it; a number of digits read from the
/// row scales up by `10^d` whatever its sign, as SQL computes it.
pub fn round_by_power(x: f64, power: f64, up: bool) -> f64 {
    let size = if up { x.abs() * power } else { x.abs() / power };
    if size.is_nan() || size >= NO_FRACTION_FROM {
        return x;
    }
    let tolerance = if size < TOLERANCE_BELOW {
        size * TOLERANCE
    } else {
        0.0
    };
    let units = (size + 0.5 + tolerance).floor();
    let magnitude = if up { units / power } else { units * power };
    // A negative number's, as SQL's `SIGN(x) *` gives it (0 for -0).
    if x < 0.0 {
        -magnitude
    } else {
        magnitude
    }
}

#[cfg(test)]
mod tests {
    use super::remainder_as_written as rem;
    use super::round_as_written as r;

    #[test]
    fn remainders_keep_the_dividends_sign_and_see_multiples_as_written() {
        assert_eq!(rem(-30.0, 7.0), Some(-2.0));
        assert_eq!(rem(30.0, -7.0), Some(2.0));
        assert_eq!(rem(7.5, 2.0), Some(1.5));
        assert_eq!(rem(1.0, 0.0), None);
        // fmod gives 0.0499… for each: the doubles of 0.05 and 777.3 are not exact.
        assert_eq!(rem(1602.0, -0.05), Some(0.0));
        assert_eq!(rem(777.3, 0.05), Some(0.0));
        assert_eq!(rem(2395.0, -0.05), Some(0.0));
        assert_eq!(rem(0.3, 0.1), Some(0.0));
        let r = rem(0.35, 0.1).unwrap();
        assert!((r - 0.05).abs() < 1e-12, "{r}");
    }

    #[test]
    fn halves_round_away_from_zero_as_the_number_is_written() {
        // The doubles nearest these lie just below the half.
        assert_eq!(r(1.005, 2), 1.01);
        assert_eq!(r(2.675, 2), 2.68);
        assert_eq!(r(1.015, 2), 1.02);
        assert_eq!(r(0.15, 1), 0.2);
        assert_eq!(r(0.285, 2), 0.29);
        assert_eq!(r(-1.005, 2), -1.01);
        assert_eq!(r(2.5, 0), 3.0);
        assert_eq!(r(-2.5, 0), -3.0);
        assert_eq!(r(0.5, 0), 1.0);
        assert_eq!(r(1.00499999999, 2), 1.0);
        assert_eq!(r(1.004, 2), 1.0);
        assert_eq!(r(1.006, 2), 1.01);
    }

    #[test]
    fn negative_digits_round_to_tens_and_hundreds() {
        assert_eq!(r(1250.0, -2), 1300.0);
        assert_eq!(r(-1250.0, -2), -1300.0);
        assert_eq!(r(1249.99, -2), 1200.0);
        assert_eq!(r(45.0, -1), 50.0);
        assert_eq!(r(4.0, -1), 0.0);
        assert_eq!(r(5.0, -1), 10.0);
        assert_eq!(r(0.5, -3), 0.0);
    }

    #[test]
    fn what_has_no_digits_to_round_is_kept() {
        assert_eq!(r(123.456, 5), 123.456);
        assert_eq!(r(1e300, 2), 1e300);
        assert_eq!(r(9_007_199_254_740_993.0, 0), 9_007_199_254_740_993.0);
        assert!(r(f64::NAN, 2).is_nan());
        assert_eq!(r(f64::INFINITY, 2), f64::INFINITY);
        assert_eq!(r(0.0, 2), 0.0);
        assert_eq!(r(1e-20, 2), 0.0);
        assert_eq!(r(0.004, 2), 0.0);
        assert_eq!(r(0.005, 2), 0.01);
    }
}
