//! Result frames as Parquet, with Polars' encodings and statistics and
//! Snappy pages, each column of a row group encoded and compressed on a core
//! of its own. Polars' writer works out a row group's encodings on its pool
//! but builds and compresses the pages as it writes them, one column after
//! another on one thread: for a result of 30 KPIs by owner and month
//! (70,000 rows) that tail took about 45 ms of a run of 0.38 s, against
//! about 25 ms here on two cores.
//!
//! Texts are written with Arrow's oldest layout (`large_string` in the
//! Arrow schema the footer carries), not the string views Polars holds:
//! pyarrow before 15, and so pandas and the tools built on them, cannot
//! open a file whose schema names a string view ("Unrecognized type: 24").
//! The Parquet columns themselves are the same either way.

use std::io::Write;

use polars::prelude::*;
use polars_arrow::datatypes::Field as ArrowField;
use polars_parquet::parquet::error::ParquetError;
use polars_parquet::write::{
    array_to_columns, fallible_streaming_iterator, to_parquet_type, CompressedPage, CompressionOptions,
    Compressor, DynIter, DynStreamingIterator, FileWriter, StatisticsOptions, Version, WriteOptions,
};

/// The Arrow layouts the footer's schema names: those every reader knows.
const READERS: CompatLevel = CompatLevel::oldest();

/// Rows per row group, as Polars' writer sizes them.
const ROW_GROUP_ROWS: usize = 512 * 512;

/// The compressed pages of a column, by Parquet column (one for a column
/// that is not nested).
type Pages = Vec<Vec<CompressedPage>>;

/// Writes `frame` to `out` as a Parquet file.
pub(super) fn write_parquet(frame: &DataFrame, out: impl Write) -> PolarsResult<()> {
    let schema = frame.schema().to_arrow(READERS);
    let options = WriteOptions {
        statistics: StatisticsOptions::default(),
        version: Version::V1,
        compression: CompressionOptions::Snappy,
        data_page_size: None,
    };
    let fields: Vec<ArrowField> = schema.iter_values().cloned().collect();
    let mut writer = FileWriter::try_new(std::io::BufWriter::new(out), schema, options)?;
    for start in (0..frame.height()).step_by(ROW_GROUP_ROWS) {
        let rows = ROW_GROUP_ROWS.min(frame.height() - start);
        let columns = encoded_columns(frame.slice(start as i64, rows), &fields, options)?;
        let row_group = columns.iter().map(|pages| {
            let pages = fallible_streaming_iterator::convert(pages.iter().map(PolarsResult::Ok));
            Ok(DynStreamingIterator::new(pages))
        });
        writer.write(rows as u64, DynIter::new(row_group))?;
    }
    writer.end(None)?;
    Ok(writer.into_inner().flush()?)
}

/// The compressed pages of each Parquet column of one row group, in order.
fn encoded_columns(rows: DataFrame, fields: &[ArrowField], options: WriteOptions) -> PolarsResult<Pages> {
    let mut rows = rows;
    rows.rechunk_mut_par();
    let Some(batch) = rows.iter_chunks(READERS, false).next() else {
        polars_bail!(ComputeError: "a row group without its rows");
    };
    let arrays = batch.columns();
    // Each column encoded and compressed whole on one core.
    let encode = |k: usize| -> PolarsResult<Pages> {
        let (Some(array), Some(field)) = (arrays.get(k), fields.get(k)) else {
            polars_bail!(ComputeError: "a column without its schema");
        };
        let encodings = polars_parquet::arrow::write::get_dtype_encoding(&field.dtype);
        array_to_columns(array, to_parquet_type(field)?, options, &encodings)?
            .into_iter()
            .map(|pages| {
                let pages = pages.map(|p| p.map_err(|e| ParquetError::FeatureNotSupported(e.to_string())));
                Compressor::new(pages, options.compression, Vec::new())
                    .map(|p| p.map_err(PolarsError::from))
                    .collect()
            })
            .collect()
    };
    let columns = crate::cores::on_cores((0..arrays.len()).collect(), encode)?;
    Ok(columns.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame of more rows than a row group, with texts, nulls, dates and
    /// integers, read back as written, in row groups of Polars' size.
    #[test]
    fn a_frame_reads_back_as_written_across_row_groups() {
        let rows = ROW_GROUP_ROWS + 7;
        let owner: Vec<Option<String>> = (0..rows)
            .map(|i| (i % 5 != 0).then(|| format!("rep_{}", i % 97)))
            .collect();
        let value: Vec<Option<f64>> = (0..rows)
            .map(|i| (i % 3 != 0).then_some(i as f64 / 7.0))
            .collect();
        let count: Vec<i64> = (0..rows).map(|i| (i % 11) as i64).collect();
        let day: Vec<i32> = (0..rows).map(|i| 19_000 + (i % 400) as i32).collect();
        let frame = df!("owner" => owner, "value" => value, "count" => count, "day" => day)
            .unwrap()
            .lazy()
            .with_column(col("day").cast(DataType::Date))
            .collect()
            .unwrap();
        let mut bytes = Vec::new();
        write_parquet(&frame, &mut bytes).unwrap();
        let mut reader = ParquetReader::new(std::io::Cursor::new(bytes));
        let groups = reader.get_metadata().unwrap().row_groups.len();
        assert_eq!(groups, 2);
        let back = reader.finish().unwrap();
        assert_eq!(back.schema(), frame.schema());
        assert!(back.equals_missing(&frame));
    }

    /// No rows: a file of the columns alone.
    #[test]
    fn an_empty_frame_is_a_file_of_its_columns() {
        let frame = df!("owner" => Vec::<String>::new(), "value" => Vec::<f64>::new()).unwrap();
        let mut bytes = Vec::new();
        write_parquet(&frame, &mut bytes).unwrap();
        let back = ParquetReader::new(std::io::Cursor::new(bytes)).finish().unwrap();
        assert_eq!(back.height(), 0);
        assert_eq!(back.schema(), frame.schema());
    }
}
