//! Text values as exports write them, shared by the CSV and NDJSON
//! readers: what a text column's values look like (`guess`), and the
//! expression that turns each into its type (`conversion`); amounts
//! written with a currency symbol (`money`).

pub(super) mod conversion;
pub(super) mod guess;
pub(super) mod money;
