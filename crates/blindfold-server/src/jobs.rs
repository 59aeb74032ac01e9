//! Video jobs. An upload is streamed to a file in the service's own folder
//! (never held whole in memory; a pause longer than `--upload-idle-timeout`
//! ends it), processed by `blindfold_video` on a blocking thread, one video
//! at a time, and the result is kept until it is downloaded (once),
//! deleted, or older than `--keep-results`. DELETE and the service's stop
//! cancel a job at once: its ffmpeg children are killed and its files
//! deleted. A failed job's error names no server path or address.
//!
//! The folder is `<base>/run-<pid>`; at start, `run-*` folders of processes
//! that no longer run are removed (left over by a crash or a kill), and at
//! shutdown the service removes its own.

use crate::photo::{check_type, declared_length};
use crate::{AppError, AppState, Effective};
use axum::body::Body;
use axum::extract::{Path as UrlPath, Query, State, rejection::QueryRejection};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use blindfold::detect::DetectConfig;
use blindfold_video::{Cancel, VideoOptions, anonymize_video_lanes, lanes};
use http_body_util::BodyExt;
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

/// Where a job is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// The upload is being received.
    Uploading,
    /// Waiting for the video worker.
    Queued,
    /// Frames are being processed.
    Running,
    /// The result can be downloaded.
    Done,
    /// It failed; nothing was written.
    Failed,
}

struct Job {
    state: JobState,
    frames: u64,
    total: Option<u64>,
    error: Option<String>,
    report: Option<serde_json::Value>,
    finished: Option<Instant>,
    container: &'static str,
    settings: Effective,
    /// Stops the upload or the run.
    cancel: Cancel,
}

/// The jobs of this process and their folder.
pub struct Jobs {
    dir: PathBuf,
    map: Mutex<HashMap<String, Job>>,
    worker: tokio::sync::Semaphore,
    busy: AtomicUsize,
    /// Set when the service stops: no new job, running ones cancelled.
    stopping: tokio_util::sync::CancellationToken,
}

impl Jobs {
    /// Use `<base>/run-<pid>` for job files, after removing the `run-*`
    /// folders that processes no longer running left in `base`.
    pub fn open(base: &Path) -> std::io::Result<Jobs> {
        std::fs::create_dir_all(base)?;
        let base = &std::path::absolute(base)?;
        for e in std::fs::read_dir(base)?.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(pid) = name
                .strip_prefix("run-")
                .and_then(|p| p.parse::<u32>().ok())
                && (pid == std::process::id() || !alive(pid))
            {
                std::fs::remove_dir_all(e.path())?;
            }
        }
        let dir = base.join(format!("run-{}", std::process::id()));
        std::fs::create_dir(&dir)?;
        restrict(&dir)?;
        Ok(Jobs {
            dir,
            map: Mutex::new(HashMap::new()),
            worker: tokio::sync::Semaphore::new(1),
            busy: AtomicUsize::new(0),
            stopping: tokio_util::sync::CancellationToken::new(),
        })
    }

    /// The folder holding this process's job files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Job>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Jobs by state, for the metrics.
    pub fn counts(&self) -> Vec<(&'static str, usize)> {
        let map = self.lock();
        let n = |s| map.values().filter(|j| j.state == s).count();
        vec![
            ("uploading", n(JobState::Uploading)),
            ("queued", n(JobState::Queued)),
            ("running", n(JobState::Running)),
            ("done", n(JobState::Done)),
            ("failed", n(JobState::Failed)),
        ]
    }

    /// Remove finished jobs older than `keep` and their files.
    pub fn reap(&self, keep: Duration) {
        let mut map = self.lock();
        let old: Vec<String> = map
            .iter()
            .filter(|(_, j)| j.finished.is_some_and(|t| t.elapsed() >= keep))
            .map(|(id, _)| id.clone())
            .collect();
        for id in old {
            map.remove(&id);
            let _ = std::fs::remove_dir_all(self.dir.join(&id));
        }
    }

    /// Take no new job and cancel every job: uploads end with 503, queued
    /// jobs never start, a running video stops within a frame or so (its
    /// ffmpeg children killed).
    pub fn stop(&self) {
        self.stopping.cancel();
        self.worker.close();
        for j in self.lock().values() {
            j.cancel.cancel();
        }
    }

    /// Whether [`Jobs::stop`] was called.
    pub fn stopping(&self) -> bool {
        self.stopping.is_cancelled()
    }

    /// Wait up to `grace` for the running video to end; whether it has.
    pub async fn wait_idle(&self, grace: Duration) -> bool {
        let until = Instant::now() + grace;
        while self.busy.load(Ordering::SeqCst) > 0 && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.busy.load(Ordering::SeqCst) == 0
    }

    /// Stop every job ([`Jobs::stop`]), wait up to `grace` for the running
    /// one to end, and delete every job file.
    pub async fn shutdown(&self, grace: Duration) {
        self.stop();
        self.wait_idle(grace).await;
        self.lock().clear();
        let _ = std::fs::remove_dir_all(&self.dir);
    }

    fn set(&self, id: &str, f: impl FnOnce(&mut Job)) -> bool {
        match self.lock().get_mut(id) {
            Some(j) => {
                f(j);
                true
            }
            None => false,
        }
    }
}

