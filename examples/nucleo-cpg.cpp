// nucleo-cpg: BEND's CpG methylation task (7 labels per 512-bp sequence, mean AUROC) with
// task-specific self-pretraining: pretrain / finetune / evaluate / compare. Everything is in the
// library (nucleo_apps/multilabel_cli.hpp, shared with nucleo-chromatin, -histone and -cpg);
// see docs/multilabel.md.
#include "nucleo_apps/multilabel_cli.hpp"

int main(int argc, const char** argv) { return nucleo::apps::multilabel_main<7>(argc, argv, "cpg_methylation"); }
