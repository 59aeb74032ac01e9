//! Ordinary and odd inputs (issue 22): a clip trimmed by stream copy (an
//! edit list), cover art stored as a video track, a second video stream
//! ahead of the picture, and a gap of hours in the timestamps.

use crate::{SQUARE, fake, ffmpeg, frames, leftovers, make_clip, opts, probe, stream, workdir};
use blindfold_video::{ErrorKind, VideoReport, anonymize_video};
use std::path::Path;
use std::time::{Duration, Instant};

/// Run ffmpeg on a command line written as one string, split at spaces; the
/// words `$0`, `$1`, ... are `files[0]`, `files[1]`, ...
fn ffmpeg_line(line: &str, files: &[&Path]) {
    let args: Vec<&str> = line
        .split(' ')
        .map(
            |w| match w.strip_prefix('$').and_then(|n| n.parse::<usize>().ok()) {
                Some(n) => files[n].to_str().unwrap(),
                None => w,
            },
        )
        .collect();
    ffmpeg(&args);
}

/// The square is black in every frame of the 320x240 output.
fn square_masked_everywhere(output: &Path) -> usize {
    let outs = frames(output, 320, 240);
    let (x, y, s) = SQUARE;
    for (i, f) in outs.iter().enumerate() {
        let p = f.get_pixel(x + s / 2, y + s / 2).0;
        assert!(p.iter().all(|&c| c < 40), "frame {i}: {p:?}");
    }
    outs.len()
}

fn run(input: &Path, output: &Path) -> Result<VideoReport, blindfold_video::VideoError> {
    anonymize_video(input, output, &mut fake(), &opts(), &mut |_| {})
}

/// `ffmpeg -ss 1 -i clip.mp4 -c copy`: the file keeps all 50 frames from the
/// keyframe on and an edit list plays the last 25. The header's count (50)
/// is not what a player shows.
#[test]
fn a_clip_trimmed_by_stream_copy_is_written_as_played() {
    let Some((dir, full, _)) = workdir("full.mp4", "out") else {
        return;
    };
    make_clip(&full, &[]);
    let input = dir.path().join("in.mp4");
    ffmpeg_line("-ss 1 -i $0 -c copy $1", &[&full, &input]);
    let played = stream(&probe(&input), "video")["nb_read_frames"].clone();
    assert_eq!(played, "25", "the test clip should play 25 frames");
    let output = dir.path().join("out.mp4");
    let report = run(&input, &output).unwrap();
    assert_eq!(report.frames, 25);
    assert_eq!(square_masked_everywhere(&output), 25);
}

/// Matroska stores cover art as a one-frame video track that ffprobe does not
/// flag as `attached_pic`; it comes first here and is larger than the video.
#[test]
fn cover_art_ahead_of_the_video_is_not_the_picture() {
    let Some((dir, clip, cover)) = workdir("clip.mp4", "cover.jpg") else {
        return;
    };
    make_clip(&clip, &[]);
    ffmpeg_line("-f lavfi -i color=red:s=400x400 -frames:v 1 $0", &[&cover]);
    let input = dir.path().join("in.mkv");
    let line = "-i $0 -i $1 -map 0 -map 1 -c copy -disposition:v:0 attached_pic $2";
    ffmpeg_line(line, &[&cover, &clip, &input]);
    let v = probe(&input);
    assert_eq!(v["streams"][0]["codec_name"], "mjpeg");
    assert_eq!(v["streams"][0]["disposition"]["attached_pic"], 0);
    let output = dir.path().join("out.mkv");
    let report = run(&input, &output).unwrap();
    assert_eq!((report.output.width, report.output.height), (320, 240));
    assert_eq!(report.input.video_index, 1);
    assert_eq!(report.output.streams.video_dropped, 1);
    assert!(square_masked_everywhere(&output) >= 50);
}

