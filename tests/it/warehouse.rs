//! The same spec on files and in databases: the standard library's data is
//! loaded into DuckDB and PostgreSQL (real servers, real ADBC drivers; see
//! scripts/services), the datasets are pointed at the tables, and every
//! value of a set of queries must equal the value computed from the files.

use std::path::{Path, PathBuf};

use polars::prelude::*;

use kpi::check::ir::{ConnectionModel, Model};
use kpi::period::{Grain, Period};
use kpi::plan::{Compare, Query};
use kpi::report::table::{Cell, ResultTable};
use kpi::spec::model::Dialect;
use kpi::spec::InputFile;
use kpi::sql::dialect::Spelling;
use kpi::time::{Date, DateTime};

use crate::support::{kpi_bin, kpi_in, printed, root, temp_dir};

/// Where scripts/services put the drivers and the PostgreSQL URI.
fn services() -> PathBuf {
    let dir = std::env::var_os("KPI_SERVICES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/kpi-services"));
    assert!(
        dir.join("adbc").is_dir() && dir.join("postgres.uri").is_file(),
        "the database tests need scripts/services (drivers and a PostgreSQL server) in {}",
        dir.display()
    );
    dir
}

/// A spec whose connection `lite` is the SQLite file `uri`, then `rest`.
fn sqlite_spec(uri: &str, rest: &str) -> String {
    format!("connections:\n  lite: {{driver: sqlite, uri: \"{uri}\"}}\n{rest}")
}

/// A database the tests load the sample data into.
struct Warehouse {
    dialect: Dialect,
    driver: PathBuf,
    uri: String,
    /// The schema the tables are created in.
    schema: String,
}

impl Warehouse {
    fn duckdb() -> Warehouse {
        let file = temp_dir("duckdb").join("warehouse.duckdb");
        Warehouse {
            dialect: Dialect::DuckDb,
            driver: services().join("adbc/libduckdb.so"),
            uri: file.display().to_string(),
            schema: "sales".into(),
        }
    }

    fn postgres() -> Warehouse {
        let uri = std::fs::read_to_string(services().join("postgres.uri")).unwrap();
        Warehouse {
            dialect: Dialect::Postgres,
            driver: services().join("adbc/libadbc_driver_postgresql.so"),
            uri: uri.trim().to_string(),
            schema: fresh_schema(),
        }
    }

    fn spark() -> Warehouse {
        Warehouse {
            dialect: Dialect::Spark,
            driver: services().join("adbc/libadbc_driver_spark.so"),
            uri: std::fs::read_to_string(services().join("spark.uri"))
                .unwrap()
                .trim()
                .to_string(),
            schema: fresh_schema(),
        }
    }

    /// Every database the tests run: DuckDB, PostgreSQL, SQLite and Spark.
    fn every() -> [Warehouse; 4] {
        [
            Warehouse::duckdb(),
            Warehouse::postgres(),
            Warehouse::sqlite(),
            Warehouse::spark(),
        ]
    }

    fn sqlite() -> Warehouse {
        let file = temp_dir("sqlite").join("warehouse.sqlite");
        Warehouse {
            dialect: Dialect::Sqlite,
            driver: services().join("adbc/libadbc_driver_sqlite.so"),
            uri: format!("file:{}?mode=rwc", file.display()),
            schema: "main".into(),
        }
    }

    /// SQLite has one schema per file, `main`, made with the file.
    fn create_schema(&self) {
        if self.dialect != Dialect::Sqlite {
            self.run(&format!(
                "CREATE SCHEMA IF NOT EXISTS {}",
                self.dialect.ident(&self.schema)
            ));
        }
    }

    fn connection(&self) -> ConnectionModel {
        ConnectionModel {
            name: "wh".into(),
            driver: self.driver.display().to_string(),
            uri: Some(self.uri.clone()),
            dialect: self.dialect,
            // The helpers make the database file (kpi opens only those
            // that exist, unless asked to make one).
            options: match self.dialect {
                Dialect::DuckDb => vec![("access_mode".into(), "read_write".into())],
                _ => Vec::new(),
            },
            span: Default::default(),
            base_dir: PathBuf::new(),
        }
    }

    /// A table `name` in the schema, of `columns` (SQL definitions) and
    /// `rows` (SQL tuples).
    fn table(&self, name: &str, columns: &str, rows: &[String]) {
        let table = format!(
            "{}.{}",
            self.dialect.ident(&self.schema),
            self.dialect.ident(name)
        );
        self.create_schema();
        self.run(&format!("CREATE TABLE {table} ({columns})"));
        self.run(&format!("INSERT INTO {table} VALUES {}", rows.join(", ")));
    }

    fn run(&self, sql: &str) -> DataFrame {
        kpi::data::adbc::query(&self.connection(), sql).unwrap_or_else(|d| panic!("{}: {}", d.message, sql))
    }

    /// Every dataset of `files` as a table, with the types kpi reads.
    fn load(&self, files: &Model) {
        let d = self.dialect;
        self.create_schema();
        for ds in &files.datasets {
            let src = kpi::data::SourceInfo::from_model(ds);
            let df = kpi::data::scan(&src).unwrap().collect().unwrap();
            if d == Dialect::Spark {
                self.load_parquet(&ds.name, df);
                continue;
            }
            let columns: Vec<&Column> = df
                .columns()
                .iter()
                .filter(|c| !c.name().starts_with("__"))
                .collect();
            let table = format!("{}.{}", d.ident(&self.schema), d.ident(&ds.name));
            let defs: Vec<String> = columns
                .iter()
                .map(|c| format!("{} {}", d.ident(c.name()), self.sql_type(c.dtype())))
                .collect();
            self.run(&format!("CREATE TABLE {table} ({})", defs.join(", ")));
            for start in (0..df.height()).step_by(500) {
                let rows: Vec<String> = (start..(start + 500).min(df.height()))
                    .map(|i| {
                        let cells: Vec<String> =
                            columns.iter().map(|c| self.literal(c.get(i).unwrap())).collect();
                        format!("({})", cells.join(", "))
                    })
                    .collect();
                self.run(&format!("INSERT INTO {table} VALUES {}", rows.join(", ")));
            }
        }
    }

    /// Spark reads the rows from a Parquet file of the frame (its own
    /// inserts are one job per statement: slow).
    fn load_parquet(&self, name: &str, df: DataFrame) {
        let d = self.dialect;
        let dir = temp_dir("spark-tables");
        let path = dir.join(format!("{name}.parquet"));
        let keep: Vec<Expr> = df
            .columns()
            .iter()
            .filter(|c| !c.name().starts_with("__"))
            .map(|c| col(c.name().as_str()))
            .collect();
        let mut df = df.lazy().select(keep).collect().unwrap();
        let f = std::fs::File::create(&path).unwrap();
        ParquetWriter::new(f).finish(&mut df).unwrap();
        self.run(&format!(
            "CREATE TABLE {}.{} USING parquet LOCATION {}",
            d.ident(&self.schema),
            d.ident(name),
            d.string(&path.display().to_string())
        ));
    }

    fn sql_type(&self, dt: &DataType) -> &'static str {
        match dt {
            DataType::Boolean => "BOOLEAN",
            DataType::Date => "DATE",
            DataType::Datetime(..) => "TIMESTAMP",
            DataType::String => "TEXT",
            DataType::Int64 | DataType::Int32 => "BIGINT",
            _ => self.dialect.double_type(),
        }
    }

    fn literal(&self, v: AnyValue) -> String {
        let d = self.dialect;
        match v {
            AnyValue::Null => "NULL".into(),
            AnyValue::Boolean(b) => b.to_string().to_uppercase(),
            AnyValue::String(s) => d.string(s),
            AnyValue::StringOwned(s) => d.string(&s),
            AnyValue::Date(days) => d.date_lit(Date(days)),
            AnyValue::Datetime(us, TimeUnit::Microseconds, _) => d.timestamp_lit(DateTime(us)),
            AnyValue::Datetime(ms, TimeUnit::Milliseconds, _) => d.timestamp_lit(DateTime(ms * 1000)),
            AnyValue::Datetime(ns, TimeUnit::Nanoseconds, _) => d.timestamp_lit(DateTime(ns / 1000)),
            other => match other.extract::<f64>() {
                Some(x) => format!("{x:?}"),
                None => d.string(&other.to_string()),
            },
        }
    }

    /// The standard library with every dataset on this warehouse.
    /// `connections:` with this database as `wh`.
    fn connections_yaml(&self) -> String {
        format!(
            "connections:\n  wh: {{driver: \"{}\", uri: \"{}\", dialect: {}}}\n",
            self.driver.display(),
            self.uri,
            kpi::keyword::Keyword::as_str(self.dialect)
        )
    }

    fn spec(&self, driver: &str) -> Vec<InputFile> {
        let mut files = library_for(self.dialect);
        for f in &mut files {
            let text = String::from_utf8(f.bytes.clone()).unwrap();
            let mut out = String::new();
            for line in text.lines() {
                match line.trim_start().strip_prefix("source: ../examples/data/") {
                    Some(rest) => {
                        let name = rest.trim_end_matches(".csv");
                        let indent = &line[..line.len() - line.trim_start().len()];
                        out.push_str(&format!(
                            "{indent}source: {{connection: wh, table: {}.{name}}}\n",
                            self.schema
                        ));
                    }
                    None => {
                        out.push_str(line);
                        out.push('\n');
                    }
                }
            }
            f.bytes = out.into_bytes();
        }
        let connection = format!(
            "connections:\n  wh:\n    driver: {driver}\n    uri: \"{}\"\n    dialect: {}\n",
            self.uri,
            kpi::keyword::Keyword::as_str(self.dialect)
        );
        files.push(InputFile {
            name: "connections.yaml".into(),
            bytes: connection.into_bytes(),
            base_dir: root().join("kpis"),
        });
        files
    }
}

/// kpis/ as shipped (sources on the sample data in examples/data).
fn library() -> Vec<InputFile> {
    crate::support::library(|_, text| text)
}

/// The library as a dialect can evaluate it: SQLite has no median, so
/// the median KPI is an average there (on files too, to compare).
fn library_for(dialect: Dialect) -> Vec<InputFile> {
    match dialect {
        Dialect::Sqlite => crate::support::library(|_, text| text.replace("median(", "avg(")),
        _ => library(),
    }
}

fn checked(files: Vec<InputFile>) -> Model {
    let outcome = kpi::check_loaded(kpi::spec::load_files(files), false);
    assert_eq!(outcome.errors(), 0, "{:?}", outcome.diagnostics);
    outcome.checked.model
}

/// Equal tables: the same columns, rows and texts; numbers within 1e-9.
fn assert_same(what: &str, files: &ResultTable, db: &ResultTable) {
    assert_eq!(files.columns, db.columns, "{what}: columns");
    assert_eq!(files.rows.len(), db.rows.len(), "{what}: rows");
    assert!(!files.rows.is_empty(), "{what}: a comparison of no rows");
    for (i, (a, b)) in files.rows.iter().zip(&db.rows).enumerate() {
        for (c, (x, y)) in files.columns.iter().zip(a.iter().zip(b)) {
            let same = match (x, y) {
                (Cell::Number(Some(x)), Cell::Number(Some(y))) => (x - y).abs() <= 1e-9 * x.abs().max(1.0),
                _ => x == y,
            };
            assert!(
                same,
                "{what}: row {i} ({:?}), {c}: files {x:?}, database {y:?}",
                a.first()
            );
        }
    }
}

/// Equal JSON, numbers within 1e-9.
fn same_json(a: &serde_json::Value, b: &serde_json::Value, at: &str) {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!((x - y).abs() <= 1e-9 * x.abs().max(1.0), "{at}: {x} vs {y}");
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{at}");
            for (i, (x, y)) in x.iter().zip(y).enumerate() {
                same_json(x, y, &format!("{at}[{i}]"));
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            assert_eq!(x.len(), y.len(), "{at}");
            for (k, v) in x {
                same_json(v, &y[k], &format!("{at}.{k}"));
            }
        }
        _ => assert_eq!(a, b, "{at}"),
    }
}

fn queries() -> Vec<(&'static str, Query)> {
    let period = |a: &str, b: &str| {
        Some(Period {
            start: Date::parse(a).unwrap(),
            end: Date::parse(b).unwrap(),
        })
    };
    vec![
        (
            "every KPI by owner and month",
            Query {
                by: vec!["owner".into()],
                grain: Grain::Month,
                ..Query::default()
            },
        ),
        (
            "by a looked-up region, by quarter, one segment",
            Query {
                by: vec!["reps.region".into()],
                grain: Grain::Quarter,
                segments: vec!["enterprise".into()],
                ..Query::default()
            },
        ),
        ("every KPI over all the data", Query::default()),
        (
            "weeks of a half year, with history for windows",
            Query {
                by: vec!["team".into()],
                grain: Grain::Week,
                range: period("2025-01-01", "2025-06-30"),
                ..Query::default()
            },
        ),
        (
            "a quarter against the year before",
            Query {
                range: period("2025-04-01", "2025-06-30"),
                compare: Some(Compare::Year),
                ..Query::default()
            },
        ),
        (
            "months compared with the month before",
            Query {
                by: vec!["segment".into()],
                grain: Grain::Month,
                range: period("2024-10-01", "2025-03-31"),
                compare: Some(Compare::Previous),
                ..Query::default()
            },
        ),
    ]
}

/// Every query, and the funnels and target statuses, on files and in `wh`.
fn same_numbers_as_files(wh: Warehouse) {
    let files = checked(library_for(wh.dialect));
    wh.load(&files);
    let db = checked(wh.spec(&wh.driver.display().to_string()));
    for (what, q) in queries() {
        let a = kpi::execute::evaluate(&files, &q).unwrap_or_else(|d| panic!("{what}: {d:?}"));
        let b = kpi::execute::evaluate(&db, &q).unwrap_or_else(|d| panic!("{what}: {d:?}"));
        assert_same(what, &a.table(&files), &b.table(&db));
    }
    let q = Query {
        by: vec!["source".into()],
        grain: Grain::Quarter,
        ..Query::default()
    };
    let a = kpi::execute::evaluate_funnels(&files, &[], &q).unwrap();
    let b = kpi::execute::evaluate_funnels(&db, &[], &q).unwrap();
    assert_same("funnels", &a.table(), &b.table());
    let as_of = Date::parse("2025-06-30");
    let a = kpi::status::status(&files, &[], as_of).unwrap();
    let b = kpi::status::status(&db, &[], as_of).unwrap();
    assert!(!a.is_empty());
    same_json(
        &serde_json::to_value(&a).unwrap(),
        &serde_json::to_value(&b).unwrap(),
        "status",
    );
    // As of the latest data, which the database is asked for.
    let a = kpi::status::status(&files, &[], None).unwrap();
    let b = kpi::status::status(&db, &[], None).unwrap();
    same_json(
        &serde_json::to_value(&a).unwrap(),
        &serde_json::to_value(&b).unwrap(),
        "status as of the data",
    );
}

#[test]
fn duckdb_gives_the_numbers_of_the_files() {
    same_numbers_as_files(Warehouse::duckdb());
}

#[test]
fn postgresql_gives_the_numbers_of_the_files() {
    same_numbers_as_files(Warehouse::postgres());
}

#[test]
fn sqlite_gives_the_numbers_of_the_files() {
    same_numbers_as_files(Warehouse::sqlite());
}

#[test]
fn spark_gives_the_numbers_of_the_files() {
    same_numbers_as_files(Warehouse::spark());
}

/// A fiscal year from April and Sunday weeks, bucketed by the database.
#[test]
fn fiscal_quarters_and_sunday_weeks_in_sql() {
    for wh in [Warehouse::duckdb(), Warehouse::postgres(), Warehouse::sqlite()] {
        let files = checked(library_for(wh.dialect));
        wh.load(&files);
        let fiscal = |files: Vec<InputFile>| {
            let mut files = files;
            for f in &mut files {
                let text = String::from_utf8(f.bytes.clone()).unwrap();
                let text = text
                    .replace("week_start: monday", "week_start: sunday")
                    .replace("fiscal_year_start: 1", "fiscal_year_start: 4");
                f.bytes = text.into_bytes();
            }
            checked(files)
        };
        let (a_model, b_model) = (
            fiscal(library_for(wh.dialect)),
            fiscal(wh.spec(&wh.driver.display().to_string())),
        );
        for grain in [Grain::Week, Grain::Quarter, Grain::Year] {
            let q = Query {
                kpis: vec![
                    "won_revenue".into(),
                    "win_rate".into(),
                    "open_pipeline_value".into(),
                ],
                grain,
                ..Query::default()
            };
            let a = kpi::execute::evaluate(&a_model, &q).unwrap();
            let b = kpi::execute::evaluate(&b_model, &q).unwrap();
            assert_same(&format!("{grain:?}"), &a.table(&a_model), &b.table(&b_model));
        }
    }
}

/// `kpi ARGS` from the repository root: over `spec` (kpis/ when `None`),
/// with `env` set.
fn kpi_run(spec: Option<&std::path::Path>, env: &[(&str, &str)], args: &[&str]) -> std::process::Output {
    let mut cmd = std::process::Command::new(kpi_bin());
    cmd.current_dir(root())
        .env_remove("KPI_SPEC")
        .envs(env.iter().copied());
    if let Some(spec) = spec {
        cmd.arg("--spec").arg(spec);
    }
    let out = cmd.args(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out
}

/// From the command line, a driver named by its short name is found in
/// KPI_ADBC_PATH, and the output is byte for byte the files' output.
#[test]
fn the_cli_finds_the_driver_by_name() {
    let wh = Warehouse::duckdb();
    wh.load(&checked(library()));
    // The file is locked while this thread has it open.
    kpi::data::adbc::disconnect();
    let dir = temp_dir("warehouse-cli");
    for f in wh.spec("duckdb") {
        let name = std::path::Path::new(&f.name).file_name().unwrap().to_owned();
        std::fs::write(dir.join(name), f.bytes).unwrap();
    }
    let args = [
        "eval", "--by", "owner", "--grain", "quarter", "--format", "csv", "-q",
    ];
    let files = kpi_run(None, &[], &args);
    let adbc = services().join("adbc").display().to_string();
    let db = kpi_run(Some(&dir), &[("KPI_ADBC_PATH", adbc.as_str())], &args);
    // Sums may differ in the last bit between engines; compare as numbers.
    let parse = |b: &[u8]| -> Vec<Vec<String>> {
        String::from_utf8_lossy(b)
            .lines()
            .map(|l| l.split(',').map(str::to_string).collect())
            .collect()
    };
    let (a, b) = (parse(&files.stdout), parse(&db.stdout));
    // The report, as of the latest date in the database: the same page.
    let report_files = kpi_run(None, &[], &["report"]);
    let report_db = kpi_run(Some(&dir), &[("KPI_ADBC_PATH", adbc.as_str())], &["report"]);
    assert_eq!(
        String::from_utf8_lossy(&report_files.stdout),
        String::from_utf8_lossy(&report_db.stdout),
        "the report from the database"
    );
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().flatten().zip(b.iter().flatten()) {
        match (x.parse::<f64>(), y.parse::<f64>()) {
            (Ok(x), Ok(y)) => assert!((x - y).abs() <= 1e-9 * x.abs().max(1.0), "{x} vs {y}"),
            _ => assert_eq!(x, y),
        }
    }
}

/// NaN and infinities in a database's number columns are nulls, as in
/// files: aggregates skip them. Amounts 100, NaN, +inf, 50, −inf and null
/// by month: January sums 100 of one value, February 50 of one; every
/// comparison and `abs` of them is null too.
#[test]
fn non_finite_numbers_are_null_in_databases() {
    let kpis = "  total: {dataset: d, measure: sum(amount)}\n  n: {dataset: d, measure: count(amount)}\n  top: {dataset: d, measure: max(abs(amount))}\n  big: {dataset: d, measure: count(where amount > 60)}\n";
    let want = "period,total,n,top,big\n2025-01,100,1,100,1\n2025-02,50,1,50,0\n";
    let dir = temp_dir("non-finite-files");
    std::fs::write(
        dir.join("d.csv"),
        "amount,closed_at\n100,2025-01-05\nNaN,2025-01-06\ninf,2025-01-07\n50,2025-02-01\n-inf,2025-02-02\n,2025-02-03\n",
    )
    .unwrap();
    let spec = dir.join("s.yaml");
    std::fs::write(
        &spec,
        format!("datasets:\n  d: {{source: d.csv, time: closed_at}}\nkpis:\n{kpis}"),
    )
    .unwrap();
    let args = ["--grain", "month", "-q"];
    assert_eq!(evaluated_csv(spec.to_str().unwrap(), &args), want, "files");
    for wh in Warehouse::every() {
        let (nan, inf) = match wh.dialect {
            Dialect::DuckDb => ("'NaN'::DOUBLE", "'Infinity'::DOUBLE"),
            Dialect::Postgres => ("'NaN'::float8", "'Infinity'::float8"),
            Dialect::Spark => ("double('NaN')", "double('Infinity')"),
            // SQLite keeps no NaN (it stores a null); 9e999 is its infinity.
            _ => ("NULL", "9e999"),
        };
        let day = |d: &str| wh.dialect.date_lit(Date::parse(d).unwrap());
        let rows = [
            ("100", "2025-01-05"),
            (nan, "2025-01-06"),
            (inf, "2025-01-07"),
            ("50", "2025-02-01"),
            (&format!("-{inf}"), "2025-02-02"),
            ("NULL", "2025-02-03"),
        ]
        .map(|(amount, d)| format!("({amount}, {})", day(d)));
        wh.table(
            "nonfinite",
            &format!("amount {}, closed_at DATE", wh.dialect.double_type()),
            &rows,
        );
        kpi::data::adbc::disconnect();
        assert_eq!(
            checked_then_evaluated(&wh, "nonfinite", kpis, &args),
            want,
            "{:?}",
            wh.dialect
        );
        // And they are counted, as over files: NaN, inf and -inf (SQLite
        // stored the NaN as a null).
        let db_spec = dir.join(format!("{:?}.yaml", wh.dialect));
        std::fs::write(
            &db_spec,
            format!(
                "{}datasets:\n  d: {{source: {{connection: wh, table: {}.nonfinite}}, time: closed_at}}\nkpis:\n{kpis}",
                wh.connections_yaml(),
                wh.schema
            ),
        )
        .unwrap();
        let out = crate::support::kpi(&["--spec", db_spec.to_str().unwrap(), "eval", "--grain", "month"]);
        let said = if wh.dialect == Dialect::Sqlite { 2 } else { 3 };
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!(
                "column `amount` of dataset `d` held {said} non-finite values"
            )),
            "{:?}: {stderr}",
            wh.dialect
        );
        // `kpi check --data` counts them in the whole table, as in files.
        let out = crate::support::kpi(&["--spec", db_spec.to_str().unwrap(), "check", "--data"]);
        let said_by_check = String::from_utf8_lossy(&out.stdout);
        assert!(
            said_by_check.contains(&format!(
                "column `amount` of dataset `d` holds {said} non-finite values"
            )),
            "{:?}: {said_by_check}",
            wh.dialect
        );
    }
    let out = crate::support::kpi(&["--spec", spec.to_str().unwrap(), "check", "--data"]);
    let said_by_check = String::from_utf8_lossy(&out.stdout);
    assert!(
        said_by_check.contains("column `amount` of dataset `d` holds 3 non-finite values"),
        "files: {said_by_check}"
    );
    let out = crate::support::kpi(&["--spec", spec.to_str().unwrap(), "eval", "--grain", "month"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("column `amount` of dataset `d` held 3 non-finite values"),
        "files: {stderr}"
    );
}

