//! What ffprobe says about an input: the video stream to anonymise, its
//! upright size, rotation and frame rate, and the audio and subtitle streams.

use crate::error::ErrorKind;
use crate::ffmpeg;
use serde::Serialize;
use serde_json::Value;
use std::path::Path;

/// A frame rate as a fraction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Rate {
    /// Numerator.
    pub num: u32,
    /// Denominator.
    pub den: u32,
}

impl Rate {
    /// Parse `"30000/1001"`; `None` for `"0/0"` and nonsense.
    pub fn parse(s: &str) -> Option<Rate> {
        let (n, d) = s.split_once('/').unwrap_or((s, "1"));
        let (num, den) = (n.trim().parse().ok()?, d.trim().parse().ok()?);
        (num > 0 && den > 0).then_some(Rate { num, den })
    }

    /// Frames per second.
    pub fn fps(self) -> f64 {
        self.num as f64 / self.den as f64
    }

    /// `"num/den"`, as ffmpeg takes it.
    pub fn arg(self) -> String {
        format!("{}/{}", self.num, self.den)
    }
}

/// One audio or subtitle stream.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OtherStream {
    /// ffmpeg's stream index in the input.
    pub index: usize,
    /// Codec name, e.g. `aac` or `subrip`.
    pub codec: String,
    /// Language tag, if any (kept in the output).
    pub language: Option<String>,
}

/// The parts of an input that the pipeline needs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MediaInfo {
    /// ffmpeg's index of the video stream used (the first that is not cover art).
    pub video_index: usize,
    /// Video codec name.
    pub video_codec: String,
    /// Width of the upright frames (after rotation).
    pub width: u32,
    /// Height of the upright frames (after rotation).
    pub height: u32,
    /// Rotation from the display matrix or `rotate` tag, degrees 0..360.
    pub rotation: u32,
    /// The frame rate the frames are decoded at and written with.
    pub rate: Rate,
    /// True when the input's timestamps are not evenly spaced (`r_frame_rate`
    /// differs from `avg_frame_rate`); such inputs are converted to `rate`.
    pub vfr: bool,
    /// Frame count from the container header, if it has one.
    pub header_frames: Option<u64>,
    /// Duration of the video stream (or the file) in seconds.
    pub duration: Option<f64>,
    /// Audio streams.
    pub audio: Vec<OtherStream>,
    /// Subtitle streams.
    pub subtitles: Vec<OtherStream>,
}

impl MediaInfo {
    /// Best guess of the number of frames the decoder will deliver.
    pub fn expected_frames(&self) -> Option<u64> {
        match (self.vfr, self.header_frames, self.duration) {
            (false, Some(n), _) => Some(n),
            (_, _, Some(d)) => Some((d * self.rate.fps()).round() as u64),
            (true, Some(n), None) => Some(n),
            _ => None,
        }
    }
}

/// Run ffprobe on `path`.
pub fn probe(path: &Path) -> Result<MediaInfo, ErrorKind> {
    let out = ffmpeg::command(ffmpeg::Tool::Ffprobe)
        .args([
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
        ])
        .arg(path)
        .output()
        .map_err(|e| ffmpeg::spawn_error(ffmpeg::Tool::Ffprobe, e))?;
    if !out.status.success() {
        return Err(ErrorKind::Probe(ffmpeg::tail(&out.stderr)));
    }
    let json = String::from_utf8_lossy(&out.stdout);
    parse(&json).map_err(ErrorKind::Probe)
}

