"""The only code that speaks to Docker: the SDK client, BuildKit's CLI, build logs, labels."""
