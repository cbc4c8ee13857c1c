//! Files as people get them: `read:` options, whole-file inference, time
//! zones, encodings, damaged files and non-finite numbers. Every expected
//! value is worked out by hand in the comments.

use crate::support::*;

/// Writes `files` and a one-dataset spec (`read` is the `read:` block, `extra`
/// more dataset keys), and evaluates `args` on it.
fn run(
    files: &[(&str, &[u8])],
    source: &str,
    extra: &str,
    kpis: &str,
    args: &[&str],
) -> std::process::Output {
    let dir = temp_dir("messy");
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    let spec = dir.join("spec.yaml");
    std::fs::write(
        &spec,
        format!("datasets:\n  d:\n    source: {source}\n    time: closed_at\n{extra}kpis:\n{kpis}"),
    )
    .unwrap();
    let mut all = vec!["--spec", spec.to_str().unwrap()];
    all.extend_from_slice(args);
    kpi(&all)
}

/// `eval` as CSV of the NDJSON text `nd` as `d.ndjson`, with `extra` keys.
fn ndjson_eval(nd: &str, extra: &str) -> std::process::Output {
    run(&[("d.ndjson", nd.as_bytes())], "d.ndjson", extra, TOTAL, EVAL_CSV)
}

const TOTAL: &str = "  total: {dataset: d, measure: sum(amount)}\n  rows: {dataset: d, measure: count()}\n";

fn csv_of(out: &std::process::Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// Standard error with the report's frame and line wrapping taken out.
fn stderr(out: &std::process::Output) -> String {
    flat(&out.stderr)
}

/// Standard output (`kpi check`'s report) so.
fn stdout(out: &std::process::Output) -> String {
    flat(&out.stdout)
}

/// The CSV that `args` print of the text `data` as `d.csv`, with `extra`
/// dataset keys and `kpis`, the run having succeeded.
fn d_csv(data: &str, extra: &str, kpis: &str, args: &[&str]) -> String {
    csv_of(&run(&[("d.csv", data.as_bytes())], "d.csv", extra, kpis, args))
}

/// `eval` as CSV of the total and rows of the CSV text `data` as `d.csv`,
/// with `extra` keys: the whole run, to look at a failure.
fn d_total(data: &str, extra: &str) -> std::process::Output {
    run(&[("d.csv", data.as_bytes())], "d.csv", extra, TOTAL, EVAL_CSV)
}

const EVAL_CSV: &[&str] = &["eval", "--format", "csv"];
const BY_MONTH: &[&str] = &["eval", "--grain", "month", "--format", "csv"];

#[test]
fn a_european_export_reads_with_its_options() {
    // `;`-delimited, decimal commas with thousands dots, day-first dates, N/A and - as nulls.
    let data = "id;amount;closed_at;owner\n1;1.234,50;31.01.2025;ann\n2;N/A;01.02.2025;bob\n3;-;15.02.2025;-\n4;10,5;03.02.2025;ann\n";
    let read = "    read:\n      delimiter: \";\"\n      decimal_comma: true\n      date_format: \"%d.%m.%Y\"\n      null_values: [\"N/A\", \"-\"]\n";
    let out = run(&[("d.csv", data.as_bytes())], "d.csv", read, TOTAL, BY_MONTH);
    // January: 1,234.50 over one row; February: 10.5 over three rows (two null amounts).
    assert_eq!(
        csv_of(&out),
        "period,total,rows\n2025-01,1234.5,1\n2025-02,10.5,3\n"
    );
    // The null owner is a group of its own.
    let out = run(
        &[("d.csv", data.as_bytes())],
        "d.csv",
        read,
        TOTAL,
        &["eval", "--by", "owner", "--format", "csv"],
    );
    assert_eq!(csv_of(&out), "owner,total,rows\nann,1245,2\nbob,0,1\n,0,1\n");
}

#[test]
fn a_semicolon_file_read_with_commas_gets_a_hint() {
    let data = "id;amount;closed_at\n1;5;2025-01-01\n";
    let out = run(&[("d.csv", data.as_bytes())], "d.csv", "", TOTAL, EVAL_CSV);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("kpi::wrong_delimiter") && err.contains("delimiter: \";\""),
        "{err}"
    );
}

#[test]
fn types_come_from_the_whole_file() {
    // 12,000 whole numbers, then one with a fraction: the column is a number throughout.
    let mut data = String::from("id,amount,closed_at\n");
    for i in 0..12_000 {
        data.push_str(&format!("{i},1,2025-01-01\n"));
    }
    data.push_str("12000,12.5,2025-01-02\n");
    let out = run(&[("d.csv", data.as_bytes())], "d.csv", "", TOTAL, EVAL_CSV);
    assert_eq!(csv_of(&out), "total,rows\n12012.5,12001\n");
    // NDJSON too.
    let mut nd = String::new();
    for _ in 0..12_000 {
        nd.push_str("{\"amount\": 1, \"closed_at\": \"2025-01-01\"}\n");
    }
    nd.push_str("{\"amount\": 12.5, \"closed_at\": \"2025-01-02\"}\n");
    let columns = "    columns: {closed_at: date}\n";
    let out = ndjson_eval(&nd, columns);
    assert_eq!(csv_of(&out), "total,rows\n12012.5,12001\n");
    // A date column with one value that is not a date stays text: it cannot be a time column.
    let odd = "id,amount,closed_at\n1,5,2025-01-01\n2,6,soon\n";
    let out = run(&[("d.csv", odd.as_bytes())], "d.csv", "", TOTAL, BY_MONTH);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("kpi::time_not_temporal"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn types_come_from_every_row_of_a_long_file() {
    // 300,001 rows of about 60 bytes, read in pieces: whole amounts, then
    // one with a fraction on the last line; a line of spaces (no record)
    // after record 150,000; created_at a date but on one late line.
    let pad = "x".repeat(40);
    let mut data = String::from("id,amount,closed_at,created_at,note\n");
    for i in 0..300_000u64 {
        if i == 150_000 {
            data.push_str("   \n");
        }
        let created = if i == 299_000 { "someday" } else { "2025-01-01" };
        data.push_str(&format!("{i},1,2025-01-01,{created},{pad}\n"));
    }
    data.push_str("300000,12.5,2025-01-02,2025-01-01,x\n");
    let files: &[(&str, &[u8])] = &[("d.csv", data.as_bytes())];
    let kpis = format!("{TOTAL}  ids: {{dataset: d, measure: sum(id)}}\n");
    // 300,000 ones and 12.5; ids 0..=300,000 sum to 300,000 × 300,001 / 2.
    let out = run(files, "d.csv", "", &kpis, EVAL_CSV);
    assert_eq!(csv_of(&out), "total,rows,ids\n300012.5,300001,45000150000\n");
    // Record 299,000 is on line 299,003: the header, and the line of spaces.
    let out = run(files, "d.csv", "", &kpis, &["check", "--data"]);
    assert_eq!(out.status.code(), Some(0));
    let shown = stdout(&out);
    assert!(
        shown.contains("kpi::mixed_column")
            && shown.contains("`created_at`")
            && shown.contains("line 299003"),
        "{shown}"
    );
}

#[test]
fn datetimes_with_offsets_count_in_the_declared_zone() {
    // 23:30 in New York on Jan 31 is Feb 1 in UTC; 03:00 at +01:00 on Feb 1 is Jan 31 in New York.
    let data = "id,amount,closed_at\n1,100,2025-01-31T23:30:00-05:00\n2,50,2025-02-01T03:00:00+01:00\n3,7,2025-01-15T10:00:00Z\n";
    let files: &[(&str, &[u8])] = &[("d.csv", data.as_bytes())];
    let new_york = run(
        files,
        "d.csv",
        "    read: {timezone: America/New_York}\n",
        TOTAL,
        BY_MONTH,
    );
    assert_eq!(csv_of(&new_york), "period,total,rows\n2025-01,157,3\n");
    let utc = run(files, "d.csv", "    read: {timezone: UTC}\n", TOTAL, BY_MONTH);
    assert_eq!(csv_of(&utc), "period,total,rows\n2025-01,7,1\n2025-02,150,2\n");
    // Without a zone, offsets other than UTC's are an error naming the first.
    let none = run(files, "d.csv", "", TOTAL, BY_MONTH);
    assert_eq!(none.status.code(), Some(1));
    // (The message is wrapped to the terminal: compared without spaces.)
    let said: String = stderr(&none)
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '│')
        .collect();
    assert!(
        said.contains("kpi::timezone_needed")
            && said.contains("d.csv`line2holds`2025-01-31T23:30:00-05:00`")
            // A zone whose clocks keep that offset, as the example.
            && said.contains("`read:{timezone:America/New_York}`"),
        "{said}"
    );
    // Every offset UTC's (`Z`, `+00:00`, `+0000`): the times are UTC's, as
    // a Parquet column in UTC is read. 23:59:59Z on Jan 31 stays in January.
    let utc_only = "id,amount,closed_at\n1,100,2025-01-31T23:59:59Z\n2,50,2025-02-01T00:00:00+00:00\n3,7,2025-02-01 03:00:00Z\n4,1,\n";
    let files: &[(&str, &[u8])] = &[("d.csv", utc_only.as_bytes())];
    let none = run(files, "d.csv", "", TOTAL, BY_MONTH);
    assert_eq!(
        csv_of(&none),
        "period,total,rows\n2025-01,100,1\n2025-02,57,2\n",
        "{}",
        stderr(&none)
    );
    let berlin = run(
        files,
        "d.csv",
        "    read: {timezone: Europe/Berlin}\n",
        TOTAL,
        BY_MONTH,
    );
    assert_eq!(csv_of(&berlin), "period,total,rows\n2025-02,157,3\n");
    let bad = run(files, "d.csv", "    read: {timezone: Berlin}\n", TOTAL, BY_MONTH);
    assert!(stderr(&bad).contains("kpi::invalid_timezone"), "{}", stderr(&bad));
}

/// ISO dates written without their zeros (`2025-1-5`, as some exports
/// write them) are dates, as `2025-01-05` is; the year first, they read
/// one way only. By hand: 1 in January, 2 + 4 in December.
#[test]
fn iso_dates_without_their_zeros_are_dates() {
    let data = "amount,closed_at\n1,2025-1-5\n2,2025-12-25\n4,2025-12-1\n";
    assert_eq!(
        d_csv(
            data,
            "",
            TOTAL,
            &["eval", "--period", "2025-12", "--format", "csv"]
        ),
        "total,rows\n6,2\n"
    );
    assert_eq!(
        d_csv(
            data,
            "",
            TOTAL,
            &["eval", "--period", "2025-01", "--format", "csv"]
        ),
        "total,rows\n1,1\n"
    );
}

/// ISO 8601 datetimes to the minute beside others to the second or to a
/// fraction of it, in one column (an export that leaves out zero seconds,
/// rows edited by hand) are read, each at its own time: guessed, declared,
/// with offsets in a zone, and from NDJSON. Each number by hand.
#[test]
fn iso_datetimes_to_the_minute_and_to_the_second_mix() {
    let kpis = "  total: {dataset: d, measure: sum(amount)}\n  mins: {dataset: d, measure: sum(minutes_between(created_at, closed_at))}\n  first: {dataset: d, measure: min(closed_at)}\n";
    let by_day = &["eval", "--grain", "day", "--format", "csv"];
    // Jan 31: 22:00:00.5 → 22:45 is 44 minutes 59.5 seconds. Feb 1:
    // 23:30 → 00:10:30 is 40.5 minutes, midnight → 01:00 is 60.
    let data = "amount,created_at,closed_at\n1,2025-01-31T23:30,2025-02-01 00:10:30\n2,2025-01-31 22:00:00.5,2025-01-31T22:45\n4,2025-02-01,2025-02-01T01:00\n";
    let want = "period,total,mins,first\n2025-01-31,2,44.9916666666667,2025-01-31T22:45:00\n2025-02-01,5,100.5,2025-02-01T00:10:30\n";
    let declared = "    columns: {created_at: datetime, closed_at: datetime}\n";
    for extra in ["", declared] {
        assert_eq!(d_csv(data, extra, kpis, by_day), want, "{extra}");
    }
    let nd: String = data
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            format!(
                "{{\"amount\": {}, \"created_at\": \"{}\", \"closed_at\": \"{}\"}}\n",
                f[0], f[1], f[2]
            )
        })
        .collect();
    for extra in ["", declared] {
        let out = run(&[("d.ndjson", nd.as_bytes())], "d.ndjson", extra, kpis, by_day);
        assert_eq!(csv_of(&out), want, "{extra}");
    }
    // With offsets, in Berlin: 23:30 at -05:00 is 05:30 on Feb 1, 23:30Z
    // is 00:30 on Feb 1, 10:00:15 at +01:00 stays on Jan 31.
    let kpis =
        "  total: {dataset: d, measure: sum(amount)}\n  first: {dataset: d, measure: min(closed_at)}\n";
    let zoned =
        "amount,closed_at\n1,2025-01-31T23:30-05:00\n2,2025-01-31T10:00:15+01:00\n4,2025-01-31T23:30Z\n";
    let berlin = "    read: {timezone: Europe/Berlin}\n";
    let want = "period,total,first\n2025-01-31,2,2025-01-31T10:00:15\n2025-02-01,5,2025-02-01T00:30:00\n";
    for extra in [
        berlin.to_string(),
        format!("{berlin}    columns: {{closed_at: datetime}}\n"),
    ] {
        assert_eq!(d_csv(zoned, &extra, kpis, by_day), want, "{extra}");
    }
    // Dates alone for 1,500 rows (more than the values types are guessed
    // from), then a time to the minute and one to a fraction of a second
    // (the earlier, its fraction shown).
    let mut late = String::from("amount,closed_at\n");
    for i in 0..1500 {
        late.push_str(&format!("1,2025-01-{:02}\n", 1 + i % 28));
    }
    late.push_str("10,2025-02-03 10:00\n20,2025-02-03 09:59:59.750\n");
    let want = "period,total,first\n2025-01,1500,2025-01-01T00:00:00\n2025-02,30,2025-02-03T09:59:59.750\n";
    for extra in ["", "    columns: {closed_at: datetime}\n"] {
        assert_eq!(d_csv(&late, extra, kpis, BY_MONTH), want, "{extra}");
    }
    // Times to the minute (or to the second) for 1,500 rows, then finer
    // ones: they count (09:59:30 and 09:59:59.5 are before 10:00).
    for (first, finer, shown) in [
        ("10:00", "09:59:30", "09:59:30"),
        ("10:00:00", "09:59:59.5", "09:59:59.500"),
    ] {
        let mut late = String::from("amount,closed_at\n");
        for i in 0..1500 {
            late.push_str(&format!("1,2025-01-{:02}T{first}\n", 1 + i % 28));
        }
        late.push_str(&format!("10,2025-02-03 10:00\n20,2025-02-03 {finer}\n"));
        let want =
            format!("period,total,first\n2025-01,1500,2025-01-01T10:00:00\n2025-02,30,2025-02-03T{shown}\n");
        for extra in ["", "    columns: {closed_at: datetime}\n"] {
            assert_eq!(d_csv(&late, extra, kpis, BY_MONTH), want, "{first} {extra}");
        }
    }
    // A time that is neither is still named.
    let bad = "amount,closed_at\n1,2025-01-05T10:00\n2,2025-01-06T10:00:30\n4,2025-02-01T9:5\n";
    let out = run(
        &[("d.csv", bad.as_bytes())],
        "d.csv",
        "    columns: {closed_at: datetime}\n",
        kpis,
        by_day,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("d.csv` line 4 holds `2025-02-01T9:5`"),
        "{}",
        stderr(&out)
    );
}

