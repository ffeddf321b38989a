//! A subset of Go's `text/template` as docker's `--format` uses it, over
//! JSON values: `{{.Field}}`, `{{.A.B}}`, `{{json .X}}`, `{{index .M "k"}}`,
//! `{{join .L ","}}`, `upper`/`lower`/`title`/`split`/`truncate`/`len`/
//! `println`, pipes, `{{if}}`/`{{else}}`/`{{range}}`/`{{end}}`, `{{- -}}`
//! trimming, plus docker's `table` prefix and `\t`/`\n` escapes.

use serde_json::Value;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError(pub String);

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TemplateError {}

#[derive(Debug, Clone)]
enum Node {
    Text(String),
    Action(Pipeline),
    If(Pipeline, Vec<Node>, Vec<Node>),
    Range(Pipeline, Vec<Node>, Vec<Node>),
}

type Pipeline = Vec<Command>;
type Command = Vec<Arg>;

#[derive(Debug, Clone)]
enum Arg {
    /// `.A.B` (empty path = `.`).
    Field(Vec<String>),
    Str(String),
    Num(i64),
    Bool(bool),
    Func(String),
    Paren(Pipeline),
    /// `(pipeline).A.B`: a field of a parenthesised value.
    ParenField(Pipeline, Vec<String>),
}

/// A parsed template.
#[derive(Debug, Clone)]
pub struct Template {
    nodes: Vec<Node>,
}

/// A docker `--format` value: `table ...`, `json`, or a plain template.
#[derive(Debug, Clone)]
pub struct Format {
    pub table: bool,
    pub template: Template,
}

impl Format {
    /// Parses a `--format` value; `json` means `{{json .}}`.
    pub fn parse(format: &str) -> Result<Format, TemplateError> {
        let (table, rest) = match format.strip_prefix("table") {
            Some(r) => (true, r),
            None => (false, format),
        };
        let rest = if !table && format == "json" { "{{json .}}" } else { rest };
        let text = rest.trim_matches(' ').replace("\\t", "\t").replace("\\n", "\n");
        Ok(Format { table, template: Template::parse(&text)? })
    }

    /// Renders rows (and a header for tables) into the final text.
    pub fn render(&self, header: &Value, rows: &[Value]) -> Result<String, TemplateError> {
        let mut text = String::new();
        if self.table {
            text.push_str(&self.template.execute_header(header)?);
            text.push('\n');
        }
        for row in rows {
            text.push_str(&self.template.execute(row)?);
            text.push('\n');
        }
        Ok(if self.table { super::table::tabwrite(&text) } else { text })
    }
}

impl Template {
    pub fn parse(src: &str) -> Result<Template, TemplateError> {
        let tokens = lex(src)?;
        let mut pos = 0;
        let (nodes, end) = parse_nodes(&tokens, &mut pos)?;
        if let Some(e) = end {
            return Err(perr(&format!("unexpected {{{{{e}}}}}")));
        }
        Ok(Template { nodes })
    }

    pub fn execute(&self, data: &Value) -> Result<String, TemplateError> {
        let mut out = String::new();
        Exec { header: false }.nodes(&self.nodes, data, &mut out)?;
        Ok(out)
    }

    /// Executes against a header row: functions pass their argument through
    /// (docker's `HeaderFunctions`), so `{{json .ID}}` heads as `CONTAINER ID`.
    pub fn execute_header(&self, header: &Value) -> Result<String, TemplateError> {
        let mut out = String::new();
        Exec { header: true }.nodes(&self.nodes, header, &mut out)?;
        Ok(out)
    }
}

fn perr(msg: &str) -> TemplateError {
    TemplateError(format!("template parsing error: template: :1: {msg}"))
}

fn xerr(msg: &str) -> TemplateError {
    TemplateError(format!("template: :1: executing \"\" at <{msg}"))
}

// ---- lexing: text and actions -------------------------------------------

#[derive(Debug, Clone)]
enum Token {
    Text(String),
    Action(Vec<Word>),
}

