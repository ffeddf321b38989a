//! Build arguments with the classic builder's rules (moby `BuildArgs`): ARG declares an
//! arg for the current stage (its default, overridden by `--build-arg`), ARGs before the
//! first FROM are meta args (FROM can use them; a stage re-declares one to use it), and
//! the predefined proxy args are usable without a declaration but kept out of history.

use std::collections::BTreeMap;

/// The proxy args every build accepts.
pub const BUILTIN: [&str; 10] = [
    "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
    "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy",
];

pub fn is_builtin(k: &str) -> bool {
    BUILTIN.contains(&k)
}

#[derive(Debug, Clone, Default)]
pub struct BuildArgs {
    options: BTreeMap<String, Option<String>>,
    meta: BTreeMap<String, Option<String>>,
    allowed: BTreeMap<String, Option<String>>,
}

impl BuildArgs {
    pub fn new(options: BTreeMap<String, Option<String>>) -> Self {
        BuildArgs { options, ..Default::default() }
    }

    /// A stage's scope: meta args kept, declared args cleared.
    pub fn for_stage(&self) -> Self {
        BuildArgs {
            options: self.options.clone(),
            meta: self.meta.clone(),
            allowed: BTreeMap::new(),
        }
    }

    pub fn add_arg(&mut self, key: &str, value: Option<String>) {
        self.allowed.insert(key.to_string(), value);
    }

    pub fn add_meta(&mut self, key: &str, value: Option<String>) {
        self.meta.insert(key.to_string(), value);
    }

    fn get(&self, key: &str, mapping: &BTreeMap<String, Option<String>>) -> Option<String> {
        if let Some(Some(v)) = self.options.get(key) {
            return Some(v.clone());
        }
        match mapping.get(key) {
            Some(Some(v)) => Some(v.clone()),
            _ => self.meta.get(key).cloned().flatten(),
        }
    }

    fn all(&self, mapping: &BTreeMap<String, Option<String>>) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for k in mapping.keys().map(String::as_str).chain(BUILTIN) {
            if let Some(v) = self.get(k, mapping) {
                out.insert(k.to_string(), v);
            }
        }
        out
    }

    /// Declared args (and given proxy args) with their values.
    pub fn all_allowed(&self) -> BTreeMap<String, String> {
        self.all(&self.allowed)
    }

    /// Meta args, for FROM.
    pub fn all_meta(&self) -> BTreeMap<String, String> {
        self.all(&self.meta)
    }

    /// Allowed args not shadowed by an ENV of the same name, as `K=V`, sorted.
    pub fn filter_allowed(&self, env: &[String]) -> Vec<String> {
        let keys: Vec<&str> = env.iter().map(|e| e.split('=').next().unwrap_or("")).collect();
        self.all_allowed()
            .into_iter()
            .filter(|(k, _)| !keys.contains(&k.as_str()))
            .map(|(k, v)| format!("{k}={v}"))
            .collect()
    }

    /// Shown in RUN's history: a declared arg, or any non-proxy one.
    pub fn in_history(&self, key: &str) -> bool {
        self.allowed.contains_key(key) || !is_builtin(key)
    }

    pub fn option_keys(&self) -> impl Iterator<Item = &String> {
        self.options.keys()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scoping_and_overrides() {
        let mut opts = BTreeMap::new();
        opts.insert("B".to_string(), Some("cli".to_string()));
        opts.insert("HTTP_PROXY".to_string(), Some("http://p".to_string()));
        opts.insert("U".to_string(), None);
        let mut g = BuildArgs::new(opts);
        g.add_arg("V", Some("1".into()));
        g.add_meta("V", Some("1".into()));
        assert_eq!(g.all_meta().get("V").map(String::as_str), Some("1"));
        let mut s = g.for_stage();
        assert!(!s.all_allowed().contains_key("V"), "meta args need re-declaring");
        s.add_arg("V", None);
        s.add_arg("B", Some("default".into()));
        s.add_arg("U", None);
        let all = s.all_allowed();
        assert_eq!(all.get("V").map(String::as_str), Some("1"));
        assert_eq!(all.get("B").map(String::as_str), Some("cli"));
        assert_eq!(all.get("HTTP_PROXY").map(String::as_str), Some("http://p"));
        assert!(!all.contains_key("U"));
        assert!(!s.in_history("HTTP_PROXY"));
        assert_eq!(s.filter_allowed(&["B=env".into()]), vec!["HTTP_PROXY=http://p", "V=1"]);
    }
}
