#!/bin/bash
# Container start time, onebin vs crun vs runc, from the same already unpacked image.
#
# Each round times create → process running (the command returns once the container's
# process runs): `onebin run -d --pod P` (image resolve, overlay rootfs, spec, shim
# creates and starts it), `crun run --detach` and `runc run --detach` of one bundle whose
# rootfs is onebin's unpacked busybox layer; rounds interleave the three, so a change of load
# on a shared machine hits them alike. Then the same onebin start through the runtime service
# API, as the kubelet calls it (no CLI process per container; bench/container_start.rs).
# Medians of N (default 50), ratios, and the memory of the pod's shim are printed.
#
# Needs root, cargo, crun, runc, python3, and the packages tests/images/build.sh needs.
# Builds and uses the release binaries (cargo build --release; ONEBIN=path and
# API_BENCH=path, the built bench/container_start.rs, override).
#
# Usage: bench/container_start.sh [ROUNDS]
set -euo pipefail

rounds=${1:-50}
repo=$(cd "$(dirname "$0")/.." && pwd)
api_bench=${API_BENCH:-$(cd "$repo" && cargo build --release --bench container_start --message-format=json 2>/dev/null |
    python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "container_start" and m.get("executable"):
        print(m["executable"])')}
# A bench target builds the crate's binaries too, with the dev-dependencies' features (tokio's
# test-util), over target/release/onebin: build the binary on its own again, so it is the
# product's build for these rounds and for later benchmarks. Both builds stay cached.
if [ -z "${API_BENCH:-}" ]; then
    (cd "$repo" && cargo build --release --quiet --bin onebin)
fi
onebin=${ONEBIN:-$repo/target/release/onebin}
for tool in crun runc python3; do
    command -v "$tool" >/dev/null || { echo "$0: $tool is required" >&2; exit 1; }
done

work=$(mktemp -d /tmp/onebin-bench.XXXXXX)
cgroup_parent=/onebin-bench-$$
node=(--data-dir "$work/data" --run-dir "$work/run" --cgroup-parent "$cgroup_parent" --log warn)
bundle=$work/bundle
crun_ns=$work/crun-ns

cleanup() {
    set +e
    for id in $(crun list -q 2>/dev/null | grep '^bench-'); do crun delete -f "$id" >/dev/null 2>&1; done
    [[ -e $crun_ns/mnt ]] && for id in $(nsenter --mount="$crun_ns/mnt" crun list -q 2>/dev/null | grep '^bench-'); do
        nsenter --mount="$crun_ns/mnt" crun --cgroup-manager=disabled delete -f "$id" >/dev/null 2>&1
    done
    for id in $(runc list -q 2>/dev/null | grep '^bench-'); do runc delete -f "$id" >/dev/null 2>&1; done
    for id in $("$onebin" ps "${node[@]}" -a -q 2>/dev/null); do "$onebin" rm "${node[@]}" -f "$id" >/dev/null 2>&1; done
    umount "$bundle/rootfs" 2>/dev/null
    umount "$crun_ns/mnt" "$crun_ns" 2>/dev/null
    for hierarchy in /sys/fs/cgroup/*/; do
        [[ -d $hierarchy${cgroup_parent#/} ]] && find "$hierarchy${cgroup_parent#/}" -depth -type d -exec rmdir {} + 2>/dev/null
    done
    rm -rf "$work"
}
trap cleanup EXIT

"$repo/tests/images/build.sh" "$work/images" >/dev/null
"$onebin" images import "${node[@]}" "$work/images/busybox.tar" >/dev/null

# The pod every onebin container joins, kept alive by one long-running container.
anchor=$("$onebin" run "${node[@]}" -d --name bench busybox -- sleep 3600)
pod=$("$onebin" inspect "${node[@]}" "$anchor" | python3 -c 'import json,sys; print(json.load(sys.stdin)["sandbox_id"])')

# crun and runc run the same unpacked layer, read-only, the same command.
layer=$("$onebin" inspect "${node[@]}" "$anchor" | python3 -c 'import json,sys; print(json.load(sys.stdin)["image_id"])')
diff_id=$(python3 - "$work/data/agent/metadata/images.json" "$layer" <<'EOF'
import json, sys
images = json.load(open(sys.argv[1]))["images"]
print(next(i for i in images if i["id"] == sys.argv[2])["layers"][0]["diff_id"].split(":")[1])
EOF
)
mkdir -p "$bundle/rootfs"
mount --bind -o ro "$work/data/agent/layers/sha256/$diff_id" "$bundle/rootfs"
(cd "$bundle" && crun spec)
python3 - "$bundle/config.json" <<'EOF'
import json, sys
path = sys.argv[1]
spec = json.load(open(path))
spec["process"]["args"] = ["sleep", "3600"]
spec["process"]["terminal"] = False
spec["root"]["readonly"] = True
json.dump(spec, open(path, "w"))
EOF

# Nanoseconds, from bash's own clock: running date(1) would add its exec to every timing.
now_ns() { now=$((${EPOCHREALTIME/./} * 1000)); }

# Debian's crun 1.8 refuses a hybrid cgroup layout (v1 controllers plus a v2 mount with a
# controller, as on these machines). There it runs in a private mount namespace that shows
# only cgroup v2, with its cgroup manager disabled: with cgroupfs there it fails to raise
# RLIMIT_MEMLOCK for its device filter (this sandbox denies it), so crun then makes no cgroup
# at all while onebin and runc make one per v1 controller. The namespace is made once and
# kept in a file, so each round enters it without its setup being timed, and crun's rounds
# interleave with the others'.
crun_in=()
crun_flags=()
if ! crun run --detach --bundle "$bundle" bench-crun-probe </dev/null >/dev/null 2>&1; then
    echo "note: crun cannot use this machine's cgroups; timing it with --cgroup-manager=disabled, so crun makes no cgroup while onebin and runc make one per v1 controller" >&2
    mkdir "$crun_ns"
    mount --bind "$crun_ns" "$crun_ns"
    mount --make-private "$crun_ns"
    touch "$crun_ns/mnt"
    unshare --mount="$crun_ns/mnt" --propagation private mount -t cgroup2 none /sys/fs/cgroup
    crun_in=(nsenter --mount="$crun_ns/mnt")
    crun_flags=(--cgroup-manager=disabled)
fi
crun delete -f bench-crun-probe >/dev/null 2>&1 || true

# One crun round, timed inside crun's namespace: prints nanoseconds.
crun_round() {
    "${crun_in[@]}" bash -c 'start=${EPOCHREALTIME/./}
        crun "${@:3}" run --detach --bundle "$1" "$2" </dev/null >/dev/null
        echo $(((${EPOCHREALTIME/./} - start) * 1000))
        crun "${@:3}" delete -f "$2" >/dev/null' crun-round "$bundle" "$1" "${crun_flags[@]}"
}

declare -a t_onebin t_api t_crun t_runc
for ((i = 0; i < rounds; i++)); do
    now_ns && start=$now
    id=$("$onebin" run "${node[@]}" -d --pod "$pod" --name "c$i" busybox -- sleep 3600)
    now_ns && t_onebin+=($((now - start)))
    "$onebin" rm "${node[@]}" -f "$id" >/dev/null

    t_crun+=($(crun_round "bench-crun-$i"))

    now_ns && start=$now
    runc run --detach --bundle "$bundle" "bench-runc-$i" </dev/null >/dev/null
    now_ns && t_runc+=($((now - start)))
    runc delete -f "bench-runc-$i" >/dev/null
done
# The runtime service's rounds run in one process, warm like the kubelet's (a process per
# round would time its first-call costs every round), in a loop of their own.
mapfile -t t_api < <("$api_bench" "$work/data" "$work/run" "$cgroup_parent" "$pod" "$rounds" "$onebin")

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
m_onebin=$(median "${t_onebin[@]}")
m_api=$(median "${t_api[@]}")
m_crun=$(median "${t_crun[@]}")
m_runc=$(median "${t_runc[@]}")
# The shim drops the pages it used for requests once it has idled for half a second.
sleep 1
shim_pid=$(cat "$work/run/sandboxes/$pod/shim.pid")
shim_rss=$(awk '/^VmRSS/ {print $2}' "/proc/$shim_pid/status")
shim_private=$(awk '/^Private_(Clean|Dirty)/ {sum += $2} END {print sum}' "/proc/$shim_pid/smaps_rollup")
shim_anon=$(awk '/^RssAnon/ {print $2}' "/proc/$shim_pid/status")
load=$(cut -d' ' -f1-3 /proc/loadavg)

awk -v o="$m_onebin" -v a="$m_api" -v c="$m_crun" -v r="$m_runc" -v n="$rounds" -v rss="$shim_rss" \
    -v priv="$shim_private" -v anon="$shim_anon" -v bin="$onebin" -v load="$load" 'BEGIN {
    printf "container start (create -> process running), median of %d, %s, load average %s\n", n, bin, load
    printf "  onebin run -d --pod (CLI)     %8.2f ms\n", o / 1e6
    printf "  onebin runtime service (API)  %8.2f ms\n", a / 1e6
    printf "  crun run --detach             %8.2f ms\n", c / 1e6
    printf "  runc run --detach             %8.2f ms\n", r / 1e6
    printf "  onebin CLI / crun             %8.2f x   (goal <= 1.0)\n", o / c
    printf "  onebin API / crun             %8.2f x   (goal <= 1.0)\n", a / c
    printf "  onebin CLI / runc             %8.2f x   (goal <= 0.5)\n", o / r
    printf "  onebin API / runc             %8.2f x   (goal <= 0.5)\n", a / r
    printf "shim memory: RSS %.2f MB (goal <= 2), private %.2f MB, anonymous %.2f MB\n", rss / 1024, priv / 1024, anon / 1024
}'
