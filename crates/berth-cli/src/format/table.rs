//! Go's `text/tabwriter` as docker configures it (min width 10, padding 3,
//! spaces): tab-terminated cells are aligned in column blocks, the last
//! cell of a line is printed as is.

const MIN_WIDTH: usize = 10;
const PADDING: usize = 3;

/// Aligns tab-separated `text` (lines ending in `\n`).
pub fn tabwrite(text: &str) -> String {
    tabwrite_min(text, MIN_WIDTH)
}

/// As [`tabwrite`] with another minimum cell width (Compose's own tables
/// use 20).
pub fn tabwrite_min(text: &str, min_width: usize) -> String {
    let trailing_newline = text.ends_with('\n');
    let body = text.strip_suffix('\n').unwrap_or(text);
    let lines: Vec<Vec<&str>> = body.split('\n').map(|l| l.split('\t').collect()).collect();
    let mut out = String::with_capacity(text.len() * 2);
    let mut widths = Vec::new();
    format_block(&lines, 0, lines.len(), min_width, &mut widths, &mut out);
    if !trailing_newline {
        out.pop();
    }
    out
}

fn width(cell: &str) -> usize {
    cell.chars().count()
}

/// The recursive column-block algorithm of Go's tabwriter.
fn format_block(lines: &[Vec<&str>], mut line0: usize, line1: usize, min: usize, widths: &mut Vec<usize>, out: &mut String) {
    let column = widths.len();
    let mut this = line0;
    while this < line1 {
        if column + 1 >= lines[this].len() {
            this += 1;
            continue;
        }
        write_lines(lines, line0, this, widths, out);
        line0 = this;
        let mut w = min;
        while this < line1 && column + 1 < lines[this].len() {
            w = w.max(width(lines[this][column]) + PADDING);
            this += 1;
        }
        widths.push(w);
        format_block(lines, line0, this, min, widths, out);
        widths.pop();
        line0 = this;
    }
    write_lines(lines, line0, line1, widths, out);
}

fn write_lines(lines: &[Vec<&str>], from: usize, to: usize, widths: &[usize], out: &mut String) {
    for line in &lines[from..to] {
        for (j, cell) in line.iter().enumerate() {
            out.push_str(cell);
            if let Some(w) = widths.get(j) {
                out.extend(std::iter::repeat_n(' ', w.saturating_sub(width(cell))));
            }
        }
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_docker_ps_header() {
        let t = "CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tPORTS\tNAMES\n\
                 0123456789ab\tbusybox\t\"sleep 100\"\t5 seconds ago\tUp 4 seconds\t\tfoo\n";
        let got = tabwrite(t);
        let want = "CONTAINER ID   IMAGE     COMMAND       CREATED         STATUS         PORTS     NAMES\n\
                    0123456789ab   busybox   \"sleep 100\"   5 seconds ago   Up 4 seconds             foo\n";
        assert_eq!(got, want);
    }

    #[test]
    fn header_only_and_unicode() {
        assert_eq!(
            tabwrite("CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tPORTS\tNAMES\n"),
            "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n"
        );
        assert_eq!(tabwrite("ééééééééééé\tx\n"), "ééééééééééé   x\n");
        assert_eq!(tabwrite("no tabs"), "no tabs");
    }

    #[test]
    fn ragged_lines_form_blocks() {
        assert_eq!(tabwrite("a\tb\tc\nlonger-cell\td\n"), "a             b         c\nlonger-cell   d\n");
    }
}
