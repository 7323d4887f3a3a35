#!/usr/bin/env bash
# Rebuild every qcowscope sample image and its qemu-img reference outputs.
#
#   bash sample-images/make.sh        (any cwd; deletes and rebuilds everything)
#
# Needs qemu-img / qemu-io (Debian qemu-utils 7.2), node >= 18 (for craft.mjs), gzip; qemu-img 10.0
# for its outputs (record-outputs.sh, which records every output but 7.2's JSON).
# Images are built with fixed patterns, so apart from snapshot dates, LUKS keys/salts
# and "actual-size" the outputs are reproducible.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"
ulimit -c 0 # qemu-io "abort" must not leave core files behind

# ---------------------------------------------------------------- helpers
SECRET=(--object secret,id=sec0,data=qcowscope)
BIG=$((1024 * 1024)) # images above this are stored gzipped (raw file is git-ignored)
SAMPLES=()           # every recorded image, in order

mk() { qemu-img create -q -f qcow2 "$@"; }           # mk NAME.qcow2 SIZE [-o ...]
io() { qemu-io "$@" >/dev/null; }                     # io [opts] IMG -c ... -c ...
# Run qemu-io and end it with "abort": no clean close, so in-use flags / dirty bits stay.
# (bash -c keeps the shell's "Aborted" notice off the terminal; 134 = killed by SIGABRT)
io_abort() {
  local rc=0
  bash -c 'qemu-io "$@" -c abort >/dev/null' _ "$@" 2>/dev/null || rc=$?
  ((rc == 134)) || { echo "io_abort $*: qemu-io exited $rc, expected abort" >&2; return 1; }
}

# run_to PREFIX CMD... : stdout -> PREFIX.json, stderr -> PREFIX.err (only if non-empty),
# exit code -> echoed. Empty stdout leaves no .json.
run_to() {
  local prefix=$1 rc=0
  shift
  "$@" >"$prefix.json" 2>"$prefix.err" || rc=$?
  [[ -s $prefix.err ]] || rm -f "$prefix.err"
  [[ -s $prefix.json ]] || rm -f "$prefix.json"
  echo "$rc"
}

