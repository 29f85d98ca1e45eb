#!/bin/sh
# onebin installer: puts the onebin binary on this machine and runs it as a service.
#
#   curl -sfL https://github.com/onebin/onebin/releases/latest/download/install.sh | sh -
#       installs a server (API server, controllers and a node of its own);
#   curl -sfL … | ONEBIN_URL=https://SERVER:6443 ONEBIN_TOKEN=TOKEN sh -
#       installs an agent that joins that server.
#
# Every ONEBIN_* variable set when the script runs is kept for the service (they are onebin's
# flags, e.g. ONEBIN_NODE_NAME). The INSTALL_ONEBIN_* variables steer the installer itself:
#   INSTALL_ONEBIN_EXEC           subcommand and/or flags for the service, e.g. "server --disable-agent"
#   INSTALL_ONEBIN_VERSION        release to download (default: the latest)
#   INSTALL_ONEBIN_DOWNLOAD_URL   mirror holding VERSION/onebin-ARCH and VERSION/sha256sum-ARCH.txt
#   INSTALL_ONEBIN_SKIP_DOWNLOAD  true: install INSTALL_ONEBIN_BIN_PATH instead (airgap)
#   INSTALL_ONEBIN_BIN_PATH       the local binary for INSTALL_ONEBIN_SKIP_DOWNLOAD
#   INSTALL_ONEBIN_BIN_DIR        where the binary and the scripts go (default /usr/local/bin)
#   INSTALL_ONEBIN_DATA_DIR       onebin's data dir (default /var/lib/onebin)
#   INSTALL_ONEBIN_CONFIG_DIR     config file, admin kubeconfig, service environment (default /etc/onebin)
#   INSTALL_ONEBIN_RUN_DIR        onebin's run dir (default /run/onebin)
#   INSTALL_ONEBIN_SYSTEMD_DIR    where the systemd unit goes (default /etc/systemd/system)
#   INSTALL_ONEBIN_OPENRC_DIR     where the openrc script goes (default /etc/init.d)
#   INSTALL_ONEBIN_LOG_FILE       log of the plain supervisor (default /var/log/NAME.log)
#   INSTALL_ONEBIN_SERVICE        systemd, openrc or none (default: what this machine runs)
#   INSTALL_ONEBIN_NAME           service name suffix: the service is onebin-NAME (default onebin)
#   INSTALL_ONEBIN_SKIP_ENABLE    true: do not start the service at boot
#   INSTALL_ONEBIN_SKIP_START     true: do not (re)start the service
#   INSTALL_ONEBIN_WAIT_SECONDS   how long to wait for the node to be Ready (default 180)
set -e

# Where onebin is released (INSTALL_ONEBIN_DOWNLOAD_URL points elsewhere).
RELEASES=https://github.com/onebin/onebin/releases

info() { echo "[onebin] $*"; }
warn() { echo "[onebin] warning: $*" >&2; }
fatal() {
    echo "[onebin] error: $*" >&2
    exit 1
}

# One word for a shell (and for systemd's ExecStart), whatever it holds.
quote() {
    printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

is_true() {
    case "$1" in true | TRUE | True | yes | 1) return 0 ;; *) return 1 ;; esac
}

# --- settings ------------------------------------------------------------------------------

