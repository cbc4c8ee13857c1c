//! Databases through ADBC (Arrow Database Connectivity): a driver library
//! is loaded at run time, a statement runs, and its Arrow batches enter
//! Polars through the Arrow C data interface, column by column, never row
//! by row.
//!
//! A driver named by its short name is found in the folders of
//! `KPI_ADBC_PATH` (`libadbc_driver_<name>.so`, or DuckDB's `libduckdb.so`),
//! then in the Python packages pip installs it as, then by the ADBC driver
//! manager's own search (driver manifests), then on the system library
//! path. Secrets come from the environment (`${VAR}` in the URI and
//! options) and never appear in a message: what a driver says is shown with
//! the URI and option values blanked out.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;

use adbc_core::options::{AdbcVersion, OptionDatabase, OptionValue};
use adbc_core::{Connection as _, Database as _, Driver as _, Statement as _};
use adbc_driver_manager::{ManagedConnection, ManagedDriver};
use arrow_array::{Array, RecordBatchReader, StructArray};
use polars::prelude::*;

use super::diagnostics as diag;
use crate::check::ir::ConnectionModel;
use crate::diagnostic::Diagnostic;

thread_local! {
    /// Open connections of this thread, by connection name and expanded
    /// URI: a run that evaluates many queries connects once.
    static OPEN: RefCell<Open> = RefCell::new(Open::default());
}

/// Connections that could not be made in this process, with why: a server
/// that does not answer is waited for once (its timeout), not again by
/// every later statement or thread of the same run.
static UNREACHABLE: std::sync::Mutex<Vec<((String, String), Diagnostic)>> = std::sync::Mutex::new(Vec::new());

fn unreachable(key: &(String, String)) -> Option<Diagnostic> {
    let known = UNREACHABLE.lock().unwrap_or_else(|e| e.into_inner());
    known.iter().find(|(k, _)| k == key).map(|(_, d)| d.clone())
}

fn remember_unreachable(key: (String, String), why: &Diagnostic) {
    if why.code == "kpi::connection_failed" {
        let mut known = UNREACHABLE.lock().unwrap_or_else(|e| e.into_inner());
        known.push((key, why.clone()));
    }
}

#[derive(Default)]
struct Open(HashMap<(String, String), ManagedConnection>);

impl Drop for Open {
    /// A thread that ends with connections open leaves them to the process:
    /// drivers (libpq, DuckDB) keep thread-local state of their own, which
    /// may already be gone when this thread's destructors run, so closing
    /// here can crash. `disconnect` closes them while the thread is alive.
    fn drop(&mut self) {
        for (_, c) in self.0.drain() {
            std::mem::forget(c);
        }
    }
}

/// Runs `sql` on the connection and returns its rows.
pub fn query(c: &ConnectionModel, sql: &str) -> Result<DataFrame, Diagnostic> {
    let settings = Settings::of(c)?;
    let key = (c.name.clone(), settings.uri.clone().unwrap_or_default());
    OPEN.with(|open| {
        let open = &mut open.borrow_mut().0;
        if let Some(why) = unreachable(&key) {
            return Err(why);
        }
        if !open.contains_key(&key) {
            let connection =
                connect(c, &settings).inspect_err(|why| remember_unreachable(key.clone(), why))?;
            open.insert(key.clone(), connection);
        }
        let Some(conn) = open.get_mut(&key) else {
            return Err(diag::connection_failed(c, "the connection was lost"));
        };
        // A local database (DuckDB, SQLite) is open once connected: a
        // refused connection in its statement is the statement's own (a
        // remote file it reads).
        let lazy = !settings.in_process;
        let failed = |e: &str| {
            let why = settings.redact(e);
            if !(lazy && never_connected(&why)) {
                return diag::query_failed(c, &why, sql);
            }
            let d = diag::connection_failed(c, &why);
            remember_unreachable(key.clone(), &d);
            d
        };
        // The statement must outlive its reader: drivers invalidate the
        // results of a closed statement.
        let mut statement = conn.new_statement().map_err(|e| failed(&e.message))?;
        statement.set_sql_query(sql).map_err(|e| failed(&e.message))?;
        let reader = statement.execute().map_err(|e| failed(&e.message))?;
        let frame = to_frame(reader).map_err(|e| failed(&e));
        drop(statement);
        frame
    })
}

