//! `kpi schema`: a JSON Schema of spec files for editors (yaml-language-server
//! gives completion, hover text and validation from it). Each object lists
//! exactly the keys the loader reads (its key tables) and each enum the
//! loader's keywords, so the schema cannot drift from what `kpi check` accepts.

use serde_json::{json, Map, Value};

use super::keys::{
    CALENDAR_KEYS, CONNECTION_KEYS, DATASET_KEYS, FUNNEL_KEYS, KPI_KEYS, LOOKUP_KEYS, READ_KEYS,
    SEGMENT_KEYS, TABLE_SOURCE_KEYS, TARGET_KEYS, TEST_KEYS, TOP_KEYS,
};
use super::model::{
    At, ColumnType, Dialect, Direction, Encoding, Format, Grain, Indicator, Keyword, OnError, Pacing, Status,
    Unit, WeekStart,
};

/// Which JSON Schema dialect to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Draft {
    /// What yaml-language-server validates with.
    Draft07,
    Draft202012,
}

/// The JSON Schema of a spec file.
pub fn schema(draft: Draft) -> Value {
    let (uri, defs) = match draft {
        Draft::Draft07 => ("http://json-schema.org/draft-07/schema#", "definitions"),
        Draft::Draft202012 => ("https://json-schema.org/draft/2020-12/schema", "$defs"),
    };
    let r = |name: &str| json!({"$ref": format!("#/{defs}/{name}")});
    let mut definitions = Map::new();
    definitions.insert("expression".into(), expression());
    definitions.insert("name_list".into(), name_list());
    definitions.insert(
        "dataset".into(),
        object(
            "A table of rows: its source, time column, columns, dimensions and lookups.",
            DATASET_KEYS,
            &["source"],
            |k| dataset_key(k, &r),
        ),
    );
    definitions.insert("connection".into(), connection());
    definitions.insert(
        "lookup".into(),
        object(
            "A many-to-one join on a key (`on: owner`, or `{left, right}`).",
            LOOKUP_KEYS,
            &["dataset", "on"],
            lookup_key,
        ),
    );
    definitions.insert(
        "segment".into(),
        json!({
            "description": "A named row filter: a condition, or `{where, title, description}`.",
            "oneOf": [r("expression"), object("A named row filter.", SEGMENT_KEYS, &["where"], |k| segment_key(k, &r))]
        }),
    );
    definitions.insert(
        "kpi".into(),
        object("A KPI: with `dataset`, a base KPI (aggregates over rows); without, a derived KPI (combining KPIs).", KPI_KEYS, &["measure"], |k| kpi_key(k, &r)),
    );
    definitions.insert(
        "target".into(),
        object(
            "A SMART target on a KPI: a value or a change, over a period or every period.",
            TARGET_KEYS,
            &["kpi"],
            target_key,
        ),
    );
    definitions.insert(
        "funnel".into(),
        object(
            "Ordered steps over one dataset; each step keeps the rows of the steps before it.",
            FUNNEL_KEYS,
            &["dataset", "steps"],
            |k| funnel_key(k, &r),
        ),
    );
    definitions.insert(
        "test".into(),
        object(
            "Inline rows in, expected KPI values (or a target status) out; run by `kpi test`.",
            TEST_KEYS,
            &[],
            |k| test_key(k, &r),
        ),
    );
    let top = object(
        "A kpi spec file. A folder's files are merged; names are unique across them.",
        TOP_KEYS,
        &[],
        |k| match k {
            "version" => json!({"description": "The language version: 1.", "enum": [1, "1"]}),
            "calendar" => object("Week start and fiscal year.", CALENDAR_KEYS, &[], calendar_key),
            "connections" => named("Databases by name.", r("connection")),
            "datasets" => named("Datasets by name.", r("dataset")),
            "segments" => named("Segments by name.", r("segment")),
            "kpis" => named("KPIs by name.", r("kpi")),
            "targets" => named("Targets by name.", r("target")),
            "funnels" => named("Funnels by name.", r("funnel")),
            "tests" => named("Tests by name.", r("test")),
            _ => json!({}),
        },
    );
    let mut out = Map::new();
    out.insert("$schema".into(), json!(uri));
    out.insert("$id".into(), json!("https://kpi.dev/schema/spec.json"));
    out.insert("title".into(), json!("kpi spec"));
    if let Value::Object(top) = top {
        out.extend(top);
    }
    out.insert(defs.into(), Value::Object(definitions));
    Value::Object(out)
}

