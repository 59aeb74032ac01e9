//! The audit of a video that should already be anonymised (`blindfold
//! verify`): streams and tags that can identify a place or a person, and
//! faces left in the frames, checked on frames sampled at a fixed interval.

use crate::error::{ErrorKind, VideoError};
use crate::ffmpeg::{self, Tool};
use crate::verify::bad_tags;
use blindfold::audit::{Candidate, audit_picture};
use blindfold::detect::FaceDetector;
use blindfold::image::RgbImage;
use serde::Serialize;
use serde_json::Value;
use std::io::Read;
use std::path::Path;

/// What the audit of one video found.
#[derive(Clone, Debug, Serialize)]
pub struct VideoAudit {
    /// Streams that should not be there: subtitles, data, attachments,
    /// more than one video stream (cover art, a second angle).
    pub streams: Vec<String>,
    /// Metadata tags outside the short allow-list of technical tags ffmpeg
    /// writes (location, creation time, device...), as `"where: key"`.
    pub tags: Vec<String>,
    /// Frames looked at (one every `every_s` seconds).
    pub frames_checked: u64,
    /// Face candidates in those frames; `view` names the frame (`frame N`).
    pub faces: Vec<Candidate>,
    /// Candidates over what looks like a mask fill (not findings).
    pub masked: Vec<Candidate>,
    /// Nothing found.
    pub clean: bool,
}

/// Audit `path`: its streams and tags, and faces in one frame every
/// `every_s` seconds (and the first frame) found by `detector`.
pub fn audit_video(
    path: &Path,
    detector: &mut dyn FaceDetector,
    every_s: f64,
) -> Result<VideoAudit, VideoError> {
    let fail = |kind| VideoError::new(path, kind);
    if !(every_s > 0.0 && every_s.is_finite()) {
        return Err(fail(ErrorKind::Config(
            "the frame interval must be positive".into(),
        )));
    }
    let probe = probe_json(path).map_err(fail)?;
    let (streams, tags) = findings(&probe);
    let (w, h) =
        upright_size(&probe).ok_or_else(|| fail(ErrorKind::Probe("no video stream".into())))?;
    let mut child = ffmpeg::command(Tool::Ffmpeg)
        .args(["-nostdin", "-hide_banner", "-v", "error", "-i"])
        .arg(path)
        .args(["-map", "0:v:0", "-an", "-sn", "-dn"])
        .args(["-vf", &format!("fps=1/{every_s}:round=down")])
        .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| fail(ffmpeg::spawn_error(Tool::Ffmpeg, e)))?;
    let mut out = child.stdout.take().expect("stdout is piped");
    let (mut faces, mut masked) = (Vec::new(), Vec::new());
    let mut frames = 0u64;
    let mut buf = vec![0u8; w as usize * h as usize * 3];
    let res = loop {
        match out.read_exact(&mut buf) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break Ok(()),
            Err(e) => break Err(ErrorKind::Io(e)),
        }
        let img = RgbImage::from_raw(w, h, buf.clone()).expect("buffer has the frame's size");
        let view = format!("frame {frames}");
        if let Err(source) = audit_picture(&img, &view, detector, &mut faces, &mut masked) {
            break Err(ErrorKind::Detect {
                frame: frames,
                source,
            });
        }
        frames += 1;
    };
    if res.is_err() {
        let _ = child.kill();
    }
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    let status = child.wait().map_err(|e| fail(ErrorKind::Io(e)))?;
    res.map_err(fail)?;
    if !status.success() || !err.trim().is_empty() {
        return Err(fail(ErrorKind::Decode(ffmpeg::tail(err.as_bytes()))));
    }
    if frames == 0 {
        return Err(fail(ErrorKind::Decode("no frame could be read".into())));
    }
    let clean = streams.is_empty() && tags.is_empty() && faces.is_empty();
    Ok(VideoAudit {
        streams,
        tags,
        frames_checked: frames,
        faces,
        masked,
        clean,
    })
}