/// Closes this thread's open connections (a DuckDB file is locked while
/// open, for one).
pub fn disconnect() {
    OPEN.with(|open| open.borrow_mut().0.clear());
}

/// A connection's URI and options with `${VAR}` expanded.
struct Settings {
    uri: Option<String>,
    options: Vec<(String, String)>,
    /// The URI is a database file's path (DuckDB, SQLite), no secret:
    /// messages keep it, so that a wrong path can be seen.
    uri_is_path: bool,
    /// The database runs in this process (DuckDB, SQLite).
    in_process: bool,
}

impl Settings {
    fn of(c: &ConnectionModel) -> Result<Settings, Diagnostic> {
        let expand = |text: &str| {
            crate::spec::env::expand_env(text).map_err(|e| match e {
                crate::spec::env::ExpandError::Unset(var) => diag::connection_variable_unset(c, &var),
                crate::spec::env::ExpandError::Malformed => diag::connection_failed(c, "a malformed `${…}`"),
            })
        };
        let uri = c.uri.as_deref().map(expand).transpose()?;
        let options = c
            .options
            .iter()
            .map(|(k, v)| Ok((k.clone(), expand(v)?)))
            .collect::<Result<_, Diagnostic>>()?;
        let in_process = is_duckdb(&c.driver) || driver_is(&c.driver, "sqlite");
        let mut s = Settings {
            uri,
            options,
            uri_is_path: false,
            in_process,
        };
        if in_process {
            s.uri = s.uri.as_deref().map(|u| local_database(c, &s, u)).transpose()?;
            // A file's path is no secret; a URI with parameters (a
            // MotherDuck token, an encryption key) may hold one.
            s.uri_is_path = s
                .uri
                .as_deref()
                .is_some_and(|u| !u.contains('?') && !not_a_file(u));
        }
        Ok(s)
    }

    /// Whether a connection option is set to `value` (case aside).
    fn has_option(&self, key: &str, value: &str) -> bool {
        self.options
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case(key) && v.eq_ignore_ascii_case(value))
    }

    /// A driver's message with every secret it might repeat blanked out.
    fn redact(&self, message: &str) -> String {
        let mut out = message.to_string();
        let uri = self.uri.iter().filter(|_| !self.uri_is_path);
        let secrets = uri.chain(self.options.iter().map(|(_, v)| v));
        for s in secrets.filter(|s| s.len() >= 4) {
            out = out.replace(s.as_str(), "…");
        }
        // Passwords inside a URI may appear on their own.
        let uri = self
            .uri
            .as_deref()
            .filter(|_| !self.uri_is_path)
            .unwrap_or_default();
        for span in crate::spec::env::password_spans(uri) {
            let pw = &uri[span];
            // Too short to blank without blanking other words.
            if pw.len() >= 4 {
                out = out.replace(pw, "…");
            }
        }
        out
    }
}

/// The database file a DuckDB or SQLite connection opens. A relative path
/// is the spec file's folder's, as every path of a spec is. A file that is
/// not there is refused rather than made: kpi reads databases, and a typo
/// in a path would leave an empty database behind and then say that its
/// table is missing. A connection that asks for a new file (SQLite's
/// `mode=rwc`, DuckDB's `access_mode: read_write`) gets it.
fn local_database(c: &ConnectionModel, s: &Settings, uri: &str) -> Result<String, Diagnostic> {
    if is_duckdb(&c.driver) {
        if !is_duckdb_file(uri) {
            return Ok(uri.to_string());
        }
        let path = c.base_dir.join(uri);
        if !path.exists() && !s.has_option("access_mode", "read_write") {
            return Err(diag::database_file_missing(c, &path.display().to_string()));
        }
        return Ok(path.display().to_string());
    }
    // SQLite: a path, or a `file:` URI whose parameters follow `?`.
    let (file, params) = match uri.strip_prefix("file:") {
        Some(u) => {
            let cut = u.find(['?', '#']).unwrap_or(u.len());
            (&u[..cut], Some(&u[cut..]))
        }
        None => (uri, None),
    };
    let params_text = params.unwrap_or("");
    // `file:///abs` and `file://localhost/abs` name `/abs`.
    let file = file
        .strip_prefix("//localhost")
        .or_else(|| file.strip_prefix("//"))
        .unwrap_or(file);
    if in_memory(file) || params_text.contains("mode=memory") {
        return Ok(uri.to_string());
    }
    let path = c.base_dir.join(file);
    // A `%XX` escape would be the file's name only once decoded.
    let unsure = params.is_some() && file.contains('%');
    if !unsure && !path.exists() && !params_text.contains("mode=rwc") {
        return Err(diag::database_file_missing(c, &path.display().to_string()));
    }
    Ok(match params {
        Some(rest) => format!("file:{}{rest}", path.display()),
        None => path.display().to_string(),
    })
}