#[cfg(unix)]
fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[cfg(not(unix))]
fn alive(_pid: u32) -> bool {
    true
}

#[cfg(unix)]
fn restrict(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

#[cfg(not(unix))]
fn restrict(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

/// A random job id: 128 bits from the operating system's random source
/// (through std's hasher keys), as hex.
fn new_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let part = |salt: u64| {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(salt);
        h.finish()
    };
    format!("{:016x}{:016x}", part(1), part(2))
}

fn media_type(container: &str) -> &'static str {
    match container {
        "mov" => "video/quicktime",
        "mkv" => "video/x-matroska",
        _ => "video/mp4",
    }
}

/// A video job's settings from the query: `mode`, `shape`, `grow`,
/// `threshold`, `fast` as for photos, and `container` (mp4, mov, mkv).
fn parse(
    q: &[(String, String)],
    s: &AppState,
) -> Result<(DetectConfig, VideoOptions, &'static str, Effective), AppError> {
    let settings = &s.shared().settings;
    let mut container = "mp4";
    let mut rest = Vec::new();
    for (k, v) in q {
        match (k.as_str(), v.as_str()) {
            ("container", "mp4") => container = "mp4",
            ("container", "mov") => container = "mov",
            ("container", "mkv") => container = "mkv",
            ("container", _) => {
                return Err(AppError::BadRequest(format!(
                    "container must be mp4, mov or mkv, not {v:?}"
                )));
            }
            _ => rest.push((k.clone(), v.clone())),
        }
    }
    let video_settings = crate::Settings {
        detect: settings.video_detect.clone(),
        ..settings.clone()
    };
    let r = crate::photo::Request::parse(&rest, &video_settings, false)?;
    let vopts = VideoOptions {
        mask: r.opts.mask,
        mode: r.opts.mode,
        ..settings.video.clone()
    };
    vopts
        .validate()
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    let mut effective = r.effective();
    effective.max_pixels = vopts.max_pixels;
    Ok((r.cfg, vopts, container, effective))
}