/// A column of datetimes some of whose values are a date alone (exports
/// write a time of midnight so) is datetimes, those at midnight: guessed,
/// declared, with offsets in a zone, and when the first time of day comes
/// after the values the guess is made on. Each number by hand.
#[test]
fn datetimes_written_as_a_date_alone_are_midnight() {
    let kpis =
        "  total: {dataset: d, measure: sum(amount)}\n  first: {dataset: d, measure: min(closed_at)}\n";
    let by_day = &["eval", "--grain", "day", "--format", "csv"];
    // 2025-01-31 is midnight, the earliest time of Jan 31 (before 09:30).
    let data = "amount,closed_at\n1,2025-01-31 09:30:00\n2,2025-01-31\n4,2025-02-01T08:00:00\n8,\n";
    let files: &[(&str, &[u8])] = &[("d.csv", data.as_bytes())];
    let want = "period,total,first\n2025-01-31,3,2025-01-31T00:00:00\n2025-02-01,4,2025-02-01T08:00:00\n";
    assert_eq!(csv_of(&run(files, "d.csv", "", kpis, by_day)), want);
    let declared = "    columns: {closed_at: datetime}\n";
    assert_eq!(csv_of(&run(files, "d.csv", declared, kpis, by_day)), want);
    // A date alone that is no date is still named.
    let bad = "amount,closed_at\n1,2025-01-31 09:30:00\n2,2025-02-30\n";
    let out = run(&[("d.csv", bad.as_bytes())], "d.csv", declared, kpis, by_day);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("d.csv` line 3 holds `2025-02-30`"),
        "{}",
        stderr(&out)
    );
    // With offsets, a date alone is midnight in the zone: 23:30 at -05:00
    // on Jan 31 is Feb 1 in Berlin, as is the date alone.
    let zoned = "amount,closed_at\n1,2025-01-31T23:30:00-05:00\n2,2025-02-01\n4,2025-01-31T10:00:00+01:00\n";
    let berlin = "    read: {timezone: Europe/Berlin}\n";
    assert_eq!(
        d_csv(zoned, berlin, kpis, by_day),
        "period,total,first\n2025-01-31,4,2025-01-31T10:00:00\n2025-02-01,3,2025-02-01T00:00:00\n"
    );
    // In a `datetime_format`, a date alone is written as its date part.
    let us = "amount,closed_at\n1,01/31/2025 09:30\n2,01/31/2025\n4,02/01/2025 08:00\n";
    let format = "    read: {datetime_format: \"%m/%d/%Y %H:%M\"}\n";
    for extra in [format.to_string(), format!("{format}{declared}")] {
        assert_eq!(
            d_csv(us, &extra, kpis, by_day),
            "period,total,first\n2025-01-31,3,2025-01-31T00:00:00\n2025-02-01,4,2025-02-01T08:00:00\n",
            "{extra}"
        );
    }
    // A time of day written without a `:` is no date alone (the `:` is
    // what tells them apart): such a format reads as it did.
    let compact = "amount,closed_at\n1,2025-01-31 0930\n2,2025-02-01 2330\n";
    let format = "    read: {datetime_format: \"%Y-%m-%d %H%M\"}\n";
    assert_eq!(
        d_csv(compact, &format!("{format}{declared}"), kpis, by_day),
        "period,total,first\n2025-01-31,1,2025-01-31T09:30:00\n2025-02-01,2,2025-02-01T23:30:00\n"
    );
    // Dates alone for 1,500 rows (more than the values types are guessed
    // from), then one with a time: datetimes, the dates at midnight.
    let mut late = String::from("amount,closed_at\n");
    for i in 0..1500 {
        late.push_str(&format!("1,2025-01-{:02}\n", 1 + i % 28));
    }
    late.push_str("10,2025-02-03 10:00:00\n20,2025-02-03 10:00:00.250\n");
    let want = "period,total,first\n2025-01,1500,2025-01-01T00:00:00\n2025-02,30,2025-02-03T10:00:00\n";
    for extra in ["", declared] {
        assert_eq!(d_csv(&late, extra, kpis, BY_MONTH), want, "{extra}");
    }
    // NDJSON alike.
    let nd = "{\"amount\": 1, \"closed_at\": \"2025-01-31T09:30:00\"}\n{\"amount\": 2, \"closed_at\": \"2025-01-31\"}\n";
    let out = run(&[("d.ndjson", nd.as_bytes())], "d.ndjson", "", kpis, by_day);
    assert_eq!(
        csv_of(&out),
        "period,total,first\n2025-01-31,3,2025-01-31T00:00:00\n"
    );
    let mut late = String::new();
    for i in 0..1500 {
        late.push_str(&format!(
            "{{\"amount\": 1, \"closed_at\": \"2025-01-{:02}\"}}\n",
            1 + i % 28
        ));
    }
    late.push_str("{\"amount\": 10, \"closed_at\": \"2025-02-03T10:00:00\"}\n{\"amount\": 20, \"closed_at\": \"2025-02-03T10:00:00.250\"}\n");
    for extra in ["", declared] {
        let by_month = run(
            &[("d.ndjson", late.as_bytes())],
            "d.ndjson",
            extra,
            kpis,
            BY_MONTH,
        );
        assert_eq!(csv_of(&by_month), want, "{extra}");
    }
}

/// A blank line (empty, or only white space) is no record: it is neither
/// counted nor a row of nulls, read in pieces or by the reader (another
/// encoding, `on_error: skip`), and places after it are still right.
#[test]
fn blank_lines_are_not_rows() {
    // Two records (5 and 7) around an empty line and one of spaces, and
    // two empty lines at the end: 12 over 2 rows.
    let data = "id,amount,closed_at\n1,5,2025-01-01\n\n  \n2,7,2025-01-02\n\n\n";
    let files: &[(&str, &[u8])] = &[("d.csv", data.as_bytes())];
    let out = run(files, "d.csv", "", TOTAL, EVAL_CSV);
    assert_eq!(csv_of(&out), "total,rows\n12,2\n");
    let latin = "    read: {encoding: latin-1}\n";
    assert_eq!(
        csv_of(&run(files, "d.csv", latin, TOTAL, EVAL_CSV)),
        "total,rows\n12,2\n"
    );
    // A ragged record after a blank line is skipped, and only it: line 4.
    let data = "id,amount,closed_at\n1,5,2025-01-01\n\n1,2,3,4\n2,7,2025-01-02\n";
    let files: &[(&str, &[u8])] = &[("d.csv", data.as_bytes())];
    let skip = "    columns: {amount: number, closed_at: date}\n    read: {on_error: skip}\n";
    let out = run(files, "d.csv", skip, TOTAL, EVAL_CSV);
    assert_eq!(csv_of(&out), "total,rows\n12,2\n");
    let err = stderr(&out);
    assert!(
        err.contains("kpi::rows_skipped") && err.contains("1 row of") && err.contains("was skipped (line 4)"),
        "{err}"
    );
}

/// A row of the header's number of empty fields (`,,`, what a spreadsheet
/// saved as CSV writes for a row it once formatted) is a row of nulls, as
/// every reader and SQL count it: `count()` counts it. `check --data`, and
/// `eval` beside the count it changes, say how many there are and where,
/// in another encoding too; a blank line is no row and not said.
#[test]
fn rows_without_values_are_counted_and_said() {
    let data = "id,amount,closed_at\r\n1,5,2025-01-01\r\n,,\r\n , ,\t\r\n2,7,2025-01-02\r\n\r\n,,";
    let files: &[(&str, &[u8])] = &[("d.csv", data.as_bytes())];
    for extra in ["", "    read: {encoding: latin-1}\n"] {
        let out = run(files, "d.csv", extra, TOTAL, EVAL_CSV);
        assert_eq!(csv_of(&out), "total,rows\n12,5\n", "{extra}");
        assert!(stderr(&out).contains("kpi::empty_rows"), "{}", stderr(&out));
        let said = stdout(&run(files, "d.csv", extra, TOTAL, &["check", "--data"]));
        assert!(
            said.contains("kpi::empty_rows")
                && said.contains("3 rows of `")
                && said.contains("no value in any column (lines 3, 4, 7)"),
            "{extra}: {said}"
        );
    }
    // Separated by tabs, such a row is tabs and perhaps spaces: white
    // space, yet no blank line (it was dropped, one row short).
    let tabs = "id\tamount\tclosed_at\r\n1\t5\t2025-01-01\r\n\t\t\r\n \t \t \r\n2\t7\t2025-01-02\r\n\r\n\t\t";
    let tab = "    read: {delimiter: \"\\t\"}\n";
    let out = run(&[("d.csv", tabs.as_bytes())], "d.csv", tab, TOTAL, EVAL_CSV);
    assert_eq!(csv_of(&out), "total,rows\n12,5\n");
    assert!(stderr(&out).contains("(lines 3, 4, 7)"), "{}", stderr(&out));
    // A longer file: 120,000 records, every hundredth without values
    // (the shape pass split anywhere is the unit tests' in data::csv::shape),
    // separated by commas and by tabs.
    for (sep, read) in [(",", ""), ("\t", tab)] {
        let mut big = ["id", "amount", "closed_at\n"].join(sep);
        for i in 0..120_000 {
            big.push_str(&match i % 100 {
                99 => format!("{sep}{sep}\n"),
                _ => format!("{i}{sep}1{sep}2025-01-01\n"),
            });
        }
        let files: &[(&str, &[u8])] = &[("d.csv", big.as_bytes())];
        assert_eq!(
            csv_of(&run(files, "d.csv", read, TOTAL, EVAL_CSV)),
            "total,rows\n118800,120000\n",
            "{sep:?}"
        );
    }
    let mut big = String::from("id,amount,closed_at\n");
    for i in 0..120_000 {
        big.push_str(&match i % 100 {
            99 => ",,\n".to_string(),
            _ => format!("{i},1,2025-01-01\n"),
        });
    }
    let files: &[(&str, &[u8])] = &[("d.csv", big.as_bytes())];
    let said = stdout(&run(files, "d.csv", "", TOTAL, &["check", "--data"]));
    assert!(
        said.contains("1,200 rows of `") && said.contains("(lines 101, 201, 301, 401, 501, …)"),
        "{said}"
    );
    let clean = "id,amount,closed_at\n1,5,2025-01-01\n\n";
    let said = stdout(&run(
        &[("d.csv", clean.as_bytes())],
        "d.csv",
        "",
        TOTAL,
        &["check", "--data"],
    ));
    assert!(!said.contains("empty_rows"), "{said}");
}

/// A `;`-separated export whose amounts are all written as `.` between
/// thousands writes them (`12.500`, `1.234`, `7`) is read with `.` as the
/// decimal point, as asked (12.5): `check --data` warns of it with the
/// option that reads them as thousands. With it, the sum is 13,741 and
/// nothing is said; a value that is no such grouping (`12.5`, `1500`),
/// a `,`-separated file, or `--allow dotted_thousands` says nothing.
#[test]
fn dotted_thousands_in_a_semicolon_export_are_warned_of() {
    let eu = "owner;amount;closed_at\na;1.234;2025-01-31\nb;12.500;2025-02-01\nc;7;2025-02-02\n";
    let files: &[(&str, &[u8])] = &[("d.csv", eu.as_bytes())];
    let semicolons = "    read: {delimiter: \";\"}\n";
    let said = stdout(&run(files, "d.csv", semicolons, TOTAL, &["check", "--data"]));
    assert!(
        said.contains("kpi::dotted_thousands")
            && said.contains("(`1.234` is read as 1.234)")
            && said.contains("`read: {decimal_comma: true}`"),
        "{said}"
    );
    assert_eq!(
        csv_of(&run(files, "d.csv", semicolons, TOTAL, EVAL_CSV)),
        "total,rows\n20.734,3\n"
    );
    let allowed = run(
        files,
        "d.csv",
        semicolons,
        TOTAL,
        &["check", "--data", "--allow", "dotted_thousands"],
    );
    assert!(!stdout(&allowed).contains("dotted_thousands"));
    let comma = "    read: {delimiter: \";\", decimal_comma: true}\n";
    assert_eq!(
        csv_of(&run(files, "d.csv", comma, TOTAL, EVAL_CSV)),
        "total,rows\n13741,3\n"
    );
    assert!(!stdout(&run(files, "d.csv", comma, TOTAL, &["check", "--data"])).contains("dotted_thousands"));
    for other in ["12.5", "1500"] {
        let data =
            format!("owner;amount;closed_at\na;1.234;2025-01-31\nb;{other};2025-02-01\nc;2.000;2025-02-02\n");
        let files: &[(&str, &[u8])] = &[("d.csv", data.as_bytes())];
        assert!(
            !stdout(&run(files, "d.csv", semicolons, TOTAL, &["check", "--data"]))
                .contains("dotted_thousands"),
            "{other}"
        );
    }
    let us = eu.replace(';', ",");
    let files: &[(&str, &[u8])] = &[("d.csv", us.as_bytes())];
    assert!(!stdout(&run(files, "d.csv", "", TOTAL, &["check", "--data"])).contains("dotted_thousands"));
}

/// Files joined end to end (`cat jan.csv feb.csv`) repeat the header line:
/// the value a declared column's type cannot hold is then its own name,
/// and the help says so, where it offered to read `amount` as no value.
/// Skipped, the line is no row: the two deals are 3.
#[test]
fn a_repeated_header_line_is_named_as_one() {
    let data = "owner,amount,closed_at\na,1,2025-01-01\nowner,amount,closed_at\nb,2,2025-02-01\n";
    let files: &[(&str, &[u8])] = &[("d.csv", data.as_bytes())];
    let declared = "    columns: {amount: number}\n";
    let out = run(files, "d.csv", declared, TOTAL, &["check", "--data"]);
    let said = stdout(&out);
    assert!(
        said.contains("but `")
            && said.contains("d.csv` line 3 holds `amount`")
            && said.contains("that line repeats the header"),
        "{said}"
    );
    let skip = "    columns: {amount: number, closed_at: date}\n    read: {on_error: skip}\n";
    assert_eq!(
        csv_of(&run(files, "d.csv", skip, TOTAL, EVAL_CSV)),
        "total,rows\n3,2\n"
    );
}

#[test]
fn quoted_empty_values_are_empty() {
    // A quote-everything export: `""` is an empty value, so amount is a
    // number column (5 + 7 over three rows, one amount null) and the
    // flags booleans (one true), whatever the encoding, rows skipped or not.
    let data = "\"id\",\"amount\",\"closed_at\",\"flag\"\r\n\"1\",\"5\",\"2025-01-01\",\"true\"\r\n\"2\",\"\",\"2025-01-02\",\"\"\r\n\"3\",\"7\",\"2025-01-03\",\"false\"\r\n";
    let files: &[(&str, &[u8])] = &[("d.csv", data.as_bytes())];
    let kpis = format!(
        "{TOTAL}  missing: {{dataset: d, measure: count(where amount is null)}}\n  flagged: {{dataset: d, measure: count(where flag)}}\n"
    );
    for read in [
        "",
        "    read: {encoding: latin-1}\n",
        "    read: {on_error: skip}\n",
    ] {
        let out = run(files, "d.csv", read, &kpis, EVAL_CSV);
        assert_eq!(csv_of(&out), "total,rows,missing,flagged\n12,3,1,1\n", "{read}");
    }
}

/// A quote-everything export leaves dates and times empty as `""` too:
/// null, guessed or declared, to the day or to the minute, a US date of a
/// `date_format` alike (each was refused: "conversion from `str` to `date`
/// failed", a message of the reader alone). By hand: two of three rows
/// have a close, one a touch.
#[test]
fn quoted_empty_dates_and_times_are_empty() {
    let kpis = "  rows: {dataset: d, measure: count()}\n  closed: {dataset: d, measure: count(closed_at)}\n  touched: {dataset: d, measure: count(touched_at)}\n";
    for (closes, read) in [
        (["2025-01-05", "2025-02-10"], ""),
        (
            ["01/05/2025", "02/10/2025"],
            "    read: {date_format: \"%m/%d/%Y\"}\n",
        ),
    ] {
        let data = format!(
            "\"id\",\"closed_at\",\"touched_at\"\r\n\"1\",\"{}\",\"\"\r\n\"2\",\"\",\"2025-01-07T09:30\"\r\n\"3\",\"{}\",\"\"\r\n",
            closes[0], closes[1]
        );
        let files: &[(&str, &[u8])] = &[("d.csv", data.as_bytes())];
        for declared in ["", "    columns: {closed_at: date, touched_at: datetime}\n"] {
            let extra = format!("{read}{declared}");
            let out = run(files, "d.csv", &extra, kpis, EVAL_CSV);
            assert_eq!(csv_of(&out), "rows,closed,touched\n3,2,1\n", "{extra}");
        }
    }
}

/// A cell of spaces alone (a spreadsheet's cleared cell) is an empty value
/// in a column of numbers or dates, as values are trimmed: the column was
/// text, so `sum(amount)` was a type error with no word of the cell. By
/// hand: 5 + 7, and two of three closes.
#[test]
fn cells_of_spaces_are_empty() {
    let kpis =
        "  total: {dataset: d, measure: sum(amount)}\n  closed: {dataset: d, measure: count(closed_at)}\n";
    let data = "id,amount,closed_at\n1,5,2025-01-05\n2,  ,\" \"\n3,\" \",2025-02-01\n4,7,\t\n";
    let files: &[(&str, &[u8])] = &[("d.csv", data.as_bytes())];
    for declared in ["", "    columns: {amount: number, closed_at: date}\n"] {
        let out = run(files, "d.csv", declared, kpis, EVAL_CSV);
        assert_eq!(csv_of(&out), "total,closed\n12,2\n", "{declared}");
    }
}

/// A column declared `bool` reads as spreadsheets, CRMs and PostgreSQL
/// write booleans (`Yes`/`No`, `1`/`0`, `t`/`f`, `TRUE`); a value that is
/// none of them stops `eval` with its line, as a declared number does (a
/// `1`/`0` column was read as nulls: `count(where won)` gave 0, silently).
#[test]
fn declared_booleans_read_as_exports_write_them() {
    let kpis = "  won: {dataset: d, measure: count(where flag)}\n  lost: {dataset: d, measure: count(where not flag)}\n";
    let declared = "    columns: {flag: bool}\n";
    // Two true, one false, one null each time.
    for (t1, t2, f) in [
        ("Yes", "yes", "No"),
        ("1", "1", "0"),
        ("t", "T", "f"),
        ("TRUE", "y", "n"),
    ] {
        let data =
            format!("flag,closed_at\n{t1},2025-01-01\n{f},2025-01-02\n,2025-01-03\n {t2} ,2025-01-04\n");
        let files: &[(&str, &[u8])] = &[("d.csv", data.as_bytes())];
        let out = run(files, "d.csv", declared, kpis, EVAL_CSV);
        assert_eq!(csv_of(&out), "won,lost\n2,1\n", "{data}");
    }
    let data = "flag,closed_at\nyes,2025-01-01\nmaybe,2025-01-02\n";
    let files: &[(&str, &[u8])] = &[("d.csv", data.as_bytes())];
    let out = run(files, "d.csv", declared, kpis, EVAL_CSV);
    let err = stderr(&out);
    assert_eq!((out.status.code(), out.stdout.len()), (Some(1), 0), "{err}");
    assert!(
        err.contains("kpi::declared_type_contradicted")
            && err.contains("line 3 holds `maybe`")
            && err.contains("yes/no"),
        "{err}"
    );
    // A Parquet text column declared `bool` takes the same words; its
    // records are rows, not lines.
    let dir = temp_dir("parquet-bool");
    let mut frame = polars::df!(
        "flag" => ["true", "yes", "maybe"],
        "closed_at" => ["2025-01-01", "2025-01-02", "2025-01-03"]
    )
    .unwrap();
    let file = std::fs::File::create(dir.join("d.parquet")).unwrap();
    polars::prelude::ParquetWriter::new(file)
        .finish(&mut frame)
        .unwrap();
    let declared = "    columns: {flag: bool, closed_at: date}\n";
    let out = run(
        &[],
        dir.join("d.parquet").to_str().unwrap(),
        declared,
        kpis,
        EVAL_CSV,
    );
    let err = stderr(&out);
    assert!(err.contains("d.parquet` row 3 holds `maybe`"), "{err}");
}

