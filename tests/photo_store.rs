//! Photos in the server's pack files: uploads running side by side each get their own place and read back
//! byte for byte, before and after a restart, and photos stored in files of their own (as before packs) are
//! still served.

use std::os::unix::fs::FileExt;

use tiejiaoban::{Server, fake_jpeg as photo, sha256_hex};

/// Where the store says a photo is: (pack, offset), both NULL for a file of its own.
fn place(server: &Server, sha: &str) -> (Option<i64>, Option<i64>) {
    assert_eq!(server.count(&format!("SELECT COUNT(*) FROM blobs WHERE sha256 = '{sha}'")), 1, "the photo's row");
    let column = |c: &str| {
        server.text(&format!("SELECT {c} FROM blobs WHERE sha256 = '{sha}'")).map(|v| v.parse().expect("a number"))
    };
    (column("pack"), column("pack_offset"))
}

#[test]
fn photos_uploaded_side_by_side_share_packs_and_read_back_whole_across_restarts() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("server");
    let mut server = Server::start(&data);
    let api = server.api();
    let (_, token) = api.register("inspector1");

    // 24 uploads at once, of sizes around the 4 KiB blocks the packs are written in.
    let photos: Vec<Vec<u8>> =
        (0..24u64).map(|i| photo([4095, 4096, 4097, 290_000][i as usize % 4] + i as usize, i)).collect();
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let uploads: Vec<_> = photos
            .iter()
            .map(|p| {
                let (api, token) = (&api, &token);
                s.spawn(move || api.put_blob(token, &sha256_hex(p), "image/jpeg", p.clone()).status)
            })
            .collect();
        uploads.into_iter().map(|u| u.join().unwrap()).collect()
    });
    assert_eq!(statuses, vec![201; photos.len()], "every new photo is created");

    let mut places: Vec<(i64, i64, usize)> = photos
        .iter()
        .map(|p| match place(&server, &sha256_hex(p)) {
            (Some(pack), Some(offset)) => (pack, offset, p.len()),
            other => panic!("a new photo is in a pack, not {other:?}"),
        })
        .collect();
    places.sort_unstable();
    for pair in places.windows(2) {
        let ((pack_a, at_a, len_a), (pack_b, at_b, _)) = (pair[0], pair[1]);
        assert!(pack_a != pack_b || at_a + len_a as i64 <= at_b, "two photos overlap: {pair:?}");
    }
    assert!(places.iter().all(|&(_, at, _)| at % 4096 == 0), "every photo starts on a block");
    let own_files: Vec<_> = std::fs::read_dir(data.join("blobs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.len() == 2)
        .collect();
    assert!(own_files.is_empty(), "no photo in a file of its own: {own_files:?}");

    for p in &photos {
        let sha = sha256_hex(p);
        let (status, back) = api.get_blob(&token, &sha);
        assert_eq!(status, 200);
        assert!(back == *p, "photo {sha} reads back differently");
        let head = api.head_blob(&token, &sha);
        assert_eq!((head.status, head.held()), (200, (Some(p.len().to_string().as_str()), Some("true"))));
    }
    assert_eq!(api.put_blob(&token, &sha256_hex(&photos[0]), "image/jpeg", photos[0].clone()).status, 200);
    assert_eq!(server.count("SELECT COUNT(*) FROM blobs"), photos.len() as i64, "a photo sent again is held once");

    // After a restart the photos are there, and a new one goes after them, overwriting none.
    assert!(server.terminate().success());
    let server = Server::start(&data);
    let api = server.api();
    let (_, token) = api.register("inspector1");
    let late = photo(10_000, 99);
    assert_eq!(api.put_blob(&token, &sha256_hex(&late), "image/jpeg", late.clone()).status, 201);
    for p in photos.iter().chain([&late]) {
        assert!(api.get_blob(&token, &sha256_hex(p)).1 == *p, "a photo changed across the restart");
    }
}

#[test]
fn a_photo_stored_in_a_file_of_its_own_is_still_served() {
    // A store from before photo packs is an embedded one; on PostgreSQL photos were always in packs.
    if tiejiaoban::on_postgres() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("server");
    let mut server = Server::start(&data);
    let api = server.api();
    let (_, token) = api.register("inspector1");
    let p = photo(50_000, 7);
    let sha = sha256_hex(&p);
    assert_eq!(api.put_blob(&token, &sha, "image/jpeg", p.clone()).status, 201);
    let (Some(pack), Some(offset)) = place(&server, &sha) else { panic!("the photo is in a pack") };
    assert!(server.terminate().success());

    // Turn it into what a server before packs stored: the file `ab/abcd…` and a row without a place. The
    // pack's copy is wiped, so only the file can give the bytes back.
    std::fs::create_dir_all(data.join("blobs").join(&sha[..2])).unwrap();
    std::fs::write(data.join("blobs").join(&sha[..2]).join(&sha), &p).unwrap();
    let pack_file = std::fs::OpenOptions::new()
        .write(true)
        .open(data.join("blobs").join("packs").join(format!("{pack:08}.pack")))
        .unwrap();
    pack_file.write_all_at(&vec![0u8; p.len()], offset as u64).unwrap();
    rusqlite::Connection::open(data.join("server.sqlite"))
        .unwrap()
        .execute("UPDATE blobs SET pack = NULL, pack_offset = NULL WHERE sha256 = ?1", [&sha])
        .unwrap();

    let server = Server::start(&data);
    let api = server.api();
    let (_, token) = api.register("inspector1");
    let (status, back) = api.get_blob(&token, &sha);
    assert_eq!(status, 200);
    assert!(back == p, "the photo is read from its own file");
    let head = api.head_blob(&token, &sha);
    assert_eq!((head.status, head.held()), (200, (Some(p.len().to_string().as_str()), Some("true"))));
}

#[test]
fn a_partial_file_left_beside_a_stored_photo_is_removed_at_start() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("server");
    let mut server = Server::start(&data);
    let api = server.api();
    let (_, token) = api.register("inspector1");
    let p = photo(300_000, 11);
    let sha = sha256_hex(&p);
    for (from, to) in [(0, 200_000), (200_000, p.len())] {
        assert_eq!(api.patch_blob(&token, &sha, from, p.len(), &p[from..to]).status, 204);
    }
    let partial = data.join("blobs").join("partial").join(&sha);
    assert!(!partial.exists(), "a finished upload's partial file goes once the photo is stored");
    assert!(server.terminate().success());

    // What a crash between the photo's commit and the removal of its partial file leaves.
    std::fs::write(&partial, &p).unwrap();
    let server = Server::start(&data);
    assert!(!partial.exists(), "the leftover is removed when the server starts");
    let api = server.api();
    let (_, token) = api.register("inspector1");
    assert!(api.get_blob(&token, &sha).1 == p, "the stored photo is kept");
}
