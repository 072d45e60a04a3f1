"""The run core: the layer every entry point goes through (the Python API, the CLI, sweeps, Ray workers, the teacher).

``request`` (a ``RunRequest``, options declared once in ``options``) -> ``plan`` (before any weights load:
model fingerprint, backend, per task new / resume / reuse and what the cache answers; ``plans`` holds the
types) -> ``execute`` (the teacher first, then ``text_runner`` or ``native_runner``, which only produce
outcomes) -> ``writer`` (the one owner of run records).
"""
