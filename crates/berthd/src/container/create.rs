//! `POST /containers/create`: merge the image's defaults with the request
//! exactly as Docker does, reserve the name, write the record.

use super::manager::{now_nanos, Container, ContainerManager};
use super::naming::{new_id, random_name, validate_name};
use super::record::{ContainerRecord, RunState};
use berth_api::container::{ContainerConfig, CreateRequest, CreateResponse};
use berth_api::ApiError;
use berth_image::ImageConfig;
use std::sync::Arc;

impl ContainerManager {
    /// Blocking (the device walk, the record's fsync, volume directories):
    /// the route runs it on a blocking thread.
    pub fn create(
        self: &Arc<Self>,
        name: Option<&str>,
        req: CreateRequest,
    ) -> Result<CreateResponse, ApiError> {
        if req.config.image.is_empty() {
            return Err(ApiError::invalid("config.Image: must not be empty"));
        }
        let name = match name.filter(|n| !n.is_empty()) {
            Some(n) => Some(validate_name(n)?),
            None => None,
        };
        super::limits::validate_host_config(&req.host_config)?;
        super::restart::validate(&req.host_config.restart_policy, req.host_config.auto_remove)?;
        let image = self.images.resolve(&req.config.image).map_err(crate::error::image_error)?;
        let id = new_id();
        let mut config = merge_config(req.config, &image.config);
        let mut argv = config.entrypoint.clone().unwrap_or_default();
        argv.extend(config.cmd.clone().unwrap_or_default());
        if argv.is_empty() {
            return Err(ApiError::invalid("no command specified"));
        }
        let mut host_config = req.host_config;
        super::logdriver::apply_default(&mut host_config.log_config, &self.cfg.log_config);
        let warnings = super::limits::discard_unsupported(&mut host_config.resources);
        super::unsupported::refuse(&host_config, &config, req.networking_config.as_ref())?;
        self.check_isolation(&mut host_config, &mut config)?;
        if config.hostname.is_empty() {
            config.hostname = id[..12].to_string();
        }
        // Published ports are read again at start; a bad one is a 400 now.
        let exposed: Vec<String> = config.exposed_ports.as_ref().map(|m| m.keys().cloned().collect()).unwrap_or_default();
        let publish_all = host_config.extra.get("PublishAllPorts").and_then(serde_json::Value::as_bool).unwrap_or(false);
        crate::network::ports::requests(host_config.extra.get("PortBindings"), publish_all, &exposed)?;
        let net = self.check_network_request(&mut host_config, req.networking_config.as_ref())?;
        let plan = self.plan_mounts(&config, &host_config)?;
        let name = match name {
            Some(n) => n,
            None => self.unused_random_name(),
        };
        let record = ContainerRecord {
            id: id.clone(),
            name: name.clone(),
            created: now_nanos(),
            image_id: image.id.to_string(),
            config,
            host_config,
            path: argv[0].clone(),
            args: argv[1..].to_vec(),
            state: RunState::default(),
            restart_count: 0,
            net,
            mounts: plan.mounts,
        };
        let c = Container::new(record.clone());
        self.insert(c.clone(), &name)?;
        if let Err(e) = self.volumes.claim(&id, &plan.volumes) {
            self.forget(&id);
            return Err(e);
        }
        let dir = self.cfg.container_dir(&id);
        let persisted = std::fs::create_dir_all(&dir)
            .map_err(|e| ApiError::internal(format!("creating {}: {e}", dir.display())))
            .and_then(|()| self.persist(&record));
        if let Err(e) = persisted {
            self.release_volumes(&record, true);
            self.forget(&id);
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e);
        }
        self.emit(&c, "create", &[]);
        Ok(CreateResponse { id, warnings })
    }

    fn unused_random_name(&self) -> String {
        let mut retry = 0;
        loop {
            let n = random_name(retry);
            if !self.name_taken(&n) {
                return n;
            }
            retry += 1;
        }
    }
}