/// SQLite keeps dates and times as texts, written as each tool writes them
/// (`T` or a space, a fraction of a second or none): a table of texts
/// declared `date` and `datetime` under `columns:`, evaluated from the
/// command line with `driver: sqlite`, gives the numbers worked out by hand.
#[test]
fn sqlite_reads_dates_kept_as_texts() {
    let wh = Warehouse::sqlite();
    let rows = [
        "('ann', 'won', 100, '2025-01-10', '2025-01-10T09:30:00', 1)",
        "('ann', 'lost', 50, '2025-01-31', '2025-01-31 23:59:59.500', 0)",
        "('bob', 'won', 200.5, '2025-02-01', '2025-02-01 08:00', 1)",
        "('bob', 'won', 7, NULL, NULL, NULL)",
        "(NULL, 'won', 30, '2025-02-28', '2025-02-28T12:00:00Z', 0)",
    ]
    .map(String::from);
    wh.table(
        "deals",
        "owner TEXT, stage TEXT, amount REAL, closed_at TEXT, touched_at TEXT, partner BOOLEAN",
        &rows,
    );
    kpi::data::adbc::disconnect();
    let dir = temp_dir("sqlite-cli");
    let spec = dir.join("s.yaml");
    let rest = "datasets:\n  deals:\n    source: {connection: lite, table: deals}\n    time: closed_at\n    columns: {closed_at: date, touched_at: datetime}\nkpis:\n  won: {dataset: deals, measure: sum(amount where stage == \"won\")}\n  rate: {dataset: deals, measure: count(where stage == \"won\") / count()}\n  late: {dataset: deals, measure: count(where touched_at >= @2025-01-31T12:00:00)}\n  last: {dataset: deals, measure: max(touched_at)}\n  hours: {dataset: deals, measure: sum(hours_between(closed_at, touched_at))}\n  partners: {dataset: deals, measure: count(where partner)}\n";
    std::fs::write(&spec, sqlite_spec(&wh.uri, rest)).unwrap();
    let adbc = services().join("adbc").display().to_string();
    let env = [("KPI_ADBC_PATH", adbc.as_str())];
    kpi_run(Some(&spec), &env, &["check", "--data"]);
    let by_owner_partner_month = || {
        let args = [
            "eval",
            "--by",
            "owner,partner",
            "--grain",
            "month",
            "--format",
            "csv",
            "-q",
        ];
        String::from_utf8(kpi_run(Some(&spec), &env, &args).stdout).unwrap()
    };
    // By owner and partner, January and February (bob's undated row has no
    // period). `late`: touched at or after 31 January noon (23:59:59.5, and
    // every February row). `hours`: 9.5 (10 Jan), 23.999… (31 Jan, to the
    // second: 23:59:59), 8, 12.
    let want = "owner,partner,period,won,rate,late,last,hours,partners
ann,false,2025-01,0,0,1,2025-01-31T23:59:59,23.9997222222222,0
ann,false,2025-02,0,,0,,0,0
ann,true,2025-01,100,1,0,2025-01-10T09:30:00,9.5,1
ann,true,2025-02,0,,0,,0,0
bob,true,2025-01,0,,0,,0,0
bob,true,2025-02,200.5,1,1,2025-02-01T08:00:00,8,1
,false,2025-01,0,,0,,0,0
,false,2025-02,30,1,1,2025-02-28T12:00:00,12,0
";
    assert_eq!(by_owner_partner_month(), want);
    // The same rows as a query, ended as people end a statement.
    let text = std::fs::read_to_string(&spec)
        .unwrap()
        .replace("table: deals", "query: \"select * from deals; \"")
        .replace("touched_at: datetime}", "touched_at: datetime, partner: bool}");
    std::fs::write(&spec, text).unwrap();
    assert_eq!(by_owner_partner_month(), want, "as a query");
    // A query that ends in a comment, as SQL kept in a YAML block does.
    let text = std::fs::read_to_string(&spec).unwrap().replace(
        "query: \"select * from deals; \"",
        "query: \"select *\\nfrom deals -- every deal\"",
    );
    std::fs::write(&spec, &text).unwrap();
    assert!(text.contains("-- every deal"));
    assert_eq!(by_owner_partner_month(), want, "as a query ending in a comment");
    // A `;` and then a comment: the `;` was left inside the subquery.
    let text = text.replace(
        "query: \"select *\\nfrom deals -- every deal\"",
        "query: \"select * from deals; -- every deal\\n-- (the end)\"",
    );
    std::fs::write(&spec, &text).unwrap();
    assert_eq!(
        by_owner_partner_month(),
        want,
        "as a query ending in `;` and comments"
    );
    let text = text.replace(
        "query: \"select * from deals; -- every deal\\n-- (the end)\"",
        "query: \"select * from deals; \"",
    );
    std::fs::write(&spec, text).unwrap();
    // A table the file does not have is said by the database.
    let text = std::fs::read_to_string(&spec)
        .unwrap()
        .replace("query: \"select * from deals; \"", "table: dealz");
    std::fs::write(&spec, text).unwrap();
    let failing = |args: &[&str]| {
        let out = std::process::Command::new(kpi_bin())
            .arg("--spec")
            .arg(&spec)
            .args(args)
            .envs(env)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        out
    };
    let out = failing(&["check", "--data", "--format", "json"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    // Said at the dataset's source (line 5), the dataset's to mend.
    let found: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let d = &found[0];
    assert_eq!(
        (d["code"].as_str(), d["line"].as_u64(), d["column"].as_u64()),
        (Some("kpi::query_failed"), Some(5), Some(13)),
        "{stdout}"
    );
    let message = d["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("dataset `deals`:") && message.contains("no such table: dealz"),
        "{stdout}"
    );
    // `eval` runs into it at the scan, and says it of the dataset too.
    let out = failing(&["eval", "won"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("dataset `deals`:") && stderr.contains("this source cannot be read"),
        "{stderr}"
    );
}

/// `kpi check --data` reads a table's columns through the connection.
#[test]
fn check_data_reads_table_columns_through_the_connection() {
    let wh = Warehouse::duckdb();
    wh.load(&checked(library()));
    let mut files = wh.spec(&wh.driver.display().to_string());
    for f in &mut files {
        let text = String::from_utf8(f.bytes.clone()).unwrap();
        f.bytes = text.replacen("amount: number", "amount: date", 1).into_bytes();
    }
    let outcome = kpi::check_loaded(kpi::spec::load_files(files), true);
    let codes: Vec<&str> = outcome.diagnostics.iter().map(|d| d.code).collect();
    assert!(codes.contains(&"kpi::declared_type_contradicted"), "{codes:?}");
    let clean = kpi::check_loaded(
        kpi::spec::load_files(wh.spec(&wh.driver.display().to_string())),
        true,
    );
    assert_eq!(clean.errors(), 0, "{:?}", clean.diagnostics);
}

/// `kpi check --data` asks the database for the values of the texts a spec
/// compares with: none is named on the library as it is, and `"Won"`
/// where the table says `won` is, with the value meant.
#[test]
fn check_data_asks_the_database_for_the_texts_compared_with() {
    for wh in Warehouse::every() {
        wh.load(&checked(library_for(wh.dialect)));
        let driver = wh.driver.display().to_string();
        let named = |files: Vec<InputFile>| -> Vec<String> {
            let outcome = kpi::check_loaded(kpi::spec::load_files(files), true);
            outcome
                .diagnostics
                .iter()
                .filter(|d| d.code == "kpi::text_not_in_data")
                .map(|d| format!("{} | {}", d.message, d.help.clone().unwrap_or_default()))
                .collect()
        };
        assert_eq!(named(wh.spec(&driver)), Vec::<String>::new(), "{:?}", wh.dialect);
        let mut files = wh.spec(&driver);
        let mut changed = 0;
        for f in &mut files {
            let text = String::from_utf8(f.bytes.clone()).unwrap();
            changed += usize::from(text.contains("stage == \"won\""));
            f.bytes = text
                .replacen("stage == \"won\"", "stage == \"Won\"", 1)
                .into_bytes();
        }
        let said = named(files);
        assert!(changed > 0 && said.len() == changed, "{:?}: {said:?}", wh.dialect);
        assert!(
            said.iter().all(|s| s.contains("did you mean `\"won\"`?")),
            "{said:?}"
        );
    }
}

/// Rows whose lookup key no looked-up row holds are counted and named by
/// the database, as over files (tests/it/diagnostics.rs has the same data):
/// `Bob` (3 rows) and `zed` find no team, a null owner is not counted, and
/// the computed key `rep` finds every region but `zed`'s.
#[test]
fn keys_no_looked_up_row_holds_are_counted_in_databases() {
    for wh in Warehouse::every() {
        let text = |v: &str| match v {
            "" => "NULL".to_string(),
            v => format!("'{v}'"),
        };
        let deals: Vec<String> = ["ann", "ann", "Bob", "Bob", "Bob", "zed", "", "bob"]
            .iter()
            .enumerate()
            .map(|(i, o)| format!("({i}, {})", text(o)))
            .collect();
        wh.table("deals", "id INTEGER, owner VARCHAR(10)", &deals);
        let pairs = |a: &str, b: &str| vec![format!("('ann', '{a}')"), format!("('bob', '{b}')")];
        wh.table(
            "teams",
            "owner VARCHAR(10), manager VARCHAR(10)",
            &pairs("May", "May"),
        );
        wh.table(
            "regions",
            "name VARCHAR(10), region VARCHAR(10)",
            &pairs("EMEA", "NA"),
        );
        kpi::data::adbc::disconnect();
        let dir = temp_dir("lookup-unmatched-db");
        let spec = dir.join("s.yaml");
        let table = |t: &str| format!("{{connection: wh, table: {}.{t}}}", wh.schema);
        std::fs::write(
            &spec,
            format!(
                "{}datasets:\n  deals:\n    source: {}\n    dimensions: {{rep: lower(owner)}}\n    lookups:\n      - {{dataset: teams, on: owner}}\n      - {{dataset: regions, on: {{left: rep, right: name}}}}\n  teams: {{source: {}}}\n  regions: {{source: {}}}\nkpis:\n  n: {{dataset: deals, measure: count()}}\n",
                wh.connections_yaml(),
                table("deals"),
                table("teams"),
                table("regions")
            ),
        )
        .unwrap();
        let said = serde_json::Value::from(crate::support::checked_data_json(&spec)).to_string();
        for want in [
            "4 rows of `deals` find no row of `teams` by their `owner`: `Bob` (3 rows), `zed`;",
            "did you mean `bob`?",
            "1 row of `deals` finds no row of `regions` by its `rep` (as its `name`): `zed`;",
        ] {
            assert!(said.contains(want), "{:?}: {want} in {said}", wh.dialect);
        }
    }
}

/// A lookup whose key repeats in the database is refused, as for files.
#[test]
fn a_duplicate_lookup_key_in_the_database_is_refused() {
    let wh = Warehouse::duckdb();
    let files = checked(library());
    wh.load(&files);
    wh.run(&format!(
        "INSERT INTO {}.{} SELECT * FROM {}.{} LIMIT 1",
        wh.dialect.ident(&wh.schema),
        wh.dialect.ident("reps"),
        wh.dialect.ident(&wh.schema),
        wh.dialect.ident("reps")
    ));
    let db = checked(wh.spec(&wh.driver.display().to_string()));
    let q = Query {
        kpis: vec!["won_revenue".into()],
        by: vec!["reps.region".into()],
        ..Query::default()
    };
    let err = kpi::execute::evaluate(&db, &q).unwrap_err();
    assert_eq!(err[0].code, "kpi::duplicate_lookup_key", "{err:?}");
}

/// Connection `wh` through the driver `library` of the test services.
fn connection_with(library: &str, uri: &str, dialect: Dialect) -> ConnectionModel {
    ConnectionModel {
        name: "wh".into(),
        driver: services().join("adbc").join(library).display().to_string(),
        uri: Some(uri.into()),
        dialect,
        options: Vec::new(),
        span: Default::default(),
        base_dir: PathBuf::new(),
    }
}

/// A password in the URI never appears in what kpi prints.
#[test]
fn a_failed_connection_does_not_print_the_secret() {
    let c = connection_with(
        "libadbc_driver_postgresql.so",
        "postgresql://kpi:Sup3rSecretPw@localhost:1/kpi",
        Dialect::Postgres,
    );
    let err = kpi::data::adbc::query(&c, "SELECT 1").unwrap_err();
    assert_eq!(err.code, "kpi::connection_failed");
    let shown = format!("{} {:?}", err.message, err.help);
    assert!(!shown.contains("Sup3rSecretPw"), "{shown}");
}

/// A password written in the spec is warned about, and no output shows it:
/// the messages quote the spec's line with the password blanked (they
/// printed the line as written, in every CI log), in every format.
#[test]
fn a_password_written_in_the_spec_is_never_printed() {
    let dir = temp_dir("written-password");
    let spec = dir.join("s.yaml");
    std::fs::write(
        &spec,
        "connections:\n  wh: {driver: postgresql, uri: 'postgresql://kpi:Sup3rSecretPw@localhost:1/kpi'}\n\
         datasets:\n  deals: {source: {connection: wh, table: deals}}\n\
         kpis:\n  n: {dataset: deals, measure: count()}\n",
    )
    .unwrap();
    let spec = spec.to_str().unwrap();
    let runs: &[&[&str]] = &[
        &["check"],
        &["check", "--data"],
        &["check", "--format", "json"],
        &["check", "--format", "github"],
        &["check", "--format", "sarif"],
        &["eval"],
        &["sql", "--dialect", "postgres"],
    ];
    let mut warned = false;
    for args in runs {
        let mut all = vec!["--spec", spec];
        all.extend_from_slice(args);
        let out = std::process::Command::new(kpi_bin())
            .args(&all)
            .env("KPI_ADBC_PATH", services().join("adbc"))
            .output()
            .unwrap();
        let shown = printed(&out);
        assert!(!shown.contains("Sup3rSecretPw"), "{args:?}: {shown}");
        warned |= shown.contains("kpi::secret_in_spec");
    }
    assert!(warned, "the password is warned about");
}

/// A PostgreSQL server that takes the connection and never answers (a hung
/// server, a proxy with nothing behind it) is given up on after libpq's
/// `connect_timeout` of 10 seconds, once per run: without it kpi waited
/// forever; and `eval`, which reads the table's columns before its scan,
/// waited twice.
#[test]
fn a_silent_database_is_given_up_on_once() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let dir = temp_dir("silent-postgresql");
    let spec = dir.join("s.yaml");
    std::fs::write(
        &spec,
        format!(
            "connections:\n  wh: {{driver: postgresql, uri: \"postgresql://kpi:pw@127.0.0.1:{port}/kpi\"}}\ndatasets:\n  deals: {{source: {{connection: wh, table: deals}}}}\nkpis:\n  n: {{dataset: deals, measure: count()}}\n"
        ),
    )
    .unwrap();
    let started = std::time::Instant::now();
    let mut child = std::process::Command::new(kpi_bin())
        .arg("--spec")
        .arg(&spec)
        .arg("eval")
        .env("KPI_ADBC_PATH", services().join("adbc"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > std::time::Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("kpi still waits for the silent server after a minute");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let waited = started.elapsed();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("kpi::connection_failed") && stderr.contains("timeout expired"),
        "{stderr}"
    );
    // One timeout, not one for the columns and another for the scan.
    assert!(waited < std::time::Duration::from_secs(19), "waited {waited:?}");
    drop(silent);
}

/// Spark Connect's driver reaches its server only at the first statement:
/// a server that is not there is still a connection that failed, said of
/// the connection, not a query the database refused.
#[test]
fn an_absent_spark_server_is_a_failed_connection() {
    let c = connection_with("libadbc_driver_spark.so", "sc://127.0.0.1:1", Dialect::Spark);
    let err = kpi::data::adbc::query(&c, "SELECT 1").unwrap_err();
    assert_eq!(err.code, "kpi::connection_failed", "{}", err.message);
    assert!(
        err.message.starts_with("cannot connect to `wh`"),
        "{}",
        err.message
    );
}

/// A DuckDB or SQLite `uri` is a file, found from the spec file's folder
/// as every path of a spec is (kpi runs from the repository root here), as
/// is a driver library given by a relative path;
/// one that is not there is refused, and no empty database is left behind.
#[test]
fn a_local_database_is_found_from_the_spec_and_never_made() {
    for wh in [Warehouse::duckdb(), Warehouse::sqlite()] {
        let rows = ["('ann', 10)".to_string(), "('bob', 5.5)".to_string()];
        wh.table("deals", "owner TEXT, amount DOUBLE", &rows);
        kpi::data::adbc::disconnect();
        let file = PathBuf::from(wh.uri.trim_start_matches("file:").trim_end_matches("?mode=rwc"));
        let dir = file.parent().unwrap().join("kpis");
        std::fs::create_dir_all(&dir).unwrap();
        let spec = dir.join("s.yaml");
        // DuckDB's driver by a path relative to the spec (a link to the
        // services' library); SQLite's by its short name.
        let drivers = dir.join("drivers");
        std::fs::create_dir_all(&drivers).unwrap();
        let _ = std::os::unix::fs::symlink(&wh.driver, drivers.join("libduckdb.so"));
        let write = |uri: &str| {
            let driver = if wh.dialect == Dialect::DuckDb {
                "drivers/libduckdb.so"
            } else {
                "sqlite"
            };
            let text = format!(
                "connections:\n  db: {{driver: {driver}, uri: \"{uri}\"}}\ndatasets:\n  deals: {{source: {{connection: db, table: {}.deals}}}}\nkpis:\n  total: {{dataset: deals, measure: sum(amount)}}\n",
                wh.schema
            );
            std::fs::write(&spec, text).unwrap();
        };
        let adbc = services().join("adbc").display().to_string();
        let env = [("KPI_ADBC_PATH", adbc.as_str())];
        write(&format!("../{}", file.file_name().unwrap().to_str().unwrap()));
        let out = kpi_run(Some(&spec), &env, &["eval", "--format", "csv"]);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "total\n15.5\n",
            "{:?}",
            wh.dialect
        );
        // A path that names nothing: refused, and nothing made there.
        write("../missing.db");
        let out = std::process::Command::new(kpi_bin())
            .arg("--spec")
            .arg(&spec)
            .args(["eval", "--format", "csv"])
            .envs(env)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("kpi::connection_failed") && stderr.contains("there is no database file"),
            "{stderr}"
        );
        assert!(
            !file.parent().unwrap().join("missing.db").exists(),
            "{:?}",
            wh.dialect
        );
    }
}

/// `pip install adbc-driver-sqlite`, as the help of a missing driver says,
/// is enough: with no KPI_ADBC_PATH and no driver manifest, `driver: sqlite`
/// is found in the package pip installed into the active environment
/// (it was "not found").
#[test]
fn a_driver_installed_by_pip_is_found_in_the_active_environment() {
    let wh = Warehouse::sqlite();
    wh.table(
        "deals",
        "stage TEXT, amount REAL",
        &["('won', 100)", "('won', 2.5)", "('lost', 7)"].map(String::from),
    );
    kpi::data::adbc::disconnect();
    let dir = temp_dir("pip-driver");
    let package = dir.join("venv/lib/python3.11/site-packages/adbc_driver_sqlite");
    std::fs::create_dir_all(&package).unwrap();
    std::fs::copy(&wh.driver, package.join("libadbc_driver_sqlite.so")).unwrap();
    let spec = dir.join("s.yaml");
    let rest = "datasets:\n  deals: {source: {connection: lite, table: deals}}\nkpis:\n  won: {dataset: deals, measure: sum(amount where stage == \"won\")}\n";
    std::fs::write(&spec, sqlite_spec(&wh.uri, rest)).unwrap();
    let home = dir.join("home");
    let run = |venv: &std::path::Path| {
        std::process::Command::new(kpi_bin())
            .arg("--spec")
            .arg(&spec)
            .args(["eval", "--format", "csv"])
            .env_remove("KPI_ADBC_PATH")
            .env_remove("ADBC_DRIVER_PATH")
            .env_remove("CONDA_PREFIX")
            .env("VIRTUAL_ENV", venv)
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .output()
            .unwrap()
    };
    let found = run(&dir.join("venv"));
    assert!(found.status.success(), "{}", printed(&found));
    assert_eq!(String::from_utf8_lossy(&found.stdout), "won\n102.5\n");
    let elsewhere = run(&dir.join("another-venv"));
    assert_eq!(elsewhere.status.code(), Some(1));
    let said = String::from_utf8_lossy(&elsewhere.stderr);
    assert!(
        said.contains("kpi::driver_not_found") && said.contains("pip install adbc-driver-sqlite"),
        "{said}"
    );
}

/// A driver that is not installed names the package that provides it.
#[test]
fn a_missing_driver_names_its_package() {
    let c = ConnectionModel {
        name: "wh".into(),
        driver: "snowflake".into(),
        uri: Some("user@account/db".into()),
        dialect: Dialect::Snowflake,
        options: Vec::new(),
        span: Default::default(),
        base_dir: PathBuf::new(),
    };
    let err = kpi::data::adbc::query(&c, "SELECT 1").unwrap_err();
    assert_eq!(err.code, "kpi::driver_not_found");
    assert!(
        err.help
            .as_deref()
            .unwrap_or("")
            .contains("adbc-driver-snowflake"),
        "{err:?}"
    );
}

/// A derived KPI over a KPI on a connection and one on files: each unit
/// runs where its data is, and the derived value is the files' value.
#[test]
fn a_derived_kpi_combines_a_connection_and_files() {
    let wh = Warehouse::duckdb();
    let files = checked(library());
    wh.load(&files);
    // Deals in the database; leads (and the rest) stay in files.
    let mut mixed = library();
    for f in &mut mixed {
        let text = String::from_utf8(f.bytes.clone()).unwrap();
        f.bytes = text
            .replace(
                "source: ../examples/data/deals.csv",
                &format!("source: {{connection: wh, table: {}.deals}}", wh.schema),
            )
            .into_bytes();
    }
    mixed.push(InputFile {
        name: "connections.yaml".into(),
        bytes: format!(
            "connections:\n  wh: {{driver: \"{}\", uri: \"{}\", dialect: duckdb}}\nkpis:\n  leads_per_won: {{measure: lead_count / won_deals}}\n",
            wh.driver.display(),
            wh.uri
        )
        .into_bytes(),
        base_dir: root().join("kpis"),
    });
    let outcome = kpi::check_loaded(kpi::spec::load_files(mixed), false);
    // The lookup of reps from deals now crosses places: said, and nothing else.
    let codes: Vec<&str> = outcome
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.code)
        .collect();
    assert!(
        !codes.is_empty() && codes.iter().all(|c| *c == "kpi::lookup_across_sources"),
        "{codes:?}"
    );
    let mut model = outcome.checked.model;
    for d in &mut model.datasets {
        d.lookups.clear();
    }
    let mut with_derived = library();
    with_derived.push(InputFile {
        name: "extra.yaml".into(),
        bytes: b"kpis:\n  leads_per_won: {measure: lead_count / won_deals}\n".to_vec(),
        base_dir: root().join("kpis"),
    });
    let files = checked(with_derived);
    let q = Query {
        kpis: vec!["leads_per_won".into(), "won_deals".into(), "lead_count".into()],
        grain: Grain::Quarter,
        ..Query::default()
    };
    let a = kpi::execute::evaluate(&files, &q).unwrap();
    let b = kpi::execute::evaluate(&model, &q).unwrap();
    assert_same("derived across places", &a.table(&files), &b.table(&model));
}

