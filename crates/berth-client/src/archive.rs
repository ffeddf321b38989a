//! `/containers/{id}/archive` (`cp`): the path stat travels in a header.

use crate::client::segment;
use crate::{Client, ClientError, Query, RequestBody, ResponseStream};
use berth_api::archive::{PathStat, STAT_HEADER};
use hyper::Method;

fn stat_header<B>(resp: &hyper::Response<B>) -> Result<PathStat, ClientError> {
    resp.headers()
        .get(STAT_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(PathStat::from_header)
        .ok_or_else(|| ClientError::Request("unable to decode container path stat header".into()))
}

impl Client {
    /// `HEAD /containers/{id}/archive?path=`.
    pub async fn container_stat_path(&self, id: &str, path: &str) -> Result<PathStat, ClientError> {
        let q = Query::new().add("path", path);
        let resp = self.request(Method::HEAD, &format!("/containers/{}/archive", segment(id)), &q, RequestBody::Empty).await?;
        stat_header(&resp)
    }

    /// `GET /containers/{id}/archive?path=`: the path's stat and its tar.
    pub async fn copy_from_container(&self, id: &str, path: &str) -> Result<(PathStat, ResponseStream), ClientError> {
        let q = Query::new().add("path", path);
        let resp = self.request(Method::GET, &format!("/containers/{}/archive", segment(id)), &q, RequestBody::Empty).await?;
        let stat = stat_header(&resp)?;
        Ok((stat, ResponseStream::new(resp.into_body())))
    }

    /// `PUT /containers/{id}/archive?path=`: extracts `tar` into the directory `path`.
    pub async fn copy_to_container(&self, id: &str, path: &str, tar: RequestBody, copy_uid_gid: bool) -> Result<(), ClientError> {
        let q = Query::new().add("path", path).add("noOverwriteDirNonDir", "true").flag("copyUIDGID", copy_uid_gid);
        self.bytes(Method::PUT, &format!("/containers/{}/archive", segment(id)), &q, tar).await.map(|_| ())
    }
}