#[derive(Debug, Clone, PartialEq)]
enum Word {
    Field(Vec<String>),
    Ident(String),
    Str(String),
    Num(i64),
    Pipe,
    Open,
    Close,
    /// `.A.B` right after `)`, chained onto the parenthesised value.
    Chain(Vec<String>),
}

fn lex(src: &str) -> Result<Vec<Token>, TemplateError> {
    let mut tokens = Vec::new();
    let mut rest = src;
    while let Some(start) = rest.find("{{") {
        let mut text = rest[..start].to_string();
        let mut inner = &rest[start + 2..];
        if inner.starts_with("- ") || inner.starts_with("-\t") || inner.starts_with("-\n") {
            text = text.trim_end().to_string();
            inner = &inner[1..];
        }
        let end = inner.find("}}").ok_or_else(|| perr("unclosed action"))?;
        let mut body = &inner[..end];
        let mut after = &inner[end + 2..];
        if body.ends_with(" -") || body.ends_with("\t-") || body.ends_with("\n-") {
            body = &body[..body.len() - 1];
            after = after.trim_start();
        }
        if !text.is_empty() {
            tokens.push(Token::Text(text));
        }
        tokens.push(Token::Action(lex_action(body)?));
        rest = after;
    }
    if !rest.is_empty() {
        tokens.push(Token::Text(rest.to_string()));
    }
    Ok(tokens)
}

fn lex_action(s: &str) -> Result<Vec<Word>, TemplateError> {
    let chars: Vec<char> = s.chars().collect();
    let mut words = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '|' => {
                words.push(Word::Pipe);
                i += 1;
            }
            '(' => {
                words.push(Word::Open);
                i += 1;
            }
            ')' => {
                words.push(Word::Close);
                i += 1;
            }
            '"' => {
                let mut v = String::new();
                i += 1;
                loop {
                    let c = *chars.get(i).ok_or_else(|| perr("unterminated quoted string"))?;
                    i += 1;
                    match c {
                        '"' => break,
                        '\\' => {
                            let e = *chars.get(i).ok_or_else(|| perr("unterminated quoted string"))?;
                            i += 1;
                            v.push(match e {
                                'n' => '\n',
                                't' => '\t',
                                'r' => '\r',
                                other => other,
                            });
                        }
                        c => v.push(c),
                    }
                }
                words.push(Word::Str(v));
            }
            '`' => {
                let end = chars[i + 1..].iter().position(|&c| c == '`').ok_or_else(|| perr("unterminated raw quoted string"))?;
                words.push(Word::Str(chars[i + 1..i + 1 + end].iter().collect()));
                i += end + 2;
            }
            '.' => {
                let chained = matches!(words.last(), Some(Word::Close)) && i > 0 && chars[i - 1] == ')';
                let mut path = Vec::new();
                while i < chars.len() && chars[i] == '.' {
                    i += 1;
                    let start = i;
                    while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                        i += 1;
                    }
                    if i > start {
                        path.push(chars[start..i].iter().collect());
                    }
                }
                words.push(if chained { Word::Chain(path) } else { Word::Field(path) });
            }
            c if c.is_ascii_digit() || c == '-' => {
                let start = i;
                i += 1;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                words.push(Word::Num(text.parse().map_err(|_| perr(&format!("bad number syntax: {text:?}")))?));
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                words.push(Word::Ident(chars[start..i].iter().collect()));
            }
            c => return Err(perr(&format!("unexpected {c:?} in command"))),
        }
    }
    Ok(words)
}

// ---- parsing -------------------------------------------------------------

