use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Number of deals; leads are three and activities five times as many.
    #[arg(long, default_value_t = 3_000)]
    scale: usize,
    /// Seed of the random generator: the same seed gives the same files.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// File format.
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    format: Format,
    /// Output folder.
    #[arg(long = "output", short, alias = "out", default_value = "examples/data")]
    out: PathBuf,
    /// Replace files that already exist in the output folder.
    #[arg(long)]
    force: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Csv,
    Parquet,
}

pub fn run(args: &Args) -> u8 {
    let ext = match args.format {
        Format::Csv => "csv",
        Format::Parquet => "parquet",
    };
    let existing: Vec<String> = kpi::generate::TABLES
        .iter()
        .map(|t| args.out.join(format!("{t}.{ext}")))
        .filter(|p| p.exists())
        .map(|p| p.display().to_string())
        .collect();
    if !existing.is_empty() && !args.force {
        return super::usage_error(
            "kpi::files_exist",
            &format!(
                "{} of the files exist already: {}",
                existing.len(),
                existing.join(", ")
            ),
            "add --force to replace them, or choose another folder with -o",
        );
    }
    let tables = kpi::generate::generate(args.scale, args.seed);
    let result = match args.format {
        Format::Csv => kpi::generate::write_csv(&tables, &args.out).map_err(|e| e.to_string()),
        #[cfg(feature = "eval")]
        Format::Parquet => kpi::data::write_parquet(&tables, &args.out),
        #[cfg(not(feature = "eval"))]
        Format::Parquet => Err("this build cannot write Parquet".to_string()),
    };
    match result {
        Ok(()) => {
            for t in &tables {
                eprintln!("{:>14} {:>10} rows", t.name, t.rows());
            }
            eprintln!("written to {}", args.out.display());
            super::OK
        }
        Err(e) => super::output_failed(Some(&args.out), &e),
    }
}