/// A database reached through an ADBC driver.
fn connection() -> Value {
    object(
        "A database reached through an ADBC driver; `${VAR}` in `uri` and `options` is read from the environment.",
        CONNECTION_KEYS,
        &["driver"],
        |k| match k {
            "driver" => text("postgresql, duckdb, snowflake, bigquery, spark, flightsql, sqlite, or a path to a driver library."),
            "uri" => text("Where the database is, e.g. ${WAREHOUSE_URI} (no secrets in git)."),
            "dialect" => with_enum::<Dialect>("The SQL dialect (default: from the driver)."),
            "options" => json!({
                "description": "Driver options (e.g. a Snowflake warehouse, a BigQuery project).",
                "type": "object",
                "additionalProperties": {"type": ["string", "number", "boolean"]}
            }),
            "description" => text("What the connection is."),
            _ => json!({}),
        },
    )
}

fn keywords<K: Keyword + PartialEq>() -> Value {
    Value::Array(K::ALL.iter().map(|(s, _)| json!(s)).collect())
}

fn with_enum<K: Keyword + PartialEq>(description: &str) -> Value {
    json!({"description": description, "enum": keywords::<K>()})
}

fn text(description: &str) -> Value {
    json!({"type": "string", "description": description})
}

fn expression() -> Value {
    json!({
        "description": "An expression of the kpi language (`sum(amount where stage == \"won\")`).",
        "type": ["string", "number", "boolean"]
    })
}

fn name_list() -> Value {
    json!({
        "description": "A name, a comma-separated list, or a list of names.",
        "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
    })
}

/// A mapping from lower-case names to `item`.
fn named(description: &str, item: Value) -> Value {
    json!({
        "description": description,
        "type": ["object", "null"],
        "propertyNames": {"pattern": "^[a-z][a-z0-9_]*$"},
        "additionalProperties": item
    })
}

/// An object with exactly `keys` (unknown keys are errors, as in the loader).
fn object(description: &str, keys: &[&str], required: &[&str], key: impl Fn(&str) -> Value) -> Value {
    let properties: Map<String, Value> = keys.iter().map(|k| (k.to_string(), key(k))).collect();
    json!({
        "description": description,
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false
    })
}

fn period() -> Value {
    json!({
        "description": "A period label (2025, 2025-Q3, 2025-08, 2025-W33, 2025-08-15, FY2026, FY2026-Q1), {from, to}, or {every: month} (the same as `every: month`).",
        "oneOf": [
            {"type": ["string", "integer"]},
            {
                "type": "object",
                "properties": {"from": {"type": "string"}, "to": {"type": "string"}},
                "required": ["from", "to"],
                "additionalProperties": false
            },
            {
                "type": "object",
                "properties": {"every": with_enum::<Grain>("A recurring target: every period of this grain.")},
                "required": ["every"],
                "additionalProperties": false
            }
        ]
    })
}

fn number_or_percent(description: &str) -> Value {
    json!({"description": description, "type": ["number", "string"]})
}

fn calendar_key(k: &str) -> Value {
    match k {
        "week_start" => with_enum::<WeekStart>("The first day of a week (monday: ISO weeks)."),
        "fiscal_year_start" => json!({
            "description": "The month (1–12) the fiscal year starts in; fiscal years are named by the year they end in.",
            "type": "integer", "minimum": 1, "maximum": 12
        }),
        _ => json!({}),
    }
}

