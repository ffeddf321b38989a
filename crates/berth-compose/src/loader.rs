//! The load pipeline: files → per-file (parse, interpolate, normalise,
//! `extends`, check, `include`) → merge → name → resolve → profiles →
//! validate.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::env::Environment;
use crate::error::{ComposeError, Result};
use crate::interpolate::{interpolate_tree, Lookup};
use crate::merge::merge;
use crate::model::{self, Project};
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
    /// The text of `-f -` (the command reads standard input).
    pub stdin: Option<String>,
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
    let is_stdin = |f: &Path| f.as_os_str() == "-";
    let files: Vec<PathBuf> = if !opts.files.is_empty() {
        opts.files
            .iter()
            .map(|f| {
                if is_stdin(f) {
                    f.clone()
                } else {
                    clean(&wd.join(f))
                }
            })
            .collect()
    } else if let Some(cf) = opts
        .environment
        .get("COMPOSE_FILE")
        .filter(|s| !s.is_empty())
    {
        let sep = opts
            .environment
            .get("COMPOSE_PATH_SEPARATOR")
            .map(String::as_str)
            .unwrap_or(":");
        cf.split(sep)
            .filter(|s| !s.is_empty())
            .map(|f| clean(&wd.join(f)))
            .collect()
    } else {
        // With --project-directory, that is where the files are looked for.
        let start = opts
            .project_directory
            .as_ref()
            .map(|d| clean(&wd.join(d)))
            .unwrap_or_else(|| wd.clone());
        crate::discover::find_project_files(&start).ok_or(ComposeError::NoConfigFile)?
    };
    let first = files.first().ok_or(ComposeError::NoConfigFile)?;
    let project_dir = match &opts.project_directory {
        Some(d) => clean(&wd.join(d)),
        None if is_stdin(first) => wd.clone(),
        None => first
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| wd.clone()),
    };

    let mut env = Environment {
        process: opts.environment.clone(),
        files: BTreeMap::new(),
    };
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
        let text = if is_stdin(f) {
            Some(opts.stdin.as_deref().ok_or_else(|| {
                ComposeError::project(
                    "-f -: the compose file's text from standard input was not given",
                )
            })?)
        } else {
            None
        };
        let v = load_file(f, text, &project_dir, &env, &mut warnings, &mut Vec::new())?;
        merged = merge(merged, v);
    }
    crate::tags::strip(&mut merged);

    let file_name = first.display().to_string();
    let model = model::read_merged(merged, &file_name)?;
    let name = project_name(opts, &env, model.name.as_deref(), &project_dir)?;
    let mut project = crate::resolve::resolve(model, name, &env)?;
    project.working_dir = project_dir;
    project.config_files = files;
    project.warnings = warnings;
    project.variables = env.files.clone();
    project.variables.extend(env.process.clone());

    let profiles: Vec<String> = if opts.profiles.is_empty() {
        env.get("COMPOSE_PROFILES")
            .map(|p| {
                p.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    } else {
        opts.profiles.clone()
    };
    crate::profiles::apply(&mut project, &profiles, &opts.services)?;
    crate::validate::validate(&project)?;
    Ok(project)
}

fn project_name(
    opts: &LoadOptions,
    env: &Environment,
    from_file: Option<&str>,
    dir: &Path,
) -> Result<String> {
    if let Some(p) = &opts.project_name {
        return crate::name::check(p);
    }
    if let Some(p) = env.get("COMPOSE_PROJECT_NAME").filter(|p| !p.is_empty()) {
        return crate::name::check(&p);
    }
    if let Some(n) = from_file.filter(|n| !n.is_empty()) {
        return crate::name::check(n);
    }
    let base = dir
        .file_name()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    let n = crate::name::normalize(&base);
    if n.is_empty() {
        return Err(ComposeError::ProjectName(base));
    }
    Ok(n)
}

fn home(env: &dyn Lookup) -> Option<PathBuf> {
    env.get("HOME").map(PathBuf::from)
}

/// Reads one file (or takes its `text`): parse, drop `version` (with a
/// warning), interpolate, normalise with relative paths against `dir`.
pub(crate) fn read_normalized(
    path: &Path,
    text: Option<&str>,
    dir: &Path,
    env: &dyn Lookup,
    warnings: &mut Vec<String>,
) -> Result<Value> {
    let owned;
    let text = match text {
        Some(t) => t,
        None => {
            owned = std::fs::read_to_string(path).map_err(|source| ComposeError::Io {
                path: path.to_path_buf(),
                source,
            })?;
            &owned
        }
    };
    let file = path.display().to_string();
    let (mut v, tags) = crate::yaml::parse_tagged(&file, text)?;
    crate::tags::take_resets(&mut v, &tags, &file)?;
    if let Some(top) = v.as_object_mut() {
        if top.remove("version").is_some() {
            warnings.push(format!(
                "{file}: the attribute `version` is obsolete, it will be ignored, please remove it to avoid potential confusion"
            ));
        }
    }
    interpolate_tree(&mut v, "", env, warnings)?;
    let h = home(env);
    let ctx = FileContext {
        file: &file,
        dir,
        home: h.as_deref(),
    };
    normalize_file(&mut v, &ctx)?;
    crate::tags::mark(&mut v, &tags, &file)?;
    Ok(v)
}

/// One file of the project with its `extends` and `include`s resolved.
/// `stack` holds the files being included, to refuse include cycles.
pub(crate) fn load_file(
    path: &Path,
    text: Option<&str>,
    dir: &Path,
    env: &dyn Lookup,
    warnings: &mut Vec<String>,
    stack: &mut Vec<PathBuf>,
) -> Result<Value> {
    let file = path.display().to_string();
    let mut v = read_normalized(path, text, dir, env, warnings)?;
    let include = v.as_object_mut().and_then(|t| t.remove("include"));
    crate::extends::resolve_extends(&mut v, path, dir, env, warnings)?;
    model::check_file(&crate::tags::stripped(&v), &file)?;
    if let Some(include) = include {
        stack.push(path.to_path_buf());
        let r = crate::include::apply_includes(&mut v, include, &file, dir, env, warnings, stack);
        stack.pop();
        r?;
    }
    Ok(v)
}