fn probe_json(path: &Path) -> Result<Value, ErrorKind> {
    let out = ffmpeg::command(Tool::Ffprobe)
        .args(["-v", "error", "-print_format", "json"])
        .args(["-show_format", "-show_streams"])
        .arg(path)
        .output()
        .map_err(|e| ffmpeg::spawn_error(Tool::Ffprobe, e))?;
    if !out.status.success() {
        return Err(ErrorKind::Probe(ffmpeg::tail(&out.stderr)));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| ErrorKind::Probe(e.to_string()))
}

/// Streams and tags that should not be in an anonymised video.
fn findings(v: &Value) -> (Vec<String>, Vec<String>) {
    let streams = v["streams"].as_array().cloned().unwrap_or_default();
    let mut bad = Vec::new();
    let mut videos = 0;
    for (i, s) in streams.iter().enumerate() {
        match s["codec_type"].as_str().unwrap_or("unknown") {
            "audio" => {}
            "video" => {
                videos += 1;
                if videos > 1 {
                    bad.push(format!("stream {i}: a second video stream"));
                }
            }
            other => bad.push(format!("stream {i}: {other}")),
        }
    }
    let mut tags = bad_tags(&v["format"]["tags"], "format");
    for (i, s) in streams.iter().enumerate() {
        tags.extend(bad_tags(&s["tags"], &format!("stream {i}")));
    }
    (bad, tags)
}

/// The first video stream's size as ffmpeg decodes it (rotation applied).
fn upright_size(v: &Value) -> Option<(u32, u32)> {
    let s = v["streams"]
        .as_array()?
        .iter()
        .find(|s| s["codec_type"] == "video")?;
    let (w, h) = (s["width"].as_u64()? as u32, s["height"].as_u64()? as u32);
    let rotated = s["side_data_list"].as_array().is_some_and(|l| {
        l.iter().any(|d| {
            d["rotation"]
                .as_f64()
                .is_some_and(|r| (r.abs() - 90.0).abs() < 1.0 || (r.abs() - 270.0).abs() < 1.0)
        })
    }) || s["tags"]["rotate"]
        .as_str()
        .is_some_and(|r| r == "90" || r == "270");
    Some(if rotated { (h, w) } else { (w, h) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subtitles_data_and_tags_are_findings() {
        let v: Value = serde_json::from_str(
            r#"{"streams":[
              {"codec_type":"video","width":320,"height":240,"tags":{"handler_name":"VideoHandler"}},
              {"codec_type":"audio","tags":{"handler_name":"SoundHandler"}},
              {"codec_type":"subtitle","tags":{"language":"eng"}},
              {"codec_type":"data","tags":{"handler_name":"GoPro MET"}},
              {"codec_type":"video","width":64,"height":64}],
             "format":{"tags":{"major_brand":"isom","location":"+48.8+002.2/"}}}"#,
        )
        .unwrap();
        let (streams, tags) = findings(&v);
        assert_eq!(
            streams,
            [
                "stream 2: subtitle",
                "stream 3: data",
                "stream 4: a second video stream"
            ]
        );
        assert_eq!(tags, ["format: location", "stream 3: handler_name"]);
        assert_eq!(upright_size(&v), Some((320, 240)));
    }

    #[test]
    fn a_clean_layout_has_no_findings_and_rotation_swaps_the_size() {
        let v: Value = serde_json::from_str(
            r#"{"streams":[
              {"codec_type":"video","width":320,"height":240,
               "side_data_list":[{"rotation":-90}]},
              {"codec_type":"audio"}],
             "format":{"tags":{"major_brand":"isom","encoder":"Lavf61"}}}"#,
        )
        .unwrap();
        assert_eq!(findings(&v), (vec![], vec![]));
        assert_eq!(upright_size(&v), Some((240, 320)));
    }
}
