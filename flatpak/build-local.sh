#!/bin/bash
# Builds flatpak/io.github.natter.Natter.json in flatpak-builder's sandbox
# without Flathub, installs the bundle in a private installation and starts
# Natter from it under Xvfb. See flatpak/README.md.
#
#   flatpak/build-local.sh [--head] [--fresh-runtime] [WORKDIR]
#
#   --head           build the committed state (a clone of HEAD) instead of
#                    the working tree
#   --fresh-runtime  assemble and export the stand-in runtime even when the
#                    one in WORKDIR was made from the same packages
#   WORKDIR          where everything goes (default /tmp/natter-flatpak);
#                    nothing outside it is written, except packages installed
#                    with apt-get when a tool is missing
#
# Exits 0 when Natter was built, installed and showed its main window.
set -euo pipefail

APP_ID=io.github.natter.Natter
# Stand-in names: the only thing swapped in the derived manifest.
RT_PLATFORM=io.github.natter.StandIn.Platform
RT_SDK=io.github.natter.StandIn.Sdk
RT_BRANCH=debian12
REMOTE=natter-standin
ALIVE_SECONDS=${NATTER_FLATPAK_ALIVE_SECONDS:-8}

from_head=0
fresh_runtime=0
while [ $# -gt 0 ]; do
  case "$1" in
    --head) from_head=1; shift ;;
    --fresh-runtime) fresh_runtime=1; shift ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "build-local.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
WORK=$(realpath -m "${1:-/tmp/natter-flatpak}")
REPO_DIR=$(cd "$(dirname "$(realpath "$0")")/.." && pwd)
MANIFEST=$REPO_DIR/flatpak/$APP_ID.json

started=$(date +%s)
step () { printf '\n==> [%4ds] %s\n' "$(( $(date +%s) - started ))" "$*"; }
fail () { printf '\nbuild-local.sh: FAILED: %s\n' "$*" >&2; exit 1; }

[ -f "$MANIFEST" ] || fail "no manifest at $MANIFEST"

# --- tools -----------------------------------------------------------------
# The stand-in SDK is this machine's /usr, so what the build needs inside the
# sandbox must be installed here too: the project's own dependencies
# (.ci/install-deps), cmake for md4c, and appstream-compose (from
# appstream-util), which flatpak-builder 1.2 runs on the metainfo.
step "Checking tools"
need_pkgs=()
command -v flatpak >/dev/null          || need_pkgs+=(flatpak)
command -v flatpak-builder >/dev/null  || need_pkgs+=(flatpak-builder)
command -v eu-strip >/dev/null         || need_pkgs+=(elfutils)
command -v Xvfb >/dev/null             || need_pkgs+=(xvfb)
command -v xwininfo >/dev/null         || need_pkgs+=(x11-utils)
command -v dbus-daemon >/dev/null      || need_pkgs+=(dbus)
command -v ostree >/dev/null           || need_pkgs+=(ostree)
command -v git >/dev/null              || need_pkgs+=(git)
command -v jq >/dev/null               || need_pkgs+=(jq)
command -v cmake >/dev/null            || need_pkgs+=(cmake)
command -v appstream-compose >/dev/null || need_pkgs+=(appstream-util)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || fail "missing packages: ${need_pkgs[*]} (install them as root, or run this as root)"
  echo "installing ${need_pkgs[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need_pkgs[@]}" >/dev/null \
    || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive \
         apt-get install -y --no-install-recommends "${need_pkgs[@]}" >/dev/null; } \
    || fail "could not install ${need_pkgs[*]}"
fi
for pc in gtk4 libadwaita-1 libsoup-3.0 json-glib-1.0 libsecret-1 sqlite3; do
  pkg-config --exists "$pc" || fail "pkg-config cannot find $pc: run .ci/install-deps first (the stand-in SDK is this machine's /usr)"
done

