#!/usr/bin/env bash
# Decoder settings of one gene-finding checkpoint, scored on the valid and test splits
# (docs/results.md, "Gene-count priors", "Deep introns"): the CRF's Viterbi, the gene grammar, the
# grammar with a per-gene penalty (a gene-count prior; the grid below), with one gene per locus,
# and each of these with strand-blind deep intron stretches at each price in DEEP.
# Training is not touched: every row decodes the same weights. Choose a row by its valid MCC
# (BEND's rule); the test column is what that choice scores.
#
# Usage: bench/decoder_scan.sh CHECKPOINT OUT_DIR      env: BUILD_DIR (default build-release),
#                                                         PENALTIES (default "0 10 40 160 640 2560 5120")
#                                                         DEEP (default "20 80 320 1280"), THREADS (2)
# Writes OUT_DIR/<setting>_<split>.json (nucleo-gene-finding evaluate) and OUT_DIR/scan.tsv
# (setting, valid MCC, test MCC, test MCC on loci <= 14 kb), via a temporary file and rename.
set -euo pipefail
if [[ $# -ne 2 ]]; then
  echo "usage: bench/decoder_scan.sh CHECKPOINT OUT_DIR" >&2
  exit 2
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$root/build-release}"
gf="$build/examples/nucleo-gene-finding"
ckpt="$1"
out="$2"
[[ -x "$gf" ]] || { echo "decoder_scan: $gf not built (cmake --build $build --target nucleo-gene-finding)" >&2; exit 1; }
[[ -f "$ckpt" ]] || { echo "decoder_scan: $ckpt: no such checkpoint" >&2; exit 1; }
mkdir -p "$out"

settings=("model|predict.decoder=model" "grammar|predict.decoder=grammar")
for p in ${PENALTIES:-0 10 40 160 640 2560 5120}; do
  [[ "$p" == 0 ]] && continue
  settings+=("grammar_penalty$p|predict.decoder=grammar predict.gene_penalty=$p")
done
settings+=("grammar_one_gene|predict.decoder=grammar predict.one_gene_per_record=true")
# Deep introns (predict.deep_intron_penalty): alone, with each gene penalty and with one gene.
for d in ${DEEP:-20 80 320 1280}; do
  settings+=("grammar_deep$d|predict.decoder=grammar predict.deep_intron_penalty=$d")
  for p in ${PENALTIES:-0 10 40 160 640 2560 5120}; do
    [[ "$p" == 0 ]] && continue
    settings+=("grammar_deep${d}_penalty$p|predict.decoder=grammar predict.deep_intron_penalty=$d predict.gene_penalty=$p")
  done
  settings+=("grammar_deep${d}_one_gene|predict.decoder=grammar predict.deep_intron_penalty=$d predict.one_gene_per_record=true")
done

tmp="$(mktemp "$out/.scan.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
printf 'setting\tvalid_mcc\ttest_mcc\ttest_mcc_short_loci\toverrides\n' > "$tmp"
for s in "${settings[@]}"; do
  name="${s%%|*}"
  sets=()
  for kv in ${s#*|}; do sets+=(--set "$kv"); done
  for split in valid test; do
    "$gf" evaluate --checkpoint "$ckpt" --split "$split" --threads "${THREADS:-2}" "${sets[@]}" \
      --out "$out/${name}_$split.json" > /dev/null
  done
  python3 - "$out/${name}_valid.json" "$out/${name}_test.json" "$name" "${s#*|}" >> "$tmp" <<'EOF'
import json, sys
v, t = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
print(f"{sys.argv[3]}\t{v['mcc']:.4f}\t{t['mcc']:.4f}\t{t['mcc_short_loci']:.4f}\t{sys.argv[4]}")
EOF
  tail -1 "$tmp" | cut -f1-4
done
mv "$tmp" "$out/scan.tsv"
trap - EXIT
echo "decoder_scan: wrote $out/scan.tsv"
