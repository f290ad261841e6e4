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
    /// Check-worthiness: leave-one-debate-out MAP on CheckThat! 2019 training.
    Checkworthy {
        #[command(flatten)]
        data: CwData,
    },
    /// Train the check-worthiness model on all of CheckThat! 2019 training and ClaimBuster.
    TrainCheckworthy {
        #[command(flatten)]
        data: CwData,
        /// Where to write the model.
        #[arg(long, default_value = "server/models/checkworthy.tsv")]
        out: PathBuf,
    },
}

#[derive(clap::Args)]
struct CwData {
    /// CheckThat! 2019 Task 1 training CSV.
    #[arg(
        long,
        default_value = "../shared/data/claims/clef19/CT19-T1-Training.csv"
    )]
    clef: PathBuf,
    /// ClaimBuster JSON.
    #[arg(
        long,
        default_value = "../shared/data/claims/claimbuster/kfold_25ncs.json"
    )]
    claimbuster: PathBuf,
    /// Passes over the data.
    #[arg(long, default_value_t = 8)]
    epochs: usize,
    /// AdaGrad step size.
    #[arg(long, default_value_t = 0.1)]
    rate: f32,
    /// L2 penalty.
    #[arg(long, default_value_t = 3e-3)]
    l2: f32,
    /// Weight of a positive example.
    #[arg(long, default_value_t = 3.0)]
    positive_weight: f32,
    /// Weight of a ClaimBuster example.
    #[arg(long, default_value_t = 0.5)]
    claimbuster_weight: f32,
}

impl CwData {
    fn settings(&self) -> claims::CwSettings {
        claims::CwSettings {
            train: dossier_server::analysis::checkworthy::TrainOptions {
                epochs: self.epochs,
                rate: self.rate,
                l2: self.l2,
                positive_weight: self.positive_weight,
            },
            claimbuster_weight: self.claimbuster_weight,
        }
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let report = match cli.command {
        Command::Quotes { dir, dump, errors } => claims::run_quotes(&dir, dump.as_deref(), errors)?,
        Command::TrainCues { dir, out } => claims::train_cues(&dir, &out)?,
        Command::Checkworthy { data } => {
            claims::run_checkworthy(&data.clef, &data.claimbuster, data.settings())?
        }
        Command::TrainCheckworthy { data, out } => {
            claims::train_checkworthy(&data.clef, &data.claimbuster, &out, data.settings())?
        }
    };
    print!("{report}");
    if !report.ends_with('\n') {
        println!();
    }
    Ok(())
}
