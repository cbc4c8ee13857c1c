//! Days since 1970 of each row's time value, for the hand-written
//! group-by's period keys and the range flags of a batched status query.
//! A datetime's day is the floor of its time over a day's units, as
//! Polars casts a datetime to a date; Polars does that in two passes (the
//! floor as 64-bit integers, then a cast to 32 bits), both building a new
//! column, which showed in profiles of leads and activities (timestamps):
//! here one pass writes the 32-bit days.

use polars::prelude::*;
use polars_arrow::array::PrimitiveArray;
use polars_arrow::bitmap::Bitmap;
use polars_arrow::datatypes::ArrowDataType;

/// A time column as days since 1970 (32-bit integers): a date's own
/// integers, a datetime's day, anything else as Polars casts it to a date.
pub(crate) fn days_since_1970(t: Expr) -> Expr {
    let int32 = |_: &Schema, f: &Field| Ok(Field::new(f.name().clone(), DataType::Int32));
    t.map_with_fmt_str(days, int32, "days_since_1970")
}

fn days(c: Column) -> PolarsResult<Column> {
    let kernel = match c.dtype() {
        DataType::Datetime(TimeUnit::Nanoseconds, _) => datetime_days::<86_400_000_000_000>,
        DataType::Datetime(TimeUnit::Microseconds, _) => datetime_days::<86_400_000_000>,
        DataType::Datetime(TimeUnit::Milliseconds, _) => datetime_days::<86_400_000>,
        _ => return Ok(c.cast(&DataType::Date)?.to_physical_repr()),
    };
    let times = c.datetime()?.physical();
    let chunks = times.downcast_iter().map(kernel);
    Ok(Int32Chunked::from_chunk_iter(c.name().clone(), chunks).into_column())
}

/// The day of each time of `a`, in units of which a day holds `PER_DAY`
/// (a constant, so that the division is a multiplication); a day beyond
/// 32 bits (only in milliseconds) is null, as Polars' cast gives it.
fn datetime_days<const PER_DAY: i64>(a: &PrimitiveArray<i64>) -> PrimitiveArray<i32> {
    let days: Vec<i32> = a.values().iter().map(|v| v.div_euclid(PER_DAY) as i32).collect();
    let fits = |v: &i64| i32::try_from(v.div_euclid(PER_DAY)).is_ok();
    let validity = match a.values().iter().all(fits) {
        true => a.validity().cloned(),
        false => {
            let fit: Bitmap = a.values().iter().map(fits).collect();
            Some(match a.validity() {
                Some(v) => v & &fit,
                None => fit,
            })
        }
    };
    PrimitiveArray::new(ArrowDataType::Int32, days.into(), validity)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(c: &Column) -> Vec<Option<i32>> {
        let ca = c.i32().unwrap();
        (0..ca.len()).map(|i| ca.get(i)).collect()
    }

    /// Every unit, before and after 1970, a null, and a time too far out
    /// for 32-bit days: the same days as Polars' cast to a date.
    #[test]
    fn days_are_those_of_polars_cast_to_a_date() {
        let ms: Vec<Option<i64>> = vec![
            Some(0),
            Some(86_399_999),
            Some(86_400_000),
            Some(-1),
            Some(-86_400_000),
            Some(-86_400_001),
            None,
            Some(1_764_000_000_000),
            Some(i64::MAX),
        ];
        for (unit, scale) in [
            (TimeUnit::Milliseconds, 1),
            (TimeUnit::Microseconds, 1_000),
            (TimeUnit::Nanoseconds, 1_000_000),
        ] {
            let times: Vec<Option<i64>> = ms.iter().map(|v| v.and_then(|v| v.checked_mul(scale))).collect();
            let t = Int64Chunked::new("t".into(), times)
                .into_datetime(unit, None)
                .into_column();
            let got = days(t.clone()).unwrap();
            let want = t.cast(&DataType::Date).unwrap().to_physical_repr();
            assert_eq!(got.dtype(), &DataType::Int32);
            let (got, want) = (values(&got), values(&want));
            assert_eq!(got, want, "{unit:?}");
            assert_eq!(
                &got[..6],
                [Some(0), Some(0), Some(1), Some(-1), Some(-1), Some(-2)]
            );
        }
        // A date is its own days.
        let d = Int32Chunked::new("d".into(), [Some(-3), None, Some(20_000)])
            .into_date()
            .into_column();
        assert_eq!(values(&days(d).unwrap()), [Some(-3), None, Some(20_000)]);
    }
}