/// Parses nodes until `{{end}}`/`{{else}}` (returned) or the end of input.
fn parse_nodes(tokens: &[Token], pos: &mut usize) -> Result<(Vec<Node>, Option<&'static str>), TemplateError> {
    let mut nodes = Vec::new();
    while *pos < tokens.len() {
        let t = &tokens[*pos];
        *pos += 1;
        match t {
            Token::Text(s) => nodes.push(Node::Text(s.clone())),
            Token::Action(words) => match words.first() {
                Some(Word::Ident(k)) if k == "end" => return Ok((nodes, Some("end"))),
                Some(Word::Ident(k)) if k == "else" => return Ok((nodes, Some("else"))),
                Some(Word::Ident(k)) if k == "if" || k == "range" => {
                    let pipe = parse_pipeline(&words[1..])?;
                    let (body, end) = parse_nodes(tokens, pos)?;
                    let else_body = match end {
                        Some("else") => match parse_nodes(tokens, pos)? {
                            (b, Some("end")) => b,
                            _ => return Err(perr("expected end")),
                        },
                        Some("end") => Vec::new(),
                        _ => return Err(perr("unexpected EOF")),
                    };
                    nodes.push(if k == "if" {
                        Node::If(pipe, body, else_body)
                    } else {
                        Node::Range(pipe, body, else_body)
                    });
                }
                Some(_) => nodes.push(Node::Action(parse_pipeline(words)?)),
                None => return Err(perr("missing value for command")),
            },
        }
    }
    Ok((nodes, None))
}

fn parse_pipeline(words: &[Word]) -> Result<Pipeline, TemplateError> {
    let mut pipeline = Vec::new();
    let mut cmd = Vec::new();
    let mut i = 0;
    while i < words.len() {
        match &words[i] {
            Word::Pipe => {
                if cmd.is_empty() {
                    return Err(perr("missing command in pipeline"));
                }
                pipeline.push(std::mem::take(&mut cmd));
            }
            Word::Open => {
                let mut depth = 1;
                let start = i + 1;
                while depth > 0 {
                    i += 1;
                    match words.get(i) {
                        Some(Word::Open) => depth += 1,
                        Some(Word::Close) => depth -= 1,
                        Some(_) => {}
                        None => return Err(perr("unclosed left paren")),
                    }
                }
                let inner = parse_pipeline(&words[start..i])?;
                match words.get(i + 1) {
                    Some(Word::Chain(path)) => {
                        cmd.push(Arg::ParenField(inner, path.clone()));
                        i += 1;
                    }
                    _ => cmd.push(Arg::Paren(inner)),
                }
            }
            Word::Close => return Err(perr("unexpected right paren")),
            Word::Chain(_) => return Err(perr("unexpected . after term")),
            Word::Field(p) => cmd.push(Arg::Field(p.clone())),
            Word::Str(s) => cmd.push(Arg::Str(s.clone())),
            Word::Num(n) => cmd.push(Arg::Num(*n)),
            Word::Ident(id) => cmd.push(match id.as_str() {
                "true" => Arg::Bool(true),
                "false" => Arg::Bool(false),
                f if FUNCS.contains(&f) => Arg::Func(f.to_string()),
                f => return Err(perr(&format!("function {f:?} not defined"))),
            }),
        }
        i += 1;
    }
    if cmd.is_empty() {
        return Err(perr("missing value for command"));
    }
    pipeline.push(cmd);
    Ok(pipeline)
}

const FUNCS: &[&str] = &[
    "json", "index", "join", "split", "upper", "lower", "title", "truncate", "len", "print", "println", "eq", "ne",
    "not", "and", "or", "pad",
];

// ---- execution -----------------------------------------------------------

struct Exec {
    header: bool,
}

