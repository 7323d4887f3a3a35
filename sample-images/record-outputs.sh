#!/usr/bin/env bash
# Record qemu-img's outputs beside every sample image, without rebuilding any image (make.sh calls
# this last; it can also run alone). Every image is copied dense into a temporary folder first
# (gzipped ones unpacked): qemu-img map reports host-file holes as "zero", a File has none.
#
#   bash sample-images/record-outputs.sh
#
# Records, for each sample NAME (KIND = info, check, map):
#   qemu-img 7.2 (the qemu-img on PATH; skipped with a warning when it is not 7.2):
#     NAME.KIND.txt.out                   human output (stdout), TZ=UTC
#   qemu-img 10.0 ($QEMU_IMG_10, default /opt/qemu10/usr/bin/qemu-img; skipped when missing):
#     NAME.KIND.10.0.json                 --output=json (stdout), as make.sh records 7.2's NAME.KIND.json
#     NAME.KIND.10.0.txt.out              human output (stdout), TZ=UTC
# Beside each: PREFIX.err when stderr was not empty and PREFIX.rc with the exit code when it was not
# 0 (check: always), PREFIX being NAME.KIND.10.0 for JSON and NAME.KIND[.10.0].txt for human output.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
QEMU_IMG_10=${QEMU_IMG_10:-/opt/qemu10/usr/bin/qemu-img}
SECRET=(--object secret,id=sec0,data=qcowscope)
LUKS_OPTS=(--image-opts driver=qcow2,file.filename=luks.qcow2,encrypt.key-secret=sec0)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$here"
for f in *.qcow2.gz; do [[ -e $f ]] && gunzip -c "$f" >"$tmp/${f%.gz}"; done
for f in *.qcow2 *.data *.raw; do [[ -e $f ]] && cat "$f" >"$tmp/$f"; done
names=()
for f in "$tmp"/*.qcow2; do names+=("$(basename "$f" .qcow2)"); done

# run_to PREFIX EXT KIND BIN ARGS...: stdout -> PREFIX.EXT, stderr -> PREFIX.err, exit code -> PREFIX.rc
run_to() {
  local prefix=$1 ext=$2 kind=$3 rc=0
  shift 3
  (cd "$tmp" && TZ=UTC "$@") >"$here/$prefix.$ext" 2>"$here/$prefix.err" || rc=$?
  [[ -s $here/$prefix.err ]] || rm -f "$here/$prefix.err"
  [[ $ext != json || -s $here/$prefix.$ext ]] || rm -f "$here/$prefix.$ext" # as make.sh: no empty JSON
  if ((rc != 0)) || [[ $kind == check ]]; then echo "$rc" >"$here/$prefix.rc"; else rm -f "$here/$prefix.rc"; fi
}

# record BIN SUFFIX FORMATS...: every sample's info, check and map in each format (json, human)
record() {
  local bin=$1 suffix=$2 name kind fmt out
  shift 2
  for name in "${names[@]}"; do
    for kind in info check map; do
      local args=("$name.qcow2")
      [[ $name == luks && $kind != info ]] && args=("${SECRET[@]}" "${LUKS_OPTS[@]}")
      for fmt in "$@"; do
        if [[ $fmt == json ]]; then
          run_to "$name.$kind$suffix" json "$kind" "$bin" "$kind" --output=json -U "${args[@]}"
        else
          run_to "$name.$kind$suffix.txt" out "$kind" "$bin" "$kind" --output=human -U "${args[@]}"
        fi
      done
    done
  done
}

if qemu-img --version 2>/dev/null | grep -q '^qemu-img version 7\.2\.'; then
  record qemu-img '' human
else
  echo "record-outputs: the qemu-img on PATH is not 7.2; its human outputs were not recorded" >&2
fi
if "$QEMU_IMG_10" --version 2>/dev/null | grep -q '^qemu-img version 10\.0\.'; then
  "$QEMU_IMG_10" --version | sed -n 1p >"$here/reference-version.10.0.txt"
  record "$QEMU_IMG_10" .10.0 json human
else
  echo "record-outputs: no qemu-img 10.0 at $QEMU_IMG_10 (QEMU_IMG_10); its outputs were not recorded" >&2
fi
echo "recorded qemu-img outputs for ${#names[@]} samples in $here"
