#!/usr/bin/env bash
# Takes a fresh machine to a working Mistrive: npm packages, build, and the commands on PATH.
# Idempotent: run it again after pulling changes.
#   ./install.sh          install Mistrive
#   ./install.sh --dev    also install what the tests and benchmarks need from Debian
set -euo pipefail
cd "$(dirname "$0")"

dev=false
for arg in "$@"; do
  case "$arg" in
    --dev) dev=true ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $arg (try --help)" >&2; exit 2 ;;
  esac
done

say() { printf '==> %s\n' "$*"; }

if ! command -v node >/dev/null 2>&1; then
  echo "install.sh: Node.js 20.19 or newer is required (https://nodejs.org)" >&2
  exit 1
fi
if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'; then
  echo "install.sh: Node.js 20.19 or newer is required; this is $(node --version)" >&2
  exit 1
fi

if $dev; then
  # Real clients and the reference registry the tests and benchmarks run against; a Secret Service
  # (gnome-keyring, run under dbus-run-session) for the keychain tests; hyperfine for the helper benchmark;
  # Chromium for the browser sign-in and console tests; podman and buildah for the client tests; tmux
  # for the tests that type at a terminal; PostgreSQL for the metadata store's tests and `npm run test:postgres`;
  # Ceph (mon, osd, RADOS Gateway) as the S3 server of the S3 blob store tests.
  packages=(skopeo podman buildah docker-registry wrk umoci curl ca-certificates gnome-keyring libsecret-tools dbus-x11 hyperfine chromium tmux postgresql ceph-mon ceph-osd radosgw ceph-common uuid-runtime python3)
  missing=()
  for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
  done
  # The Docker engine and CLI, for the `auth docker-login` and push/pull tests: Debian's docker.io.
  { command -v docker && command -v dockerd; } >/dev/null 2>&1 || missing+=(docker.io)
  if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    say "installing from Debian: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

# The versions in package-lock.json. `npm install` rather than `npm ci`: npm may leave the platform
# builds of optional native packages (Biome's) out of the lock, and `npm ci` then refuses to install.
# better-sqlite3 compiles from source where no prebuilt binary can be fetched (about two minutes).
say "installing npm packages"
npm install --no-audit --no-fund --loglevel=error

say "building"
npm run --silent build >/dev/null

# Put the commands on PATH: the global bin directory when writable, else ~/.local/bin.
bin_dir="$(npm prefix -g)/bin"
if [ ! -w "$bin_dir" ]; then
  bin_dir="$HOME/.local/bin"
  mkdir -p "$bin_dir"
fi
ln -sf "$PWD/bin/run.js" "$bin_dir/mistrive"
# Docker, podman, skopeo and buildah find the credential helper on PATH by this name.
ln -sf "$PWD/bin/docker-credential-mistrive.js" "$bin_dir/docker-credential-mistrive"
say "mistrive and docker-credential-mistrive are installed in $bin_dir"
case ":$PATH:" in
  *":$bin_dir:"*) ;;
  *) say "add $bin_dir to your PATH: export PATH=\"$bin_dir:\$PATH\"" ;;
esac