#[test]
fn a_record_is_placed_in_its_own_file_and_line() {
    // Blank lines are no records but are lines; in a glob, the record is
    // placed in the file that holds it, not counted across the files.
    let declared = "    columns: {amount: number}\n";
    let files: &[(&str, &[u8])] = &[
        (
            "a.ndjson",
            b"{\"amount\": 1, \"closed_at\": null}\n\n{\"amount\": 2, \"closed_at\": null}\n",
        ),
        (
            "b.ndjson",
            b"\n{\"amount\": 3, \"closed_at\": null}\n{\"amount\": \"x\", \"closed_at\": null}\n",
        ),
    ];
    let err = stderr(&run(files, "\"*.ndjson\"", declared, TOTAL, EVAL_CSV));
    assert!(err.contains("b.ndjson` line 3 holds `x`"), "{err}");
    let files: &[(&str, &[u8])] = &[(
        "d.ndjson",
        b"\n\n{\"amount\": 1, \"closed_at\": null}\n{\"amount\": true, \"closed_at\": null}\n",
    )];
    let err = stderr(&run(files, "d.ndjson", declared, TOTAL, EVAL_CSV));
    assert!(err.contains("d.ndjson` line 4 holds `true`"), "{err}");
    // Undeclared, `1` and `true` are a text column (the reader joined them
    // as integers and then failed on `true`; `1.5` and `true` it did not join).
    let float: &[(&str, &[u8])] = &[("d.ndjson", b"{\"amount\": 1.5}\n{\"amount\": true}\n")];
    for files in [files, float] {
        let err = stderr(&run(files, "d.ndjson", "", TOTAL, EVAL_CSV));
        assert!(
            err.contains("kpi::type_mismatch") && err.contains("read as text"),
            "{err}"
        );
    }
    // Parquet: the row within the file.
    let dir = temp_dir("parquet-glob");
    for (name, amounts) in [
        ("a.parquet", &["1", "2", "3"][..]),
        ("b.parquet", &["4", "x"][..]),
    ] {
        let dates = vec!["2025-01-01"; amounts.len()];
        let mut frame = polars::df!("amount" => amounts, "closed_at" => dates).unwrap();
        let file = std::fs::File::create(dir.join(name)).unwrap();
        polars::prelude::ParquetWriter::new(file)
            .finish(&mut frame)
            .unwrap();
    }
    let source = format!("\"{}\"", dir.join("*.parquet").display());
    let declared = "    columns: {amount: number, closed_at: date}\n";
    let err = stderr(&run(&[], &source, declared, TOTAL, EVAL_CSV));
    assert!(err.contains("b.parquet` row 2 holds `x`"), "{err}");
    // A field of two kinds in two files of a glob: both named (the
    // reader said "failed to determine supertype of i64 and list[i64]").
    let files: &[(&str, &[u8])] = &[
        ("a.ndjson", b"{\"amount\": 1, \"closed_at\": null}\n"),
        ("b.ndjson", b"{\"amount\": [1], \"closed_at\": null}\n"),
    ];
    let err = stderr(&run(files, "\"*.ndjson\"", "", TOTAL, EVAL_CSV));
    assert!(
        err.contains("kpi::headers_differ")
            && err.contains("different kinds of value in `amount`: a number in `")
            && err.contains("a.ndjson`, a list in `")
            && err.contains("b.ndjson`"),
        "{err}"
    );
    // A line of `null` is no record: the reader fails on it, named here.
    let files: &[(&str, &[u8])] = &[("d.ndjson", b"{\"amount\": 1, \"closed_at\": null}\nnull\n")];
    let err = stderr(&run(files, "d.ndjson", declared, TOTAL, EVAL_CSV));
    assert!(err.contains("d.ndjson`: line 2: not a JSON object"), "{err}");
}

/// A Parquet file of `columns` in a new folder; its path.
fn parquet_of(name: &str, columns: Vec<polars::prelude::Column>) -> std::path::PathBuf {
    let dir = temp_dir(name);
    let path = dir.join("d.parquet");
    write_parquet(&path, columns);
    path
}

fn write_parquet(path: &std::path::Path, columns: Vec<polars::prelude::Column>) {
    let mut frame = polars::prelude::DataFrame::new_infer_height(columns).unwrap();
    let file = std::fs::File::create(path).unwrap();
    polars::prelude::ParquetWriter::new(file)
        .finish(&mut frame)
        .unwrap();
}

#[test]
fn a_parquet_glob_joins_its_files_by_column_name() {
    use polars::prelude::*;
    // Integers in one file, floats in the next, the columns in another
    // order, texts dictionary-encoded in a third: one dataset (Polars
    // refused each with its own message). a: 1 + 1.5, b: 2, c: 4.
    let dir = temp_dir("parquet-glob-kinds");
    let date = |n: usize| {
        Column::new("closed_at".into(), vec![20089i32; n])
            .cast(&DataType::Date)
            .unwrap()
    };
    write_parquet(
        &dir.join("1.parquet"),
        vec![
            Column::new("amount".into(), [1i64, 2]),
            Column::new("owner".into(), ["a", "b"]),
            date(2),
        ],
    );
    write_parquet(
        &dir.join("2.parquet"),
        vec![
            date(1),
            Column::new("owner".into(), ["a"]),
            Column::new("amount".into(), [1.5f64]),
        ],
    );
    let coded = Column::new("owner".into(), ["c"])
        .cast(&DataType::from_categories(Categories::global()))
        .unwrap();
    write_parquet(
        &dir.join("3.parquet"),
        vec![Column::new("amount".into(), [4i32]), coded, date(1)],
    );
    let source = format!("\"{}\"", dir.join("*.parquet").display());
    let by_owner = &["eval", "--by", "owner", "--format", "csv"];
    let out = run(&[], &source, "", TOTAL, by_owner);
    assert_eq!(csv_of(&out), "owner,total,rows\na,2.5,2\nb,2,1\nc,4,1\n");
    // A column one file lacks; a column of lists in one file.
    write_parquet(
        &dir.join("4.parquet"),
        vec![
            Column::new("amount".into(), [1.0]),
            Column::new("owner".into(), ["d"]),
            date(1),
            Column::new("cost".into(), [0.5]),
        ],
    );
    let err = stderr(&run(&[], &source, "", TOTAL, by_owner));
    assert!(
        err.contains("kpi::headers_differ") && err.contains("4.parquet` (`cost` is in one of them only)"),
        "{err}"
    );
    std::fs::remove_file(dir.join("4.parquet")).unwrap();
    let lists = Series::new("amount".into(), [Series::new("".into(), [1.0])]);
    write_parquet(
        &dir.join("4.parquet"),
        vec![lists.into_column(), Column::new("owner".into(), ["d"]), date(1)],
    );
    let err = stderr(&run(&[], &source, "", TOTAL, by_owner));
    assert!(
        err.contains("different kinds of value in `amount`: a number in `") && err.contains("4.parquet`"),
        "{err}"
    );
}

#[test]
fn a_stored_type_the_declared_one_cannot_hold_is_named() {
    use polars::prelude::*;
    // Dates stored as the integers 20250131 and 20250201: cast to dates,
    // they were days after 1970 (the year 57413), cast to datetimes
    // microseconds (1970-01), and both months summed in silence.
    let amount = Column::new("amount".into(), [1.0, 2.0]);
    let days = Column::new("closed_at".into(), [20250131i64, 20250201]);
    let path = parquet_of("stored-ints", vec![days, amount.clone()]);
    for t in ["date", "datetime"] {
        let declared = format!("    columns: {{closed_at: {t}}}\n");
        for args in [&["check", "--data"][..], BY_MONTH] {
            let out = run(&[], path.to_str().unwrap(), &declared, TOTAL, args);
            // (`kpi check` reports on standard output, `eval` has no result.)
            let said = format!("{} {}", stdout(&out), stderr(&out));
            assert_eq!(out.status.code(), Some(1), "{said}");
            assert!(
                said.contains(&format!("is declared {t}, but"))
                    && said.contains("d.parquet` row 1 holds `20250131`")
                    && said.contains("stored as integers")
                    && !said.contains("undeclared_column")
                    && !said.contains("57413-"),
                "{said}"
            );
        }
    }
    // Dates declared numbers; integers other than 0 and 1 declared bool.
    let dates = Column::new("closed_at".into(), [20089i32, 20120])
        .cast(&DataType::Date)
        .unwrap();
    let won = dates.clone().with_name("won_on".into());
    let flags = Column::new("flag".into(), [Some(0i64), Some(2)]);
    let path = parquet_of("stored-dates", vec![dates.clone(), won, flags, amount.clone()]);
    let declared = "    columns: {won_on: number}\n";
    let err = stderr(&run(&[], path.to_str().unwrap(), declared, TOTAL, EVAL_CSV));
    assert!(
        err.contains("is declared number, but") && err.contains("row 1 holds `2025-01-01`"),
        "{err}"
    );
    let declared = "    columns: {flag: bool}\n";
    let err = stderr(&run(&[], path.to_str().unwrap(), declared, TOTAL, EVAL_CSV));
    assert!(
        err.contains("is declared bool, but") && err.contains("row 2 holds `2`"),
        "{err}"
    );
    // 0 and 1 are a bool's: one row flagged.
    let flags = Column::new("flag".into(), [Some(0i64), Some(1)]);
    let path = parquet_of("stored-flags", vec![dates, flags, amount]);
    let flagged = "  flagged: {dataset: d, measure: count(where flag)}\n";
    let out = run(&[], path.to_str().unwrap(), declared, flagged, EVAL_CSV);
    assert_eq!(csv_of(&out), "flagged\n1\n");
    // NDJSON numbers declared datetime: named with their line.
    let nd = "{\"amount\": 1, \"closed_at\": 100000}\n";
    let err = stderr(&ndjson_eval(nd, "    columns: {closed_at: datetime}\n"));
    assert!(err.contains("d.ndjson` line 1 holds `100000"), "{err}");
}

#[test]
fn ndjson_texts_declared_numbers_and_bools_read_as_check_reads_them() {
    // Spaces around and an empty text (no value) failed the cast to a
    // number; no text was cast to a bool at all. 5 + 7; two true, one false.
    let nd = "{\"amount\": \"\", \"flag\": \"True\", \"closed_at\": \"2025-01-01\"}\n\
              {\"amount\": \" 5 \", \"flag\": \" false \", \"closed_at\": \"2025-01-02\"}\n\
              {\"amount\": \"7\", \"flag\": \"\", \"closed_at\": \"2025-01-02\"}\n\
              {\"amount\": null, \"flag\": \"true\", \"closed_at\": \"2025-01-02\"}\n";
    let declared = "    columns: {amount: number, flag: bool}\n";
    let kpis = "  total: {dataset: d, measure: sum(amount)}\n  yes: {dataset: d, measure: count(where flag)}\n  no: {dataset: d, measure: count(where not flag)}\n";
    let files: &[(&str, &[u8])] = &[("d.ndjson", nd.as_bytes())];
    let check = run(files, "d.ndjson", declared, kpis, &["check", "--data"]);
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
    let out = run(files, "d.ndjson", declared, kpis, EVAL_CSV);
    assert_eq!(csv_of(&out), "total,yes,no\n12,2,1\n");
    // A text no bool: named, not read as false.
    let nd = "{\"flag\": \"maybe\", \"amount\": 1, \"closed_at\": \"2025-01-02\"}\n";
    let files: &[(&str, &[u8])] = &[("d.ndjson", nd.as_bytes())];
    let err = stderr(&run(files, "d.ndjson", declared, kpis, EVAL_CSV));
    assert!(err.contains("d.ndjson` line 1 holds `maybe`"), "{err}");
}

#[test]
fn lines_ended_by_a_carriage_return_alone_are_lines() {
    // Excel's "CSV (Macintosh)": read so by Polars, the file was one line,
    // a header of many columns, and every count 0. 10 + 20 over two rows;
    // a value a declared type cannot hold is named on its own line.
    let data = "id,amount,closed_at\r1,10,2025-01-01\r2,20,2025-02-01\r";
    let files: &[(&str, &[u8])] = &[("d.csv", data.as_bytes())];
    let out = run(files, "d.csv", "", TOTAL, BY_MONTH);
    assert_eq!(csv_of(&out), "period,total,rows\n2025-01,10,1\n2025-02,20,1\n");
    let data = "id,amount,closed_at\r1,10,2025-01-01\r2,x1,2025-02-01\r";
    let files: &[(&str, &[u8])] = &[("d.csv", data.as_bytes())];
    let declared = "    columns: {amount: number}\n";
    let err = stderr(&run(files, "d.csv", declared, TOTAL, EVAL_CSV));
    assert!(err.contains("d.csv` line 3 holds `x1`"), "{err}");
}

#[test]
fn an_ndjson_field_spelt_two_ways_is_warned_of() {
    // `Amount` on one record, `amount` on two, never both: `sum(amount)`
    // was 4 of 6 with nothing said. The dimension the help gives reads 6;
    // fields of two cases that records hold together are two fields.
    let nd = "{\"amount\": 1, \"closed_at\": \"2025-01-01\"}\n{\"Amount\": 2, \"closed_at\": \"2025-01-02\"}\n{\"amount\": 3, \"closed_at\": \"2025-01-03\"}\n";
    let files: &[(&str, &[u8])] = &[("d.ndjson", nd.as_bytes())];
    let said = stdout(&run(files, "d.ndjson", "", TOTAL, &["check", "--data"]));
    assert!(
        said.contains("kpi::field_spelt_two_ways")
            && said.contains("fields `amount` (2 records) and `Amount` (1 record)")
            && said.contains("`amount_all: coalesce(amount, Amount)`"),
        "{said}"
    );
    let joined = "    dimensions: {amount_all: 'coalesce(amount, Amount)'}\n";
    let all = "  total: {dataset: d, measure: sum(amount_all)}\n";
    assert_eq!(
        csv_of(&run(files, "d.ndjson", joined, all, EVAL_CSV)),
        "total\n6\n"
    );
    let nd = "{\"amount\": 1, \"Amount\": 5, \"closed_at\": \"2025-01-01\"}\n";
    let files: &[(&str, &[u8])] = &[("d.ndjson", nd.as_bytes())];
    let said = stdout(&run(files, "d.ndjson", "", TOTAL, &["check", "--data"]));
    assert!(!said.contains("field_spelt_two_ways"), "{said}");
}

#[test]
fn numbers_the_reader_cannot_hold_as_integers() {
    // An integer of 20 digits does not fit 64 bits: the column is text (an
    // identifier, as a rule), which `sum` refuses, saying why; declared a
    // number it is one (a float), 5 + 99,999,999,999,999,999,999 being
    // 1e20 as a float.
    let data = "id,amount,closed_at\n1,5,2025-01-01\n2,99999999999999999999,2025-01-02\n";
    let files: &[(&str, &[u8])] = &[("d.csv", data.as_bytes())];
    let out = run(files, "d.csv", "", TOTAL, EVAL_CSV);
    assert_eq!(out.status.code(), Some(1));
    let said: String = stderr(&out).split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        said.contains("kpi::type_mismatch")
            && said.contains("an integer too long for a number to hold exactly"),
        "{said}"
    );
    let declared = "    columns: {amount: number}\n";
    let out = run(files, "d.csv", declared, TOTAL, EVAL_CSV);
    assert_eq!(csv_of(&out), "total,rows\n100000000000000000000,2\n");
    // Digits other than ASCII ones make text, which `sum` refuses.
    let data = "id,amount,closed_at\n1,5,2025-01-01\n2,\u{663}\u{663},2025-01-02\n";
    let files: &[(&str, &[u8])] = &[("d.csv", data.as_bytes())];
    let out = run(files, "d.csv", "", TOTAL, EVAL_CSV);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("kpi::type_mismatch"), "{}", stderr(&out));
}

#[test]
fn ndjson_lines_are_named_and_long_integers_read() {
    // 5 + 12,345,678,901,234,567,890 to 15 significant digits (a float:
    // no 64-bit integer holds it).
    let nd = "{\"amount\": 5, \"closed_at\": \"2025-01-01\"}\n{\"amount\": 12345678901234567890, \"closed_at\": \"2025-01-02\"}\n";
    let columns = "    columns: {closed_at: date}\n";
    let out = ndjson_eval(nd, columns);
    assert_eq!(csv_of(&out), "total,rows\n12345678901234600000,2\n");
    // A line that is not JSON is named, after a blank line.
    let nd = "{\"amount\": 5, \"closed_at\": \"2025-01-01\"}\n\n{\"amount\": 6, \"closed_at\": \n";
    let out = ndjson_eval(nd, columns);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("kpi::data_error") && err.contains("d.ndjson`: line 3:"),
        "{err}"
    );
    // Where on the line, in JSON's terms (the reader named its own
    // internals: "InternalError(TapeError) at character 11").
    for (nd, said) in [
        (
            "{\"amount\": NaN, \"closed_at\": \"2025-01-02\"}\n",
            "line 1: column 12: not JSON",
        ),
        (
            "{\"amount\": 5, \"closed_at\": \"2025-01-01\"}\n[1, 2]\n",
            "line 2: not a JSON object",
        ),
        // Polars' reader typed a key written twice by its second value and
        // read its first (other readers keep the second).
        (
            "{\"amount\": 5, \"closed_at\": \"2025-01-01\"}\n{\"amount\": \"x\", \"amount\": 3}\n",
            "line 2: the key `amount` twice in one object",
        ),
        // A field of two kinds (the reader named no line: "failed to
        // determine supertype of struct[2] and i64").
        (
            "{\"amount\": 5, \"closed_at\": \"2025-01-01\"}\n\n{\"amount\": [1, 2]}\n",
            "line 3: the field `amount` is a list here and a number on line 1",
        ),
        (
            "{\"amount\": 5, \"m\": {\"x\": 1}}\n{\"amount\": 6, \"m\": {\"x\": [2]}}\n",
            "line 2: the field `m.x` is a list here and a number on line 1",
        ),
    ] {
        let out = ndjson_eval(nd, columns);
        let err = stderr(&out);
        assert!(err.contains(said) && !err.contains("TapeError"), "{err}");
    }
}

