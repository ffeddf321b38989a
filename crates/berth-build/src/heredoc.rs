//! Heredocs around parse-dockerfile: delimiter names from an instruction's line, and
//! bodies of heredocs inside a RUN command, which parse-dockerfile does not know.

use std::collections::BTreeMap;

/// The `# escape=` directive, if the file starts with one (before parsing proper).
pub fn directive_escape(text: &str) -> char {
    for line in text.lines() {
        let t = line.trim();
        let Some(d) = t.strip_prefix('#') else { break };
        if let Some((k, v)) = d.split_once('=') {
            if k.trim().eq_ignore_ascii_case("escape") {
                return v.trim().chars().next().unwrap_or('\\');
            }
        } else {
            break;
        }
    }
    '\\'
}

/// Heredoc markers outside quotes on a line: (name, quoted).
fn unquoted_markers(line: &str) -> Vec<(String, bool)> {
    let chars: Vec<char> = line.chars().collect();
    let mut out = Vec::new();
    let mut quote: Option<char> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '<' && chars.get(i + 1) == Some(&'<') && chars.get(i + 2) != Some(&'<') => {
                let mut j = i + 2;
                if chars.get(j) == Some(&'-') {
                    j += 1;
                }
                let q = chars.get(j).copied().filter(|c| *c == '"' || *c == '\'');
                if q.is_some() {
                    j += 1;
                }
                let start = j;
                while j < chars.len() && (chars[j].is_alphanumeric() || matches!(chars[j], '_' | '.' | '-' | '/')) {
                    j += 1;
                }
                if j > start {
                    out.push((chars[start..j].iter().collect(), q.is_some()));
                }
                if q.is_some() && chars.get(j) == q.as_ref() {
                    j += 1;
                }
                i = j;
                continue;
            }
            None => {}
        }
        i += 1;
    }
    out
}

/// parse-dockerfile only knows heredocs right after `RUN`; BuildKit also takes them
/// inside a command (`RUN cat <<EOF > /f`). Such bodies are lifted out of the text
/// (their lines left empty, so line numbers hold) and kept, per RUN line, as the text
/// to append to the command: `\n<body><delimiter>` for each.
pub fn lift_heredocs(text: &str, escape: char) -> (String, BTreeMap<usize, String>) {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let mut lifted = BTreeMap::new();
    // Every line as a possible delimiter (`<<-` allows leading tabs) → its indices.
    let mut delims: std::collections::HashMap<&str, Vec<usize>> = std::collections::HashMap::new();
    for (k, l) in lines.iter().enumerate() {
        let l = l.strip_suffix('\r').unwrap_or(l).trim_start_matches('\t');
        delims.entry(l).or_default().push(k);
    }
    let mut i = 0;
    while i < lines.len() {
        let start = i;
        let first = lines[i].trim_start();
        let is_run = first.get(..3).is_some_and(|k| k.eq_ignore_ascii_case("RUN"))
            && first.get(3..).is_some_and(|r| r.starts_with(char::is_whitespace));
        // The logical line: physical lines joined on the escape character.
        let mut logical = String::new();
        loop {
            let l = lines[i].strip_suffix('\r').unwrap_or(lines[i]);
            match l.trim_end().strip_suffix(escape) {
                Some(cont) if i + 1 < lines.len() => {
                    logical.push_str(cont);
                    i += 1;
                }
                _ => {
                    logical.push_str(l);
                    break;
                }
            }
        }
        i += 1;
        if !is_run {
            continue;
        }
        let words: Vec<&str> = logical.split_whitespace().skip(1).skip_while(|w| w.starts_with("--")).collect();
        if words.first().is_none_or(|w| w.starts_with("<<")) {
            continue; // leading heredocs are parse-dockerfile's
        }
        let markers = unquoted_markers(&logical);
        if markers.is_empty() {
            continue;
        }
        // Each body runs to a line equal to its delimiter; all must be found.
        let mut j = i;
        let mut appended = String::new();
        let mut ok = true;
        for (name, _) in &markers {
            // The first delimiter line at or after j (an index, so hostile files with
            // many unterminated markers stay linear).
            let Some(end) = delims
                .get(name.as_str())
                .and_then(|v| v.get(v.partition_point(|&x| x < j)).copied())
            else {
                ok = false;
                break;
            };
            let mut body = String::new();
            for l in &lines[j..end] {
                body.push_str(l.strip_suffix('\r').unwrap_or(l));
                body.push('\n');
            }
            j = end + 1;
            appended.push('\n');
            appended.push_str(&body);
            appended.push_str(name);
        }
        if !ok {
            continue;
        }
        for line in out.iter_mut().take(j).skip(i) {
            line.clear();
        }
        lifted.insert(start + 1, appended);
        i = j;
    }
    (out.join("\n"), lifted)
}

/// `<<EOF`, `<<-"EOF"`, `<<'file.txt'` markers on an instruction's first line, in order.
pub fn heredoc_names(logical: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = logical;
    while let Some(i) = rest.find("<<") {
        let mut s = &rest[i + 2..];
        s = s.strip_prefix('-').unwrap_or(s);
        let quote = s.chars().next().filter(|c| *c == '"' || *c == '\'');
        if let Some(q) = quote {
            s = &s[1..];
            let end = s.find(q).unwrap_or(s.len());
            names.push(s[..end].to_string());
            rest = &s[end..];
        } else {
            let end = s.find(char::is_whitespace).unwrap_or(s.len());
            names.push(s[..end].to_string());
            rest = &s[end..];
        }
    }
    names
}

