//! A random migrations folder: entries separated by NUL, each
//! `path\ncontent`; the first byte picks auto-detection or a forced layout.
#![no_main]

use keel::source::Layout;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let layout = Layout::ALL
        .get(usize::from(mode) % (Layout::ALL.len() + 1))
        .copied();
    let files: Vec<(String, Vec<u8>)> = rest
        .split(|b| *b == 0)
        .filter(|e| !e.is_empty())
        .take(64)
        .map(|entry| {
            let (path, content) = match entry.iter().position(|b| *b == b'\n') {
                Some(at) => (&entry[..at], &entry[at + 1..]),
                None => (entry, &[][..]),
            };
            (String::from_utf8_lossy(path).into_owned(), content.to_vec())
        })
        .collect();
    if let Err(e) = keel::fuzzing::files(files, layout) {
        panic!("{e}");
    }
});
