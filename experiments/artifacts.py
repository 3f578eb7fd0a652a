"""Run artifacts (the model, the history, the log, a language model's vocabulary) in Optuna's
artifact store, so that any machine sharing the results store can load any run's model.

The artifact store is `$RNNZOO_ARTIFACTS` (or `--artifacts`): a folder, which can be a shared
mount, or `s3://bucket` for an S3-compatible store (needs `boto3`; the endpoint and keys come
from the usual `AWS_*` environment variables, never from a file of this project). By default it
is `artifacts/` in the results folder. A run's local folder (`results/<grid>/...`) stays as a
cache: `fetch_run` fills it from the artifact store when it is missing.

    >>> store = artifact_store("results/artifacts")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path

import optuna

from experiments.locations import check_writable

__all__ = ["artifact_store", "artifacts_location", "upload_run", "download_run"]

# What a run leaves in its folder that another machine may need; TensorBoard logs stay local.
SHARED_FILES = ("model.keras", "history.csv", "run.log", "record.json", "vocabulary.json")


def artifacts_location(results_dir: Path) -> str:
    return os.environ.get("RNNZOO_ARTIFACTS") or str(results_dir / "artifacts")


def artifact_store(location: str):
    """The artifact store at `location` (a folder, or s3://bucket); a ValueError before any
    training when it cannot be used."""
    if location.startswith("s3://"):
        bucket, _, prefix = location[len("s3://"):].partition("/")
        if not bucket or prefix:
            raise ValueError(f"artifact store {location!r}: give s3://bucket (a bucket, no folder in it)")
        try:
            import boto3
        except ImportError:
            raise ValueError(f"artifact store {location!r} needs boto3: pip install boto3") from None
        from optuna.artifacts import Boto3ArtifactStore

        return Boto3ArtifactStore(bucket, client=boto3.client("s3", endpoint_url=os.environ.get("AWS_ENDPOINT_URL")))
    if "://" in location:
        raise ValueError(f"artifact store {location!r}: give a folder or s3://bucket")
    from optuna.artifacts import FileSystemArtifactStore

    return FileSystemArtifactStore(str(check_writable(Path(location), "run artifacts")))


def upload_run(store, claim, run_dir: Path, artifacts) -> dict[str, str]:
    """Upload the run's shared files to the artifact store, attached to its trial; returns
    {file name: artifact id} for the run's record."""
    trial = store.storage.get_trial(claim.trial_id)
    uploaded = {}
    for name in SHARED_FILES:
        path = run_dir / name
        if path.is_file():
            uploaded[name] = optuna.artifacts.upload_artifact(artifact_store=artifacts, file_path=str(path),
                                                              study_or_trial=trial, storage=store.storage)
    return uploaded


def download_run(record: dict, run_dir: Path, artifacts) -> list[str]:
    """The run's files from the artifact store into `run_dir` (those not there already); returns
    the names fetched."""
    ids = record.get("artifacts") or {}
    if not ids:
        raise ValueError(f"the run {record.get('run_key')} has no artifacts in the store (it was trained before "
                         "artifacts were shared, or did not finish); train it again or copy its folder")
    run_dir.mkdir(parents=True, exist_ok=True)
    fetched = []
    for name, artifact_id in ids.items():
        if not (run_dir / name).exists():
            optuna.artifacts.download_artifact(artifact_store=artifacts, file_path=str(run_dir / name),
                                               artifact_id=artifact_id)
            fetched.append(name)
    return fetched