/// `kpi test` replaces datasets with inline rows and runs on Polars: a
/// spec whose datasets live in a warehouse is tested without its driver.
#[test]
fn spec_tests_run_offline_without_the_driver() {
    let wh = Warehouse::duckdb();
    let files = wh.spec("snowflake");
    let outcome = kpi::check_loaded(kpi::spec::load_files(files), false);
    assert_eq!(outcome.errors(), 0, "{:?}", outcome.diagnostics);
    let results = kpi::spec_test::run(&outcome.spec, &outcome.checked.model, &outcome.sources, &[]);
    assert!(results.len() >= 5, "{} tests", results.len());
    for r in &results {
        assert!(r.passed, "{}: {:?}", r.name, r.failures);
    }
}

/// The library in a new folder, each source `{at}NAME.{ext}` where it was
/// `../examples/data/NAME.csv`.
fn library_in_store(at: &str, ext: &str) -> PathBuf {
    let spec = temp_dir("store-spec");
    for f in library() {
        let text = String::from_utf8(f.bytes).unwrap();
        let mut out = String::new();
        for line in text.lines() {
            match line.trim_start().strip_prefix("source: ../examples/data/") {
                Some(rest) => {
                    let indent = &line[..line.len() - line.trim_start().len()];
                    let name = rest.trim_end_matches(".csv");
                    out.push_str(&format!("{indent}source: {at}{name}.{ext}\n"));
                }
                None => out.push_str(&format!("{line}\n")),
            }
        }
        let name = std::path::Path::new(&f.name).file_name().unwrap().to_owned();
        std::fs::write(spec.join(name), out).unwrap();
    }
    spec
}

/// The files of `dir` uploaded to `bucket` of `store` under `data/`, and
/// the library over them (as `ext` files) gives the output of the library
/// over its own files; the variables that reach the store.
fn library_in_store_reads_as_files(
    store: Store,
    bucket: &str,
    dir: &Path,
    ext: &str,
) -> Vec<(&'static str, String)> {
    let args = [
        "eval", "--by", "owner", "--grain", "month", "--format", "csv", "-q",
    ];
    let files = kpi_run(None, &[], &args);
    assert!(files.stdout.len() > 10_000);
    let env = store.upload(bucket, dir, "data/");
    let spec = library_in_store(&format!("{}://{bucket}/data/", store.scheme()), ext);
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let stored = kpi_run(Some(&spec), &pairs, &args);
    assert_eq!(
        String::from_utf8_lossy(&files.stdout),
        String::from_utf8_lossy(&stored.stdout),
        "the same numbers from {store:?}"
    );
    env
}

/// `kpi eval --format csv` of the spec `text` (written to `path`), with
/// `env`: its standard output.
fn stored_eval(path: &Path, text: &str, env: &[(&str, &str)]) -> String {
    std::fs::write(path, text).unwrap();
    let out = kpi_run(Some(path), env, &["eval", "--format", "csv"]);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Parquet in object storage (S3, Google Cloud Storage and Azure Blob
/// Storage endpoints on loopback): the library over `s3://`, `gs://` and
/// `az://` sources gives the files' output, credentials from each store's
/// usual environment variables (`gs://` and `az://` were refused: the
/// reader was built for S3 alone).
#[test]
fn parquet_in_object_storage_gives_the_numbers_of_the_files() {
    let dir = temp_dir("store-parquet");
    kpi::data::write_parquet(&kpi::generate::generate(3_000, 42), &dir).unwrap();
    for store in Store::ALL {
        library_in_store_reads_as_files(store, &format!("kpi-{}", std::process::id()), &dir, "parquet");
    }
}

/// CSV and NDJSON in object storage (CSV and gzipped NDJSON were refused,
/// `kpi::csv_in_object_storage`): the library over the example CSV files
/// in each store gives the output of the same files on disk, a glob of a
/// `;`-separated Latin-1 file with decimal commas and a gzipped one reads
/// as the local files would, and so does a glob of gzipped NDJSON, a byte
/// order mark in one. By hand: 5.5 + 7 + 1.25 = 13.75 over 3 rows, one of
/// them José's; 5 + 7.5 + 1 = 13.5 over 3 records, 2 with a `who`.
#[test]
fn csv_and_gzip_in_object_storage_give_the_numbers_of_the_files() {
    let data = root().join("examples/data");
    let few = temp_dir("store-csv-few");
    let latin: Vec<u8> = "name;amount\nJos\u{e9};5,5\nann;7\n"
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap())
        .collect();
    std::fs::write(few.join("few.csv"), latin).unwrap();
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut z, b"name;amount\nbob;1,25\n").unwrap();
    std::fs::write(few.join("few2.csv.gz"), z.finish().unwrap()).unwrap();
    let gzipped = |text: &str| {
        let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut z, text.as_bytes()).unwrap();
        z.finish().unwrap()
    };
    let events = [
        "{\"amount\": 5, \"closed_at\": \"2025-01-02\", \"who\": \"ann\"}\n{\"amount\": 7.5, \"closed_at\": \"2025-02-03\"}\n",
        "\u{feff}{\"amount\": 1, \"closed_at\": \"2025-02-09\", \"who\": \"bob\"}\n",
    ];
    for (i, text) in events.iter().enumerate() {
        std::fs::write(few.join(format!("ev{i}.ndjson.gz")), gzipped(text)).unwrap();
    }
    // Plain NDJSON typed from every record, as on disk (Polars' reader of
    // objects stopped at `true` and `3` in one field), and a file of blank
    // lines: no rows.
    std::fs::write(
        few.join("pl0.ndjson"),
        "{\"amount\": 2, \"closed_at\": \"2025-01-05\", \"flag\": true}\n{\"amount\": 3, \"closed_at\": \"2025-02-05\", \"flag\": 3}\n",
    )
    .unwrap();
    std::fs::write(few.join("pl1.ndjson"), "\n\n").unwrap();
    for store in Store::ALL {
        let env =
            library_in_store_reads_as_files(store, &format!("kpi-csv-{}", std::process::id()), &data, "csv");
        let few_bucket = format!("kpi-csv-few-{}", std::process::id());
        store.upload(&few_bucket, &few, "few/");
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let small = temp_dir("store-csv-small").join("s.yaml");
        let at = format!("{}://{few_bucket}/few", store.scheme());
        let glob = format!("datasets:\n  d: {{source: \"{at}/few*\", format: csv, read: {{delimiter: \";\", decimal_comma: true, encoding: latin-1}}}}\nkpis:\n  total: {{dataset: d, measure: sum(amount)}}\n  rows: {{dataset: d, measure: count()}}\n  jose: {{dataset: d, measure: 'count(where name == \"Jos\u{e9}\")'}}\n");
        assert_eq!(
            stored_eval(&small, &glob, &env),
            "total,rows,jose\n13.75,3,1\n",
            "{store:?}"
        );
        let events = format!("datasets:\n  d: {{source: \"{at}/ev*.ndjson.gz\", time: closed_at}}\nkpis:\n  total: {{dataset: d, measure: sum(amount)}}\n  rows: {{dataset: d, measure: count()}}\n  named: {{dataset: d, measure: count(who)}}\n");
        assert_eq!(
            stored_eval(&small, &events, &env),
            "total,rows,named\n13.5,3,2\n",
            "{store:?}"
        );
        let plain = format!("datasets:\n  d: {{source: \"{at}/pl*.ndjson\", time: closed_at}}\nkpis:\n  total: {{dataset: d, measure: sum(amount)}}\n  flags: {{dataset: d, measure: count_distinct(flag)}}\n  last: {{dataset: d, measure: max(closed_at)}}\n");
        assert_eq!(
            stored_eval(&small, &plain, &env),
            "total,flags,last\n5,2,2025-02-05\n",
            "{store:?}"
        );
    }
}

/// `kpi diff --values` evaluates both versions over one version's data,
/// here tables in a database: an unchanged KPI does not move, a changed one
/// moves by exactly its change.
#[test]
fn diff_values_reads_the_tables_of_a_connection() {
    let wh = Warehouse::duckdb();
    let old = checked(library());
    wh.load(&old);
    // The database's data differs from the files': the old version must
    // still be evaluated over the database's.
    wh.run(&format!(
        "DELETE FROM {}.{} WHERE {} = 'rep_001'",
        wh.dialect.ident(&wh.schema),
        wh.dialect.ident("deals"),
        wh.dialect.ident("owner")
    ));
    let mut changed = wh.spec(&wh.driver.display().to_string());
    for f in &mut changed {
        let text = String::from_utf8(f.bytes.clone()).unwrap();
        f.bytes = text
            .replace(
                "measure: sum(amount where stage == \"won\")",
                "measure: sum(amount * 2 where stage == \"won\")",
            )
            .into_bytes();
    }
    let new = checked(changed);
    let q = Query {
        grain: Grain::Year,
        ..Query::default()
    };
    let kpis = vec!["won_revenue".to_string(), "win_rate".to_string()];
    let both = kpi::diff::values::on_one_data((&old, &new), kpi::diff::values::DataFrom::New);
    let moved = kpi::diff::values::values((&both.0, &both.1), (&kpis, &[]), &q).unwrap();
    assert!(moved.len() >= 3, "{moved:?}");
    for m in &moved {
        assert_eq!(m.kpi, "won_revenue");
        let (a, b) = (m.old.unwrap(), m.new.unwrap());
        assert!((b - 2.0 * a).abs() <= 1e-6 * a.abs(), "{m:?}");
    }
}

/// A stock's level by month leaves out the rows never active (`from <= d
/// < to` on no day): one without a start, one that ends before it starts,
/// one that ends the day it starts. Their ends were once subtracted from
/// every later month. A row that ends the day it starts still dates the
/// data: dee's in April makes April a month of the spine, and dee a
/// group, both at level 0 (they were left out with it). The same
/// hand-computed levels over files and in each database.
#[test]
fn a_stock_leaves_out_rows_never_active() {
    let kpis = "kpis:\n  \
                active_subs: {dataset: subs, measure: count(), active: {from: started_at, to: ended_at}}\n  \
                active_mrr: {dataset: subs, measure: sum(mrr), active: {from: started_at, to: ended_at}}\n";
    let models = subs_everywhere(
        "stock-never-active",
        "owner,started_at,ended_at,mrr\n\
         ann,2025-01-10,,100\n\
         bob,2025-01-05,2025-02-15,50\n\
         ann,,2025-02-01,30\n\
         cy,2025-03-05,2025-01-20,70\n\
         bob,2025-02-10,2025-02-10,20\n\
         cy,2025-02-20,2025-03-31,10\n\
         dee,2025-04-02,2025-04-02,40\n",
        kpis,
    );
    // Active at each month's end: Jan ann 100 and bob 50; Feb ann 100 and
    // cy 10 (bob ended the 15th); Mar ann 100 (cy ends on the 31st).
    let by_month = [
        ("2025-01", 2.0, 150.0),
        ("2025-02", 2.0, 110.0),
        ("2025-03", 1.0, 100.0),
        ("2025-04", 1.0, 100.0),
    ];
    let by_owner = [
        ("ann", "2025-01", 1.0, 100.0),
        ("ann", "2025-02", 1.0, 100.0),
        ("ann", "2025-03", 1.0, 100.0),
        ("ann", "2025-04", 1.0, 100.0),
        ("bob", "2025-01", 1.0, 50.0),
        ("bob", "2025-02", 0.0, 0.0),
        ("bob", "2025-03", 0.0, 0.0),
        ("bob", "2025-04", 0.0, 0.0),
        ("cy", "2025-01", 0.0, 0.0),
        ("cy", "2025-02", 1.0, 10.0),
        ("cy", "2025-03", 0.0, 0.0),
        ("cy", "2025-04", 0.0, 0.0),
        ("dee", "2025-01", 0.0, 0.0),
        ("dee", "2025-02", 0.0, 0.0),
        ("dee", "2025-03", 0.0, 0.0),
        ("dee", "2025-04", 0.0, 0.0),
    ];
    let levels = |model: &Model, by: &[&str], what: &str| {
        evaluated(model, &["active_subs", "active_mrr"], by, Grain::Month, what)
    };
    let want_month: Vec<Vec<String>> = by_month
        .iter()
        .map(|(p, n, m)| vec![p.to_string(), format!("{n:.6}"), format!("{m:.6}")])
        .collect();
    let want_owner: Vec<Vec<String>> = by_owner
        .iter()
        .map(|(o, p, n, m)| vec![o.to_string(), p.to_string(), format!("{n:.6}"), format!("{m:.6}")])
        .collect();
    for (what, model) in &models {
        assert_eq!(levels(model, &[], what), want_month, "{what} by month");
        assert_eq!(levels(model, &["owner"], what), want_owner, "{what} by owner");
    }
}

/// A stock's levels by month within a range that starts and ends inside
/// a month (January 10 to March 15): March's level at its end is the
/// level on the 15th, not on the 31st, and `at: start` in January is the
/// level on the 9th (the day before the range), as January's and March's
/// rows hold only their days in the range. bob, whose only row starts
/// after the range, is no group (he was one, at 0, from a later day's
/// row). The same hand-computed levels over files and in each database.
#[test]
fn a_stocks_levels_are_taken_within_the_range() {
    assert_mrr_levels_within(
        "stock-within-range",
        "owner,started_at,ended_at,mrr\n\
         ann,2024-12-01,,100\n\
         ann,2025-01-05,2025-02-20,10\n\
         bob,2025-03-20,,20\n\
         ann,2025-03-10,2025-03-25,30\n\
         ann,2025-03-16,,40\n",
        ("2025-01-10", "2025-03-15"),
        Grain::Month,
        // At the end: Jan 31 100 + 10; Feb 28 100 (the 10 ended the 20th);
        // Mar 15 100 + 30 (the 40 starts the 16th). At the start: Jan 9
        // 100 + 10 (started the 5th); Jan 31 110; Feb 28 100.
        &[
            ["ann", "2025-01", "110.000000", "110.000000"],
            ["ann", "2025-02", "100.000000", "110.000000"],
            ["ann", "2025-03", "130.000000", "100.000000"],
        ],
    );
}

/// A range from the first day there is, 0001-01-01 (the "no start" some
/// systems write, or a report's breakdown as of a day), takes `at: start`
/// levels the day before it, which PostgreSQL writes as a year BC (it has
/// no year 0): nothing is active then, not even the row that starts on
/// that first day. At the range's end, January 31, ann's 100 (since the
/// first day) and bob's 10 are.
#[test]
fn a_stock_at_the_start_of_the_first_day_there_is() {
    assert_mrr_levels_within(
        "stock-first-day",
        "owner,started_at,ended_at,mrr\n\
         ann,0001-01-01,,100\n\
         bob,2025-01-05,2025-02-20,10\n",
        ("0001-01-01", "2025-01-31"),
        Grain::All,
        &[
            ["ann", "100.000000", "0.000000"],
            ["bob", "10.000000", "0.000000"],
        ],
    );
}

/// The spread of equal values is 0, never a residue of rounding: the
/// standard deviation of eleven rows of 0.05 was 7.3e-18 on files (Polars
/// works out one group's variance from a mean that rounds to
/// 0.049999999999999996) and 5.9e-18 in PostgreSQL, so `1 / stddev(mrr)`
/// read 1.4e17 where it divides by zero (null); by owner files gave 0,
/// as DuckDB does everywhere. By hand: 0 over all eleven and over ann's
/// ten; bob's one value has no spread (null); the inverse of 0 is null.
#[test]
fn the_spread_of_equal_values_is_zero_everywhere() {
    let csv = format!(
        "owner,started_at,ended_at,mrr\n{}bob,2025-01-01,,0.05\n",
        "ann,2025-01-01,,0.05\n".repeat(10)
    );
    let kpis = "kpis:\n  \
                spread: {dataset: subs, measure: stddev(mrr)}\n  \
                inverse: {dataset: subs, measure: 1 / stddev(mrr)}\n";
    // SQLite has no exact standard deviation (`kpi::not_exact_in_dialect`).
    let warehouses = [Warehouse::duckdb(), Warehouse::postgres()];
    for (what, model) in subs_in("equal-spread", &csv, kpis, warehouses) {
        let whole = evaluated(&model, &["spread", "inverse"], &[], Grain::All, &what);
        assert_eq!(whole, [["0.000000", "NaN"]], "{what}");
        let by_owner = evaluated(&model, &["spread", "inverse"], &["owner"], Grain::All, &what);
        assert_eq!(
            by_owner,
            [["ann", "0.000000", "NaN"], ["bob", "NaN", "NaN"]],
            "{what}"
        );
    }
}