fn dataset_key(k: &str, r: &impl Fn(&str) -> Value) -> Value {
    match k {
        "source" => json!({
            "description": "A file or glob, relative to this spec file; or a table or query of a connection.",
            "oneOf": [
                {"type": "string"},
                object(
                    "Rows in a database: `{connection, table}` or `{connection, query}`.",
                    TABLE_SOURCE_KEYS,
                    &["connection"],
                    |k| match k {
                        "connection" => text("A connection of `connections:`."),
                        "table" => text("A table or view, qualified as the database wants (analytics.deals)."),
                        "query" => text("A SELECT whose rows are the dataset."),
                        _ => json!({}),
                    },
                ),
            ]
        }),
        "format" => with_enum::<Format>("The file format (default: from the extension)."),
        "time" => text("The default time column of the dataset's KPIs."),
        "columns" => json!({
            "description": "Declared columns and their types; the data must agree.",
            "type": "object",
            "additionalProperties": with_enum::<ColumnType>("A column type.")
        }),
        "dimensions" => json!({
            "description": "Computed dimensions: a name and a row expression.",
            "type": "object",
            "additionalProperties": r("expression")
        }),
        "lookups" => json!({
            "description": "Many-to-one joins to other datasets.",
            "oneOf": [r("lookup"), {"type": "array", "items": r("lookup")}]
        }),
        "read" => object(
            "How to read messy files: delimiter, null values, decimal comma, date formats, time zone, encoding, unreadable rows.",
            READ_KEYS,
            &[],
            read_key,
        ),
        "description" => text("What one row is."),
        _ => json!({}),
    }
}

fn read_key(k: &str) -> Value {
    match k {
        "delimiter" => {
            json!({"type": "string", "minLength": 1, "maxLength": 2, "description": "The field separator (default `,`): one character, `\\t` for a tab."})
        }
        "null_values" => json!({
            "description": "Texts read as null, besides an empty field (`N/A`, `-`).",
            "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
        }),
        "decimal_comma" => json!({"type": "boolean", "description": "Numbers are written `1.234,50`."}),
        "percent" => {
            json!({"type": "boolean", "description": "A value written with `%` (`45%`) is read as its hundredth (0.45)."})
        }
        "thousands" => {
            json!({"type": "string", "minLength": 1, "maxLength": 1, "description": "The character between thousands in numbers (`,` for `1,234.50`), removed before they are read."})
        }
        "currency" => {
            json!({"type": "string", "minLength": 1, "description": "The currency symbol amounts are written with (`$` for `$1,200.50`, `€` for `1.234,50 €`, `USD`), removed with the spaces beside it before they are read."})
        }
        "date_format" => text("strftime format of dates (`%m/%d/%Y`); default ISO 8601."),
        "datetime_format" => text("strftime format of datetimes; default ISO 8601."),
        "timezone" => text(
            "The zone (`Europe/Berlin`, `UTC`) whose dates count for datetimes written with a UTC offset.",
        ),
        "encoding" => with_enum::<Encoding>("The file's text encoding (default utf-8)."),
        "on_error" => with_enum::<OnError>(
            "`error` (default) stops at a row that cannot be read; `skip` skips it and counts it on stderr.",
        ),
        _ => json!({}),
    }
}

fn lookup_key(k: &str) -> Value {
    match k {
        "dataset" => text("The dataset looked up."),
        "on" => json!({
            "description": "The key: a column of both, or {left, right}.",
            "oneOf": [
                {"type": "string"},
                {
                    "type": "object",
                    "properties": {"left": {"type": "string"}, "right": {"type": "string"}},
                    "required": ["left", "right"],
                    "additionalProperties": false
                }
            ]
        }),
        _ => json!({}),
    }
}

fn segment_key(k: &str, r: &impl Fn(&str) -> Value) -> Value {
    match k {
        "where" => r("expression"),
        "title" => text("The segment's display name."),
        "description" => text("What the segment holds."),
        _ => json!({}),
    }
}

