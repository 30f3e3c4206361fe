"""The operator's `podyard accounts quota`: every quota type of the pod and VPC services."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from podyard.app import open_store, secret_box
from podyard.cli import main
from podyard.config import load_settings
from podyard.store import accounts


@pytest.fixture(autouse=True)
def _database(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test here on each database podyard runs on."""
    monkeypatch.setenv("PODYARD_DATABASE_URL", db_url)


@pytest.mark.parametrize(("resource", "limit"), [("pod", 7), ("elastic_ip", 3), ("securityGroupRule", 40)])
def test_quota_of_each_service_is_set(tmp_path: Path, resource: str, limit: int) -> None:
    runner = CliRunner()
    data = ["--data-dir", str(tmp_path)]
    assert runner.invoke(main, ["accounts", "create", "team", *data]).exit_code == 0
    done = runner.invoke(main, ["accounts", "quota", "team", resource, str(limit), *data])
    assert done.exit_code == 0, done.output
    settings = load_settings(None, data_dir=tmp_path)
    db = open_store(settings)
    with db.read() as s:
        account = accounts.by_name(s, secret_box(settings), "team")
        assert account is not None
        assert accounts.quota_overrides(s, account.account_id, settings.region)[resource] == limit


def test_an_unknown_type_is_refused(tmp_path: Path) -> None:
    runner = CliRunner()
    done = runner.invoke(main, ["accounts", "quota", "team", "gpu", "1", "--data-dir", str(tmp_path)])
    assert done.exit_code != 0 and "elastic_ip" in done.output


def test_a_limit_past_the_apis_integer_is_refused(tmp_path: Path) -> None:
    runner = CliRunner()
    data = ["--data-dir", str(tmp_path)]
    assert runner.invoke(main, ["accounts", "create", "team", *data]).exit_code == 0
    done = runner.invoke(main, ["accounts", "quota", "team", "pod", str(2**31), *data])
    assert done.exit_code != 0 and "0 to 2147483647" in done.output
