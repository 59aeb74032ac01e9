//! Running `ffmpeg` and `ffprobe`: finding them, building the decoder and
//! encoder command lines, and owning the child processes (killed on drop).

use crate::error::ErrorKind;
use crate::probe::MediaInfo;
use std::ffi::OsString;
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;

/// The two programs used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    /// `ffmpeg` (or `$BLINDFOLD_FFMPEG`).
    Ffmpeg,
    /// `ffprobe` (or `$BLINDFOLD_FFPROBE`).
    Ffprobe,
}

impl Tool {
    fn name(self) -> &'static str {
        match self {
            Tool::Ffmpeg => "ffmpeg",
            Tool::Ffprobe => "ffprobe",
        }
    }

    fn program(self) -> OsString {
        let var = match self {
            Tool::Ffmpeg => "BLINDFOLD_FFMPEG",
            Tool::Ffprobe => "BLINDFOLD_FFPROBE",
        };
        std::env::var_os(var).unwrap_or_else(|| self.name().into())
    }
}

/// A command for the tool, with stdin closed.
pub fn command(tool: Tool) -> Command {
    let mut c = Command::new(tool.program());
    c.stdin(Stdio::null());
    c
}

/// Turn a spawn failure into an error; "not found" gets the install hint.
pub fn spawn_error(tool: Tool, e: std::io::Error) -> ErrorKind {
    if e.kind() == std::io::ErrorKind::NotFound {
        ErrorKind::MissingTool(tool.name())
    } else {
        ErrorKind::Io(e)
    }
}

/// Check that both tools run.
pub fn check_tools() -> Result<(), ErrorKind> {
    for tool in [Tool::Ffprobe, Tool::Ffmpeg] {
        let ok = command(tool)
            .arg("-version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| spawn_error(tool, e))?;
        if !ok.success() {
            return Err(ErrorKind::MissingTool(tool.name()));
        }
    }
    Ok(())
}

/// The last lines of a tool's error output, for messages.
pub fn tail(stderr: &[u8]) -> String {
    let s = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = s.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = lines.len().saturating_sub(4);
    let t = lines[start..].join("; ");
    if t.is_empty() { "no message".into() } else { t }
}

/// A running child. Dropping it kills the process and waits for it.
pub struct Proc {
    tool: Tool,
    child: Option<Child>,
    stderr: Option<JoinHandle<Vec<u8>>>,
}

impl Proc {
    /// Start `cmd` with its stderr collected in the background.
    pub fn spawn(tool: Tool, mut cmd: Command) -> Result<Proc, ErrorKind> {
        cmd.stderr(Stdio::piped());
        // Its own process group: a terminal's Ctrl-C goes to blindfold only,
        // which stops the children itself (see `children`).
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let mut child = crate::children::spawn(|| cmd.spawn(), |c| c.as_ref().ok().map(Child::id))
            .ok_or(ErrorKind::Stopped)?
            .map_err(|e| spawn_error(tool, e))?;
        let mut err = child.stderr.take().expect("stderr is piped");
        let stderr = std::thread::spawn(move || {
            let mut buf = Vec::new();
            // Keep reading to the end so the child never blocks on stderr;
            // only the last 64 KiB are kept.
            let mut chunk = [0u8; 8192];
            while let Ok(n) = err.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                if buf.len() > 65_536 {
                    buf.drain(..buf.len() - 65_536);
                }
            }
            buf
        });
        Ok(Proc {
            tool,
            child: Some(child),
            stderr: Some(stderr),
        })
    }

    /// The child, to take its pipes.
    pub fn child(&mut self) -> &mut Child {
        self.child.as_mut().expect("not finished")
    }

    /// Stop the process now.
    pub fn kill(&mut self) {
        if let Some(c) = self.child.as_mut() {
            let _ = c.kill();
        }
    }

    /// Wait for the process; `Ok(stderr)` when it exited with success,
    /// `Err(message)` otherwise.
    pub fn finish(&mut self) -> Result<String, String> {
        let status = self
            .child
            .take()
            .map(|mut c| {
                let status = c.wait();
                crate::children::forget(c.id());
                status
            })
            .transpose()
            .map_err(|e| e.to_string())?;
        let stderr = self
            .stderr
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default();
        match status {
            Some(s) if s.success() => Ok(String::from_utf8_lossy(&stderr).into_owned()),
            Some(s) => Err(format!(
                "{} exited with {s}: {}",
                self.tool.name(),
                tail(&stderr)
            )),
            None => Err(format!("{} already finished", self.tool.name())),
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
            crate::children::forget(c.id());
        }
    }
}