#[test]
fn dates_in_another_format_name_the_date_format() {
    // US dates: the time column is text, and the warning says which
    // `date_format` reads it; with it, January has 5 and February 6 + 7.
    let data = "id,amount,closed_at\n1,5,01/31/2025\n2,6,02/01/2025\n3,7,02/13/2025\n";
    let files: &[(&str, &[u8])] = &[("d.csv", data.as_bytes())];
    let out = run(files, "d.csv", "", TOTAL, BY_MONTH);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("kpi::time_not_temporal")
            && err.contains("kpi::date_format_needed")
            && err.contains("date_format: \"%m/%d/%Y\"")
            && !err.contains("%d/%m/%Y"),
        "{err}"
    );
    let read = "    read: {date_format: \"%m/%d/%Y\"}\n";
    let out = run(files, "d.csv", read, TOTAL, BY_MONTH);
    assert_eq!(csv_of(&out), "period,total,rows\n2025-01,5,1\n2025-02,13,2\n");
    // Days of 12 or less: either order reads them, and both are named.
    let data = "id,amount,closed_at\n1,5,01/02/2025\n2,6,03/04/2025\n";
    let files: &[(&str, &[u8])] = &[("d.csv", data.as_bytes())];
    let err = stderr(&run(files, "d.csv", "", TOTAL, BY_MONTH));
    assert!(err.contains("`%m/%d/%Y`") && err.contains("`%d/%m/%Y`"), "{err}");
}

#[test]
fn ndjson_dates_in_another_format_name_the_date_format_too() {
    // The same US dates in NDJSON: the hint names the option, which reads
    // them undeclared and declared alike (January 5, February 6 + 7).
    let nd = "{\"amount\": 5, \"closed_at\": \"01/31/2025\"}\n{\"amount\": 6, \"closed_at\": \"02/01/2025\"}\n{\"amount\": 7, \"closed_at\": \"02/13/2025\"}\n";
    let files: &[(&str, &[u8])] = &[("d.ndjson", nd.as_bytes())];
    let out = run(files, "d.ndjson", "", TOTAL, BY_MONTH);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("kpi::date_format_needed") && err.contains("date_format: \"%m/%d/%Y\""),
        "{err}"
    );
    let want = "period,total,rows\n2025-01,5,1\n2025-02,13,2\n";
    let read = "    read: {date_format: \"%m/%d/%Y\"}\n";
    assert_eq!(csv_of(&run(files, "d.ndjson", read, TOTAL, BY_MONTH)), want);
    let declared = "    columns: {closed_at: date}\n";
    let both = format!("{declared}{read}");
    assert_eq!(csv_of(&run(files, "d.ndjson", &both, TOTAL, BY_MONTH)), want);
    // So `kpi check` does not call the option one that does nothing there.
    let checked = run(files, "d.ndjson", &both, TOTAL, &["check"]);
    let said = String::from_utf8_lossy(&checked.stdout);
    assert!(
        checked.status.success() && !said.contains("csv_option_elsewhere"),
        "{said}"
    );
    // Declared without the option: the value and its line, and the option
    // in the help (it was the engine's "could not find an appropriate
    // format" about the whole source).
    let err = stderr(&run(files, "d.ndjson", declared, TOTAL, BY_MONTH));
    assert!(
        err.contains("kpi::declared_type_contradicted")
            && err.contains("d.ndjson` line 1 holds `01/31/2025`")
            && err.contains("date_format: \"%m/%d/%Y\""),
        "{err}"
    );
    // A value no format is found for, after ISO dates: named on its line.
    let nd = "{\"amount\": 5, \"closed_at\": \"2025-01-31\"}\n{\"amount\": 6, \"closed_at\": \"20250201\"}\n";
    let files: &[(&str, &[u8])] = &[("d.ndjson", nd.as_bytes())];
    let err = stderr(&run(files, "d.ndjson", declared, TOTAL, BY_MONTH));
    assert!(err.contains("d.ndjson` line 2 holds `20250201`"), "{err}");
    let nd = "{\"amount\": 6, \"closed_at\": \"20250201\"}\n";
    let files: &[(&str, &[u8])] = &[("d.ndjson", nd.as_bytes())];
    let err = stderr(&run(files, "d.ndjson", declared, TOTAL, BY_MONTH));
    assert!(err.contains("d.ndjson` line 1 holds `20250201`"), "{err}");
}

/// `%Y` reads the `25` of `1/15/25` as the year 25 and a declared date
/// `25-01-15` too: those rows fell in no period asked for (a range from
/// the year 25 made two thousand years of empty periods). A year before
/// 1000 not written in four digits does not convert; `0001-01-01` does.
#[test]
fn a_year_of_two_digits_is_no_year_of_four() {
    let data = "id,amount,closed_at\n1,5,1/31/2025\n2,6,2/1/25\n";
    let files: &[(&str, &[u8])] = &[("d.csv", data.as_bytes())];
    let read = "    read: {date_format: \"%m/%d/%Y\"}\n";
    let out = run(files, "d.csv", read, TOTAL, BY_MONTH);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out).replace("\n        ", " ");
    assert!(
        err.contains("kpi::mixed_column")
            && err.contains("line 3 holds `2/1/25`")
            && err.contains("`2/1/25` is a date written `%m/%d/%y`"),
        "{err}"
    );
    let declared = "    columns: {closed_at: date}\n";
    let data = "id,amount,closed_at\n1,5,2025-01-31\n2,6,25-02-01\n";
    let files: &[(&str, &[u8])] = &[("d.csv", data.as_bytes())];
    let out = run(files, "d.csv", declared, TOTAL, BY_MONTH);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("kpi::declared_type_contradicted") && err.contains("line 3 holds `25-02-01`"),
        "{err}"
    );
    // Skipped, the row is counted, not put in the year 25.
    let skip = format!("{declared}    read: {{on_error: skip}}\n");
    let out = run(files, "d.csv", &skip, TOTAL, BY_MONTH);
    assert_eq!(csv_of(&out), "period,total,rows\n2025-01,5,1\n");
    // A year written in four digits is the year written, however early.
    let data = "id,amount,closed_at\n1,5,0001-01-01\n2,6,2025-02-01\n";
    let files: &[(&str, &[u8])] = &[("d.csv", data.as_bytes())];
    let all = &[
        "eval",
        "--format",
        "csv",
        "--grain",
        "year",
        "--from",
        "0001-01-01",
        "--to",
        "0001-12-31",
    ];
    assert_eq!(
        csv_of(&run(files, "d.csv", declared, TOTAL, all)),
        "period,total,rows\n0001,5,1\n"
    );
}

#[test]
fn dates_with_month_names_and_times_name_their_format() {
    // As spreadsheets and CRMs export them; each hint, applied, reads
    // January's 5 and February's 6 + 7.
    for (days, option) in [
        (
            ["31-Jan-2025", "01-Feb-2025", "13-Feb-2025"],
            "date_format: \"%d-%b-%Y\"",
        ),
        (
            ["Jan 31, 2025", "Feb 1, 2025", "Feb 13, 2025"],
            "date_format: \"%b %d, %Y\"",
        ),
        (
            ["31 January 2025", "1 February 2025", "13 February 2025"],
            "date_format: \"%d %B %Y\"",
        ),
        (
            ["1/31/2025 10:30 AM", "2/1/2025 11:59 PM", "2/13/2025 12:00 AM"],
            "datetime_format: \"%m/%d/%Y %I:%M %p\"",
        ),
        (
            [
                "01/31/2025 23:59:59",
                "02/01/2025 00:00:00",
                "02/13/2025 08:15:00",
            ],
            "datetime_format: \"%m/%d/%Y %H:%M:%S\"",
        ),
        // Excel's short dates: a year of two digits is `%y` (the hint
        // said `%Y`, which reads them as the year 25).
        (["1/31/25", "2/1/25", "2/13/25"], "date_format: \"%m/%d/%y\""),
        (["31.01.25", "01.02.25", "13.02.25"], "date_format: \"%d.%m.%y\""),
        (
            ["1/31/25 10:30 AM", "2/1/25 11:59 PM", "2/13/25 12:00 AM"],
            "datetime_format: \"%m/%d/%y %I:%M %p\"",
        ),
    ] {
        let data = format!(
            "id,amount,closed_at\n1,5,\"{}\"\n2,6,\"{}\"\n3,7,\"{}\"\n",
            days[0], days[1], days[2]
        );
        let files: &[(&str, &[u8])] = &[("d.csv", data.as_bytes())];
        let err = stderr(&run(files, "d.csv", "", TOTAL, BY_MONTH));
        assert!(
            err.contains("kpi::date_format_needed") && err.contains(&format!("read: {{{option}}}")),
            "{option}: {err}"
        );
        let read = format!("    read: {{{option}}}\n");
        let out = run(files, "d.csv", &read, TOTAL, BY_MONTH);
        assert_eq!(
            csv_of(&out),
            "period,total,rows\n2025-01,5,1\n2025-02,13,2\n",
            "{option}"
        );
    }
}

/// Excel's "Unicode Text" export is UTF-16 (little-endian, with its byte
/// order mark), tab-separated, CRLF: read as UTF-8 it was a header of one
/// column and rows of one field. It is read whatever `encoding` says, and
/// a glob may mix it (big-endian here) with UTF-8 files. By hand: José
/// 1,5 in January, b 2 in February; the glob's x 2 and y 3.
#[test]
fn utf16_files_are_read_by_their_byte_order_mark() {
    let utf16 = |text: &str, little: bool| -> Vec<u8> {
        let mut bytes = if little {
            vec![0xFF, 0xFE]
        } else {
            vec![0xFE, 0xFF]
        };
        for unit in text.encode_utf16() {
            bytes.extend(if little {
                unit.to_le_bytes()
            } else {
                unit.to_be_bytes()
            });
        }
        bytes
    };
    let data = utf16(
        "id\tamount\tclosed_at\towner\r\n1\t1,5\t2025-01-31\tJosé\r\n2\t2\t2025-02-01\tb\r\n",
        true,
    );
    let read = "    read: {delimiter: \"\\t\", decimal_comma: true}\n";
    let by_owner = &["eval", "--by", "owner", "--grain", "month", "--format", "csv"];
    let out = run(&[("d.csv", &data)], "d.csv", read, TOTAL, by_owner);
    assert_eq!(
        csv_of(&out),
        "owner,period,total,rows\nJosé,2025-01,1.5,1\nJosé,2025-02,0,0\nb,2025-01,0,0\nb,2025-02,2,1\n"
    );
    // Without the delimiter, the hint names the tab (not a header of NULs).
    let out = run(&[("d.csv", &data)], "d.csv", "", TOTAL, by_owner);
    assert!(stderr(&out).contains("looks `\\t`-delimited"), "{}", stderr(&out));
    let big = utf16("id\tamount\tclosed_at\towner\n1\t2\t2025-01-05\tx\n", false);
    let plain = b"id\tamount\tclosed_at\towner\n2\t3\t2025-01-06\ty\n";
    let files: &[(&str, &[u8])] = &[("a.csv", &big), ("b.csv", plain)];
    let out = run(
        files,
        "\"*.csv\"",
        "    read: {delimiter: \"\\t\"}\n",
        TOTAL,
        &["eval", "--by", "owner", "--format", "csv"],
    );
    assert_eq!(csv_of(&out), "owner,total,rows\nx,2,1\ny,3,1\n");
    // NDJSON is UTF-8 (JSON's own encoding): a UTF-16 file is refused with
    // what it is and the way out, not only the reader's byte error.
    let nd = utf16("{\"amount\": 1, \"closed_at\": \"2025-01-05\"}\n", true);
    let out = run(&[("d.ndjson", &nd)], "d.ndjson", "", TOTAL, EVAL_CSV);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("the file is UTF-16") && stderr(&out).contains("save it as UTF-8"),
        "{}",
        stderr(&out)
    );
}

/// Accounting formats write a negative amount in parentheses (Excel saves
/// `$(1,200.50)` from a cell so formatted): it is the negative number,
/// with the `read:` options the other amounts need, declared `number`, or
/// guessed among plain numbers. By hand: 1,200.50 − 300 − 45.25 = 855.25.
#[test]
fn accounting_negatives_in_parentheses_are_negative() {
    let data = "id,amount,closed_at\n1,\"$1,200.50\",2025-01-01\n2,\"(300.00)\",2025-01-02\n3,\" $(45.25) \",2025-01-03\n";
    let read = "    read: {currency: \"$\", thousands: \",\"}\n";
    assert_eq!(d_csv(data, read, TOTAL, EVAL_CSV), "total,rows\n855.25,3\n");
    let european = "id,amount,closed_at\n1,\"1.200,50\",2025-01-01\n2,\"(300,00)\",2025-01-02\n";
    let read = "    read: {decimal_comma: true}\n";
    assert_eq!(d_csv(european, read, TOTAL, EVAL_CSV), "total,rows\n900.5,2\n");
    // Plain numbers: declared, or nine in ten plain among the values.
    let mut plain = String::from("id,amount,closed_at\n");
    for i in 0..9 {
        plain.push_str(&format!("{i},10,2025-01-01\n"));
    }
    plain.push_str("9,(25.5),2025-01-01\n");
    let declared = "    columns: {amount: number}\n";
    for extra in ["", declared] {
        assert_eq!(
            d_csv(&plain, extra, TOTAL, EVAL_CSV),
            "total,rows\n64.5,10\n",
            "{extra}"
        );
    }
    // A symbol written after the amount, inside the parentheses, with a
    // space between thousands (as French exports write euros): the space
    // before the symbol goes with it (it was taken for one between
    // thousands, `(2.25 )` grouping none, and the value was no number).
    // By hand: 1,234.50 − 2.25 − 1,000 = 232.25.
    let french =
        "id;amount;closed_at\n1;1 234.50 €;2025-01-01\n2;(2.25 €);2025-01-02\n3;(1 000 €);2025-01-03\n";
    let read = "    read: {delimiter: \";\", currency: \"€\", thousands: \" \"}\n";
    for extra in [
        read.to_string(),
        format!("{read}    columns: {{amount: number}}\n"),
    ] {
        assert_eq!(
            d_csv(french, &extra, TOTAL, EVAL_CSV),
            "total,rows\n232.25,3\n",
            "{extra}"
        );
    }
    // A value that is no number is still named.
    let bad = "id,amount,closed_at\n1,(3,2025-01-01\n";
    let out = run(&[("d.csv", bad.as_bytes())], "d.csv", declared, TOTAL, EVAL_CSV);
    assert!(stderr(&out).contains("line 2 holds `(3`"), "{}", stderr(&out));
}

/// With a decimal comma, a dot stands between thousands: `1.000` is a
/// thousand and `12.345` twelve thousand, in a column guessed or declared
/// (the reader took such a column for floats, and read 1 and 12.345). A
/// dot that groups no thousands (`1.5`) is no number so written: a
/// declared column names it, an undeclared one stays text. The same for
/// `thousands: ","` and `1,5`. By hand: 1,000 + 12,345 + 7 = 13,352.
#[test]
fn a_dot_between_thousands_is_no_decimal_point_with_a_decimal_comma() {
    let read = "    read: {delimiter: \";\", decimal_comma: true}\n";
    let declared = "    read: {delimiter: \";\", decimal_comma: true}\n    columns: {amount: number}\n";
    let data = "id;amount;closed_at\n1;1.000;2025-01-01\n2;12.345;2025-01-02\n3;7;2025-01-03\n";
    for extra in [read, declared] {
        assert_eq!(
            d_csv(data, extra, TOTAL, EVAL_CSV),
            "total,rows\n13352,3\n",
            "{extra}"
        );
    }
    let misgrouped = "id;amount;closed_at\n1;1.5;2025-01-01\n2;2,5;2025-01-02\n";
    let out = d_total(misgrouped, declared);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("line 2 holds `1.5`"), "{}", stderr(&out));
    let out = d_total(misgrouped, read);
    assert!(stderr(&out).contains("kpi::type_mismatch"), "{}", stderr(&out));
    let us = "id,amount,closed_at\n1,\"1,5\",2025-01-01\n2,\"1,234.5\",2025-01-02\n";
    let read = "    read: {thousands: \",\"}\n    columns: {amount: number}\n";
    let out = d_total(us, read);
    assert!(stderr(&out).contains("line 2 holds `1,5`"), "{}", stderr(&out));
}

