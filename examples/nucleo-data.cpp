// nucleo-data: the default gene-finding data set (AUGUSTUS fly genes from Debian's augustus-doc):
// stats, export, and score (any gene finder's predictions against the truth). Everything is in the
// apps tree (nucleo_apps/data_cli.hpp).
#include "nucleo_apps/data_cli.hpp"

int main(int argc, const char** argv) { return nucleo::apps::data_main(argc, argv); }