/// `mrr` (a level at each period's end) and `opening_mrr` (at its start)
/// by owner over the `subs.csv` rows `csv`, from `range.0` to `range.1` at
/// `grain`, over files and in each database, are the rows `want`.
fn assert_mrr_levels_within<const N: usize>(
    name: &str,
    csv: &str,
    range: (&str, &str),
    grain: Grain,
    want: &[[&str; N]],
) {
    let kpis = "kpis:\n  \
                mrr: {dataset: subs, measure: sum(mrr), active: {from: started_at, to: ended_at}}\n  \
                opening_mrr: {dataset: subs, measure: sum(mrr), active: {from: started_at, to: ended_at}, at: start}\n";
    let range = Period {
        start: Date::parse(range.0).unwrap(),
        end: Date::parse(range.1).unwrap(),
    };
    for (what, model) in subs_everywhere(name, csv, kpis) {
        let got = evaluated_in(
            &model,
            &["mrr", "opening_mrr"],
            &["owner"],
            grain,
            Some(range),
            &what,
        );
        assert_eq!(got, want, "{what}");
    }
}

/// `subs.csv` (`owner`, `started_at`, `ended_at`, `mrr`) in a fresh folder
/// with the spec `kpis` over it, as files and loaded into DuckDB,
/// PostgreSQL and SQLite: each model named by where its data is.
fn subs_everywhere(name: &str, csv: &str, kpis: &str) -> Vec<(String, Model)> {
    let warehouses = [Warehouse::duckdb(), Warehouse::postgres(), Warehouse::sqlite()];
    subs_in(name, csv, kpis, warehouses)
}

/// [`subs_everywhere`] in `warehouses` alone.
fn subs_in<const N: usize>(
    name: &str,
    csv: &str,
    kpis: &str,
    warehouses: [Warehouse; N],
) -> Vec<(String, Model)> {
    let dir = temp_dir(name);
    std::fs::write(dir.join("subs.csv"), csv).unwrap();
    let columns = "columns: {owner: string, started_at: date, ended_at: date, mrr: number}";
    let spec = |source: &str, connection: &str| {
        checked(vec![InputFile {
            name: "kpis.yaml".into(),
            bytes: format!("{connection}datasets:\n  subs:\n    source: {source}\n    {columns}\n{kpis}")
                .into_bytes(),
            base_dir: dir.clone(),
        }])
    };
    let files = spec("subs.csv", "");
    let mut out = Vec::new();
    for wh in warehouses {
        wh.load(&files);
        let table = format!("{{connection: wh, table: {}.subs}}", wh.schema);
        out.push((format!("{:?}", wh.dialect), spec(&table, &wh.connections_yaml())));
    }
    out.insert(0, ("files".to_string(), files));
    out
}

/// The rows of `kpis` by `by` and `grain`, as texts (a null as "",
/// numbers to six places).
fn evaluated(model: &Model, kpis: &[&str], by: &[&str], grain: Grain, what: &str) -> Vec<Vec<String>> {
    evaluated_in(model, kpis, by, grain, None, what)
}

/// [`evaluated`] over `range`.
fn evaluated_in(
    model: &Model,
    kpis: &[&str],
    by: &[&str],
    grain: Grain,
    range: Option<Period>,
    what: &str,
) -> Vec<Vec<String>> {
    let q = Query {
        kpis: kpis.iter().map(|k| k.to_string()).collect(),
        by: by.iter().map(|b| b.to_string()).collect(),
        grain,
        range,
        ..Query::default()
    };
    let t = kpi::execute::evaluate(model, &q)
        .unwrap_or_else(|d| panic!("{what}: {d:?}"))
        .table(model);
    t.rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    Cell::Text(t) => t.clone().unwrap_or_default(),
                    Cell::Number(n) => format!("{:.6}", n.unwrap_or(f64::NAN)),
                })
                .collect()
        })
        .collect()
}

/// Hand-computed rows of texts, as [`evaluated`] prints them.
fn texts<const N: usize>(rows: &[(&str, [f64; N])]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|(label, v)| {
            std::iter::once(label.to_string())
                .chain(v.iter().map(|x| format!("{x:.6}")))
                .collect()
        })
        .collect()
}

/// Leads looking up their deals by a computed key (`upper(deal_id)`): a
/// lead without a key and one whose key is no deal match nothing, the two
/// deals without a key are no repeated key and match no lead without one,
/// a deal looked up by two leads counts for both; calls look up the same
/// deals. The same hand-computed values over CSV, over Parquet read two
/// rows at a time, and in DuckDB and PostgreSQL.
#[test]
fn a_lookup_finds_each_rows_key_whatever_reads_the_rows() {
    let dir = temp_dir("lookup-keys");
    std::fs::write(
        dir.join("deals.csv"),
        "deal_id,stage,amount,region\n\
         D1,won,100,north\n\
         D2,lost,50,south\n\
         ,won,999,north\n\
         D3,won,,north\n\
         D4,open,30,\n\
         ,lost,999,south\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("leads.csv"),
        "lead_id,deal_id,owner,created_at\n\
         L1,d1,ann,2025-01-05\n\
         L2,D2,ann,2025-01-20\n\
         L3,d3,bob,2025-01-25\n\
         L4,,bob,2025-02-03\n\
         L5,D9,ann,2025-02-10\n\
         L6,D1,cy,2025-02-15\n\
         L7,d4,cy,2025-03-01\n",
    )
    .unwrap();
    // Calls look up the same deals on the same key: one read serves both.
    std::fs::write(
        dir.join("calls.csv"),
        "call_id,deal_id,at\nC1,D1,2025-01-07\nC2,D2,2025-01-08\nC3,D1,2025-02-01\nC4,,2025-02-02\n",
    )
    .unwrap();
    let kpis = ["leads_n", "won_leads", "deal_amount", "won_calls", "north_calls"];
    let spec = |[leads, deals, calls]: [&str; 3], connection: &str| {
        format!(
            "{connection}datasets:\n  \
             leads:\n    source: {leads}\n    time: created_at\n    \
             columns: {{lead_id: string, deal_id: string, owner: string, created_at: date}}\n    \
             dimensions: {{deal_key: upper(deal_id)}}\n    \
             lookups: [{{dataset: deals, on: {{left: deal_key, right: deal_id}}}}]\n  \
             deals:\n    source: {deals}\n    columns: {{deal_id: string, stage: string, amount: number, region: string}}\n  \
             calls:\n    source: {calls}\n    time: at\n    columns: {{call_id: string, deal_id: string, at: date}}\n    \
             lookups: [{{dataset: deals, on: deal_id}}]\n\
             kpis:\n  \
             leads_n: {{dataset: leads, measure: count()}}\n  \
             won_leads: {{dataset: leads, measure: count(where deals.stage == \"won\")}}\n  \
             deal_amount: {{dataset: leads, measure: sum(deals.amount)}}\n  \
             won_calls: {{dataset: calls, measure: count(where deals.stage == \"won\")}}\n  \
             north_calls: {{dataset: calls, measure: count(where deals.region == \"north\")}}\n"
        )
    };
    let model = |text: String| {
        checked(vec![InputFile {
            name: "kpis.yaml".into(),
            bytes: text.into_bytes(),
            base_dir: dir.clone(),
        }])
    };
    // January: L1 (D1 won, 100), L2 (D2 lost, 50), L3 (D3 won, no amount);
    // C1 (D1, won, north), C2 (D2). February: L4 and L5 match nothing, L6
    // (D1 won, 100); C3 (D1), C4 matches nothing. March: L7 (D4, 30).
    let by_month = texts(&[
        ("2025-01", [3.0, 2.0, 150.0, 1.0, 1.0]),
        ("2025-02", [3.0, 1.0, 100.0, 1.0, 1.0]),
        ("2025-03", [1.0, 0.0, 30.0, 0.0, 0.0]),
    ]);
    // No region: L4 and L5 (no deal) and L7 (D4 has none); C4 (no deal).
    let mut by_region = texts(&[
        ("", [3.0, 0.0, 30.0, 0.0, 0.0]),
        ("north", [3.0, 3.0, 200.0, 2.0, 2.0]),
        ("south", [1.0, 0.0, 50.0, 0.0, 0.0]),
    ]);
    by_region.sort();
    let region = |m: &Model, what: &str| {
        let mut rows = evaluated(m, &kpis, &["deals.region"], Grain::All, what);
        rows.sort();
        rows
    };
    let files = model(spec(["leads.csv", "deals.csv", "calls.csv"], ""));
    assert!(kpi::data::validate_lookups(&files).is_empty());
    assert_eq!(
        evaluated(&files, &kpis, &[], Grain::Month, "files"),
        by_month,
        "files by month"
    );
    assert_eq!(region(&files, "files"), by_region, "files by region");

    // Leads as Parquet, read two rows at a time by the command line.
    let leads = files.datasets.iter().find(|d| d.name == "leads").unwrap();
    let mut df = kpi::data::scan(&kpi::data::SourceInfo::from_model(leads))
        .unwrap()
        .collect()
        .unwrap();
    ParquetWriter::new(std::fs::File::create(dir.join("leads.parquet")).unwrap())
        .finish(&mut df)
        .unwrap();
    let parquet = dir.join("parquet.yaml");
    std::fs::write(&parquet, spec(["leads.parquet", "deals.csv", "calls.csv"], "")).unwrap();
    let out = std::process::Command::new(kpi_bin())
        .env_remove("KPI_SPEC")
        .env("KPI_CHUNK_ROWS", "2")
        .args([
            "eval",
            "--spec",
            parquet.to_str().unwrap(),
            "--grain",
            "month",
            "--format",
            "json",
        ])
        .args(kpis)
        .output()
        .unwrap();
    let rows = crate::support::json_rows(&out);
    let chunked: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let mut row = vec![r["period"].as_str().unwrap_or("?").to_string()];
            row.extend(
                kpis.iter()
                    .map(|k| format!("{:.6}", r[*k].as_f64().unwrap_or(f64::NAN))),
            );
            row
        })
        .collect();
    assert_eq!(chunked, by_month, "Parquet in chunks of two rows by month");

    for wh in [Warehouse::duckdb(), Warehouse::postgres(), Warehouse::sqlite()] {
        wh.load(&files);
        let connection = wh.connections_yaml();
        let table = |t: &str| format!("{{connection: wh, table: {}.{t}}}", wh.schema);
        let db = model(spec(
            [&table("leads"), &table("deals"), &table("calls")],
            &connection,
        ));
        let what = format!("{:?}", wh.dialect);
        assert_eq!(
            evaluated(&db, &kpis, &[], Grain::Month, &what),
            by_month,
            "{what} by month"
        );
        assert_eq!(region(&db, &what), by_region, "{what} by region");
    }
}

