"""Intake's HTTP API for reception authorities (``/v1``), one module per business area.

``arrivals`` (register one, read), ``batches`` (up to 1,000 in one request), ``uploads`` (CSV/XLSX files),
``corrections`` (correct, relocate, withdraw), ``duplicates`` (review probable duplicates). Routes only
translate: they parse, call a handler and map its refusals to problem+json (``errors``), German first
(``Accept-Language: en`` for English). Every POST and PATCH accepts an ``Idempotency-Key``
(``idempotency``).
"""
