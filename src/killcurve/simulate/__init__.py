"""The seeded study simulator (``study``, ``design``) and the instrument exports it writes
(``exports``)."""