# Hardlinking files of /usr that one does not own is refused to anyone but
# root where fs.protected_hardlinks is on (Debian's default).
if [ "$(id -u)" != 0 ] && [ "$(cat /proc/sys/fs/protected_hardlinks 2>/dev/null)" = 1 ]; then
  fail "run this as root: the stand-in runtime hardlinks /usr, which fs.protected_hardlinks refuses to other users"
fi

mkdir -p "$WORK"
# A private HOME and installation: the user's own flatpaks, remotes and the
# system installation are never touched.
export HOME=$WORK/home
export FLATPAK_USER_DIR=$WORK/home/.local/share/flatpak
export FLATPAK_SYSTEM_DIR=$WORK/system-installation
export FLATPAK_CONFIG_DIR=$WORK/flatpak-config
export XDG_DATA_HOME=$HOME/.local/share XDG_CONFIG_HOME=$HOME/.config XDG_CACHE_HOME=$HOME/.cache
export XDG_RUNTIME_DIR=$WORK/xdg-runtime
mkdir -p "$HOME" "$FLATPAK_USER_DIR" "$FLATPAK_SYSTEM_DIR" "$FLATPAK_CONFIG_DIR" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
unset DBUS_SESSION_BUS_ADDRESS WAYLAND_DISPLAY DISPLAY
ARCH=$(flatpak --default-arch)

# --- stand-in runtime and SDK ----------------------------------------------
# Both are this machine's /usr, hardlinked (cp -al), never copied, less what
# a GNOME runtime does not have. Files in these trees share their inodes with
# /usr: nothing here may ever write into a file of them, only unlink names
# or add new files.
STANDIN=$WORK/standin
USR_PRUNE=(
  local src lib32 libx32 lib/debug
  lib/google-cloud-sdk lib/jvm lib/llvm-* lib/postgresql lib/node_modules
  lib/x86_64-linux-gnu/fpc lib/x86_64-linux-gnu/libLLVM-14.so* lib/x86_64-linux-gnu/libclang-14.so*
  share/doc share/man share/info share/gtk-doc share/fpcsrc share/package-lists
  share/vim share/postgresql share/java share/maven-repo
)
# What is only for building: the Platform goes without it.
SDK_ONLY=(include lib/gcc libexec/gcc lib/x86_64-linux-gnu/pkgconfig share/pkgconfig share/aclocal share/gir-1.0)
# The GNOME runtime has no md4c: neither has the stand-in, so the app can
# only find the md4c module's copy in /app.
NOT_IN_GNOME_RUNTIME=(libmd4c0 libmd4c-dev libmd4c-html0 libmd4c-html0-dev)
# /etc pieces the sandbox needs (alternatives: cc, c++, … are symlinks there).
ETC_KEEP=(alternatives fonts ld.so.conf.d ssl ca-certificates ca-certificates.conf mime.types locale.alias)