# record NAME [ARGS...]
#   NAME.info.json  qemu-img info  --output=json -U NAME.qcow2   (never with the key)
#   NAME.check.json qemu-img check --output=json -U ARGS, NAME.check.rc always,
#                   NAME.check.err when check wrote anything to stderr
#   NAME.map.json   qemu-img map   --output=json -U ARGS
#   ARGS default to NAME.qcow2 (give --object/--image-opts for encrypted images).
#   info/map that fail leave NAME.info.err + NAME.info.rc (resp. map) instead of json.
record() {
  local name=$1 rc
  shift
  local args=("$@")
  ((${#args[@]})) || args=("$name.qcow2")
  rc=$(run_to "$name.info" qemu-img info --output=json -U "$name.qcow2")
  ((rc == 0)) || echo "$rc" >"$name.info.rc"
  rc=$(run_to "$name.check" qemu-img check --output=json -U "${args[@]}")
  echo "$rc" >"$name.check.rc"
  rc=$(run_to "$name.map" qemu-img map --output=json -U "${args[@]}")
  ((rc == 0)) || echo "$rc" >"$name.map.rc"
  SAMPLES+=("$name")
}

# LUKS key-slot creation benchmarks PBKDF2 with thread CPU time; on coarse-clock VMs it
# sometimes fails with "Unable to get accurate CPU usage". Retry a few times.
retry() {
  local i
  for i in 1 2 3 4 5 6 7 8 9 10; do "$@" 2>/dev/null && return 0; done
  "$@"
}

# ---------------------------------------------------------------- clean
rm -f -- *.qcow2 *.qcow2.gz *.data *.raw *.json *.out *.err *.rc reference-version*.txt
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
seq 1 40000 >"$tmp/text" # deterministic, moderately compressible "file content"

qemu-img --version | sed -n 1p >reference-version.txt

# ---------------------------------------------------------------- plain images
# empty: freshly created, nothing written
mk empty.qcow2 16M

# v3 (compat=1.1), 64 KiB clusters, refcount_bits 16 (all defaults), scattered writes
mk v3.qcow2 16M -o compat=1.1
io v3.qcow2 -c "write -P 0x11 0 64k" -c "write -P 0x22 1M 4k" -c "write -P 0x33 5M 192k" \
  -c "write -P 0x44 3M 64k" -c "write -P 0x55 15M 128k"

# v2 (compat=0.10) with one internal snapshot
mk v2.qcow2 16M -o compat=0.10
io v2.qcow2 -c "write -P 0x21 0 128k" -c "write -P 0x22 7M 64k"
qemu-img snapshot -c first v2.qcow2
io v2.qcow2 -c "write -P 0x23 64k 64k" -c "write -P 0x24 12M 4k"

# cluster sizes (64 KiB is v3 above)
mk cluster-512.qcow2 4M -o cluster_size=512
io cluster-512.qcow2 -c "write -P 0x51 0 1536" -c "write -P 0x52 100k 4k" \
  -c "write -P 0x53 1M 512" -c "write -P 0x54 3M 64k" -c "write -P 0x55 4190208 4096"
mk cluster-4k.qcow2 8M -o cluster_size=4k
io cluster-4k.qcow2 -c "write -P 0x41 0 12k" -c "write -P 0x42 2M 4k" \
  -c "write -P 0x43 2052k 8k" -c "write -P 0x44 5M 256k" -c "write -P 0x45 8188k 4k"
mk cluster-2m.qcow2 8M -o cluster_size=2M
io cluster-2m.qcow2 -c "write -P 0x2a 0 4k" -c "write -P 0x2b 6M 64k"

# refcount widths (16 is the default, see v3)
mk refcount-1.qcow2 8M -o refcount_bits=1
io refcount-1.qcow2 -c "write -P 0x01 0 64k" -c "write -P 0x02 3M 128k" -c "write -P 0x03 7M 4k"
mk refcount-64.qcow2 8M -o refcount_bits=64
io refcount-64.qcow2 -c "write -P 0x64 0 64k" -c "write -P 0x65 2M 128k" -c "write -P 0x66 6M 4k"
qemu-img snapshot -c snap refcount-64.qcow2
io refcount-64.qcow2 -c "write -P 0x67 2M 64k"

# zero clusters in a plain v3 image
mk zero-clusters.qcow2 8M
io zero-clusters.qcow2 -c "write -P 0x77 0 512k" \
  -c "write -z 64k 64k" -c "write -z -u 192k 128k" -c "write -z 2M 256k" -c "write -P 0x78 4M 64k"

# preallocation=metadata: every L2 entry points at a (not yet written) data cluster
mk prealloc-metadata.qcow2 4M -o preallocation=metadata
io prealloc-metadata.qcow2 -c "write -P 0x99 1M 64k"

# lazy refcounts, left dirty (incompatible bit 0) by aborting qemu-io
mk lazy-dirty.qcow2 8M -o lazy_refcounts=on
io lazy-dirty.qcow2 -c "write -P 0x1a 0 64k"
io_abort lazy-dirty.qcow2 -c "write -P 0x1b 2M 128k" -c "write -P 0x1c 64k 64k"

# ---------------------------------------------------------------- snapshots
mk snapshots.qcow2 16M
io snapshots.qcow2 -c "write -P 0xa1 0 128k" -c "write -P 0xa2 4M 64k"
qemu-img snapshot -c s1 snapshots.qcow2
io snapshots.qcow2 -c "write -P 0xb1 64k 64k" -c "write -P 0xb2 8M 64k"
qemu-img snapshot -c s2 snapshots.qcow2
io snapshots.qcow2 -c "write -P 0xc1 128k 64k" -c "write -P 0xc2 4M 64k" -c "write -P 0xc3 12M 64k"
qemu-img snapshot -c s3 snapshots.qcow2
io snapshots.qcow2 -c "write -P 0xd1 0 64k" -c "write -z 8M 64k"
qemu-img snapshot -d s2 snapshots.qcow2 # frees what only s2 held

# ---------------------------------------------------------------- bitmaps
mk bitmaps.qcow2 16M
qemu-img bitmap --add bitmaps.qcow2 a-auto                     # auto, 64 KiB
qemu-img bitmap --add -g 4k bitmaps.qcow2 c-fine               # auto, 4 KiB
qemu-img bitmap --add -g 1M bitmaps.qcow2 d-coarse             # auto, 1 MiB
qemu-img bitmap --add bitmaps.qcow2 b-disabled                 # disabled after first writes
qemu-img bitmap --add bitmaps.qcow2 gone                       # removed later
qemu-img bitmap --add --disable -g 512 bitmaps.qcow2 e-never   # disabled, never dirty
io bitmaps.qcow2 -c "write -P 0xe1 0 64k" -c "write -P 0xe2 3M 8k" -c "write -P 0xe3 10M 320k"
qemu-img bitmap --disable bitmaps.qcow2 b-disabled
io bitmaps.qcow2 -c "write -P 0xe4 6M 4k" -c "write -P 0xe5 15M 128k"
qemu-img bitmap --remove bitmaps.qcow2 gone
qemu-img bitmap --add --disable -g 128k bitmaps.qcow2 f-merged
qemu-img bitmap --merge b-disabled --merge d-coarse bitmaps.qcow2 f-merged

# a bitmap left in_use: qemu-io loads it (auto), then aborts before storing it
mk bitmap-in-use.qcow2 8M
qemu-img bitmap --add bitmap-in-use.qcow2 live
io bitmap-in-use.qcow2 -c "write -P 0xf1 0 64k" -c "write -P 0xf2 1M 64k"
io_abort bitmap-in-use.qcow2 -c "write -P 0xf3 4M 64k"

# base for the seed crafts (4 KiB clusters so a 512-byte-granularity bitmap has a
# 4-entry table): "nightly" and "fine" are dirty, "empty" is added after all writes
mk seed-base.qcow2 64M -o cluster_size=4k
qemu-img bitmap --add seed-base.qcow2 nightly
qemu-img bitmap --add -g 512 seed-base.qcow2 fine
io seed-base.qcow2 -c "write -P 0x5e 0 64k" -c "write -P 0x5f 17M 4k" \
  -c "write -P 0x60 33M 8k" -c "write -P 0x61 63M 64k"
qemu-img bitmap --add seed-base.qcow2 empty

# ---------------------------------------------------------------- compression
# source with pattern clusters, text clusters and a hole
mk "$tmp/src.qcow2" 8M
io "$tmp/src.qcow2" -c "write -P 0xc0 0 128k" -c "write -s $tmp/text 1M 192k" \
  -c "write -P 0xc1 3M 64k" -c "write -s $tmp/text 5M 64k" -c "write -P 0xc2 8128k 64k"
qemu-img convert -c -O qcow2 "$tmp/src.qcow2" compressed-zlib.qcow2
qemu-img convert -c -O qcow2 -o compression_type=zstd "$tmp/src.qcow2" compressed-zstd.qcow2
# compressed and normal clusters mixed in one image (zlib)
mk compressed-mixed.qcow2 8M
io compressed-mixed.qcow2 -c "write -c -P 0xd0 0 64k" -c "write -P 0xd1 64k 64k" \
  -c "write -c -s $tmp/text 128k 64k" -c "write -c -s $tmp/text 192k 64k" \
  -c "write -P 0xd2 2M 4k" -c "write -c -P 0xd3 4M 64k" -c "write -P 0xd4 4M 4k"

# ---------------------------------------------------------------- extended L2
mk extended-l2.qcow2 8M -o extended_l2=on,cluster_size=64k
io extended-l2.qcow2 -c "write -P 0xe0 0 4k" -c "write -P 0xe1 8k 2k" -c "write -P 0xe2 62k 4k" \
  -c "write -P 0xe3 1M 64k" -c "write -z 1028k 8k" -c "write -z 2M 64k" -c "write -z 3M 16k" \
  -c "write -P 0xe4 5M 32k" -c "write -z -u 5M 4k"

# ---------------------------------------------------------------- backing chains
mk base.qcow2 8M
io base.qcow2 -c "write -P 0xba 0 256k" -c "write -P 0xbb 2M 64k" -c "write -P 0xbc 6M 128k"
mk overlay.qcow2 8M -b base.qcow2 -F qcow2
io overlay.qcow2 -c "write -P 0x0a 64k 4k" -c "write -P 0x0b 4M 64k" -c "write -z 2M 64k" \
  -c "write -P 0x0c 6M 64k"
qemu-img create -q -f raw raw-base.raw 1M
io -f raw raw-base.raw -c "write -P 0x4a 0 64k" -c "write -P 0x4b 512k 128k"
mk overlay-raw.qcow2 1M -b raw-base.raw -F raw
io overlay-raw.qcow2 -c "write -P 0x4c 32k 4k" -c "write -P 0x4d 896k 64k"

# ---------------------------------------------------------------- LUKS
retry mk luks.qcow2 "${SECRET[@]}" -o encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time=10 4M
io "${SECRET[@]}" --image-opts driver=qcow2,file.filename=luks.qcow2,encrypt.key-secret=sec0 \
  -c "write -P 0x1e 64k 64k" -c "write -P 0x1f 2M 4k"

# ---------------------------------------------------------------- external data files
mk data-file-raw.qcow2 1M -o data_file=data-file-raw.data,data_file_raw=on
io data-file-raw.qcow2 -c "write -P 0xdf 0 64k" -c "write -P 0xde 512k 4k"
mk data-file.qcow2 1M -o data_file=data-file.data
io data-file.qcow2 -c "write -P 0xdd 128k 64k" -c "write -P 0xdc 768k 4k"

# ---------------------------------------------------------------- crafted (see craft.mjs)
node craft.mjs

# ---------------------------------------------------------------- reference outputs
# Make every file dense first. qemu-img map asks the host file system for holes and
# reports a hole inside an allocated cluster as "zero": true; a git checkout or gunzip
# writes every byte, so references taken from sparse files would not match them.
for f in *.qcow2 *.data *.raw; do
  cp --sparse=never "$f" "$tmp/dense" && cat "$tmp/dense" >"$f"
done

for n in empty v3 v2 cluster-512 cluster-4k cluster-2m refcount-1 refcount-64 zero-clusters \
  prealloc-metadata lazy-dirty snapshots bitmaps bitmap-in-use seed-base \
  compressed-zlib compressed-zstd compressed-mixed extended-l2 base overlay overlay-raw \
  data-file-raw data-file; do
  record "$n"
done
record luks "${SECRET[@]}" --image-opts driver=qcow2,file.filename=luks.qcow2,encrypt.key-secret=sec0
for n in seed-zero-offset-bitmap seed-all-ones-bitmap seed-offset-one-bitmap leak corrupt-refcount; do
  record "$n"
done

# ---------------------------------------------------------------- more outputs
# 7.2's human outputs and qemu-img 10.0's JSON and human outputs (see the script).
bash record-outputs.sh

# ---------------------------------------------------------------- big images: gzip
{
  echo "# generated by make.sh: images over 1 MiB are committed as NAME.qcow2.gz only"
  for n in "${SAMPLES[@]}"; do
    if (($(stat -c %s "$n.qcow2") > BIG)); then
      gzip -n -9 -c "$n.qcow2" >"$n.qcow2.gz"
      echo "/$n.qcow2"
    fi
  done
} >.gitignore

echo "built ${#SAMPLES[@]} samples in $here"
