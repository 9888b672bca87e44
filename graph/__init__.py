"""The vocabulary of supplygraph: schema, errors, settings, graph tables, and the stores (graph/stores/)."""

import warnings

# normality (under fingerprints and countrynames) is pinned below 3.0 because 3.x requires PyICU,
# which has no wheels; without it normality transliterates with text-unidecode and warns about it
# on every call. The figures of benchmarks/resolution_quality.py are the same either way.
warnings.filterwarnings("ignore", message="Install 'pyicu'")