/// Parquet files as warehouses write them: decimal amounts and small
/// unsigned counts are numbers; a column of a type kpi cannot read (an
/// interval) is an error naming it, not a crash.
#[test]
fn parquet_columns_of_warehouse_types() {
    let wh = Warehouse::duckdb();
    let dir = temp_dir("parquet-types");
    let values = "(1.5::DECIMAL(10,2), 3::UTINYINT, 7::SMALLINT, DATE '2025-01-01'), \
                  (2.25::DECIMAL(10,2), 4::UTINYINT, -2::SMALLINT, DATE '2025-02-01')";
    let tables = [
        (
            "numbers",
            format!("SELECT * FROM (VALUES {values}) t(amount, n, m, closed_at)"),
        ),
        (
            "interval",
            "SELECT 1.5 AS amount, INTERVAL 3 DAY AS wait, DATE '2025-01-01' AS closed_at".to_string(),
        ),
    ];
    for (name, select) in &tables {
        let file = dir.join(format!("{name}.parquet"));
        wh.run(&format!(
            "COPY ({select}) TO '{}' (FORMAT parquet)",
            file.display()
        ));
    }
    let spec = |file: &str| {
        let path = dir.join(format!("{file}.yaml"));
        std::fs::write(
            &path,
            format!(
                "datasets:\n  d: {{source: {file}.parquet, time: closed_at}}\nkpis:\n  total: {{dataset: d, measure: sum(amount)}}\n  counts: {{dataset: d, measure: sum(n + m)}}\n"
            ),
        )
        .unwrap();
        path
    };
    // 1.5 + 2.25; (3 + 7) + (4 - 2).
    let path = spec("numbers");
    let out = crate::support::kpi(&["--spec", path.to_str().unwrap(), "eval", "--format", "csv"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "total,counts\n3.75,12\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = spec("interval");
    let out = crate::support::kpi(&[
        "--spec",
        path.to_str().unwrap(),
        "eval",
        "total",
        "--format",
        "csv",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("kpi::unreadable_column_type")
            && err.contains("column `wait`")
            && err.contains("is an interval"),
        "{err}"
    );
}

/// `kpi -q eval ARGS --format csv` of the spec `s.yaml` in `dir`: its
/// standard output, the run having succeeded.
fn eval_csv(dir: &Path, args: &[&str]) -> String {
    let mut all = vec!["--spec", "s.yaml", "-q", "eval"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "csv"]);
    let (code, out, err) = kpi_in(dir, &all);
    assert_eq!(code, Some(0), "{err}");
    out
}

/// Runs `script` with the Python beside the services (it has pyarrow,
/// which writes Parquet as pandas does) in `dir`.
fn pyarrow(dir: &Path, script: &str) {
    let out = std::process::Command::new(services().join("venv/bin/python"))
        .current_dir(dir)
        .arg("-c")
        .arg(format!(
            "import pyarrow as pa, pyarrow.parquet as pq, datetime as dt\n{script}"
        ))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// A result file opens in every pyarrow: its footer's Arrow schema names
/// texts as `large_string`, not the string views Polars holds (pyarrow
/// before 15, and pandas over it, stop at "Unrecognized type: 24"), and the
/// values read back are those of the CSV output.
#[test]
fn result_parquet_names_texts_as_every_reader_knows_them() {
    let dir = temp_dir("result-arrow-schema");
    let out = dir.join("out.parquet");
    let query = [
        "-q",
        "eval",
        "won_revenue",
        "win_rate",
        "--by",
        "owner",
        "--grain",
        "quarter",
    ];
    let run = |to: &[&str]| {
        let (code, stdout, err) = kpi_in(&root(), &[&query[..], to].concat());
        assert_eq!(code, Some(0), "{err}");
        stdout
    };
    std::fs::write(dir.join("want.csv"), run(&["--format", "csv"])).unwrap();
    run(&["-o", out.to_str().unwrap()]);
    pyarrow(
        &dir,
        "import csv, math\n\
         schema = pq.read_schema('out.parquet')\n\
         types = {f.name: str(f.type) for f in schema}\n\
         assert types == {'owner': 'large_string', 'period': 'large_string', 'won_revenue': 'double', 'win_rate': 'double'}, types\n\
         got = pq.read_table('out.parquet').to_pylist()\n\
         want = list(csv.DictReader(open('want.csv')))\n\
         assert len(got) == len(want) > 0, (len(got), len(want))\n\
         for g, w in zip(got, want):\n\
         \x20   assert (g['owner'], g['period']) == (w['owner'], w['period']), (g, w)\n\
         \x20   for k in ['won_revenue', 'win_rate']:\n\
         \x20       assert (g[k] is None) == (w[k] == ''), (k, g, w)\n\
         \x20       assert g[k] is None or math.isclose(g[k], float(w[k]), rel_tol=1e-12), (k, g, w)\n",
    );
}

/// A Parquet column of unsigned 64-bit integers above `i64::MAX`
/// (identifiers, hashes): its extremes and distinct values count them (a
/// cast to 64-bit signed integers made them nulls, so `max` gave the
/// largest of the others and `count_distinct` left them out).
#[test]
fn parquet_uint64_columns_keep_their_large_values() {
    let dir = temp_dir("uint64");
    pyarrow(
        &dir,
        "u = pa.array([2**63 + 5, 2**63 + 5, 7, 2**64 - 1, None, 3], pa.uint64())\n\
         pq.write_table(pa.table({'g': ['a', 'a', 'a', 'b', 'b', 'c'], 'u': u}), 'd.parquet')\n",
    );
    std::fs::write(
        dir.join("s.yaml"),
        "datasets:\n  d: {source: d.parquet}\nkpis:\n  top: {dataset: d, measure: max(u)}\n  low: {dataset: d, measure: min(u)}\n  n: {dataset: d, measure: count_distinct(u)}\n",
    )
    .unwrap();
    // Numbers are floats, printed to 15 significant digits.
    assert_eq!(
        eval_csv(&dir, &["--by", "g"]),
        "g,top,low,n\na,9223372036854780000,7,2\nb,18446744073709600000,18446744073709600000,1\nc,3,3,1\n"
    );
    assert_eq!(eval_csv(&dir, &[]), "top,low,n\n18446744073709600000,3,4\n");
}

/// A Parquet text column declared `datetime` converts as a CSV column
/// declared so does: offsets in the `read:` zone, a date alone at midnight
/// (Polars' own parse took neither: "row 1 holds `2024-01-31T23:30:00Z`"),
/// and a value that is none is named by `check --data` and by `eval`. By
/// hand, in Berlin: 23:30Z on Jan 31 is 00:30 on Feb 1, as are the date
/// alone and 10:00+01:00; 22:00Z on Jan 30 is 23:00 on Jan 30.
#[test]
fn parquet_text_declared_datetime_takes_offsets_and_dates_alone() {
    let dir = temp_dir("parquet-text-datetimes");
    pyarrow(
        &dir,
        "at = ['2024-01-31T23:30:00Z', '2024-02-01', '2024-02-01 10:00:00+01:00', None, '2024-01-30T22:00:00Z']\n\
         pq.write_table(pa.table({'at': at, 'x': [1.0, 2.0, 4.0, 8.0, 16.0]}), 'd.parquet')\n\
         pq.write_table(pa.table({'at': ['2024-01-31T23:30:00Z', '2024-02-30'], 'x': [1.0, 2.0]}), 'bad.parquet')\n",
    );
    let spec = |file: &str| {
        format!("datasets:\n  d: {{source: {file}, time: at, columns: {{at: datetime}}, read: {{timezone: Europe/Berlin}}}}\nkpis:\n  s: {{dataset: d, measure: sum(x)}}\n")
    };
    std::fs::write(dir.join("s.yaml"), spec("d.parquet")).unwrap();
    std::fs::write(dir.join("bad.yaml"), spec("bad.parquet")).unwrap();
    let (code, out, err) = kpi_in(
        &dir,
        &[
            "--spec", "s.yaml", "-q", "eval", "--grain", "day", "--format", "csv",
        ],
    );
    assert_eq!(
        (code, out.as_str()),
        (Some(0), "period,s\n2024-01-30,16\n2024-01-31,0\n2024-02-01,7\n"),
        "{err}"
    );
    let (code, _, err) = kpi_in(&dir, &["--spec", "s.yaml", "check", "--data"]);
    assert_eq!(code, Some(0), "{err}");
    for args in [
        &["--spec", "bad.yaml", "check", "--data"][..],
        &["--spec", "bad.yaml", "eval", "--grain", "day"],
    ] {
        let (code, out, err) = kpi_in(&dir, args);
        let flat = format!("{out} {err}")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(code, Some(1), "{flat}");
        assert!(flat.contains("row 2 holds `2024-02-30`"), "{flat}");
    }
}

/// A column of Arrow's `date64` (pyarrow writes Python dates so when asked)
/// is dates, as `date32` is: its maximum, its groups and comparisons with
/// date literals read as days (Polars reads it as datetimes at midnight).
#[test]
fn parquet_date64_columns_are_dates() {
    let dir = temp_dir("date64");
    pyarrow(
        &dir,
        "days = [dt.date(2024, 3, 1), dt.date(2024, 2, 29), None]\n\
         pq.write_table(pa.table({'due': pa.array(days, pa.date64()), 'closed_at': pa.array(days, pa.date32()), 'amount': [1.0, 2.0, 4.0]}), 'd.parquet')\n",
    );
    std::fs::write(
        dir.join("s.yaml"),
        "datasets:\n  d: {source: d.parquet, time: closed_at}\nkpis:\n  last_due: {dataset: d, measure: max(due)}\n  leap: {dataset: d, measure: 'sum(amount where due == @2024-02-29)'}\n",
    )
    .unwrap();
    assert_eq!(eval_csv(&dir, &[]), "last_due,leap\n2024-03-01,2\n");
    assert_eq!(
        eval_csv(&dir, &["leap", "--by", "due"]),
        "due,leap\n2024-02-29,2\n2024-03-01,0\n,0\n"
    );
    // The same file in object storage: its footer is fetched to see the
    // `date64` (read by Polars alone, it was datetimes at midnight).
    let bucket = format!("kpi-date64-{}", std::process::id());
    let env = Store::S3.upload(&bucket, &dir, "");
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    for name in ["d.parquet", "d*.parquet"] {
        let text = std::fs::read_to_string(dir.join("s.yaml"))
            .unwrap()
            .replace("d.parquet", &format!("\"s3://{bucket}/{name}\""));
        assert_eq!(
            stored_eval(&dir.join("stored.yaml"), &text, &pairs),
            "last_due,leap\n2024-03-01,2\n",
            "{name}"
        );
    }
}

/// Parquet written by pandas with categorical columns keeps them as
/// dictionaries of texts: they are texts (the file was refused whole),
/// also across a glob whose files number the texts differently.
#[test]
fn parquet_categoricals_are_texts() {
    let dir = temp_dir("categoricals");
    pyarrow(
        &dir,
        "day = dt.datetime(2025, 3, 5)\n\
         pq.write_table(pa.table({'owner': pa.array(['b', 'a', 'b']).dictionary_encode(), 'closed_at': [day] * 3, 'amount': [10.0, 20.0, 5.0]}), 'p1.parquet')\n\
         pq.write_table(pa.table({'owner': pa.array(['a', 'c', None]).dictionary_encode(), 'closed_at': [day] * 3, 'amount': [1.0, 2.0, 4.0]}), 'p2.parquet')\n\
         assert pa.types.is_dictionary(pq.read_schema('p1.parquet').field('owner').type)\n",
    );
    std::fs::write(
        dir.join("s.yaml"),
        "datasets:\n  d: {source: 'p*.parquet', time: closed_at}\nkpis:\n  total: {dataset: d, measure: sum(amount)}\n  of_a: {dataset: d, measure: sum(amount where owner == \"a\")}\n  owners: {dataset: d, measure: count_distinct(owner)}\n",
    )
    .unwrap();
    let (code, out, err) = kpi_in(
        &dir,
        &["--spec", "s.yaml", "eval", "--by", "owner", "--format", "csv"],
    );
    assert_eq!(code, Some(0), "{err}");
    // a: 20 + 1; b: 10 + 5; c: 2; no owner: 4.
    assert_eq!(
        out,
        "owner,total,of_a,owners\na,21,21,1\nb,15,0,1\nc,2,0,1\n,4,0,0\n"
    );
    let (code, out, err) = kpi_in(&dir, &["--spec", "s.yaml", "eval", "--format", "csv"]);
    assert_eq!(
        (code, out.as_str()),
        (Some(0), "total,of_a,owners\n42,21,3\n"),
        "{err}"
    );
}

/// Columns stored as times of day, durations, bytes, lists, structs or
/// decimals wider than 38 digits (their values failed to read, after `kpi
/// check --data` passed): naming one in a KPI is an error that says what the column holds (a
/// time of day was summed as nanoseconds, a duration as microseconds); a
/// file that has them still serves KPIs over its other columns, bytes
/// declared `string` are texts, and a type declared over such a column is
/// an error, not a conversion.
#[test]
fn columns_kpis_cannot_compute_with_are_named() {
    let dir = temp_dir("unusable");
    pyarrow(
        &dir,
        "import decimal\n\
         day = dt.datetime(2025, 1, 5)\n\
         pq.write_table(pa.table({\n\
           'closed_at': [day, day, day],\n\
           'amount': [1.0, 2.0, 4.0],\n\
           'at': pa.array([dt.time(10), dt.time(11, 30), None], pa.time64('us')),\n\
           'wait': pa.array([dt.timedelta(hours=1), None, dt.timedelta(hours=2)], pa.duration('us')),\n\
           'blob': pa.array([b'x', b'yy', b'x'], pa.binary()),\n\
           'tags': pa.array([['a'], ['b', 'c'], []], pa.list_(pa.string())),\n\
           'who': pa.array([{'name': 'a'}, {'name': 'b'}, None], pa.struct([('name', pa.string())])),\n\
           'wide': pa.array([decimal.Decimal('1.50'), None, decimal.Decimal('2.25')], pa.decimal256(40, 2)),\n\
         }), 'odd.parquet')\n",
    );
    let used = [
        ("at", "sum(at)", "a time of day"),
        ("wait", "avg(wait)", "a duration"),
        ("blob", "count_distinct(blob)", "bytes"),
        ("tags", "count(where tags == \"a\")", "a list"),
        ("who", "count_distinct(who)", "a struct"),
        // BigQuery's BIGNUMERIC: Polars reads decimals of up to 38 digits.
        ("wide", "sum(wide)", "a decimal of more than 38 digits"),
    ];
    let mut kpis = String::from("  total: {dataset: d, measure: sum(amount)}\n");
    for (column, measure, _) in used {
        kpis.push_str(&format!("  k_{column}: {{dataset: d, measure: '{measure}'}}\n"));
    }
    let source = "datasets:\n  d: {source: odd.parquet, time: closed_at}\nkpis:\n";
    std::fs::write(dir.join("bad.yaml"), format!("{source}{kpis}")).unwrap();
    // `kpi check` prints its diagnostics on stdout.
    let (code, err, _) = kpi_in(&dir, &["--spec", "bad.yaml", "check", "--data"]);
    assert_eq!(code, Some(1), "{err}");
    // A long message is wrapped at the terminal's width.
    let unwrapped = err.replace("\n  │ ", " ");
    for (column, _, words) in used {
        assert!(
            unwrapped.contains(&format!(
                "column `{column}` of dataset `d` is {words}, which KPIs cannot compute with"
            )),
            "{column}: {err}"
        );
    }
    assert_eq!(err.matches("kpi::unusable_column").count(), used.len(), "{err}");
    let (code, out, _) = kpi_in(&dir, &["--spec", "bad.yaml", "eval", "k_at", "--format", "csv"]);
    assert_eq!((code, out.as_str()), (Some(1), ""));
    std::fs::write(
        dir.join("total.yaml"),
        format!("{source}  total: {{dataset: d, measure: sum(amount)}}\n"),
    )
    .unwrap();
    for (column, _, words) in used {
        let (code, out, err) = kpi_in(&dir, &["--spec", "total.yaml", "eval", "--by", column]);
        assert_eq!((code, out.as_str()), (Some(1), ""), "--by {column}");
        assert!(
            err.contains(&format!("--by: column `{column}` of dataset `d` is {words}")),
            "{err}"
        );
    }

    let good = "datasets:\n  d:\n    source: odd.parquet\n    time: closed_at\n    columns: {blob: string}\nkpis:\n  total: {dataset: d, measure: sum(amount)}\n  blobs: {dataset: d, measure: count_distinct(blob)}\n";
    std::fs::write(dir.join("good.yaml"), good).unwrap();
    let (code, out, err) = kpi_in(&dir, &["--spec", "good.yaml", "eval", "--format", "csv"]);
    assert_eq!((code, out.as_str()), (Some(0), "total,blobs\n7,2\n"), "{err}");

    let declared = good
        .replace("{blob: string}", "{at: number}")
        .replace("count_distinct(blob)", "sum(at)");
    std::fs::write(dir.join("declared.yaml"), declared).unwrap();
    for command in [&["check", "--data"][..], &["eval"]] {
        let mut args = vec!["--spec", "declared.yaml"];
        args.extend_from_slice(command);
        let (code, out, err) = kpi_in(&dir, &args);
        let err = if command[0] == "check" { out } else { err };
        assert_eq!(code, Some(1), "{command:?}");
        assert!(
            err.contains("kpi::declared_type_contradicted")
                && err.contains(
                    "`at` of dataset `d` is declared number, but `odd.parquet` holds a time of day"
                ),
            "{command:?}: {err}"
        );
    }
}

/// NDJSON records with nested objects and arrays: such a field named in a
/// KPI is an error naming what it holds.
#[test]
fn ndjson_nested_fields_are_named() {
    let dir = temp_dir("ndjson-nested");
    std::fs::write(
        dir.join("d.ndjson"),
        "{\"closed_at\": \"2025-01-05\", \"amount\": 2, \"owner\": {\"name\": \"a\"}, \"tags\": [1, 2]}\n\
         {\"closed_at\": \"2025-01-06\", \"amount\": 3, \"owner\": {\"name\": \"b\"}, \"tags\": []}\n",
    )
    .unwrap();
    let spec = "datasets:\n  d:\n    source: d.ndjson\n    time: closed_at\n    columns: {closed_at: date}\nkpis:\n  total: {dataset: d, measure: sum(amount)}\n";
    std::fs::write(dir.join("good.yaml"), spec).unwrap();
    let (code, out, err) = kpi_in(&dir, &["--spec", "good.yaml", "eval", "--format", "csv"]);
    assert_eq!((code, out.as_str()), (Some(0), "total\n5\n"), "{err}");
    let bad = format!("{spec}  owners: {{dataset: d, measure: count_distinct(owner)}}\n  tagged: {{dataset: d, measure: sum(tags)}}\n");
    std::fs::write(dir.join("bad.yaml"), bad).unwrap();
    // `kpi check` prints its diagnostics on stdout.
    let (code, err, _) = kpi_in(&dir, &["--spec", "bad.yaml", "check", "--data"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("column `owner` of dataset `d` is a struct"), "{err}");
    assert!(err.contains("column `tags` of dataset `d` is a list"), "{err}");
}

const REMAINDER_KPIS: &str = "  rem: {dataset: d, measure: 'sum(x % y)'}\n  negs: {dataset: d, measure: 'count(where x % y < 0)'}\n  pw: {dataset: d, measure: 'sum(pow(x, y))'}\n  no_pw: {dataset: d, measure: 'count(where pow(x, y) is null)'}\n  per_id: {dataset: d, measure: 'sum(id * 1000 + x % y)'}\n";

/// `%` is the remainder with the dividend's sign and `pow` without a real
/// value is null, the same on files and in each database: on files `-30 %
/// 7` was 5 (the divisor's sign) where the databases gave -2, and
/// PostgreSQL stopped on the power of a negative number.
#[test]
fn remainders_and_powers_are_the_same_on_files_and_databases() {
    let rows = [
        (1, "100", "7"),
        (2, "-30", "7"),
        (3, "30", "-7"),
        (4, "-30", "-7"),
        (5, "-8", "0.5"),
        (6, "0", "-1"),
        (7, "-2", "3"),
        (8, "NULL", "2"),
    ];
    // Remainders: 2, -2, 2, -2, -0 (-8 % 0.5), 0 (0 % -1), -2, null.
    // Powers: 1e14, ≈ -2.25e10, ≈ 4.5e-11, ≈ -4.5e-11, null, null, -8, null.
    let powers = 100f64.powf(7.0) + (-30f64).powf(7.0) + 30f64.powf(-7.0) + (-30f64).powf(-7.0) - 8.0;
    let csv = dir_with_csv(&rows, REMAINDER_KPIS);
    let (code, out, err) = kpi_in(&csv, &["--spec", "s.yaml", "eval", "--format", "csv", "-q"]);
    assert_eq!(code, Some(0), "{err}");
    let want = |out: &str, what: &str| {
        let (header, values) = out.trim_end().split_once('\n').unwrap();
        let v = |name: &str| -> f64 {
            let at = header.split(',').position(|h| h == name).unwrap();
            values.split(',').nth(at).unwrap().parse().unwrap()
        };
        assert_eq!(
            (v("rem"), v("negs"), v("no_pw")),
            (-2.0, 3.0, 3.0),
            "{what}: {out}"
        );
        assert!(
            (v("pw") - powers).abs() <= 1e-9 * powers.abs(),
            "{what}: {out} {powers}"
        );
        assert_eq!(v("per_id"), 28_000.0 - 2.0, "{what}: {out}");
    };
    want(&out, "files");
    // Spark too: its `TRUNC` truncates only dates, so `%` failed there.
    let day = Date::parse("2025-01-05").unwrap();
    for wh in Warehouse::every() {
        let d = wh.dialect;
        let values: Vec<String> = rows
            .iter()
            .map(|(id, x, y)| format!("({id}, {x}, {y}, {})", d.date_lit(day)))
            .collect();
        let double = d.double_type();
        let columns = format!("id integer, x {double}, y {double}, closed_at date");
        let columns = columns.as_str();
        wh.table("powers", columns, &values);
        // The process run next opens the DuckDB file, which this one locks while connected.
        kpi::data::adbc::disconnect();
        let out = checked_then_evaluated(&wh, "powers", REMAINDER_KPIS, &[]);
        want(&out, &format!("{:?}", wh.dialect));
    }
}

/// Every row function, comparison and condition over the same five rows
/// (texts with spaces and quotes, negative and fractional numbers, a row
/// of nulls, dates across years, times): each database gives the files'
/// value of every KPI, and a few are worked out by hand.
#[test]
fn row_functions_are_the_same_on_files_and_databases() {
    let kpis = [
        ("r1", "sum(round(x, 1))"),
        ("r0", "sum(round(x))"),
        ("fc", "sum(floor(x)) + sum(ceil(x))"),
        ("sq", "sum(sqrt(x))"),
        ("lg", "sum(ln(x)) + sum(log10(x))"),
        ("ex", "sum(exp(x / 1000000))"),
        ("ab", "sum(abs(x))"),
        ("pw", "sum(pow(x, 2))"),
        ("lo", "count(where lower(trim(name)) == \"ann lee\")"),
        ("up", "count(where upper(name) == \"BOB\")"),
        ("le", "sum(length(name))"),
        ("ct", "count(where contains(name, \"e\"))"),
        ("sw", "count(where starts_with(name, \"b\"))"),
        ("ew", "count(where ends_with(name, \"l\"))"),
        ("e0", "count(where ends_with(name, \"\"))"),
        ("cc", "count(where concat(name, \"-\", year(d)) == \"bob-2025\")"),
        ("yr", "sum(year(d))"),
        ("qt", "sum(quarter(d))"),
        ("mo", "sum(month(d))"),
        ("wk", "sum(week(d))"),
        ("dy", "sum(day(d))"),
        ("wd", "sum(weekday(d))"),
        ("tw", "count(where date_trunc(d, \"week\") == @2024-12-30)"),
        ("tq", "count(where date_trunc(d, \"quarter\") == @2025-01-01)"),
        (
            "ty",
            "count(where date_trunc(t, \"year\") == @2025-01-01T00:00:00)",
        ),
        ("db", "sum(days_between(d, t))"),
        ("hb", "sum(hours_between(t, d))"),
        ("mb", "sum(minutes_between(d, t))"),
        ("lt", "sum(least(x, 1)) + sum(greatest(x, 1))"),
        ("co", "sum(coalesce(x, 7))"),
        ("ie", "sum(if x > 1 then 1 elif x < 0 then -1 else 0)"),
        ("bt", "count(where x between -3 and 1)"),
        ("nn", "count(where name is null)"),
        ("md", "sum(x % 2)"),
        ("dd", "count(where d >= @2025-01-01 and t < @2025-06-01T00:00:00)"),
        ("ni", "count(where name not in [\"bob\", \"Cid\"])"),
        ("dc", "count_distinct(round(x))"),
        // 3.025, -1.975, 0.675 and 1000000.525 lie just below their halves as doubles.
        ("rh", "sum(round(x + 0.525, 2))"),
        ("rt", "sum(round(x * 100, -2))"),
        ("rr", "sum(round(x + 0.525, id - 1))"),
        // Multiples of 0.05 as written, though its double divides them with 0.0499… left.
        ("rm", "sum(x % 0.05)"),
        ("r7", "sum(x % 0.07)"),
        // The doubles nearest a quotient, a power and a logarithm.
        (
            "nd",
            "count(where round(x, 2) == x and round(x * 100, 2) / 100 == x)",
        ),
        ("cu", "count(where pow(x * 0 + 1.3, 3) == 2.197)"),
        ("l3", "count(where log10(x * 0 + 1000) == 3)"),
        // Constants worked out before the statement is written.
        ("cf", "sum(x + round(exp(2000 % 7 % 4 % 3 - 1), 1))"),
    ];
    let spec_kpis: String = kpis
        .iter()
        .map(|(k, m)| format!("  {k}: {{dataset: d, measure: '{m}'}}\n"))
        .collect();
    let rows = [
        "1,  Ann Lee ,2.5,2025-01-05,2025-01-05 09:30:00",
        "2,bob,-2.5,2025-02-28,2025-03-01 23:59:59",
        // 0.15 is 0.1499… as a double: `round(x, 1)` is 0.2, as written.
        "3,Cid,0.15,2024-12-30,2025-01-01 00:00:00",
        "4,,,2025-06-15,",
        "5,dee-O'Neil,1000000,2025-12-31,2025-12-31 12:00:00",
    ];
    let dir = temp_dir("row-functions");
    let mut csv = String::from("id,name,x,d,t\n");
    for r in rows {
        csv.push_str(r);
        csv.push('\n');
    }
    std::fs::write(dir.join("d.csv"), csv).unwrap();
    let spec = dir.join("s.yaml");
    std::fs::write(
        &spec,
        format!("datasets:\n  d: {{source: d.csv, time: d, columns: {{name: string, x: number, d: date, t: datetime}}}}\nkpis:\n{spec_kpis}"),
    )
    .unwrap();
    let files = evaluated_csv(spec.to_str().unwrap(), &["-q"]);
    let values = |out: &str| -> Vec<(String, String)> {
        let (header, line) = out.trim_end().split_once('\n').unwrap();
        header
            .split(',')
            .map(str::to_string)
            .zip(line.split(',').map(str::to_string))
            .collect()
    };
    let f = values(&files);
    assert_eq!(f.len(), kpis.len(), "{files}");
    let v = |k: &str| f.iter().find(|(h, _)| h == k).unwrap().1.parse::<f64>().unwrap();
    // By hand: lengths 10 + 3 + 3 + 10; ISO weeks 1 + 9 + 1 + 24 + 1; weekdays
    // Sun 7, Fri 5, Mon 1, Sun 7, Wed 3; `round` half away from zero:
    // 3 - 3 + 0 + 1,000,000, and to one digit 2.5 - 2.5 + 0.2 + 1,000,000.
    assert_eq!(
        (v("le"), v("wk"), v("wd"), v("r0")),
        (26.0, 36.0, 23.0, 1_000_000.0),
        "{files}"
    );
    assert!((v("r1") - 1_000_000.2).abs() < 1e-6, "{files}");
    // As written: 3.03 - 1.98 + 0.68 + 1,000,000.53; to hundreds 300 - 300
    // + 0 + 100,000,000; to 0, 1, 2 and 4 digits 3 - 2 + 0.68 + 1,000,000.525.
    assert!((v("rh") - 1_000_002.26).abs() < 1e-6, "{files}");
    assert_eq!(v("rt"), 100_000_000.0, "{files}");
    assert!((v("rr") - 1_000_002.205).abs() < 1e-6, "{files}");
    // 2.5, -2.5, 0.15 and 1,000,000 are multiples of 0.05; by 0.07 they
    // leave 0.05, -0.05, 0.01 and 0.02.
    assert_eq!(v("rm"), 0.0, "{files}");
    assert!((v("r7") - 0.03).abs() < 1e-6, "{files}");
    assert_eq!(
        (v("lo"), v("cc"), v("tw"), v("tq"), v("nn"), v("ni")),
        (1.0, 1.0, 2.0, 2.0, 1.0, 2.0),
        "{files}"
    );
    assert_eq!(
        (v("nd"), v("cu"), v("l3"), v("e0")),
        (4.0, 4.0, 4.0, 4.0),
        "{files}"
    );
    assert!((v("cf") - 1_000_004.15).abs() < 1e-6, "{files}");
    for wh in Warehouse::every() {
        let d = wh.dialect;
        let sql_rows: Vec<String> = rows
            .iter()
            .map(|r| {
                let c: Vec<&str> = r.split(',').collect();
                let or_null = |x: &str, lit: String| if x.is_empty() { "NULL".to_string() } else { lit };
                format!(
                    "({}, {}, {}, {}, {})",
                    c[0],
                    or_null(c[1], d.string(c[1])),
                    or_null(c[2], c[2].to_string()),
                    d.date_lit(Date::parse(c[3]).unwrap()),
                    or_null(
                        c[4],
                        match d {
                            Dialect::Sqlite => format!("'{}'", c[4]),
                            _ => format!("TIMESTAMP '{}'", c[4]),
                        }
                    ),
                )
            })
            .collect();
        wh.table(
            "fns",
            &format!(
                "id integer, name {}, x {}, d date, t {}",
                d.text_type(),
                d.double_type(),
                d.timestamp_type()
            ),
            &sql_rows,
        );
        kpi::data::adbc::disconnect();
        let db_spec = dir.join(format!("{d:?}.yaml"));
        std::fs::write(
            &db_spec,
            format!(
                "{}datasets:\n  d: {{source: {{connection: wh, table: {}.fns}}, time: d}}\nkpis:\n{spec_kpis}",
                wh.connections_yaml(),
                wh.schema
            ),
        )
        .unwrap();
        let db = values(&evaluated_csv(db_spec.to_str().unwrap(), &["-q"]));
        assert_eq!(db.len(), kpis.len(), "{d:?}: {db:?}");
        for ((k, a), (_, b)) in f.iter().zip(&db) {
            let same = match (a.parse::<f64>(), b.parse::<f64>()) {
                (Ok(x), Ok(y)) => (x - y).abs() <= 1e-9 * x.abs().max(1.0),
                _ => a == b,
            };
            assert!(same, "{d:?}: {k} = {b}, files {a}");
        }
    }
}

/// A folder with the rows `(id, x, y)` as `d.csv` and a spec `s.yaml` over it.
fn dir_with_csv(rows: &[(i32, &str, &str)], kpis: &str) -> PathBuf {
    let dir = temp_dir("remainders");
    let mut csv = String::from("id,x,y,closed_at\n");
    for (id, x, y) in rows {
        let x = if *x == "NULL" { "" } else { x };
        csv.push_str(&format!("{id},{x},{y},2025-01-05\n"));
    }
    std::fs::write(dir.join("d.csv"), csv).unwrap();
    std::fs::write(
        dir.join("s.yaml"),
        format!("datasets:\n  d: {{source: d.csv, time: closed_at}}\nkpis:\n{kpis}"),
    )
    .unwrap();
    dir
}

/// A PostgreSQL NUMERIC column (money, as warehouses keep it), which the
/// driver sends as text in an opaque type: a number to `kpi check --data`
/// (it failed on the column's type) and in every KPI. An INTERVAL column
/// beside it, which Polars has no type for (the process stopped on it), is
/// left out.
#[test]
fn postgresql_numeric_and_interval_columns() {
    let wh = Warehouse::postgres();
    let s = wh.dialect.ident(&wh.schema);
    wh.table(
        "numdeals",
        "id integer, amount numeric(12,2), wait interval, closed_at date",
        &[
            "(1, 10.50, '3 days', '2025-01-05')".into(),
            "(2, 20.25, NULL, '2025-01-20')".into(),
            "(3, NULL, '1 hour', '2025-02-01')".into(),
        ],
    );
    let kpis = "  total: {dataset: d, measure: sum(amount)}\n  average: {dataset: d, measure: avg(amount)}\n  big: {dataset: d, measure: count(where amount > 15)}\n";
    // January: 10.50 + 20.25 over two deals, one above 15; February: a null amount.
    let csv = checked_then_evaluated(&wh, "numdeals", kpis, &["--grain", "month"]);
    assert_eq!(
        csv,
        "period,total,average,big\n2025-01,30.75,15.375,1\n2025-02,0,,0\n"
    );
    wh.run(&format!("DROP SCHEMA {s} CASCADE"));
}

/// A DuckDB table of an ENUM stage (dictionary-encoded text), a HUGEINT
/// count and an INTERVAL: the stage is text to group by, the count a
/// number, the interval left out (each stopped the process before).
#[test]
fn duckdb_enum_hugeint_and_interval_columns() {
    let wh = Warehouse::duckdb();
    let s = wh.dialect.ident(&wh.schema);
    wh.run(&format!("CREATE SCHEMA IF NOT EXISTS {s}"));
    wh.run("CREATE TYPE IF NOT EXISTS stage_kind AS ENUM ('won', 'lost')");
    wh.run(&format!(
        "CREATE OR REPLACE TABLE {s}.kinds (stage stage_kind, amount DOUBLE, n HUGEINT, wait INTERVAL, closed_at DATE)"
    ));
    wh.run(&format!(
        "INSERT INTO {s}.kinds VALUES ('won', 10.5, 5, INTERVAL 3 DAY, DATE '2025-01-05'), \
         ('lost', 20.25, 7, INTERVAL 1 DAY, DATE '2025-01-20'), (NULL, 4, 1, NULL, DATE '2025-01-21')"
    ));
    // The database file is the command's to open.
    kpi::data::adbc::disconnect();
    let kpis = "  won: {dataset: d, measure: sum(amount where stage == \"won\")}\n  n: {dataset: d, measure: sum(n)}\n";
    // By stage (the null stage a group of its own, last): won 10.5 over n 5,
    // lost none over 7, the null stage none over 1.
    let csv = checked_then_evaluated(&wh, "kinds", kpis, &["--by", "stage"]);
    assert_eq!(csv, "stage,won,n\nlost,0,7\nwon,10.5,5\n,0,1\n");
}

/// A table named as SQL quotes it, `schema."Deals.2025"`, its dot part
/// of the name: read as that table (its quotes were quoted again, and the
/// name split at its dot). By hand: January 10.5 + 20 of two deals.
#[test]
fn a_table_named_in_quotes_is_that_table() {
    for wh in [Warehouse::postgres(), Warehouse::sqlite()] {
        wh.table(
            "Deals.2025",
            "amount double precision, closed_at date",
            &["(10.5, '2025-01-05')".into(), "(20, '2025-01-20')".into()],
        );
        let kpis = "  total: {dataset: d, measure: sum(amount)}\n  n: {dataset: d, measure: count()}\n";
        let csv = checked_then_evaluated(&wh, "\"Deals.2025\"", kpis, &["--grain", "month"]);
        assert_eq!(csv, "period,total,n\n2025-01,30.5,2\n", "{:?}", wh.dialect);
        if wh.dialect == Dialect::Postgres {
            wh.run(&format!("DROP SCHEMA {} CASCADE", wh.dialect.ident(&wh.schema)));
        }
    }
}

/// A UUID column (PostgreSQL's `uuid`, sent as 16 bytes; DuckDB's `UUID`)
/// is text, as the database writes it: grouped by, counted, compared with
/// any text (`id == "abc"` was an error on both: "invalid input syntax for
/// type uuid") and given to text functions (`lower(id)`: no such
/// function). PostgreSQL's `money`, which SQL cannot cast to a double, is
/// left out (a sum of it failed on the server). By hand: two rows of one
/// id, one of another; one id matches, no row is `abc`.
#[test]
fn uuid_columns_are_texts() {
    const A: &str = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11";
    const B: &str = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12";
    for (wh, uuid) in [(Warehouse::postgres(), "uuid"), (Warehouse::duckdb(), "UUID")] {
        let price = match wh.dialect {
            Dialect::Postgres => ", price money",
            _ => "",
        };
        let cents = |v: &str| {
            if price.is_empty() {
                String::new()
            } else {
                format!(", {v}")
            }
        };
        wh.table(
            "ids",
            &format!("id {uuid}, closed_at date{price}"),
            &[
                format!("('{A}', '2025-01-05'{})", cents("12.34")),
                format!("('{A}', '2025-01-06'{})", cents("1")),
                format!("('{B}', '2025-01-07'{})", cents("2")),
            ],
        );
        kpi::data::adbc::disconnect();
        let kpis = format!(
            "  ids: {{dataset: d, measure: count_distinct(id)}}\n  \
             odd: {{dataset: d, measure: count(where id == \"abc\")}}\n  \
             lowered: {{dataset: d, measure: count(where lower(id) == \"{A}\")}}\n"
        );
        let csv = checked_then_evaluated(&wh, "ids", &kpis, &["--by", "id"]);
        assert_eq!(
            csv,
            format!("id,ids,odd,lowered\n{A},1,0,2\n{B},1,0,0\n"),
            "{:?}",
            wh.dialect
        );
        if wh.dialect == Dialect::Postgres {
            let spec = one_table_spec(&wh, "ids", "  paid: {dataset: d, measure: sum(price)}\n");
            let out = crate::support::kpi(&["--spec", spec.to_str().unwrap(), "check", "--data"]);
            let said = String::from_utf8_lossy(&out.stdout);
            assert!(said.contains("has no column `price`"), "{said}");
            wh.run(&format!("DROP SCHEMA {} CASCADE", wh.dialect.ident(&wh.schema)));
        }
    }
}

/// DuckDB's timestamps in nanoseconds, milliseconds and seconds: their
/// earliest and latest are the instants stored (the latest in nanoseconds
/// was read as microseconds: the year 57068).
#[test]
fn duckdb_timestamps_of_every_unit() {
    let wh = Warehouse::duckdb();
    let s = wh.dialect.ident(&wh.schema);
    wh.run(&format!("CREATE SCHEMA IF NOT EXISTS {s}"));
    wh.run(&format!(
        "CREATE OR REPLACE TABLE {s}.stamps AS SELECT * FROM (VALUES \
         (TIMESTAMP_NS '2025-01-05 10:00:00.123456789', TIMESTAMP_MS '2025-01-06 11:00:00.250', TIMESTAMP_S '2025-01-07 12:00:00', DATE '2025-01-05'), \
         (TIMESTAMP_NS '2025-02-05 10:00:00', TIMESTAMP_MS '2025-02-06 11:00:00', TIMESTAMP_S '2025-02-07 12:00:01', DATE '2025-02-05')) \
         AS v(ns, ms, s, closed_at)"
    ));
    kpi::data::adbc::disconnect();
    let kpis = "  last_ns: {dataset: d, measure: max(ns)}\n  first_ms: {dataset: d, measure: min(ms)}\n  last_s: {dataset: d, measure: max(s)}\n";
    let csv = checked_then_evaluated(&wh, "stamps", kpis, &["--grain", "month"]);
    assert_eq!(
        csv,
        "period,last_ns,first_ms,last_s\n\
         2025-01,2025-01-05T10:00:00.123456,2025-01-06T11:00:00.250,2025-01-07T12:00:00\n\
         2025-02,2025-02-05T10:00:00,2025-02-06T11:00:00,2025-02-07T12:00:01\n"
    );
}

/// A DuckDB file is read by several runs at once: kpi opens it to read,
/// so another process reading it (here this one) does not lock it out
/// (opened to write, the run failed: "Could not set lock on file").
#[test]
fn a_duckdb_file_is_read_beside_another_reader() {
    let wh = Warehouse::duckdb();
    wh.table(
        "shared",
        "amount DOUBLE, closed_at DATE",
        &["(2.5, '2025-01-05')".into()],
    );
    kpi::data::adbc::disconnect();
    let mut reader = connection_with("libduckdb.so", &wh.uri, Dialect::DuckDb);
    reader.options = vec![("access_mode".into(), "read_only".into())];
    kpi::data::adbc::query(&reader, "SELECT 1").unwrap();
    let csv = checked_then_evaluated(
        &wh,
        "shared",
        "  total: {dataset: d, measure: sum(amount)}\n",
        &[],
    );
    assert_eq!(csv, "total\n2.5\n");
    kpi::data::adbc::disconnect();
}

/// PostgreSQL's and DuckDB's `infinity` dates and times are no date: an
/// end that never comes leaves a subscription active, and the latest end
/// is the latest real one. Read as dates they were the years 5874897 and
/// -262143: a spine of millions of months. By hand: A from Jan 10 to
/// infinity (100), B Feb 1 to Mar 15 (50), C from -infinity (no start:
/// never active); monthly at the end: 100, 150, 100; the latest end in
/// February is B's.
#[test]
fn infinite_dates_are_no_dates() {
    for wh in [Warehouse::postgres(), Warehouse::duckdb()] {
        let (date, stamp) = match wh.dialect {
            Dialect::Postgres => ("date", "timestamp"),
            _ => ("DATE", "TIMESTAMP"),
        };
        wh.table(
            "subs",
            &format!("started_at {date}, ended_at {date}, mrr double precision, seen {stamp}"),
            &[
                "('2025-01-10', 'infinity', 100, 'infinity')".into(),
                "('2025-02-01', '2025-03-15', 50, '-infinity')".into(),
                "('-infinity', '2025-01-20', 10, '2025-01-05')".into(),
            ],
        );
        kpi::data::adbc::disconnect();
        let dir = temp_dir("infinite-dates");
        let spec = dir.join("s.yaml");
        std::fs::write(
            &spec,
            format!(
                "connections:\n  wh: {{driver: '{}', uri: '{}', dialect: {}}}\ndatasets:\n  subs: {{source: {{connection: wh, table: {}.subs}}, time: started_at}}\n\
                 kpis:\n  mrr: {{dataset: subs, measure: sum(mrr), active: {{from: started_at, to: ended_at}}, at: end}}\n  \
                 last_end: {{dataset: subs, measure: max(ended_at)}}\n  last_seen: {{dataset: subs, measure: max(seen)}}\n",
                wh.driver.display(),
                wh.uri,
                kpi::keyword::Keyword::as_str(wh.dialect),
                wh.schema
            ),
        )
        .unwrap();
        // The same over a range (compared on the column's own days).
        for range in [&[][..], &["--from", "2025-01-01", "--to", "2025-03-31"][..]] {
            let mut args = vec!["--grain", "month"];
            args.extend_from_slice(range);
            let csv = evaluated_csv(spec.to_str().unwrap(), &args);
            // (Its start only, when it is millions of months long.)
            let start: String = csv.chars().take(300).collect();
            assert!(
                csv == "period,mrr,last_end,last_seen\n2025-01,100,,\n2025-02,150,2025-03-15,\n2025-03,100,,\n",
                "{:?} {range:?}: {start}",
                wh.dialect
            );
        }
        if wh.dialect == Dialect::Postgres {
            wh.run(&format!("DROP SCHEMA {} CASCADE", wh.dialect.ident(&wh.schema)));
        }
    }
}

/// A declared type the database contradicts stops `eval` as it stops
/// `check --data`: SQLite seconds since 1970 declared a datetime were read
/// as no time at all, and `eval` said "no rows" and succeeded.
#[test]
fn a_declared_type_the_database_contradicts_stops_eval() {
    let wh = Warehouse::sqlite();
    wh.table(
        "epochs",
        "closed_at INTEGER, amount REAL",
        &["(1735689600, 10)".into(), "(1738368000, 20)".into()],
    );
    kpi::data::adbc::disconnect();
    let kpis = "  total: {dataset: d, measure: sum(amount)}\n";
    let spec = one_table_spec(&wh, "epochs", kpis);
    declare_closed_at(&spec, "datetime");
    let out = crate::support::kpi(&["--spec", spec.to_str().unwrap(), "eval", "--grain", "month"]);
    let said = printed(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("kpi::declared_type_contradicted"), "{said}");
}

/// A PostgreSQL enum is text: compared with a text that is none of its
/// labels it is false (the statement failed: "invalid input value for
/// enum"), and text functions take it. By hand: one won of 1.5, one lost.
#[test]
fn a_postgresql_enum_compares_with_any_text() {
    let wh = Warehouse::postgres();
    let s = wh.dialect.ident(&wh.schema);
    wh.create_schema();
    wh.run(&format!("CREATE TYPE {s}.stage AS ENUM ('won', 'lost')"));
    wh.table(
        "staged",
        &format!("stage {s}.stage, amount real, closed_at date"),
        &[
            "('won', 1.5, '2025-01-02')".into(),
            "('lost', 2, '2025-01-03')".into(),
        ],
    );
    let kpis = "  won: {dataset: d, measure: 'sum(amount where stage == \"won\")'}\n  \
                odd: {dataset: d, measure: 'count(where stage == \"nope\" or upper(stage) == \"LOST\")'}\n";
    let csv = checked_then_evaluated(&wh, "staged", kpis, &[]);
    assert_eq!(csv, "won,odd\n1.5,1\n");
    wh.run(&format!("DROP SCHEMA {s} CASCADE"));
}

/// A table named in capitals that PostgreSQL does not find (one made
/// without quotes is in lower case there): the help says how it is named.
#[test]
fn a_table_named_in_another_case_is_told_how_it_is_named() {
    let wh = Warehouse::postgres();
    wh.table(
        "lowered",
        "amount double precision, closed_at date",
        &["(1, '2025-01-05')".into()],
    );
    let spec = one_table_spec(&wh, "LOWERED", "  n: {dataset: d, measure: count()}\n");
    for command in [&["eval"][..], &["check", "--data"][..]] {
        let mut args = vec!["--spec", spec.to_str().unwrap()];
        args.extend_from_slice(command);
        let said = printed(&crate::support::kpi(&args));
        // (The help is wrapped where the schema's name puts it.)
        let said: String = said.split_whitespace().collect::<Vec<_>>().join(" ");
        let hint = format!("in lower case there (`{}.lowered`)", wh.schema);
        assert!(said.contains(&hint), "{command:?}: {said}");
    }
    wh.run(&format!("DROP SCHEMA {} CASCADE", wh.dialect.ident(&wh.schema)));
}

/// A SQLite number column holds any value: a text that is no number is no
/// number (SQLite's cast made `abc` 0, so it was counted and averaged),
/// and said; an empty text is an empty field, null as in files. By hand:
/// 10 and 12.5 are the numbers, so 22.5 over 2, an average of 11.25.
#[test]
fn a_text_in_a_sqlite_number_column_is_no_number() {
    let wh = Warehouse::sqlite();
    wh.table(
        "mixed",
        "amount REAL, closed_at DATE",
        &[
            "(10, '2025-01-01')".into(),
            "('abc', '2025-01-02')".into(),
            "('', '2025-01-03')".into(),
            "(NULL, '2025-01-04')".into(),
            "('12.5', '2025-01-05')".into(),
        ],
    );
    kpi::data::adbc::disconnect();
    let kpis = "  total: {dataset: d, measure: sum(amount)}\n  n: {dataset: d, measure: count(amount)}\n  \
                mean: {dataset: d, measure: avg(amount)}\n";
    let spec = one_table_spec(&wh, "mixed", kpis);
    let out = crate::support::kpi(&["--spec", spec.to_str().unwrap(), "eval", "--format", "csv"]);
    let said = printed(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.starts_with("total,n,mean\n22.5,2,11.25\n"), "{said}");
    assert!(said.contains("held 1 non-finite value"), "{said}");
}

/// A spec of one dataset `d` over the warehouse's `table` (time
/// `closed_at`) and `kpis`: `kpi check --data` of it must pass, and its
/// `eval` with `args` as CSV is returned.
fn checked_then_evaluated(wh: &Warehouse, table: &str, kpis: &str, args: &[&str]) -> String {
    let spec = one_table_spec(wh, table, kpis);
    let spec = spec.to_str().unwrap();
    let check = crate::support::kpi(&["--spec", spec, "check", "--data"]);
    let shown = String::from_utf8_lossy(&check.stdout);
    assert_eq!(check.status.code(), Some(0), "{shown}");
    evaluated_csv(spec, args)
}

/// A spec of `kpis` over dataset `d`, the table `table` of `wh`, timed by `closed_at`.
fn one_table_spec(wh: &Warehouse, table: &str, kpis: &str) -> PathBuf {
    let dir = temp_dir(&format!("one-table-{table}"));
    let spec = dir.join("spec.yaml");
    let dialect = kpi::keyword::Keyword::as_str(wh.dialect);
    std::fs::write(
        &spec,
        format!(
            "connections:\n  wh:\n    driver: {}\n    uri: \"{}\"\n    dialect: {dialect}\ndatasets:\n  d:\n    source: {{connection: wh, table: {}.{table}}}\n    time: closed_at\nkpis:\n{kpis}",
            wh.driver.display(),
            wh.uri,
            wh.schema
        ),
    )
    .unwrap();
    spec
}

/// The spec at `spec` (of [`one_table_spec`]) with `closed_at` declared `ty`.
fn declare_closed_at(spec: &Path, ty: &str) {
    let text = std::fs::read_to_string(spec).unwrap().replace(
        "    time: closed_at\n",
        &format!("    time: closed_at\n    columns: {{closed_at: {ty}}}\n"),
    );
    std::fs::write(spec, text).unwrap();
}

/// `kpi eval` of the spec at `spec` with `args`, as CSV; it must succeed.
fn evaluated_csv(spec: &str, args: &[&str]) -> String {
    let mut all = vec!["--spec", spec, "eval", "--format", "csv"];
    all.extend_from_slice(args);
    crate::support::kpi_stdout(&all)
}

/// Deals by segment and quarter, from the sample CSV by a plain reader:
/// (won amount, won deals, won or lost deals).
fn deals_by_segment_quarter() -> std::collections::BTreeMap<(String, String), (f64, f64, f64)> {
    let text = std::fs::read_to_string(root().join("examples/data/deals.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let idx = |c: &str| header.iter().position(|h| *h == c).unwrap();
    let (stage, amount, segment, closed) = (idx("stage"), idx("amount"), idx("segment"), idx("closed_at"));
    let mut out = std::collections::BTreeMap::new();
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        if f[closed].is_empty() {
            continue;
        }
        let month: u32 = f[closed][5..7].parse().unwrap();
        let quarter = format!("{}-{:02}-01", &f[closed][..4], (month - 1) / 3 * 3 + 1);
        let e: &mut (f64, f64, f64) = out.entry((f[segment].to_string(), quarter)).or_default();
        if f[stage] == "won" {
            e.0 += f[amount].parse::<f64>().unwrap();
            e.1 += 1.0;
        }
        if f[stage] == "won" || f[stage] == "lost" {
            e.2 += 1.0;
        }
    }
    out
}

/// MRR at the end of the sample subscriptions (their latest start or end),
/// by a plain reader: subscriptions started by then and not ended.
fn mrr_at_end_of_data() -> f64 {
    let text = std::fs::read_to_string(root().join("examples/data/subscriptions.csv")).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().skip(1).map(|l| l.split(',').collect()).collect();
    let end = rows
        .iter()
        .flat_map(|r| [r[1], r[2]])
        .filter(|d| !d.is_empty())
        .max()
        .unwrap();
    rows.iter()
        .filter(|r| r[1] <= end && (r[2].is_empty() || r[2] > end))
        .map(|r| r[3].parse::<f64>().unwrap())
        .sum()
}

/// `kpi sql` prints what a database runs: the statements, run as printed
/// (on DuckDB over the files' rows as tables named after the datasets; on
/// PostgreSQL through a spec's connection), give the parts the plain
/// reader finds, and a stock at the end of the data is taken at its date.
#[test]
fn kpi_sql_prints_statements_a_database_runs() {
    let want = deals_by_segment_quarter();
    let adbc = services().join("adbc").display().to_string();
    let args = [
        "sql",
        "won_revenue",
        "win_rate",
        "mrr",
        "--by",
        "segment",
        "--grain",
        "quarter",
    ];
    let mrr_args = ["sql", "mrr"];
    let duck = Warehouse {
        schema: "main".into(),
        ..Warehouse::duckdb()
    };
    duck.load(&checked(library()));
    let lite = Warehouse::sqlite();
    lite.load(&checked(library()));
    let pg = Warehouse::postgres();
    pg.load(&checked(library()));
    kpi::data::adbc::disconnect();
    let dir = temp_dir("sql-on-connection");
    for f in pg.spec("postgresql") {
        let name = std::path::Path::new(&f.name).file_name().unwrap().to_owned();
        std::fs::write(dir.join(name), f.bytes).unwrap();
    }
    let env = [("KPI_ADBC_PATH", adbc.as_str())];
    // The files' statements for DuckDB and SQLite, PostgreSQL's through its connection.
    let on_each = |args: &[&str]| {
        [
            (
                &duck,
                kpi_run(None, &[], &[args, &["--dialect", "duckdb"]].concat()),
            ),
            (
                &lite,
                kpi_run(None, &[], &[args, &["--dialect", "sqlite"]].concat()),
            ),
            (&pg, kpi_run(Some(&dir), &env, args)),
        ]
    };
    let runs = on_each(&args);
    let mrr_runs = on_each(&mrr_args);
    // A funnel's statement too (`kpi sql` refused a funnel's name): its
    // steps' counts are the funnel's counts as `eval` gives them.
    let funnel_runs = on_each(&["sql", "lead_funnel"]);
    for (wh, out) in &runs {
        let text = String::from_utf8_lossy(&out.stdout);
        let statements: Vec<&str> = text
            .split(";\n")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        // Deals in one scan; MRR's starts and ends by quarter in two.
        assert_eq!(statements.len(), 3, "{text}");
        let deals = statements
            .iter()
            .find(|s| s.starts_with("-- deals (won_revenue, win_rate)"))
            .unwrap();
        let sql = deals.split_once('\n').unwrap().1;
        let df = wh.run(sql);
        let segments = df.column("__d0").unwrap().str().unwrap().clone();
        let periods = df.column("__period").unwrap().cast(&DataType::String).unwrap();
        let periods = periods.str().unwrap();
        let part = |name: &str| df.column(name).unwrap().cast(&DataType::Float64).unwrap();
        let (won, won_n, closed) = (
            part("won_revenue__p0"),
            part("win_rate__p0"),
            part("win_rate__p1"),
        );
        let mut found = 0;
        for i in 0..df.height() {
            let (Some(segment), Some(period)) = (segments.get(i), periods.get(i)) else {
                continue;
            };
            let (w, n, c) = want[&(segment.to_string(), period.to_string())];
            let at = |s: &Column| s.f64().unwrap().get(i).unwrap_or(0.0);
            assert!((at(&won) - w).abs() < 1e-6, "{:?} {segment} {period}", wh.dialect);
            assert_eq!(
                (at(&won_n), at(&closed)),
                (n, c),
                "{:?} {segment} {period}",
                wh.dialect
            );
            found += 1;
        }
        assert_eq!(found, want.len(), "{:?}: every segment and quarter", wh.dialect);
    }
    let evaluated = kpi_run(None, &[], &["eval", "lead_funnel", "--format", "csv"]);
    let counts: Vec<f64> = String::from_utf8_lossy(&evaluated.stdout)
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(2).unwrap().parse().unwrap())
        .collect();
    assert_eq!(counts.len(), 6, "every step");
    for (wh, out) in &funnel_runs {
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.starts_with("-- funnel lead_funnel: leads (created, contacted"),
            "{text}"
        );
        let sql = text.split_once('\n').unwrap().1.trim_end().trim_end_matches(';');
        let df = wh.run(sql);
        for (i, want) in counts.iter().enumerate() {
            let got = df
                .column(&format!("__step{i}__p0"))
                .unwrap()
                .cast(&DataType::Float64)
                .unwrap();
            assert_eq!(
                got.f64().unwrap().get(0),
                Some(*want),
                "{:?} step {i}",
                wh.dialect
            );
        }
    }
    let mrr = mrr_at_end_of_data();
    for (wh, out) in &mrr_runs {
        let text = String::from_utf8_lossy(&out.stdout);
        let sql = text.split_once('\n').unwrap().1.trim_end().trim_end_matches(';');
        let df = wh.run(sql);
        let got = df.column("mrr__p0").unwrap().cast(&DataType::Float64).unwrap();
        assert!(
            (got.f64().unwrap().get(0).unwrap() - mrr).abs() < 1e-6,
            "{:?}: {sql}",
            wh.dialect
        );
    }
    kpi::data::adbc::disconnect();
}

/// Numbers as text are whole numbers without a fraction wherever they are
/// written and whatever read them: a float column as a dimension (`3`, not
/// `3.0`), `concat` of `year` and `quarter` (`2025-Q1`, not
/// `2025.0-Q1.0`), and a float key looking up an integer one (3.0 finds
/// 3); a time to the second (`2025-01-05 09:30:00`, not `….000000`); a
/// fraction in its shortest form, 16 or 17 digits where 15 do not read
/// back as it (SQLite's own text writes 17: `0.33333333333333331`). The
/// same table from files, DuckDB, PostgreSQL and SQLite.
#[test]
fn numbers_as_text_are_the_same_everywhere() {
    // `price` is a NUMERIC(5, 2) in the databases, whose own text keeps
    // its zeros (`0.10`).
    let rows = [
        (1, "3", "2025-01-05", "0.10"),
        (2, "2.5", "2025-02-10", "2.50"),
        (3, "10", "2025-04-01", "3.00"),
        (4, "3", "2025-04-02", "0.10"),
        (5, "NULL", "2025-04-03", "NULL"),
        (6, "1e16", "2025-03-01", "12.25"),
    ];
    let kpis = "kpis:\n  n: {dataset: d, measure: count()}\n";
    let dims = "    dimensions: {label: concat(year(closed_at), \"-Q\", quarter(closed_at)), third: (id + 0 * seats) / 3}\n    lookups: [{dataset: teams, on: {left: seats, right: seat_key}}]\n";
    // By seats (in order of their value), label and the looked-up tier;
    // the null seats last.
    let want = "seats,label,tier,n\n2.5,2025-Q1,,1\n3,2025-Q1,small,1\n3,2025-Q2,small,1\n10,2025-Q2,large,1\n10000000000000000,2025-Q1,,1\n,2025-Q2,,1\n";
    let args = ["eval", "--by", "seats,label,tier", "--format", "csv", "-q"];
    let by_time = [
        "eval",
        "--by",
        "touched_at",
        "--period",
        "2025-04",
        "--format",
        "csv",
        "-q",
    ];
    let want_by_time = "touched_at,n\n2025-04-01 09:30:00,1\n2025-04-02 09:30:00,1\n2025-04-03 09:30:00,1\n";
    let by_price = ["eval", "--by", "price", "--format", "csv", "-q"];
    let want_by_price = "price,n\n0.1,2\n2.5,1\n3,1\n12.25,1\n,1\n";
    let by_third = ["eval", "--by", "third", "--format", "csv", "-q"];
    let want_by_third =
        "third,n\n0.3333333333333333,1\n0.6666666666666666,1\n1,1\n1.3333333333333333,1\n2,1\n,1\n";
    let evaluated = |dir: &Path, spec: &str, args: &[&str]| {
        let mut all = vec!["--spec", spec];
        all.extend_from_slice(args);
        let (code, out, err) = crate::support::kpi_in(dir, &all);
        assert_eq!(code, Some(0), "{spec}: {err}");
        out
    };
    let dir = temp_dir("numbers-as-text");
    let mut csv = String::from("id,seats,closed_at,touched_at,price\n");
    let or_empty = |x: &'static str| if x == "NULL" { "" } else { x };
    for (id, seats, day, price) in rows {
        csv.push_str(&format!(
            "{id},{},{day},{day} 09:30:00,{}\n",
            or_empty(seats),
            or_empty(price)
        ));
    }
    std::fs::write(dir.join("d.csv"), csv).unwrap();
    std::fs::write(dir.join("teams.csv"), "seat_key,tier\n3,small\n10,large\n").unwrap();
    std::fs::write(
        dir.join("s.yaml"),
        format!("datasets:\n  d:\n    source: d.csv\n    time: closed_at\n{dims}  teams: {{source: teams.csv}}\n{kpis}"),
    )
    .unwrap();
    assert_eq!(evaluated(&dir, "s.yaml", &args), want, "files");
    assert_eq!(evaluated(&dir, "s.yaml", &by_time), want_by_time, "files");
    assert_eq!(evaluated(&dir, "s.yaml", &by_price), want_by_price, "files");
    assert_eq!(evaluated(&dir, "s.yaml", &by_third), want_by_third, "files");
    for wh in [Warehouse::duckdb(), Warehouse::postgres(), Warehouse::sqlite()] {
        let values: Vec<String> = rows
            .iter()
            .map(|(id, seats, day, price)| {
                // SQLite has no date types: its dates and times are texts.
                let (date, timestamp) = match wh.dialect {
                    Dialect::Sqlite => ("", ""),
                    _ => ("DATE ", "TIMESTAMP "),
                };
                format!("({id}, {seats}, {date}'{day}', {timestamp}'{day} 09:30:00', {price})")
            })
            .collect();
        let columns =
            "id integer, seats double precision, closed_at date, touched_at timestamp, price numeric(5, 2)";
        wh.table("d", columns, &values);
        let teams = ["(3, 'small')".to_string(), "(10, 'large')".to_string()];
        wh.table("teams", "seat_key integer, tier text", &teams);
        kpi::data::adbc::disconnect();
        let spec = format!(
            "{}datasets:\n  d:\n    source: {{connection: wh, table: {}.d}}\n    time: closed_at\n{dims}  teams: {{source: {{connection: wh, table: {}.teams}}}}\n{kpis}",
            wh.connections_yaml(),
            wh.schema,
            wh.schema
        );
        std::fs::write(dir.join("db.yaml"), spec).unwrap();
        assert_eq!(evaluated(&dir, "db.yaml", &args), want, "{:?}", wh.dialect);
        assert_eq!(
            evaluated(&dir, "db.yaml", &by_time),
            want_by_time,
            "{:?}",
            wh.dialect
        );
        assert_eq!(
            evaluated(&dir, "db.yaml", &by_price),
            want_by_price,
            "{:?}",
            wh.dialect
        );
        assert_eq!(
            evaluated(&dir, "db.yaml", &by_third),
            want_by_third,
            "{:?}",
            wh.dialect
        );
    }
}

/// An object store of scripts/services, on loopback.
#[derive(Clone, Copy, Debug)]
enum Store {
    S3,
    Gcs,
    Azure,
}

impl Store {
    const ALL: [Store; 3] = [Store::S3, Store::Gcs, Store::Azure];

    /// The scheme of its URLs.
    fn scheme(self) -> &'static str {
        match self {
            Store::S3 => "s3",
            Store::Gcs => "gs",
            Store::Azure => "az",
        }
    }

    /// The variables that reach it, as users set them.
    fn env(self) -> Vec<(&'static str, String)> {
        let file = match self {
            Store::S3 => "s3.endpoint",
            Store::Gcs => "gcs.endpoint",
            Store::Azure => "azure.endpoint",
        };
        let endpoint = std::fs::read_to_string(services().join(file)).unwrap();
        self.env_at(endpoint.trim())
    }

    /// The variables that reach it at `endpoint`: for Google Cloud Storage
    /// a service account key naming the endpoint (the client's own way to
    /// an emulator), for Azure the emulator's well-known account.
    fn env_at(self, endpoint: &str) -> Vec<(&'static str, String)> {
        let pairs: Vec<(&'static str, String)> = match self {
            Store::S3 => vec![
                ("AWS_ACCESS_KEY_ID", "test".into()),
                ("AWS_SECRET_ACCESS_KEY", "test".into()),
                ("AWS_REGION", "us-east-1".into()),
                ("AWS_DEFAULT_REGION", "us-east-1".into()),
                ("AWS_ENDPOINT_URL", endpoint.into()),
                ("AWS_ALLOW_HTTP", "true".into()),
            ],
            Store::Gcs => vec![(
                "GOOGLE_SERVICE_ACCOUNT_KEY",
                serde_json::json!({
                    "private_key": "unused",
                    "private_key_id": "unused",
                    "client_email": "kpi@example.com",
                    "gcs_base_url": endpoint,
                    "disable_oauth": true,
                })
                .to_string(),
            )],
            Store::Azure => vec![
                ("AZURE_STORAGE_USE_EMULATOR", "true".into()),
                ("AZURITE_BLOB_STORAGE_URL", endpoint.into()),
            ],
        };
        pairs
    }

    /// Every file of `dir` uploaded to a new `bucket` under `prefix`, with
    /// the store's own client beside the server; the store's variables.
    fn upload(self, bucket: &str, dir: &Path, prefix: &str) -> Vec<(&'static str, String)> {
        let env = self.env();
        let dir = dir.display();
        let upload = match self {
            Store::S3 => format!(
                "import boto3, os\ns3 = boto3.client('s3')\ns3.create_bucket(Bucket='{bucket}')\nfor f in os.listdir('{dir}'):\n    s3.upload_file(os.path.join('{dir}', f), '{bucket}', '{prefix}' + f)\n"
            ),
            Store::Gcs => format!(
                // The emulator now and then drops a connection under load:
                // each request is tried again (a bucket made already is made).
                "import json, os, time, urllib.error, urllib.request\nbase = json.loads(os.environ['GOOGLE_SERVICE_ACCOUNT_KEY'])['gcs_base_url']\n\
                 def post(url, data, kind):\n    for _ in range(5):\n        try:\n            return urllib.request.urlopen(urllib.request.Request(base + url, data=data, method='POST', headers={{'Content-Type': kind}})).read()\n        except urllib.error.HTTPError as e:\n            if e.code == 409: return\n            raise\n        except (urllib.error.URLError, ConnectionError):\n            time.sleep(0.5)\n    raise SystemExit('the GCS emulator did not answer')\n\
                 post('/storage/v1/b', json.dumps({{'name': '{bucket}'}}).encode(), 'application/json')\n\
                 for f in os.listdir('{dir}'):\n    post('/upload/storage/v1/b/{bucket}/o?uploadType=media&name={prefix}' + f, open(os.path.join('{dir}', f), 'rb').read(), 'application/octet-stream')\n"
            ),
            Store::Azure => format!(
                "import os\nfrom azure.storage.blob import BlobServiceClient\n\
                 key = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='\n\
                 url = os.environ['AZURITE_BLOB_STORAGE_URL'] + '/devstoreaccount1'\n\
                 c = BlobServiceClient.from_connection_string(f'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={{key}};BlobEndpoint={{url}};').create_container('{bucket}')\n\
                 for f in os.listdir('{dir}'):\n    c.upload_blob('{prefix}' + f, open(os.path.join('{dir}', f), 'rb'))\n"
            ),
        };
        let up = std::process::Command::new(services().join("venv/bin/python"))
            .arg("-c")
            .arg(upload)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .output()
            .unwrap();
        assert!(
            up.status.success(),
            "{self:?}: {}",
            String::from_utf8_lossy(&up.stderr)
        );
        env
    }
}

/// A Parquet file in object storage with a column Polars has no type for
/// (an interval, written by DuckDB): an error naming the file, the column
/// and the type, as for a local file, where the process stopped on it.
#[test]
fn parquet_in_object_storage_of_an_unreadable_type() {
    let dir = temp_dir("s3-interval");
    let file = dir.join("interval.parquet");
    Warehouse::duckdb().run(&format!(
        "COPY (SELECT 1.5 AS amount, INTERVAL 3 DAY AS wait, DATE '2025-01-01' AS closed_at) TO '{}' (FORMAT parquet)",
        file.display()
    ));
    kpi::data::adbc::disconnect();
    let bucket = format!("kpi-interval-{}", std::process::id());
    let env = Store::S3.upload(&bucket, &dir, "");
    let spec = dir.join("s.yaml");
    let commands: [&[&str]; 2] = [&["eval"], &["check", "--data"]];
    // The object, and a glob of it: the object is named either way.
    for (name, command) in ["interval.parquet", "inter*.parquet"]
        .iter()
        .flat_map(|n| commands.map(|c| (n, c)))
    {
        std::fs::write(
            &spec,
            format!("datasets:\n  d: {{source: \"s3://{bucket}/{name}\", time: closed_at}}\nkpis:\n  total: {{dataset: d, measure: sum(amount)}}\n"),
        )
        .unwrap();
        let out = std::process::Command::new(kpi_bin())
            .args(["--spec", spec.to_str().unwrap()])
            .args(command)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .output()
            .unwrap();
        let said = printed(&out);
        assert_eq!(out.status.code(), Some(1), "{name} {command:?}: {said}");
        assert!(
            said.contains("kpi::unreadable_column_type")
                && said.contains(&format!("s3://{bucket}/interval.parquet"))
                && said.contains("column `wait`")
                && said.contains("interval")
                && !said.contains("panicked"),
            "{name} {command:?}: {said}"
        );
    }
}

/// A database's zoned datetimes (instants) count in UTC whatever the
/// client's zone: with `TZ` and `PGTZ` in New York, PostgreSQL and DuckDB
/// put 23:30 UTC on Jan 31 in February and 04:00 UTC on Mar 1 in
/// February, while the minimum came back in UTC (January's sum was 0 and
/// its minimum 23:30 on Jan 31), and the same spec gave other months on
/// another machine.
#[test]
fn zoned_database_times_count_in_utc_whatever_the_clients_zone() {
    let kpis =
        "  total: {dataset: d, measure: sum(amount)}\n  first: {dataset: d, measure: min(closed_at)}\n";
    let rows = [
        "(1, 10, TIMESTAMPTZ '2025-01-31 23:30:00+00')",
        "(2, 20, TIMESTAMPTZ '2025-02-01 01:00:00+00')",
        "(3, 5, TIMESTAMPTZ '2025-03-01 04:00:00+00')",
    ]
    .map(String::from);
    for wh in [Warehouse::duckdb(), Warehouse::postgres()] {
        wh.table(
            "zoned",
            "id integer, amount double precision, closed_at timestamptz",
            &rows,
        );
        kpi::data::adbc::disconnect();
        let spec = one_table_spec(&wh, "zoned", kpis);
        let in_new_york = |args: &[&str]| {
            let zone = [("TZ", "America/New_York"), ("PGTZ", "America/New_York")];
            let all = [&["eval", "--format", "csv", "-q"], args].concat();
            String::from_utf8(kpi_run(Some(&spec), &zone, &all).stdout).unwrap()
        };
        assert_eq!(
            in_new_york(&["--grain", "month"]),
            "period,total,first\n\
             2025-01,10,2025-01-31T23:30:00\n\
             2025-02,20,2025-02-01T01:00:00\n\
             2025-03,5,2025-03-01T04:00:00\n",
            "{:?}",
            wh.dialect
        );
        assert_eq!(
            in_new_york(&["--from", "2025-02-01", "--to", "2025-02-28"]),
            "total,first\n20,2025-02-01T01:00:00\n",
            "{:?}",
            wh.dialect
        );
        // As a group, the time as files write it (it was `… 23:30:00+00`).
        assert_eq!(
            in_new_york(&["total", "--by", "closed_at"]),
            "closed_at,total\n2025-01-31 23:30:00,10\n2025-02-01 01:00:00,20\n2025-03-01 04:00:00,5\n",
            "{:?}",
            wh.dialect
        );
    }
}

/// Parquet times in a zone (pandas' and Spark's instants) are read as the
/// wall-clock time of `read.timezone`, else of their own zone, as CSV's
/// times with an offset: their days, ranges and `--by` values are that
/// zone's (periods took the UTC day while ranges took the zone's), and
/// they compare with datetime literals (an evaluation error before).
#[test]
fn parquet_times_in_a_zone_are_its_wall_clock() {
    let dir = temp_dir("parquet-zones");
    // 23:30 UTC on Jan 31 and 01:00 UTC on Feb 1: 18:30 and 20:00 on Jan 31 in New York.
    pyarrow(
        &dir,
        "utc = dt.timezone.utc\n\
         times = [dt.datetime(2025, 1, 31, 23, 30, tzinfo=utc), dt.datetime(2025, 2, 1, 1, 0, tzinfo=utc), None]\n\
         for name, zone in [('utc', 'UTC'), ('ny', 'America/New_York')]:\n    \
             t = pa.table({'amount': [1.0, 2.0, 4.0], 'closed_at': pa.array(times, type=pa.timestamp('us', tz=zone))})\n    \
             pq.write_table(t, name + '.parquet')\n",
    );
    let spec = |file: &str, read: &str| {
        let path = dir.join(format!("{file}{}.yaml", read.len()));
        std::fs::write(
            &path,
            format!(
                "datasets:\n  d: {{source: {file}.parquet, time: closed_at{read}}}\nkpis:\n  total: {{dataset: d, measure: sum(amount)}}\n  late: {{dataset: d, measure: 'count(where closed_at >= @2025-02-01T00:00:00)'}}\n  last: {{dataset: d, measure: max(closed_at)}}\n"
            ),
        )
        .unwrap();
        path
    };
    let eval = |path: &Path, args: &[&str]| evaluated_csv(path.to_str().unwrap(), args);
    let utc = spec("utc", "");
    assert_eq!(
        eval(&utc, &["--grain", "month"]),
        "period,total,late,last\n2025-01,1,0,2025-01-31T23:30:00\n2025-02,2,1,2025-02-01T01:00:00\n"
    );
    let ny = spec("ny", "");
    let in_new_york = "period,total,late,last\n2025-01,3,0,2025-01-31T20:00:00\n2025-02,0,0,\n";
    assert_eq!(
        eval(
            &ny,
            &["--grain", "month", "--from", "2025-01-01", "--to", "2025-02-28"]
        ),
        in_new_york
    );
    assert_eq!(eval(&ny, &["total", "--period", "2025-01"]), "total\n3\n");
    let utc_read_in_new_york = spec("utc", ", read: {timezone: America/New_York}");
    assert_eq!(
        eval(
            &utc_read_in_new_york,
            &["--grain", "month", "--from", "2025-01-01", "--to", "2025-02-28"]
        ),
        in_new_york
    );
}

/// Object storage sources that cannot be read say which way, as local
/// files do: a glob that lists no object is `kpi::no_files`, a missing
/// object `kpi::source_not_found`, a store out of reach names the
/// variables that reach it (each was a reader's message, with the help of
/// a CSV file's header).
#[test]
fn object_storage_sources_that_cannot_be_read() {
    let dir = temp_dir("store-missing");
    kpi::data::write_parquet(&kpi::generate::generate(50, 7), &dir).unwrap();
    // NDJSON is read there too: 5 + 7.5, and a line without an amount.
    std::fs::write(
        dir.join("few.ndjson"),
        "{\"amount\": 5, \"closed_at\": \"2025-01-02\"}\n{\"amount\": 7.5, \"closed_at\": \"2025-02-03\"}\n{\"closed_at\": \"2025-02-04\"}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("ragged.csv"),
        "amount,closed_at\n1,2025-01-01\n2,2025-01-02,3\n",
    )
    .unwrap();
    let spec = dir.join("s.yaml");
    let run = |source: &str, env: &[(&str, String)]| {
        std::fs::write(
            &spec,
            format!("datasets:\n  d: {{source: \"{source}\", time: closed_at}}\nkpis:\n  total: {{dataset: d, measure: sum(amount)}}\n"),
        )
        .unwrap();
        let out = std::process::Command::new(kpi_bin())
            .args(["--spec", spec.to_str().unwrap(), "eval"])
            .envs(env.iter().map(|(k, v)| (k, v)))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    for store in Store::ALL {
        let bucket = format!("kpi-missing-{}", std::process::id());
        let env = store.upload(&bucket, &dir, "data/");
        let at = format!("{}://{bucket}/data", store.scheme());
        // The store's own variables are named in the help.
        let named = env[0].0;
        // The generated deals are there: the same source reads.
        for nothing in ["nothing*.parquet", "nothing*.csv"] {
            let err = run(&format!("{at}/{nothing}"), &env);
            assert!(
                err.contains("kpi::no_files") && err.contains("matches no object"),
                "{store:?}: {err}"
            );
        }
        // A CSV object's row with a field too many is named by the
        // object's URL and its line.
        let err = run(&format!("{at}/ragged.csv"), &env);
        assert!(
            err.contains("kpi::malformed_row")
                && err.contains(&format!("`{at}/ragged.csv` line 3 has 3 fields")),
            "{store:?}: {err}"
        );
        // A missing object, Parquet, NDJSON (which got the help of a line
        // that is not JSON, and Polars' advice to its Python users) or CSV.
        for missing in ["missing.parquet", "missing.ndjson", "missing.csv"] {
            let err = run(&format!("{at}/{missing}"), &env);
            assert!(
                err.contains("kpi::source_not_found") && err.contains(named) && !err.contains("Python"),
                "{store:?}: {err}"
            );
        }
        let env_pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let few = format!("datasets:\n  d: {{source: \"{at}/few.ndjson\", time: closed_at}}\nkpis:\n  total: {{dataset: d, measure: sum(amount)}}\n  rows: {{dataset: d, measure: count()}}\n");
        assert_eq!(
            stored_eval(&spec, &few, &env_pairs),
            "total,rows\n12.5,3\n",
            "{store:?}"
        );
        let err = run(
            &format!("{at}/deals.parquet"),
            &store.env_at("http://127.0.0.1:9"),
        );
        assert!(
            err.contains("kpi::data_error") && err.contains("reachable"),
            "{store:?}: {err}"
        );
    }
}

/// A run closes its database connections when it ends: a Spark Connect
/// server keeps a connection's session until it has been idle for its
/// timeout, so every run left one behind (a small server ran out of
/// memory after a few dozen). The run names itself as the session's user;
/// the server's log (where scripts/services starts it) says when a
/// session of that user is closed.
#[test]
fn a_run_closes_its_spark_session() {
    let mut wh = Warehouse::spark();
    wh.table(
        "sessions",
        "closed_at DATE, amount DOUBLE",
        &["(DATE '2025-01-05', 1.5)".to_string()],
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |t| t.as_nanos());
    let user = format!("kpi_test_{}_{now}", wh.schema);
    wh.uri = format!("{}/;user_id={user}", wh.uri);
    let spec = one_table_spec(&wh, "sessions", "  total: {dataset: d, measure: sum(amount)}\n");
    let out = evaluated_csv(spec.to_str().unwrap(), &[]);
    assert_eq!(out, "total\n1.5\n");
    let log = services().join("spark/log");
    let closed = format!("Closing session with userId: {user} and");
    let said = || std::fs::read_to_string(&log).is_ok_and(|t| t.contains(&closed));
    // The server says it as it handles the release, a moment later.
    let waited = (0..60).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(500));
        said()
    });
    assert!(waited, "no `{closed}` in {}", log.display());
}

