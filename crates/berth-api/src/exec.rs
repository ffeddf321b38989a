//! Exec shapes: `POST /containers/{id}/exec`, `POST /exec/{id}/start` and
//! `GET /exec/{id}/json`.

use serde::{Deserialize, Serialize};

/// The body of `POST /containers/{id}/exec` (Docker's `ExecConfig`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ExecConfig {
    pub user: String,
    pub privileged: bool,
    pub tty: bool,
    /// `[height, width]`.
    pub console_size: Option<[u32; 2]>,
    pub attach_stdin: bool,
    pub attach_stderr: bool,
    pub attach_stdout: bool,
    pub detach: bool,
    pub detach_keys: String,
    pub env: Option<Vec<String>>,
    pub working_dir: String,
    #[serde(deserialize_with = "crate::strslice::deserialize")]
    pub cmd: Option<Vec<String>>,
}

/// The body of `POST /exec/{id}/start`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ExecStartConfig {
    pub detach: bool,
    pub tty: bool,
    pub console_size: Option<[u32; 2]>,
}

/// `ProcessConfig` in an exec inspect (lower-case keys, as Docker has them).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ProcessConfig {
    pub privileged: bool,
    pub user: String,
    pub tty: bool,
    pub entrypoint: String,
    pub arguments: Vec<String>,
}

/// `GET /exec/{id}/json`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ExecInspect {
    #[serde(rename = "ID")]
    pub id: String,
    pub running: bool,
    /// `null` until the process has exited.
    pub exit_code: Option<i64>,
    pub process_config: ProcessConfig,
    pub open_stdin: bool,
    pub open_stderr: bool,
    pub open_stdout: bool,
    pub can_remove: bool,
    #[serde(rename = "ContainerID")]
    pub container_id: String,
    pub detach_keys: String,
    pub pid: i64,
}

/// `{"Id": ...}` (Docker's `IDResponse`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IdResponse {
    #[serde(rename = "Id")]
    pub id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_what_the_docker_cli_sends() {
        let c: ExecConfig = serde_json::from_str(
            r#"{"User":"","Privileged":false,"Tty":true,"ConsoleSize":[30,100],"AttachStdin":true,
               "AttachStderr":true,"AttachStdout":true,"Detach":false,"DetachKeys":"","Env":null,
               "WorkingDir":"","Cmd":["sh"]}"#,
        )
        .expect("valid");
        assert!(c.tty && c.attach_stdin);
        assert_eq!(c.console_size, Some([30, 100]));
        assert_eq!(c.cmd, Some(vec!["sh".to_string()]));
        let c: ExecConfig = serde_json::from_str(r#"{"Cmd":"true"}"#).expect("valid");
        assert_eq!(c.cmd, Some(vec!["true".to_string()]));
        assert!(serde_json::from_str::<ExecConfig>(r#"{"Cmd":5}"#).is_err());
        assert!(serde_json::from_str::<ExecConfig>(r#"{"ConsoleSize":[1]}"#).is_err());
    }

    #[test]
    fn inspect_shape() {
        let v = serde_json::to_value(ExecInspect { id: "x".into(), ..Default::default() }).expect("valid");
        assert_eq!(v["ID"], "x");
        assert!(v["ExitCode"].is_null());
        assert_eq!(v["ProcessConfig"]["entrypoint"], "");
        assert!(v.get("ContainerID").is_some());
    }
}
