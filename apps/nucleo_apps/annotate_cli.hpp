#pragma once
/// `annotate_main(argc, argv)`: the command line of nucleo-annotate, gene models for a genome from a
/// fine-tuned gene-finding checkpoint.
///
///   nucleo-annotate --checkpoint best.ckpt --fasta genome.fa.gz --out genes.gff3 [--tsv labels.tsv]
///                   [--threads N] [--window 8192 --overlap 1024 --batch 4] [--chunk 1048576
///                   --chunk-overlap 20000] [--no-crf] [--source nucleo] [--id-prefix nucleo] [--quiet]
///
/// Reads the checkpoint header (model size, head activation, CRF), loads the model, streams the
/// FASTA record by record and writes GFF3 gene/mRNA/CDS features (and optionally the per-nucleotide
/// label TSV "name<TAB>sequence<TAB>labels"), each through a temporary file renamed at the end
/// (annotate.hpp). Progress on stderr; a summary at the end. docs/annotate.md describes the output.
/// An output that is an input or the other output is refused (exit 2) before anything is read;
/// SIGINT/SIGTERM stop the run at the next chunk, remove the temporary files and exit 130/143
/// (docs/reliability.md).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

#include "nucleo/core/context.hpp"
#include "nucleo/core/error.hpp"
#include "nucleo/train/interrupted.hpp"
#include "nucleo/train/progress.hpp"
#include "nucleo_apps/annotate.hpp"
#include "nucleo_apps/cli.hpp"
#include "nucleo_apps/subcommand.hpp"

