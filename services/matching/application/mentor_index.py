"""The mentors a mentee may meet, as an index kept between calls while it is true.

Building the index of 10,000 mentors from the read model takes about 200 ms:
reading the rows, deciding each mentor's eligibility (R2, R3), indexing. A
suggestion from a built index takes under a millisecond. So each service process
keeps the index it built per organisation, labelled with ``pool_version``, which
every committed change to the mentors, their loads, the exclusions, the charter or
the organisations' policies bumps (``storage.projections.version_tables``).

The version is read *before* the mentors, in its own statement: an index is never
labelled newer than the data it was built from (at worst older, and then rebuilt
once more than needed). A change committed by any process, a consumer or another
replica, is seen at the next call.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

import psycopg

from services.matching.domain.suggestions import MentorIndex
from services.matching.storage.projections import pool_version

#: Indexes kept (organisation and charter; the least recently used goes first): a
#: few MiB each at 10,000 mentors.
KEEP = 32


class MentorIndexCache:
    def __init__(self, keep: int = KEEP) -> None:
        self.keep = keep
        self._indexes: OrderedDict[tuple[str, str, int | None], tuple[int, MentorIndex]] = \
            OrderedDict()
        self._lock = threading.Lock()
        self.builds = 0

    def get(self, conn: psycopg.Connection, organisation_id: str, charter: int | None,
            build: Callable[[], MentorIndex]) -> MentorIndex:
        """The index of the mentors a mentee of ``organisation_id`` may meet, built
        by ``build`` unless the one kept is as recent as the read model."""
        version = pool_version(conn)
        # The database too: containers of one process (tests) may read different ones.
        key = (conn.info.dbname, organisation_id, charter)
        with self._lock:
            kept = self._indexes.get(key)
            if kept is not None and kept[0] == version:
                self._indexes.move_to_end(key)
                return kept[1]
        index = build()
        with self._lock:
            self.builds += 1
            self._indexes[key] = (version, index)
            self._indexes.move_to_end(key)
            while len(self._indexes) > self.keep:
                self._indexes.popitem(last=False)
        return index
