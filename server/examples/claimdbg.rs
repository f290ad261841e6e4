use dossier_server::analysis::{
    claims::extract_claims, sentences::split_sentences, tokenize::tokenize,
};
fn main() {
    let text = std::fs::read_to_string(std::env::args().nth(1).unwrap()).unwrap();
    let toks = tokenize(&text);
    let sents = split_sentences(&text, &toks);
    for s in &sents {
        println!("SENT {:?}", &text[s.clone()]);
    }
    for c in extract_claims(&text, &toks, &sents, &[]) {
        println!(
            "{:?} {:?} <{}> segs={} sp={:?} {:?} cw={:?} q={:?}",
            c.kind,
            &text[c.content.clone()],
            c.speaker.span.clone().map(|s| &text[s]).unwrap_or(""),
            c.segments.len(),
            c.speaker.kind,
            c.speaker.name,
            c.check_worthiness,
            c.quantities
        );
    }
}
