//! The city-scale workload of performance.md: many devices, each with its findings and their photos, coming in
//! spread evenly over a window (as a city's inspectors sync through the day, compressed). Each device, at its
//! moment, uploads its photos one by one and then sends its findings in one sync, to one of the servers in
//! turn; every request is timed and every answer checked. The photos are made by each device when it starts, so
//! that a run of thousands of devices never holds them all in memory.

use std::sync::Arc;
use std::time::{Duration, Instant};

use protocol::{Op, OpStatus, PhotoRef, PhotoRole};

use crate::{Args, Client, fake_jpeg, finding, percentile};

/// What one device did: its requests' latencies, findings and photos sent, photo bytes.
struct Done {
    latencies: Vec<Duration>,
    findings: usize,
    photos: usize,
    bytes: u64,
}

pub async fn run(args: Arc<Args>, clients: Vec<Arc<Client>>) -> Result<(), String> {
    let mut devices = Vec::with_capacity(args.devices);
    for d in 0..args.devices {
        // Registered on the server it will sync with.
        devices.push(clients[d % clients.len()].register(&args, None).await?);
    }
    let per_device = args.findings.div_ceil(args.devices);
    let window = Duration::from_secs(args.window_secs);
    let started = Instant::now();
    let mut handles = Vec::with_capacity(args.devices);
    for (d, (device_id, token)) in devices.into_iter().enumerate() {
        let (args, client) = (args.clone(), clients[d % clients.len()].clone());
        handles.push(tokio::spawn(async move {
            tokio::time::sleep_until((started + window.mul_f64(d as f64 / args.devices as f64)).into()).await;
            let mut done = Done { latencies: Vec::new(), findings: 0, photos: 0, bytes: 0 };
            let mut ops = Vec::with_capacity(per_device);
            for n in 0..per_device {
                let mut refs = Vec::with_capacity(args.photos_per_finding);
                for _ in 0..args.photos_per_finding {
                    let (bytes, sha) = fake_jpeg(args.photo_bytes);
                    refs.push(PhotoRef {
                        sha256: sha.clone(),
                        role: PhotoRole::Before,
                        taken_at: None,
                        width: 1600,
                        height: 1200,
                        bytes: bytes.len() as u64,
                    });
                    done.bytes += bytes.len() as u64;
                    let t0 = Instant::now();
                    client.put(&token, bytes, &sha).await?;
                    done.latencies.push(t0.elapsed());
                    done.photos += 1;
                }
                let mut f = finding(&refs[0], &args, d * per_device + n);
                f.photos = refs;
                ops.push(Op::FindingCreate(f).envelope(n as u64 + 1));
            }
            let ops_json = serde_json::to_string(&ops).map_err(|e| e.to_string())?;
            let t0 = Instant::now();
            let answer = client.sync(&token, device_id, &ops_json, None).await?;
            done.latencies.push(t0.elapsed());
            if answer.results.len() != ops.len() {
                return Err(format!("{} results for {} ops", answer.results.len(), ops.len()));
            }
            if let Some(bad) = answer.results.iter().find(|r| r.status != OpStatus::Applied) {
                return Err(format!("op {} was {:?}: {:?}", bad.seq, bad.status, bad.error));
            }
            done.findings = ops.len();
            Ok::<_, String>(done)
        }));
    }
    let mut all = Done { latencies: Vec::new(), findings: 0, photos: 0, bytes: 0 };
    for h in handles {
        let d = h.await.map_err(|e| e.to_string())??;
        all.latencies.extend(d.latencies);
        all.findings += d.findings;
        all.photos += d.photos;
        all.bytes += d.bytes;
    }
    let elapsed = started.elapsed();
    all.latencies.sort();
    println!(
        "mode=city servers={} devices={} findings={} photos={} photo_MB={:.0} window={}s elapsed={:.1}s requests={} p50={:.1}ms p99={:.1}ms max={:.1}ms",
        clients.len(),
        args.devices,
        all.findings,
        all.photos,
        all.bytes as f64 / 1e6,
        args.window_secs,
        elapsed.as_secs_f64(),
        all.latencies.len(),
        percentile(&all.latencies, 0.5).as_secs_f64() * 1000.0,
        percentile(&all.latencies, 0.99).as_secs_f64() * 1000.0,
        all.latencies.last().copied().unwrap_or_default().as_secs_f64() * 1000.0,
    );
    Ok(())
}
