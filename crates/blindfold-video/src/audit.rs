//! The audit of a video that should already be anonymised (`blindfold
//! verify`): streams, tags, chapter titles and XMP that can identify a place
//! or a person, and faces left in the frames of every video stream, checked
//! on frames sampled at a fixed interval.

use crate::error::{ErrorKind, VideoError};
use crate::ffmpeg::{self, Tool};
use crate::probe::ffprobe_json;
use crate::verify::all_bad_tags;
use blindfold::audit::{Faces, Grain};
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
    /// Face candidates in those frames (`view` names the frame, `frame N`):
    /// faces left behind, and those over a mask fill or too small, which
    /// are not findings.
    #[serde(flatten)]
    pub found: Faces,
    /// Nothing found.
    pub clean: bool,
}

/// Audit `path`: its streams, tags and chapters, and faces in the first
/// frame and one frame every `every_s` seconds of each video stream, found by
/// `detector`; faces less tall than `min_face_height` pixels are not
/// findings (see [`blindfold::audit::AuditOptions::min_face_height`]).
pub fn audit_video(
    path: &Path,
    detector: &mut dyn FaceDetector,
    every_s: f64,
    min_face_height: f32,
) -> Result<VideoAudit, VideoError> {
    let fail = |kind| VideoError::new(path, kind);
    if !(every_s > 0.0 && every_s.is_finite()) {
        return Err(fail(ErrorKind::Config(
            "the frame interval must be positive".into(),
        )));
    }
    let probe = ffprobe_json(path).map_err(fail)?;
    let (streams, tags) = findings(&probe);
    let videos: Vec<&Value> = probe["streams"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["codec_type"] == "video")
        .collect();
    if videos.is_empty() {
        return Err(fail(ErrorKind::Probe("no video stream".into())));
    }
    let mut sampled = Sampled {
        min_face_height,
        ..Sampled::default()
    };
    for s in &videos {
        let label = match videos.len() {
            1 => String::new(),
            _ => format!("stream {} ", s["index"]),
        };
        sampled
            .stream(path, s, every_s, &label, detector)
            .map_err(fail)?;
    }
    let Sampled { frames, found, .. } = sampled;
    let clean = streams.is_empty() && tags.is_empty() && found.faces.is_empty();
    Ok(VideoAudit {
        streams,
        tags,
        frames_checked: frames,
        found,
        clean,
    })
}

/// The frames looked at so far and what was seen in them.
#[derive(Default)]
struct Sampled {
    frames: u64,
    found: Faces,
    min_face_height: f32,
}

impl Sampled {
    /// Look at the first frame of video stream `s` and then the first frame
    /// `every_s` seconds or more after the last one looked at (so a one-frame
    /// video is read too); views are named `{label}frame N`.
    fn stream(
        &mut self,
        path: &Path,
        s: &Value,
        every_s: f64,
        label: &str,
        detector: &mut dyn FaceDetector,
    ) -> Result<(), ErrorKind> {
        let (w, h) =
            upright_size(s).ok_or(ErrorKind::Probe("a video stream has no size".into()))?;
        let index = s["index"]
            .as_u64()
            .ok_or(ErrorKind::Probe("a stream has no index".into()))?;
        let select = format!("select='isnan(prev_selected_t)+gte(t-prev_selected_t,{every_s})'");
        let mut child = ffmpeg::command(Tool::Ffmpeg)
            .args(["-nostdin", "-hide_banner", "-v", "error", "-i"])
            .arg(path)
            .args(["-map", &format!("0:{index}"), "-an", "-sn", "-dn"])
            .args(["-vf", &select, "-vsync", "passthrough"])
            .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| ffmpeg::spawn_error(Tool::Ffmpeg, e))?;
        let mut out = child.stdout.take().expect("stdout is piped");
        let mut buf = vec![0u8; w as usize * h as usize * 3];
        let mut n = 0u64;
        let res = loop {
            match out.read_exact(&mut buf) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break Ok(()),
                Err(e) => break Err(ErrorKind::Io(e)),
            }
            let img = RgbImage::from_raw(w, h, buf.clone()).expect("buffer has the frame's size");
            let view = format!("{label}frame {n}");
            let looked = self
                .found
                .look(&img, &view, Grain::Lossy, detector, self.min_face_height);
            if let Err(source) = looked {
                break Err(ErrorKind::Detect { frame: n, source });
            }
            n += 1;
        };
        if res.is_err() {
            let _ = child.kill();
        }
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        let status = child.wait()?;
        res?;
        if !status.success() || !err.trim().is_empty() {
            return Err(ErrorKind::Decode(ffmpeg::tail(err.as_bytes())));
        }
        if n == 0 {
            return Err(ErrorKind::Decode(format!(
                "no frame of stream {index} could be read"
            )));
        }
        self.frames += n;
        Ok(())
    }
}

