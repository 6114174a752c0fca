#!/usr/bin/env bash
# The AUGUSTUS peer of nucleo's gene finding, like for like (docs/augustus.md).
#
# The rule: nothing is chosen by looking at the test split, and AUGUSTUS gets the same chances as
# nucleo. nucleo trains on 437 loci (genes.gb.train minus its 49 validation loci), chooses its
# settings on the 49 validation loci and scores the 100 test loci once. So does AUGUSTUS here:
#
#   1. etraining on nucleo's 437 train loci (AUGUSTUS's tutorial trains on all 486 loci of
#      genes.gb.train, the 49 validation loci included; that run is not made)
#   2. locus level: augustus on the 49 validation loci (`nucleo-data export --split valid`) with each
#      --genemodel in {partial (the default), complete, atleastone, exactlyone}; scored with
#      `nucleo-data score --split valid`; chosen = the highest validation MCC (first of equals, in
#      that order). The 100 test loci are then predicted and scored ONLY with the default and the
#      chosen gene model, never with the other candidates.
#   3. genome context: augustus on the whole 5 Mb chr2R.2M-7M.fa (augustus-doc; the loci were cut
#      from it) with {partial, complete}. atleastone and exactlyone mean "at least / exactly one gene
#      per input sequence": on a genome of one record that is no gene model, so they are not
#      candidates there. Each run is scored inside the 49 validation loci (`nucleo-data score
#      --genome ... --split valid`), chosen by validation MCC as above, and the default and the
#      chosen are scored inside the 100 test loci.
#      Resources: every genome run is timed by /usr/bin/time -v (wall seconds, maximum RSS). The
#      default (partial) runs first and alone; the other candidate then runs while the locus-level
#      runs go on (JOBS >= 2) and its figures are marked shared_cpu: true. With JOBS=1 nothing runs
#      at the same time. "Alone" means no other AUGUSTUS run of this script: the machine's load
#      average before each run is recorded beside the figures.
#   4. AUGUSTUS's own accuracy report on genes.gb.test with the default gene model (GenBank input:
#      it compares with the annotation itself), an independent check of the exon and gene figures.
#   5. the record docs/results/augustus.json (python3 stdlib; temp file + rename).
#
# AUGUSTUS options everywhere: --gff3=on --UTR=off, both strands (the default); species made by
# new_species.pl with stopCodonExcludedFromCDS true (the tutorial's edit: the GenBank CDS of this set
# excludes the stop codon). optimize_augustus.pl is not run (its cross-validation takes hours; see
# docs/augustus.md).
#
# Usage: bench/augustus_peer.sh
#   env: BUILD_DIR (default build), OUT_DIR (default results/augustus), JOBS (default 2: the second
#        genome run beside the locus-level runs), RECORD (default docs/results/augustus.json)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
out="${OUT_DIR:-$root/results/augustus}"
jobs="${JOBS:-2}"
record="${RECORD:-$root/docs/results/augustus.json}"
work="$out/work"
species=nucleo_fly437
locus_models=(partial complete atleastone exactlyone)
genome_models=(partial complete)
options=(--gff3=on --UTR=off)

started=$(date +%s.%N)
as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
say() { echo "augustus_peer: $*"; }
loadavg() { cut -d' ' -f1 /proc/loadavg; }

# AUGUSTUS from Debian
if ! command -v augustus > /dev/null || ! command -v etraining > /dev/null; then
  say "installing augustus (Debian apt)"
  as_root apt-get update -q
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q --no-install-recommends augustus
fi
[[ -x /usr/bin/time ]] || { echo "augustus_peer: /usr/bin/time is missing (apt-get install time)" >&2; exit 1; }
scripts=/usr/share/augustus/scripts
sysconfig=/usr/share/augustus/config
version="$(augustus --version 2>&1 | sed -n 's/^AUGUSTUS (\([^)]*\)).*/\1/p' | head -1)"
debian="$(dpkg-query -W -f='${Version}' augustus 2>/dev/null || echo '?')"
say "AUGUSTUS $version (Debian $debian)"

