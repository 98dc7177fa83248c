"""Start an RQ worker for mediamgr's queues: `python worker.py` (see README: scaling out)."""
from mediamgr.jobs.worker import main

if __name__ == "__main__":
    main()
