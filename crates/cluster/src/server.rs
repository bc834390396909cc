//! A `nats-server` child process for tests and benchmarks.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long a starting server may take to accept connections.
const STARTUP: Duration = Duration::from_secs(10);

/// A `nats-server` on a loopback port, its JetStream store in a directory of its own.
///
/// Dropping it kills the process (SIGKILL) and removes the directory it made (not one given
/// to [`LocalServer::start_on`]).
#[derive(Debug)]
pub struct LocalServer {
    child: Option<Child>,
    options: LocalServerBuilder,
    port: u16,
    store_dir: PathBuf,
    /// The directory this server made (removed on drop).
    owned_dir: Option<PathBuf>,
}

/// Settings of a [`LocalServer`]: `LocalServer::builder().user("az", "secret").start()`.
#[derive(Clone, Debug)]
pub struct LocalServerBuilder {
    port: Option<u16>,
    store_dir: Option<PathBuf>,
    jetstream: bool,
    user: Option<(String, String)>,
}

impl LocalServerBuilder {
    /// Listens on this port (default: a free one).
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// Keeps the JetStream store here (default: a new temporary directory, removed on drop).
    pub fn store_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.store_dir = Some(dir.into());
        self
    }

    /// Runs without JetStream (default: with).
    pub fn without_jetstream(mut self) -> Self {
        self.jetstream = false;
        self
    }

    /// Requires this user and password of every client.
    pub fn user(mut self, user: &str, password: &str) -> Self {
        self.user = Some((user.to_owned(), password.to_owned()));
        self
    }

    /// Starts the server and waits (up to 10 s) until its port accepts connections.
    ///
    /// # Errors
    ///
    /// No binary found (see [`LocalServer::binary`]), the process failed to start or exited,
    /// or its port did not open in time; the message carries the end of the server's log.
    pub fn start(self) -> io::Result<LocalServer> {
        let (store_dir, owned_dir) = match &self.store_dir {
            Some(dir) => (dir.clone(), None),
            None => {
                let dir = temp_dir();
                (dir.clone(), Some(dir))
            }
        };
        std::fs::create_dir_all(&store_dir)?;
        let mut server = LocalServer {
            child: None,
            port: self.port.unwrap_or(0),
            options: self,
            store_dir,
            owned_dir,
        };
        // A free port found by binding may be taken before the server binds it: try again.
        let mut tries = if server.options.port.is_some() { 1 } else { 3 };
        loop {
            if server.options.port.is_none() {
                server.port = free_port()?;
            }
            match server.spawn() {
                Ok(()) => return Ok(server),
                Err(error) if tries > 1 => {
                    tries -= 1;
                    eprintln!("az: local nats-server failed ({error}); trying another port");
                }
                Err(error) => return Err(error),
            }
        }
    }
}

impl LocalServer {
    /// The `nats-server` binary: `$AZ_NATS_SERVER`, else `target/nats/bin/nats-server` in
    /// the workspace (what `tools/install-nats.sh` installs), else `nats-server` on `PATH`.
    pub fn binary() -> Option<PathBuf> {
        if let Some(path) = std::env::var_os("AZ_NATS_SERVER").map(PathBuf::from)
            && path.is_file()
        {
            return Some(path);
        }
        let installed =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/nats/bin/nats-server");
        if installed.is_file() {
            return Some(installed);
        }
        std::env::split_paths(&std::env::var_os("PATH")?)
            .map(|dir| dir.join("nats-server"))
            .find(|path| path.is_file())
    }

    /// Settings other than the defaults (JetStream on, a free port, a temporary store).
    pub fn builder() -> LocalServerBuilder {
        LocalServerBuilder {
            port: None,
            store_dir: None,
            jetstream: true,
            user: None,
        }
    }

    /// A server with JetStream on a free loopback port and a temporary store.
    ///
    /// # Errors
    ///
    /// As [`LocalServerBuilder::start`].
    pub fn start() -> io::Result<Self> {
        Self::builder().start()
    }

    /// A server with JetStream on `port` and the store in `store_dir` (kept on drop).
    ///
    /// # Errors
    ///
    /// As [`LocalServerBuilder::start`].
    pub fn start_on(port: u16, store_dir: &Path) -> io::Result<Self> {
        Self::builder().port(port).store_dir(store_dir).start()
    }

    /// `nats://127.0.0.1:<port>` (without credentials).
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The JetStream store directory.
    pub fn store_dir(&self) -> &Path {
        &self.store_dir
    }

    /// Kills the process at once (SIGKILL), keeping its store; [`LocalServer::restart`]
    /// brings it back on the same port and store.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the process again (after [`LocalServer::kill`]) on the same port and store.
    ///
    /// # Errors
    ///
    /// As [`LocalServerBuilder::start`].
    pub fn restart(&mut self) -> io::Result<()> {
        self.kill();
        self.spawn()
    }

    fn log_path(&self) -> PathBuf {
        self.store_dir.join("nats-server.log")
    }

    fn spawn(&mut self) -> io::Result<()> {
        let binary = Self::binary().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                "no nats-server: set AZ_NATS_SERVER or run tools/install-nats.sh",
            )
        })?;
        let mut command = Command::new(&binary);
        command
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string()])
            .arg("-l")
            .arg(self.log_path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if self.options.jetstream {
            command.arg("-js").arg("-sd").arg(&self.store_dir);
        }
        if let Some((user, password)) = &self.options.user {
            command.args(["--user", user, "--pass", password]);
        }
        let mut child = command.spawn().map_err(|error| {
            io::Error::new(
                error.kind(),
                format!("starting {}: {error}", binary.display()),
            )
        })?;
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let deadline = Instant::now() + STARTUP;
        loop {
            if let Some(status) = child.try_wait()? {
                return Err(self.failed(format!("nats-server exited ({status})")));
            }
            if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
                self.child = Some(child);
                return Ok(());
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(self.failed(format!(
                    "nats-server did not open port {} within {STARTUP:?}",
                    self.port
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// An error with the end of the server's log.
    fn failed(&self, what: String) -> io::Error {
        let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(5).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        io::Error::other(format!("{what}; log: {}", tail.join(" | ")))
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        self.kill();
        if let Some(dir) = &self.owned_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

/// A new directory name under the system's temporary directory.
fn temp_dir() -> PathBuf {
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |time| time.subsec_nanos());
    std::env::temp_dir().join(format!(
        "az-nats-{}-{}-{nanos}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    ))
}