setup_settings() {
    if [ -n "${INSTALL_ONEBIN_NAME}" ]; then
        SYSTEM_NAME="onebin-${INSTALL_ONEBIN_NAME}"
    else
        SYSTEM_NAME=onebin
    fi
    case "${SYSTEM_NAME}" in
        *[!A-Za-z0-9_.-]*) fatal "INSTALL_ONEBIN_NAME may hold only letters, digits, '.', '_' and '-'" ;;
    esac
    BIN_DIR="${INSTALL_ONEBIN_BIN_DIR:-/usr/local/bin}"
    DATA_DIR="${INSTALL_ONEBIN_DATA_DIR:-${ONEBIN_DATA_DIR:-/var/lib/onebin}}"
    CONFIG_DIR="${INSTALL_ONEBIN_CONFIG_DIR:-/etc/onebin}"
    RUN_DIR="${INSTALL_ONEBIN_RUN_DIR:-${ONEBIN_RUN_DIR:-/run/onebin}}"
    SYSTEMD_DIR="${INSTALL_ONEBIN_SYSTEMD_DIR:-/etc/systemd/system}"
    OPENRC_DIR="${INSTALL_ONEBIN_OPENRC_DIR:-/etc/init.d}"
    LOG_FILE="${INSTALL_ONEBIN_LOG_FILE:-/var/log/${SYSTEM_NAME}.log}"
    WAIT_SECONDS="${INSTALL_ONEBIN_WAIT_SECONDS:-180}"

    BIN="${BIN_DIR}/onebin"
    ENV_FILE="${CONFIG_DIR}/${SYSTEM_NAME}.env"
    CONFIG_FILE="${CONFIG_DIR}/config.yaml"
    KUBECONFIG_FILE="${CONFIG_DIR}/onebin.yaml"
    KILLALL="${BIN_DIR}/${SYSTEM_NAME}-killall.sh"
    UNINSTALL="${BIN_DIR}/${SYSTEM_NAME}-uninstall.sh"
    SUPERVISOR="${BIN_DIR}/${SYSTEM_NAME}-service.sh"
    PID_FILE="${RUN_DIR}.pid"
    UNIT_FILE="${SYSTEMD_DIR}/${SYSTEM_NAME}.service"
    OPENRC_FILE="${OPENRC_DIR}/${SYSTEM_NAME}"
}

# The subcommand and its flags, from INSTALL_ONEBIN_EXEC and ONEBIN_URL. Checked before anything
# is changed, so a missing token leaves the machine as it was.
setup_command() {
    # shellcheck disable=SC2086 # INSTALL_ONEBIN_EXEC is a list of words
    set -- ${INSTALL_ONEBIN_EXEC}
    case "$1" in
        server | agent)
            COMMAND="$1"
            shift
            ;;
        -* | '')
            if [ -n "${ONEBIN_URL}" ]; then COMMAND=agent; else COMMAND=server; fi
            ;;
        *) fatal "INSTALL_ONEBIN_EXEC must start with 'server', 'agent' or a flag, not '$1'" ;;
    esac
    EXEC_ARGS=""
    for arg in "$@"; do
        EXEC_ARGS="${EXEC_ARGS} $(quote "${arg}")"
    done
    if [ "${COMMAND}" = agent ]; then
        [ -n "${ONEBIN_URL}" ] || fatal "an agent needs the server to join: set ONEBIN_URL=https://SERVER:6443"
        case "${ONEBIN_URL}" in https://*) ;; *) fatal "ONEBIN_URL must be an https:// URL, not '${ONEBIN_URL}'" ;; esac
        if [ -z "${ONEBIN_TOKEN}" ] && [ -z "${ONEBIN_TOKEN_FILE}" ]; then
            fatal "joining ${ONEBIN_URL} needs the server's token: set ONEBIN_TOKEN (or ONEBIN_TOKEN_FILE); on the server, 'onebin token' prints it"
        fi
    elif [ -n "${ONEBIN_URL}" ]; then
        fatal "ONEBIN_URL is set, but a server does not join another server: unset ONEBIN_URL or install an agent"
    fi
    DISABLE_AGENT=false
    case " ${INSTALL_ONEBIN_EXEC} " in *" --disable-agent "*) DISABLE_AGENT=true ;; esac
    if is_true "${ONEBIN_DISABLE_AGENT}"; then DISABLE_AGENT=true; fi
}

# --- pre-flight ----------------------------------------------------------------------------

preflight() {
    [ "$(id -u)" = 0 ] || fatal "onebin runs as root (it makes network devices, mounts and cgroups): run this script as root"
    grep -Eq ' - cgroup2? ' /proc/self/mountinfo ||
        fatal "no cgroup filesystem is mounted: mount cgroup2 on /sys/fs/cgroup (or the v1 hierarchies) first"
    if [ "${SERVICE}" = systemd ] && ! command -v systemctl >/dev/null 2>&1; then
        fatal "INSTALL_ONEBIN_SERVICE=systemd, but systemctl is missing"
    fi
    if [ "${SERVICE}" = openrc ] && ! command -v rc-service >/dev/null 2>&1; then
        fatal "INSTALL_ONEBIN_SERVICE=openrc, but rc-service is missing"
    fi
}

