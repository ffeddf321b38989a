//! The load pipeline: files → per-file (parse, interpolate, normalise,
//! `extends`, check, `include`) → merge → name → resolve → profiles →
//! validate.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::env::{parse_dotenv, Environment};
use crate::error::{ComposeError, Result};
use crate::interpolate::{interpolate_tree, Lookup};
use crate::merge::{merge, merge_service};
use crate::model::{self, FileModel, Project};
use crate::normalize::{clean, normalize_file, FileContext};

/// What a compose command was given: the global flags and the environment.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// The directory the command runs in (relative `-f` and discovery start).
    pub working_dir: PathBuf,
    /// `-f` files, in order; empty means COMPOSE_FILE or discovery.
    pub files: Vec<PathBuf>,
    /// `--project-directory`; default: the first file's directory.
    pub project_directory: Option<PathBuf>,
    /// `-p`.
    pub project_name: Option<String>,
    /// `--env-file`, replacing the project's `.env`.
    pub env_files: Vec<PathBuf>,
    /// `--profile`; empty means COMPOSE_PROFILES.
    pub profiles: Vec<String>,
    /// Services named on the command line: their profiles are enabled.
    pub services: Vec<String>,
    /// The process environment.
    pub environment: BTreeMap<String, String>,
}

impl LoadOptions {
    /// Options for `working_dir` with the process environment.
    pub fn from_process(working_dir: PathBuf) -> Self {
        LoadOptions {
            working_dir,
            environment: std::env::vars().collect(),
            ..Default::default()
        }
    }
}

/// Loads, merges, resolves and validates a project.
pub fn load(opts: &LoadOptions) -> Result<Project> {
    let wd = &opts.working_dir;
    if opts.files.iter().any(|f| f.as_os_str() == "-") {
        return Err(ComposeError::project(
            "reading a compose file from standard input (-f -) is not supported yet",
        ));
    }
    let files: Vec<PathBuf> = if !opts.files.is_empty() {
        opts.files.iter().map(|f| clean(&wd.join(f))).collect()
    } else if let Some(cf) = opts.environment.get("COMPOSE_FILE").filter(|s| !s.is_empty()) {
        let sep = opts.environment.get("COMPOSE_PATH_SEPARATOR").map(String::as_str).unwrap_or(":");
        cf.split(sep).filter(|s| !s.is_empty()).map(|f| clean(&wd.join(f))).collect()
    } else {
        // With --project-directory, that is where the files are looked for.
        let start = opts.project_directory.as_ref().map(|d| clean(&wd.join(d))).unwrap_or_else(|| wd.clone());
        crate::discover::find_project_files(&start).ok_or(ComposeError::NoConfigFile)?
    };
    let first = files.first().ok_or(ComposeError::NoConfigFile)?;
    let project_dir = match &opts.project_directory {
        Some(d) => clean(&wd.join(d)),
        None => first.parent().map(Path::to_path_buf).unwrap_or_else(|| wd.clone()),
    };

    let mut env = Environment { process: opts.environment.clone(), files: BTreeMap::new() };
    if opts.env_files.is_empty() {
        let dotenv = project_dir.join(".env");
        if dotenv.is_file() {
            env.load_file(&dotenv)?;
        }
    } else {
        for f in &opts.env_files {
            env.load_file(&clean(&wd.join(f)))?;
        }
    }

    let mut warnings = Vec::new();
    let mut merged = Value::Object(Map::new());
    for f in &files {
        let v = load_file(f, &project_dir, &env, &mut warnings, &mut Vec::new())?;
        merged = merge(merged, v);
    }

    let file_name = first.display().to_string();
    let model = model::read_merged(merged, &file_name)?;
    let name = project_name(opts, &env, model.name.as_deref(), &project_dir)?;
    let mut project = resolve(model, name, &env)?;
    project.working_dir = project_dir;
    project.config_files = files;
    project.warnings = warnings;
    project.variables = env.files.clone();
    project.variables.extend(env.process.clone());

    let profiles: Vec<String> = if opts.profiles.is_empty() {
        env.get("COMPOSE_PROFILES")
            .map(|p| p.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect())
            .unwrap_or_default()
    } else {
        opts.profiles.clone()
    };
    crate::profiles::apply(&mut project, &profiles, &opts.services)?;
    crate::validate::validate(&project)?;
    Ok(project)
}

