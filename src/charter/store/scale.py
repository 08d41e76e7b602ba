"""
Past one machine: how Charter's tables spread over Citus clusters, derived from the table
registry (:mod:`charter.store.registry`).

- :func:`citus_problems` lints the registered tables (``tests/test_citus_schema.py``): every
  table says its :class:`~charter.store.registry.Distribution`; a distributed table's primary
  key and unique constraints start with its distribution column; foreign keys join co-located
  rows or point at reference tables; every subject column is the first column of an index.
- :func:`scale_markdown` writes ``docs/scale.md`` (``charter db scale-doc``): the
  ``create_distributed_table`` / ``create_reference_table`` calls of every table, per database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Index, PrimaryKeyConstraint, Table, UniqueConstraint

from charter.store.registry import Distribution, Registered

__all__ = ["citus_problems", "scale_markdown", "scale_sql"]

_DISTRIBUTED = (Distribution.SUBJECT, Distribution.KEY)
_HOW = (
    "register_table(..., distribution=...) with 'subject' (distributed by the subject id; "
    "needs a subject column), 'key' (distributed by its own lookup key, key_column=...), "
    "'reference' (catalog-derived or staff: replicated to every node) or 'local' (a queue or "
    "log kept on the coordinator)"
)


def _columns(constraint: PrimaryKeyConstraint | UniqueConstraint | Index) -> list[str]:
    return [c.name for c in constraint.columns]


def _uniques(table: Table) -> Iterable[tuple[str, str, list[str]]]:
    """(what, name, columns) of the primary key, each unique constraint and unique index."""
    yield (
        "primary key",
        str(table.primary_key.name or f"pk_{table.name}"),
        _columns(table.primary_key),
    )
    for c in sorted(table.constraints, key=lambda c: str(c.name)):
        if isinstance(c, UniqueConstraint):
            yield "unique constraint", str(c.name), _columns(c)
    for index in sorted(table.indexes, key=lambda i: str(i.name)):
        if index.unique:
            yield "unique index", str(index.name), _columns(index)


def _problems_of(
    entry: Registered, kinds: dict[str, Distribution | None], columns_of: dict[str, str | None]
) -> list[str]:
    table, name = entry.table, entry.table.name
    found: list[str] = []
    kind = entry.distribution
    if kind is None:
        found.append(f"{name}: no distribution: {_HOW}")
    column = entry.distribution_column
    if kind in _DISTRIBUTED and column is not None:
        for what, cname, columns in _uniques(table):
            if not columns or columns[0] != column:
                found.append(
                    f"{name}: {what} {cname} ({', '.join(columns)}) must start with {column}, "
                    f"the distribution column: make it ({', '.join([column, *[c for c in columns if c != column]])})"
                )
    for fk in sorted(table.foreign_keys, key=lambda f: f.parent.name):
        target = fk.column.table.name
        target_kind = kinds.get(target)
        where = f"{name}.{fk.parent.name}: foreign key to {target}.{fk.column.name}"
        if target_kind is Distribution.REFERENCE:
            continue
        if kind in (Distribution.REFERENCE, Distribution.LOCAL) and target_kind in _DISTRIBUTED:
            found.append(
                f"{name}.{fk.parent.name}: foreign key from a {kind.value} table to {target} "
                f"({target_kind.value}): Citus refuses it; drop the key or distribute {name} "
                f"like {target}"
            )
        elif kind in _DISTRIBUTED and (
            target_kind is not kind
            or fk.parent.name != column
            or fk.column.name != columns_of.get(target)
        ):
            found.append(
                f"{where}: joins rows that are not co-located; a distributed table may only "
                "point at a reference table or, on its distribution column, at the "
                "distribution column of a table distributed the same way"
            )
    if entry.subject_column is not None and entry.on_erase is None:
        starts = [_columns(table.primary_key)] + [_columns(i) for i in table.indexes]
        if not any(cols and cols[0] == entry.subject_column for cols in starts):
            found.append(
                f"{name}.{entry.subject_column}: no index starts with the subject column; "
                f"add Index('ix_{name}_subject', '{entry.subject_column}') so erasure and "
                "verify-erasure read one subject's rows without a scan"
            )
    return found


def citus_problems(entries: Sequence[Registered]) -> list[str]:
    """Every violation of the Citus rules among ``entries``, each naming table, constraint
    and the fix (empty when the schema is Citus-legal)."""
    kinds = {e.table.name: e.distribution for e in entries}
    columns_of = {e.table.name: e.distribution_column for e in entries}
    found: list[str] = []
    for entry in entries:
        found += _problems_of(entry, kinds, columns_of)
    return found


def _databases(entry: Registered) -> str:
    return {"any": "every database", "control": "control", "region": "each region"}[entry.database]


def scale_sql(entries: Sequence[Registered], database: str) -> list[str]:
    """The Citus calls that distribute ``database``'s tables (``control`` or ``region``), in
    order: reference tables first, then the subject tables (co-located with ``subjects``),
    then each key table in a group of its own, then the coordinator's local tables."""
    mine = sorted(
        (e for e in entries if e.database in (database, "any")),
        key=lambda e: (e.table.name != "subjects", e.table.name),  # the anchor goes first
    )
    order = [Distribution.REFERENCE, Distribution.SUBJECT, Distribution.KEY, Distribution.LOCAL]
    lines: list[str] = []
    anchor = next(
        (
            e.table.name
            for e in mine
            if e.distribution is Distribution.SUBJECT and e.table.name == "subjects"
        ),
        None,
    )
    for kind in order:
        for e in mine:
            if e.distribution is not kind:
                continue
            t = e.table.name
            if kind is Distribution.REFERENCE:
                lines.append(f"SELECT create_reference_table('{t}');")
            elif kind is Distribution.SUBJECT:
                with_ = "none" if t == anchor or anchor is None else anchor
                lines.append(
                    f"SELECT create_distributed_table('{t}', '{e.subject_column}', colocate_with => '{with_}');"
                )
            elif kind is Distribution.KEY:
                lines.append(
                    f"SELECT create_distributed_table('{t}', '{e.key_column}', colocate_with => 'none');"
                )
            else:
                lines.append(f"SELECT citus_add_local_table_to_metadata('{t}');")
    return lines