# Whether anything on this machine listens on port $2 (hexadecimal) in /proc/net/$1.
port_taken() {
    for table in "/proc/net/$1" "/proc/net/${1}6"; do
        [ -r "${table}" ] || continue
        # Field 2 is local address:port; TCP sockets must be listening (state 0A).
        if awk -v port="$2" -v tcp="$([ "$1" = tcp ] && echo 1)" \
            'NR > 1 { split($2, a, ":"); if (a[2] == port && (tcp != 1 || $4 == "0A")) found = 1 } END { exit !found }' \
            "${table}"; then
            return 0
        fi
    done
    return 1
}

# Ports only matter when a new process is about to take them, not when ours holds them.
preflight_ports() {
    if is_true "${INSTALL_ONEBIN_SKIP_START}" || service_running; then
        return 0
    fi
    api_port="${ONEBIN_HTTPS_LISTEN_PORT:-6443}"
    if [ "${COMMAND}" = server ] && port_taken tcp "$(printf '%04X' "${api_port}")"; then
        fatal "TCP port ${api_port} (the API server) is taken by another program: stop it, or run ${KILLALL} if an earlier onebin is left over"
    fi
    if [ "${ONEBIN_FLANNEL_BACKEND}" != none ] && port_taken udp 2118; then
        fatal "UDP port 8472 (the VXLAN overlay) is taken: stop whatever uses it, or set ONEBIN_FLANNEL_BACKEND=none"
    fi
}

# --- binary --------------------------------------------------------------------------------

setup_arch() {
    case "$(uname -m)" in
        x86_64 | amd64) ARCH=amd64 ;;
        aarch64 | arm64) ARCH=arm64 ;;
        armv7* | armv6* | arm) ARCH=arm ;;
        *) fatal "no onebin release for this architecture ($(uname -m)); onebin is built for amd64, arm64 and arm" ;;
    esac
}

download() {
    if command -v curl >/dev/null 2>&1; then
        curl -fsSL -o "$1" "$2" || fatal "downloading $2 failed"
    elif command -v wget >/dev/null 2>&1; then
        wget -q -O "$1" "$2" || fatal "downloading $2 failed"
    else
        fatal "neither curl nor wget is installed: install one, or use INSTALL_ONEBIN_SKIP_DOWNLOAD=true"
    fi
}

sha256_of() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$1" | awk '{print $1}'
    elif command -v shasum >/dev/null 2>&1; then
        shasum -a 256 "$1" | awk '{print $1}'
    else
        fatal "neither sha256sum nor shasum is installed: the download cannot be verified"
    fi
}

# Puts the new binary, verified, next to its final place as ${STAGED} (same filesystem, so the
# final rename is atomic).
stage_binary() {
    mkdir -p "${BIN_DIR}"
    STAGED="${BIN_DIR}/.onebin.new.$$"
    if is_true "${INSTALL_ONEBIN_SKIP_DOWNLOAD}"; then
        source_bin="${INSTALL_ONEBIN_BIN_PATH:-${BIN}}"
        [ -f "${source_bin}" ] || fatal "INSTALL_ONEBIN_SKIP_DOWNLOAD is set, but ${source_bin} does not exist (set INSTALL_ONEBIN_BIN_PATH)"
        cp "${source_bin}" "${STAGED}"
    else
        setup_arch
        if [ -n "${INSTALL_ONEBIN_DOWNLOAD_URL}" ]; then
            release="${INSTALL_ONEBIN_DOWNLOAD_URL%/}/${INSTALL_ONEBIN_VERSION:-latest}"
        elif [ -n "${INSTALL_ONEBIN_VERSION}" ]; then
            release="${RELEASES}/download/${INSTALL_ONEBIN_VERSION}"
        else
            release="${RELEASES}/latest/download"
        fi
        info "downloading onebin-${ARCH} from ${release}"
        download "${STAGED}.sha256" "${release}/sha256sum-${ARCH}.txt"
        want=$(awk -v f="onebin-${ARCH}" '$2 == f || $2 == "*" f {print $1}' "${STAGED}.sha256")
        rm -f "${STAGED}.sha256"
        [ -n "${want}" ] || fatal "${release}/sha256sum-${ARCH}.txt has no line for onebin-${ARCH}"
        download "${STAGED}" "${release}/onebin-${ARCH}"
        got=$(sha256_of "${STAGED}")
        if [ "${got}" != "${want}" ]; then
            rm -f "${STAGED}"
            fatal "onebin-${ARCH} from ${release} has sha256 ${got}, but the release says ${want}: refusing to install it (${BIN} is unchanged)"
        fi
        info "sha256 ${got} verified"
    fi
    chmod 755 "${STAGED}"
    if ! "${STAGED}" --version >/dev/null 2>&1; then
        rm -f "${STAGED}"
        fatal "the new onebin binary does not run on this machine"
    fi
}