/// A column of plain numbers of which many are negatives in parentheses
/// (an accounting export with many refunds) is a column of numbers, not
/// only when nine in ten are written plainly. By hand: 12 − 1,500.25 − 3 = −1,491.25.
#[test]
fn many_negatives_in_parentheses_are_still_numbers() {
    let data = "id,amount,closed_at\n1,(1500.25),2025-01-01\n2,12,2025-01-02\n3,(3),2025-01-03\n";
    assert_eq!(d_csv(data, "", TOTAL, EVAL_CSV), "total,rows\n-1491.25,3\n");
    // A sign inside the parentheses is no accounting format: text.
    let data = "id,amount,closed_at\n1,(-3),2025-01-01\n2,(-4),2025-01-02\n";
    let out = d_total(data, "");
    assert!(stderr(&out).contains("kpi::type_mismatch"), "{}", stderr(&out));
}

#[test]
fn windows_1252_files_read_with_their_encoding() {
    // "Müller" and "€" in Windows-1252: 0xfc and 0x80.
    let data: &[u8] = b"id,amount,closed_at,owner\n1,5,2025-01-01,M\xfcller\n2,7,2025-01-02,\x80uro\n";
    let kpis = "  total: {dataset: d, measure: sum(amount where owner == \"Müller\")}\n";
    let out = run(
        &[("d.csv", data)],
        "d.csv",
        "    read: {encoding: windows-1252}\n",
        kpis,
        EVAL_CSV,
    );
    assert_eq!(csv_of(&out), "total\n5\n");
    let out = run(
        &[("d.csv", data)],
        "d.csv",
        "    read: {encoding: windows-1252}\n",
        kpis,
        &["eval", "--by", "owner", "--format", "csv"],
    );
    assert_eq!(csv_of(&out), "owner,total\nMüller,5\n€uro,0\n");
    // Read as UTF-8, the first bad byte is named by line and column.
    let out = run(&[("d.csv", data)], "d.csv", "", kpis, EVAL_CSV);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("kpi::not_utf8_data") && err.contains("line 2, column 17"),
        "{err}"
    );
}

#[test]
fn rows_that_cannot_be_read_are_refused_or_skipped() {
    let data = "id,amount,closed_at\n1,5,2025-01-01\n2,x7,2025-01-02\n3,9\n4,11,2025-01-04\n";
    let columns = "    columns: {amount: number, closed_at: date}\n";
    let files: &[(&str, &[u8])] = &[("d.csv", data.as_bytes())];
    let refused = run(files, "d.csv", columns, TOTAL, EVAL_CSV);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("kpi::malformed_row") && stderr(&refused).contains("line 4"),
        "{}",
        stderr(&refused)
    );
    let skip = format!("{columns}    read: {{on_error: skip}}\n");
    lines_3_and_4_are_skipped(files, &skip);
}

/// Under the dataset keys `skip`, the rows on lines 3 and 4 of `files`'
/// `d.csv` are skipped and said, rows 1 and 4 (5 + 11) remain, and `check
/// --data` agrees: the skipped rows are a warning, not a declared type the
/// data contradicts (it was an error, so CI failed on a spec that
/// evaluates).
fn lines_3_and_4_are_skipped(files: &[(&str, &[u8])], skip: &str) {
    let out = run(files, "d.csv", skip, TOTAL, EVAL_CSV);
    assert_eq!(csv_of(&out), "total,rows\n16,2\n");
    let err = stderr(&out);
    assert!(
        err.contains("kpi::rows_skipped") && err.contains("2 rows") && err.contains("lines 3, 4"),
        "{err}"
    );
    let checked = run(files, "d.csv", skip, TOTAL, &["check", "--data"]);
    // `check` reports on standard output.
    let said = stdout(&checked);
    assert_eq!(checked.status.code(), Some(0), "{said}");
    assert!(
        said.contains("kpi::rows_skipped") && !said.contains("kpi::declared_type_contradicted"),
        "{said}"
    );
}

/// A file in another encoding with every column declared skips a row of
/// too many fields as a UTF-8 file does (the reader stopped at it:
/// `kpi::malformed_row` under `on_error: skip`); one of too few, too.
#[test]
fn a_transcoded_file_skips_a_row_of_too_many_fields() {
    let data: &[u8] = b"id,amount,closed_at,owner\n1,5,2025-01-01,M\xfcller\n2,7,2025-01-02,Ann,x\n3,9,2025-01-03\n4,11,2025-01-04,\x80uro\n";
    let all = "    columns: {id: number, amount: number, closed_at: date, owner: string}\n";
    let skip = format!("{all}    read: {{on_error: skip, encoding: windows-1252}}\n");
    lines_3_and_4_are_skipped(&[("d.csv", data)], &skip);
}

/// A CRM's report export ends with lines that are no rows (a blank quoted
/// line, "Confidential Information - Do Not Distribute", a copyright):
/// the refusal says so and how to skip them, where a ragged row inside the
/// table is told to be fixed; skipped, the footer leaves the sums alone.
#[test]
fn a_report_exports_footer_is_told_apart_from_a_broken_row() {
    let table = "\"amount\",\"closed_at\"\n\"12500.00\",\"2025-01-15\"\n\"8000.50\",\"2025-02-03\"\n";
    let footer = format!(
        "{table}\"\"\n\"\"\n\"Confidential Information - Do Not Distribute\"\n\"Copyright (c) 2000-2025 salesforce.com, inc. All rights reserved.\",\"x\",\"y\"\n\n"
    );
    let (spec, kpis) = ("", TOTAL);
    let files: &[(&str, &[u8])] = &[("d.csv", footer.as_bytes())];
    let refused = run(files, "d.csv", spec, kpis, &["eval"]);
    assert_eq!(refused.status.code(), Some(1));
    let err = stderr(&refused).replace("\n        ", " ");
    assert!(
        err.contains("kpi::malformed_row")
            && err.contains("line 4 has 1 fields")
            && err.contains("from line 4 to its end the file holds no rows of its table")
            && err.contains("`read: {on_error: skip}`")
            && !err.contains("fix the row"),
        "{err}"
    );
    // Skipped, the footer's words are no values of `amount` (they made it
    // text, and the sum a type error) nor of `closed_at`.
    let skip = "    read: {on_error: skip}\n";
    let skipped = run(files, "d.csv", skip, kpis, BY_MONTH);
    assert_eq!(
        csv_of(&skipped),
        "period,total,rows\n2025-01,12500,1\n2025-02,8000.5,1\n"
    );
    let checked = run(files, "d.csv", skip, kpis, &["check", "--data"]);
    let out = String::from_utf8_lossy(&checked.stdout);
    assert_eq!(checked.status.code(), Some(0), "{out}");
    assert!(
        out.contains("4 rows") && out.contains("lines 4, 5, 6, 7"),
        "{out}"
    );
    // A short row inside the table is a row to fix, even near the end.
    let broken = format!("{table}\"7\"\n\"1\",\"2025-03-01\"\n");
    let files: &[(&str, &[u8])] = &[("d.csv", broken.as_bytes())];
    let refused = run(files, "d.csv", spec, kpis, &["eval"]);
    let err = stderr(&refused).replace("\n        ", " ");
    assert!(
        err.contains("line 4 has 1 fields") && err.contains("fix the row") && !err.contains("footer"),
        "{err}"
    );
}

/// A record with a line break inside quotes spans two lines of the file:
/// the lines named after it are the file's (they were record numbers, a
/// line too early), and `check --data` says a declared type the data
/// contradicts once (the reader's own failure on it was said too).
#[test]
fn lines_are_the_files_lines_across_quoted_line_breaks() {
    // Lines: 1 header, 2-3 the first record, 4 `x7`, 5-7 a record of three
    // lines, 8 `y8`.
    let data = "id,note,amount,closed_at\n1,\"two\nlines\",5,2025-01-01\n2,ok,x7,2025-01-02\n\
                3,\"a\nb\nc\",6,2025-01-03\n4,ok,y8,2025-01-04\n";
    let files: &[(&str, &[u8])] = &[("d.csv", data.as_bytes())];
    let columns = "    columns: {amount: number}\n";
    let checked = run(
        files,
        "d.csv",
        columns,
        TOTAL,
        &["check", "--data", "--format", "json"],
    );
    let found: Vec<serde_json::Value> = serde_json::from_slice(&checked.stdout).unwrap();
    let errors: Vec<&serde_json::Value> = found.iter().filter(|d| d["severity"] == "error").collect();
    assert_eq!(errors.len(), 1, "{found:?}");
    assert_eq!(errors[0]["code"], "kpi::declared_type_contradicted");
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .contains("line 4 holds `x7`"),
        "{found:?}"
    );
    let evaluated = run(files, "d.csv", columns, TOTAL, EVAL_CSV);
    assert!(
        stderr(&evaluated).contains("line 4 holds `x7`"),
        "{}",
        stderr(&evaluated)
    );
    // Skipped: 5 + 6 remain, from lines 2 and 5.
    let skip = format!("{columns}    read: {{on_error: skip}}\n");
    let out = run(files, "d.csv", &skip, TOTAL, EVAL_CSV);
    assert_eq!(csv_of(&out), "total,rows\n11,2\n");
    assert!(stderr(&out).contains("lines 4, 8"), "{}", stderr(&out));
}

