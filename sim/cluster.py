"""The Dask cluster that commands running many independent simulations share (sweeps, compare, network benches).

A LocalCluster of worker processes on this machine by default; ``--scheduler ADDRESS`` connects to an existing
cluster when one machine is not enough (its workers need this project installed at the same path layout).
"""

import contextlib

__all__ = ["dask_client"]


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, workers: int = 2, log=None):
    """Yield a ``dask.distributed.Client``: connected to ``scheduler``, or to a new LocalCluster of ``workers``
    single-threaded processes (closed afterwards)."""
    from dask.distributed import Client, LocalCluster
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0")
        client = Client(cluster)
    if log:
        log(f"  Dask: {'scheduler ' + scheduler if scheduler else f'LocalCluster of {workers} workers'} "
            f"({client.dashboard_link or 'no dashboard'})")
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
