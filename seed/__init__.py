"""The sandbox's seed data (policies, scenarios, world specs, catalog templates, workshop exercises, sample
portal catalogues), installed as the package `marketplace.seeddata` and read with `importlib.resources`."""