/// The output container, chosen by the output file's extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Container {
    /// `.mp4`, `.m4v`.
    Mp4,
    /// `.mov`.
    Mov,
    /// `.mkv`.
    Mkv,
}

impl Container {
    /// The container for an output path, if supported.
    pub fn for_path(p: &Path) -> Option<Container> {
        let ext = p.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "mp4" | "m4v" => Some(Container::Mp4),
            "mov" => Some(Container::Mov),
            "mkv" => Some(Container::Mkv),
            _ => None,
        }
    }

    fn muxer(self) -> &'static str {
        match self {
            Container::Mp4 => "mp4",
            Container::Mov => "mov",
            Container::Mkv => "matroska",
        }
    }

    /// Whether an audio codec can be copied into this container as is.
    pub fn can_copy_audio(self, codec: &str) -> bool {
        match self {
            Container::Mkv => true,
            Container::Mp4 | Container::Mov => {
                matches!(
                    codec,
                    "aac" | "mp3" | "ac3" | "eac3" | "alac" | "opus" | "flac" | "mp2"
                ) || (self == Container::Mov && codec.starts_with("pcm_"))
            }
        }
    }

    /// How a subtitle codec goes into this container: `Some("copy")`,
    /// `Some("mov_text")`, or `None` when it cannot (bitmap subtitles in MP4).
    pub fn subtitle_codec(self, codec: &str) -> Option<&'static str> {
        let text = matches!(
            codec,
            "subrip" | "srt" | "ass" | "ssa" | "webvtt" | "mov_text" | "text"
        );
        match self {
            Container::Mkv if codec == "mov_text" => Some("srt"),
            Container::Mkv => Some("copy"),
            _ if text => Some("mov_text"),
            _ => None,
        }
    }
}

/// The decoder: the chosen video stream, upright (ffmpeg applies rotation),
/// as raw RGB24 frames on stdout, at the constant rate `info.rate`.
/// Constant-rate inputs keep every frame as is; variable-rate inputs are
/// resampled (frames repeated or dropped by timestamp, so audio stays in sync).
pub fn decoder(input: &Path, info: &MediaInfo) -> Command {
    let mut c = command(Tool::Ffmpeg);
    c.args(["-nostdin", "-hide_banner", "-v", "error", "-i"])
        .arg(input)
        .args(["-map", &format!("0:{}", info.video_index)])
        .args(["-an", "-sn", "-dn"]);
    // Always a constant rate: a no-op for constant-rate inputs (every frame
    // kept), and the timestamp-faithful conversion for variable-rate ones
    // (some containers, like Matroska, do not reveal that they are).
    c.args(["-vsync", "cfr", "-r", &info.rate.arg()]);
    c.args(["-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"])
        .stdout(Stdio::piped());
    c
}

/// What the encoder does with the other streams.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct StreamPlan {
    /// Other video streams not written (cover art, thumbnails, other angles):
    /// only the picture a player shows is.
    pub video_dropped: usize,
    /// Audio streams copied unchanged.
    pub audio_copied: usize,
    /// Audio streams re-encoded to AAC because the container cannot hold them.
    pub audio_transcoded: usize,
    /// Subtitle streams kept.
    pub subtitles_kept: usize,
    /// Subtitle streams dropped (all of them unless subtitles are kept; then
    /// bitmap subtitles in MP4/MOV).
    pub subtitles_dropped: usize,
}

