//! `berth history`: the layers of an image, newest first.

use crate::format::template::Format;
use crate::format::{duration, ellipsis, size, truncate_id};
use berth_api::image::HistoryItem;
use berth_client::{segment, Client, Query};
use serde_json::{json, Value};

const DEFAULT_FORMAT: &str = "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Format output using a custom template
    #[arg(long)]
    pub format: Option<String>,
    /// Print sizes and dates in human readable format
    #[arg(short = 'H', long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1,
          default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    pub human: bool,
    /// Don't truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Only show image IDs
    #[arg(short = 'q', long)]
    pub quiet: bool,
    pub image: String,
}

pub async fn run(client: &Client, args: Args) -> anyhow::Result<()> {
    let items: Vec<HistoryItem> = client.get_json(&format!("/images/{}/history", segment(&args.image)), &Query::new()).await?;
    let format_text = match args.format.as_deref() {
        None | Some("") | Some("table") if args.quiet => "{{.ID}}",
        None | Some("") | Some("table") => DEFAULT_FORMAT,
        Some(f) => f,
    };
    let format = Format::parse(format_text)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    let rows: Vec<Value> = items.iter().map(|h| row(h, !args.no_trunc, args.human, now)).collect();
    print!("{}", format.render(&header(), &rows)?);
    Ok(())
}

fn header() -> Value {
    json!({"ID": "IMAGE", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "CreatedBy": "CREATED BY", "Size": "SIZE", "Comment": "COMMENT"})
}

fn row(h: &HistoryItem, trunc: bool, human: bool, now: f64) -> Value {
    let created_by = h.created_by.replace('\t', " ");
    let created_at = berth_api::time::format_rfc3339_nanos(i128::from(h.created) * 1_000_000_000);
    json!({
        "ID": if trunc { truncate_id(&h.id) } else { h.id.clone() },
        "CreatedSince": if human { format!("{} ago", duration::human_duration(now - h.created as f64)) } else { created_at.clone() },
        "CreatedAt": created_at,
        "CreatedBy": if trunc { ellipsis(&created_by, 45) } else { created_by },
        "Size": if human { size::image_size(h.size) } else { h.size.to_string() },
        "Comment": h.comment,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_history() {
        let h = HistoryItem {
            id: "<missing>".into(),
            created: 0,
            created_by: "/bin/sh -c #(nop) ADD file:abcdef0123456789 in / ".into(),
            size: 4_261_234,
            ..Default::default()
        };
        let out = Format::parse(DEFAULT_FORMAT).unwrap().render(&header(), &[row(&h, true, true, 7200.0)]).unwrap();
        assert_eq!(
            out,
            "IMAGE       CREATED       CREATED BY                                      SIZE      COMMENT\n\
             <missing>   2 hours ago   /bin/sh -c #(nop) ADD file:abcdef0123456789 …   4.26MB    \n"
        );
        let r = row(&h, false, false, 0.0);
        assert_eq!(r["Size"], "4261234");
        assert_eq!(r["CreatedSince"], "1970-01-01T00:00:00Z");
    }
}
