//! The photo pipeline on real phone photos (../shared/fixtures/photos): upright pixels, bounded size,
//! no EXIF left, a visible stamp, the hash of the stored bytes, and clear errors for what it cannot read.

use device::photo::{PhotoOptions, PhotoPipeline, stamp_lines};
use device::{DeviceError, ProcessedPhoto};
use image::GenericImageView;
use sha2::{Digest, Sha256};

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/photos").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn process(name: &str) -> ProcessedPhoto {
    PhotoPipeline::default().process(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A 16×16 grey thumbnail, for comparing what pictures show.
fn signature(jpeg: &[u8]) -> Vec<u8> {
    image::load_from_memory(jpeg)
        .unwrap()
        .resize_exact(16, 16, image::imageops::FilterType::Triangle)
        .to_luma8()
        .into_raw()
}

fn mean_abs_diff(a: &[u8], b: &[u8]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (*x as f64 - *y as f64).abs()).sum::<f64>() / a.len() as f64
}

#[test]
fn every_orientation_comes_out_the_same_way_up() {
    for set in ["landscape", "portrait"] {
        let reference = process(&format!("orientation-{set}-1.jpg"));
        let sig = signature(&reference.jpeg);
        for o in [3, 6, 8] {
            let p = process(&format!("orientation-{set}-{o}.jpg"));
            assert_eq!((p.width, p.height), (reference.width, reference.height), "{set}-{o}: same shape upright");
            let d = mean_abs_diff(&sig, &signature(&p.jpeg));
            assert!(d < 12.0, "{set}-{o} differs from -1 by {d:.1}: not turned upright");
        }
        // The comparison can tell: the reference turned half round is far from it.
        let turned = image::load_from_memory(&reference.jpeg).unwrap().rotate180();
        let mut buf = Vec::new();
        turned.write_to(&mut std::io::Cursor::new(&mut buf), image::ImageFormat::Jpeg).unwrap();
        assert!(mean_abs_diff(&sig, &signature(&buf)) > 20.0);
    }
}

#[test]
fn large_phone_photos_are_bounded_hashed_and_carry_no_exif() {
    for name in ["HMD_Nokia_8.3_5G.jpg", "iphone_hdr_YES.jpg"] {
        let input = fixture(name);
        assert!(input.windows(6).any(|w| w == b"Exif\0\0"), "{name} has EXIF to remove");
        let p = PhotoPipeline::default().process(&input).unwrap();
        assert!(p.width.max(p.height) == 1600, "{name}: {}x{}", p.width, p.height);
        assert_eq!(hex::encode(Sha256::digest(&p.jpeg)), p.sha256, "the hash names the stored bytes");
        assert!(p.jpeg.starts_with(&[0xFF, 0xD8, 0xFF]));
        assert!(!p.jpeg.windows(6).any(|w| w == b"Exif\0\0"), "{name}: EXIF (and its GPS) left in the output");
        let (w, h) = image::load_from_memory(&p.jpeg).unwrap().dimensions();
        assert_eq!((w, h), (p.width, p.height));
        assert!(!p.thumbnail.is_empty() && p.thumbnail.len() < p.jpeg.len());
        // Capture time and GPS are kept as fields.
        assert!(p.taken_at.is_some(), "{name}: capture time from EXIF");
        let (lat, lon) = p.exif_position.unwrap_or_else(|| panic!("{name}: GPS from EXIF"));
        assert!((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon));
    }
    // The long edge is configurable.
    let small = PhotoPipeline::new(PhotoOptions { max_edge: 800, ..PhotoOptions::default() })
        .process(&fixture("iphone_hdr_YES.jpg"))
        .unwrap();
    assert_eq!(small.width.max(small.height), 800);
}

