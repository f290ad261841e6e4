//! `dossier-eval`: the project's evaluation and training commands (NER, quotes,
//! check-worthiness, search ranking), run on the development data in `../shared/data`.

use clap::{Parser, Subcommand};
use dossier_server::eval::ir;

/// Evaluate Dossier's engine on development data.
#[derive(Debug, Parser)]
#[command(name = "dossier-eval", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Search ranking on a BEIR collection: nDCG@10 and Recall@100 of PLAIN_TEXT queries.
    Ir(ir::IrArgs),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Ir(args) => print!("{}", ir::run(&args)?),
    }
    Ok(())
}
