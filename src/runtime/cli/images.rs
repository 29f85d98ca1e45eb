//! `onebin images ls|import|pull|rm`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use super::table::{human_size, render};
use super::NodeArgs;
use crate::runtime::image::digest::Digest;
use crate::runtime::image::pull::PullProgress;
use crate::runtime::image::records::ImageRecord;
use crate::runtime::image::reference::Reference;

#[derive(Args, Debug)]
pub struct ImagesArgs {
    #[command(flatten)]
    pub node: NodeArgs,
    #[command(subcommand)]
    command: ImagesCommand,
}

#[derive(Subcommand, Debug)]
enum ImagesCommand {
    /// List images with their digests and sizes.
    #[command(alias = "list")]
    Ls {
        /// Print only image IDs.
        #[arg(short, long)]
        quiet: bool,
        /// Show full digests and IDs.
        #[arg(long)]
        no_trunc: bool,
    },
    /// Import `docker save` or OCI layout archives.
    Import {
        #[arg(required = true)]
        archives: Vec<PathBuf>,
    },
    /// Pull an image from its registry (or a mirror from registries.yaml).
    Pull { image: String },
    /// Remove images (by name: untag; by ID: the image).
    #[command(alias = "rmi")]
    Rm {
        #[arg(required = true)]
        images: Vec<String>,
    },
}

pub async fn run(args: ImagesArgs) -> Result<()> {
    let images = args.node.images()?;
    match args.command {
        ImagesCommand::Ls { quiet, no_trunc } => {
            let list = images.list().await?;
            print!("{}", if quiet { ids(&list) } else { table(&list, no_trunc) });
            Ok(())
        }
        ImagesCommand::Import { archives } => {
            let mut failed = 0;
            for archive in archives {
                match images.import(&archive).await {
                    Ok(imported) => {
                        for image in imported {
                            let names =
                                if image.names.is_empty() { "<none>".to_string() } else { image.names.join(", ") };
                            println!("imported {names} ({})", image.id);
                        }
                    }
                    Err(err) => {
                        eprintln!("onebin: {err:#}");
                        failed += 1;
                    }
                }
            }
            if failed > 0 {
                bail!("{failed} archive(s) not imported");
            }
            Ok(())
        }
        ImagesCommand::Pull { image } => {
            let reference = Reference::parse(&image)?;
            let progress = Arc::new(Bars::new());
            let record = images.pull(&image, progress.clone()).await;
            progress.clear();
            let record = record?;
            println!("Image is up to date for {} ({})", reference, record.id);
            Ok(())
        }
        ImagesCommand::Rm { images: queries } => {
            let mut failed = 0;
            for query in queries {
                match images.remove(&query).await {
                    Ok(image) => println!("Deleted: {query} ({})", image.id),
                    Err(err) => {
                        eprintln!("onebin: {err:#}");
                        failed += 1;
                    }
                }
            }
            if failed > 0 {
                bail!("{failed} image(s) not removed");
            }
            Ok(())
        }
    }
}

fn ids(images: &[ImageRecord]) -> String {
    images.iter().map(|i| format!("{}\n", i.id)).collect()
}

fn table(images: &[ImageRecord], no_trunc: bool) -> String {
    let short = |d: &str| -> String {
        if no_trunc {
            d.to_string()
        } else {
            d.split_once(':').map_or(d, |(_, hex)| hex).chars().take(13).collect()
        }
    };
    let mut rows = Vec::new();
    for image in images {
        let digest_for = |repository: &str| {
            image
                .repo_digests
                .iter()
                .find_map(|rd| rd.rsplit_once('@').filter(|(repo, _)| *repo == repository).map(|(_, d)| d.to_string()))
                .unwrap_or_else(|| image.manifest.to_string())
        };
        let mut entries: Vec<(String, String, String)> = image
            .names
            .iter()
            .filter_map(|n| Reference::parse(n).ok())
            .map(|r| (r.name(), r.tag().unwrap_or("<none>").to_string(), digest_for(&r.name())))
            .collect();
        if entries.is_empty() {
            for repo_digest in &image.repo_digests {
                if let Some((repository, digest)) = repo_digest.rsplit_once('@') {
                    entries.push((repository.to_string(), "<none>".to_string(), digest.to_string()));
                }
            }
        }
        for (repository, tag, digest) in entries {
            rows.push(vec![repository, tag, short(&digest), short(&image.id.to_string()), human_size(image.size)]);
        }
    }
    rows.sort();
    render(&["IMAGE", "TAG", "DIGEST", "IMAGE ID", "SIZE"], &rows)
}

/// One progress bar per blob, for `images pull`.
struct Bars {
    multi: MultiProgress,
    bars: Mutex<HashMap<Digest, ProgressBar>>,
}

impl Bars {
    fn new() -> Bars {
        Bars { multi: MultiProgress::new(), bars: Mutex::new(HashMap::new()) }
    }

    fn clear(&self) {
        let _ = self.multi.clear();
    }
}

impl PullProgress for Bars {
    fn blob_started(&self, digest: &Digest, size: u64) {
        let bar = self.multi.add(ProgressBar::new(size));
        bar.set_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_prefix(digest.short().to_string());
        self.bars.lock().expect("progress lock").insert(digest.clone(), bar);
    }

    fn blob_progress(&self, digest: &Digest, downloaded: u64) {
        if let Some(bar) = self.bars.lock().expect("progress lock").get(digest) {
            bar.set_position(downloaded);
        }
    }

    fn blob_done(&self, digest: &Digest) {
        if let Some(bar) = self.bars.lock().expect("progress lock").get(digest) {
            bar.finish();
        }
    }
}
