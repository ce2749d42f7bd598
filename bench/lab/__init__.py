"""The offline lab: a private Docker engine, a registry mirror with stand-in bases, a wheelhouse."""
