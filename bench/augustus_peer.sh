#!/usr/bin/env bash
# The AUGUSTUS peer of nucleo's gene finding (docs/augustus.md): train AUGUSTUS on the same fly genes
# (Debian augustus-doc genes.gb.train, 486 loci), predict the 100 test loci (genes.gb.test) and score
# the GFF3 with nucleo's own labels and pooled 9-class MCC (`nucleo-data score`).
#
# Steps (following AUGUSTUS's training tutorial, /usr/share/doc/augustus/tutorial/training.html):
#   1. apt-get install augustus if missing
#   2. a private writable AUGUSTUS_CONFIG_PATH (species/generic copied, the other config dirs linked)
#   3. new_species.pl --species=nucleo_fly; stopCodonExcludedFromCDS=true (the tutorial's edit: the
#      GenBank CDS of this set excludes the stop codon)
#   4. etraining on the FULL genes.gb.train (486 loci, as the tutorial; nucleo trains on 437 of them
#      and validates on 49) - and, as a variant, on nucleo's train split only (437 loci)
#   5. augustus --gff3=on --UTR=off on the test FASTA (`nucleo-data export --split test`), both strands,
#      default gene model (partial, as the tutorial) - and, as variants, --genemodel=complete and
#      --genemodel=exactlyone (one complete gene per sequence: what each test locus holds)
#   6. nucleo-data score (all 100 loci and the loci <= 14 kb) -> results/augustus/result.json
#   7. AUGUSTUS's own accuracy report on genes.gb.test -> results/augustus/augustus-evaluation.txt
# optimize_augustus.pl is NOT run: its 10-fold cross-validation over the meta parameters takes hours
# (the tutorial: "~1d"); see docs/augustus.md.
#
# Usage: bench/augustus_peer.sh        env: BUILD_DIR (default build), JOBS (default 1),
#                                           OUT_DIR (default results/augustus)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
out="${OUT_DIR:-$root/results/augustus}"
work="$out/work"
species=nucleo_fly

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
say() { echo "augustus_peer: $*"; }

# 1. AUGUSTUS from Debian
if ! command -v augustus > /dev/null || ! command -v etraining > /dev/null; then
  say "installing augustus (Debian apt)"
  as_root apt-get update -q
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q --no-install-recommends augustus
fi
scripts=/usr/share/augustus/scripts
sysconfig=/usr/share/augustus/config
version="$(augustus --version 2>&1 | sed -n 's/^AUGUSTUS (\([^)]*\)).*/\1/p' | head -1)"
say "AUGUSTUS $version ($(dpkg-query -W -f='${Version}' augustus 2>/dev/null || echo '?'))"

# nucleo-data (the scorer and the FASTA export)
if [[ ! -x "$build/examples/nucleo-data" ]]; then
  [[ -f "$build/CMakeCache.txt" ]] || cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
  cmake --build "$build" --target nucleo-data -j"${JOBS:-1}"
fi
nd="$build/examples/nucleo-data"

# The fly genes: the same files nucleo-data finds (augustus-doc, or the setup cache), unpacked.
rm -rf "$work"
mkdir -p "$work/data" "$work/config/species"
cache="${NUCLEO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nucleo}"
gbdir=""
for d in /usr/share/doc/augustus/tutorial/results "$cache/augustus-doc/usr/share/doc/augustus/tutorial/results"; do
  if [[ -s "$d/genes.gb.train" || -s "$d/genes.gb.train.gz" ]]; then gbdir="$d"; break; fi
done
[[ -n "$gbdir" ]] || { echo "augustus_peer: genes.gb.train not found; run scripts/setup" >&2; exit 1; }
for f in genes.gb.train genes.gb.test; do
  if [[ -s "$gbdir/$f" ]]; then cp "$gbdir/$f" "$work/data/$f"; else gunzip -c "$gbdir/$f.gz" > "$work/data/$f"; fi
done
train="$work/data/genes.gb.train"
test_gb="$work/data/genes.gb.test"
"$nd" export --split test --out "$work/data" > /dev/null
"$nd" export --split valid --out "$work/data" > /dev/null
cut -f1 "$work/data/valid.labels.tsv" > "$work/data/valid.names"
# nucleo's train split = genes.gb.train minus the valid loci (GenBank records end with "//")
awk 'NR == FNR { valid[$1] = 1; next }
     /^LOCUS/ { keep = !($2 in valid) }
     keep { print }' "$work/data/valid.names" "$train" > "$work/data/genes.gb.train437"
say "data: $(grep -c '^LOCUS' "$train") train loci, $(grep -c '^LOCUS' "$work/data/genes.gb.train437") without nucleo's valid, $(grep -c '^LOCUS' "$test_gb") test loci"

# 2. private config: species/generic copied (new_species.pl reads it), the rest linked (read only)
export AUGUSTUS_CONFIG_PATH="$work/config"
for d in "$sysconfig"/*; do
  [[ "$(basename "$d")" == species ]] || ln -s "$d" "$AUGUSTUS_CONFIG_PATH/$(basename "$d")"
done
cp -r "$sysconfig/species/generic" "$AUGUSTUS_CONFIG_PATH/species/"

# 3 + 4. new species, etraining
declare -A t
train_species() {  # name genbank
  perl "$scripts/new_species.pl" --species="$1" --AUGUSTUS_CONFIG_PATH="$AUGUSTUS_CONFIG_PATH" --silent > "$work/new_species.$1.log"
  sed -i 's/^stopCodonExcludedFromCDS .*/stopCodonExcludedFromCDS true  # set by bench\/augustus_peer.sh (tutorial step 2)/' \
    "$AUGUSTUS_CONFIG_PATH/species/$1/$1_parameters.cfg"
  local a; a=$(now)
  etraining --species="$1" "$2" > "$work/etraining.$1.log" 2>&1
  t[etraining_$1]=$(secs "$a" "$(now)")
  say "etraining $1 on $(grep -c '^LOCUS' "$2") loci: ${t[etraining_$1]} s"
}
train_species "$species" "$train"
train_species "${species}437" "$work/data/genes.gb.train437"

