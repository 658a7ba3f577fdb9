"""The study contract: the titration axis, plates + layouts + samplesheet -> the wells table,
chunks of plates, and file names derived from study values."""
