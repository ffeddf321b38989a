//! Output formatting shared by commands: human sizes and durations,
//! tab-aligned tables, Go-template `--format`, JSON indentation, ports.

pub mod duration;
pub mod json_indent;
pub mod ports;
pub mod size;
pub mod table;
pub mod template;

/// Docker's `stringid.TruncateID`: drop an algorithm prefix, keep 12 chars.
pub fn truncate_id(id: &str) -> String {
    let id = id.split_once(':').map_or(id, |(_, hex)| hex);
    id.chars().take(12).collect()
}

/// Docker's `formatter.Ellipsis`: cut to `max` characters, the last one `…`.
pub fn ellipsis(s: &str, max: usize) -> String {
    let count = s.chars().count();
    if max == 0 {
        return String::new();
    }
    if count <= max {
        return s.to_string();
    }
    if max == 1 {
        return s.chars().take(1).collect();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

pub use berth_api::gofmt::quote as go_quote;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_ids() {
        assert_eq!(truncate_id("sha256:0123456789abcdef0123"), "0123456789ab");
        assert_eq!(truncate_id("0123456789abcdef"), "0123456789ab");
        assert_eq!(truncate_id("abc"), "abc");
    }

    #[test]
    fn ellipsis_counts_characters() {
        assert_eq!(ellipsis("sleep 1000000000000000000", 20), "sleep 1000000000000…");
        assert_eq!(ellipsis("short", 20), "short");
        assert_eq!(ellipsis("ééééé", 3), "éé…");
        assert_eq!(ellipsis("abc", 0), "");
        assert_eq!(ellipsis("abc", 1), "a");
    }

    #[test]
    fn quotes_like_go() {
        assert_eq!(go_quote("sh -c \"echo\"\n"), r#""sh -c \"echo\"\n""#);
        assert_eq!(go_quote("\u{1}"), r#""\x01""#);
    }
}
