"""Postgres change counters as a source's data version: pg_stat_user_tables' n_tup_ins/upd/del.

Why they can be trusted here, and the guards:
- they only grow while the table and the server live, and count every inserted, updated or deleted
  row (aborted ones too: at worst one build too many);
- a TRUNCATE does not count as deletes: the table's relfilenode (new on TRUNCATE) is in the version;
  a table dropped and created again has a new oid, also in the version;
- counters reset by pg_stat_reset*() stamp the database's stats_reset; a crash (a backend killed, an
  immediate shutdown) discards every counter and leaves that stamp as it was, but stamps the shared
  statistics anew (pg_stat_bgwriter.stats_reset): both stamps are in the version, so a reset counts as
  a change (the server's start time would not do: a crash restarts the backends, not the postmaster);
- a backend publishes its counters lazily (Postgres 15+: at most once a second; within about 10 s of
  going idle, at exit, or after 60 s while busy), so a change committed just before the plan read them
  may show only on a later run: the mart is then built late, never skipped for good (pending counts
  lost in a crash are covered by the crash's stamp);
- before Postgres 15 the statistics collector sends counts over UDP and may drop them under load, and
  with track_counts off they never move: then no counters are used (the source cannot tell).
"""

from __future__ import annotations

from typing import Any, Sequence

COUNTERS = "Postgres change counters (pg_stat_user_tables n_tup_ins/upd/del)"
MIN_VERSION = 150000  # shared-memory statistics: nothing is dropped

_USABLE = "SELECT current_setting('server_version_num')::int, current_setting('track_counts')"
_COUNTERS = """
SELECT n.nspname, c.relname, c.oid, c.relfilenode, s.n_tup_ins, s.n_tup_upd, s.n_tup_del,
       d.stats_reset, (SELECT b.stats_reset FROM pg_stat_bgwriter b)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_stat_user_tables s ON s.relid = c.oid
JOIN pg_stat_database d ON d.datname = current_database()
WHERE c.relkind = 'r' AND (n.nspname, c.relname) IN (SELECT * FROM unnest(%s::text[], %s::text[]))
"""


def unusable(cur) -> str | None:
    """Why this server's counters cannot be trusted, or None."""
    version, track = cur.execute(_USABLE).fetchone()
    if track != "on":
        return "track_counts is off"
    if version < MIN_VERSION:
        return f"server version {version} < 15 (its statistics collector may drop counts)"
    return None


def versions(cur, relations: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """(schema, table) -> its counters as a version, for the plain tables among `relations`."""
    rows: list[tuple[Any, ...]] = cur.execute(_COUNTERS, [[r[0] for r in relations], [r[1] for r in relations]]).fetchall()
    found = {}
    for schema, name, oid, filenode, inserted, updated, deleted, reset, shared_reset in rows:
        found[(schema, name)] = (f"counters: {inserted} inserted, {updated} updated, {deleted} deleted "
                                 f"[table {oid}/{filenode}, stats reset {reset}, shared stats reset {shared_reset}]")
    return found