# 5 + 6. predict and score
predict() {  # key species extra-options...
  local key="$1" sp="$2"; shift 2
  local a; a=$(now)
  augustus --species="$sp" --gff3=on --UTR=off "$@" "$work/data/test.fa" > "$out/augustus.$key.gff3" 2> "$work/augustus.$key.err"
  t[predict_$key]=$(secs "$a" "$(now)")
  say "augustus $key ($*): ${t[predict_$key]} s, $(grep -c '^# start gene' "$out/augustus.$key.gff3") genes predicted"
  # intron nucleotides of partial genes before the first / after the last CDS (scored noncoding)
  awk -F'\t' '$3 == "CDS" || $3 == "intron" { p = $9; sub(/.*Parent=/, "", p); sub(/;.*/, "", p)
                 if ($3 == "CDS") { if (!(p in lo) || $4 < lo[p]) lo[p] = $4; if ($5 > hi[p]) hi[p] = $5 }
                 else { n++; s[n] = $4; e[n] = $5; par[n] = p } }
              END { x = 0; for (i = 1; i <= n; i++) if (e[i] < lo[par[i]] || s[i] > hi[par[i]]) x += e[i] - s[i] + 1
                    print x }' "$out/augustus.$key.gff3" > "$work/edge_introns.$key"
}
score() {  # key json-name
  "$nd" score --pred-gff "$out/augustus.$1.gff3" --name "AUGUSTUS $version ($2)" --out "$out/$3"
}
predict partial "$species"
predict complete "$species" --genemodel=complete
predict exactlyone "$species" --genemodel=exactlyone
predict partial_train437 "${species}437"
echo
score partial "etraining on genes.gb.train, 486 loci; default partial gene model" result.json
echo
score complete "etraining on genes.gb.train, 486 loci; --genemodel=complete" result.complete.json > /dev/null
score exactlyone "etraining on genes.gb.train, 486 loci; --genemodel=exactlyone" result.exactlyone.json > /dev/null
score partial_train437 "etraining on nucleo's train split, 437 loci; default partial gene model" result.train437.json > /dev/null

# 7. AUGUSTUS's own evaluation (GenBank input: it compares with the annotation itself)
a=$(now)
augustus --species="$species" --UTR=off "$test_gb" > "$work/augustus.gb-eval.out" 2> /dev/null
t[predict_gb_eval]=$(secs "$a" "$(now)")
grep -A 22 'Evaluation of gene prediction' "$work/augustus.gb-eval.out" > "$out/augustus-evaluation.txt" || true

# Summary into result.json (temp + rename): version, commands, timings, variants.
timings_json="{"
for k in "${!t[@]}"; do timings_json+="\"$k\": ${t[$k]}, "; done
timings_json="${timings_json%, }}"
python3 - "$out" "$version" "$timings_json" "$work" <<'EOF'
import json, os, sys
out, version, timings, work = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
main = json.load(open(os.path.join(out, "result.json")))
main["augustus_version"] = version
main["commands"] = {
    "new_species": "new_species.pl --species=nucleo_fly; stopCodonExcludedFromCDS true",
    "train": "etraining --species=nucleo_fly genes.gb.train   (486 loci)",
    "predict": "augustus --species=nucleo_fly --gff3=on --UTR=off test.fa",
    "score": "nucleo-data score --pred-gff augustus.partial.gff3 --max-length 14000",
}
main["timings_seconds"] = timings
main["edge_intron_nucleotides"] = int(open(os.path.join(work, "edge_introns.partial")).read().strip() or 0)
variants = {}
for key, f in [("complete_gene_model", "result.complete.json"), ("exactlyone_gene_model", "result.exactlyone.json"),
               ("train437", "result.train437.json")]:
    v = json.load(open(os.path.join(out, f)))
    variants[key] = {"predictor": v.get("predictor"), "file": f,
                     "mcc_all": v["all"]["mcc"], "mcc_max_length": v.get("max_length", {}).get("mcc")}
main["variants"] = variants
tmp = os.path.join(out, ".result.json.tmp")
with open(tmp, "w") as fh:
    json.dump(main, fh, indent=2)
    fh.write("\n")
os.replace(tmp, os.path.join(out, "result.json"))
print("augustus_peer: summary (pooled 9-class MCC, nucleo's labels)")
print(f"  {'run':<58} {'all 100':>8} {'<=14 kb':>8}")
print(f"  {main['predictor']:<58} {main['all']['mcc']:8.4f} {main['max_length']['mcc']:8.4f}")
for v in variants.values():
    print(f"  {v['predictor']:<58} {v['mcc_all']:8.4f} {v['mcc_max_length']:8.4f}")
print("  timings (s): " + ", ".join(f"{k} {v}" for k, v in sorted(timings.items())))
EOF
say "AUGUSTUS's own evaluation (GenBank input): $out/augustus-evaluation.txt"
sed -n '1,8p' "$out/augustus-evaluation.txt" | sed 's/^/  /'
say "wrote $out/result.json, result.complete.json, result.exactlyone.json, result.train437.json and augustus.*.gff3"