def scale_markdown(entries: Sequence[Registered]) -> str:
    """The text of ``docs/scale.md``."""
    out = [
        "# Scale past one machine: Citus",
        "",
        "<!-- Generated by `charter db scale-doc` from the table registry; do not edit. "
        "tests/test_citus_schema.py fails when it is stale. -->",
        "",
        "Charter runs on one SQLite file or one PostgreSQL server. A deployment that outgrows one",
        "PostgreSQL server runs [Citus](https://docs.citusdata.com/), which spreads tables over",
        "worker nodes. The schema is ready for it: every table registers a *distribution*",
        "(`register_table(..., distribution=...)`) and `tests/test_citus_schema.py` proves the",
        "rules Citus imposes.",
        "",
        "## Regions are clusters",
        "",
        "Each region's database (`CHARTER_REGION_<NAME>_URL`) becomes its own Citus cluster, in",
        "its own jurisdiction: a subject's records never leave their region, and no query joins",
        "two regions. The control database (accounts, sessions, sign-in directories, staff and",
        "rights workflow) is one more cluster, placed where the operator runs the control plane;",
        "it holds no gate record values. Nothing joins across clusters: Charter opens one",
        "connection per database, as it does today.",
        "",
        "## Kinds of table",
        "",
        "- **subject**: distributed by the subject id, all co-located with `subjects`: one",
        "  subject's rows of every table are on one node, so a subject's reads, writes, export",
        "  and erasure are single-node (router) queries. The primary key and every unique",
        "  constraint start with the subject id.",
        "- **key**: distributed by its own lookup key, each in a co-location group of its own:",
        "  directories from a secret or identifier (a keyed hash of a sign-in address, a token",
        "  hash) to a subject, looked up before the subject is known and unique across everyone.",
        "  The next query, with the subject id found, is a router query on the subject tables.",
        "- **reference**: replicated to every node: catalog-derived data, staff, OAuth clients,",
        "  service keys (small, read everywhere, rarely written).",
        "- **local**: kept on the coordinator (`citus_add_local_table_to_metadata`): low-volume",
        "  queues and logs read across subjects by staff and jobs (rights requests, jobs,",
        "  exports, counters) and the audit chain, appended in one global order.",
        "",
        "## Tables",
        "",
        "| table | database | distribution | column | why |",
        "|---|---|---|---|---|",
    ]
    for e in sorted(entries, key=lambda e: e.table.name):
        kind = e.distribution.value if e.distribution else "(unsaid)"
        column = e.distribution_column or ""
        comment = (e.table.comment or "").replace("|", "/")
        out.append(f"| `{e.table.name}` | {_databases(e)} | {kind} | {column} | {comment} |")
    for database, title in (
        ("region", "Each region's cluster"),
        ("control", "The control cluster"),
    ):
        out += ["", f"## {title}", "", "```sql"]
        out += scale_sql(entries, database)
        out += ["```"]
    out += [
        "",
        "## Lookups that are not yet router queries",
        "",
        "No query joins two subjects, and no query of the hot paths asks more than one node:",
        "`tests/test_router_queries.py` captures the SQL of an authenticated request (each kind",
        "of credential), a switch change, a first-party refresh and an OAuth refresh grant, and",
        "fails on a statement that touches two distributed tables or does not name its row's",
        "node. A credential is found by its key (`acct_tokens.hash`, `user_tokens.id`,",
        "`acct_browser_sessions.id`), whose row carries the subject id; the next query reads",
        "the subject's session by (subject_id, id).",
        "",
        "Still spread over every node, all rare and off the hot paths:",
        "",
        "- revoking a session (sign-out, password change, a reused refresh token) expires its",
        "  tokens in `acct_tokens` by session id, and erasing an account deletes its tokens",
        "  and user tokens by subject id: `acct_tokens` and `user_tokens` are distributed by",
        "  their own keys, so these are multi-shard updates;",
        "- reading many subjects' records at once (`read_many`: a page of an app's public",
        "  reviews, one per author) filters `records` by `subject_id IN (...)`: Citus sends it",
        "  to each node that holds one of those subjects, not to every node;",
        "- removing an OAuth client revokes its grants by `client_id`, across subjects (staff);",
        "- staff pages and jobs read the coordinator's local tables and list across subjects.",
    ]
    out += [
        "",
        "Run the calls once, after `charter db upgrade` created the tables on the coordinator and",
        "before traffic. The gate's tables exist in every database (the control database keeps",
        "a few gate rows of its own), so both lists distribute them.",
        "",
    ]
    return "\n".join(out)