namespace nucleo::apps {

namespace detail {
/// `n` nucleotides for the progress line: "9999", "48.2k", "1.31M".
inline std::string annotate_nt_count(std::int64_t n) {
  if (n < 10000) return std::to_string(n);
  return Progress::format_rate(static_cast<double>(n));
}
}  // namespace detail

/// The whole program nucleo-annotate.
inline int annotate_main(int argc, const char** argv) {
  nucleo::detail::StopSignals stop_signals;  // Ctrl-C: stop at the next chunk, leave no temporary file
  bool bar_drawn = false;                    // a progress line without its newline is on stderr
  const ProgramErrors errors{"nucleo-annotate", 2, [&] {
                               if (bar_drawn) std::cerr << '\n';
                             }};
  return run_program(errors, [&] {
    ArgParser p("nucleo-annotate",
                "Predict gene models (GFF3) for every sequence of a FASTA file with a fine-tuned gene-finding "
                "checkpoint (GeneModel, GeneModel+CRF or GeneModel+GrammarCRF).");
    p.option("--checkpoint", "fine-tuned gene-finding checkpoint", std::nullopt, "CKPT")
        .option("--fasta", "genome or sequences to annotate (FASTA, plain or gzip)", std::nullopt, "IN.fa")
        .option("--out", "GFF3 output (gene, mRNA, CDS features)", std::nullopt, "OUT.gff3")
        .optional_option("--tsv", "also write per-nucleotide labels: name<TAB>sequence<TAB>labels", "OUT.tsv")
        .option("--threads", "worker threads (0 = all cores)", "0", "N")
        .option("--window", "encoder window (nt)", "8192", "NT")
        .option("--overlap", "overlap of neighbouring windows (nt)", "1024", "NT")
        .option("--batch", "windows per model call", "4", "N")
        .option("--chunk", "decode long sequences in chunks of this many nt (bounds memory)", "1048576", "NT")
        .optional_option("--chunk-overlap", "context shared by neighbouring chunks (default min(20000, chunk/4))",
                         "NT")
        .flag("--no-crf", "decode by per-nucleotide argmax even if the checkpoint has a CRF")
        .option("--decoder",
                "model (CRF Viterbi, or argmax) or grammar (only gene structures of the DNA: start/stop codons, "
                "frame, splice sites)",
                "model", "NAME")
        .option("--gene-penalty",
                "grammar decoder: score subtracted once per gene, a prior against many small genes "
                "(predict.gene_penalty; choose it on validation loci: nucleo-gene-finding evaluate --select-decoder)",
                "0", "X")
        .optional_option("--deep-intron-penalty",
                         "grammar decoder: let introns hold strand-blind stretches (scored by the better of intron+ "
                         "and intron-), at X per stretch (predict.deep_intron_penalty; default off)",
                         "X")
        .option("--source", "GFF3 column 2", "nucleo", "TEXT")
        .option("--id-prefix", "feature IDs <prefix>.g<n>, <prefix>.g<n>.t1, <prefix>.g<n>.t1.cds<k>", "nucleo",
                "TEXT")
        .flag("--quiet", "no progress output");
    p.parse(argc, argv, 1);
    if (p.help_requested()) {
      std::cout << p.help();
      return 0;
    }

    AnnotateOptions o;
    o.predict.window.window = p.get_int("--window");
    o.predict.window.overlap = p.get_int("--overlap");
    o.predict.window.batch_size = p.get_int("--batch");
    o.predict.chunk = p.get_int("--chunk");
    if (o.predict.window.window <= 0 || o.predict.window.overlap < 0 ||
        o.predict.window.overlap >= o.predict.window.window)
      throw ConfigError(fmt::format("nucleo-annotate: need 0 <= --overlap < --window, got {} and {} (see --help)",
                                    o.predict.window.overlap, o.predict.window.window));
    if (o.predict.window.batch_size <= 0) throw ConfigError("nucleo-annotate: --batch must be positive (see --help)");
    if (o.predict.chunk <= 0) throw ConfigError("nucleo-annotate: --chunk must be positive (see --help)");
    o.predict.chunk_overlap = p.find("--chunk-overlap") ? p.get_int("--chunk-overlap")
                                                        : std::min<std::int64_t>(20000, o.predict.chunk / 4);
    if (o.predict.chunk_overlap < 0 || o.predict.chunk_overlap >= o.predict.chunk)
      throw ConfigError(fmt::format("nucleo-annotate: need 0 <= --chunk-overlap < --chunk, got {} and {} (see --help)",
                                    o.predict.chunk_overlap, o.predict.chunk));
    o.use_crf = !p.flag_set("--no-crf");
    o.predict.decoder = gene_decoder_from_name(p.get("--decoder"));
    o.predict.grammar.gene_penalty = p.get_double("--gene-penalty");
    if (!(o.predict.grammar.gene_penalty >= 0))
      throw ConfigError(fmt::format("nucleo-annotate: --gene-penalty must be >= 0, got {} (see --help)",
                                    o.predict.grammar.gene_penalty));
    if (o.predict.grammar.gene_penalty > 0 && o.predict.decoder != GeneDecoder::grammar)
      throw ConfigError("nucleo-annotate: --gene-penalty needs --decoder grammar (see --help)");
    if (p.find("--deep-intron-penalty")) {
      const double d = p.get_double("--deep-intron-penalty");
      if (!(d >= 0))
        throw ConfigError(fmt::format("nucleo-annotate: --deep-intron-penalty must be >= 0, got {} (see --help)", d));
      if (o.predict.decoder != GeneDecoder::grammar)
        throw ConfigError("nucleo-annotate: --deep-intron-penalty needs --decoder grammar (see --help)");
      o.predict.grammar.deep_intron_penalty = d;
    }
    o.gff.source = p.get("--source");
    o.gff.id_prefix = p.get("--id-prefix");
    const std::filesystem::path ckpt = p.get("--checkpoint"), fasta = p.get("--fasta"), out = p.get("--out");
    const std::filesystem::path tsv = p.find("--tsv").value_or(std::string());
    const int threads = static_cast<int>(p.get_int("--threads"));
    if (threads < 0) throw ConfigError("nucleo-annotate: --threads must be >= 0 (see --help)");

    detail::check_annotate_paths(ckpt, fasta, out, tsv);  // before anything is read: no input is overwritten
    const GeneCheckpointInfo info = inspect_gene_checkpoint(ckpt);  // fail early, before counting
    const bool quiet = p.flag_set("--quiet");
    const bool tty = ::isatty(::fileno(stderr));
    if (!quiet)
      std::fprintf(stderr, "nucleo-annotate: model %s (%s, head %s) from %s\n", info.size.c_str(),
                   info.grammar_crf ? (o.use_crf ? "gene grammar CRF" : "gene grammar CRF not used")
                   : info.crf   ? (o.use_crf ? "CRF" : "CRF not used")
                                : "no CRF",
                   std::string(activation_name(info.head_activation)).c_str(), ckpt.string().c_str());

    double last = -1e300;
    o.progress = [&](const AnnotateProgress& s) {
      if (const int sig = nucleo::detail::stop_requested())  // unwinding removes the temporary outputs
        throw Interrupted(sig, {}, 0, fmt::format("interrupted by {} in record '{}'; nothing was written",
                                                  signal_name(sig), s.record));
      if (quiet) return;
      const bool end = s.nt_total >= 0 && s.nt_done >= s.nt_total;
      if (!end && s.seconds - last < (tty ? 0.2 : 10.0)) return;
      last = s.seconds;
      const double rate = s.seconds > 0 ? static_cast<double>(s.nt_done) / s.seconds : 0.0;
      std::string line = fmt::format("{} sequences, {}", s.records_done, detail::annotate_nt_count(s.nt_done));
      if (s.nt_total > 0) {
        const double f = static_cast<double>(s.nt_done) / static_cast<double>(s.nt_total);
        line += fmt::format("/{} nt ({:.1f}%)", detail::annotate_nt_count(s.nt_total), 100.0 * f);
        if (rate > 0)
          line += "  ETA " + Progress::format_duration(static_cast<double>(s.nt_total - s.nt_done) / rate);
      } else {
        line += " nt";
      }
      line += fmt::format("  {} nt/s  [{}]", Progress::format_rate(rate), s.record);
      if (tty) std::fprintf(stderr, "\r%s\x1b[K", line.c_str());
      else std::fprintf(stderr, "%s\n", line.c_str());
      bar_drawn = tty;
      std::fflush(stderr);
    };

    CpuContext ctx(threads);
    const AnnotateSummary s = annotate_fasta(ctx, ckpt, fasta, out, tsv, o);
    if (bar_drawn) std::fputc('\n', stderr);
    bar_drawn = false;
    const double rate = s.seconds > 0 ? static_cast<double>(s.nucleotides) / s.seconds : 0.0;
    std::fprintf(stderr,
                 "nucleo-annotate: %zu sequences, %lld nt, %zu genes (%zu +, %zu -), %zu CDS in %s (%s nt/s) -> %s%s%s\n",
                 s.sequences, static_cast<long long>(s.nucleotides), s.gff.genes, s.gff.genes_plus, s.gff.genes_minus,
                 s.gff.cds, Progress::format_duration(s.seconds).c_str(), Progress::format_rate(rate).c_str(),
                 out.string().c_str(), tsv.empty() ? "" : ", ", tsv.string().c_str());
    if (s.gff.orphan_intron_runs + s.gff.orphan_splice_runs > 0 || s.gff.noncanonical_introns > 0)
      std::fprintf(stderr,
                   "nucleo-annotate: dropped %zu intron runs and %zu splice-site runs outside genes (%zu nt); "
                   "%zu of %zu introns not in donor/intron/acceptor form\n",
                   s.gff.orphan_intron_runs, s.gff.orphan_splice_runs, s.gff.orphan_nucleotides,
                   s.gff.noncanonical_introns, s.gff.introns);
    if (s.replaced.replaced() > 0)
      std::fprintf(stderr, "nucleo-annotate: %zu non-ACGTN letters read as N (%s)\n", s.replaced.replaced(),
                   s.replaced.summary().c_str());
    return 0;
  });
}

}  // namespace nucleo::apps