# Hardlinks SRC's tree into DST, leaving out the paths (globs, relative to
# SRC) given after them: what is left out is never linked in the first place.
link_pruned () {  # SRC DST PATTERN…
  local src=$1 dst=$2 entry name pat sub skip link=()
  shift 2
  mkdir -p "$dst"
  for entry in "$src"/* "$src"/.[!.]*; do
    [ -e "$entry" ] || [ -L "$entry" ] || continue
    name=${entry##*/} skip=0 sub=()
    for pat in "$@"; do
      # shellcheck disable=SC2053 # the patterns are globs
      if [[ $name == ${pat%%/*} ]]; then
        if [[ $pat == */* ]]; then sub+=("${pat#*/}"); else skip=1; fi
      fi
    done
    if [ $skip = 1 ]; then continue
    elif [ ${#sub[@]} -gt 0 ] && [ -d "$entry" ] && [ ! -L "$entry" ]; then
      link_pruned "$entry" "$dst/$name" "${sub[@]}"
    else
      link+=("$entry")
    fi
  done
  [ ${#link[@]} = 0 ] || cp -al "${link[@]}" "$dst/"
}

assemble_tree () {  # $1 = dir, $2 = name; makes $1/usr and $1/metadata
  local dir=$1 name=$2 p f
  mkdir -p "$dir"
  link_pruned /usr "$dir/usr" "${USR_PRUNE[@]}"
  for f in $(dpkg -L "${NOT_IN_GNOME_RUNTIME[@]}" 2>/dev/null); do
    case "$f" in
      /usr/*) if [ -L "$dir$f" ] || [ ! -d "$dir$f" ]; then rm -f -- "$dir$f"; fi ;;
    esac
  done
  mkdir -p "$dir/usr/etc"
  for p in "${ETC_KEEP[@]}"; do
    [ -e "/etc/$p" ] && cp -al "/etc/$p" "$dir/usr/etc/"
  done
  # flatpak builds the sandbox's ld.so.cache from the runtime's ld.so.conf,
  # which must name /app/lib and flatpak's own directories, as the
  # Freedesktop runtime's does; Debian's names neither. A new file, not an
  # edit of the hardlinked one.
  rm -f "$dir/usr/etc/ld.so.conf"
  cat >"$dir/usr/etc/ld.so.conf" <<'EOF'
include /run/flatpak/ld.so.conf.d/app-*.conf
include /app/etc/ld.so.conf
/app/lib
include /etc/ld.so.conf.d/*.conf
include /run/flatpak/ld.so.conf.d/runtime-*.conf
EOF
  # It runs `ldconfig`, looked up in /usr/bin; Debian keeps it in /usr/sbin.
  [ -e "$dir/usr/bin/ldconfig" ] || ln -s ../sbin/ldconfig "$dir/usr/bin/ldconfig"
  cat >"$dir/metadata" <<EOF
[Runtime]
name=$name
runtime=$RT_PLATFORM/$ARCH/$RT_BRANCH
sdk=$RT_SDK/$ARCH/$RT_BRANCH
EOF
}

# Reuse an exported runtime made from the same packages by the same recipe.
stamp=$( { cat /var/lib/dpkg/status; declare -f link_pruned assemble_tree;
           printf '%s\n' "${USR_PRUNE[@]}" "${SDK_ONLY[@]}" "${ETC_KEEP[@]}" "$RT_BRANCH"; } | sha256sum | cut -c1-16)
if [ $fresh_runtime = 0 ] && [ -f "$WORK/runtime.stamp" ] && [ "$(cat "$WORK/runtime.stamp")" = "$stamp" ] \
   && [ -d "$WORK/repo" ] && flatpak info --user "$RT_SDK//$RT_BRANCH" >/dev/null 2>&1 \
   && flatpak info --user "$RT_PLATFORM//$RT_BRANCH" >/dev/null 2>&1; then
  step "Stand-in runtime and SDK already exported and installed (stamp $stamp), reusing them"
else
  rm -f "$WORK/runtime.stamp"
  if [ -e "$WORK/repo" ] || [ -e "$STANDIN" ]; then
    step "Removing the previous stand-in runtime"
    flatpak uninstall --user -y --all >/dev/null 2>&1 || true
    flatpak remote-delete --user --force "$REMOTE" >/dev/null 2>&1 || true
    rm -rf "$STANDIN" "$WORK/repo"
  fi
  step "Assembling the stand-in SDK from /usr (hardlinks, pruned)"
  assemble_tree "$STANDIN/sdk" "$RT_SDK"
  step "Assembling the stand-in Platform (the SDK without compilers and headers)"
  mkdir -p "$STANDIN/platform"
  link_pruned "$STANDIN/sdk/usr" "$STANDIN/platform/usr" "${SDK_ONLY[@]}"
  find "$STANDIN/platform/usr/lib" -name '*.a' -delete
  sed "s/^name=.*/name=$RT_PLATFORM/" "$STANDIN/sdk/metadata" >"$STANDIN/platform/metadata"
  echo "SDK $(du -sh "$STANDIN/sdk/usr" | cut -f1), Platform $(du -sh "$STANDIN/platform/usr" | cut -f1) (hardlinked: no new disk space)"

  # An uncompressed (bare-user-only) repository: build-export would make a
  # compressed one by default, which takes minutes longer to fill, and the
  # installation then takes its objects as hardlinks, not copies.
  step "Exporting them into a local repository (the slow part: ~2 GB of objects)"
  ostree init --mode=bare-user-only --repo="$WORK/repo"
  flatpak build-export --disable-fsync --runtime --files=usr --no-update-summary \
    "$WORK/repo" "$STANDIN/sdk" "$RT_BRANCH" >/dev/null
  flatpak build-export --disable-fsync --runtime --files=usr \
    "$WORK/repo" "$STANDIN/platform" "$RT_BRANCH" >/dev/null
  # The trees are in the repository now; hardlinks to /usr are best not left lying around.
  rm -rf "$STANDIN"

  step "Installing them from a --no-gpg-verify file remote"
  flatpak remote-add --user --no-gpg-verify --if-not-exists "$REMOTE" "file://$WORK/repo"
  flatpak install --user -y --noninteractive "$REMOTE" \
    "runtime/$RT_SDK/$ARCH/$RT_BRANCH" "runtime/$RT_PLATFORM/$ARCH/$RT_BRANCH" >/dev/null
  echo "$stamp" >"$WORK/runtime.stamp"
fi
flatpak list --user --runtime --columns=ref

# --- sources ---------------------------------------------------------------
step "Taking the app's source from $REPO_DIR ($([ $from_head = 1 ] && echo "HEAD, committed state" || echo "working tree"))"
SRC=$WORK/src
rm -rf "$SRC"
if [ $from_head = 1 ]; then
  git clone -q "$REPO_DIR" "$SRC"
  echo "HEAD is $(git -C "$SRC" log -1 --format='%h %s' | cut -c1-100)"
else
  # Tracked and untracked files, not ignored ones (no build directories).
  mkdir -p "$SRC"
  (cd "$REPO_DIR" && git ls-files -z --cached --others --exclude-standard \
     | tar --null -T - --ignore-failed-read -cf - 2>/dev/null) | tar -xf - -C "$SRC"
fi
mkdir -p "$SRC/flatpak"

# md4c comes from its release archive, checked against the manifest's sha256.
# Without a network, flatpak-builder is given a local copy through
# --extra-sources (laid out as DIR/downloads/SHA256/NAME, as in its own
# cache), so the manifest's md4c module stays exactly as it is.
md4c_url=$(jq -r '.modules[] | select(.name=="md4c") | .sources[0].url' "$MANIFEST")
md4c_sha=$(jq -r '.modules[] | select(.name=="md4c") | .sources[0].sha256' "$MANIFEST")
md4c_dir=$WORK/extra-sources/downloads/$md4c_sha
md4c_file=$md4c_dir/$(basename "$md4c_url")
step "Getting md4c's release archive (sha256 $md4c_sha)"
mkdir -p "$md4c_dir"
if [ -f "$md4c_file" ] && echo "$md4c_sha  $md4c_file" | sha256sum -c --quiet 2>/dev/null; then
  echo "cached in $md4c_file"
elif curl -fsSL --max-time 60 -o "$md4c_file.part" "$md4c_url" 2>/dev/null; then
  mv "$md4c_file.part" "$md4c_file"; echo "downloaded $md4c_url"
else
  rm -f "$md4c_file.part"
  # Debian's orig tarball of md4c 0.4.8 is GitHub's release archive, byte
  # for byte. Fetch it with apt from this machine's own Debian sources, read
  # as deb-src in a private apt state (the system's apt setup is untouched).
  echo "$md4c_url cannot be fetched; taking Debian's md4c_0.4.8.orig.tar.gz instead"
  apt_dir=$WORK/apt-src
  rm -rf "$apt_dir"; mkdir -p "$apt_dir/lists/partial" "$apt_dir/sources.list.d"
  python3 - "$apt_dir/sources.list.d" <<'PY'
import glob, os, re, sys
out = sys.argv[1]
n = 0
for path in glob.glob('/etc/apt/sources.list.d/*.sources'):
    for stanza in open(path).read().split('\n\n'):
        if 'debian-archive-keyring' not in stanza and not re.search(r'(?m)^URIs:.*/debian/?\s*$', stanza):
            continue
        stanza = re.sub(r'(?m)^Types:.*$', 'Types: deb-src', stanza)
        n += 1
        open(os.path.join(out, f'src{n}.sources'), 'w').write(stanza.strip() + '\n')
lines = []
for path in ['/etc/apt/sources.list'] + glob.glob('/etc/apt/sources.list.d/*.list'):
    if os.path.exists(path):
        for line in open(path):
            if re.match(r'\s*deb\s.*/debian/?\s', line):
                lines.append(re.sub(r'^\s*deb\s', 'deb-src ', line))
if lines:
    open(os.path.join(out, 'src.list'), 'w').writelines(lines)
PY
  apt_opts=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$apt_dir/sources.list.d"
            -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o "APT::Sandbox::User=root")
  apt-get "${apt_opts[@]}" update >"$apt_dir/update.log" 2>&1 || true
  orig_uri=$(apt-get "${apt_opts[@]}" source --print-uris md4c 2>/dev/null \
             | sed -n "s/^'\([^']*md4c_0.4.8.orig.tar.gz\)'.*/\1/p" | head -n1)
  [ -n "$orig_uri" ] || fail "cannot fetch $md4c_url, and apt knows no md4c 0.4.8 source package (see $apt_dir/update.log); put the archive at $md4c_file and run again"
  /usr/lib/apt/apt-helper -o "APT::Sandbox::User=root" download-file "$orig_uri" "$md4c_file" "SHA256:$md4c_sha" >/dev/null \
    || fail "could not download $orig_uri"
  echo "fetched $orig_uri"
fi
echo "$md4c_sha  $md4c_file" | sha256sum -c --quiet || fail "md4c archive does not match the manifest's sha256"

# --- build -----------------------------------------------------------------
# The same manifest with only the runtime swapped. It is written next to the
# source copy's flatpak/ directory, so the app module's "path": ".." means
# the same as in the real manifest.
LOCAL_MANIFEST=$SRC/flatpak/$APP_ID.standin.json
jq --arg rt "$RT_PLATFORM" --arg sdk "$RT_SDK" --arg ver "$RT_BRANCH" \
   '.runtime = $rt | .sdk = $sdk | ."runtime-version" = $ver' "$MANIFEST" >"$LOCAL_MANIFEST"
step "Derived manifest: only runtime, sdk and runtime-version differ"
diff <(jq -S . "$MANIFEST") <(jq -S . "$LOCAL_MANIFEST") || true

step "Building with flatpak-builder in its sandbox (md4c, then Natter)"
rm -rf "$WORK/app-repo"
(cd "$WORK" && flatpak-builder --disable-rofiles-fuse --disable-cache --force-clean --disable-updates \
   --state-dir="$WORK/builder-state" --extra-sources="$WORK/extra-sources" \
   --repo="$WORK/app-repo" --default-branch=local \
   "$WORK/app-build" "$LOCAL_MANIFEST") >"$WORK/flatpak-builder.log" 2>&1 \
  || { tail -n 40 "$WORK/flatpak-builder.log" >&2
       fail "flatpak-builder failed (whole log: $WORK/flatpak-builder.log)$([ $from_head = 1 ] || echo "; if the working tree is half-edited, --head builds the committed state")"; }
grep -E '^(Starting build|Running:|Committing stage|Exporting)' "$WORK/flatpak-builder.log" | cut -c1-140 || true

step "Making a bundle and installing it for the (private) user"
flatpak build-bundle "$WORK/app-repo" "$WORK/$APP_ID.flatpak" "$APP_ID" local
ls -l "$WORK/$APP_ID.flatpak"
flatpak install --user -y --noninteractive --reinstall --bundle "$WORK/$APP_ID.flatpak" >/dev/null \
  || fail "installing the bundle failed"
# flatpak-builder puts the translations into the app's .Locale extension,
# which Flathub installs with the app; a bundle holds one ref, so it is a
# bundle of its own here.
if ostree --repo="$WORK/app-repo" refs | grep -q "^runtime/$APP_ID.Locale/"; then
  flatpak build-bundle --runtime "$WORK/app-repo" "$WORK/$APP_ID.Locale.flatpak" "$APP_ID.Locale" local
  flatpak install --user -y --noninteractive --reinstall --bundle "$WORK/$APP_ID.Locale.flatpak" >/dev/null \
    || fail "installing the translations' bundle failed"
fi
flatpak list --user --all --columns=ref,origin | grep "$APP_ID"

# --- checks on the installed app --------------------------------------------
step "Checking the installed app's permissions and libraries"
meta=$(flatpak info --user --show-metadata "$APP_ID//local")
printf '%s\n' "$meta" | sed -n '/^\[Context\]/,/^$/p'
printf '%s\n' "$meta" | grep -q '^filesystems=' && fail "the app has filesystem access"
printf '%s\n' "$meta" | grep -q 'org.freedesktop.secrets' && fail "the app talks to the Secret Service directly"
flatpak run --user --command=sh "$APP_ID//local" -c 'test -x /app/bin/natter && ldd /app/bin/natter' >"$WORK/ldd.txt" 2>&1 \
  || { cat "$WORK/ldd.txt" >&2; fail "cannot run ldd on /app/bin/natter in the sandbox"; }
grep -E 'md4c|adwaita|gtk-4' "$WORK/ldd.txt" || true
grep -q 'libmd4c.so.*=> /app/lib/' "$WORK/ldd.txt" || fail "natter does not use the md4c module built into /app"
grep -q 'not found' "$WORK/ldd.txt" && fail "natter has libraries missing in the sandbox"

# Every language of po/LINGUAS is found in the sandbox: one string each
# ("Welcome to Natter" where it has one), looked up as Natter does it.
python3 - "$SRC/po" >"$WORK/translations.tsv" <<'PY'
import os, re, sys
po = sys.argv[1]
linguas = os.path.join(po, 'LINGUAS')
langs = open(linguas).read().split() if os.path.exists(linguas) else []
for lang in langs:
    path = os.path.join(po, lang + '.po')
    if lang.startswith('#') or not os.path.exists(path):
        continue
    pairs = []
    for block in open(path, encoding='utf-8').read().split('\n\n'):
        if 'msgctxt' in block or 'msgid_plural' in block or '#, fuzzy' in block:
            continue
        m = re.search(r'^msgid "([^"\\%]+)"\nmsgstr "([^"\\%]+)"$', block, re.M)
        if m and m.group(1) != m.group(2):
            pairs.append(m.groups())
    pairs.sort(key=lambda p: p[0] != 'Welcome to Natter')
    if pairs:
        print(lang, *pairs[0], sep='\t')
PY
if [ -s "$WORK/translations.tsv" ]; then
  flatpak run --user --command=sh "$APP_ID//local" -c '
    tab=$(printf "\t"); bad=0
    while IFS=$tab read -r lang id str; do
      got=$(LANGUAGE=$lang LANG=C.UTF-8 TEXTDOMAINDIR=/app/share/locale gettext -d natter "$id")
      if [ "$got" = "$str" ]; then echo "  $lang: $id -> $got"; else echo "  $lang: $id is not translated in the sandbox"; bad=1; fi
    done
    exit $bad' <"$WORK/translations.tsv" || fail "translations are missing in the sandbox"
fi

# --- start it under Xvfb ---------------------------------------------------
step "Starting Natter from the installation under Xvfb (it must show its window and stay up ${ALIVE_SECONDS}s)"
run_dir=$(mktemp -d "$WORK/run.XXXXXX")
xvfb='' bus='' app=''
cleanup () {
  [ -n "$app" ] && { flatpak kill "$APP_ID" 2>/dev/null; kill "$app" 2>/dev/null; wait "$app" 2>/dev/null; } || true
  [ -n "$bus" ] && kill "$bus" 2>/dev/null || true
  if [ -n "$xvfb" ]; then
    kill "$xvfb" 2>/dev/null || true
    while kill -0 "$xvfb" 2>/dev/null; do sleep 0.05; done
  fi
}
trap cleanup EXIT
Xvfb -displayfd 3 -screen 0 1280x1024x24 -nolisten tcp -noreset 3>"$run_dir/display" 2>"$run_dir/xvfb.log" &
xvfb=$!
for _ in $(seq 200); do [ -s "$run_dir/display" ] && break; sleep 0.05; done
[ -s "$run_dir/display" ] || fail "Xvfb did not start"
DISPLAY=":$(cat "$run_dir/display")"
export DISPLAY
for _ in $(seq 200); do xwininfo -root >/dev/null 2>&1 && break; sleep 0.05; done
dbus-daemon --session --fork --nopidfile --print-address=4 --print-pid=5 4>"$run_dir/bus" 5>"$run_dir/bus.pid"
bus=$(cat "$run_dir/bus.pid")
DBUS_SESSION_BUS_ADDRESS=$(cat "$run_dir/bus")
export DBUS_SESSION_BUS_ADDRESS
export GDK_BACKEND=x11 GSK_RENDERER=cairo

flatpak run --user "$APP_ID//local" >"$WORK/natter.log" 2>&1 &
app=$!
# The main window: titled "Natter", viewable, and of a real size (GTK also
# makes a 1x1 leader window with the same name, never shown).
main_window () {
  local id
  for id in $(xwininfo -root -tree 2>/dev/null | sed -n 's/^ *\(0x[0-9a-f]*\) "Natter": .*/\1/p'); do
    xwininfo -id "$id" 2>/dev/null | awk -v id="$id" '
      /Width:/ { w = $2 } /Height:/ { h = $2 } /Map State: IsViewable/ { v = 1 }
      END { if (v && w >= 300 && h >= 200) { printf "%s %dx%d\n", id, w, h; exit 0 } exit 1 }' && return 0
  done
  return 1
}
found=
for _ in $(seq 120); do
  kill -0 "$app" 2>/dev/null || { cat "$WORK/natter.log" >&2; fail "Natter exited before showing a window"; }
  found=$(main_window) && break
  sleep 0.5
done
[ -n "$found" ] || { xwininfo -root -tree >&2; cat "$WORK/natter.log" >&2; fail "no viewable window named Natter appeared in 60s"; }
echo "main window \"Natter\" is viewable: $found"
sleep "$ALIVE_SECONDS"
kill -0 "$app" 2>/dev/null || { cat "$WORK/natter.log" >&2; fail "Natter died after showing its window"; }
main_window >/dev/null || fail "Natter's main window went away"
if command -v import >/dev/null && import -version 2>/dev/null | grep -q ImageMagick; then
  import -window root "$WORK/screenshot.png" 2>/dev/null && echo "screenshot: $WORK/screenshot.png"
fi
echo "still running after ${ALIVE_SECONDS}s; its output:"
sed 's/^/  | /' "$WORK/natter.log" | head -n 20
cleanup; app='' bus='' xvfb=''
trap - EXIT

step "PASS: Natter built in flatpak-builder's sandbox, installed from its bundle and showed its main window"
