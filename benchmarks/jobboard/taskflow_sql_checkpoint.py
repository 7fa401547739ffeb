#!/usr/bin/env python3
"""OpenStack TaskFlow's SQL persistence backend on the same server, for docs/benchmarks.md: what
one atom detail's save costs (connection.update_atom_details, a 100-byte result), as the
engine's storage does after every task. Not fenced: TaskFlow has no SQL jobboard whose claim a
save could check.

    python3 taskflow_sql_checkpoint.py postgresql+psycopg2://USER@HOST:PORT/DB [N]

Debian: python3-taskflow python3-sqlalchemy python3-psycopg2. The tables are made from
TaskFlow's own definitions (Debian's package has no alembic.ini for connection.upgrade()).
"""
import contextlib
import sys
import time
import uuid

import sqlalchemy as sa
from taskflow import states
from taskflow.persistence import backends, models
from taskflow.persistence.backends.sqlalchemy import tables


def main():
    url = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    backend = backends.fetch({'connection': url})
    metadata = sa.MetaData()
    tables.fetch(metadata)
    metadata.create_all(backend.engine)
    with contextlib.closing(backend.get_connection()) as conn:
        book = models.LogBook('book')
        flow = models.FlowDetail('checkout', str(uuid.uuid4()))
        book.add(flow)
        atoms = []
        for i in range(10):
            atom = models.TaskDetail('t%d' % i, str(uuid.uuid4()))
            flow.add(atom)
            atoms.append(atom)
        conn.save_logbook(book)
        start = time.perf_counter()
        for i in range(n):
            atom = atoms[i % 10]
            atom.state = states.SUCCESS
            atom.results = 'r' * 100
            conn.update_atom_details(atom)
        took = time.perf_counter() - start
        print('taskflow update_atom_details: %.3f ms per atom (%d in %.2f s)' % (took / n * 1000, n, took))
        conn.destroy_logbook(book.uuid)


if __name__ == '__main__':
    main()
