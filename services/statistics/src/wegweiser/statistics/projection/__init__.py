"""The statistics projection: pseudonymous events folded into generation-numbered tables.

``batch`` turns events into deltas in memory (the same code for one live event and for a rebuild's
hundred thousand), ``tables`` and ``writer`` put deltas into one generation's tables with idempotent,
order-independent upserts, ``loader`` reads them back for publication.
"""
