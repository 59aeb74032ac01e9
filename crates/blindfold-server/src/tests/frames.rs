//! Every frame of an animation through the service (issue 21).

use super::*;
use image::codecs::gif::{GifDecoder, GifEncoder, Repeat};
use image::{AnimationDecoder, Delay, Frame};

/// Three 64x48 frames, as a looping GIF.
fn gif() -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = GifEncoder::new_with_speed(&mut out, 10);
        enc.set_repeat(Repeat::Infinite).unwrap();
        for i in 0..3u8 {
            let img = image::RgbaImage::from_fn(64, 48, |x, y| {
                image::Rgba([(x * 4) as u8, (y * 5) as u8, 100 + 50 * i, 255])
            });
            let delay = Delay::from_numer_denom_ms(100, 1);
            enc.encode_frame(Frame::from_parts(img, 0, 0, delay))
                .unwrap();
        }
    }
    out
}

#[tokio::test]
async fn every_frame_of_a_gif_is_masked_unless_the_first_is_asked_for() {
    let dets = vec![detector(Duration::ZERO, false)];
    let f = fixture_of(
        settings(ClientBounds::any()),
        Limits::default(),
        None,
        dets,
        Duration::ZERO,
    );
    let uri = "/v1/anonymize?report=json&mode=solid&shape=rect&grow=0";
    let (st, _, body) = send(&f, post(uri, gif(), None)).await;
    assert_eq!(st, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let v = json(&body);
    assert_eq!(
        (v["format"].as_str(), v["content_type"].as_str()),
        (Some("gif"), Some("image/gif"))
    );
    assert_eq!(
        (v["frames"].as_u64(), v["frames_dropped"].as_u64()),
        (Some(3), Some(0))
    );
    assert_eq!(
        v["playback"]["delays_ms"],
        serde_json::json!([100.0, 100.0, 100.0])
    );
    use base64::Engine as _;
    let out = base64::engine::general_purpose::STANDARD
        .decode(v["image"].as_str().unwrap())
        .unwrap();
    let frames = GifDecoder::new(Cursor::new(out))
        .unwrap()
        .into_frames()
        .collect_frames()
        .unwrap();
    assert_eq!(frames.len(), 3);
    for (i, fr) in frames.iter().enumerate() {
        let p = fr.buffer().get_pixel(30, 20);
        assert!(
            p[0] < 8 && p[1] < 8 && p[2] < 8,
            "frame {i} not masked: {p:?}"
        );
    }
    let (st, _, body) = send(&f, post(&format!("{uri}&first_frame=true"), gif(), None)).await;
    assert_eq!(st, StatusCode::OK);
    let v = json(&body);
    assert_eq!(
        (v["frames"].as_u64(), v["frames_dropped"].as_u64()),
        (Some(1), Some(2))
    );
}
