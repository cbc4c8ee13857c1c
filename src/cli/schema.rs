use kpi::spec::schema::{schema, Draft};

#[derive(clap::Args)]
pub struct Args {
    /// JSON Schema dialect: 2020-12, or 07 for editors that validate only
    /// up to draft-07 (yaml-language-server).
    #[arg(long, value_enum, default_value_t = DraftArg::V2020_12)]
    draft: DraftArg,
    /// Write to this file (whole or not at all) instead of standard output.
    #[arg(long, short)]
    output: Option<std::path::PathBuf>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum DraftArg {
    #[value(name = "2020-12")]
    V2020_12,
    #[value(name = "07")]
    V07,
}

pub fn run(args: &Args) -> u8 {
    let draft = match args.draft {
        DraftArg::V2020_12 => Draft::Draft202012,
        DraftArg::V07 => Draft::Draft07,
    };
    let text = serde_json::to_string_pretty(&schema(draft)).unwrap_or_default() + "\n";
    super::emit(args.output.as_deref(), &text)
}