/// `round`, `%` and `pow` write their arguments several times in SQL, so a
/// nest of them multiplied the statement's length at each level: eight
/// `round`s deep printed 378 MB for PostgreSQL, twelve ran out of memory.
/// Past 1 MiB a row expression is `kpi::sql_too_long`, said at once by
/// `kpi sql` and by `eval` on a connection; a shallow nest still gives the
/// numbers worked out by hand, on the database as over files.
#[test]
fn a_row_expression_too_long_for_sql_is_refused_before_it_is_printed() {
    let wh = Warehouse::sqlite();
    wh.table("d", "x REAL", &["(2.449)", "(-7.251)"].map(String::from));
    kpi::data::adbc::disconnect();
    let nest = |depth: usize| {
        (0..depth).fold("x".to_string(), |m, i| {
            format!("round({m}, {})", 3 - (i as i32).min(3))
        })
    };
    let dir = temp_dir("sql-too-long");
    let spec = dir.join("s.yaml");
    std::fs::write(dir.join("d.csv"), "x\n2.449\n-7.251\n").unwrap();
    let write = |source: &str, depth: usize| {
        let rest = format!(
            "datasets:\n  d: {{source: {source}}}\nkpis:\n  k: {{dataset: d, measure: \"sum({})\"}}\n",
            nest(depth)
        );
        std::fs::write(&spec, sqlite_spec(&wh.uri, &rest)).unwrap();
    };
    let adbc = services().join("adbc").display().to_string();
    let run = |args: &[&str]| {
        std::process::Command::new(kpi_bin())
            .arg("--spec")
            .arg(&spec)
            .args(args)
            .env("KPI_ADBC_PATH", &adbc)
            .output()
            .unwrap()
    };
    // 2.449 → 2.449 → 2.45 → 2.5 → 3; -7.251 → -7.251 → -7.25 → -7.3 → -7:
    // the sum is -4.
    for source in ["d.csv", "{connection: lite, table: d}"] {
        write(source, 4);
        let out = run(&["eval", "--format", "csv"]);
        assert!(out.status.success(), "{source}: {}", printed(&out));
        assert_eq!(String::from_utf8_lossy(&out.stdout), "k\n-4\n", "{source}");
    }
    write("{connection: lite, table: d}", 7);
    let started = std::time::Instant::now();
    for args in [&["eval"][..], &["sql"], &["sql", "--dialect", "bigquery"]] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", printed(&out));
        assert!(
            printed(&out).contains("kpi::sql_too_long"),
            "{args:?}: {}",
            printed(&out)
        );
    }
    let explained = run(&["explain", "k"]);
    assert!(
        String::from_utf8_lossy(&explained.stdout)
            .contains("(not printed: a row expression's SQL would pass 1 MiB)"),
        "{}",
        printed(&explained)
    );
    assert!(started.elapsed().as_secs() < 60, "refused before printing");
    // Over files the same nest is evaluated.
    write("d.csv", 7);
    let out = run(&["eval", "--format", "csv"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "k\n-4\n",
        "{}",
        printed(&out)
    );
}

