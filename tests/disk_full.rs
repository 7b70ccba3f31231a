//! A full disk, on the server and on the phone, made real: each test mounts a small tmpfs (as root, or with
//! `sudo -n`) and fills it. The server answers 503 `unavailable` with `Retry-After` and stores nothing half;
//! the phone says there is no room and keeps what it has; once space returns, everything that waited arrives
//! exactly once and whole.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use tiejiaoban::{Device, Server, fake_jpeg, sha256_hex};

/// A tmpfs of a given size, unmounted when dropped.
struct SmallDisk {
    path: PathBuf,
}

fn as_root(args: &[&str]) -> bool {
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    let mut cmd = if root { Command::new(args[0]) } else { Command::new("sudo") };
    if !root {
        cmd.arg("-n").arg(args[0]);
    }
    cmd.args(&args[1..]).status().is_ok_and(|s| s.success())
}

impl SmallDisk {
    fn mount(path: &Path, megabytes: u32) -> SmallDisk {
        std::fs::create_dir_all(path).unwrap();
        let options = format!("size={megabytes}m,mode=0777");
        assert!(
            as_root(&["mount", "-t", "tmpfs", "-o", &options, "tmpfs", path.to_str().unwrap()]),
            "mounting a {megabytes} MiB tmpfs at {} needs root or password-less sudo",
            path.display()
        );
        SmallDisk { path: path.to_owned() }
    }

    /// Fills the disk to the last byte with a file of its own; removing that file frees the space again.
    fn fill(&self) -> PathBuf {
        let filler = self.path.join("filler");
        let mut file = std::fs::File::create(&filler).unwrap();
        for chunk in [1 << 20, 4096, 1] {
            let block = vec![0x5Au8; chunk];
            while file.write_all(&block).is_ok() {}
        }
        let _ = file.sync_all();
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        as_root(&["umount", "-l", self.path.to_str().unwrap()]);
    }
}

fn integrity(db: &rusqlite::Connection) -> String {
    db.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap()
}

#[test]
fn a_server_whose_disk_is_full_answers_503_and_takes_everything_once_space_returns() {
    let tmp = tempfile::tempdir().unwrap();
    let disk = SmallDisk::mount(&tmp.path().join("disk"), 48);
    let server = Server::start(&disk.path.join("server"));
    let api = server.api();
    let admin = api.sign_in("admin");
    let phone = Device::new(&tmp.path().join("phone"));
    phone.register(&server.url, "inspector1");
    let first = phone.report("C0101", 41.70, "orientation-portrait-1.jpg");
    phone.ok(&["sync"]);

    let filler = disk.fill();
    let second = phone.report("C0101", 41.71, "orientation-landscape-1.jpg");
    let out = phone.run(&["sync"]);
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success(), "a sync to a full disk cannot succeed: {said}");
    assert!(said.contains("503") && said.contains("disk is full"), "the phone is told why: {said}");

    // Raw: a photo is refused whole, with the contract's error and a time to come back.
    let (_, token) = api.register("inspector2");
    let photo = fake_jpeg(200_000, 77);
    let refused = api.put_blob(&token, &sha256_hex(&photo), "image/jpeg", photo.clone());
    assert_eq!((refused.status, refused.code()), (503, "unavailable"), "{}", refused.body);
    assert_eq!(refused.header("retry-after"), Some("60"));
    assert_eq!(api.get("/health", None).status, 200, "the server is still up");
    assert_eq!(server.count("SELECT COUNT(*) FROM findings"), 1);
    assert_eq!(integrity(&server.db()), "ok");

    std::fs::remove_file(filler).unwrap();
    phone.ok(&["sync"]);
    assert!(phone.list().iter().all(|f| f["local_state"] == "received"));
    for id in [&first, &second] {
        let n: i64 = server.db().query_row("SELECT COUNT(*) FROM findings WHERE id = ?1", [id], |r| r.get(0)).unwrap();
        assert_eq!(n, 1, "finding {id}");
    }
    let db = rusqlite::Connection::open(phone.home.join("device.sqlite")).unwrap();
    let shas: Vec<String> = db
        .prepare("SELECT sha256 FROM photo_files")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for sha in shas {
        let mine = std::fs::read(phone.home.join("photos").join(format!("{sha}.jpg"))).unwrap();
        assert_eq!(api.get_blob(&admin, &sha), (200, mine), "photo {sha} whole");
    }
    assert_eq!(api.put_blob(&token, &sha256_hex(&photo), "image/jpeg", photo).status, 201);
    assert_eq!(integrity(&server.db()), "ok");
}

#[test]
fn a_phone_whose_storage_is_full_says_so_and_keeps_what_it_has() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let disk = SmallDisk::mount(&tmp.path().join("phone"), 24);
    let phone = Device::new(&disk.path);
    phone.register(&server.url, "inspector1");
    let kept = phone.report("E0102", 41.70, "orientation-portrait-1.jpg");

    let filler = disk.fill();
    let out = phone.run(&[
        "report",
        "--category",
        "E0102",
        "--lat",
        "41.71",
        "--lon",
        "123.43",
        "--photo",
        tiejiaoban::fixture("orientation-landscape-1.jpg").to_str().unwrap(),
    ]);
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "nothing can be saved on a full phone");
    assert!(said.contains("not enough free space"), "the inspector is told why, not 'disk I/O error': {said}");
    // The store cannot even open its log with no room left: every command says so, and changes nothing.
    for command in [&["list"][..], &["sync"], &["check"]] {
        let out = phone.run(command);
        let said = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!out.status.success() && said.contains("not enough free space"), "{command:?}: {said}");
    }

    std::fs::remove_file(filler).unwrap();
    assert!(phone.run(&["check"]).status.success(), "the store opens consistent once there is room");
    let listed = phone.list();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["id"], kept.as_str());
    let again = phone.report("E0102", 41.71, "orientation-landscape-1.jpg");
    phone.ok(&["sync"]);
    let db = rusqlite::Connection::open(disk.path.join("device.sqlite")).unwrap();
    assert_eq!(integrity(&db), "ok");
    for id in [&kept, &again] {
        let n: i64 = server.db().query_row("SELECT COUNT(*) FROM findings WHERE id = ?1", [id], |r| r.get(0)).unwrap();
        assert_eq!(n, 1, "finding {id}");
    }
    assert_eq!(server.count("SELECT COUNT(*) FROM findings"), 2);
}