fn kpi_key(k: &str, r: &impl Fn(&str) -> Value) -> Value {
    match k {
        "title" => text("Display name (default: the name, humanised)."),
        "description" => text("What the KPI means."),
        "dataset" => text("Makes it a base KPI over this dataset's rows."),
        "measure" => r("expression"),
        "where" => r("expression"),
        "time" => text("The time column (default: the dataset's)."),
        "unit" => with_enum::<Unit>("How values are formatted."),
        "decimals" => {
            json!({"description": "Decimals shown.", "type": "integer", "minimum": 0, "maximum": 12})
        }
        "direction" => with_enum::<Direction>("Whether higher (up) or lower (down) is better."),
        "indicator" => with_enum::<Indicator>("Leading (predicts) or lagging (records)."),
        "owner" => text("Who answers for the KPI."),
        "tags" => r("name_list"),
        "active" => json!({
            "description": "A stock KPI: a row is active from `from` until `to` (exclusive; null: still active).",
            "type": "object",
            "properties": {"from": {"type": "string"}, "to": {"type": "string"}},
            "required": ["from"],
            "additionalProperties": false
        }),
        "at" => with_enum::<At>(
            "When a stock is taken: the period's last day (end) or the day before it (start).",
        ),
        _ => json!({}),
    }
}

fn target_key(k: &str) -> Value {
    match k {
        "kpi" => text("The KPI the target is on."),
        "segment" => text("A segment the KPI is taken in."),
        "by" => text("A dimension: one target per member (each rep)."),
        "period" => period(),
        "every" => with_enum::<Grain>("A recurring target: every period of this grain."),
        "value" => number_or_percent("The value to reach (3_000_000, 25%)."),
        "change" => text("A change from the baseline: +15% (relative), +5pp (points), -2 (absolute)."),
        "baseline" => json!({
            "description": "What `change` is measured from: previous, same_last_year or a period label.",
            "type": ["string", "integer"]
        }),
        "tolerance" => {
            number_or_percent("How far behind the expected path is still at risk rather than off track.")
        }
        "pacing" => with_enum::<Pacing>("The expected path through the period."),
        "objective" => text("Why the target matters (the R of SMART)."),
        "owner" => text("Who answers for the target."),
        "description" => text("A longer explanation."),
        _ => json!({}),
    }
}

fn funnel_key(k: &str, r: &impl Fn(&str) -> Value) -> Value {
    match k {
        "dataset" => text("The dataset of the funnel's rows."),
        "time" => text("The time column (default: the dataset's)."),
        "steps" => json!({
            "description": "Ordered steps, each a name and a condition on top of the earlier steps (at most 64).",
            "type": "array",
            "maxItems": crate::check::MAX_FUNNEL_STEPS,
            "items": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "where": r("expression")},
                "required": ["name"],
                "additionalProperties": false
            }
        }),
        "title" => text("Display name."),
        "description" => text("What the funnel follows."),
        _ => json!({}),
    }
}

fn test_key(k: &str, r: &impl Fn(&str) -> Value) -> Value {
    let row =
        json!({"type": "object", "additionalProperties": {"type": ["string", "number", "boolean", "null"]}});
    match k {
        "kpi" => text("The KPI tested."),
        "funnel" => {
            text("The funnel tested: its steps' count, conversion, conversion_from_start and leakage.")
        }
        "target" => text("The target whose status is tested."),
        "grain" => with_enum::<Grain>("The grain of evaluation (default: all)."),
        "by" => r("name_list"),
        "segment" => r("name_list"),
        "period" => period(),
        "as_of" => text("The as-of date of a target test (YYYY-MM-DD)."),
        "member" => {
            json!({"description": "The member of a `by:` target whose status a target test expects (default: every member).", "type": ["string", "number", "boolean"]})
        }
        "data" => json!({
            "description": "Rows replacing datasets, by dataset name.",
            "type": "object",
            "additionalProperties": {"type": ["array", "null"], "items": row}
        }),
        "expect" => {
            json!({"description": "Expected rows: dimensions, period and KPI values (a funnel test's: its `step` and measures).", "type": "array", "items": row})
        }
        "status" => with_enum::<Status>("The expected status of a target test."),
        "tolerance" => number_or_percent("Relative tolerance of number comparisons (default 1e-9)."),
        _ => json!({}),
    }
}