impl Exec {
    fn nodes(&self, nodes: &[Node], dot: &Value, out: &mut String) -> Result<(), TemplateError> {
        for n in nodes {
            match n {
                Node::Text(t) => out.push_str(t),
                Node::Action(p) => out.push_str(&display(&self.pipeline(p, dot)?)),
                Node::If(p, then, other) => {
                    let body = if truthy(&self.pipeline(p, dot)?) { then } else { other };
                    self.nodes(body, dot, out)?;
                }
                Node::Range(p, body, other) => {
                    let items: Vec<Value> = match self.pipeline(p, dot)? {
                        Value::Array(a) => a,
                        Value::Object(m) => m.into_iter().map(|(_, v)| v).collect(),
                        Value::Null => Vec::new(),
                        v => return Err(xerr(&format!("range>: range can't iterate over {}", display(&v)))),
                    };
                    if items.is_empty() {
                        self.nodes(other, dot, out)?;
                    }
                    for item in &items {
                        self.nodes(body, item, out)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn pipeline(&self, p: &Pipeline, dot: &Value) -> Result<Value, TemplateError> {
        let mut piped: Option<Value> = None;
        for cmd in p {
            piped = Some(self.command(cmd, dot, piped.take())?);
        }
        Ok(piped.unwrap_or(Value::Null))
    }

    fn command(&self, cmd: &Command, dot: &Value, piped: Option<Value>) -> Result<Value, TemplateError> {
        let Some(first) = cmd.first() else { return Ok(Value::Null) };
        let mut args = Vec::new();
        for a in &cmd[1..] {
            args.push(self.arg(a, dot)?);
        }
        args.extend(piped);
        match first {
            Arg::Func(name) => self.call(name, args),
            other => {
                let v = self.arg(other, dot)?;
                // docker exposes methods with arguments (`.Label "k"`); a
                // field followed by arguments indexes into it.
                if args.is_empty() {
                    Ok(v)
                } else {
                    self.call("index", std::iter::once(v).chain(args).collect())
                }
            }
        }
    }

    fn arg(&self, a: &Arg, dot: &Value) -> Result<Value, TemplateError> {
        Ok(match a {
            Arg::ParenField(p, path) => {
                let base = self.pipeline(p, dot)?;
                return self.arg(&Arg::Field(path.clone()), &base);
            }
            Arg::Field(path) => {
                let mut v = dot;
                for name in path {
                    match v.get(name.as_str()) {
                        Some(next) => v = next,
                        None if v.is_object() || v.is_null() => return Ok(Value::Null),
                        None => return Err(xerr(&format!(".{name}>: can't evaluate field {name} in type {}", type_name(v)))),
                    }
                }
                v.clone()
            }
            Arg::Str(s) => Value::String(s.clone()),
            Arg::Num(n) => Value::from(*n),
            Arg::Bool(b) => Value::Bool(*b),
            Arg::Func(f) => self.call(f, Vec::new())?,
            Arg::Paren(p) => self.pipeline(p, dot)?,
        })
    }

    fn call(&self, name: &str, args: Vec<Value>) -> Result<Value, TemplateError> {
        let arity = |n: usize| -> Result<(), TemplateError> {
            if args.len() == n {
                Ok(())
            } else {
                Err(xerr(&format!("{name}>: wrong number of args for {name}: want {n} got {}", args.len())))
            }
        };
        if self.header && !matches!(name, "eq" | "ne" | "not" | "and" | "or" | "len") {
            // Header functions hand their (string) argument back.
            return Ok(args.into_iter().next().unwrap_or(Value::Null));
        }
        let s = |i: usize| args.get(i).map(display).unwrap_or_default();
        Ok(match name {
            "json" => {
                arity(1)?;
                Value::String(serde_json::to_string(&args[0]).map_err(|e| xerr(&e.to_string()))?)
            }
            "index" => {
                let mut it = args.into_iter();
                let mut v = it.next().unwrap_or(Value::Null);
                for key in it {
                    v = match (&v, &key) {
                        (Value::Object(m), _) => m.get(&display(&key)).cloned().unwrap_or(Value::Null),
                        (Value::Array(a), Value::Number(n)) => {
                            let i = n.as_u64().and_then(|i| usize::try_from(i).ok());
                            match i.and_then(|i| a.get(i)) {
                                Some(x) => x.clone(),
                                None => return Err(xerr(&format!("index>: error calling index: index out of range: {n}"))),
                            }
                        }
                        (Value::Null, _) => Value::Null,
                        _ => return Err(xerr(&format!("index>: error calling index: can't index item of type {}", type_name(&v)))),
                    };
                }
                v
            }
            "join" => {
                arity(2)?;
                let parts: Vec<String> = match &args[0] {
                    Value::Array(a) => a.iter().map(display).collect(),
                    other => vec![display(other)],
                };
                Value::String(parts.join(&s(1)))
            }
            "split" => {
                arity(2)?;
                Value::Array(s(0).split(s(1).as_str()).map(|p| Value::String(p.to_string())).collect())
            }
            "upper" => Value::String(s(0).to_uppercase()),
            "lower" => Value::String(s(0).to_lowercase()),
            "title" => Value::String(title(&s(0))),
            "truncate" => {
                arity(2)?;
                let n = args[1].as_u64().unwrap_or(0) as usize;
                Value::String(s(0).chars().take(n).collect())
            }
            "pad" => {
                arity(3)?;
                let (l, r) = (args[1].as_u64().unwrap_or(0) as usize, args[2].as_u64().unwrap_or(0) as usize);
                Value::String(format!("{}{}{}", " ".repeat(l), s(0), " ".repeat(r)))
            }
            "len" => {
                arity(1)?;
                Value::from(match &args[0] {
                    Value::Array(a) => a.len(),
                    Value::Object(m) => m.len(),
                    Value::String(t) => t.len(),
                    Value::Null => 0,
                    v => return Err(xerr(&format!("len>: error calling len: len of type {}", type_name(v)))),
                })
            }
            "print" => Value::String(args.iter().map(display).collect::<Vec<_>>().join("")),
            "println" => Value::String(format!("{}\n", args.iter().map(display).collect::<Vec<_>>().join(" "))),
            "eq" => Value::Bool(args.len() >= 2 && args[1..].iter().any(|a| loosely_equal(&args[0], a))),
            "ne" => {
                arity(2)?;
                Value::Bool(!loosely_equal(&args[0], &args[1]))
            }
            "not" => {
                arity(1)?;
                Value::Bool(!truthy(&args[0]))
            }
            "and" => args.iter().find(|a| !truthy(a)).or(args.last()).cloned().unwrap_or(Value::Null),
            "or" => args.iter().find(|a| truthy(a)).or(args.last()).cloned().unwrap_or(Value::Null),
            other => return Err(xerr(&format!("{other}>: function not defined"))),
        })
    }
}

fn loosely_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut start = true;
    for c in s.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        start = !c.is_alphanumeric();
    }
    out
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(m) => !m.is_empty(),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(_) => "float64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

/// Go's `fmt.Print` of a value: strings raw, `[a b]`, `map[k:v]`.
pub fn display(v: &Value) -> String {
    match v {
        Value::Null => "<no value>".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.to_string(),
            (_, Some(u)) => u.to_string(),
            _ => {
                let f = n.as_f64().unwrap_or(0.0);
                if f.fract() == 0.0 && f.abs() < 1e21 {
                    format!("{f:.0}")
                } else {
                    f.to_string()
                }
            }
        },
        Value::String(s) => s.clone(),
        Value::Array(a) => format!("[{}]", a.iter().map(display_inner).collect::<Vec<_>>().join(" ")),
        Value::Object(m) => format!(
            "map[{}]",
            m.iter().map(|(k, v)| format!("{k}:{}", display_inner(v))).collect::<Vec<_>>().join(" ")
        ),
    }
}

fn display_inner(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".to_string(),
        other => display(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(t: &str, v: &Value) -> String {
        Template::parse(t).unwrap().execute(v).unwrap()
    }

    #[test]
    fn field_of_a_parenthesised_value() {
        let v = serde_json::json!({"Log": [{"ExitCode": 3, "Output": "x"}]});
        let t = Template::parse("{{(index .Log 0).ExitCode}}/{{ (index .Log 0).Output }}").unwrap();
        assert_eq!(t.execute(&v).unwrap(), "3/x");
    }

    #[test]
    fn fields_and_literals() {
        let v = json!({"Name": "/foo", "State": {"Running": true, "Pid": 42}, "Args": ["a", "b"]});
        assert_eq!(run("{{.Name}}", &v), "/foo");
        assert_eq!(run("pid={{.State.Pid}} up={{.State.Running}}", &v), "pid=42 up=true");
        assert_eq!(run("{{.Args}}", &v), "[a b]");
        assert_eq!(run("{{.Missing}}", &v), "<no value>");
        assert_eq!(run("{{.State}}", &v), "map[Pid:42 Running:true]");
        assert_eq!(run("{{.}}", &json!("x")), "x");
    }

    #[test]
    fn functions_and_pipes() {
        let v = json!({"Labels": {"com.x": "1", "b": "2"}, "L": ["a", "b"], "S": "hello world"});
        assert_eq!(run(r#"{{index .Labels "com.x"}}"#, &v), "1");
        assert_eq!(run(r#"{{.Labels "b"}}"#, &v), "2");
        assert_eq!(run("{{json .L}}", &v), r#"["a","b"]"#);
        assert_eq!(run(r#"{{join .L ", "}}"#, &v), "a, b");
        assert_eq!(run("{{.S | upper}}", &v), "HELLO WORLD");
        assert_eq!(run("{{title .S}}", &v), "Hello World");
        assert_eq!(run("{{truncate .S 5}}", &v), "hello");
        assert_eq!(run("{{len .L}}", &v), "2");
        assert_eq!(run("{{index .L 1}}", &v), "b");
        assert_eq!(run(r#"{{index (split .S " ") 0}}"#, &v), "hello");
        assert_eq!(run("{{println .S}}", &v), "hello world\n");
    }

    #[test]
    fn control_flow_and_trimming() {
        let v = json!({"Env": ["A=1", "B=2"], "Tty": false, "N": null});
        assert_eq!(run("{{range .Env}}{{.}};{{end}}", &v), "A=1;B=2;");
        assert_eq!(run("{{if .Tty}}t{{else}}f{{end}}", &v), "f");
        assert_eq!(run("{{range .N}}x{{else}}none{{end}}", &v), "none");
        assert_eq!(run("a  {{- .Tty -}}  b", &v), "afalseb");
        assert_eq!(run(r#"{{if eq .Tty false}}yes{{end}}"#, &v), "yes");
    }

    #[test]
    fn hostile_templates_error_not_panic() {
        for bad in ["{{", "{{.A", "{{nosuch .A}}", "{{\"open}}", "{{end}}", "{{if .A}}x", "{{(.A}}", "{{|}}", "{{}}", "{{`x}}"] {
            assert!(Template::parse(bad).is_err(), "{bad}");
        }
        let t = Template::parse("{{.A.B}}").unwrap();
        assert!(t.execute(&json!({"A": "str"})).is_err());
        let t = Template::parse("{{index .A 5}}").unwrap();
        assert!(t.execute(&json!({"A": [1]})).is_err());
    }

    #[test]
    fn formats_tables_with_headers() {
        let f = Format::parse("table {{.ID}}\\t{{.Names}}").unwrap();
        let header = json!({"ID": "CONTAINER ID", "Names": "NAMES"});
        let rows = vec![json!({"ID": "abc", "Names": "foo"})];
        assert_eq!(f.render(&header, &rows).unwrap(), "CONTAINER ID   NAMES\nabc            foo\n");
        let f = Format::parse("{{.ID}}\\t{{.Names}}").unwrap();
        assert_eq!(f.render(&header, &rows).unwrap(), "abc\tfoo\n");
        let f = Format::parse("json").unwrap();
        assert_eq!(f.render(&header, &rows).unwrap(), "{\"ID\":\"abc\",\"Names\":\"foo\"}\n");
        let f = Format::parse("table {{json .ID}}").unwrap();
        assert_eq!(f.render(&header, &[]).unwrap(), "CONTAINER ID\n");
    }
}
