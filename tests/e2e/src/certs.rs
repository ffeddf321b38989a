//! Test certificates made with the `openssl` CLI: a CA with a server and
//! a client certificate, and a second CA with a client certificate of its
//! own (which the daemon must refuse). Client directories are laid out as
//! the docker CLI's `DOCKER_CERT_PATH` (ca.pem, cert.pem, key.pem).

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Certs {
    dir: PathBuf,
}

impl Certs {
    /// Generates everything under `dir` (which must exist).
    pub fn generate(dir: &Path) -> Certs {
        let c = Certs { dir: dir.to_path_buf() };
        c.make_ca("ca");
        c.make_ca("otherca");
        c.leaf("server", "ca", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
        c.leaf("client", "ca", "extendedKeyUsage=clientAuth\n");
        c.leaf("rogue", "otherca", "extendedKeyUsage=clientAuth\n");
        c.make_client_dir("client-dir", Some("client"));
        c.make_client_dir("rogue-dir", Some("rogue"));
        c.make_client_dir("nocert-dir", None);
        c
    }

    /// A server certificate from the CA for DNS name `host`: (cert, key).
    pub fn server_for(&self, host: &str) -> (PathBuf, PathBuf) {
        let name = format!("server-{host}");
        self.leaf(&name, "ca", &format!("subjectAltName=DNS:{host}\nextendedKeyUsage=serverAuth\n"));
        (self.path(&format!("{name}-cert.pem")), self.path(&format!("{name}-key.pem")))
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
    pub fn ca(&self) -> PathBuf {
        self.path("ca.pem")
    }
    pub fn server_cert(&self) -> PathBuf {
        self.path("server-cert.pem")
    }
    pub fn server_key(&self) -> PathBuf {
        self.path("server-key.pem")
    }
    /// A DOCKER_CERT_PATH with the CA and the good client certificate.
    pub fn client_dir(&self) -> PathBuf {
        self.path("client-dir")
    }
    /// A DOCKER_CERT_PATH whose client certificate another CA signed.
    pub fn rogue_dir(&self) -> PathBuf {
        self.path("rogue-dir")
    }
    /// A DOCKER_CERT_PATH with the CA only.
    pub fn nocert_dir(&self) -> PathBuf {
        self.path("nocert-dir")
    }

    fn openssl(&self, args: &[&str]) {
        let out = Command::new("openssl").args(args).current_dir(&self.dir).output().expect("run openssl (scripts/install-deps.sh installs it)");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }

    fn make_ca(&self, name: &str) {
        let (key, cert, subj) = (format!("{name}-key.pem"), format!("{name}.pem"), format!("/CN=berth-e2e {name}"));
        self.openssl(&["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", &key, "-out", &cert, "-days", "2", "-subj", &subj]);
    }

    fn leaf(&self, name: &str, ca: &str, ext: &str) {
        let (key, csr, cert, extf) = (format!("{name}-key.pem"), format!("{name}.csr"), format!("{name}-cert.pem"), format!("{name}.ext"));
        let subj = format!("/CN=berth-e2e {name}");
        self.openssl(&["req", "-newkey", "rsa:2048", "-nodes", "-keyout", &key, "-out", &csr, "-subj", &subj]);
        std::fs::write(self.dir.join(&extf), ext).expect("write ext");
        let (ca_cert, ca_key) = (format!("{ca}.pem"), format!("{ca}-key.pem"));
        self.openssl(&[
            "x509", "-req", "-in", &csr, "-CA", &ca_cert, "-CAkey", &ca_key, "-CAcreateserial", "-out", &cert, "-days", "2", "-extfile", &extf,
        ]);
    }

    fn make_client_dir(&self, dir: &str, leaf: Option<&str>) {
        let d = self.dir.join(dir);
        std::fs::create_dir_all(&d).expect("mkdir client dir");
        std::fs::copy(self.dir.join("ca.pem"), d.join("ca.pem")).expect("copy ca");
        if let Some(l) = leaf {
            std::fs::copy(self.dir.join(format!("{l}-cert.pem")), d.join("cert.pem")).expect("copy cert");
            std::fs::copy(self.dir.join(format!("{l}-key.pem")), d.join("key.pem")).expect("copy key");
        }
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to :0 and
/// released).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}