/// A DuckDB database that is no file here: MotherDuck's (`md:`), or one
/// behind a URL.
fn not_a_file(uri: &str) -> bool {
    uri.starts_with("md:") || uri.starts_with("motherduck:") || uri.contains("://")
}

/// A database of DuckDB or SQLite held in memory, not in a file.
fn in_memory(file: &str) -> bool {
    file.is_empty() || file.starts_with(":memory:")
}

/// Whether a DuckDB database is a file here.
fn is_duckdb_file(uri: &str) -> bool {
    !in_memory(uri) && !not_a_file(uri)
}

fn connect(c: &ConnectionModel, s: &Settings) -> Result<ManagedConnection, Diagnostic> {
    let mut driver = load_driver(c)?;
    let duckdb = is_duckdb(&c.driver);
    let mut opts: Vec<(OptionDatabase, OptionValue)> = Vec::new();
    if let Some(uri) = &s.uri {
        // DuckDB's own driver names its database file `path`.
        let (key, uri) = if duckdb {
            (OptionDatabase::Other("path".into()), uri.clone())
        } else if driver_is(&c.driver, "postgresql") {
            (OptionDatabase::Uri, with_connect_timeout(uri))
        } else {
            (OptionDatabase::Uri, uri.clone())
        };
        opts.push((key, OptionValue::String(uri)));
    }
    for (k, v) in &s.options {
        opts.push((OptionDatabase::from(k.as_str()), OptionValue::String(v.clone())));
    }
    // kpi only reads. A DuckDB file opened to write is locked to one
    // process, so a second run beside it (a CI job, a report while
    // `eval` runs) failed ("Could not set lock on file"); opened to read,
    // any number of runs read it at once.
    let access_given = s
        .options
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("access_mode"));
    if duckdb && !access_given && s.uri.as_deref().is_some_and(is_duckdb_file) {
        let read_only = OptionValue::String("read_only".into());
        opts.push((OptionDatabase::Other("access_mode".into()), read_only));
    }
    let database = driver
        .new_database_with_opts(opts)
        .map_err(|e| diag::connection_failed(c, &s.redact(&e.message)))?;
    let mut connection = database
        .new_connection()
        .map_err(|e| diag::connection_failed(c, &s.redact(&e.message)))?;
    in_utc(&mut connection, c.dialect);
    Ok(connection)
}

/// Sets the session's zone to UTC, so that zoned datetimes (instants) are
/// put in days and periods in the zone they come back in, whatever the
/// server's or the client's zone (`TimeZone`, `PGTZ`, `TZ`): otherwise the
/// same spec over the same table gave other months on another machine.
/// A database that cannot set it (DuckDB without its ICU extension) has
/// its instants in UTC already.
fn in_utc(connection: &mut ManagedConnection, dialect: crate::spec::model::Dialect) {
    use crate::sql::dialect::Spelling;
    let Some(sql) = dialect.utc_session() else {
        return;
    };
    if let Ok(mut statement) = connection.new_statement() {
        if statement.set_sql_query(sql).is_ok() {
            let _ = statement.execute_update();
        }
    }
}

/// Whether `driver` is the database `name`'s: its short name, or a
/// library whose file name says so.
fn driver_is(driver: &str, name: &str) -> bool {
    driver == name || driver.rsplit('/').next().is_some_and(|f| f.contains(name))
}

fn is_duckdb(driver: &str) -> bool {
    driver_is(driver, "duckdb")
}

/// Whether a statement failed because the server was never reached:
/// drivers that connect lazily (Spark Connect's gRPC) say so only when
/// the first statement runs.
fn never_connected(why: &str) -> bool {
    let why = why.to_ascii_lowercase();
    ["connection error", "error while dialing", "connection refused"]
        .iter()
        .any(|m| why.contains(m))
}

/// Seconds libpq waits for a PostgreSQL server that does not answer.
const CONNECT_TIMEOUT_SECONDS: u32 = 10;