/// Streams, tags and chapter tags that should not be in an anonymised video.
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
    (bad, all_bad_tags(v))
}

/// A video stream's size as ffmpeg decodes it (rotation applied).
fn upright_size(s: &Value) -> Option<(u32, u32)> {
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
        assert_eq!(upright_size(&v["streams"][0]), Some((320, 240)));
    }

    #[test]
    fn xmp_and_chapter_titles_are_findings() {
        let v: Value = serde_json::from_str(
            r#"{"streams":[{"codec_type":"video","width":320,"height":240}],
             "chapters":[{"id":1,"tags":{"title":"Anna Schmidt, 12 Rue de Rivoli"}}],
             "format":{"tags":{"major_brand":"isom","xmp":"<x:xmpmeta/>"}}}"#,
        )
        .unwrap();
        assert_eq!(findings(&v).1, ["format: xmp", "chapter 0: title"]);
    }

    /// The anonymiser's output check and `verify`'s stream and tag audit
    /// agree on what is clean (outputs without subtitles).
    #[test]
    fn the_output_check_and_the_audit_agree() {
        use crate::verify::{Expect, check};
        let expect = Expect {
            width: 320,
            height: 240,
            pixel_aspect: None,
            frames: 5,
            audio: 1,
            subtitles: 0,
        };
        let video = r#"{"codec_type":"video","width":320,"height":240,"nb_read_packets":"5","tags":{"encoder":"Lavc libx264"}}"#;
        let audio = r#"{"codec_type":"audio","tags":{"handler_name":"SoundHandler"}}"#;
        let (two, none) = (format!("[{video},{audio}]"), "[]");
        let layouts = [
            (two.clone(), "", none, true),
            (two.clone(), r#","xmp":"<x:xmpmeta/>""#, none, false),
            (
                two.clone(),
                "",
                r#"[{"tags":{"title":"Anna, 12 Rue X"}}]"#,
                false,
            ),
            (two.clone(), "", r#"[{"id":1}]"#, true),
            (two.clone(), r#","location":"+48+002/""#, none, false),
            (format!("[{video},{audio},{video}]"), "", none, false),
            (
                format!(r#"[{video},{audio},{{"codec_type":"data"}}]"#),
                "",
                none,
                false,
            ),
            (
                format!(r#"[{video},{audio},{{"codec_type":"attachment"}}]"#),
                "",
                none,
                false,
            ),
        ];
        for (streams, format_tags, chapters, clean) in layouts {
            let json = format!(
                r#"{{"streams":{streams},"chapters":{chapters},
                    "format":{{"tags":{{"major_brand":"isom"{format_tags}}}}}}}"#
            );
            let v: Value = serde_json::from_str(&json).unwrap();
            let (s, t) = findings(&v);
            let audit_clean = s.is_empty() && t.is_empty();
            assert_eq!(audit_clean, clean, "audit on {json}: {s:?} {t:?}");
            assert_eq!(check(&v, &expect).is_ok(), clean, "check on {json}");
        }
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
        assert_eq!(upright_size(&v["streams"][0]), Some((240, 320)));
    }
}