fn project_name(opts: &LoadOptions, env: &Environment, from_file: Option<&str>, dir: &Path) -> Result<String> {
    if let Some(p) = &opts.project_name {
        return crate::name::check(p);
    }
    if let Some(p) = env.get("COMPOSE_PROJECT_NAME").filter(|p| !p.is_empty()) {
        return crate::name::check(&p);
    }
    if let Some(n) = from_file.filter(|n| !n.is_empty()) {
        return crate::name::check(n);
    }
    let base = dir.file_name().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
    let n = crate::name::normalize(&base);
    if n.is_empty() {
        return Err(ComposeError::ProjectName(base));
    }
    Ok(n)
}

fn home(env: &dyn Lookup) -> Option<PathBuf> {
    env.get("HOME").map(PathBuf::from)
}

/// Reads one file: parse, drop `version` (with a warning), interpolate,
/// normalise with relative paths against `dir`.
fn read_normalized(path: &Path, dir: &Path, env: &dyn Lookup, warnings: &mut Vec<String>) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|source| ComposeError::Io { path: path.to_path_buf(), source })?;
    let file = path.display().to_string();
    let mut v = crate::yaml::parse(&file, &text)?;
    if let Some(top) = v.as_object_mut() {
        if top.remove("version").is_some() {
            warnings.push(format!(
                "{file}: the attribute `version` is obsolete, it will be ignored, please remove it to avoid potential confusion"
            ));
        }
    }
    interpolate_tree(&mut v, "", env, warnings)?;
    let h = home(env);
    let ctx = FileContext { file: &file, dir, home: h.as_deref() };
    normalize_file(&mut v, &ctx)?;
    Ok(v)
}

/// One file of the project with its `extends` and `include`s resolved.
/// `stack` holds the files being included, to refuse include cycles.
fn load_file(
    path: &Path,
    dir: &Path,
    env: &dyn Lookup,
    warnings: &mut Vec<String>,
    stack: &mut Vec<PathBuf>,
) -> Result<Value> {
    let file = path.display().to_string();
    let mut v = read_normalized(path, dir, env, warnings)?;
    let include = v.as_object_mut().and_then(|t| t.remove("include"));
    resolve_extends(&mut v, path, dir, env, warnings)?;
    model::check_file(&v, &file)?;
    if let Some(include) = include {
        stack.push(path.to_path_buf());
        let r = apply_includes(&mut v, include, &file, dir, env, warnings, stack);
        stack.pop();
        r?;
    }
    Ok(v)
}

fn resolve_extends(v: &mut Value, path: &Path, dir: &Path, env: &dyn Lookup, warnings: &mut Vec<String>) -> Result<()> {
    let Some(services) = v.get("services").and_then(Value::as_object).cloned() else { return Ok(()) };
    let mut out = Map::new();
    for name in services.keys() {
        let mut chain = Vec::new();
        let s = extend_one(name, &services, path, dir, env, warnings, &mut chain)?;
        out.insert(name.clone(), s);
    }
    if let Some(top) = v.as_object_mut() {
        top.insert("services".into(), Value::Object(out));
    }
    Ok(())
}

fn extend_one(
    name: &str,
    services: &Map<String, Value>,
    path: &Path,
    dir: &Path,
    env: &dyn Lookup,
    warnings: &mut Vec<String>,
    chain: &mut Vec<(PathBuf, String)>,
) -> Result<Value> {
    let file = path.display().to_string();
    let mut svc = services
        .get(name)
        .cloned()
        .ok_or_else(|| ComposeError::project(format!("cannot extend service {name:?} in {file}: service not found")))?;
    let key = (path.to_path_buf(), name.to_string());
    if chain.contains(&key) {
        let names: Vec<&str> = chain.iter().map(|(_, s)| s.as_str()).collect();
        return Err(ComposeError::project(format!(
            "circular reference with extends: {} -> {name}",
            names.join(" -> ")
        )));
    }
    let Some(ext) = svc.as_object_mut().and_then(|s| s.remove("extends")) else { return Ok(svc) };
    let Some(base_name) = ext.get("service").and_then(Value::as_str).map(str::to_string) else {
        return Err(ComposeError::invalid(&file, format!("services.{name}.extends: service is required")));
    };
    if let Some(k) = ext.as_object().and_then(|m| m.keys().find(|k| !matches!(k.as_str(), "service" | "file"))) {
        return Err(ComposeError::invalid(&file, format!("services.{name}.extends additional properties '{k}' not allowed")));
    }
    chain.push(key);
    let base = match ext.get("file").and_then(Value::as_str) {
        Some(other) => {
            let other = PathBuf::from(other);
            let other_dir = other.parent().map(Path::to_path_buf).unwrap_or_else(|| dir.to_path_buf());
            let ov = read_normalized(&other, &other_dir, env, warnings)?;
            let other_services = ov.get("services").and_then(Value::as_object).cloned().unwrap_or_default();
            if !other_services.contains_key(&base_name) {
                return Err(ComposeError::project(format!(
                    "cannot extend service {name:?} in {}: service {base_name:?} not found",
                    other.display()
                )));
            }
            extend_one(&base_name, &other_services, &other, &other_dir, env, warnings, chain)?
        }
        None => {
            if !services.contains_key(&base_name) {
                return Err(ComposeError::project(format!(
                    "cannot extend service {name:?} in {file}: service {base_name:?} not found"
                )));
            }
            extend_one(&base_name, services, path, dir, env, warnings, chain)?
        }
    };
    chain.pop();
    Ok(merge_service(base, svc))
}

