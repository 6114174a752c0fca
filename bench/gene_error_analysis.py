#!/usr/bin/env python3
"""Where do a gene finder's per-nucleotide errors come from? (stdlib only; reads label TSVs)

    bench/gene_error_analysis.py TRUTH.tsv PRED.tsv [--out FILE.json] [--top N]

TRUTH.tsv: `nucleo-data export --split valid --out DIR` (DIR/valid.labels.tsv); PRED.tsv: the same
loci predicted by a checkpoint, e.g. `nucleo-gene-finding evaluate --checkpoint CKPT --split valid
--predictions DIR/valid_pred` (DIR/valid_pred.tsv). Both: name<TAB>sequence<TAB>labels, one digit 0-8
per nucleotide in BEND's classes (exon+, donor+, intron+, acceptor+, exon-, donor-, intron-,
acceptor-, noncoding). An analysis that guides a design decision is made on the validation loci:
the test loci are scored once, at the end, and not looked into.

Prints and writes: the pooled 9-class MCC as is; the MCC if every intron nucleotide predicted on the
wrong strand (intron+ <-> intron-) were given the right strand (the head room of strand errors
alone); the MCC without the locus with the most such errors; and the loci ranked by strand errors
with their length, intron nucleotides and predicted exon runs inside true introns (spurious genes).
"""
import argparse
import itertools
import json
import math
import os
import sys
import tempfile

CLASSES = ["exon+", "donor+", "intron+", "acceptor+", "exon-", "donor-", "intron-", "acceptor-", "noncoding"]


def read_tsv(path):
    out = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 3:
                sys.exit(f"{path}:{n}: expected name<TAB>sequence<TAB>labels, got {len(parts)} fields")
            name, seq, labels = parts
            if len(labels) != len(seq) or any(c not in "012345678" for c in labels):
                sys.exit(f"{path}:{n}: labels must be one digit 0-8 per nucleotide ({len(labels)} for {len(seq)} nt)")
            out[name] = labels
    return out


def mcc(c):
    """Gorodkin's multiclass MCC, as sklearn.metrics.matthews_corrcoef."""
    k = len(c)
    t = [sum(r) for r in c]
    p = [sum(c[i][j] for i in range(k)) for j in range(k)]
    s = sum(t)
    correct = sum(c[i][i] for i in range(k))
    den = math.sqrt((s * s - sum(x * x for x in p)) * (s * s - sum(x * x for x in t)))
    return 0.0 if den == 0 else (correct * s - sum(a * b for a, b in zip(t, p))) / den


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("truth")
    ap.add_argument("pred")
    ap.add_argument("--out")
    ap.add_argument("--top", type=int, default=10)
    a = ap.parse_args()
    truth, pred = read_tsv(a.truth), read_tsv(a.pred)
    missing = [n for n in truth if n not in pred]
    if missing:
        sys.exit(f"{a.pred}: no prediction for {len(missing)} loci of {a.truth}, e.g. {missing[0]}")
    zero = lambda: [[0] * 9 for _ in range(9)]
    as_is, oracle = zero(), zero()
    per_locus = []
    for name, t in truth.items():
        p = pred[name]
        if len(p) != len(t):
            sys.exit(f"{a.pred}: locus {name} has {len(p)} labels, the truth {len(t)}")
        flips = 0
        m = zero()
        for x, y in zip(t, p):
            x, y = int(x), int(y)
            m[x][y] += 1
            if (x, y) in ((2, 6), (6, 2)):
                flips += 1
                oracle[x][x] += 1
            else:
                oracle[x][y] += 1
        for i in range(9):
            for j in range(9):
                as_is[i][j] += m[i][j]
        # predicted exon runs (either strand) lying wholly inside true intron sequence: spurious genes
        spurious, pos = 0, 0
        for lab, grp in itertools.groupby(p):
            n = len(list(grp))
            if lab in "04" and all(c in "26" for c in t[pos:pos + n]):
                spurious += 1
            pos += n
        per_locus.append({"locus": name, "length": len(t), "intron_nt": sum(1 for c in t if c in "26"),
                          "strand_errors": flips, "spurious_exon_runs_in_introns": spurious, "confusion": m})
    per_locus.sort(key=lambda r: -r["strand_errors"])
    worst = per_locus[0]
    without = zero()
    for r in per_locus[1:]:
        for i in range(9):
            for j in range(9):
                without[i][j] += r["confusion"][i][j]
    total = sum(r["length"] for r in per_locus)
    flips = sum(r["strand_errors"] for r in per_locus)
    res = {"truth": a.truth, "pred": a.pred, "loci": len(per_locus), "nucleotides": total,
           "mcc": mcc(as_is), "intron_strand_errors": flips, "mcc_with_intron_strand_corrected": mcc(oracle),
           "worst_locus": worst["locus"], "mcc_without_worst_locus": mcc(without),
           "top_loci": [{k: v for k, v in r.items() if k != "confusion"} for r in per_locus[:a.top]]}
    print(f"{len(per_locus)} loci, {total:,} nt; pooled 9-class MCC {res['mcc']:.4f}")
    print(f"intron nucleotides on the wrong strand: {flips:,} ({100 * flips / total:.1f}% of all nt); "
          f"MCC with their strand corrected: {res['mcc_with_intron_strand_corrected']:.4f}")
    print(f"MCC without {worst['locus']} ({worst['length']:,} nt, {worst['strand_errors']:,} strand errors): "
          f"{res['mcc_without_worst_locus']:.4f}")
    print("locus\tlength\tintron_nt\tstrand_errors\tspurious_exon_runs_in_introns")
    for r in res["top_loci"]:
        print(f"{r['locus']}\t{r['length']}\t{r['intron_nt']}\t{r['strand_errors']}\t{r['spurious_exon_runs_in_introns']}")
    if a.out:
        d = os.path.dirname(os.path.abspath(a.out))
        fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-")
        with os.fdopen(fd, "w") as f:
            json.dump(res, f, indent=2)
            f.write("\n")
        os.replace(tmp, a.out)
        print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
