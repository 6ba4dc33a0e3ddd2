"""patroli: cyber patrol against illegal online recruitment of Indonesian migrant workers.

Public entry points (the CLI is a thin layer over these):

- ``patroli.analysis.analyze(post) -> Assessment``  (pure, no I/O)
- ``patroli.scan.scan(paths, ...) -> ScanResult``   (sources -> analysis -> store)
"""

__version__ = "0.1.0"
