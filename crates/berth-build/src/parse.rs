//! The Dockerfile, parsed: `parse-dockerfile` does the syntax (directives, continuations,
//! comments, heredocs, flags, JSON forms) and this module turns its tree into berth's own
//! instruction model, validating flags so that every syntax error surfaces before any
//! step runs.

use std::collections::BTreeMap;

use parse_dockerfile as pd;

use crate::error::BuildError;
use crate::heredoc::{directive_escape, heredoc_names, lift_heredocs};
use crate::words;

/// A command line: JSON (exec) form or shell form (wrapped in the SHELL at run time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CmdLine {
    Exec(Vec<String>),
    Shell(String),
    /// `RUN <<EOF` whose body starts with `#!`: run as a file by its interpreter
    /// (BuildKit mounts it at `/dev/pipes/<name>`).
    Script { name: String, body: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    pub name: String,
    pub value: Option<String>,
}

/// A COPY/ADD source: a path (or URL, for ADD) or an inline heredoc file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Path(String),
    Heredoc {
        name: String,
        content: String,
        expand: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Instr {
    Run { flags: Vec<Flag>, cmd: CmdLine },
    Cmd(CmdLine),
    Entrypoint(CmdLine),
    Env(Vec<(String, String)>),
    Label(Vec<(String, String)>),
    /// `--label` of the build, added to the target stage unexpanded (classic builder).
    BuildLabel(Vec<(String, String)>),
    Arg(Vec<(String, Option<String>)>),
    Copy { flags: Vec<Flag>, srcs: Vec<Source>, dest: String },
    Add { flags: Vec<Flag>, srcs: Vec<Source>, dest: String },
    Expose(Vec<String>),
    Volume(Vec<String>),
    User(String),
    Workdir(String),
    Stopsignal(String),
    Shell(Vec<String>),
    Maintainer(String),
    /// The trigger's text (everything after `ONBUILD `), as the image stores it.
    Onbuild(String),
    /// `None` = `HEALTHCHECK NONE`.
    Healthcheck { flags: Vec<Flag>, cmd: Option<CmdLine> },
}

/// One instruction with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// 1-based line of the instruction keyword.
    pub line: usize,
    /// The instruction as written, continuations joined (what `Step n/m :` prints).
    pub text: String,
    pub instr: Instr,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageDef {
    pub index: usize,
    /// `AS name`, lower-cased as Docker compares stage names.
    pub name: Option<String>,
    /// The base (unexpanded): an image reference, `scratch` or an earlier stage.
    pub base: String,
    pub platform: Option<String>,
    pub line: usize,
    pub text: String,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile {
    pub escape: char,
    /// `# syntax=` (accepted, not acted on).
    pub syntax: Option<String>,
    /// ARGs before the first FROM.
    pub meta_args: Vec<Step>,
    pub stages: Vec<StageDef>,
}

/// Parses a Dockerfile; every error names its line.
pub fn parse(bytes: &[u8]) -> Result<Dockerfile, BuildError> {
    let text = std::str::from_utf8(bytes).map_err(|e| BuildError::Parse {
        line: line_of(bytes, e.valid_up_to()),
        message: "file is not valid UTF-8".into(),
    })?;
    // A BOM is allowed at the start, as in Docker.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (lifted_text, lifted) = lift_heredocs(text, directive_escape(text));
    let text = lifted_text.as_str();
    let df = pd::parse(text).map_err(|e| BuildError::Parse {
        line: e.line(),
        message: docker_message(&e.to_string()),
    })?;
    let escape = df
        .parser_directives
        .escape
        .as_ref()
        .map(|d| d.value.value)
        .unwrap_or('\\');
    let syntax = df
        .parser_directives
        .syntax
        .as_ref()
        .map(|d| d.value.value.to_string());
    let starts: Vec<usize> = df.instructions.iter().map(keyword_start).collect();
    // Newline offsets once, so each instruction's line is a binary search.
    let newlines: Vec<usize> = text.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i).collect();
    let mut out = Dockerfile {
        escape,
        syntax,
        meta_args: Vec::new(),
        stages: Vec::new(),
    };
    for (i, ins) in df.instructions.iter().enumerate() {
        let start = starts[i];
        let end = starts.get(i + 1).copied().unwrap_or(text.len());
        let line = newlines.partition_point(|&nl| nl < start) + 1;
        let logical = first_logical_line(&text[start..end], escape);
        if let pd::Instruction::From(f) = ins {
            let flags = flags_of(f.options.iter(), line, "FROM", &["platform"])?;
            let name = f.as_.as_ref().map(|(_, n)| n.value.to_lowercase());
            if let Some(n) = &name {
                validate_stage_name(n, line)?;
            }
            out.stages.push(StageDef {
                index: out.stages.len(),
                name,
                base: f.image.value.to_string(),
                platform: flag_value(&flags, "platform"),
                line,
                text: logical,
                steps: Vec::new(),
            });
            continue;
        }
        let instr = convert(ins, &lifted, line, &logical, escape)?;
        let step = Step {
            line,
            text: logical,
            instr,
        };
        match out.stages.last_mut() {
            Some(stage) => stage.steps.push(step),
            None if matches!(step.instr, Instr::Arg(_)) => out.meta_args.push(step),
            None => {
                return Err(BuildError::Parse {
                    line,
                    message: "no build stage in current context".into(),
                })
            }
        }
    }
    if out.stages.is_empty() {
        return Err(BuildError::Parse {
            line: 1,
            message: "file with no instructions".into(),
        });
    }
    Ok(out)
}

/// parse-dockerfile's wording → Docker's where users grep for it.
fn docker_message(msg: &str) -> String {
    let msg = msg.split(" at line ").next().unwrap_or(msg);
    if let Some(rest) = msg.strip_prefix("unknown instruction '") {
        let word = rest.trim_end_matches('\'');
        return match suggest(word) {
            Some(m) => format!("unknown instruction: {word} (did you mean {m}?)"),
            None => format!("unknown instruction: {word}"),
        };
    }
    if msg == "expected at least one FROM instruction" {
        return "no build stage in current context".into();
    }
    msg.to_string()
}

const INSTRUCTIONS: [&str; 18] = [
    "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
    "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR",
];

/// BuildKit's "did you mean" (edit distance below 3, in the word's case).
fn suggest(word: &str) -> Option<String> {
    let lower = word.to_lowercase();
    let mut best: Option<(&str, usize)> = None;
    for opt in INSTRUCTIONS {
        let d = levenshtein(&lower, &opt.to_lowercase());
        if d < best.map(|b| b.1).unwrap_or(3) {
            best = Some((opt, d));
        }
    }
    let (m, _) = best?;
    Some(if word == lower {
        m.to_lowercase()
    } else {
        m.to_string()
    })
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

fn validate_stage_name(name: &str, line: usize) -> Result<(), BuildError> {
    let ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(())
    } else {
        Err(BuildError::Parse {
            line,
            message: format!("invalid name for build stage: \"{name}\", name can't start with a number or contain symbols"),
        })
    }
}

fn keyword_start(i: &pd::Instruction<'_>) -> usize {
    use pd::Instruction as I;
    match i {
        I::Add(x) => x.add.span.start,
        I::Arg(x) => x.arg.span.start,
        I::Cmd(x) => x.cmd.span.start,
        I::Copy(x) => x.copy.span.start,
        I::Entrypoint(x) => x.entrypoint.span.start,
        I::Env(x) => x.env.span.start,
        I::Expose(x) => x.expose.span.start,
        I::From(x) => x.from.span.start,
        I::Healthcheck(x) => x.healthcheck.span.start,
        I::Label(x) => x.label.span.start,
        I::Maintainer(x) => x.maintainer.span.start,
        I::Onbuild(x) => x.onbuild.span.start,
        I::Run(x) => x.run.span.start,
        I::Shell(x) => x.shell.span.start,
        I::Stopsignal(x) => x.stopsignal.span.start,
        I::User(x) => x.user.span.start,
        I::Volume(x) => x.volume.span.start,
        I::Workdir(x) => x.workdir.span.start,
        _ => 0,
    }
}

pub(crate) fn line_of(text: &[u8], pos: usize) -> usize {
    text[..pos.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

/// The instruction's first logical line: physical lines joined where they end with the
/// escape character; comment and empty lines inside a continuation are skipped.
pub(crate) fn first_logical_line(src: &str, escape: char) -> String {
    let mut out = String::new();
    let mut first = true;
    for raw in src.split('\n') {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if !first {
            let t = line.trim_start();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
        }
        first = false;
        let trimmed = line.trim_end();
        match trimmed.strip_suffix(escape) {
            Some(cont) => out.push_str(cont),
            None => {
                out.push_str(line.trim_end());
                break;
            }
        }
    }
    out.trim().to_string()
}

/// Joins continuation lines inside a shell-form command (parse-dockerfile keeps them).
fn join_continuations(s: &str, escape: char) -> String {
    let mut out = String::new();
    let mut lines = s.split('\n').peekable();
    let mut continuing = false;
    while let Some(raw) = lines.next() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if continuing {
            let t = line.trim_start();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
        }
        match line.trim_end().strip_suffix(escape) {
            Some(cont) if lines.peek().is_some() => {
                out.push_str(cont);
                continuing = true;
            }
            _ => {
                out.push_str(line);
                continuing = false;
                if lines.peek().is_some() {
                    out.push('\n');
                }
            }
        }
    }
    out
}

/// BuildKit flags berth knows and does not honour: refused by name at parse time, before
/// any step runs, rather than reported as unknown. (instruction, flag, why)
const NOT_HONOURED: &[(&str, &str, &str)] = &[
    ("RUN", "security", "RUN steps always get run's confinement (no insecure entitlement)"),
    ("ADD", "keep-git-dir", "it does not clone git repositories"),
];

fn flags_of<'a, 'b: 'a>(
    flags: impl Iterator<Item = &'a pd::Flag<'b>>,
    line: usize,
    instr: &str,
    allowed: &[&str],
) -> Result<Vec<Flag>, BuildError> {
    let mut out = Vec::new();
    for f in flags {
        let name = f.name.value.to_string();
        if let Some((_, _, why)) = NOT_HONOURED.iter().find(|(i, n, _)| *i == instr && *n == name) {
            return Err(BuildError::Parse { line, message: format!("{instr} --{name} is not supported by berth: {why}") });
        }
        if instr == "RUN" && name == "mount" && f.value.as_ref().is_some_and(|v| v.value.split(',').any(|kv| kv.trim() == "type=ssh")) {
            return Err(BuildError::Parse {
                line,
                message: "RUN --mount=type=ssh is not supported by berth: it has no SSH agent forwarding (use --secret)".into(),
            });
        }
        if !allowed.contains(&name.as_str()) {
            return Err(BuildError::Parse {
                line,
                message: format!("unknown flag: {name}"),
            });
        }
        if instr == "COPY" && name == "link" {
            // accepted, no effect on the result (BuildKit's layer reuse optimisation)
        }
        out.push(Flag {
            name,
            value: f.value.as_ref().map(|v| v.value.to_string()),
        });
    }
    Ok(out)
}

pub(crate) fn flag_value(flags: &[Flag], name: &str) -> Option<String> {
    flags
        .iter()
        .rev()
        .find(|f| f.name == name)
        .map(|f| f.value.clone().unwrap_or_default())
}

fn cmdline(c: &pd::Command<'_>, escape: char) -> CmdLine {
    match c {
        pd::Command::Exec(v) => CmdLine::Exec(v.value.iter().map(|s| s.value.to_string()).collect()),
        pd::Command::Shell(s) => CmdLine::Shell(join_continuations(s.value, escape)),
        _ => CmdLine::Exec(Vec::new()),
    }
}

fn sources(
    srcs: &[pd::Source<'_>],
    logical: &str,
) -> Vec<Source> {
    let names = heredoc_names(logical);
    let mut n = 0;
    srcs.iter()
        .filter_map(|s| match s {
            pd::Source::Path(p) => Some(Source::Path(p.value.to_string())),
            pd::Source::HereDoc(h) => {
                let name = names.get(n).cloned().unwrap_or_default();
                n += 1;
                Some(Source::Heredoc {
                    name,
                    content: h.value.to_string(),
                    expand: h.expand,
                })
            }
            _ => None,
        })
        .collect()
}

fn run_cmd(r: &pd::RunInstruction<'_>, logical: &str, escape: char, lifted: Option<&String>) -> CmdLine {
    if r.here_docs.is_empty() {
        return match (cmdline(&r.arguments, escape), lifted) {
            (CmdLine::Shell(s), Some(bodies)) => CmdLine::Shell(format!("{s}{bodies}")),
            (c, _) => c,
        };
    }
    let shell_rest = match &r.arguments {
        pd::Command::Shell(s) => s.value.trim().to_string(),
        _ => String::new(),
    };
    if shell_rest.is_empty() && r.here_docs.len() == 1 {
        // `RUN <<EOF` alone: the heredoc is the script.
        let body = r.here_docs[0].value.to_string();
        if body.starts_with("#!") {
            let name = heredoc_names(logical).into_iter().next().unwrap_or_else(|| "EOF".into());
            return CmdLine::Script { name, body };
        }
        return CmdLine::Shell(body);
    }
    // Otherwise the shell gets the command line with its heredocs, as BuildKit does.
    let after_kw = logical.split_once(char::is_whitespace).map(|x| x.1).unwrap_or("");
    let mut script: String = after_kw
        .split_whitespace()
        .skip_while(|w| w.starts_with("--"))
        .collect::<Vec<_>>()
        .join(" ");
    for (h, name) in r.here_docs.iter().zip(heredoc_names(logical)) {
        script.push('\n');
        script.push_str(&h.value);
        script.push_str(&name);
    }
    CmdLine::Shell(script)
}

fn convert(
    ins: &pd::Instruction<'_>,
    lifted: &BTreeMap<usize, String>,
    line: usize,
    logical: &str,
    escape: char,
) -> Result<Instr, BuildError> {
    use pd::Instruction as I;
    let perr = |message: String| BuildError::Parse { line, message };
    Ok(match ins {
        I::Run(r) => Instr::Run {
            flags: flags_of(r.options.iter(), line, "RUN", &["mount", "network"])?,
            cmd: run_cmd(r, logical, escape, lifted.get(&line)),
        },
        I::Cmd(c) => Instr::Cmd(cmdline(&c.arguments, escape)),
        I::Entrypoint(c) => Instr::Entrypoint(cmdline(&c.arguments, escape)),
        I::Env(e) => Instr::Env(words::name_values(&e.arguments.value, "ENV", escape).map_err(perr)?),
        I::Label(l) => {
            Instr::Label(words::name_values(&l.arguments.value, "LABEL", escape).map_err(perr)?)
        }
        I::Arg(a) => {
            let pairs = words::arg_pairs(&a.arguments.value, escape);
            if pairs.is_empty() {
                return Err(perr("ARG requires at least one argument".into()));
            }
            Instr::Arg(pairs)
        }
        I::Copy(c) => Instr::Copy {
            flags: flags_of(c.options.iter(), line, "COPY", &["from", "chown", "chmod", "link", "exclude", "parents"])?,
            srcs: sources(&c.src, logical),
            dest: c.dest.value.to_string(),
        },
        I::Add(c) => Instr::Add {
            flags: flags_of(c.options.iter(), line, "ADD", &["chown", "chmod", "checksum", "link", "exclude", "unpack"])?,
            srcs: sources(&c.src, logical),
            dest: c.dest.value.to_string(),
        },
        I::Expose(e) => Instr::Expose(e.arguments.iter().map(|s| s.value.to_string()).collect()),
        I::Volume(v) => Instr::Volume(match &v.arguments {
            pd::JsonOrStringArray::Json(j) => j.value.iter().map(|s| s.value.to_string()).collect(),
            pd::JsonOrStringArray::String(s) => s.iter().map(|s| s.value.to_string()).collect(),
        }),
        I::User(u) => Instr::User(u.arguments.value.to_string()),
        I::Workdir(w) => Instr::Workdir(w.arguments.value.to_string()),
        I::Stopsignal(s) => Instr::Stopsignal(s.arguments.value.to_string()),
        I::Shell(s) => Instr::Shell(s.arguments.iter().map(|s| s.value.to_string()).collect()),
        I::Maintainer(m) => Instr::Maintainer(m.name.value.to_string()),
        I::Onbuild(o) => {
            let expr = logical
                .split_once(char::is_whitespace)
                .map(|x| x.1.trim().to_string())
                .unwrap_or_default();
            let inner = o.instruction.as_ref();
            if matches!(inner, I::Onbuild(_)) {
                return Err(perr("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed".into()));
            }
            if matches!(inner, I::From(_) | I::Maintainer(_)) {
                let word = expr.split_whitespace().next().unwrap_or("").to_uppercase();
                return Err(perr(format!("{word} isn't allowed as an ONBUILD trigger")));
            }
            // Validate the trigger now (flags, forms) so it fails at the ONBUILD line.
            convert(inner, lifted, line, &expr, escape)?;
            // The stored trigger carries its heredocs (`\n<body><name>` each), as BuildKit's.
            let bodies: Vec<&str> = match inner {
                I::Run(r) => r.here_docs.iter().map(|h| h.value.as_ref()).collect(),
                I::Copy(pd::CopyInstruction { src, .. }) | I::Add(pd::AddInstruction { src, .. }) => src
                    .iter()
                    .filter_map(|s| match s {
                        pd::Source::HereDoc(h) => Some(h.value.as_ref()),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            };
            let mut expr = expr;
            for (body, name) in bodies.iter().zip(heredoc_names(logical)) {
                expr.push('\n');
                expr.push_str(body);
                expr.push_str(&name);
            }
            Instr::Onbuild(expr)
        }
        I::Healthcheck(h) => Instr::Healthcheck {
            flags: flags_of(
                h.options.iter(),
                line,
                "HEALTHCHECK",
                &["interval", "timeout", "start-period", "start-interval", "retries"],
            )?,
            cmd: match &h.arguments {
                pd::HealthcheckArguments::Cmd { arguments, .. } => Some(cmdline(arguments, escape)),
                _ => None,
            },
        },
        I::From(_) => return Err(perr("FROM in an unexpected place".into())),
        _ => return Err(perr("unsupported instruction".into())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Dockerfile {
        match parse(s.as_bytes()) {
            Ok(d) => d,
            Err(e) => panic!("parse failed: {e}"),
        }
    }

    #[test]
    fn stages_meta_args_and_lines() {
        let d = p("# syntax=docker/dockerfile:1\nARG V=1\nFROM busybox:${V} AS Base\n\nRUN echo hi \\\n  && echo there\nFROM base\nCOPY --from=base a b\n");
        assert_eq!(d.syntax.as_deref(), Some("docker/dockerfile:1"));
        assert_eq!(d.meta_args.len(), 1);
        assert_eq!(d.stages.len(), 2);
        assert_eq!(d.stages[0].name.as_deref(), Some("base"));
        assert_eq!(d.stages[0].line, 3);
        let run = &d.stages[0].steps[0];
        assert_eq!(run.line, 5);
        assert_eq!(run.text, "RUN echo hi   && echo there");
        assert_eq!(
            run.instr,
            Instr::Run { flags: vec![], cmd: CmdLine::Shell("echo hi   && echo there".into()) }
        );
    }

    #[test]
    fn unknown_instruction_names_its_line() {
        let e = parse(b"FROM a\nRUN true\nBOGUSWORD bar\n").err().map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("dockerfile parse error on line 3: unknown instruction: BOGUSWORD")
        );
        let e = parse(b"FROM a\nfrom b\ncopyy a b\n").err().map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("dockerfile parse error on line 3: unknown instruction: copyy (did you mean copy?)")
        );
    }

    #[test]
    fn flags_berth_does_not_honour_are_refused_by_name() {
        for (df, want) in [
            ("FROM scratch\nRUN --security=insecure true\n", "dockerfile parse error on line 2: RUN --security is not supported by berth"),
            ("FROM scratch\nADD --keep-git-dir=true https://example.com/r.git /r\n", "dockerfile parse error on line 2: ADD --keep-git-dir is not supported by berth"),
            ("FROM scratch\nRUN --mount=type=ssh,id=default true\n", "dockerfile parse error on line 2: RUN --mount=type=ssh is not supported by berth"),
        ] {
            let e = parse(df.as_bytes()).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(e.starts_with(want), "{df}: {e}");
        }
    }

    #[test]
    fn bad_flag_and_missing_from() {
        let e = parse(b"FROM a\nCOPY --bogus=1 a b\n").err().map(|e| e.to_string());
        assert_eq!(e.as_deref(), Some("dockerfile parse error on line 2: unknown flag: bogus"));
        assert!(parse(b"RUN x\n").is_err());
        assert!(parse(b"FROM a AS 1x\n").is_err());
    }

    #[test]
    fn escape_directive_and_comments_in_continuations() {
        let d = p("# escape=`\nFROM a\nRUN echo a `\n# comment\n\n  b\nENV A=1 `\n  B=2\n");
        assert_eq!(d.escape, '`');
        assert_eq!(d.stages[0].steps[0].instr, Instr::Run { flags: vec![], cmd: CmdLine::Shell("echo a   b".into()) });
        assert_eq!(
            d.stages[0].steps[1].instr,
            Instr::Env(vec![("A".into(), "1".into()), ("B".into(), "2".into())])
        );
    }

    #[test]
    fn heredocs() {
        let d = p("FROM a\nRUN <<EOF\necho one\nEOF\nCOPY <<n1.txt <<'n2' /dir/\nA $x\nn1.txt\nB\nn2\nRUN <<X cat > /f\nbody\nX\n");
        let s = &d.stages[0].steps;
        assert_eq!(s[0].instr, Instr::Run { flags: vec![], cmd: CmdLine::Shell("echo one\n".into()) });
        assert_eq!(
            s[1].instr,
            Instr::Copy {
                flags: vec![],
                srcs: vec![
                    Source::Heredoc { name: "n1.txt".into(), content: "A $x\n".into(), expand: true },
                    Source::Heredoc { name: "n2".into(), content: "B\n".into(), expand: false },
                ],
                dest: "/dir/".into()
            }
        );
        assert_eq!(s[2].instr, Instr::Run { flags: vec![], cmd: CmdLine::Shell("<<X cat > /f\nbody\nX".into()) });
        let d = p("FROM a\nRUN <<PY\n#!/usr/bin/python3\nprint(1)\nPY\n");
        assert_eq!(
            d.stages[0].steps[0].instr,
            Instr::Run { flags: vec![], cmd: CmdLine::Script { name: "PY".into(), body: "#!/usr/bin/python3\nprint(1)\n".into() } }
        );
        let d = p("FROM a\nRUN cat <<EOF > /f && \\\n  cat <<'E2' >> /f\nline $x\nEOF\nraw\nE2\nRUN echo '<<no'\nENV A=1\n");
        let s = &d.stages[0].steps;
        assert_eq!(
            s[0].instr,
            Instr::Run { flags: vec![], cmd: CmdLine::Shell("cat <<EOF > /f &&   cat <<'E2' >> /f\nline $x\nEOF\nraw\nE2".into()) }
        );
        assert_eq!(s[1].line, 8);
        assert_eq!(s[2].line, 9);
    }

    #[test]
    fn crlf_bom_lowercase_and_empty_continuations() {
        let d = p("\u{feff}from a as B\r\nrun echo a \\\r\n\r\n  b\r\nenv X=1\r\n");
        assert_eq!(d.stages[0].name.as_deref(), Some("b"));
        assert!(matches!(&d.stages[0].steps[0].instr, Instr::Run { cmd: CmdLine::Shell(c), .. } if c.trim_end() == "echo a   b"), "{:?}", d.stages[0].steps[0]);
        assert_eq!(d.stages[0].steps[1].instr, Instr::Env(vec![("X".into(), "1".into())]));
        assert_eq!(d.stages[0].steps[1].line, 5);
    }

    #[test]
    fn hostile_text_never_panics() {
        for t in [
            "RU€ x\nFROM a\n", "FROM a\nRUN €€ <<€\n€\n", "FROM a\nRUN x <<'\n", "FROM a\nCOPY <<\n",
            "FROM a\nENV \"\n", "FROM a\nARG\n", "\u{0}\u{1}FROM", "FROM a\nRUN cat <<A <<B\nA\n",
            "# escape=€\nFROM a\n", "FROM a\nLABEL =\n", "FROM a\nHEALTHCHECK CMD\n", "FROM a AS\n",
        ] {
            let _ = parse(t.as_bytes());
        }
        let _ = parse(&[0xff, 0xfe, b'F']);
    }

    #[test]
    fn big_hostile_files_parse_in_linear_time() {
        let mut t = String::from("FROM a\n");
        for i in 0..20000 {
            t.push_str(&format!("RUN x <<A{i}\nENV K{i}=v\n"));
        }
        let start = std::time::Instant::now();
        let d = p(&t);
        assert_eq!(d.stages[0].steps.len(), 40000);
        assert!(start.elapsed() < std::time::Duration::from_secs(5), "{:?}", start.elapsed());
    }

    #[test]
    fn onbuild_and_healthcheck() {
        let d = p("FROM a\nONBUILD RUN echo trig\nHEALTHCHECK --interval=5s CMD curl -f x\nHEALTHCHECK NONE\n");
        let s = &d.stages[0].steps;
        assert_eq!(s[0].instr, Instr::Onbuild("RUN echo trig".into()));
        assert!(matches!(&s[1].instr, Instr::Healthcheck { cmd: Some(CmdLine::Shell(c)), .. } if c == "curl -f x"));
        assert!(matches!(&s[2].instr, Instr::Healthcheck { cmd: None, .. }));
        assert!(parse(b"FROM a\nONBUILD FROM b\n").is_err());
        let d = p("FROM a\nONBUILD RUN <<EOF\necho hi\nEOF\n");
        assert_eq!(d.stages[0].steps[0].instr, Instr::Onbuild("RUN <<EOF\necho hi\nEOF".into()));
        // The stored trigger parses back to the same heredoc RUN.
        let again = p("FROM a\nRUN <<EOF\necho hi\nEOF\n");
        assert_eq!(again.stages[0].steps[0].instr, Instr::Run { flags: vec![], cmd: CmdLine::Shell("echo hi\n".into()) });
    }
}
