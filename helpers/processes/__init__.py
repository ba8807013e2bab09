"""Processes the course starts and watches: servers, and clusters of training workers.

* :mod:`~helpers.processes.server`: a web server (06's model server, 10's LLM server) in a background
  process on a free loopback port, waited for until ready, always stopped;
* :mod:`~helpers.processes.worker_cluster`: notebook 13's training workers, each with its own
  ``TF_CONFIG`` and log, watched and always stopped;
* :mod:`~helpers.processes.distributed_worker`: the training script each worker runs
  (``python -m helpers.processes.distributed_worker``).
"""
