//! Photo pipeline benchmark on real phone photos, in one run against the plain `image` pipeline
//! (decode all → Lanczos3 → encode) and libjpeg-turbo's own tools (`djpeg -scale 1/2 | cjpeg -quality 80`),
//! with the PSNR of our output against a Lanczos3 reference of the same size. The three are timed in turns.
//! Run: `cargo bench -p tiejiaoban-device --bench photo` (figures go to BENCHMARKS.md).

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use device::PhotoPipeline;
use image::imageops::FilterType;

const RUNS: usize = 15;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn timed(f: &mut dyn FnMut()) -> Duration {
    let t = Instant::now();
    f();
    t.elapsed()
}

/// Medians of the pipelines timed in turns (one run of each per round, after one warm-up round), so that
/// the machine's drift during the run weighs on each the same.
fn time_interleaved(pipelines: &mut [&mut dyn FnMut()]) -> Vec<Duration> {
    for f in pipelines.iter_mut() {
        f();
    }
    let mut runs = vec![Vec::with_capacity(RUNS); pipelines.len()];
    for _ in 0..RUNS {
        for (f, r) in pipelines.iter_mut().zip(runs.iter_mut()) {
            r.push(timed(*f));
        }
    }
    runs.into_iter().map(median).collect()
}

fn plain(input: &[u8]) -> Vec<u8> {
    let img = image::load_from_memory(input).unwrap();
    let img = img.resize(1600, 1600, FilterType::Lanczos3).into_rgb8();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80).encode_image(&img).unwrap();
    out
}

fn turbo(path: &std::path::Path) -> Option<Vec<u8>> {
    let djpeg = Command::new("djpeg").args(["-scale", "1/2"]).arg(path).stdout(Stdio::piped()).spawn().ok()?;
    let out = Command::new("cjpeg").args(["-quality", "80"]).stdin(djpeg.stdout?).output().ok()?;
    out.status.success().then_some(out.stdout)
}

fn psnr(a: &image::RgbImage, b: &image::RgbImage) -> f64 {
    let mse: f64 = a.as_raw().iter().zip(b.as_raw()).map(|(x, y)| (*x as f64 - *y as f64).powi(2)).sum::<f64>()
        / a.as_raw().len() as f64;
    10.0 * (255.0f64 * 255.0 / mse).log10()
}

fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/photos");
    let pipeline = PhotoPipeline::default();
    println!(
        "photo | ours (ms) | plain image (ms) | djpeg|cjpeg (ms) | ours vs plain | ours vs turbo | PSNR vs Lanczos3 (dB)"
    );
    for name in ["HMD_Nokia_8.3_5G.jpg", "iphone_hdr_YES.jpg"] {
        let path = dir.join(name);
        let input = std::fs::read(&path).unwrap();
        let has_turbo = turbo(&path).is_some();
        let mut ours_f = || {
            pipeline.process(&input).unwrap();
        };
        let mut plain_f = || {
            plain(&input);
        };
        let mut turbo_f = || {
            turbo(&path);
        };
        let times = if has_turbo {
            time_interleaved(&mut [&mut ours_f, &mut plain_f, &mut turbo_f])
        } else {
            time_interleaved(&mut [&mut ours_f, &mut plain_f])
        };
        let (ours, plain_t, turbo_t) = (times[0], times[1], times.get(2).copied());
        let out = pipeline.process(&input).unwrap();
        let got = image::load_from_memory(&out.jpeg).unwrap().into_rgb8();
        let mut reference = image::load_from_memory(&input).unwrap();
        // The reference is upright like ours: apply the same orientation by matching the shape.
        if (reference.width() > reference.height()) != (got.width() > got.height()) {
            reference = reference.rotate90();
        }
        let reference = reference.resize_exact(got.width(), got.height(), FilterType::Lanczos3).into_rgb8();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "{name} | {:.1} | {:.1} | {} | {:.1}× faster | {} | {:.1}",
            ms(ours),
            ms(plain_t),
            turbo_t.map(|t| format!("{:.1}", ms(t))).unwrap_or_else(|| "n/a".into()),
            ms(plain_t) / ms(ours),
            turbo_t.map(|t| format!("{:.2}× its time", ms(ours) / ms(t))).unwrap_or_else(|| "n/a".into()),
            psnr(&got, &reference)
        );
        let _ = std::io::stdout().flush();
    }
}
