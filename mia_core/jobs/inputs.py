"""What a job's parameters name, as the worker that runs it reads them: its digits (checked against the fingerprint
it was submitted with), its model store and its configuration."""

from functools import lru_cache

from ..config import ExperimentConfig
from ..data import load_digits
from ..storage.store import ModelStore


@lru_cache(maxsize=2)
def cached_digits(data_dir: str | None):
    """The digits at `data_dir` (None: the embedded subset), read once per process."""
    return load_digits(data_dir)


def digits_for(data: dict):
    """The digits a job names, checked against the fingerprint it was submitted with."""
    digits = cached_digits(data["dir"])
    if digits.fingerprint != data["fingerprint"]:
        raise ValueError(f"the data at {data['dir'] or 'the embedded subset'} is not the data this job was "
                         f"submitted with ({digits.source})")
    return digits


def store_for(store: dict) -> ModelStore:
    return ModelStore(store["root"], shipped=store.get("shipped"))


def config_for(params: dict) -> ExperimentConfig:
    return ExperimentConfig.from_dict(params["config"])