check_kernel() {
    if ! report=$("${STAGED}" check-config --quiet 2>&1); then
        rm -f "${STAGED}"
        fatal "this kernel lacks what onebin needs (see 'onebin check-config'):
${report}"
    fi
}

install_binary() {
    if [ -f "${BIN}" ] && cmp -s "${STAGED}" "${BIN}"; then
        rm -f "${STAGED}"
        info "${BIN} is up to date"
        return
    fi
    mv -f "${STAGED}" "${BIN}"
    CHANGED=true
    info "installed ${BIN} ($("${BIN}" --version))"
}

# --- service files -------------------------------------------------------------------------

# onebin insists on a config file it was pointed at, so there is always one; the user's edits
# are kept across upgrades.
write_config_file() {
    [ -f "${CONFIG_FILE}" ] && return 0
    mkdir -p "${CONFIG_DIR}"
    cat >"${CONFIG_FILE}" <<EOF
# onebin configuration: every flag of 'onebin ${COMMAND}' can be set here by its name, e.g.
#   node-label: [zone=edge]
# Restart onebin after editing (or run the installer again).
EOF
}

# Writes $1 from stdin with mode $2 unless it already holds exactly that; marks a change.
write_if_changed() {
    mkdir -p "$(dirname "$1")"
    tmp="$1.new.$$"
    (umask 077 && cat >"${tmp}")
    chmod "$2" "${tmp}"
    if [ -f "$1" ] && cmp -s "${tmp}" "$1"; then
        rm -f "${tmp}"
    else
        mv -f "${tmp}" "$1"
        CHANGED=true
    fi
}

env_file_content() {
    echo "# written by the onebin installer; the service reads it"
    env | sed -n 's/^\(ONEBIN_[A-Za-z0-9_]*\)=.*/\1/p' | sort -u | while read -r name; do
        case "${name}" in
            ONEBIN_DATA_DIR | ONEBIN_RUN_DIR | ONEBIN_CONFIG_FILE | ONEBIN_WRITE_KUBECONFIG) continue ;;
        esac
        eval "value=\${${name}}"
        # shellcheck disable=SC2154 # value is set by the eval above
        echo "${name}=$(quote "${value}")"
    done
    echo "ONEBIN_DATA_DIR=$(quote "${DATA_DIR}")"
    echo "ONEBIN_RUN_DIR=$(quote "${RUN_DIR}")"
    echo "ONEBIN_CONFIG_FILE=$(quote "${CONFIG_FILE}")"
    if [ "${COMMAND}" = server ]; then
        echo "ONEBIN_WRITE_KUBECONFIG=$(quote "${ONEBIN_WRITE_KUBECONFIG:-${KUBECONFIG_FILE}}")"
    fi
}

# The service's environment: every ONEBIN_* variable given to the installer, and the places
# this installation uses. It can hold the join token, so only root reads it. (A here-document,
# not a pipe: write_if_changed must run in this shell to record a change.)
write_env_file() {
    write_if_changed "${ENV_FILE}" 600 <<EOF
$(env_file_content)
EOF
}

write_systemd_unit() {
    write_if_changed "${UNIT_FILE}" 644 <<EOF
[Unit]
Description=onebin ${COMMAND}: single-binary Kubernetes
Wants=network-online.target
After=network-online.target

[Service]
Type=notify
NotifyAccess=main
EnvironmentFile=-${ENV_FILE}
ExecStart=$(quote "${BIN}") ${COMMAND}${EXEC_ARGS}
# Only onebin itself is stopped on restart: the pods' shims and containers keep running.
KillMode=process
Delegate=yes
LimitNOFILE=1048576
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
TimeoutStartSec=0
Restart=always
RestartSec=5s

[Install]
WantedBy=multi-user.target
EOF
}

write_openrc_script() {
    write_if_changed "${OPENRC_FILE}" 755 <<EOF
#!/sbin/openrc-run
description="onebin ${COMMAND}: single-binary Kubernetes"
supervisor=supervise-daemon
respawn_delay=5
respawn_max=0
command=$(quote "${BIN}")
command_args="${COMMAND}${EXEC_ARGS}"
output_log=$(quote "${LOG_FILE}")
error_log=$(quote "${LOG_FILE}")
pidfile=$(quote "${PID_FILE}")

depend() {
    need net
    after firewall
}

set -o allexport
[ -f $(quote "${ENV_FILE}") ] && . $(quote "${ENV_FILE}")
set +o allexport
EOF
}