/// A small grey stream first, then the real picture marked default: the
/// picture is written, not the grey stream; two streams of the same size
/// both marked default fail, saying why.
#[test]
fn the_picture_a_player_shows_is_written_or_the_file_fails() {
    let Some((dir, clip, _)) = workdir("clip.mp4", "out") else {
        return;
    };
    make_clip(&clip, &[]);
    // A grey stream of `size` first, then the clip; `dispositions` for both.
    let two = |name: &str, size: &str, dispositions: &str| {
        let p = dir.path().join(name);
        let line = format!(
            "-f lavfi -t 2 -i color=gray:r=25:s={size} -i $0 -map 0:v -map 1:v -map 1:a \
             -c:v libx264 -pix_fmt yuv420p -c:a copy {dispositions} $1"
        );
        ffmpeg_line(&line, &[&clip, &p]);
        p
    };
    let input = two(
        "in.mp4",
        "160x90",
        "-disposition:v:0 0 -disposition:v:1 default",
    );
    let output = dir.path().join("out.mp4");
    let report = run(&input, &output).unwrap();
    assert_eq!((report.output.width, report.output.height), (320, 240));
    assert_eq!(report.output.streams.video_dropped, 1);
    assert_eq!(square_masked_everywhere(&output), 50);

    let twins = two("twins.mkv", "320x240", "-disposition:v:0 default");
    let out = dir.path().join("twins.out.mkv");
    let err = run(&twins, &out).unwrap_err();
    assert!(matches!(err.kind, ErrorKind::Probe(_)), "{err}");
    assert!(err.to_string().contains("not known"), "{err}");
    assert!(!out.exists());
}

/// ffmpeg's AVI muxer lists an empty "dropped frame" chunk when the audio
/// starts first: 51 frames in the header, 50 in the file. Not a truncation.
#[test]
fn an_avi_header_counting_an_empty_chunk_is_not_a_truncation() {
    let Some((dir, input, _)) = workdir("in.avi", "out") else {
        return;
    };
    let line = "-f lavfi -i testsrc2=size=320x240:rate=25 -f lavfi -i sine -t 2 \
                -c:v mpeg4 -c:a mp3 $0";
    ffmpeg_line(line, &[&input]);
    let v = stream(&probe(&input), "video").clone();
    assert_eq!(
        (&v["nb_frames"], &v["nb_read_frames"]),
        (&"51".into(), &"50".into())
    );
    let report = run(&input, &dir.path().join("out.mp4")).unwrap();
    assert!(report.frames >= 50, "{}", report.frames);
}

/// Anamorphic video (pixels 16:11, as DV and some broadcast formats store
/// them): the output keeps the pixel shape, so a player shows the same
/// picture, not one squeezed to 320x240.
#[test]
fn non_square_pixels_stay_non_square() {
    let Some((dir, input, _)) = workdir("in.mp4", "out") else {
        return;
    };
    let line = "-f lavfi -t 1 -i testsrc2=size=320x240:rate=10 -vf setsar=16/11 \
                -c:v libx264 -pix_fmt yuv420p $0";
    ffmpeg_line(line, &[&input]);
    let output = dir.path().join("out.mp4");
    run(&input, &output).unwrap();
    let v = stream(&probe(&output), "video").clone();
    assert_eq!(v["sample_aspect_ratio"], "16:11", "{v}");
    assert_eq!(v["display_aspect_ratio"], "64:33", "{v}");
}

/// Four frames, the last with a timestamp 6 hours on: at 10 fps that would
/// be 216,001 frames. It fails before the first frame is detected.
#[test]
fn a_gap_of_hours_in_the_timestamps_fails_fast() {
    let Some((dir, input, _)) = workdir("in.mkv", "out") else {
        return;
    };
    let line = "-f lavfi -t 0.4 -i testsrc2=size=160x120:rate=10 \
                -vf setpts='if(lt(N,3),N/10/TB,21600/TB)' -vsync passthrough \
                -c:v libx264 -pix_fmt yuv420p $0";
    ffmpeg_line(line, &[&input]);
    let output = dir.path().join("out.mkv");
    let start = Instant::now();
    let mut most = 0;
    let err = anonymize_video(&input, &output, &mut fake(), &opts(), &mut |p| {
        most = p.frame;
        assert!(p.frame < 1000, "frame {} of {:?}", p.frame, p.total_frames);
    })
    .unwrap_err();
    assert_eq!(most, 0, "no frame should be detected");
    assert!(matches!(err.kind, ErrorKind::TooManyFrames(_)), "{err}");
    assert!(err.to_string().contains("216001 frames"), "{err}");
    assert!(start.elapsed() < Duration::from_secs(20));
    assert_eq!(leftovers(dir.path()), ["in.mkv"]);
}