/// Docker's merge of a create request with the image config.
pub fn merge_config(mut c: ContainerConfig, image: &ImageConfig) -> ContainerConfig {
    let img = image.config.clone().unwrap_or_default();
    // Entrypoint given by the user replaces the image's and drops its CMD.
    match c.entrypoint.take() {
        Some(ep) => {
            c.entrypoint = if ep.len() == 1 && ep[0].is_empty() { Some(vec![]) } else { Some(ep) };
        }
        None => {
            c.entrypoint = img.entrypoint.clone();
            if c.cmd.is_none() {
                c.cmd = img.cmd.clone();
            }
        }
    }
    let mut env: Vec<String> = img.env.clone().unwrap_or_default();
    for kv in std::mem::take(&mut c.env) {
        let key = kv.split('=').next().unwrap_or("").to_string();
        env.retain(|e| e.split('=').next() != Some(key.as_str()));
        env.push(kv);
    }
    c.env = env;
    if c.working_dir.is_empty() {
        c.working_dir = img.working_dir.clone().unwrap_or_default();
    }
    if c.user.is_empty() {
        c.user = img.user.clone().unwrap_or_default();
    }
    let mut labels = img.labels.clone().unwrap_or_default();
    labels.extend(std::mem::take(&mut c.labels));
    c.labels = labels;
    if c.stop_signal.is_none() {
        c.stop_signal = img.stop_signal.clone();
    }
    let image_check = img.healthcheck.as_ref().and_then(|h| serde_json::to_value(h).ok());
    c.healthcheck = super::health::merge(c.healthcheck.as_ref(), image_check.as_ref());
    if let Some(v) = &img.volumes {
        let vols = c.volumes.get_or_insert_with(Default::default);
        for (k, val) in v {
            vols.entry(k.clone()).or_insert_with(|| val.clone());
        }
    }
    if let Some(p) = &img.exposed_ports {
        let ports = c.exposed_ports.get_or_insert_with(Default::default);
        for (k, val) in p {
            ports.entry(k.clone()).or_insert_with(|| val.clone());
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_image::ContainerConfig as ImageRunConfig;

    fn image(entrypoint: Option<&[&str]>, cmd: Option<&[&str]>) -> ImageConfig {
        let v = |x: Option<&[&str]>| x.map(|a| a.iter().map(|s| s.to_string()).collect());
        ImageConfig {
            config: Some(ImageRunConfig {
                entrypoint: v(entrypoint),
                cmd: v(cmd),
                env: Some(vec!["PATH=/bin".into(), "A=image".into()]),
                working_dir: Some("/srv".into()),
                user: Some("daemon".into()),
                labels: Some([("from".to_string(), "image".to_string())].into()),
                stop_signal: Some("SIGQUIT".into()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn req(entrypoint: Option<&[&str]>, cmd: Option<&[&str]>) -> ContainerConfig {
        let v = |x: Option<&[&str]>| x.map(|a| a.iter().map(|s| s.to_string()).collect());
        ContainerConfig { entrypoint: v(entrypoint), cmd: v(cmd), ..Default::default() }
    }

    #[test]
    fn image_cmd_used_when_request_has_none() {
        let c = merge_config(req(None, None), &image(Some(&["/init"]), Some(&["serve"])));
        assert_eq!(c.entrypoint, Some(vec!["/init".to_string()]));
        assert_eq!(c.cmd, Some(vec!["serve".to_string()]));
        assert_eq!(c.working_dir, "/srv");
        assert_eq!(c.user, "daemon");
        assert_eq!(c.stop_signal.as_deref(), Some("SIGQUIT"));
    }

    #[test]
    fn request_cmd_keeps_image_entrypoint() {
        let c = merge_config(req(None, Some(&["x"])), &image(Some(&["/init"]), Some(&["serve"])));
        assert_eq!(c.entrypoint, Some(vec!["/init".to_string()]));
        assert_eq!(c.cmd, Some(vec!["x".to_string()]));
    }

    #[test]
    fn request_entrypoint_drops_image_cmd() {
        let c = merge_config(req(Some(&["/bin/echo"]), None), &image(Some(&["/init"]), Some(&["serve"])));
        assert_eq!(c.entrypoint, Some(vec!["/bin/echo".to_string()]));
        assert_eq!(c.cmd, None);
        // `--entrypoint ""` clears it.
        let c = merge_config(req(Some(&[""]), Some(&["ls"])), &image(Some(&["/init"]), None));
        assert_eq!(c.entrypoint, Some(vec![]));
        assert_eq!(c.cmd, Some(vec!["ls".to_string()]));
    }

    #[test]
    fn env_and_labels_merge_with_request_winning() {
        let mut r = req(None, None);
        r.env = vec!["A=req".into(), "B=2".into()];
        r.labels = [("from".to_string(), "req".to_string())].into();
        let c = merge_config(r, &image(None, Some(&["sh"])));
        assert_eq!(c.env, vec!["PATH=/bin", "A=req", "B=2"]);
        assert_eq!(c.labels.get("from").map(String::as_str), Some("req"));
    }
}
