// nucleo-annotate: gene models (GFF3) for a genome from a fine-tuned gene-finding checkpoint.
// Everything is in the apps tree (nucleo_apps/annotate_cli.hpp); docs/annotate.md describes the output.
#include "nucleo_apps/annotate_cli.hpp"

int main(int argc, const char** argv) { return nucleo::apps::annotate_main(argc, argv); }
