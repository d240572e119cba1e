//! `chat-system healthcheck`: asks the running service on `--listen` whether it is ready
//! (`GET /readyz`), for container health checks in images without curl. Exit status 0 when it
//! answers 200 within 3 seconds, 1 otherwise, with one line saying why.

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpStream},
    time::Duration,
};

use anyhow::{bail, Context};

use crate::settings::Settings;

/// Checks `/readyz` of the service listening on `settings.listen` (on this host: an unspecified
/// address such as 0.0.0.0 is asked on the loopback).
pub fn healthcheck(settings: &Settings) -> anyhow::Result<()> {
    let mut addr = settings.listen;
    if addr.ip().is_unspecified() {
        addr = SocketAddr::new(
            if addr.is_ipv4() {
                [127, 0, 0, 1].into()
            } else {
                [0u16, 0, 0, 0, 0, 0, 0, 1].into()
            },
            addr.port(),
        );
    }
    let timeout = Duration::from_secs(3);
    let mut stream = TcpStream::connect_timeout(&addr, timeout).with_context(|| format!("connecting to {addr}"))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "GET /readyz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut head = [0u8; 64];
    let read = stream
        .read(&mut head)
        .with_context(|| format!("reading the answer of {addr}"))?;
    let status_line = String::from_utf8_lossy(&head[..read]);
    let status = status_line.split_whitespace().nth(1).unwrap_or("none");
    if status != "200" {
        bail!("not ready: GET http://{addr}/readyz answered {status}");
    }
    println!("ready: GET http://{addr}/readyz answered 200");
    Ok(())
}
