//! Printing results for people (text) or programs (`--json`).

use serde::Serialize;

/// Prints `value` as pretty JSON when `json` is set, or the text from `text` otherwise.
pub fn emit<T: Serialize>(
    json: bool,
    value: &T,
    text: impl FnOnce() -> String,
) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(value)?);
    } else {
        println!("{}", text());
    }
    Ok(())
}
