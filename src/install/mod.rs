//! Node-local commands behind install.sh and the scripts it writes: `check-config` (does this
//! kernel offer what onebin needs), `wait-ready` (is the freshly started service up) and
//! `teardown` (remove a node's pods and network pieces, for the killall and uninstall scripts).

pub mod check_config;
pub mod teardown;
pub mod wait_ready;