/// Parse ffprobe's `-show_format -show_streams` JSON.
pub fn parse(json: &str) -> Result<MediaInfo, String> {
    let v: Value = serde_json::from_str(json).map_err(|e| format!("bad ffprobe output: {e}"))?;
    let streams = v["streams"].as_array().cloned().unwrap_or_default();
    let kind = |s: &Value| s["codec_type"].as_str().unwrap_or("").to_string();
    let video = streams
        .iter()
        .find(|s| kind(s) == "video" && s["disposition"]["attached_pic"].as_i64() != Some(1))
        .ok_or("no video stream")?;
    let dim = |k: &str| video[k].as_u64().filter(|&d| d > 0 && d <= 65_536);
    let (w, h) = match (dim("width"), dim("height")) {
        (Some(w), Some(h)) => (w as u32, h as u32),
        _ => return Err("video stream has no size".into()),
    };
    let rotation = rotation(video);
    let (width, height) = if rotation % 180 == 90 { (h, w) } else { (w, h) };
    let r = video["r_frame_rate"].as_str().and_then(Rate::parse);
    let avg = video["avg_frame_rate"].as_str().and_then(Rate::parse);
    let (rate, vfr) = match (r, avg) {
        (Some(r), Some(a)) => {
            let vfr = (r.fps() - a.fps()).abs() > a.fps() * 1e-3;
            // r_frame_rate is the finest grid the timestamps need; use it
            // unless it is far above the average (then frames would be
            // duplicated for nothing).
            (if r.fps() <= a.fps() * 1.05 { r } else { a }, vfr)
        }
        (Some(x), None) | (None, Some(x)) => (x, false),
        (None, None) => return Err("video stream has no frame rate".into()),
    };
    if rate.fps() > 1000.0 {
        return Err(format!("frame rate {} is not plausible", rate.arg()));
    }
    let num = |x: &Value| {
        x.as_str()
            .and_then(|s| s.parse::<f64>().ok())
            .filter(|d| d.is_finite() && *d > 0.0)
    };
    let duration = num(&video["duration"]).or_else(|| num(&v["format"]["duration"]));
    let header_frames = video["nb_frames"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .filter(|&n| n > 0);
    let others = |k: &str| -> Vec<OtherStream> {
        streams
            .iter()
            .filter(|s| kind(s) == k)
            .filter_map(|s| {
                Some(OtherStream {
                    index: s["index"].as_u64()? as usize,
                    codec: s["codec_name"].as_str().unwrap_or("unknown").to_string(),
                    language: s["tags"]["language"]
                        .as_str()
                        .filter(|l| l.len() <= 8 && l.chars().all(|c| c.is_ascii_alphabetic()))
                        .map(str::to_string),
                })
            })
            .collect()
    };
    Ok(MediaInfo {
        video_index: video["index"].as_u64().ok_or("video stream has no index")? as usize,
        video_codec: video["codec_name"]
            .as_str()
            .unwrap_or("unknown")
            .to_string(),
        width,
        height,
        rotation,
        rate,
        vfr,
        header_frames,
        duration,
        audio: others("audio"),
        subtitles: others("subtitle"),
    })
}

/// Rotation in degrees 0..360 (multiples of 90) from the display matrix side
/// data or the older `rotate` tag.
fn rotation(video: &Value) -> u32 {
    let from_side = video["side_data_list"].as_array().and_then(|l| {
        l.iter().find_map(|sd| {
            sd["rotation"]
                .as_f64()
                .or_else(|| sd["rotation"].as_i64().map(|r| r as f64))
        })
    });
    let from_tag = video["tags"]["rotate"]
        .as_str()
        .and_then(|s| s.parse::<f64>().ok());
    let deg = from_side.or(from_tag).unwrap_or(0.0);
    let q = (deg / 90.0).round() as i64;
    (q.rem_euclid(4) * 90) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    const PHONE: &str = r#"{"streams":[
      {"index":0,"codec_name":"h264","codec_type":"video","width":1920,"height":1080,
       "r_frame_rate":"30/1","avg_frame_rate":"2997/100","nb_frames":"300","duration":"10.01",
       "disposition":{"attached_pic":0},
       "side_data_list":[{"side_data_type":"Display Matrix","rotation":-90}]},
      {"index":1,"codec_name":"aac","codec_type":"audio","tags":{"language":"eng"}},
      {"index":2,"codec_name":"mjpeg","codec_type":"video","width":10,"height":10,
       "r_frame_rate":"90000/1","avg_frame_rate":"0/0","disposition":{"attached_pic":1}},
      {"index":3,"codec_name":"bin_data","codec_type":"data"}],
     "format":{"duration":"10.02"}}"#;

    #[test]
    fn parses_phone_video() {
        let m = parse(PHONE).unwrap();
        assert_eq!(m.video_index, 0);
        assert_eq!((m.width, m.height, m.rotation), (1080, 1920, 270));
        assert!(m.vfr);
        assert_eq!(m.rate, Rate { num: 30, den: 1 });
        assert_eq!(m.expected_frames(), Some(300));
        assert_eq!(m.audio.len(), 1);
        assert_eq!(m.audio[0].language.as_deref(), Some("eng"));
        assert!(m.subtitles.is_empty());
    }

    #[test]
    fn skips_cover_art_and_rejects_audio_only() {
        let cover_first = PHONE.replacen("\"index\":0,", "\"index\":9,", 1);
        assert_eq!(parse(&cover_first).unwrap().video_index, 9);
        let audio_only = r#"{"streams":[{"index":0,"codec_type":"audio"}],"format":{}}"#;
        assert!(parse(audio_only).unwrap_err().contains("no video"));
    }

    #[test]
    fn rates() {
        assert_eq!(Rate::parse("30000/1001").unwrap().arg(), "30000/1001");
        assert_eq!(Rate::parse("0/0"), None);
        assert_eq!(Rate::parse("25"), Some(Rate { num: 25, den: 1 }));
    }
}
