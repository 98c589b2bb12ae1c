//! `embed_migrations!`: reads a migrations folder at compile time and expands
//! to a `&'static [keel::EmbeddedFile]` of its `.sql` files, each through
//! `include_bytes!` so an edited file triggers a rebuild. Validation is left
//! to keel at run time, so the rules and errors are exactly those of the
//! command line. No dependencies: build time on two cores matters.

use proc_macro::TokenStream;
use std::path::PathBuf;

/// `embed_migrations!()` embeds `migrations/`; `embed_migrations!("db/migrations")`
/// another folder, relative to the crate's `Cargo.toml`.
#[proc_macro]
pub fn embed_migrations(input: TokenStream) -> TokenStream {
    match expand(input) {
        Ok(code) => code
            .parse()
            .unwrap_or_else(|_| error("keel: internal error generating code")),
        Err(message) => error(&message),
    }
}

fn error(message: &str) -> TokenStream {
    format!("::core::compile_error!({message:?})")
        .parse()
        .unwrap_or_default()
}

fn expand(input: TokenStream) -> Result<String, String> {
    let text = input.to_string();
    let text = text.trim();
    let relative = if text.is_empty() {
        "migrations".to_string()
    } else if text.starts_with('"')
        && text.ends_with('"')
        && text.len() >= 2
        && !text.contains('\\')
    {
        text[1..text.len() - 1].to_string()
    } else {
        return Err(format!(
            "embed_migrations! takes a plain string literal path, got `{text}`"
        ));
    };
    let root = std::env::var("CARGO_MANIFEST_DIR")
        .map_err(|_| "CARGO_MANIFEST_DIR is not set".to_string())?;
    let dir = PathBuf::from(root).join(&relative);
    let entries = std::fs::read_dir(&dir)
        .map_err(|e| format!("keel: cannot read migrations folder {}: {e}", dir.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("keel: reading {}: {e}", dir.display()))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_file() && name.to_ascii_lowercase().ends_with(".sql") {
            files.push((name, path));
        }
    }
    files.sort();
    let mut code = String::from("&[");
    for (name, path) in files {
        let path = path
            .to_str()
            .ok_or_else(|| format!("keel: path {} is not UTF-8", path.display()))?;
        code.push_str(&format!(
            "::keel::EmbeddedFile {{ name: {name:?}, bytes: ::core::include_bytes!({path:?}) }},"
        ));
    }
    code.push(']');
    Ok(code)
}
