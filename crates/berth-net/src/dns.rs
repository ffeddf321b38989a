//! The little of the DNS wire format (RFC 1035) the embedded server needs:
//! read a query's single question, and build an answer with A records or
//! an error reply. Everything else is forwarded as raw bytes.

use std::net::{Ipv4Addr, Ipv6Addr};

pub const TYPE_A: u16 = 1;
pub const TYPE_AAAA: u16 = 28;
pub const RCODE_SERVFAIL: u8 = 2;
pub const RCODE_NXDOMAIN: u8 = 3;
const CLASS_IN: u16 = 1;
const HEADER: usize = 12;

/// A query's question: the name lower-cased without the final dot.
#[derive(Debug, Clone, PartialEq)]
pub struct Question {
    pub name: String,
    pub qtype: u16,
    pub qclass: u16,
    /// Offset just past the question in the query.
    pub end: usize,
}

fn u16_at(b: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?]))
}

/// The question of a standard query with exactly one question; `None` for
/// anything else (responses, other opcodes, compression in the question,
/// truncated or oversized names).
pub fn parse_query(msg: &[u8]) -> Option<Question> {
    let flags = u16_at(msg, 2)?;
    let qr = flags & 0x8000 != 0;
    let opcode = (flags >> 11) & 0xf;
    if qr || opcode != 0 || u16_at(msg, 4)? != 1 {
        return None;
    }
    let mut i = HEADER;
    let mut labels: Vec<String> = Vec::new();
    let mut total = 0usize;
    loop {
        let len = *msg.get(i)? as usize;
        i += 1;
        if len == 0 {
            break;
        }
        if len > 63 {
            return None; // a pointer or a reserved label type
        }
        let label = msg.get(i..i + len)?;
        total += len + 1;
        if total > 255 {
            return None;
        }
        labels.push(String::from_utf8_lossy(label).to_ascii_lowercase());
        i += len;
    }
    let qtype = u16_at(msg, i)?;
    let qclass = u16_at(msg, i + 2)?;
    Some(Question { name: labels.join("."), qtype, qclass, end: i + 4 })
}

fn header(query: &[u8], rcode: u8, answers: u16) -> Vec<u8> {
    let rd = query.get(2).copied().unwrap_or(0) & 0x01;
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(query.get(..2).unwrap_or(&[0, 0]));
    // QR, RD copied, RA, rcode.
    out.push(0x80 | rd);
    out.push(0x80 | (rcode & 0x0f));
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&answers.to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out
}

/// An answer to `query` with the given A records (none for a name we
/// know but a type we have nothing for).
pub fn answer(query: &[u8], q: &Question, ips: &[Ipv4Addr], ttl: u32) -> Vec<u8> {
    answer_addrs(query, q, ips, &[], ttl)
}

/// An answer with the records of the question's type: A from `v4`, AAAA
/// from `v6`; none (NOERROR, empty) for a known name without that kind.
pub fn answer_addrs(query: &[u8], q: &Question, v4: &[Ipv4Addr], v6: &[Ipv6Addr], ttl: u32) -> Vec<u8> {
    let data: Vec<Vec<u8>> = match (q.qtype, q.qclass) {
        (TYPE_A, CLASS_IN) => v4.iter().map(|ip| ip.octets().to_vec()).collect(),
        (TYPE_AAAA, CLASS_IN) => v6.iter().map(|ip| ip.octets().to_vec()).collect(),
        _ => vec![],
    };
    let n = data.len().min(64);
    let mut out = header(query, 0, n as u16);
    out.extend_from_slice(&query[HEADER..q.end]);
    for d in &data[..n] {
        out.extend_from_slice(&[0xc0, HEADER as u8]);
        out.extend_from_slice(&q.qtype.to_be_bytes());
        out.extend_from_slice(&CLASS_IN.to_be_bytes());
        out.extend_from_slice(&ttl.to_be_bytes());
        out.extend_from_slice(&(d.len() as u16).to_be_bytes());
        out.extend_from_slice(d);
    }
    out
}

/// An empty reply with `rcode` (the question echoed).
pub fn error_reply(query: &[u8], q: &Question, rcode: u8) -> Vec<u8> {
    let mut out = header(query, rcode, 0);
    out.extend_from_slice(&query[HEADER..q.end]);
    out
}

