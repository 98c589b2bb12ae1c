//! Scratch databases: a temporary SQLite file, or a temporary PostgreSQL or
//! MySQL database that keel creates on a server it was given and drops
//! afterwards. Used to build what the migrations produce and to prove a
//! plan converges; never used for anything the user owns.

use super::Conn;
use crate::db::{ConnectOptions, Database};
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::settings::{DatabaseUrl, Engine};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

pub(crate) struct Scratch {
    url: DatabaseUrl,
    place: Place,
}

enum Place {
    File(PathBuf),
    /// A database `name` on the server of `server` (a URL of another
    /// database there, through which keel creates and drops it).
    Server {
        server: DatabaseUrl,
        name: String,
    },
}

fn unique_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "keel_scratch_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

impl Scratch {
    /// A new empty database of `like`'s engine, on `like`'s server.
    pub async fn create(like: &DatabaseUrl) -> Result<Scratch> {
        let name = unique_name();
        match like.engine() {
            Engine::Sqlite => {
                let path = std::env::temp_dir().join(format!("{name}.db"));
                let url = DatabaseUrl::parse(&format!("sqlite:{}", path.display()))?;
                Ok(Scratch {
                    url,
                    place: Place::File(path),
                })
            }
            engine => {
                let mut server = Conn::open(like, super::Options::default()).await?;
                let create = match engine {
                    Engine::Postgres => format!(
                        "CREATE DATABASE {} TEMPLATE template0",
                        Dialect::Postgres.quote(&name)
                    ),
                    _ => format!("CREATE DATABASE {}", Dialect::Mysql.quote(&name)),
                };
                let created = server.execute(&create).await;
                let _ = server.close().await;
                if let Err(e) = created? {
                    return Err(Error::Refused {
                        action: "create a scratch database".into(),
                        problems: vec![format!("{create}: {e}")],
                        hint: format!(
                            "keel builds the `migrations` schema and checks its plans in a temporary database on the server of {}; grant the connecting user the right to create databases (PostgreSQL: CREATEDB)",
                            like.redacted()
                        ),
                    });
                }
                let url = like.with_database(&name).ok_or_else(|| {
                    Error::invalid_input(format!("{}: names no database", like.redacted()))
                })?;
                Ok(Scratch {
                    url,
                    place: Place::Server {
                        server: like.clone(),
                        name,
                    },
                })
            }
        }
    }

    /// Opens a connection with keel's tracking-table settings.
    pub async fn connect(&self, table: &str) -> Result<Database> {
        let options = ConnectOptions {
            table: table.to_string(),
            ..ConnectOptions::default()
        };
        Database::connect_with(&self.url, options).await
    }

    /// Deletes the scratch database; callers run this on every path.
    pub async fn remove(self) -> Result<()> {
        match self.place {
            Place::File(path) => {
                for suffix in ["", "-wal", "-shm", "-journal", ".keel-lock"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    let _ = std::fs::remove_file(PathBuf::from(p));
                }
                Ok(())
            }
            Place::Server { server, name } => {
                let mut db = Conn::open(&server, super::Options::default()).await?;
                let sql = match server.engine() {
                    Engine::Postgres => format!(
                        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                        Dialect::Postgres.quote(&name)
                    ),
                    _ => format!("DROP DATABASE IF EXISTS {}", Dialect::Mysql.quote(&name)),
                };
                let dropped = db.execute(&sql).await;
                let _ = db.close().await;
                dropped?.map_err(|e| Error::db(format!("dropping scratch database {name}"), e))
            }
        }
    }
}
