//! `serve`: check the settings, bind, load the model, run until SIGTERM or
//! SIGINT, stop (video jobs cancelled at once, their ffmpeg children
//! killed; photo requests given the grace period) and remove every temp
//! file.

use crate::listen::{self, ConnLimits};
use crate::{AppState, Detectors, Jobs, Limits, ServeError, Settings, app};
use blindfold_infer::select::{Pool, default_workers, mem_available, num_cpus};
use blindfold_models::EngineSource;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Everything `blindfold serve` needs.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// Address to listen on (port 0: any free port; the chosen address is
    /// printed as `listening on http://ADDR`).
    pub listen: SocketAddr,
    /// The bearer token (already read from `--token-file`).
    pub token: Option<String>,
    /// Allow a non-loopback address without a token.
    pub no_auth: bool,
    /// Host names requests may name besides loopback and the listen
    /// address (`--allowed-host`; see [`crate::Hosts`]).
    pub allowed_hosts: Vec<String>,
    /// Photos in detection at once (default: one per CPU, fewer when memory is short).
    pub jobs: Option<usize>,
    /// Default settings.
    pub settings: Settings,
    /// Bounds.
    pub limits: Limits,
    /// Model and runtime.
    pub engine: EngineSource,
    /// Folder for video job files (default: the system temp folder's
    /// `blindfold-serve`).
    pub work_dir: Option<PathBuf>,
    /// Time to send the request headers.
    pub header_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
    /// Time given to running photo requests at shutdown (video jobs are
    /// cancelled at once).
    pub grace: Duration,
    /// One log line per request (request id, route, status, time).
    pub log: bool,
}

impl ServeConfig {
    /// The defaults for `listen`, with the given settings.
    pub fn new(listen: SocketAddr, settings: Settings) -> ServeConfig {
        ServeConfig {
            listen,
            token: None,
            no_auth: false,
            allowed_hosts: Vec::new(),
            jobs: None,
            settings,
            limits: Limits::default(),
            engine: EngineSource::default(),
            work_dir: None,
            header_timeout: Duration::from_secs(10),
            max_connections: 1024,
            grace: Duration::from_secs(30),
            log: true,
        }
    }

    /// Refuse a public address without a token (unless `no_auth`), an empty
    /// token, and a token together with `no_auth`.
    pub fn check(&self) -> Result<(), ServeError> {
        let bad = |m: String| Err(ServeError::Config(m));
        match (&self.token, self.no_auth) {
            (Some(t), _) if t.trim().is_empty() => bad("the token file is empty".into()),
            (Some(_), true) => {
                bad("a token and --no-auth together make no sense; choose one".into())
            }
            (None, false) if !self.listen.ip().is_loopback() => bad(format!(
                "refusing to listen on {} without a token: anyone who can reach it could use it. \
                 Give --token-file FILE (clients send Authorization: Bearer <token>), listen on \
                 127.0.0.1 behind a reverse proxy, or pass --no-auth if the network is trusted",
                self.listen
            )),
            _ => Ok(()),
        }
    }
}

/// Run the service until SIGTERM or SIGINT. Returns when it has stopped
/// and removed its temp files: within the grace period plus a few seconds.
pub fn serve(config: ServeConfig) -> Result<(), ServeError> {
    config.check()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("blindfold-serve")
        .build()
        .map_err(ServeError::io("cannot start the runtime"))?;
    let res = rt.block_on(serve_async(config));
    // A photo still in detection (its client gone or answered) is not
    // waited for: dropping the runtime would wait for it.
    rt.shutdown_timeout(Duration::from_secs(1));
    res
}