# The source state this run uses (the record names it): HEAD, "-dirty" if the tree differs from it.
commit="$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)"
[[ -z "$(git -C "$root" status --porcelain 2>/dev/null)" ]] || commit+="-dirty"

# nucleo-data (the scorer and the FASTA export), built or brought up to date
[[ -f "$build/CMakeCache.txt" ]] || cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$build" --target nucleo-data > /dev/null
nd="$build/examples/nucleo-data"

# The data: the fly genes and the genome they were cut from (augustus-doc, or the setup cache).
rm -rf "$work"
mkdir -p "$work/data" "$work/config/species" "$out/locus" "$out/genome"
cache="${NUCLEO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nucleo}"
docdir=""
for d in /usr/share/doc/augustus/tutorial "$cache/augustus-doc/usr/share/doc/augustus/tutorial"; do
  if [[ -s "$d/results/genes.gb.train" || -s "$d/results/genes.gb.train.gz" ]]; then docdir="$d"; break; fi
done
[[ -n "$docdir" ]] || { echo "augustus_peer: genes.gb.train not found; run scripts/setup" >&2; exit 1; }
unpack() {  # source-without-.gz destination
  if [[ -s "$1" ]]; then cp "$1" "$2"; elif [[ -s "$1.gz" ]]; then gunzip -c "$1.gz" > "$2"; else
    echo "augustus_peer: $1 not found; run scripts/setup" >&2; exit 1; fi
}
unpack "$docdir/results/genes.gb.train" "$work/data/genes.gb.train"
unpack "$docdir/results/genes.gb.test" "$work/data/genes.gb.test"
genome_name=chr2R.2M-7M.fa
genome="$work/data/$genome_name"
unpack "$docdir/data/$genome_name" "$genome"
genome_nt=$(grep -v '^>' "$genome" | tr -d '\n\r' | wc -c)
"$nd" export --split valid --out "$work/data" > /dev/null
"$nd" export --split test --out "$work/data" > /dev/null
cut -f1 "$work/data/valid.labels.tsv" > "$work/data/valid.names"
# nucleo's train split = genes.gb.train minus the valid loci (GenBank records start with LOCUS)
awk 'NR == FNR { valid[$1] = 1; next }
     /^LOCUS/ { keep = !($2 in valid) }
     keep { print }' "$work/data/valid.names" "$work/data/genes.gb.train" > "$work/data/genes.gb.train437"
train_loci=$(grep -c '^LOCUS' "$work/data/genes.gb.train437")
say "data: $train_loci train loci, $(wc -l < "$work/data/valid.names") valid loci," \
  "$(grep -c '^LOCUS' "$work/data/genes.gb.test") test loci; genome $genome_name ($genome_nt nt)"

# Private config: species/generic copied (new_species.pl reads it), the rest linked (read only).
export AUGUSTUS_CONFIG_PATH="$work/config"
for d in "$sysconfig"/*; do
  [[ "$(basename "$d")" == species ]] || ln -s "$d" "$AUGUSTUS_CONFIG_PATH/$(basename "$d")"
done
cp -r "$sysconfig/species/generic" "$AUGUSTUS_CONFIG_PATH/species/"
perl "$scripts/new_species.pl" --species="$species" --AUGUSTUS_CONFIG_PATH="$AUGUSTUS_CONFIG_PATH" --silent \
  > "$work/new_species.log"
sed -i 's/^stopCodonExcludedFromCDS .*/stopCodonExcludedFromCDS true  # set by bench\/augustus_peer.sh (tutorial step 2)/' \
  "$AUGUSTUS_CONFIG_PATH/species/$species/${species}_parameters.cfg"