/// A schema name no run has used: this process's id and start and a count.
/// The process id alone comes round again, and a schema an earlier run left
/// behind (a run stopped part way) then held its tables: Spark refused to
/// make a table where the earlier run's files still were.
fn fresh_schema() -> String {
    static START: std::sync::OnceLock<u128> = std::sync::OnceLock::new();
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let start = START.get_or_init(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis())
    });
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("sales_{}_{start}_{n}", std::process::id())
}

/// Rows of a stock on a database that end before they start are counted
/// by the database (one `COUNT(*)`) and said as a file's are. By hand: of
/// three subscriptions, one ends (Feb 1) before it starts (Mar 1).
#[test]
fn a_databases_interval_ending_before_it_starts_is_said() {
    for wh in [Warehouse::postgres(), Warehouse::sqlite()] {
        wh.table(
            "subs",
            "mrr double precision, started_at date, ended_at date, closed_at date",
            &[
                "(100, '2025-01-10', NULL, NULL)".into(),
                "(50, '2025-02-01', '2025-03-15', NULL)".into(),
                "(30, '2025-03-01', '2025-02-01', NULL)".into(),
            ],
        );
        let kpis = "  mrr: {dataset: d, measure: sum(mrr), active: {from: started_at, to: ended_at}}\n";
        let spec = one_table_spec(&wh, "subs", kpis);
        let out = crate::support::kpi(&["--spec", spec.to_str().unwrap(), "check", "--data"]);
        let said = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{said}");
        assert!(
            said.contains("kpi::interval_reversed")
                && said.contains("1 row of dataset `d` ends before it starts"),
            "{:?}: {said}",
            wh.dialect
        );
        if wh.dialect == Dialect::Postgres {
            wh.run(&format!("DROP SCHEMA {} CASCADE", wh.dialect.ident(&wh.schema)));
        }
    }
}