async fn serve_async(config: ServeConfig) -> Result<(), ServeError> {
    let base = config
        .work_dir
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join("blindfold-serve"));
    let jobs = Jobs::open(&base).map_err(ServeError::io(format!(
        "cannot prepare the work folder {}",
        base.display()
    )))?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(ServeError::io(format!(
            "cannot listen on {}",
            config.listen
        )))?;
    let addr = listener
        .local_addr()
        .map_err(ServeError::io("cannot read the address"))?;
    let limits = crate::Limits {
        hosts: crate::Hosts::new(config.listen.ip(), &config.allowed_hosts),
        ..config.limits.clone()
    };
    let state = AppState::new(
        config.settings.clone(),
        limits,
        config.token.as_deref(),
        jobs,
    );
    state.set_log(config.log);
    eprintln!(
        "blindfold: listening on http://{addr} ({}; loading the model)",
        match config.token {
            Some(_) => "bearer token required",
            None => "no authentication",
        }
    );

    // Load the model in the background; /readyz says when it is done.
    let failed: Arc<Mutex<Option<ServeError>>> = Arc::default();
    let load_done = Arc::new(tokio::sync::Notify::new());
    {
        let (state, cfg, failed, done) = (
            state.clone(),
            config.clone(),
            failed.clone(),
            load_done.clone(),
        );
        tokio::task::spawn_blocking(move || match load(&cfg) {
            Ok(d) => {
                eprintln!(
                    "blindfold: ready: {} detector(s) on {} ({}){}",
                    d.pool.size(),
                    d.backend,
                    d.precision,
                    if d.video.is_some() {
                        ""
                    } else {
                        "; videos off (ffmpeg not found)"
                    }
                );
                state.set_detectors(d);
            }
            Err(e) => {
                *failed.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
                done.notify_one();
            }
        });
    }
    // Finished results expire even when nobody asks.
    {
        let (state, keep) = (state.clone(), config.limits.keep_results);
        tokio::spawn(async move {
            let every = (keep / 4).clamp(Duration::from_secs(1), Duration::from_secs(60));
            loop {
                tokio::time::sleep(every).await;
                state.jobs().reap(keep);
            }
        });
    }
    let stop = async {
        tokio::select! {
            () = signal() => eprintln!(
                "blindfold: stopping: video jobs cancelled, finishing running photo requests"
            ),
            () = load_done.notified() => {}
        }
        state.jobs().stop();
    };
    let limits = ConnLimits {
        header_timeout: config.header_timeout,
        max_connections: config.max_connections,
        grace: config.grace,
    };
    listen::run(listener, app(state.clone()), limits, stop).await;
    // Cancelled videos end within a frame or so; should one not, its
    // ffmpeg children are killed (the process is about to exit).
    if !state.jobs().wait_idle(Duration::from_secs(5)).await {
        blindfold_video::stop_ffmpeg_children();
    }
    state.jobs().shutdown(Duration::from_secs(1)).await;
    if let Some(e) = failed.lock().unwrap_or_else(|e| e.into_inner()).take() {
        return Err(e);
    }
    eprintln!("blindfold: stopped");
    Ok(())
}

async fn signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Find the model and runtime, choose the backend, make the pool.
fn load(cfg: &ServeConfig) -> Result<Detectors, ServeError> {
    let say = |m: &str| eprintln!("blindfold: {m}");
    let detect = &cfg.settings.detect;
    let workers = cfg
        .jobs
        .unwrap_or_else(|| default_workers(num_cpus(), mem_available(), detect.worker_memory()))
        .max(1);
    let threads = (num_cpus() / workers).max(1);
    let engine = blindfold_models::open_engine(&cfg.engine, threads, &say)?;
    if let Some(why) = engine.fallback_reason() {
        say(&format!(
            "ONNX Runtime not used ({why}); using rten, which is slower"
        ));
    }
    let pool = Pool::new(&engine, detect, workers)?;
    let backend = engine.backend().to_string();
    let precision = engine.precision().name().to_string();
    let video = match blindfold_video::check_ffmpeg() {
        Ok(()) => {
            let engine = Arc::new(engine);
            let f: crate::DetectorFactory =
                Arc::new(move |c| engine.video_detectors(c, None).map_err(|e| e.to_string()));
            Some(f)
        }
        Err(_) => None,
    };
    Ok(Detectors {
        pool,
        backend,
        precision,
        video,
    })
}
