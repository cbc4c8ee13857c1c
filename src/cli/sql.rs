//! `kpi sql`: the SQL statements that evaluate a query's datasets on a
//! database, one per scan, as `eval` would run them on a connection.

use std::path::Path;

use kpi::spec::model::Dialect;

#[derive(clap::Args)]
pub struct Args {
    /// KPIs whose SQL to print (default: every KPI that can take the flags).
    #[arg(value_delimiter = ',', value_parser = super::names::listed_name_or_none)]
    kpis: Vec<String>,
    /// The query's flags, as `eval` takes them.
    #[command(flatten)]
    query: super::eval::QueryArgs,
    /// The SQL dialect (default: each dataset's connection's; DuckDB for files; databricks is Spark SQL).
    #[arg(long, value_enum)]
    dialect: Option<DialectArg>,
    /// Write to this file (whole or not at all) instead of standard output.
    #[arg(long, short)]
    output: Option<std::path::PathBuf>,
}

#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
enum DialectArg {
    #[value(alias = "postgresql")]
    Postgres,
    Duckdb,
    Snowflake,
    Bigquery,
    // Databricks SQL is Spark SQL.
    #[value(alias = "spark")]
    Databricks,
    Sqlite,
}

impl From<DialectArg> for Dialect {
    fn from(d: DialectArg) -> Dialect {
        match d {
            DialectArg::Postgres => Dialect::Postgres,
            DialectArg::Duckdb => Dialect::DuckDb,
            DialectArg::Snowflake => Dialect::Snowflake,
            DialectArg::Bigquery => Dialect::BigQuery,
            DialectArg::Databricks => Dialect::Spark,
            DialectArg::Sqlite => Dialect::Sqlite,
        }
    }
}

pub fn run(spec: &Path, args: &Args) -> u8 {
    let kpis = super::names::given(&args.kpis);
    let q = &args.query;
    // Names may be KPIs or funnels; no names means every KPI.
    let (outcome, funnels, kpis) = match super::checked_names(spec, &kpis, q, super::DataWarnings::Unsaid) {
        Ok(checked) => checked,
        Err(code) => return code,
    };
    let model = &outcome.checked.model;
    let query = match q.query(kpis.clone(), &model.calendar) {
        Ok(query) => query,
        Err(code) => return code,
    };
    let dialect = args.dialect.map(Dialect::from);
    let today = kpi::execute::today();
    let kpi_statements = |query: &kpi::plan::Query| {
        kpi::check::query::with_fitting_kpis(model, query).and_then(|(mut query, mut left_out)| {
            // Named KPIs are printed or refused; of every KPI, those the
            // dialect computes exactly.
            if kpis.is_empty() {
                let (kept, inexact) = kpi::sql::exact_kpis(model, std::mem::take(&mut query.kpis), dialect);
                if kept.is_empty() && !inexact.is_empty() {
                    return Err(inexact);
                }
                query.kpis = kept;
                left_out.extend(inexact);
            }
            let plan = kpi::plan::plan(model, &query)?;
            Ok((kpi::sql::query_statements(&plan, dialect, today)?, left_out))
        })
    };
    let statements = match (kpis.is_empty(), funnels.is_empty()) {
        // Funnels named alone: their statements only.
        (true, false) => Ok((Vec::new(), Vec::new())),
        _ => kpi_statements(&query),
    }
    .and_then(|(mut statements, left_out)| {
        for f in &funnels {
            if let Some(found) = kpi::sql::funnel_statements(model, f, &query, dialect, today) {
                statements.extend(found?);
            }
        }
        Ok((statements, left_out))
    });
    match statements {
        Ok((statements, left_out)) => {
            super::left_out_notice(&left_out);
            super::emit(args.output.as_deref(), &sql_text(&statements))
        }
        Err(diags) => {
            eprint!(
                "{}",
                kpi::report::diagnostics::to_human(&diags, &outcome.sources, super::color_stderr())
            );
            1
        }
    }
}

/// Each statement after a comment saying what it computes, ended by `;`.
fn sql_text(statements: &[kpi::sql::Statement]) -> String {
    if statements.is_empty() {
        return "-- no dataset is read\n".to_string();
    }
    statements
        .iter()
        .map(|s| format!("-- {}\n{};\n", s.title.replace('\n', " "), s.sql))
        .collect::<Vec<_>>()
        .join("\n")
}
