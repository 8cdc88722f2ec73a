//! Lint-style checks on the services' source: the structure the
//! architecture promises, enforced so that it stays true.
//!
//! - A transaction is opened only by the mutation pipeline
//!   (`platform::mutation::run`) or by a service's store (SQL in one place);
//!   so no handler can call another service between `begin` and `commit`.
//! - The local work given to the pipeline never names a client of another
//!   service: remote reads happen before the transaction.
//! - No source file grows past the size a reader can hold in mind.

use std::path::{Path, PathBuf};

const SERVICES: [&str; 4] = ["identity", "card-issuance", "activation", "contribution"];

/// Words that name a way to reach another service.
const REMOTE: [&str; 6] = [
    "directory",
    "Directory",
    "upstream",
    "Client",
    "partners.",
    "registry",
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

fn rust_files(dir: &Path, into: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read source dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push(path);
        }
    }
}

fn service_sources() -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    for service in SERVICES {
        rust_files(
            &workspace().join("crates").join(service).join("src"),
            &mut files,
        );
    }
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("read source");
            (p, text)
        })
        .collect()
}

fn is_store(path: &Path) -> bool {
    path.components().any(|c| c.as_os_str() == "store") || path.ends_with("store.rs")
}

/// The text of the call starting at `start` (an opening parenthesis),
/// up to its matching closing one.
fn call_text(text: &str, open: usize) -> &str {
    let mut depth = 0usize;
    for (i, c) in text[open..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return &text[open..open + i + 1];
                }
            }
            _ => {}
        }
    }
    &text[open..]
}

#[test]
fn transactions_are_opened_only_by_the_pipeline_or_a_store() {
    let offenders: Vec<String> = service_sources()
        .into_iter()
        .filter(|(path, _)| !is_store(path))
        .filter(|(_, text)| text.contains(".begin()"))
        .map(|(path, _)| path.display().to_string())
        .collect();
    assert!(
        offenders.is_empty(),
        "these files open a transaction themselves; use platform::mutation::run \
         (or a store function for reads): {offenders:#?}"
    );
}

#[test]
fn no_remote_call_inside_a_pipeline_transaction() {
    let mut offenders = Vec::new();
    let mut pipelines = 0;
    for (path, text) in service_sources() {
        for (at, _) in text.match_indices("mutation::run(") {
            pipelines += 1;
            let call = call_text(&text, at + "mutation::run".len());
            for word in REMOTE {
                if call.contains(word) {
                    let line = text[..at].lines().count() + 1;
                    offenders.push(format!("{}:{line} mentions `{word}`", path.display()));
                }
            }
        }
    }
    assert!(
        pipelines >= 15,
        "expected every mutating RPC to go through mutation::run; found {pipelines} calls"
    );
    assert!(
        offenders.is_empty(),
        "the local work of a mutation reaches for another service; read it before \
         the transaction and pass the facts in: {offenders:#?}"
    );
}

#[test]
fn no_source_file_is_longer_than_a_reader_can_hold() {
    const LIMIT: usize = 420;
    let mut files = Vec::new();
    rust_files(&workspace().join("crates"), &mut files);
    rust_files(&workspace().join("tests").join("src"), &mut files);
    let long: Vec<String> = files
        .into_iter()
        .filter_map(|p| {
            let lines = std::fs::read_to_string(&p).ok()?.lines().count();
            (lines > LIMIT).then(|| format!("{} ({lines} lines)", p.display()))
        })
        .collect();
    assert!(
        long.is_empty(),
        "split these files (limit {LIMIT} lines): {long:#?}"
    );
}