# Where neither systemd nor openrc runs: a small supervisor script that restarts onebin when it
# exits, with a pid file and a log file.
write_supervisor() {
    write_if_changed "${SUPERVISOR}" 755 <<EOF
#!/bin/sh
# onebin ${COMMAND} without an init system; written by the onebin installer.
# Usage: ${SUPERVISOR} start|stop|restart|status
set -e
PID_FILE=$(quote "${PID_FILE}")
LOG_FILE=$(quote "${LOG_FILE}")
ENV_FILE=$(quote "${ENV_FILE}")
set -- "\$1" $(quote "${BIN}") ${COMMAND}${EXEC_ARGS}

running() {
    [ -f "\${PID_FILE}" ] && kill -0 "\$(cat "\${PID_FILE}")" 2>/dev/null
}

supervise() {
    shift
    echo \$\$ >"\${PID_FILE}"
    stopping=
    child=
    trap 'stopping=1; [ -z "\${child}" ] || kill "\${child}" 2>/dev/null || true' TERM INT
    while [ -z "\${stopping}" ]; do
        "\$@" &
        child=\$!
        echo "\${child}" >"\${PID_FILE}.child"
        # wait returns early when a signal arrives; keep waiting until onebin is gone.
        while kill -0 "\${child}" 2>/dev/null; do wait "\${child}" || true; done
        [ -z "\${stopping}" ] || break
        echo "[onebin] onebin exited; restarting in 5s"
        sleep 5 &
        wait \$! || true
    done
    rm -f "\${PID_FILE}" "\${PID_FILE}.child"
}

case "\$1" in
    start)
        if running; then
            echo "onebin is already running (pid \$(cat "\${PID_FILE}"))"
            exit 0
        fi
        mkdir -p "\$(dirname "\${PID_FILE}")" "\$(dirname "\${LOG_FILE}")"
        rm -f "\${PID_FILE}"
        set -a
        # shellcheck disable=SC1090 # the installer writes the environment file
        . "\${ENV_FILE}"
        set +a
        setsid "\$0" supervise </dev/null >>"\${LOG_FILE}" 2>&1 &
        tries=0
        until [ -f "\${PID_FILE}" ]; do
            tries=\$((tries + 1))
            [ "\${tries}" -lt 100 ] || { echo "onebin did not start; see \${LOG_FILE}" >&2; exit 1; }
            sleep 0.1
        done
        echo "onebin started (pid \$(cat "\${PID_FILE}"), log \${LOG_FILE})"
        ;;
    supervise) supervise "\$@" ;;
    stop)
        if ! running; then
            rm -f "\${PID_FILE}" "\${PID_FILE}.child"
            exit 0
        fi
        kill "\$(cat "\${PID_FILE}")" 2>/dev/null || true
        tries=0
        while running && [ "\${tries}" -lt 300 ]; do
            tries=\$((tries + 1))
            sleep 0.1
        done
        if running; then
            # onebin did not stop within 30s: no more waiting.
            kill -9 "\$(cat "\${PID_FILE}.child" 2>/dev/null)" "\$(cat "\${PID_FILE}")" 2>/dev/null || true
            rm -f "\${PID_FILE}" "\${PID_FILE}.child"
        fi
        echo "onebin stopped"
        ;;
    restart)
        "\$0" stop
        "\$0" start
        ;;
    status)
        if running; then
            echo "onebin is running (pid \$(cat "\${PID_FILE}.child" 2>/dev/null || cat "\${PID_FILE}"))"
        else
            echo "onebin is not running"
            exit 3
        fi
        ;;
    *)
        echo "usage: \$0 start|stop|restart|status" >&2
        exit 2
        ;;
esac
EOF
}

# --- killall and uninstall -----------------------------------------------------------------

