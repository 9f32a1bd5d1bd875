"""The system day (``bench/system_day.py``): the whole system through a day of Baden-Württemberg with faults.

``stack`` starts broker, database and every process; ``day`` drives the load through the APIs; ``faults``
kills and restarts; ``reconcile`` counts everything afterwards; ``spans`` collects the traces.
"""
