//! Kubeconfig files.
use std::path::Path;
pub fn print_admin(data_dir: &Path) -> anyhow::Result<()> {
    let _ = data_dir;
    anyhow::bail!("todo")
}