a=$(now)
etraining --species="$species" "$work/data/genes.gb.train437" > "$work/etraining.log" 2>&1
train_seconds=$(secs "$a" "$(now)")
say "etraining on $train_loci loci: $train_seconds s"

# Seconds of each locus-level run, as "key seconds" lines.
: > "$work/seconds.txt"
predict_loci() {  # split genemodel
  local a; a=$(now)
  augustus --species="$species" "${options[@]}" --genemodel="$2" "$work/data/$1.fa" \
    > "$out/locus/$1.$2.gff3" 2> "$work/augustus.locus.$1.$2.err"
  local s; s=$(secs "$a" "$(now)")
  echo "$1.$2 $s" >> "$work/seconds.txt"
  say "locus $1 $2: $s s, $(grep -c '^# start gene' "$out/locus/$1.$2.gff3" || true) genes"
}
score() {  # gff3 json split name [--genome FASTA]
  local gff="$1" json="$2" split="$3" name="$4"; shift 4
  "$nd" score --pred-gff "$gff" --split "$split" --name "AUGUSTUS $version ($name)" --out "$json" "$@" > "${json%.json}.txt"
}
predict_genome() {  # genemodel shared(true|false)
  echo "$2 $(loadavg)" > "$work/genome.$1.load"
  /usr/bin/time -v -o "$out/genome/genome.$1.time" \
    augustus --species="$species" "${options[@]}" --genemodel="$1" "$genome" \
    > "$out/genome/genome.$1.gff3" 2> "$work/augustus.genome.$1.err"
  say "genome $1: done, $(grep -c '^# start gene' "$out/genome/genome.$1.gff3" || true) genes"
}
# The highest valid MCC of the candidates' JSONs (first of equals, in candidate order).
choose() {  # dir candidates...
  local dir="$1"; shift
  python3 - "$dir" "$@" <<'EOF'
import json, sys
d, cands = sys.argv[1], sys.argv[2:]
mcc = [json.load(open(f"{d}/valid.{c}.json"))["all"]["mcc"] for c in cands]
print(cands[mcc.index(max(mcc))])
EOF
}

# Genome context, default first and alone (its time and memory are the clean figures).
say "genome $genome_name, partial (alone; load average $(loadavg))"
predict_genome partial false
others=("${genome_models[@]:1}")
pids=()
for m in "${others[@]}"; do
  if (( jobs >= 2 )); then
    say "genome $genome_name, $m (in the background, beside the locus-level runs)"
    predict_genome "$m" true & pids+=($!)
  fi
done

# Locus level: the candidates on the validation loci, then default + chosen on the test loci.
for m in "${locus_models[@]}"; do
  predict_loci valid "$m"
  score "$out/locus/valid.$m.gff3" "$out/locus/valid.$m.json" valid "locus, 437-locus training, --genemodel=$m"
done
locus_chosen=$(choose "$out/locus" "${locus_models[@]}")
say "locus level: chosen on the validation loci: $locus_chosen"
for m in $(printf '%s\n' partial "$locus_chosen" | awk '!seen[$0]++'); do
  predict_loci test "$m"
  score "$out/locus/test.$m.gff3" "$out/locus/test.$m.json" test "locus, 437-locus training, --genemodel=$m"
done

# AUGUSTUS's own evaluation on genes.gb.test, default gene model.
augustus --species="$species" --UTR=off "$work/data/genes.gb.test" > "$work/augustus.gb-eval.out" 2> /dev/null
grep -A 22 'Evaluation of gene prediction' "$work/augustus.gb-eval.out" > "$out/augustus-evaluation.txt" || true

for m in "${others[@]}"; do
  (( jobs >= 2 )) || { say "genome $genome_name, $m (alone)"; predict_genome "$m" false; }
done
for p in "${pids[@]}"; do wait "$p"; done