/// `POST /v1/jobs`: the video as the body; 202 with the job id.
pub async fn create(
    State(s): State<AppState>,
    q: Result<Query<Vec<(String, String)>>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let q = q
        .map(|Query(v)| v)
        .map_err(|e| AppError::BadRequest(format!("bad query string: {}", e.body_text())))?;
    let (cfg, mut vopts, container, settings) = parse(&q, &s)?;
    check_type(&headers, "video/")?;
    let shared = s.shared();
    if shared.jobs.stopping() {
        return Err(AppError::Stopping);
    }
    let det = shared.detectors.get().ok_or(AppError::NotReady)?;
    let factory = det.video.clone().ok_or_else(|| {
        AppError::NotAvailable("videos are off on this server (ffmpeg was not found)".into())
    })?;
    let limits = &shared.limits;
    if declared_length(&headers).is_some_and(|n| n > limits.max_video) {
        return Err(AppError::TooLarge(format!(
            "the video is over the limit of {} bytes",
            limits.max_video
        )));
    }
    let jobs = &shared.jobs;
    jobs.reap(limits.keep_results);
    let id = new_id();
    let cancel = Cancel::new();
    vopts.cancel = cancel.clone();
    {
        let mut map = jobs.lock();
        if map.len() >= limits.max_jobs {
            return Err(AppError::Busy { retry_after: 30 });
        }
        map.insert(
            id.clone(),
            Job {
                state: JobState::Uploading,
                frames: 0,
                total: None,
                error: None,
                report: None,
                finished: None,
                container,
                settings: settings.clone(),
                cancel: cancel.clone(),
            },
        );
    }
    let dir = jobs.dir.join(&id);
    let input = dir.join("input");
    let received = async {
        tokio::fs::create_dir(&dir)
            .await
            .map_err(|e| AppError::Internal(format!("cannot store the upload: {e}")))?;
        let upload = Upload {
            max: limits.max_video,
            idle: limits.upload_idle,
            cancel: &cancel,
            stopping: &jobs.stopping,
        };
        let n = tokio::time::timeout(limits.video_timeout, save(body, &input, upload))
            .await
            .map_err(|_| AppError::BodyTimeout)??;
        if n == 0 {
            return Err(AppError::BadRequest(
                "the body is empty; send a video".into(),
            ));
        }
        Ok(())
    }
    .await;
    if let Err(e) = received {
        jobs.lock().remove(&id);
        let _ = tokio::fs::remove_dir_all(&dir).await;
        return Err(e);
    }
    if !jobs.set(&id, |j| j.state = JobState::Queued) {
        // Deleted while uploading.
        let _ = tokio::fs::remove_dir_all(&dir).await;
        return Err(AppError::NotFound("the job was deleted".into()));
    }
    let state = s.clone();
    let job_id = id.clone();
    tokio::spawn(async move {
        let jobs = &state.shared().jobs;
        let Ok(_turn) = jobs.worker.acquire().await else {
            // The service is stopping; it deletes the job files.
            return;
        };
        jobs.busy.fetch_add(1, Ordering::SeqCst);
        let run = !vopts.cancel.is_cancelled();
        if run && jobs.set(&job_id, |j| j.state = JobState::Running) {
            let st = state.clone();
            let id2 = job_id.clone();
            let res = tokio::task::spawn_blocking(move || {
                run_video(&st, &id2, &factory, &cfg, &vopts, container)
            })
            .await
            .unwrap_or_else(|_| Err(Failure::new("the video worker failed".into())));
            // The operator's log has the whole reason; the client, the
            // reason without server paths or addresses.
            if let Err(e) = &res
                && state.shared().log.load(Ordering::Relaxed)
            {
                eprintln!("blindfold: job {job_id} failed: {}", e.full);
            }
            let res = res.map_err(|e| e.public);
            let dir = jobs.dir.join(&job_id);
            let _ = std::fs::remove_file(dir.join("input"));
            let found = jobs.set(&job_id, |j| {
                j.finished = Some(Instant::now());
                match res {
                    Ok(report) => {
                        j.state = JobState::Done;
                        j.report = Some(report);
                    }
                    Err(e) => {
                        j.state = JobState::Failed;
                        j.error = Some(e);
                    }
                }
            });
            if !found {
                let _ = std::fs::remove_dir_all(&dir);
            }
        } else {
            let _ = std::fs::remove_dir_all(jobs.dir.join(&job_id));
        }
        jobs.busy.fetch_sub(1, Ordering::SeqCst);
    });
    let mut res = (
        StatusCode::ACCEPTED,
        axum::Json(serde_json::json!({
            "id": id,
            "state": JobState::Queued,
            "status_url": format!("/v1/jobs/{id}"),
            "result_url": format!("/v1/jobs/{id}/result"),
            "settings": settings,
        })),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/v1/jobs/{id}")) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

/// How an upload is received.
struct Upload<'a> {
    /// Most bytes.
    max: u64,
    /// Longest pause between two pieces of the body.
    idle: Duration,
    /// The job's switch (DELETE).
    cancel: &'a Cancel,
    /// The service's stop.
    stopping: &'a tokio_util::sync::CancellationToken,
}

/// Stream `body` into a new file at `path`, at most `u.max` bytes, ending
/// with 408 after a pause longer than `u.idle`, 404 when the job is
/// deleted, 503 when the service stops.
async fn save(body: Body, path: &Path, u: Upload<'_>) -> Result<u64, AppError> {
    let io = |e: std::io::Error| AppError::Internal(format!("cannot store the upload: {e}"));
    let mut file = tokio::fs::File::create(path).await.map_err(io)?;
    let mut body = body;
    let mut n = 0u64;
    let tick = u.idle.min(Duration::from_millis(250));
    loop {
        let waited = Instant::now();
        let frame = loop {
            tokio::select! {
                f = body.frame() => break f,
                () = u.stopping.cancelled() => return Err(AppError::Stopping),
                () = tokio::time::sleep(tick) => {}
            }
            if u.cancel.is_cancelled() {
                return Err(AppError::NotFound("the job was deleted".into()));
            }
            if waited.elapsed() >= u.idle {
                return Err(AppError::UploadIdle(u.idle.as_secs_f64()));
            }
        };
        let Some(frame) = frame else { break };
        let frame =
            frame.map_err(|e| AppError::BadRequest(format!("cannot read the body: {e}")))?;
        if let Ok(data) = frame.into_data() {
            n += data.len() as u64;
            if n > u.max {
                return Err(AppError::TooLarge(format!(
                    "the video is over the limit of {} bytes",
                    u.max
                )));
            }
            file.write_all(&data).await.map_err(io)?;
        }
    }
    file.flush().await.map_err(io)?;
    Ok(n)
}

/// Why a video failed: for the operator's log and for the client.
struct Failure {
    full: String,
    public: String,
}

impl Failure {
    fn new(full: String) -> Failure {
        let public = crate::scrub::public(&full);
        Failure { full, public }
    }
}

fn run_video(
    s: &AppState,
    id: &str,
    factory: &crate::DetectorFactory,
    cfg: &DetectConfig,
    vopts: &VideoOptions,
    container: &str,
) -> Result<serde_json::Value, Failure> {
    let jobs = &s.shared().jobs;
    let dir = jobs.dir.join(id);
    let mut dets = factory(cfg).map_err(Failure::new)?;
    let mut lanes = lanes(&mut dets);
    let output = dir.join(format!("output.{container}"));
    let input = dir.join("input");
    let report = anonymize_video_lanes(&input, &output, &mut lanes, vopts, &mut |p| {
        jobs.set(id, |j| {
            j.frames = p.frame;
            j.total = p.total_frames;
        });
    })
    .map_err(|e| Failure {
        full: e.kind.to_string(),
        public: crate::scrub::video_error(&e.kind),
    })?;
    serde_json::to_value(&report).map_err(|e| Failure::new(e.to_string()))
}

/// `GET /v1/jobs/{id}`: state, frames done and total, the error or report.
pub async fn status(
    State(s): State<AppState>,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, AppError> {
    let map = s.shared().jobs.lock();
    let j = map.get(&id).ok_or_else(no_job)?;
    let mut v = serde_json::json!({
        "id": id,
        "state": j.state,
        "frames_done": j.frames,
        "frames_total": j.total,
        "settings": j.settings,
    });
    if let Some(e) = &j.error {
        v["error"] = e.clone().into();
    }
    if let Some(r) = &j.report {
        v["report"] = r.clone();
    }
    Ok(axum::Json(v).into_response())
}

fn no_job() -> AppError {
    AppError::NotFound(
        "no such job (finished results are deleted after download or when kept too long)".into(),
    )
}

/// `GET /v1/jobs/{id}/result`: the video, once; the job is gone afterwards.
pub async fn result(
    State(s): State<AppState>,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, AppError> {
    let jobs = &s.shared().jobs;
    let (container, path) = {
        let mut map = jobs.lock();
        let j = map.get(&id).ok_or_else(no_job)?;
        match j.state {
            JobState::Done => {}
            JobState::Failed => {
                return Err(AppError::Conflict(format!(
                    "the job failed: {}",
                    j.error.as_deref().unwrap_or("unknown")
                )));
            }
            st => {
                return Err(AppError::Conflict(format!(
                    "the job is not done yet ({})",
                    serde_json::to_value(st)
                        .unwrap_or_default()
                        .as_str()
                        .unwrap_or("")
                )));
            }
        }
        let c = j.container;
        map.remove(&id);
        (c, jobs.dir.join(&id).join(format!("output.{c}")))
    };
    // Open, then unlink: the open file stays readable while it is sent.
    let file = tokio::fs::File::open(&path).await;
    let _ = tokio::fs::remove_dir_all(jobs.dir.join(&id)).await;
    let file = file.map_err(|e| AppError::Internal(format!("the result is gone: {e}")))?;
    let len = file.metadata().await.map(|m| m.len()).ok();
    let stream = tokio_util::io::ReaderStream::new(file);
    let mut res = Body::from_stream(stream).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media_type(container)),
    );
    if let Some(n) = len {
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(n));
    }
    if let Ok(v) =
        HeaderValue::from_str(&format!("attachment; filename=\"anonymized.{container}\""))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// `DELETE /v1/jobs/{id}`: forget the job, stop it and delete its files
/// (an upload ends, a running video stops within a frame or so, its ffmpeg
/// children killed, and its worker deletes its folder).
pub async fn remove(
    State(s): State<AppState>,
    UrlPath(id): UrlPath<String>,
) -> Result<StatusCode, AppError> {
    let jobs = &s.shared().jobs;
    let j = jobs.lock().remove(&id).ok_or_else(no_job)?;
    j.cancel.cancel();
    if matches!(j.state, JobState::Done | JobState::Failed) {
        let _ = tokio::fs::remove_dir_all(jobs.dir.join(&id)).await;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leftovers_of_dead_processes_are_removed_at_start() {
        let base = tempfile::tempdir().unwrap();
        // No process has this id (Linux pids stay below 2^22).
        let dead = base.path().join("run-999999999");
        std::fs::create_dir_all(dead.join("abc")).unwrap();
        std::fs::write(dead.join("abc/input"), b"video").unwrap();
        let other = base.path().join("keep-me");
        std::fs::create_dir(&other).unwrap();
        let jobs = Jobs::open(base.path()).unwrap();
        assert!(!dead.exists());
        assert!(other.exists(), "only run-* folders are the service's");
        assert!(jobs.dir().is_dir());
        assert_eq!(
            jobs.dir().file_name().unwrap(),
            format!("run-{}", std::process::id()).as_str()
        );
        assert_eq!(new_id().len(), 32);
        assert_ne!(new_id(), new_id());
    }
}
