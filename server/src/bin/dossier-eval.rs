//! `dossier-eval`: the project's evaluation and training commands (NER, quotes,
//! check-worthiness, search ranking), run on the development data in `../shared/data`.

fn main() {
    eprintln!("usage: dossier-eval <command>; no commands yet");
    std::process::exit(2);
}
