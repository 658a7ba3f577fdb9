# Plates are read in chunks of consecutive samplesheet rows: a chunk job reads its plates,
# applies their manual exclusions, computes % lysis and plate QC (killcurve.study.chunks), so that
# one changed plate file re-reads one chunk; collect_wells merges the chunks' tables.
import os

#: Plates per chunk: ~0.5 s of reading and ~10 s of plate maps per chunk, against ~2 s to
#: start each job; 1,000 plates make 20 chunks. Chunking changes no output, only how the
#: work is split, so it is an environment setting (KILLCURVE_PLATES_PER_CHUNK), not config.
PLATES_PER_CHUNK = int(os.environ.get("KILLCURVE_PLATES_PER_CHUNK", "50"))
CHUNKS = {
    f"{i // PLATES_PER_CHUNK + 1:03d}": samples.slice(i, PLATES_PER_CHUNK).to_dicts()
    for i in range(0, samples.height, PLATES_PER_CHUNK)
}


rule collect_chunk:
    input:
        # The chunk's plate exports and layouts.
        files=lambda w: sorted(
            {f for r in CHUNKS[w.chunk] for f in (r["file"], r["layout"])}
        ),
        exclusions=exclusion_sheet,
    output:
        wells="results/chunks/{chunk}.wells.parquet",
        qc="results/chunks/{chunk}.plate_qc.parquet",
        # SHA-256 of the chunk's plate files, for provenance.json
        hashes="results/chunks/{chunk}.inputs.json",
    log:
        "logs/collect_chunk/{chunk}.log",
    benchmark:
        "logs/benchmarks/collect_chunk/{chunk}.tsv"
    wildcard_constraints:
        chunk=r"\d+",
    conda:
        "../envs/killcurve.yaml"
    params:
        code=CODE_VERSION,
        # The chunk's samplesheet rows: editing a row reruns its chunk only.
        plates=lambda w: CHUNKS[w.chunk],
        qc=config["qc"],
        # Parsed layouts whose files did not change are reused from here (killcurve.common.memo).
        cache=MEMO_CACHE,
    script:
        "../scripts/collect_chunk.py"


rule collect_wells:
    input:
        wells=expand("results/chunks/{chunk}.wells.parquet", chunk=CHUNKS),
        qc=expand("results/chunks/{chunk}.plate_qc.parquet", chunk=CHUNKS),
        exclusions=exclusion_sheet,
    output:
        wells="results/tables/wells.parquet",
        qc="results/tables/plate_qc.csv",
    log:
        "logs/collect_wells.log",
    benchmark:
        "logs/benchmarks/collect_wells.tsv"
    conda:
        "../envs/killcurve.yaml"
    params:
        code=CODE_VERSION,
        qc=config["qc"],
        # fit.outliers marks ROUT outliers excluded in wells.parquet (model and fixed parameters
        # of fit are used for the robust fits).
        fit=config["fit"],
        # ROUT tests each curve on the study's x (E:T or concentration).
        axis=config["axis"],
    script:
        "../scripts/collect_wells.py"
