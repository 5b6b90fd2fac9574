"""A job's key: a hash of everything that decides its result."""

import hashlib
import json

# Part of every key: raise it when a change to the code changes what a job computes, so that
# results kept by the earlier code are not answered for the new.
RESULTS_VERSION = 4


def job_key(task: str, params: dict) -> str:
    """32 hex digits of SHA-256 over the task, its parameters (in a canonical JSON form) and RESULTS_VERSION."""
    text = json.dumps({"task": task, "params": params, "version": RESULTS_VERSION}, sort_keys=True,
                      separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]