write_killall() {
    write_if_changed "${KILLALL}" 755 <<EOF
#!/bin/sh
# Stops onebin and everything it runs on this machine: the service, every pod (processes,
# mounts, cgroups) and onebin's network devices and nftables tables. The data stays; starting
# the service again brings the node back. Written by the onebin installer; safe to run again.
set -e
[ "\$(id -u)" = 0 ] || { echo "run \$0 as root" >&2; exit 1; }
SYSTEM_NAME=$(quote "${SYSTEM_NAME}")
BIN=$(quote "${BIN}")
ENV_FILE=$(quote "${ENV_FILE}")
SUPERVISOR=$(quote "${SUPERVISOR}")
UNIT_FILE=$(quote "${UNIT_FILE}")
OPENRC_FILE=$(quote "${OPENRC_FILE}")

if [ -f "\${UNIT_FILE}" ] && [ -d /run/systemd/system ]; then
    systemctl stop "\${SYSTEM_NAME}" || true
fi
if [ -f "\${OPENRC_FILE}" ] && command -v rc-service >/dev/null 2>&1; then
    rc-service "\${SYSTEM_NAME}" stop || true
fi
if [ -x "\${SUPERVISOR}" ]; then
    "\${SUPERVISOR}" stop
fi

if [ -x "\${BIN}" ] && [ -f "\${ENV_FILE}" ]; then
    # The node's data dir, run dir, cgroup parent and device names come from its environment.
    set -a
    # shellcheck disable=SC1090 # the installer writes the environment file
    . "\${ENV_FILE}"
    set +a
    "\${BIN}" teardown
fi
EOF
}

write_uninstall() {
    write_if_changed "${UNINSTALL}" 755 <<EOF
#!/bin/sh
# Removes onebin from this machine: runs the killall script, then removes the service, the
# binary, the data dir, the configuration and these scripts. Written by the onebin installer;
# safe to run again.
set -e
[ "\$(id -u)" = 0 ] || { echo "run \$0 as root" >&2; exit 1; }
SYSTEM_NAME=$(quote "${SYSTEM_NAME}")
KILLALL=$(quote "${KILLALL}")
UNIT_FILE=$(quote "${UNIT_FILE}")
OPENRC_FILE=$(quote "${OPENRC_FILE}")
SUPERVISOR=$(quote "${SUPERVISOR}")
DATA_DIR=$(quote "${DATA_DIR}")
RUN_DIR=$(quote "${RUN_DIR}")
CONFIG_DIR=$(quote "${CONFIG_DIR}")
ENV_FILE=$(quote "${ENV_FILE}")
LOG_FILE=$(quote "${LOG_FILE}")
PID_FILE=$(quote "${PID_FILE}")
BIN=$(quote "${BIN}")

if [ -x "\${KILLALL}" ]; then
    "\${KILLALL}"
fi

if [ -f "\${UNIT_FILE}" ]; then
    if [ -d /run/systemd/system ]; then
        systemctl disable "\${SYSTEM_NAME}" || true
    fi
    rm -f "\${UNIT_FILE}"
    if [ -d /run/systemd/system ]; then
        systemctl daemon-reload || true
    fi
fi
if [ -f "\${OPENRC_FILE}" ]; then
    if command -v rc-update >/dev/null 2>&1; then
        rc-update delete "\${SYSTEM_NAME}" default || true
    fi
    rm -f "\${OPENRC_FILE}"
fi

# Anything still mounted below the directories would be emptied by rm -rf: unmount it first.
for dir in "\${DATA_DIR}" "\${RUN_DIR}"; do
    awk -v dir="\${dir}" 'index(\$5, dir "/") == 1 || \$5 == dir { print \$5 }' /proc/self/mountinfo |
        sort -r | while read -r mount_point; do umount -l "\${mount_point}" 2>/dev/null || true; done
done
rm -rf "\${DATA_DIR}" "\${RUN_DIR}"
rm -f "\${ENV_FILE}" "\${CONFIG_DIR}/config.yaml" "\${CONFIG_DIR}/onebin.yaml" "\${LOG_FILE}" "\${PID_FILE}" "\${PID_FILE}.child"
rmdir "\${CONFIG_DIR}" 2>/dev/null || true
rm -f "\${SUPERVISOR}" "\${BIN}" "\${KILLALL}" "\$0"
echo "onebin is uninstalled"
EOF
}

# --- service control -----------------------------------------------------------------------

detect_service() {
    SERVICE="${INSTALL_ONEBIN_SERVICE}"
    if [ -z "${SERVICE}" ]; then
        if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
            SERVICE=systemd
        elif command -v openrc-run >/dev/null 2>&1 && command -v rc-service >/dev/null 2>&1; then
            SERVICE=openrc
        else
            SERVICE=none
        fi
    fi
    case "${SERVICE}" in
        systemd | openrc | none) ;;
        *) fatal "INSTALL_ONEBIN_SERVICE must be systemd, openrc or none, not '${SERVICE}'" ;;
    esac
}