/// A libpq connection string that gives up on a silent server: without
/// `connect_timeout` libpq waits as long as the system's TCP connect does
/// (two minutes and more for a host that drops packets), which a CI job
/// reads as a hang. A URI that sets its own keeps it.
fn with_connect_timeout(uri: &str) -> String {
    let t = CONNECT_TIMEOUT_SECONDS;
    if uri.contains("connect_timeout") {
        uri.to_string()
    } else if uri.starts_with("postgres://") || uri.starts_with("postgresql://") {
        let sep = match (uri.contains('?'), uri.ends_with(['?', '&'])) {
            (_, true) => "",
            (true, false) => "&",
            (false, false) => "?",
        };
        format!("{uri}{sep}connect_timeout={t}")
    } else if uri.trim().is_empty() {
        format!("connect_timeout={t}")
    } else {
        // libpq's `key=value` form.
        format!("{uri} connect_timeout={t}")
    }
}

/// The library of a driver: a path as given, or a short name searched for.
fn load_driver(c: &ConnectionModel) -> Result<ManagedDriver, Diagnostic> {
    let version = AdbcVersion::V110;
    let duckdb_entry: &[u8] = b"duckdb_adbc_init";
    let entry = is_duckdb(&c.driver).then_some(duckdb_entry);
    if crate::check::connections::is_driver_path(&c.driver) {
        // A relative path is the spec's; a bare file name is the loader's
        // to find.
        let library = match c.driver.contains('/') {
            true => c.base_dir.join(&c.driver),
            false => PathBuf::from(&c.driver),
        };
        return ManagedDriver::load_dynamic_from_filename(library, entry, version)
            .map_err(|e| diag::driver_not_loaded(c, &e.message));
    }
    let file = match c.driver.as_str() {
        "duckdb" => "libduckdb.so".to_string(),
        name => format!("libadbc_driver_{name}.so"),
    };
    for dir in search_path(&c.driver) {
        let candidate = dir.join(&file);
        if candidate.is_file() {
            return ManagedDriver::load_dynamic_from_filename(&candidate, entry, version)
                .map_err(|e| diag::driver_not_loaded(c, &e.message));
        }
    }
    let flags = adbc_core::LOAD_FLAG_DEFAULT;
    if let Ok(d) = ManagedDriver::load_from_name(&c.driver, entry, version, flags, None) {
        return Ok(d);
    }
    let library = match c.driver.as_str() {
        "duckdb" => "duckdb".to_string(),
        name => format!("adbc_driver_{name}"),
    };
    ManagedDriver::load_dynamic_from_name(&library, entry, version)
        .map_err(|_| diag::driver_not_found(c, &file))
}

/// The folders a short name's library is looked for in, in order: those of
/// `KPI_ADBC_PATH`, then the package folder (`adbc_driver_NAME`) that
/// `pip install adbc-driver-NAME` fills, in the active virtual or conda
/// environment, the user's packages and the system's. A user who followed
/// the help of a missing driver needs no variable set.
fn search_path(driver: &str) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("KPI_ADBC_PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if driver != "duckdb" {
        let package = format!("adbc_driver_{driver}");
        dirs.extend(python_packages().into_iter().map(|d| d.join(&package)));
    }
    dirs
}

/// The folders Python installs packages into, most particular first.
fn python_packages() -> Vec<PathBuf> {
    let home = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local"));
    let prefixes = ["VIRTUAL_ENV", "CONDA_PREFIX"]
        .iter()
        .filter_map(|v| std::env::var_os(v).map(PathBuf::from))
        .chain(home)
        .chain(["/usr/local", "/usr"].map(PathBuf::from));
    let mut folders = Vec::new();
    for prefix in prefixes {
        let Ok(entries) = std::fs::read_dir(prefix.join("lib")) else {
            continue;
        };
        let mut pythons: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with("python3"))
            .map(|e| e.path())
            .collect();
        pythons.sort();
        for python in pythons.iter().rev() {
            folders.push(python.join("site-packages"));
            folders.push(python.join("dist-packages"));
        }
    }
    folders
}