#[allow(clippy::too_many_arguments)]
fn apply_includes(
    v: &mut Value,
    include: Value,
    file: &str,
    dir: &Path,
    env: &dyn Lookup,
    warnings: &mut Vec<String>,
    stack: &mut Vec<PathBuf>,
) -> Result<()> {
    let Value::Array(entries) = include else {
        return Err(ComposeError::invalid(file, "include must be a list"));
    };
    for entry in entries {
        let (paths, project_dir, env_files) = include_entry(entry, file, dir)?;
        let first = paths.first().ok_or_else(|| ComposeError::invalid(file, "include: path is required"))?;
        if stack.contains(first) {
            return Err(ComposeError::project(format!("include cycle: {} includes itself", first.display())));
        }
        let inc_dir = project_dir.unwrap_or_else(|| first.parent().map(Path::to_path_buf).unwrap_or_else(|| dir.to_path_buf()));
        // The including project's variables win over the included one's env files.
        let mut inc_env = Environment::default();
        let env_files = if env_files.is_empty() { vec![inc_dir.join(".env")] } else { env_files };
        for ef in env_files.iter().filter(|f| f.is_file()) {
            let text = std::fs::read_to_string(ef).map_err(|source| ComposeError::Io { path: ef.clone(), source })?;
            for (k, val) in parse_dotenv(&ef.display().to_string(), &text, &inc_env)? {
                if let Some(val) = val {
                    inc_env.files.insert(k, val);
                }
            }
        }
        let mut included = Value::Object(Map::new());
        for p in &paths {
            let one = load_file(p, &inc_dir, &Layered { outer: env, inner: &inc_env }, warnings, stack)?;
            included = merge(included, one);
        }
        copy_resources(v, included, file)?;
    }
    Ok(())
}

/// An included file sees the including project's variables first.
struct Layered<'a> {
    outer: &'a dyn Lookup,
    inner: &'a Environment,
}

impl Lookup for Layered<'_> {
    fn get(&self, name: &str) -> Option<String> {
        self.outer.get(name).or_else(|| self.inner.get(name))
    }
}

fn include_entry(entry: Value, file: &str, dir: &Path) -> Result<(Vec<PathBuf>, Option<PathBuf>, Vec<PathBuf>)> {
    let strings = |v: &Value| -> Result<Vec<PathBuf>> {
        match v {
            Value::String(s) => Ok(vec![clean(&dir.join(s))]),
            Value::Array(a) => a
                .iter()
                .map(|i| i.as_str().map(|s| clean(&dir.join(s))).ok_or_else(|| ComposeError::invalid(file, "include: paths must be strings")))
                .collect(),
            _ => Err(ComposeError::invalid(file, "include: path must be a string or a list")),
        }
    };
    match &entry {
        Value::String(_) => Ok((strings(&entry)?, None, Vec::new())),
        Value::Object(m) => {
            if let Some(k) = m.keys().find(|k| !matches!(k.as_str(), "path" | "project_directory" | "env_file")) {
                return Err(ComposeError::invalid(file, format!("include additional properties '{k}' not allowed")));
            }
            let paths = strings(m.get("path").ok_or_else(|| ComposeError::invalid(file, "include: path is required"))?)?;
            let pd = match m.get("project_directory") {
                Some(Value::String(s)) => Some(clean(&dir.join(s))),
                None => None,
                Some(_) => return Err(ComposeError::invalid(file, "include: project_directory must be a string")),
            };
            let ef = match m.get("env_file") {
                Some(v) => strings(v)?,
                None => Vec::new(),
            };
            Ok((paths, pd, ef))
        }
        _ => Err(ComposeError::invalid(file, "include entries must be strings or mappings")),
    }
}