# Genome context scores: the candidates inside the validation loci, default + chosen inside the test loci.
for m in "${genome_models[@]}"; do
  score "$out/genome/genome.$m.gff3" "$out/genome/valid.$m.json" valid "genome $genome_name, --genemodel=$m" \
    --genome "$genome"
done
genome_chosen=$(choose "$out/genome" "${genome_models[@]}")
say "genome context: chosen on the validation loci: $genome_chosen"
for m in $(printf '%s\n' partial "$genome_chosen" | awk '!seen[$0]++'); do
  score "$out/genome/genome.$m.gff3" "$out/genome/test.$m.json" test "genome $genome_name, --genemodel=$m" \
    --genome "$genome"
done

# The record.
cpu="$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
mkdir -p "$(dirname "$record")"
python3 - "$out" "$work" "$record" <<EOF
import json, os, re, sys, datetime
out, work, record = sys.argv[1], sys.argv[2], sys.argv[3]
locus_models = "${locus_models[*]}".split()
genome_models = "${genome_models[*]}".split()

def scores(path, parts=("all", "max_length")):
    j = json.load(open(path))
    res = {}
    for p in parts:
        s = dict(j[p])
        for k in ("confusion_matrix", "classes"):  # the record stays small; the JSONs in $out hold them
            s.pop(k, None)
        res[p] = s
    return res

def time_v(path):
    t = open(path).read()
    w = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", t).group(1)
    sec = 0.0
    for part in w.split(":"):
        sec = sec * 60 + float(part)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
    cpu = sum(float(re.search(rf"{k} time \(seconds\): (\S+)", t).group(1)) for k in ("User", "System"))
    return round(sec, 1), round(rss / 1024, 1), round(cpu, 1)

seconds = {}
for line in open(os.path.join(work, "seconds.txt")):
    k, v = line.split()
    seconds[k] = float(v)

def block(kind, models, chosen):
    d = os.path.join(out, kind)
    return {
        "candidates": models,
        "valid": {m: scores(f"{d}/valid.{m}.json", ("all",)) for m in models},
        "default": "partial", "chosen": chosen, "rule": "highest valid MCC, first of equals",
        "test": {"default": scores(f"{d}/test.partial.json"), "chosen": scores(f"{d}/test.{chosen}.json")},
    }

def augustus_evaluation(path):  # AUGUSTUS's own report (its tables split at '|')
    res = {"on": "genes.gb.test (GenBank input), default gene model; AUGUSTUS's specificity = precision"}
    for line in open(path):
        c = [x.strip() for x in line.split("|")]
        if c[0] == "nucleotide level":
            res["nucleotide"] = {"sensitivity": float(c[1]), "specificity": float(c[2])}
        elif c[0] in ("exon level", "gene level"):
            res[c[0].split()[0]] = {"predicted": int(c[1]), "annotated": int(c[2]), "tp": int(c[3]),
                                    "sensitivity": float(c[-3]), "specificity": float(c[-2])}
    return res

locus = block("locus", locus_models, "$locus_chosen")
locus["augustus_evaluation"] = augustus_evaluation(os.path.join(out, "augustus-evaluation.txt"))
locus["seconds"] = seconds
locus["seconds_note"] = ("wall seconds of each augustus run" +
                         ("; they ran beside the second genome run (JOBS >= 2)" if int("$jobs") >= 2 else ""))
genome = {"fasta": "$genome_name", "nucleotides": int("$genome_nt")}
genome.update(block("genome", genome_models, "$genome_chosen"))
resources = {}
for m in genome_models:
    sec, rss, cpu_sec = time_v(f"{out}/genome/genome.{m}.time")
    shared, load = open(f"{work}/genome.{m}.load").read().split()
    resources[m] = {"seconds": sec, "cpu_seconds": cpu_sec, "max_rss_mb": rss, "shared_cpu": shared == "true",
                    "nt_per_s": round(int("$genome_nt") / sec) if sec > 0 else None,
                    "nt_per_cpu_s": round(int("$genome_nt") / cpu_sec) if cpu_sec > 0 else None,
                    "load_average_before": float(load)}