service_running() {
    case "${SERVICE}" in
        systemd) systemctl is-active --quiet "${SYSTEM_NAME}" 2>/dev/null ;;
        openrc) rc-service "${SYSTEM_NAME}" status >/dev/null 2>&1 ;;
        none) [ -x "${SUPERVISOR}" ] && "${SUPERVISOR}" status >/dev/null 2>&1 ;;
    esac
}

write_service() {
    case "${SERVICE}" in
        systemd) write_systemd_unit ;;
        openrc) write_openrc_script ;;
        none) write_supervisor ;;
    esac
}

enable_service() {
    is_true "${INSTALL_ONEBIN_SKIP_ENABLE}" && return 0
    case "${SERVICE}" in
        systemd)
            systemctl daemon-reload
            systemctl enable "${SYSTEM_NAME}" >/dev/null
            ;;
        openrc) rc-update add "${SYSTEM_NAME}" default >/dev/null ;;
        none) info "no init system here: after a reboot, start onebin with ${SUPERVISOR} start" ;;
    esac
}

# Restarts the service when anything it runs changed, starts it when it is stopped, and leaves
# it alone otherwise, so running the installer again with the same settings changes nothing.
start_service() {
    if is_true "${INSTALL_ONEBIN_SKIP_START}"; then
        info "not starting ${SYSTEM_NAME} (INSTALL_ONEBIN_SKIP_START)"
        return 1
    fi
    if service_running && [ "${CHANGED}" = false ]; then
        info "${SYSTEM_NAME} is running and nothing changed"
        return 0
    fi
    action=start
    if service_running; then action=restart; fi
    info "${action}ing ${SYSTEM_NAME}"
    case "${SERVICE}" in
        systemd)
            systemctl daemon-reload
            systemctl "${action}" "${SYSTEM_NAME}"
            ;;
        openrc) rc-service "${SYSTEM_NAME}" "${action}" >/dev/null ;;
        none) "${SUPERVISOR}" "${action}" >/dev/null ;;
    esac
}

wait_ready() {
    set -- --data-dir "${DATA_DIR}" --timeout "${WAIT_SECONDS}"
    if [ "${COMMAND}" = server ]; then set -- "$@" --server; fi
    if [ "${DISABLE_AGENT}" = true ]; then set -- "$@" --disable-agent; fi
    info "waiting up to ${WAIT_SECONDS}s for onebin to be ready"
    if ! "${BIN}" wait-ready "$@"; then
        case "${SERVICE}" in
            systemd) echo "see: journalctl -u ${SYSTEM_NAME}" >&2 ;;
            *) tail -n 20 "${LOG_FILE}" >&2 2>/dev/null || true ;;
        esac
        fatal "onebin did not become ready"
    fi
}

next_steps() {
    if [ "${COMMAND}" = server ]; then
        # The address agents reach this host at: the source address of its default route.
        address=$(ip -4 route get 1.1.1.1 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p')
        [ -n "${address}" ] || address="<this host's address>"
        cat <<EOF

onebin server is ready.
  kubectl:     export KUBECONFIG=${ONEBIN_WRITE_KUBECONFIG:-${KUBECONFIG_FILE}}; kubectl get nodes
  join token:  ${DATA_DIR}/server/token (or: onebin token --data-dir ${DATA_DIR})
  add agents:  curl -sfL ${RELEASES}/latest/download/install.sh |
                 ONEBIN_URL=https://${address}:6443 ONEBIN_TOKEN=<join token> sh -
EOF
    else
        cat <<EOF

onebin agent is ready: it joined ${ONEBIN_URL}.
EOF
    fi
    cat <<EOF
  stop all:    ${KILLALL}
  uninstall:   ${UNINSTALL}
EOF
}

main() {
    setup_settings
    setup_command
    detect_service
    preflight
    preflight_ports
    CHANGED=false
    stage_binary
    check_kernel
    install_binary
    mkdir -p "${DATA_DIR}" "${RUN_DIR}"
    write_config_file
    write_env_file
    write_service
    write_killall
    write_uninstall
    enable_service
    if start_service; then
        wait_ready
        next_steps
    fi
}

main
