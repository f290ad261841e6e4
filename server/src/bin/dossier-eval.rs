//! `dossier-eval`: the project's evaluation and training commands (NER, quotes,
//! check-worthiness, search ranking), run on the development data in `../shared/data`.

use clap::{Parser, Subcommand};
use dossier_server::eval::claims;
use std::path::PathBuf;

#[derive(Parser)]
#[command(about = "Evaluate and train Dossier's analysis models on the development data")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// PolNeAR quotes and speakers: P/R/F1 as the judges' polnear.py computes them.
    Quotes {
        /// A PolNeAR split folder (with text/ and attributions/).
        #[arg(long, default_value = "../shared/data/polnear/dev")]
        dir: PathBuf,
        /// Write the predictions as JSON (code points) for checking with polnear.py.
        #[arg(long)]
        dump: Option<PathBuf>,
        /// Also print missed, spurious and wrong-speaker attributions.
        #[arg(long)]
        errors: bool,
    },
    /// Learn the cue lexicon (server/models/cues.tsv) from PolNeAR train.
    TrainCues {
        /// A PolNeAR split folder.
        #[arg(long, default_value = "../shared/data/polnear/train")]
        dir: PathBuf,
        /// Where to write the lexicon.
        #[arg(long, default_value = "server/models/cues.tsv")]
        out: PathBuf,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let report = match cli.command {
        Command::Quotes { dir, dump, errors } => claims::run_quotes(&dir, dump.as_deref(), errors)?,
        Command::TrainCues { dir, out } => claims::train_cues(&dir, &out)?,
    };
    print!("{report}");
    if !report.ends_with('\n') {
        println!();
    }
    Ok(())
}