genome["resources"] = resources

def cds_set(path):  # the predicted coding structure: (seqid, start, end, strand) of every CDS line
    rows = set()
    for line in open(path):
        c = line.rstrip("\n").split("\t")
        if len(c) >= 9 and c[1] == "AUGUSTUS" and c[2] == "CDS":
            rows.add((c[0], c[3], c[4], c[6]))
    return rows

def gene_count(path):
    return sum(1 for line in open(path) if line.startswith("# start gene"))

gd = os.path.join(out, "genome")
genome["predicted_genes"] = {m: gene_count(f"{gd}/genome.{m}.gff3") for m in genome_models}
genome["cds_identical_to_default"] = {m: cds_set(f"{gd}/genome.{m}.gff3") == cds_set(f"{gd}/genome.partial.gff3")
                                      for m in genome_models[1:]}
locus["augustus_evaluation"]["same_cds_as_test_default"] = (
    cds_set(os.path.join(work, "augustus.gb-eval.out")) == cds_set(os.path.join(out, "locus", "test.partial.gff3")))
genome["resources_measured"] = ("/usr/bin/time -v: wall clock, CPU (user + system) seconds and maximum resident "
                                "set size of one augustus process (one thread); on a shared machine cpu_seconds "
                                "is the figure that other work does not inflate; shared_cpu = another AUGUSTUS run "
                                "of this script ran "
                                "at the same time; load_average_before = the machine's 1-min load average "
                                "when the run started (other work on the machine)")
rec = {
    "kind": "augustus_peer",
    "augustus_version": "$version", "debian_package": "$debian", "cpu": "$cpu",
    "date": datetime.date.today().isoformat(),
    "git_commit": "$commit",
    "command": "bench/augustus_peer.sh", "jobs": int("$jobs"),
    "training": {"loci": int("$train_loci"), "seconds": float("$train_seconds"),
                 "data": "genes.gb.train minus nucleo's 49 validation loci (nucleo-data export --split valid)"},
    "options": "--gff3=on --UTR=off; stopCodonExcludedFromCDS true",
    "wall_seconds": round(float("$(date +%s.%N)") - float("$started"), 1),
    "locus": locus,
    "genome": genome,
}
tmp = record + ".tmp"
with open(tmp, "w") as fh:
    json.dump(rec, fh, indent=1)
    fh.write("\n")
os.replace(tmp, record)

def row(name, s):
    a, st = s["all"], s["all"]["structure"]
    ml = s.get("max_length", {}).get("mcc")
    return (f"  {name:<34} {a['mcc']:7.4f} {'' if ml is None else f'{ml:7.4f}':>7} {st['exon']['f1']:7.4f} "
            f"{st['gene']['f1']:7.4f} {st['gene']['found']:>4}/{st['gene']['truth']}")
print(f"augustus_peer: pooled 9-class MCC and structure F1 (nucleo's labels)\n"
      f"  {'run':<34} {'MCC':>7} {'<=14kb':>7} {'exon F1':>7} {'gene F1':>7} genes")
for kind, b in (("locus", locus), ("genome", genome)):
    for m in b["candidates"]:
        print(row(f"{kind} valid {m}", b["valid"][m]))
    print(row(f"{kind} test default (partial)", b["test"]["default"]))
    print(row(f"{kind} test chosen ({b['chosen']})", b["test"]["chosen"]))
for m, r in resources.items():
    print(f"  genome {m}: {r['seconds']} s wall, {r['cpu_seconds']} s CPU, {r['max_rss_mb']} MB max RSS, "
          f"shared_cpu {r['shared_cpu']}")
print(f"augustus_peer: wrote {record}")
EOF
say "AUGUSTUS's own evaluation (genes.gb.test, default gene model): $out/augustus-evaluation.txt"