#[test]
fn the_stamp_is_visible_in_the_corner_and_can_be_turned_off() {
    let input = fixture("orientation-landscape-1.jpg");
    let lines = stamp_lines(chrono::Local::now().fixed_offset(), 41.7968, 123.4328, 6.0, Some("中街路"));
    let stamped = PhotoPipeline::default().process_stamped(&input, Some(&lines)).unwrap();
    let plain = PhotoPipeline::default().process(&input).unwrap();
    assert!(stamped.stamped, "a font was found on this machine (fonts-noto-cjk or DejaVu)");
    assert!(!plain.stamped);
    assert_ne!(stamped.sha256, plain.sha256);
    let a = image::load_from_memory(&stamped.jpeg).unwrap().to_luma8();
    let b = image::load_from_memory(&plain.jpeg).unwrap().to_luma8();
    let (w, h) = a.dimensions();
    let region = |img: &image::GrayImage, x0: u32, y0: u32| -> Vec<u8> {
        (y0..y0 + h / 8)
            .flat_map(|y| (x0..x0 + w / 4).map(move |x| (x, y)))
            .map(|(x, y)| img.get_pixel(x, y).0[0])
            .collect()
    };
    let corner = mean_abs_diff(&region(&a, 0, h - h / 8), &region(&b, 0, h - h / 8));
    let elsewhere = mean_abs_diff(&region(&a, w / 2, 0), &region(&b, w / 2, 0));
    assert!(corner > 10.0, "the bottom-left corner changed by {corner:.1}");
    assert!(elsewhere < 2.0, "the rest of the picture is untouched ({elsewhere:.1})");
}

#[test]
fn damaged_metadata_never_costs_the_picture() {
    for name in ["corrupted.jpg", "45-gps_ifd.jpg"] {
        let p = process(name);
        assert!(p.width > 0 && p.height > 0, "{name}");
        assert_eq!(hex::encode(Sha256::digest(&p.jpeg)), p.sha256);
    }
}

#[test]
fn unreadable_photos_are_refused_clearly() {
    match PhotoPipeline::default().process(&fixture("iphone_13_pro_max.HEIC")) {
        Err(DeviceError::UnsupportedFormat(m)) => assert!(m.contains("HEIC"), "{m}"),
        other => panic!("HEIC must be refused as unsupported, got {other:?}"),
    }
    assert!(matches!(PhotoPipeline::default().process(b"GIF89a not really"), Err(DeviceError::UnsupportedFormat(_))));
    assert!(matches!(PhotoPipeline::default().process(&[]), Err(DeviceError::UnsupportedFormat(_))));

    // A truncated photo gives a picture (what was there) or a clear error, never a panic.
    let whole = fixture("HMD_Nokia_8.3_5G.jpg");
    for cut in [200, 20_000, whole.len() / 2] {
        match PhotoPipeline::default().process(&whole[..cut]) {
            Ok(p) => assert!(p.width > 0),
            Err(DeviceError::BadPhoto(m)) => assert!(!m.is_empty()),
            Err(other) => panic!("cut at {cut}: unexpected {other:?}"),
        }
    }
}

#[test]
fn decompression_bombs_are_refused_before_decoding() {
    // A PNG header claiming 60,000 × 60,000 pixels (3.6 gigapixels) with almost no data.
    let mut png = Vec::new();
    png.extend_from_slice(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]);
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&60_000u32.to_be_bytes());
    ihdr.extend_from_slice(&60_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut chunk = Vec::new();
    chunk.extend_from_slice(b"IHDR");
    chunk.extend_from_slice(&ihdr);
    let crc = crc32(&chunk);
    png.extend_from_slice(&(ihdr.len() as u32).to_be_bytes());
    png.extend_from_slice(&chunk);
    png.extend_from_slice(&crc.to_be_bytes());
    // A little image data and the end, so that the header is all a decoder needs to see.
    for (kind, data) in
        [(&b"IDAT"[..], &[0x78u8, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01][..]), (&b"IEND"[..], &[][..])]
    {
        let mut c = kind.to_vec();
        c.extend_from_slice(data);
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        png.extend_from_slice(&c);
        png.extend_from_slice(&crc32(&c).to_be_bytes());
    }
    match PhotoPipeline::default().process(&png) {
        Err(DeviceError::BadPhoto(m)) => assert!(m.contains("pixels") || m.contains("limit"), "{m}"),
        other => panic!("a bomb must be refused, got {:?}", other.map(|p| (p.width, p.height))),
    }
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}