const TEXT_DAY_KPIS: &str = "  days: {dataset: d, measure: 'count(date(s))'}\n  dated: {dataset: d, measure: 'sum(amount where date(s) is not null)'}\n  by_day: {dataset: d, measure: 'sum(amount * day(date(s)))'}\n";

/// `date(s)` of a text is the ISO day it starts with, null for any other
/// text, the same on files and in each database: PostgreSQL's cast failed
/// the whole query on a text of no date, and read `25-01-15` as a day of
/// 2025, as files read it as the year 25; SQLite moved `2025-02-30` to
/// March.
#[test]
fn a_texts_date_is_the_same_on_files_and_databases() {
    // amount, text: the days are February 3 (twice), February 29 of 2024
    // and January 5; the rest are no days.
    let rows = [
        (7, "2025-02-03"),
        (6, "2025-02-03 10:00"),
        (11, "2024-2-29"),
        (13, " 2025-1-5T10:00"),
        (5, "25-01-15"),
        (1, "nope"),
        (2, "2025-02-30"),
        (3, ""),
        (17, "2025-01-312"),
        (19, "2023-02-29"),
        (23, "0000-01-01"),
        (29, "2025-13-01"),
        // Spaces are trimmed, as SQL's TRIM trims them; a tab is not.
        (31, "\t2025-01-05"),
    ];
    let want = "days,dated,by_day\n4,37,423\n"; // 7 + 6 + 11 + 13; 7·3 + 6·3 + 11·29 + 13·5
    let dir = temp_dir("text-days");
    let mut csv = String::from("amount,s,closed_at\n");
    for (amount, s) in rows {
        csv.push_str(&format!("{amount},\"{s}\",2025-01-05\n"));
    }
    std::fs::write(dir.join("d.csv"), csv).unwrap();
    let spec = "datasets:\n  d: {source: d.csv, time: closed_at, columns: {s: string}}\nkpis:\n";
    std::fs::write(dir.join("s.yaml"), format!("{spec}{TEXT_DAY_KPIS}")).unwrap();
    let (code, out, err) = kpi_in(&dir, &["--spec", "s.yaml", "eval", "--format", "csv", "-q"]);
    assert_eq!((code, out.as_str()), (Some(0), want), "{err}");
    let day = Date::parse("2025-01-05").unwrap();
    for wh in Warehouse::every() {
        let d = wh.dialect;
        let values: Vec<String> = rows
            .iter()
            .map(|(amount, s)| {
                let s = if s.is_empty() {
                    "NULL".to_string()
                } else {
                    d.string(s)
                };
                format!("({amount}, {s}, {})", d.date_lit(day))
            })
            .collect();
        let columns = format!("amount {}, s {}, closed_at date", d.double_type(), d.text_type());
        wh.table("text_days", &columns, &values);
        kpi::data::adbc::disconnect();
        let out = checked_then_evaluated(&wh, "text_days", TEXT_DAY_KPIS, &[]);
        assert_eq!(out, want, "{d:?}");
    }
}

/// A table name mistyped (`dealz`) is told the table nearest it, on each
/// database, by `kpi check --data` and `kpi eval` alike; a name nothing is
/// near is told the tables of its schema.
#[test]
fn a_mistyped_table_is_told_the_nearest_one() {
    for wh in Warehouse::every() {
        let d = wh.dialect;
        wh.table(
            "quota_targets",
            &format!("amount {}, closed_at date", d.double_type()),
            &[format!("(1, {})", d.date_lit(Date::parse("2025-01-05").unwrap()))],
        );
        kpi::data::adbc::disconnect();
        let kpis = "  n: {dataset: d, measure: count()}\n";
        let told = |table: &str| -> Vec<String> {
            let spec = one_table_spec(&wh, table, kpis);
            [&["eval"][..], &["check", "--data"][..]]
                .iter()
                .map(|command| {
                    let mut args = vec!["--spec", spec.to_str().unwrap()];
                    args.extend_from_slice(command);
                    let out = crate::support::kpi(&args);
                    assert_ne!(out.status.code(), Some(0), "{d:?}");
                    printed(&out).split_whitespace().collect::<Vec<_>>().join(" ")
                })
                .collect()
        };
        let schema = &wh.schema;
        for said in told("quota_target") {
            let hint = format!("did you mean `{schema}.quota_targets`?");
            assert!(said.contains(&hint), "{d:?}: {said}");
        }
        for said in told("nothing_like_it") {
            let hint = format!("the tables of `{schema}`: ");
            assert!(
                said.contains(&hint) && said.contains("`quota_targets`"),
                "{d:?}: {said}"
            );
        }
    }
}

/// Texts are ordered by their bytes, as on files, whatever PostgreSQL's
/// collation: under a language's (`en-US`, as most servers are set up),
/// `apple` < `b` < `Banana`, so `name < "b"` held for 2 of these names
/// instead of 3. By bytes (capitals first): below "b" apple, Banana and
/// Apple; from "b" on only cherry, so `greatest(name, "b")` is the name
/// once; from "B" to "a" only Banana.
#[test]
fn texts_are_ordered_by_bytes_whatever_the_collation() {
    let wh = Warehouse::postgres();
    let rows = ["apple", "Banana", "cherry", "Apple"].map(|n| format!("('{n}', DATE '2025-01-05')"));
    wh.table(
        "collated",
        "name text COLLATE \"en-US-x-icu\", closed_at date",
        &rows,
    );
    let kpis = "  below_b: {dataset: d, measure: 'count(where name < \"b\")'}\n  from_b: {dataset: d, measure: 'count(where greatest(name, \"b\") == name)'}\n  capital_b_to_a: {dataset: d, measure: 'count(where name between \"B\" and \"a\")'}\n  least_is_b: {dataset: d, measure: 'count(where least(name, \"b\") == \"b\")'}\n";
    let csv = checked_then_evaluated(&wh, "collated", kpis, &[]);
    assert_eq!(csv, "below_b,from_b,capital_b_to_a,least_is_b\n3,1,1,1\n");
    kpi::data::adbc::disconnect();
}

/// A product beyond what a double holds (1e10 × 1e305) stops PostgreSQL's statement
/// (files, DuckDB and SQLite give the row no value, with
/// `kpi::overflow`): the failure says so, besides the database's words.
#[test]
fn an_overflow_on_postgresql_is_said_as_one() {
    let wh = Warehouse::postgres();
    wh.table(
        "huge",
        "amount double precision, closed_at date",
        &["(1e10, DATE '2025-01-05')".to_string()],
    );
    let spec = one_table_spec(
        &wh,
        "huge",
        "  scaled: {dataset: d, measure: sum(amount * 1e305)}\n",
    );
    let out = crate::support::kpi(&["--spec", spec.to_str().unwrap(), "eval"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("kpi::query_failed") && err.contains("value out of range"),
        "{err}"
    );
    assert!(err.contains("beyond what a double holds"), "{err}");
    assert!(err.contains("kpi::overflow"), "{err}");
    kpi::data::adbc::disconnect();
}

/// Fractions as dimensions are written in full and shortest, as files write
/// them, on every database: Spark wrote a double from 10^7 in Java's
/// notation (`3.931334297144042E12`, `1.23456785E7`) and a decimal with its
/// scale's zeros (`0.10`).
#[test]
fn fractions_as_text_are_written_out_everywhere() {
    let rows = [
        ("3931334297144.042", "0.10"),
        ("0.0001", "2.50"),
        ("12345678.5", "3.00"),
        ("-0.004781920476028408", "12.25"),
    ];
    let want_x = "x,n\n-0.004781920476028408,1\n0.0001,1\n12345678.5,1\n3931334297144.042,1\n";
    let want_price = "price,n\n0.1,1\n2.5,1\n3,1\n12.25,1\n";
    let kpis = "  n: {dataset: d, measure: count()}\n";
    let dir = temp_dir("fractions-as-text");
    let mut csv = String::from("x,price,closed_at\n");
    for (x, price) in rows {
        csv.push_str(&format!("{x},{price},2025-01-05\n"));
    }
    std::fs::write(dir.join("d.csv"), csv).unwrap();
    std::fs::write(
        dir.join("s.yaml"),
        format!("datasets:\n  d: {{source: d.csv, time: closed_at}}\nkpis:\n{kpis}"),
    )
    .unwrap();
    let spec = dir.join("s.yaml");
    assert_eq!(
        evaluated_csv(spec.to_str().unwrap(), &["--by", "x", "-q"]),
        want_x,
        "files"
    );
    let day = Date::parse("2025-01-05").unwrap();
    for wh in Warehouse::every() {
        let d = wh.dialect;
        let values: Vec<String> = rows
            .iter()
            .map(|(x, price)| format!("({x}, {price}, {})", d.date_lit(day)))
            .collect();
        let columns = format!("x {}, price decimal(5, 2), closed_at date", d.double_type());
        wh.table("fractions", &columns, &values);
        kpi::data::adbc::disconnect();
        let spec = one_table_spec(&wh, "fractions", kpis);
        let spec = spec.to_str().unwrap();
        assert_eq!(evaluated_csv(spec, &["--by", "x", "-q"]), want_x, "{d:?}");
        assert_eq!(evaluated_csv(spec, &["--by", "price", "-q"]), want_price, "{d:?}");
    }
}

/// A warehouse's datetimes declared `date` (a spec written for CSV exports
/// run on the warehouse's `TIMESTAMP` column) are their dates, as in
/// files: a comparison with a date takes in the whole day, the latest is
/// a date, and days and ranges are the dates'. It was
/// `kpi::declared_type_contradicted`. By hand: 10 and 20 on the 31st
/// (midnight, 14:00), 40 on February 1st.
#[test]
fn datetimes_declared_dates_are_their_days_in_databases() {
    for wh in Warehouse::every() {
        let d = wh.dialect;
        let stamp = |t: &str| match d {
            Dialect::Sqlite => format!("'{t}'"),
            _ => format!("TIMESTAMP '{t}'"),
        };
        wh.table(
            "stamped_days",
            &format!("amount {}, closed_at {}", d.double_type(), d.timestamp_type()),
            &[
                format!("(10, {})", stamp("2025-01-31 00:00:00")),
                format!("(20, {})", stamp("2025-01-31 14:00:00")),
                format!("(40, {})", stamp("2025-02-01 09:30:00")),
            ],
        );
        kpi::data::adbc::disconnect();
        let kpis = "  total: {dataset: d, measure: sum(amount)}\n  by_31st: {dataset: d, measure: 'sum(amount where closed_at <= @2025-01-31)'}\n  last: {dataset: d, measure: max(closed_at)}\n";
        let spec = one_table_spec(&wh, "stamped_days", kpis);
        declare_closed_at(&spec, "date");
        let spec = spec.to_str().unwrap();
        let check = crate::support::kpi(&["--spec", spec, "check", "--data"]);
        assert_eq!(check.status.code(), Some(0), "{d:?}: {}", printed(&check));
        assert_eq!(
            evaluated_csv(spec, &["--grain", "day"]),
            "period,total,by_31st,last\n2025-01-31,30,30,2025-01-31\n2025-02-01,40,0,2025-02-01\n",
            "{d:?}"
        );
        assert_eq!(
            evaluated_csv(spec, &["--from", "2025-01-01", "--to", "2025-01-31"]),
            "total,by_31st,last\n30,30,2025-01-31\n",
            "{d:?}"
        );
    }
}
