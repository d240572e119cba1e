//! A private PostgreSQL cluster owned by this process: used by `cargo run` without
//! `DATABASE_URL` and by the test suite. initdb on first use, reused afterwards, stopped when the
//! owner drops it or dies. PostgreSQL refuses to run as root, so as root the server runs as the
//! `postgres` (or `nobody`) user.
//!
//! Access: TCP on 127.0.0.1 only (no Unix socket), and every connection must give the
//! superuser's password (scram-sha-256). The password is generated on first start and kept in
//! the data directory (`chat-system.secret`, mode 0600, owned by the cluster's user), so only
//! that user and root can connect: another local user gets "password authentication failed".
//! A data directory of an earlier release (made with `initdb -A trust`) is upgraded in place on
//! start, before the server listens: the password is set in single-user mode and `pg_hba.conf`
//! rewritten.
//!
//! - `server`: [`Cluster`], the running server (start, pause, resume, crash, stop);
//! - `setup`: the data directory (initdb, the password, `pg_hba.conf`) and its [`Durability`];
//! - `host`: what the machine offers (the PostgreSQL binaries, a user to run them as, a port).

mod host;
mod server;
mod setup;

pub use host::{find_bin_dir, free_port};
pub use server::Cluster;
pub use setup::Durability;
