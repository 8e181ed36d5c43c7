"""The mentors a mentee may meet, as an index kept between calls while it is true.

Building the index of 10,000 mentors from the read model takes about 200 ms:
reading the rows, deciding each mentor's eligibility (R2, R3), indexing. A
suggestion from a built index takes under a millisecond. So each service process
keeps the index it built per organisation, labelled with the read model's two
counters (``storage.projections.version_tables``):

- ``version``, which every committed change to the mentors, the exclusions, the
  charter or the organisations' policies bumps: the index is rebuilt;
- ``loads``, which every committed change to the pairs bumps: only the mentors'
  loads are read again (one grouped count of the open pairs) and put into a copy
  of the index. A pair is formed, proposed or ended far more often than a mentor
  registers, and each such change used to rebuild every organisation's index.

The counters are read *before* the mentors or their loads, in their own
statement: an index is never labelled newer than the data it was built from (at
worst older, and then refreshed once more than needed). A change committed by any
process, a consumer or another replica, is seen at the next call.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping

import psycopg

from services.matching.domain.suggestions import MentorIndex
from services.matching.storage.projections import pool_versions

#: Indexes kept (organisation and charter; the least recently used goes first): a
#: few MiB each at 10,000 mentors.
KEEP = 32

Key = tuple[str, str, int | None]


class MentorIndexCache:
    def __init__(self, keep: int = KEEP) -> None:
        self.keep = keep
        # key -> (version, loads, index)
        self._indexes: OrderedDict[Key, tuple[int, int, MentorIndex]] = OrderedDict()
        self._lock = threading.Lock()
        self.builds = 0
        self.load_refreshes = 0

    def get(self, conn: psycopg.Connection, organisation_id: str, charter: int | None,
            build: Callable[[], MentorIndex],
            loads: Callable[[], Mapping[str, int]]) -> MentorIndex:
        """The index of the mentors a mentee of ``organisation_id`` may meet: the one
        kept if it is as recent as the read model, that one with the loads of now
        (``loads``: each mentor's open pairs) if only the pairs changed since, else
        one built by ``build``."""
        version, load_version = pool_versions(conn)
        # The database too: containers of one process (tests) may read different ones.
        key = (conn.info.dbname, organisation_id, charter)
        with self._lock:
            kept = self._indexes.get(key)
            if kept is not None and kept[:2] == (version, load_version):
                self._indexes.move_to_end(key)
                return kept[2]
        if kept is not None and kept[0] == version:
            index = kept[2].with_loads(loads())
            with self._lock:
                self.load_refreshes += 1
                self._keep(key, (version, load_version, index))
            return index
        index = build()
        with self._lock:
            self.builds += 1
            self._keep(key, (version, load_version, index))
        return index

    def _keep(self, key: Key, entry: tuple[int, int, MentorIndex]) -> None:
        kept = self._indexes.get(key)
        # Another caller may have kept a newer one meanwhile (this one's database reads
        # yielded): the newer stays.
        if kept is None or kept[:2] <= entry[:2]:
            self._indexes[key] = entry
        self._indexes.move_to_end(key)
        while len(self._indexes) > self.keep:
            self._indexes.popitem(last=False)