/// Every batch of a result, as one frame (columns typed even with no rows).
fn to_frame(reader: Box<dyn RecordBatchReader + Send>) -> Result<DataFrame, String> {
    let schema = reader.schema();
    let mut frames = Vec::new();
    for batch in reader {
        frames.push(batch_frame(batch.map_err(|e| e.to_string())?)?);
    }
    if frames.is_empty() {
        frames.push(batch_frame(arrow_array::RecordBatch::new_empty(schema))?);
    }
    let mut out = frames.remove(0);
    for f in frames {
        out.vstack_mut(&f).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// One Arrow batch into a Polars frame through the C data interface.
fn batch_frame(batch: arrow_array::RecordBatch) -> Result<DataFrame, String> {
    let (batch, numeric) = without_extensions(batch)?;
    let mut df = imported_frame(batch)?;
    for name in numeric {
        let number = df
            .column(&name)
            .and_then(|c| c.cast(&DataType::Float64))
            .map_err(|e| e.to_string())?;
        df.with_column(number).map_err(|e| e.to_string())?;
    }
    Ok(df)
}

/// The batch with its columns' extension types taken off (Polars makes no
/// series of an extension type): their values as stored, and the names of
/// those that are numbers sent as text (PostgreSQL's `NUMERIC`, which its
/// driver sends as an opaque type over text), to be read as numbers.
/// Dictionary-encoded texts (DuckDB's `ENUM`) and UUIDs (PostgreSQL's
/// `uuid`, sent as 16 bytes) become plain texts. Columns of a type Polars
/// has none for (an interval, a union, a fixed-size list), which it would
/// stop the process on, are left out: the other columns are read, and a
/// KPI that names such a column is told its dataset has no such column.
/// So is PostgreSQL's `money`, sent as whole cents, which SQL cannot cast
/// to a double (a sum of it would fail on the server).
fn without_extensions(
    batch: arrow_array::RecordBatch,
) -> Result<(arrow_array::RecordBatch, Vec<String>), String> {
    const NAME: &str = "ARROW:extension:name";
    const METADATA: &str = "ARROW:extension:metadata";
    let money = |f: &arrow_schema::Field| f.metadata().get("POSTGRESQL:type").is_some_and(|t| t == "money");
    let schema = batch.schema();
    let plain =
        |f: &arrow_schema::Field| !f.metadata().contains_key(NAME) && importable(f.data_type()) && !money(f);
    if schema.fields().iter().all(|f| plain(f)) {
        return Ok((batch, Vec::new()));
    }
    let mut numeric = Vec::new();
    let (mut fields, mut columns) = (Vec::new(), Vec::new());
    for (f, column) in schema.fields().iter().zip(batch.columns()) {
        let as_text = |texts| {
            (
                f.as_ref().clone().with_data_type(arrow_schema::DataType::Utf8),
                texts,
            )
        };
        let (field, column) = match (texts_of_dictionary(column), texts_of_uuids(f, column)) {
            (Some(texts), _) | (None, Some(texts)) => as_text(texts),
            _ if money(f) => continue,
            _ if importable(f.data_type()) => (f.as_ref().clone(), column.clone()),
            _ => continue,
        };
        let mut metadata = field.metadata().clone();
        let type_name = metadata
            .get(METADATA)
            .and_then(|m| serde_json::from_str::<serde_json::Value>(m).ok())
            .and_then(|m| m.get("type_name")?.as_str().map(str::to_string));
        if metadata.remove(NAME).is_some() && type_name.as_deref() == Some("numeric") {
            numeric.push(field.name().clone());
        }
        metadata.remove(METADATA);
        fields.push(field.with_metadata(metadata));
        columns.push(column);
    }
    let schema = arrow_schema::Schema::new_with_metadata(fields, schema.metadata().clone());
    let options = arrow_array::RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    let batch =
        arrow_array::RecordBatch::try_new_with_options(std::sync::Arc::new(schema), columns, &options)
            .map_err(|e| e.to_string())?;
    Ok((batch, numeric))
}

/// A dictionary-encoded column of texts as plain texts (Polars, as built
/// here, has no type for dictionaries); none for any other column.
fn texts_of_dictionary(column: &arrow_array::ArrayRef) -> Option<arrow_array::ArrayRef> {
    use arrow_array::cast::AsArray;
    let dictionary = column.as_any_dictionary_opt()?;
    let values = dictionary.values();
    // (Keys into no values, as a result without rows has, are all null.)
    let keys = match values.is_empty() {
        true => Vec::new(),
        false => dictionary.normalized_keys(),
    };
    let text = |i: usize| -> Option<String> {
        let k = *keys.get(i)?;
        if column.is_null(i) || values.is_null(k) {
            return None;
        }
        match values.data_type() {
            arrow_schema::DataType::Utf8 => Some(values.as_string::<i32>().value(k).to_string()),
            arrow_schema::DataType::LargeUtf8 => Some(values.as_string::<i64>().value(k).to_string()),
            arrow_schema::DataType::Utf8View => Some(values.as_string_view().value(k).to_string()),
            _ => None,
        }
    };
    if !matches!(
        values.data_type(),
        arrow_schema::DataType::Utf8 | arrow_schema::DataType::LargeUtf8 | arrow_schema::DataType::Utf8View
    ) {
        return None;
    }
    let texts: arrow_array::StringArray = (0..column.len()).map(text).collect();
    Some(std::sync::Arc::new(texts))
}

/// A column of UUIDs (the `arrow.uuid` extension: 16 bytes each) as their
/// text, `a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11`, as the database writes
/// them; none for any other column.
fn texts_of_uuids(
    field: &arrow_schema::Field,
    column: &arrow_array::ArrayRef,
) -> Option<arrow_array::ArrayRef> {
    use arrow_array::cast::AsArray;
    use std::fmt::Write as _;
    let uuid = field
        .metadata()
        .get("ARROW:extension:name")
        .is_some_and(|n| n == "arrow.uuid");
    let bytes = column
        .as_fixed_size_binary_opt()
        .filter(|b| uuid && b.value_length() == 16)?;
    let text = |i: usize| -> Option<String> {
        if bytes.is_null(i) {
            return None;
        }
        let mut s = String::with_capacity(36);
        for (k, b) in bytes.value(i).iter().enumerate() {
            if matches!(k, 4 | 6 | 8 | 10) {
                s.push('-');
            }
            let _ = write!(s, "{b:02x}");
        }
        Some(s)
    };
    let texts: arrow_array::StringArray = (0..bytes.len()).map(text).collect();
    Some(std::sync::Arc::new(texts))
}

/// Whether Polars, as built here, takes an Arrow type across the C data
/// interface.
fn importable(t: &arrow_schema::DataType) -> bool {
    use arrow_schema::DataType as A;
    match t {
        A::Interval(_)
        | A::Union(..)
        | A::Dictionary(..)
        | A::FixedSizeList(..)
        | A::ListView(_)
        | A::LargeListView(_)
        | A::RunEndEncoded(..)
        | A::Float16 => false,
        A::List(f) | A::LargeList(f) | A::Map(f, _) => importable(f.data_type()),
        A::Struct(fields) => fields.iter().all(|f| importable(f.data_type())),
        // Polars stops the process on a time zone it does not know.
        A::Timestamp(_, Some(zone)) => TimeZone::opt_try_new(Some(zone.as_ref())).is_ok(),
        _ => true,
    }
}

/// A batch of columns Polars has types for, imported through the C data
/// interface.
#[allow(unsafe_code)]
fn imported_frame(batch: arrow_array::RecordBatch) -> Result<DataFrame, String> {
    let data = StructArray::from(batch).to_data();
    let (array, schema) = arrow_array::ffi::to_ffi(&data).map_err(|e| e.to_string())?;
    // SAFETY: both crates implement the same C structs (the Arrow C data
    // interface, `#[repr(C)]`, identical fields); the array is moved into
    // Polars, which releases it once, and the schema is only read here and
    // released by its own drop.
    let imported = unsafe {
        let schema_ptr =
            &schema as *const arrow_array::ffi::FFI_ArrowSchema as *const polars_arrow::ffi::ArrowSchema;
        let field = polars_arrow::ffi::import_field_from_c(&*schema_ptr).map_err(|e| e.to_string())?;
        let array: polars_arrow::ffi::ArrowArray = std::mem::transmute(array);
        polars_arrow::ffi::import_array_from_c(array, field.dtype).map_err(|e| e.to_string())?
    };
    let Some(columns) = imported
        .as_any()
        .downcast_ref::<polars_arrow::array::StructArray>()
    else {
        return Err("the driver returned a result that is not a table".to_string());
    };
    let series = columns
        .fields()
        .iter()
        .zip(columns.values())
        .map(|(f, values)| Series::from_arrow(f.name.clone(), values.clone()).map(Column::from))
        .collect::<PolarsResult<Vec<Column>>>()
        .map_err(|e| e.to_string())?;
    DataFrame::new_infer_height(series).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgresql_connections_give_up_on_a_silent_server() {
        assert_eq!(
            with_connect_timeout("postgresql://u@h/db"),
            "postgresql://u@h/db?connect_timeout=10"
        );
        assert_eq!(
            with_connect_timeout("postgres://u@h/db?sslmode=disable"),
            "postgres://u@h/db?sslmode=disable&connect_timeout=10"
        );
        assert_eq!(
            with_connect_timeout("host=h dbname=db"),
            "host=h dbname=db connect_timeout=10"
        );
        assert_eq!(
            with_connect_timeout("postgresql://u@h/db?"),
            "postgresql://u@h/db?connect_timeout=10"
        );
        // The user's own wins.
        let own = "postgresql://u@h/db?connect_timeout=3";
        assert_eq!(with_connect_timeout(own), own);
        let pg = |d: &str| driver_is(d, "postgresql");
        assert!(pg("postgresql") && pg("/opt/libadbc_driver_postgresql.so"));
        assert!(!pg("duckdb"));
    }

    /// SQLite's forms of a file: plain, `file:` relative or absolute with
    /// parameters, in memory; relative ones from the spec's folder.
    #[test]
    fn sqlite_files_are_found_from_the_spec_and_must_exist() {
        let dir = crate::testing::temp_dir("local-db");
        std::fs::write(dir.join("w.db"), b"").unwrap();
        let c = ConnectionModel {
            name: "lite".into(),
            driver: "sqlite".into(),
            uri: None,
            dialect: crate::spec::model::Dialect::Sqlite,
            options: Vec::new(),
            span: Default::default(),
            base_dir: dir.clone(),
        };
        let s = Settings {
            uri: None,
            options: Vec::new(),
            uri_is_path: true,
            in_process: true,
        };
        let found = |uri: &str| local_database(&c, &s, uri).map_err(|d| d.message);
        let w = dir.join("w.db").display().to_string();
        assert_eq!(found("w.db"), Ok(w.clone()));
        assert_eq!(found("file:w.db?mode=ro"), Ok(format!("file:{w}?mode=ro")));
        assert_eq!(found(&format!("file://{w}")), Ok(format!("file:{w}")));
        assert_eq!(found(":memory:"), Ok(":memory:".to_string()));
        assert_eq!(found("file:x?mode=memory"), Ok("file:x?mode=memory".to_string()));
        assert!(found("nothere.db").is_err_and(|m| m.contains("no database file")));
        // Asked to make it: made by SQLite.
        assert!(found("file:new.db?mode=rwc").is_ok());
        // A path is shown in messages; a token in a URI is not.
        let shown = |uri: &str| {
            let c = ConnectionModel {
                driver: "duckdb".into(),
                uri: Some(uri.into()),
                ..c.clone()
            };
            Settings::of(&c).map(|s| s.redact(&format!("cannot open {uri}")))
        };
        let secret = "md:sales?motherduck_token=s3cr3tT0ken";
        assert_eq!(shown(secret).ok().as_deref(), Some("cannot open …"));
        let file = dir.join("w.db").display().to_string();
        assert_eq!(shown(&file).ok(), Some(format!("cannot open {file}")));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Spark Connect's driver connects at the first statement.
    #[test]
    fn a_statement_that_never_reached_the_server_is_a_connection_failure() {
        let refused = r#"[Spark] connection error: desc = "transport: Error while dialing: dial tcp 127.0.0.1:1: connect: connection refused""#;
        assert!(never_connected(refused));
        assert!(!never_connected(
            r#"Failed to prepare query: ERROR:  relation "public.nope" does not exist"#
        ));
    }

    /// A timestamp in a zone Polars knows is imported; in one it does not
    /// (which stopped the process), it is left out like other types.
    #[test]
    fn timestamps_are_imported_in_known_zones_only() {
        use arrow_schema::{DataType as A, TimeUnit};
        let at = |zone: Option<&str>| importable(&A::Timestamp(TimeUnit::Microsecond, zone.map(Into::into)));
        assert!(at(None) && at(Some("UTC")) && at(Some("America/New_York")));
        assert!(!at(Some("Not/A_Zone")));
        let listed = A::List(std::sync::Arc::new(arrow_schema::Field::new(
            "x",
            A::Timestamp(TimeUnit::Microsecond, Some("Nowhere".into())),
            true,
        )));
        assert!(!importable(&listed));
    }
}
