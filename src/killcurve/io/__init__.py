"""Reading study inputs: plate-reader exports, wellmap layouts, the samplesheet."""
