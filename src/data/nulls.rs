//! Columns of nulls added to a frame: one null in every row, never a
//! single literal value.

use polars::prelude::*;

/// `lf` with a column of nulls of each named type, a value in every row.
/// A literal null is one value Polars stretches over the rows, and Polars
/// 0.55 compares a literal with such a column into one value, not one per
/// row: `"b" > lost_reason` over an NDJSON field no record holds stopped
/// the run ("length 1 doesn't match the DataFrame height"), and
/// `sum(if "price" == lost_reason then 1 else 2)` summed one 2 however
/// many rows there were. A null chosen by each row's index is a value in
/// every row.
pub fn with_null_columns(lf: LazyFrame, columns: Vec<(String, DataType)>) -> LazyFrame {
    const ROW: &str = "__null_columns_row";
    if columns.is_empty() {
        return lf;
    }
    let nulls = columns.into_iter().map(|(name, dtype)| {
        let null = || lit(NULL).cast(dtype.clone());
        when(col(ROW).is_null())
            .then(null())
            .otherwise(null())
            .alias(name.as_str())
    });
    lf.with_row_index(ROW, None)
        .with_columns(nulls.collect::<Vec<_>>())
        .drop(cols([ROW]))
}