#[test]
fn damaged_files_are_named_with_their_place() {
    let cases: &[(&str, &str, &str)] = &[
        ("", "kpi::empty_source", "no header"),
        // A byte order mark and blank lines are no header either ("no
        // data: empty CSV", in the reader's words).
        ("\u{feff}\r\n\n", "kpi::empty_source", "no header"),
        (
            "\nid,amount,closed_at\n1,5,2025-01-01\n",
            "kpi::blank_header_line",
            "starts with a blank line",
        ),
        // Excel's delimiter line above the header: the reader took `sep=;`
        // for the header, then asked for `delimiter: ";"`, then found
        // rows of 3 fields under a header of 2.
        (
            "sep=;\r\nid;amount;closed_at\r\n1;5;2025-01-01\r\n",
            "kpi::excel_separator_line",
            "read: {delimiter: \";\"}",
        ),
        (
            "D0000143,A000836,2023-12-08,won,38740\n1,2,2025-01-01,won,5\n",
            "kpi::header_looks_like_data",
            // The header to add, one name per field.
            "`column1,column2,column3,column4,…`",
        ),
        (
            "id,amount,closed_at\n1,5,2025-01-01\n2,\"6,2025-01-02\n3,7,2025-01-03\n",
            "kpi::unclosed_quote",
            "line 3",
        ),
    ];
    for (data, code, says) in cases {
        let out = run(&[("d.csv", data.as_bytes())], "d.csv", "", TOTAL, EVAL_CSV);
        assert_eq!(out.status.code(), Some(1), "{code}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(code) && err.contains(says), "{code}: {err}");
        assert!(!err.contains("polars") && !err.contains("PlRefPath"), "{err}");
    }
}

/// A Parquet file cut short, a folder named as a file and a broken NDJSON
/// line: each is `kpi::data_error` naming the source, with help for what
/// that kind of file needs (not a CSV header's).
#[test]
fn unreadable_files_get_help_for_their_kind() {
    let parquet = std::fs::read(root().join("tests/fixtures/sales/deals.csv")).unwrap();
    let cases: &[(&str, &[u8], &str)] = &[
        ("d.parquet", b"PAR1 cut short", "no whole Parquet file"),
        ("d.parquet", &parquet[..40], "no whole Parquet file"),
        (
            "d.ndjson",
            b"{\"amount\": 1, \"closed_at\": \"2025-01-01\"}\n{\"amount\": 2,\n",
            "each line must be one JSON object",
        ),
    ];
    for (name, bytes, help) in cases {
        let out = run(&[(name, bytes)], name, "", TOTAL, EVAL_CSV);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{name}: {err}");
        assert!(
            err.contains("kpi::data_error") && err.contains(&format!("{name}`:")),
            "{err}"
        );
        assert!(err.contains(help) && !err.contains("delimiter"), "{name}: {err}");
    }
    // A folder named as a source: the stderr of `eval` over it, which fails.
    let dir = temp_dir("folder-source");
    let spec = dir.join("s.yaml");
    let over_folder = |folder: &str, source: &str| {
        std::fs::create_dir_all(dir.join(folder)).unwrap();
        std::fs::write(
            &spec,
            format!("datasets:\n  d: {{source: {source}, time: closed_at}}\nkpis:\n{TOTAL}"),
        )
        .unwrap();
        let out = kpi(&["--spec", spec.to_str().unwrap(), "eval"]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{err}");
        err
    };
    let err = over_folder("deals.csv", "deals.csv");
    assert!(err.contains("`source:` names a folder"), "{err}");
    // A folder without an extension has no format: the help names its glob.
    let err = over_folder("exports", "exports/");
    assert!(
        err.contains("kpi::unknown_format") && err.contains("(`exports/*.parquet`)"),
        "{err}"
    );
}

#[test]
fn globs_must_match_files_that_agree() {
    let a = "id,amount,closed_at\n1,5,2025-01-01\n";
    let b = "id,amount,closed_at\n2,7.5,2025-02-01\n";
    let out = run(
        &[("a.csv", a.as_bytes()), ("b.csv", b.as_bytes())],
        "\"*.csv\"",
        "",
        TOTAL,
        BY_MONTH,
    );
    assert_eq!(csv_of(&out), "period,total,rows\n2025-01,5,1\n2025-02,7.5,1\n");
    let out = run(
        &[("a.csv", a.as_bytes())],
        "\"nothing_*.csv\"",
        "",
        TOTAL,
        EVAL_CSV,
    );
    assert!(stderr(&out).contains("kpi::no_files"), "{}", stderr(&out));
    // A value that is not a date in the second file is placed by counting
    // the first file's records: two, past a blank line and a quoted line end.
    let a2 = "id,amount,closed_at\n1,5,2025-01-01\n\n\"3\n\",6,2025-01-02\n";
    let b2 = "id,amount,closed_at\n2,7.5,2025-02-01\n4,1,soon\n";
    let out = run(
        &[("a.csv", a2.as_bytes()), ("b.csv", b2.as_bytes())],
        "\"*.csv\"",
        "    columns: {closed_at: date}\n",
        TOTAL,
        BY_MONTH,
    );
    let err = stderr(&out);
    assert!(
        err.contains("kpi::declared_type_contradicted") && err.contains("b.csv` line 3 holds `soon`"),
        "{err}"
    );
    let c = "id,value,closed_at\n3,1,2025-03-01\n";
    let out = run(
        &[("a.csv", a.as_bytes()), ("c.csv", c.as_bytes())],
        "\"*.csv\"",
        "",
        TOTAL,
        EVAL_CSV,
    );
    let err = stderr(&out);
    assert!(
        err.contains("kpi::headers_differ") && err.contains("`amount` against `value`"),
        "{err}"
    );
}

#[test]
fn non_finite_numbers_are_null_and_counted() {
    use polars::prelude::*;
    // amount: 100, NaN, inf, 50, -inf → sum 150, avg 75, max 100, count 2.
    // By owner a (100, NaN) and b (inf, 50, -inf): totals 100 and 50, both
    // above 0, so two owners are busy.
    let dir = temp_dir("nonfinite");
    let amount = [100.0, f64::NAN, f64::INFINITY, 50.0, f64::NEG_INFINITY];
    let mut df = df!(
        "amount" => amount,
        "huge" => [1e308, 1e308, 0.0, 0.0, 0.0],
        "closed_at" => ["2025-01-01"; 5],
        "owner" => ["a", "a", "b", "b", "b"],
    )
    .unwrap();
    let kpis = "  total: {dataset: d, measure: sum(amount)}\n  mean: {dataset: d, measure: avg(amount)}\n  top: {dataset: d, measure: max(amount)}\n  n: {dataset: d, measure: count(amount)}\n  big: {dataset: d, measure: sum(huge)}\n  busy: {measure: count(per owner where total > 0)}\n";
    let spec = parquet_spec(&dir, &mut df, kpis);
    let out = kpi(&["--spec", spec.to_str().unwrap(), "eval", "--format", "csv"]);
    // max of [100, 50] once the non-finite values are null.
    assert_eq!(csv_of(&out), "total,mean,top,n,big,busy\n150,75,100,2,,2\n");
    let err = stderr(&out);
    // Once, though the nested KPI reads the dataset again by owner.
    let warned = "column `amount` of dataset `d` held 3 non-finite values";
    assert_eq!(err.matches(warned).count(), 1, "{err}");
    assert!(err.contains("kpi::overflow") && err.contains("`big`"), "{err}");
    let check = kpi(&["--spec", spec.to_str().unwrap(), "check", "--data"]);
    let out = String::from_utf8_lossy(&check.stdout);
    assert!(
        out.contains("kpi::non_finite_values") && out.contains("3 non-finite values"),
        "{out}"
    );
}

/// A CSV export with a header and no records, or whose time field is empty
/// in every record (no deal closed yet): its valueless columns take any
/// use, so the KPIs evaluate (a sum of nothing is 0) where the column, read
/// as text, was "time column `closed_at` is string".
#[test]
fn columns_without_a_value_take_any_type() {
    let dir = temp_dir("valueless");
    std::fs::write(dir.join("none.csv"), "owner,amount,closed_at\n").unwrap();
    std::fs::write(
        dir.join("open.csv"),
        "owner,amount,closed_at,stage\na,1,,\nb,2,,\n",
    )
    .unwrap();
    let spec = "datasets:\n  none: {source: none.csv, time: closed_at}\n  open: {source: open.csv, time: closed_at}\nkpis:\n  total: {dataset: none, measure: sum(amount)}\n  n: {dataset: none, measure: 'count(where owner == \"a\")'}\n  open_total: {dataset: open, measure: sum(amount)}\n  won: {dataset: open, measure: 'count(where stage == \"won\")'}\n";
    std::fs::write(dir.join("s.yaml"), spec).unwrap();
    let (code, out, _) = kpi_in(&dir, &["--spec", "s.yaml", "check", "--data"]);
    assert_eq!(code, Some(0), "{out}");
    let (code, out, err) = kpi_in(&dir, &["--spec", "s.yaml", "eval", "--format", "csv"]);
    assert_eq!(
        (code, out.as_str()),
        (Some(0), "total,n,open_total,won\n0,0,3,0\n"),
        "{err}"
    );
    let (code, out, err) = kpi_in(
        &dir,
        &["--spec", "s.yaml", "eval", "--grain", "month", "--format", "csv"],
    );
    assert_eq!(
        (code, out.as_str()),
        (Some(0), "period,total,n,open_total,won\n"),
        "{err}"
    );
    assert!(err.contains("2 rows with no time value"), "{err}");
}

/// A valueless column takes every use, not only sums and comparisons: in
/// date, text and logical functions, conditions and segments (Polars
/// refused its type: "`year` operation not supported for dtype `null`"),
/// and beside a date it is a date (`coalesce(closed_at, @2025-01-01)` was
/// printed as the number 20089). By hand, over two open deals of 1 and 2:
/// no `year`, `lower` or `flag` holds, `not flag` is null, every `trim`
/// is null, and a number compared with it is null (`3 < owner` had
/// Polars give one value for two rows); with no records at all, nothing
/// is kept.
#[test]
fn a_column_without_a_value_takes_every_use() {
    let data = "owner,amount,closed_at,flag\n,1,,\n,2,,\n";
    let kpis = "  y: {dataset: d, measure: 'sum(amount where year(closed_at) == 2025)'}\n  low: {dataset: d, measure: 'count(where lower(owner) == \"a\")'}\n  nf: {dataset: d, measure: 'count(where not flag)'}\n  cond: {dataset: d, measure: 'sum(if flag then 10 else amount)'}\n  blank: {dataset: d, measure: 'sum(amount where trim(owner) is null)'}\n  day: {dataset: d, measure: 'max(coalesce(closed_at, @2025-01-01))'}\n  med: {dataset: d, measure: 'median(amount where flag)'}\n  lit: {dataset: d, measure: 'count(where not (3 < owner))'}\n";
    assert_eq!(
        d_csv(data, "", kpis, EVAL_CSV),
        "y,low,nf,cond,blank,day,med,lit\n0,0,0,3,3,2025-01-01,,0\n"
    );
    let segment = "segments:\n  flagged: {where: flag}\n";
    let none = "owner,amount,closed_at,flag\n";
    let flagged = ["eval", "--segment", "flagged", "--format", "csv"];
    assert_eq!(
        d_csv(none, segment, kpis, &flagged),
        "y,low,nf,cond,blank,day,med,lit\n0,0,0,0,0,,,0\n"
    );
    // Its distinct values under a filter, by month over a range (a thread
    // of the hand-written group-by failed on its one-chunk cast).
    let dated = "owner,amount,closed_at\n,1,2025-01-05\n,2,2025-02-05\n";
    let kpis = "  all: {dataset: d, measure: count_distinct(owner)}\n  some: {dataset: d, measure: 'count_distinct(owner where amount > 1)'}\n";
    let range: Vec<&str> = "eval --grain month --from 2025-01-01 --to 2025-02-28 --format csv"
        .split(' ')
        .collect();
    assert_eq!(
        d_csv(dated, "", kpis, &range),
        "period,all,some\n2025-01,0,0\n2025-02,0,0\n"
    );
}

/// A header naming two columns alike: the name reads the first, which
/// `eval` and `kpi check --data` both say (a KPI summed one of the two
/// without a word); `-q` quiets it.
#[test]
fn a_repeated_header_name_is_said() {
    let dir = temp_dir("repeated-header");
    std::fs::write(
        dir.join("d.csv"),
        "owner,amount,amount,closed_at\na,1,20,2025-01-05\nb,2,40,2025-01-06\n",
    )
    .unwrap();
    let spec = "datasets:\n  d: {source: d.csv, time: closed_at}\nkpis:\n  first: {dataset: d, measure: sum(amount)}\n  second: {dataset: d, measure: sum(amount_duplicated_0)}\n";
    std::fs::write(dir.join("s.yaml"), spec).unwrap();
    let said = "the header of `d.csv` (dataset `d`) names 2 columns `amount`; `amount` is the first of them";
    let (code, out, err) = kpi_in(&dir, &["--spec", "s.yaml", "eval", "--format", "csv"]);
    assert_eq!((code, out.as_str()), (Some(0), "first,second\n3,60\n"), "{err}");
    assert!(
        err.contains("kpi::repeated_column") && err.contains(said),
        "{err}"
    );
    let (_, _, err) = kpi_in(&dir, &["--spec", "s.yaml", "eval", "-q"]);
    assert_eq!(err, "");
    let (code, out, _) = kpi_in(&dir, &["--spec", "s.yaml", "check", "--data"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains(said), "{out}");
    // A run that does not read `d.csv` does not say it: a KPI or target
    // of another dataset (it was said on every run of the spec).
    std::fs::write(
        dir.join("o.csv"),
        "owner,amount,closed_at
a,5,2025-01-07
",
    )
    .unwrap();
    let other = "  o: {source: o.csv, time: closed_at}\nkpis:\n  other: {dataset: o, measure: sum(amount)}\n";
    let target = "targets:\n  t: {kpi: other, period: 2025-01, value: 10, objective: x}\n";
    std::fs::write(dir.join("s.yaml"), spec.replacen("kpis:\n", other, 1) + target).unwrap();
    let (code, out, err) = kpi_in(&dir, &["--spec", "s.yaml", "eval", "other", "--format", "csv"]);
    assert_eq!((code, out.as_str(), err.as_str()), (Some(0), "other\n5\n", ""));
    let (code, _, err) = kpi_in(&dir, &["--spec", "s.yaml", "status"]);
    assert_eq!((code, err.as_str()), (Some(0), ""));
    let (_, _, err) = kpi_in(&dir, &["--spec", "s.yaml", "eval", "other", "first"]);
    assert!(err.contains(said), "{err}");
}

/// A spec of `sum(amount)` and `count(where amount > 1000)` over `file`,
/// with `keys` (`, read: {…}`, `, columns: {…}`) added to the dataset.
fn amounts_spec(file: &str, keys: &str) -> String {
    format!("datasets:\n  d: {{source: {file}, time: closed_at{keys}}}\nkpis:\n  total: {{dataset: d, measure: sum(amount)}}\n  big: {{dataset: d, measure: 'count(where amount > 1000)'}}\n")
}

/// Amounts written as `csv` has them (`d.csv`) are text until the `read`
/// options say how they are written: `eval` fails with the warning that
/// names them (`hint`, each of its texts), and with them, the column
/// guessed or declared a number, gives `want` (CSV). The `bad` options are
/// refused with `refused`. The folder, for more.
fn amounts_read_when_said(
    csv: &str,
    hint: &[&str],
    read: &str,
    want: &str,
    (bad, refused): (&str, &str),
) -> std::path::PathBuf {
    let dir = temp_dir("amounts");
    std::fs::write(dir.join("d.csv"), csv).unwrap();
    std::fs::write(dir.join("plain.yaml"), amounts_spec("d.csv", "")).unwrap();
    let (code, out, err) = kpi_in(&dir, &["--spec", "plain.yaml", "eval"]);
    assert_eq!((code, out.as_str()), (Some(1), ""));
    assert!(hint.iter().all(|h| err.contains(h)), "{err}");
    for (name, columns) in [("said", ""), ("declared", ", columns: {amount: number}")] {
        let spec = amounts_spec("d.csv", &format!(", read: {read}{columns}"));
        std::fs::write(dir.join(format!("{name}.yaml")), spec).unwrap();
        let (code, out, err) = kpi_in(
            &dir,
            &["--spec", &format!("{name}.yaml"), "eval", "--format", "csv"],
        );
        assert_eq!((code, out.as_str()), (Some(0), want), "{name}: {err}");
    }
    std::fs::write(
        dir.join("bad.yaml"),
        amounts_spec("d.csv", &format!(", read: {bad}")),
    )
    .unwrap();
    let (code, out, _) = kpi_in(&dir, &["--spec", "bad.yaml", "check"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains(refused), "{out}");
    dir
}

/// Numbers with `,` between thousands (`"1,234.50"`, as US spreadsheets
/// export them) are text until `read: {thousands: ","}` says so, and the
/// text column says which option reads it; declared numbers take the
/// option too; a separator that is the decimal mark is refused.
#[test]
fn thousands_separators_are_read_when_said() {
    // 1,234.50 + 2,000,000 + 15.5; two above 1,000.
    amounts_read_when_said(
        "owner,amount,closed_at\na,\"1,234.50\",2025-01-01\nb,\"2,000,000\",2025-01-02\nc,15.5,2025-01-03\nd,,2025-01-04\n",
        &["kpi::thousands_needed", "`read: {thousands: \",\"}`"],
        "{thousands: ','}",
        "total,big\n2001250,2\n",
        ("{thousands: '.'}", "kpi::invalid_thousands"),
    );
}

/// Amounts written with a currency symbol (`$1,200.50`, `-$300`, as CRM
/// exports write them) are text, a sum of them a type error, until
/// `read: {currency: "$"}` names the symbol; the text column says which
/// options read it. With them the column is a number, guessed or declared,
/// a value without the symbol read as before; in euros, with a decimal
/// comma and the symbol after the number, too. A symbol that would take a
/// number's separator with it is refused.
#[test]
fn amounts_with_a_currency_symbol_are_read_when_said() {
    // 1,234.50 - 300 + 15.5 + 7 = 957; one above 1,000.
    let dir = amounts_read_when_said(
        "owner,amount,closed_at\na,\"$1,234.50\",2025-01-01\nb,-$300,2025-01-02\nc,$ 15.5,2025-01-03\nd,,2025-01-04\ne,7,2025-01-05\n",
        &["kpi::currency_needed", "`read: {currency: \"$\", thousands: \",\"}`"],
        "{currency: $, thousands: ','}",
        "total,big\n957,1\n",
        ("{currency: '$,'}", "kpi::invalid_currency"),
    );
    // 1234.50 - 300 + 15.5 = 950.
    std::fs::write(
        dir.join("e.csv"),
        "owner;amount;closed_at\na;1.234,50 €;2025-01-01\nb;-300 €;2025-01-02\nc;15,5€;2025-01-03\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("euro.yaml"),
        amounts_spec("e.csv", ", read: {delimiter: ';'}"),
    )
    .unwrap();
    let (_, out, _) = kpi_in(&dir, &["--spec", "euro.yaml", "check", "--data"]);
    assert!(
        out.contains("`read: {currency: \"€\", decimal_comma: true}`"),
        "{out}"
    );
    let read = ", read: {delimiter: ';', currency: €, decimal_comma: true}";
    std::fs::write(dir.join("euro.yaml"), amounts_spec("e.csv", read)).unwrap();
    let (code, out, err) = kpi_in(&dir, &["--spec", "euro.yaml", "eval", "--format", "csv"]);
    assert_eq!((code, out.as_str()), (Some(0), "total,big\n950,1\n"), "{err}");
    // The symbol alone, without separators: 1200.50 + 300 - 5 = 1495.5.
    // (It stayed text: only separators made a column's numbers be looked for.)
    std::fs::write(
        dir.join("u.csv"),
        "owner,amount,closed_at\na,$1200.50,2025-01-01\nb,$300,2025-01-02\nc,-$5,2025-01-03\n",
    )
    .unwrap();
    std::fs::write(dir.join("u.yaml"), amounts_spec("u.csv", ", read: {currency: $}")).unwrap();
    let (code, out, err) = kpi_in(&dir, &["--spec", "u.yaml", "eval", "--format", "csv"]);
    assert_eq!((code, out.as_str()), (Some(0), "total,big\n1495.5,1\n"), "{err}");
}

/// Spaces around a header's names (` amount `, as hand-edited exports
/// write them) are not part of them: `sum(amount)` was "no column `amount`;
/// did you mean ` amount`?". The same with its types declared, and in
/// Latin-1 (read from memory).
#[test]
fn spaces_around_header_names_are_not_part_of_them() {
    // 5 + 7 for a, 1 for b.
    let data = "owner , amount ,closed_at\na,5,2025-01-01\nb,1,2025-01-02\na,7,2025-01-03\n";
    let files: &[(&str, &[u8])] = &[("d.csv", data.as_bytes())];
    let by_owner = &["eval", "--by", "owner", "--format", "csv"];
    for extra in [
        "",
        "    columns: {amount: number}\n",
        "    read: {encoding: latin-1}\n",
    ] {
        let out = run(files, "d.csv", extra, TOTAL, by_owner);
        assert_eq!(csv_of(&out), "owner,total,rows\na,12,2\nb,1,1\n", "{extra}");
    }
}

/// Percents written with `%` (`45%`, `12.5 %`, as spreadsheets export a
/// probability) are text until `read: {percent: true}` says so; then each
/// is its hundredth, as `45%` is in an expression, and a value without `%`
/// reads as written.
#[test]
fn percents_are_read_when_said() {
    // 0.45 + 0.125 + 0.5 = 1.075; none above 1,000.
    amounts_read_when_said(
        "owner,amount,closed_at\na,45%,2025-01-01\nb,12.5 %,2025-01-02\nc,0.5,2025-01-03\nd,,2025-01-04\n",
        &["kpi::percent_needed", "`read: {percent: true}`"],
        "{percent: true}",
        "total,big\n1.075,0\n",
        ("{percent: maybe}", "kpi::invalid_value"),
    );
}

/// Gzipped NDJSON (`.ndjson.gz`, `.jsonl.gz`, as warehouses export it) is
/// read as it decompresses, every member of it, a byte order mark before
/// the first record too (it was "decompress it first"); a record's line is
/// the decompressed text's, as `zcat` numbers it; a file cut short is
/// named (one in object storage is read the same, in the tests of the
/// stores in warehouse.rs). By hand: 5 + 7 + 30 over three
/// records, then a fourth whose amount is no number, on line 5 (a blank
/// line is line 3).
#[test]
fn gzipped_ndjson_reads_as_it_decompresses() {
    let gzipped = |text: &str| {
        let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut z, text.as_bytes()).unwrap();
        z.finish().unwrap()
    };
    let record =
        |amount: &str, day: u32| format!("{{\"amount\": {amount}, \"closed_at\": \"2025-01-0{day}\"}}\n");
    let head = format!("\u{feff}{}{}\n", record("5", 1), record("7", 2));
    let tail = record("30", 3);
    let both = [gzipped(&head), gzipped(&tail)].concat();
    for name in ["d.ndjson.gz", "d.jsonl.gz"] {
        let out = run(&[(name, &both)], name, "", TOTAL, EVAL_CSV);
        assert_eq!(csv_of(&out), "total,rows\n42,3\n", "{name}");
    }
    let bad = [gzipped(&head), gzipped(&(tail + &record("\"x\"", 4)))].concat();
    let declared = "    columns: {amount: number}\n";
    let out = run(
        &[("d.ndjson.gz", &bad)],
        "d.ndjson.gz",
        declared,
        TOTAL,
        &["check", "--data"],
    );
    let said = stdout(&out);
    assert!(said.contains("d.ndjson.gz` line 5 holds `x`"), "{said}");
    let out = run(
        &[("d.ndjson.gz", &both[..30])],
        "d.ndjson.gz",
        "",
        TOTAL,
        EVAL_CSV,
    );
    let said = stderr(&out);
    assert!(
        said.contains("d.ndjson.gz") && said.contains("does not decompress") && out.status.code() == Some(1),
        "{said}"
    );
}

/// A `.tsv` file is CSV separated by tabs, without options (it was "cannot
/// tell the format"); a gzipped CSV or TSV is read as it decompresses (it
/// was said to need decompressing), a gzipped file of a format read as
/// it is (Parquet) is said to, and a gzipped file that is not whole is
/// named.
#[test]
fn tab_separated_files_read_and_compressed_ones_are_named() {
    // 5 + 7 over two rows.
    let data = "amount\tclosed_at\n5\t2025-01-01\n7\t2025-01-02\n";
    let out = run(&[("d.tsv", data.as_bytes())], "d.tsv", "", TOTAL, EVAL_CSV);
    assert_eq!(csv_of(&out), "total,rows\n12,2\n");
    let gzipped = |text: &str| {
        let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut z, text.as_bytes()).unwrap();
        z.finish().unwrap()
    };
    let out = run(&[("d.tsv.gz", &gzipped(data))], "d.tsv.gz", "", TOTAL, EVAL_CSV);
    assert_eq!(csv_of(&out), "total,rows\n12,2\n");
    // Two members, as `cat a.gz b.gz` makes: 5 + 7 + 30, on line 4 a bad amount.
    let (head, tail) = (
        "amount,closed_at\n5,2025-01-01\n7,2025-01-02\n",
        "30,2025-01-03\nx,2025-01-04\n",
    );
    let both = [gzipped(head), gzipped(tail)].concat();
    let skip = "    columns: {amount: number}\n    read: {on_error: skip}\n";
    let out = run(&[("d.csv.gz", &both)], "d.csv.gz", skip, TOTAL, EVAL_CSV);
    assert_eq!(csv_of(&out), "total,rows\n42,3\n");
    assert!(stderr(&out).contains("(line 5)"), "{}", stderr(&out));
    let cut = &gzipped(head)[..20];
    let out = run(&[("d.csv.gz", cut)], "d.csv.gz", "", TOTAL, &["check", "--data"]);
    let said = stdout(&out);
    assert!(
        said.contains("d.csv.gz") && out.status.code() == Some(1),
        "{said}"
    );
    let out = run(
        &[("d.parquet.gz", &gzipped("{}\n"))],
        "d.parquet.gz",
        "",
        TOTAL,
        &["check"],
    );
    let said = String::from_utf8_lossy(&out.stdout).replace('\n', " ");
    assert!(
        said.contains("kpi::unknown_format") && said.contains("decompress it first"),
        "{said}"
    );
    // A `.json` file is named with the two ways it may be written; one
    // object per line reads with `format: ndjson` (1 + 2).
    let lines =
        "{\"amount\": 1, \"closed_at\": \"2025-01-01\"}\n{\"amount\": 2, \"closed_at\": \"2025-01-02\"}\n";
    let out = run(&[("d.json", lines.as_bytes())], "d.json", "", TOTAL, &["check"]);
    let said = stdout(&out);
    assert!(
        said.contains("kpi::unknown_format")
            && said.contains("set `format: ndjson`")
            && said.contains("jq -c"),
        "{said}"
    );
    let out = run(
        &[("d.json", lines.as_bytes())],
        "d.json",
        "    format: ndjson\n",
        TOTAL,
        EVAL_CSV,
    );
    assert_eq!(csv_of(&out), "total,rows\n3,2\n");
}

/// Excel's "CSV UTF-8" starts with a byte order mark: the first column is
/// still named as written (it was `\u{feff}amount`, so `sum(amount)` named
/// an unknown column), with LF or CRLF lines, declared or not. NDJSON with
/// one reads as without.
#[test]
fn a_byte_order_mark_is_not_part_of_the_first_name() {
    let kpis = format!("{TOTAL}  late: {{dataset: d, measure: max(closed_at)}}\n");
    // January: 10 + 5 over two rows; February: 7; the last close 2025-02-03.
    let want = "period,total,rows,late\n2025-01,15,2,2025-01-20\n2025-02,7,1,2025-02-03\n";
    let declared = "    columns: {amount: number, closed_at: date}\n";
    for end in ["\n", "\r\n"] {
        for (first, rows) in [
            (
                "amount,closed_at",
                ["10,2025-01-05", "5,2025-01-20", "7,2025-02-03"],
            ),
            (
                "closed_at,amount",
                ["2025-01-05,10", "2025-01-20,5", "2025-02-03,7"],
            ),
        ] {
            let mut csv = format!("\u{feff}{first}{end}");
            for r in rows {
                csv.push_str(&format!("{r}{end}"));
            }
            for extra in ["", declared] {
                let out = run(
                    &[("d.csv", csv.as_bytes())],
                    "d.csv",
                    extra,
                    &kpis,
                    &["eval", "--grain", "month", "--format", "csv"],
                );
                assert_eq!(csv_of(&out), want, "{first:?} {end:?} {extra:?}");
            }
        }
    }
    // NDJSON with one (Windows tools write it): the JSON reader took it for
    // the first record's first character.
    let ndjson = "\u{feff}{\"amount\": 10, \"closed_at\": \"2025-01-05\"}\n{\"amount\": 7, \"closed_at\": \"2025-02-03\"}\n";
    let out = run(
        &[("d.ndjson", ndjson.as_bytes())],
        "d.ndjson",
        "",
        TOTAL,
        &["eval", "--grain", "month", "--format", "csv"],
    );
    assert_eq!(csv_of(&out), "period,total,rows\n2025-01,10,1\n2025-02,7,1\n");
}

/// Numbers the reader keeps as text: with spaces around some (` 7 `) they
/// are numbers, trimmed; with one value that is no number (`N/A`), the
/// column stays text and that value is named with its line, as for dates
/// (`sum(amount)` said only "this is string"), until the value is a null
/// value, or the column is declared.
#[test]
fn a_column_of_numbers_but_one_says_which() {
    let rows: Vec<String> = (1..=20).map(|i| format!("{i},2025-01-05")).collect();
    let csv = |odd: &str| {
        let mut all = rows.clone();
        all.push(format!("{odd},2025-01-06"));
        format!("amount,closed_at\n{}\n", all.join("\n"))
    };
    // 1 + … + 20 = 210, and 7 more.
    let padded = csv(" 7 ");
    let out = run(
        &[("d.csv", padded.as_bytes())],
        "d.csv",
        "",
        TOTAL,
        &["eval", "--format", "csv"],
    );
    assert_eq!(csv_of(&out), "total,rows\n217,21\n");
    let na = csv("N/A");
    let out = run(
        &[("d.csv", na.as_bytes())],
        "d.csv",
        "",
        TOTAL,
        &["eval", "--format", "csv"],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("kpi::mixed_column")
            && err.contains("its values are numbers but")
            && err.contains("line 22 holds `N/A`")
            && err.contains("null_values"),
        "{err}"
    );
    let nulls = "    read: {null_values: [\"N/A\"]}\n";
    let out = run(
        &[("d.csv", na.as_bytes())],
        "d.csv",
        nulls,
        TOTAL,
        &["eval", "--format", "csv"],
    );
    assert_eq!(csv_of(&out), "total,rows\n210,21\n");
    // Declared text: no warning, and a count of its values still works.
    let text = "    columns: {amount: string}\n";
    let count = "  total: {dataset: d, measure: count(amount)}\n";
    let out = run(
        &[("d.csv", na.as_bytes())],
        "d.csv",
        text,
        count,
        &["eval", "--format", "csv"],
    );
    assert_eq!(csv_of(&out), "total\n21\n");
    assert!(!stderr(&out).contains("mixed_column"), "{}", stderr(&out));
    // An accountant's negative is a number: 210 − 300.
    let negative = csv("(300.00)");
    let out = run(
        &[("d.csv", negative.as_bytes())],
        "d.csv",
        "",
        TOTAL,
        &["eval", "--format", "csv"],
    );
    assert_eq!(csv_of(&out), "total,rows\n-90,21\n");
}

/// Spreadsheets export the formatted empty columns beside a table: a
/// header `amount,closed_at,,` is a header (it was "a row of data"), its
/// unnamed columns no one's (no warning that `` is named twice). A first
/// line of numbers with empty fields is still data.
#[test]
fn unnamed_columns_beside_a_table_are_no_ones() {
    let csv = "amount,closed_at,,\n10,2025-01-05,,\n5,2025-01-20,x,\n";
    let out = run(
        &[("d.csv", csv.as_bytes())],
        "d.csv",
        "",
        TOTAL,
        &["eval", "--format", "csv"],
    );
    assert_eq!(csv_of(&out), "total,rows\n15,2\n");
    assert!(stderr(&out).trim().is_empty(), "{}", stderr(&out));
    let data = "100,,\n10,2025-01-05,\n";
    let out = run(&[("d.csv", data.as_bytes())], "d.csv", "", TOTAL, &["eval"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("kpi::header_looks_like_data"),
        "{}",
        stderr(&out)
    );
}

/// Integers too long for 64 bits (identifiers) keep a column text, read
/// in pieces or by the reader (a header naming a column twice), early in
/// the file or after the first thousand values: as floats two of them
/// became one group and one distinct value, and the reader stopped at
/// them. Declared `number`, they are numbers.
#[test]
fn integers_too_long_for_64_bits_are_identifiers() {
    let long = [
        "12345678901234567890",
        "12345678901234567891",
        "-99999999999999999999",
    ];
    let mut late = String::from("id,amount,closed_at\n");
    for i in 0..1500 {
        late.push_str(&format!("{i},1,2025-01-01\n"));
    }
    for id in long {
        late.push_str(&format!("{id},1,2025-01-01\n"));
    }
    let early = format!(
        "id,amount,id,closed_at\n{},2,x,\n{},3,x,\n{},4,x,\n7,5,x,\n",
        long[0], long[1], long[2]
    );
    let kpis = "  ids: {dataset: d, measure: count_distinct(id)}\n";
    let files: &[(&str, &[u8])] = &[("late.csv", late.as_bytes()), ("early.csv", early.as_bytes())];
    let out = run(files, "late.csv", "", kpis, EVAL_CSV);
    assert_eq!(csv_of(&out), "ids\n1503\n", "{}", stderr(&out));
    let out = run(files, "early.csv", "", kpis, EVAL_CSV);
    assert_eq!(csv_of(&out), "ids\n4\n", "{}", stderr(&out));
    // Groups of numbers' texts come by value, as for any such column.
    let by_id = ["eval", "total", "--by", "id", "--format", "csv"];
    let out = run(files, "early.csv", "", TOTAL, &by_id);
    assert_eq!(
        csv_of(&out),
        "id,total\n-99999999999999999999,4\n7,5\n12345678901234567890,2\n12345678901234567891,3\n",
        "{}",
        stderr(&out)
    );
    // Declared a number: approximate numbers, the two long ones one value.
    let declared = "    columns: {id: number}\n";
    let out = run(files, "early.csv", declared, kpis, EVAL_CSV);
    assert_eq!(csv_of(&out), "ids\n3\n", "{}", stderr(&out));
}

/// Codes written with leading zeros (ZIP codes, account numbers) that the
/// reader takes for integers: `kpi check --data` says so, and declared as
/// text they keep their zeros in the groups (`00123` and `0123` apart).
#[test]
fn codes_with_leading_zeros_are_named_and_kept_when_declared() {
    let dir = temp_dir("leading-zeros");
    std::fs::write(
        dir.join("d.csv"),
        "acct,amount,units\n00123,1,10\n0123,2,20\n0456,3,30\n789,4,40\n",
    )
    .unwrap();
    let spec = |columns: &str| {
        format!("datasets:\n  d: {{source: d.csv{columns}}}\nkpis:\n  total: {{dataset: d, measure: sum(amount)}}\n")
    };
    std::fs::write(dir.join("plain.yaml"), spec("")).unwrap();
    let (out, said) = data_findings(&dir, "plain.yaml");
    // `acct` only: `amount` and `units` are numbers without a leading zero.
    assert_eq!(said.len(), 1, "{out}");
    assert_eq!(said[0].0, "kpi::leading_zeros");
    assert!(
        said[0].1.contains("`acct`") && said[0].1.contains("`00123`"),
        "{out}"
    );
    // As numbers 00123 and 0123 are one group; as text, apart and as written.
    let (_, out, _) = kpi_in(
        &dir,
        &["--spec", "plain.yaml", "eval", "--by", "acct", "--format", "csv"],
    );
    assert_eq!(out, "acct,total\n123,3\n456,3\n789,4\n");
    std::fs::write(dir.join("declared.yaml"), spec(", columns: {acct: string}")).unwrap();
    let (code, out, _) = kpi_in(&dir, &["--spec", "declared.yaml", "check", "--data"]);
    assert_eq!(code, Some(0));
    assert!(!out.contains("leading_zeros"), "{out}");
    let (_, out, _) = kpi_in(
        &dir,
        &[
            "--spec",
            "declared.yaml",
            "eval",
            "--by",
            "acct",
            "--format",
            "csv",
        ],
    );
    assert_eq!(out, "acct,total\n00123,1\n0123,2\n0456,3\n789,4\n");
}

/// Dates exported as datetimes (`2025-01-10 00:00:00`, or instants with
/// an offset) under a `date` declaration are their dates, in the
/// `read.timezone` zone where they carry offsets, from CSV and NDJSON as
/// from a Parquet column of datetimes: a comparison with a date takes in
/// the whole day, where a `datetime` declaration compares with midnight.
/// Their first time of day after the first 1,000 values is still named,
/// with the declaration that reads it.
#[test]
fn datetimes_declared_dates_are_their_days() {
    let dir = temp_dir("date-times");
    // An export's dates at midnight beside times of day and a date alone;
    // instants with offsets, one a day later in Berlin.
    let rows = [
        ("1", "2025-01-10 00:00:00", "2025-01-10T09:00:00+01:00"),
        ("2", "2025-01-10 23:59:59", "2025-01-31T23:30:00-05:00"),
        ("4", "2025-01-11", "2025-01-31T10:00:00Z"),
    ];
    let csv: String = rows.iter().map(|(a, t, p)| format!("{a},{t},{p}\n")).collect();
    std::fs::write(dir.join("d.csv"), format!("amount,closed_at,paid_at\n{csv}")).unwrap();
    let ndjson: String = rows
        .iter()
        .map(|(a, t, p)| format!("{{\"amount\": {a}, \"closed_at\": \"{t}\", \"paid_at\": \"{p}\"}}\n"))
        .collect();
    std::fs::write(dir.join("d.ndjson"), ndjson).unwrap();
    let spec = |file: &str, ty: &str| {
        format!(
            "datasets:\n  d: {{source: {file}, time: closed_at, columns: {{closed_at: {ty}, paid_at: {ty}}}, read: {{timezone: Europe/Berlin}}}}\nkpis:\n  total: {{dataset: d, measure: sum(amount)}}\n  by_10th: {{dataset: d, measure: 'sum(amount where closed_at <= @2025-01-10)'}}\n  paid_feb: {{dataset: d, measure: 'sum(amount where paid_at >= @2025-02-01)'}}\n  last_paid: {{dataset: d, measure: max(paid_at)}}\n"
        )
    };
    let eval = |name: &str, args: &[&str]| {
        let mut all = vec!["--spec", name, "eval", "--format", "csv"];
        all.extend_from_slice(args);
        let (code, out, err) = kpi_in(&dir, &all);
        assert_eq!(code, Some(0), "{name}: {err}");
        out
    };
    for file in ["d.csv", "d.ndjson"] {
        std::fs::write(dir.join("date.yaml"), spec(file, "date")).unwrap();
        let (code, out, _) = kpi_in(&dir, &["--spec", "date.yaml", "check", "--data"]);
        assert_eq!(code, Some(0), "{file}: {out}");
        assert_eq!(
            eval("date.yaml", &["--grain", "day"]),
            "period,total,by_10th,paid_feb,last_paid\n2025-01-10,3,3,2,2025-02-01\n2025-01-11,4,0,0,2025-01-31\n",
            "{file}"
        );
        // 23:30 in New York is the next morning in Berlin: February.
        assert_eq!(
            eval("date.yaml", &[]),
            "total,by_10th,paid_feb,last_paid\n7,3,2,2025-02-01\n",
            "{file}"
        );
        // Declared datetimes compare with the 10th's midnight.
        std::fs::write(dir.join("datetime.yaml"), spec(file, "datetime")).unwrap();
        let out = eval("datetime.yaml", &[]);
        assert!(
            out.starts_with("total,by_10th,paid_feb,last_paid\n7,1,2,2025-02-01T05:30:00"),
            "{file}: {out}"
        );
    }
    // The first time of day after the sample: named, with the help.
    let mut late = String::from("amount,closed_at\n");
    for i in 0..1500 {
        late.push_str(&format!("1,2025-01-{:02}\n", i % 28 + 1));
    }
    late.push_str("1,2025-02-01 10:00:00\n");
    std::fs::write(dir.join("late.csv"), late).unwrap();
    std::fs::write(dir.join("late.yaml"), spec("late.csv", "date")).unwrap();
    let (code, out, _) = kpi_in(&dir, &["--spec", "late.yaml", "check", "--data"]);
    assert_eq!(code, Some(1));
    assert!(
        out.contains("kpi::declared_type_contradicted")
            && out.contains("line 1502")
            && out.contains("declare `closed_at: datetime`"),
        "{out}"
    );
}

/// `won ` beside `won` in one column: `kpi check --data` names the two
/// spellings (a comparison counts one of them); free text with a stray
/// space is left alone; trimmed in a dimension, the groups are one.
#[test]
fn a_value_with_spaces_beside_itself_is_named() {
    let dir = temp_dir("padded");
    std::fs::write(
        dir.join("d.csv"),
        "stage,note,amount\nwon,all good ,1\nwon ,fine,2\nlost,\" late\",4\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("s.yaml"),
        "datasets:\n  d:\n    source: d.csv\n    dimensions: {stage_trimmed: trim(stage)}\nkpis:\n  won: {dataset: d, measure: 'count(where stage == \"won\")'}\n  total: {dataset: d, measure: sum(amount)}\n",
    )
    .unwrap();
    let (out, said) = data_findings(&dir, "s.yaml");
    // `stage` only: `note`'s padded values have no twin.
    assert_eq!(said.len(), 1, "{out}");
    assert_eq!(said[0].0, "kpi::padded_values");
    assert!(
        said[0].1.contains("`stage`") && said[0].1.contains("`won ` beside `won`"),
        "{out}"
    );
    // The comparison counts one of the two; the trimmed dimension groups them.
    let (_, out, _) = kpi_in(&dir, &["--spec", "s.yaml", "eval", "won", "--format", "csv"]);
    assert_eq!(out, "won\n1\n");
    let (_, out, _) = kpi_in(
        &dir,
        &[
            "--spec",
            "s.yaml",
            "eval",
            "total",
            "--by",
            "stage_trimmed",
            "--format",
            "csv",
        ],
    );
    assert_eq!(out, "stage_trimmed,total\nlost,4\nwon,3\n");
    // `kpi status` of a target by stage says it too: its members split.
    std::fs::write(
        dir.join("t.csv"),
        "stage,amount,closed_at\nwon,1,2025-01-02\nwon ,2,2025-01-03\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("t.yaml"),
        "datasets:\n  t: {source: t.csv, time: closed_at}\nkpis:\n  total: {dataset: t, measure: sum(amount)}\ntargets:\n  each: {kpi: total, by: stage, period: 2025-01, value: 1, objective: x}\n",
    )
    .unwrap();
    let (code, out, err) = kpi_in(
        &dir,
        &[
            "--spec",
            "t.yaml",
            "status",
            "--as-of",
            "2025-01-31",
            "--format",
            "csv",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out.lines().count(), 3, "two members, `won` and `won `: {out}");
    assert!(err.contains("kpi::padded_values"), "{err}");
}

/// `Won` beside `won`: named, with the `lower` that groups them.
#[test]
fn a_value_in_two_cases_is_named() {
    let dir = temp_dir("cases");
    std::fs::write(
        dir.join("d.csv"),
        "stage,region,amount\nwon,EMEA,1\nWon,EMEA,2\nlost,emea ltd,4\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("s.yaml"),
        "datasets:\n  d: {source: d.csv}\nkpis:\n  total: {dataset: d, measure: sum(amount)}\n",
    )
    .unwrap();
    let (out, said) = data_findings(&dir, "s.yaml");
    // `stage` only: `EMEA` and `emea ltd` are two values.
    assert_eq!(said.len(), 1, "{out}");
    assert_eq!(said[0].0, "kpi::case_variants");
    assert!(said[0].1.contains("`Won` beside `won`"), "{out}");
    // `eval` says it where the groups show it: grouped by `stage`.
    let (code, out, err) = kpi_in(
        &dir,
        &["--spec", "s.yaml", "eval", "--by", "stage", "--format", "csv"],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "stage,total\nWon,2\nlost,4\nwon,1\n");
    assert!(err.contains("kpi::case_variants"), "{err}");
    let (_, _, err) = kpi_in(&dir, &["--spec", "s.yaml", "eval", "--by", "region"]);
    assert!(!err.contains("kpi::case_variants"), "{err}");
}

/// What `kpi check --data --format json` finds in `spec` (in `dir`), which
/// passes: the output, and each finding's code and message.
fn data_findings(dir: &std::path::Path, spec: &str) -> (String, Vec<(String, String)>) {
    let (code, out, _) = kpi_in(dir, &["--spec", spec, "check", "--data", "--format", "json"]);
    assert_eq!(code, Some(0), "{out}");
    let found: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    let said = found
        .iter()
        .map(|d| {
            let text = |k: &str| d[k].as_str().unwrap_or("").to_string();
            (text("code"), text("message"))
        })
        .collect();
    (out, said)
}

/// Parquet's decimals keep their scale and its millisecond times their
/// instant in a minimum or maximum: `max(amount)` of a decimal(12, 2) was
/// its unscaled integer (9999 for 99.99), `max(at)` of milliseconds read as
/// microseconds a date in January 1970.
#[test]
fn extremes_of_decimals_and_millisecond_times_are_their_values() {
    use polars::prelude::*;
    let dir = temp_dir("parquet-types");
    let at = Series::new(
        "at".into(),
        [Some(1_736_071_200_000i64), Some(1_738_398_600_000), None],
    )
    .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))
    .unwrap();
    let amount = Series::new("amount".into(), [Some(12.34), Some(99.99), Some(-5.0)])
        .cast(&DataType::Decimal(12, 2))
        .unwrap();
    let mut df = DataFrame::new_infer_height(vec![amount.into_column(), at.into_column()]).unwrap();
    let kpis = "  top: {dataset: d, measure: max(amount)}\n  low: {dataset: d, measure: min(amount where amount > 0)}\n  total: {dataset: d, measure: sum(amount)}\n  last: {dataset: d, measure: max(at)}\n  first: {dataset: d, measure: min(at)}\n";
    let spec = parquet_spec(&dir, &mut df, kpis);
    let out = kpi(&["--spec", spec.to_str().unwrap(), "eval", "--format", "csv"]);
    // 2025-01-05 10:00:00 and 2025-02-01 08:30:00 UTC, by hand.
    assert_eq!(
        csv_of(&out),
        "top,low,total,last,first\n99.99,12.34,107.33,2025-02-01T08:30:00,2025-01-05T10:00:00\n"
    );
}

/// A decimal of a long scale counts its distinct values and shows as a
/// group the way every number does: `count_distinct` overflowed its 64-bit
/// physical integer (1 of 3), and the groups read `-3.1000000000`.
#[test]
fn long_decimals_count_and_group_as_numbers() {
    use polars::prelude::*;
    let dir = temp_dir("parquet-decimals");
    let a = Series::new(
        "a".into(),
        // As texts: Polars' cast of a double to this scale is off in its last digits.
        [
            Some("1000000000.5"),
            Some("1000000000.5"),
            Some("2000000000.25"),
            None,
            Some("-3.1"),
        ],
    )
    .cast(&DataType::Decimal(38, 10))
    .unwrap();
    let mut df = DataFrame::new_infer_height(vec![a.into_column()]).unwrap();
    let kpis =
        "  distinct: {dataset: d, measure: count_distinct(a)}\n  rows: {dataset: d, measure: count()}\n";
    let spec = parquet_spec(&dir, &mut df, kpis);
    let spec = spec.to_str().unwrap();
    let out = kpi(&["--spec", spec, "eval", "--format", "csv"]);
    assert_eq!(csv_of(&out), "distinct,rows\n3,5\n");
    let out = kpi(&["--spec", spec, "eval", "rows", "--by", "a", "--format", "csv"]);
    assert_eq!(
        csv_of(&out),
        "a,rows\n-3.1,1\n1000000000.5,2\n2000000000.25,1\n,1\n"
    );
}

/// `df` as `d.parquet` in `dir` and a spec `s.yaml` with dataset `d` over
/// it and `kpis` (YAML lines under `kpis:`): the spec's path.
fn parquet_spec(
    dir: &std::path::Path,
    df: &mut polars::prelude::DataFrame,
    kpis: &str,
) -> std::path::PathBuf {
    let file = std::fs::File::create(dir.join("d.parquet")).unwrap();
    polars::prelude::ParquetWriter::new(file).finish(df).unwrap();
    let spec = dir.join("s.yaml");
    std::fs::write(
        &spec,
        format!("datasets:\n  d: {{source: d.parquet}}\nkpis:\n{kpis}"),
    )
    .unwrap();
    spec
}

/// Counts in messages group their thousands as tables do: rows skipped,
/// rows left out of every period, rows whose lookup key finds nothing.
#[test]
fn counts_in_messages_group_their_thousands() {
    let mut data = String::from("closed_at,amount,owner\n");
    for i in 0..1234 {
        data.push_str(&format!("2025-01-0{},{i},zed\n", 1 + i % 9));
    }
    data.push_str(&",1,ann\n".repeat(2345));
    data.push_str(&"2025-01-01,x y,ann\n".repeat(1001));
    let lookup = "    columns: {amount: number}\n    read: {on_error: skip}\n    lookups: [{dataset: teams, on: owner}]\n  teams: {source: teams.csv}\n";
    let files: &[(&str, &[u8])] = &[("d.csv", data.as_bytes()), ("teams.csv", b"owner,team\nann,a\n")];
    let out = run(
        files,
        "d.csv",
        lookup,
        TOTAL,
        &["eval", "--grain", "month", "--format", "csv"],
    );
    assert_eq!(
        csv_of(&out),
        format!("period,total,rows\n2025-01,{},1234\n", 1233 * 1234 / 2)
    );
    let said = stderr(&out);
    assert!(said.contains("1,001 rows of `"), "{said}");
    assert!(said.contains("note: 2,345 rows with no time value"), "{said}");
    let checked = stdout(&run(files, "d.csv", lookup, TOTAL, &["check", "--data"]));
    assert!(
        checked.contains("1,234 rows of `d` find no row of `teams` by their `owner`: `zed` (1,234 rows)"),
        "{checked}"
    );
}

/// A CSV column of numbers but for R's `NA` (or Excel's `#N/A`) is told
/// the `null_values` that reads the word as no value, with the word; the
/// same with it set sums the numbers (0 + 1 + … + 19 = 190).
#[test]
fn a_tools_word_for_no_value_is_told_its_null_values() {
    for word in ["NA", "#N/A"] {
        let mut data = String::from("amount,closed_at\n");
        for i in 0..20 {
            data.push_str(&format!("{i},2025-01-{:02}\n", i + 1));
        }
        data.push_str(&format!("{word},2025-01-25\n"));
        let files: &[(&str, &[u8])] = &[("d.csv", data.as_bytes())];
        let said = stdout(&run(files, "d.csv", "", TOTAL, &["check", "--data"]));
        assert!(
            said.contains(&format!("holds `{word}`"))
                && said.contains(&format!("`read: {{null_values: [\"{word}\"]}}`")),
            "{said}"
        );
        let read = format!("    read: {{null_values: [\"{word}\"]}}\n");
        assert_eq!(
            csv_of(&run(files, "d.csv", &read, TOTAL, EVAL_CSV)),
            "total,rows\n190,21\n"
        );
    }
}

/// Unix time (seconds since 1970, as logs and APIs export instants) in a
/// column declared a datetime is told the option that reads it, with the
/// instant the first value is; with it, the rows fall in their months.
/// By hand: 1735689600 is 2025-01-01T00:00:00 UTC, 1738368000 is
/// 2025-02-01T00:00:00.
#[test]
fn unix_seconds_are_told_their_format() {
    let data = b"amount,closed_at\n5,1735689600\n7,1738368000\n";
    let declared = "    columns: {closed_at: datetime}\n";
    let by_month = ["eval", "--grain", "month", "--format", "csv"];
    let out = run(&[("d.csv", data)], "d.csv", declared, TOTAL, &by_month);
    let said = stderr(&out);
    assert!(
        said.contains("`1735689600` reads as seconds since 1970 (2025-01-01T00:00:00 UTC)")
            && said.contains(r#"read: {datetime_format: "%s"}"#),
        "{said}"
    );
    let read = format!("{declared}    read: {{datetime_format: \"%s\"}}\n");
    let out = run(&[("d.csv", data)], "d.csv", &read, TOTAL, &by_month);
    assert_eq!(csv_of(&out), "period,total,rows\n2025-01,5,1\n2025-02,7,1\n");
}

/// A long value in a message is its first 60 characters and `…` (a field
/// of a damaged file holding a page of text was quoted three times, a
/// message of 300 KB), and is not offered as a word for no value.
#[test]
fn long_values_are_cut_in_messages() {
    let long = "x".repeat(100_000);
    let data = format!("amount,closed_at\n5,2025-01-01\n{long},2025-01-02\n");
    let declared = "    columns: {amount: number}\n";
    let out = run(
        &[("d.csv", data.as_bytes())],
        "d.csv",
        declared,
        TOTAL,
        &["check", "--data"],
    );
    let said = stdout(&out);
    assert!(said.len() < 2_000, "{} bytes", said.len());
    assert!(said.contains(&format!("holds `{}…`", "x".repeat(60))), "{said}");
    assert!(!said.contains("null_values"), "{said}");
    // Undeclared, the column is text, said so with the value cut too.
    let out = run(
        &[("d.csv", data.as_bytes())],
        "d.csv",
        "",
        TOTAL,
        &["check", "--data"],
    );
    assert!(stdout(&out).len() < 2_000, "{}", stdout(&out).len());
}

/// A BigQuery export: integers as JSON strings (`"12500"`), timestamps as
/// `2025-01-01 10:00:00 UTC`. Declared numbers, the strings are numbers;
/// the timestamps are read as UTC undeclared (they stayed text, so a
/// `days_between` of them was a type error whose help said to declare the
/// column a number), in CSV too.
#[test]
fn a_bigquery_exports_strings_of_numbers_and_utc_times_are_read() {
    let nd = "{\"amount\": \"12500\", \"closed_at\": \"2025-01-15\", \"created\": \"2025-01-01 12:00:00 UTC\"}\n{\"amount\": \"8000\", \"closed_at\": \"2025-02-03\", \"created\": \"2025-01-20 00:00:00.000 UTC\"}\n{\"amount\": null, \"closed_at\": null, \"created\": \"2025-01-21 23:00:00 UTC\"}\n";
    let files: &[(&str, &[u8])] = &[("d.ndjson", nd.as_bytes())];
    let kpis = "  total: {dataset: d, measure: sum(amount)}\n  cycle: {dataset: d, measure: avg(days_between(created, closed_at))}\n";
    // Undeclared, the amounts are text: the help says why.
    let out = run(files, "d.ndjson", "", kpis, EVAL_CSV);
    let err = stderr(&out).replace("\n        ", " ");
    assert!(
        err.contains("kpi::type_mismatch")
            && err.contains("numbers written as JSON strings")
            && err.contains("Declare `amount: number`")
            && !err.contains("`created`"),
        "{err}"
    );
    // (13.5 + 14) / 2 days.
    let declared = "    columns: {amount: number}\n";
    assert_eq!(
        csv_of(&run(files, "d.ndjson", declared, kpis, EVAL_CSV)),
        "total,cycle\n20500,13.75\n"
    );
    // In CSV, in the zone asked for: 23:30 UTC on January 31 is February in Berlin.
    let csv = "amount,closed_at\n5,2025-01-31 23:30:00 UTC\n7,2025-02-01 00:30:00 UTC\n";
    let files: &[(&str, &[u8])] = &[("d.csv", csv.as_bytes())];
    let zoned = "    read: {timezone: Europe/Berlin}\n";
    assert_eq!(
        csv_of(&run(files, "d.csv", zoned, TOTAL, BY_MONTH)),
        "period,total,rows\n2025-02,12,2\n"
    );
    // A text column where a date is wanted: the help says to declare a date.
    let csv = "amount,closed_at,created\n5,2025-01-31,1/2/2025 10:00\n";
    let files: &[(&str, &[u8])] = &[("d.csv", csv.as_bytes())];
    let kpis = "  cycle: {dataset: d, measure: avg(days_between(created, closed_at))}\n";
    let err = stderr(&run(files, "d.csv", "", kpis, EVAL_CSV)).replace("\n        ", " ");
    assert!(
        err.contains("Declare `created: datetime` (or `date`)") && !err.contains("`created: number`"),
        "{err}"
    );
}

/// MySQL's and PostgreSQL's dumps write no value as `\N`: the help offers
/// `null_values` in single quotes (in double quotes YAML reads `"\N"` as
/// one character, NEL), which, applied, reads it as no value.
#[test]
fn a_dumps_backslash_n_is_offered_as_no_value_in_single_quotes() {
    let mut data = String::from("amount,closed_at\n");
    for i in 1..=20 {
        data.push_str(&format!("{i},2025-01-{i:02}\n"));
    }
    data.push_str("\\N,2025-01-22\n7,\\N\n");
    let files: &[(&str, &[u8])] = &[("d.csv", data.as_bytes())];
    let err = stderr(&run(files, "d.csv", "", TOTAL, EVAL_CSV)).replace("\n        ", " ");
    assert!(
        err.contains(
            "`\\N` is how the tool that wrote the file says no value: `read: {null_values: ['\\N']}`"
        ),
        "{err}"
    );
    let read = "    read: {null_values: ['\\N']}\n";
    assert_eq!(
        csv_of(&run(files, "d.csv", read, TOTAL, EVAL_CSV)),
        "total,rows\n217,22\n"
    );
    // Written in double quotes anyway, it means the same (it was NEL, which
    // no field holds, so `\N` kept the column text).
    let read = "    read: {null_values: [\"\\N\"]}\n";
    assert_eq!(
        csv_of(&run(files, "d.csv", read, TOTAL, EVAL_CSV)),
        "total,rows\n217,22\n"
    );
}

/// Numbers and bools written as texts read the same from every file
/// format: a negative number in parentheses, spaces around, the words of
/// a bool (`yes`, `t`, `1`, in any case), an empty text no value. NDJSON
/// texts and Parquet text columns took only `true` and `false` and plain
/// numbers, where CSV took all of these. By hand: 7 - 12 + 1000 = 995;
/// three of five true.
#[test]
fn texts_declared_numbers_and_bools_read_alike_in_every_format() {
    let dir = temp_dir("texts-declared");
    let rows = [
        (" 7 ", "yes"),
        ("(12)", "T"),
        ("1e3", "0"),
        ("", "No"),
        ("", "1"),
        ("", ""),
    ];
    let csv: String = rows.iter().map(|(a, w)| format!("{a},{w}\n")).collect();
    std::fs::write(dir.join("d.csv"), format!("amount,won\n{csv}")).unwrap();
    let ndjson: String = rows
        .iter()
        .map(|(a, w)| format!("{{\"amount\": \"{a}\", \"won\": \"{w}\"}}\n"))
        .collect();
    std::fs::write(dir.join("d.ndjson"), ndjson).unwrap();
    let mut df = polars::prelude::df!(
        "amount" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        "won" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
    )
    .unwrap();
    polars::prelude::ParquetWriter::new(std::fs::File::create(dir.join("d.parquet")).unwrap())
        .finish(&mut df)
        .unwrap();
    for file in ["d.csv", "d.ndjson", "d.parquet"] {
        std::fs::write(
            dir.join("k.yaml"),
            format!("datasets:\n  d: {{source: {file}, columns: {{amount: number, won: bool}}}}\nkpis:\n  total: {{dataset: d, measure: sum(amount)}}\n  amounts: {{dataset: d, measure: count(amount)}}\n  wins: {{dataset: d, measure: count(where won)}}\n  flags: {{dataset: d, measure: count(won)}}\n"),
        )
        .unwrap();
        let (code, out, _) = kpi_in(&dir, &["--spec", "k.yaml", "check", "--data"]);
        assert_eq!(code, Some(0), "{file}: {out}");
        let (code, out, err) = kpi_in(&dir, &["--spec", "k.yaml", "eval", "--format", "csv"]);
        assert_eq!(code, Some(0), "{file}: {err}");
        assert_eq!(out, "total,amounts,wins,flags\n995,3,3,5\n", "{file}");
    }
}
