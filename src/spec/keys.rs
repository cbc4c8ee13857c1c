//! The keys each mapping of a spec file may hold: the loader rejects others
//! (with a did-you-mean), and `kpi schema` lists exactly these.

pub(crate) const TOP_KEYS: &[&str] = &[
    "version",
    "calendar",
    "connections",
    "datasets",
    "segments",
    "kpis",
    "targets",
    "funnels",
    "tests",
];
pub(crate) const CONNECTION_KEYS: &[&str] = &["driver", "uri", "dialect", "options", "description"];
pub(crate) const TABLE_SOURCE_KEYS: &[&str] = &["connection", "table", "query"];
pub(crate) const CALENDAR_KEYS: &[&str] = &["week_start", "fiscal_year_start"];
pub(crate) const DATASET_KEYS: &[&str] = &[
    "source",
    "format",
    "time",
    "columns",
    "dimensions",
    "lookups",
    "read",
    "description",
];
pub(crate) const READ_KEYS: &[&str] = &[
    "delimiter",
    "null_values",
    "decimal_comma",
    "thousands",
    "currency",
    "percent",
    "date_format",
    "datetime_format",
    "timezone",
    "encoding",
    "on_error",
];
pub(crate) const LOOKUP_KEYS: &[&str] = &["dataset", "on"];
pub(crate) const SEGMENT_KEYS: &[&str] = &["where", "title", "description"];
pub(crate) const KPI_KEYS: &[&str] = &[
    "title",
    "description",
    "dataset",
    "measure",
    "where",
    "time",
    "unit",
    "decimals",
    "direction",
    "indicator",
    "owner",
    "tags",
    "active",
    "at",
];
pub(crate) const TARGET_KEYS: &[&str] = &[
    "kpi",
    "segment",
    "by",
    "period",
    "every",
    "value",
    "change",
    "baseline",
    "tolerance",
    "pacing",
    "objective",
    "owner",
    "description",
];
pub(crate) const FUNNEL_KEYS: &[&str] = &["dataset", "time", "steps", "title", "description"];
pub(crate) const TEST_KEYS: &[&str] = &[
    "kpi",
    "funnel",
    "target",
    "grain",
    "by",
    "segment",
    "period",
    "as_of",
    "member",
    "data",
    "expect",
    "status",
    "tolerance",
];