/// A query for tests and clients: id, name, type, RD set.
pub fn build_query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for l in name.trim_end_matches('.').split('.').filter(|l| !l.is_empty()) {
        out.push(l.len().min(63) as u8);
        out.extend_from_slice(&l.as_bytes()[..l.len().min(63)]);
    }
    out.push(0);
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&CLASS_IN.to_be_bytes());
    out
}

/// The A records of a response (for tests and the forwarder's checks).
pub fn answer_ips(resp: &[u8]) -> Vec<Ipv4Addr> {
    records(resp, TYPE_A).into_iter().filter_map(|d| <[u8; 4]>::try_from(d.as_slice()).ok()).map(Ipv4Addr::from).collect()
}

/// The AAAA records of a response.
pub fn answer_ips6(resp: &[u8]) -> Vec<Ipv6Addr> {
    records(resp, TYPE_AAAA).into_iter().filter_map(|d| <[u8; 16]>::try_from(d.as_slice()).ok()).map(Ipv6Addr::from).collect()
}

/// The data of a response's answer records of type `want`.
fn records(resp: &[u8], want: u16) -> Vec<Vec<u8>> {
    let Some(q) = parse_question_of_response(resp) else { return vec![] };
    let count = u16_at(resp, 6).unwrap_or(0);
    let mut i = q;
    let mut out = vec![];
    for _ in 0..count {
        // Names in our answers are pointers (2 bytes); skip labels otherwise.
        match resp.get(i) {
            Some(b) if b & 0xc0 == 0xc0 => i += 2,
            _ => {
                while let Some(&l) = resp.get(i) {
                    i += 1 + l as usize;
                    if l == 0 {
                        break;
                    }
                }
            }
        }
        let (Some(t), Some(len)) = (u16_at(resp, i), u16_at(resp, i + 8)) else { break };
        let data = i + 10;
        if t == want {
            if let Some(b) = resp.get(data..data + len as usize) {
                out.push(b.to_vec());
            }
        }
        i = data + len as usize;
    }
    out
}

fn parse_question_of_response(resp: &[u8]) -> Option<usize> {
    let mut i = HEADER;
    loop {
        let l = *resp.get(i)? as usize;
        i += 1;
        if l == 0 {
            return Some(i + 4);
        }
        i += l;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let q = build_query(0x1234, "Web.Example.", TYPE_A);
        let p = parse_query(&q).unwrap();
        assert_eq!((p.name.as_str(), p.qtype, p.end), ("web.example", TYPE_A, q.len()));
        let ips = [Ipv4Addr::new(10, 0, 0, 2), Ipv4Addr::new(10, 0, 0, 3)];
        let r = answer(&q, &p, &ips, 600);
        assert_eq!(&r[..2], &[0x12, 0x34]);
        assert_eq!(r[3] & 0x0f, 0);
        assert_eq!(answer_ips(&r), ips);
        let r = answer(&q, &Question { qtype: TYPE_AAAA, ..p.clone() }, &ips, 600);
        assert!(answer_ips(&r).is_empty());
        let v6: [Ipv6Addr; 1] = ["fd00::2".parse().unwrap()];
        let r = answer_addrs(&q, &Question { qtype: TYPE_AAAA, ..p.clone() }, &ips, &v6, 600);
        assert_eq!(answer_ips6(&r), v6);
        assert!(answer_ips(&r).is_empty());
        assert_eq!(answer_ips(&answer_addrs(&q, &p, &ips, &v6, 600)), ips);
        let e = error_reply(&q, &p, RCODE_NXDOMAIN);
        assert_eq!(e[3] & 0x0f, RCODE_NXDOMAIN);
    }

    #[test]
    fn hostile_queries() {
        let good = build_query(1, "a.b", TYPE_A);
        assert!(parse_query(&[]).is_none());
        assert!(parse_query(&good[..good.len() - 1]).is_none());
        let mut resp = good.clone();
        resp[2] |= 0x80;
        assert!(parse_query(&resp).is_none());
        let mut two = good.clone();
        two[5] = 2;
        assert!(parse_query(&two).is_none());
        let mut ptr = good.clone();
        ptr[12] = 0xc0;
        assert!(parse_query(&ptr).is_none());
        let mut long = vec![0u8, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        for _ in 0..5 {
            long.push(63);
            long.extend_from_slice(&[b'a'; 63]);
        }
        long.extend_from_slice(&[0, 0, 1, 0, 1]);
        assert!(parse_query(&long).is_none());
        let mut overrun = good.clone();
        overrun[12] = 60;
        assert!(parse_query(&overrun).is_none());
        assert!(answer_ips(&[0xff; 20]).is_empty());
    }
}
