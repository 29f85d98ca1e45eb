//! The content-addressed blob store: `blobs/<algorithm>/<hex>`, written through a temp file
//! in `ingest/` and renamed into place only after its digest (and size, when known) checked
//! out, so a blob that exists under a digest always has that digest.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use super::digest::{Algorithm, Digest, HashingWriter};

/// Manifests, indexes and configs are read into memory; none is legitimately this large.
const MAX_JSON_BLOB: u64 = 16 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct ContentStore {
    blobs: PathBuf,
    ingest: PathBuf,
}

/// A blob written by [`ContentStore::write`].
#[derive(Debug, Clone)]
pub struct Written {
    pub digest: Digest,
    pub size: u64,
    /// False when the store already had this blob.
    pub created: bool,
}

impl ContentStore {
    pub fn open(root: &Path) -> Result<ContentStore> {
        let store = ContentStore { blobs: root.join("blobs"), ingest: root.join("ingest") };
        for dir in [&store.blobs, &store.ingest] {
            fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        Ok(store)
    }

    pub fn path(&self, digest: &Digest) -> PathBuf {
        self.blobs.join(digest.algorithm_name()).join(digest.hex())
    }

    pub fn contains(&self, digest: &Digest) -> bool {
        self.path(digest).is_file()
    }

    pub fn size(&self, digest: &Digest) -> Option<u64> {
        fs::metadata(self.path(digest)).ok().map(|m| m.len())
    }

    pub fn open_blob(&self, digest: &Digest) -> Result<File> {
        File::open(self.path(digest)).with_context(|| format!("blob {digest} is not in the store"))
    }

    /// Reads a small (JSON) blob.
    pub fn read_json_blob(&self, digest: &Digest) -> Result<Vec<u8>> {
        let file = self.open_blob(digest)?;
        let mut data = Vec::new();
        file.take(MAX_JSON_BLOB + 1).read_to_end(&mut data).with_context(|| format!("reading blob {digest}"))?;
        if data.len() as u64 > MAX_JSON_BLOB {
            bail!("blob {digest} is larger than {MAX_JSON_BLOB} bytes; refusing to read it as JSON");
        }
        Ok(data)
    }

    /// A temp file in the ingest dir (same filesystem as the blobs, so it can be renamed in).
    pub fn temp_file(&self) -> Result<tempfile::NamedTempFile> {
        tempfile::Builder::new().prefix("ingest-").tempfile_in(&self.ingest).context("creating ingest file")
    }

    /// Copies `reader` into the store. With `expected`, the content must hash to it (and be
    /// `expected_size` bytes long, if given) or nothing is stored.
    pub fn write(&self, reader: impl Read, expected: Option<&Digest>, expected_size: Option<u64>) -> Result<Written> {
        let algorithm = expected.map_or(Algorithm::Sha256, |d| d.algorithm());
        let temp = self.temp_file()?;
        let mut writer = HashingWriter::new(io::BufWriter::new(temp), algorithm);
        let mut reader = match expected_size {
            // Read one byte past the declared size so an oversized blob is noticed without
            // reading (or storing) an unbounded stream.
            Some(size) => Box::new(reader.take(size + 1)) as Box<dyn Read>,
            None => Box::new(reader),
        };
        io::copy(&mut reader, &mut writer).context("writing blob")?;
        let (buffered, digest, size) = writer.finish();
        let temp = buffered.into_inner().map_err(|e| e.into_error()).context("writing blob")?;
        self.commit(temp, digest, size, expected, expected_size)
    }

    /// Moves a fully written temp file into place after checking it.
    pub fn commit(
        &self,
        temp: tempfile::NamedTempFile,
        digest: Digest,
        size: u64,
        expected: Option<&Digest>,
        expected_size: Option<u64>,
    ) -> Result<Written> {
        if let Some(expected) = expected {
            if &digest != expected {
                bail!("digest mismatch: expected {expected}, content hashes to {digest}");
            }
        }
        if let Some(expected_size) = expected_size {
            if size != expected_size {
                bail!("size mismatch for {digest}: expected {expected_size} bytes, got {size}");
            }
        }
        let path = self.path(&digest);
        if path.is_file() {
            return Ok(Written { digest, size, created: false });
        }
        temp.as_file().sync_all().context("syncing blob")?;
        let dir = path.parent().expect("blob path has a parent");
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        temp.persist(&path).with_context(|| format!("storing blob {digest}"))?;
        Ok(Written { digest, size, created: true })
    }

    /// Stores an in-memory blob (a manifest we generated, say).
    pub fn write_bytes(&self, data: &[u8]) -> Result<Written> {
        let temp = self.temp_file()?;
        temp.as_file().write_all(data).context("writing blob")?;
        self.commit(temp, Digest::sha256_of(data), data.len() as u64, None, None)
    }

    pub fn remove(&self, digest: &Digest) -> Result<()> {
        match fs::remove_file(self.path(digest)) {
            Ok(()) => Ok(()),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(err).with_context(|| format!("removing blob {digest}")),
        }
    }

    /// Every stored blob's digest.
    pub fn list(&self) -> Result<Vec<Digest>> {
        let mut digests = Vec::new();
        for algorithm in fs::read_dir(&self.blobs).context("listing blobs")? {
            let algorithm = algorithm?;
            let name = algorithm.file_name().to_string_lossy().into_owned();
            for blob in fs::read_dir(algorithm.path())? {
                let hex = blob?.file_name().to_string_lossy().into_owned();
                if let Ok(digest) = format!("{name}:{hex}").parse() {
                    digests.push(digest);
                }
            }
        }
        Ok(digests)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verified_write_keeps_nothing_on_mismatch() {
        let dir = tempfile::tempdir().unwrap();
        let store = ContentStore::open(dir.path()).unwrap();
        let good = Digest::sha256_of(b"hello");
        let written = store.write(&b"hello"[..], Some(&good), Some(5)).unwrap();
        assert!(written.created);
        assert!(store.contains(&good));
        assert!(!store.write(&b"hello"[..], Some(&good), Some(5)).unwrap().created);

        let wrong = Digest::sha256_of(b"other");
        let err = store.write(&b"hello!"[..], Some(&wrong), None).unwrap_err();
        assert!(err.to_string().contains("digest mismatch"), "{err}");
        let err = store.write(&b"hello and more"[..], Some(&good), Some(5)).unwrap_err();
        assert!(err.to_string().contains("mismatch"), "{err}");
        assert_eq!(store.list().unwrap(), vec![good]);
        assert_eq!(fs::read_dir(dir.path().join("ingest")).unwrap().count(), 0);
    }
}
