//! go-units sizes: SI (1000-based) with Go's `%.*g` formatting, so
//! `4.26MB`, `100B`, and even Go's `1e+03kB` at the edge.

const UNITS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];

/// `units.HumanSizeWithPrecision`.
pub fn human_size_precision(size: f64, precision: usize) -> String {
    let mut size = size;
    let mut i = 0;
    while size >= 1000.0 && i < UNITS.len() - 1 {
        size /= 1000.0;
        i += 1;
    }
    format!("{}{}", go_g(size, precision), UNITS[i])
}

/// `units.HumanSize` (4 significant digits), used for reclaimed space.
pub fn human_size(size: f64) -> String {
    human_size_precision(size, 4)
}

/// `units.BytesSize`: binary units (`7.772GiB`), as `info` shows memory.
pub fn bytes_size(size: f64) -> String {
    const BIN: [&str; 9] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];
    let mut size = size;
    let mut i = 0;
    while size >= 1024.0 && i < BIN.len() - 1 {
        size /= 1024.0;
        i += 1;
    }
    format!("{}{}", go_g(size, 4), BIN[i])
}

/// The 3-digit form `docker images` and `ps -s` print.
pub fn image_size(size: i64) -> String {
    human_size_precision(size as f64, 3)
}

/// Go's `strconv.FormatFloat(v, 'g', prec, 64)`.
fn go_g(v: f64, prec: usize) -> String {
    let prec = prec.max(1);
    if v == 0.0 {
        return "0".to_string();
    }
    let sci = format!("{:.*e}", prec - 1, v);
    let (mantissa, exp) = match sci.split_once('e') {
        Some((m, e)) => (m.to_string(), e.parse::<i32>().unwrap_or(0)),
        None => return sci,
    };
    if exp < -4 || exp >= prec as i32 {
        let m = trim_zeros(&mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{m}e{sign}{:02}", exp.abs());
    }
    let decimals = (prec as i32 - 1 - exp).max(0) as usize;
    trim_zeros(&format!("{v:.decimals$}"))
}

fn trim_zeros(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_go_units() {
        assert_eq!(image_size(4_261_234), "4.26MB");
        assert_eq!(image_size(0), "0B");
        assert_eq!(image_size(100), "100B");
        assert_eq!(image_size(999), "999B");
        assert_eq!(image_size(1000), "1kB");
        assert_eq!(image_size(1_234_567_890), "1.23GB");
        assert_eq!(image_size(12_345), "12.3kB");
        assert_eq!(image_size(999_500), "1e+03kB");
        assert_eq!(image_size(4_000_000), "4MB");
        assert_eq!(human_size(1_234_567.0), "1.235MB");
        assert_eq!(human_size(0.0), "0B");
        assert_eq!(bytes_size(8_345_000_000.0), "7.772GiB");
        assert_eq!(bytes_size(512.0), "512B");
    }
}