/// Copies an included model's services and resources in; a name defined
/// on both sides differently is an error (Compose does not merge them).
fn copy_resources(v: &mut Value, included: Value, file: &str) -> Result<()> {
    let Some(top) = v.as_object_mut() else { return Ok(()) };
    let Value::Object(inc) = included else { return Ok(()) };
    for (kind, res) in inc {
        if kind == "name" {
            continue;
        }
        let Value::Object(res) = res else { continue };
        let target = top.entry(kind.clone()).or_insert_with(|| Value::Object(Map::new()));
        let Some(target) = target.as_object_mut() else { continue };
        for (name, def) in res {
            match target.get(&name) {
                Some(existing) if *existing != def => {
                    return Err(ComposeError::invalid(
                        file,
                        format!("{kind}.{name} conflicts with imported resource"),
                    ))
                }
                _ => {
                    target.insert(name, def);
                }
            }
        }
    }
    Ok(())
}

/// Fills what Compose fills: env files read into `environment`, default
/// network, engine-side resource names, secret and config targets.
fn resolve(model: FileModel, name: String, env: &Environment) -> Result<Project> {
    let mut project = Project {
        name: name.clone(),
        services: model.services,
        networks: model.networks,
        volumes: model.volumes,
        secrets: model.secrets,
        configs: model.configs,
        ..Default::default()
    };
    let mut uses_default = false;
    for (sname, s) in project.services.iter_mut() {
        let mut environment: BTreeMap<String, Option<String>> = BTreeMap::new();
        for ef in std::mem::take(&mut s.env_file) {
            let p = PathBuf::from(&ef.path);
            if !p.is_file() {
                if ef.required {
                    return Err(ComposeError::project(format!(
                        "env file {} not found: stat {}: no such file or directory",
                        ef.path, ef.path
                    )));
                }
                continue;
            }
            let text = std::fs::read_to_string(&p).map_err(|source| ComposeError::Io { path: p.clone(), source })?;
            for (k, v) in parse_dotenv(&ef.path, &text, env)? {
                environment.insert(k, v);
            }
        }
        for (k, v) in std::mem::take(&mut s.environment) {
            let v = match v {
                Some(v) => Some(v),
                None => env.get(&k),
            };
            environment.insert(k, v);
        }
        s.environment = environment;
        if s.networks.is_empty() && s.network_mode.is_none() {
            s.networks.insert("default".into(), None);
        }
        uses_default |= s.networks.contains_key("default");
        for sec in s.secrets.iter_mut() {
            if sec.target.is_none() {
                sec.target = Some(format!("/run/secrets/{}", sec.source));
            } else if let Some(t) = sec.target.as_ref().filter(|t| !t.starts_with('/')) {
                sec.target = Some(format!("/run/secrets/{t}"));
            }
        }
        for c in s.configs.iter_mut() {
            if c.target.is_none() {
                c.target = Some(format!("/{}", c.source));
            }
        }
        if let (Some(scale), Some(replicas)) = (s.scale, s.deploy.as_ref().and_then(|d| d.replicas)) {
            if scale != replicas {
                return Err(ComposeError::project(format!(
                    "services.{sname}: can't set distinct values on 'scale' and 'deploy.replicas'"
                )));
            }
        }
        for hc in s.healthcheck.iter_mut() {
            if let Some(t) = &hc.test {
                if t.first().map(String::as_str) == Some("NONE") {
                    hc.disable = true;
                }
            }
        }
    }
    if uses_default {
        project.networks.entry("default".into()).or_default();
    }
    for (key, n) in project.networks.iter_mut() {
        if n.name.is_none() {
            n.name = Some(if n.external { key.clone() } else { format!("{name}_{key}") });
        }
    }
    for (key, v) in project.volumes.iter_mut() {
        if v.name.is_none() {
            v.name = Some(if v.external { key.clone() } else { format!("{name}_{key}") });
        }
    }
    for map in [&mut project.secrets, &mut project.configs] {
        for (key, o) in map.iter_mut() {
            if o.name.is_none() {
                o.name = Some(if o.external { key.clone() } else { format!("{name}_{key}") });
            }
        }
    }
    Ok(project)
}
