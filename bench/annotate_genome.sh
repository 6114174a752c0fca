#!/usr/bin/env bash
# nucleo in genome context: annotate the whole 5 Mb chr2R.2M-7M.fa (augustus-doc; the fly loci were
# cut from it) with a fine-tuned gene checkpoint, and score the GFF3 inside the 49 validation loci
# and the 100 test loci exactly as locus-level predictions are scored (`nucleo-data score --genome`;
# docs/metrics.md). The same protocol as the AUGUSTUS peer's genome context (bench/augustus_peer.sh,
# docs/augustus.md): choose options on the validation figures, report the test figures of the
# chosen ones; never choose by the test figures.
#
# Usage: bench/annotate_genome.sh CKPT NAME [nucleo-annotate options...]
#   e.g. bench/annotate_genome.sh results/cpu/spt_crf/best.ckpt spt_crf --decoder grammar --gene-penalty 20
#   env: BUILD_DIR (default build), THREADS (default 2), OUT_DIR (default results/annotate-genome),
#        RECORD_DIR (default docs/results)
# Writes OUT_DIR/NAME/{genome.gff3, time.txt, valid.json, test.json, *.txt} and the record
# RECORD_DIR/annotate-genome-NAME.json (python3 stdlib; temp file + rename):
#   {"kind": "nucleo_annotate_genome", checkpoint, options, cpu, date, git_commit, seconds, cpu_seconds,
#    max_rss_mb, nt_per_s, threads, valid: {all}, test: {all, max_length}}
# Time and memory: /usr/bin/time -v around nucleo-annotate (wall clock, CPU seconds, maximum resident
# set size); on a shared machine the CPU seconds are the figure other work does not inflate.
set -euo pipefail
if [[ $# -lt 2 || "$1" == -h || "$1" == --help ]]; then
  sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'
  [[ $# -ge 2 ]] && exit 0 || exit 2
fi
ckpt="$1" name="$2"
shift 2
[[ -s "$ckpt" ]] || { echo "annotate_genome: checkpoint '$ckpt' not found" >&2; exit 2; }
[[ "$name" =~ ^[A-Za-z0-9._-]+$ ]] || { echo "annotate_genome: NAME '$name' must be [A-Za-z0-9._-]+" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "annotate_genome: /usr/bin/time is missing (apt-get install time)" >&2; exit 1; }
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
threads="${THREADS:-2}"
out="${OUT_DIR:-$root/results/annotate-genome}/$name"
record="${RECORD_DIR:-$root/docs/results}/annotate-genome-$name.json"
say() { echo "annotate_genome: $*"; }

# The genome: augustus-doc, or the setup cache (plain or gzip; both programs read gzip).
cache="${NUCLEO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nucleo}"
genome=""
for d in /usr/share/doc/augustus/tutorial/data "$cache/augustus-doc/usr/share/doc/augustus/tutorial/data"; do
  for f in "$d/chr2R.2M-7M.fa" "$d/chr2R.2M-7M.fa.gz"; do
    if [[ -s "$f" ]]; then genome="$f"; break 2; fi
  done
done
[[ -n "$genome" ]] || { echo "annotate_genome: chr2R.2M-7M.fa not found; run scripts/setup" >&2; exit 1; }

[[ -f "$build/CMakeCache.txt" ]] || cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$build" --target nucleo-annotate nucleo-data > /dev/null
mkdir -p "$out" "$(dirname "$record")"
commit="$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)"
[[ -z "$(git -C "$root" status --porcelain 2>/dev/null)" ]] || commit+="-dirty"

load="$(cut -d' ' -f1 /proc/loadavg)"
say "annotating $genome with $ckpt ($threads threads; load average $load): $*"
/usr/bin/time -v -o "$out/time.txt" "$build/examples/nucleo-annotate" --checkpoint "$ckpt" --fasta "$genome" \
  --out "$out/genome.gff3" --threads "$threads" --quiet "$@"
for split in valid test; do
  "$build/examples/nucleo-data" score --pred-gff "$out/genome.gff3" --genome "$genome" --split "$split" \
    --name "nucleo $name (genome context)" --out "$out/$split.json" > "$out/$split.txt"
done

python3 - "$out" "$record" "$ckpt" "$*" "$threads" "$commit" "$(lscpu | sed -n 's/^Model name: *//p' | head -1)" \
  "$load" <<'EOF'
import datetime, json, os, re, sys
out, record, ckpt, options, threads, commit, cpu, load = sys.argv[1:9]
t = open(os.path.join(out, "time.txt")).read()
wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", t).group(1)
sec = 0.0
for part in wall.split(":"):
    sec = sec * 60 + float(part)
rss_mb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024
cpu_sec = sum(float(re.search(rf"{k} time \(seconds\): (\S+)", t).group(1)) for k in ("User", "System"))

def scores(split, parts):
    j = json.load(open(os.path.join(out, f"{split}.json")))
    res = {}
    for p in parts:
        s = dict(j[p])
        for k in ("confusion_matrix", "classes"):  # kept in OUT_DIR's JSONs, not in the record
            s.pop(k, None)
        res[p] = s
    return res, j["genome"]["nucleotides"]

valid, nt = scores("valid", ("all",))
test, _ = scores("test", ("all", "max_length"))
rec = {
    "kind": "nucleo_annotate_genome",
    "checkpoint": ckpt, "options": options, "threads": int(threads),
    "cpu": cpu, "date": datetime.date.today().isoformat(), "git_commit": commit,
    "command": "bench/annotate_genome.sh",
    "genome": {"fasta": "chr2R.2M-7M.fa", "nucleotides": nt},
    "seconds": round(sec, 1), "cpu_seconds": round(cpu_sec, 1), "max_rss_mb": round(rss_mb, 1),
    "nt_per_s": round(nt / sec) if sec > 0 else None,
    "resources_measured": "/usr/bin/time -v around nucleo-annotate: wall clock, CPU (user + system) seconds of all "
                          "its threads, maximum resident set size; the machine's 1-min load average at the start",
    "load_average_before": float(load),
    "valid": valid, "test": test,
}
tmp = record + ".tmp"
with open(tmp, "w") as fh:
    json.dump(rec, fh, indent=1)
    fh.write("\n")
os.replace(tmp, record)
a, st = test["all"], test["all"]["structure"]
print(f"annotate_genome: {sec:.1f} s wall, {cpu_sec:.1f} s CPU, {rss_mb:.1f} MB max RSS, {rec['nt_per_s']} nt/s\n"
      f"  valid MCC {valid['all']['mcc']:.4f}; test MCC {a['mcc']:.4f} (<= {test['max_length']['max_length']} nt: "
      f"{test['max_length']['mcc']:.4f}), exon F1 {st['exon']['f1']:.4f}, gene F1 {st['gene']['f1']:.4f} "
      f"({st['gene']['found']}/{st['gene']['truth']} genes)\nannotate_genome: wrote {record}")
EOF
