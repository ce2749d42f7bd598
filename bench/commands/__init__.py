"""The command-line verbs, one module each: parse nothing, call the pipeline, print."""