/// Encoder settings.
pub struct EncodeArgs<'a> {
    /// Output container.
    pub container: Container,
    /// x264 CRF.
    pub crf: u8,
    /// x264 preset.
    pub preset: &'a str,
    /// Keep the audio streams.
    pub keep_audio: bool,
    /// Keep the subtitle streams.
    pub keep_subtitles: bool,
}

/// The encoder: raw RGB24 frames on stdin become H.264; audio (and, when
/// asked, subtitles) come from the input file. All metadata and chapters are dropped, and data
/// streams (which can carry GPS tracks) and attachments are never mapped.
pub fn encoder(
    input: &Path,
    info: &MediaInfo,
    args: &EncodeArgs,
    tmp: &Path,
) -> (Command, StreamPlan) {
    let mut c = command(Tool::Ffmpeg);
    let mut plan = StreamPlan {
        video_dropped: info.other_video.len(),
        ..StreamPlan::default()
    };
    c.args(["-nostdin", "-hide_banner", "-v", "error", "-y"])
        .args(["-f", "rawvideo", "-pix_fmt", "rgb24"])
        .args(["-s", &format!("{}x{}", info.width, info.height)])
        .args(["-framerate", &info.rate.arg(), "-i", "pipe:0"]);
    let others = (args.keep_audio && !info.audio.is_empty())
        || (args.keep_subtitles && !info.subtitles.is_empty());
    if others {
        c.arg("-i").arg(input);
    }
    c.args(["-map", "0:v:0"]);
    // x264 with 4:2:0 needs even sizes: pad with black. Raw frames carry no
    // pixel shape: give back the input's.
    let mut filter = "pad=ceil(iw/2)*2:ceil(ih/2)*2".to_string();
    if let Some((n, d)) = info.pixel_aspect {
        filter.push_str(&format!(",setsar={n}/{d}:max=65535"));
    }
    c.args([
        "-vf",
        &filter,
        "-c:v",
        "libx264",
        "-preset",
        args.preset,
        "-crf",
        &args.crf.to_string(),
        "-pix_fmt",
        "yuv420p",
    ]);
    let mut out_idx = 1;
    let lang = |c: &mut Command, idx: usize, l: &Option<String>| {
        if let Some(l) = l {
            c.arg(format!("-metadata:s:{idx}"))
                .arg(format!("language={l}"));
        }
    };
    if args.keep_audio {
        for a in &info.audio {
            c.args(["-map", &format!("1:{}", a.index)]);
            let codec = if args.container.can_copy_audio(&a.codec) {
                plan.audio_copied += 1;
                "copy"
            } else {
                plan.audio_transcoded += 1;
                "aac"
            };
            c.arg(format!("-c:{out_idx}")).arg(codec);
            lang(&mut c, out_idx, &a.language);
            out_idx += 1;
        }
    }
    if args.keep_subtitles {
        for s in &info.subtitles {
            match args.container.subtitle_codec(&s.codec) {
                Some(codec) => {
                    c.args(["-map", &format!("1:{}", s.index)]);
                    c.arg(format!("-c:{out_idx}")).arg(codec);
                    lang(&mut c, out_idx, &s.language);
                    plan.subtitles_kept += 1;
                    out_idx += 1;
                }
                None => plan.subtitles_dropped += 1,
            }
        }
    } else {
        plan.subtitles_dropped = info.subtitles.len();
    }
    c.args(["-map_metadata", "-1", "-map_chapters", "-1"])
        .args(["-fflags", "+bitexact", "-flags:v", "+bitexact"]);
    if args.container != Container::Mkv {
        c.args(["-movflags", "+faststart"]);
    }
    c.args(["-f", args.container.muxer()]).arg(tmp);
    c.stdin(Stdio::piped()).stdout(Stdio::null());
    (c, plan)
}
