"""dockerfile-bench: build Dockerfile variants of one app and measure what people argue about."""

__version__ = "0.1.0"
