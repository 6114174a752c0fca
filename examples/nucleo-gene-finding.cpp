// nucleo-gene-finding: the paper's gene-finding experiment (compare, sample-efficiency, pretrain,
// finetune, evaluate, report). Everything is in the apps tree (nucleo_apps/gene_finding_cli.hpp);
// this program adds the build it was compiled from, which compare records with its results.
#include "nucleo_apps/gene_finding_cli.hpp"

#include "nucleo_build_info.hpp"  // generated at build time: git commit, build type, flags

int main(int argc, const char** argv) {
  return nucleo::apps::gene_finding_main(argc, argv,
                                         {NUCLEO_BUILD_GIT_COMMIT, NUCLEO_BUILD_TYPE, NUCLEO_BUILD_FLAGS});
}
