# killcurve: run from the repo root on the bundled example study, or on any study with
#   snakemake -s <repo>/Snakefile --cores 2 --directory STUDY
# The rules live in workflow/ (Snakemake workflow-catalog layout). An included file cannot set
# the default target, so it is named here.
include: "workflow/Snakefile"


rule default:
    default_target: True
    input:
        rules.all.input,
